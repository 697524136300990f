//! Submitting, listing and paging executions; components and events.

use maskd::types::ExecutionStatus;
use reqwest::StatusCode;
use serde_json::json;

use super::cancel::check_seed_shape;
use crate::common::spawn_app;

#[tokio::test]
async fn submit_answers_a_queued_execution_and_refuses_a_second_active_one() {
    let app = spawn_app().await;
    let job = app.create_job().await;
    let a = app.post("/executions", json!({"jobId": job})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    check_seed_shape(&a.body);
    assert_eq!(a.body["status"], "QUEUED");
    assert_eq!(a.body["jobId"], job);
    assert!(a.body["submitTime"].is_string() && a.body["startTime"].is_null());
    let id = a.body["executionId"].as_i64().unwrap();

    let again = app
        .post("/executions", json!({"jobId": job.to_string()}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.error_message().contains(&id.to_string()),
        "{}",
        again.error_message()
    );

    // A RUNNING execution that is cancelled but not yet stopped still blocks a new one.
    maskd::store::executions::claim(&app.pool, "w")
        .await
        .unwrap()
        .unwrap();
    maskd::store::executions::cancel(&app.pool, id, None, true)
        .await
        .unwrap()
        .unwrap();
    let blocked = app.post("/executions", json!({"jobId": job})).await;
    assert_eq!(blocked.status, StatusCode::CONFLICT);
    assert!(
        blocked.error_message().contains("CANCELLED"),
        "{}",
        blocked.error_message()
    );
    maskd::store::executions::mark_stopped(&app.pool, id, "w")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.post("/executions", json!({"jobId": job})).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn submit_validation() {
    let app = spawn_app().await;
    let job = app.create_job().await;
    assert_eq!(
        app.post("/executions", json!({"jobId": 9999})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/executions", json!({})).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post("/executions", json!({"jobId": "x"})).await.status,
        StatusCode::BAD_REQUEST
    );
    let a = app
        .post("/executions", json!({"jobId": job, "targetConnectorId": 1}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.error_message().contains("not multi-tenant"),
        "{}",
        a.error_message()
    );
    let a = app
        .post(
            "/executions",
            json!({"jobId": job, "connectorType": "DATABASE"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = app
        .post(
            "/executions",
            json!({"jobId": job, "connectorType": "TAPE"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    // Multi-tenant: the target connector is required, and must exist.
    let mt = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"multiTenant": true}),
        )
        .await;
    assert_eq!(mt.status, StatusCode::OK);
    let a = app.post("/executions", json!({"jobId": job})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.error_message().contains("targetConnectorId"));
    assert_eq!(
        app.post(
            "/executions",
            json!({"jobId": job, "targetConnectorId": 4242})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let connectors = app.get("/database-connectors").await;
    let connector = connectors.body["responseList"][0]["databaseConnectorId"]
        .as_i64()
        .unwrap();
    let ok = app
        .post(
            "/executions",
            json!({"jobId": job, "targetConnectorId": connector.to_string()}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
    assert_eq!(ok.body["targetConnectorId"], connector);
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(none, 1, "refused submissions created nothing");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let mut ids = vec![];
    for status in [
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::Running,
        ExecutionStatus::Queued,
        ExecutionStatus::Queued,
    ] {
        ids.push(app.execution_in(status, rs).await);
    }
    let all = app.get("/executions").await;
    assert_eq!(all.body["_pageInfo"]["total"], 5);
    let listed: Vec<i64> = all.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["executionId"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids, "ascending id order");

    let queued = app.get("/executions?execution_status=QUEUED").await;
    assert_eq!(queued.body["_pageInfo"]["total"], 2);
    let job_of_first = all.body["responseList"][0]["jobId"].as_i64().unwrap();
    let by_job = app.get(&format!("/executions?job_id={job_of_first}")).await;
    assert_eq!(by_job.body["_pageInfo"]["total"], 1);
    assert_eq!(by_job.body["responseList"][0]["executionId"], ids[0]);
    let none = app.get("/executions?job_id=99999").await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["_pageInfo"]["numberOnPage"], 0);
    assert_eq!(none.body["responseList"], json!([]));

    let page2 = app.get("/executions?page_number=2&page_size=2").await;
    assert_eq!(
        page2.body["_pageInfo"],
        json!({"numberOnPage": 2, "total": 5})
    );
    assert_eq!(page2.body["responseList"][0]["executionId"], ids[2]);
    let page3 = app.get("/executions?page_number=3&page_size=2").await;
    assert_eq!(page3.body["_pageInfo"]["numberOnPage"], 1);
    let past = app.get("/executions?page_number=4&page_size=2").await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert!(
        past.error_message()
            .contains("is outside of the acceptable range. The last page is 3"),
        "{}",
        past.error_message()
    );

    for bad in [
        "?execution_status=DONE",
        "?job_id=abc",
        "?page_number=0",
        "?page_size=10001",
        "?page_size=x",
    ] {
        assert_eq!(
            app.get(&format!("/executions{bad}")).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(
        app.get(&format!("/executions/{}", ids[4])).await.body["status"],
        "QUEUED"
    );
    assert_eq!(
        app.get("/executions/777").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn components_and_events_are_listed_by_execution() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let a = app.execution_in(ExecutionStatus::Failed, rs).await;
    let b = app.execution_in(ExecutionStatus::Queued, rs).await;
    sqlx::query("INSERT INTO execution_components (execution_id, component_name, status, rows_masked, rows_total, start_time, end_time) VALUES ($1, 'people', 'FAILED', 5, 10, now(), now()), ($2, 'people', 'QUEUED', 0, NULL, NULL, NULL)")
        .bind(a).bind(b).execute(&app.pool).await.unwrap();
    sqlx::query("INSERT INTO execution_events (execution_id, event_type, severity, cause, count) VALUES ($1, 'JOB_ABORTED', 'ERROR', 'instance died', 1)")
        .bind(a).execute(&app.pool).await.unwrap();

    let comps = app
        .get(&format!("/execution-components?execution_id={a}"))
        .await;
    assert_eq!(comps.body["_pageInfo"]["total"], 1);
    let c = &comps.body["responseList"][0];
    assert_eq!(
        (
            c["componentName"].as_str(),
            c["rowsMasked"].as_i64(),
            c["rowsTotal"].as_i64()
        ),
        (Some("people"), Some(5), Some(10))
    );
    assert_eq!(
        app.get("/execution-components").await.body["_pageInfo"]["total"],
        2
    );
    let events = app
        .get(&format!("/execution-events?execution_id={a}"))
        .await;
    let e = &events.body["responseList"][0];
    assert_eq!(e["eventType"], "JOB_ABORTED");
    assert_eq!(e["severity"], "ERROR");
    assert_eq!(e["count"], 1);
    assert!(e["timeStamp"].is_string());
    assert_eq!(
        app.get(&format!("/execution-events?execution_id={b}"))
            .await
            .body["_pageInfo"]["total"],
        0
    );
    let id = e["executionEventId"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/execution-events/{id}")).await.body["cause"],
        "instance died"
    );
}
