//! Prometheus metrics, served at `GET /metrics`.
//!
//! Built on tikv's `prometheus` crate rather than the `metrics` facade: its registries are plain
//! values, so each `Application` owns one, and tests that run several applications in one process
//! each read their own numbers (the facade's recorder is one per process).
//!
//! What this instance observes (HTTP requests, rows its workers masked, cancel-to-stop latency,
//! busy workers) lives in the registry. Executions by status and the queue depth are shared by all
//! instances, so they are read from PostgreSQL at scrape time (`render`'s `executions`); when the
//! database does not answer, those series are left out and `maskd_database_up` is 0, while the
//! instance's own series are still served.

use std::time::Duration;

use prometheus::proto::MetricFamily;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::types::ExecutionStatus;

/// The `route` label of a request that matched no endpoint: one value, so that made-up paths
/// cannot create new series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    rows_masked: IntCounter,
    cancel_to_stop: Histogram,
    workers_busy: IntGauge,
}

impl Metrics {
    /// The metrics of an instance running `workers` workers.
    pub fn new(workers: u32) -> Self {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "maskd_http_requests_total",
                "HTTP requests answered, by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "maskd_http_request_duration_seconds",
                "Time to answer an HTTP request, by route pattern and method",
            ),
            &["route", "method"],
        )
        .expect("valid metric");
        let rows_masked = IntCounter::new(
            "maskd_rows_masked_total",
            "Rows masked and committed by this instance's workers, counted as each commit is sent",
        )
        .expect("valid metric");
        let cancel_to_stop = Histogram::with_opts(
            HistogramOpts::new(
                "maskd_cancel_to_stop_seconds",
                "From the cancel of a running execution to the moment this instance set its endTime",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ]),
        )
        .expect("valid metric");
        let workers_busy = IntGauge::new(
            "maskd_workers_busy",
            "This instance's workers running an execution",
        )
        .expect("valid metric");
        let workers_configured =
            IntGauge::new("maskd_workers", "This instance's workers (MASKD_WORKERS)")
                .expect("valid metric");
        workers_configured.set(i64::from(workers));
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(rows_masked.clone()),
            Box::new(cancel_to_stop.clone()),
            Box::new(workers_busy.clone()),
            Box::new(workers_configured),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            http_requests,
            http_duration,
            rows_masked,
            cancel_to_stop,
            workers_busy,
        }
    }

    /// Counts an answered request. `route` is the matched pattern (or `UNMATCHED_ROUTE`); methods
    /// outside the standard ones share one label value.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "CONNECT"
            | "TRACE" => method,
            _ => "other",
        };
        self.http_requests
            .with_label_values(&[route, method, status.to_string().as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    pub fn add_rows_masked(&self, rows: u64) {
        self.rows_masked.inc_by(rows);
    }

    pub fn observe_cancel_to_stop(&self, elapsed: Duration) {
        self.cancel_to_stop.observe(elapsed.as_secs_f64());
    }

    pub fn set_workers_busy(&self, busy: usize) {
        self.workers_busy.set(busy as i64);
    }

    /// The text exposition of every series; `executions` are the counts by status read from the
    /// database, None when it did not answer.
    pub fn render(&self, executions: Option<&[(ExecutionStatus, i64)]>) -> String {
        let mut families = self.registry.gather();
        families.extend(database_families(executions));
        TextEncoder::new()
            .encode_to_string(&families)
            .expect("the text encoding of valid metrics cannot fail")
    }
}

/// The series read from the database at scrape time, in a registry of their own.
fn database_families(executions: Option<&[(ExecutionStatus, i64)]>) -> Vec<MetricFamily> {
    let registry = Registry::new();
    let up = IntGauge::new(
        "maskd_database_up",
        "1 when maskd's database answered this scrape, 0 when it did not (and the series read from it are left out)",
    )
    .expect("valid metric");
    registry.register(Box::new(up.clone())).expect("unique");
    if let Some(counts) = executions {
        up.set(1);
        let by_status = IntGaugeVec::new(
            Opts::new(
                "maskd_executions",
                "Executions in maskd's database (all instances), by status",
            ),
            &["status"],
        )
        .expect("valid metric");
        let queue_depth = IntGauge::new(
            "maskd_execution_queue_depth",
            "QUEUED executions waiting for a free worker on any instance",
        )
        .expect("valid metric");
        for status in ExecutionStatus::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            by_status.with_label_values(&[status.as_str()]).set(n);
            if status == ExecutionStatus::Queued {
                queue_depth.set(n);
            }
        }
        registry.register(Box::new(by_status)).expect("unique");
        registry.register(Box::new(queue_depth)).expect("unique");
    }
    registry.gather()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label_value() {
        let m = Metrics::new(2);
        m.observe_request("/x", "BREW", 405, Duration::from_millis(3));
        m.observe_request("/x", "WHEN", 405, Duration::from_millis(3));
        let text = m.render(None);
        assert!(
            text.contains(r#"maskd_http_requests_total{method="other",route="/x",status="405"} 2"#),
            "{text}"
        );
        assert!(!text.contains("BREW"), "{text}");
    }

    #[test]
    fn database_series_are_left_out_when_the_database_does_not_answer() {
        let m = Metrics::new(3);
        let down = m.render(None);
        assert!(down.contains("maskd_database_up 0"), "{down}");
        assert!(!down.contains("maskd_executions{"), "{down}");
        assert!(down.contains("maskd_workers 3"), "{down}");

        let up = m.render(Some(&[
            (ExecutionStatus::Queued, 4),
            (ExecutionStatus::Succeeded, 7),
        ]));
        assert!(up.contains("maskd_database_up 1"), "{up}");
        assert!(
            up.contains(r#"maskd_executions{status="QUEUED"} 4"#),
            "{up}"
        );
        assert!(
            up.contains(r#"maskd_executions{status="FAILED"} 0"#),
            "{up}"
        );
        assert!(up.contains("maskd_execution_queue_depth 4"), "{up}");
    }
}
