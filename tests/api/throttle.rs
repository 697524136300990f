//! Login throttling: per (username, address) and per address, shared by instances, answered 429
//! with Retry-After, ending by itself. Client addresses are simulated with `X-Forwarded-For` from a
//! trusted proxy (the test itself, on 127.0.0.1).

use std::sync::Arc;
use std::time::Duration;

use maskd::config::LoginThrottle;
use maskd::store::login_failures;
use maskd::types::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{ADMIN_PASSWORD, BASE, Settings, TestApp, spawn_app_with};

struct Answer {
    status: StatusCode,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    fn error_message(&self) -> &str {
        self.body["errorMessage"].as_str().unwrap_or_default()
    }
}

/// `POST /login` to the instance at `address`, with `forwarded_for` as `X-Forwarded-For`.
async fn login_at(
    app: &TestApp,
    address: &str,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> Answer {
    let mut req = app
        .client
        .post(format!("{address}{BASE}/login"))
        .json(&json!({"username": username, "password": password}));
    if let Some(f) = forwarded_for {
        req = req.header("X-Forwarded-For", f);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let retry_after = res
        .headers()
        .get("Retry-After")
        .map(|v| v.to_str().unwrap().parse().expect("Retry-After is seconds"));
    let body = res.json().await.expect("a JSON body");
    Answer {
        status,
        retry_after,
        body,
    }
}

async fn login(
    app: &TestApp,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> Answer {
    login_at(app, &app.address, forwarded_for, username, password).await
}

/// The failures counted under `key`, if it has a row.
async fn failures(app: &TestApp, key: &str) -> Option<i32> {
    sqlx::query_scalar("SELECT failures FROM login_failures WHERE key = $1")
        .bind(key)
        .fetch_optional(&app.pool)
        .await
        .unwrap()
}

async fn add_user(app: &TestApp, name: &str) {
    let hash = maskd::crypto::hash_password("pw");
    assert!(
        maskd::store::users::create(&app.pool, name, &hash, Role::Operator)
            .await
            .unwrap()
    );
}

fn behind_proxy(login_throttle: LoginThrottle) -> Settings {
    Settings {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        login_throttle,
        ..Default::default()
    }
}

fn assert_blocked(a: &Answer) {
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", a.body);
    let seconds = a.retry_after.expect("a Retry-After header");
    assert!(seconds >= 1, "{seconds}");
    assert!(
        a.error_message().starts_with(&format!(
            "too many failed logins from this address; try again in {seconds} seconds, after "
        )),
        "{}",
        a.error_message()
    );
}

#[tokio::test]
async fn five_failures_block_the_user_from_that_address_only() {
    let app = spawn_app_with(behind_proxy(LoginThrottle::default())).await;
    for _ in 0..5 {
        let a = login(&app, Some("10.0.0.1"), "admin", "wrong").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.error_message(), "wrong username or password");
        assert_eq!(a.retry_after, None);
    }
    // Even the right password is refused now, without being checked, and nothing more is counted.
    for _ in 0..3 {
        let a = login(&app, Some("10.0.0.1"), "admin", ADMIN_PASSWORD).await;
        assert_blocked(&a);
        assert!(a.retry_after.unwrap() <= 30, "the first block is 30 s");
    }
    assert_eq!(failures(&app, "10.0.0.1 admin").await, Some(5));
    assert_eq!(failures(&app, "10.0.0.1").await, Some(5));

    // A client cannot escape by naming another address itself: the proxy appended the real one.
    assert_blocked(&login(&app, Some("10.0.0.2, 10.0.0.1"), "admin", ADMIN_PASSWORD).await);
    // From another address the user logs in; from this one, another user does.
    assert_eq!(
        login(&app, Some("10.0.0.2"), "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    add_user(&app, "olga").await;
    assert_eq!(
        login(&app, Some("10.0.0.1"), "olga", "pw").await.status,
        StatusCode::OK
    );

    // A user that does not exist is blocked the same way: the answer tells nothing.
    for _ in 0..5 {
        let a = login(&app, Some("10.0.0.3"), "ghost", "wrong").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.error_message(), "wrong username or password");
    }
    assert_blocked(&login(&app, Some("10.0.0.3"), "ghost", "wrong").await);
}

#[tokio::test]
async fn the_address_limit_blocks_every_username_from_that_address() {
    let app = spawn_app_with(behind_proxy(LoginThrottle {
        max_address_failures: 3,
        ..Default::default()
    }))
    .await;
    for name in ["anna", "bert", "carl"] {
        let a = login(&app, Some("10.0.0.5"), name, "wrong").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(failures(&app, "10.0.0.5").await, Some(3));
    assert_eq!(failures(&app, "10.0.0.5 anna").await, Some(1));
    assert_blocked(&login(&app, Some("10.0.0.5"), "admin", ADMIN_PASSWORD).await);
    assert_eq!(
        login(&app, Some("10.0.0.6"), "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_success_forgets_the_users_failures_but_not_the_addresss() {
    let app = spawn_app_with(behind_proxy(LoginThrottle::default())).await;
    for _ in 0..4 {
        assert_eq!(
            login(&app, Some("10.0.0.1"), "admin", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, Some("10.0.0.1"), "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(failures(&app, "10.0.0.1 admin").await, None);
    assert_eq!(failures(&app, "10.0.0.1").await, Some(4));
    // Four more failures are allowed: the count started again.
    for _ in 0..4 {
        assert_eq!(
            login(&app, Some("10.0.0.1"), "admin", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&app, Some("10.0.0.1"), "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(failures(&app, "10.0.0.1").await, Some(8));
}

/// Real time passes: the block is a few seconds long, and the test waits for Retry-After.
#[tokio::test]
async fn a_block_ends_by_itself() {
    let app = spawn_app_with(behind_proxy(LoginThrottle {
        max_user_failures: 2,
        first_block: Duration::from_secs(4),
        max_block: Duration::from_secs(4),
        ..Default::default()
    }))
    .await;
    for _ in 0..2 {
        assert_eq!(
            login(&app, Some("10.0.0.1"), "admin", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = login(&app, Some("10.0.0.1"), "admin", ADMIN_PASSWORD).await;
    assert_blocked(&blocked);
    let seconds = blocked.retry_after.unwrap();
    assert!(seconds <= 4, "{seconds}");
    tokio::time::sleep(Duration::from_secs(seconds) + Duration::from_millis(100)).await;
    assert_eq!(
        login(&app, Some("10.0.0.1"), "admin", ADMIN_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(failures(&app, "10.0.0.1 admin").await, None);
}

/// The block doubles with each failure past the limit, up to the cap, and the count starts again
/// once the failures have expired. In one transaction `now()` stands still, so the lengths are exact.
#[tokio::test]
async fn blocks_double_up_to_the_cap_and_failures_expire() {
    let app = spawn_app_with(Settings::default()).await;
    let policy = LoginThrottle {
        first_block: Duration::from_secs(30),
        max_block: Duration::from_secs(100),
        forget_after: Duration::from_secs(900),
        ..Default::default()
    };
    let mut conn = app.pool.lend().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let mut seen = vec![];
    for _ in 0..6 {
        let (count, until) = login_failures::record_failure(&mut *tx, "k", 3, &policy)
            .await
            .unwrap();
        let (block, expires): (Option<f64>, f64) = sqlx::query_as(
            "SELECT extract(epoch FROM $1 - now())::float8,
                    extract(epoch FROM expire_time - now())::float8
               FROM login_failures WHERE key = 'k'",
        )
        .bind(until)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!(
            expires,
            block.unwrap_or(0.0) + 900.0,
            "forgotten 15 min after the block"
        );
        seen.push((count, block));
    }
    assert_eq!(
        seen,
        [
            (1, None),
            (2, None),
            (3, Some(30.0)),
            (4, Some(60.0)),
            (5, Some(100.0)),
            (6, Some(100.0))
        ]
    );
    // Once expired, the next failure counts from 1 again.
    sqlx::query("UPDATE login_failures SET expire_time = now() - interval '1 second'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let (count, until) = login_failures::record_failure(&mut *tx, "k", 3, &policy)
        .await
        .unwrap();
    assert_eq!((count, until), (1, None));
    // Expired rows are deleted; the others stay.
    login_failures::record_failure(&mut *tx, "other", 3, &policy)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE login_failures SET expire_time = now() - interval '1 second' WHERE key = 'k'",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(login_failures::delete_expired(&mut *tx).await.unwrap(), 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT key FROM login_failures")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(left, ["other"]);
}

/// Wrong logins sent at once to two instances sharing the database are each counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_on_two_instances_are_all_counted() {
    const ATTEMPTS: usize = 40;
    // Limits high enough that every attempt is checked and counted.
    let settings = || Settings {
        login_throttle: LoginThrottle {
            max_user_failures: 1000,
            max_address_failures: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = Arc::new(spawn_app_with(settings()).await);
    let other_address = app.another_instance(&settings()).await;

    let barrier = Arc::new(tokio::sync::Barrier::new(ATTEMPTS));
    let mut attempts = vec![];
    for i in 0..ATTEMPTS {
        let (app, barrier) = (app.clone(), barrier.clone());
        let address = if i % 2 == 0 {
            app.address.clone()
        } else {
            other_address.clone()
        };
        attempts.push(tokio::spawn(async move {
            barrier.wait().await;
            login_at(&app, &address, None, "admin", "wrong")
                .await
                .status
        }));
    }
    for a in attempts {
        assert_eq!(a.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        failures(&app, "127.0.0.1 admin").await,
        Some(ATTEMPTS as i32)
    );
    assert_eq!(failures(&app, "127.0.0.1").await, Some(ATTEMPTS as i32));
}

/// Without MASKD_TRUSTED_PROXIES, X-Forwarded-For is the client's own claim: ignored.
#[tokio::test]
async fn an_untrusted_peers_forwarded_for_is_ignored() {
    let app = spawn_app_with(Settings::default()).await;
    for i in 0..5 {
        let a = login(&app, Some(&format!("10.0.0.{i}")), "admin", "wrong").await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    assert_blocked(&login(&app, Some("10.0.0.9"), "admin", ADMIN_PASSWORD).await);
    assert_blocked(&login(&app, None, "admin", ADMIN_PASSWORD).await);
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_failures ORDER BY key")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(keys, ["127.0.0.1", "127.0.0.1 admin"]);
}

#[tokio::test]
async fn the_openapi_document_lists_the_429_answer_of_login() {
    let app = spawn_app_with(Settings::default()).await;
    let doc = app
        .call(reqwest::Method::GET, "/openapi.json", None, None)
        .await
        .body;
    let answer = &doc["paths"]["/login"]["post"]["responses"]["429"];
    assert_eq!(
        answer["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorAnswer"
    );
    assert_eq!(
        answer["headers"]["Retry-After"]["schema"]["type"], "integer",
        "{answer}"
    );
}
