//! The steady load: client tasks that submit executions, cancel them (with and without
//! `expectedStatus`) and read them, through random live instances, recording every call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use super::fleet::{Answer, Api, Instance};

#[derive(Debug, Clone)]
pub enum Op {
    Submit {
        job: i64,
    },
    Cancel {
        execution: i64,
        expected: Option<&'static str>,
        graceful: bool,
    },
    Read {
        execution: i64,
    },
}

#[derive(Debug)]
pub struct Call {
    pub op: Op,
    pub instance: usize,
    /// When the call was made, from the start of the load.
    pub at: Duration,
    /// The same instant on the wall clock, which PostgreSQL's `now()` shares on this machine.
    pub wall: DateTime<Utc>,
    pub took: Duration,
    pub answer: Answer,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    tasks: JoinSet<Vec<Call>>,
    pub started: Instant,
}

impl Load {
    /// `clients` tasks, each making a call every 40 ms or so.
    pub fn start(api: &Api, fleet: &Arc<Vec<Instance>>, jobs: &[i64], clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let submitted = Arc::new(Mutex::new(Vec::<i64>::new()));
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for _ in 0..clients {
            let (api, fleet, jobs) = (api.clone(), fleet.clone(), jobs.to_vec());
            let (stop, submitted) = (stop.clone(), submitted.clone());
            tasks.spawn(async move {
                let mut calls = vec![];
                while !stop.load(Ordering::SeqCst) {
                    let op = next_op(&jobs, &submitted.lock().unwrap());
                    let live: Vec<usize> =
                        (0..fleet.len()).filter(|i| fleet[*i].is_alive()).collect();
                    let instance = *live
                        .choose(&mut rand::thread_rng())
                        .expect("a live instance");
                    let at = started.elapsed();
                    let wall = Utc::now();
                    let answer = perform(&api, &fleet[instance].url, &op).await;
                    let took = started.elapsed() - at;
                    if let (Op::Submit { .. }, Ok((201, body))) = (&op, &answer) {
                        submitted
                            .lock()
                            .unwrap()
                            .push(body["executionId"].as_i64().unwrap());
                    }
                    calls.push(Call {
                        op,
                        instance,
                        at,
                        wall,
                        took,
                        answer,
                    });
                    let pause = rand::thread_rng().gen_range(20..60);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                calls
            });
        }
        Load {
            stop,
            tasks,
            started,
        }
    }

    /// Stops the clients; every call they made.
    pub async fn stop(mut self) -> Vec<Call> {
        self.stop.store(true, Ordering::SeqCst);
        let mut calls = vec![];
        while let Some(done) = self.tasks.join_next().await {
            calls.extend(done.expect("a load client panicked"));
        }
        calls.sort_by_key(|c| c.at);
        calls
    }
}

/// Submits a third of the time, cancels a third (one of the latest executions, so that cancels
/// meet QUEUED and RUNNING ones; with each `expectedStatus` or none), reads the rest.
fn next_op(jobs: &[i64], submitted: &[i64]) -> Op {
    let mut rng = rand::thread_rng();
    let recent = &submitted[submitted.len().saturating_sub(20)..];
    let Some(&execution) = recent.choose(&mut rng) else {
        return Op::Submit {
            job: *jobs.choose(&mut rng).unwrap(),
        };
    };
    match rng.gen_range(0..3) {
        0 => Op::Submit {
            job: *jobs.choose(&mut rng).unwrap(),
        },
        1 => Op::Cancel {
            execution,
            expected: *[None, Some("QUEUED"), Some("RUNNING")]
                .choose(&mut rng)
                .unwrap(),
            // Mostly graceful: an abrupt cancel leaves the job's objects disabled (and says so),
            // after which its later runs have nothing to restore.
            graceful: rng.gen_bool(0.9),
        },
        _ => Op::Read { execution },
    }
}

pub async fn perform(api: &Api, base: &str, op: &Op) -> Answer {
    match op {
        Op::Submit { job } => {
            api.call(
                base,
                Method::POST,
                "/executions",
                Some(json!({"jobId": job})),
            )
            .await
        }
        Op::Cancel {
            execution,
            expected,
            graceful,
        } => {
            let mut path = format!("/executions/{execution}/cancel?graceful={graceful}");
            if let Some(expected) = expected {
                path.push_str(&format!("&expectedStatus={expected}"));
            }
            api.call(base, Method::POST, &path, None).await
        }
        Op::Read { execution } => {
            api.call(base, Method::GET, &format!("/executions/{execution}"), None)
                .await
        }
    }
}
