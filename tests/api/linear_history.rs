//! A randomized concurrent history of the execution state machine over three instances, checked
//! for linearizability (see `linearizability.rs`).
//!
//! Three in-process instances serve the API on one database. Their workers are played by the
//! test: each "worker" runs the store's own `claim` (the statement real workers run) on its own
//! connection, and clients finish and mark executions stopped with the store's `finish` and
//! `mark_stopped`, as the worker that claimed the execution mostly, as another worker sometimes
//! (which the fence must refuse). Real workers would run each job and finish it on their own, so a
//! claim could only be observed after the fact, without the invocation and answer instants the
//! check needs.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use maskd::db::Db;
use maskd::startup::Application;
use maskd::store::executions;
use maskd::types::{ExecutionStatus, ExpectedStatus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;

use super::linearizability::{Event, Op, Outcome, State, Worker, check};
use crate::common::{BASE, Settings, TestApp, config, spawn_app};

/// Operations recorded (claims that found nothing queued are not counted).
const OPERATIONS: usize = 10_000;
const JOBS: usize = 24;
const CLIENTS: usize = 12;
/// Claiming connections per instance.
const WORKERS_PER_INSTANCE: usize = 1;

/// One instance as the clients see it: its API and its pool.
struct Instance {
    url: String,
    pool: Db,
}

struct World {
    app: TestApp,
    instances: Vec<Instance>,
    jobs: Vec<i64>,
    /// Per job, its executions in order of submission.
    executions: Mutex<Vec<Vec<i64>>>,
    /// The worker that claimed each execution, once its claim has answered.
    claimed_by: Mutex<HashMap<i64, Worker>>,
    recorded: AtomicUsize,
}

impl World {
    async fn call(&self, method: Method, url: String, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(method, url)
            .header("Authorization", &self.app.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap();
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        (status, body)
    }

    /// The worker that claimed the execution mostly, another one (or any, before its claim has
    /// answered) sometimes.
    async fn pick_worker(&self, rng: &mut StdRng, execution: i64) -> Worker {
        let workers = (3 * WORKERS_PER_INSTANCE) as Worker;
        match self.claimed_by.lock().await.get(&execution) {
            Some(&w) if rng.gen_bool(0.8) => w,
            Some(&w) => (w + rng.gen_range(1..workers)) % workers,
            None => rng.gen_range(0..workers),
        }
    }

    /// The job's latest execution mostly, an older one sometimes.
    async fn pick_execution(&self, rng: &mut StdRng, job: usize) -> Option<i64> {
        let executions = self.executions.lock().await;
        let all = &executions[job];
        let last = all.len().checked_sub(1)?;
        Some(if rng.gen_bool(0.85) {
            all[last]
        } else {
            all[rng.gen_range(0..=last)]
        })
    }
}

/// The state an answer's execution is in.
fn state_of(execution: &Value) -> State {
    let status: ExecutionStatus = execution["status"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {execution}"));
    match status {
        ExecutionStatus::Queued => State::Queued,
        ExecutionStatus::Running => State::Running,
        ExecutionStatus::Cancelled => State::Cancelled {
            stopped: execution["endTime"].is_string(),
        },
        finished => State::Finished(finished),
    }
}

/// The status a refusal names: the first status in its message ("is RUNNING, not QUEUED as
/// expected", "has already finished with status FAILED").
fn named_status(message: &str) -> ExecutionStatus {
    use ExecutionStatus::*;
    [Queued, Running, Succeeded, Warning, Failed, Cancelled]
        .into_iter()
        .filter_map(|s| message.find(s.as_str()).map(|at| (at, s)))
        .min_by_key(|&(at, _)| at)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("the refusal names no status: {message}"))
}

/// One client: random calls through random instances until enough are recorded.
async fn client(world: Arc<World>, seed: u64) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut history = vec![];
    while world.recorded.load(Ordering::Relaxed) < OPERATIONS {
        let job = rng.gen_range(0..JOBS);
        let instance = &world.instances[rng.gen_range(0..world.instances.len())];
        let api = format!("{}{BASE}", instance.url);
        let roll = rng.gen_range(0..100);
        // Every call but a submit is on one of the job's executions.
        let target = if roll < 15 {
            None
        } else {
            match world.pick_execution(&mut rng, job).await {
                Some(id) => Some(id),
                None => continue,
            }
        };
        let invoked = Instant::now();
        let (execution, op, outcome) = match target {
            None => {
                let body = json!({"jobId": world.jobs[job]});
                let (status, body) = world
                    .call(Method::POST, format!("{api}/executions"), Some(body))
                    .await;
                match status {
                    StatusCode::CREATED => {
                        let id = body["executionId"].as_i64().unwrap();
                        assert_eq!(state_of(&body), State::Queued, "{body}");
                        (Some(id), Op::Submit, Outcome::Done)
                    }
                    StatusCode::CONFLICT => (None, Op::Submit, Outcome::Conflict),
                    other => panic!("submit answered {other}: {body}"),
                }
            }
            Some(id) if roll < 50 => {
                let (expected, query) = match rng.gen_range(0..3) {
                    0 => (Some(ExpectedStatus::Queued), "?expectedStatus=QUEUED"),
                    1 => (Some(ExpectedStatus::Running), "?expectedStatus=RUNNING"),
                    _ => (None, ""),
                };
                let url = format!("{api}/executions/{id}/cancel{query}");
                let (status, body) = world.call(Method::POST, url, None).await;
                let outcome = match status {
                    StatusCode::OK => Outcome::Cancelled(state_of(&body)),
                    StatusCode::BAD_REQUEST => {
                        Outcome::Refused(named_status(body["errorMessage"].as_str().unwrap()))
                    }
                    other => panic!("cancel of {id} answered {other}: {body}"),
                };
                (Some(id), Op::Cancel(expected), outcome)
            }
            Some(id) if roll < 65 => {
                let result = [
                    ExecutionStatus::Succeeded,
                    ExecutionStatus::Warning,
                    ExecutionStatus::Failed,
                ][rng.gen_range(0..3)];
                let w = world.pick_worker(&mut rng, id).await;
                let finished = executions::finish(&instance.pool, id, &worker_name(w), result)
                    .await
                    .unwrap();
                (
                    Some(id),
                    Op::Finish(result, w),
                    Outcome::Changed(finished.is_some()),
                )
            }
            Some(id) if roll < 75 => {
                let w = world.pick_worker(&mut rng, id).await;
                let stopped = executions::mark_stopped(&instance.pool, id, &worker_name(w))
                    .await
                    .unwrap();
                (
                    Some(id),
                    Op::MarkStopped(w),
                    Outcome::Changed(stopped.is_some()),
                )
            }
            Some(id) => {
                let (status, body) = world
                    .call(Method::GET, format!("{api}/executions/{id}"), None)
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
                (Some(id), Op::Read, Outcome::Saw(state_of(&body)))
            }
        };
        let answered = Instant::now();
        if let (Some(id), Op::Submit) = (execution, op) {
            world.executions.lock().await[job].push(id);
        }
        history.push(Event {
            job: world.jobs[job],
            execution,
            op,
            outcome,
            invoked,
            answered,
        });
        world.recorded.fetch_add(1, Ordering::Relaxed);
    }
    history
}

/// The name worker `w` claims as (the `worker_id` recorded on what it claims).
fn worker_name(w: Worker) -> String {
    format!("instance-{}-worker-{w}", w as usize % 3)
}

/// One worker: claims whatever is queued, now and then, on its own connection.
async fn worker(
    world: Arc<World>,
    url: String,
    w: Worker,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let mut history = vec![];
    while !stop.load(Ordering::Relaxed) {
        let invoked = Instant::now();
        if let Some(e) = executions::claim(&mut conn, &worker_name(w)).await.unwrap() {
            let answered = Instant::now();
            world.claimed_by.lock().await.insert(e.execution_id, w);
            history.push(Event {
                job: e.job_id,
                execution: Some(e.execution_id),
                op: Op::Claim(w),
                outcome: Outcome::Done,
                invoked,
                answered,
            });
            world.recorded.fetch_add(1, Ordering::Relaxed);
        }
        // Slow enough that executions often stay QUEUED long enough for cancels to find them so.
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..100))).await;
    }
    history
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_random_concurrent_history_over_three_instances_is_linearizable() {
    let app = spawn_app().await;
    let ruleset = app.create_ruleset().await;
    let mut jobs = vec![];
    for _ in 0..JOBS {
        jobs.push(app.create_job_on(ruleset).await);
    }
    let mut instances = vec![Instance {
        url: app.address.clone(),
        pool: app.pool.clone(),
    }];
    for _ in 0..2 {
        let other = Application::build(config(app.db.url(), &Settings::default()))
            .await
            .expect("another instance starts");
        instances.push(Instance {
            url: format!("http://127.0.0.1:{}", other.port()),
            pool: other.pool().clone(),
        });
        tokio::spawn(other.run_until_stopped());
    }
    let world = Arc::new(World {
        app,
        instances,
        jobs,
        executions: Mutex::new(vec![vec![]; JOBS]),
        claimed_by: Mutex::new(HashMap::new()),
        recorded: AtomicUsize::new(0),
    });
    let seed: u64 = rand::random();
    println!("seed {seed}");

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3 * WORKERS_PER_INSTANCE)
        .map(|w| {
            let url = world.app.db.url();
            tokio::spawn(worker(
                world.clone(),
                url,
                w as Worker,
                seed ^ (w as u64 + 1000),
                stop.clone(),
            ))
        })
        .collect();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(client(world.clone(), seed ^ c as u64)))
        .collect();
    let mut history = vec![];
    for c in clients {
        history.extend(c.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        history.extend(w.await.unwrap());
    }
    let ran = started.elapsed();

    let checking = Instant::now();
    let result = check(&history);
    let took = checking.elapsed();
    let executions: usize = world.executions.lock().await.iter().map(Vec::len).sum();
    println!(
        "{} operations on {executions} executions of {JOBS} jobs in {ran:?}; checked in {took:?}",
        history.len(),
    );
    if let Err(violation) = result {
        panic!("not linearizable: {violation}");
    }
    assert!(history.len() >= OPERATIONS);

    // The history went through every kind of transition and answer, so the check covered them.
    let count = |f: &dyn Fn(&Event) -> bool| history.iter().filter(|e| f(e)).count();
    let claimed: HashMap<i64, Worker> = history
        .iter()
        .filter_map(|e| match (e.op, e.execution) {
            (Op::Claim(w), Some(id)) => Some((id, w)),
            _ => None,
        })
        .collect();
    let by_another = |e: &Event, w: Worker| {
        e.execution
            .and_then(|id| claimed.get(&id))
            .is_some_and(|&holder| holder != w)
    };
    let kinds: [(&str, usize); 12] = [
        (
            "submits refused 409",
            count(&|e| e.outcome == Outcome::Conflict),
        ),
        ("claims", claimed.len()),
        (
            "cancels of QUEUED",
            count(&|e| {
                matches!(e.outcome, Outcome::Cancelled(_))
                    && e.execution.is_some_and(|id| !claimed.contains_key(&id))
            }),
        ),
        (
            "cancels of RUNNING",
            count(&|e| e.outcome == Outcome::Cancelled(State::Cancelled { stopped: false })),
        ),
        (
            "cancels refused as RUNNING",
            count(&|e| e.outcome == Outcome::Refused(ExecutionStatus::Running)),
        ),
        (
            "cancels refused as QUEUED",
            count(&|e| e.outcome == Outcome::Refused(ExecutionStatus::Queued)),
        ),
        (
            "cancels refused as finished",
            count(&|e| matches!(e.outcome, Outcome::Refused(s) if s.is_finished())),
        ),
        (
            "finishes",
            count(&|e| matches!(e.op, Op::Finish(..)) && e.outcome == Outcome::Changed(true)),
        ),
        (
            "late finishes",
            count(&|e| matches!(e.op, Op::Finish(..)) && e.outcome == Outcome::Changed(false)),
        ),
        (
            "finishes by a worker not holding the execution",
            count(&|e| matches!(e.op, Op::Finish(_, w) if by_another(e, w))),
        ),
        (
            "stops marked",
            count(&|e| matches!(e.op, Op::MarkStopped(_)) && e.outcome == Outcome::Changed(true)),
        ),
        (
            "stops by a worker not holding the execution",
            count(&|e| matches!(e.op, Op::MarkStopped(w) if by_another(e, w))),
        ),
    ];
    println!("{kinds:?}");
    for (kind, n) in kinds {
        assert!(n > 0, "the history has no {kind}");
    }
}
