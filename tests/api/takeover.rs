//! The takeover service on its own: a pass takes over the executions whose worker went silent,
//! restores what their runs disabled (or reports what it cannot, and why), ends them, and says what
//! it did; executions with a fresh heartbeat are left alone, and two services never take one
//! orphan twice.

use std::sync::Arc;
use std::time::Duration;

use maskd::crypto::Keys;
use maskd::engine::Ended;
use maskd::engine::Instance;
use maskd::engine::takeover::{TakenOver, Takeover, TakeoverConfig};
use maskd::metrics::Metrics;
use maskd::store::executions;
use maskd::store::sql_objects;
use maskd::types::ExecutionStatus;
use maskd::types::target::FoundSqlObject;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::crm::{create_customers, create_masking_job, sql_objects_state};
use crate::common::{TestApp, spawn_app};

/// A takeover service of this test's application, as the worker `name`.
fn rescuer(app: &TestApp, name: &str) -> Takeover {
    Takeover::new(
        Instance::new(
            app.pool.clone(),
            Keys::from_secret(b"test-secret-key"),
            name,
            Arc::new(Metrics::new(0)),
        ),
        TakeoverConfig {
            interval: Duration::from_secs(1),
            stale_after: Duration::from_secs(3),
        },
    )
}

/// An execution of `job` claimed by `worker`, whose heartbeat is `age_secs` old.
async fn claimed(app: &TestApp, job: i64, worker: &str, age_secs: i64) -> i64 {
    let id = app.submit(job).await;
    let e = executions::claim(&app.pool, worker).await.unwrap().unwrap();
    assert_eq!(e.execution_id, id);
    sqlx::query(
        "UPDATE executions SET heartbeat_time = now() - make_interval(secs => $2) WHERE execution_id = $1",
    )
    .bind(id)
    .bind(age_secs as f64)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

fn trigger() -> FoundSqlObject {
    FoundSqlObject {
        object_type: "TRIGGER".into(),
        object_name: "customers_bump".into(),
        table_name: "target.customers".into(),
        disable_sql: "ALTER TABLE target.customers DISABLE TRIGGER customers_bump".into(),
        restore_sql: "ALTER TABLE target.customers ENABLE TRIGGER customers_bump".into(),
        validate_sql: None,
    }
}

/// What a dead worker left: the trigger recorded and disabled on the target.
async fn disable_trigger_as(app: &TestApp, id: i64, worker: &str) {
    let recorded = sql_objects::record(&app.pool, id, worker, &trigger())
        .await
        .unwrap()
        .unwrap();
    sqlx::raw_sql(&trigger().disable_sql)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(
        sql_objects::mark_disabled(&app.pool, recorded.sql_object_id, worker)
            .await
            .unwrap()
    );
}

async fn status(app: &TestApp, id: i64) -> (ExecutionStatus, bool) {
    let e = executions::get(&app.pool, id).await.unwrap().unwrap();
    (e.status, e.end_time.is_some())
}

#[tokio::test]
async fn a_pass_restores_and_ends_what_a_dead_worker_left() {
    let app = spawn_app().await;
    create_customers(&app, 10).await;
    let job = create_masking_job(&app, json!({"disableTriggers": true})).await;
    let fresh_job = app.create_job().await;
    let rescuer = rescuer(&app, "rescuer");

    assert!(rescuer.run_once().await.unwrap().taken_over.is_empty());
    let running = claimed(&app, job, "dead", 60).await;
    disable_trigger_as(&app, running, "dead").await;
    let alive = claimed(&app, fresh_job, "alive", 0).await;
    assert_eq!(sql_objects_state(&app).await.0, "D");

    let pass = rescuer.run_once().await.unwrap();
    assert_eq!(
        pass.taken_over,
        vec![TakenOver {
            execution_id: running,
            job_id: job,
            status: ExecutionStatus::Running,
            ended: Ended::Finished(ExecutionStatus::Failed),
        }]
    );
    assert_eq!(sql_objects_state(&app).await.0, "O", "the trigger is back");
    assert_eq!(app.event_types(running).await, ["JOB_ABORTED"]);
    assert_eq!(status(&app, running).await, (ExecutionStatus::Failed, true));
    assert_eq!(
        status(&app, alive).await,
        (ExecutionStatus::Running, false),
        "a fresh heartbeat is left alone"
    );
    assert!(rescuer.run_once().await.unwrap().taken_over.is_empty());

    // A cancelled execution whose worker died is stopped, its objects restored too.
    let cancelled = claimed(&app, job, "dead", 0).await;
    disable_trigger_as(&app, cancelled, "dead").await;
    executions::cancel(&app.pool, cancelled, None, false)
        .await
        .unwrap()
        .unwrap();
    sqlx::query(
        "UPDATE executions SET heartbeat_time = now() - interval '1 minute' WHERE execution_id = $1",
    )
    .bind(cancelled)
    .execute(&app.pool)
    .await
    .unwrap();
    let pass = rescuer.run_once().await.unwrap();
    assert_eq!(pass.taken_over.len(), 1);
    assert_eq!(
        (pass.taken_over[0].status, pass.taken_over[0].ended),
        (ExecutionStatus::Cancelled, Ended::Stopped)
    );
    assert_eq!(sql_objects_state(&app).await.0, "O");
    assert_eq!(
        status(&app, cancelled).await,
        (ExecutionStatus::Cancelled, true)
    );
}

#[tokio::test]
async fn objects_on_an_unreachable_target_are_reported_with_the_reason() {
    let app = spawn_app().await;
    // A connector to a port where nothing listens.
    let env = app
        .post(
            "/environments",
            json!({"environmentName": "nowhere", "applicationName": "app"}),
        )
        .await;
    let mut body = app.connector_body(env.body["environmentId"].as_i64().unwrap());
    body["port"] = json!(1);
    let connector = app.post("/database-connectors", body).await;
    assert_eq!(connector.status, StatusCode::CREATED, "{connector:?}");
    let ruleset = app
        .post(
            "/database-rulesets",
            json!({"rulesetName": "rs", "databaseConnectorId": connector.body["databaseConnectorId"]}),
        )
        .await;
    let job = app
        .create_job_on(ruleset.body["databaseRulesetId"].as_i64().unwrap())
        .await;
    let id = claimed(&app, job, "dead", 60).await;
    sql_objects::record(&app.pool, id, "dead", &trigger())
        .await
        .unwrap()
        .unwrap();

    let pass = rescuer(&app, "rescuer").run_once().await.unwrap();
    assert_eq!(
        pass.taken_over[0].ended,
        Ended::Finished(ExecutionStatus::Failed)
    );
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await;
    let left = events.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["eventType"] == "SQL_OBJECTS_LEFT_DISABLED")
        .unwrap_or_else(|| panic!("no report: {events:?}"));
    let cause = left["cause"].as_str().unwrap();
    assert!(
        cause.contains("TRIGGER customers_bump ON target.customers"),
        "{cause}"
    );
    assert!(cause.contains("cannot be reached"), "{cause}");
    assert!(cause.contains(&trigger().restore_sql), "{cause}");
    assert_eq!(app.event_types(id).await.last().unwrap(), "JOB_ABORTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_services_never_take_one_orphan_twice() {
    let app = Arc::new(spawn_app().await);
    let ruleset = app.create_ruleset().await;
    let mut orphans = vec![];
    for _ in 0..12 {
        let job = app.create_job_on(ruleset).await;
        orphans.push(claimed(&app, job, "dead", 60).await);
    }
    let (a, b) = (rescuer(&app, "a"), rescuer(&app, "b"));
    let (pass_a, pass_b) = tokio::join!(a.run_once(), b.run_once());
    let mut taken: Vec<i64> = pass_a
        .unwrap()
        .taken_over
        .into_iter()
        .chain(pass_b.unwrap().taken_over)
        .map(|t| {
            assert_eq!(t.ended, Ended::Finished(ExecutionStatus::Failed));
            t.execution_id
        })
        .collect();
    taken.sort();
    assert_eq!(taken, orphans);
}

#[tokio::test]
async fn a_dead_workers_profile_execution_is_taken_over_and_ends_failed() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let job = app
        .post(
            "/profile-jobs",
            json!({"jobName": "p", "rulesetId": rs, "profileSetId": 1}),
        )
        .await
        .body["profileJobId"]
        .as_i64()
        .unwrap();
    let running = claimed(&app, job, "dead", 60).await;
    let pass = rescuer(&app, "rescuer").run_once().await.unwrap();
    assert_eq!(
        pass.taken_over,
        vec![TakenOver {
            execution_id: running,
            job_id: job,
            status: ExecutionStatus::Running,
            ended: Ended::Finished(ExecutionStatus::Failed),
        }]
    );
    assert_eq!(status(&app, running).await, (ExecutionStatus::Failed, true));
    let events = app
        .get(&format!("/execution-events?execution_id={running}"))
        .await
        .body;
    assert_eq!(
        events["responseList"][0]["eventType"], "JOB_ABORTED",
        "{events}"
    );
}
