//! What an execution reports: one component per masked table, and events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::Resource;
use crate::types::{ExecutionStatus, schema, serde_helpers};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionComponent {
    pub execution_component_id: i64,
    pub component_name: String,
    pub execution_id: i64,
    #[schema(value_type = ExecutionStatus)]
    pub status: String,
    pub rows_masked: i64,
    pub rows_total: Option<i64>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub end_time: Option<DateTime<Utc>>,
}

impl Resource for ExecutionComponent {
    const NOUN: &'static str = "execution component";
    const TABLE: &'static str = "execution_components";
    const ID: &'static str = "execution_component_id";
    const COLUMNS: &'static str = "execution_component_id, component_name, execution_id, status, rows_masked, \
         rows_total, start_time, end_time";
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEvent {
    pub execution_event_id: i64,
    pub execution_id: i64,
    /// `JOB_ABORTED`, `EXECUTION_FAILED`, `UNMASKED_DATA`, `SQL_OBJECTS_LEFT_DISABLED`,
    /// `CONSTRAINT_NOT_VALIDATED` or `SQL_OBJECT_RESTORE_FAILED`.
    pub event_type: String,
    #[schema(schema_with = schema::severity)]
    pub severity: String,
    pub cause: Option<String>,
    pub count: Option<i64>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub time_stamp: DateTime<Utc>,
    pub execution_component_id: Option<i64>,
    pub masked_object_name: Option<String>,
    pub algorithm_name: Option<String>,
}

impl Resource for ExecutionEvent {
    const NOUN: &'static str = "execution event";
    const TABLE: &'static str = "execution_events";
    const ID: &'static str = "execution_event_id";
    const COLUMNS: &'static str = "execution_event_id, execution_id, event_type, severity, cause, count, time_stamp, \
         execution_component_id, masked_object_name, algorithm_name";
}

/// Creates a QUEUED component for a table an execution masks.
pub async fn create_component(
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

pub async fn start_component(
    db: impl PgExecutor<'_>,
    id: i64,
    rows_total: i64,
) -> Result<(), sqlx::Error> {
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

pub async fn component_progress(
    db: impl PgExecutor<'_>,
    id: i64,
    rows_masked: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE execution_components SET rows_masked = $2 WHERE execution_component_id = $1 AND status = 'RUNNING'")
        .bind(id)
        .bind(rows_masked)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every component of an execution that has not ended: RUNNING ones take `status`, QUEUED
/// ones (never started) become CANCELLED.
pub async fn end_components(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE execution_components
            SET status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED' ELSE $2 END, end_time = now()
          WHERE execution_id = $1 AND end_time IS NULL",
    )
    .bind(execution_id)
    .bind(status)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends one component.
pub async fn end_component(
    db: impl PgExecutor<'_>,
    id: i64,
    status: &str,
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

#[derive(Debug, Default)]
pub struct NewEvent<'a> {
    pub event_type: &'a str,
    pub severity: &'a str,
    pub cause: Option<&'a str>,
    pub count: Option<i64>,
    pub execution_component_id: Option<i64>,
    pub masked_object_name: Option<&'a str>,
    pub algorithm_name: Option<&'a str>,
}

pub async fn add_event(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    e: &NewEvent<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO execution_events
             (execution_id, event_type, severity, cause, count, execution_component_id, masked_object_name, algorithm_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(execution_id)
    .bind(e.event_type)
    .bind(e.severity)
    .bind(e.cause)
    .bind(e.count)
    .bind(e.execution_component_id)
    .bind(e.masked_object_name)
    .bind(e.algorithm_name)
    .execute(db)
    .await?;
    Ok(())
}
