//! Chunks of a big table (at least `MASKD_CHUNK_MIN_ROWS` rows to mask), masked by every free
//! worker of every instance. The execution's own worker splits the table into key ranges of about
//! `MASKD_CHUNK_ROWS` rows when it plans the run, and records them, closed, with the execution
//! (`store::chunks`); when the table's turn comes it disables what the job's options name, opens
//! them, and masks chunks itself while free workers elsewhere claim the others (`help`). Each
//! chunk's commits are recorded like a whole table's, so a chunk whose worker died is claimed
//! again and continued after what was committed, and a re-run goes on chunk by chunk.

use std::time::Duration;

use sqlx::postgres::PgConnection;

use super::in_place::{self, Ledger, TablePlan};
use super::on_the_fly;
use super::{RunContext, RunError};
use crate::masking::copy_table::{self, CopiedTable, SourceKey};
use crate::masking::table_sql::{self, KeyRange, ResolvedTable};
use crate::masking::target;
use crate::store::chunks::{self, Chunk, ChunkPlan, Held};
use crate::store::components;
use crate::store::executions::SUBMITTED_CHANNEL;
use crate::store::jobs::MaskingJob;

/// How often the execution's worker looks at the chunks other workers hold, once it has none left
/// to claim.
const WAIT: Duration = Duration::from_millis(100);

/// Splits a table's range into chunks of `rows` rows.
pub(super) async fn split(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    range: &KeyRange,
    rows: i64,
) -> Result<Vec<ChunkPlan>, RunError> {
    let bounds = table_sql::chunk_bounds(conn, t, range, rows).await?;
    Ok(plans_between(range.after.clone(), bounds))
}

/// Splits an on-the-fly job's source table into chunks of `rows` rows, by its key.
pub(super) async fn split_source(
    source: &mut PgConnection,
    key: &SourceKey,
    rows: i64,
) -> Result<Vec<ChunkPlan>, RunError> {
    let found: Vec<sqlx::postgres::PgRow> = sqlx::query(key.bounds_sql())
        .bind(rows)
        .fetch_all(&mut *source)
        .await?;
    let bounds = found
        .iter()
        .map(|r| {
            (0..key.positions.len())
                .map(|i| sqlx::Row::try_get::<String, _>(r, i))
                .collect()
        })
        .collect::<Result<_, _>>()?;
    Ok(plans_between(None, bounds))
}

/// The chunks from `after` (exclusive) cut at `bounds`, the last one open-ended.
fn plans_between(after: Option<Vec<String>>, bounds: Vec<Vec<String>>) -> Vec<ChunkPlan> {
    let mut after = after;
    let mut plans = Vec::with_capacity(bounds.len() + 1);
    for last in bounds.into_iter().map(Some).chain([None]) {
        plans.push(ChunkPlan {
            key_after: after.clone(),
            key_last: last.clone(),
            committed_key: None,
            done: false,
        });
        after = last;
    }
    plans
}

/// An earlier execution's chunks of a table, as this one goes on with them: the same ranges, each
/// after what that execution committed of it. A commit it left pending is settled by asking the
/// target.
pub(super) async fn inherited(
    ctx: &RunContext<'_>,
    conn: &mut PgConnection,
    earlier: &[Chunk],
) -> Result<Vec<ChunkPlan>, RunError> {
    let mut plans = Vec::with_capacity(earlier.len());
    for c in earlier {
        let mut committed_key = c.committed_key.clone();
        if let (Some(xid), Some(pending)) = (c.pending_xid, &c.pending_key) {
            let what = format!(
                "execution {}'s last commit on chunk {} of table '{}'",
                c.execution_id, c.chunk_no, c.table_name
            );
            match in_place::committed_on_target(conn, xid, &what).await? {
                Some(committed) => {
                    chunks::settle_pending(&ctx.instance.pool, c.chunk_id, xid, committed).await?;
                    if committed {
                        committed_key = Some(pending.clone());
                    }
                }
                None => {
                    return Err(RunError::Failed(format!(
                        "{what} (xid {xid}) is still open on the target: wait for it to end (or end its backend) and run the job again"
                    )));
                }
            }
        }
        plans.push(ChunkPlan {
            key_after: c.key_after.clone(),
            key_last: c.key_last.clone(),
            committed_key,
            done: c.done,
        });
    }
    Ok(plans)
}

/// The rows left to mask in the chunks.
pub(super) async fn rows_left(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    plans: &[ChunkPlan],
) -> Result<i64, RunError> {
    let mut rows = 0;
    for p in plans.iter().filter(|p| !p.done) {
        rows += table_sql::count_rows(conn, t, &left_of(p)).await?;
    }
    Ok(rows)
}

/// What is left of a chunk's range after what was committed of it.
fn left_of(p: &ChunkPlan) -> KeyRange {
    KeyRange {
        after: p.committed_key.clone().or_else(|| p.key_after.clone()),
        last: p.key_last.clone(),
    }
}

/// Records the table's chunks with the execution (closed until its turn comes), with the key
/// column its rows are read by (None: its primary key).
pub(super) async fn record(
    ctx: &RunContext<'_>,
    table_name: &str,
    key_column: Option<&str>,
    plans: &[ChunkPlan],
) -> Result<(), RunError> {
    let recorded = chunks::plan(
        &ctx.instance.pool,
        ctx.execution.execution_id,
        ctx.instance.worker_id(),
        table_name,
        key_column,
        plans,
    )
    .await?;
    if recorded {
        Ok(())
    } else {
        Err(RunError::Stopped)
    }
}

/// A split table as a chunk's worker works on it, with the connections it does so on.
enum Table<'a> {
    InPlace(&'a mut PgConnection, &'a ResolvedTable),
    /// Source and target connections.
    OnTheFly(&'a mut PgConnection, &'a mut PgConnection, &'a CopiedTable),
}

impl Table<'_> {
    fn name(&self) -> &str {
        match self {
            Table::InPlace(_, t) => &t.name,
            Table::OnTheFly(_, _, t) => &t.name,
        }
    }

    fn target(&mut self) -> &mut PgConnection {
        match self {
            Table::InPlace(conn, _) => conn,
            Table::OnTheFly(_, target, _) => target,
        }
    }
}

/// The execution's worker, once an in-place table's turn has come (its SQL objects dealt with):
/// masks it with every free worker; the rows masked.
pub(super) async fn mask_table(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    conn: &mut PgConnection,
    p: &TablePlan,
    t: &ResolvedTable,
) -> Result<i64, RunError> {
    work_through(ctx, job, p.component_id, Table::InPlace(conn, t)).await
}

/// The same for an on-the-fly table: copies it with every free worker; the rows written.
pub(super) async fn copy_table(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    source: &mut PgConnection,
    target: &mut PgConnection,
    p: &on_the_fly::TablePlan,
    t: &CopiedTable,
) -> Result<i64, RunError> {
    work_through(ctx, job, p.component_id, Table::OnTheFly(source, target, t)).await
}

/// Opens the table's chunks to every worker, works on those it can claim, then waits for the
/// chunks other workers hold; the rows done, or the first failure of any of them.
async fn work_through(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    component_id: i64,
    mut table: Table<'_>,
) -> Result<i64, RunError> {
    let pool = &ctx.instance.pool;
    let id = ctx.execution.execution_id;
    let worker = ctx.instance.worker_id();
    let name = table.name().to_owned();
    if !chunks::open(pool, id, worker, &name, SUBMITTED_CHANNEL).await? {
        return Err(RunError::Stopped);
    }
    let stale = ctx.instance.chunk_stale_after.as_secs_f64();
    loop {
        if let Some(chunk) = chunks::claim(pool, worker, stale, Some((id, &name))).await? {
            let held = ctx.hold(&chunk);
            work_on(ctx, job, &mut table, component_id, (&chunk, held), true).await?;
            continue;
        }
        let state = chunks::table_state(pool, id, &name).await?;
        if let Some(failed) = state.failed {
            let (no, why) = failed.0;
            return Err(RunError::Failed(format!(
                "chunk {no} of table '{name}' failed: {why}"
            )));
        }
        components::progress(pool, component_id, state.rows_done).await?;
        ctx.progress.lock().await.tick().await?;
        if state.done == state.chunks {
            tracing::info!(table = %name, rows = state.rows_done, chunks = state.chunks, "table done");
            return Ok(state.rows_done);
        }
        tokio::time::sleep(WAIT).await;
    }
}

/// Masks a chunk this run claimed and holds, on `conn`: settles a commit its last holder left pending, masks
/// the rest of its range and marks it done. A chunk whose last holder's transaction is still open
/// on the target is given back, to be claimed again once it has ended.
async fn work_on(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    table: &mut Table<'_>,
    component_id: i64,
    (chunk, held): (&Chunk, Held),
    own: bool,
) -> Result<(), RunError> {
    let pool = &ctx.instance.pool;
    let mut after = chunk
        .committed_key
        .clone()
        .or_else(|| chunk.key_after.clone());
    let mut rows_before = chunk.rows_committed;
    if let (Some(xid), Some(pending)) = (chunk.pending_xid, &chunk.pending_key) {
        let what = format!(
            "the last commit of a worker that lost chunk {} of table '{}'",
            chunk.chunk_no,
            table.name()
        );
        match in_place::committed_on_target(table.target(), xid, &what).await? {
            Some(committed) => {
                chunks::settle_pending(pool, chunk.chunk_id, xid, committed).await?;
                if committed {
                    after = Some(pending.clone());
                    rows_before += chunk.pending_rows.unwrap_or(0);
                }
            }
            None => {
                tracing::info!(chunk = chunk.chunk_no, table = %table.name(), xid, "the chunk's last transaction is still open on the target; giving it back");
                chunks::release(pool, &held, None).await?;
                ctx.let_go(&held);
                tokio::time::sleep(WAIT).await;
                return Ok(());
            }
        }
    }
    let range = KeyRange {
        after,
        last: chunk.key_last.clone(),
    };
    let ledger = Ledger::Chunk {
        held: held.clone(),
        rows_before,
        own,
    };
    let rows = match table {
        Table::InPlace(conn, t) => {
            in_place::mask_range(ctx, job, conn, t, component_id, range, &ledger).await?
        }
        Table::OnTheFly(source, target, t) => {
            let key = t.key.as_ref().ok_or_else(|| {
                RunError::Failed(format!(
                    "table '{}' of the source has no primary key",
                    t.name
                ))
            })?;
            let n = key.positions.len();
            let mut bind = sqlx::query(&key.bind_sql);
            for bound in [&range.after, &range.last] {
                for i in 0..n {
                    bind = bind.bind(bound.as_ref().map_or(String::new(), |k| k[i].clone()));
                }
            }
            bind.execute(&mut **source).await?;
            let sql = key.range_sql(range.after.is_some(), range.last.is_some());
            on_the_fly::copy(ctx, job, (source, target), t, component_id, sql, &ledger).await?
        }
    };
    if !chunks::finish(pool, &held).await? {
        return Err(RunError::Stopped);
    }
    ctx.let_go(&held);
    tracing::debug!(chunk = chunk.chunk_no, table = %table.name(), rows, "chunk done");
    Ok(())
}

/// A free worker helping an execution of another worker (or of its own instance): works on the
/// chunk it claimed and holds, on connections of its own.
pub(in crate::engine) async fn help(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    chunk: &Chunk,
    held: Held,
) -> Result<(), RunError> {
    let component_id = components::id_of(
        &ctx.instance.pool,
        ctx.execution.execution_id,
        &chunk.table_name,
    )
    .await?
    .ok_or_else(|| {
        RunError::Failed(format!(
            "the execution has no component '{}'",
            chunk.table_name
        ))
    })?;
    let gone = || {
        RunError::Failed(format!(
            "table '{}' is no longer in the ruleset",
            chunk.table_name
        ))
    };
    let mut target = ctx.connect_target().await?;
    if job.on_the_fly_masking {
        let plans =
            on_the_fly::tables_to_copy(ctx, job.ruleset_id, Some(&chunk.table_name)).await?;
        let p = plans.first().ok_or_else(gone)?;
        let source_schema = ctx
            .source
            .map(|s| s.schema().to_owned())
            .unwrap_or_default();
        let mut source = ctx.connect_source().await?;
        let t = copy_table::resolve(
            &mut source,
            &source_schema,
            &mut target,
            ctx.target.schema(),
            &chunk.table_name,
            p.source_read(),
            &p.rules,
        )
        .await?;
        let mut table = Table::OnTheFly(&mut source, &mut target, &t);
        work_on(ctx, job, &mut table, component_id, (chunk, held), false).await?;
        target::close(source).await;
    } else {
        let plans = in_place::masked_tables(ctx, job.ruleset_id, Some(&chunk.table_name)).await?;
        let p = plans.first().ok_or_else(gone)?;
        let t = table_sql::resolve(
            &mut target,
            ctx.target.schema(),
            &chunk.table_name,
            chunk.key_column.as_deref(),
            p.where_clause.as_deref(),
            &p.rules,
        )
        .await?;
        let mut table = Table::InPlace(&mut target, &t);
        work_on(ctx, job, &mut table, component_id, (chunk, held), false).await?;
    }
    target::close(target).await;
    Ok(())
}
