//! maskd's own database: creating it when missing, migrations, and the connection pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::sql_error::{self, sqlstate};

mod pool;
pub use pool::{Db, Lent};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Key of the session-level advisory lock held while migrations run, so that instances starting
/// at the same moment apply them one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x6d61_736b_645f_6d69; // "maskd_mi"

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(String),
    #[error(
        "cannot reach PostgreSQL at {target}: {source}. Check that it runs and that DATABASE_URL is right"
    )]
    Unreachable { target: String, source: sqlx::Error },
    #[error("cannot create database {name}: {source}")]
    Create { name: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(String),
}

pub fn connect_options(url: &str) -> Result<PgConnectOptions, DbError> {
    PgConnectOptions::from_str(url)
        .map(|o| o.application_name("maskd"))
        .map_err(|e| DbError::BadUrl(e.to_string()))
}

fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

/// Creates the database named in `url` when it does not exist yet. Safe when several instances
/// do it at once: losing the race to create it is success.
pub async fn ensure_database(url: &str) -> Result<(), DbError> {
    let options = connect_options(url)?;
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    // Connect to the server's maintenance database to look for (and create) ours.
    let mut last_error = None;
    for maintenance in ["postgres", "template1"] {
        let admin = options.clone().database(maintenance);
        match admin.connect().await {
            Ok(mut conn) => {
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)",
                )
                .bind(&name)
                .fetch_one(&mut conn)
                .await
                .map_err(|source| DbError::Create {
                    name: name.clone(),
                    source,
                })?;
                if exists {
                    return Ok(());
                }
                let sql = format!("CREATE DATABASE {}", quote_identifier(&name));
                return match sqlx::query(&sql).execute(&mut conn).await {
                    Ok(_) => {
                        tracing::info!(database = %name, "created database");
                        Ok(())
                    }
                    // It exists already, or another instance won the race on pg_database's
                    // unique index.
                    Err(e)
                        if sql_error::is(&e, sqlstate::DUPLICATE_DATABASE)
                            || sql_error::is(&e, sqlstate::UNIQUE_VIOLATION) =>
                    {
                        Ok(())
                    }
                    Err(source) => Err(DbError::Create { name, source }),
                };
            }
            Err(e) => last_error = Some(e),
        }
    }
    // The maintenance databases are out of reach: perhaps ours exists and we may only use it.
    match options.connect().await {
        Ok(_) => Ok(()),
        Err(_) => Err(DbError::Unreachable {
            target: describe(&options),
            source: last_error.expect("at least one attempt was made"),
        }),
    }
}

/// Applies the embedded migrations under an advisory lock.
pub async fn migrate(url: &str) -> Result<(), DbError> {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| DbError::Migrate(format!("cannot connect: {e}")))?;
    let connection = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "migration connection closed with an error");
        }
    });
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(|e| DbError::Migrate(format!("cannot take the migration lock: {e}")))?;
    let report = embedded::migrations::runner().run_async(&mut client).await;
    // Unlock even when the run failed. A failed unlock changes nothing: closing the connection,
    // just below, releases the lock as well.
    if let Err(e) = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await
    {
        tracing::debug!(error = %e, "the migration lock is released as its connection closes");
    }
    drop(client);
    if let Err(e) = connection.await {
        tracing::warn!(error = %e, "the migration connection's task failed");
    }
    let report = report.map_err(|e| DbError::Migrate(e.to_string()))?;
    for m in report.applied_migrations() {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(())
}

/// How an instance shares its `MASKD_DB_POOL_SIZE` connections out: one pool for start-up and the
/// engine, with the engine's LISTEN connection beside it, and one for each HTTP worker (a worker's
/// connections are then driven by the worker's own event loop, instead of waking another thread
/// for every answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolShares {
    /// The engine's pool: 2 connections beyond one per worker (its claim loop, and its heartbeat
    /// and takeover loop),
    /// and 1 on an API-only instance (start-up and maintenance).
    pub engine: u32,
    /// 1 on an instance with workers: the engine's LISTEN connection.
    pub listener: u32,
    pub http_workers: u32,
    pub per_http_worker: u32,
}

impl PoolShares {
    /// At most `size` connections in all (or 3, with workers, for the smallest sizes): the engine
    /// takes its share first, leaving at least one for HTTP; there are no more HTTP workers than
    /// CPUs, nor than half the connections left for them (so that one slow request does not make
    /// the others of its worker wait while other workers' connections are idle).
    pub fn of(size: u32, engine_workers: u32, cpus: u32) -> PoolShares {
        let listener = u32::from(engine_workers > 0);
        let wanted = if engine_workers == 0 {
            1
        } else {
            engine_workers + 2
        };
        let engine = wanted.min(size.saturating_sub(1 + listener)).max(1);
        let for_http = size.saturating_sub(engine + listener).max(1);
        let http_workers = cpus.min(for_http / 2).max(1);
        PoolShares {
            engine,
            listener,
            http_workers,
            per_http_worker: for_http / http_workers,
        }
    }
}

/// The connect options of every connection to maskd's database: `url`, named `maskd`, with
/// `statement_timeout`.
pub fn options_with_timeout(
    url: &str,
    statement_timeout: Duration,
) -> Result<PgConnectOptions, DbError> {
    Ok(connect_options(url)?.options([(
        "statement_timeout",
        format!("{}ms", statement_timeout.as_millis()),
    )]))
}

/// How long a caller waits for a free connection before its request is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection lent in the last half second is lent again without a round trip to check it (as
/// HikariCP's `aliveBypassWindowMs`); one that broke within it answers its request with a 503.
const TRUSTED_AFTER_USE: Duration = Duration::from_millis(500);

/// The engine's pool of `size` connections, with one opened now so that a wrong DATABASE_URL
/// stops start-up. Every statement on them is cancelled by PostgreSQL after `statement_timeout`
/// (lock waits included), and a caller waits at most 5 s for a free connection, so that a blocked
/// database is answered with an error instead of a hang. Each connection is checked before it is
/// lent.
pub async fn pool(url: &str, size: u32, statement_timeout: Duration) -> Result<Db, DbError> {
    let options = options_with_timeout(url, statement_timeout)?;
    let target = describe(&options);
    let db = Db::new(options, size, ACQUIRE_TIMEOUT, Duration::ZERO);
    match db.lend().await {
        Ok(conn) => conn.finished(),
        Err(source) => return Err(DbError::Unreachable { target, source }),
    }
    Ok(db)
}

/// The pool of one HTTP worker. Like [`pool`], except that nothing is opened until the first
/// request (from the worker's own event loop), and that a connection is checked only when it was
/// last lent `TRUSTED_AFTER_USE` ago or more: under load the check would be a second round trip
/// for every request.
pub fn http_worker_pool(options: PgConnectOptions, size: u32) -> Db {
    Db::new(options, size, ACQUIRE_TIMEOUT, TRUSTED_AFTER_USE)
}

/// Quotes an SQL identifier (doubling embedded quotes), for names that cannot be bound.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{PoolShares, quote_identifier};

    #[test]
    fn pool_shares_never_exceed_the_configured_size() {
        let shares = |size, workers, cpus| {
            let s = PoolShares::of(size, workers, cpus);
            (s.engine, s.listener, s.http_workers, s.per_http_worker)
        };
        // The defaults (10 + 2 per worker) on two CPUs.
        assert_eq!(shares(10, 0, 2), (1, 0, 2, 4));
        assert_eq!(shares(12, 1, 2), (3, 1, 2, 4));
        assert_eq!(shares(18, 4, 2), (6, 1, 2, 5));
        // Small pools: the engine yields, HTTP keeps one connection and one worker per connection.
        assert_eq!(shares(2, 0, 8), (1, 0, 1, 1));
        assert_eq!(shares(4, 4, 2), (2, 1, 1, 1));
        assert_eq!(shares(8, 2, 2), (4, 1, 1, 3));
        // Many CPUs: at least 2 connections per HTTP worker.
        assert_eq!(shares(18, 4, 64), (6, 1, 5, 2));
        for size in 2..40 {
            for workers in 0..10 {
                for cpus in 1..6 {
                    let s = PoolShares::of(size, workers, cpus);
                    let total = s.engine + s.listener + s.http_workers * s.per_http_worker;
                    assert!(total <= size.max(2 + s.listener));
                    assert!(s.engine >= 1 && s.per_http_worker >= 1 && s.http_workers >= 1);
                }
            }
        }
    }

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(quote_identifier("users"), "\"users\"");
        assert_eq!(
            quote_identifier("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
    }
}
