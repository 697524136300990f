//! One table as an on-the-fly job copies it: the columns of the target's table (every column
//! but generated ones), found by name in the source's table, with the statements that count and
//! read the source (`COPY (SELECT ...) TO STDOUT`) and write the target (`COPY ... FROM STDIN`).
//! Every identifier comes from the two catalogs, quoted there; the whereClause and customSql are
//! an ADMIN's SQL for the source, checked as for in-place masking (the relation read is `t`).

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::postgres::types::Oid;

use sqlx::{Column, Executor};

use super::algorithms::Algorithm;
use super::table_sql::{self, ColumnRule, TableError};
use super::where_clause;
use crate::sql_error;

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
    /// The source's primary key, when it has one whose columns are all written: what a big table
    /// is split by.
    pub key: Option<SourceKey>,
}

/// A source table's primary key, for reading it in key ranges.
#[derive(Debug, Clone)]
pub struct SourceKey {
    /// Where its columns are among the COPY rows' fields.
    pub positions: Vec<usize>,
    /// `COPY (SELECT ... WHERE <range> ORDER BY <key>) TO STDOUT`, by which bounds are set
    /// (after, last): the bounds' values are read from session settings that `bind_sql` sets,
    /// since a COPY takes no parameters.
    range_sql: [String; 4],
    /// `SELECT set_config('maskd.after_0', $1, false), ...`: the bounds' values, bound.
    pub bind_sql: String,
    bounds_sql: String,
}

impl SourceKey {
    fn which(after: bool, last: bool) -> usize {
        usize::from(after) + 2 * usize::from(last)
    }

    /// Reads a range of rows in key order, once `bind_sql` has set its bounds.
    pub fn range_sql(&self, after: bool, last: bool) -> &str {
        &self.range_sql[Self::which(after, last)]
    }

    /// Every `$1`-th key of the source's rows in key order.
    pub fn bounds_sql(&self) -> &str {
        &self.bounds_sql
    }
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

/// What the ADMIN wrote for reading a table from the source: a query in its place, a filter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceRead<'a> {
    pub custom_sql: Option<&'a str>,
    pub where_clause: Option<&'a str>,
}

/// Looks `table` up in the target's and the source's catalogs. `rules` are its masked columns.
pub async fn resolve(
    source: &mut PgConnection,
    source_schema: &str,
    target: &mut PgConnection,
    target_schema: &str,
    table: &str,
    read: SourceRead<'_>,
    rules: &[ColumnRule],
) -> Result<CopiedTable, TableError> {
    let SourceRead {
        custom_sql,
        where_clause,
    } = read;
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
    // What is read: the source's table, or the ADMIN's query in its place; its columns by name.
    let (relation, source_columns, source_oid) = match custom_sql {
        Some(custom) => {
            where_clause::check(custom).map_err(|why| TableError::BadCustomSql {
                table: table.into(),
                why,
            })?;
            let relation = format!("({custom}) AS t");
            let described = (&mut *source)
                .describe(&format!("SELECT * FROM {relation}"))
                .await
                .map_err(|e| TableError::BadCustomSql {
                    table: table.into(),
                    why: sql_error::describe(&e),
                })?;
            let names: Vec<String> = described
                .columns()
                .iter()
                .map(|c| c.name().to_owned())
                .collect();
            // A column is found by its name; the target's catalog quotes it.
            let columns = target_columns
                .iter()
                .filter(|(name, ..)| names.contains(name))
                .map(|(name, quoted, ..)| (name.clone(), quoted.clone()))
                .collect();
            (relation, columns, None)
        }
        None => {
            let (oid, qualified) = table_sql::find_table(source, source_schema, table).await?;
            let columns: HashMap<String, String> = sqlx::query_as(
                "SELECT attname::text, quote_ident(attname) FROM pg_attribute
                  WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped",
            )
            .bind(Oid(oid))
            .fetch_all(&mut *source)
            .await?
            .into_iter()
            .collect();
            (format!("{qualified} AS t"), columns, Some(oid))
        }
    };
    let mut select_list = Vec::with_capacity(target_columns.len());
    for (name, ..) in &target_columns {
        let quoted = source_columns
            .get(name)
            .ok_or_else(|| match custom_sql {
                Some(_) => TableError::BadCustomSql {
                    table: table.into(),
                    why: format!(
                        "it has no column '{name}', and an on-the-fly job writes every column of the target's table"
                    ),
                },
                None => TableError::MissingSourceColumn {
                    table: table.into(),
                    column: name.clone(),
                },
            })?;
        // A masked column is read as in-place masking reads it (`::text`: a char(n) without its
        // padding), so that both mask the same value the same way; the others as they are.
        if rules.iter().any(|r| r.name == *name) {
            select_list.push(format!("t.{quoted}::text"));
        } else {
            select_list.push(format!("t.{quoted}"));
        }
    }
    let insert_list: Vec<&str> = target_columns.iter().map(|(_, q, ..)| q.as_str()).collect();
    // A custom query's rows are read whole: they need not be the table's, nor keyed like it.
    let key = match source_oid {
        Some(oid) => {
            source_key(
                source,
                oid,
                &relation,
                &row_filter,
                &select_list,
                &target_columns,
            )
            .await?
        }
        None => None,
    };
    Ok(CopiedTable {
        name: table.to_owned(),
        count_sql: format!("SELECT count(*) FROM {relation} WHERE true{row_filter}"),
        copy_out_sql: format!(
            "COPY (SELECT {} FROM {relation} WHERE true{row_filter}) TO STDOUT",
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
        key,
    })
}

/// The source table's primary key and the statements that read it by ranges; None when it has
/// none, or one of its columns is not written into the target.
async fn source_key(
    source: &mut PgConnection,
    source_oid: u32,
    relation: &str,
    row_filter: &str,
    select_list: &[String],
    target_columns: &[(String, String, i16, Option<i32>)],
) -> Result<Option<SourceKey>, TableError> {
    let key: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT a.attname::text, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod)
           FROM pg_index i, generate_series(0, i.indnkeyatts - 1) AS n, pg_attribute a
          WHERE i.indrelid = $1 AND i.indisprimary
            AND a.attrelid = i.indrelid AND a.attnum = i.indkey[n]
          ORDER BY n",
    )
    .bind(Oid(source_oid))
    .fetch_all(&mut *source)
    .await?;
    let positions: Option<Vec<usize>> = key
        .iter()
        .map(|(name, ..)| target_columns.iter().position(|(n, ..)| n == name))
        .collect();
    let Some(positions) = positions.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let keys: Vec<String> = key.iter().map(|(_, q, _)| format!("t.{q}")).collect();
    let bound = |which: &str| -> String {
        key.iter()
            .enumerate()
            .map(|(i, (_, _, ty))| format!("current_setting('maskd.{which}_{i}')::{ty}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let keys_list = keys.join(", ");
    let range = |after: bool, last: bool| -> String {
        let mut r = String::new();
        if after {
            r.push_str(&format!(" AND ({keys_list}) > ({})", bound("after")));
        }
        if last {
            r.push_str(&format!(" AND ({keys_list}) <= ({})", bound("last")));
        }
        r
    };
    // In the order of `SourceKey::which`.
    let range_sql = [(false, false), (true, false), (false, true), (true, true)].map(|(a, l)| {
        format!(
            "COPY (SELECT {} FROM {relation} WHERE true{row_filter}{} ORDER BY {keys_list}) TO STDOUT",
            select_list.join(", "),
            range(a, l)
        )
    });
    let n = key.len();
    let bind_sql = format!(
        "SELECT {}",
        (0..n)
            .map(|i| format!("set_config('maskd.after_{i}', ${}, false)", i + 1))
            .chain((0..n).map(|i| format!("set_config('maskd.last_{i}', ${}, false)", n + i + 1)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let bounds_sql =
        table_sql::every_nth_key_sql(&keys, &format!("{relation} WHERE true{row_filter}"), 1);
    Ok(Some(SourceKey {
        positions,
        range_sql,
        bind_sql,
        bounds_sql,
    }))
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
