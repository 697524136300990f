//! Profile jobs: a ruleset profiled with a profile set. They run through `/executions` like masking
//! jobs, in the same id space.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::jobs::{MAX_INPUT_STREAMS, in_range, nullable, positive};
use super::{AppState, get_answer, list_answer, request};
use crate::store::profile_jobs::{self, ProfileJob, ProfileJobFields};
use crate::store::profiling::ProfileResultDatabase;
use crate::types::serde_helpers::{Int, present};

/// Lists profile jobs.
#[utoipa::path(get, path = "/profile-jobs", operation_id = "getAllProfileJobs", tag = "profileJob",
    params(super::request::PageParams, ("environment_id" = Option<i64>, Query, minimum = 1, description = "Only the jobs whose ruleset is in this environment")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ProfileJob>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(crate::store::jobs::in_environment(id));
    }
    list_answer::<ProfileJob>(&state.pool, filters, query.page()?).await
}

/// Reads one profile job.
#[utoipa::path(get, path = "/profile-jobs/{profileJobId}", operation_id = "getProfileJobById", tag = "profileJob",
    params(("profileJobId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ProfileJob)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<ProfileJob>(&state.pool, &req, "profileJobId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const READ_ONLY: &[&str] = &["profileJobId", "createdBy", "createdTime"];
/// What a POST must carry.
pub(super) const REQUIRED_ON_CREATE: &[&str] = &["jobName", "profileSetId", "rulesetId"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProfileJobUpdate)]
struct Body {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    job_name: Option<String>,
    profile_set_id: Option<Int>,
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
    /// Tables profiled at once, each on its own target connection (default 1).
    #[schema(minimum = 1, maximum = 64)]
    num_input_streams: Option<Int>,
    /// true: the expression or validator with the most evidence wins; false: the first that finds.
    multiple_profiler_check: Option<bool>,
}

/// Parses the changeable fields of a body, refusing by name what maskd cannot honour.
fn fields(body: Body) -> ApiResult<ProfileJobFields> {
    match body.ruleset_type.as_deref() {
        None | Some("DATABASE") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "rulesetType '{other}' is not supported: maskd profiles DATABASE rulesets"
            )));
        }
    }
    request::unsupported(
        "email",
        body.email.is_some(),
        "maskd sends no mail; watch GET /executions?job_id= instead",
    )?;
    Ok(ProfileJobFields {
        job_name: request::optional_text("jobName", body.job_name)?,
        profile_set_id: body.profile_set_id.map(|i| i.0),
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
        multiple_profiler_check: body.multiple_profiler_check,
    })
}

/// Why a create or update naming `f`'s ruleset and profile set changed nothing.
async fn missing_reference(state: &AppState, f: &ProfileJobFields) -> ApiError {
    use crate::store::profiling::ProfileSet;
    use crate::store::rulesets::DatabaseRuleset;
    if let Some(id) = f.profile_set_id {
        match crate::store::get::<ProfileSet>(&state.pool, id).await {
            Ok(None) => return ApiError::NotFound(format!("profile set {id} does not exist")),
            Err(e) => return e.into(),
            Ok(Some(_)) => {}
        }
    }
    match f.ruleset_id {
        Some(id) => match crate::store::get::<DatabaseRuleset>(&state.pool, id).await {
            Ok(None) => ApiError::NotFound(format!("database ruleset {id} does not exist")),
            Err(e) => e.into(),
            Ok(Some(_)) => {
                ApiError::Conflict("the ruleset or profile set changed meanwhile; try again".into())
            }
        },
        None => ApiError::Conflict("the profile set changed meanwhile; try again".into()),
    }
}

/// Creates a profile job.
#[utoipa::path(post, path = "/profile-jobs", operation_id = "createProfileJob", tag = "profileJob",
    request_body = Body,
    responses(
        (status = 201, description = "Created", body = ProfileJob),
        (status = 404, description = "The ruleset or the profile set does not exist", body = super::error::ErrorAnswer),
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
    if fields.job_name.is_none() {
        return Err(ApiError::BadRequest("jobName is required".into()));
    }
    match profile_jobs::create(&state.pool, &fields, &user.user.username).await? {
        Some(created) => {
            tracing::info!(jobId = created.profile_job_id, "profile job created");
            Ok(HttpResponse::Created().json(created))
        }
        None => Err(missing_reference(&state, &fields).await),
    }
}

/// Changes a profile job.
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/profile-jobs/{profileJobId}", operation_id = "updateProfileJob", tag = "profileJob",
    params(("profileJobId" = i64, Path, minimum = 1)),
    request_body = Body,
    responses(
        (status = 200, description = "The whole updated object", body = ProfileJob),
        (status = 404, description = "The job, the new ruleset or the new profile set does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileJobId")?;
    let not_found = || ApiError::NotFound(format!("profile job {id} does not exist"));
    let current = crate::store::get::<ProfileJob>(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    let body: Body = request::Object::parse(&req, &body)?
        .matching(&current, READ_ONLY)?
        .read()?;
    let fields = fields(body)?;
    match profile_jobs::update(&state.pool, id, &fields).await? {
        Some(job) => Ok(HttpResponse::Ok().json(job)),
        None => match crate::store::get::<ProfileJob>(&state.pool, id).await? {
            None => Err(not_found()),
            Some(_) => Err(missing_reference(&state, &fields).await),
        },
    }
}

/// Deletes a profile job and its finished executions.
#[utoipa::path(delete, path = "/profile-jobs/{profileJobId}", operation_id = "deleteProfileJob", tag = "profileJob",
    params(("profileJobId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "The job has an execution that has not stopped", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileJobId")?;
    super::jobs::deleted(
        "profile job",
        id,
        profile_jobs::delete(&state.pool, id).await,
    )
}

/// Lists what a profile execution found, column by column.
///
/// One row per column profiled: the domain found (null when none), by which expression or
/// validator, in the column's name or in its data, and the evidence (values sampled and matched).
#[utoipa::path(get, path = "/profile-results-database/{executionId}", operation_id = "getProfileResultsDatabase", tag = "profileResultDatabase",
    params(("executionId" = i64, Path, minimum = 1), super::request::PageParams),
    responses(
        (status = 200, description = "A page of them, in the order the run profiled them", body = crate::types::Paged<ProfileResultDatabase>),
        (status = 404, description = "The execution does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn results(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "executionId")?;
    let page = request::QueryParams::of(&req)?.page()?;
    if crate::store::get::<crate::store::executions::Execution>(&state.pool, id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!("execution {id} does not exist")));
    }
    list_answer::<ProfileResultDatabase>(
        &state.pool,
        vec![crate::store::Filter::Int("execution_id", id)],
        page,
    )
    .await
}
