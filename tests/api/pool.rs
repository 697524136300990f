//! maskd's connection pool (`maskd::db::Db`) against a real PostgreSQL: a connection goes back to
//! its pool only when its statement ran to its end, and the engine's pool never lends a broken one.

use std::time::Duration;

use maskd::db::{self, Db};

use crate::common::TestDatabase;

const TIMEOUT: Duration = Duration::from_secs(15);

async fn backend_pid(db: &Db) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_connection_goes_back_to_its_pool_after_a_statement_that_ran_to_its_end() {
    let database = TestDatabase::from_template().await;
    let db = db::http_worker_pool(
        db::options_with_timeout(&database.url(), TIMEOUT).unwrap(),
        1,
    );
    let first = backend_pid(&db).await;
    assert_eq!(backend_pid(&db).await, first);
    // An error PostgreSQL answered leaves the connection usable.
    let refused = sqlx::query("SELECT 1 / 0").execute(&db).await.unwrap_err();
    assert!(matches!(refused, sqlx::Error::Database(_)), "{refused}");
    assert_eq!(backend_pid(&db).await, first);
    assert_eq!(db.size(), 1);
}

#[tokio::test]
async fn a_connection_whose_statement_was_cut_off_is_closed_not_lent_again() {
    let database = TestDatabase::from_template().await;
    let db = db::http_worker_pool(
        db::options_with_timeout(&database.url(), TIMEOUT).unwrap(),
        1,
    );
    let first = backend_pid(&db).await;
    // As when actix drops the handler of a client that went away.
    let cut_off = tokio::time::timeout(
        Duration::from_millis(200),
        sqlx::query("SELECT pg_sleep(5)").execute(&db),
    )
    .await;
    assert!(cut_off.is_err(), "the statement was still running");
    // Lent again, the connection would first have to wait out the sleep; it is a new one instead.
    let started = std::time::Instant::now();
    let next = backend_pid(&db).await;
    assert_ne!(next, first);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(db.size(), 1);
}

#[tokio::test]
async fn the_engines_pool_never_lends_a_terminated_connection() {
    let database = TestDatabase::from_template().await;
    let db = db::pool(&database.url(), 1, TIMEOUT).await.unwrap();
    let first = backend_pid(&db).await;
    let admin = db::pool(&database.url(), 1, TIMEOUT).await.unwrap();
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(first)
        .fetch_one(&admin)
        .await
        .unwrap();
    assert!(terminated);
    // Checked before it is lent: the broken one is dropped and the statement gets a new one.
    assert_ne!(backend_pid(&db).await, first);
}
