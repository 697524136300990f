//! Profile jobs: which ruleset to profile with which profile set. They share the id space of
//! masking jobs (`jobs`, sequence `job_ids`), so `POST /executions {"jobId"}` runs either.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use super::Resource;
use crate::db::Db;
use crate::types::serde_helpers;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileJob {
    pub profile_job_id: i64,
    pub job_name: String,
    pub profile_set_id: i64,
    pub ruleset_id: i64,
    /// Always `DATABASE`: maskd profiles databases.
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
    /// Tables of one execution profiled at once, each on its own target connection.
    pub num_input_streams: i32,
    /// true: every expression and validator looks at a column, and the one with the most evidence
    /// wins; false: the first that finds it (in id order, validators after expressions) does.
    pub multiple_profiler_check: bool,
}

impl Resource for ProfileJob {
    const NOUN: &'static str = "profile job";
    const TABLE: &'static str = "profile_jobs";
    const ID: &'static str = "profile_job_id";
    const COLUMNS: &'static str = "profile_job_id, job_name, profile_set_id, ruleset_id, 'DATABASE' AS ruleset_type, \
         created_by, created_time, NULL::text AS email, feedback_size, job_description, max_memory, min_memory, \
         multi_tenant, num_input_streams, multiple_profiler_check";
}

/// The fields a POST sets and a PUT may change; None keeps the current value (or takes the
/// default, on create); `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone)]
pub struct ProfileJobFields {
    pub job_name: Option<String>,
    pub profile_set_id: Option<i64>,
    pub ruleset_id: Option<i64>,
    pub feedback_size: Option<i32>,
    pub job_description: Option<Option<String>>,
    pub max_memory: Option<Option<i32>>,
    pub min_memory: Option<Option<i32>>,
    pub multi_tenant: Option<bool>,
    pub num_input_streams: Option<i32>,
    pub multiple_profiler_check: Option<bool>,
}

/// None when the ruleset or the profile set does not exist.
pub async fn create(
    pool: &Db,
    f: &ProfileJobFields,
    created_by: &str,
) -> Result<Option<ProfileJob>, sqlx::Error> {
    sqlx::query_as(&format!(
        "INSERT INTO profile_jobs (job_name, profile_set_id, ruleset_id, feedback_size, job_description,
             max_memory, min_memory, multi_tenant, num_input_streams, multiple_profiler_check, created_by)
         SELECT $1, s.profile_set_id, r.database_ruleset_id, COALESCE($4, 50000), $5, $6, $7,
                COALESCE($8, false), COALESCE($9, 1), COALESCE($10, false), $11
           FROM profile_sets s, database_rulesets r
          WHERE s.profile_set_id = $2 AND r.database_ruleset_id = $3
         RETURNING {}",
        ProfileJob::COLUMNS
    ))
    .bind(&f.job_name)
    .bind(f.profile_set_id)
    .bind(f.ruleset_id)
    .bind(f.feedback_size)
    .bind(f.job_description.clone().flatten())
    .bind(f.max_memory.flatten())
    .bind(f.min_memory.flatten())
    .bind(f.multi_tenant)
    .bind(f.num_input_streams)
    .bind(f.multiple_profiler_check)
    .bind(created_by)
    .fetch_optional(pool)
    .await
}

/// None when the job (or a new ruleset or profile set) does not exist.
pub async fn update(
    pool: &Db,
    id: i64,
    f: &ProfileJobFields,
) -> Result<Option<ProfileJob>, sqlx::Error> {
    sqlx::query_as(&format!(
        "UPDATE profile_jobs
            SET job_name = COALESCE($2, job_name),
                profile_set_id = COALESCE($3, profile_set_id),
                ruleset_id = COALESCE($4, ruleset_id),
                feedback_size = COALESCE($5, feedback_size),
                job_description = CASE WHEN $6 THEN $7 ELSE job_description END,
                max_memory = CASE WHEN $8 THEN $9 ELSE max_memory END,
                min_memory = CASE WHEN $10 THEN $11 ELSE min_memory END,
                multi_tenant = COALESCE($12, multi_tenant),
                num_input_streams = COALESCE($13, num_input_streams),
                multiple_profiler_check = COALESCE($14, multiple_profiler_check)
          WHERE profile_job_id = $1
            AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM profile_sets WHERE profile_set_id = $3))
            AND ($4::bigint IS NULL OR EXISTS (SELECT 1 FROM database_rulesets WHERE database_ruleset_id = $4))
         RETURNING {}",
        ProfileJob::COLUMNS
    ))
    .bind(id)
    .bind(&f.job_name)
    .bind(f.profile_set_id)
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
    .bind(f.multiple_profiler_check)
    .fetch_optional(pool)
    .await
}

/// Deletes a profile job and its stopped executions in one statement, as `jobs::delete` does for
/// masking jobs: an execution that has not stopped keeps the job.
pub async fn delete(pool: &Db, id: i64) -> Result<super::jobs::Deleted, sqlx::Error> {
    super::jobs::delete_of(pool, "profile_jobs", "profile_job_id", id).await
}
