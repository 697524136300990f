//! `spawn_app()`: the real application on a fresh database and a free port.

use std::str::FromStr;
use std::time::Duration;

use maskd::config::{Config, LoginThrottle, Secret};
use maskd::db::Db;
use maskd::startup::Application;
use maskd::store;
use maskd::types::{ExecutionStatus, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::OnceCell;

pub const BASE: &str = "/masking/api";
pub const ADMIN_PASSWORD: &str = "admin-password";

/// The PostgreSQL server the tests use: `DATABASE_URL`'s server, or the contract's default.
fn server_url() -> url::Url {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| maskd::config::DEFAULT_DATABASE_URL.into());
    url::Url::parse(&url).expect("DATABASE_URL is a URL")
}

pub fn server_options() -> PgConnectOptions {
    PgConnectOptions::from_str(server_url().as_str()).expect("DATABASE_URL is a PostgreSQL URL")
}

/// The URL of another database on the same server.
fn url_for(database: &str) -> String {
    let mut url = server_url();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

pub fn server_password() -> Option<String> {
    server_url()
        .password()
        .map(str::to_owned)
        .or_else(|| std::env::var("PGPASSWORD").ok())
}

async fn admin_connection() -> PgConnection {
    server_options()
        .database("postgres")
        .connect()
        .await
        .expect("PostgreSQL is reachable")
}

/// The migrated template, built once per migration set (named by a hash of the migrations), under
/// an advisory lock so parallel test binaries build it once.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut hasher = Sha256::new();
            let mut files: Vec<_> = std::fs::read_dir("migrations")
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                hasher.update(f.to_string_lossy().as_bytes());
                hasher.update(std::fs::read(&f).unwrap());
            }
            let name = format!("maskd_test_tpl_{}", &hex::encode(hasher.finalize())[..16]);
            let mut conn = admin_connection().await;
            sqlx::query("SELECT pg_advisory_lock(727271)")
                .execute(&mut conn)
                .await
                .unwrap();
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            if !exists {
                let building = format!("{name}_building");
                sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE DATABASE {building}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                maskd::db::migrate(&url_for(&building))
                    .await
                    .expect("migrations apply");
                sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            sqlx::query("SELECT pg_advisory_unlock(727271)")
                .execute(&mut conn)
                .await
                .unwrap();
            name
        })
        .await
}

/// A fresh database (dropped when the guard drops).
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub async fn from_template() -> Self {
        let template = template().await;
        let name = format!("maskd_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = admin_connection().await;
        // Concurrent copies of one template may collide on its lock briefly: retry.
        for attempt in 0.. {
            match sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 50 => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        TestDatabase { name }
    }

    pub fn url(&self) -> String {
        url_for(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop it on a thread of its own: the test's runtime is going away.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = admin_connection().await;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        })
        .join();
    }
}

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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_ttl: Duration::from_secs(1800),
            workers: 0,
            trusted_proxies: vec![],
            login_throttle: LoginThrottle::default(),
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
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
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

    /// A target schema with a table `people`, in this test's own database.
    pub async fn create_target_table(&self) {
        sqlx::query("CREATE SCHEMA IF NOT EXISTS target")
            .execute(&self.pool)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS target.people (
                id bigint PRIMARY KEY, first_name varchar(40), last_name text, email text UNIQUE, born date)",
        )
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// Environment, connector (to this test's database, schema `target`), and ruleset; returns the
    /// ruleset id.
    pub async fn create_ruleset(&self) -> i64 {
        self.create_target_table().await;
        let connector = self.create_connector().await;
        let ruleset = self
            .post(
                "/database-rulesets",
                json!({"rulesetName": "rs", "databaseConnectorId": connector}),
            )
            .await;
        assert_eq!(ruleset.status, StatusCode::CREATED, "{:?}", ruleset.body);
        ruleset.body["databaseRulesetId"].as_i64().unwrap()
    }

    /// A new environment and a connector in it to this test's database, schema `target`; returns
    /// the connector id.
    pub async fn create_connector(&self) -> i64 {
        let name = format!("env-{}", hex::encode(rand::random::<[u8; 4]>()));
        let env = self
            .post(
                "/environments",
                json!({"environmentName": name, "applicationName": "app"}),
            )
            .await;
        assert_eq!(env.status, StatusCode::CREATED, "{:?}", env.body);
        let connector = self
            .post(
                "/database-connectors",
                self.connector_body(env.body["environmentId"].as_i64().unwrap()),
            )
            .await;
        assert_eq!(
            connector.status,
            StatusCode::CREATED,
            "{:?}",
            connector.body
        );
        connector.body["databaseConnectorId"].as_i64().unwrap()
    }

    pub fn connector_body(&self, environment_id: i64) -> Value {
        let o = server_options();
        json!({
            "connectorName": format!("c-{}", hex::encode(rand::random::<[u8; 4]>())),
            "databaseType": "POSTGRES",
            "environmentId": environment_id,
            "host": o.get_host(),
            "port": o.get_port(),
            "databaseName": self.db.name,
            "schemaName": "target",
            "username": o.get_username(),
            "password": server_password().unwrap_or_else(|| "unused-with-trust-auth".into()),
        })
    }

    /// A masking job on a fresh ruleset; returns its id.
    pub async fn create_job(&self) -> i64 {
        let ruleset = self.create_ruleset().await;
        self.create_job_on(ruleset).await
    }

    pub async fn create_job_on(&self, ruleset_id: i64) -> i64 {
        let job = self
            .post(
                "/masking-jobs",
                json!({"jobName": "job", "rulesetId": ruleset_id}),
            )
            .await;
        assert_eq!(job.status, StatusCode::CREATED, "{:?}", job.body);
        job.body["maskingJobId"].as_i64().unwrap()
    }

    /// Adds `table` of the target to a ruleset and masks each of `columns` with its algorithm;
    /// returns the table metadata id.
    pub async fn mask_columns(
        &self,
        ruleset_id: i64,
        table: &str,
        columns: &[(&str, &str)],
    ) -> i64 {
        let t = self
            .post(
                "/table-metadata",
                json!({"tableName": table, "rulesetId": ruleset_id}),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{table}: {:?}", t.body);
        let table_id = t.body["tableMetadataId"].as_i64().unwrap();
        let listed = self
            .get(&format!("/column-metadata?table_metadata_id={table_id}"))
            .await;
        for (column, algorithm) in columns {
            let found = listed.body["responseList"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["columnName"] == *column)
                .unwrap_or_else(|| panic!("{column} is not a column of {table}: {listed:?}"));
            let put = self
                .put(
                    &format!("/column-metadata/{}", found["columnMetadataId"]),
                    json!({"algorithmName": algorithm}),
                )
                .await;
            assert_eq!(put.status, StatusCode::OK, "{column}: {put:?}");
        }
        table_id
    }

    /// Submits an execution of `job_id` through the API; returns its id.
    pub async fn submit(&self, job_id: i64) -> i64 {
        let e = self.post("/executions", json!({"jobId": job_id})).await;
        assert_eq!(e.status, StatusCode::CREATED, "{:?}", e.body);
        e.body["executionId"].as_i64().unwrap()
    }

    /// An execution of a new job, brought to `status` through the store's transitions.
    pub async fn execution_in(&self, status: ExecutionStatus, ruleset_id: i64) -> i64 {
        let job = self.create_job_on(ruleset_id).await;
        let id = self.submit(job).await;
        use maskd::store::executions as ex;
        if status == ExecutionStatus::Queued {
            return id;
        }
        if status == ExecutionStatus::Cancelled {
            ex::cancel(&self.pool, id, None, false)
                .await
                .unwrap()
                .unwrap();
            return id;
        }
        let claimed = ex::claim(&self.pool, "test-worker")
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(claimed.execution_id, id);
        if status.is_finished() {
            ex::finish(&self.pool, id, status).await.unwrap().unwrap();
        }
        id
    }

    /// The `eventType` of every event of an execution, oldest first.
    pub async fn event_types(&self, execution_id: i64) -> Vec<String> {
        let events = self
            .get(&format!("/execution-events?execution_id={execution_id}"))
            .await;
        assert_eq!(events.status, StatusCode::OK, "{events:?}");
        events.body["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap().to_owned())
            .collect()
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
