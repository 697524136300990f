//! One table as an on-the-fly job copies it: the columns of the target's table (every column
//! but generated ones), found by name in the source's table, with the statements that count and
//! read the source (`COPY (SELECT ...) TO STDOUT`) and write the target (`COPY ... FROM STDIN`).
//! Every identifier comes from the two catalogs, quoted there; the whereClause is an ADMIN's SQL
//! for the source, checked as for in-place masking.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::postgres::types::Oid;

use super::algorithms::Algorithm;
use super::table_sql::{self, ColumnRule, TableError};

/// A column written into the target: its name, and the algorithm that masks it, if any.
#[derive(Debug, Clone)]
pub struct CopiedColumn {
    pub name: String,
    pub algorithm: Option<Algorithm>,
    /// The length of a `varchar(n)` or `char(n)` column in the target.
    pub max_chars: Option<i32>,
}

/// A table resolved in both catalogs.
#[derive(Debug, Clone)]
pub struct CopiedTable {
    pub name: String,
    /// The target's `schema.table`, quoted.
    pub target_qualified: String,
    pub target_oid: u32,
    /// The attribute numbers of the target's columns written.
    pub target_attnums: Vec<i16>,
    /// In the order both COPY statements list them.
    pub columns: Vec<CopiedColumn>,
    count_sql: String,
    copy_out_sql: String,
    copy_in_sql: String,
}

impl CopiedTable {
    /// Counts the source rows the copy reads.
    pub fn count_sql(&self) -> &str {
        &self.count_sql
    }

    /// Reads them, as COPY text rows.
    pub fn copy_out_sql(&self) -> &str {
        &self.copy_out_sql
    }

    /// Writes COPY text rows into the target's table.
    pub fn copy_in_sql(&self) -> &str {
        &self.copy_in_sql
    }
}

/// Looks `table` up in the target's and the source's catalogs. `rules` are its masked columns.
pub async fn resolve(
    source: &mut PgConnection,
    source_schema: &str,
    target: &mut PgConnection,
    target_schema: &str,
    table: &str,
    where_clause: Option<&str>,
    rules: &[ColumnRule],
) -> Result<CopiedTable, TableError> {
    let row_filter = table_sql::row_filter(table, where_clause)?;
    let (target_oid, target_qualified) =
        table_sql::find_table(target, target_schema, table).await?;
    let target_columns: Vec<(String, String, i16, Option<i32>)> = sqlx::query_as(&format!(
        "SELECT attname::text, quote_ident(attname), attnum, {}
           FROM pg_attribute
          WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
          ORDER BY attnum",
        table_sql::MAX_CHARS
    ))
    .bind(Oid(target_oid))
    .fetch_all(&mut *target)
    .await?;
    for rule in rules {
        if !target_columns.iter().any(|(name, ..)| *name == rule.name) {
            return Err(TableError::MissingColumn {
                table: table.into(),
                column: rule.name.clone(),
            });
        }
    }
    let (source_oid, source_qualified) =
        table_sql::find_table(source, source_schema, table).await?;
    let source_columns: HashMap<String, String> = sqlx::query_as(
        "SELECT attname::text, quote_ident(attname) FROM pg_attribute
          WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
    )
    .bind(Oid(source_oid))
    .fetch_all(&mut *source)
    .await?
    .into_iter()
    .collect();
    let mut select_list = Vec::with_capacity(target_columns.len());
    for (name, ..) in &target_columns {
        let quoted = source_columns
            .get(name)
            .ok_or_else(|| TableError::MissingSourceColumn {
                table: table.into(),
                column: name.clone(),
            })?;
        // A masked column is read as in-place masking reads it (`::text`: a char(n) without its
        // padding), so that both mask the same value the same way; the others as they are.
        if rules.iter().any(|r| r.name == *name) {
            select_list.push(format!("s.{quoted}::text"));
        } else {
            select_list.push(format!("s.{quoted}"));
        }
    }
    let insert_list: Vec<&str> = target_columns.iter().map(|(_, q, ..)| q.as_str()).collect();
    Ok(CopiedTable {
        name: table.to_owned(),
        count_sql: format!("SELECT count(*) FROM {source_qualified} AS s WHERE true{row_filter}"),
        copy_out_sql: format!(
            "COPY (SELECT {} FROM {source_qualified} AS s WHERE true{row_filter}) TO STDOUT",
            select_list.join(", ")
        ),
        copy_in_sql: format!(
            "COPY {target_qualified} ({}) FROM STDIN",
            insert_list.join(", ")
        ),
        target_attnums: target_columns.iter().map(|(_, _, n, _)| *n).collect(),
        columns: target_columns
            .into_iter()
            .map(|(name, _, _, max_chars)| CopiedColumn {
                algorithm: rules.iter().find(|r| r.name == name).map(|r| r.algorithm),
                max_chars,
                name,
            })
            .collect(),
        target_qualified,
        target_oid,
    })
}

/// The foreign keys between `tables` (by target oid): (referencing, referenced), self-references
/// left out.
pub async fn dependencies(
    target: &mut PgConnection,
    tables: &[u32],
) -> Result<Vec<(u32, u32)>, sqlx::Error> {
    let oids: Vec<Oid> = tables.iter().map(|&o| Oid(o)).collect();
    let edges: Vec<(Oid, Oid)> = sqlx::query_as(
        "SELECT DISTINCT conrelid, confrelid FROM pg_constraint
          WHERE contype = 'f' AND conrelid = ANY($1) AND confrelid = ANY($1) AND conrelid <> confrelid",
    )
    .bind(oids)
    .fetch_all(target)
    .await?;
    Ok(edges.into_iter().map(|(a, b)| (a.0, b.0)).collect())
}
