//! Execution components (one per masked table) and execution events.

use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};

use super::auth::AuthUser;
use super::error::ApiResult;
use super::{AppState, get_answer, list_answer, request};
use crate::store::Filter;
use crate::store::reports::{ExecutionComponent, ExecutionEvent};

fn by_execution(req: &HttpRequest) -> ApiResult<(Vec<Filter>, crate::domain::Page)> {
    let query = request::QueryParams::of(req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("execution_id")? {
        filters.push(Filter::Int("execution_id", id));
    }
    Ok((filters, query.page()?))
}

pub async fn list_components(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (filters, page) = by_execution(&req)?;
    list_answer::<ExecutionComponent>(&state.pool, filters, page).await
}

pub async fn get_component(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<ExecutionComponent>(&state.pool, &req, "executionComponentId").await
}

pub async fn list_events(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (filters, page) = by_execution(&req)?;
    list_answer::<ExecutionEvent>(&state.pool, filters, page).await
}

pub async fn get_event(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<ExecutionEvent>(&state.pool, &req, "executionEventId").await
}
