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

/// A built-in algorithm in Delphix's shape. maskd's algorithms are built in and keyed by
/// `MASKD_SECRET_KEY`: no creator, plugin, framework, tokenization or configurable extension.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Algorithm)]
struct AlgorithmView {
    algorithm_name: &'static str,
    /// Null: maskd's names are the only ones its algorithms ever had.
    legacy_name: Option<String>,
    #[schema(schema_with = algorithm_type_schema)]
    algorithm_type: &'static str,
    created_by: Option<String>,
    description: &'static str,
    /// `STRING`, `BIG_DECIMAL` or `LOCAL_DATE_TIME`.
    mask_type: &'static str,
    is_tokenization_supported: bool,
    framework_id: Option<i64>,
    plugin_id: Option<i64>,
    /// Empty: every built-in algorithm masks one column.
    fields: Vec<serde_json::Value>,
    algorithm_extension: Option<serde_json::Value>,
}

impl From<Algorithm> for AlgorithmView {
    fn from(a: Algorithm) -> Self {
        AlgorithmView {
            algorithm_name: a.name(),
            legacy_name: None,
            algorithm_type: a.algorithm_type(),
            created_by: None,
            description: a.description(),
            mask_type: a.mask_type(),
            is_tokenization_supported: false,
            framework_id: None,
            plugin_id: None,
            fields: vec![],
            algorithm_extension: None,
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
    /// Null: the built-in domains were made by no user.
    created_by: Option<String>,
    default_algorithm_code: &'static str,
    /// Null: maskd has no tokenization.
    default_tokenization_code: Option<String>,
}

impl From<&Domain> for DomainView {
    fn from(d: &Domain) -> Self {
        DomainView {
            domain_name: d.name,
            created_by: None,
            default_algorithm_code: d.default_algorithm.name(),
            default_tokenization_code: None,
        }
    }
}

/// A syncable object, as Delphix names it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ExportObjectMetadata)]
struct SyncableObject {
    object_identifier: ObjectIdentifier,
    #[schema(schema_with = algorithm_type_schema)]
    object_type: &'static str,
    /// Changes when the object does: a SHA-256 of what defines it.
    revision_hash: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct ObjectIdentifier {
    algorithm_name: &'static str,
}

/// The hex SHA-256 of `parts`, each ended by a NUL (so that no two lists hash alike).
fn revision_hash(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for p in parts {
        hash.update(p.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
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
            revision_hash: revision_hash(&[
                a.name(),
                a.algorithm_type(),
                a.mask_type(),
                a.description(),
            ]),
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
