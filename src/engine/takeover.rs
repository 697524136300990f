//! Takeover, after River's rescuer: a service of its own that, every `interval`, takes over the
//! executions whose instance stopped heartbeating more than `stale_after` ago (it died, or lost
//! maskd's database), restores the SQL objects their runs disabled, and ends them: a RUNNING one
//! FAILED with a `JOB_ABORTED` event, a CANCELLED one with its `endTime`. Taking over is one
//! guarded statement, so each orphan is taken by exactly one instance; from then on it is this
//! instance's, which heartbeats it until it has ended it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::Instance;
use super::lifecycle::{self, Ended};
use crate::store::executions;
use crate::types::ExecutionStatus;

#[derive(Debug, Clone)]
pub struct TakeoverConfig {
    /// How often to look for orphans.
    pub interval: Duration,
    /// How long an execution's heartbeat must have been silent for it to be taken over.
    pub stale_after: Duration,
}

/// One execution a pass took over, and how it ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenOver {
    pub execution_id: i64,
    pub job_id: i64,
    /// RUNNING or CANCELLED: its status when it was taken over.
    pub status: ExecutionStatus,
    pub ended: Ended,
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct TakeoverPass {
    pub taken_over: Vec<TakenOver>,
}

pub struct Takeover {
    instance: Instance,
    config: TakeoverConfig,
    /// The orphans this service is ending, which the heartbeats keep alive meanwhile (restoring a
    /// big index can take longer than the takeover delay).
    in_hand: Arc<Mutex<HashSet<i64>>>,
}

impl Takeover {
    pub fn new(instance: Instance, config: TakeoverConfig) -> Self {
        Takeover {
            instance,
            config,
            in_hand: Default::default(),
        }
    }

    /// The executions being ended right now, for the heartbeats.
    pub(super) fn in_hand(&self) -> Arc<Mutex<HashSet<i64>>> {
        self.in_hand.clone()
    }

    /// Takes over, one by one, every execution whose heartbeat has been silent for `stale_after`,
    /// and ends each before taking the next. An error stops the pass; what it ended stays ended.
    pub async fn run_once(&self) -> Result<TakeoverPass, sqlx::Error> {
        let mut pass = TakeoverPass::default();
        let stale_secs = self.config.stale_after.as_secs_f64();
        while let Some(orphan) =
            executions::take_over_orphan(&self.instance.pool, self.instance.worker_id(), stale_secs)
                .await?
        {
            let (id, job_id, status) = (orphan.execution_id, orphan.job_id, orphan.status);
            let span = tracing::info_span!("takeover", executionId = id, jobId = job_id);
            self.in_hand.lock().await.insert(id);
            let ended = lifecycle::end_orphan(&self.instance, orphan)
                .instrument(span)
                .await;
            self.in_hand.lock().await.remove(&id);
            pass.taken_over.push(TakenOver {
                execution_id: id,
                job_id,
                status,
                ended,
            });
        }
        Ok(pass)
    }

    /// A pass every `interval` until `stop`.
    pub(super) async fn run(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(self.config.interval) => {}
            }
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "looking for orphaned executions failed; trying again next interval");
            }
        }
    }
}
