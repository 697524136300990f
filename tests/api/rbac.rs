//! The role matrix: every endpoint the app serves, called with no token, an unknown token, and a
//! token of each role, gets 401, 403, or through to its handler, exactly as the contract says; and
//! the route table declares for each the role the contract gives it.

use maskd::types::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::spawn_app;

/// The role an operation needs (None: public), written out from the contract, not from the code:
/// AUDITOR reads, OPERATOR also runs and cancels executions, ADMIN does everything.
fn needed(method: &str, path: &str) -> Option<Role> {
    match (method, path) {
        (
            _,
            "/login"
            | "/system-information"
            | "/healthz"
            | "/readyz"
            | "/openapi.json"
            | "/swagger-basepath.json",
        ) => None,
        ("get", _) | ("put", "/logout") => Some(Role::Auditor),
        ("post", "/executions" | "/executions/{executionId}/cancel") => Some(Role::Operator),
        _ => Some(Role::Admin),
    }
}

#[derive(Debug, Clone, Copy)]
enum Caller {
    Anonymous,
    UnknownToken,
    User(Role),
}

#[tokio::test]
async fn every_endpoint_times_every_role() {
    let app = spawn_app().await;
    let callers = [
        Caller::Anonymous,
        Caller::UnknownToken,
        Caller::User(Role::Auditor),
        Caller::User(Role::Operator),
        Caller::User(Role::Admin),
    ];
    for route in maskd::api::ROUTES {
        let (method, path) = (route.method, route.path);
        assert_eq!(
            route.role,
            needed(method, path),
            "{method} {path} in ROUTES"
        );
        // Ids that exist nowhere, so an allowed call reaches its handler and changes nothing.
        let concrete = path
            .replace("{algorithmName}", "NoSuchAlgorithm")
            .replace("{domainName}", "NO_SUCH_DOMAIN")
            .split('/')
            .map(|s| if s.starts_with('{') { "999999" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let body = (method != "get" && method != "delete").then(|| json!({}));
        for caller in callers {
            // A fresh token per call: PUT /logout ends the token it is called with.
            let token = match caller {
                Caller::Anonymous => None,
                Caller::UnknownToken => Some("f".repeat(64)),
                Caller::User(role) => Some(app.user_token(role).await),
            };
            let answer = app
                .call(
                    http_method.clone(),
                    &concrete,
                    token.as_deref(),
                    body.clone(),
                )
                .await;
            let status = answer.status;
            let at = format!("{method} {path} as {caller:?}: {answer:?}");
            match (needed(method, path), caller) {
                (Some(_), Caller::Anonymous | Caller::UnknownToken) => {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{at}");
                }
                (Some(role), Caller::User(has)) if has < role => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{at}");
                    assert!(answer.error_message().contains(role.as_str()), "{at}");
                }
                _ => {
                    assert!(
                        status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                        "{at}"
                    );
                    assert!(!status.is_server_error(), "{at}");
                }
            }
        }
    }

    // Nothing was created or deleted by any of those calls.
    for list in [
        "/applications",
        "/environments",
        "/masking-jobs",
        "/executions",
    ] {
        let answer = app.get(list).await;
        assert_eq!(answer.body["_pageInfo"]["total"], 0, "{list}: {answer:?}");
    }
}
