use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::domain::Role;
use crate::store::applications::{self, Application};

pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    list_answer::<Application>(&state.pool, vec![], query.page()?).await
}

pub async fn get_one(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<Application>(&state.pool, &req, "applicationId").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewApplication {
    application_name: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let body: NewApplication = request::json(&req, &body)?;
    let name = request::required_text("applicationName", body.application_name)?;
    let created = applications::create(&state.pool, &name)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("application '{name}' already exists")))?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn delete_one(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    delete_answer::<Application>(&state.pool, &req, "applicationId").await
}
