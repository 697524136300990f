use serde::Serialize;
use sqlx::FromRow;

use super::Resource;

use crate::db::Db;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub application_id: i64,
    pub application_name: String,
}

impl Resource for Application {
    const NOUN: &'static str = "application";
    const TABLE: &'static str = "applications";
    const ID: &'static str = "application_id";
    const COLUMNS: &'static str = "application_id, application_name";
}

/// Creates an application; None when the name is taken.
pub async fn create(pool: &Db, name: &str) -> Result<Option<Application>, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO applications (application_name) VALUES ($1)
         ON CONFLICT (application_name) DO NOTHING
         RETURNING application_id, application_name",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
}
