//! What an execution reports: one component per masked table, and events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::Resource;
use crate::domain::serde_helpers;

#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionComponent {
    pub execution_component_id: i64,
    pub component_name: String,
    pub execution_id: i64,
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

#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionEvent {
    pub execution_event_id: i64,
    pub execution_id: i64,
    pub event_type: String,
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
