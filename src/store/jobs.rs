use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use sqlx::types::Json;

use super::{Filter, Resource};
use crate::db::Db;
use crate::types::serde_helpers;

/// A SQL script a job runs on its target (Delphix's MaskingJobScript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MaskingJobScript {
    /// A name for the script, shown in events.
    pub name: Option<String>,
    /// The SQL, run in one transaction. Missing reads as empty, which the API refuses by name.
    #[serde(default)]
    pub contents: String,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseMaskingOptions {
    pub batch_update: bool,
    pub commit_size: i32,
    pub disable_constraints: bool,
    pub drop_indexes: bool,
    pub disable_triggers: bool,
    /// Always 1: each table is written on one connection (`numInputStreams` masks tables at once).
    pub num_output_threads_per_stream: i32,
    /// On-the-fly jobs: empty the target tables before writing into them (else rows are added).
    pub truncate_tables: bool,
    /// Run on the target before the first table, in its own transaction.
    #[sqlx(json(nullable))]
    pub prescript: Option<MaskingJobScript>,
    /// Run on the target after the last table, in its own transaction.
    #[sqlx(json(nullable))]
    pub postscript: Option<MaskingJobScript>,
}

/// Where an on-the-fly job reads: a database connector, only ever read.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OnTheFlyMaskingSource {
    pub connector_id: i64,
    pub connector_type: String,
}

/// A masking job, with every field of Delphix's MaskingJob.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaskingJob {
    pub masking_job_id: i64,
    pub job_name: String,
    pub ruleset_id: i64,
    /// Always DATABASE: file masking does not exist yet.
    #[schema(schema_with = crate::types::schema::ruleset_type)]
    pub ruleset_type: String,
    pub created_by: Option<String>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub created_time: DateTime<Utc>,
    /// Always null: maskd sends no mail.
    pub email: Option<String>,
    pub feedback_size: i32,
    pub job_description: Option<String>,
    /// Stored and answered; no effect in maskd (it tunes Delphix's JVM).
    pub max_memory: Option<i32>,
    /// Stored and answered; no effect in maskd (it tunes Delphix's JVM).
    pub min_memory: Option<i32>,
    pub multi_tenant: bool,
    /// Tables of one execution masked at once, each on its own target connection.
    pub num_input_streams: i32,
    pub on_the_fly_masking: bool,
    #[sqlx(flatten)]
    pub database_masking_options: DatabaseMaskingOptions,
    #[sqlx(json(nullable))]
    pub on_the_fly_masking_source: Option<OnTheFlyMaskingSource>,
    pub fail_immediately: bool,
    /// Always null: maskd has no plugin tasks.
    pub enabled_tasks: Option<Vec<String>>,
    /// Stored and answered; no effect in maskd.
    pub stream_row_limit: Option<i32>,
}

impl Resource for MaskingJob {
    const NOUN: &'static str = "masking job";
    const TABLE: &'static str = "masking_jobs";
    const ID: &'static str = "masking_job_id";
    const COLUMNS: &'static str = "masking_job_id, job_name, ruleset_id, 'DATABASE' AS ruleset_type, created_by, \
         created_time, NULL::text AS email, feedback_size, job_description, max_memory, min_memory, multi_tenant, \
         num_input_streams, on_the_fly_masking, batch_update, commit_size, disable_constraints, drop_indexes, \
         disable_triggers, 1 AS num_output_threads_per_stream, truncate_tables, prescript, postscript, \
         CASE WHEN on_the_fly_source_connector_id IS NOT NULL THEN jsonb_build_object('connectorId', \
         on_the_fly_source_connector_id, 'connectorType', 'DATABASE') END AS on_the_fly_masking_source, \
         fail_immediately, NULL::text[] AS enabled_tasks, stream_row_limit";
}

/// Filters masking or profile jobs by environment (job -> ruleset -> connector -> environment).
pub fn in_environment(environment_id: i64) -> Filter {
    Filter::IntIn(
        "ruleset_id",
        "SELECT r.database_ruleset_id FROM database_rulesets r JOIN database_connectors c \
         USING (database_connector_id) WHERE c.environment_id = ",
        environment_id,
    )
}

/// The fields of a job that a POST sets and a PUT may change; None keeps the current value
/// (or takes the default, on create); `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone)]
pub struct JobFields {
    pub job_name: Option<String>,
    pub ruleset_id: Option<i64>,
    pub feedback_size: Option<i32>,
    pub job_description: Option<Option<String>>,
    pub max_memory: Option<Option<i32>>,
    pub min_memory: Option<Option<i32>>,
    pub multi_tenant: Option<bool>,
    pub num_input_streams: Option<i32>,
    pub on_the_fly_masking: Option<bool>,
    /// The on-the-fly source connector; `Some(None)` clears it.
    pub on_the_fly_source: Option<Option<i64>>,
    pub truncate_tables: Option<bool>,
    pub fail_immediately: Option<bool>,
    pub stream_row_limit: Option<Option<i32>>,
    pub batch_update: Option<bool>,
    pub commit_size: Option<i32>,
    pub disable_constraints: Option<bool>,
    pub drop_indexes: Option<bool>,
    pub disable_triggers: Option<bool>,
    pub prescript: Option<Option<MaskingJobScript>>,
    pub postscript: Option<Option<MaskingJobScript>>,
}

fn script(s: &Option<Option<MaskingJobScript>>) -> Option<Json<&MaskingJobScript>> {
    s.as_ref().and_then(Option::as_ref).map(Json)
}

/// None when the ruleset does not exist.
pub async fn create(
    pool: &Db,
    f: &JobFields,
    created_by: &str,
) -> Result<Option<MaskingJob>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO masking_jobs (job_name, ruleset_id, feedback_size, job_description, max_memory, min_memory,
             multi_tenant, num_input_streams, on_the_fly_masking, fail_immediately, stream_row_limit,
             batch_update, commit_size, disable_constraints, drop_indexes, disable_triggers, prescript,
             postscript, created_by, on_the_fly_source_connector_id, truncate_tables)
         SELECT $1, database_ruleset_id, COALESCE($3, 50000), $4, $5, $6, COALESCE($7, false),
                COALESCE($8, 1), COALESCE($9, false), COALESCE($10, false), $11, COALESCE($12, true),
                COALESCE($13, 10000), COALESCE($14, false), COALESCE($15, false), COALESCE($16, false),
                $17, $18, $19, $20, COALESCE($21, false)
           FROM database_rulesets WHERE database_ruleset_id = $2
         RETURNING {}",
        MaskingJob::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(&f.job_name)
        .bind(f.ruleset_id)
        .bind(f.feedback_size)
        .bind(f.job_description.clone().flatten())
        .bind(f.max_memory.flatten())
        .bind(f.min_memory.flatten())
        .bind(f.multi_tenant)
        .bind(f.num_input_streams)
        .bind(f.on_the_fly_masking)
        .bind(f.fail_immediately)
        .bind(f.stream_row_limit.flatten())
        .bind(f.batch_update)
        .bind(f.commit_size)
        .bind(f.disable_constraints)
        .bind(f.drop_indexes)
        .bind(f.disable_triggers)
        .bind(script(&f.prescript))
        .bind(script(&f.postscript))
        .bind(created_by)
        .bind(f.on_the_fly_source.flatten())
        .bind(f.truncate_tables)
        .fetch_optional(pool)
        .await
}

/// None when the job (or the new ruleset) does not exist.
pub async fn update(pool: &Db, id: i64, f: &JobFields) -> Result<Option<MaskingJob>, sqlx::Error> {
    let sql = format!(
        "UPDATE masking_jobs
            SET job_name = COALESCE($2, job_name),
                ruleset_id = COALESCE($3, ruleset_id),
                feedback_size = COALESCE($4, feedback_size),
                job_description = CASE WHEN $5 THEN $6 ELSE job_description END,
                max_memory = CASE WHEN $7 THEN $8 ELSE max_memory END,
                min_memory = CASE WHEN $9 THEN $10 ELSE min_memory END,
                multi_tenant = COALESCE($11, multi_tenant),
                num_input_streams = COALESCE($12, num_input_streams),
                on_the_fly_masking = COALESCE($13, on_the_fly_masking),
                fail_immediately = COALESCE($14, fail_immediately),
                stream_row_limit = CASE WHEN $15 THEN $16 ELSE stream_row_limit END,
                batch_update = COALESCE($17, batch_update),
                commit_size = COALESCE($18, commit_size),
                disable_constraints = COALESCE($19, disable_constraints),
                drop_indexes = COALESCE($20, drop_indexes),
                disable_triggers = COALESCE($21, disable_triggers),
                prescript = CASE WHEN $22 THEN $23 ELSE prescript END,
                postscript = CASE WHEN $24 THEN $25 ELSE postscript END,
                on_the_fly_source_connector_id = CASE WHEN $26 THEN $27 ELSE on_the_fly_source_connector_id END,
                truncate_tables = COALESCE($28, truncate_tables)
          WHERE masking_job_id = $1
            AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM database_rulesets WHERE database_ruleset_id = $3))
         RETURNING {}",
        MaskingJob::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(&f.job_name)
        .bind(f.ruleset_id)
        .bind(f.feedback_size)
        .bind(f.job_description.is_some())
        .bind(f.job_description.clone().flatten())
        .bind(f.max_memory.is_some())
        .bind(f.max_memory.flatten())
        .bind(f.min_memory.is_some())
        .bind(f.min_memory.flatten())
        .bind(f.multi_tenant)
        .bind(f.num_input_streams)
        .bind(f.on_the_fly_masking)
        .bind(f.fail_immediately)
        .bind(f.stream_row_limit.is_some())
        .bind(f.stream_row_limit.flatten())
        .bind(f.batch_update)
        .bind(f.commit_size)
        .bind(f.disable_constraints)
        .bind(f.drop_indexes)
        .bind(f.disable_triggers)
        .bind(f.prescript.is_some())
        .bind(script(&f.prescript))
        .bind(f.postscript.is_some())
        .bind(script(&f.postscript))
        .bind(f.on_the_fly_source.is_some())
        .bind(f.on_the_fly_source.flatten())
        .bind(f.truncate_tables)
        .fetch_optional(pool)
        .await
}

/// What deleting a job did.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    Yes,
    NotFound,
    /// An execution of it has not stopped yet.
    Active,
}

/// Deletes a masking job and its stopped executions in one statement.
pub async fn delete(pool: &Db, id: i64) -> Result<Deleted, sqlx::Error> {
    delete_of(pool, "masking_jobs", "masking_job_id", id).await
}

/// Deletes the job `id` of `table` (whose id column is `id_column`; both from code) and its
/// stopped executions in one statement. An execution that has not stopped (no `end_time`) keeps
/// the job: the foreign key from executions to `jobs` is RESTRICT, so even one submitted
/// concurrently makes PostgreSQL refuse the delete.
pub(super) async fn delete_of(
    pool: &Db,
    table: &str,
    id_column: &str,
    id: i64,
) -> Result<Deleted, sqlx::Error> {
    let row: Option<(bool, bool)> = sqlx::query_as(&format!(
        "WITH job AS (SELECT {id_column} AS id FROM {table} WHERE {id_column} = $1 FOR UPDATE),
              active AS (SELECT 1 FROM executions WHERE job_id = $1 AND end_time IS NULL),
              history AS (DELETE FROM executions WHERE job_id = (SELECT id FROM job)
                          AND end_time IS NOT NULL AND NOT EXISTS (SELECT 1 FROM active)),
              gone AS (DELETE FROM {table} WHERE {id_column} = (SELECT id FROM job)
                       AND NOT EXISTS (SELECT 1 FROM active) RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM job), EXISTS (SELECT 1 FROM gone)"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some((true, true)) => Deleted::Yes,
        Some((true, false)) => Deleted::Active,
        _ => Deleted::NotFound,
    })
}

/// What kind of job an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "UPPERCASE")]
pub enum JobKind {
    Masking,
    Profile,
}

/// A table of in-place masking job `id`'s ruleset that has a customSql and masked columns (which
/// only an on-the-fly job can read): why a submission of the job is refused.
pub async fn in_place_table_with_custom_sql(
    pool: &Db,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT t.table_name FROM masking_jobs m JOIN table_metadata t USING (ruleset_id)
          WHERE m.masking_job_id = $1 AND {IN_PLACE_CUSTOM_SQL} LIMIT 1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// True for a table `t` of masking job `m` that an in-place run cannot mask: it has a customSql
/// and masked columns.
pub const IN_PLACE_CUSTOM_SQL: &str = "NOT m.on_the_fly_masking AND t.custom_sql IS NOT NULL \
     AND EXISTS (SELECT 1 FROM column_metadata c \
                  WHERE c.table_metadata_id = t.table_metadata_id AND c.is_masked AND c.algorithm_name IS NOT NULL)";

/// What a submission of job `id` is checked against: its kind, whether it is multi-tenant, and
/// whether it is on-the-fly (masking jobs only). None when no job has this id.
pub async fn submission_facts(
    pool: &Db,
    id: i64,
) -> Result<Option<(JobKind, bool, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT j.kind, COALESCE(m.multi_tenant, p.multi_tenant), COALESCE(m.on_the_fly_masking, false)
           FROM jobs j
           LEFT JOIN masking_jobs m ON m.masking_job_id = j.job_id
           LEFT JOIN profile_jobs p ON p.profile_job_id = j.job_id
          WHERE j.job_id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
