use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::Resource;
use crate::db::Db;
use crate::types::target::ConnectionDetails;

/// A database connector as the API shows it: the password is write-only and never selected here.
/// Delphix's fields for other databases, drivers, Kerberos and vaults are null or false: maskd
/// connects to PostgreSQL with a username and password.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseConnector {
    pub database_connector_id: i64,
    pub connector_name: String,
    #[schema(schema_with = crate::types::schema::database_type)]
    pub database_type: String,
    pub environment_id: i64,
    pub custom_driver_name: Option<String>,
    pub database_name: String,
    pub host: String,
    pub instance_name: Option<String>,
    pub jdbc: Option<String>,
    pub port: i32,
    pub schema_name: String,
    pub sid: Option<String>,
    pub username: String,
    pub kerberos_auth: bool,
    pub service_principal: Option<String>,
    pub jdbc_driver_id: Option<i64>,
    pub enable_logger: bool,
    pub file_reference_id: Option<String>,
    pub password_vault_auth: bool,
    pub credential_path_id: Option<i64>,
}

impl Resource for DatabaseConnector {
    const NOUN: &'static str = "database connector";
    const TABLE: &'static str = "database_connectors";
    const ID: &'static str = "database_connector_id";
    const COLUMNS: &'static str = "database_connector_id, connector_name, database_type, environment_id, \
         NULL::text AS custom_driver_name, database_name, host, NULL::text AS instance_name, \
         NULL::text AS jdbc, port, schema_name, NULL::text AS sid, username, false AS kerberos_auth, \
         NULL::text AS service_principal, NULL::bigint AS jdbc_driver_id, false AS enable_logger, \
         NULL::text AS file_reference_id, false AS password_vault_auth, NULL::bigint AS credential_path_id";
}

pub struct NewConnector {
    pub connector_name: String,
    pub environment_id: i64,
    pub host: String,
    pub port: i32,
    pub database_name: String,
    pub schema_name: String,
    pub username: String,
    pub password_encrypted: Option<Vec<u8>>,
}

/// None when the environment does not exist.
pub async fn create(pool: &Db, c: &NewConnector) -> Result<Option<DatabaseConnector>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO database_connectors
             (connector_name, database_type, environment_id, host, port, database_name, schema_name, username, password_encrypted)
         SELECT $1, 'POSTGRES', environment_id, $3, $4, $5, $6, $7, $8 FROM environments WHERE environment_id = $2
         RETURNING {}",
        DatabaseConnector::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(&c.connector_name)
        .bind(c.environment_id)
        .bind(&c.host)
        .bind(c.port)
        .bind(&c.database_name)
        .bind(&c.schema_name)
        .bind(&c.username)
        .bind(&c.password_encrypted)
        .fetch_optional(pool)
        .await
}

#[derive(Debug, Default)]
pub struct Changes {
    pub connector_name: Option<String>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub database_name: Option<String>,
    pub schema_name: Option<String>,
    pub username: Option<String>,
    /// Some(None) removes the password.
    pub password_encrypted: Option<Option<Vec<u8>>>,
}

pub async fn update(
    pool: &Db,
    id: i64,
    c: &Changes,
) -> Result<Option<DatabaseConnector>, sqlx::Error> {
    let sql = format!(
        "UPDATE database_connectors
            SET connector_name = COALESCE($2, connector_name),
                host = COALESCE($3, host),
                port = COALESCE($4, port),
                database_name = COALESCE($5, database_name),
                schema_name = COALESCE($6, schema_name),
                username = COALESCE($7, username),
                password_encrypted = CASE WHEN $8 THEN $9 ELSE password_encrypted END
          WHERE database_connector_id = $1
         RETURNING {}",
        DatabaseConnector::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(&c.connector_name)
        .bind(&c.host)
        .bind(c.port)
        .bind(&c.database_name)
        .bind(&c.schema_name)
        .bind(&c.username)
        .bind(c.password_encrypted.is_some())
        .bind(c.password_encrypted.clone().flatten())
        .fetch_optional(pool)
        .await
}

pub async fn connection_details(
    pool: &Db,
    id: i64,
) -> Result<Option<ConnectionDetails>, sqlx::Error> {
    sqlx::query_as(
        "SELECT database_connector_id, host, port, database_name, schema_name, username, password_encrypted
           FROM database_connectors WHERE database_connector_id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The connection details of the connector behind a ruleset.
pub async fn connection_details_of_ruleset(
    pool: &Db,
    ruleset_id: i64,
) -> Result<Option<ConnectionDetails>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.database_connector_id, c.host, c.port, c.database_name, c.schema_name, c.username, c.password_encrypted
           FROM database_rulesets r JOIN database_connectors c USING (database_connector_id)
          WHERE r.database_ruleset_id = $1",
    )
    .bind(ruleset_id)
    .fetch_optional(pool)
    .await
}

/// Every connector's id and stored password (None when it has none), for re-encrypting them all.
pub async fn stored_passwords(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(i64, Option<Vec<u8>>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT database_connector_id, password_encrypted FROM database_connectors
          ORDER BY database_connector_id",
    )
    .fetch_all(db)
    .await
}

/// One connector's stored password: None when the connector no longer exists, Some(None) when it
/// has no password.
pub async fn stored_password(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<Option<Vec<u8>>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT password_encrypted FROM database_connectors WHERE database_connector_id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Replaces a connector's stored password only while it is still `current`, so a password set
/// meanwhile is never overwritten. Whether it was replaced.
pub async fn replace_password(
    db: impl PgExecutor<'_>,
    id: i64,
    current: &[u8],
    replacement: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE database_connectors SET password_encrypted = $3
          WHERE database_connector_id = $1 AND password_encrypted = $2",
    )
    .bind(id)
    .bind(current)
    .bind(replacement)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
