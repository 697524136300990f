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
    /// What an on-the-fly job reads from the source in place of the table: SQL for the source,
    /// read as `SELECT <the target's columns> FROM (<customSql>) AS s`. Refused in place.
    pub custom_sql: Option<String>,
    /// Only the rows matching it are masked: SQL for the target, inside `WHERE (...)`.
    pub where_clause: Option<String>,
    /// Always null (refused: maskd reads rows, not groups).
    pub having_clause: Option<String>,
    pub key_column: Option<String>,
    /// Whether a column of the table is masked.
    pub is_masked: bool,
}

impl Resource for TableMetadata {
    const NOUN: &'static str = "table metadata";
    const TABLE: &'static str = "table_metadata";
    const ID: &'static str = "table_metadata_id";
    const COLUMNS: &'static str = TABLE_COLUMNS;
}

const TABLE_COLUMNS: &str = "table_metadata_id, table_name, ruleset_id, custom_sql, \
     where_clause, NULL::text AS having_clause, key_column, \
     EXISTS (SELECT 1 FROM column_metadata m \
              WHERE m.table_metadata_id = table_metadata.table_metadata_id AND m.is_masked) AS is_masked";

/// Filters tables by whether a column of theirs is masked.
pub fn table_is_masked(masked: bool) -> super::Filter {
    super::Filter::Exists(
        "SELECT 1 FROM column_metadata m \
          WHERE m.table_metadata_id = table_metadata.table_metadata_id AND m.is_masked",
        masked,
    )
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMetadata {
    pub column_metadata_id: i64,
    pub column_name: String,
    pub table_metadata_id: i64,
    pub algorithm_name: Option<String>,
    /// Always null: maskd's algorithms mask one column each.
    pub algorithm_field_id: Option<i64>,
    /// Always null: maskd's algorithms mask one column each.
    pub algorithm_group_no: Option<i32>,
    pub domain_name: Option<String>,
    pub data_type: String,
    /// Always null: dates are read in PostgreSQL's own form (refused otherwise).
    pub date_format: Option<String>,
    pub column_length: Option<i32>,
    pub is_masked: bool,
    /// Whether a profile job may change the column's domain and algorithm.
    pub is_profiler_writable: bool,
    pub is_primary_key: bool,
    pub is_identity: bool,
    pub is_index: bool,
    pub is_foreign_key: bool,
    /// Always null: database columns only.
    pub document_store_type: Option<String>,
    /// Always null: database columns only.
    pub file_format_id: Option<i64>,
    pub notes: Option<String>,
    /// Always null: set by profiling, which is to come.
    pub domain_assigned_by: Option<String>,
}

impl Resource for ColumnMetadata {
    const NOUN: &'static str = "column metadata";
    const TABLE: &'static str = "column_metadata";
    const ID: &'static str = "column_metadata_id";
    const COLUMNS: &'static str = "column_metadata_id, column_name, table_metadata_id, algorithm_name, \
         NULL::bigint AS algorithm_field_id, NULL::int AS algorithm_group_no, domain_name, data_type, \
         NULL::text AS date_format, column_length, is_masked, is_profiler_writable, is_primary_key, is_identity, \
         is_index, is_foreign_key, NULL::text AS document_store_type, NULL::bigint AS file_format_id, notes, \
         NULL::text AS domain_assigned_by";
}

/// Creates a table's metadata and one column metadata per catalog column, in one transaction.
/// None when the ruleset does not exist.
pub async fn create(
    pool: &Db,
    ruleset_id: i64,
    table_name: &str,
    key_column: Option<&str>,
    where_clause: Option<&str>,
    custom_sql: Option<&str>,
    columns: &[CatalogColumn],
) -> Result<Option<TableMetadata>, sqlx::Error> {
    let mut conn = pool.lend().await?;
    let mut tx = conn.begin().await?;
    let table: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO table_metadata (table_name, ruleset_id, key_column, where_clause, custom_sql)
         SELECT $1, database_ruleset_id, $3, $4, $5 FROM database_rulesets WHERE database_ruleset_id = $2
         RETURNING table_metadata_id",
    )
    .bind(table_name)
    .bind(ruleset_id)
    .bind(key_column)
    .bind(where_clause)
    .bind(custom_sql)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((table_metadata_id,)) = table else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO column_metadata
             (table_metadata_id, column_name, data_type, column_length, is_primary_key, is_index,
              is_foreign_key, is_identity)
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::int[], $5::bool[], $6::bool[], $7::bool[],
                                  $8::bool[])",
    )
    .bind(table_metadata_id)
    .bind(columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.data_type.clone()).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.length).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_primary_key).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_index).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_foreign_key).collect::<Vec<_>>())
    .bind(columns.iter().map(|c| c.is_identity).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    let table = sqlx::query_as(&format!(
        "SELECT {TABLE_COLUMNS} FROM table_metadata WHERE table_metadata_id = $1"
    ))
    .bind(table_metadata_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    conn.finished();
    Ok(Some(table))
}

/// What a PUT may change of a table metadata; None keeps it, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct TableChanges {
    pub key_column: Option<Option<String>>,
    pub where_clause: Option<Option<String>>,
    pub custom_sql: Option<Option<String>>,
}

/// Changes the key column (to one of the table's columns, or none), the where clause and the
/// custom SQL; None when
/// the table metadata does not exist or has no such column.
pub async fn update_table(
    pool: &Db,
    id: i64,
    c: &TableChanges,
) -> Result<Option<TableMetadata>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE table_metadata
            SET key_column = CASE WHEN $2 THEN $3 ELSE key_column END,
                where_clause = CASE WHEN $4 THEN $5 ELSE where_clause END,
                custom_sql = CASE WHEN $6 THEN $7 ELSE custom_sql END
          WHERE table_metadata_id = $1
            AND ($3::text IS NULL OR EXISTS (
                 SELECT 1 FROM column_metadata WHERE table_metadata_id = $1 AND column_name = $3))
         RETURNING {TABLE_COLUMNS}"
    ))
    .bind(id)
    .bind(c.key_column.is_some())
    .bind(c.key_column.clone().flatten())
    .bind(c.where_clause.is_some())
    .bind(c.where_clause.clone().flatten())
    .bind(c.custom_sql.is_some())
    .bind(c.custom_sql.clone().flatten())
    .fetch_optional(pool)
    .await
}

#[derive(Debug, Default)]
pub struct ColumnChanges {
    pub algorithm_name: Option<Option<String>>,
    pub domain_name: Option<Option<String>>,
    pub is_masked: Option<bool>,
    pub is_profiler_writable: Option<bool>,
    pub notes: Option<Option<String>>,
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
                is_masked = COALESCE($6, is_masked),
                is_profiler_writable = COALESCE($7, is_profiler_writable),
                notes = CASE WHEN $8 THEN $9 ELSE notes END
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
        .bind(c.is_profiler_writable)
        .bind(c.notes.is_some())
        .bind(c.notes.clone().flatten())
        .fetch_optional(pool)
        .await
}

/// A masked column of a ruleset, with its table: what a job masks.
#[derive(Debug, Clone, FromRow)]
pub struct MaskedColumn {
    pub table_metadata_id: i64,
    pub table_name: String,
    pub key_column: Option<String>,
    pub where_clause: Option<String>,
    pub custom_sql: Option<String>,
    pub column_name: String,
    pub algorithm_name: String,
}

/// Every column of the ruleset that has an algorithm and is marked for masking, table by table.
pub async fn masked_columns(pool: &Db, ruleset_id: i64) -> Result<Vec<MaskedColumn>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.table_metadata_id, t.table_name, t.key_column, t.where_clause, t.custom_sql, c.column_name,
                c.algorithm_name
           FROM table_metadata t JOIN column_metadata c USING (table_metadata_id)
          WHERE t.ruleset_id = $1 AND c.is_masked AND c.algorithm_name IS NOT NULL
          ORDER BY t.table_metadata_id, c.column_metadata_id",
    )
    .bind(ruleset_id)
    .fetch_all(pool)
    .await
}

/// A table of a ruleset as an on-the-fly job copies it.
#[derive(Debug, Clone, FromRow)]
pub struct CopiedTable {
    pub table_metadata_id: i64,
    pub table_name: String,
    pub where_clause: Option<String>,
    pub custom_sql: Option<String>,
}

/// Every table of the ruleset, masked columns or not, in id order.
pub async fn tables_of_ruleset(
    pool: &Db,
    ruleset_id: i64,
) -> Result<Vec<CopiedTable>, sqlx::Error> {
    sqlx::query_as(
        "SELECT table_metadata_id, table_name, where_clause, custom_sql FROM table_metadata
          WHERE ruleset_id = $1 ORDER BY table_metadata_id",
    )
    .bind(ruleset_id)
    .fetch_all(pool)
    .await
}

/// A column a profile run looks at.
#[derive(Debug, Clone, FromRow)]
pub struct ProfiledColumn {
    pub table_metadata_id: i64,
    pub table_name: String,
    pub column_metadata_id: i64,
    pub column_name: String,
}

/// Every column of the ruleset, table by table.
pub async fn columns_of_ruleset(
    pool: &Db,
    ruleset_id: i64,
) -> Result<Vec<ProfiledColumn>, sqlx::Error> {
    sqlx::query_as(
        "SELECT t.table_metadata_id, t.table_name, c.column_metadata_id, c.column_name
           FROM table_metadata t JOIN column_metadata c USING (table_metadata_id)
          WHERE t.ruleset_id = $1
          ORDER BY t.table_metadata_id, c.column_metadata_id",
    )
    .bind(ruleset_id)
    .fetch_all(pool)
    .await
}
