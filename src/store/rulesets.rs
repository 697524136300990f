use serde::Serialize;
use sqlx::FromRow;

use super::{Filter, Resource};

use crate::db::Db;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseRuleset {
    pub database_ruleset_id: i64,
    pub ruleset_name: String,
    pub database_connector_id: i64,
    /// Always false: a ruleset refresh (which could drop vanished tables) does not exist yet.
    pub refresh_drops_tables: bool,
}

impl Resource for DatabaseRuleset {
    const NOUN: &'static str = "database ruleset";
    const TABLE: &'static str = "database_rulesets";
    const ID: &'static str = "database_ruleset_id";
    const COLUMNS: &'static str =
        "database_ruleset_id, ruleset_name, database_connector_id, false AS refresh_drops_tables";
}

/// Filters rulesets by environment, as Delphix does (`?environment_id=`).
pub fn in_environment(environment_id: i64) -> Filter {
    Filter::IntIn(
        "database_connector_id",
        "SELECT database_connector_id FROM database_connectors WHERE environment_id = ",
        environment_id,
    )
}

/// None when the connector does not exist.
pub async fn create(
    pool: &Db,
    name: &str,
    connector_id: i64,
) -> Result<Option<DatabaseRuleset>, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO database_rulesets (ruleset_name, database_connector_id)
         SELECT $1, database_connector_id FROM database_connectors WHERE database_connector_id = $2
         RETURNING database_ruleset_id, ruleset_name, database_connector_id, false AS refresh_drops_tables",
    )
    .bind(name)
    .bind(connector_id)
    .fetch_optional(pool)
    .await
}

/// None when the ruleset (or the new connector) does not exist.
pub async fn update(
    pool: &Db,
    id: i64,
    name: Option<&str>,
    connector_id: Option<i64>,
) -> Result<Option<DatabaseRuleset>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE database_rulesets
            SET ruleset_name = COALESCE($2, ruleset_name),
                database_connector_id = COALESCE($3, database_connector_id)
          WHERE database_ruleset_id = $1
            AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM database_connectors WHERE database_connector_id = $3))
         RETURNING database_ruleset_id, ruleset_name, database_connector_id, false AS refresh_drops_tables",
    )
    .bind(id)
    .bind(name)
    .bind(connector_id)
    .fetch_optional(pool)
    .await
}
