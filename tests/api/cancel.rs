//! `POST /executions/{executionId}/cancel`: every row of its contract.

use maskd::store::executions;
use maskd::types::{ExecutionStatus, Role};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::fixtures::TEST_WORKER;
use crate::common::{TestApp, spawn_app};

async fn graceful_flag(app: &TestApp, id: i64) -> Option<bool> {
    sqlx::query_scalar("SELECT cancel_graceful FROM executions WHERE execution_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn queued_execution_is_cancelled_with_end_time_and_no_start_time() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    for query in [
        "",
        "?expectedStatus=QUEUED",
        "?expectedStatus=QUEUED&graceful=true",
        "?graceful=false",
    ] {
        let id = app.execution_in(ExecutionStatus::Queued, rs).await;
        let a = app.cancel(id, query).await;
        assert_eq!(a.status, StatusCode::OK, "{query}: {:?}", a.body);
        assert_eq!(a.body["status"], "CANCELLED");
        assert_eq!(a.body["executionId"], id);
        assert!(
            a.body["endTime"].is_string(),
            "QUEUED -> CANCELLED sets endTime at once"
        );
        assert!(a.body["startTime"].is_null());
        assert_eq!(
            app.status_of(id).await,
            a.body,
            "the answer is the stored execution"
        );
    }
}

#[tokio::test]
async fn running_execution_is_cancelled_and_its_end_time_waits_for_the_worker() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    for query in [
        "",
        "?expectedStatus=RUNNING",
        "?expectedStatus=RUNNING&graceful=true",
    ] {
        let id = app.execution_in(ExecutionStatus::Running, rs).await;
        let a = app.cancel(id, query).await;
        assert_eq!(a.status, StatusCode::OK, "{query}: {:?}", a.body);
        assert_eq!(a.body["status"], "CANCELLED");
        assert!(a.body["startTime"].is_string());
        assert!(
            a.body["endTime"].is_null(),
            "endTime is set only when the worker has stopped"
        );
        // The worker stops: endTime set once; a second mark changes nothing.
        let stopped = executions::mark_stopped(&app.pool, id, TEST_WORKER)
            .await
            .unwrap()
            .unwrap();
        assert!(stopped.end_time.is_some());
        assert!(
            executions::mark_stopped(&app.pool, id, TEST_WORKER)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn graceful_is_recorded_and_an_invalid_value_changes_nothing() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let graceful = app.execution_in(ExecutionStatus::Running, rs).await;
    let abrupt = app.execution_in(ExecutionStatus::Running, rs).await;
    let default = app.execution_in(ExecutionStatus::Running, rs).await;
    let invalid = app.execution_in(ExecutionStatus::Running, rs).await;
    // Python clients send booleans capitalised: any case is accepted.
    let pythonic = app.execution_in(ExecutionStatus::Running, rs).await;
    let shouted = app.execution_in(ExecutionStatus::Running, rs).await;

    assert_eq!(
        app.cancel(graceful, "?graceful=true").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.cancel(pythonic, "?graceful=True").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.cancel(shouted, "?graceful=FALSE").await.status,
        StatusCode::OK
    );
    assert_eq!(graceful_flag(&app, pythonic).await, Some(true));
    assert_eq!(graceful_flag(&app, shouted).await, Some(false));
    assert_eq!(
        app.cancel(abrupt, "?graceful=false").await.status,
        StatusCode::OK
    );
    assert_eq!(app.cancel(default, "").await.status, StatusCode::OK);
    assert_eq!(graceful_flag(&app, graceful).await, Some(true));
    assert_eq!(graceful_flag(&app, abrupt).await, Some(false));
    assert_eq!(graceful_flag(&app, default).await, Some(false));

    for bad in [
        "?graceful=yes",
        "?graceful=1",
        "?graceful=",
        "?graceful=truee",
    ] {
        let a = app.cancel(invalid, bad).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            a.error_message().contains("graceful"),
            "{}",
            a.error_message()
        );
    }
    assert_eq!(app.status_of(invalid).await["status"], "RUNNING");
}

#[tokio::test]
async fn expected_status_mismatch_is_refused_naming_the_actual_status() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let running = app.execution_in(ExecutionStatus::Running, rs).await;
    let queued = app.execution_in(ExecutionStatus::Queued, rs).await;

    let a = app.cancel(queued, "?expectedStatus=RUNNING").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.error_message().contains("QUEUED"),
        "{}",
        a.error_message()
    );
    assert_eq!(app.status_of(queued).await["status"], "QUEUED");

    let a = app.cancel(running, "?expectedStatus=QUEUED").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.error_message().contains("RUNNING"),
        "{}",
        a.error_message()
    );
    let after = app.status_of(running).await;
    assert_eq!(after["status"], "RUNNING");
    assert!(after["endTime"].is_null());
}

#[tokio::test]
async fn an_already_cancelled_execution_answers_200_unchanged() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let id = app.execution_in(ExecutionStatus::Queued, rs).await;
    let first = app.cancel(id, "?expectedStatus=QUEUED").await;
    assert_eq!(first.status, StatusCode::OK);
    for query in [
        "",
        "?expectedStatus=QUEUED",
        "?expectedStatus=RUNNING",
        "?graceful=true",
    ] {
        let again = app.cancel(id, query).await;
        assert_eq!(again.status, StatusCode::OK, "{query}");
        assert_eq!(again.body, first.body, "a retried cancel changes nothing");
    }
    assert_eq!(graceful_flag(&app, id).await, Some(false));
}

#[tokio::test]
async fn finished_executions_cannot_be_cancelled() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    for status in [
        ExecutionStatus::Succeeded,
        ExecutionStatus::Warning,
        ExecutionStatus::Failed,
    ] {
        let id = app.execution_in(status, rs).await;
        for query in ["", "?expectedStatus=RUNNING", "?expectedStatus=QUEUED"] {
            let a = app.cancel(id, query).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{status} {query}");
            assert!(
                a.error_message().contains(status.as_str()),
                "{}",
                a.error_message()
            );
        }
        assert_eq!(app.status_of(id).await["status"], status.as_str());
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_and_statuses() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let a = app.cancel(987654, "").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.error_message().contains("987654"));

    for bad in [
        "abc",
        "-1",
        "0",
        "1.5",
        "9223372036854775808",
        "99999999999999999999999",
    ] {
        let a = app.cancel(bad, "").await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            a.error_message().contains("executionId"),
            "{}",
            a.error_message()
        );
    }

    let id = app.execution_in(ExecutionStatus::Queued, rs).await;
    for bad in [
        "?expectedStatus=DONE",
        "?expectedStatus=queued",
        "?expectedStatus=SUCCEEDED",
        "?expectedStatus=",
    ] {
        let a = app.cancel(id, bad).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            a.error_message().contains("expectedStatus"),
            "{}",
            a.error_message()
        );
    }
    assert_eq!(app.status_of(id).await["status"], "QUEUED");
}

#[tokio::test]
async fn tokens_and_roles() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let id = app.execution_in(ExecutionStatus::Queued, rs).await;
    let path = format!("/executions/{id}/cancel");

    for token in [None, Some("not-a-token"), Some("Bearer 0123")] {
        let a = app.call(Method::POST, &path, token, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(!a.error_message().is_empty());
    }
    // 401 comes before any look at the path.
    assert_eq!(
        app.call(Method::POST, "/executions/abc/cancel", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let auditor = app.user_token(Role::Auditor).await;
    let a = app.call(Method::POST, &path, Some(&auditor), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.error_message().contains("AUDITOR"));
    assert_eq!(app.status_of(id).await["status"], "QUEUED");

    let operator = app.user_token(Role::Operator).await;
    let a = app
        .call(
            Method::POST,
            &format!("{path}?expectedStatus=QUEUED"),
            Some(&format!("Bearer {operator}")),
            None,
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "OPERATOR may cancel, with a Bearer token too"
    );
}

#[tokio::test]
async fn both_base_paths_serve_the_cancel() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    for base in ["/masking/api", "/masking/api/v5.1.43"] {
        let id = app.execution_in(ExecutionStatus::Queued, rs).await;
        let a = app
            .call_at(
                base,
                Method::POST,
                &format!("/executions/{id}/cancel?expectedStatus=QUEUED"),
                Some(&app.admin_token),
                None,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{base}");
        assert_eq!(a.body["status"], "CANCELLED");
    }
}

/// The fields and types of the seed's 200 answer, exactly.
#[tokio::test]
async fn the_answer_has_exactly_the_seed_fields_and_types() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let running = app.execution_in(ExecutionStatus::Running, rs).await;
    let queued = app.execution_in(ExecutionStatus::Queued, rs).await;
    for id in [queued, running] {
        let a = app.cancel(id, "").await;
        assert_eq!(a.status, StatusCode::OK);
        check_seed_shape(&a.body);
    }
}

pub fn check_seed_shape(body: &Value) {
    let obj = body.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bytesProcessed",
            "bytesTotal",
            "connectorType",
            "endTime",
            "executionId",
            "jobId",
            "rowsMasked",
            "rowsTotal",
            "sourceConnectorId",
            "startTime",
            "status",
            "submitTime",
            "targetConnectorId"
        ]
    );
    assert!(obj["executionId"].is_i64() && obj["jobId"].is_i64());
    for int_or_null in [
        "sourceConnectorId",
        "targetConnectorId",
        "rowsMasked",
        "rowsTotal",
        "bytesProcessed",
        "bytesTotal",
    ] {
        assert!(
            obj[int_or_null].is_i64() || obj[int_or_null].is_null(),
            "{int_or_null}: {}",
            obj[int_or_null]
        );
    }
    assert!(
        obj["connectorType"].is_null()
            || ["DATABASE", "FILE", "VSAM"].contains(&obj["connectorType"].as_str().unwrap())
    );
    let status = obj["status"].as_str().unwrap();
    assert!(
        [
            "CANCELLED",
            "FAILED",
            "QUEUED",
            "RUNNING",
            "SUCCEEDED",
            "WARNING"
        ]
        .contains(&status)
    );
    assert!(obj["submitTime"].is_string());
    for time in ["startTime", "endTime", "submitTime"] {
        if let Some(t) = obj[time].as_str() {
            // RFC 3339, UTC, milliseconds: 2026-11-29T04:33:05.123+00:00
            assert_eq!(t.len(), 29, "{time}: {t}");
            assert!(
                t.ends_with("+00:00") && t.as_bytes()[19] == b'.',
                "{time}: {t}"
            );
            chrono::DateTime::parse_from_rfc3339(t).unwrap();
        }
    }
}

/// A cancel that changed an execution notifies (on commit) with its id; one that changed nothing
/// does not. Submissions notify too, for the workers.
#[tokio::test]
async fn cancels_and_submissions_notify() {
    use maskd::store::executions::{CANCELLED_CHANNEL, SUBMITTED_CHANNEL};
    use std::time::Duration;
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let mut listener = sqlx::postgres::PgListener::connect(&app.db.url())
        .await
        .unwrap();
    listener
        .listen_all([CANCELLED_CHANNEL, SUBMITTED_CHANNEL])
        .await
        .unwrap();

    let id = app.execution_in(ExecutionStatus::Running, rs).await;
    let n = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (n.channel(), n.payload()),
        (SUBMITTED_CHANNEL, id.to_string().as_str())
    );

    assert_eq!(
        app.cancel(id, "?expectedStatus=RUNNING").await.status,
        StatusCode::OK
    );
    let n = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (n.channel(), n.payload()),
        (CANCELLED_CHANNEL, id.to_string().as_str())
    );

    // A retry changes nothing and notifies nobody.
    assert_eq!(app.cancel(id, "").await.status, StatusCode::OK);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), listener.recv())
            .await
            .is_err()
    );
}
