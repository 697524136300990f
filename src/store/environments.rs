use serde::Serialize;
use sqlx::FromRow;

use super::Resource;

use crate::db::Db;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub environment_id: i64,
    pub environment_name: String,
    pub application_id: i64,
    #[schema(schema_with = crate::types::schema::purpose)]
    pub purpose: String,
    /// Always false: maskd has no approval workflow.
    pub is_workflow_enabled: bool,
}

impl Resource for Environment {
    const NOUN: &'static str = "environment";
    const TABLE: &'static str = "environments";
    const ID: &'static str = "environment_id";
    const COLUMNS: &'static str =
        "environment_id, environment_name, application_id, purpose, false AS is_workflow_enabled";
}

/// Which application a new environment belongs to.
pub enum ApplicationRef {
    Id(i64),
    /// Created when no application has this name, as Delphix does.
    Name(String),
}

/// Creates an environment; None when the application id does not exist.
pub async fn create(
    pool: &Db,
    name: &str,
    application: &ApplicationRef,
    purpose: &str,
) -> Result<Option<Environment>, sqlx::Error> {
    match application {
        ApplicationRef::Id(id) => {
            sqlx::query_as(
                "INSERT INTO environments (environment_name, application_id, purpose)
                 SELECT $1, application_id, $3 FROM applications WHERE application_id = $2
                 RETURNING environment_id, environment_name, application_id, purpose, false AS is_workflow_enabled",
            )
            .bind(name)
            .bind(id)
            .bind(purpose)
            .fetch_optional(pool)
            .await
        }
        ApplicationRef::Name(app_name) => {
            sqlx::query_as(
                "WITH app AS (
                     INSERT INTO applications (application_name) VALUES ($2)
                     ON CONFLICT (application_name) DO UPDATE SET application_name = EXCLUDED.application_name
                     RETURNING application_id)
                 INSERT INTO environments (environment_name, application_id, purpose)
                 SELECT $1, application_id, $3 FROM app
                 RETURNING environment_id, environment_name, application_id, purpose, false AS is_workflow_enabled",
            )
            .bind(name)
            .bind(app_name)
            .bind(purpose)
            .fetch_optional(pool)
            .await
        }
    }
}

#[derive(Debug, Default)]
pub struct Changes {
    pub environment_name: Option<String>,
    pub application_id: Option<i64>,
    pub purpose: Option<String>,
}

/// Applies the given changes; None when the environment (or the new application) does not exist.
pub async fn update(pool: &Db, id: i64, c: &Changes) -> Result<Option<Environment>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE environments e
            SET environment_name = COALESCE($2, e.environment_name),
                application_id = COALESCE($3, e.application_id),
                purpose = COALESCE($4, e.purpose)
          WHERE e.environment_id = $1
            AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM applications WHERE application_id = $3))
         RETURNING environment_id, environment_name, application_id, purpose, false AS is_workflow_enabled",
    )
    .bind(id)
    .bind(&c.environment_name)
    .bind(c.application_id)
    .bind(&c.purpose)
    .fetch_optional(pool)
    .await
}
