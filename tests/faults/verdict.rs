//! What must hold after a fault, checked against the load's record, maskd's database, the target's
//! catalog, and the audit of every row a masking run updated.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::json;

use super::fleet::{ACQUIRE_TIMEOUT_SECS, Answer, STATEMENT_TIMEOUT_SECS, tail};
use super::load::{Call, Op};
use super::scenarios::Stage;

/// The longest any request may take: a wait for a pool connection, then two statements (the
/// token check and the handler's) each cut by the statement timeout, and a margin for a busy
/// machine.
const LONGEST_ANSWER: Duration =
    Duration::from_secs(ACQUIRE_TIMEOUT_SECS + 2 * STATEMENT_TIMEOUT_SECS + 3);

/// A request of the pool-exhaustion burst: how long it took and its answer.
pub struct Timed {
    pub took: Duration,
    pub answer: Answer,
}

/// Waits until some execution is RUNNING (on the instance with process id `pid`, if given); how
/// many are.
pub async fn wait_for_running(stage: &Stage, pid: Option<u32>) -> i64 {
    let workers = match pid {
        Some(pid) => format!("maskd-{pid}-%"),
        None => "%".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let running: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM executions WHERE status = 'RUNNING' AND worker_id LIKE $1",
        )
        .bind(&workers)
        .fetch_one(&stage.maskd_db)
        .await
        .unwrap();
        if running > 0 {
            return running;
        }
        assert!(
            Instant::now() < deadline,
            "no execution ran ({workers}) within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every execution has its `endTime`; how long that took. Fails naming those that
/// are stuck.
pub async fn wait_until_all_ended(stage: &Stage, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let unended: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT execution_id, status, worker_id FROM executions WHERE end_time IS NULL ORDER BY 1",
        )
        .fetch_all(&stage.maskd_db)
        .await
        .unwrap();
        if unended.is_empty() {
            return start.elapsed();
        }
        if start.elapsed() > within {
            panic!(
                "stuck: executions without endTime {within:?} after the load stopped: {unended:?}\n{}",
                logs(stage)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After the fault: one execution per job, submitted through the live instances in turn, must
/// all succeed, until each live instance's workers have run at least one. Says what was run.
pub async fn runs_on_every_instance(stage: &Stage) -> String {
    let live: Vec<_> = stage.fleet.iter().filter(|i| i.is_alive()).collect();
    let mut ran_on = HashSet::new();
    let mut runs = 0;
    for _round in 0..5 {
        let mut ids = vec![];
        for (n, job) in stage.jobs.iter().enumerate() {
            let url = &live[n % live.len()].url;
            let answer = stage
                .api
                .call(
                    url,
                    Method::POST,
                    "/executions",
                    Some(json!({"jobId": job})),
                )
                .await;
            match answer {
                Ok((201, body)) => ids.push(body["executionId"].as_i64().unwrap()),
                other => panic!("after the fault, a submit through {url} answered {other:?}"),
            }
        }
        wait_until_all_ended(stage, Duration::from_secs(120)).await;
        let ended: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT execution_id, status, worker_id FROM executions WHERE execution_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&stage.maskd_db)
        .await
        .unwrap();
        for (id, status, worker) in ended {
            assert_eq!(
                status,
                "SUCCEEDED",
                "after the fault, execution {id} ended {status}\n{}",
                logs(stage)
            );
            ran_on.insert(worker_pid(&worker));
        }
        runs += ids.len();
        if live.iter().all(|i| ran_on.contains(&i.pid())) {
            return format!(
                "{runs} executions submitted through the {} live instances all SUCCEEDED, run by workers of each",
                live.len()
            );
        }
    }
    panic!(
        "after {runs} executions, some live instance ran none: ran on {ran_on:?}, live {:?}",
        live.iter().map(|i| i.pid()).collect::<Vec<_>>()
    );
}

/// The process id in a worker id (`maskd-<pid>-<random>`).
fn worker_pid(worker: &str) -> u32 {
    worker
        .split('-')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("worker id '{worker}'"))
}

#[derive(sqlx::FromRow)]
struct Execution {
    execution_id: i64,
    job_id: i64,
    status: String,
    started: bool,
    cancel_time: Option<DateTime<Utc>>,
    end_time: Option<DateTime<Utc>>,
}

/// What one masking run did to one table, from the audit trigger.
#[derive(sqlx::FromRow)]
struct AuditedRun {
    /// The run's `application_name`: `maskd execution <id>`.
    run: String,
    table_name: String,
    updates: i64,
    rows: i64,
    last_commit: Option<DateTime<Utc>>,
}

/// Across runs, every row once: a job's runs from one complete pass over its table to the next (a
/// run after a FAILED or CANCELLED one goes on where that one stopped, chunk by chunk) update each
/// row at most once, and a pass that ended SUCCEEDED or WARNING updated every row. Runs that never
/// recorded their plan changed nothing and are not part of a pass. Checked on the audited tables;
/// the count of complete passes.
async fn every_row_once_across_runs(stage: &Stage, problems: &mut Vec<String>) -> usize {
    let runs: Vec<(i64, i64, String, bool)> = sqlx::query_as(
        "SELECT execution_id, job_id, status, start_over FROM executions
          WHERE plan_recorded ORDER BY execution_id",
    )
    .fetch_all(&stage.maskd_db)
    .await
    .unwrap();
    let audited: Vec<(String, i32)> = sqlx::query_as("SELECT execution, row_id FROM crm.audit")
        .fetch_all(&stage.target_db)
        .await
        .unwrap();
    let mut rows_of: HashMap<i64, Vec<i32>> = HashMap::new();
    for (run, row) in audited {
        if let Some(id) = run
            .strip_prefix("maskd execution ")
            .and_then(|id| id.parse().ok())
        {
            rows_of.entry(id).or_default().push(row);
        }
    }
    let mut complete = 0;
    for (i, job) in stage.jobs.iter().enumerate() {
        if !super::scenarios::audited(i) {
            continue;
        }
        let mut pass: HashSet<i32> = HashSet::new();
        let mut goes_on = false;
        for (id, _, status, start_over) in runs.iter().filter(|r| r.1 == *job) {
            if !goes_on || *start_over {
                pass.clear();
            }
            for row in rows_of.get(id).into_iter().flatten() {
                if !pass.insert(*row) {
                    problems.push(format!(
                        "row {row} of t{i} masked a second time by execution {id}, in a re-run after a FAILED or CANCELLED one"
                    ));
                }
            }
            if ["SUCCEEDED", "WARNING"].contains(&status.as_str()) {
                if pass.len() as i64 != super::scenarios::ROWS {
                    problems.push(format!(
                        "execution {id} ended {status}, but the runs of its pass masked {} of the {} rows of t{i}",
                        pass.len(),
                        super::scenarios::ROWS
                    ));
                }
                complete += 1;
            }
            goes_on = ["FAILED", "CANCELLED"].contains(&status.as_str());
        }
    }
    complete
}

/// Checks every guarantee; a summary of what the scenario did, or a panic listing what broke.
pub async fn check(stage: &Stage, calls: &[Call], burst: Option<&[Timed]>) -> String {
    let mut problems: Vec<String> = vec![];
    let executions: HashMap<i64, Execution> = sqlx::query_as::<_, Execution>(
        "SELECT execution_id, job_id, status, start_time IS NOT NULL AS started, cancel_time, end_time FROM executions",
    )
    .fetch_all(&stage.maskd_db)
    .await
    .unwrap()
    .into_iter()
    .map(|e| (e.execution_id, e))
    .collect();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();

    // Every call to a live instance was answered, in time, with a status its operation allows; a
    // 503 says why.
    let mut longest = Duration::ZERO;
    for c in calls {
        let alive = stage.fleet[c.instance].is_alive();
        let (status, body) = match &c.answer {
            Ok(a) => a,
            Err(e) => {
                if alive {
                    problems.push(format!("{:?} at {:?}: no answer: {e}", c.op, c.at));
                }
                continue;
            }
        };
        longest = longest.max(c.took);
        if c.took > LONGEST_ANSWER {
            problems.push(format!(
                "{:?} at {:?} took {:?} (answered {status})",
                c.op, c.at, c.took
            ));
        }
        let (name, allowed): (&str, &[u16]) = match c.op {
            Op::Submit { .. } => ("submit", &[201, 409, 503]),
            Op::Cancel { .. } => ("cancel", &[200, 400, 503]),
            Op::Read { .. } => ("read", &[200, 503]),
        };
        *tally.entry(format!("{name} {status}")).or_default() += 1;
        if !allowed.contains(status) {
            problems.push(format!("{:?} at {:?} answered {status} {body}", c.op, c.at));
        }
        if *status == 503 && body["errorMessage"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{:?}: a 503 without errorMessage: {body}", c.op));
        }
    }

    // No execution lost: every one a submit answered 201 for exists, for its job, and has ended.
    for c in calls {
        if let (Op::Submit { job }, Ok((201, body))) = (&c.op, &c.answer) {
            let id = body["executionId"].as_i64().unwrap();
            match executions.get(&id) {
                Some(e) if e.job_id == *job => {}
                Some(e) => problems.push(format!(
                    "execution {id} of job {job} is now of job {}",
                    e.job_id
                )),
                None => problems.push(format!("execution {id} (submitted at {:?}) is lost", c.at)),
            }
        }
    }
    for e in executions.values() {
        *tally.entry(format!("ended {}", e.status)).or_default() += 1;
        if e.end_time.is_none() {
            problems.push(format!(
                "execution {} is stuck {}",
                e.execution_id, e.status
            ));
        }
    }

    // Every cancel answered 200 was honoured: the execution ended CANCELLED. One expecting QUEUED
    // either cancelled it QUEUED (its answer has no startTime), and it never ran, or found it
    // cancelled already (a cancel is idempotent) by another cancel that may stop a RUNNING one,
    // called before this one answered.
    for c in calls {
        let (
            Op::Cancel {
                execution,
                expected,
                ..
            },
            Ok((200, body)),
        ) = (&c.op, &c.answer)
        else {
            continue;
        };
        let e = &executions[execution];
        if body["status"] != "CANCELLED" || e.status != "CANCELLED" {
            problems.push(format!(
                "a cancel of {execution} (expected {expected:?}) answered 200 {} at {:?}, but it ended {}",
                body["status"], c.at, e.status
            ));
        }
        if *expected == Some("QUEUED") {
            let answered = c.wall + c.took;
            let ran = if body["startTime"].is_null() {
                e.started
            } else {
                let by_another = calls.iter().any(|other| {
                    matches!(other.op, Op::Cancel { execution: x, expected: None | Some("RUNNING"), .. } if x == *execution)
                        && other.wall <= answered
                        && matches!(other.answer, Ok((200, _)) | Err(_))
                });
                !by_another || e.cancel_time.is_none_or(|t| t > answered)
            };
            if ran {
                problems.push(format!(
                    "a cancel of {execution} expecting QUEUED answered 200 {body} at {:?}, but it ran (cancelled at {:?})",
                    c.at, e.cancel_time
                ));
            }
        }
    }

    // None run twice, nor after its end: the audit of every masked row.
    let audit: Vec<AuditedRun> = sqlx::query_as(
        "SELECT execution AS run, table_name, count(*) AS updates, count(DISTINCT row_id) AS rows,
                max(pg_xact_commit_timestamp(xmin)) AS last_commit
           FROM crm.audit GROUP BY 1, 2",
    )
    .fetch_all(&stage.target_db)
    .await
    .unwrap();
    for AuditedRun {
        run,
        table_name: table,
        updates,
        rows,
        last_commit,
    } in &audit
    {
        let Some(e) = run
            .strip_prefix("maskd execution ")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| executions.get(&id))
        else {
            problems.push(format!(
                "{table} was updated by '{run}', not a known execution"
            ));
            continue;
        };
        if updates != rows {
            problems.push(format!("{run} updated {updates} rows of {table} but only {rows} distinct ones: masked twice"));
        }
        let job = stage.jobs.iter().position(|j| *j == e.job_id);
        if job.map(|i| format!("t{i}")).as_deref() != Some(table) {
            problems.push(format!("{run} of job {} masked {table}", e.job_id));
        }
        if !e.started {
            problems.push(format!(
                "{run} never started but masked {rows} rows of {table}"
            ));
        }
        if *last_commit > e.end_time {
            problems.push(format!(
                "{run} committed masking of {table} at {last_commit:?}, after its endTime {:?}",
                e.end_time
            ));
        }
    }
    tally.insert("audited runs".into(), audit.len());
    let (chunks, claimed_again): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE claims > 1) FROM execution_chunks")
            .fetch_one(&stage.maskd_db)
            .await
            .unwrap();
    tally.insert("chunks".into(), chunks as usize);
    tally.insert("chunks claimed again".into(), claimed_again as usize);
    // On the fly: the source is untouched, and the target, after the runs that followed the
    // fault (the last of which SUCCEEDED), holds every source row once, masked.
    if super::scenarios::source_fingerprint(&stage.source_db).await != stage.source_before {
        problems.push("the on-the-fly job's source table changed".into());
    }
    let i = super::scenarios::ON_THE_FLY_JOB;
    let (rows, ids, unmasked): (i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*), count(DISTINCT id) FILTER (WHERE id BETWEEN 1 AND {}),
                count(*) FILTER (WHERE name = 'Name' || id OR email = 'user' || id || '@example.com')
           FROM crm.t{i}",
        super::scenarios::ROWS
    ))
    .fetch_one(&stage.target_db)
    .await
    .unwrap();
    if (rows, ids, unmasked) != (super::scenarios::ROWS, super::scenarios::ROWS, 0) {
        problems.push(format!(
            "after a SUCCEEDED on-the-fly run, t{i} holds {rows} rows, {ids} distinct source ids, {unmasked} unmasked"
        ));
    }
    tally.insert(
        "complete passes".into(),
        every_row_once_across_runs(stage, &mut problems).await,
    );
    let aborted: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT execution_id) FROM execution_events WHERE event_type = 'JOB_ABORTED'",
    )
    .fetch_one(&stage.maskd_db)
    .await
    .unwrap();
    tally.insert("JOB_ABORTED".into(), aborted as usize);

    // Every SQL object a run disabled or dropped was restored, or is named in an event of that
    // execution; and an object missing from the target is one that maskd says it left.
    let left: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT o.execution_id, o.object_name,
                EXISTS (SELECT 1 FROM execution_events v
                         WHERE v.execution_id = o.execution_id
                           AND v.event_type IN ('SQL_OBJECTS_LEFT_DISABLED', 'SQL_OBJECT_RESTORE_FAILED')
                           AND v.cause LIKE '%' || o.object_name || '%')
           FROM execution_sql_objects o WHERE o.state <> 'RESTORED'",
    )
    .fetch_all(&stage.maskd_db)
    .await
    .unwrap();
    for (id, object, reported) in &left {
        if !reported {
            problems.push(format!(
                "execution {id} left {object} unrestored and no event says so"
            ));
        }
    }
    tally.insert("objects left by a run, reported".into(), left.len());
    for i in 0..stage.jobs.len() {
        let (index, trigger) = (
            super::scenarios::index_of(i),
            super::scenarios::trigger_of(i),
        );
        let index_there: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = 'crm' AND indexname = $1)",
        )
        .bind(&index)
        .fetch_one(&stage.target_db)
        .await
        .unwrap();
        let trigger_state: String =
            sqlx::query_scalar("SELECT tgenabled::text FROM pg_trigger WHERE tgname = $1")
                .bind(&trigger)
                .fetch_one(&stage.target_db)
                .await
                .unwrap();
        let missing = [(index, !index_there), (trigger, trigger_state != "O")];
        for (object, _) in missing.iter().filter(|(_, gone)| *gone) {
            if !left.iter().any(|(_, o, _)| o == object) {
                problems.push(format!(
                    "{object} is missing or disabled, but maskd says it was restored"
                ));
            }
        }
    }

    if let Some(burst) = burst {
        check_burst(burst, &mut problems, &mut tally);
    }

    if !problems.is_empty() {
        panic!(
            "{} problem(s):\n{}\n{}",
            problems.len(),
            problems
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            logs(stage)
        );
    }
    let tally: Vec<String> = tally.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(
        "{} calls, longest answer {:.2} s; {}",
        calls.len(),
        longest.as_secs_f64(),
        tally.join(", ")
    )
}

/// Every request of the burst answered in time: 200, or 503 with an errorMessage; some 503.
fn check_burst(burst: &[Timed], problems: &mut Vec<String>, tally: &mut BTreeMap<String, usize>) {
    for t in burst {
        match &t.answer {
            Ok((status, body)) => {
                *tally.entry(format!("burst {status}")).or_default() += 1;
                if t.took > LONGEST_ANSWER {
                    problems.push(format!("a burst request took {:?}", t.took));
                }
                let explained = body["errorMessage"].as_str().is_some_and(|m| !m.is_empty());
                if !(*status == 200 || *status == 503 && explained) {
                    problems.push(format!("a burst request answered {status} {body}"));
                }
            }
            Err(e) => problems.push(format!("a burst request got no answer: {e}")),
        }
    }
    let longest = burst.iter().map(|t| t.took).max().unwrap_or_default();
    tally.insert("burst longest ms".into(), longest.as_millis() as usize);
    if !tally.contains_key("burst 503") {
        problems.push("no burst request was refused: the pool was never exhausted".into());
    }
}

/// Where the instance logs are, and the end of each.
fn logs(stage: &Stage) -> String {
    stage
        .fleet
        .iter()
        .map(|i| format!("--- {} (end):\n{}", i.log.display(), tail(&i.log, 15)))
        .collect::<Vec<_>>()
        .join("\n")
}
