//! Heartbeats: every interval, one statement marks the executions this instance holds (those it
//! runs and those it is taking over) as alive, and one the chunks it holds. The answer also says which of them were cancelled,
//! so a run whose cancel notification was lost still stops within an interval.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::store::{chunks, executions};
use crate::types::ExecutionStatus;

pub(super) async fn beat(
    shared: Arc<Shared>,
    taking_over: Arc<Mutex<HashSet<i64>>>,
    stop: CancellationToken,
) {
    let instance = &shared.instance;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(shared.config.heartbeat_interval) => {}
        }
        beat_chunks(&shared).await;
        let mut held: Vec<i64> = shared.running.lock().await.keys().copied().collect();
        held.extend(taking_over.lock().await.iter());
        if held.is_empty() {
            continue;
        }
        match executions::heartbeat(&instance.pool, instance.worker_id(), &held).await {
            Ok(rows) => {
                let running = shared.running.lock().await;
                for (id, status) in rows {
                    if status == ExecutionStatus::Cancelled
                        && let Some(r) = running.get(&id)
                    {
                        r.stop("the heartbeat found it cancelled");
                    }
                }
            }
            // The next beat tries again; three missed in a row let another instance take over.
            Err(e) => tracing::warn!(error = %e, executions = ?held, "heartbeat failed"),
        }
    }
}

/// Heartbeats the chunks this instance holds, and stops the workers of those whose execution is
/// no longer RUNNING (a cancel whose notification was missed).
async fn beat_chunks(shared: &Shared) {
    let instance = &shared.instance;
    let held = instance.held_chunks();
    if held.is_empty() {
        return;
    }
    match chunks::heartbeat(&instance.pool, instance.worker_id(), &held).await {
        Ok(stopped) => {
            let helping = shared.helping.lock().await;
            for id in stopped {
                if let Some((_, r)) = helping.get(&id) {
                    r.stop("the heartbeat found its execution no longer running");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, chunks = ?held, "chunk heartbeat failed"),
    }
}
