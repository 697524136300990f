//! Chunks: key ranges of a big table that any free worker of any instance masks (migration V15,
//! ARCHITECTURE.md "Chunks"). Every change is one guarded statement:
//!
//! ```text
//!   plan (closed) ──open──▶ open, free ──claim by W──▶ held by W (claims + 1) ──finish──▶ done
//!                              ▲   ▲                     │  │
//!                              │   └──────release────────┘  │ W's heartbeat lapses: claim by V
//!                              └── (error set: never claimed again; the execution fails with it)
//! ```
//!
//! A holder's writes (`progress`, `record_pending`, `finish`, `release`) are fenced on the claim
//! (worker and claim count) and, but for `release`, on the execution being RUNNING: a worker that
//! lost its chunk, or whose execution was cancelled, records nothing and must stop.

use sqlx::FromRow;
use sqlx::types::Json;

use crate::db::Db;

/// One chunk to record for a table when its execution plans it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChunkPlan {
    pub key_after: Option<Vec<String>>,
    pub key_last: Option<Vec<String>>,
    /// Where an earlier execution's commits in this range ended (a resumed run goes on after it).
    pub committed_key: Option<Vec<String>>,
    /// An earlier execution committed all of it.
    pub done: bool,
}

/// A chunk as recorded.
#[derive(Debug, Clone, FromRow)]
pub struct Chunk {
    pub chunk_id: i64,
    pub execution_id: i64,
    pub table_name: String,
    pub chunk_no: i32,
    pub key_column: Option<String>,
    pub key_after: Option<Vec<String>>,
    pub key_last: Option<Vec<String>>,
    pub done: bool,
    pub worker_id: Option<String>,
    pub claims: i32,
    pub committed_key: Option<Vec<String>>,
    pub pending_key: Option<Vec<String>>,
    pub pending_xid: Option<i64>,
    pub pending_rows: Option<i64>,
    pub rows_committed: i64,
}

const COLUMNS: &str = "chunk_id, execution_id, table_name, chunk_no, key_column, key_after, key_last, done, \
     worker_id, claims, committed_key, pending_key, pending_xid, pending_rows, rows_committed";

/// A claim on a chunk, which fences what its holder records.
#[derive(Debug, Clone)]
pub struct Held {
    pub chunk_id: i64,
    pub worker_id: String,
    pub claims: i32,
}

impl Chunk {
    pub fn held_by(&self, worker_id: &str) -> Held {
        Held {
            chunk_id: self.chunk_id,
            worker_id: worker_id.to_owned(),
            claims: self.claims,
        }
    }
}

/// Records a table's chunks, closed, for an execution `worker_id` runs. False (nothing recorded)
/// when the execution is no longer RUNNING on it.
pub async fn plan(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
    table_name: &str,
    key_column: Option<&str>,
    chunks: &[ChunkPlan],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO execution_chunks
             (execution_id, table_name, chunk_no, key_column, key_after, key_last, committed_key, done)
         SELECT $1, $3, c.n::int, $4,
                CASE WHEN c.p->'key_after' = 'null' THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(c.p->'key_after')) END,
                CASE WHEN c.p->'key_last' = 'null' THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(c.p->'key_last')) END,
                CASE WHEN c.p->'committed_key' = 'null' THEN NULL
                     ELSE ARRAY(SELECT jsonb_array_elements_text(c.p->'committed_key')) END,
                (c.p->>'done')::boolean
           FROM executions e, jsonb_array_elements($5) WITH ORDINALITY AS c(p, n)
          WHERE e.execution_id = $1 AND e.worker_id = $2 AND e.status = 'RUNNING'",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(table_name)
    .bind(key_column)
    .bind(Json(chunks))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0 || chunks.is_empty())
}

/// Opens a table's chunks to every worker and wakes the free ones (`channel`). Fenced like `plan`.
pub async fn open(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
    table_name: &str,
    channel: &str,
) -> Result<bool, sqlx::Error> {
    let opened: bool = sqlx::query_scalar(
        "WITH opened AS (
             UPDATE execution_chunks c SET open = true
               FROM executions e
              WHERE c.execution_id = $1 AND c.table_name = $3
                AND e.execution_id = c.execution_id AND e.worker_id = $2 AND e.status = 'RUNNING'
             RETURNING 1
         ), woken AS (SELECT pg_notify($4, $1::text) AS n FROM opened LIMIT 1)
         SELECT EXISTS (SELECT 1 FROM opened), (SELECT count(*) FROM woken)",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(table_name)
    .bind(channel)
    .fetch_one(pool)
    .await?;
    Ok(opened)
}

/// Claims for `worker_id` the first open chunk, not done, not failed, of a RUNNING execution, that
/// is free or whose holder stopped heartbeating `stale_secs` ago; only of `only` (execution, table)
/// when given. Its in-progress rows of a lapsed holder are forgotten (they were not committed).
pub async fn claim(
    pool: &Db,
    worker_id: &str,
    stale_secs: f64,
    only: Option<(i64, &str)>,
) -> Result<Option<Chunk>, sqlx::Error> {
    let claimable = "c.open AND NOT c.done AND c.error IS NULL
         AND (c.worker_id IS NULL OR c.heartbeat_time < now() - make_interval(secs => $2))";
    let sql = format!(
        "UPDATE execution_chunks c
            SET worker_id = $1, heartbeat_time = now(), claims = c.claims + 1,
                rows_done = c.rows_committed
          WHERE c.chunk_id = (
                SELECT c.chunk_id FROM execution_chunks c JOIN executions e USING (execution_id)
                 WHERE {claimable} AND e.status = 'RUNNING'
                   AND ($3::bigint IS NULL OR (c.execution_id = $3 AND c.table_name = $4))
                 ORDER BY c.execution_id, c.chunk_id LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
            AND {claimable}
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(worker_id)
        .bind(stale_secs)
        .bind(only.map(|(e, _)| e))
        .bind(only.map(|(_, t)| t.to_owned()))
        .fetch_optional(pool)
        .await
}

/// The guard of a holder's writes: its claim, and (`running`) its execution still RUNNING.
const HELD: &str = "c.chunk_id = $1 AND c.worker_id = $2 AND c.claims = $3 AND c.error IS NULL";
const RUNNING: &str = "EXISTS (SELECT 1 FROM executions e WHERE e.execution_id = c.execution_id AND e.status = 'RUNNING')";

/// Records the rows of the chunk this execution has masked so far (committed or not), and that its
/// holder is alive. False: the holder must stop.
pub async fn progress(pool: &Db, held: &Held, rows_done: i64) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE execution_chunks c SET rows_done = $4, heartbeat_time = now()
          WHERE {HELD} AND {RUNNING}"
    );
    let done = sqlx::query(&sql)
        .bind(held.chunk_id)
        .bind(&held.worker_id)
        .bind(held.claims)
        .bind(rows_done)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a commit about to happen on the target: the key of its last row, its transaction and
/// its rows. False: the holder must stop, and the transaction must not commit.
pub async fn record_pending(
    pool: &Db,
    held: &Held,
    key: &[String],
    xid: i64,
    rows: i64,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE execution_chunks c
            SET pending_key = $4, pending_xid = $5, pending_rows = $6, heartbeat_time = now()
          WHERE {HELD} AND {RUNNING}"
    );
    let done = sqlx::query(&sql)
        .bind(held.chunk_id)
        .bind(&held.worker_id)
        .bind(held.claims)
        .bind(key)
        .bind(xid)
        .bind(rows)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending commit of transaction `xid` happened (or, `committed` false, did not). Not fenced:
/// it records what the target did, whoever learns it.
pub async fn settle_pending(
    pool: &Db,
    chunk_id: i64,
    xid: i64,
    committed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_chunks
            SET committed_key = CASE WHEN $3 THEN pending_key ELSE committed_key END,
                rows_committed = rows_committed + CASE WHEN $3 THEN pending_rows ELSE 0 END,
                pending_key = NULL, pending_xid = NULL, pending_rows = NULL
          WHERE chunk_id = $1 AND pending_xid = $2",
    )
    .bind(chunk_id)
    .bind(xid)
    .bind(committed)
    .execute(pool)
    .await?;
    Ok(())
}

/// The chunk is masked and committed: done (its `worker_id` says who finished it). False: the
/// holder had lost it.
pub async fn finish(pool: &Db, held: &Held) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "UPDATE execution_chunks c SET done = true, rows_done = rows_committed
          WHERE {HELD} AND {RUNNING} AND c.pending_xid IS NULL"
    );
    let done = sqlx::query(&sql)
        .bind(held.chunk_id)
        .bind(&held.worker_id)
        .bind(held.claims)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the chunk back, its uncommitted rows forgotten; with `error`, for good: the execution
/// fails with it.
pub async fn release(pool: &Db, held: &Held, error: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_chunks c
            SET worker_id = NULL, rows_done = rows_committed, error = coalesce(error, $4)
          WHERE c.chunk_id = $1 AND c.worker_id = $2 AND c.claims = $3",
    )
    .bind(held.chunk_id)
    .bind(&held.worker_id)
    .bind(held.claims)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// The execution ends without its chunks: none of them is claimed again, and their holders'
/// writes are refused from now on (`why` is recorded as their error), so that they stop.
pub async fn stop_all(pool: &Db, execution_id: i64, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_chunks SET error = $2
          WHERE execution_id = $1 AND NOT done AND error IS NULL",
    )
    .bind(execution_id)
    .bind(why)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks the chunks of `chunk_ids` that `worker_id` holds as alive; returns those whose execution
/// is no longer RUNNING (their holders must stop).
pub async fn heartbeat(
    pool: &Db,
    worker_id: &str,
    chunk_ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE execution_chunks c SET heartbeat_time = now()
           FROM executions e
          WHERE c.chunk_id = ANY($2) AND c.worker_id = $1 AND e.execution_id = c.execution_id
         RETURNING CASE WHEN e.status <> 'RUNNING' THEN c.chunk_id END",
    )
    .bind(worker_id)
    .bind(chunk_ids)
    .fetch_all(pool)
    .await
    .map(|ids: Vec<Option<i64>>| ids.into_iter().flatten().collect())
}

/// Where a table's chunks stand in an execution.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TableState {
    pub chunks: i64,
    pub done: i64,
    pub rows_done: i64,
    /// The first failure of a worker holding one of them: (chunk number, why).
    pub failed: Option<Json<(i32, String)>>,
}

pub async fn table_state(
    pool: &Db,
    execution_id: i64,
    table_name: &str,
) -> Result<TableState, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) AS chunks, count(*) FILTER (WHERE done) AS done,
                coalesce(sum(rows_done), 0)::bigint AS rows_done,
                (SELECT jsonb_build_array(chunk_no, error) FROM execution_chunks
                  WHERE execution_id = $1 AND table_name = $2 AND error IS NOT NULL
                  ORDER BY chunk_no LIMIT 1) AS failed
           FROM execution_chunks WHERE execution_id = $1 AND table_name = $2",
    )
    .bind(execution_id)
    .bind(table_name)
    .fetch_one(pool)
    .await
}

/// Chunks of the execution held by a worker that heartbeat within `stale_secs`: while there are
/// any, the execution's SQL objects are not restored under them.
pub async fn held_by_live_workers(
    pool: &Db,
    execution_id: i64,
    stale_secs: f64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM execution_chunks
          WHERE execution_id = $1 AND worker_id IS NOT NULL AND NOT done
            AND heartbeat_time >= now() - make_interval(secs => $2)",
    )
    .bind(execution_id)
    .bind(stale_secs)
    .fetch_one(pool)
    .await
}

/// Every chunk of an execution, by table and number.
pub async fn of_execution(pool: &Db, execution_id: i64) -> Result<Vec<Chunk>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM execution_chunks WHERE execution_id = $1 ORDER BY table_name, chunk_no"
    );
    sqlx::query_as(&sql)
        .bind(execution_id)
        .fetch_all(pool)
        .await
}

/// The execution's chunk commits left pending: (chunk, target transaction).
pub async fn pending(pool: &Db, execution_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT chunk_id, pending_xid FROM execution_chunks
          WHERE execution_id = $1 AND pending_xid IS NOT NULL",
    )
    .bind(execution_id)
    .fetch_all(pool)
    .await
}
