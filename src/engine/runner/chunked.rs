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
use super::{RunContext, RunError};
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
    let mut after = range.after.clone();
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
    Ok(plans)
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

/// Records the table's chunks with the execution (closed until its turn comes).
pub(super) async fn record(
    ctx: &RunContext<'_>,
    p: &TablePlan,
    plans: &[ChunkPlan],
) -> Result<(), RunError> {
    let recorded = chunks::plan(
        &ctx.instance.pool,
        ctx.execution.execution_id,
        ctx.instance.worker_id(),
        &p.table_name,
        p.key_column.as_deref(),
        plans,
    )
    .await?;
    if recorded {
        Ok(())
    } else {
        Err(RunError::Stopped)
    }
}

/// The execution's worker, once the table's turn has come (its SQL objects dealt with): opens its
/// chunks to every worker, masks those it can claim on `conn`, then waits for the chunks other
/// workers hold; the rows masked, or the first failure of any of them.
pub(super) async fn mask_table(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    conn: &mut PgConnection,
    p: &TablePlan,
    t: &ResolvedTable,
) -> Result<i64, RunError> {
    let pool = &ctx.instance.pool;
    let id = ctx.execution.execution_id;
    let worker = ctx.instance.worker_id();
    if !chunks::open(pool, id, worker, &t.name, SUBMITTED_CHANNEL).await? {
        return Err(RunError::Stopped);
    }
    let stale = ctx.instance.chunk_stale_after.as_secs_f64();
    loop {
        if let Some(chunk) = chunks::claim(pool, worker, stale, Some((id, &t.name))).await? {
            let held = ctx.hold(&chunk);
            mask_chunk(ctx, job, conn, t, p.component_id, (&chunk, held), true).await?;
            continue;
        }
        let state = chunks::table_state(pool, id, &t.name).await?;
        if let Some(failed) = state.failed {
            let (no, why) = failed.0;
            return Err(RunError::Failed(format!(
                "chunk {no} of table '{}' failed: {why}",
                t.name
            )));
        }
        components::progress(pool, p.component_id, state.rows_done).await?;
        ctx.progress.lock().await.tick().await?;
        if state.done == state.chunks {
            tracing::info!(table = %t.name, rows = state.rows_done, chunks = state.chunks, "table masked");
            return Ok(state.rows_done);
        }
        tokio::time::sleep(WAIT).await;
    }
}

/// Masks a chunk this run claimed and holds, on `conn`: settles a commit its last holder left pending, masks
/// the rest of its range and marks it done. A chunk whose last holder's transaction is still open
/// on the target is given back, to be claimed again once it has ended.
async fn mask_chunk(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    conn: &mut PgConnection,
    t: &ResolvedTable,
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
            chunk.chunk_no, t.name
        );
        match in_place::committed_on_target(conn, xid, &what).await? {
            Some(committed) => {
                chunks::settle_pending(pool, chunk.chunk_id, xid, committed).await?;
                if committed {
                    after = Some(pending.clone());
                    rows_before += chunk.pending_rows.unwrap_or(0);
                }
            }
            None => {
                tracing::info!(chunk = chunk.chunk_no, table = %t.name, xid, "the chunk's last transaction is still open on the target; giving it back");
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
    let rows = in_place::mask_range(ctx, job, conn, t, component_id, range, &ledger).await?;
    if !chunks::finish(pool, &held).await? {
        return Err(RunError::Stopped);
    }
    ctx.let_go(&held);
    tracing::debug!(chunk = chunk.chunk_no, table = %t.name, rows, "chunk masked");
    Ok(())
}

/// A free worker helping an execution of another worker (or of its own instance): masks the chunk
/// it claimed and holds, on a target connection of its own.
pub(in crate::engine) async fn help(
    ctx: &RunContext<'_>,
    job: &MaskingJob,
    chunk: &Chunk,
    held: Held,
) -> Result<(), RunError> {
    let plans = in_place::masked_tables(ctx, job.ruleset_id, Some(&chunk.table_name)).await?;
    let Some(p) = plans.first() else {
        return Err(RunError::Failed(format!(
            "table '{}' has no masked column left in the ruleset",
            chunk.table_name
        )));
    };
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
    let mut conn = ctx.connect_target().await?;
    let t = table_sql::resolve(
        &mut conn,
        ctx.target.schema(),
        &chunk.table_name,
        chunk.key_column.as_deref(),
        p.where_clause.as_deref(),
        &p.rules,
    )
    .await?;
    mask_chunk(ctx, job, &mut conn, &t, component_id, (chunk, held), false).await?;
    target::close(conn).await;
    Ok(())
}
