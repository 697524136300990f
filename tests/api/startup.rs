//! Start-up: database creation, concurrent migrations, the admin bootstrap, the generated secret,
//! and the CLI.

use std::io::Write;
use std::process::{Command, Stdio};

use maskd::config::{Config, Secret};
use maskd::startup::Application;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestApp, TestDatabase, spawn_app};

fn config_for(url: String, admin: Option<&str>, secret: Option<&str>) -> Config {
    Config {
        admin_password: admin.map(Secret::new),
        secret_key: secret.map(Secret::new),
        db_pool_size: 4,
        token_ttl: std::time::Duration::from_secs(60),
        ..crate::common::config(url, &crate::common::Settings::default())
    }
}

/// Three instances start at once on a database that does not exist yet: it is created once and
/// every migration is applied exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_create_and_migrate_once() {
    let db = TestDatabase {
        name: format!("maskd_test_new_{}", hex::encode(rand::random::<[u8; 6]>())),
    };
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let config = config_for(db.url(), Some("pw"), Some("k"));
            tokio::spawn(async move { Application::build(config).await.map(|a| a.pool().clone()) })
        })
        .collect();
    let mut pools = vec![];
    for s in starts {
        pools.push(s.await.unwrap().expect("every instance starts"));
    }
    let applied: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT version, count(*) FROM refinery_schema_history GROUP BY version ORDER BY version",
    )
    .fetch_all(&pools[0])
    .await
    .unwrap();
    assert!(!applied.is_empty());
    assert!(applied.iter().all(|(_, n)| *n == 1), "{applied:?}");
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&pools[0])
        .await
        .unwrap();
    assert_eq!(admins, 1, "the admin is bootstrapped once");
    for p in pools {
        p.close();
    }
}

/// The admin bootstrap happens only while no user exists.
#[tokio::test]
async fn admin_bootstrap_only_on_an_empty_user_table() {
    let app = spawn_app().await;
    let again = Application::build(config_for(
        app.db.url(),
        Some("another-password"),
        Some("test-secret-key"),
    ))
    .await
    .unwrap();
    let port = again.port();
    tokio::spawn(again.run_until_stopped());
    let url = format!("http://127.0.0.1:{port}/masking/api/login");
    let r = app
        .client
        .post(&url)
        .json(&json!({"username": "admin", "password": "another-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .client
        .post(&url)
        .json(&json!({"username": "admin", "password": crate::common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Without MASKD_SECRET_KEY a secret is generated once and shared: a connector password stored
/// through one instance is usable through another.
#[tokio::test]
async fn a_generated_secret_is_shared_by_instances() {
    let db = TestDatabase::from_template().await;
    let mut apps = vec![];
    for _ in 0..2 {
        let app = Application::build(config_for(db.url(), Some("pw"), None))
            .await
            .unwrap();
        apps.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until_stopped());
    }
    let secrets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM settings WHERE name = 'generated_secret_key'")
            .fetch_one(
                &maskd::db::pool(&db.url(), 1, std::time::Duration::from_secs(15))
                    .await
                    .unwrap(),
            )
            .await
            .unwrap();
    assert_eq!(secrets, 1);

    let client = crate::common::http_client();
    let mut tokens = vec![];
    for a in &apps {
        let r: serde_json::Value = client
            .post(format!("{a}/masking/api/login"))
            .json(&json!({"username": "admin", "password": "pw"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(r["Authorization"].as_str().unwrap().to_owned());
    }
    let test_app = TestApp {
        address: apps[0].clone(),
        pool: maskd::db::pool(&db.url(), 2, std::time::Duration::from_secs(15))
            .await
            .unwrap(),
        client: client.clone(),
        admin_token: tokens[0].clone(),
        db,
    };
    test_app.create_target_table().await;
    let env = test_app
        .post(
            "/environments",
            json!({"environmentName": "e", "applicationName": "a"}),
        )
        .await;
    let c = test_app
        .post(
            "/database-connectors",
            test_app.connector_body(env.body["environmentId"].as_i64().unwrap()),
        )
        .await;
    let cid = c.body["databaseConnectorId"].as_i64().unwrap();
    let other = TestApp {
        address: apps[1].clone(),
        admin_token: tokens[1].clone(),
        ..test_app
    };
    let tested = other
        .call(
            Method::POST,
            &format!("/database-connectors/{cid}/test"),
            Some(&other.admin_token),
            None,
        )
        .await;
    assert_eq!(
        tested.body["response"], "Connection Succeeded",
        "{:?}",
        tested.body
    );
}

fn maskd_command(db: &TestDatabase) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maskd"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("MASKD_SECRET_KEY", "test-secret-key")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    cmd
}

#[tokio::test]
async fn cli_user_add_and_migrate() {
    let app = spawn_app().await;
    let add = |name: &str, role: &str, password: &str| {
        let mut child = maskd_command(&app.db)
            .args(["user", "add", name, "--role", role])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A maskd that exits before reading stdin closes the pipe; its stderr then says why.
        let _ = child.stdin.take().unwrap().write_all(password.as_bytes());
        child.wait_with_output().unwrap()
    };
    let out = add("olivia", "OPERATOR", "op-secret\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = app.login("olivia", "op-secret").await;
    let a = app
        .call(
            Method::POST,
            "/environments",
            Some(&token),
            Some(json!({"environmentName": "x", "applicationName": "y"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "an OPERATOR");

    let dup = add("olivia", "ADMIN", "x\n");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let bad_role = add("bob", "ROOT", "x\n");
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("ADMIN, OPERATOR or AUDITOR"));
    let empty = add("carol", "AUDITOR", "");
    assert!(!empty.status.success());

    let migrate = maskd_command(&app.db).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let bad = maskd_command(&app.db)
        .env("MASKD_WORKERS", "lots")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("MASKD_WORKERS"));
}
