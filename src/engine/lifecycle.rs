//! The life of one execution on the worker that holds it:
//!
//! 1. `run`: load the job and its target, run the job's runner until it returns or is stopped (a
//!    cancel, the end of a shutdown's grace period), and learn how it ended ([`RunEnd`]);
//! 2. restore or report the run's SQL objects, as [`sql_object_action`] says;
//! 3. [`decide`] the ending from those two (a pure function), and make it through the store's
//!    state machine: finish, mark stopped, or leave the execution to whoever holds it now.
//!
//! `end_orphan` is the same from step 2, for an execution taken over from a dead instance.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Instance;
use super::events::{self, Event};
use super::runner::{self, Job, RunContext, RunError, Runner};
use super::sql_objects::{self, Action, Settled};
use crate::masking::target::Target;
use crate::store::chunks::{self, Chunk};
use crate::store::commits;
use crate::store::executions::{self, Execution};
use crate::store::jobs::{self, JobKind, MaskingJob};
use crate::store::profile_jobs::ProfileJob;
use crate::store::{self, connectors};
use crate::types::ExecutionStatus;

/// How a run ended, as its worker learned it (or, for an orphan, as the takeover found it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The runner did all its work; `unmasked`: some values could not be masked.
    Completed { unmasked: bool },
    /// The runner could not go on (its `EXECUTION_FAILED` event is recorded already).
    Failed,
    /// A cancel stopped it.
    Cancelled { graceful: bool },
    /// The shutdown's grace period ended before it did.
    ShutDown,
    /// Taken over from a dead instance, in this status (RUNNING, or CANCELLED and not stopped).
    Orphaned { cancelled: bool },
    /// It is no longer this worker's (taken over), or already ended: not ours to end.
    Elsewhere,
    /// Stopped, but its state cannot be read: left to a takeover.
    Unknown,
}

/// What the lifecycle does with the run's SQL objects, given how it ended.
pub fn sql_object_action(end: &RunEnd) -> Action {
    match end {
        RunEnd::Cancelled { graceful: false } => Action::Report {
            why: "the cancel was not graceful".into(),
        },
        RunEnd::Completed { .. }
        | RunEnd::Failed
        | RunEnd::Cancelled { graceful: true }
        | RunEnd::ShutDown
        | RunEnd::Orphaned { .. } => Action::Restore,
        RunEnd::Elsewhere | RunEnd::Unknown => Action::Nothing,
    }
}

/// How an execution is ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// RUNNING -> `status`, after recording `event`.
    Finish {
        status: ExecutionStatus,
        event: Option<Event>,
    },
    /// A CANCELLED execution's worker has stopped: set its `endTime`.
    MarkStopped,
    /// Do nothing: the execution is someone else's to end, or must be left to a takeover.
    Leave { why: &'static str },
}

/// The ending of an execution from how its run ended and what became of its SQL objects.
pub fn decide(end: &RunEnd, settled: Settled) -> Ending {
    if settled == Settled::Unrecorded {
        return Ending::Leave {
            why: "what became of its SQL objects is not recorded; another instance will end it once its heartbeat lapses",
        };
    }
    let finish = |status, event| Ending::Finish { status, event };
    match end {
        RunEnd::Completed { unmasked } => match settled {
            Settled::Reported => finish(ExecutionStatus::Failed, None),
            Settled::NotValidated => finish(ExecutionStatus::Warning, None),
            _ if *unmasked => finish(ExecutionStatus::Warning, None),
            _ => finish(ExecutionStatus::Succeeded, None),
        },
        RunEnd::Failed => finish(ExecutionStatus::Failed, None),
        RunEnd::ShutDown => finish(ExecutionStatus::Failed, Some(Event::ShutDown)),
        RunEnd::Orphaned { cancelled: false } => {
            finish(ExecutionStatus::Failed, Some(Event::TakenOver))
        }
        RunEnd::Cancelled { .. } | RunEnd::Orphaned { cancelled: true } => Ending::MarkStopped,
        RunEnd::Elsewhere => Ending::Leave {
            why: "it was taken over or ended elsewhere",
        },
        RunEnd::Unknown => Ending::Leave {
            why: "its state cannot be read; another instance will end it once its heartbeat lapses",
        },
    }
}

/// What the end of an execution came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Finished(ExecutionStatus),
    /// Cancelled, and its `endTime` set.
    Stopped,
    /// Not ended here (left to whoever holds it, or to a takeover).
    Left,
}

/// Runs a claimed execution to its end. `aborting` says whether a stop is the shutdown's.
pub(super) async fn run(
    instance: &Instance,
    execution: Execution,
    stop: CancellationToken,
    aborting: impl Fn() -> bool,
) {
    tracing::info!("execution started");
    let (end, target) = match job_and_target(instance, &execution).await {
        Ok((job, target)) => {
            let end = match source_of(instance, &execution, &job).await {
                Ok(source) => {
                    let targets = (&target, source.as_ref());
                    run_job(instance, &execution, &job, targets, &stop, aborting).await
                }
                Err(why) => failed(instance, &execution, why).await,
            };
            (end, Ok(target))
        }
        Err(why) => (failed(instance, &execution, why.clone()).await, Err(why)),
    };
    if !matches!(
        end,
        RunEnd::Completed { .. } | RunEnd::Elsewhere | RunEnd::Unknown
    ) {
        stop_chunk_workers(instance, execution.execution_id).await;
        if let Ok(target) = &target {
            settle_pending_commits(instance, execution.execution_id, target).await;
        }
    }
    let settled = sql_objects::settle(
        instance,
        execution.execution_id,
        target.as_ref().map_err(String::as_str),
        sql_object_action(&end),
    )
    .await;
    end_as(instance, &execution, decide(&end, settled)).await;
}

/// Runs the job's runner, stopping it when `stop` fires; how it ended.
async fn run_job(
    instance: &Instance,
    execution: &Execution,
    job: &Job,
    (target, source): (&Target, Option<&Target>),
    stop: &CancellationToken,
    aborting: impl Fn() -> bool,
) -> RunEnd {
    let ctx = RunContext::new(instance, execution, job, (target, source), stop);
    let mut runner = Runner::for_job(job);
    let result = tokio::select! {
        r = runner.run(&ctx) => r,
        _ = stop.cancelled() => Err(RunError::Stopped),
    };
    if result.is_err() {
        // The runner was dropped mid-flight, or one of its streams failed and the others were
        // dropped: their connections are closed, but the backends may still be busy (or waiting
        // for a lock). End them, which rolls their batches back at once.
        end_sessions(&ctx, target, source).await;
    }
    ctx.release_chunks(None).await;
    let (unmasked_events, unmasked): (Vec<_>, bool) = {
        let unmasked = ctx.unmasked.lock().expect("not poisoned");
        (unmasked.events().collect(), !unmasked.is_empty())
    };
    for event in unmasked_events {
        events::record(instance, execution.execution_id, &event).await;
    }
    match result {
        Ok(()) => RunEnd::Completed { unmasked },
        Err(RunError::Failed(why)) => failed(instance, execution, why).await,
        Err(RunError::Stopped) => why_stopped(instance, execution.execution_id, aborting()).await,
    }
}

/// Ends the target and source backends a stopped run opened.
async fn end_sessions(ctx: &RunContext<'_>, target: &Target, source: Option<&Target>) {
    for pid in ctx.sessions() {
        if let Err(e) = target.terminate_backend(pid, &ctx.session_name()).await {
            tracing::warn!(error = %e, pid, "cannot end the target backend of the stopped run");
        }
    }
    if let Some(source) = source {
        for pid in ctx.source_sessions() {
            if let Err(e) = source.terminate_backend(pid, &ctx.session_name()).await {
                tracing::warn!(error = %e, pid, "cannot end the source backend of the stopped run");
            }
        }
    }
}

async fn failed(instance: &Instance, execution: &Execution, why: String) -> RunEnd {
    tracing::warn!(reason = %why, "execution failed");
    events::record(
        instance,
        execution.execution_id,
        &Event::ExecutionFailed { why },
    )
    .await;
    RunEnd::Failed
}

/// Why a run was stopped: a cancel, the shutdown, or a takeover (read from the execution).
async fn why_stopped(instance: &Instance, execution_id: i64, aborting: bool) -> RunEnd {
    let now = match executions::get(&instance.pool, execution_id).await {
        Ok(Some(e)) => e,
        Ok(None) => return RunEnd::Elsewhere,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the execution after it stopped");
            return RunEnd::Unknown;
        }
    };
    if now.worker_id.as_deref() != Some(instance.worker_id()) || now.end_time.is_some() {
        return RunEnd::Elsewhere;
    }
    match now.status {
        ExecutionStatus::Cancelled => RunEnd::Cancelled {
            // Every cancel sets it; its absence would mean a row older than the flag.
            graceful: now.cancel_graceful.unwrap_or(false),
        },
        ExecutionStatus::Running if aborting => RunEnd::ShutDown,
        _ => RunEnd::Elsewhere,
    }
}

/// Ends an execution taken over from an instance that stopped heartbeating: restores what its run
/// disabled, then FAILED with `JOB_ABORTED`, or, if it had been cancelled, its `endTime`.
pub(super) async fn end_orphan(instance: &Instance, orphan: Execution) -> Ended {
    tracing::warn!(status = %orphan.status, "taking over an execution whose instance stopped heartbeating");
    let target = match job_and_target(instance, &orphan).await {
        Ok((_, t)) => Ok(t),
        Err(why) => {
            tracing::warn!(reason = %why, "cannot reach the target to restore SQL objects");
            Err(why)
        }
    };
    let end = RunEnd::Orphaned {
        cancelled: orphan.status == ExecutionStatus::Cancelled,
    };
    stop_chunk_workers(instance, orphan.execution_id).await;
    if let Ok(target) = &target {
        settle_pending_commits(instance, orphan.execution_id, target).await;
    }
    let settled = sql_objects::settle(
        instance,
        orphan.execution_id,
        target.as_ref().map_err(String::as_str),
        sql_object_action(&end),
    )
    .await;
    end_as(instance, &orphan, decide(&end, settled)).await
}

/// Before the SQL objects of an execution that did not complete are restored: its chunks are
/// stopped, and the workers holding them waited for (at most until their heartbeats would have
/// lapsed), so that nothing is restored under a worker still masking.
async fn stop_chunk_workers(instance: &Instance, execution_id: i64) {
    let pool = &instance.pool;
    if let Err(e) = chunks::stop_all(pool, execution_id, "the execution ended").await {
        tracing::warn!(error = %e, "cannot stop the execution's chunks");
    }
    let stale = instance.chunk_stale_after;
    let deadline = Instant::now() + stale;
    loop {
        match chunks::held_by_live_workers(pool, execution_id, stale.as_secs_f64()).await {
            Ok(0) => return,
            Ok(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Ok(held) => {
                tracing::warn!(
                    held,
                    "workers holding chunks of the execution did not stop in time"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot learn whether chunk workers stopped");
                return;
            }
        }
    }
}

/// How long an ended run's pending commits are asked about while the target still shows their
/// transactions in progress (their backends, just ended, may take a moment to go).
const SETTLE_ATTEMPTS: u32 = 50;

/// After a run that did not complete, once its target sessions and chunk workers have stopped:
/// the commits it left pending (stopped between the target's COMMIT and its record) are settled
/// by asking the target whether their transactions committed, so that the execution's
/// `rowsMasked` counts exactly what was committed. One the target cannot answer for is left to
/// the re-run, which asks again.
async fn settle_pending_commits(instance: &Instance, execution_id: i64, target: &Target) {
    let pool = &instance.pool;
    let (tables, chunk_commits) = match (
        commits::pending(pool, execution_id).await,
        chunks::pending(pool, execution_id).await,
    ) {
        (Ok(t), Ok(c)) => (t, c),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot read the run's pending commits");
            return;
        }
    };
    if tables.is_empty() && chunk_commits.is_empty() {
        return;
    }
    let mut conn = match target.connect_as("maskd settling commits").await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask the target about the run's pending commits");
            return;
        }
    };
    let mut left: Vec<(Option<String>, Option<i64>, i64)> = tables
        .into_iter()
        .map(|(table, xid)| (Some(table), None, xid))
        .chain(
            chunk_commits
                .into_iter()
                .map(|(chunk, xid)| (None, Some(chunk), xid)),
        )
        .collect();
    for _ in 0..SETTLE_ATTEMPTS {
        let mut still = vec![];
        for (table, chunk, xid) in left {
            let status: Result<Option<String>, _> = sqlx::query_scalar("SELECT txid_status($1)")
                .bind(xid)
                .fetch_one(&mut conn)
                .await;
            let committed = match status.ok().flatten().as_deref() {
                Some("committed") => true,
                Some("aborted") => false,
                Some(_) => {
                    still.push((table, chunk, xid));
                    continue;
                }
                // Unknown to the target, or not asked: left to the re-run.
                None => continue,
            };
            let settled = match (&table, chunk) {
                (Some(table), _) => {
                    commits::settle_pending(pool, execution_id, table, xid, committed).await
                }
                (None, Some(chunk)) => chunks::settle_pending(pool, chunk, xid, committed).await,
                (None, None) => Ok(()),
            };
            if let Err(e) = settled {
                tracing::warn!(error = %e, xid, "cannot record what became of a pending commit");
            }
        }
        if still.is_empty() {
            break;
        }
        left = still;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crate::masking::target::close(conn).await;
}

/// A free worker's part in an execution that another worker (maybe of this instance) runs: masks
/// the chunk it claimed. That worker ends the execution; a failure here is recorded on the chunk,
/// and fails the execution through it.
pub(super) async fn help(instance: &Instance, chunk: Chunk, stop: CancellationToken) {
    let pool = &instance.pool;
    let held = chunk.held_by(instance.worker_id());
    let prepared = async {
        let execution = match executions::get(pool, chunk.execution_id).await {
            Ok(Some(execution)) => execution,
            Ok(None) => return Err("the execution no longer exists".to_owned()),
            Err(e) => return Err(RunError::from(e).to_string()),
        };
        let (job, target) = match job_and_target(instance, &execution).await? {
            (Job::Masking(job), target) => (job, target),
            _ => return Err("a profile job has no chunks".to_owned()),
        };
        let kind = Job::Masking(job.clone());
        let source = source_of(instance, &execution, &kind).await?;
        Ok((execution, job, kind, target, source))
    };
    let (execution, job, kind, target, source) = match prepared.await {
        Ok(p) => p,
        Err(why) => {
            tracing::warn!(reason = %why, "cannot work on the chunk");
            if let Err(e) = chunks::release(pool, &held, Some(&why)).await {
                tracing::warn!(error = %e, "cannot give the chunk back; another worker claims it once its heartbeat lapses");
            }
            instance.let_go_chunk(held.chunk_id);
            return;
        }
    };
    let ctx = RunContext::new(
        instance,
        &execution,
        &kind,
        (&target, source.as_ref()),
        &stop,
    );
    let held = ctx.hold(&chunk);
    let result = tokio::select! {
        r = runner::help(&ctx, &job, &chunk, held) => r,
        _ = stop.cancelled() => Err(RunError::Stopped),
    };
    if result.is_err() {
        end_sessions(&ctx, &target, source.as_ref()).await;
    }
    let unmasked_events: Vec<_> = ctx
        .unmasked
        .lock()
        .expect("not poisoned")
        .events()
        .collect();
    for event in unmasked_events {
        events::record(instance, execution.execution_id, &event).await;
    }
    match result {
        Ok(()) => ctx.release_chunks(None).await,
        Err(RunError::Stopped) => {
            tracing::info!("stopped working on the chunk");
            ctx.release_chunks(None).await
        }
        Err(RunError::Failed(why)) => {
            tracing::warn!(reason = %why, "the chunk failed");
            ctx.release_chunks(Some(&why)).await
        }
    }
}

/// The execution's job, and the target it works on: its `targetConnectorId`, or its job's
/// ruleset's connector. Err says why not, in words.
async fn job_and_target(
    instance: &Instance,
    execution: &Execution,
) -> Result<(Job, Target), String> {
    let sql = |e: sqlx::Error| RunError::from(e).to_string();
    let id = execution.job_id;
    let pool = &instance.pool;
    let job = match jobs::submission_facts(pool, id).await.map_err(sql)? {
        Some((JobKind::Masking, ..)) => store::get::<MaskingJob>(pool, id)
            .await
            .map_err(sql)?
            .map(Job::Masking),
        Some((JobKind::Profile, ..)) => store::get::<ProfileJob>(pool, id)
            .await
            .map_err(sql)?
            .map(Job::Profile),
        None => None,
    }
    .ok_or("the job no longer exists")?;
    let details = match execution.target_connector_id {
        Some(c) => connectors::connection_details(&instance.pool, c).await,
        None => connectors::connection_details_of_ruleset(&instance.pool, job.ruleset_id()).await,
    }
    .map_err(sql)?
    .ok_or("the job's database connector no longer exists")?;
    let id = details.database_connector_id;
    let target = Target::of_connector(details, &instance.keys)
        .map_err(|e| format!("database connector {id}: {e}"))?;
    Ok((job, target))
}

/// The source an on-the-fly masking job reads: the execution's `sourceConnectorId`, or the job's
/// `onTheFlyMaskingSource`. None for every other job. Err says why not, in words.
async fn source_of(
    instance: &Instance,
    execution: &Execution,
    job: &Job,
) -> Result<Option<Target>, String> {
    let Job::Masking(job) = job else {
        return Ok(None);
    };
    if !job.on_the_fly_masking {
        return Ok(None);
    }
    let id = execution
        .source_connector_id
        .or(job
            .on_the_fly_masking_source
            .as_ref()
            .map(|s| s.connector_id))
        .ok_or("the on-the-fly job has no source connector: give sourceConnectorId")?;
    let details = connectors::connection_details(&instance.pool, id)
        .await
        .map_err(|e| RunError::from(e).to_string())?
        .ok_or_else(|| format!("the source database connector {id} no longer exists"))?;
    let source = Target::of_connector(details, &instance.keys)
        .map_err(|e| format!("source database connector {id}: {e}"))?;
    Ok(Some(source))
}

/// A transition ending an execution is tried this many times (with a growing pause) before it is
/// left to a takeover: a database that is restarting comes back within seconds.
const END_ATTEMPTS: u32 = 4;

/// Makes `ending` through the store, and says what it came to.
async fn end_as(instance: &Instance, execution: &Execution, ending: Ending) -> Ended {
    let id = execution.execution_id;
    let worker = instance.worker_id();
    match ending {
        Ending::Leave { why } => {
            tracing::info!(status = %execution.status, reason = why, "leaving the execution");
            Ended::Left
        }
        Ending::Finish { status, event } => {
            if let Some(event) = event {
                events::record(instance, id, &event).await;
            }
            match retried(|| executions::finish(&instance.pool, id, worker, status)).await {
                Some(Some(_)) => {
                    tracing::info!(status = %status, "execution finished");
                    Ended::Finished(status)
                }
                // A cancel won meanwhile: it stands, and this worker has stopped.
                Some(None) => match mark_stopped(instance, id).await {
                    Ended::Stopped => {
                        tracing::info!("execution was cancelled as it finished; the cancel stands");
                        Ended::Stopped
                    }
                    other => other,
                },
                None => Ended::Left,
            }
        }
        Ending::MarkStopped => mark_stopped(instance, id).await,
    }
}

/// Sets the `endTime` of a cancelled execution this worker has stopped, and observes the time from
/// the cancel to now (both read from the database's clock).
async fn mark_stopped(instance: &Instance, id: i64) -> Ended {
    let worker = instance.worker_id();
    match retried(|| executions::mark_stopped(&instance.pool, id, worker)).await {
        Some(Some(stopped)) => {
            if let (Some(cancel), Some(end)) = (stopped.cancel_time, stopped.end_time) {
                let elapsed = (end - cancel).to_std().unwrap_or_default();
                instance.metrics.observe_cancel_to_stop(elapsed);
            }
            tracing::info!("cancelled execution stopped");
            Ended::Stopped
        }
        Some(None) => {
            tracing::info!("the execution was taken over or ended elsewhere; leaving it");
            Ended::Left
        }
        None => Ended::Left,
    }
}

/// Runs an ending transition until it answers, `END_ATTEMPTS` times at most; None (logged) when it
/// never did, which leaves the execution to a takeover once this worker stops heartbeating it.
async fn retried<T, F, Fut>(transition: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut pause = Duration::from_millis(250);
    for attempt in 1..=END_ATTEMPTS {
        match transition().await {
            Ok(answer) => return Some(answer),
            Err(e) if attempt < END_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "cannot record the end of the execution; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record the end of the execution; another instance will once its heartbeat lapses");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExecutionStatus::*;

    fn finished(status: ExecutionStatus) -> Ending {
        Ending::Finish {
            status,
            event: None,
        }
    }

    #[test]
    fn a_completed_run_succeeds_warns_or_fails_by_its_values_and_objects() {
        let clean = RunEnd::Completed { unmasked: false };
        let unmasked = RunEnd::Completed { unmasked: true };
        assert_eq!(decide(&clean, Settled::All), finished(Succeeded));
        assert_eq!(decide(&clean, Settled::Untouched), finished(Succeeded));
        assert_eq!(decide(&unmasked, Settled::All), finished(Warning));
        assert_eq!(decide(&clean, Settled::NotValidated), finished(Warning));
        assert_eq!(decide(&unmasked, Settled::NotValidated), finished(Warning));
        assert_eq!(decide(&clean, Settled::Reported), finished(Failed));
        assert_eq!(decide(&unmasked, Settled::Reported), finished(Failed));
    }

    #[test]
    fn failures_shutdowns_and_takeovers_end_failed_with_their_event() {
        for settled in [Settled::All, Settled::NotValidated, Settled::Reported] {
            assert_eq!(decide(&RunEnd::Failed, settled), finished(Failed));
            assert_eq!(
                decide(&RunEnd::ShutDown, settled),
                Ending::Finish {
                    status: Failed,
                    event: Some(Event::ShutDown)
                }
            );
            assert_eq!(
                decide(&RunEnd::Orphaned { cancelled: false }, settled),
                Ending::Finish {
                    status: Failed,
                    event: Some(Event::TakenOver)
                }
            );
        }
    }

    #[test]
    fn a_cancelled_run_is_marked_stopped_whatever_became_of_its_objects() {
        for end in [
            RunEnd::Cancelled { graceful: true },
            RunEnd::Cancelled { graceful: false },
            RunEnd::Orphaned { cancelled: true },
        ] {
            for settled in [Settled::All, Settled::NotValidated, Settled::Reported] {
                assert_eq!(decide(&end, settled), Ending::MarkStopped, "{end:?}");
            }
        }
    }

    #[test]
    fn an_execution_is_never_ended_while_its_objects_are_unrecorded() {
        for end in [
            RunEnd::Completed { unmasked: false },
            RunEnd::Failed,
            RunEnd::Cancelled { graceful: true },
            RunEnd::Cancelled { graceful: false },
            RunEnd::ShutDown,
            RunEnd::Orphaned { cancelled: false },
            RunEnd::Orphaned { cancelled: true },
        ] {
            assert!(
                matches!(decide(&end, Settled::Unrecorded), Ending::Leave { .. }),
                "{end:?}"
            );
        }
    }

    #[test]
    fn what_is_not_ours_is_left_and_its_objects_untouched() {
        for end in [RunEnd::Elsewhere, RunEnd::Unknown] {
            assert_eq!(sql_object_action(&end), Action::Nothing);
            assert!(matches!(
                decide(&end, Settled::Untouched),
                Ending::Leave { .. }
            ));
        }
    }

    #[test]
    fn only_an_abrupt_cancel_leaves_the_objects() {
        assert!(matches!(
            sql_object_action(&RunEnd::Cancelled { graceful: false }),
            Action::Report { .. }
        ));
        for end in [
            RunEnd::Completed { unmasked: true },
            RunEnd::Failed,
            RunEnd::Cancelled { graceful: true },
            RunEnd::ShutDown,
            RunEnd::Orphaned { cancelled: true },
            RunEnd::Orphaned { cancelled: false },
        ] {
            assert_eq!(sql_object_action(&end), Action::Restore, "{end:?}");
        }
    }
}
