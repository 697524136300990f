//! In-place database masking: plan the ruleset's tables, count them (`rowsTotal` is -1 meanwhile),
//! run the job's prescript, then for each table disable the SQL objects the job's options name,
//! and read it in key order, mask the values on a blocking thread and write them back, batch by
//! batch, committing every `commitSize` rows; then the postscript. `numInputStreams` tables are
//! masked at once, each stream on its own target connection taking the next table when done. A
//! table of at least `MASKD_CHUNK_MIN_ROWS` rows is split into key ranges that any free worker
//! of any instance masks beside the stream (`chunks.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use sqlx::Executor;
use sqlx::postgres::PgConnection;
use tokio_util::sync::CancellationToken;

use super::{RunContext, RunError, chunked};
use crate::engine::events::{self, Event};
use crate::engine::sql_objects;
use crate::masking::algorithms::{Algorithm, MaskingKey};
use crate::masking::sql_objects as catalog;
use crate::masking::table_sql::{self, BatchRow, ColumnRule, KeyRange, ResolvedTable, TableError};
use crate::masking::target;
use crate::store::chunks;
use crate::store::commits;
use crate::store::jobs::{MaskingJob, MaskingJobScript};
use crate::store::table_metadata;
use crate::types::ExecutionStatus;

/// Rows read and written per statement; a transaction spans `commitSize` rows.
const MAX_BATCH: i64 = 10_000;

pub(in crate::engine) struct InPlaceMasking {
    job: MaskingJob,
}

/// One table to mask, with its execution component.
pub(super) struct TablePlan {
    pub component_id: i64,
    pub table_name: String,
    pub key_column: Option<String>,
    pub where_clause: Option<String>,
    pub rules: Vec<ColumnRule>,
    /// The key after which an earlier execution's commits end: only the rows after it are masked.
    resume_after: Option<Vec<String>>,
    /// Split into chunks, recorded with the execution.
    chunked: bool,
}

/// Where an earlier execution's commits on a table end: after a key, or, for a table it split,
/// chunk by chunk.
enum Resume {
    After(Vec<String>),
    Chunks(Vec<chunks::Chunk>),
}

/// A table ready to mask: its plan, what the target said of it, and its rows.
type ReadyTable = (TablePlan, ResolvedTable, i64);

impl InPlaceMasking {
    pub(super) fn new(job: MaskingJob) -> Self {
        InPlaceMasking { job }
    }

    pub(super) async fn run(&mut self, ctx: &RunContext<'_>) -> Result<(), RunError> {
        let job = &self.job;
        let plans = plan(ctx, job.ruleset_id).await?;
        let mut conn = ctx.connect_target().await?;
        let schema = ctx.target.schema().to_owned();
        let resume = resume_points(ctx, &mut conn).await?;
        let mut tables = Vec::with_capacity(plans.len());
        let mut rows_total = 0;
        let mut resumed = vec![];
        for mut p in plans {
            // At most twice: a table without a key is resolved again by the key added for it.
            let t = loop {
                let resolved = table_sql::resolve(
                    &mut conn,
                    &schema,
                    &p.table_name,
                    p.key_column.as_deref(),
                    p.where_clause.as_deref(),
                    &p.rules,
                )
                .await;
                match resolved {
                    Err(TableError::NoKey(_)) if p.key_column.is_none() => {
                        if let Some((from, _)) = resume
                            .as_ref()
                            .filter(|(_, r)| r.contains_key(&p.table_name))
                        {
                            return Err(RunError::Failed(format!(
                                "table '{}' has no key, so the rows execution {from} masked cannot be told from the others: give it a primary key or a keyColumn, or submit with startOver true to mask every row again (only after refreshing the target)",
                                p.table_name
                            )));
                        }
                        // No key of its own: one added for the run, recorded and dropped like
                        // the other SQL objects a run touches.
                        let column = format!("maskd_row_{}", ctx.execution.execution_id);
                        let found =
                            catalog::row_id_column(&mut conn, &schema, &p.table_name, &column)
                                .await?;
                        sql_objects::disable(ctx, &mut conn, vec![found]).await?;
                        tracing::info!(table = %p.table_name, %column, "row numbers added: the table has no key");
                        p.key_column = Some(column);
                    }
                    other => break other?,
                }
            };
            let earlier = resume.as_ref().and_then(|(_, r)| r.get(&p.table_name));
            if let Some(Resume::After(key)) = earlier {
                p.resume_after = Some(key.clone());
            }
            // Recorded from the start, so that the rows this execution commits are counted
            // whatever becomes of it.
            let recorded = commits::start(
                &ctx.instance.pool,
                ctx.execution.execution_id,
                ctx.instance.worker_id(),
                &p.table_name,
                p.resume_after.as_deref(),
            )
            .await?;
            if !recorded {
                return Err(RunError::Stopped);
            }
            if earlier.is_some() {
                resumed.push(p.table_name.clone());
            }
            let range = KeyRange {
                after: p.resume_after.clone(),
                last: None,
            };
            // Rows to mask: of the ranges an earlier execution left, or counted once.
            let (n, split) = match earlier {
                Some(Resume::Chunks(earlier)) => {
                    let split = chunked::inherited(ctx, &mut conn, earlier).await?;
                    (
                        chunked::rows_left(&mut conn, &t, &split).await?,
                        Some(split),
                    )
                }
                _ => {
                    let n = table_sql::count_rows(&mut conn, &t, &range).await?;
                    let chunking = ctx.instance.chunking;
                    let split = if n >= chunking.min_rows {
                        Some(chunked::split(&mut conn, &t, &range, chunking.rows).await?)
                    } else {
                        None
                    };
                    (n, split)
                }
            };
            if let Some(split) = split {
                chunked::record(ctx, &p.table_name, p.key_column.as_deref(), &split).await?;
                tracing::info!(table = %p.table_name, chunks = split.len(), rows = n, "split into chunks");
                p.chunked = true;
            }
            rows_total += n;
            tables.push((p, t, n));
        }
        if !commits::plan_recorded(
            &ctx.instance.pool,
            ctx.execution.execution_id,
            ctx.instance.worker_id(),
        )
        .await?
        {
            return Err(RunError::Stopped);
        }
        if let Some((from, _)) = resume {
            tracing::info!(from, tables = ?resumed, "continuing after what an earlier execution committed");
            let event = Event::Resumed {
                from,
                tables: resumed,
            };
            events::record(ctx.instance, ctx.execution.execution_id, &event).await;
        }
        let streams = (job.num_input_streams.max(1) as usize).clamp(1, tables.len().max(1));
        tracing::info!(tables = tables.len(), rows_total, streams, target = %ctx.target.describe(), "counted");
        ctx.progress.lock().await.set_total(rows_total).await?;

        let options = &job.database_masking_options;
        if let Some(script) = &options.prescript {
            run_script(&mut conn, "prescript", script).await?;
        }
        let mut conns = vec![conn];
        while conns.len() < streams {
            conns.push(ctx.connect_target().await?);
        }
        let queue = Mutex::new(tables.into_iter());
        futures_util::future::try_join_all(conns.iter_mut().map(|c| stream(ctx, job, c, &queue)))
            .await?;
        let mut conns = conns.into_iter();
        let mut conn = conns.next().expect("one stream at least");
        for other in conns {
            target::close(other).await;
        }
        if let Some(script) = &options.postscript {
            run_script(&mut conn, "postscript", script).await?;
        }
        ctx.progress.lock().await.write().await?;
        target::close(conn).await;
        Ok(())
    }
}

/// One stream of a run: masks the next table of `queue` on `conn` until none is left. A stream
/// that fails ends the run, and the others with it.
async fn stream(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    conn: &mut PgConnection,
    queue: &Mutex<std::vec::IntoIter<ReadyTable>>,
) -> Result<(), RunError> {
    loop {
        let next = queue.lock().expect("not poisoned").next();
        let Some((p, t, n)) = next else {
            return Ok(());
        };
        ctx.progress
            .lock()
            .await
            .start_component(p.component_id, n)
            .await?;
        let unmasked_before =
            super::begin_table(ctx, conn, &(&t).into(), &job.database_masking_options).await?;
        let rows = if p.chunked {
            chunked::mask_table(ctx, job, conn, &p, &t).await?
        } else {
            let range = KeyRange {
                after: p.resume_after.clone(),
                last: None,
            };
            let rows =
                mask_range(ctx, job, conn, &t, p.component_id, range, &Ledger::Table).await?;
            tracing::info!(table = %t.name, rows, "table masked");
            rows
        };
        super::end_table(ctx, p.component_id, rows, unmasked_before).await?;
    }
}

/// Runs a job's prescript or postscript on the target, in a transaction of its own.
pub(super) async fn run_script(
    conn: &mut PgConnection,
    which: &str,
    script: &MaskingJobScript,
) -> Result<(), RunError> {
    let name = script.name.as_deref().unwrap_or("unnamed");
    conn.execute("BEGIN").await?;
    if let Err(e) = conn.execute(script.contents.as_str()).await {
        // The transaction is aborted; a failed rollback ends with the connection.
        let _ = conn.execute("ROLLBACK").await;
        return Err(RunError::Failed(format!(
            "the {which} '{name}' failed on the target: {}; nothing of it was kept. Correct databaseMaskingOptions.{which} of the job",
            crate::sql_error::describe(&e)
        )));
    }
    conn.execute("COMMIT").await?;
    tracing::info!(script = name, "{which} ran");
    Ok(())
}

/// The tables to mask, each with its execution component.
async fn plan(ctx: &RunContext<'_>, ruleset_id: i64) -> Result<Vec<TablePlan>, RunError> {
    let mut plans = masked_tables(ctx, ruleset_id, None).await?;
    let progress = ctx.progress.lock().await;
    for p in &mut plans {
        p.component_id = progress.new_component(&p.table_name).await?;
    }
    Ok(plans)
}

/// The ruleset's tables with masked columns (only `only`, when given), without their components.
pub(super) async fn masked_tables(
    ctx: &RunContext<'_>,
    ruleset_id: i64,
    only: Option<&str>,
) -> Result<Vec<TablePlan>, RunError> {
    let columns = table_metadata::masked_columns(&ctx.instance.pool, ruleset_id).await?;
    let mut plans: Vec<TablePlan> = Vec::new();
    for c in columns {
        if only.is_some_and(|t| t != c.table_name) {
            continue;
        }
        let Some(algorithm) = Algorithm::from_name(&c.algorithm_name) else {
            return Err(RunError::Failed(format!(
                "column {}.{} names unknown algorithm '{}'",
                c.table_name, c.column_name, c.algorithm_name
            )));
        };
        if c.custom_sql.is_some() {
            return Err(TableError::CustomSqlInPlace {
                table: c.table_name,
            }
            .into());
        }
        if plans.last().is_none_or(|p| p.table_name != c.table_name) {
            plans.push(TablePlan {
                component_id: 0,
                table_name: c.table_name.clone(),
                key_column: c.key_column.clone(),
                where_clause: c.where_clause.clone(),
                rules: vec![],
                resume_after: None,
                chunked: false,
            });
        }
        plans.last_mut().expect("pushed").rules.push(ColumnRule {
            name: c.column_name,
            algorithm,
        });
    }
    Ok(plans)
}

/// Where a range's commits and progress are recorded: with the table (the execution's worker
/// masks it whole), or with a chunk its worker holds, whose `rows_before` were committed by the
/// execution before this claim. The execution's own worker (`own`) also writes the execution's
/// progress as it goes.
pub(super) enum Ledger {
    Table,
    Chunk {
        held: chunks::Held,
        rows_before: i64,
        own: bool,
    },
}

/// Masks a range of a table in key order, committing every `commitSize` rows; the rows it masked.
pub(super) async fn mask_range(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    conn: &mut PgConnection,
    t: &ResolvedTable,
    component_id: i64,
    mut range: KeyRange,
    ledger: &Ledger,
) -> Result<i64, RunError> {
    let commit_size = job.database_masking_options.commit_size as i64;
    let batch = commit_size.min(MAX_BATCH);
    let algorithms: Vec<(Algorithm, Option<i32>)> = t
        .columns
        .iter()
        .map(|c| (c.algorithm, c.max_chars))
        .collect();
    let mut done = 0;
    let mut uncommitted = 0;
    conn.execute("BEGIN").await?;
    loop {
        let rows = table_sql::read_batch(conn, t, &range, batch).await?;
        if rows.is_empty() {
            break;
        }
        range.after = rows.last().map(|r| r.key.clone());
        let n = rows.len() as i64;
        let key = ctx.instance.masking_key.clone();
        let (algorithms_of_batch, stop) = (algorithms.clone(), ctx.stop.clone());
        let masked =
            tokio::task::spawn_blocking(move || mask_rows(&key, &algorithms_of_batch, rows, &stop))
                .await
                .map_err(|e| RunError::Failed(format!("masking a batch panicked: {e}")))?;
        let Some((rows, failures)) = masked else {
            return Err(RunError::Stopped);
        };
        for (c, &count) in t.columns.iter().zip(&failures) {
            if count == 0 {
                continue;
            }
            ctx.add_unmasked(&t.name, &c.name, c.algorithm.name(), count, component_id);
            if job.fail_immediately {
                return Err(RunError::Failed(format!(
                    "a value of {}.{} could not be masked by {} (or its masked value would not fit the column) and the job fails immediately",
                    t.name,
                    c.name,
                    c.algorithm.name()
                )));
            }
        }
        table_sql::write_batch(conn, t, &rows).await?;
        uncommitted += n;
        let last = range.after.as_deref().expect("a batch was read");
        if uncommitted >= commit_size {
            commit(ctx, conn, &t.name, ledger, last, uncommitted).await?;
            conn.execute("BEGIN").await?;
            uncommitted = 0;
        }
        done += n;
        report(ctx, ledger, component_id, n, done).await?;
    }
    match (uncommitted, range.after.as_deref()) {
        (1.., Some(key)) => commit(ctx, conn, &t.name, ledger, key, uncommitted).await?,
        _ => {
            conn.execute("COMMIT").await?;
        }
    }
    Ok(done)
}

/// Reports `n` more rows done, `done` in all of the range, in `ledger`.
pub(super) async fn report(
    ctx: &RunContext<'_>,
    ledger: &Ledger,
    component_id: i64,
    n: i64,
    done: i64,
) -> Result<(), RunError> {
    match ledger {
        Ledger::Table => ctx.progress.lock().await.add(n, component_id, done).await,
        Ledger::Chunk {
            held,
            rows_before,
            own,
        } => {
            if !chunks::progress(&ctx.instance.pool, held, rows_before + done).await? {
                return Err(RunError::Stopped);
            }
            if *own {
                ctx.progress.lock().await.tick().await?;
            }
            Ok(())
        }
    }
}

/// Commits the target's transaction, whose last row has the key `key` and which holds `rows`
/// rows, recording it in `ledger` around the COMMIT: pending with the transaction's id before
/// (fenced: a run or chunk that is no longer this worker's stops without committing), committed
/// after. A crash between the two leaves it pending, and whoever goes on asks the target whether
/// that transaction committed.
pub(super) async fn commit(
    ctx: &RunContext<'_>,
    conn: &mut PgConnection,
    table: &str,
    ledger: &Ledger,
    key: &[String],
    rows: i64,
) -> Result<(), RunError> {
    let (pool, id) = (&ctx.instance.pool, ctx.execution.execution_id);
    let xid: i64 = sqlx::query_scalar("SELECT txid_current()")
        .fetch_one(&mut *conn)
        .await?;
    let recorded = match ledger {
        Ledger::Table => {
            commits::record_pending(pool, id, ctx.instance.worker_id(), table, key, xid, rows)
                .await?
        }
        Ledger::Chunk { held, .. } => chunks::record_pending(pool, held, key, xid, rows).await?,
    };
    if !recorded {
        return Err(RunError::Stopped);
    }
    // Counted as the commit is sent, so that a run stopped right after it is not undercounted.
    ctx.instance.metrics.add_rows_masked(rows as u64);
    conn.execute("COMMIT").await?;
    match ledger {
        Ledger::Table => commits::settle_pending(pool, id, table, xid, true).await?,
        Ledger::Chunk { held, .. } => {
            chunks::settle_pending(pool, held.chunk_id, xid, true).await?
        }
    }
    Ok(())
}

/// Whether the target transaction `xid` committed: Some(true|false), or None while it is still
/// open. Err when the target no longer knows (`what` names the commit, for the message).
pub(super) async fn committed_on_target(
    conn: &mut PgConnection,
    xid: i64,
    what: &str,
) -> Result<Option<bool>, RunError> {
    let status: Option<String> = sqlx::query_scalar("SELECT txid_status($1)")
        .bind(xid)
        .fetch_one(&mut *conn)
        .await?;
    match status.as_deref() {
        Some("committed") => Ok(Some(true)),
        Some("aborted") => Ok(Some(false)),
        Some(_) => Ok(None),
        None => Err(RunError::Failed(format!(
            "the target no longer knows whether {what} (xid {xid}) happened, so where its masked rows end is unknown: submit with startOver true to mask every row again (only after refreshing the target)"
        ))),
    }
}

/// Where each table's rows committed by the job's last execution end, when that execution ended
/// FAILED or CANCELLED on the same target and this one is not to start over: (that execution,
/// table -> where). A commit it left pending is settled by asking the target whether its
/// transaction committed (a chunk's, when this run's worker claims it).
async fn resume_points(
    ctx: &RunContext<'_>,
    conn: &mut PgConnection,
) -> Result<Option<(i64, HashMap<String, Resume>)>, RunError> {
    let execution = ctx.execution;
    let pool = &ctx.instance.pool;
    if execution.start_over {
        return Ok(None);
    }
    let previous = commits::previous(
        pool,
        execution.job_id,
        execution.execution_id,
        execution.target_connector_id,
    )
    .await?;
    let Some((from, ExecutionStatus::Failed | ExecutionStatus::Cancelled)) = previous else {
        return Ok(None);
    };
    let mut points = HashMap::new();
    for c in commits::of_execution(pool, from).await? {
        let mut key = c.committed_key;
        if let (Some(pending), Some(xid)) = (c.pending_key, c.pending_xid) {
            let what = format!("execution {from}'s last commit on table '{}'", c.table_name);
            match committed_on_target(conn, xid, &what).await? {
                Some(committed) => {
                    commits::settle_pending(pool, from, &c.table_name, xid, committed).await?;
                    if committed {
                        key = Some(pending);
                    }
                }
                None => {
                    return Err(RunError::Failed(format!(
                        "execution {from}'s last transaction on table '{}' (xid {xid}) is still open on the target: wait for it to end (or end its backend) and run the job again",
                        c.table_name
                    )));
                }
            }
        }
        if let Some(k) = key {
            points.insert(c.table_name, Resume::After(k));
        }
    }
    let mut split: HashMap<String, Vec<chunks::Chunk>> = HashMap::new();
    for chunk in chunks::of_execution(pool, from).await? {
        split
            .entry(chunk.table_name.clone())
            .or_default()
            .push(chunk);
    }
    for (table, chunks) in split {
        points.insert(table, Resume::Chunks(chunks));
    }
    Ok(Some((from, points)))
}

/// Masks a batch in place; returns it with the count of values each column could not mask (the
/// algorithm refused them, or their masked value would not fit the column). None when the run is
/// stopped meanwhile: a blocking thread is not stopped by dropping the run, so it looks for itself.
fn mask_rows(
    key: &MaskingKey,
    algorithms: &[(Algorithm, Option<i32>)],
    mut rows: Vec<BatchRow>,
    stop: &CancellationToken,
) -> Option<(Vec<BatchRow>, Vec<i64>)> {
    let mut failures = vec![0; algorithms.len()];
    for (n, row) in rows.iter_mut().enumerate() {
        if n % 1024 == 0 && stop.is_cancelled() {
            return None;
        }
        for (i, (algorithm, max_chars)) in algorithms.iter().enumerate() {
            match algorithm.mask(key, row.values[i].as_deref()) {
                Ok(masked) if table_sql::fits(masked.as_deref(), *max_chars) => {
                    row.values[i] = masked
                }
                _ => failures[i] += 1,
            }
        }
    }
    Some((rows, failures))
}
