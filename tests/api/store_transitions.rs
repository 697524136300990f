//! The execution state machine, statement by statement, on a real database and without HTTP (as
//! River's driver tests do): each transition's guard, the fence on the worker holding an
//! execution, the rows a transition implies (components, SQL objects), and races between
//! connections.

use std::sync::Arc;
use std::time::Duration;

use maskd::db::Db;
use maskd::store::chunks::{self, ChunkPlan};
use maskd::store::executions::{self, Submission};
use maskd::store::{components, sql_objects};
use maskd::types::target::FoundSqlObject;
use maskd::types::{ExecutionStatus, ExpectedStatus};
use sqlx::{Connection, PgConnection};

use crate::common::TestDatabase;

/// A migrated database and a pool on it; the job rows executions need are inserted by `job`.
struct Store {
    db: TestDatabase,
    pool: Db,
}

impl Store {
    async fn new() -> Store {
        let db = TestDatabase::from_template().await;
        let pool = maskd::db::pool(&db.url(), 8, Duration::from_secs(15))
            .await
            .unwrap();
        sqlx::raw_sql(
            "INSERT INTO applications (application_name) VALUES ('app');
             INSERT INTO environments (environment_name, application_id) VALUES ('env', 1);
             INSERT INTO database_connectors (connector_name, environment_id, host, port, database_name, username)
                  VALUES ('c', 1, '127.0.0.1', 5432, 'none', 'none');
             INSERT INTO database_rulesets (ruleset_name, database_connector_id) VALUES ('rs', 1);",
        )
        .execute(&pool)
        .await
        .unwrap();
        Store { db, pool }
    }

    /// A new job; its id.
    async fn job(&self) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO masking_jobs (job_name, ruleset_id) VALUES ('j', 1) RETURNING masking_job_id",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// A QUEUED execution of a new job; its id.
    async fn queued(&self) -> i64 {
        let job_id = self.job().await;
        executions::create(
            &self.pool,
            &Submission {
                job_id,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap()
        .execution_id
    }

    /// A RUNNING execution held by `worker`; its id.
    async fn running(&self, worker: &str) -> i64 {
        let id = self.queued().await;
        let claimed = executions::claim(&self.pool, worker)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.execution_id, id);
        id
    }

    async fn status(&self, id: i64) -> (ExecutionStatus, bool) {
        let e = executions::get(&self.pool, id).await.unwrap().unwrap();
        (e.status, e.end_time.is_some())
    }

    /// Makes the execution's heartbeat `secs` old.
    async fn age_heartbeat(&self, id: i64, secs: i64) {
        sqlx::query(
            "UPDATE executions SET heartbeat_time = now() - make_interval(secs => $2) WHERE execution_id = $1",
        )
        .bind(id)
        .bind(secs as f64)
        .execute(&self.pool)
        .await
        .unwrap();
    }

    async fn components(&self, id: i64) -> Vec<(String, ExecutionStatus, bool)> {
        sqlx::query_as(
            "SELECT component_name, status, end_time IS NOT NULL FROM execution_components
              WHERE execution_id = $1 ORDER BY execution_component_id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    async fn connection(&self) -> PgConnection {
        PgConnection::connect(&self.db.url()).await.unwrap()
    }
}

/// Three components of a running execution: one done, one running, one not started.
async fn three_components(store: &Store, id: i64) {
    let done = components::create(&store.pool, id, "done").await.unwrap();
    components::start(&store.pool, done, 10).await.unwrap();
    components::end(&store.pool, done, ExecutionStatus::Succeeded)
        .await
        .unwrap();
    let running = components::create(&store.pool, id, "running")
        .await
        .unwrap();
    components::start(&store.pool, running, 10).await.unwrap();
    components::create(&store.pool, id, "queued").await.unwrap();
}

#[tokio::test]
async fn claim_takes_the_oldest_queued_execution_once() {
    let store = Store::new().await;
    let (first, second) = (store.queued().await, store.queued().await);
    let a = executions::claim(&store.pool, "a").await.unwrap().unwrap();
    assert_eq!(
        (a.execution_id, a.status, a.rows_total),
        (first, ExecutionStatus::Running, Some(-1))
    );
    assert_eq!(a.worker_id.as_deref(), Some("a"));
    assert!(a.start_time.is_some());
    let b = executions::claim(&store.pool, "b").await.unwrap().unwrap();
    assert_eq!(b.execution_id, second);
    assert!(executions::claim(&store.pool, "c").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_take_an_execution_twice() {
    let store = Arc::new(Store::new().await);
    let mut ids = vec![];
    for _ in 0..40 {
        ids.push(store.queued().await);
    }
    let mut claimers = vec![];
    for w in 0..8 {
        let store = store.clone();
        claimers.push(tokio::spawn(async move {
            let mut conn = store.connection().await;
            let mut mine = vec![];
            while let Some(e) = executions::claim(&mut conn, &format!("w{w}"))
                .await
                .unwrap()
            {
                mine.push(e.execution_id);
            }
            mine
        }));
    }
    let mut claimed = vec![];
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, ids, "each execution claimed exactly once");
}

#[tokio::test]
async fn progress_and_heartbeats_are_the_holders_only() {
    let store = Store::new().await;
    let mine = store.running("me").await;
    let theirs = store.running("them").await;
    assert!(
        executions::progress(&store.pool, mine, "me", 5, 10)
            .await
            .unwrap()
    );
    assert!(
        !executions::progress(&store.pool, mine, "them", 6, 10)
            .await
            .unwrap()
    );
    let e = executions::get(&store.pool, mine).await.unwrap().unwrap();
    assert_eq!((e.rows_masked, e.rows_total), (5, Some(10)));

    // Heartbeats answer only the caller's own executions, with their status.
    let beat = executions::heartbeat(&store.pool, "me", &[mine, theirs])
        .await
        .unwrap();
    assert_eq!(beat, vec![(mine, ExecutionStatus::Running)]);
    executions::cancel(&store.pool, mine, None, true)
        .await
        .unwrap()
        .unwrap();
    let beat = executions::heartbeat(&store.pool, "me", &[mine])
        .await
        .unwrap();
    assert_eq!(beat, vec![(mine, ExecutionStatus::Cancelled)]);
    // A cancelled execution takes no more progress.
    assert!(
        !executions::progress(&store.pool, mine, "me", 7, 10)
            .await
            .unwrap()
    );
    executions::mark_stopped(&store.pool, mine, "me")
        .await
        .unwrap()
        .unwrap();
    assert!(
        executions::heartbeat(&store.pool, "me", &[mine])
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn finish_ends_the_components_in_the_same_statement() {
    let store = Store::new().await;
    let id = store.running("w").await;
    three_components(&store, id).await;
    let finished = executions::finish(&store.pool, id, "w", ExecutionStatus::Failed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finished.status, ExecutionStatus::Failed);
    assert!(finished.end_time.is_some());
    assert_eq!(
        store.components(id).await,
        vec![
            ("done".into(), ExecutionStatus::Succeeded, true),
            ("running".into(), ExecutionStatus::Failed, true),
            ("queued".into(), ExecutionStatus::Cancelled, true),
        ]
    );
}

/// The defect this shape fixes: when the components cannot be ended, the execution is not ended
/// either (it stays RUNNING, for its worker to try again or for a takeover), instead of ending
/// with its components left RUNNING.
#[tokio::test]
async fn a_finish_whose_components_cannot_end_changes_nothing() {
    let store = Store::new().await;
    let id = store.running("w").await;
    three_components(&store, id).await;
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'components are read-only'; END $$;
         CREATE TRIGGER refuse BEFORE UPDATE ON execution_components FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    assert!(
        executions::finish(&store.pool, id, "w", ExecutionStatus::Succeeded)
            .await
            .is_err()
    );
    assert_eq!(store.status(id).await, (ExecutionStatus::Running, false));
    executions::cancel(&store.pool, id, None, false)
        .await
        .unwrap()
        .unwrap();
    assert!(
        executions::mark_stopped(&store.pool, id, "w")
            .await
            .is_err()
    );
    assert_eq!(store.status(id).await, (ExecutionStatus::Cancelled, false));
    sqlx::query("DROP TRIGGER refuse ON execution_components")
        .execute(&store.pool)
        .await
        .unwrap();
    executions::mark_stopped(&store.pool, id, "w")
        .await
        .unwrap()
        .unwrap();
    let all_ended = store
        .components(id)
        .await
        .iter()
        .all(|(_, _, ended)| *ended);
    assert!(all_ended);
}

#[tokio::test]
async fn finish_and_mark_stopped_are_fenced_on_the_holding_worker() {
    let store = Store::new().await;
    let id = store.running("w").await;
    assert!(
        executions::finish(&store.pool, id, "other", ExecutionStatus::Succeeded)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.status(id).await, (ExecutionStatus::Running, false));
    executions::cancel(&store.pool, id, Some(ExpectedStatus::Running), false)
        .await
        .unwrap()
        .unwrap();
    // A late finish never overwrites a cancel, even from the holder.
    assert!(
        executions::finish(&store.pool, id, "w", ExecutionStatus::Succeeded)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        executions::mark_stopped(&store.pool, id, "other")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.status(id).await, (ExecutionStatus::Cancelled, false));
    let stopped = executions::mark_stopped(&store.pool, id, "w")
        .await
        .unwrap()
        .unwrap();
    assert!(stopped.end_time.is_some() && stopped.cancel_time.is_some());
    assert!(
        executions::mark_stopped(&store.pool, id, "w")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_cancel_answers_the_status_it_found_and_whether_it_changed_it() {
    let store = Store::new().await;
    let queued = store.queued().await;
    let c = executions::cancel(&store.pool, queued, Some(ExpectedStatus::Queued), true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.previous, c.changed), (ExecutionStatus::Queued, true));
    assert_eq!(c.execution.status, ExecutionStatus::Cancelled);
    assert!(c.execution.end_time.is_some(), "a QUEUED one ends at once");
    assert!(c.execution.start_time.is_none());
    assert_eq!(c.execution.cancel_graceful, Some(true));
    // Again: found CANCELLED, unchanged.
    let again = executions::cancel(&store.pool, queued, None, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.previous, again.changed),
        (ExecutionStatus::Cancelled, false)
    );
    assert_eq!(
        again.execution.cancel_graceful,
        Some(true),
        "the first cancel's flag stands"
    );

    let running = store.running("w").await;
    let refused = executions::cancel(&store.pool, running, Some(ExpectedStatus::Queued), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (refused.previous, refused.changed),
        (ExecutionStatus::Running, false)
    );
    assert_eq!(refused.execution.status, ExecutionStatus::Running);
    let c = executions::cancel(&store.pool, running, Some(ExpectedStatus::Running), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.previous, c.changed), (ExecutionStatus::Running, true));
    assert!(
        c.execution.end_time.is_none(),
        "a RUNNING one ends when its worker stops"
    );

    let finished = store.running("w").await;
    executions::finish(&store.pool, finished, "w", ExecutionStatus::Warning)
        .await
        .unwrap()
        .unwrap();
    let late = executions::cancel(&store.pool, finished, None, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (late.previous, late.changed),
        (ExecutionStatus::Warning, false)
    );
    assert!(
        executions::cancel(&store.pool, 999_999, None, false)
            .await
            .unwrap()
            .is_none()
    );
}

/// A cancel and a claim started at the same instant, many times: whichever wins, the cancel's
/// answer names the status it acted on or refused, and the execution ends up as that answer says.
async fn race_a_cancel_with_a_claim(expected: ExpectedStatus) {
    let store = Arc::new(Store::new().await);
    for _ in 0..30 {
        let id = store.queued().await;
        let (s1, s2) = (store.clone(), store.clone());
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let (b1, b2) = (barrier.clone(), barrier.clone());
        let claim = tokio::spawn(async move {
            let mut conn = s1.connection().await;
            b1.wait().await;
            executions::claim(&mut conn, "w").await.unwrap()
        });
        let cancel = tokio::spawn(async move {
            b2.wait().await;
            executions::cancel(&s2.pool, id, Some(expected), false)
                .await
                .unwrap()
                .unwrap()
        });
        let (claimed, cancelled) = (claim.await.unwrap(), cancel.await.unwrap());
        let now = store.status(id).await;
        match (expected, claimed.is_some(), cancelled.changed) {
            // The claim came first: a cancel expecting QUEUED is refused naming RUNNING.
            (ExpectedStatus::Queued, true, false) => {
                assert_eq!(cancelled.previous, ExecutionStatus::Running);
                assert_eq!(now, (ExecutionStatus::Running, false));
            }
            // The cancel came first: the claim found nothing to take.
            (ExpectedStatus::Queued, false, true) => {
                assert_eq!(cancelled.previous, ExecutionStatus::Queued);
                assert_eq!(now, (ExecutionStatus::Cancelled, true));
            }
            // The claim came first, and the cancel expecting RUNNING stopped it.
            (ExpectedStatus::Running, true, true) => {
                assert_eq!(cancelled.previous, ExecutionStatus::Running);
                assert_eq!(now, (ExecutionStatus::Cancelled, false));
            }
            // The cancel came first and was refused naming QUEUED; the claim then took it.
            (ExpectedStatus::Running, true, false) => {
                assert_eq!(cancelled.previous, ExecutionStatus::Queued);
                assert_eq!(now, (ExecutionStatus::Running, false));
            }
            other => panic!("impossible outcome {other:?}: {cancelled:?}"),
        }
        match now.0 {
            ExecutionStatus::Running => {
                executions::finish(&store.pool, id, "w", ExecutionStatus::Succeeded)
                    .await
                    .unwrap()
                    .unwrap();
            }
            ExecutionStatus::Cancelled if !now.1 => {
                executions::mark_stopped(&store.pool, id, "w")
                    .await
                    .unwrap()
                    .unwrap();
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_expecting_queued_racing_a_claim_never_cancels_a_started_execution() {
    race_a_cancel_with_a_claim(ExpectedStatus::Queued).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancel_expecting_running_racing_a_claim_answers_what_it_found() {
    race_a_cancel_with_a_claim(ExpectedStatus::Running).await;
}

#[tokio::test]
async fn a_taken_over_worker_is_fenced_out_of_every_write() {
    let store = Store::new().await;
    let id = store.running("stale").await;
    assert!(
        executions::take_over_orphan(&store.pool, "rescuer", 3.0)
            .await
            .unwrap()
            .is_none(),
        "a fresh heartbeat is not an orphan"
    );
    store.age_heartbeat(id, 10).await;
    let orphan = executions::take_over_orphan(&store.pool, "rescuer", 3.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            orphan.execution_id,
            orphan.status,
            orphan.worker_id.as_deref()
        ),
        (id, ExecutionStatus::Running, Some("rescuer"))
    );
    assert!(
        executions::take_over_orphan(&store.pool, "another", 3.0)
            .await
            .unwrap()
            .is_none(),
        "its heartbeat is fresh again"
    );

    // The stale worker comes back: every write it tries is refused.
    assert!(
        !executions::progress(&store.pool, id, "stale", 1, 1)
            .await
            .unwrap()
    );
    assert!(
        executions::heartbeat(&store.pool, "stale", &[id])
            .await
            .unwrap()
            .is_empty()
    );
    let object = FoundSqlObject {
        object_type: "TRIGGER".into(),
        object_name: "t".into(),
        table_name: "public.x".into(),
        disable_sql: "ALTER TABLE public.x DISABLE TRIGGER t".into(),
        restore_sql: "ALTER TABLE public.x ENABLE TRIGGER t".into(),
        validate_sql: None,
    };
    assert!(
        sql_objects::record(&store.pool, id, "stale", &object)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        executions::finish(&store.pool, id, "stale", ExecutionStatus::Succeeded)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.status(id).await, (ExecutionStatus::Running, false));
    // The rescuer ends it.
    executions::finish(&store.pool, id, "rescuer", ExecutionStatus::Failed)
        .await
        .unwrap()
        .unwrap();
    assert!(
        executions::take_over_orphan(&store.pool, "another", 0.0)
            .await
            .unwrap()
            .is_none(),
        "an ended execution is never an orphan"
    );
}

#[tokio::test]
async fn a_cancelled_orphan_is_taken_over_and_stopped_by_its_new_holder() {
    let store = Store::new().await;
    let id = store.running("dead").await;
    executions::cancel(&store.pool, id, None, false)
        .await
        .unwrap()
        .unwrap();
    store.age_heartbeat(id, 10).await;
    let orphan = executions::take_over_orphan(&store.pool, "rescuer", 3.0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(orphan.status, ExecutionStatus::Cancelled);
    assert!(
        executions::mark_stopped(&store.pool, id, "dead")
            .await
            .unwrap()
            .is_none()
    );
    executions::mark_stopped(&store.pool, id, "rescuer")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.status(id).await, (ExecutionStatus::Cancelled, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takeovers_take_each_orphan_once() {
    let store = Arc::new(Store::new().await);
    let mut orphans = vec![];
    for _ in 0..20 {
        let id = store.running("dead").await;
        store.age_heartbeat(id, 60).await;
        orphans.push(id);
    }
    let mut rescuers = vec![];
    for r in 0..4 {
        let store = store.clone();
        rescuers.push(tokio::spawn(async move {
            let mut conn = store.connection().await;
            let mut mine = vec![];
            while let Some(o) = executions::take_over_orphan(&mut conn, &format!("r{r}"), 30.0)
                .await
                .unwrap()
            {
                mine.push(o.execution_id);
            }
            mine
        }));
    }
    let mut taken = vec![];
    for r in rescuers {
        taken.extend(r.await.unwrap());
    }
    taken.sort();
    assert_eq!(taken, orphans);
}

#[tokio::test]
async fn sql_objects_are_recorded_only_while_the_execution_is_the_workers() {
    let store = Store::new().await;
    let id = store.running("w").await;
    let object = |name: &str| FoundSqlObject {
        object_type: "INDEX".into(),
        object_name: name.into(),
        table_name: "public.x".into(),
        disable_sql: format!("DROP INDEX public.{name}"),
        restore_sql: format!("CREATE INDEX {name} ON public.x (a)"),
        validate_sql: None,
    };
    let first = sql_objects::record(&store.pool, id, "w", &object("i1"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        sql_objects::record(&store.pool, id, "other", &object("i2"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sql_objects::mark_disabled(&store.pool, first.sql_object_id, "w")
            .await
            .unwrap()
    );
    let second = sql_objects::record(&store.pool, id, "w", &object("i3"))
        .await
        .unwrap()
        .unwrap();

    // Taken over between the record and the disable: the worker's mark is refused, which tells it
    // to put the object back itself.
    store.age_heartbeat(id, 60).await;
    executions::take_over_orphan(&store.pool, "rescuer", 30.0)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !sql_objects::mark_disabled(&store.pool, second.sql_object_id, "w")
            .await
            .unwrap()
    );
    let unrestored: Vec<String> = sql_objects::unrestored(&store.pool, id)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.object_name)
        .collect();
    assert_eq!(
        unrestored,
        ["i3", "i1"],
        "newest first, to restore in that order"
    );
    sql_objects::mark_restored(&store.pool, first.sql_object_id)
        .await
        .unwrap();
    sql_objects::mark_restored(&store.pool, second.sql_object_id)
        .await
        .unwrap();
    assert!(
        sql_objects::unrestored(&store.pool, id)
            .await
            .unwrap()
            .is_empty()
    );
    // Cancelled: no new object may be recorded.
    let other = store.running("w").await;
    executions::cancel(&store.pool, other, None, false)
        .await
        .unwrap()
        .unwrap();
    assert!(
        sql_objects::record(&store.pool, other, "w", &object("i4"))
            .await
            .unwrap()
            .is_none()
    );
}

/// A RUNNING execution held by `worker` with a table of `n` open chunks; its id.
async fn running_with_chunks(store: &Store, worker: &str, n: usize) -> i64 {
    let id = store.running(worker).await;
    let plans: Vec<ChunkPlan> = (0..n)
        .map(|i| ChunkPlan {
            key_after: (i > 0).then(|| vec![(i * 100).to_string()]),
            key_last: (i + 1 < n).then(|| vec![((i + 1) * 100).to_string()]),
            committed_key: None,
            done: false,
        })
        .collect();
    assert!(
        !chunks::plan(&store.pool, id, "someone else", "t", None, &plans)
            .await
            .unwrap(),
        "only the execution's worker plans its chunks"
    );
    assert!(
        chunks::plan(&store.pool, id, worker, "t", None, &plans)
            .await
            .unwrap()
    );
    assert!(
        chunks::claim(&store.pool, "w", 60.0, None)
            .await
            .unwrap()
            .is_none(),
        "closed chunks are not claimed"
    );
    assert!(
        chunks::open(&store.pool, id, worker, "t", "nobody_listens")
            .await
            .unwrap()
    );
    id
}

#[tokio::test]
async fn concurrent_chunk_claims_never_take_a_chunk_twice() {
    let store = Arc::new(Store::new().await);
    let id = running_with_chunks(&store, "owner", 40).await;
    let mut claimers = tokio::task::JoinSet::new();
    for w in 0..8 {
        let store = store.clone();
        claimers.spawn(async move {
            let worker = format!("w{w}");
            let mut mine = vec![];
            while let Some(c) = chunks::claim(&store.pool, &worker, 60.0, None)
                .await
                .unwrap()
            {
                mine.push(c.chunk_id);
                assert!(
                    chunks::finish(&store.pool, &c.held_by(&worker))
                        .await
                        .unwrap()
                );
            }
            mine
        });
    }
    let mut all: Vec<i64> = claimers.join_all().await.into_iter().flatten().collect();
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!((claimed, all.len()), (40, 40), "each chunk claimed once");
    let state = chunks::table_state(&store.pool, id, "t").await.unwrap();
    assert_eq!((state.chunks, state.done), (40, 40));
}

#[tokio::test]
async fn a_chunk_whose_holder_went_silent_is_claimed_again_and_the_old_holder_fenced_out() {
    let store = Store::new().await;
    let id = running_with_chunks(&store, "owner", 1).await;
    let first = chunks::claim(&store.pool, "a", 60.0, None)
        .await
        .unwrap()
        .unwrap();
    let a = first.held_by("a");
    assert!(chunks::progress(&store.pool, &a, 10).await.unwrap());
    assert!(
        chunks::claim(&store.pool, "b", 60.0, None)
            .await
            .unwrap()
            .is_none()
    );
    // A commits 50 rows; then it goes silent.
    assert!(
        chunks::record_pending(&store.pool, &a, &["50".into()], 7, 50)
            .await
            .unwrap()
    );
    chunks::settle_pending(&store.pool, first.chunk_id, 7, true)
        .await
        .unwrap();
    sqlx::query("UPDATE execution_chunks SET heartbeat_time = now() - interval '1 minute'")
        .execute(&store.pool)
        .await
        .unwrap();
    let again = chunks::claim(&store.pool, "b", 30.0, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.chunk_id, first.chunk_id);
    assert_eq!(again.claims, first.claims + 1);
    assert_eq!(
        (again.committed_key.clone(), again.rows_committed),
        (Some(vec!["50".into()]), 50)
    );
    let b = again.held_by("b");
    // A comes back: every write refused, its release changes nothing.
    assert!(!chunks::progress(&store.pool, &a, 60).await.unwrap());
    assert!(
        !chunks::record_pending(&store.pool, &a, &["60".into()], 8, 10)
            .await
            .unwrap()
    );
    assert!(!chunks::finish(&store.pool, &a).await.unwrap());
    chunks::release(&store.pool, &a, Some("late"))
        .await
        .unwrap();
    assert!(chunks::progress(&store.pool, &b, 70).await.unwrap());
    assert!(chunks::finish(&store.pool, &b).await.unwrap());
    let state = chunks::table_state(&store.pool, id, "t").await.unwrap();
    assert_eq!((state.done, state.rows_done, state.failed), (1, 50, None));
}

#[tokio::test]
async fn a_cancel_or_the_end_of_the_execution_fences_out_every_chunk_holder() {
    let store = Store::new().await;
    let id = running_with_chunks(&store, "owner", 3).await;
    let one = chunks::claim(&store.pool, "a", 60.0, None)
        .await
        .unwrap()
        .unwrap();
    let two = chunks::claim(&store.pool, "b", 60.0, None)
        .await
        .unwrap()
        .unwrap();
    let (a, b) = (one.held_by("a"), two.held_by("b"));
    // The execution's worker ends it without its chunks: holders stop, none is claimed again.
    chunks::stop_all(&store.pool, id, "the execution ended")
        .await
        .unwrap();
    assert!(!chunks::progress(&store.pool, &a, 1).await.unwrap());
    assert!(!chunks::finish(&store.pool, &b).await.unwrap());
    assert!(
        chunks::claim(&store.pool, "c", 60.0, None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        chunks::held_by_live_workers(&store.pool, id, 60.0)
            .await
            .unwrap(),
        2
    );
    chunks::release(&store.pool, &a, None).await.unwrap();
    chunks::release(&store.pool, &b, None).await.unwrap();
    assert_eq!(
        chunks::held_by_live_workers(&store.pool, id, 60.0)
            .await
            .unwrap(),
        0
    );

    // A cancel alone fences them too.
    let other = running_with_chunks(&store, "owner", 2).await;
    let c = chunks::claim(&store.pool, "a", 60.0, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.execution_id, other);
    let outcome = executions::cancel(&store.pool, other, None, true)
        .await
        .unwrap();
    assert!(outcome.is_some());
    assert!(
        !chunks::progress(&store.pool, &c.held_by("a"), 1)
            .await
            .unwrap()
    );
    assert_eq!(
        chunks::heartbeat(&store.pool, "a", &[c.chunk_id])
            .await
            .unwrap(),
        [c.chunk_id]
    );
    assert!(
        chunks::claim(&store.pool, "b", 60.0, None)
            .await
            .unwrap()
            .is_none()
    );
}
