//! Read-only catalogs: built-in algorithms and domains, syncable objects, and the file-masking
//! lists clients read at start-up (empty: maskd masks databases).

use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::request;
use crate::masking::algorithms::Algorithm;
use crate::masking::domains::{self, DOMAINS, Domain};
use crate::types::Paged;

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Algorithm)]
struct AlgorithmView {
    algorithm_name: &'static str,
    #[schema(schema_with = algorithm_type_schema)]
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

/// The `algorithmType`s of the built-in algorithms.
fn algorithm_type_schema() -> utoipa::openapi::schema::Object {
    let mut types: Vec<&str> = Algorithm::ALL.iter().map(|a| a.algorithm_type()).collect();
    types.sort_unstable();
    types.dedup();
    let mut schema =
        utoipa::openapi::schema::Object::with_type(utoipa::openapi::schema::Type::String);
    schema.enum_values = Some(types.into_iter().map(Into::into).collect());
    schema
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Domain)]
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

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SyncableObject {
    object_identifier: ObjectIdentifier,
    #[schema(schema_with = algorithm_type_schema)]
    object_type: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ObjectIdentifier {
    algorithm_name: &'static str,
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

/// Lists the built-in algorithms.
///
/// Without paging parameters it answers every algorithm.
#[utoipa::path(get, path = "/algorithms", operation_id = "getAllAlgorithms", tag = "algorithm",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them", body = crate::types::Paged<AlgorithmView>)),
)]
pub async fn list(req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of(
        &req,
        Algorithm::ALL
            .into_iter()
            .map(AlgorithmView::from)
            .collect(),
    )
}

/// Reads one algorithm.
#[utoipa::path(get, path = "/algorithms/{algorithmName}", operation_id = "getAlgorithmByName", tag = "algorithm",
    params(("algorithmName" = String, Path)),
    responses((status = 200, description = "Found", body = AlgorithmView)),
)]
pub async fn get_one(name: web::Path<String>) -> ApiResult<HttpResponse> {
    let algorithm = Algorithm::from_name(&name)
        .ok_or_else(|| ApiError::NotFound(format!("algorithm '{name}' does not exist")))?;
    Ok(HttpResponse::Ok().json(AlgorithmView::from(algorithm)))
}

/// Lists the built-in domains and their default algorithms.
#[utoipa::path(get, path = "/domains", operation_id = "getAllDomains", tag = "domain",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them", body = crate::types::Paged<DomainView>)),
)]
pub async fn domains(req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of(&req, DOMAINS.iter().map(DomainView::from).collect())
}

/// Reads one domain.
#[utoipa::path(get, path = "/domains/{domainName}", operation_id = "getDomainByName", tag = "domain",
    params(("domainName" = String, Path)),
    responses((status = 200, description = "Found", body = DomainView)),
)]
pub async fn get_domain(name: web::Path<String>) -> ApiResult<HttpResponse> {
    let domain = domains::find(&name)
        .ok_or_else(|| ApiError::NotFound(format!("domain '{name}' does not exist")))?;
    Ok(HttpResponse::Ok().json(DomainView::from(domain)))
}

/// Lists the syncable objects: one per algorithm.
#[utoipa::path(get, path = "/syncable-objects", operation_id = "getAllSyncableObjects", tag = "syncableObject",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them", body = crate::types::Paged<SyncableObject>)),
)]
pub async fn syncable_objects(req: HttpRequest) -> ApiResult<HttpResponse> {
    let objects = Algorithm::ALL
        .into_iter()
        .map(|a| SyncableObject {
            object_identifier: ObjectIdentifier {
                algorithm_name: a.name(),
            },
            object_type: a.algorithm_type(),
        })
        .collect();
    page_of(&req, objects)
}

/// Lists file connectors: always empty, since maskd masks databases.
#[utoipa::path(get, path = "/file-connectors", operation_id = "getAllFileConnectors", tag = "fileConnector",
    params(super::request::PageParams),
    responses((status = 200, description = "An empty page", body = crate::types::Paged<serde_json::Value>)),
)]
pub async fn file_connectors(req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of::<serde_json::Value>(&req, vec![])
}

/// Lists file rulesets: always empty, since maskd masks databases.
#[utoipa::path(get, path = "/file-rulesets", operation_id = "getAllFileRulesets", tag = "fileRuleset",
    params(super::request::PageParams),
    responses((status = 200, description = "An empty page", body = crate::types::Paged<serde_json::Value>)),
)]
pub async fn file_rulesets(req: HttpRequest) -> ApiResult<HttpResponse> {
    page_of::<serde_json::Value>(&req, vec![])
}
