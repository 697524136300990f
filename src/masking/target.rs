//! Connections to the databases a job masks (the "targets"), through a database connector.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};

use super::where_clause;
use crate::crypto::{DecryptError, Keys};
use crate::sql_error;
use crate::types::target::{CatalogColumn, ConnectionDetails};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(
        "cannot connect to {target} as user '{user}': {reason}. Check the connector's host, port, database, username and password"
    )]
    Connect {
        target: String,
        user: String,
        reason: String,
    },
    #[error("reading the catalog of {target} failed: {reason}")]
    Catalog { target: String, reason: String },
}

/// A target database reached through a connector.
#[derive(Clone)]
pub struct Target {
    details: ConnectionDetails,
    password: Option<String>,
}

impl Target {
    /// A connector's target, its stored password decrypted with `keys`.
    pub fn of_connector(details: ConnectionDetails, keys: &Keys) -> Result<Self, DecryptError> {
        let password = details
            .password_encrypted
            .as_deref()
            .map(|p| keys.decrypt_password(p))
            .transpose()?;
        Ok(Target { details, password })
    }

    pub fn describe(&self) -> String {
        format!(
            "{}:{}/{}",
            self.details.host, self.details.port, self.details.database_name
        )
    }

    pub fn schema(&self) -> &str {
        &self.details.schema_name
    }

    /// The connector's schema first, then PostgreSQL's default path: an ADMIN's customSql or
    /// whereClause names the schema's tables as the connector's users do, unqualified. (maskd's
    /// own statements qualify every name.) Written for a startup option, where a space or a
    /// backslash is escaped with a backslash.
    fn search_path(&self) -> String {
        let schema = format!("\"{}\"", self.schema().replace('"', "\"\""));
        format!("{schema},\"$user\",public")
            .replace('\\', "\\\\")
            .replace(' ', "\\ ")
    }

    fn options(&self, application_name: &str) -> PgConnectOptions {
        let mut options = PgConnectOptions::new()
            .host(&self.details.host)
            .port(self.details.port as u16)
            .database(&self.details.database_name)
            .username(&self.details.username)
            .application_name(application_name)
            .options([("search_path", self.search_path())]);
        if let Some(password) = &self.password {
            options = options.password(password);
        }
        options
    }

    pub async fn connect(&self) -> Result<PgConnection, TargetError> {
        self.connect_as("maskd").await
    }

    /// Connects under `application_name`, which the target's `pg_stat_activity` shows.
    pub async fn connect_as(&self, application_name: &str) -> Result<PgConnection, TargetError> {
        let failed = |reason: String| TargetError::Connect {
            target: self.describe(),
            user: self.details.username.clone(),
            reason,
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, self.options(application_name).connect()).await
        {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(failed(sql_error::describe(&e))),
            Err(_) => Err(failed(format!(
                "no answer within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Connects and checks that the connector's schema exists.
    pub async fn test(&self) -> Result<(), TargetError> {
        let mut conn = self.connect().await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
                .bind(self.schema())
                .fetch_one(&mut conn)
                .await
                .map_err(|e| self.catalog_error(e))?;
        close(conn).await;
        if exists {
            Ok(())
        } else {
            Err(TargetError::Connect {
                target: self.describe(),
                user: self.details.username.clone(),
                reason: format!("schema '{}' does not exist", self.schema()),
            })
        }
    }

    /// The columns of a table in the connector's schema; None when there is no such table.
    pub async fn table_columns(
        &self,
        table: &str,
    ) -> Result<Option<Vec<CatalogColumn>>, TargetError> {
        let mut conn = self.connect().await?;
        let columns: Vec<CatalogColumn> = sqlx::query_as(CATALOG_COLUMNS)
            .bind(self.schema())
            .bind(table)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| self.catalog_error(e))?;
        close(conn).await;
        Ok(if columns.is_empty() {
            None
        } else {
            Some(columns)
        })
    }

    /// Asks the target to plan how a table's rows are read: from the table, or from its
    /// `customSql` when given, filtered by its `whereClause` when given (the relation is `t`
    /// either way). Err names the field the target (or the lexer) refused, with the reason.
    pub async fn plan_table_read(
        &self,
        table: &str,
        custom_sql: Option<&str>,
        where_clause: Option<&str>,
    ) -> Result<Result<(), (&'static str, String)>, TargetError> {
        for (field, sql) in [("customSql", custom_sql), ("whereClause", where_clause)] {
            if let Some(Err(why)) = sql.map(where_clause::check) {
                return Ok(Err((field, why)));
            }
        }
        let mut conn = self.connect().await?;
        let planned = async {
            conn.execute("BEGIN READ ONLY; SET LOCAL statement_timeout = '10s'")
                .await?;
            let qualified: Option<String> = sqlx::query_scalar(
                "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
            )
            .bind(self.schema())
            .bind(table)
            .fetch_optional(&mut conn)
            .await?;
            let Some(qualified) = qualified else {
                let why = format!(
                    "table '{table}' does not exist in schema '{}'",
                    self.schema()
                );
                conn.execute("ROLLBACK").await?;
                return Ok(Err(("tableName", why)));
            };
            let relation = match custom_sql {
                Some(custom) => format!("({custom})"),
                None => qualified,
            };
            let mut planned = Ok(());
            if custom_sql.is_some() {
                planned = explain(&mut conn, &format!("SELECT * FROM {relation} AS t"))
                    .await
                    .map_err(|why| ("customSql", why));
            }
            if let (Ok(()), Some(clause)) = (&planned, where_clause) {
                planned = explain(
                    &mut conn,
                    &format!("SELECT 1 FROM {relation} AS t WHERE ({clause})"),
                )
                .await
                .map_err(|why| ("whereClause", why));
            }
            conn.execute("ROLLBACK").await?;
            Ok::<_, sqlx::Error>(planned)
        }
        .await
        .map_err(|e| self.catalog_error(e));
        close(conn).await;
        planned
    }

    /// Ends a backend of this target, which rolls its transaction back at once: for a session a
    /// stopped run leaves busy (or waiting for a lock) after dropping its connection. Returns once
    /// the backend has gone (or after 2 s).
    pub async fn terminate_backend(
        &self,
        pid: i32,
        application_name: &str,
    ) -> Result<(), TargetError> {
        let mut conn = self.connect().await?;
        let ended = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1 AND application_name = $2",
        )
        .bind(pid)
        .bind(application_name)
        .execute(&mut conn)
        .await
        .map_err(|e| self.catalog_error(e));
        // The signal is asynchronous: wait (briefly) until the backend has gone, so that its
        // transaction is over and its locks released before anything is restored or ended.
        if ended.is_ok() {
            for _ in 0..TERMINATE_WAITS {
                let alive: Result<bool, _> = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND application_name = $2)",
                )
                .bind(pid)
                .bind(application_name)
                .fetch_one(&mut conn)
                .await;
                if !matches!(alive, Ok(true)) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        close(conn).await;
        ended.map(|_| ())
    }

    fn catalog_error(&self, e: sqlx::Error) -> TargetError {
        TargetError::Catalog {
            target: self.describe(),
            reason: sql_error::describe(&e),
        }
    }
}

/// How many times (10 ms apart) `terminate_backend` looks whether the backend has gone.
const TERMINATE_WAITS: u32 = 200;

/// Closes a target connection politely. Nothing was written on it that a failed close could lose
/// (a close that fails drops the socket, which ends the session all the same), so only logged.
pub async fn close(conn: PgConnection) {
    if let Err(e) = conn.close().await {
        tracing::debug!(error = %e, "closing a target connection failed; it was dropped");
    }
}

const CATALOG_COLUMNS: &str = "
SELECT a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       CASE WHEN t.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS length,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS is_primary_key,
       EXISTS (SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey)) AS is_index,
       EXISTS (SELECT 1 FROM pg_constraint k
                WHERE k.conrelid = c.oid AND k.contype = 'f' AND a.attnum = ANY (k.conkey)) AS is_foreign_key,
       a.attidentity <> '' AS is_identity
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum";

/// Has the target plan `query` (EXPLAIN, so nothing runs); the target's words when it cannot.
async fn explain(conn: &mut PgConnection, query: &str) -> Result<(), String> {
    sqlx::query(&format!("EXPLAIN {query}"))
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| sql_error::describe(&e))
}
