//! `GET /metrics`: the series reflect the requests made and the executions run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use maskd::types::ExecutionStatus;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::ConnectOptions;

use crate::common::crm::{ALL_OPTIONS, create_customers, create_masking_job};
use crate::common::{Settings, TestApp, server_options, spawn_app, spawn_app_with, watch};

/// One scrape, parsed.
struct Scrape {
    text: String,
    /// (name, labels) -> value
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    /// The sum of the samples of `name` that have all of `labels` (None when there is none).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{}", self.text))
    }
}

fn parse(text: &str) -> Vec<(String, BTreeMap<String, String>, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            let Some((name, labels)) = series.split_once('{') else {
                return (series.to_owned(), BTreeMap::new(), value);
            };
            let mut map = BTreeMap::new();
            let mut rest = labels.strip_suffix('}').expect("closing brace");
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"").expect("key=\"value\"");
                let mut v = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next().expect("closing quote") {
                        (i, '"') => break i,
                        (_, '\\') => v.push(chars.next().expect("escaped").1),
                        (_, c) => v.push(c),
                    }
                };
                map.insert(key.to_owned(), v);
                rest = after[end + 1..].trim_start_matches(',');
            }
            (name.to_owned(), map, value)
        })
        .collect()
}

async fn scrape(app: &TestApp) -> Scrape {
    let res = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.unwrap();
    Scrape {
        samples: parse(&text),
        text,
    }
}

/// Scrapes until `done` says so (a worker frees its slot just after the execution's endTime).
async fn scrape_until(app: &TestApp, done: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = scrape(app).await;
        if done(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "never got there:\n{}", s.text);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const EXECUTION_ROUTE: &str = "/masking/api/executions/{executionId}";

#[tokio::test]
async fn requests_are_counted_by_route_pattern_method_and_status() {
    let app = spawn_app().await;
    let job = app.create_job().await;
    let id = app.submit(job).await;
    let before = scrape(&app).await;
    let count = |s: &Scrape, route: &str, method: &str, status: &str| {
        s.get(
            "maskd_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
        .unwrap_or(0.0)
    };

    for _ in 0..5 {
        assert_eq!(
            app.get(&format!("/executions/{id}")).await.status,
            StatusCode::OK
        );
    }
    for _ in 0..2 {
        assert_eq!(
            app.get("/executions/not-a-number").await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let versioned = app
        .call_at(
            "/masking/api/v5.1.43",
            Method::GET,
            &format!("/executions/{id}"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(versioned.status, StatusCode::OK);
    for n in 0..3 {
        let a = app.get(&format!("/no-such-thing/{n}")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
    let brew = app
        .call(
            Method::from_bytes(b"BREW").unwrap(),
            &format!("/executions/{id}"),
            Some(&app.admin_token),
            None,
        )
        .await;
    assert_eq!(brew.status, StatusCode::METHOD_NOT_ALLOWED);

    let after = scrape(&app).await;
    let diff = |route: &str, method: &str, status: &str| {
        count(&after, route, method, status) - count(&before, route, method, status)
    };
    assert_eq!(diff(EXECUTION_ROUTE, "GET", "200"), 5.0);
    assert_eq!(diff(EXECUTION_ROUTE, "GET", "400"), 2.0);
    assert_eq!(diff(EXECUTION_ROUTE, "other", "405"), 1.0);
    assert_eq!(
        diff(
            "/masking/api/v5.1.43/executions/{executionId}",
            "GET",
            "200"
        ),
        1.0
    );
    assert_eq!(diff("unmatched", "GET", "404"), 3.0);
    let latencies = |s: &Scrape| {
        s.get(
            "maskd_http_request_duration_seconds_count",
            &[("route", EXECUTION_ROUTE), ("method", "GET")],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(latencies(&after) - latencies(&before), 7.0);
    assert!(
        count(&after, "/metrics", "GET", "200") >= 1.0,
        "the first scrape is counted"
    );
    // Paths never become label values: ids and made-up paths cannot multiply the series.
    for (_, labels, _) in &after.samples {
        if let Some(route) = labels.get("route") {
            let without_version = route.replace("v5.1.43", "");
            assert!(
                route == "unmatched" || !without_version.chars().any(|c| c.is_ascii_digit()),
                "{route}"
            );
            assert!(!route.contains("no-such-thing") && !route.contains("not-a-number"));
        }
    }
    assert!(!after.text.contains("BREW"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_execution_counts_its_rows_and_its_status() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 2_000).await;
    let job = create_masking_job(&app, ALL_OPTIONS()).await;
    let before = scrape(&app).await;
    assert_eq!(before.value("maskd_rows_masked_total", &[]), 0.0);
    assert_eq!(before.value("maskd_workers", &[]), 1.0);
    assert_eq!(before.value("maskd_workers_busy", &[]), 0.0);

    let id = app.submit(job).await;
    let last = watch(&app, id, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    let rows: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM target.customers) + (SELECT count(*) FROM target.orders)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(last["rowsMasked"], rows);

    let after = scrape_until(&app, |s| s.get("maskd_workers_busy", &[]) == Some(0.0)).await;
    assert_eq!(after.value("maskd_rows_masked_total", &[]), rows as f64);
    for status in ExecutionStatus::ALL {
        let expected = if status == ExecutionStatus::Succeeded {
            1.0
        } else {
            0.0
        };
        assert_eq!(
            after.value("maskd_executions", &[("status", status.as_str())]),
            expected,
            "{status}"
        );
    }
    assert_eq!(after.value("maskd_execution_queue_depth", &[]), 0.0);
    assert_eq!(after.value("maskd_cancel_to_stop_seconds_count", &[]), 0.0);
    assert_eq!(after.value("maskd_database_up", &[]), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_running_execution_is_one_cancel_to_stop_observation() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 200_000).await;
    let job = create_masking_job(&app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let id = app.submit(job).await;
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;

    let running = scrape(&app).await;
    assert_eq!(running.value("maskd_workers_busy", &[]), 1.0);
    assert_eq!(
        running.value("maskd_executions", &[("status", "RUNNING")]),
        1.0
    );
    assert!(running.value("maskd_rows_masked_total", &[]) > 0.0);
    assert_eq!(
        running.value("maskd_cancel_to_stop_seconds_count", &[]),
        0.0
    );

    let a = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let last = watch(&app, id, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(last["status"], "CANCELLED");

    let after = scrape_until(&app, |s| s.get("maskd_workers_busy", &[]) == Some(0.0)).await;
    assert_eq!(after.value("maskd_cancel_to_stop_seconds_count", &[]), 1.0);
    // The observation is the stored cancel-to-endTime interval.
    let stored: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM end_time - cancel_time)::float8 FROM executions WHERE execution_id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let observed = after.value("maskd_cancel_to_stop_seconds_sum", &[]);
    assert!(
        stored > 0.0 && (observed - stored).abs() < 1e-6,
        "{observed} vs {stored}"
    );
    assert_eq!(
        after.value("maskd_executions", &[("status", "CANCELLED")]),
        1.0
    );
    assert_eq!(
        after.value("maskd_executions", &[("status", "RUNNING")]),
        0.0
    );
    let rows_masked = last["rowsMasked"].as_i64().unwrap() as f64;
    assert!(
        after.value("maskd_rows_masked_total", &[]) >= rows_masked && rows_masked > 0.0,
        "counted as each commit is sent, so at least what the execution committed: {} vs {last}",
        after.value("maskd_rows_masked_total", &[])
    );
}

#[tokio::test]
async fn executions_by_status_come_from_the_database_and_are_left_out_when_it_is_down() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    // RUNNING first: the store's claim takes the oldest QUEUED execution.
    for status in [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Cancelled,
        ExecutionStatus::Queued,
        ExecutionStatus::Queued,
    ] {
        app.execution_in(status, rs).await;
    }
    let up = scrape(&app).await;
    for (status, n) in [
        ("QUEUED", 2.0),
        ("RUNNING", 1.0),
        ("SUCCEEDED", 1.0),
        ("FAILED", 1.0),
        ("CANCELLED", 1.0),
        ("WARNING", 0.0),
    ] {
        assert_eq!(
            up.value("maskd_executions", &[("status", status)]),
            n,
            "{status}"
        );
    }
    assert_eq!(up.value("maskd_execution_queue_depth", &[]), 2.0);
    assert_eq!(up.value("maskd_database_up", &[]), 1.0);

    let mut admin = server_options()
        .database("postgres")
        .connect()
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", app.db.name))
        .execute(&mut admin)
        .await
        .unwrap();
    let down = scrape(&app).await;
    assert_eq!(down.value("maskd_database_up", &[]), 0.0);
    assert_eq!(down.get("maskd_executions", &[]), None, "{}", down.text);
    assert_eq!(down.get("maskd_execution_queue_depth", &[]), None);
    assert!(
        down.value(
            "maskd_http_requests_total",
            &[("route", "/metrics"), ("status", "200")]
        ) >= 1.0,
        "the instance's own series are still served"
    );
}
