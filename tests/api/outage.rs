//! maskd's database out of reach mid-run, as during a restart or failover of PostgreSQL: a
//! `maskd serve` process (the real binary) reaches it through a proxy the test cuts. The running
//! execution fails, and once the database is back it is ended, its SQL objects restored, even
//! though its own instance, which could not record the end, is still alive.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::crm::{create_customers, create_masking_job, sql_objects_state};
use crate::common::maskd_serve::maskd_serve;
use crate::common::proxy::Proxy;
use crate::common::{Settings, spawn_app_with, wait_until_ready, watch};

/// A `maskd serve` process whose log lines arrive on `log`; killed when dropped.
struct Instance {
    child: Child,
    log: mpsc::Receiver<String>,
}

impl Instance {
    fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(e) => panic!("maskd never logged '{text}': {e}"),
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_instance(database_url: &str, client: &reqwest::Client) -> Instance {
    let (mut command, url) = maskd_serve(database_url);
    let mut child = command
        .env("MASKD_WORKERS", "1")
        .stderr(Stdio::piped())
        .spawn()
        .expect("maskd starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    wait_until_ready(client, &url).await;
    Instance { child, log }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_whose_end_could_not_be_recorded_is_ended_once_the_database_is_back() {
    // The test's own instance runs no workers and reaches the database directly.
    let app = spawn_app_with(Settings::default()).await;
    create_customers(&app, 200_000).await;
    let job = create_masking_job(
        &app,
        json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true}),
    )
    .await;
    let proxy = Proxy::start().await;
    let mut url = url::Url::parse(&app.db.url()).unwrap();
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let instance = start_instance(url.as_str(), &app.client).await;

    let id = app.submit(job).await;
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!(
        (trigger.as_str(), indexes, fk),
        ("D", 0, false),
        "disabled and dropped"
    );
    proxy.cut();
    // The run fails at its next write to maskd's database, then cannot record what became of its
    // SQL objects, so it leaves the execution open.
    tokio::task::block_in_place(|| {
        instance.wait_for_log("the execution stays open until another instance takes it over")
    });
    proxy.restore();

    let last = watch(&app, id, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let types = app.event_types(id).await;
    assert!(types.iter().any(|t| t == "JOB_ABORTED"), "{types:?}");
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!((trigger.as_str(), indexes, fk), ("O", 2, true), "restored");
}
