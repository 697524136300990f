//! What an in-place run has committed on its target, table by table: the key of the last row of
//! its last commit, and the commit under way (pending, with the target transaction's id). See
//! migration V14 and ARCHITECTURE.md ("Re-runs").

use sqlx::FromRow;

use crate::db::Db;
use crate::types::ExecutionStatus;

/// One table's record.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct TableCommits {
    pub table_name: String,
    pub committed_key: Option<Vec<String>>,
    pub pending_key: Option<Vec<String>>,
    pub pending_xid: Option<i64>,
}

/// Records a commit about to happen on the target: its last key, its transaction and its rows. Fenced: false
/// (nothing recorded) when the execution is no longer RUNNING on this worker, and then the target
/// transaction must not commit.
pub async fn record_pending(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
    table_name: &str,
    key: &[String],
    xid: i64,
    rows: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO execution_table_commits
                (execution_id, table_name, pending_key, pending_xid, pending_rows)
         SELECT $1, $3, $4, $5, $6 FROM executions
          WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'
         ON CONFLICT (execution_id, table_name)
         DO UPDATE SET pending_key = EXCLUDED.pending_key, pending_xid = EXCLUDED.pending_xid,
                       pending_rows = EXCLUDED.pending_rows",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(table_name)
    .bind(key)
    .bind(xid)
    .bind(rows)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending commit of transaction `xid` happened (or, `committed` false, did not): it becomes
/// the table's committed key, or is forgotten. Not fenced on the worker: it records what the
/// target did, whoever learns it.
pub async fn settle_pending(
    pool: &Db,
    execution_id: i64,
    table_name: &str,
    xid: i64,
    committed: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_table_commits
            SET committed_key = CASE WHEN $4 THEN pending_key ELSE committed_key END,
                rows_committed = rows_committed + CASE WHEN $4 THEN coalesce(pending_rows, 0) ELSE 0 END,
                pending_key = NULL, pending_xid = NULL, pending_rows = NULL
          WHERE execution_id = $1 AND table_name = $2 AND pending_xid = $3",
    )
    .bind(execution_id)
    .bind(table_name)
    .bind(xid)
    .bind(committed)
    .execute(pool)
    .await?;
    Ok(())
}

/// Starts this execution's record of a table: after `key`, where an earlier execution's commits
/// ended, or from the first row. Fenced like `record_pending`.
pub async fn start(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
    table_name: &str,
    key: Option<&[String]>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO execution_table_commits (execution_id, table_name, committed_key)
         SELECT $1, $3, $4 FROM executions
          WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'
         ON CONFLICT (execution_id, table_name) DO NOTHING",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(table_name)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every table record of an execution.
pub async fn of_execution(pool: &Db, execution_id: i64) -> Result<Vec<TableCommits>, sqlx::Error> {
    sqlx::query_as(
        "SELECT table_name, committed_key, pending_key, pending_xid FROM execution_table_commits
          WHERE execution_id = $1 ORDER BY table_name",
    )
    .bind(execution_id)
    .fetch_all(pool)
    .await
}

/// The job's execution that ended last before `execution_id` on the same target connector (a
/// multi-tenant job's executions each name theirs) among those that recorded their plan (the
/// others changed no row), with its status.
pub async fn previous(
    pool: &Db,
    job_id: i64,
    execution_id: i64,
    target_connector_id: Option<i64>,
) -> Result<Option<(i64, ExecutionStatus)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT execution_id, status FROM executions
          WHERE job_id = $1 AND execution_id < $2 AND end_time IS NOT NULL AND plan_recorded
            AND target_connector_id IS NOT DISTINCT FROM $3
          ORDER BY execution_id DESC LIMIT 1",
    )
    .bind(job_id)
    .bind(execution_id)
    .bind(target_connector_id)
    .fetch_optional(pool)
    .await
}

/// Records that the execution, RUNNING on `worker_id`, has recorded where it starts on every table
/// (`previous` looks only at executions that have). False when it is no longer this worker's.
pub async fn plan_recorded(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE executions SET plan_recorded = true
          WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'",
    )
    .bind(execution_id)
    .bind(worker_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The execution's commits left pending: (table, target transaction).
pub async fn pending(pool: &Db, execution_id: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT table_name, pending_xid FROM execution_table_commits
          WHERE execution_id = $1 AND pending_xid IS NOT NULL",
    )
    .bind(execution_id)
    .fetch_all(pool)
    .await
}
