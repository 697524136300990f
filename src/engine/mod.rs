//! The execution engine of one instance. Its services:
//!
//! - `claim`: `MASKD_WORKERS` slots that claim QUEUED executions and run them (or, when none is
//!   queued, a chunk of a running execution), and the listener that wakes them on submissions and
//!   stops a run on its cancel;
//! - `heartbeat`: heartbeats of the executions this instance holds, which also catch a cancel whose
//!   notification was missed;
//! - `takeover`: ends the executions whose instance stopped heartbeating;
//!
//! and the life of one execution, `lifecycle`: it runs the job's `runner` (the work of a kind of
//! job), then restores or reports the run's `sql_objects`, records `events`, and ends the execution
//! through the store's state machine. `Engine::shutdown` stops it all on SIGTERM.

mod claim;
mod events;
mod heartbeat;
mod lifecycle;
mod runner;
mod sql_objects;
pub mod takeover;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::crypto::Keys;
use crate::db::Db;
use crate::masking::algorithms::MaskingKey;
use crate::metrics::Metrics;
pub use lifecycle::Ended;
use takeover::{Takeover, TakeoverConfig};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub workers: u32,
    pub heartbeat_interval: Duration,
    pub shutdown_grace: Duration,
    pub profiling: ProfilingSettings,
    pub chunking: ChunkSettings,
}

/// When a table is split into chunks that any free worker of any instance masks.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSettings {
    /// A table with at least this many rows to mask is split.
    pub min_rows: i64,
    /// Rows per chunk.
    pub rows: i64,
}

impl Default for ChunkSettings {
    fn default() -> Self {
        ChunkSettings {
            min_rows: 1_000_000,
            rows: 100_000,
        }
    }
}

/// How profile runs sample and decide.
#[derive(Debug, Clone, Copy)]
pub struct ProfilingSettings {
    /// Rows read per table: a run's time does not grow with its tables' sizes.
    pub sample_rows: i64,
    /// The share of a column's non-blank sampled values that must match for it to be found.
    pub match_ratio: f64,
}

impl Default for ProfilingSettings {
    fn default() -> Self {
        ProfilingSettings {
            sample_rows: 10_000,
            match_ratio: 0.8,
        }
    }
}

/// What every part of the engine works with: maskd's database, the keys, and who this instance is
/// (its `worker_id`, the owner recorded on the executions it holds).
#[derive(Clone)]
pub struct Instance {
    pool: Db,
    keys: Keys,
    masking_key: MaskingKey,
    worker_id: Arc<str>,
    metrics: Arc<Metrics>,
    profiling: ProfilingSettings,
    chunking: ChunkSettings,
    /// The chunks this instance holds, whichever of its tasks works on them, for the heartbeats.
    held_chunks: Arc<std::sync::Mutex<HashSet<i64>>>,
    /// How long a chunk's holder may be silent before another worker claims it.
    chunk_stale_after: Duration,
}

impl Instance {
    pub fn new(pool: Db, keys: Keys, worker_id: &str, metrics: Arc<Metrics>) -> Self {
        Instance {
            masking_key: MaskingKey::new(keys.masking_secret()),
            pool,
            keys,
            worker_id: worker_id.into(),
            metrics,
            profiling: ProfilingSettings::default(),
            chunking: ChunkSettings::default(),
            held_chunks: Default::default(),
            chunk_stale_after: Duration::from_secs(6),
        }
    }

    /// The same instance, chunking with `settings`, claiming a chunk whose holder has been silent
    /// for `stale_after`.
    pub fn with_chunking(mut self, settings: ChunkSettings, stale_after: Duration) -> Self {
        self.chunking = settings;
        self.chunk_stale_after = stale_after;
        self
    }

    /// The same instance, profiling with `settings`.
    pub fn with_profiling(mut self, settings: ProfilingSettings) -> Self {
        self.profiling = settings;
        self
    }

    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    fn hold_chunk(&self, chunk_id: i64) {
        self.held_chunks
            .lock()
            .expect("not poisoned")
            .insert(chunk_id);
    }

    fn let_go_chunk(&self, chunk_id: i64) {
        self.held_chunks
            .lock()
            .expect("not poisoned")
            .remove(&chunk_id);
    }

    /// The chunks this instance holds, for the heartbeats.
    fn held_chunks(&self) -> Vec<i64> {
        let held = self.held_chunks.lock().expect("not poisoned");
        held.iter().copied().collect()
    }
}

/// What the engine's tasks share.
struct Shared {
    instance: Instance,
    config: EngineConfig,
    /// The executions this instance runs, by id.
    running: Mutex<HashMap<i64, Running>>,
    /// The chunks of executions run elsewhere (or here) that this instance's free workers mask,
    /// by chunk id, with their execution's id.
    helping: Mutex<HashMap<i64, (i64, Running)>>,
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
    /// The claim loop and the takeover service, which stop first.
    claimers: JoinSet<()>,
    /// The listener and the heartbeats, which stop last.
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
        let instance = Instance::new(pool, keys, &worker_id, metrics)
            .with_profiling(config.profiling)
            .with_chunking(config.chunking, config.heartbeat_interval * 3);
        let takeover = Takeover::new(
            instance.clone(),
            TakeoverConfig {
                interval: config.heartbeat_interval,
                stale_after: config.heartbeat_interval * 3,
            },
        );
        let shared = Arc::new(Shared {
            instance,
            config,
            running: Mutex::new(HashMap::new()),
            helping: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            aborting: AtomicBool::new(false),
        });
        let stop_claiming = CancellationToken::new();
        let stop_all = CancellationToken::new();
        let executions = Arc::new(Mutex::new(JoinSet::new()));
        let mut services = JoinSet::new();
        services.spawn(claim::listen(shared.clone(), stop_all.clone()));
        services.spawn(heartbeat::beat(
            shared.clone(),
            takeover.in_hand(),
            stop_all.clone(),
        ));
        let mut claimers = JoinSet::new();
        claimers.spawn(claim::claim_loop(
            shared.clone(),
            stop_claiming.clone(),
            executions.clone(),
        ));
        claimers.spawn(takeover.run(stop_claiming.clone()));
        Engine {
            shared,
            stop_claiming,
            stop_all,
            claimers,
            services,
            executions,
        }
    }

    pub fn worker_id(&self) -> &str {
        self.shared.instance.worker_id()
    }

    /// Stops claiming and taking over, lets running executions go on for the grace period, then
    /// stops them and hands them back as FAILED (restoring their SQL objects), and returns when all
    /// have ended.
    pub async fn shutdown(mut self) {
        self.stop_claiming.cancel();
        // A takeover in progress finishes restoring and ending its execution first.
        while self.claimers.join_next().await.is_some() {}
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
            for (_, helping) in self.shared.helping.lock().await.values() {
                helping.stop("the shutdown's grace period is over");
            }
            all_done.await;
        }
        self.stop_all.cancel();
        while self.services.join_next().await.is_some() {}
        tracing::info!("execution engine stopped");
    }
}
