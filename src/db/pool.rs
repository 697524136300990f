//! Pools of connections to maskd's database that lend a connection back without a round trip.
//!
//! sqlx's own pool checks every connection with a round trip when it comes back, because a
//! future dropped in the middle of a statement (an HTTP handler whose client went away) can leave
//! the connection mid-protocol. Under load that check was half of the PostgreSQL round trips of
//! a request (BENCHMARKS.md). Here a connection goes back only when the statement (or transaction)
//! that borrowed it ran to its end; one cut off, or broken, is closed instead.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use either::Either;
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::postgres::{
    PgConnectOptions, PgListener, PgPoolOptions, PgQueryResult, PgRow, PgStatement, PgTypeInfo,
};
use sqlx::{ConnectOptions, Connection, Describe, Execute, Executor, PgConnection, Postgres};

/// A connection is replaced after this long, so that none outlives a server-side change for ever.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// A pool of connections to maskd's database; cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct Db {
    connections: managed::Pool<Connector>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.connections.status();
        f.debug_struct("Db")
            .field("size", &status.size)
            .field("available", &status.available)
            .finish()
    }
}

struct Connector {
    options: PgConnectOptions,
    /// A connection idle for at least this long is checked with a round trip before it is lent.
    check_after_idle: Duration,
}

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        self.options.connect().await
    }

    async fn recycle(
        &self,
        conn: &mut PgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if metrics.age() >= MAX_LIFETIME {
            return Err(RecycleError::message("replaced after 30 minutes"));
        }
        // `last_used` counts from when the connection was last lent.
        if metrics.last_used() >= self.check_after_idle {
            conn.ping().await?;
        }
        Ok(())
    }
}

impl Db {
    /// At most `size` connections, opened when needed; a caller waits at most `acquire_timeout`
    /// for one. A connection idle for `check_after_idle` or longer is checked before it is lent.
    pub fn new(
        options: PgConnectOptions,
        size: u32,
        acquire_timeout: Duration,
        check_after_idle: Duration,
    ) -> Db {
        let connector = Connector {
            options,
            check_after_idle,
        };
        let connections = managed::Pool::builder(connector)
            .max_size(size as usize)
            .wait_timeout(Some(acquire_timeout))
            .create_timeout(Some(acquire_timeout))
            .recycle_timeout(Some(acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .expect("a timeout is set only with a runtime");
        Db { connections }
    }

    /// Lends a connection, for statements run on it directly (a transaction); give it back with
    /// [`Lent::finished`] once they are done.
    pub async fn lend(&self) -> Result<Lent, sqlx::Error> {
        match self.connections.get().await {
            Ok(conn) => Ok(Lent { conn: Some(conn) }),
            Err(PoolError::Backend(e)) => Err(e),
            Err(PoolError::Closed) => Err(sqlx::Error::PoolClosed),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Connections open now, lent or idle.
    pub fn size(&self) -> usize {
        self.connections.status().size
    }

    /// A LISTEN connection of its own, outside the pool (sqlx's listener reconnects through a
    /// pool of one of its own).
    pub async fn listener(&self) -> Result<PgListener, sqlx::Error> {
        let options = self.connections.manager().options.clone();
        let one = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        PgListener::connect_with(&one).await
    }

    pub fn close(&self) {
        self.connections.close();
    }
}

/// A connection lent by a [`Db`]. Dropped without [`Lent::finished`] (its user was cut off or
/// failed), it is closed rather than lent again.
pub struct Lent {
    conn: Option<Object<Connector>>,
}

impl Lent {
    /// Gives the connection back to its pool.
    pub fn finished(mut self) {
        drop(self.conn.take());
    }

    /// Gives the connection back when `result` says the protocol is intact: a success, or an error
    /// PostgreSQL answered (a constraint, a timeout); not a broken connection.
    fn settle<T>(self, result: &Result<T, sqlx::Error>) {
        if matches!(result, Ok(_) | Err(sqlx::Error::Database(_))) {
            self.finished();
        }
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
    }
}

impl Deref for Lent {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        self.conn.as_ref().expect("lent until finished")
    }
}

impl DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("lent until finished")
    }
}

/// Each statement borrows a connection for itself, as with sqlx's pool. Rows are read whole
/// before they are handed on (maskd's statements return pages, not streams).
impl<'d> Executor<'d> for &'d Db {
    type Database = Postgres;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<PgQueryResult, PgRow>, sqlx::Error>>
    where
        'd: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        let steps = async move {
            let mut conn = self.lend().await?;
            let steps: Result<Vec<_>, _> = conn.fetch_many(query).try_collect().await;
            conn.settle(&steps);
            steps
        };
        stream::once(steps)
            .map_ok(|steps| stream::iter(steps.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<PgRow>, sqlx::Error>>
    where
        'd: 'e,
        E: 'q + Execute<'q, Postgres>,
    {
        Box::pin(async move {
            let mut conn = self.lend().await?;
            let row = conn.fetch_optional(query).await;
            conn.settle(&row);
            row
        })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [PgTypeInfo],
    ) -> BoxFuture<'e, Result<PgStatement<'q>, sqlx::Error>>
    where
        'd: 'e,
    {
        Box::pin(async move {
            let mut conn = self.lend().await?;
            let statement = conn.prepare_with(sql, parameters).await;
            conn.settle(&statement);
            statement
        })
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<Describe<Postgres>, sqlx::Error>>
    where
        'd: 'e,
    {
        Box::pin(async move {
            let mut conn = self.lend().await?;
            let description = conn.describe(sql).await;
            conn.settle(&description);
            description
        })
    }
}
