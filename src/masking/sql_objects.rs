//! The SQL objects of a target table that are in the way of masking it (user triggers, foreign
//! keys on or to its masked columns, non-unique indexes on them), found in the target's catalog with
//! the statements that disable and restore them, and running those statements.

use sqlx::postgres::PgConnection;

use super::copy_table::CopiedTable;
use super::table_sql::{self, ResolvedTable, TableError};
use crate::sql_error::{self, sqlstate::*};
use crate::types::target::FoundSqlObject;

/// A table whose SQL objects are looked for, and the columns that matter: those masked in place,
/// or every column written by an on-the-fly job.
pub struct TableRef<'a> {
    pub oid: u32,
    /// `schema.table`, quoted.
    pub qualified: &'a str,
    pub columns: Vec<i16>,
}

impl<'a> From<&'a ResolvedTable> for TableRef<'a> {
    fn from(t: &'a ResolvedTable) -> Self {
        TableRef {
            oid: t.oid,
            qualified: &t.qualified,
            columns: t.masked_attnums(),
        }
    }
}

impl<'a> From<&'a CopiedTable> for TableRef<'a> {
    fn from(t: &'a CopiedTable) -> Self {
        TableRef {
            oid: t.target_oid,
            qualified: &t.target_qualified,
            columns: t.target_attnums.clone(),
        }
    }
}

/// The user triggers of the table that are enabled.
pub async fn triggers(
    conn: &mut PgConnection,
    t: &TableRef<'_>,
) -> Result<Vec<FoundSqlObject>, sqlx::Error> {
    sqlx::query_as(
        "SELECT 'TRIGGER' AS object_type, tgname::text AS object_name, $2 AS table_name,
                'ALTER TABLE ' || $2 || ' DISABLE TRIGGER ' || quote_ident(tgname) AS disable_sql,
                'ALTER TABLE ' || $2 || ' ENABLE ' ||
                  CASE tgenabled WHEN 'R' THEN 'REPLICA ' WHEN 'A' THEN 'ALWAYS ' ELSE '' END ||
                  'TRIGGER ' || quote_ident(tgname) AS restore_sql,
                NULL::text AS validate_sql
           FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal AND tgenabled <> 'D'
          ORDER BY tgname",
    )
    .bind(sqlx::postgres::types::Oid(t.oid))
    .bind(t.qualified.to_owned())
    .fetch_all(conn)
    .await
}

/// Foreign keys on the columns, or referencing them from other tables.
pub async fn foreign_keys(
    conn: &mut PgConnection,
    t: &TableRef<'_>,
) -> Result<Vec<FoundSqlObject>, sqlx::Error> {
    sqlx::query_as(
        "SELECT 'CONSTRAINT' AS object_type, conname::text AS object_name, conrelid::regclass::text AS table_name,
                'ALTER TABLE ' || conrelid::regclass::text || ' DROP CONSTRAINT ' || quote_ident(conname) AS disable_sql,
                'ALTER TABLE ' || conrelid::regclass::text || ' ADD CONSTRAINT ' || quote_ident(conname) || ' '
                  || pg_get_constraintdef(oid) || ' NOT VALID' AS restore_sql,
                'ALTER TABLE ' || conrelid::regclass::text || ' VALIDATE CONSTRAINT ' || quote_ident(conname) AS validate_sql
           FROM pg_constraint
          WHERE contype = 'f'
            AND ((conrelid = $1 AND conkey && $2::int2[]) OR (confrelid = $1 AND confkey && $2::int2[]))
          ORDER BY conname",
    )
    .bind(sqlx::postgres::types::Oid(t.oid))
    .bind(t.columns.clone())
    .fetch_all(conn)
    .await
}

/// Non-unique indexes on the columns.
pub async fn indexes(
    conn: &mut PgConnection,
    t: &TableRef<'_>,
) -> Result<Vec<FoundSqlObject>, sqlx::Error> {
    sqlx::query_as(
        "SELECT 'INDEX' AS object_type, ic.relname::text AS object_name, $3 AS table_name,
                'DROP INDEX ' || quote_ident(n.nspname) || '.' || quote_ident(ic.relname) AS disable_sql,
                pg_get_indexdef(i.indexrelid) AS restore_sql,
                NULL::text AS validate_sql
           FROM pg_index i
           JOIN pg_class ic ON ic.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = ic.relnamespace
          WHERE i.indrelid = $1 AND NOT i.indisunique AND NOT i.indisprimary
            AND i.indkey::int2[] && $2::int2[]
          ORDER BY ic.relname",
    )
    .bind(sqlx::postgres::types::Oid(t.oid))
    .bind(t.columns.clone())
    .bind(t.qualified.to_owned())
    .fetch_all(conn)
    .await
}

/// The column a run adds to a table without a key, to read and write its rows by: an identity, so
/// that each row is numbered once and keeps its number when updated (a physical position, `ctid`,
/// would move), made unique so that it is read in order through an index; dropped when the run
/// ends. Adding it rewrites the table.
pub async fn row_id_column(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    column: &str,
) -> Result<FoundSqlObject, TableError> {
    let (_, qualified) = table_sql::find_table(conn, schema, table).await?;
    let quoted: String = sqlx::query_scalar("SELECT quote_ident($1)")
        .bind(column)
        .fetch_one(&mut *conn)
        .await?;
    Ok(FoundSqlObject {
        object_type: "COLUMN".into(),
        object_name: column.to_owned(),
        table_name: qualified.clone(),
        disable_sql: format!(
            "ALTER TABLE {qualified} ADD COLUMN {quoted} bigint GENERATED ALWAYS AS IDENTITY UNIQUE"
        ),
        restore_sql: format!("ALTER TABLE {qualified} DROP COLUMN IF EXISTS {quoted}"),
        validate_sql: None,
    })
}

/// Runs a restore statement; an object that is already back (its disable never ran) counts as
/// restored.
pub async fn restore(conn: &mut PgConnection, restore_sql: &str) -> Result<(), sqlx::Error> {
    match run_ddl(conn, restore_sql.to_owned()).await {
        Ok(_) => Ok(()),
        // A constraint or index that exists already.
        Err(e) if sql_error::is(&e, DUPLICATE_OBJECT) || sql_error::is(&e, DUPLICATE_TABLE) => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Validates a restored constraint against the rows as they are.
pub async fn validate(conn: &mut PgConnection, validate_sql: &str) -> Result<(), sqlx::Error> {
    run_ddl(conn, validate_sql.to_owned()).await
}

pub async fn disable(conn: &mut PgConnection, disable_sql: &str) -> Result<(), sqlx::Error> {
    match run_ddl(conn, disable_sql.to_owned()).await {
        Ok(_) => Ok(()),
        // It is gone already.
        Err(e) if sql_error::is(&e, UNDEFINED_OBJECT) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs one DDL statement built from the catalog, through the simple query protocol. (Through
/// `Executor::execute`, whose boxed future keeps the worker task `Send`; `raw_sql(..).execute`
/// inside a spawned task trips rustc's "not general enough" error.)
async fn run_ddl(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    use sqlx::Executor;
    conn.execute(sql.as_str()).await?;
    Ok(())
}
