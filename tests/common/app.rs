//! `spawn_app()`: the real application on a fresh database and a free port, and the calls a test
//! makes to it over HTTP.

use std::time::Duration;

use maskd::config::{Config, LoginThrottle, Secret};
use maskd::db::Db;
use maskd::startup::Application;
use maskd::store;
use maskd::types::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::database::TestDatabase;

pub const BASE: &str = "/masking/api";
pub const ADMIN_PASSWORD: &str = "admin-password";

pub struct TestApp {
    pub address: String,
    pub pool: Db,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub db: TestDatabase,
}

pub struct Settings {
    pub token_ttl: Duration,
    /// Workers of the instance; 0 (API only) lets a test drive every transition itself.
    pub workers: u32,
    /// MASKD_TRUSTED_PROXIES
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub login_throttle: LoginThrottle,
    /// MASKD_PROFILE_SAMPLE_ROWS
    pub profile_sample_rows: u32,
    /// MASKD_CHUNK_MIN_ROWS, MASKD_CHUNK_ROWS
    pub chunks: (u64, u64),
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: Duration::from_secs(1800),
            workers: 0,
            trusted_proxies: vec![],
            login_throttle: LoginThrottle::default(),
            profile_sample_rows: 10_000,
            chunks: (1_000_000, 100_000),
        }
    }
}

/// The configuration of an instance with `settings` on the database at `database_url`.
pub fn config(database_url: String, settings: &Settings) -> Config {
    Config {
        database_url: Secret::new(database_url),
        bind: "127.0.0.1:0".parse().unwrap(),
        workers: settings.workers,
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        token_ttl: settings.token_ttl,
        secret_key: Some(Secret::new("test-secret-key")),
        db_pool_size: 10,
        db_statement_timeout: Duration::from_secs(15),
        heartbeat_interval: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(5),
        trusted_proxies: settings.trusted_proxies.clone(),
        login_throttle: settings.login_throttle.clone(),
        profile_sample_rows: settings.profile_sample_rows,
        profile_match_percent: 80,
        chunk_min_rows: settings.chunks.0,
        chunk_rows: settings.chunks.1,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    // TEST_LOG=1 shows the application's logs.
    if std::env::var_os("TEST_LOG").is_some() {
        static LOGS: std::sync::OnceLock<maskd::telemetry::LogGuard> = std::sync::OnceLock::new();
        LOGS.get_or_init(maskd::telemetry::init);
    }
    let db = TestDatabase::from_template().await;
    let app = Application::build(config(db.url(), &settings))
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    tokio::spawn(app.run_until_stopped());
    let client = http_client();
    let mut test_app = TestApp {
        address,
        pool,
        client,
        admin_token: String::new(),
        db,
    };
    test_app.admin_token = test_app.login("admin", ADMIN_PASSWORD).await;
    test_app
}

/// A response: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn error_message(&self) -> String {
        self.body["errorMessage"]
            .as_str()
            .unwrap_or_else(|| panic!("no errorMessage in {:?}", self))
            .to_owned()
    }
}

impl TestApp {
    /// Sends a request to `BASE` + `path`; `token` None sends none.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        self.call_at(BASE, method, path, token, body).await
    }

    pub async fn call_at(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{base}{path}", self.address));
        if let Some(t) = token {
            req = req.header("Authorization", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        Answer { status, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, Some(&self.admin_token), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(&self.admin_token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PUT, path, Some(&self.admin_token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, Some(&self.admin_token), None)
            .await
    }

    /// `POST /executions/{id}/cancel` + `query` (e.g. `?expectedStatus=QUEUED`), as the admin.
    pub async fn cancel(&self, id: impl std::fmt::Display, query: &str) -> Answer {
        let path = format!("/executions/{id}/cancel{query}");
        self.call(Method::POST, &path, Some(&self.admin_token), None)
            .await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let a = self
            .call(
                Method::POST,
                "/login",
                None,
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        a.body["Authorization"].as_str().unwrap().to_owned()
    }

    /// A logged-in user with `role`.
    pub async fn user_token(&self, role: Role) -> String {
        let name = format!(
            "{}-{}",
            role.as_str().to_lowercase(),
            hex::encode(rand::random::<[u8; 4]>())
        );
        let hash = maskd::crypto::hash_password("pw");
        assert!(
            store::users::create(&self.pool, &name, &hash, role)
                .await
                .unwrap()
        );
        self.login(&name, "pw").await
    }

    /// Another instance on this test's database, with `settings`; its address.
    pub async fn another_instance(&self, settings: &Settings) -> String {
        let other = Application::build(config(self.db.url(), settings))
            .await
            .expect("another instance starts");
        let address = format!("http://127.0.0.1:{}", other.port());
        tokio::spawn(other.run_until_stopped());
        address
    }

    pub async fn status_of(&self, execution_id: i64) -> Value {
        let a = self.get(&format!("/executions/{execution_id}")).await;
        assert_eq!(a.status, StatusCode::OK);
        a.body
    }
}

/// Waits (up to 30 s) until the maskd at `url` answers `/readyz` with 200.
/// The tests' HTTP client. actix-web closes a keep-alive connection idle for 5 s, and a request
/// sent on it at that moment fails with IncompleteMessage, so idle connections go after 2 s.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

pub async fn wait_until_ready(client: &reqwest::Client, url: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("{url}/readyz"))
        .send()
        .await
        .map(|r| r.status() != StatusCode::OK)
        .unwrap_or(true)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "maskd at {url} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
