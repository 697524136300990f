//! Failed logins per key (an address, or an address and a username), shared by every instance.
//! Each change is one statement that computes the new count and block from the row as it is when
//! the statement locks it, so concurrent failures on any instances are all counted.

use chrono::{DateTime, Utc};
use sqlx::{Executor, Postgres};

use crate::config::LoginThrottle;

const EXPIRED_PER_CALL: i64 = 1000;

/// The latest block among `keys` still in force: when it ends, and the whole seconds until then.
pub async fn blocked<'e>(
    db: impl Executor<'e, Database = Postgres>,
    keys: &[&str],
) -> Result<Option<(DateTime<Utc>, i64)>, sqlx::Error> {
    let row: (Option<DateTime<Utc>>, Option<i64>) = sqlx::query_as(
        "SELECT max(blocked_until), ceil(extract(epoch FROM max(blocked_until) - now()))::bigint
           FROM login_failures
          WHERE key = ANY($1) AND blocked_until > now()",
    )
    .bind(keys)
    .fetch_one(db)
    .await?;
    Ok(row.0.zip(row.1))
}

/// Counts a failure for `key`, allowed `max_failures` in a row: the count starts again from 1 once
/// the previous failures have expired; from the `max_failures`-th on, each failure blocks the key
/// for `first_block`, doubled for each failure after that, at most `max_block`. Answers the new
/// count and the block it started, if any.
pub async fn record_failure<'e>(
    db: impl Executor<'e, Database = Postgres>,
    key: &str,
    max_failures: u32,
    policy: &LoginThrottle,
) -> Result<(i32, Option<DateTime<Utc>>), sqlx::Error> {
    // `SET (...) = (SELECT ...)` computes the new count once, from the locked row `f`, and the
    // block from that count.
    sqlx::query_as(
        "INSERT INTO login_failures AS f (key, failures, blocked_until, expire_time)
         SELECT $1, 1, b.until, greatest(now(), b.until) + make_interval(secs => $5)
           FROM (SELECT CASE WHEN $2 <= 1 THEN now() + make_interval(secs => $3) END AS until) b
         ON CONFLICT (key) DO UPDATE SET (failures, blocked_until, expire_time) = (
             SELECT n.failures, b.until, greatest(now(), b.until) + make_interval(secs => $5)
               FROM (SELECT CASE WHEN f.expire_time > now() THEN f.failures + 1 ELSE 1 END
                            AS failures) n,
                    LATERAL (SELECT CASE WHEN n.failures >= $2 THEN now() + least(
                                 make_interval(secs => $3) * power(2, least(n.failures - $2, 30)),
                                 make_interval(secs => $4)) END AS until) b)
         RETURNING failures, blocked_until",
    )
    .bind(key)
    .bind(i32::try_from(max_failures).unwrap_or(i32::MAX))
    .bind(policy.first_block.as_secs_f64())
    .bind(policy.max_block.as_secs_f64())
    .bind(policy.forget_after.as_secs_f64())
    .fetch_one(db)
    .await
}

/// Forgets `key`'s failures.
pub async fn clear<'e>(
    db: impl Executor<'e, Database = Postgres>,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Housekeeping: deletes expired rows, at most `EXPIRED_PER_CALL` so that a login never does much
/// of it. Rows another login holds are skipped, so instances doing this at once neither wait for
/// nor deadlock with each other.
pub async fn delete_expired<'e>(
    db: impl Executor<'e, Database = Postgres>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM login_failures WHERE key IN (
             SELECT key FROM login_failures WHERE expire_time <= now()
              LIMIT $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind(EXPIRED_PER_CALL)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
