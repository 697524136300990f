//! Execution components (one per masked table) and execution events.

use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};

use super::error::ApiResult;
use super::{AppState, get_answer, list_answer, request};
use crate::store::Filter;
use crate::store::components::ExecutionComponent;
use crate::store::events::ExecutionEvent;

fn by_execution(req: &HttpRequest) -> ApiResult<(Vec<Filter>, crate::types::Page)> {
    let query = request::QueryParams::of(req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("execution_id")? {
        filters.push(Filter::Int("execution_id", id));
    }
    Ok((filters, query.page()?))
}

/// Lists execution components: one per masked table.
#[utoipa::path(get, path = "/execution-components", operation_id = "getAllExecutionComponents", tag = "executionComponent",
    params(super::request::PageParams, ("execution_id" = Option<i64>, Query, minimum = 1, description = "Only the components of this execution")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ExecutionComponent>)),
)]
pub async fn list_components(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let (filters, page) = by_execution(&req)?;
    list_answer::<ExecutionComponent>(&state.pool, filters, page).await
}

/// Reads one execution component.
#[utoipa::path(get, path = "/execution-components/{executionComponentId}", operation_id = "getExecutionComponentById", tag = "executionComponent",
    params(("executionComponentId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ExecutionComponent)),
)]
pub async fn get_component(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<ExecutionComponent>(&state.pool, &req, "executionComponentId").await
}

/// Lists execution events.
#[utoipa::path(get, path = "/execution-events", operation_id = "getAllExecutionEvents", tag = "executionEvent",
    params(super::request::PageParams, ("execution_id" = Option<i64>, Query, minimum = 1, description = "Only the events of this execution")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ExecutionEvent>)),
)]
pub async fn list_events(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let (filters, page) = by_execution(&req)?;
    list_answer::<ExecutionEvent>(&state.pool, filters, page).await
}

/// Reads one execution event.
#[utoipa::path(get, path = "/execution-events/{executionEventId}", operation_id = "getExecutionEventById", tag = "executionEvent",
    params(("executionEventId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ExecutionEvent)),
)]
pub async fn get_event(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<ExecutionEvent>(&state.pool, &req, "executionEventId").await
}
