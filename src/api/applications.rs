use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::store::applications::{self, Application};

/// Lists applications.
#[utoipa::path(get, path = "/applications", operation_id = "getAllApplications", tag = "application",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<Application>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    list_answer::<Application>(&state.pool, vec![], query.page()?).await
}

/// Reads one application.
#[utoipa::path(get, path = "/applications/{applicationId}", operation_id = "getApplicationById", tag = "application",
    params(("applicationId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = Application)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<Application>(&state.pool, &req, "applicationId").await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ApplicationCreate)]
struct NewApplication {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    application_name: Option<String>,
}

/// Creates an application.
#[utoipa::path(post, path = "/applications", operation_id = "createApplication", tag = "application",
    request_body = NewApplication,
    responses(
        (status = 201, description = "Created", body = Application),
        (status = 409, description = "An application of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body: NewApplication = request::Object::parse(&req, &body)?
        .without(&["applicationId"])
        .read()?;
    let name = request::required_text("applicationName", body.application_name)?;
    let created = applications::create(&state.pool, &name)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("application '{name}' already exists")))?;
    Ok(HttpResponse::Created().json(created))
}

/// Deletes an application.
#[utoipa::path(delete, path = "/applications/{applicationId}", operation_id = "deleteApplication", tag = "application",
    params(("applicationId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "Environments still belong to it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    delete_answer::<Application>(&state.pool, &req, "applicationId").await
}
