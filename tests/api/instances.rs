//! Several maskd processes (the real binary) sharing one database: each execution runs exactly
//! once, a killed instance's execution is taken over, SIGTERM hands executions back cleanly, and
//! killed database connections never leave an execution RUNNING.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use maskd::masking::algorithms::{Algorithm, MaskingKey};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::crm::{create_customers, create_masking_job, sql_objects_state};
use crate::common::maskd_serve::maskd_serve;
use crate::common::{Settings, TestApp, spawn_app_with, wait_until_ready, watch};

/// A `maskd serve` process, killed when dropped.
struct Instance {
    child: Child,
    pub url: String,
}

impl Instance {
    async fn start(app: &TestApp, workers: u32, grace_secs: u32) -> Instance {
        Self::start_with(app, workers, grace_secs, &[]).await
    }

    /// The same, with more of the environment.
    async fn start_with(
        app: &TestApp,
        workers: u32,
        grace_secs: u32,
        env: &[(&str, &str)],
    ) -> Instance {
        let (mut command, url) = maskd_serve(&app.db.url());
        let child = command
            .env("MASKD_WORKERS", workers.to_string())
            .env("MASKD_SHUTDOWN_GRACE_SECS", grace_secs.to_string())
            .envs(env.iter().copied())
            .spawn()
            .expect("maskd starts");
        wait_until_ready(&app.client, &url).await;
        Instance { child, url }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit code.
    async fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "maskd did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ended(e: &serde_json::Value) -> bool {
    e["endTime"].is_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_run_each_of_fifty_executions_exactly_once() {
    const JOBS: usize = 50;
    let app = spawn_app_with(Settings::default()).await;
    sqlx::query("CREATE SCHEMA target")
        .execute(&app.pool)
        .await
        .unwrap();
    let connector = app.create_connector().await;
    let mut jobs = vec![];
    for i in 0..JOBS {
        sqlx::query(&format!(
            "CREATE TABLE target.t{i} (id int PRIMARY KEY, name text)"
        ))
        .execute(&app.pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO target.t{i} SELECT g, 'Name' || g FROM generate_series(1, 200) g"
        ))
        .execute(&app.pool)
        .await
        .unwrap();
        // Each job masks its own table, through its own ruleset.
        let r = app
            .post(
                "/database-rulesets",
                json!({"rulesetName": format!("rs{i}"), "databaseConnectorId": connector}),
            )
            .await;
        let r = r.body["databaseRulesetId"].as_i64().unwrap();
        let t = app
            .post(
                "/table-metadata",
                json!({"tableName": format!("t{i}"), "rulesetId": r}),
            )
            .await;
        let cols = app
            .get(&format!(
                "/column-metadata?table_metadata_id={}",
                t.body["tableMetadataId"]
            ))
            .await;
        let name = cols.body["responseList"][1]["columnMetadataId"]
            .as_i64()
            .unwrap();
        app.put(
            &format!("/column-metadata/{name}"),
            json!({"algorithmName": "FirstNameLookup"}),
        )
        .await;
        jobs.push(app.create_job_on(r).await);
    }
    let instances = [
        Instance::start(&app, 2, 5).await,
        Instance::start(&app, 2, 5).await,
        Instance::start(&app, 2, 5).await,
    ];
    // Submit through all three instances.
    let mut ids = vec![];
    for (i, job) in jobs.iter().enumerate() {
        let url = format!("{}/masking/api/executions", instances[i % 3].url);
        let r = app
            .client
            .post(url)
            .header("Authorization", &app.admin_token)
            .json(&json!({"jobId": job}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        ids.push(
            r.json::<serde_json::Value>().await.unwrap()["executionId"]
                .as_i64()
                .unwrap(),
        );
    }
    for id in &ids {
        let last = watch(&app, *id, ended).await.pop().unwrap();
        assert_eq!(last["status"], "SUCCEEDED", "{last}");
        assert_eq!(last["rowsMasked"], 200);
    }
    // Masked exactly once: every value is the one masking once gives (twice would differ).
    let key = MaskingKey::new(b"test-secret-key");
    for i in 0..JOBS {
        let rows: Vec<(i32, String)> =
            sqlx::query_as(&format!("SELECT id, name FROM target.t{i} ORDER BY id"))
                .fetch_all(&app.pool)
                .await
                .unwrap();
        for (id, name) in rows {
            let once = Algorithm::FirstNameLookup
                .mask(&key, Some(&format!("Name{id}")))
                .unwrap()
                .unwrap();
            assert_eq!(name, once, "table t{i} row {id}");
        }
    }
    let workers: Vec<(String, i64)> =
        sqlx::query_as("SELECT worker_id, count(*) FROM executions GROUP BY worker_id ORDER BY 1")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    println!("executions per worker: {workers:?}");
    assert_eq!(workers.iter().map(|(_, n)| n).sum::<i64>(), JOBS as i64);
}

/// Starts a long run on `instance`; returns the execution id once rows are being masked.
async fn long_run(app: &TestApp, instance: &Instance) -> i64 {
    create_customers(app, 200_000).await;
    let job = create_masking_job(app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let url = format!("{}/masking/api/executions", instance.url);
    let r = app
        .client
        .post(url)
        .header("Authorization", &app.admin_token)
        .json(&json!({"jobId": job}))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["executionId"]
        .as_i64()
        .unwrap();
    watch(app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;
    id
}

/// A JOB_ABORTED event (beside, perhaps, a constraint left NOT VALID by the part-way run).
async fn assert_job_aborted(app: &TestApp, id: i64) {
    let types = app.event_types(id).await;
    assert!(types.iter().any(|t| t == "JOB_ABORTED"), "{types:?}");
    assert!(
        types
            .iter()
            .all(|t| ["JOB_ABORTED", "CONSTRAINT_NOT_VALIDATED"].contains(&t.as_str())),
        "{types:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_is_taken_over_and_its_objects_restored() {
    let app = spawn_app_with(Settings::default()).await;
    let mut doomed = Instance::start(&app, 1, 5).await;
    let id = long_run(&app, &doomed).await;
    let _survivor = Instance::start(&app, 1, 5).await;
    doomed.signal("-KILL");
    doomed.exit_code().await;
    let killed = Instant::now();
    let last = watch(&app, id, ended).await.pop().unwrap();
    println!("kill -9 to endTime: {:?}", killed.elapsed());
    assert_eq!(last["status"], "FAILED");
    assert_job_aborted(&app, id).await;
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!((trigger.as_str(), indexes, fk), ("O", 2, true));
    // The job can run again.
    assert_eq!(
        app.post("/executions", json!({"jobId": last["jobId"]}))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_running_executions_back_and_exits_zero() {
    let app = spawn_app_with(Settings::default()).await;
    let mut instance = Instance::start(&app, 1, 1).await;
    let id = long_run(&app, &instance).await;
    instance.signal("-TERM");
    assert_eq!(instance.exit_code().await, Some(0));
    let last = app.status_of(id).await;
    assert_eq!(last["status"], "FAILED", "{last}");
    assert!(last["endTime"].is_string());
    assert_job_aborted(&app, id).await;
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!((trigger.as_str(), indexes, fk), ("O", 2, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_database_connections_never_leave_an_execution_running() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 200_000).await;
    let job = create_masking_job(&app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let id = app.submit(job).await;
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'maskd%' AND pid <> pg_backend_pid()) k",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap_or(0);
    assert!(killed > 0);
    // An HTTP connection lent within the last half second is lent again unchecked: each of those
    // answers one request with a 503 saying to try again, and is replaced.
    let mut unavailable = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let last = loop {
        let a = app.get(&format!("/executions/{id}")).await;
        if a.status == StatusCode::OK {
            if ended(&a.body) {
                break a.body;
            }
        } else {
            assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{a:?}");
            assert!(a.error_message().contains("try again"), "{a:?}");
            unavailable += 1;
            assert!(
                unavailable <= 10,
                "no more than the pool's connections fail"
            );
        }
        assert!(Instant::now() < deadline, "execution {id} did not end");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(last["status"], "FAILED", "{last}");
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!((trigger.as_str(), indexes, fk), ("O", 2, true));
}

/// An execution cancelled while its instance is dead gets its `endTime` from a survivor, which
/// restores the dead worker's SQL objects first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_of_a_dead_instances_execution_is_finished_by_a_survivor() {
    let app = spawn_app_with(Settings::default()).await;
    let mut doomed = Instance::start(&app, 1, 5).await;
    let id = long_run(&app, &doomed).await;
    doomed.signal("-KILL");
    doomed.exit_code().await;
    let a = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body["endTime"].is_null(), "nobody has stopped it yet");
    let _survivor = Instance::start(&app, 1, 5).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "CANCELLED");
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!(
        (trigger.as_str(), indexes, fk),
        ("O", 2, true),
        "restored before endTime"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_on_the_fly_run_is_taken_over_its_target_restored_and_its_source_untouched()
 {
    use crate::api::on_the_fly::{
        create_schemas, create_source_connector, create_target_ruleset, fingerprint,
    };
    let app = spawn_app_with(Settings::default()).await;
    const ROWS: i64 = 300_000;
    create_schemas(&app, ROWS).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let before = fingerprint(&app, "source").await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy", "rulesetId": rs, "onTheFlyMasking": true, "feedbackSize": 1000,
                   "onTheFlyMaskingSource": {"connectorId": source},
                   "databaseMaskingOptions": {"commitSize": 1000, "truncateTables": true, "dropIndexes": true}}),
        )
        .await
        .body["maskingJobId"]
        .as_i64()
        .unwrap();
    let mut doomed = Instance::start(&app, 1, 5).await;
    let r = app
        .client
        .post(format!("{}/masking/api/executions", doomed.url))
        .header("Authorization", &app.admin_token)
        .json(&json!({"jobId": job}))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["executionId"]
        .as_i64()
        .unwrap();
    // Killed once the orders table (after customers: it references them) is being written, with
    // its index dropped.
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > ROWS).await;
    let _survivor = Instance::start(&app, 1, 5).await;
    let at_kill = app.status_of(id).await;
    println!("at the kill: {at_kill}");
    assert_eq!(at_kill["status"], "RUNNING", "killed mid-run: {at_kill}");
    doomed.signal("-KILL");
    doomed.exit_code().await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    assert_job_aborted(&app, id).await;
    let indexes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'target' AND tablename = 'orders'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(indexes, 2, "the dropped index is back");
    assert_eq!(
        fingerprint(&app, "source").await,
        before,
        "the source is untouched"
    );
    // A re-run starts over and completes the copy.
    let again = app.submit(job).await;
    let last = watch(&app, again, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    let copied: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.customers), (SELECT count(*) FROM target.orders)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(copied, (ROWS, ROWS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_kill_the_re_run_masks_every_row_exactly_once() {
    let app = spawn_app_with(Settings::default()).await;
    create_customers(&app, 200_000).await;
    // No disableTriggers: the table's trigger counts the updates of each row.
    let job =
        create_masking_job(&app, json!({"commitSize": 500, "disableConstraints": true})).await;
    let mut doomed = Instance::start(&app, 1, 5).await;
    let r = app
        .client
        .post(format!("{}/masking/api/executions", doomed.url))
        .header("Authorization", &app.admin_token)
        .json(&json!({"jobId": job}))
        .send()
        .await
        .unwrap();
    let id = r.json::<serde_json::Value>().await.unwrap()["executionId"]
        .as_i64()
        .unwrap();
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 5_000).await;
    let _survivor = Instance::start(&app, 1, 5).await;
    doomed.signal("-KILL");
    doomed.exit_code().await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let masked_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM target.customers WHERE updated_count = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        masked_before > 0 && masked_before < 200_000,
        "{masked_before}"
    );

    let again = app.submit(job).await;
    let last = watch(&app, again, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    let types = app.event_types(again).await;
    assert!(types.iter().any(|t| t == "EXECUTION_RESUMED"), "{types:?}");
    let counts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT updated_count, count(*) FROM target.customers GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        counts,
        [(1, 200_000)],
        "every row masked exactly once across the runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instances_chunks_are_claimed_again_and_every_row_masked_once() {
    let chunks = (10_000, 2_000);
    let app = spawn_app_with(Settings {
        workers: 1,
        chunks,
        ..Settings::default()
    })
    .await;
    create_customers(&app, 100_000).await;
    // The trigger stays on: it counts each row's updates.
    let job =
        create_masking_job(&app, json!({"commitSize": 200, "disableConstraints": true})).await;
    // This process's worker runs the execution; the other instance only helps with chunks.
    let id = app.submit(job).await;
    watch(&app, id, |e| e["status"] == "RUNNING").await;
    let mut doomed = Instance::start_with(
        &app,
        2,
        5,
        &[
            ("MASKD_CHUNK_MIN_ROWS", "10000"),
            ("MASKD_CHUNK_ROWS", "2000"),
        ],
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let helped: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM execution_chunks c JOIN executions e USING (execution_id)
              WHERE c.execution_id = $1 AND c.worker_id <> e.worker_id AND NOT c.done
                AND c.rows_committed > 0",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if helped > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other instance never held a chunk"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.signal("-KILL");
    doomed.exit_code().await;

    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["rowsMasked"], last["rowsTotal"], "{last}");
    let counts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT updated_count, count(*) FROM target.customers GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(counts, [(1, 100_000)], "every row masked exactly once");
    let claimed_again: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM execution_chunks WHERE execution_id = $1 AND claims > 1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        claimed_again > 0,
        "the dead instance's chunks were claimed again"
    );
}
