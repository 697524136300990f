//! `maskd rotate-secret` (the real binary): connector passwords move from the old secret key to the
//! new one, an instance on the new key still connects, a wrong old key changes nothing, and a
//! second run is a no-op.

use std::process::{Command, Output};

use maskd::config::{Config, Secret};
use maskd::crypto::Keys;
use maskd::startup::Application;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{
    ADMIN_PASSWORD, Settings, TestApp, TestDatabase, config, server_password, spawn_app,
};

const OLD_KEY: &str = "test-secret-key";
const NEW_KEY: &str = "the-new-secret-key";

/// `maskd rotate-secret` on `db_url`, with the old key (None: unset) and the new one.
fn rotate(db_url: &str, old: Option<&str>, new: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maskd"));
    cmd.arg("rotate-secret")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    if let Some(old) = old {
        cmd.env("MASKD_OLD_SECRET_KEY", old);
    }
    if let Some(new) = new {
        cmd.env("MASKD_SECRET_KEY", new);
    }
    cmd.output().expect("maskd runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The password every test connector is created with (see `TestApp::connector_body`).
fn connector_password() -> String {
    server_password().unwrap_or_else(|| "unused-with-trust-auth".into())
}

/// Every connector's stored password, by id.
async fn stored(app: &TestApp) -> Vec<(i64, Option<Vec<u8>>)> {
    sqlx::query_as(
        "SELECT database_connector_id, password_encrypted FROM database_connectors ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// `POST /database-connectors/{id}/test` through the instance at `address`.
async fn test_connector(
    app: &TestApp,
    address: &str,
    token: &str,
    id: i64,
) -> (StatusCode, String) {
    let r = app
        .client
        .post(format!(
            "{address}/masking/api/database-connectors/{id}/test"
        ))
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Another instance on the test's database, with `secret` as MASKD_SECRET_KEY (None: unset); its
/// address.
async fn instance(db_url: &str, secret: Option<&str>) -> String {
    let app = Application::build(Config {
        secret_key: secret.map(Secret::new),
        db_pool_size: 4,
        token_ttl: std::time::Duration::from_secs(600),
        ..config(db_url.to_owned(), &Settings::default())
    })
    .await
    .expect("the instance starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

#[tokio::test]
async fn rotation_re_encrypts_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    app.create_target_table().await;
    let with_password = app.create_connector().await;
    let env = app
        .post(
            "/environments",
            json!({"environmentName": "no-pw", "applicationName": "app"}),
        )
        .await;
    let mut body = app.connector_body(env.body["environmentId"].as_i64().unwrap());
    body.as_object_mut().unwrap().remove("password");
    let without_password = app.post("/database-connectors", body).await;
    assert_eq!(without_password.status, StatusCode::CREATED);
    let before = stored(&app).await;

    let out = rotate(&app.db.url(), Some(OLD_KEY), Some(NEW_KEY));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "re-encrypted under the new key: 1; already under it: 0; connectors without a password: 1; not decryptable: 0"
        ),
        "{}",
        stderr(&out)
    );
    let after = stored(&app).await;
    let ciphertext = |rows: &[(i64, Option<Vec<u8>>)], id: i64| {
        rows.iter().find(|(i, _)| *i == id).unwrap().1.clone()
    };
    let rotated = ciphertext(&after, with_password).expect("still has a password");
    assert_ne!(Some(rotated.clone()), ciphertext(&before, with_password));
    assert_eq!(
        Keys::from_secret(NEW_KEY.as_bytes())
            .decrypt_password(&rotated)
            .unwrap(),
        connector_password()
    );
    assert!(
        Keys::from_secret(OLD_KEY.as_bytes())
            .decrypt_password(&rotated)
            .is_err()
    );
    let no_password = without_password.body["databaseConnectorId"]
        .as_i64()
        .unwrap();
    assert_eq!(ciphertext(&after, no_password), None);

    // An instance on the new key connects; one still on the old key no longer can.
    let new_instance = instance(&app.db.url(), Some(NEW_KEY)).await;
    let (status, body) = test_connector(&app, &new_instance, &app.admin_token, with_password).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Connection Succeeded"), "{body}");
    let (status, body) = test_connector(&app, &app.address, &app.admin_token, with_password).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("cannot be decrypted"), "{body}");

    let again = rotate(&app.db.url(), Some(OLD_KEY), Some(NEW_KEY));
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("re-encrypted under the new key: 0; already under it: 1"),
        "{}",
        stderr(&again)
    );
    assert_eq!(stored(&app).await, after, "a second run changes nothing");
}

#[tokio::test]
async fn a_wrong_old_key_changes_nothing_and_says_what_to_do() {
    let app = spawn_app().await;
    app.create_target_table().await;
    let first = app.create_connector().await;
    let second = app.create_connector().await;
    let before = stored(&app).await;

    let out = rotate(&app.db.url(), Some("not-the-old-key"), Some(NEW_KEY));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(&format!(
            "database connector(s) {first}, {second} cannot be decrypted"
        )),
        "{message}"
    );
    assert!(
        message.contains("MASKD_OLD_SECRET_KEY")
            && message.contains("set each of these connectors' password again"),
        "{message}"
    );
    assert_eq!(stored(&app).await, before, "nothing changed");
    let (status, _) = test_connector(&app, &app.address, &app.admin_token, first).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the instance on the old key still connects"
    );

    let no_new_key = rotate(&app.db.url(), Some(OLD_KEY), None);
    assert_eq!(no_new_key.status.code(), Some(1));
    assert!(stderr(&no_new_key).contains("set MASKD_SECRET_KEY to the new key"));
    let same_key = rotate(&app.db.url(), Some(OLD_KEY), Some(OLD_KEY));
    assert_eq!(same_key.status.code(), Some(1));
    assert!(stderr(&same_key).contains("the old and the new key are the same"));
    let no_generated_key = rotate(&app.db.url(), None, Some(NEW_KEY));
    assert_eq!(no_generated_key.status.code(), Some(1));
    assert!(
        stderr(&no_generated_key).contains("set MASKD_OLD_SECRET_KEY"),
        "{}",
        stderr(&no_generated_key)
    );
    assert_eq!(stored(&app).await, before, "nothing changed");
}

/// Instances that ran without MASKD_SECRET_KEY used the key generated in the database: with
/// MASKD_OLD_SECRET_KEY unset, that is the old key.
#[tokio::test]
async fn without_an_old_key_the_generated_key_is_rotated_from() {
    let db = TestDatabase::from_template().await;
    let address = instance(&db.url(), None).await;
    let mut app = TestApp {
        address,
        pool: maskd::db::pool(&db.url(), 2, std::time::Duration::from_secs(15))
            .await
            .unwrap(),
        client: crate::common::http_client(),
        admin_token: String::new(),
        db,
    };
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    app.create_target_table().await;
    let connector = app.create_connector().await;

    let out = rotate(&app.db.url(), None, Some(NEW_KEY));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("re-encrypted under the new key: 1"),
        "{}",
        stderr(&out)
    );
    // Login tokens live in the database: the token from the first instance works on this one.
    let new_instance = instance(&app.db.url(), Some(NEW_KEY)).await;
    let (status, body) = test_connector(&app, &new_instance, &app.admin_token, connector).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Connection Succeeded"), "{body}");
}

/// The statement each row changes with: a password set since it was read is left alone.
#[tokio::test]
async fn a_password_set_meanwhile_is_not_overwritten() {
    let app = spawn_app().await;
    app.create_target_table().await;
    let connector = app.create_connector().await;
    let read = stored(&app).await[0].1.clone().unwrap();
    let set = app
        .put(
            &format!("/database-connectors/{connector}"),
            json!({"password": "set-meanwhile"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let replaced =
        maskd::store::connectors::replace_password(&app.pool, connector, &read, b"stale rotation")
            .await
            .unwrap();
    assert!(!replaced);
    let now = stored(&app).await[0].1.clone().unwrap();
    assert_eq!(
        Keys::from_secret(OLD_KEY.as_bytes())
            .decrypt_password(&now)
            .unwrap(),
        "set-meanwhile"
    );
}
