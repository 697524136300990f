//! What maskd knows of a target database before it connects: how to reach it, and what its catalog
//! says of a table. Shared by `store` (which reads and records them) and `masking` (which connects).

use sqlx::FromRow;

/// What it takes to connect to a connector's database (the password still encrypted).
#[derive(Debug, Clone, FromRow)]
pub struct ConnectionDetails {
    pub database_connector_id: i64,
    pub host: String,
    pub port: i32,
    pub database_name: String,
    pub schema_name: String,
    pub username: String,
    pub password_encrypted: Option<Vec<u8>>,
}

/// One column of a target table, as its catalog describes it.
#[derive(Debug, Clone, FromRow)]
pub struct CatalogColumn {
    pub name: String,
    pub data_type: String,
    pub length: Option<i32>,
    pub is_primary_key: bool,
    pub is_index: bool,
    pub is_foreign_key: bool,
    pub is_identity: bool,
}

/// A SQL object (trigger, foreign key, index) in the way of a run, found in the target's catalog,
/// with the statements that disable and restore it.
#[derive(Debug, Clone, FromRow)]
pub struct FoundSqlObject {
    /// `TRIGGER`, `CONSTRAINT` or `INDEX`.
    pub object_type: String,
    pub object_name: String,
    /// The table it is on, qualified and quoted.
    pub table_name: String,
    pub disable_sql: String,
    pub restore_sql: String,
    /// For a foreign key: restored NOT VALID, then validated with this.
    pub validate_sql: Option<String>,
}
