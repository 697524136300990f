//! The work of a job, one kind of job per runner file, behind one lifecycle.
//!
//! A runner gets a [`RunContext`]: the execution and its job, the target, a progress reporter, the
//! cancel signal, and the SQL-object register. It does the work and returns; it knows nothing of
//! claims, heartbeats, cancels or how the execution ends, which are the lifecycle's. When the
//! execution is cancelled (or the instance shuts down), the lifecycle drops the runner's future
//! at its next await and ends the target sessions the runner opened through
//! [`RunContext::connect_target`], so a runner stops within a second without checking for it
//! (a runner with long blocking work checks `stop`).
//!
//! A run may work on several tables at once (`numInputStreams`): the context is shared by them,
//! so progress, unmasked values and sessions are behind locks, and every connection a run opens
//! is ended with it.
//!
//! To add a kind of job: a file here with a type that has `async fn run(&mut self, ctx:
//! &RunContext<'_>) -> Result<(), RunError>`, a variant of [`Runner`] and its arm in `for_job` and
//! `run`. A runner that only reads its target (profiling) opens connections and never registers
//! SQL objects; one with a source and a target (on-the-fly) gets its source from the job as this
//! one gets its target. Whoever ends the execution restores what was registered, so work spread
//! over several workers registers objects through the execution, never through one worker.

mod chunked;
mod in_place;
mod on_the_fly;
mod profile;

pub(super) use chunked::help;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::Instance;
use crate::masking::table_sql::TableError;
use crate::masking::target::{Target, TargetError};
use crate::sql_error::{self, sqlstate};
use crate::store::executions::{self, Execution};
use crate::store::jobs::MaskingJob;
use crate::store::profile_jobs::ProfileJob;
use crate::store::{chunks, components};
use crate::types::ExecutionStatus;

/// A job of either kind, as an execution runs it.
#[derive(Debug, Clone)]
pub(super) enum Job {
    Masking(MaskingJob),
    Profile(ProfileJob),
}

impl Job {
    pub(super) fn ruleset_id(&self) -> i64 {
        match self {
            Job::Masking(j) => j.ruleset_id,
            Job::Profile(j) => j.ruleset_id,
        }
    }

    fn feedback_size(&self) -> i64 {
        match self {
            Job::Masking(j) => j.feedback_size as i64,
            Job::Profile(j) => j.feedback_size as i64,
        }
    }
}

/// The kinds of job there are.
pub(super) enum Runner {
    /// A masking job that masks its target's tables where they are.
    InPlace(in_place::InPlaceMasking),
    /// A masking job that copies its source's tables into its target's, masking them on the way.
    OnTheFly(on_the_fly::OnTheFlyMasking),
    /// A profile job that finds the personal data of its ruleset's tables.
    Profile(profile::Profiling),
}

impl Runner {
    /// The runner for an execution of `job`.
    pub(super) fn for_job(job: &Job) -> Runner {
        match job {
            Job::Masking(j) if j.on_the_fly_masking => {
                Runner::OnTheFly(on_the_fly::OnTheFlyMasking::new(j.clone()))
            }
            Job::Masking(j) => Runner::InPlace(in_place::InPlaceMasking::new(j.clone())),
            Job::Profile(j) => Runner::Profile(profile::Profiling::new(j.clone())),
        }
    }

    pub(super) async fn run(&mut self, ctx: &RunContext<'_>) -> Result<(), RunError> {
        match self {
            Runner::InPlace(r) => r.run(ctx).await,
            Runner::OnTheFly(r) => r.run(ctx).await,
            Runner::Profile(r) => r.run(ctx).await,
        }
    }
}

/// Why a run ended early.
#[derive(Debug, thiserror::Error)]
pub(super) enum RunError {
    /// The execution is no longer RUNNING on this worker (cancelled, or taken over).
    #[error("stopped")]
    Stopped,
    /// The run cannot go on: the reason, in words, with what to do about it.
    #[error("{0}")]
    Failed(String),
}

impl From<sqlx::Error> for RunError {
    fn from(e: sqlx::Error) -> Self {
        let why = match &e {
            sqlx::Error::Database(_) => {
                format!(
                    "the database refused a statement: {}",
                    sql_error::describe(&e)
                )
            }
            _ => format!("a statement failed: {}", sql_error::describe(&e)),
        };
        RunError::Failed(if sql_error::is(&e, sqlstate::FOREIGN_KEY_VIOLATION) {
            format!(
                "{why}. To mask columns that foreign keys use, set databaseMaskingOptions.disableConstraints on the job"
            )
        } else {
            why
        })
    }
}

impl From<TableError> for RunError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Sql(e) => e.into(),
            other => RunError::Failed(other.to_string()),
        }
    }
}

impl From<TargetError> for RunError {
    fn from(e: TargetError) -> Self {
        RunError::Failed(e.to_string())
    }
}

/// Everything a runner may use.
pub(super) struct RunContext<'a> {
    pub instance: &'a Instance,
    pub execution: &'a Execution,
    /// The database the job works on.
    pub target: &'a Target,
    /// The database an on-the-fly job reads, never writing it.
    pub source: Option<&'a Target>,
    /// Held across its writes to maskd's database, so the streams of a run report one sum.
    pub progress: tokio::sync::Mutex<Progress<'a>>,
    pub unmasked: std::sync::Mutex<UnmaskedValues>,
    /// Cancelled when the run must stop (the lifecycle also drops the run's future).
    pub stop: &'a CancellationToken,
    /// Backends of the target this run opened, ended by the lifecycle when the run does not
    /// complete.
    sessions: std::sync::Mutex<Vec<i32>>,
    /// The same, of the source.
    source_sessions: std::sync::Mutex<Vec<i32>>,
    /// Chunks this run holds, given back by the lifecycle when the run does not complete them.
    held_chunks: std::sync::Mutex<Vec<chunks::Held>>,
}

impl<'a> RunContext<'a> {
    pub(super) fn new(
        instance: &'a Instance,
        execution: &'a Execution,
        job: &Job,
        (target, source): (&'a Target, Option<&'a Target>),
        stop: &'a CancellationToken,
    ) -> Self {
        RunContext {
            instance,
            execution,
            target,
            source,
            progress: tokio::sync::Mutex::new(Progress::new(
                instance,
                execution.execution_id,
                job.feedback_size(),
            )),
            unmasked: std::sync::Mutex::default(),
            stop,
            sessions: std::sync::Mutex::default(),
            source_sessions: std::sync::Mutex::default(),
            held_chunks: std::sync::Mutex::default(),
        }
    }

    /// The name of the run's target sessions (`application_name`), so that a DBA can tell in
    /// `pg_stat_activity` which execution one belongs to.
    pub(super) fn session_name(&self) -> String {
        format!("maskd execution {}", self.execution.execution_id)
    }

    /// A connection to the target, named after the execution, whose backend is ended if the run
    /// does not complete.
    pub async fn connect_target(&self) -> Result<PgConnection, RunError> {
        let mut conn = self.target.connect_as(&self.session_name()).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        self.sessions.lock().expect("not poisoned").push(pid);
        Ok(conn)
    }

    /// A target connection that cannot write: every transaction on it is read-only.
    pub async fn connect_target_read_only(&self) -> Result<PgConnection, RunError> {
        let mut conn = self.connect_target().await?;
        make_read_only(&mut conn).await?;
        Ok(conn)
    }

    /// The backends of the target this run opened.
    pub(super) fn sessions(&self) -> Vec<i32> {
        self.sessions.lock().expect("not poisoned").clone()
    }

    /// A read-only connection to the source, named and ended like the target's; Err when the
    /// job has no source.
    pub async fn connect_source(&self) -> Result<PgConnection, RunError> {
        let source = self.source.ok_or_else(|| {
            RunError::Failed("the job has no source connector to read from".into())
        })?;
        let mut conn = source.connect_as(&self.session_name()).await?;
        make_read_only(&mut conn).await?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        self.source_sessions.lock().expect("not poisoned").push(pid);
        Ok(conn)
    }

    /// The backends of the source this run opened.
    pub(super) fn source_sessions(&self) -> Vec<i32> {
        self.source_sessions.lock().expect("not poisoned").clone()
    }

    /// A chunk this run claimed: held until `let_go`, or given back by `release_chunks`; the
    /// instance's heartbeats keep it alive meanwhile.
    pub fn hold(&self, chunk: &chunks::Chunk) -> chunks::Held {
        let held = chunk.held_by(self.instance.worker_id());
        self.instance.hold_chunk(held.chunk_id);
        self.held_chunks
            .lock()
            .expect("not poisoned")
            .push(held.clone());
        held
    }

    /// A chunk this run finished or gave back.
    pub fn let_go(&self, held: &chunks::Held) {
        self.instance.let_go_chunk(held.chunk_id);
        self.held_chunks
            .lock()
            .expect("not poisoned")
            .retain(|h| h.chunk_id != held.chunk_id);
    }

    /// Gives back every chunk the run still holds (its uncommitted rows forgotten), `error` saying
    /// why when the execution must fail; once its target sessions are ended.
    pub(super) async fn release_chunks(&self, error: Option<&str>) {
        let held = std::mem::take(&mut *self.held_chunks.lock().expect("not poisoned"));
        for h in held {
            if let Err(e) = chunks::release(&self.instance.pool, &h, error).await {
                tracing::warn!(error = %e, chunk = h.chunk_id, "cannot give a chunk back; another worker claims it once its heartbeat lapses");
            }
            self.instance.let_go_chunk(h.chunk_id);
        }
    }

    /// `count` values of `table.column` left unmasked by `algorithm`.
    pub fn add_unmasked(
        &self,
        table: &str,
        column: &str,
        algorithm: &'static str,
        count: i64,
        component_id: i64,
    ) {
        self.unmasked.lock().expect("not poisoned").add(
            table,
            column,
            algorithm,
            count,
            component_id,
        );
    }

    /// Values left unmasked so far.
    pub fn unmasked_total(&self) -> i64 {
        self.unmasked.lock().expect("not poisoned").total()
    }
}

/// Makes every transaction of the session read-only.
async fn make_read_only(conn: &mut PgConnection) -> Result<(), RunError> {
    sqlx::Executor::execute(conn, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").await?;
    Ok(())
}

/// Before a masking run works on a table: disables the SQL objects of it that the job's options
/// name (recorded first). Returns the count of values left unmasked so far, for `end_table`.
async fn begin_table(
    ctx: &RunContext<'_>,
    conn: &mut PgConnection,
    table: &crate::masking::sql_objects::TableRef<'_>,
    options: &crate::store::jobs::DatabaseMaskingOptions,
) -> Result<i64, RunError> {
    let found = super::sql_objects::in_the_way(conn, table, options).await?;
    super::sql_objects::disable(ctx, conn, found).await?;
    Ok(ctx.unmasked_total())
}

/// After a masking run did a table's `rows`: ends its component SUCCEEDED, or WARNING when values
/// were left unmasked since `begin_table`.
async fn end_table(
    ctx: &RunContext<'_>,
    component_id: i64,
    rows: i64,
    unmasked_before: i64,
) -> Result<(), RunError> {
    let status = if ctx.unmasked_total() > unmasked_before {
        ExecutionStatus::Warning
    } else {
        ExecutionStatus::Succeeded
    };
    ctx.progress
        .lock()
        .await
        .end_component(component_id, rows, status)
        .await
}

/// Progress is written at least this often, so a cancel is also seen without its notification.
const MAX_QUIET: Duration = Duration::from_millis(500);

/// Rows done so far, written every `feedbackSize` rows (and at least every `MAX_QUIET`), and the
/// execution's components. Writing is a guarded transition: when it changes nothing, the execution
/// is no longer running here, and the run is told to stop.
pub(super) struct Progress<'a> {
    instance: &'a Instance,
    execution_id: i64,
    rows_total: i64,
    rows_done: i64,
    since_feedback: i64,
    feedback: i64,
    last_write: Instant,
}

impl<'a> Progress<'a> {
    fn new(instance: &'a Instance, execution_id: i64, feedback: i64) -> Self {
        Progress {
            instance,
            execution_id,
            rows_total: -1,
            rows_done: 0,
            since_feedback: 0,
            feedback,
            last_write: Instant::now(),
        }
    }

    /// The rows the run will work through, once counted (`rowsTotal` is -1 until then).
    pub async fn set_total(&mut self, rows_total: i64) -> Result<(), RunError> {
        self.rows_total = rows_total;
        self.write().await
    }

    /// `rows` more done, of which the component has done `component_rows` in all.
    pub async fn add(
        &mut self,
        rows: i64,
        component_id: i64,
        component_rows: i64,
    ) -> Result<(), RunError> {
        self.rows_done += rows;
        self.since_feedback += rows;
        if self.since_feedback >= self.feedback || self.last_write.elapsed() >= MAX_QUIET {
            self.since_feedback = 0;
            components::progress(&self.instance.pool, component_id, component_rows).await?;
            self.write().await?;
        }
        Ok(())
    }

    /// Writes the rows done so far if nothing was written for a while (the workers of the
    /// execution's chunks add theirs).
    pub async fn tick(&mut self) -> Result<(), RunError> {
        if self.last_write.elapsed() >= MAX_QUIET {
            self.write().await?;
        }
        Ok(())
    }

    /// Writes the rows done so far.
    pub async fn write(&mut self) -> Result<(), RunError> {
        self.last_write = Instant::now();
        let running = executions::progress(
            &self.instance.pool,
            self.execution_id,
            self.instance.worker_id(),
            self.rows_done,
            self.rows_total,
        )
        .await?;
        if running {
            Ok(())
        } else {
            Err(RunError::Stopped)
        }
    }

    /// A new (QUEUED) component of the execution, e.g. a table; its id.
    pub async fn new_component(&self, name: &str) -> Result<i64, RunError> {
        Ok(components::create(&self.instance.pool, self.execution_id, name).await?)
    }

    pub async fn start_component(&self, id: i64, rows_total: i64) -> Result<(), RunError> {
        Ok(components::start(&self.instance.pool, id, rows_total).await?)
    }

    /// Ends a component the run completed, with the rows it did.
    pub async fn end_component(
        &self,
        id: i64,
        rows: i64,
        status: ExecutionStatus,
    ) -> Result<(), RunError> {
        components::progress(&self.instance.pool, id, rows).await?;
        Ok(components::end(&self.instance.pool, id, status).await?)
    }
}

/// Values a run could not mask and left as they were: (table, column, algorithm) -> (count,
/// component). Each becomes an `UNMASKED_DATA` event when the run ends, however it ends.
#[derive(Debug, Default)]
pub(super) struct UnmaskedValues(BTreeMap<(String, String, &'static str), (i64, i64)>);

impl UnmaskedValues {
    pub fn add(
        &mut self,
        table: &str,
        column: &str,
        algorithm: &'static str,
        count: i64,
        component_id: i64,
    ) {
        self.0
            .entry((table.to_owned(), column.to_owned(), algorithm))
            .or_insert((0, component_id))
            .0 += count;
    }

    pub fn total(&self) -> i64 {
        self.0.values().map(|(count, _)| count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `UNMASKED_DATA` events, one per column and algorithm.
    pub(super) fn events(&self) -> impl Iterator<Item = super::events::Event> + '_ {
        self.0
            .iter()
            .map(|((table, column, algorithm), (count, component_id))| {
                super::events::Event::UnmaskedData {
                    table: table.clone(),
                    column: column.clone(),
                    algorithm,
                    count: *count,
                    component_id: *component_id,
                }
            })
    }
}
