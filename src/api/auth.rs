//! Login tokens and roles: `POST /login`, `PUT /logout`, and the extractor that every protected
//! handler takes first.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::request;
use super::throttle::{self, LoginKeys};
use crate::crypto;
use crate::store::tokens::{self, TokenUser};
use crate::types::Role;

/// The user behind a valid token.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: TokenUser,
    token_hash: Vec<u8>,
}

impl AuthUser {
    /// 403 unless the user's role is at least `needed`.
    pub fn require(&self, needed: Role) -> ApiResult<()> {
        if self.user.role >= needed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "user '{}' has role {} and may not do this: it needs {}",
                self.user.username, self.user.role, needed
            )))
        }
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    (!token.is_empty()).then(|| token.to_owned())
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.expect("AppState is registered");
            let Some(token) = token else {
                return Err(ApiError::Unauthorized(
                    "log in first: POST /login, then send the token in the Authorization header"
                        .into(),
                ));
            };
            let token_hash = crypto::token_hash(&token);
            if let Some(user) = state.token_cache.get(&token_hash) {
                return Ok(AuthUser { user, token_hash });
            }
            let began = Instant::now();
            match tokens::touch(&state.pool, &token_hash, state.token_ttl).await? {
                Some(user) => {
                    state
                        .token_cache
                        .put(token_hash.clone(), user.clone(), began);
                    Ok(AuthUser { user, token_hash })
                }
                None => Err(ApiError::Unauthorized(
                    "the token is unknown or has expired; log in again with POST /login".into(),
                )),
            }
        })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = Login)]
struct LoginBody {
    #[schema(required = true)]
    username: Option<String>,
    #[schema(required = true, format = Password)]
    password: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct LoginAnswer {
    /// The token to send in the `Authorization` header.
    #[serde(rename = "Authorization")]
    authorization: String,
}

/// Logs in.
///
/// Answers a token that expires after `MASKD_TOKEN_TTL_SECS` without use.
///
/// After 5 failed logins in a row for a username from one address, or 50 from one address for any
/// usernames, logins for it are answered 429 for 30 seconds, doubled with each further failure up
/// to 15 minutes. Failures are forgotten 15 minutes after the last one or the end of its block;
/// a successful login forgets the username's failures from that address.
#[utoipa::path(post, path = "/login", operation_id = "login", tag = "login", security(()),
    request_body = LoginBody,
    responses(
        (status = 200, description = "Logged in", body = LoginAnswer),
        (status = 401, description = "Wrong username or password", body = super::error::ErrorAnswer),
        (status = 429, description = "Too many failed logins for this username from this address, or from this address: try again after Retry-After seconds (the password is not checked meanwhile)",
            body = super::error::ErrorAnswer,
            headers(("Retry-After" = u64, description = "Seconds until logins are accepted again"))),
    ),
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body: LoginBody = request::json(&req, &body)?;
    let username = request::required_text("username", body.username)?;
    let password = body
        .password
        .ok_or_else(|| ApiError::BadRequest("password is required".into()))?;
    let attempt = LoginKeys::new(
        throttle::client_address(&req, &state.trusted_proxies),
        &username,
    );
    attempt.check(&state.pool).await?;
    let stored = crate::store::users::credentials(&state.pool, &username).await?;
    let hash = stored.as_ref().map(|c| c.password_hash.clone());
    let verified = web::block(move || crypto::verify_password(&password, hash.as_deref()))
        .await
        .map_err(ApiError::internal)?;
    let (true, Some(credentials)) = (verified, stored) else {
        tracing::info!(username = %username, client = %attempt.client, "failed login");
        attempt.failed(&state.pool, &state.login_throttle).await?;
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    };
    attempt.succeeded(&state.pool).await?;
    // Housekeeping: expired tokens can never be used again.
    tokens::delete_expired(&state.pool, state.token_ttl).await?;
    let token = crypto::new_token();
    tokens::create(
        &state.pool,
        &crypto::token_hash(&token),
        credentials.user_id,
    )
    .await?;
    tracing::info!(username = %username, client = %attempt.client, "login");
    Ok(HttpResponse::Ok().json(LoginAnswer {
        authorization: token,
    }))
}

/// Logs out: the token ends.
#[utoipa::path(put, path = "/logout", operation_id = "logout", tag = "login",
    responses((status = 204, description = "Logged out")),
)]
pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> ApiResult<HttpResponse> {
    tokens::delete(&state.pool, &user.token_hash).await?;
    state.token_cache.forget(&user.token_hash);
    Ok(HttpResponse::NoContent().finish())
}
