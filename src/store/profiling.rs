//! Profile expressions and profile sets. Built-in ones (`built_in`) are never changed or deleted:
//! every statement that changes one is guarded by `NOT built_in`, and the caller reads the row
//! afterwards only to say why nothing changed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::Resource;
use crate::db::Db;
use crate::types::serde_helpers;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileExpression {
    pub profile_expression_id: i64,
    pub domain_name: String,
    pub expression_name: String,
    /// Searched in the column's name, or with `dataLevelProfiling` in each sampled value (Rust's
    /// regex syntax; `(?i)` ignores case).
    pub regular_expression: String,
    /// Who made it; null for the built-in expressions, which cannot be changed or deleted.
    pub created_by: Option<String>,
    pub data_level_profiling: bool,
}

impl Resource for ProfileExpression {
    const NOUN: &'static str = "profile expression";
    const TABLE: &'static str = "profile_expressions";
    const ID: &'static str = "profile_expression_id";
    const COLUMNS: &'static str = "profile_expression_id, domain_name, expression_name, regular_expression, \
         created_by, data_level_profiling";
}

/// The fields of an expression a create or an update sets (None: unchanged on update).
#[derive(Debug, Default)]
pub struct ExpressionFields {
    pub domain_name: Option<String>,
    pub expression_name: Option<String>,
    pub regular_expression: Option<String>,
    pub data_level_profiling: Option<bool>,
}

pub async fn create_expression(
    pool: &Db,
    f: &ExpressionFields,
    created_by: &str,
) -> Result<ProfileExpression, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO profile_expressions
             (domain_name, expression_name, regular_expression, data_level_profiling, created_by)
         VALUES ($1, $2, $3, COALESCE($4, false), $5)
         RETURNING {}",
        ProfileExpression::COLUMNS
    ))
    .bind(&f.domain_name)
    .bind(&f.expression_name)
    .bind(&f.regular_expression)
    .bind(f.data_level_profiling)
    .bind(created_by)
    .fetch_one(pool)
    .await
}

/// None when no user expression has this id (it does not exist, or it is built in).
pub async fn update_expression(
    pool: &Db,
    id: i64,
    f: &ExpressionFields,
) -> Result<Option<ProfileExpression>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE profile_expressions
            SET domain_name = COALESCE($2, domain_name),
                expression_name = COALESCE($3, expression_name),
                regular_expression = COALESCE($4, regular_expression),
                data_level_profiling = COALESCE($5, data_level_profiling)
          WHERE profile_expression_id = $1 AND NOT built_in
         RETURNING {}",
        ProfileExpression::COLUMNS
    ))
    .bind(id)
    .bind(&f.domain_name)
    .bind(&f.expression_name)
    .bind(&f.regular_expression)
    .bind(f.data_level_profiling)
    .fetch_optional(pool)
    .await
}

/// Whether a user expression was deleted (false: it does not exist, or it is built in). A set
/// still using it makes it a foreign-key violation.
pub async fn delete_expression(pool: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM profile_expressions WHERE profile_expression_id = $1 AND NOT built_in",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSet {
    pub profile_set_id: i64,
    pub profile_set_name: String,
    /// Its expressions, in ascending id order.
    pub profile_expression_ids: Vec<i64>,
    /// Always empty: maskd has no type expressions.
    pub profile_type_expression_ids: Vec<i64>,
    /// Always empty: maskd has no classifiers.
    pub classifier_ids: Vec<i64>,
    /// Who made it; null for the built-in sets, which cannot be changed or deleted.
    pub created_by: Option<String>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub created_time: DateTime<Utc>,
    pub description: Option<String>,
}

/// The select list of a set, its expressions included.
const SET_COLUMNS: &str = "s.profile_set_id, s.profile_set_name, \
     ARRAY(SELECT m.profile_expression_id FROM profile_set_expressions m \
            WHERE m.profile_set_id = s.profile_set_id ORDER BY 1) AS profile_expression_ids, \
     '{}'::bigint[] AS profile_type_expression_ids, '{}'::bigint[] AS classifier_ids, \
     s.created_by, s.created_time, s.description";

impl Resource for ProfileSet {
    const NOUN: &'static str = "profile set";
    const TABLE: &'static str = "profile_sets s";
    const ID: &'static str = "s.profile_set_id";
    const COLUMNS: &'static str = SET_COLUMNS;
}

/// The fields of a set a create or an update sets (None: unchanged on update). The expression
/// ids replace the set's; `description: Some(None)` clears it.
#[derive(Debug, Default)]
pub struct SetFields {
    pub profile_set_name: Option<String>,
    pub profile_expression_ids: Option<Vec<i64>>,
    pub description: Option<Option<String>>,
}

/// None when an expression id names no expression.
pub async fn create_set(
    pool: &Db,
    f: &SetFields,
    created_by: &str,
) -> Result<Option<ProfileSet>, sqlx::Error> {
    let ids = sorted_ids(f.profile_expression_ids.as_deref().unwrap_or_default());
    sqlx::query_as(
        "WITH known AS (
             SELECT count(*) = cardinality($2::bigint[]) AS all_known
               FROM profile_expressions WHERE profile_expression_id = ANY($2)
         ), s AS (
             INSERT INTO profile_sets (profile_set_name, description, created_by)
             SELECT $1, $3, $4 FROM known WHERE all_known
             RETURNING profile_set_id, profile_set_name, created_by, created_time, description
         ), members AS (
             INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
             SELECT s.profile_set_id, x FROM s, unnest($2::bigint[]) x
         )
         SELECT s.profile_set_id, s.profile_set_name, $2::bigint[] AS profile_expression_ids,
                '{}'::bigint[] AS profile_type_expression_ids, '{}'::bigint[] AS classifier_ids,
                s.created_by, s.created_time, s.description
           FROM s",
    )
    .bind(&f.profile_set_name)
    .bind(&ids)
    .bind(f.description.clone().flatten())
    .bind(created_by)
    .fetch_optional(pool)
    .await
}

/// None when no user set has this id (it does not exist, or it is built in), or when an
/// expression id names no expression.
pub async fn update_set(
    pool: &Db,
    id: i64,
    f: &SetFields,
) -> Result<Option<ProfileSet>, sqlx::Error> {
    let ids = f.profile_expression_ids.as_deref().map(sorted_ids);
    sqlx::query_as(
        "WITH known AS (
             SELECT $2::bigint[] IS NULL
                    OR count(*) = cardinality($2::bigint[]) AS all_known
               FROM profile_expressions WHERE profile_expression_id = ANY($2)
         ), s AS (
             UPDATE profile_sets
                SET profile_set_name = COALESCE($3, profile_set_name),
                    description = CASE WHEN $4 THEN $5 ELSE description END
              WHERE profile_set_id = $1 AND NOT built_in AND (SELECT all_known FROM known)
             RETURNING profile_set_id, profile_set_name, created_by, created_time, description
         ), gone AS (
             DELETE FROM profile_set_expressions m USING s
              WHERE m.profile_set_id = s.profile_set_id AND $2::bigint[] IS NOT NULL
                AND m.profile_expression_id <> ALL($2)
         ), added AS (
             INSERT INTO profile_set_expressions (profile_set_id, profile_expression_id)
             SELECT s.profile_set_id, x FROM s, unnest($2::bigint[]) x
             ON CONFLICT DO NOTHING
         )
         SELECT s.profile_set_id, s.profile_set_name,
                COALESCE($2::bigint[], ARRAY(SELECT m.profile_expression_id FROM profile_set_expressions m
                                              WHERE m.profile_set_id = s.profile_set_id ORDER BY 1))
                    AS profile_expression_ids,
                '{}'::bigint[] AS profile_type_expression_ids, '{}'::bigint[] AS classifier_ids,
                s.created_by, s.created_time, s.description
           FROM s",
    )
    .bind(id)
    .bind(&ids)
    .bind(&f.profile_set_name)
    .bind(f.description.is_some())
    .bind(f.description.clone().flatten())
    .fetch_optional(pool)
    .await
}

/// Whether a user set was deleted (false: it does not exist, or it is built in).
pub async fn delete_set(pool: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM profile_sets WHERE profile_set_id = $1 AND NOT built_in")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Which of `ids` name no expression, for the answer to a refused set.
pub async fn unknown_expressions(pool: &Db, ids: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT x FROM unnest($1::bigint[]) x
          WHERE NOT EXISTS (SELECT 1 FROM profile_expressions WHERE profile_expression_id = x)
          ORDER BY x",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Whether the expression or set with this id is built in (None: it does not exist), for the
/// answer to a refused change.
pub async fn is_built_in(pool: &Db, table: BuiltIn, id: i64) -> Result<Option<bool>, sqlx::Error> {
    let sql = match table {
        BuiltIn::Expression => {
            "SELECT built_in FROM profile_expressions WHERE profile_expression_id = $1"
        }
        BuiltIn::Set => "SELECT built_in FROM profile_sets WHERE profile_set_id = $1",
    };
    sqlx::query_scalar(sql).bind(id).fetch_optional(pool).await
}

#[derive(Debug, Clone, Copy)]
pub enum BuiltIn {
    Expression,
    Set,
}

fn sorted_ids(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// An expression of a set, as a profile run uses it.
#[derive(Debug, Clone, FromRow)]
pub struct ExpressionToRun {
    pub profile_expression_id: i64,
    pub domain_name: String,
    pub expression_name: String,
    pub regular_expression: String,
    pub data_level_profiling: bool,
    pub built_in: bool,
}

/// The expressions of a set, in id order.
pub async fn expressions_of_set(
    pool: &Db,
    profile_set_id: i64,
) -> Result<Vec<ExpressionToRun>, sqlx::Error> {
    sqlx::query_as(
        "SELECT e.profile_expression_id, e.domain_name, e.expression_name, e.regular_expression,
                e.data_level_profiling, e.built_in
           FROM profile_set_expressions m JOIN profile_expressions e USING (profile_expression_id)
          WHERE m.profile_set_id = $1
          ORDER BY e.profile_expression_id",
    )
    .bind(profile_set_id)
    .fetch_all(pool)
    .await
}

/// What a profile run found in one column.
#[derive(Debug, Clone)]
pub struct NewResult {
    pub column_metadata_id: i64,
    pub table_name: String,
    pub column_name: String,
    /// The domain found, with its default algorithm; None: nothing found.
    pub found: Option<Found>,
    pub values_sampled: i64,
    pub values_matched: i64,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub domain_name: String,
    pub algorithm_name: String,
    /// An expression's name or a validator's.
    pub found_by: String,
    /// `COLUMN_NAME` or `DATA`.
    pub found_in: &'static str,
}

/// Records a column's result and, when something was found and the column is profiler-writable,
/// gives the column its domain and algorithm and marks it masked: one statement, fenced on the
/// execution being RUNNING on this worker. Whether it was recorded (false: the run must stop).
pub async fn record_result(
    pool: &Db,
    execution_id: i64,
    worker_id: &str,
    r: &NewResult,
) -> Result<bool, sqlx::Error> {
    let found = r.found.as_ref();
    let recorded: Option<i32> = sqlx::query_scalar(
        "WITH fenced AS (
             SELECT 1 FROM executions
              WHERE execution_id = $1 AND status = 'RUNNING' AND worker_id = $2
         ), applied AS (
             UPDATE column_metadata
                SET domain_name = $6, algorithm_name = $7, is_masked = true
              WHERE column_metadata_id = $3 AND is_profiler_writable AND $6::text IS NOT NULL
                AND EXISTS (SELECT 1 FROM fenced)
             RETURNING 1
         )
         INSERT INTO profile_results
             (execution_id, column_metadata_id, table_name, column_name, domain_name, found_by,
              found_in, values_sampled, values_matched, applied)
         SELECT $1, $3, $4, $5, $6, $8, $9, $10, $11, EXISTS (SELECT 1 FROM applied) FROM fenced
         RETURNING 1",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(r.column_metadata_id)
    .bind(&r.table_name)
    .bind(&r.column_name)
    .bind(found.map(|f| f.domain_name.as_str()))
    .bind(found.map(|f| f.algorithm_name.as_str()))
    .bind(found.map(|f| f.found_by.as_str()))
    .bind(found.map(|f| f.found_in))
    .bind(r.values_sampled)
    .bind(r.values_matched)
    .fetch_optional(pool)
    .await?;
    Ok(recorded.is_some())
}

/// A column's result of a profile run, as `/profile-results-database` answers it.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileResultDatabase {
    pub profile_result_id: i64,
    pub execution_id: i64,
    pub table_name: String,
    pub column_name: String,
    /// Null when the column's metadata has been deleted since.
    pub column_metadata_id: Option<i64>,
    /// The domain found; null when nothing was.
    pub domain_name: Option<String>,
    /// The name of the expression or validator that found it.
    pub found_by: Option<String>,
    /// `COLUMN_NAME` (the name matched and the sample had too few values to say) or `DATA`.
    pub found_in: Option<String>,
    /// Non-blank values sampled, and how many of them matched.
    pub values_sampled: i64,
    pub values_matched: i64,
    /// values_matched / values_sampled (0 when nothing was sampled).
    pub match_ratio: f64,
    /// Whether the column took the finding (false when its isProfilerWritable is false).
    pub applied: bool,
}

impl Resource for ProfileResultDatabase {
    const NOUN: &'static str = "profile result";
    const TABLE: &'static str = "profile_results";
    const ID: &'static str = "profile_result_id";
    const COLUMNS: &'static str = "profile_result_id, execution_id, table_name, column_name, column_metadata_id, \
         domain_name, found_by, found_in, values_sampled, values_matched, \
         CASE WHEN values_sampled > 0 THEN values_matched::float8 / values_sampled ELSE 0 END AS match_ratio, applied";
}
