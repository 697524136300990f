//! The execution state machine. Every transition is one conditional statement, so it happens at
//! most once whichever instance attempts it, and the rows it implies (components, the
//! notification) change in the same statement:
//!
//! ```text
//!             claim by W                             finish by W
//!   QUEUED ──────────────▶ RUNNING (worker W) ─────────────────────▶ SUCCEEDED | WARNING | FAILED
//!     │                        │                                      endTime set, components ended
//!     │ cancel                 │ cancel (notifies W)
//!     ▼                        ▼                     mark_stopped by W
//!   CANCELLED              CANCELLED ───────────────────────────────▶ CANCELLED, endTime set,
//!   endTime set at once    endTime null, W stopping                   components ended
//!
//!   take_over_orphan by T: a RUNNING, or CANCELLED and not stopped, execution whose worker W has
//!   not heartbeaten for `stale` becomes T's (worker := T); its status does not change. T restores
//!   its SQL objects, then finishes it FAILED (RUNNING) or marks it stopped (CANCELLED).
//! ```
//!
//! The fence: `progress`, `heartbeat`, `finish` and `mark_stopped` (and recording a SQL object,
//! in `sql_objects`) apply only while the execution is still the calling worker's. A worker that
//! was taken over (it stalled, or lost maskd's database for longer than the takeover delay) and
//! comes back finds every write refused: it cannot finish, stop or disable anything under the
//! worker that took over.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::Resource;
use super::jobs::IN_PLACE_CUSTOM_SQL;
use crate::db::Db;
use crate::types::{ExecutionStatus, ExpectedStatus};
use crate::types::{schema, serde_helpers};

/// Notified (on commit) with the execution id when an execution is submitted.
pub const SUBMITTED_CHANNEL: &str = "maskd_execution_submitted";
/// Notified (on commit) with the execution id when a cancel stopped a RUNNING execution.
pub const CANCELLED_CHANNEL: &str = "maskd_execution_cancelled";

/// An execution, with the seed's fields.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub execution_id: i64,
    pub job_id: i64,
    #[schema(schema_with = schema::connector_type)]
    pub connector_type: Option<String>,
    pub source_connector_id: Option<i64>,
    pub target_connector_id: Option<i64>,
    pub status: ExecutionStatus,
    pub rows_masked: i64,
    /// -1 while the rows are being counted.
    pub rows_total: Option<i64>,
    pub bytes_processed: Option<i64>,
    pub bytes_total: Option<i64>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub start_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serde_helpers::opt_time")]
    pub end_time: Option<DateTime<Utc>>,
    #[serde(serialize_with = "serde_helpers::time")]
    pub submit_time: DateTime<Utc>,
    /// When a cancel changed it (not part of the API; measures how long the stop took).
    #[serde(skip)]
    pub cancel_time: Option<DateTime<Utc>>,
    /// Whether its cancel asked for the SQL objects to be restored first (not part of the API).
    #[serde(skip)]
    pub cancel_graceful: Option<bool>,
    /// The worker (instance) holding it: the one that claimed it, or took it over (not part of the
    /// API).
    #[serde(skip)]
    pub worker_id: Option<String>,
    /// Submitted with `startOver` (a maskd extension): an in-place run does not continue after
    /// what the job's last FAILED or CANCELLED execution committed.
    #[serde(skip)]
    pub start_over: bool,
}

impl Resource for Execution {
    const NOUN: &'static str = "execution";
    const TABLE: &'static str = "executions";
    const ID: &'static str = "execution_id";
    const COLUMNS: &'static str = COLUMNS;
}

const COLUMNS: &str = "execution_id, job_id, connector_type, source_connector_id, target_connector_id, status, \
     rows_masked, rows_total, bytes_processed, bytes_total, start_time, end_time, submit_time, cancel_time, \
     cancel_graceful, worker_id, start_over";

/// The connector fields of a new execution (multi-tenant jobs only).
#[derive(Debug, Default, Clone)]
pub struct Submission {
    pub job_id: i64,
    pub target_connector_id: Option<i64>,
    pub source_connector_id: Option<i64>,
    pub connector_type: Option<String>,
    pub start_over: bool,
}

/// Creates a QUEUED execution, if the job (masking or profile) exists and the connector fields suit
/// it (a multi-tenant job needs a target connector; source fields only for multi-tenant on-the-fly
/// masking jobs, which need a source: their own or the submission's), and
/// notifies the workers. None when nothing was inserted; a second active execution of the same
/// job is refused by the unique index `executions_one_active_per_job`.
pub async fn create(
    db: impl PgExecutor<'_>,
    s: &Submission,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!(
        "WITH created AS (
             INSERT INTO executions (job_id, connector_type, source_connector_id, target_connector_id, start_over)
             SELECT j.job_id, $2, $3, $4, $5 FROM jobs j
               LEFT JOIN masking_jobs m ON m.masking_job_id = j.job_id
               LEFT JOIN profile_jobs p ON p.profile_job_id = j.job_id
              WHERE j.job_id = $1
                AND COALESCE(m.multi_tenant, p.multi_tenant) = ($4::bigint IS NOT NULL)
                AND (($2::text IS NULL AND $3::bigint IS NULL) OR (m.multi_tenant AND m.on_the_fly_masking))
                AND (NOT COALESCE(m.multi_tenant AND m.on_the_fly_masking, false)
                     OR COALESCE($3, m.on_the_fly_source_connector_id) IS NOT NULL)
                AND NOT EXISTS (SELECT 1 FROM table_metadata t
                                 WHERE t.ruleset_id = m.ruleset_id AND {IN_PLACE_CUSTOM_SQL})
             RETURNING {COLUMNS})
         SELECT created.* FROM created, LATERAL (SELECT pg_notify('{SUBMITTED_CHANNEL}', created.execution_id::text)) n"
    );
    sqlx::query_as(&sql)
        .bind(s.job_id)
        .bind(&s.connector_type)
        .bind(s.source_connector_id)
        .bind(s.target_connector_id)
        .bind(s.start_over)
        .fetch_optional(db)
        .await
}

/// The execution of a job that has not stopped yet (at most one exists).
pub async fn active_of_job(
    db: impl PgExecutor<'_>,
    job_id: i64,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE job_id = $1 AND end_time IS NULL");
    sqlx::query_as(&sql).bind(job_id).fetch_optional(db).await
}

/// QUEUED -> RUNNING for the oldest queued execution that no other worker is claiming.
pub async fn claim(
    db: impl PgExecutor<'_>,
    worker_id: &str,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!(
        "UPDATE executions
            SET status = 'RUNNING', start_time = now(), rows_total = -1, rows_masked = 0,
                worker_id = $1, heartbeat_time = now()
          WHERE execution_id = (SELECT execution_id FROM executions WHERE status = 'QUEUED'
                                 ORDER BY execution_id LIMIT 1 FOR UPDATE SKIP LOCKED)
            AND status = 'QUEUED'
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(worker_id)
        .fetch_optional(db)
        .await
}

/// Records progress of a RUNNING execution run by `worker_id` (and its heartbeat): `rows_masked`
/// by the worker itself, plus what the workers of its chunks report. False when it
/// is no longer RUNNING or no longer this worker's: the worker must stop.
pub async fn progress(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    worker_id: &str,
    rows_masked: i64,
    rows_total: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE executions
            SET rows_masked = $3 + (SELECT coalesce(sum(rows_done), 0) FROM execution_chunks
                                     WHERE execution_id = $1),
                rows_total = $4, heartbeat_time = now()
          WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'",
    )
    .bind(execution_id)
    .bind(worker_id)
    .bind(rows_masked)
    .bind(rows_total)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Heartbeats the executions of `ids` that are still `worker_id`'s and not stopped; returns them
/// with their status, so a worker also learns here of a cancel whose notification it missed. Only
/// the ids a worker is actually busy with: one whose end it could not record must go silent, to be
/// taken over.
pub async fn heartbeat(
    db: impl PgExecutor<'_>,
    worker_id: &str,
    ids: &[i64],
) -> Result<Vec<(i64, ExecutionStatus)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE executions SET heartbeat_time = now()
          WHERE worker_id = $1 AND execution_id = ANY($2)
            AND end_time IS NULL AND status IN ('RUNNING', 'CANCELLED')
         RETURNING execution_id, status",
    )
    .bind(worker_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Takes over one execution whose worker stopped heartbeating more than `stale_secs` ago (RUNNING,
/// or CANCELLED and not stopped): it becomes `worker_id`'s, to clean up and end.
pub async fn take_over_orphan(
    db: impl PgExecutor<'_>,
    worker_id: &str,
    stale_secs: f64,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!(
        "UPDATE executions SET worker_id = $1, heartbeat_time = now()
          WHERE execution_id = (
                SELECT execution_id FROM executions
                 WHERE end_time IS NULL AND status IN ('RUNNING', 'CANCELLED')
                   AND heartbeat_time < now() - make_interval(secs => $2)
                 ORDER BY execution_id LIMIT 1 FOR UPDATE SKIP LOCKED)
            AND end_time IS NULL AND heartbeat_time < now() - make_interval(secs => $2)
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(worker_id)
        .bind(stale_secs)
        .fetch_optional(db)
        .await
}

/// The current state of one execution.
pub async fn get(
    db: impl PgExecutor<'_>,
    execution_id: i64,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM executions WHERE execution_id = $1");
    sqlx::query_as(&sql)
        .bind(execution_id)
        .fetch_optional(db)
        .await
}

/// When an execution ends, its `rowsMasked` becomes the rows its commits recorded (an in-place
/// run's, table by table and chunk by chunk), which a cancel's rolled-back batch is not part of;
/// an execution without such records keeps the count its run wrote.
const COMMITTED_ROWS: &str = "rows_masked = coalesce(
         (SELECT sum(rows_committed) FROM (
              SELECT rows_committed FROM execution_table_commits WHERE execution_id = $1
              UNION ALL SELECT rows_committed FROM execution_chunks WHERE execution_id = $1) c),
         rows_masked)";

/// RUNNING -> SUCCEEDED | WARNING | FAILED, by the worker it is running on; its components end in
/// the same statement (a RUNNING one takes `outcome`, a QUEUED one, never started, CANCELLED).
/// None when it was not RUNNING (a cancel won: a late finish never overwrites a cancel) or is no
/// longer `worker_id`'s (it was taken over).
pub async fn finish(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    worker_id: &str,
    outcome: ExecutionStatus,
) -> Result<Option<Execution>, sqlx::Error> {
    assert!(
        outcome.is_finished(),
        "finish takes SUCCEEDED, WARNING or FAILED, not {outcome}"
    );
    let sql = format!(
        "WITH finished AS (
             UPDATE executions SET status = $3, end_time = now(), {COMMITTED_ROWS}
              WHERE execution_id = $1 AND worker_id = $2 AND status = 'RUNNING'
             RETURNING {COLUMNS}
         ), components AS (
             UPDATE execution_components c
                SET status = CASE WHEN c.status = 'QUEUED' THEN 'CANCELLED' ELSE $3 END,
                    end_time = f.end_time
               FROM finished f
              WHERE c.execution_id = f.execution_id AND c.end_time IS NULL
         )
         SELECT * FROM finished"
    );
    sqlx::query_as(&sql)
        .bind(execution_id)
        .bind(worker_id)
        .bind(outcome)
        .fetch_optional(db)
        .await
}

/// Sets `endTime` of a CANCELLED execution whose worker, `worker_id`, has stopped; its components
/// end CANCELLED in the same statement. None when there was nothing to do (not cancelled, already
/// stopped, or no longer this worker's).
pub async fn mark_stopped(
    db: impl PgExecutor<'_>,
    execution_id: i64,
    worker_id: &str,
) -> Result<Option<Execution>, sqlx::Error> {
    let sql = format!(
        "WITH stopped AS (
             UPDATE executions SET end_time = now(), {COMMITTED_ROWS}
              WHERE execution_id = $1 AND worker_id = $2 AND status = 'CANCELLED' AND end_time IS NULL
             RETURNING {COLUMNS}
         ), components AS (
             UPDATE execution_components c SET status = 'CANCELLED', end_time = s.end_time
               FROM stopped s
              WHERE c.execution_id = s.execution_id AND c.end_time IS NULL
         )
         SELECT * FROM stopped"
    );
    sqlx::query_as(&sql)
        .bind(execution_id)
        .bind(worker_id)
        .fetch_optional(db)
        .await
}

/// How many executions there are in each status (statuses without any are left out).
pub async fn count_by_status(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(ExecutionStatus, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT status, count(*) FROM executions GROUP BY status")
        .fetch_all(db)
        .await
}

/// What a cancel found and did.
#[derive(Debug, Clone, FromRow)]
pub struct CancelOutcome {
    /// The execution as it stands after the cancel.
    #[sqlx(flatten)]
    pub execution: Execution,
    /// Its status when the cancel decided: from the row as the cancel locked it, or, when it
    /// changed nothing, as read just after.
    #[sqlx(rename = "previous_status")]
    pub previous: ExecutionStatus,
    /// Whether this cancel cancelled it.
    pub changed: bool,
}

/// The cancel's change, given where the status it found is read: a QUEUED execution gets its
/// endTime at once, a RUNNING one when its worker has stopped.
fn cancel_set(found: &str) -> String {
    format!(
        "SET status = 'CANCELLED',
             end_time = CASE WHEN {found} = 'QUEUED' THEN now() END,
             cancel_graceful = $3,
             cancel_time = now()"
    )
}

/// The cancel's guard ([`ExecutionStatus::cancel_applies`] in SQL): QUEUED or RUNNING, and
/// `expectedStatus` ($2) when given.
fn cancel_guard(found: &str) -> String {
    format!("{found} IN ('QUEUED', 'RUNNING') AND ($2::text IS NULL OR {found} = $2)")
}

/// The cancelled row as the answer, notifying the instance running it if it was RUNNING.
fn answer_cancelled() -> String {
    format!(
        "SELECT cancelled.*, true AS changed
           FROM cancelled
           LEFT JOIN LATERAL (SELECT pg_notify('{CANCELLED_CHANNEL}', cancelled.execution_id::text)
                               WHERE cancelled.previous_status = 'RUNNING') n ON true"
    )
}

/// The cancel: one conditional UPDATE, which locks the row and evaluates its guard and its SET on
/// the row as locked (the latest committed version, waited for if another transaction holds it).
/// A cancelled QUEUED execution gets its endTime at once, a RUNNING one when its worker has
/// stopped, so the endTime the SET wrote tells which status it found. The notification reaches
/// the instance running the execution (delivered on commit); a QUEUED one, which no instance runs,
/// goes without, since a notification serializes commits.
static CANCEL_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH cancelled AS (
             UPDATE executions
                {set}
              WHERE execution_id = $1 AND {guard}
             RETURNING {COLUMNS},
                       CASE WHEN end_time IS NULL THEN 'RUNNING' ELSE 'QUEUED' END AS previous_status
         )
         {answer}",
        set = cancel_set("status"),
        guard = cancel_guard("status"),
        answer = answer_cancelled(),
    )
});

/// The same cancel in River's `JobCancel` shape: lock the row first, change it only if its status
/// allows, and answer the row whether or not it changed, in one statement. Locking writes the row
/// a second time, so it serves only the race in [`cancel`] that a plain read cannot settle.
static CANCEL_LOCKED_SQL: LazyLock<String> = LazyLock::new(|| {
    let updated: Vec<String> = COLUMNS.split(", ").map(|c| format!("e.{c}")).collect();
    format!(
        "WITH old AS (
             SELECT {COLUMNS} FROM executions WHERE execution_id = $1 FOR UPDATE
         ), cancelled AS (
             UPDATE executions e
                {set}
               FROM old
              WHERE e.execution_id = old.execution_id AND {guard}
             RETURNING {updated}, old.status AS previous_status
         )
         {answer}
         UNION ALL
         SELECT old.*, old.status AS previous_status, false AS changed
           FROM old WHERE NOT EXISTS (SELECT 1 FROM cancelled)",
        set = cancel_set("old.status"),
        guard = cancel_guard("old.status"),
        updated = updated.join(", "),
        answer = answer_cancelled(),
    )
});

/// Cancels a QUEUED or RUNNING execution, only if its status is `expected` when given. The answer
/// says which status the cancel found and whether it changed it; None when no such execution
/// exists. Every change is made by one conditional statement; a refusal, which changes nothing,
/// is answered from a read and writes nothing (a retried cancel of a CANCELLED execution is
/// common, and locking its row would write it).
pub async fn cancel(
    db: &Db,
    execution_id: i64,
    expected: Option<ExpectedStatus>,
    graceful: bool,
) -> Result<Option<CancelOutcome>, sqlx::Error> {
    let attempt = |sql: &'static str| {
        sqlx::query_as::<_, CancelOutcome>(sql)
            .bind(execution_id)
            .bind(expected.map(|e| e.status()))
            .bind(graceful)
            .fetch_optional(db)
    };
    if let Some(cancelled) = attempt(&CANCEL_SQL).await? {
        return Ok(Some(cancelled));
    }
    // The UPDATE found the execution in a status it does not apply to (or found none). Statuses
    // only move forward, so a read shows that status or a later one, which answers the refusal:
    // the execution had it when the read ran.
    let Some(now) = get(db, execution_id).await? else {
        return Ok(None);
    };
    if !now.status.cancel_applies(expected) {
        return Ok(Some(CancelOutcome {
            previous: now.status,
            execution: now,
            changed: false,
        }));
    }
    // Only a claim between the two (QUEUED then, RUNNING now, expectedStatus=RUNNING), or an
    // execution committed since the UPDATE, gets here: decide under the row's lock.
    attempt(&CANCEL_LOCKED_SQL).await
}
