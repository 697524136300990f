//! One table of a target database as a run sees it: looked up in the target's catalog (its key and
//! masked columns), and the SQL that counts it and reads and writes it in key order, batch by
//! batch. Every identifier comes from the target's catalog and is quoted there (`quote_ident`);
//! values are bound.

use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

use super::algorithms::Algorithm;

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("table '{0}' no longer exists in schema '{1}' of the target")]
    MissingTable(String, String),
    #[error("column '{column}' of table '{table}' no longer exists in the target")]
    MissingColumn { table: String, column: String },
    #[error(
        "table '{0}' has neither a primary key nor a keyColumn: set keyColumn on its table metadata to a unique column"
    )]
    NoKey(String),
    #[error(
        "keyColumn '{column}' of table '{table}' is not unique in the target: choose a column with a unique index"
    )]
    KeyNotUnique { table: String, column: String },
    #[error(
        "the key column '{column}' of table '{table}' cannot itself be masked: choose another keyColumn"
    )]
    KeyMasked { table: String, column: String },
    #[error(
        "the whereClause of table '{table}' cannot be used: {why}; correct it with PUT /table-metadata"
    )]
    BadWhereClause { table: String, why: String },
    #[error(
        "the customSql of table '{table}' cannot be read from the source: {why}; correct it with PUT /table-metadata"
    )]
    BadCustomSql { table: String, why: String },
    #[error(
        "table '{table}' has a customSql, which only an on-the-fly job reads (in place, maskd updates the table itself): clear customSql, or limit the rows with whereClause"
    )]
    CustomSqlInPlace { table: String },
    #[error(
        "column '{column}' of table '{table}' is in the target but not in the source: an on-the-fly job writes every column of the target's table, so add it to the source or drop it from the target"
    )]
    MissingSourceColumn { table: String, column: String },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// A masked column as the ruleset describes it.
#[derive(Debug, Clone)]
pub struct ColumnRule {
    pub name: String,
    pub algorithm: Algorithm,
}

/// A column resolved in the target's catalog.
#[derive(Debug, Clone)]
pub struct ResolvedColumn {
    pub name: String,
    /// `quote_ident(name)`.
    pub quoted: String,
    /// `format_type(...)`, e.g. `character varying(40)`.
    pub sql_type: String,
    pub attnum: i16,
    /// The length of a `varchar(n)` or `char(n)` column: a longer value would be cut by the cast.
    pub max_chars: Option<i32>,
    pub algorithm: Algorithm,
}

/// A `pg_attribute` row's length limit in characters: `n` of `varchar(n)` and `char(n)`, else NULL.
pub(super) const MAX_CHARS: &str = "CASE WHEN atttypid IN ('varchar'::regtype, 'bpchar'::regtype) AND atttypmod >= 4 THEN atttypmod - 4 END";

/// Whether a masked value fits a column of at most `max_chars` characters. One that does not is
/// left unmasked and counted, never cut short.
pub fn fits(value: Option<&str>, max_chars: Option<i32>) -> bool {
    match (value, max_chars) {
        (Some(v), Some(max)) => v.chars().count() <= max.max(0) as usize,
        _ => true,
    }
}

/// A table resolved in the target's catalog, with the SQL to read and write it.
#[derive(Debug, Clone)]
pub struct ResolvedTable {
    pub name: String,
    /// `schema.table`, quoted.
    pub qualified: String,
    pub oid: u32,
    /// The key's columns, quoted (one, or a composite primary key's in index order).
    pub key_quoted: Vec<String>,
    pub columns: Vec<ResolvedColumn>,
    count_sql: String,
    select_sql: String,
    bounds_sql: String,
    update_sql: String,
}

impl ResolvedTable {
    pub fn masked_attnums(&self) -> Vec<i16> {
        self.columns.iter().map(|c| c.attnum).collect()
    }
}

/// Looks a table and its masked columns up in the target's catalog, and picks its key: `keyColumn`
/// when given (it must be unique), else its primary key, of one column or several.
pub async fn resolve(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    key_column: Option<&str>,
    where_clause: Option<&str>,
    rules: &[ColumnRule],
) -> Result<ResolvedTable, TableError> {
    let row_filter = row_filter(table, where_clause)?;
    let (oid, qualified) = find_table(conn, schema, table).await?;

    let column_sql = format!(
        "SELECT quote_ident(attname), format_type(atttypid, atttypmod), attnum, {MAX_CHARS}
           FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped"
    );
    let column = |name: String| {
        sqlx::query_as::<_, (String, String, i16, Option<i32>)>(&column_sql)
            .bind(sqlx::postgres::types::Oid(oid))
            .bind(name)
    };

    // The key: the given key column if unique, else the primary key's columns.
    let key_names: Vec<String> = match key_column {
        Some(k) => {
            let unique: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
                                  ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                 WHERE i.indrelid = $1 AND i.indisunique AND i.indnkeyatts = 1
                                   AND i.indpred IS NULL AND a.attname = $2)",
            )
            .bind(sqlx::postgres::types::Oid(oid))
            .bind(k.to_owned())
            .fetch_one(&mut *conn)
            .await?;
            if !unique {
                return Err(TableError::KeyNotUnique {
                    table: table.into(),
                    column: k.into(),
                });
            }
            vec![k.to_owned()]
        }
        None => sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i, generate_series(0, i.indnkeyatts - 1) AS n,
                    pg_attribute a
              WHERE i.indrelid = $1 AND i.indisprimary
                AND a.attrelid = i.indrelid AND a.attnum = i.indkey[n]
              ORDER BY n",
        )
        .bind(sqlx::postgres::types::Oid(oid))
        .fetch_all(&mut *conn)
        .await?,
    };
    if key_names.is_empty() {
        return Err(TableError::NoKey(table.into()));
    }
    if let Some(k) = key_names
        .iter()
        .find(|k| rules.iter().any(|r| r.name == **k))
    {
        return Err(TableError::KeyMasked {
            table: table.into(),
            column: k.clone(),
        });
    }
    let mut key_quoted = Vec::with_capacity(key_names.len());
    let mut key_types = Vec::with_capacity(key_names.len());
    for k in &key_names {
        let (quoted, sql_type, _, _) = column(k.clone())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| TableError::MissingColumn {
                table: table.into(),
                column: k.clone(),
            })?;
        key_quoted.push(quoted);
        key_types.push(sql_type);
    }

    let mut columns = Vec::with_capacity(rules.len());
    for rule in rules {
        let (quoted, sql_type, attnum, max_chars) = column(rule.name.clone())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| TableError::MissingColumn {
                table: table.into(),
                column: rule.name.clone(),
            })?;
        columns.push(ResolvedColumn {
            name: rule.name.clone(),
            quoted,
            sql_type,
            attnum,
            max_chars,
            algorithm: rule.algorithm,
        });
    }

    // Qualified with the alias: a bare name in ORDER BY would sort by the text output column.
    let n_keys = key_quoted.len();
    let keys: Vec<String> = key_quoted.iter().map(|k| format!("t.{k}")).collect();
    let select_list: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}::text"))
        .chain(columns.iter().map(|c| format!("t.{}::text", c.quoted)))
        .collect();
    // A key range: after one key, up to and including another (row comparisons, so that a
    // composite key is read in index order). A bound bound to NULL is open.
    let bound = |first: usize| -> Vec<String> {
        key_types
            .iter()
            .enumerate()
            .map(|(i, ty)| format!("${}::text::{ty}", first + i))
            .collect()
    };
    let rows_in_range = format!(
        "{not_null} AND ($1::text IS NULL OR ({keys}) > ({after}))
                    AND (${last_first}::text IS NULL OR ({keys}) <= ({last})){row_filter}",
        not_null = keys
            .iter()
            .map(|k| format!("{k} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND "),
        keys = keys.join(", "),
        after = bound(1).join(", "),
        last_first = n_keys + 1,
        last = bound(n_keys + 1).join(", "),
    );
    let limit = 2 * n_keys + 1;
    let count_sql = format!("SELECT count(*) FROM {qualified} AS t WHERE {rows_in_range}");
    let select_sql = format!(
        "SELECT {cols} FROM {qualified} AS t WHERE {rows_in_range}
          ORDER BY {keys} LIMIT ${limit}",
        cols = select_list.join(", "),
        keys = keys.join(", "),
    );
    // Every n-th key of the range in key order (read from the key's index): where its chunks of n
    // rows end.
    let bounds_sql = every_nth_key_sql(
        &keys,
        &format!("{qualified} AS t WHERE {rows_in_range}"),
        limit,
    );
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{q} = v.c{i}::{t}", q = c.quoted, t = c.sql_type))
        .collect();
    let arrays: Vec<String> = (0..n_keys + columns.len())
        .map(|i| format!("${}::text[]", i + 1))
        .collect();
    let aliases: Vec<String> = (0..n_keys)
        .map(|i| format!("k{i}"))
        .chain((0..columns.len()).map(|i| format!("c{i}")))
        .collect();
    let key_match: Vec<String> = keys
        .iter()
        .zip(&key_types)
        .enumerate()
        .map(|(i, (k, ty))| format!("{k} = v.k{i}::{ty}"))
        .collect();
    let update_sql = format!(
        "UPDATE {qualified} AS t SET {sets}
           FROM unnest({arrays}) AS v({aliases})
          WHERE {key_match}",
        sets = sets.join(", "),
        arrays = arrays.join(", "),
        aliases = aliases.join(", "),
        key_match = key_match.join(" AND "),
    );
    Ok(ResolvedTable {
        name: table.to_owned(),
        qualified,
        oid,
        key_quoted,
        columns,
        count_sql,
        select_sql,
        bounds_sql,
        update_sql,
    })
}

/// The statement that reads every `$n`-th (`n_param`) of the keys `keys` (qualified column names)
/// of `from_where` (`table AS alias WHERE ...`), in key order: where chunks of n rows end.
pub(super) fn every_nth_key_sql(keys: &[String], from_where: &str, n_param: usize) -> String {
    let texts: Vec<String> = (0..keys.len()).map(|i| format!("k{i}::text")).collect();
    let keys_as: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} AS k{i}"))
        .collect();
    format!(
        "SELECT {} FROM (
             SELECT {}, row_number() OVER (ORDER BY {}) AS n FROM {from_where}) s
          WHERE n % ${n_param} = 0 ORDER BY n",
        texts.join(", "),
        keys_as.join(", "),
        keys.join(", "),
    )
}

/// A range of a table's rows in key order: after the key `after` (from the first row, when None)
/// up to and including the key `last` (to the last row, when None).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    pub after: Option<Vec<String>>,
    pub last: Option<Vec<String>>,
}

impl KeyRange {
    fn bind<'q>(
        &self,
        mut query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        n_keys: usize,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        for bound in [&self.after, &self.last] {
            for i in 0..n_keys {
                query = query.bind(bound.as_ref().map(|k| k[i].clone()));
            }
        }
        query
    }
}

/// Rows of the range the run will mask: those with a key, matching the whereClause.
pub async fn count_rows(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    range: &KeyRange,
) -> Result<i64, sqlx::Error> {
    let row = range
        .bind(sqlx::query(&t.count_sql), t.key_quoted.len())
        .fetch_one(conn)
        .await?;
    row.try_get(0)
}

/// Splits the range into chunks of `rows` rows (the last one open-ended): the key each but the
/// last chunk ends with, in key order.
pub async fn chunk_bounds(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    range: &KeyRange,
    rows: i64,
) -> Result<Vec<Vec<String>>, sqlx::Error> {
    let n_keys = t.key_quoted.len();
    let found: Vec<PgRow> = range
        .bind(sqlx::query(&t.bounds_sql), n_keys)
        .bind(rows)
        .fetch_all(conn)
        .await?;
    found
        .iter()
        .map(|r| (0..n_keys).map(|i| r.try_get::<String, _>(i)).collect())
        .collect()
}

/// One row of a batch: its key's values and the masked columns' values, as text.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub key: Vec<String>,
    pub values: Vec<Option<String>>,
}

/// The first `limit` rows of the range in key order.
pub async fn read_batch(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    range: &KeyRange,
    limit: i64,
) -> Result<Vec<BatchRow>, sqlx::Error> {
    let n_keys = t.key_quoted.len();
    let rows: Vec<PgRow> = range
        .bind(sqlx::query(&t.select_sql), n_keys)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            let key = (0..n_keys)
                .map(|i| r.try_get::<String, _>(i))
                .collect::<Result<_, _>>()?;
            let values = (n_keys..n_keys + t.columns.len())
                .map(|i| r.try_get::<Option<String>, _>(i))
                .collect::<Result<_, _>>()?;
            Ok(BatchRow { key, values })
        })
        .collect()
}

/// Writes masked values back, one statement for the whole batch.
pub async fn write_batch(
    conn: &mut PgConnection,
    t: &ResolvedTable,
    rows: &[BatchRow],
) -> Result<u64, sqlx::Error> {
    let mut query = sqlx::query::<sqlx::Postgres>(&t.update_sql);
    for k in 0..t.key_quoted.len() {
        query = query.bind(rows.iter().map(|r| r.key[k].clone()).collect::<Vec<_>>());
    }
    for i in 0..t.columns.len() {
        query = query.bind(
            rows.iter()
                .map(|r| r.values[i].clone())
                .collect::<Vec<Option<String>>>(),
        );
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// `AND (<whereClause>)`, or nothing. Checked when it was saved; checked again, as it is pasted
/// into SQL.
pub(super) fn row_filter(table: &str, where_clause: Option<&str>) -> Result<String, TableError> {
    match where_clause {
        None => Ok(String::new()),
        Some(clause) => {
            super::where_clause::check(clause).map_err(|why| TableError::BadWhereClause {
                table: table.into(),
                why,
            })?;
            Ok(format!(" AND ({clause})"))
        }
    }
}

/// The table's oid and its quoted `schema.table`, from the target's catalog.
pub(super) async fn find_table(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
) -> Result<(u32, String), TableError> {
    let found: Option<(sqlx::postgres::types::Oid, String)> = sqlx::query_as(
        "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
    )
    .bind(schema.to_owned())
    .bind(table.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    found
        .map(|(oid, qualified)| (oid.0, qualified))
        .ok_or_else(|| TableError::MissingTable(table.into(), schema.into()))
}

/// A table's columns, looked up in the target's catalog (so that every identifier pasted into
/// SQL is one the catalog quoted), for reading a sample of their values.
pub struct SampledTable {
    qualified: String,
    quoted_columns: Vec<String>,
}

/// Looks `table` and its `columns` up in the target's catalog.
pub async fn sampled_table(
    conn: &mut PgConnection,
    schema: &str,
    table: &str,
    columns: &[String],
) -> Result<SampledTable, TableError> {
    let (oid, qualified) = find_table(conn, schema, table).await?;
    let mut quoted_columns = Vec::with_capacity(columns.len());
    for column in columns {
        let quoted: Option<String> = sqlx::query_scalar(
            "SELECT quote_ident(attname) FROM pg_attribute
              WHERE attrelid = $1 AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        )
        .bind(sqlx::postgres::types::Oid(oid))
        .bind(column.clone())
        .fetch_optional(&mut *conn)
        .await?;
        quoted_columns.push(quoted.ok_or_else(|| TableError::MissingColumn {
            table: table.into(),
            column: column.clone(),
        })?);
    }
    Ok(SampledTable {
        qualified,
        quoted_columns,
    })
}

/// The rows a sample of at most `limit` rows will read.
pub async fn count_sample(
    conn: &mut PgConnection,
    t: &SampledTable,
    limit: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT $1) s",
        t.qualified
    ))
    .bind(limit)
    .fetch_one(conn)
    .await
}

/// At most `limit` rows of the table's columns as text, in one statement: the first rows the
/// table gives, so that reading a sample takes the same time whatever the table's size.
pub async fn read_sample(
    conn: &mut PgConnection,
    t: &SampledTable,
    limit: i64,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
    let list: Vec<String> = t
        .quoted_columns
        .iter()
        .map(|c| format!("t.{c}::text"))
        .collect();
    let rows = sqlx::query(&format!(
        "SELECT {} FROM {} AS t LIMIT $1",
        list.join(", "),
        t.qualified
    ))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| (0..t.quoted_columns.len()).map(|i| r.try_get(i)).collect())
        .collect()
}
