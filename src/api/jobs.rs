use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, get_answer, list_answer, request};
use crate::sql_error::{self, sqlstate};
use crate::store::jobs::{self, Deleted, JobFields, MaskingJob, MaskingJobScript};
use crate::types::serde_helpers::{Int, present};

/// Lists masking jobs.
#[utoipa::path(get, path = "/masking-jobs", operation_id = "getAllMaskingJobs", tag = "maskingJob",
    params(super::request::PageParams, ("environment_id" = Option<i64>, Query, minimum = 1, description = "Only the jobs whose ruleset is in this environment")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<MaskingJob>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(jobs::in_environment(id));
    }
    list_answer::<MaskingJob>(&state.pool, filters, query.page()?).await
}

/// Reads one masking job.
#[utoipa::path(get, path = "/masking-jobs/{maskingJobId}", operation_id = "getMaskingJobById", tag = "maskingJob",
    params(("maskingJobId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = MaskingJob)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<MaskingJob>(&state.pool, &req, "maskingJobId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const READ_ONLY: &[&str] = &["maskingJobId", "createdBy", "createdTime"];
/// What a POST must carry.
pub(super) const REQUIRED_ON_CREATE: &[&str] = &["jobName", "rulesetId"];

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = DatabaseMaskingOptionsUpdate)]
struct OptionsBody {
    batch_update: Option<bool>,
    #[schema(minimum = 1)]
    commit_size: Option<Int>,
    disable_constraints: Option<bool>,
    drop_indexes: Option<bool>,
    disable_triggers: Option<bool>,
    /// Only 1: each table is written on one connection; `numInputStreams` masks tables at once.
    #[schema(minimum = 1, maximum = 1)]
    num_output_threads_per_stream: Option<Int>,
    /// On-the-fly jobs only: empty the target tables before writing into them.
    truncate_tables: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<MaskingJobScript>)]
    prescript: Option<Option<MaskingJobScript>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<MaskingJobScript>)]
    postscript: Option<Option<MaskingJobScript>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MaskingJobUpdate)]
struct Body {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    job_name: Option<String>,
    ruleset_id: Option<Int>,
    #[schema(schema_with = crate::types::schema::ruleset_type)]
    ruleset_type: Option<String>,
    /// Only null: maskd sends no mail.
    email: Option<String>,
    #[schema(minimum = 1)]
    feedback_size: Option<Int>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    job_description: Option<Option<String>>,
    /// Stored and answered; no effect in maskd.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    max_memory: Option<Option<Int>>,
    /// Stored and answered; no effect in maskd.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    min_memory: Option<Option<Int>>,
    multi_tenant: Option<bool>,
    /// Tables masked at once, each on its own target connection (default 1).
    #[schema(minimum = 1, maximum = 64)]
    num_input_streams: Option<Int>,
    /// true: read each table from `onTheFlyMaskingSource` and write it, masked, into the table of
    /// the same name in the ruleset's connector; false (the default): mask in place.
    on_the_fly_masking: Option<bool>,
    database_masking_options: Option<OptionsBody>,
    /// The database connector an on-the-fly job reads from (never writes); null for a job that
    /// masks in place, or a multi-tenant one taking `sourceConnectorId` per execution.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<SourceBody>)]
    on_the_fly_masking_source: Option<Option<SourceBody>>,
    fail_immediately: Option<bool>,
    /// Only null or empty: maskd has no plugin tasks.
    enabled_tasks: Option<Vec<serde_json::Value>>,
    /// Stored and answered; no effect in maskd.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    stream_row_limit: Option<Option<Int>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OnTheFlyMaskingSourceUpdate)]
struct SourceBody {
    #[schema(required = true)]
    connector_id: Option<Int>,
    /// Only DATABASE (the default).
    #[schema(schema_with = crate::types::schema::connector_type)]
    connector_type: Option<String>,
}

/// The source connector of `onTheFlyMaskingSource`; `Some(None)` for null.
fn source(value: Option<Option<SourceBody>>) -> ApiResult<Option<Option<i64>>> {
    let Some(Some(s)) = value else {
        return Ok(value.map(|_| None));
    };
    match s.connector_type.as_deref() {
        None | Some("DATABASE") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "onTheFlyMaskingSource.connectorType '{other}' is not supported: an on-the-fly job reads a DATABASE connector"
            )));
        }
    }
    let Some(Int(id)) = s.connector_id else {
        return Err(ApiError::BadRequest(
            "onTheFlyMaskingSource.connectorId is required: the database connector to read from"
                .into(),
        ));
    };
    Ok(Some(Some(id)))
}

/// A job's write refused by a foreign key: the source connector named does not exist.
fn missing_source(e: sqlx::Error, fields: &JobFields) -> ApiError {
    match &e {
        sqlx::Error::Database(db)
            if db.constraint() == Some("masking_jobs_on_the_fly_source_connector_id_fkey") =>
        {
            ApiError::NotFound(format!(
                "database connector {} (onTheFlyMaskingSource.connectorId) does not exist",
                fields.on_the_fly_source.flatten().unwrap_or_default()
            ))
        }
        _ => e.into(),
    }
}

/// Each stream holds a target connection; more than this would exhaust a target's connections
/// (PostgreSQL's default `max_connections` is 100) before it would speed anything up.
pub(super) const MAX_INPUT_STREAMS: i64 = 64;

pub(super) fn in_range(
    name: &str,
    value: Option<Int>,
    min: i64,
    max: i64,
) -> ApiResult<Option<i32>> {
    match value {
        None => Ok(None),
        Some(Int(n)) if (min..=max).contains(&n) => Ok(Some(n as i32)),
        Some(Int(n)) => Err(ApiError::BadRequest(format!(
            "{name} must be from {min} to {max}, got {n}"
        ))),
    }
}

pub(super) fn positive(name: &str, value: Option<Int>) -> ApiResult<Option<i32>> {
    in_range(name, value, 1, i32::MAX as i64)
}

/// A nullable number field: absent keeps it, null clears it.
pub(super) fn nullable(
    name: &str,
    value: Option<Option<Int>>,
    min: i64,
) -> ApiResult<Option<Option<i32>>> {
    value
        .map(|v| in_range(name, v, min, i32::MAX as i64))
        .transpose()
}

fn script(
    name: &str,
    value: Option<Option<MaskingJobScript>>,
) -> ApiResult<Option<Option<MaskingJobScript>>> {
    if let Some(Some(s)) = &value {
        if s.contents.trim().is_empty() {
            return Err(ApiError::BadRequest(format!(
                "{name}.contents is required: the SQL to run on the target"
            )));
        }
        request::optional_text(&format!("{name}.name"), s.name.clone())?;
        if s.contents.contains('\0') {
            return Err(ApiError::BadRequest(format!(
                "{name}.contents must not contain NUL characters"
            )));
        }
    }
    Ok(value)
}

/// Parses the changeable fields of a job body, refusing by name every field maskd cannot honour.
fn fields(body: Body) -> ApiResult<JobFields> {
    match body.ruleset_type.as_deref() {
        None | Some("DATABASE") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "rulesetType '{other}' is not supported: maskd runs DATABASE jobs"
            )));
        }
    }
    use request::unsupported;
    unsupported(
        "email",
        body.email.is_some(),
        "maskd sends no mail; watch GET /executions?job_id= instead",
    )?;
    unsupported(
        "enabledTasks",
        body.enabled_tasks.as_ref().is_some_and(|t| !t.is_empty()),
        "maskd has no plugin tasks; leave it null",
    )?;
    let options = body.database_masking_options.unwrap_or_default();
    unsupported(
        "databaseMaskingOptions.numOutputThreadsPerStream",
        options
            .num_output_threads_per_stream
            .is_some_and(|Int(n)| n != 1),
        "each table is written on one connection (1); use numInputStreams to mask tables at once",
    )?;
    Ok(JobFields {
        job_name: request::optional_text("jobName", body.job_name)?,
        ruleset_id: body.ruleset_id.map(|i| i.0),
        feedback_size: positive("feedbackSize", body.feedback_size)?,
        job_description: match body.job_description {
            Some(Some(d)) => Some(request::optional_text("jobDescription", Some(d))?),
            other => other,
        },
        max_memory: nullable("maxMemory", body.max_memory, 1)?,
        min_memory: nullable("minMemory", body.min_memory, 1)?,
        multi_tenant: body.multi_tenant,
        num_input_streams: in_range(
            "numInputStreams",
            body.num_input_streams,
            1,
            MAX_INPUT_STREAMS,
        )?,
        on_the_fly_masking: body.on_the_fly_masking,
        on_the_fly_source: source(body.on_the_fly_masking_source)?,
        truncate_tables: options.truncate_tables,
        fail_immediately: body.fail_immediately,
        stream_row_limit: nullable("streamRowLimit", body.stream_row_limit, 0)?,
        batch_update: options.batch_update,
        commit_size: positive("databaseMaskingOptions.commitSize", options.commit_size)?,
        disable_constraints: options.disable_constraints,
        drop_indexes: options.drop_indexes,
        disable_triggers: options.disable_triggers,
        prescript: script("databaseMaskingOptions.prescript", options.prescript)?,
        postscript: script("databaseMaskingOptions.postscript", options.postscript)?,
    })
}

/// Creates a masking job.
#[utoipa::path(post, path = "/masking-jobs", operation_id = "createMaskingJob", tag = "maskingJob",
    request_body = Body,
    responses(
        (status = 201, description = "Created", body = MaskingJob),
        (status = 409, description = "A job of this name exists", body = super::error::ErrorAnswer),
        (status = 404, description = "The ruleset does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = request::Object::parse(&req, &body)?.without(READ_ONLY);
    body.require(REQUIRED_ON_CREATE)?;
    let fields = fields(body.read()?)?;
    let (Some(_), Some(ruleset_id)) = (&fields.job_name, fields.ruleset_id) else {
        return Err(ApiError::BadRequest(
            "jobName and rulesetId are required".into(),
        ));
    };
    let created = jobs::create(&state.pool, &fields, &user.user.username)
        .await
        .map_err(|e| missing_source(e, &fields))?
        .ok_or_else(|| {
            ApiError::NotFound(format!("database ruleset {ruleset_id} does not exist"))
        })?;
    tracing::info!(jobId = created.masking_job_id, "masking job created");
    Ok(HttpResponse::Created().json(created))
}

/// Changes a masking job.
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/masking-jobs/{maskingJobId}", operation_id = "updateMaskingJob", tag = "maskingJob",
    params(("maskingJobId" = i64, Path, minimum = 1)),
    request_body = Body,
    responses(
        (status = 200, description = "The whole updated object", body = MaskingJob),
        (status = 409, description = "A job of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "maskingJobId")?;
    let current = crate::store::get::<MaskingJob>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("masking job {id} does not exist")))?;
    let body: Body = request::Object::parse(&req, &body)?
        .matching(&current, READ_ONLY)?
        .read()?;
    let fields = fields(body)?;
    match jobs::update(&state.pool, id, &fields)
        .await
        .map_err(|e| missing_source(e, &fields))?
    {
        Some(job) => Ok(HttpResponse::Ok().json(job)),
        None => match crate::store::get::<MaskingJob>(&state.pool, id).await? {
            None => Err(ApiError::NotFound(format!(
                "masking job {id} does not exist"
            ))),
            Some(_) => Err(ApiError::NotFound(format!(
                "database ruleset {} does not exist",
                fields.ruleset_id.unwrap_or_default()
            ))),
        },
    }
}

/// Deletes a masking job and its finished executions.
#[utoipa::path(delete, path = "/masking-jobs/{maskingJobId}", operation_id = "deleteMaskingJob", tag = "maskingJob",
    params(("maskingJobId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "The job has an execution that has not stopped", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "maskingJobId")?;
    deleted("masking job", id, jobs::delete(&state.pool, id).await)
}

/// The answer to deleting job `id`, a `kind` ("masking job", "profile job").
pub(super) fn deleted(
    kind: &str,
    id: i64,
    outcome: Result<Deleted, sqlx::Error>,
) -> ApiResult<HttpResponse> {
    let active = || {
        ApiError::Conflict(format!(
            "{kind} {id} has an execution that has not stopped; cancel it or wait for it to end"
        ))
    };
    match outcome {
        Ok(Deleted::Yes) => Ok(HttpResponse::Ok().finish()),
        Ok(Deleted::NotFound) => Err(ApiError::NotFound(format!("{kind} {id} does not exist"))),
        Ok(Deleted::Active) => Err(active()),
        // An execution submitted while the delete ran: the RESTRICT foreign key refused it.
        Err(e) if sql_error::is(&e, sqlstate::FOREIGN_KEY_VIOLATION) => Err(active()),
        Err(e) => Err(e.into()),
    }
}
