use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, get_answer, list_answer, request};
use crate::sql_error::{self, sqlstate};
use crate::store::jobs::{self, Deleted, JobFields, MaskingJob};
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

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DatabaseMaskingOptionsBody)]
struct OptionsBody {
    commit_size: Option<Int>,
    disable_constraints: Option<bool>,
    disable_triggers: Option<bool>,
    drop_indexes: Option<bool>,
    batch_update: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MaskingJobBody)]
struct Body {
    #[schema(read_only)]
    masking_job_id: Option<Int>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    job_name: Option<String>,
    ruleset_id: Option<Int>,
    #[schema(schema_with = crate::types::schema::ruleset_type)]
    ruleset_type: Option<String>,
    feedback_size: Option<Int>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    job_description: Option<Option<String>>,
    multi_tenant: Option<bool>,
    on_the_fly_masking: Option<bool>,
    fail_immediately: Option<bool>,
    database_masking_options: Option<OptionsBody>,
    #[schema(read_only)]
    created_by: Option<String>,
    #[schema(read_only)]
    created_time: Option<String>,
}

fn positive(name: &str, value: Option<Int>) -> ApiResult<Option<i32>> {
    match value {
        None => Ok(None),
        Some(Int(n)) if (1..=i32::MAX as i64).contains(&n) => Ok(Some(n as i32)),
        Some(Int(n)) => Err(ApiError::BadRequest(format!(
            "{name} must be a positive integer, got {n}"
        ))),
    }
}

/// Parses the changeable fields of a job body.
fn fields(body: Body) -> ApiResult<JobFields> {
    if body.created_by.is_some() || body.created_time.is_some() {
        return Err(ApiError::BadRequest(
            "createdBy and createdTime are set by maskd and cannot be changed".into(),
        ));
    }
    match body.ruleset_type.as_deref() {
        None | Some("DATABASE") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "rulesetType '{other}' is not supported: maskd runs DATABASE jobs"
            )));
        }
    }
    if body.on_the_fly_masking == Some(true) {
        return Err(ApiError::BadRequest(
            "on-the-fly masking is not supported: maskd masks in place (onTheFlyMasking false)"
                .into(),
        ));
    }
    let options = body.database_masking_options.unwrap_or_default();
    Ok(JobFields {
        job_name: request::optional_text("jobName", body.job_name)?,
        ruleset_id: body.ruleset_id.map(|i| i.0),
        feedback_size: positive("feedbackSize", body.feedback_size)?,
        job_description: match body.job_description {
            Some(Some(d)) => Some(request::optional_text("jobDescription", Some(d))?),
            other => other,
        },
        multi_tenant: body.multi_tenant,
        on_the_fly_masking: body.on_the_fly_masking,
        fail_immediately: body.fail_immediately,
        commit_size: positive("databaseMaskingOptions.commitSize", options.commit_size)?,
        disable_constraints: options.disable_constraints,
        disable_triggers: options.disable_triggers,
        drop_indexes: options.drop_indexes,
        batch_update: options.batch_update,
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
    let body: Body = request::json(&req, &body)?;
    if body.masking_job_id.is_some() {
        return Err(ApiError::BadRequest(
            "maskingJobId is assigned by maskd; leave it out".into(),
        ));
    }
    let fields = fields(body)?;
    if fields.job_name.is_none() {
        return Err(ApiError::BadRequest("jobName is required".into()));
    }
    let ruleset_id = fields
        .ruleset_id
        .ok_or_else(|| ApiError::BadRequest("rulesetId is required".into()))?;
    let created = jobs::create(&state.pool, &fields, &user.user.username)
        .await?
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
    let body: Body = request::json(&req, &body)?;
    request::same_id("maskingJobId", body.masking_job_id.map(|i| i.0), id)?;
    let fields = fields(body)?;
    match jobs::update(&state.pool, id, &fields).await? {
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
    let active = || {
        ApiError::Conflict(format!(
            "masking job {id} has an execution that has not stopped; cancel it or wait for it to end"
        ))
    };
    match jobs::delete(&state.pool, id).await {
        Ok(Deleted::Yes) => Ok(HttpResponse::Ok().finish()),
        Ok(Deleted::NotFound) => Err(ApiError::NotFound(format!(
            "masking job {id} does not exist"
        ))),
        Ok(Deleted::Active) => Err(active()),
        // An execution submitted while the delete ran: the RESTRICT foreign key refused it.
        Err(e) if sql_error::is(&e, sqlstate::FOREIGN_KEY_VIOLATION) => Err(active()),
        Err(e) => Err(e.into()),
    }
}
