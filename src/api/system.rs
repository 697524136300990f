//! Unauthenticated endpoints: system information and health checks.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;
use super::error::error_response;

/// The Delphix engine release whose API (5.1.43) maskd implements; clients compare it as a version.
pub const ENGINE_VERSION: &str = "2025.3.0.0";
pub const API_VERSION: &str = "5.1.43";

pub async fn information() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": ENGINE_VERSION,
        "apiVersion": API_VERSION,
        "productName": "maskd",
        "productVersion": env!("CARGO_PKG_VERSION"),
        "buildTime": null,
    }))
}

/// Alive: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

/// Ready: maskd's database answers.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(3), ping).await {
        Ok(Ok(_)) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        _ => error_response(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "maskd's database is not reachable",
        ),
    }
}
