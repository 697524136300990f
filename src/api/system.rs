//! Unauthenticated endpoints: system information and health checks.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::AppState;
use super::error::error_response;

/// The Delphix engine release whose API (5.1.43) maskd implements; clients compare it as a version.
pub const ENGINE_VERSION: &str = "2025.3.0.0";
pub const API_VERSION: &str = "5.1.43";

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct SystemInformation {
    /// The Delphix engine release whose API maskd implements, compared by clients as a version.
    version: &'static str,
    api_version: &'static str,
    product_name: &'static str,
    product_version: &'static str,
    build_time: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
}

/// Version information; needs no token.
#[utoipa::path(get, path = "/system-information", operation_id = "getSystemInformation", tag = "system",
    responses((status = 200, description = "Versions", body = SystemInformation)),
)]
pub async fn information() -> HttpResponse {
    HttpResponse::Ok().json(SystemInformation {
        version: ENGINE_VERSION,
        api_version: API_VERSION,
        product_name: "maskd",
        product_version: env!("CARGO_PKG_VERSION"),
        build_time: None,
    })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", operation_id = "getLiveness", tag = "system",
    responses((status = 200, description = "`{\"status\": \"alive\"}`", body = Health)),
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "alive" })
}

/// Readiness: maskd's database answers and accepts writes (a standby does not).
#[utoipa::path(get, path = "/readyz", operation_id = "getReadiness", tag = "system",
    responses((status = 200, description = "`{\"status\": \"ready\"}`", body = Health)),
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let primary =
        sqlx::query_scalar::<_, bool>("SELECT NOT pg_is_in_recovery()").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(3), primary).await {
        Ok(Ok(true)) => HttpResponse::Ok().json(Health { status: "ready" }),
        Ok(Ok(false)) => error_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "maskd's database is a read-only standby; DATABASE_URL must lead to the primary",
        ),
        _ => error_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "maskd's database is not reachable",
        ),
    }
}
