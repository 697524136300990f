//! Table and column metadata of a ruleset: what the target's catalog said, and the masking rules.

use serde::Serialize;
use sqlx::{Connection, FromRow};

use super::Resource;
use crate::db::Db;
use crate::types::target::CatalogColumn;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableMetadata {
    pub table_metadata_id: i64,
    pub table_name: String,
    pub ruleset_id: i64,
    pub key_column: Option<String>,
}

impl Resource for TableMetadata {
    const NOUN: &'static str = "table metadata";
    const TABLE: &'static str = "table_metadata";
    const ID: &'static str = "table_metadata_id";
    const COLUMNS: &'static str = "table_metadata_id, table_name, ruleset_id, key_column";
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMetadata {
    pub column_metadata_id: i64,
    pub column_name: String,
    pub table_metadata_id: i64,
    pub data_type: String,
    pub column_length: Option<i32>,
    pub is_primary_key: bool,
    pub is_index: bool,
    pub is_foreign_key: bool,
    pub algorithm_name: Option<String>,
    pub domain_name: Option<String>,
    pub is_masked: bool,
}

impl Resource for ColumnMetadata {
    const NOUN: &'static str = "column metadata";
    const TABLE: &'static str = "column_metadata";
    const ID: &'static str = "column_metadata_id";
    const COLUMNS: &'static str = "column_metadata_id, column_name, table_metadata_id, data_type, column_length, \
         is_primary_key, is_index, is_foreign_key, algorithm_name, domain_name, is_masked";
}

/// Creates a table's metadata and one column metadata per catalog column, in one transaction.
/// None when the ruleset does not exist.
pub async fn create(
    pool: &Db,
    ruleset_id: i64,
    table_name: &str,
    key_column: Option<&str>,
    columns: &[CatalogColumn],
) -> Result<Option<TableMetadata>, sqlx::Error> {
    let mut conn = pool.lend().await?;
    let mut tx = conn.begin().await?;
    let table: Option<TableMetadata> = sqlx::query_as(
        "INSERT INTO table_metadata (table_name, ruleset_id, key_column)
         SELECT $1, database_ruleset_id, $3 FROM database_rulesets WHERE database_ruleset_id = $2
         RETURNING table_metadata_id, table_name, ruleset_id, key_column",
    )
    .bind(table_name)
    .bind(ruleset_id)
    .bind(key_column)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(table) = table else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO column_metadata
             (table_metadata_id, column_name, data_type, column_length, is_primary_key, is_index, is_foreign_key)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int[], $5::bool[], $6::bool[], $7::bool[])",
    )
    .bind(table.table_metadata_id)
    .bind(columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.data_type.clone()).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.length).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_primary_key).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_index).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_foreign_key).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.finished();
    Ok(Some(table))
}

/// Changes the key column to one of the table's columns (or none); None when the table metadata
/// does not exist or has no such column.
pub async fn update_key_column(
    pool: &Db,
    id: i64,
    key_column: Option<&str>,
) -> Result<Option<TableMetadata>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE table_metadata SET key_column = $2
          WHERE table_metadata_id = $1
            AND ($2::text IS NULL OR EXISTS (
                 SELECT 1 FROM column_metadata WHERE table_metadata_id = $1 AND column_name = $2))
         RETURNING table_metadata_id, table_name, ruleset_id, key_column",
    )
    .bind(id)
    .bind(key_column)
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Default)]
pub struct ColumnChanges {
    pub algorithm_name: Option<Option<String>>,
    pub domain_name: Option<Option<String>>,
    pub is_masked: Option<bool>,
}

/// Changes a column's masking rule; None when it does not exist.
pub async fn update_column(
    pool: &Db,
    id: i64,
    c: &ColumnChanges,
) -> Result<Option<ColumnMetadata>, sqlx::Error> {
    let sql = format!(
        "UPDATE column_metadata
            SET algorithm_name = CASE WHEN $2 THEN $3 ELSE algorithm_name END,
                domain_name = CASE WHEN $4 THEN $5 ELSE domain_name END,
                is_masked = COALESCE($6, is_masked)
          WHERE column_metadata_id = $1
         RETURNING {}",
        ColumnMetadata::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(c.algorithm_name.is_some())
        .bind(c.algorithm_name.clone().flatten())
        .bind(c.domain_name.is_some())
        .bind(c.domain_name.clone().flatten())
        .bind(c.is_masked)
        .fetch_optional(pool)
        .await
}

/// A masked column of a ruleset, with its table: what a job masks.
#[derive(Debug, Clone, FromRow)]
pub struct MaskedColumn {
    pub table_metadata_id: i64,
    pub table_name: String,
    pub key_column: Option<String>,
    pub column_name: String,
    pub algorithm_name: String,
}

/// Every column of the ruleset that has an algorithm and is marked for masking, table by table.
pub async fn masked_columns(pool: &Db, ruleset_id: i64) -> Result<Vec<MaskedColumn>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.table_metadata_id, t.table_name, t.key_column, c.column_name, c.algorithm_name
           FROM table_metadata t JOIN column_metadata c USING (table_metadata_id)
          WHERE t.ruleset_id = $1 AND c.is_masked AND c.algorithm_name IS NOT NULL
          ORDER BY t.table_metadata_id, c.column_metadata_id",
    )
    .bind(ruleset_id)
    .fetch_all(pool)
    .await
}
