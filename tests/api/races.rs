//! Races with real concurrency: separate connections and concurrent HTTP requests.

use std::sync::Arc;

use maskd::store::executions;
use maskd::types::ExecutionStatus;
use reqwest::StatusCode;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::common::{TestApp, spawn_app};

const ITERATIONS: usize = 200;
const CANCELLERS: usize = 3;

async fn connection(app: &TestApp) -> PgConnection {
    PgConnection::connect(&app.db.url()).await.unwrap()
}

/// A worker's claim against several `expectedStatus=QUEUED` cancels of the same execution: exactly
/// one transition happens, every 200 means the execution never started, the others get 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claim_against_cancels_expecting_queued() {
    let app = Arc::new(spawn_app().await);
    let job = app.create_job().await;
    let mut claimer = connection(&app).await;
    let (mut claims_won, mut cancels_won) = (0, 0);

    for i in 0..ITERATIONS {
        let id = app.submit(job).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(CANCELLERS + 1));
        let mut cancels = Vec::new();
        for _ in 0..CANCELLERS {
            let (app, barrier) = (app.clone(), barrier.clone());
            cancels.push(tokio::spawn(async move {
                barrier.wait().await;
                app.cancel(id, "?expectedStatus=QUEUED").await
            }));
        }
        barrier.wait().await;
        let claimed = executions::claim(&mut claimer, "race-worker")
            .await
            .unwrap();
        let mut answers = Vec::new();
        for c in cancels {
            answers.push(c.await.unwrap());
        }
        let after = app.status_of(id).await;
        let ok = answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count();
        let refused = answers
            .iter()
            .filter(|a| a.status == StatusCode::BAD_REQUEST)
            .count();
        assert_eq!(
            ok + refused,
            CANCELLERS,
            "iteration {i}: only 200 or 400: {answers:?}"
        );

        match claimed {
            Some(e) => {
                claims_won += 1;
                assert_eq!(e.execution_id, id);
                assert_eq!(
                    ok, 0,
                    "iteration {i}: a cancel expecting QUEUED succeeded on a claimed execution"
                );
                assert_eq!(after["status"], "RUNNING");
                for a in &answers {
                    assert!(
                        a.error_message().contains("RUNNING"),
                        "{}",
                        a.error_message()
                    );
                }
                executions::finish(&app.pool, id, "race-worker", ExecutionStatus::Succeeded)
                    .await
                    .unwrap()
                    .unwrap();
            }
            None => {
                cancels_won += 1;
                assert_eq!(
                    ok, CANCELLERS,
                    "iteration {i}: the winner and the retries all answer 200"
                );
                assert_eq!(after["status"], "CANCELLED");
                assert!(
                    after["startTime"].is_null(),
                    "iteration {i}: a cancelled execution never started"
                );
                assert!(after["endTime"].is_string());
                for a in &answers {
                    assert!(a.body["startTime"].is_null());
                }
            }
        }
    }
    println!("claims won {claims_won}, cancels won {cancels_won}");
    assert_eq!(claims_won + cancels_won, ITERATIONS);
}

/// Concurrent cancels of one RUNNING execution all answer 200 and it ends CANCELLED; a finish
/// arriving after them changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cancels_of_a_running_execution_and_a_late_finish() {
    let app = Arc::new(spawn_app().await);
    let job = app.create_job().await;
    let mut worker = connection(&app).await;

    for i in 0..ITERATIONS {
        let id = app.submit(job).await;
        executions::claim(&mut worker, "w").await.unwrap().unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(CANCELLERS + 1));
        let mut cancels = Vec::new();
        for n in 0..CANCELLERS {
            let (app, barrier) = (app.clone(), barrier.clone());
            cancels.push(tokio::spawn(async move {
                barrier.wait().await;
                let query = if n % 2 == 0 {
                    "?expectedStatus=RUNNING"
                } else {
                    ""
                };
                app.cancel(id, query).await
            }));
        }
        barrier.wait().await;
        // The worker finishes at the same moment: either it wins (and every cancel is refused as
        // finished) or a cancel wins (and the finish changes nothing).
        let finished = if i % 2 == 0 {
            executions::finish(&mut worker, id, "w", ExecutionStatus::Succeeded)
                .await
                .unwrap()
        } else {
            None
        };
        let answers: Vec<_> = futures_util::future::join_all(cancels)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let after = app.status_of(id).await;
        if finished.is_some() {
            assert_eq!(after["status"], "SUCCEEDED");
            // Had any cancel come first, the finish could not have won.
            assert!(
                answers.iter().all(|a| a.status == StatusCode::BAD_REQUEST),
                "iteration {i}: {answers:?}"
            );
        } else {
            assert!(
                answers.iter().all(|a| a.status == StatusCode::OK),
                "iteration {i}: {answers:?}"
            );
            assert_eq!(after["status"], "CANCELLED");
            assert!(
                executions::finish(&mut worker, id, "w", ExecutionStatus::Succeeded)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                executions::finish(&mut worker, id, "w", ExecutionStatus::Failed)
                    .await
                    .unwrap()
                    .is_none()
            );
            assert_eq!(
                app.status_of(id).await["status"],
                "CANCELLED",
                "a late finish never overwrites a cancel"
            );
            executions::mark_stopped(&mut worker, id, "w")
                .await
                .unwrap()
                .unwrap();
        }
    }
}

/// Concurrent submits of one job: exactly one is created, the others get 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submits_create_one_execution() {
    let app = Arc::new(spawn_app().await);
    let job = app.create_job().await;
    for i in 0..50 {
        let submits: Vec<_> = (0..4)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    app.post("/executions", serde_json::json!({"jobId": job}))
                        .await
                })
            })
            .collect();
        let answers: Vec<_> = futures_util::future::join_all(submits)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let created: Vec<_> = answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .collect();
        assert_eq!(created.len(), 1, "iteration {i}: {answers:?}");
        assert_eq!(
            answers
                .iter()
                .filter(|a| a.status == StatusCode::CONFLICT)
                .count(),
            3
        );
        let id = created[0].body["executionId"].as_i64().unwrap();
        executions::cancel(&app.pool, id, None, false)
            .await
            .unwrap()
            .unwrap();
    }
}
