use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::store::Filter;
use crate::store::environments::{self, ApplicationRef, Changes, Environment};
use crate::types::serde_helpers::Int;

/// Lists environments.
#[utoipa::path(get, path = "/environments", operation_id = "getAllEnvironments", tag = "environment",
    params(super::request::PageParams, ("application_id" = Option<i64>, Query, minimum = 1, description = "Only the environments of this application")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<Environment>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("application_id")? {
        filters.push(Filter::Int("application_id", id));
    }
    list_answer::<Environment>(&state.pool, filters, query.page()?).await
}

/// Reads one environment.
#[utoipa::path(get, path = "/environments/{environmentId}", operation_id = "getEnvironmentById", tag = "environment",
    params(("environmentId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = Environment)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<Environment>(&state.pool, &req, "environmentId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const READ_ONLY: &[&str] = &["environmentId"];
/// What a POST must carry (and `applicationId` or `applicationName`).
pub(super) const REQUIRED_ON_CREATE: &[&str] = &["environmentName"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = EnvironmentUpdate)]
struct Body {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    environment_name: Option<String>,
    application_id: Option<Int>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    application_name: Option<String>,
    #[schema(schema_with = crate::types::schema::purpose)]
    purpose: Option<String>,
    /// Only false: maskd has no approval workflow.
    is_workflow_enabled: Option<bool>,
}

impl Body {
    /// Refuses, by name, what maskd cannot honour.
    fn refuse_unsupported(&self) -> ApiResult<()> {
        request::unsupported(
            "isWorkflowEnabled",
            self.is_workflow_enabled == Some(true),
            "maskd has no approval workflow",
        )
    }
}

fn purpose(value: Option<String>) -> ApiResult<Option<String>> {
    match value.as_deref() {
        None => Ok(None),
        Some("MASK") | Some("TRAINING") => Ok(value),
        Some(other) => Err(ApiError::BadRequest(format!(
            "purpose must be MASK or TRAINING, got '{other}'"
        ))),
    }
}

/// Creates an environment.
///
/// Name its application by `applicationId`, or by `applicationName` (created when missing, as
/// Delphix does).
#[utoipa::path(post, path = "/environments", operation_id = "createEnvironment", tag = "environment",
    request_body = Body,
    responses(
        (status = 201, description = "Created", body = Environment),
        (status = 409, description = "An environment of this name exists", body = super::error::ErrorAnswer),
        (status = 404, description = "The application given by applicationId does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = request::Object::parse(&req, &body)?.without(READ_ONLY);
    body.require(REQUIRED_ON_CREATE)?;
    let body: Body = body.read()?;
    body.refuse_unsupported()?;
    let name = request::required_text("environmentName", body.environment_name)?;
    let application = match (
        body.application_id,
        request::optional_text("applicationName", body.application_name)?,
    ) {
        (Some(Int(id)), _) => ApplicationRef::Id(id),
        (None, Some(app_name)) => ApplicationRef::Name(app_name),
        (None, None) => {
            return Err(ApiError::BadRequest(
                "applicationId or applicationName is required".into(),
            ));
        }
    };
    let purpose = purpose(body.purpose)?.unwrap_or_else(|| "MASK".into());
    let created = environments::create(&state.pool, &name, &application, &purpose).await?;
    match (created, application) {
        (Some(env), _) => Ok(HttpResponse::Created().json(env)),
        (None, ApplicationRef::Id(id)) => Err(ApiError::NotFound(format!(
            "application {id} does not exist"
        ))),
        (None, ApplicationRef::Name(_)) => Err(ApiError::internal(std::io::Error::other(
            "environment insert through an upserted application returned no row",
        ))),
    }
}

/// Changes an environment.
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/environments/{environmentId}", operation_id = "updateEnvironment", tag = "environment",
    params(("environmentId" = i64, Path, minimum = 1)),
    request_body = Body,
    responses(
        (status = 200, description = "The whole updated object", body = Environment),
        (status = 409, description = "An environment of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "environmentId")?;
    let current = crate::store::get::<Environment>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("environment {id} does not exist")))?;
    let body: Body = request::Object::parse(&req, &body)?
        .matching(&current, READ_ONLY)?
        .read()?;
    body.refuse_unsupported()?;
    if body.application_name.is_some() {
        return Err(ApiError::BadRequest(
            "to move an environment, give applicationId".into(),
        ));
    }
    let changes = Changes {
        environment_name: request::optional_text("environmentName", body.environment_name)?,
        application_id: body.application_id.map(|i| i.0),
        purpose: purpose(body.purpose)?,
    };
    match environments::update(&state.pool, id, &changes).await? {
        Some(env) => Ok(HttpResponse::Ok().json(env)),
        None => match crate::store::get::<Environment>(&state.pool, id).await? {
            None => Err(ApiError::NotFound(format!(
                "environment {id} does not exist"
            ))),
            Some(_) => Err(ApiError::NotFound(format!(
                "application {} does not exist",
                changes.application_id.unwrap_or_default()
            ))),
        },
    }
}

/// Deletes an environment.
#[utoipa::path(delete, path = "/environments/{environmentId}", operation_id = "deleteEnvironment", tag = "environment",
    params(("environmentId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "Connectors, rulesets or jobs still belong to it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    delete_answer::<Environment>(&state.pool, &req, "environmentId").await
}
