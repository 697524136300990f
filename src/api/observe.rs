//! What every request leaves behind: a request id (the caller's `X-Request-Id` when well-formed,
//! else a new one), returned in the `X-Request-Id` header; a `request` span carrying it, so every
//! line logged while serving the request names it; one line when it is answered (status and
//! latency); and the HTTP metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use super::AppState;
use crate::metrics::UNMATCHED_ROUTE;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// An incoming request id longer than this is replaced.
const MAX_REQUEST_ID: usize = 128;

/// Routes polled by probes and scrapers: answered lines go to DEBUG, so they do not drown the rest.
const QUIET_ROUTES: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| well_formed(id))
        .map_or_else(new_request_id, str::to_owned);
    let method = req.method().as_str().to_owned();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    // The route pattern is known only once routing is done: it is recorded on the span then.
    let span = tracing::info_span!(
        "request",
        requestId = %request_id,
        method = %method,
        path = %req.path(),
        route = tracing::field::Empty,
    );
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();

    let (route, status) = match &result {
        Ok(res) => (
            res.request()
                .match_pattern()
                .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned()),
            res.status(),
        ),
        // Only a middleware fails this way (handlers' errors are answers by now); the request is
        // gone with it, and with it the route.
        Err(e) => (
            UNMATCHED_ROUTE.to_owned(),
            e.as_response_error().status_code(),
        ),
    };
    if let Some(metrics) = metrics {
        metrics.observe_request(&route, &method, status.as_u16(), elapsed);
    }
    span.record("route", route.as_str());
    span.in_scope(|| {
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        if QUIET_ROUTES.iter().any(|quiet| route.ends_with(quiet)) {
            tracing::debug!(status = status.as_u16(), latency_ms, "request answered");
        } else {
            tracing::info!(status = status.as_u16(), latency_ms, "request answered");
        }
    });

    let mut res = result?.map_into_boxed_body();
    res.headers_mut().insert(
        REQUEST_ID,
        HeaderValue::from_str(&request_id).expect("request ids are visible ASCII"),
    );
    Ok(res)
}

/// 1 to `MAX_REQUEST_ID` characters among letters, digits and `-_.:` (anything else could forge
/// log lines or grow without bound).
fn well_formed(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_bounded_and_plain() {
        assert!(well_formed("3f2a-17:b_c.d"));
        assert!(well_formed(&"a".repeat(MAX_REQUEST_ID)));
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(MAX_REQUEST_ID + 1)));
        assert!(!well_formed("a b"));
        assert!(!well_formed("a\"}{"));
        assert!(well_formed(&new_request_id()));
    }
}
