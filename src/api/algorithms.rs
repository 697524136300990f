//! Read-only catalogs: built-in algorithms and domains, syncable objects, and the file-masking
//! lists clients read at start-up (empty: maskd masks databases).

use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::request;
use crate::domain::Paged;
use crate::masking::algorithms::Algorithm;
use crate::masking::domains::{self, DOMAINS, Domain};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlgorithmView {
    algorithm_name: &'static str,
    algorithm_type: &'static str,
    description: &'static str,
}

impl From<Algorithm> for AlgorithmView {
    fn from(a: Algorithm) -> Self {
        AlgorithmView {
            algorithm_name: a.name(),
            algorithm_type: a.algorithm_type(),
            description: a.description(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DomainView {
    domain_name: &'static str,
    default_algorithm_code: &'static str,
}

impl From<&Domain> for DomainView {
    fn from(d: &Domain) -> Self {
        DomainView {
            domain_name: d.name,
            default_algorithm_code: d.default_algorithm.name(),
        }
    }
}

/// One page of a fixed list.
fn page_of<T: Serialize>(req: &HttpRequest, items: Vec<T>) -> ApiResult<HttpResponse> {
    let page = request::QueryParams::of(req)?.page()?;
    let total = items.len() as i64;
    page.check_in_range(total).map_err(ApiError::BadRequest)?;
    let items: Vec<T> = items
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.size as usize)
        .collect();
    Ok(HttpResponse::Ok().json(Paged::new(items, total)))
}

pub async fn list(_user: AuthUser, req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of(
        &req,
        Algorithm::ALL
            .into_iter()
            .map(AlgorithmView::from)
            .collect(),
    )
}

pub async fn get_one(_user: AuthUser, name: web::Path<String>) -> ApiResult<HttpResponse> {
    let algorithm = Algorithm::from_name(&name)
        .ok_or_else(|| ApiError::NotFound(format!("algorithm '{name}' does not exist")))?;
    Ok(HttpResponse::Ok().json(AlgorithmView::from(algorithm)))
}

pub async fn domains(_user: AuthUser, req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of(&req, DOMAINS.iter().map(DomainView::from).collect())
}

pub async fn get_domain(_user: AuthUser, name: web::Path<String>) -> ApiResult<HttpResponse> {
    let domain = domains::find(&name)
        .ok_or_else(|| ApiError::NotFound(format!("domain '{name}' does not exist")))?;
    Ok(HttpResponse::Ok().json(DomainView::from(domain)))
}

pub async fn syncable_objects(_user: AuthUser, req: HttpRequest) -> ApiResult<HttpResponse> {
    let objects = Algorithm::ALL
        .into_iter()
        .map(|a| json!({ "objectIdentifier": { "algorithmName": a.name() }, "objectType": a.algorithm_type() }))
        .collect();
    page_of(&req, objects)
}

pub async fn file_connectors(_user: AuthUser, req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of::<serde_json::Value>(&req, vec![])
}

pub async fn file_rulesets(_user: AuthUser, req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of::<serde_json::Value>(&req, vec![])
}
