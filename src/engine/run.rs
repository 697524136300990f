//! One execution's life on a worker: plan, count, disable SQL objects, mask batch by batch,
//! restore, finish; or stop when cancelled, shut down, or taken over.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor};
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::masking::algorithms::{Algorithm, MaskingKey};
use crate::masking::runner::{self, BatchRow, ColumnRule, FoundObject, ResolvedTable};
use crate::masking::target::Target;
use crate::store::executions::{self, Execution};
use crate::store::jobs::MaskingJob;
use crate::store::reports::{self, NewEvent};
use crate::store::sql_objects::{self, NewSqlObject};
use crate::store::{self, connectors, table_metadata};
use crate::types::ExecutionStatus;

/// Rows read and written per statement; a transaction spans `commitSize` rows.
const MAX_BATCH: i64 = 10_000;
/// Progress is written at least this often, so a cancel is also seen without its notification.
const MAX_QUIET: Duration = Duration::from_millis(500);

/// Why a run ended early, or how.
#[derive(Debug, thiserror::Error)]
enum RunError {
    /// The execution is no longer RUNNING on this worker (cancelled, or taken over).
    #[error("stopped")]
    Stopped,
    #[error("{0}")]
    Failed(String),
    /// A value could not be masked and the job says failImmediately.
    #[error("{0}")]
    Unmaskable(String),
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        RunError::Failed(describe_sql_error(&e))
    }
}

impl From<runner::TableError> for RunError {
    fn from(e: runner::TableError) -> Self {
        match e {
            runner::TableError::Sql(e) => e.into(),
            other => RunError::Failed(other.to_string()),
        }
    }
}

fn describe_sql_error(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => format!(
            "the database refused a statement: {}. To mask columns that foreign keys use, set \
             databaseMaskingOptions.disableConstraints on the job",
            db.message()
        ),
        sqlx::Error::Database(db) => format!("the database refused a statement: {}", db.message()),
        sqlx::Error::Io(io) => format!("the connection failed: {io}"),
        sqlx::Error::PoolTimedOut => "maskd's database did not answer in time".into(),
        other => other.to_string(),
    }
}

/// One table to mask.
struct TablePlan {
    component_id: i64,
    table_name: String,
    key_column: Option<String>,
    rules: Vec<ColumnRule>,
}

/// Columns whose values could not be masked: (table, column, algorithm) -> count.
type Unmasked = BTreeMap<(String, String, &'static str), (i64, i64)>;

/// Runs a claimed execution to its end.
pub(super) async fn run(shared: &Shared, execution: Execution, stop: CancellationToken) {
    let id = execution.execution_id;
    tracing::info!("execution started");
    let mut unmasked = Unmasked::new();
    let mut target: Option<Target> = None;
    let mut backend_pid: Option<i32> = None;
    let result = tokio::select! {
        r = mask(shared, &execution, &mut unmasked, &mut target, &mut backend_pid) => r,
        _ = stop.cancelled() => {
            // The masking was dropped mid-flight: its connection is closed, but its backend may
            // still be busy (or waiting for a lock). End it, which rolls the batch back at once.
            if let (Some(t), Some(pid)) = (&target, backend_pid) {
                terminate_backend(t, pid).await;
            }
            Err(RunError::Stopped)
        }
    };
    record_unmasked(shared, id, &unmasked).await;
    match result {
        Ok(()) => {
            let outcome = match restore_or_report(shared, id, target.as_ref()).await {
                Err(Unrecorded) => return,
                Ok(Restored::NotAll) => ExecutionStatus::Failed,
                Ok(Restored::All) if unmasked.is_empty() => ExecutionStatus::Succeeded,
                Ok(_) => ExecutionStatus::Warning,
            };
            end(shared, id, outcome).await;
        }
        Err(RunError::Stopped) => stopped(shared, &execution, target.as_ref()).await,
        Err(RunError::Failed(why)) | Err(RunError::Unmaskable(why)) => {
            tracing::warn!(reason = %why, "execution failed");
            event(
                shared,
                id,
                NewEvent {
                    event_type: "EXECUTION_FAILED",
                    severity: "ERROR",
                    cause: Some(&why),
                    ..Default::default()
                },
            )
            .await;
            if restore_or_report(shared, id, target.as_ref()).await.is_ok() {
                end(shared, id, ExecutionStatus::Failed).await;
            }
        }
    }
}

/// The run was stopped: by a cancel, by the end of a shutdown's grace period, or because another
/// instance took it over.
async fn stopped(shared: &Shared, execution: &Execution, target: Option<&Target>) {
    let id = execution.execution_id;
    let now = match executions::get(&shared.pool, id).await {
        Ok(Some(e)) => e,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the execution after it stopped; its heartbeat will lapse and another instance will end it");
            return;
        }
    };
    if now.status.0 == ExecutionStatus::Cancelled {
        let graceful = executions::cancel_is_graceful(&shared.pool, id)
            .await
            .unwrap_or(false);
        let settled = if graceful {
            restore_or_report(shared, id, target).await.map(|_| ())
        } else {
            report_left_disabled(shared, id).await
        };
        if settled.is_err() {
            return;
        }
        let _ = reports::end_components(&shared.pool, id, "CANCELLED").await;
        match mark_stopped(shared, id).await {
            Ok(_) => tracing::info!(graceful, "cancelled execution stopped"),
            Err(e) => {
                tracing::error!(error = %e, "cannot set endTime; another instance will once the heartbeat lapses")
            }
        }
    } else if now.status.0 == ExecutionStatus::Running && shared.aborting.load(Ordering::SeqCst) {
        if restore_or_report(shared, id, target).await.is_err() {
            return;
        }
        event(
            shared,
            id,
            NewEvent {
                event_type: "JOB_ABORTED",
                severity: "ERROR",
                cause: Some("maskd shut down before the execution finished; run the job again"),
                ..Default::default()
            },
        )
        .await;
        end(shared, id, ExecutionStatus::Failed).await;
    } else {
        tracing::info!(status = %now.status.0, "execution was taken over or ended elsewhere; leaving it");
    }
}

/// Ends an execution whose worker died: restore what it disabled, then FAILED with `JOB_ABORTED`
/// (or, if it was cancelled, just its `endTime`).
pub(super) async fn take_over(shared: &Shared, orphan: Execution) {
    let id = orphan.execution_id;
    tracing::warn!(status = %orphan.status.0, "taking over an execution whose instance stopped heartbeating");
    let target = match target_of(shared, &orphan).await {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the target to restore SQL objects");
            None
        }
    };
    if restore_or_report(shared, id, target.as_ref())
        .await
        .is_err()
    {
        return;
    }
    if orphan.status.0 == ExecutionStatus::Running {
        event(shared, id, NewEvent {
            event_type: "JOB_ABORTED",
            severity: "ERROR",
            cause: Some("the maskd instance running this execution stopped; another instance ended it. Run the job again"),
            ..Default::default()
        })
        .await;
        end(shared, id, ExecutionStatus::Failed).await;
    } else {
        let _ = reports::end_components(&shared.pool, id, "CANCELLED").await;
        match mark_stopped(shared, id).await {
            Ok(_) => tracing::info!("cancelled execution stopped"),
            Err(e) => {
                tracing::error!(error = %e, "cannot set endTime; another instance will once the heartbeat lapses")
            }
        }
    }
}

/// RUNNING -> outcome; if a cancel won meanwhile, the cancel stands and the execution is marked
/// stopped instead.
async fn end(shared: &Shared, id: i64, outcome: ExecutionStatus) {
    let component_status = outcome.as_str();
    match executions::finish(&shared.pool, id, outcome).await {
        Ok(Some(_)) => {
            let _ = reports::end_components(&shared.pool, id, component_status).await;
            tracing::info!(status = %outcome, "execution finished");
        }
        Ok(None) => {
            let _ = reports::end_components(&shared.pool, id, "CANCELLED").await;
            let _ = mark_stopped(shared, id).await;
            tracing::info!("execution was cancelled as it finished; the cancel stands");
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record the end of the execution; another instance will once the heartbeat lapses")
        }
    }
}

/// Sets `endTime` of a cancelled execution this worker has stopped, and observes the time from the
/// cancel to now (both read from the database's clock). Ok(false) when there was nothing to do.
async fn mark_stopped(shared: &Shared, id: i64) -> Result<bool, sqlx::Error> {
    let Some(stopped) = executions::mark_stopped(&shared.pool, id).await? else {
        return Ok(false);
    };
    if let (Some(cancel), Some(end)) = (stopped.cancel_time, stopped.end_time) {
        shared
            .metrics
            .observe_cancel_to_stop((end - cancel).to_std().unwrap_or_default());
    }
    Ok(true)
}

async fn event(shared: &Shared, id: i64, e: NewEvent<'_>) {
    if let Err(err) = reports::add_event(&shared.pool, id, &e).await {
        tracing::error!(error = %err, event_type = e.event_type, "cannot record an execution event");
    }
}

async fn record_unmasked(shared: &Shared, id: i64, unmasked: &Unmasked) {
    let events: Vec<(String, String, &'static str, i64, i64)> = unmasked
        .iter()
        .map(|((table, column, algorithm), (count, component))| {
            (
                format!("{table}.{column}"),
                String::new(),
                *algorithm,
                *count,
                *component,
            )
        })
        .collect();
    for (object, _, algorithm, count, component) in events {
        let cause = format!(
            "{count} value(s) of {object} could not be masked by {algorithm} and were left as they were"
        );
        event(
            shared,
            id,
            NewEvent {
                event_type: "UNMASKED_DATA",
                severity: "WARNING",
                cause: Some(&cause),
                count: Some(count),
                execution_component_id: Some(component),
                masked_object_name: Some(&object),
                algorithm_name: Some(algorithm),
            },
        )
        .await;
    }
}

/// What `restore_or_report` achieved.
enum Restored {
    /// Every object is back, and every constraint valid.
    All,
    /// Every object is back, but a constraint is NOT VALID (and an event says so).
    NotValidated,
    /// Some are not back; an event names them.
    NotAll,
}

/// maskd's database did not record what became of the execution's SQL objects (it is out of
/// reach). The execution must not be ended then: left to lapse, it is taken over, and the takeover
/// restores or reports them.
struct Unrecorded;

/// Restores the execution's SQL objects; those it cannot are named in a `SQL_OBJECTS_LEFT_DISABLED`
/// event. Err when neither could be recorded.
async fn restore_or_report(
    shared: &Shared,
    id: i64,
    target: Option<&Target>,
) -> Result<Restored, Unrecorded> {
    match restore_objects(shared, id, target).await {
        Ok(true) => Ok(Restored::All),
        Ok(false) => Ok(Restored::NotValidated),
        Err(()) => report_left_disabled(shared, id)
            .await
            .map(|()| Restored::NotAll),
    }
}

/// Records a `SQL_OBJECTS_LEFT_DISABLED` event naming every object not restored.
async fn report_left_disabled(shared: &Shared, id: i64) -> Result<(), Unrecorded> {
    let left = match sql_objects::unrestored(&shared.pool, id).await {
        Ok(left) => left,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the SQL objects left disabled; the execution stays open until another instance takes it over");
            return Err(Unrecorded);
        }
    };
    if left.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = left.iter().map(|o| o.describe()).collect();
    let cause = format!(
        "left disabled or dropped: {}. Restore them with: {}",
        names.join(", "),
        left.iter()
            .map(|o| o.restore_sql.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    let report = NewEvent {
        event_type: "SQL_OBJECTS_LEFT_DISABLED",
        severity: "WARNING",
        cause: Some(&cause),
        count: Some(left.len() as i64),
        ..Default::default()
    };
    match reports::add_event(&shared.pool, id, &report).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, reason = %cause, "cannot report the SQL objects left disabled; the execution stays open until another instance takes it over");
            Err(Unrecorded)
        }
    }
}

/// Restores every SQL object of the execution not restored yet, newest first. Ok(false) when all
/// are back but a constraint could not be validated.
async fn restore_objects(shared: &Shared, id: i64, target: Option<&Target>) -> Result<bool, ()> {
    let objects = match sql_objects::unrestored(&shared.pool, id).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "cannot list the SQL objects to restore");
            return Err(());
        }
    };
    if objects.is_empty() {
        return Ok(true);
    }
    let Some(target) = target else {
        return Err(());
    };
    let mut conn = match target.connect().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot connect to the target to restore SQL objects");
            return Err(());
        }
    };
    let mut all = Ok(true);
    for o in objects {
        match runner::restore(&mut conn, &o.restore_sql).await {
            Ok(()) => {
                if let Err(e) = sql_objects::mark_restored(&shared.pool, o.sql_object_id).await {
                    // Back on the target, but not known to be: reported as left, to be safe.
                    tracing::error!(error = %e, object = %o.describe(), "restored, but cannot record it");
                    all = Err(());
                    continue;
                }
                tracing::info!(object = %o.describe(), "restored");
                if let Some(validate) = &o.validate_sql
                    && let Err(e) = runner::validate(&mut conn, validate).await
                {
                    // Restored and enforced for new rows, but existing rows break it (a run
                    // stopped part-way masks one side of a relation only).
                    let reason = match &e {
                        sqlx::Error::Database(db) => db.message().to_owned(),
                        other => other.to_string(),
                    };
                    let why = format!(
                        "{} is back but NOT VALID: existing rows break it ({reason}). Mask the rest, then run: {validate}",
                        o.describe()
                    );
                    tracing::warn!(reason = %why, "constraint not validated");
                    event(
                        shared,
                        id,
                        NewEvent {
                            event_type: "CONSTRAINT_NOT_VALIDATED",
                            severity: "WARNING",
                            cause: Some(&why),
                            ..Default::default()
                        },
                    )
                    .await;
                    all = all.map(|_| false);
                }
            }
            Err(e) => {
                let why = format!(
                    "cannot restore {}: {}",
                    o.describe(),
                    describe_sql_error(&e)
                );
                tracing::error!(reason = %why, "restore failed");
                event(
                    shared,
                    id,
                    NewEvent {
                        event_type: "SQL_OBJECT_RESTORE_FAILED",
                        severity: "ERROR",
                        cause: Some(&why),
                        ..Default::default()
                    },
                )
                .await;
                all = Err(());
            }
        }
    }
    let _ = conn.close().await;
    all
}

/// Ends the target backend of a stopped run (its transaction rolls back).
async fn terminate_backend(target: &Target, pid: i32) {
    match target.connect().await {
        Ok(mut conn) => {
            let done = sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1",
            )
            .bind(pid)
            .execute(&mut conn)
            .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, pid, "cannot end the target backend of the stopped run");
            }
            let _ = conn.close().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the target to end the stopped run's backend")
        }
    }
}

/// The target an execution masks: its `targetConnectorId`, or its job's ruleset's connector.
async fn target_of(shared: &Shared, execution: &Execution) -> Result<Target, RunError> {
    let details = match execution.target_connector_id {
        Some(c) => connectors::connection_details(&shared.pool, c).await?,
        None => {
            let job = store::get::<MaskingJob>(&shared.pool, execution.job_id)
                .await?
                .ok_or_else(|| RunError::Failed("the job no longer exists".into()))?;
            connectors::connection_details_of_ruleset(&shared.pool, job.ruleset_id).await?
        }
    }
    .ok_or_else(|| RunError::Failed("the job's database connector no longer exists".into()))?;
    let id = details.database_connector_id;
    Target::of_connector(details, &shared.keys)
        .map_err(|e| RunError::Failed(format!("database connector {id}: {e}")))
}

/// The masking itself. `target` is filled in as soon as it is known, for the cleanup.
async fn mask(
    shared: &Shared,
    execution: &Execution,
    unmasked: &mut Unmasked,
    target_out: &mut Option<Target>,
    backend_pid: &mut Option<i32>,
) -> Result<(), RunError> {
    let id = execution.execution_id;
    let job = store::get::<MaskingJob>(&shared.pool, execution.job_id)
        .await?
        .ok_or_else(|| RunError::Failed("the job no longer exists".into()))?;
    let target = target_of(shared, execution).await?;
    let schema = target.schema().to_owned();
    let described = target.describe();
    *target_out = Some(target);
    let target = target_out.as_ref().expect("just set");

    let plans = plan(shared, id, job.ruleset_id).await?;
    // Named after the execution, so that a DBA can tell in pg_stat_activity which one it is.
    let mut conn = target
        .connect_as(&format!("maskd execution {id}"))
        .await
        .map_err(|e| RunError::Failed(e.to_string()))?;
    *backend_pid = Some(
        sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?,
    );

    // Count first (rowsTotal stays -1 meanwhile), then mask table by table.
    let mut tables = Vec::with_capacity(plans.len());
    let mut rows_total = 0;
    for p in plans {
        let t = runner::resolve(
            &mut conn,
            &schema,
            &p.table_name,
            p.key_column.as_deref(),
            &p.rules,
        )
        .await?;
        let n = runner::count_rows(&mut conn, &t).await?;
        rows_total += n;
        tables.push((p, t, n));
    }
    tracing::info!(tables = tables.len(), rows_total, target = %described, "counted");
    let mut progress = Progress {
        shared,
        id,
        rows_total,
        rows_masked: 0,
        last_write: Instant::now(),
        since_feedback: 0,
        feedback: job.feedback_size as i64,
    };
    progress.write().await?;

    for (p, t, n) in tables {
        reports::start_component(&shared.pool, p.component_id, n).await?;
        disable_objects(shared, id, &mut conn, &t, &job).await?;
        let unmasked_before: i64 = unmasked.values().map(|(count, _)| count).sum();
        mask_table(shared, &mut conn, &p, &t, &job, &mut progress, unmasked).await?;
        let unmasked_after: i64 = unmasked.values().map(|(count, _)| count).sum();
        let status = if unmasked_after > unmasked_before {
            "WARNING"
        } else {
            "SUCCEEDED"
        };
        reports::end_component(&shared.pool, p.component_id, status).await?;
    }
    progress.write().await?;
    let _ = conn.close().await;
    Ok(())
}

/// The tables to mask, each with its execution component.
async fn plan(shared: &Shared, id: i64, ruleset_id: i64) -> Result<Vec<TablePlan>, RunError> {
    let columns = table_metadata::masked_columns(&shared.pool, ruleset_id).await?;
    let mut plans: Vec<TablePlan> = Vec::new();
    for c in columns {
        let Some(algorithm) = Algorithm::from_name(&c.algorithm_name) else {
            return Err(RunError::Failed(format!(
                "column {}.{} names unknown algorithm '{}'",
                c.table_name, c.column_name, c.algorithm_name
            )));
        };
        let new_table = match plans.last() {
            Some(p) => p.table_name != c.table_name,
            None => true,
        };
        if new_table {
            let component_id = reports::create_component(&shared.pool, id, &c.table_name).await?;
            plans.push(TablePlan {
                component_id,
                table_name: c.table_name.clone(),
                key_column: c.key_column.clone(),
                rules: vec![],
            });
        }
        plans.last_mut().expect("pushed").rules.push(ColumnRule {
            name: c.column_name,
            algorithm,
        });
    }
    Ok(plans)
}

/// Disables (or drops) what the job's options say, recording each object before touching it.
async fn disable_objects(
    shared: &Shared,
    id: i64,
    conn: &mut PgConnection,
    t: &ResolvedTable,
    job: &MaskingJob,
) -> Result<(), RunError> {
    let options = &job.database_masking_options;
    let mut found: Vec<FoundObject> = Vec::new();
    if options.disable_triggers {
        found.extend(runner::triggers(conn, t).await?);
    }
    if options.disable_constraints {
        found.extend(runner::foreign_keys(conn, t).await?);
    }
    if options.drop_indexes {
        found.extend(runner::indexes(conn, t).await?);
    }
    for o in found {
        let recorded = sql_objects::record(
            &shared.pool,
            id,
            &NewSqlObject {
                object_type: &o.object_type,
                object_name: &o.object_name,
                table_name: &o.table_name,
                disable_sql: &o.disable_sql,
                restore_sql: &o.restore_sql,
                validate_sql: o.validate_sql.as_deref(),
            },
        )
        .await?;
        runner::disable(conn, &o.disable_sql).await?;
        sql_objects::mark_disabled(&shared.pool, recorded.sql_object_id).await?;
        tracing::info!(object = %recorded.describe(), "disabled");
    }
    Ok(())
}

/// Rows masked so far, written every `feedbackSize` rows (and at least every `MAX_QUIET`). The
/// write is conditional: when it touches no row, the execution was cancelled or taken over.
struct Progress<'a> {
    shared: &'a Shared,
    id: i64,
    rows_total: i64,
    rows_masked: i64,
    since_feedback: i64,
    feedback: i64,
    last_write: Instant,
}

impl Progress<'_> {
    async fn add(
        &mut self,
        rows: i64,
        component_id: i64,
        component_rows: i64,
    ) -> Result<(), RunError> {
        self.rows_masked += rows;
        self.shared.metrics.add_rows_masked(rows as u64);
        self.since_feedback += rows;
        if self.since_feedback >= self.feedback || self.last_write.elapsed() >= MAX_QUIET {
            self.since_feedback = 0;
            reports::component_progress(&self.shared.pool, component_id, component_rows).await?;
            self.write().await?;
        }
        Ok(())
    }

    async fn write(&mut self) -> Result<(), RunError> {
        self.last_write = Instant::now();
        match executions::progress(
            &self.shared.pool,
            self.id,
            &self.shared.worker_id,
            self.rows_masked,
            self.rows_total,
        )
        .await?
        {
            Some(_) => Ok(()),
            None => Err(RunError::Stopped),
        }
    }
}

/// Masks one table in key order, committing every `commitSize` rows.
async fn mask_table(
    shared: &Shared,
    conn: &mut PgConnection,
    p: &TablePlan,
    t: &ResolvedTable,
    job: &MaskingJob,
    progress: &mut Progress<'_>,
    unmasked: &mut Unmasked,
) -> Result<(), RunError> {
    let commit_size = job.database_masking_options.commit_size as i64;
    let batch = commit_size.min(MAX_BATCH);
    let mut after: Option<String> = None;
    let mut component_rows = 0;
    let mut uncommitted = 0;
    conn.execute("BEGIN").await?;
    loop {
        let rows = runner::read_batch(conn, t, after.clone(), batch).await?;
        if rows.is_empty() {
            break;
        }
        after = rows.last().map(|r| r.key.clone());
        let n = rows.len() as i64;
        let key = shared.masking_key.clone();
        let algorithms: Vec<Algorithm> = t.columns.iter().map(|c| c.algorithm).collect();
        let (rows, failures) =
            tokio::task::spawn_blocking(move || mask_rows(&key, &algorithms, rows))
                .await
                .map_err(|e| RunError::Failed(format!("masking a batch panicked: {e}")))?;
        for (i, &count) in failures.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let c = &t.columns[i];
            let entry = unmasked
                .entry((t.name.clone(), c.name.clone(), c.algorithm.name()))
                .or_insert((0, p.component_id));
            entry.0 += count;
            if job.fail_immediately {
                return Err(RunError::Unmaskable(format!(
                    "a value of {}.{} could not be masked by {} and the job fails immediately",
                    t.name,
                    c.name,
                    c.algorithm.name()
                )));
            }
        }
        runner::write_batch(conn, t, &rows).await?;
        uncommitted += n;
        if uncommitted >= commit_size {
            conn.execute("COMMIT; BEGIN").await?;
            uncommitted = 0;
        }
        component_rows += n;
        progress.add(n, p.component_id, component_rows).await?;
    }
    conn.execute("COMMIT").await?;
    tracing::info!(table = %t.name, rows = component_rows, "table masked");
    reports::component_progress(&shared.pool, p.component_id, component_rows).await?;
    Ok(())
}

/// Masks a batch in place; returns it with the count of values each column could not mask.
fn mask_rows(
    key: &MaskingKey,
    algorithms: &[Algorithm],
    mut rows: Vec<BatchRow>,
) -> (Vec<BatchRow>, Vec<i64>) {
    let mut failures = vec![0; algorithms.len()];
    for row in &mut rows {
        for (i, algorithm) in algorithms.iter().enumerate() {
            match algorithm.mask(key, row.values[i].as_deref()) {
                Ok(masked) => row.values[i] = masked,
                Err(_) => failures[i] += 1,
            }
        }
    }
    (rows, failures)
}
