//! Every error answer is `{"errorMessage": ...}`, including actix's own.

use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;

use crate::common::spawn_app;

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_bodies_answer_json() {
    let app = spawn_app().await;
    let a = app.get("/no-such-thing").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.error_message().contains("/no-such-thing"));
    let a = app.call_at("", Method::GET, "/nowhere", None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    let a = app.delete("/executions/1").await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        a.error_message().contains("DELETE"),
        "{}",
        a.error_message()
    );
    let a = app.call(Method::GET, "/login", None, None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);

    let url = format!("{}/masking/api/environments", app.address);
    let send = |body: &'static str, ct: &'static str| {
        app.client
            .post(&url)
            .header("Authorization", &app.admin_token)
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let r = send("{not json", "application/json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let r = send("environmentName=x", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        r.json::<serde_json::Value>().await.unwrap()["errorMessage"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );

    let r = send(
        r#"{"environmentName": 5, "applicationName": "a"}"#,
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .client
        .post(&url)
        .header("Authorization", &app.admin_token)
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"environmentName": "{big}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.json::<serde_json::Value>().await.unwrap()["errorMessage"].is_string());
    assert_eq!(
        app.get("/environments").await.body["_pageInfo"]["total"],
        0,
        "nothing was created"
    );
}

#[tokio::test]
async fn empty_object_bodies_are_accepted_where_nothing_is_required() {
    let app = spawn_app().await;
    let a = app
        .call(
            Method::PUT,
            "/logout",
            Some(&app.admin_token),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
}

/// When maskd's address leads to a database that refuses writes (as a standby does after a
/// failover went wrong), requests answer 503 saying so, never 500.
#[tokio::test]
async fn a_read_only_database_answers_503_not_500() {
    let app = spawn_app().await;
    let database = &app.db.name;
    // From a connection of its own, so that none of the pool's survives.
    let mut own = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" SET default_transaction_read_only = on"
    ))
    .execute(&mut own)
    .await
    .unwrap();
    // New connections take the setting: drop the pool's current ones.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut own)
    .await
    .unwrap();
    let mut answer = app.get("/applications").await;
    for _ in 0..20 {
        if answer.status != StatusCode::SERVICE_UNAVAILABLE
            || answer.error_message().contains("read-only")
        {
            break;
        }
        // A request that met a terminated connection: the pool reconnects on the next one.
        answer = app.get("/applications").await;
    }
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert!(answer.error_message().contains("read-only"), "{answer:?}");
}
