//! A linearizability checker for the execution state machine (Wing & Gong's search, with the
//! memoisation of Lowe's WGL variant), and its own tests on hand-written histories.
//!
//! Each job, with its executions, is an independent object of the sequential specification
//! below (an execution belongs to one job; a submit depends on the job's other executions), so a
//! history is checked job by job: it is linearizable iff each job's sub-history is.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Instant;

use maskd::types::{ExecutionStatus, ExpectedStatus};

/// The state of one execution in the sequential specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not submitted yet.
    Absent,
    Queued,
    Running,
    /// `stopped`: its `endTime` is set.
    Cancelled {
        stopped: bool,
    },
    /// SUCCEEDED, WARNING or FAILED.
    Finished(ExecutionStatus),
}

/// A worker, by number.
pub type Worker = u8;

/// One call on one execution (or, for a refused submit, on its job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `POST /executions` that created this execution, or was refused 409.
    Submit,
    /// This worker's claim that returned this execution.
    Claim(Worker),
    /// `POST /executions/{id}/cancel`, with or without `expectedStatus`.
    Cancel(Option<ExpectedStatus>),
    /// A worker's finish with this outcome: it applies only for the worker holding it (the fence).
    Finish(ExecutionStatus, Worker),
    /// A worker's "stopped after a cancel" (sets `endTime`), fenced like a finish.
    MarkStopped(Worker),
    /// `GET /executions/{id}`.
    Read,
}

/// What a call answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 201 QUEUED (submit), or a claim that returned it.
    Done,
    /// 409: the job has an execution that has not stopped.
    Conflict,
    /// A conditional store transition (finish, mark stopped): whether it changed the execution.
    Changed(bool),
    /// Cancel answered 200 with the execution in this state.
    Cancelled(State),
    /// Cancel answered 400 naming this status.
    Refused(ExecutionStatus),
    /// A read saw this state.
    Saw(State),
}

/// One completed operation: its call, its answer, and the instants before the call and after the
/// answer.
#[derive(Debug, Clone)]
pub struct Event {
    pub job: i64,
    /// None for a refused submit.
    pub execution: Option<i64>,
    pub op: Op,
    pub outcome: Outcome,
    pub invoked: Instant,
    pub answered: Instant,
}

/// The sequential specification: the state after `op` in `state` (held by `holder`, the worker
/// that claimed it) and the answer it gives; None when no answer we record can come from that
/// state (the submit of an existing execution, a claim returning one that is not QUEUED, a cancel
/// of one that does not exist).
pub fn step(
    state: State,
    holder: Option<Worker>,
    op: Op,
) -> Option<(State, Option<Worker>, Outcome)> {
    use State::*;
    let (after, answer) = match (op, state) {
        (Op::Submit, Absent) => (Queued, Outcome::Done),
        (Op::Claim(w), Queued) => return Some((Running, Some(w), Outcome::Done)),
        (Op::Cancel(expected), Queued | Running) => {
            let current = if state == Queued {
                ExecutionStatus::Queued
            } else {
                ExecutionStatus::Running
            };
            if expected.is_none_or(|e| e.status() == current) {
                let after = Cancelled {
                    stopped: state == Queued,
                };
                (after, Outcome::Cancelled(after))
            } else {
                (state, Outcome::Refused(current))
            }
        }
        // A retried cancel is answered 200 unchanged, whatever it expected.
        (Op::Cancel(_), Cancelled { .. }) => (state, Outcome::Cancelled(state)),
        (Op::Cancel(_), Finished(s)) => (state, Outcome::Refused(s)),
        (Op::Finish(outcome, w), Running) if holder == Some(w) => {
            (Finished(outcome), Outcome::Changed(true))
        }
        (Op::Finish(..), _) => (state, Outcome::Changed(false)),
        (Op::MarkStopped(w), Cancelled { stopped: false }) if holder == Some(w) => {
            (Cancelled { stopped: true }, Outcome::Changed(true))
        }
        (Op::MarkStopped(_), _) => (state, Outcome::Changed(false)),
        (Op::Read, _) => (state, Outcome::Saw(state)),
        (Op::Submit | Op::Claim(_) | Op::Cancel(_), _) => return None,
    };
    Some((after, holder, answer))
}

/// Whether an execution in this state holds its job: its `endTime` is not set, so no other
/// execution of the job may be submitted.
fn unstopped(state: State) -> bool {
    matches!(
        state,
        State::Queued | State::Running | State::Cancelled { stopped: false }
    )
}

/// The state of one job: the state of each of its executions and the worker holding it, by
/// execution id.
type JobState = Vec<(i64, State, Option<Worker>)>;

/// The job's state after `event`, if the specification gives its recorded answer in `job`.
fn apply(job: &JobState, event: &Event) -> Option<JobState> {
    let holds = job.iter().any(|&(_, s, _)| unstopped(s));
    let Some(id) = event.execution else {
        return (event.op == Op::Submit && event.outcome == Outcome::Conflict && holds)
            .then(|| job.clone());
    };
    if event.op == Op::Submit && holds {
        return None;
    }
    let at = job.binary_search_by_key(&id, |&(i, _, _)| i);
    let (state, holder) = at.map_or((State::Absent, None), |i| (job[i].1, job[i].2));
    let (after, holder, answer) = step(state, holder, event.op)?;
    if answer != event.outcome {
        return None;
    }
    let mut job = job.clone();
    match at {
        Ok(i) => (job[i].1, job[i].2) = (after, holder),
        Err(i) => job.insert(i, (id, after, holder)),
    }
    Some(job)
}

/// A job whose sub-history has no linearization.
#[derive(Debug)]
pub struct Violation {
    pub job: i64,
    /// Its operations, in order of invocation, times in µs from the first one's invocation.
    pub events: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "job {}: no sequential order of these operations respects both their real-time order and the state machine:",
            self.job
        )?;
        for e in &self.events {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// Checks every job of `history`; the first violation found.
pub fn check(history: &[Event]) -> Result<(), Violation> {
    let mut by_job: BTreeMap<i64, Vec<&Event>> = BTreeMap::new();
    for e in history {
        by_job.entry(e.job).or_default().push(e);
    }
    for (job, mut events) in by_job {
        events.sort_by_key(|e| e.invoked);
        if !linearizable(&events, JobState::new(), apply) {
            let t0 = events[0].invoked;
            let events = events
                .iter()
                .map(|e| {
                    format!(
                        "[{:>9} .. {:>9}] execution {:?}: {:?} -> {:?}",
                        (e.invoked - t0).as_micros(),
                        (e.answered - t0).as_micros(),
                        e.execution,
                        e.op,
                        e.outcome
                    )
                })
                .collect();
            return Err(Violation { job, events });
        }
    }
    Ok(())
}

/// An operation of a history: when it was invoked and when its answer came.
pub trait Timed {
    fn invoked(&self) -> Instant;
    fn answered(&self) -> Instant;
}

impl Timed for Event {
    fn invoked(&self) -> Instant {
        self.invoked
    }
    fn answered(&self) -> Instant {
        self.answered
    }
}

/// Depth-first search for a linearization of one object's events (sorted by invocation), from
/// `initial`, under the specification `apply` (the state after an event, if it gives the event's
/// recorded answer): at each step, any event not yet linearized that was invoked before every
/// remaining event's answer may come next. A (linearized set, state) pair already explored is not
/// explored again.
pub fn linearizable<E: Timed, S: Clone + Eq + std::hash::Hash>(
    events: &[&E],
    initial: S,
    apply: impl Fn(&S, &E) -> Option<S>,
) -> bool {
    let n = events.len();
    let mut seen: HashSet<(Vec<u64>, S)> = HashSet::new();
    // Each frame: linearized set, state, and the first candidate index still to try from it.
    let mut stack: Vec<(Vec<u64>, S, usize)> = vec![(vec![0; n.div_ceil(64)], initial, 0)];
    while let Some((mut done, state, from)) = stack.pop() {
        let is_done = |i: usize| done[i / 64] & (1 << (i % 64)) != 0;
        let remaining: Vec<usize> = (0..n).filter(|&i| !is_done(i)).collect();
        let Some(first_answer) = remaining.iter().map(|&i| events[i].answered()).min() else {
            return true;
        };
        // In invocation order, so once one was invoked after the earliest pending answer, so
        // were all the following ones.
        let candidates = remaining
            .into_iter()
            .take_while(|&i| events[i].invoked() <= first_answer);
        // A candidate that leaves the state as it is (a read, a refused cancel or submit) and
        // gets its answer from it goes next without branching: moved here from later in any
        // valid linearization, it keeps that linearization valid. This keeps the many reads and
        // refusals from multiplying the orders to search.
        if from == 0
            && let Some(i) = candidates
                .clone()
                .find(|&i| apply(&state, events[i]).is_some_and(|after| after == state))
        {
            done[i / 64] |= 1 << (i % 64);
            if seen.insert((done.clone(), state.clone())) {
                stack.push((done, state, 0));
            }
            continue;
        }
        if let Some((i, after)) = candidates
            .skip_while(|&i| i < from)
            .find_map(|i| apply(&state, events[i]).map(|after| (i, after)))
        {
            // Come back to this frame for the candidates after i.
            stack.push((done.clone(), state, i + 1));
            done[i / 64] |= 1 << (i % 64);
            if seen.insert((done.clone(), after.clone())) {
                stack.push((done, after, 0));
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// Builds events from (execution, op, outcome, invoked ms, answered ms), each execution of a
    /// job of its own.
    fn history(spec: &[(i64, Op, Outcome, u64, u64)]) -> Vec<Event> {
        let spec: Vec<_> = spec
            .iter()
            .map(|&(execution, op, outcome, inv, ans)| {
                (execution, Some(execution), op, outcome, inv, ans)
            })
            .collect();
        job_history(&spec)
    }

    /// (job, execution, op, outcome, invoked ms, answered ms)
    type Call = (i64, Option<i64>, Op, Outcome, u64, u64);

    fn job_history(spec: &[Call]) -> Vec<Event> {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        spec.iter()
            .map(|&(job, execution, op, outcome, inv, ans)| Event {
                job,
                execution,
                op,
                outcome,
                invoked: at(inv),
                answered: at(ans),
            })
            .collect()
    }

    const Q: Option<ExpectedStatus> = Some(ExpectedStatus::Queued);
    const R: Option<ExpectedStatus> = Some(ExpectedStatus::Running);
    use ExecutionStatus::{Queued, Running, Succeeded};
    use Outcome::{Cancelled, Changed, Conflict, Done, Refused, Saw};
    const STOPPED: State = State::Cancelled { stopped: true };
    const STOPPING: State = State::Cancelled { stopped: false };
    /// The worker that claims, and another one.
    const W: Worker = 0;
    const OTHER: Worker = 1;

    /// Two executions at once, each with concurrent calls whose answers only one order explains.
    fn valid_history() -> Vec<(i64, Op, Outcome, u64, u64)> {
        vec![
            (1, Op::Submit, Done, 0, 10),
            // The claim overlaps a cancel expecting QUEUED (refused: the claim came first), a read
            // that saw it still QUEUED (before the claim), and a cancel expecting RUNNING that
            // won (after the claim), which the worker's finish then found.
            (1, Op::Claim(W), Done, 20, 60),
            (1, Op::Cancel(Q), Refused(Running), 25, 70),
            (1, Op::Read, Saw(State::Queued), 30, 40),
            (1, Op::Cancel(R), Cancelled(STOPPING), 35, 80),
            (1, Op::Finish(Succeeded, W), Changed(false), 50, 90),
            (1, Op::Cancel(None), Cancelled(STOPPING), 85, 95),
            (1, Op::MarkStopped(W), Changed(true), 100, 110),
            (1, Op::Read, Saw(STOPPED), 105, 120),
            // The cancel without expectedStatus overlaps the claim but must come after it: a
            // cancel expecting QUEUED saw RUNNING before the cancel answered.
            (2, Op::Submit, Done, 30, 35),
            (2, Op::Cancel(None), Cancelled(STOPPING), 36, 50),
            (2, Op::Claim(W), Done, 37, 45),
            (2, Op::Cancel(Q), Refused(Running), 46, 47),
            (2, Op::Finish(Succeeded, W), Changed(false), 48, 60),
        ]
    }

    #[test]
    fn a_valid_concurrent_history_passes() {
        if let Err(v) = check(&history(&valid_history())) {
            panic!("{v}");
        }
    }

    #[test]
    fn a_finish_that_overwrote_a_cancel_is_caught() {
        let mut spec = valid_history();
        // The finish of execution 2, invoked after its cancel answered, changed it after all.
        spec[13] = (2, Op::Finish(Succeeded, W), Changed(true), 51, 60);
        let err = check(&history(&spec)).unwrap_err();
        assert_eq!(err.job, 2);
        assert_eq!(err.events.len(), 5, "{err}");
        // Overlapping the cancel it is still caught: had it come first, the cancel would have
        // been refused as SUCCEEDED instead of answering CANCELLED.
        spec[13] = (2, Op::Finish(Succeeded, W), Changed(true), 40, 60);
        assert_eq!(check(&history(&spec)).unwrap_err().job, 2);
    }

    #[test]
    fn a_cancel_expecting_queued_that_won_after_a_completed_claim_is_caught() {
        let h = history(&[
            (7, Op::Submit, Done, 0, 10),
            (7, Op::Claim(W), Done, 20, 30),
            // Invoked after the claim had answered, yet it cancelled a QUEUED execution.
            (7, Op::Cancel(Q), Cancelled(STOPPED), 40, 50),
        ]);
        let err = check(&h).unwrap_err();
        assert_eq!(err.job, 7);
        assert_eq!(err.events.len(), 3, "{err}");
        // Overlapping the claim, it could have come first, but then the claim could not have
        // returned the execution.
        let h = history(&[
            (7, Op::Submit, Done, 0, 10),
            (7, Op::Cancel(Q), Cancelled(STOPPED), 20, 50),
            (7, Op::Claim(W), Done, 25, 30),
        ]);
        assert_eq!(check(&h).unwrap_err().job, 7);
    }

    #[test]
    fn only_the_worker_holding_an_execution_finishes_or_stops_it() {
        // Another worker's finish and stop change nothing; the holder's do.
        let valid = history(&[
            (4, Op::Submit, Done, 0, 1),
            (4, Op::Claim(W), Done, 2, 3),
            (4, Op::Finish(Succeeded, OTHER), Changed(false), 4, 5),
            (4, Op::Read, Saw(State::Running), 6, 7),
            (4, Op::Cancel(None), Cancelled(STOPPING), 8, 9),
            (4, Op::MarkStopped(OTHER), Changed(false), 10, 11),
            (4, Op::Read, Saw(STOPPING), 12, 13),
            (4, Op::MarkStopped(W), Changed(true), 14, 15),
        ]);
        check(&valid).unwrap();
        // A finish by a worker that never claimed it, after the claim answered, changed it.
        let fenced_through = history(&[
            (4, Op::Submit, Done, 0, 1),
            (4, Op::Claim(W), Done, 2, 3),
            (4, Op::Finish(Succeeded, OTHER), Changed(true), 4, 5),
        ]);
        assert_eq!(check(&fenced_through).unwrap_err().job, 4);
        let stopped_by_another = history(&[
            (4, Op::Submit, Done, 0, 1),
            (4, Op::Claim(W), Done, 2, 3),
            (4, Op::Cancel(None), Cancelled(STOPPING), 4, 5),
            (4, Op::MarkStopped(OTHER), Changed(true), 6, 7),
        ]);
        assert_eq!(check(&stopped_by_another).unwrap_err().job, 4);
    }

    #[test]
    fn a_stale_read_is_caught() {
        let h = history(&[
            (3, Op::Submit, Done, 0, 10),
            (3, Op::Claim(W), Done, 20, 30),
            // Invoked after the claim answered, it still saw QUEUED.
            (3, Op::Read, Saw(State::Queued), 31, 40),
        ]);
        assert_eq!(check(&h).unwrap_err().job, 3);
        // Overlapping the claim, the same read is fine.
        let overlapping = history(&[
            (3, Op::Submit, Done, 0, 10),
            (3, Op::Claim(W), Done, 20, 30),
            (3, Op::Read, Saw(State::Queued), 29, 40),
        ]);
        check(&overlapping).unwrap();
    }

    #[test]
    fn a_cancel_refused_with_a_status_it_never_had_is_caught() {
        // QUEUED and never claimed: a refusal naming RUNNING is a lie.
        let h = history(&[
            (5, Op::Submit, Done, 0, 1),
            (5, Op::Cancel(R), Refused(Running), 2, 3),
        ]);
        assert!(check(&h).is_err());
        let h = history(&[
            (5, Op::Submit, Done, 0, 1),
            (5, Op::Cancel(R), Refused(Queued), 2, 3),
        ]);
        check(&h).unwrap();
    }

    #[test]
    fn the_search_handles_many_concurrent_reads() {
        // 100 overlapping reads around a claim: searched order by order, their interleavings
        // would never be exhausted; taken as soon as they fit, they cost nothing, both ways.
        let mut spec = vec![
            (9, Op::Submit, Done, 0, 1),
            (9, Op::Claim(W), Done, 10, 500),
        ];
        for i in 0..100 {
            let seen = if i % 2 == 0 {
                State::Queued
            } else {
                State::Running
            };
            spec.push((9, Op::Read, Saw(seen), 5 + i, 600));
        }
        check(&history(&spec)).unwrap();
        // One read invoked after the claim answered still sees QUEUED.
        spec.push((9, Op::Read, Saw(State::Queued), 501, 502));
        assert!(check(&history(&spec)).is_err());
    }

    #[test]
    fn submits_and_conflicts_follow_the_jobs_other_executions() {
        let valid = [
            (1, Some(10), Op::Submit, Done, 0, 10),
            // Refused while 10 is QUEUED; then 10 is cancelled while RUNNING.
            (1, None, Op::Submit, Conflict, 11, 12),
            (1, Some(10), Op::Claim(W), Done, 13, 14),
            (1, Some(10), Op::Cancel(None), Cancelled(STOPPING), 15, 16),
            // Refused while it stops; overlapping its stop, a submit may come just after it.
            (1, None, Op::Submit, Conflict, 17, 18),
            (1, Some(10), Op::MarkStopped(W), Changed(true), 19, 30),
            (1, None, Op::Submit, Conflict, 20, 25),
            (1, Some(11), Op::Submit, Done, 21, 31),
            // Another job is not held by this one's execution.
            (2, Some(12), Op::Submit, Done, 11, 12),
        ];
        if let Err(v) = check(&job_history(&valid)) {
            panic!("{v}");
        }
        // A second execution of the job while the first one has not stopped.
        let mut twice = valid.to_vec();
        twice[7] = (1, Some(11), Op::Submit, Done, 17, 18);
        assert_eq!(check(&job_history(&twice)).unwrap_err().job, 1);
        // A 409 called after the job's executions had all stopped: 11 was cancelled while QUEUED.
        let mut stale = valid.to_vec();
        stale.push((1, Some(11), Op::Cancel(None), Cancelled(STOPPED), 32, 33));
        check(&job_history(&stale)).unwrap();
        stale.push((1, None, Op::Submit, Conflict, 35, 36));
        assert_eq!(check(&job_history(&stale)).unwrap_err().job, 1);
    }
}
