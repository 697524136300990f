//! HTTP: one file per resource. Every endpoint is served under `/masking/api` and
//! `/masking/api/v5.1.43`.

pub mod auth;
pub mod error;
pub mod observe;
pub mod request;

mod algorithms;
mod applications;
mod connectors;
mod environments;
mod executions;
mod jobs;
mod metrics;
mod reports;
mod rulesets;
mod system;
mod table_metadata;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, ServiceConfig, delete, get, post, put};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sqlx::PgPool;

use crate::crypto::Keys;
use crate::domain::{Page, Paged};
use crate::store::{self, Filter, Resource};
use error::{ApiError, ApiResult};

pub const BASE_PATHS: [&str; 2] = ["/masking/api/v5.1.43", "/masking/api"];

/// What every handler shares.
pub struct AppState {
    pub pool: PgPool,
    pub keys: Keys,
    pub token_ttl: Duration,
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Registers every endpoint under both base paths, plus the health checks and metrics at the root.
pub fn configure(cfg: &mut ServiceConfig) {
    for base in BASE_PATHS {
        cfg.service(web::scope(base).configure(endpoints));
    }
    cfg.service(web::resource("/healthz").route(get().to(system::healthz)))
        .service(web::resource("/readyz").route(get().to(system::readyz)))
        .service(web::resource("/metrics").route(get().to(metrics::scrape)));
}

fn endpoints(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/login").route(post().to(auth::login)))
        .service(web::resource("/logout").route(put().to(auth::logout)))
        .service(web::resource("/system-information").route(get().to(system::information)))
        .service(web::resource("/healthz").route(get().to(system::healthz)))
        .service(web::resource("/readyz").route(get().to(system::readyz)))
        .service(
            web::resource("/applications")
                .route(get().to(applications::list))
                .route(post().to(applications::create)),
        )
        .service(
            web::resource("/applications/{applicationId}")
                .route(get().to(applications::get_one))
                .route(delete().to(applications::delete_one)),
        )
        .service(
            web::resource("/environments")
                .route(get().to(environments::list))
                .route(post().to(environments::create)),
        )
        .service(
            web::resource("/environments/{environmentId}")
                .route(get().to(environments::get_one))
                .route(put().to(environments::update))
                .route(delete().to(environments::delete_one)),
        )
        .service(
            web::resource("/database-connectors")
                .route(get().to(connectors::list))
                .route(post().to(connectors::create)),
        )
        .service(
            web::resource("/database-connectors/{databaseConnectorId}")
                .route(get().to(connectors::get_one))
                .route(put().to(connectors::update))
                .route(delete().to(connectors::delete_one)),
        )
        .service(
            web::resource("/database-connectors/{databaseConnectorId}/test")
                .route(post().to(connectors::test)),
        )
        .service(
            web::resource("/database-rulesets")
                .route(get().to(rulesets::list))
                .route(post().to(rulesets::create)),
        )
        .service(
            web::resource("/database-rulesets/{databaseRulesetId}")
                .route(get().to(rulesets::get_one))
                .route(put().to(rulesets::update))
                .route(delete().to(rulesets::delete_one)),
        )
        .service(
            web::resource("/table-metadata")
                .route(get().to(table_metadata::list))
                .route(post().to(table_metadata::create)),
        )
        .service(
            web::resource("/table-metadata/{tableMetadataId}")
                .route(get().to(table_metadata::get_one))
                .route(put().to(table_metadata::update))
                .route(delete().to(table_metadata::delete_one)),
        )
        .service(web::resource("/column-metadata").route(get().to(table_metadata::list_columns)))
        .service(
            web::resource("/column-metadata/{columnMetadataId}")
                .route(get().to(table_metadata::get_column))
                .route(put().to(table_metadata::update_column)),
        )
        .service(web::resource("/algorithms").route(get().to(algorithms::list)))
        .service(web::resource("/algorithms/{algorithmName}").route(get().to(algorithms::get_one)))
        .service(web::resource("/domains").route(get().to(algorithms::domains)))
        .service(web::resource("/domains/{domainName}").route(get().to(algorithms::get_domain)))
        .service(web::resource("/syncable-objects").route(get().to(algorithms::syncable_objects)))
        .service(web::resource("/file-connectors").route(get().to(algorithms::file_connectors)))
        .service(web::resource("/file-rulesets").route(get().to(algorithms::file_rulesets)))
        .service(
            web::resource("/masking-jobs")
                .route(get().to(jobs::list))
                .route(post().to(jobs::create)),
        )
        .service(
            web::resource("/masking-jobs/{maskingJobId}")
                .route(get().to(jobs::get_one))
                .route(put().to(jobs::update))
                .route(delete().to(jobs::delete_one)),
        )
        .service(
            web::resource("/executions")
                .route(get().to(executions::list))
                .route(post().to(executions::create)),
        )
        .service(web::resource("/executions/{executionId}").route(get().to(executions::get_one)))
        .service(
            web::resource("/executions/{executionId}/cancel").route(post().to(executions::cancel)),
        )
        .service(web::resource("/execution-components").route(get().to(reports::list_components)))
        .service(
            web::resource("/execution-components/{executionComponentId}")
                .route(get().to(reports::get_component)),
        )
        .service(web::resource("/execution-events").route(get().to(reports::list_events)))
        .service(
            web::resource("/execution-events/{executionEventId}")
                .route(get().to(reports::get_event)),
        );
}

/// A page of a resource's list, refusing a page past the last one.
async fn list_answer<T: Resource + Serialize>(
    pool: &PgPool,
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
    pool: &PgPool,
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
    pool: &PgPool,
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
