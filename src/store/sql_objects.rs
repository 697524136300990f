//! SQL objects (triggers, foreign keys, indexes) a run disabled or dropped on its target. Each is
//! recorded, with the statement that restores it, before it is touched.

use sqlx::{FromRow, PgExecutor};

#[derive(Debug, Clone, FromRow)]
pub struct SqlObject {
    pub sql_object_id: i64,
    pub object_type: String,
    pub object_name: String,
    pub table_name: String,
    pub disable_sql: String,
    pub restore_sql: String,
    pub validate_sql: Option<String>,
    pub state: String,
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

pub struct NewSqlObject<'a> {
    pub object_type: &'a str,
    pub object_name: &'a str,
    pub table_name: &'a str,
    pub disable_sql: &'a str,
    pub restore_sql: &'a str,
    pub validate_sql: Option<&'a str>,
}

pub async fn record(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    o: &NewSqlObject<'_>,
) -> Result<SqlObject, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO execution_sql_objects
             (execution_id, object_type, object_name, table_name, disable_sql, restore_sql, validate_sql)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING sql_object_id, object_type, object_name, table_name, disable_sql, restore_sql, validate_sql, state",
    )
    .bind(execution_id)
    .bind(o.object_type)
    .bind(o.object_name)
    .bind(o.table_name)
    .bind(o.disable_sql)
    .bind(o.restore_sql)
    .bind(o.validate_sql)
    .fetch_one(db)
    .await
}

pub async fn mark_disabled(db: impl PgExecutor<'_>, sql_object_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE execution_sql_objects SET state = 'DISABLED' WHERE sql_object_id = $1 AND state = 'RECORDED'")
        .bind(sql_object_id)
        .execute(db)
        .await?;
    Ok(())
}

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
    sqlx::query_as(
        "SELECT sql_object_id, object_type, object_name, table_name, disable_sql, restore_sql, validate_sql, state
           FROM execution_sql_objects WHERE execution_id = $1 AND state <> 'RESTORED'
          ORDER BY sql_object_id DESC",
    )
    .bind(execution_id)
    .fetch_all(db)
    .await
}
