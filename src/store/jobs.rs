use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::{Filter, Resource};
use crate::db::Db;
use crate::types::serde_helpers;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseMaskingOptions {
    pub commit_size: i32,
    pub disable_constraints: bool,
    pub disable_triggers: bool,
    pub drop_indexes: bool,
    pub batch_update: bool,
}

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaskingJob {
    pub masking_job_id: i64,
    pub job_name: String,
    pub ruleset_id: i64,
    /// Always DATABASE: file masking does not exist yet.
    #[schema(schema_with = crate::types::schema::ruleset_type)]
    pub ruleset_type: String,
    pub feedback_size: i32,
    pub job_description: Option<String>,
    pub multi_tenant: bool,
    pub on_the_fly_masking: bool,
    pub fail_immediately: bool,
    #[sqlx(flatten)]
    pub database_masking_options: DatabaseMaskingOptions,
    pub created_by: Option<String>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub created_time: DateTime<Utc>,
}

impl Resource for MaskingJob {
    const NOUN: &'static str = "masking job";
    const TABLE: &'static str = "masking_jobs";
    const ID: &'static str = "masking_job_id";
    const COLUMNS: &'static str = "masking_job_id, job_name, ruleset_id, 'DATABASE' AS ruleset_type, feedback_size, \
         job_description, multi_tenant, on_the_fly_masking, fail_immediately, commit_size, disable_constraints, \
         disable_triggers, drop_indexes, batch_update, created_by, created_time";
}

/// Filters jobs by environment (job -> ruleset -> connector -> environment).
pub fn in_environment(environment_id: i64) -> Filter {
    Filter::IntIn(
        "ruleset_id",
        "SELECT r.database_ruleset_id FROM database_rulesets r JOIN database_connectors c \
         USING (database_connector_id) WHERE c.environment_id = ",
        environment_id,
    )
}

/// The fields of a job that a POST sets and a PUT may change; None keeps the current value
/// (or takes the default, on create).
#[derive(Debug, Default, Clone)]
pub struct JobFields {
    pub job_name: Option<String>,
    pub ruleset_id: Option<i64>,
    pub feedback_size: Option<i32>,
    /// Some(None) clears it.
    pub job_description: Option<Option<String>>,
    pub multi_tenant: Option<bool>,
    pub on_the_fly_masking: Option<bool>,
    pub fail_immediately: Option<bool>,
    pub commit_size: Option<i32>,
    pub disable_constraints: Option<bool>,
    pub disable_triggers: Option<bool>,
    pub drop_indexes: Option<bool>,
    pub batch_update: Option<bool>,
}

/// None when the ruleset does not exist.
pub async fn create(
    pool: &Db,
    f: &JobFields,
    created_by: &str,
) -> Result<Option<MaskingJob>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO masking_jobs (job_name, ruleset_id, feedback_size, job_description, multi_tenant,
             on_the_fly_masking, fail_immediately, commit_size, disable_constraints, disable_triggers,
             drop_indexes, batch_update, created_by)
         SELECT $1, database_ruleset_id, COALESCE($3, 50000), $4, COALESCE($5, false), COALESCE($6, false),
                COALESCE($7, false), COALESCE($8, 10000), COALESCE($9, false), COALESCE($10, false),
                COALESCE($11, false), COALESCE($12, true), $13
           FROM database_rulesets WHERE database_ruleset_id = $2
         RETURNING {}",
        MaskingJob::COLUMNS
    );
    sqlx::query_as(&sql)
        .bind(&f.job_name)
        .bind(f.ruleset_id)
        .bind(f.feedback_size)
        .bind(f.job_description.clone().flatten())
        .bind(f.multi_tenant)
        .bind(f.on_the_fly_masking)
        .bind(f.fail_immediately)
        .bind(f.commit_size)
        .bind(f.disable_constraints)
        .bind(f.disable_triggers)
        .bind(f.drop_indexes)
        .bind(f.batch_update)
        .bind(created_by)
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
                multi_tenant = COALESCE($7, multi_tenant),
                on_the_fly_masking = COALESCE($8, on_the_fly_masking),
                fail_immediately = COALESCE($9, fail_immediately),
                commit_size = COALESCE($10, commit_size),
                disable_constraints = COALESCE($11, disable_constraints),
                disable_triggers = COALESCE($12, disable_triggers),
                drop_indexes = COALESCE($13, drop_indexes),
                batch_update = COALESCE($14, batch_update)
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
        .bind(f.multi_tenant)
        .bind(f.on_the_fly_masking)
        .bind(f.fail_immediately)
        .bind(f.commit_size)
        .bind(f.disable_constraints)
        .bind(f.disable_triggers)
        .bind(f.drop_indexes)
        .bind(f.batch_update)
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

/// Deletes a job and its stopped executions in one statement. An execution that has not stopped
/// (no `end_time`) keeps the job: the foreign key is RESTRICT, so even one submitted concurrently
/// makes PostgreSQL refuse the delete.
pub async fn delete(pool: &Db, id: i64) -> Result<Deleted, sqlx::Error> {
    let row: Option<(bool, bool)> = sqlx::query_as(
        "WITH job AS (SELECT masking_job_id FROM masking_jobs WHERE masking_job_id = $1 FOR UPDATE),
              active AS (SELECT 1 FROM executions WHERE job_id = $1 AND end_time IS NULL),
              history AS (DELETE FROM executions WHERE job_id = (SELECT masking_job_id FROM job)
                          AND end_time IS NOT NULL AND NOT EXISTS (SELECT 1 FROM active)),
              gone AS (DELETE FROM masking_jobs WHERE masking_job_id = (SELECT masking_job_id FROM job)
                       AND NOT EXISTS (SELECT 1 FROM active) RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM job), EXISTS (SELECT 1 FROM gone)",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some((true, true)) => Deleted::Yes,
        Some((true, false)) => Deleted::Active,
        _ => Deleted::NotFound,
    })
}
