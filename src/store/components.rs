//! Execution components: one per table (or, for later kinds of job, per file) an execution works
//! through. They end with their execution, in the statement that ends it (`executions::finish`,
//! `executions::mark_stopped`); a run ends each one it completes itself.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::Resource;
use crate::types::{ExecutionStatus, serde_helpers};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionComponent {
    pub execution_component_id: i64,
    pub component_name: String,
    pub execution_id: i64,
    pub status: ExecutionStatus,
    pub rows_masked: i64,
    pub rows_total: Option<i64>,
    /// Null: bytes are counted for files, and maskd masks databases.
    pub bytes_processed: Option<i64>,
    pub bytes_total: Option<i64>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub end_time: Option<DateTime<Utc>>,
    /// Null: maskd's logs are its own (they name the execution), not a file per component.
    pub log_file: Option<String>,
    /// Values of the component left unmasked, as its `UNMASKED_DATA` events count them (recorded
    /// when the run ends).
    pub non_conforming_data_count: i64,
}

impl Resource for ExecutionComponent {
    const NOUN: &'static str = "execution component";
    const TABLE: &'static str = "execution_components";
    const ID: &'static str = "execution_component_id";
    const COLUMNS: &'static str = "execution_component_id, component_name, execution_id, status, rows_masked, \
         rows_total, NULL::bigint AS bytes_processed, NULL::bigint AS bytes_total, start_time, end_time, \
         NULL::text AS log_file, \
         (SELECT COALESCE(sum(v.count), 0)::bigint FROM execution_events v \
           WHERE v.execution_id = execution_components.execution_id \
             AND v.execution_component_id = execution_components.execution_component_id \
             AND v.event_type = 'UNMASKED_DATA') AS non_conforming_data_count";
}

/// Creates a QUEUED component of an execution.
pub async fn create(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO execution_components (execution_id, component_name) VALUES ($1, $2)
         RETURNING execution_component_id",
    )
    .bind(execution_id)
    .bind(name)
    .fetch_one(db)
    .await
}

/// The id of the execution's component named `name`.
pub async fn id_of(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    name: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT execution_component_id FROM execution_components
          WHERE execution_id = $1 AND component_name = $2
          ORDER BY execution_component_id LIMIT 1",
    )
    .bind(execution_id)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// QUEUED -> RUNNING, with the rows it will work through.
pub async fn start(db: impl PgExecutor<'_>, id: i64, rows_total: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_components SET status = 'RUNNING', start_time = now(), rows_total = $2
          WHERE execution_component_id = $1 AND status = 'QUEUED'",
    )
    .bind(id)
    .bind(rows_total)
    .execute(db)
    .await?;
    Ok(())
}

/// Rows done so far, while it is RUNNING.
pub async fn progress(
    db: impl PgExecutor<'_>,
    id: i64,
    rows_masked: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_components SET rows_masked = $2
          WHERE execution_component_id = $1 AND status = 'RUNNING'",
    )
    .bind(id)
    .bind(rows_masked)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a component the run completed (unless its execution's end ended it first).
pub async fn end(
    db: impl PgExecutor<'_>,
    id: i64,
    status: ExecutionStatus,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_components SET status = $2, end_time = now()
          WHERE execution_component_id = $1 AND end_time IS NULL",
    )
    .bind(id)
    .bind(status)
    .execute(db)
    .await?;
    Ok(())
}
