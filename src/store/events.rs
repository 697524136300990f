//! Execution events: what happened during a run that a user must know of.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::Resource;
use crate::types::{EventType, Severity, schema, serde_helpers};

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEvent {
    pub execution_event_id: i64,
    pub execution_id: i64,
    /// `JOB_ABORTED`, `EXECUTION_FAILED`, `UNMASKED_DATA`, `SQL_OBJECTS_LEFT_DISABLED`,
    /// `CONSTRAINT_NOT_VALIDATED` or `SQL_OBJECT_RESTORE_FAILED`. (Read as text: Delphix's field
    /// is an open set of names.)
    pub event_type: String,
    #[schema(schema_with = schema::severity)]
    pub severity: Severity,
    pub cause: Option<String>,
    pub count: Option<i64>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub time_stamp: DateTime<Utc>,
    pub execution_component_id: Option<i64>,
    /// The column, for a value event.
    pub masked_object_name: Option<String>,
    /// The table of the column.
    pub masked_object_parent_name: Option<String>,
    pub algorithm_name: Option<String>,
    /// Null: maskd's causes say what failed in words.
    pub exception_type: Option<String>,
    pub exception_detail: Option<String>,
}

impl Resource for ExecutionEvent {
    const NOUN: &'static str = "execution event";
    const TABLE: &'static str = "execution_events";
    const ID: &'static str = "execution_event_id";
    const COLUMNS: &'static str = "execution_event_id, execution_id, event_type, severity, cause, count, time_stamp, \
         execution_component_id, masked_object_name, masked_object_parent_name, algorithm_name, \
         NULL::text AS exception_type, NULL::text AS exception_detail";
}

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: EventType,
    pub severity: Severity,
    pub cause: String,
    pub count: Option<i64>,
    pub execution_component_id: Option<i64>,
    pub masked_object_name: Option<String>,
    pub masked_object_parent_name: Option<String>,
    pub algorithm_name: Option<String>,
}

pub async fn add(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    e: &NewEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO execution_events
             (execution_id, event_type, severity, cause, count, execution_component_id,
              masked_object_name, masked_object_parent_name, algorithm_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(execution_id)
    .bind(e.event_type)
    .bind(e.severity)
    .bind(&e.cause)
    .bind(e.count)
    .bind(e.execution_component_id)
    .bind(&e.masked_object_name)
    .bind(&e.masked_object_parent_name)
    .bind(&e.algorithm_name)
    .execute(db)
    .await?;
    Ok(())
}
