//! A randomized concurrent history of chunk claiming, checked for linearizability chunk by chunk
//! with the checker of `linearizability.rs`, and for what it must come to: no chunk done twice,
//! none lost.
//!
//! Workers on connections of their own run the store's statements (the ones real workers run):
//! claim the next chunk, report progress, finish it or give it back; now and then a worker
//! "dies" holding one (the test ages the chunk's heartbeat, as a dead instance's would age) and,
//! like a paused process coming back, sometimes goes on writing for it anyway, which must be
//! refused once another worker has claimed it again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use maskd::db::Db;
use maskd::store::chunks::{self, ChunkPlan};
use maskd::store::executions::{self, Submission};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::linearizability::{Timed, linearizable};
use crate::common::TestDatabase;

const CHUNKS: usize = 400;
const WORKERS: u8 = 6;
/// A holder silent this long has lost its chunk (the test ages heartbeats far past it).
const STALE_SECS: f64 = 30.0;

/// One call on one chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// This worker's claim that returned the chunk with this claim count.
    Claim(u8, i32),
    /// A holder's write, fenced on its claim: whether it applied.
    Progress(u8, i32, bool),
    Finish(u8, i32, bool),
    /// A holder gives it back (applies only to its own claim; answers nothing).
    Release(u8, i32),
    /// The holder's heartbeat lapses.
    Lapse,
}

#[derive(Debug, Clone)]
struct Event {
    chunk: i64,
    op: Op,
    invoked: Instant,
    answered: Instant,
}

impl Timed for Event {
    fn invoked(&self) -> Instant {
        self.invoked
    }
    fn answered(&self) -> Instant {
        self.answered
    }
}

/// A chunk in the sequential specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
struct Chunk {
    /// The worker holding it (once done, the one that finished it) and its claim.
    holder: Option<(u8, i32)>,
    claims: i32,
    done: bool,
    /// Its holder's heartbeat has lapsed.
    stale: bool,
}

/// The chunk after `event`, if the specification gives the event's recorded answer.
fn apply(c: &Chunk, event: &Event) -> Option<Chunk> {
    let mut c = *c;
    match event.op {
        Op::Claim(w, k) => {
            if c.done || !(c.holder.is_none() || c.stale) || k != c.claims + 1 {
                return None;
            }
            (c.holder, c.claims, c.stale) = (Some((w, k)), k, false);
        }
        Op::Progress(w, k, applied) => {
            if applied != (c.holder == Some((w, k))) {
                return None;
            }
            if applied {
                c.stale = false;
            }
        }
        Op::Finish(w, k, applied) => {
            if applied != (c.holder == Some((w, k)) && !c.done) {
                return None;
            }
            c.done |= applied;
        }
        Op::Release(w, k) => {
            if c.holder == Some((w, k)) {
                c.holder = None;
            }
        }
        Op::Lapse => c.stale = true,
    }
    Some(c)
}

/// Runs `call`, recording it with its instants as `op(answer)`.
async fn timed<T>(
    history: &mut Vec<Event>,
    chunk: i64,
    call: impl Future<Output = T>,
    op: impl FnOnce(&T) -> Op,
) -> T {
    let invoked = Instant::now();
    let answer = call.await;
    let answered = Instant::now();
    history.push(Event {
        chunk,
        op: op(&answer),
        invoked,
        answered,
    });
    answer
}

/// One worker: claims chunks until `stop` (or, `sweep`, until none is left), and does something
/// with each.
async fn worker(pool: Db, w: u8, seed: u64, stop: Arc<AtomicBool>, sweep: bool) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(seed);
    let name = format!("worker-{w}");
    let mut history = vec![];
    while sweep || !stop.load(Ordering::Relaxed) {
        let invoked = Instant::now();
        let Some(chunk) = chunks::claim(&pool, &name, STALE_SECS, None).await.unwrap() else {
            if sweep {
                return history;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let (id, k) = (chunk.chunk_id, chunk.claims);
        history.push(Event {
            chunk: id,
            op: Op::Claim(w, k),
            invoked,
            answered: Instant::now(),
        });
        let held = chunk.held_by(&name);
        for _ in 0..rng.gen_range(0..3) {
            timed(&mut history, id, chunks::progress(&pool, &held, 1), |a| {
                Op::Progress(w, k, *a.as_ref().unwrap())
            })
            .await
            .unwrap();
        }
        let lapses = !sweep && rng.gen_bool(0.15);
        if lapses {
            let aged = sqlx::query(
                "UPDATE execution_chunks SET heartbeat_time = now() - interval '1 hour' WHERE chunk_id = $1",
            )
            .bind(id);
            timed(&mut history, id, aged.execute(&pool), |_| Op::Lapse)
                .await
                .unwrap();
            if rng.gen_bool(0.5) {
                // Gone for good: its chunk waits for another worker.
                continue;
            }
            // Back from a pause, unaware: let the others claim it meanwhile.
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..20))).await;
        }
        if lapses || sweep || rng.gen_bool(0.8) {
            timed(&mut history, id, chunks::finish(&pool, &held), |a| {
                Op::Finish(w, k, *a.as_ref().unwrap())
            })
            .await
            .unwrap();
        }
        if rng.gen_bool(0.3) {
            timed(
                &mut history,
                id,
                chunks::release(&pool, &held, None),
                |_| Op::Release(w, k),
            )
            .await
            .unwrap();
        }
    }
    history
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_random_concurrent_history_of_chunk_claims_is_linearizable_and_does_each_chunk_once() {
    let db = TestDatabase::from_template().await;
    let pool = maskd::db::pool(&db.url(), 16, Duration::from_secs(15))
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO applications (application_name) VALUES ('app');
         INSERT INTO environments (environment_name, application_id) VALUES ('env', 1);
         INSERT INTO database_connectors (connector_name, environment_id, host, port, database_name, username)
              VALUES ('c', 1, '127.0.0.1', 5432, 'none', 'none');
         INSERT INTO database_rulesets (ruleset_name, database_connector_id) VALUES ('rs', 1);
         INSERT INTO masking_jobs (job_name, ruleset_id) VALUES ('j', 1);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let submission = Submission {
        job_id: 1,
        ..Default::default()
    };
    let id = executions::create(&pool, &submission)
        .await
        .unwrap()
        .unwrap()
        .execution_id;
    executions::claim(&pool, "owner").await.unwrap().unwrap();
    let plans = vec![
        ChunkPlan {
            key_after: None,
            key_last: None,
            committed_key: None,
            done: false,
        };
        CHUNKS
    ];
    assert!(
        chunks::plan(&pool, id, "owner", "t", None, &plans)
            .await
            .unwrap()
    );
    assert!(
        chunks::open(&pool, id, "owner", "t", "nobody")
            .await
            .unwrap()
    );

    let seed: u64 = rand::random();
    println!("seed {seed}");
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            tokio::spawn(worker(
                pool.clone(),
                w,
                seed ^ u64::from(w),
                stop.clone(),
                false,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut history = vec![];
    for w in workers {
        history.extend(w.await.unwrap());
    }
    // Lapse every chunk still held, and sweep up what is left: nothing may be lost.
    let held: Vec<i64> = sqlx::query_scalar(
        "SELECT chunk_id FROM execution_chunks WHERE worker_id IS NOT NULL AND NOT done",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for chunk in held {
        let aged = sqlx::query(
            "UPDATE execution_chunks SET heartbeat_time = now() - interval '1 hour' WHERE chunk_id = $1",
        )
        .bind(chunk);
        timed(&mut history, chunk, aged.execute(&pool), |_| Op::Lapse)
            .await
            .unwrap();
    }
    history.extend(worker(pool.clone(), WORKERS, seed, stop, true).await);

    let state = chunks::table_state(&pool, id, "t").await.unwrap();
    assert_eq!(
        (state.chunks, state.done),
        (CHUNKS as i64, CHUNKS as i64),
        "none lost"
    );
    let mut by_chunk: std::collections::BTreeMap<i64, Vec<&Event>> = Default::default();
    for e in &history {
        by_chunk.entry(e.chunk).or_default().push(e);
    }
    assert_eq!(by_chunk.len(), CHUNKS);
    let mut reclaimed = 0;
    for (chunk, mut events) in by_chunk {
        events.sort_by_key(|e| e.invoked);
        let finished = events
            .iter()
            .filter(|e| matches!(e.op, Op::Finish(_, _, true)))
            .count();
        assert_eq!(finished, 1, "chunk {chunk} done once: {events:#?}");
        if events
            .iter()
            .filter(|e| matches!(e.op, Op::Claim(..)))
            .count()
            > 1
        {
            reclaimed += 1;
        }
        assert!(
            linearizable(&events, Chunk::default(), apply),
            "chunk {chunk}: no sequential order of these operations respects both their real-time order and the chunk's specification (seed {seed}): {events:#?}"
        );
    }
    println!(
        "{} operations, {reclaimed} chunks claimed more than once",
        history.len()
    );
    assert!(
        reclaimed > 0,
        "the history exercised claims of lapsed chunks"
    );
    let refused = history
        .iter()
        .filter(|e| matches!(e.op, Op::Progress(_, _, false) | Op::Finish(_, _, false)))
        .count();
    assert!(refused > 0, "the history exercised the fence");
}

#[test]
fn the_chunk_specification_catches_a_lost_chunk_written_to_and_a_fresh_one_claimed_twice() {
    let t0 = Instant::now();
    let event = |op, from: u64, to: u64| Event {
        chunk: 1,
        op,
        invoked: t0 + Duration::from_millis(from),
        answered: t0 + Duration::from_millis(to),
    };
    let check = |events: &[Event]| {
        let events: Vec<&Event> = events.iter().collect();
        linearizable(&events, Chunk::default(), apply)
    };
    let reclaimed = |old_holder_applied: bool| {
        [
            event(Op::Claim(0, 1), 0, 1),
            event(Op::Lapse, 2, 3),
            event(Op::Claim(1, 2), 4, 5),
            event(Op::Progress(0, 1, old_holder_applied), 6, 7),
            event(Op::Finish(1, 2, true), 8, 9),
        ]
    };
    assert!(check(&reclaimed(false)));
    assert!(!check(&reclaimed(true)), "the old holder's write applied");
    assert!(
        !check(&[event(Op::Claim(0, 1), 0, 1), event(Op::Claim(1, 2), 2, 3)]),
        "a held chunk whose holder is alive was claimed again"
    );
    // Overlapping in time, the lapse may have come first.
    assert!(check(&[
        event(Op::Claim(0, 1), 0, 1),
        event(Op::Claim(1, 2), 2, 6),
        event(Op::Lapse, 3, 5),
    ]));
}
