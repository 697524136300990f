//! SQL objects (triggers, foreign keys, indexes) a run disabled or dropped on its target. Each is
//! recorded, with the statement that restores it, before it is touched, so that whichever instance
//! ends the execution can restore it.
//!
//! ```text
//! record (by the execution's worker) -> RECORDED -mark_disabled (same worker)-> DISABLED
//! RECORDED | DISABLED -mark_restored (whoever ends the execution)-> RESTORED
//! ```

use sqlx::{FromRow, PgExecutor};

use crate::types::target::FoundSqlObject;

#[derive(Debug, Clone, FromRow)]
pub struct SqlObject {
    pub sql_object_id: i64,
    pub object_type: String,
    pub object_name: String,
    pub table_name: String,
    pub disable_sql: String,
    pub restore_sql: String,
    pub validate_sql: Option<String>,
}

impl SqlObject {
    /// How a user would name it: `TRIGGER audit_people ON public.people`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ON {}",
            self.object_type, self.object_name, self.table_name
        )
    }
}

const COLUMNS: &str =
    "sql_object_id, object_type, object_name, table_name, disable_sql, restore_sql, validate_sql";

/// Records an object the execution is about to disable, while the execution is RUNNING on
/// `worker_id`. None when it is not (cancelled or taken over): the object must not be touched.
pub async fn record(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    worker_id: &str,
    o: &FoundSqlObject,
) -> Result<Option<SqlObject>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO execution_sql_objects
             (execution_id, object_type, object_name, table_name, disable_sql, restore_sql, validate_sql)
         SELECT execution_id, $3, $4, $5, $6, $7, $8 FROM executions
          WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(execution_id)
        .bind(worker_id)
        .bind(&o.object_type)
        .bind(&o.object_name)
        .bind(&o.table_name)
        .bind(&o.disable_sql)
        .bind(&o.restore_sql)
        .bind(&o.validate_sql)
        .fetch_optional(db)
        .await
}

/// RECORDED -> DISABLED, while the execution is still `worker_id`'s and not ended. False when it
/// is not, or the object was restored meanwhile (by the instance that took the execution over):
/// the worker must then restore it itself, since no one else will.
pub async fn mark_disabled(
    db: impl PgExecutor<'_>,
    sql_object_id: i64,
    worker_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE execution_sql_objects o SET state = 'DISABLED'
           FROM executions e
          WHERE o.sql_object_id = $1 AND o.state = 'RECORDED'
            AND e.execution_id = o.execution_id AND e.worker_id = $2 AND e.end_time IS NULL",
    )
    .bind(sql_object_id)
    .bind(worker_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// -> RESTORED (it is back on the target).
pub async fn mark_restored(db: impl PgExecutor<'_>, sql_object_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_sql_objects SET state = 'RESTORED', restored_time = now()
          WHERE sql_object_id = $1 AND state <> 'RESTORED'",
    )
    .bind(sql_object_id)
    .execute(db)
    .await?;
    Ok(())
}

/// The objects of an execution not restored yet, newest first (the order to restore them in).
pub async fn unrestored(
    db: impl PgExecutor<'_>,
    execution_id: i64,
) -> Result<Vec<SqlObject>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM execution_sql_objects WHERE execution_id = $1 AND state <> 'RESTORED'
          ORDER BY sql_object_id DESC"
    );
    sqlx::query_as(&sql).bind(execution_id).fetch_all(db).await
}
