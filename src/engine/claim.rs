//! Claiming: whenever a slot is free, claim the oldest QUEUED execution and run it; and the
//! listener, which wakes the claim loop on a submission and stops a run on its cancel.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{Running, Shared, lifecycle};
use crate::store::chunks;
use crate::store::executions::{self, CANCELLED_CHANNEL, SUBMITTED_CHANNEL};

/// Without any notification, look for queued work this often (a lost notification delays work, it
/// never loses it).
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// LISTEN for submissions (wake the claim loop) and cancels (stop the execution if it runs here).
pub(super) async fn listen(shared: Arc<Shared>, stop: CancellationToken) {
    let mut listener = loop {
        match shared.instance.pool.listener().await {
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
                if let Ok(id) = n.payload().parse::<i64>() {
                    if let Some(running) = shared.running.lock().await.get(&id) {
                        running.stop("cancel notified");
                    }
                    for (execution_id, helping) in shared.helping.lock().await.values() {
                        if *execution_id == id {
                            helping.stop("cancel notified");
                        }
                    }
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

/// Claims the oldest QUEUED execution whenever a slot is free, and runs it in `executions`; when
/// none is queued, the next chunk of a running execution, and masks it.
pub(super) async fn claim_loop(
    shared: Arc<Shared>,
    stop: CancellationToken,
    executions: Arc<Mutex<JoinSet<()>>>,
) {
    let instance = &shared.instance;
    loop {
        if stop.is_cancelled() {
            return;
        }
        let busy = (shared.running.lock().await.len() + shared.helping.lock().await.len()) as u32;
        if busy < shared.config.workers {
            match executions::claim(&instance.pool, instance.worker_id()).await {
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
                        instance.metrics.set_workers_busy(running.len());
                    }
                    let s = shared.clone();
                    executions.lock().await.spawn(
                        async move {
                            let id = execution.execution_id;
                            let aborting = || s.aborting.load(std::sync::atomic::Ordering::SeqCst);
                            lifecycle::run(&s.instance, execution, stop, aborting).await;
                            let mut running = s.running.lock().await;
                            running.remove(&id);
                            s.instance.metrics.set_workers_busy(running.len());
                            drop(running);
                            s.wake.notify_one();
                        }
                        .instrument(span),
                    );
                    continue;
                }
                Ok(None) => match claim_chunk(&shared, &executions).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "claiming a chunk failed; retrying"),
                },
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

/// Claims the next chunk of a running execution, if any, and masks it in `executions`; whether
/// one was claimed.
async fn claim_chunk(
    shared: &Arc<Shared>,
    executions: &Arc<Mutex<JoinSet<()>>>,
) -> Result<bool, sqlx::Error> {
    let instance = &shared.instance;
    let stale = instance.chunk_stale_after.as_secs_f64();
    let Some(chunk) = chunks::claim(&instance.pool, instance.worker_id(), stale, None).await?
    else {
        return Ok(false);
    };
    instance.hold_chunk(chunk.chunk_id);
    let stop = CancellationToken::new();
    let span = tracing::info_span!(
        "chunk",
        executionId = chunk.execution_id,
        table = %chunk.table_name,
        chunk = chunk.chunk_no
    );
    let (chunk_id, execution_id) = (chunk.chunk_id, chunk.execution_id);
    {
        let mut helping = shared.helping.lock().await;
        helping.insert(
            chunk_id,
            (
                execution_id,
                Running {
                    stop: stop.clone(),
                    span: span.clone(),
                },
            ),
        );
    }
    let s = shared.clone();
    executions.lock().await.spawn(
        async move {
            lifecycle::help(&s.instance, chunk, stop).await;
            s.helping.lock().await.remove(&chunk_id);
            s.wake.notify_one();
        }
        .instrument(span),
    );
    Ok(true)
}
