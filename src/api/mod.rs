//! HTTP: one file per resource. Every endpoint is served under `/masking/api` and
//! `/masking/api/v5.1.43`.

pub mod auth;
pub mod error;
pub mod observe;
pub mod request;

mod algorithms;
mod applications;
mod connectors;
mod console;
mod environments;
mod executions;
mod jobs;
mod metrics;
mod openapi;
mod reports;
mod rulesets;
mod system;
mod table_metadata;
mod throttle;
mod token_cache;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, ServiceConfig, get};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use crate::crypto::Keys;
use crate::db::Db;
use crate::store::{self, Filter, Resource};
use crate::types::{Page, Paged};
use error::{ApiError, ApiResult};

pub const BASE_PATHS: [&str; 2] = ["/masking/api/v5.1.43", "/masking/api"];

/// What handlers share. Each HTTP worker has its own copy, with its own pool; the rest is shared.
#[derive(Clone)]
pub struct AppState {
    pub pool: Db,
    pub keys: Keys,
    pub token_ttl: Duration,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub login_throttle: crate::config::LoginThrottle,
    pub token_cache: Arc<token_cache::TokenCache>,
}

/// Registers Swagger UI, every endpoint under both base paths, the web console, and the health
/// checks and metrics at the root.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(openapi::swagger_ui);
    for base in BASE_PATHS {
        cfg.service(web::scope(base).configure(endpoints));
    }
    console::configure(cfg);
    cfg.service(web::resource("/healthz").route(get().to(system::healthz)))
        .service(web::resource("/readyz").route(get().to(system::readyz)))
        .service(web::resource("/metrics").route(get().to(metrics::scrape)));
}

/// Declares every endpoint under the base paths once: `endpoints` registers them with actix, and
/// `ROUTES` lists them, so the OpenAPI document can be checked against what is really served.
macro_rules! endpoint_table {
    ($($path:literal { $($method:ident => $handler:path),+ $(,)? })*) => {
        /// `(method, path)` of every endpoint under the base paths.
        pub const ROUTES: &[(&str, &str)] = &[$($((stringify!($method), $path)),+),*];

        fn endpoints(cfg: &mut ServiceConfig) {
            $(cfg.service(web::resource($path)$(.route(web::$method().to($handler)))+);)*
        }
    };
}

endpoint_table! {
    "/login" { post => auth::login }
    "/logout" { put => auth::logout }
    "/system-information" { get => system::information }
    "/healthz" { get => system::healthz }
    "/readyz" { get => system::readyz }
    "/openapi.json" { get => openapi::document }
    "/swagger-basepath.json" { get => openapi::swagger_basepath }
    "/applications" { get => applications::list, post => applications::create }
    "/applications/{applicationId}" { get => applications::get_one, delete => applications::delete_one }
    "/environments" { get => environments::list, post => environments::create }
    "/environments/{environmentId}" {
        get => environments::get_one,
        put => environments::update,
        delete => environments::delete_one,
    }
    "/database-connectors" { get => connectors::list, post => connectors::create }
    "/database-connectors/{databaseConnectorId}" {
        get => connectors::get_one,
        put => connectors::update,
        delete => connectors::delete_one,
    }
    "/database-connectors/{databaseConnectorId}/test" { post => connectors::test }
    "/database-rulesets" { get => rulesets::list, post => rulesets::create }
    "/database-rulesets/{databaseRulesetId}" {
        get => rulesets::get_one,
        put => rulesets::update,
        delete => rulesets::delete_one,
    }
    "/table-metadata" { get => table_metadata::list, post => table_metadata::create }
    "/table-metadata/{tableMetadataId}" {
        get => table_metadata::get_one,
        put => table_metadata::update,
        delete => table_metadata::delete_one,
    }
    "/column-metadata" { get => table_metadata::list_columns }
    "/column-metadata/{columnMetadataId}" {
        get => table_metadata::get_column,
        put => table_metadata::update_column,
    }
    "/algorithms" { get => algorithms::list }
    "/algorithms/{algorithmName}" { get => algorithms::get_one }
    "/domains" { get => algorithms::domains }
    "/domains/{domainName}" { get => algorithms::get_domain }
    "/syncable-objects" { get => algorithms::syncable_objects }
    "/file-connectors" { get => algorithms::file_connectors }
    "/file-rulesets" { get => algorithms::file_rulesets }
    "/masking-jobs" { get => jobs::list, post => jobs::create }
    "/masking-jobs/{maskingJobId}" {
        get => jobs::get_one,
        put => jobs::update,
        delete => jobs::delete_one,
    }
    "/executions" { get => executions::list, post => executions::create }
    "/executions/{executionId}" { get => executions::get_one }
    "/executions/{executionId}/cancel" { post => executions::cancel }
    "/execution-components" { get => reports::list_components }
    "/execution-components/{executionComponentId}" { get => reports::get_component }
    "/execution-events" { get => reports::list_events }
    "/execution-events/{executionEventId}" { get => reports::get_event }
}

/// A page of a resource's list, refusing a page past the last one.
async fn list_answer<T: Resource + Serialize>(
    pool: &Db,
    filters: Vec<Filter>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let total = store::count::<T>(pool, &filters).await?;
    page.check_in_range(total).map_err(ApiError::BadRequest)?;
    let items = store::list::<T>(pool, &filters, page).await?;
    Ok(HttpResponse::Ok().json(Paged::new(items, total)))
}

fn not_found<T: Resource>(id: i64) -> ApiError {
    ApiError::NotFound(format!("{} {id} does not exist", T::NOUN))
}

/// The resource whose id is in the path segment `param`.
async fn get_answer<T: Resource + Serialize>(
    pool: &Db,
    req: &HttpRequest,
    param: &str,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(req, param)?;
    let item = store::get::<T>(pool, id)
        .await?
        .ok_or_else(|| not_found::<T>(id))?;
    Ok(HttpResponse::Ok().json(item))
}

/// Deletes the resource whose id is in the path segment `param` (409 while others use it).
async fn delete_answer<T: Resource>(
    pool: &Db,
    req: &HttpRequest,
    param: &str,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(req, param)?;
    let deleted = store::delete::<T>(pool, id)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(why) => {
                ApiError::Conflict(format!("{} {id} cannot be deleted: {why}", T::NOUN))
            }
            other => other,
        })?;
    if deleted {
        tracing::info!(resource = T::NOUN, id, "deleted");
        Ok(HttpResponse::Ok().finish())
    } else {
        Err(not_found::<T>(id))
    }
}
