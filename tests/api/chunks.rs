//! Chunks: a big table split into key ranges that every free worker of every instance masks, each
//! row exactly once (the target's trigger counts the updates of each row), whoever dies or
//! cancels.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::crm::{create_customers, create_masking_job, sql_objects_state};
use crate::common::{Settings, TestApp, spawn_app_with, wait_until_sessions_gone, watch};

fn ended(e: &serde_json::Value) -> bool {
    !e["endTime"].is_null()
}

/// An instance with `workers` workers that splits tables of 2,000 rows or more into chunks of 500.
fn chunking(workers: u32) -> Settings {
    Settings {
        workers,
        chunks: (2_000, 500),
        ..Settings::default()
    }
}

/// How many rows of `target.customers` were updated how many times.
async fn update_counts(app: &TestApp) -> Vec<(i32, i64)> {
    sqlx::query_as("SELECT updated_count, count(*) FROM target.customers GROUP BY 1 ORDER BY 1")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The execution's chunks: (done, worker that holds or finished it).
async fn chunks_of(app: &TestApp, id: i64) -> Vec<(bool, Option<String>)> {
    sqlx::query_as(
        "SELECT done, worker_id FROM execution_chunks WHERE execution_id = $1 ORDER BY chunk_no",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_table_is_masked_in_chunks_by_the_workers_of_two_instances_each_row_once() {
    let app = spawn_app_with(chunking(2)).await;
    app.another_instance(&chunking(2)).await;
    create_customers(&app, 10_000).await;
    // The trigger stays on: it counts each row's updates.
    let job =
        create_masking_job(&app, json!({"commitSize": 200, "disableConstraints": true})).await;
    let id = app.submit(job).await;
    let seen = watch(&app, id, ended).await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    // customers is split (orders, 5,000 rows, is too, and both are masked whole).
    assert_eq!(last["rowsTotal"], 15_000, "{last}");
    assert_eq!(last["rowsMasked"], 15_000, "{last}");
    assert_eq!(update_counts(&app).await, [(1, 10_000)]);

    let chunks = chunks_of(&app, id).await;
    assert!(chunks.len() >= 30, "{} chunks", chunks.len());
    assert!(chunks.iter().all(|(done, _)| *done), "{chunks:?}");
    let workers: std::collections::HashSet<_> = chunks.iter().map(|(_, w)| w.clone()).collect();
    assert_eq!(
        workers.len(),
        2,
        "both instances masked chunks: {workers:?}"
    );

    // Progress only ever grew, and the components say what each table did.
    let masked: Vec<i64> = seen
        .iter()
        .filter_map(|e| e["rowsMasked"].as_i64())
        .collect();
    assert!(masked.windows(2).all(|w| w[0] <= w[1]), "{masked:?}");
    let components = app
        .get(&format!("/execution-components?execution_id={id}"))
        .await;
    let rows: Vec<(String, i64)> = components.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["componentName"].as_str().unwrap().to_owned(),
                c["rowsMasked"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(rows.contains(&("customers".into(), 10_000)), "{rows:?}");
    assert!(rows.contains(&("orders".into(), 5_000)), "{rows:?}");

    // Masked as the table masked whole would be: deterministic per value.
    let unchanged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM target.customers c JOIN target.customers_original o USING (id)
          WHERE c.email = o.email OR c.ssn = o.ssn",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(unchanged, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_every_chunk_worker_and_the_re_run_goes_on_chunk_by_chunk() {
    let app = spawn_app_with(chunking(2)).await;
    app.another_instance(&chunking(2)).await;
    create_customers(&app, 60_000).await;
    let job = create_masking_job(
        &app,
        json!({"commitSize": 100, "disableConstraints": true, "dropIndexes": true}),
    )
    .await;
    let id = app.submit(job).await;
    // Wait until workers of both instances hold chunks, and some rows are committed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (holders, committed): (i64, i64) = sqlx::query_as(
            "SELECT count(DISTINCT worker_id) FILTER (WHERE worker_id IS NOT NULL AND NOT done),
                    coalesce(sum(rows_committed), 0)::bigint
               FROM execution_chunks WHERE execution_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if holders == 2 && committed >= 2_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chunks never held by both instances"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancel = app
        .cancel(id, "?expectedStatus=RUNNING&graceful=true")
        .await;
    assert_eq!(cancel.status, reqwest::StatusCode::OK, "{:?}", cancel.body);
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "CANCELLED", "{last}");
    let stopped: Vec<Option<String>> = chunks_of(&app, id)
        .await
        .into_iter()
        .filter(|(done, _)| !done)
        .map(|(_, w)| w)
        .collect();
    assert!(
        stopped.iter().all(Option::is_none),
        "every chunk worker gave its chunk back: {stopped:?}"
    );
    wait_until_sessions_gone(&app, id).await;
    // Graceful: the indexes are back.
    assert_eq!(sql_objects_state(&app).await.1, 2);
    let counts = update_counts(&app).await;
    assert!(
        counts.iter().all(|(n, _)| *n <= 1) && counts.len() == 2,
        "some rows masked once, none twice: {counts:?}"
    );

    // One cancelled while QUEUED, and one whose target was out of reach, come between: neither
    // changed a row, and the re-run goes on from the cancelled run all the same.
    sqlx::query(
        "INSERT INTO executions (job_id, status, end_time, cancel_time, cancel_graceful)
         VALUES ($1, 'CANCELLED', now(), now(), true)",
    )
    .bind(job)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO executions (job_id, status, start_time, end_time)
         VALUES ($1, 'FAILED', now(), now())",
    )
    .bind(job)
    .execute(&app.pool)
    .await
    .unwrap();
    let masked_before = counts.iter().find(|(n, _)| *n == 1).unwrap().1;
    let orders_before = orders_masked_before(&app, id).await;
    assert_eq!(
        last["rowsMasked"].as_i64().unwrap(),
        masked_before + orders_before,
        "rowsMasked is what was committed: {last}"
    );

    let again = app.submit(job).await;
    let last = watch(&app, again, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    let types = app.event_types(again).await;
    assert!(types.iter().any(|t| t == "EXECUTION_RESUMED"), "{types:?}");
    assert_eq!(
        last["rowsTotal"].as_i64().unwrap(),
        60_000 - masked_before + 30_000 - orders_before,
        "{last}"
    );
    assert_eq!(
        update_counts(&app).await,
        [(1, 60_000)],
        "every row masked exactly once across the runs"
    );
}

/// Rows of `orders` execution `id` committed before it was cancelled.
async fn orders_masked_before(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(sum(rows_committed), 0)::bigint FROM execution_chunks
          WHERE execution_id = $1 AND table_name = 'orders'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_the_fly_copy_of_a_big_table_is_split_across_instances_every_row_once() {
    use crate::api::on_the_fly::{
        create_schemas, create_source_connector, create_target_ruleset, fingerprint,
    };
    let app = spawn_app_with(chunking(2)).await;
    app.another_instance(&chunking(2)).await;
    create_schemas(&app, 9_000).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let before = fingerprint(&app, "source").await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy", "rulesetId": rs, "onTheFlyMasking": true,
                   "onTheFlyMaskingSource": {"connectorId": source, "connectorType": "DATABASE"},
                   "databaseMaskingOptions": {"commitSize": 300, "truncateTables": true,
                                              "disableConstraints": true}}),
        )
        .await;
    assert_eq!(job.status, reqwest::StatusCode::CREATED, "{job:?}");
    let job = job.body["maskingJobId"].as_i64().unwrap();
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(18_000), Some(18_000)),
        "{last}"
    );
    assert_eq!(
        fingerprint(&app, "source").await,
        before,
        "the source is unchanged"
    );
    // Every row once: the same ids as the source, none twice (the primary key), none missing.
    let copied: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.customers), (SELECT count(*) FROM target.orders)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(copied, [(9_000, 9_000)]);
    let masked_the_same: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM source.orders s JOIN target.orders t USING (id) WHERE s.email = t.email",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(masked_the_same, 0);
    let chunks = chunks_of(&app, id).await;
    assert!(chunks.len() >= 2 * 9_000 / 500, "{} chunks", chunks.len());
    let workers: std::collections::HashSet<_> = chunks.iter().map(|(_, w)| w.clone()).collect();
    assert_eq!(
        workers.len(),
        2,
        "both instances copied chunks: {workers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_sessions_ended_mid_run_fail_it_and_the_re_run_masks_every_row_once() {
    let app = spawn_app_with(chunking(2)).await;
    app.another_instance(&chunking(2)).await;
    create_customers(&app, 60_000).await;
    let job =
        create_masking_job(&app, json!({"commitSize": 100, "disableConstraints": true})).await;
    let id = app.submit(job).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let committed: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(rows_committed), 0)::bigint FROM execution_chunks WHERE execution_id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if committed >= 2_000 {
            break;
        }
        assert!(Instant::now() < deadline, "nothing committed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every target session of the run, on both instances, ended by the target's DBA.
    let ended_sessions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = $1) k",
    )
    .bind(format!("maskd execution {id}"))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(ended_sessions > 0);
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let counts = update_counts(&app).await;
    assert!(counts.iter().all(|(n, _)| *n <= 1), "{counts:?}");

    let again = app.submit(job).await;
    let last = watch(&app, again, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        update_counts(&app).await,
        [(1, 60_000)],
        "every row masked exactly once across the runs"
    );
}
