//! `GET /metrics`: Prometheus text exposition, without a token like most exporters (it shows
//! counts and timings, never a name, value or secret).

use std::time::Duration;

use actix_web::{HttpResponse, web};

use super::AppState;
use crate::metrics::CONTENT_TYPE;
use crate::store::executions;

/// A scrape does not wait longer than this for the database's counts.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(3);

pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let counts =
        tokio::time::timeout(DATABASE_TIMEOUT, executions::count_by_status(&state.pool)).await;
    let counts = match counts {
        Ok(Ok(counts)) => Some(counts),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot count executions; leaving those series out");
            None
        }
        Err(_) => {
            tracing::warn!(
                "metrics: the database did not answer in time; leaving the execution series out"
            );
            None
        }
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(state.metrics.render(counts.as_deref()))
}
