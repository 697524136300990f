//! The web console: static files compiled into the binary, served at `/` (the page) and under
//! `/console/` (its script, style sheet and icon). It uses the public API like any other client.

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{self, ServiceConfig, get};
use actix_web::{HttpRequest, HttpResponse};

use super::error::ApiError;

/// Scripts, styles, images and requests only from maskd itself; no inline script or style.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The files under `/console/`: name, content type, content.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("console/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("console/console.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("console/favicon.svg"),
    ),
];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/").route(get().to(index)))
        .service(web::resource("/console/{file}").route(get().to(asset)));
}

async fn index() -> HttpResponse {
    file(
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    )
}

async fn asset(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.match_info().get("file").unwrap_or_default();
    ASSETS
        .iter()
        .find(|(file_name, _, _)| *file_name == name)
        .map(|(_, content_type, content)| file(content_type, content))
        .ok_or_else(|| ApiError::NotFound(format!("the console has no file {name}")))
}

/// The files change with the binary, so browsers revalidate them on every load.
fn file(content_type: &'static str, content: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .body(content)
}
