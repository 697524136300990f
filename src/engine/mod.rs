//! The execution engine of one instance: `MASKD_WORKERS` slots that claim QUEUED executions and run
//! them, a listener that wakes them on submissions and stops them on cancels, heartbeats, the
//! takeover of executions whose instance died, and the shutdown on SIGTERM.

mod run;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::crypto::Keys;
use crate::db::Db;
use crate::masking::algorithms::MaskingKey;
use crate::metrics::Metrics;
use crate::store::executions::{self, CANCELLED_CHANNEL, SUBMITTED_CHANNEL};

/// Without any notification, look for queued work this often (a lost notification delays work, it
/// never loses it).
const POLL_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub workers: u32,
    pub heartbeat_interval: Duration,
    pub shutdown_grace: Duration,
}

/// What the engine's tasks share.
pub(crate) struct Shared {
    pool: Db,
    keys: Keys,
    masking_key: MaskingKey,
    worker_id: String,
    config: EngineConfig,
    metrics: Arc<Metrics>,
    /// The executions this instance runs, by id.
    running: Mutex<HashMap<i64, Running>>,
    /// Executions this instance is taking over (restoring and ending).
    taking_over: Mutex<HashSet<i64>>,
    /// Wakes the claim loop: a submission, or a free slot.
    wake: Notify,
    /// Set on shutdown once the grace period is over: stopped executions are handed back as FAILED.
    aborting: AtomicBool,
}

/// An execution running on this instance.
struct Running {
    stop: CancellationToken,
    /// Its span (executionId, jobId), for what the listener, heartbeats and shutdown log about it.
    span: tracing::Span,
}

impl Running {
    /// Stops the execution (once), logging why in its span.
    fn stop(&self, why: &str) {
        if self.stop.is_cancelled() {
            return;
        }
        self.span
            .in_scope(|| tracing::info!(reason = why, "stopping the execution"));
        self.stop.cancel();
    }
}

/// A running engine; `shutdown` stops it.
pub struct Engine {
    shared: Arc<Shared>,
    /// Stops claiming and taking over (first step of a shutdown).
    stop_claiming: CancellationToken,
    /// Stops the listener and heartbeats (last step).
    stop_all: CancellationToken,
    claimer: tokio::task::JoinHandle<()>,
    services: JoinSet<()>,
    executions: Arc<Mutex<JoinSet<()>>>,
}

impl Engine {
    pub fn start(pool: Db, keys: Keys, config: EngineConfig, metrics: Arc<Metrics>) -> Engine {
        let worker_id = format!(
            "{}-{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "maskd".into()),
            std::process::id(),
            hex::encode(rand::random::<[u8; 3]>())
        );
        tracing::info!(worker_id = %worker_id, workers = config.workers, "execution engine starting");
        let shared = Arc::new(Shared {
            masking_key: MaskingKey::new(keys.masking_secret()),
            pool,
            keys,
            worker_id,
            config,
            metrics,
            running: Mutex::new(HashMap::new()),
            taking_over: Mutex::new(HashSet::new()),
            wake: Notify::new(),
            aborting: AtomicBool::new(false),
        });
        let stop_claiming = CancellationToken::new();
        let stop_all = CancellationToken::new();
        let executions = Arc::new(Mutex::new(JoinSet::new()));
        let mut services = JoinSet::new();
        services.spawn(listen(shared.clone(), stop_all.clone()));
        services.spawn(heartbeat_loop(
            shared.clone(),
            stop_claiming.clone(),
            stop_all.clone(),
            executions.clone(),
        ));
        let claimer = tokio::spawn(claim_loop(
            shared.clone(),
            stop_claiming.clone(),
            executions.clone(),
        ));
        Engine {
            shared,
            stop_claiming,
            stop_all,
            claimer,
            services,
            executions,
        }
    }

    pub fn worker_id(&self) -> &str {
        &self.shared.worker_id
    }

    /// Stops claiming, lets running executions go on for the grace period, then stops them and
    /// hands them back as FAILED (restoring their SQL objects), and returns when all have ended.
    pub async fn shutdown(mut self) {
        self.stop_claiming.cancel();
        let _ = (&mut self.claimer).await;
        let grace = self.shared.config.shutdown_grace;
        let mut executions = std::mem::take(&mut *self.executions.lock().await);
        if !executions.is_empty() {
            tracing::info!(
                running = executions.len(),
                grace_secs = grace.as_secs(),
                "waiting for running executions"
            );
        }
        let all_done = async { while executions.join_next().await.is_some() {} };
        tokio::pin!(all_done);
        if tokio::time::timeout(grace, &mut all_done).await.is_err() {
            tracing::warn!(
                "grace period over: stopping running executions and handing them back as FAILED"
            );
            self.shared.aborting.store(true, Ordering::SeqCst);
            for running in self.shared.running.lock().await.values() {
                running.stop("the shutdown's grace period is over");
            }
            all_done.await;
        }
        self.stop_all.cancel();
        while self.services.join_next().await.is_some() {}
        tracing::info!("execution engine stopped");
    }
}

/// LISTEN for submissions (wake the claim loop) and cancels (stop the execution if it runs here).
async fn listen(shared: Arc<Shared>, stop: CancellationToken) {
    let mut listener = loop {
        match shared.pool.listener().await {
            Ok(mut l) => match l.listen_all([SUBMITTED_CHANNEL, CANCELLED_CHANNEL]).await {
                Ok(()) => break l,
                Err(e) => tracing::warn!(error = %e, "cannot LISTEN; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot connect the listener; retrying"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    };
    loop {
        let notification = tokio::select! {
            _ = stop.cancelled() => return,
            n = listener.recv() => n,
        };
        match notification {
            Ok(n) if n.channel() == SUBMITTED_CHANNEL => shared.wake.notify_one(),
            Ok(n) => {
                if let Ok(id) = n.payload().parse::<i64>()
                    && let Some(running) = shared.running.lock().await.get(&id)
                {
                    running.stop("cancel notified");
                }
            }
            Err(e) => {
                // PgListener reconnects on the next recv; until then the poll and heartbeats cover.
                tracing::warn!(error = %e, "listener connection lost; reconnecting");
                tokio::time::sleep(Duration::from_millis(500)).await;
                // Work may have been submitted while we were deaf.
                shared.wake.notify_one();
            }
        }
    }
}

/// Claims the oldest QUEUED execution whenever a slot is free.
async fn claim_loop(
    shared: Arc<Shared>,
    stop: CancellationToken,
    executions: Arc<Mutex<JoinSet<()>>>,
) {
    loop {
        if stop.is_cancelled() {
            return;
        }
        let busy = shared.running.lock().await.len() as u32;
        if busy < shared.config.workers {
            match executions::claim(&shared.pool, &shared.worker_id).await {
                Ok(Some(execution)) => {
                    let stop = CancellationToken::new();
                    let span = tracing::info_span!(
                        "execution",
                        executionId = execution.execution_id,
                        jobId = execution.job_id
                    );
                    {
                        let mut running = shared.running.lock().await;
                        running.insert(
                            execution.execution_id,
                            Running {
                                stop: stop.clone(),
                                span: span.clone(),
                            },
                        );
                        shared.metrics.set_workers_busy(running.len());
                    }
                    let s = shared.clone();
                    executions.lock().await.spawn(
                        async move {
                            let id = execution.execution_id;
                            run::run(&s, execution, stop).await;
                            let mut running = s.running.lock().await;
                            running.remove(&id);
                            s.metrics.set_workers_busy(running.len());
                            drop(running);
                            s.wake.notify_one();
                        }
                        .instrument(span),
                    );
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming failed; retrying"),
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

/// Heartbeats this instance's executions (learning of cancels whose notification was missed), and
/// takes over executions whose instance stopped heartbeating.
async fn heartbeat_loop(
    shared: Arc<Shared>,
    stop_taking_over: CancellationToken,
    stop: CancellationToken,
    executions: Arc<Mutex<JoinSet<()>>>,
) {
    let interval = shared.config.heartbeat_interval;
    let stale = interval.as_secs_f64() * 3.0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let mut busy: Vec<i64> = shared.running.lock().await.keys().copied().collect();
        busy.extend(shared.taking_over.lock().await.iter());
        let beat = if busy.is_empty() {
            Ok(vec![])
        } else {
            executions::heartbeat(&shared.pool, &shared.worker_id, &busy).await
        };
        match beat {
            Ok(rows) => {
                let running = shared.running.lock().await;
                for (id, status) in rows {
                    if status == "CANCELLED"
                        && let Some(r) = running.get(&id)
                    {
                        r.stop("the heartbeat found it cancelled");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
        while !stop_taking_over.is_cancelled() {
            match executions::take_over_orphan(&shared.pool, &shared.worker_id, stale).await {
                Ok(Some(orphan)) => {
                    let span = tracing::info_span!(
                        "takeover",
                        executionId = orphan.execution_id,
                        jobId = orphan.job_id
                    );
                    let id = orphan.execution_id;
                    shared.taking_over.lock().await.insert(id);
                    let s = shared.clone();
                    executions.lock().await.spawn(
                        async move {
                            run::take_over(&s, orphan).await;
                            s.taking_over.lock().await.remove(&id);
                        }
                        .instrument(span),
                    );
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "looking for orphaned executions failed");
                    break;
                }
            }
        }
    }
}
