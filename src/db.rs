//! maskd's own database: creating it when missing, migrations, and the connection pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

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
                    // duplicate_database, or the race on pg_database's unique index.
                    Err(sqlx::Error::Database(e))
                        if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) =>
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
    // Unlock even when the run failed; closing the connection would release it as well.
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    drop(client);
    let _ = connection.await;
    let report = report.map_err(|e| DbError::Migrate(e.to_string()))?;
    for m in report.applied_migrations() {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(())
}

/// A pool of `size` connections to maskd's database. Every statement on them is cancelled by
/// PostgreSQL after `statement_timeout` (lock waits included), and a caller waits at most 5 s for a
/// free connection, so that a blocked database is answered with an error instead of a hang.
pub async fn pool(url: &str, size: u32, statement_timeout: Duration) -> Result<PgPool, DbError> {
    let options = connect_options(url)?.options([(
        "statement_timeout",
        format!("{}ms", statement_timeout.as_millis()),
    )]);
    let target = describe(&options);
    PgPoolOptions::new()
        .max_connections(size)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|source| DbError::Unreachable { target, source })
}

/// Quotes an SQL identifier (doubling embedded quotes), for names that cannot be bound.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::quote_identifier;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        assert_eq!(quote_identifier("users"), "\"users\"");
        assert_eq!(
            quote_identifier("x\"; DROP TABLE y; --"),
            "\"x\"\"; DROP TABLE y; --\""
        );
    }
}
