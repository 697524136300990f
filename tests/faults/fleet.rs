//! The maskd processes under test (the real binary) and an HTTP client that speaks to them.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::maskd_serve::maskd_serve;

pub const ADMIN_PASSWORD: &str = "fault-suite-admin";
/// Short, so that the pool-exhaustion scenario sees statements cancelled within the run.
pub const STATEMENT_TIMEOUT_SECS: u64 = 2;
/// How long a caller waits for a free pool connection (fixed in maskd).
pub const ACQUIRE_TIMEOUT_SECS: u64 = 5;
pub const POOL_SIZE: u32 = 8;
pub const WORKERS: u32 = 2;
/// Below the tables' 10,000 rows.
const CHUNK_MIN_ROWS: &str = "5000";

/// A `maskd serve` process, its log in `log`; killed when dropped.
pub struct Instance {
    child: Mutex<Child>,
    pid: u32,
    pub url: String,
    pub alive: AtomicBool,
    pub log: PathBuf,
}

impl Instance {
    pub fn start(database_url: &str, log: PathBuf) -> Instance {
        let (mut command, url) = maskd_serve(database_url);
        let child = command
            .env("MASKD_WORKERS", WORKERS.to_string())
            .env("MASKD_DB_POOL_SIZE", POOL_SIZE.to_string())
            .env(
                "MASKD_DB_STATEMENT_TIMEOUT_SECS",
                STATEMENT_TIMEOUT_SECS.to_string(),
            )
            .env("MASKD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("MASKD_SHUTDOWN_GRACE_SECS", "2")
            // Every table is split, so that every run's chunks are claimed across the fleet.
            .env("MASKD_CHUNK_MIN_ROWS", CHUNK_MIN_ROWS)
            .env("MASKD_CHUNK_ROWS", "2500")
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).expect("the log file can be created"))
            .spawn()
            .expect("maskd starts");
        Instance {
            pid: child.id(),
            child: Mutex::new(child),
            url,
            alive: AtomicBool::new(true),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// kill -9, and waits for the process to be gone.
    pub fn kill(&self) {
        self.alive.store(false, Ordering::SeqCst);
        let mut child = self.child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Waits until `/readyz` answers 200; how long that took.
    pub async fn wait_until_ready(&self, client: &reqwest::Client, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/readyz", self.url))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "maskd at {} was not ready within {within:?}; its log: {}",
                self.url,
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The last lines of a log, for a failure message.
pub fn tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// An answer: status and JSON body (Null when empty), or why there was none.
pub type Answer = Result<(u16, Value), String>;

/// An administrator's session, usable with any instance.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    token: String,
}

impl Api {
    pub async fn login(base: &str) -> Api {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            // Below actix-web's 5 s keep-alive, so no request is sent on a connection it closes.
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let r = client
            .post(format!("{base}/masking/api/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        let token = body["Authorization"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned();
        Api { client, token }
    }

    pub async fn call(
        &self,
        base: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{base}/masking/api{path}"))
            .header("Authorization", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .map_err(|e| format!("{status} with a body that is not JSON ({e}): {text}"))?
        };
        Ok((status, body))
    }

    /// A call during set-up, which must succeed; the body.
    pub async fn ok(&self, base: &str, method: Method, path: &str, body: Value) -> Value {
        let answer = self.call(base, method.clone(), path, Some(body)).await;
        match answer {
            Ok((status, body)) if status < 300 => body,
            other => panic!("{method} {path}: {other:?}"),
        }
    }
}
