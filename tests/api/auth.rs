//! Login, logout, token expiry, roles.

use std::time::Duration;

use maskd::types::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{ADMIN_PASSWORD, Settings, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_and_logout() {
    let app = spawn_app().await;
    for (user, pw) in [("admin", "wrong"), ("nobody", ADMIN_PASSWORD)] {
        let a = app
            .call(
                Method::POST,
                "/login",
                None,
                Some(json!({"username": user, "password": pw})),
            )
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.error_message(), "wrong username or password");
    }
    assert_eq!(
        app.call(
            Method::POST,
            "/login",
            None,
            Some(json!({"username": "admin"}))
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    let token = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(token.len(), 64, "256-bit token, hex");
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_tokens WHERE token_hash = sha256($1::bytea)",
    )
    .bind(token.as_bytes())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 1, "tokens are stored hashed");
    let in_clear: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_tokens WHERE encode(token_hash, 'hex') = $1",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(in_clear, 0);

    assert_eq!(
        app.call(Method::GET, "/applications", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::PUT, "/logout", Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, "/applications", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.call(Method::PUT, "/logout", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_idle_token_expires_and_a_used_one_does_not() {
    let app = spawn_app_with(Settings {
        token_ttl: Duration::from_secs(3),
        ..Default::default()
    })
    .await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    // Used every 0.9 s: a check trusted from the token cache does not write the last-used time,
    // so the database may see up to 1.8 s between writes, still within the 3 s.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(
            app.call(Method::GET, "/environments", Some(&token), None)
                .await
                .status,
            StatusCode::OK
        );
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let a = app
        .call(Method::GET, "/environments", Some(&token), None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.error_message().contains("expired"));
}

/// Token checks are cached for up to a second per instance (so that a busy client's requests do
/// not all write its token's row): a logout is honoured at once by the instance that served it,
/// and within that second by the others.
#[tokio::test]
async fn a_logout_is_honoured_by_every_instance_within_a_second() {
    let app = spawn_app().await;
    let other = app.another_instance(&Settings::default()).await;
    let token = app.login("admin", ADMIN_PASSWORD).await;
    let environments_at = |address: String| {
        let (client, token) = (app.client.clone(), token.clone());
        async move {
            client
                .get(format!("{address}/masking/api/environments"))
                .header("Authorization", token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Both instances check the token, and cache the check.
    assert_eq!(environments_at(app.address.clone()).await, StatusCode::OK);
    assert_eq!(environments_at(other.clone()).await, StatusCode::OK);
    let out = app.call(Method::PUT, "/logout", Some(&token), None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        environments_at(app.address.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(environments_at(other).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unauthenticated_requests_get_401_never_403() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/applications"),
        (Method::GET, "/environments"),
        (Method::POST, "/environments"),
        (Method::DELETE, "/masking-jobs/1"),
        (Method::GET, "/executions"),
        (Method::POST, "/executions"),
        (Method::GET, "/algorithms"),
        (Method::PUT, "/logout"),
    ] {
        let a = app.call(method.clone(), path, None, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    for path in ["/system-information", "/healthz", "/readyz"] {
        assert_eq!(
            app.call(Method::GET, path, None, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    let info = app
        .call(Method::GET, "/system-information", None, None)
        .await
        .body;
    assert_eq!(info["version"], "2025.3.0.0");
    assert_eq!(info["apiVersion"], "5.1.43");
    assert_eq!(info["productName"], "maskd");
}

#[tokio::test]
async fn roles_decide_what_a_user_may_do() {
    let app = spawn_app().await;
    let job = app.create_job().await;
    let auditor = app.user_token(Role::Auditor).await;
    let operator = app.user_token(Role::Operator).await;

    // Everyone may read.
    for token in [&auditor, &operator] {
        assert_eq!(
            app.call(Method::GET, "/masking-jobs", Some(token), None)
                .await
                .status,
            StatusCode::OK
        );
    }
    // Configuration is ADMIN's.
    for token in [&auditor, &operator] {
        let a = app
            .call(
                Method::POST,
                "/environments",
                Some(token),
                Some(json!({"environmentName": "x", "applicationName": "a"})),
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.call(
                Method::DELETE,
                &format!("/masking-jobs/{job}"),
                Some(token),
                None
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
    }
    // Executions: OPERATOR yes, AUDITOR no.
    let a = app
        .call(
            Method::POST,
            "/executions",
            Some(&auditor),
            Some(json!({"jobId": job})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = app
        .call(
            Method::POST,
            "/executions",
            Some(&operator),
            Some(json!({"jobId": job})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(
        app.get("/environments").await.body["_pageInfo"]["total"],
        1,
        "nothing was created by the refused calls"
    );
}
