//! HTTP: one file per resource. Every endpoint is served under `/masking/api` and
//! `/masking/api/v5.1.43`, and declared once, with the role it needs, in the route table below.

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
mod profile_jobs;
mod profiling;
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
use crate::types::{Page, Paged, Role};
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

/// One endpoint under the base paths, as the route table declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Lowercase, as in the OpenAPI document.
    pub method: &'static str,
    pub path: &'static str,
    /// The lowest role that may call it; None: public, no token needed.
    pub role: Option<Role>,
}

/// A route table role: `Public`, or the name of a [`Role`].
macro_rules! table_role {
    (Public) => {
        None
    };
    ($role:ident) => {
        Some(Role::$role)
    };
}

/// The actix route of one table line: a route that needs a role goes through [`auth::RequireRole`]
/// first; a public one through nothing.
macro_rules! table_route {
    ($method:ident, Public, $handler:expr) => {
        web::$method().to($handler)
    };
    ($method:ident, $role:ident, $handler:expr) => {
        web::$method()
            .to($handler)
            .wrap(auth::RequireRole(Role::$role))
    };
}

/// Declares every endpoint under the base paths once, `method(role) => module::handler`, grouped
/// by path: `endpoints` registers them with actix, each behind the check of its role; `ROUTES`
/// lists them, for the OpenAPI document's security and 401/403 answers, and to check the document
/// against what is really served; `Operations` collects their handlers' `#[utoipa::path]`s.
///
/// Handlers are taken as `module::function` idents, not a `path` fragment, which utoipa's derive
/// could not split into the module and the `__path_` struct it generates beside the function.
macro_rules! endpoint_table {
    ($($path:literal { $($method:ident($role:ident) => $module:ident::$handler:ident),+ $(,)? })*) => {
        /// Every endpoint under the base paths, with the role it needs.
        pub const ROUTES: &[Route] = &[$($(Route {
            method: stringify!($method),
            path: $path,
            role: table_role!($role),
        }),+),*];

        fn endpoints(cfg: &mut ServiceConfig) {
            $(cfg.service(
                web::resource($path)$(.route(table_route!($method, $role, $module::$handler)))+
            );)*
        }

        /// The OpenAPI operations of every handler of the table, in its order; `openapi::api_doc`
        /// merges them with the rest of the document.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($($module::$handler),+),*))]
        struct Operations;
    };
}

// AUDITOR reads; OPERATOR also runs and cancels executions; ADMIN does everything.
endpoint_table! {
    "/login" { post(Public) => auth::login }
    "/logout" { put(Auditor) => auth::logout }
    "/system-information" { get(Public) => system::information }
    "/healthz" { get(Public) => system::healthz }
    "/readyz" { get(Public) => system::readyz }
    "/openapi.json" { get(Public) => openapi::document }
    "/swagger-basepath.json" { get(Public) => openapi::swagger_basepath }
    "/applications" {
        get(Auditor) => applications::list,
        post(Admin) => applications::create,
    }
    "/applications/{applicationId}" {
        get(Auditor) => applications::get_one,
        delete(Admin) => applications::delete_one,
    }
    "/environments" {
        get(Auditor) => environments::list,
        post(Admin) => environments::create,
    }
    "/environments/{environmentId}" {
        get(Auditor) => environments::get_one,
        put(Admin) => environments::update,
        delete(Admin) => environments::delete_one,
    }
    "/database-connectors" {
        get(Auditor) => connectors::list,
        post(Admin) => connectors::create,
    }
    "/database-connectors/{databaseConnectorId}" {
        get(Auditor) => connectors::get_one,
        put(Admin) => connectors::update,
        delete(Admin) => connectors::delete_one,
    }
    "/database-connectors/{databaseConnectorId}/test" { post(Admin) => connectors::test }
    "/database-rulesets" {
        get(Auditor) => rulesets::list,
        post(Admin) => rulesets::create,
    }
    "/database-rulesets/{databaseRulesetId}" {
        get(Auditor) => rulesets::get_one,
        put(Admin) => rulesets::update,
        delete(Admin) => rulesets::delete_one,
    }
    "/table-metadata" {
        get(Auditor) => table_metadata::list,
        post(Admin) => table_metadata::create,
    }
    "/table-metadata/{tableMetadataId}" {
        get(Auditor) => table_metadata::get_one,
        put(Admin) => table_metadata::update,
        delete(Admin) => table_metadata::delete_one,
    }
    "/column-metadata" { get(Auditor) => table_metadata::list_columns }
    "/column-metadata/{columnMetadataId}" {
        get(Auditor) => table_metadata::get_column,
        put(Admin) => table_metadata::update_column,
    }
    "/algorithms" { get(Auditor) => algorithms::list }
    "/algorithms/{algorithmName}" { get(Auditor) => algorithms::get_one }
    "/domains" { get(Auditor) => algorithms::domains }
    "/domains/{domainName}" { get(Auditor) => algorithms::get_domain }
    "/syncable-objects" { get(Auditor) => algorithms::syncable_objects }
    "/file-connectors" { get(Auditor) => algorithms::file_connectors }
    "/file-rulesets" { get(Auditor) => algorithms::file_rulesets }
    "/masking-jobs" {
        get(Auditor) => jobs::list,
        post(Admin) => jobs::create,
    }
    "/masking-jobs/{maskingJobId}" {
        get(Auditor) => jobs::get_one,
        put(Admin) => jobs::update,
        delete(Admin) => jobs::delete_one,
    }
    "/profile-jobs" {
        get(Auditor) => profile_jobs::list,
        post(Admin) => profile_jobs::create,
    }
    "/profile-jobs/{profileJobId}" {
        get(Auditor) => profile_jobs::get_one,
        put(Admin) => profile_jobs::update,
        delete(Admin) => profile_jobs::delete_one,
    }
    "/profile-results-database/{executionId}" { get(Auditor) => profile_jobs::results }
    "/profile-expressions" {
        get(Auditor) => profiling::list_expressions,
        post(Admin) => profiling::create_expression,
    }
    "/profile-expressions/{profileExpressionId}" {
        get(Auditor) => profiling::get_expression,
        put(Admin) => profiling::update_expression,
        delete(Admin) => profiling::delete_expression,
    }
    "/profile-sets" {
        get(Auditor) => profiling::list_sets,
        post(Admin) => profiling::create_set,
    }
    "/profile-sets/{profileSetId}" {
        get(Auditor) => profiling::get_set,
        put(Admin) => profiling::update_set,
        delete(Admin) => profiling::delete_set,
    }
    "/executions" {
        get(Auditor) => executions::list,
        post(Operator) => executions::create,
    }
    "/executions/{executionId}" { get(Auditor) => executions::get_one }
    "/executions/{executionId}/cancel" { post(Operator) => executions::cancel }
    "/execution-components" { get(Auditor) => reports::list_components }
    "/execution-components/{executionComponentId}" { get(Auditor) => reports::get_component }
    "/execution-events" { get(Auditor) => reports::list_events }
    "/execution-events/{executionEventId}" { get(Auditor) => reports::get_event }
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
