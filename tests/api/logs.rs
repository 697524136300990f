//! Logs of the real binary: JSON lines with `MASKD_LOG_FORMAT=json`, request ids on every request's
//! lines, executionId and jobId on every line about an execution, and never a secret.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::common::crm::{create_customers, create_masking_job};
use crate::common::{TestApp, TestDatabase, server_password, spawn_app, wait_until_ready, watch};

fn distinctive(what: &str) -> String {
    format!("{what}-{}", hex::encode(rand::random::<[u8; 6]>()))
}

fn is_generated_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A `maskd serve` process whose stderr goes to a file; killed when dropped.
struct LoggedInstance {
    child: Child,
    url: String,
    log: PathBuf,
}

impl LoggedInstance {
    async fn start(client: &reqwest::Client, env: &[(String, String)]) -> LoggedInstance {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::env::temp_dir().join(format!("{}.log", distinctive("maskd-logs")));
        let child = Command::new(env!("CARGO_BIN_EXE_maskd"))
            .arg("serve")
            .env_clear()
            .envs(env.iter().cloned())
            .env("MASKD_BIND", format!("127.0.0.1:{port}"))
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("maskd starts");
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(client, &url).await;
        LoggedInstance { child, url, log }
    }

    /// SIGTERM, then its log once it has exited 0.
    async fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let exit = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "maskd did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(exit.code(), Some(0));
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for LoggedInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Sends a request with `request_id` as its X-Request-Id; the status and the X-Request-Id answered.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    request_id: Option<&str>,
) -> (StatusCode, String) {
    let mut req = app
        .client
        .request(method, format!("{}/masking/api{path}", app.address));
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    if let Some(id) = request_id {
        req = req.header("X-Request-Id", id);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    (res.status(), id)
}

/// A line's fields: those of its spans, outermost first, then the event's own.
fn fields(line: &Value) -> Map<String, Value> {
    let mut all = Map::new();
    for span in line["spans"].as_array().into_iter().flatten() {
        all.extend(span.as_object().unwrap().clone());
    }
    all.extend(line["fields"].as_object().unwrap().clone());
    all
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

fn target(line: &Value) -> &str {
    line["target"].as_str().unwrap()
}

/// A small table `target.people` of 50 rows, its first names masked by a job; the job's id.
async fn small_job(app: &TestApp) -> i64 {
    let rs = app.create_ruleset().await;
    sqlx::query(
        "INSERT INTO target.people (id, first_name) SELECT g, 'Name' || g FROM generate_series(1, 50) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app.mask_columns(rs, "people", &[("first_name", "FirstNameLookup")])
        .await;
    app.create_job_on(rs).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_and_execution_ids_and_never_a_secret() {
    let db = TestDatabase::from_template().await;
    let admin_password = distinctive("admin-pw");
    let secret_key = distinctive("secret-key");
    let user_password = distinctive("user-pw");
    let wrong_password = distinctive("wrong-pw");
    // With a trust-auth server any password is accepted, so distinctive ones can be checked for;
    // otherwise the server's real password is the secret.
    let database_password = server_password().unwrap_or_else(|| distinctive("db-pw"));
    let connector_password = server_password().unwrap_or_else(|| distinctive("connector-pw"));
    let mut database_url = url::Url::parse(&db.url()).unwrap();
    database_url.set_password(Some(&database_password)).unwrap();
    let env: Vec<(String, String)> = [
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("DATABASE_URL", database_url.to_string()),
        ("MASKD_WORKERS", "1".into()),
        ("MASKD_ADMIN_PASSWORD", admin_password.clone()),
        ("MASKD_SECRET_KEY", secret_key.clone()),
        ("MASKD_HEARTBEAT_SECS", "1".into()),
        ("MASKD_SHUTDOWN_GRACE_SECS", "5".into()),
        ("MASKD_LOG_FORMAT", "json".into()),
        ("RUST_LOG", "trace".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();

    let client = crate::common::http_client();
    let instance = LoggedInstance::start(&client, &env).await;
    let pool = maskd::db::pool(&db.url(), 2, Duration::from_secs(15))
        .await
        .unwrap();
    let mut app = TestApp {
        address: instance.url.clone(),
        pool,
        client,
        admin_token: String::new(),
        db,
    };

    // Logins, a failed one among them, and a user added through the CLI who logs in and out.
    let (status, _) = send(
        &app,
        Method::POST,
        "/login",
        None,
        Some(json!({"username": "admin", "password": wrong_password})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.admin_token = app.login("admin", &admin_password).await;
    let mut cli = Command::new(env!("CARGO_BIN_EXE_maskd"))
        .args(["user", "add", "operator1", "--role", "OPERATOR"])
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(cli.stdin.take().unwrap(), "{user_password}").unwrap();
    let cli = cli.wait_with_output().unwrap();
    assert!(cli.status.success(), "{cli:?}");
    let user_token = app.login("operator1", &user_password).await;
    let (status, id) = send(
        &app,
        Method::GET,
        "/executions",
        Some(&user_token),
        None,
        Some("logs-test-user"),
    )
    .await;
    assert_eq!((status, id.as_str()), (StatusCode::OK, "logs-test-user"));
    let (status, _) = send(&app, Method::PUT, "/logout", Some(&user_token), None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(
        &app,
        Method::GET,
        "/executions",
        Some(&user_token),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Request ids: a well-formed one is kept, a missing or malformed one replaced.
    let admin = Some(app.admin_token.as_str());
    let (_, kept) = send(
        &app,
        Method::GET,
        "/executions",
        admin,
        None,
        Some("logs-test-1"),
    )
    .await;
    assert_eq!(kept, "logs-test-1");
    let (_, generated) = send(&app, Method::GET, "/executions", admin, None, None).await;
    assert!(is_generated_id(&generated), "{generated}");
    let malformed = format!("{}z", "x".repeat(200));
    let (_, replaced) = send(
        &app,
        Method::GET,
        "/executions",
        admin,
        None,
        Some(&malformed),
    )
    .await;
    assert!(is_generated_id(&replaced), "{replaced}");

    // A long job to cancel and a small one to run to the end, through connectors whose password
    // is the distinctive one.
    create_customers(&app, 200_000).await;
    let long_job =
        create_masking_job(&app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let short_job = small_job(&app).await;
    let connectors = app.get("/database-connectors").await;
    for c in connectors.body["responseList"].as_array().unwrap() {
        let id = &c["databaseConnectorId"];
        let put = app
            .put(
                &format!("/database-connectors/{id}"),
                json!({"password": connector_password}),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
        let test = app
            .post(&format!("/database-connectors/{id}/test"), json!({}))
            .await;
        assert_eq!(test.status, StatusCode::OK, "{:?}", test.body);
    }
    let finished = app.submit(short_job).await;
    let last = watch(&app, finished, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(
        (last["status"].as_str(), last["rowsMasked"].as_i64()),
        (Some("SUCCEEDED"), Some(50))
    );
    let cancelled = app.submit(long_job).await;
    watch(&app, cancelled, |e| {
        e["rowsMasked"].as_i64().unwrap_or(0) > 0
    })
    .await;
    let a = app
        .cancel(cancelled, "?expectedStatus=RUNNING&graceful=true")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let last = watch(&app, cancelled, |e| e["endTime"].is_string())
        .await
        .pop()
        .unwrap();
    assert_eq!(last["status"], "CANCELLED");

    let log = instance.stop().await;

    // Every line is a JSON object, and no secret appears anywhere.
    let lines: Vec<Value> = log
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            assert!(v.is_object() && v["target"].is_string(), "{l}");
            v
        })
        .collect();
    assert!(lines.len() > 100, "RUST_LOG=trace logs plenty");
    let cli_output = format!(
        "{}{}",
        String::from_utf8_lossy(&cli.stdout),
        String::from_utf8_lossy(&cli.stderr)
    );
    for (what, secret) in [
        ("MASKD_ADMIN_PASSWORD", &admin_password),
        ("MASKD_SECRET_KEY", &secret_key),
        ("DATABASE_URL's password", &database_password),
        ("the connector password", &connector_password),
        ("the user's password", &user_password),
        ("the failed login's password", &wrong_password),
        ("the admin's token", &app.admin_token),
        ("the user's token", &user_token),
    ] {
        assert!(!log.contains(secret.as_str()), "{what} is in the log");
        assert!(
            !cli_output.contains(secret.as_str()),
            "{what} is in the CLI's output"
        );
    }

    // Requests: every line of maskd's API is logged inside its request's span, and each answered
    // request has a line naming its id, route and status.
    for line in lines.iter().filter(|l| target(l).starts_with("maskd::api")) {
        let request = line["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["name"] == "request"))
            .unwrap_or_else(|| panic!("outside a request: {line}"));
        assert!(request["requestId"].is_string(), "{line}");
    }
    let answered = |request_id: &str| {
        lines
            .iter()
            .find(|l| message(l) == "request answered" && fields(l)["requestId"] == request_id)
            .map(fields)
            .unwrap_or_else(|| panic!("no line for request {request_id}"))
    };
    for id in [
        "logs-test-1",
        "logs-test-user",
        generated.as_str(),
        replaced.as_str(),
    ] {
        let f = answered(id);
        assert_eq!(f["route"], "/masking/api/executions", "{f:?}");
        assert_eq!(f["status"], 200, "{f:?}");
    }
    assert!(
        !log.contains("xxxxxxxxxxz"),
        "a malformed request id is not used"
    );
    let failed_login = lines
        .iter()
        .find(|l| message(l) == "failed login")
        .map(fields)
        .expect("the failed login is logged");
    assert_eq!(failed_login["username"], "admin");
    assert!(failed_login["requestId"].is_string());

    // Executions: every line that names one names its job too, and every line of a run does.
    let jobs = [(finished, short_job), (cancelled, long_job)];
    for line in &lines {
        let f = fields(line);
        assert!(
            !f.contains_key("execution_id") && !f.contains_key("job_id"),
            "ids are named executionId and jobId: {line}"
        );
        if let Some(execution) = f.get("executionId") {
            let execution = execution.as_i64().unwrap();
            let job = jobs.iter().find(|(e, _)| *e == execution).map(|(_, j)| *j);
            assert_eq!(f["jobId"].as_i64(), job, "{line}");
        }
        // Everything the life of an execution logs is in its span; only the instance's services
        // (claiming, heartbeats, takeover passes) log outside one.
        let of_an_execution = ["lifecycle", "runner", "sql_objects", "events"]
            .iter()
            .any(|m| target(line).starts_with(&format!("maskd::engine::{m}")));
        if of_an_execution {
            assert!(f.contains_key("executionId"), "{line}");
        }
    }
    let said = |execution: i64, what: &str| {
        lines.iter().any(|l| {
            let f = fields(l);
            message(l) == what && f.get("executionId").and_then(Value::as_i64) == Some(execution)
        })
    };
    for (execution, what) in [
        (finished, "execution submitted"),
        (finished, "execution started"),
        (finished, "table masked"),
        (finished, "execution finished"),
        (cancelled, "execution submitted"),
        (cancelled, "execution started"),
        (cancelled, "execution cancelled"),
        (cancelled, "stopping the execution"),
        (cancelled, "cancelled execution stopped"),
    ] {
        assert!(
            said(execution, what),
            "no '{what}' for execution {execution}"
        );
    }
}

#[tokio::test]
async fn logs_are_readable_text_by_default() {
    let db = TestDatabase::from_template().await;
    let env: Vec<(String, String)> = vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("DATABASE_URL".into(), db.url()),
        ("MASKD_WORKERS".into(), "1".into()),
        ("RUST_LOG".into(), "info".into()),
    ];
    let client = crate::common::http_client();
    let instance = LoggedInstance::start(&client, &env).await;
    let res = client
        .get(format!("{}/masking/api/applications", instance.url))
        .header("X-Request-Id", "text-default-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let log = instance.stop().await;

    assert!(log.lines().count() >= 3, "{log}");
    for line in log.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_err(),
            "JSON without MASKD_LOG_FORMAT=json: {line}"
        );
    }
    assert!(log.contains("maskd is listening"), "{log}");
    let request = log
        .lines()
        .find(|l| l.contains("request answered"))
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert!(
        request.contains("requestId=text-default-1") && request.contains("status=401"),
        "{request}"
    );
    assert!(!log.contains('\x1b'), "no colour codes in a file: {log}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = spawn_app().await;
    let get = |path: &'static str, request_id: Option<&'static str>| {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(id) = request_id {
            req = req.header("X-Request-Id", id);
        }
        async move {
            let res = req.send().await.unwrap();
            let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
            (res.status(), id)
        }
    };
    // Errors from a handler, from the router, and from the authentication extractor alike.
    for path in [
        "/masking/api/applications",
        "/masking/api/no-such-thing",
        "/healthz",
    ] {
        let (_, kept) = get(path, Some("abc-123:x_y.z")).await;
        assert_eq!(kept, "abc-123:x_y.z", "{path}");
        let (_, new) = get(path, None).await;
        assert!(is_generated_id(&new), "{path}: {new}");
        let (_, replaced) = get(path, Some("two words")).await;
        assert!(is_generated_id(&replaced), "{path}: {replaced}");
    }
    let (first, second) = (get("/healthz", None).await.1, get("/healthz", None).await.1);
    assert_ne!(first, second, "each request gets its own id");
}
