//! Login tokens and roles: `POST /login`, `PUT /logout`, [`RequireRole`], the middleware that the
//! route table puts in front of every route needing a token, and [`AuthUser`], the user it admitted.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::time::Instant;

use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use futures_util::future::{Either, LocalBoxFuture};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::request;
use super::throttle::{self, LoginKeys};
use crate::crypto;
use crate::store::tokens::{self, TokenUser};
use crate::types::Role;

/// The user behind a valid token, admitted by [`RequireRole`].
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: TokenUser,
    token_hash: Vec<u8>,
}

/// Takes the user that [`RequireRole`] put in the request's extensions, without a second token
/// check. A public route has no such middleware, so a handler there cannot have a user: asking for
/// one is a mistake in the route table, answered 500 (which the RBAC test, calling every public
/// route, catches) rather than quietly demanding a token that the table and the document say is
/// not needed.
impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req.extensions().get::<AuthUser>().cloned();
        ready(user.ok_or_else(|| {
            ApiError::internal(std::io::Error::other(format!(
                "the handler of {} {} asks for the user, but the route table makes it public",
                req.method(),
                req.path()
            )))
        }))
    }
}

/// Route middleware: 401 without a valid token, 403 when the token's user has a role below `.0`;
/// otherwise the user goes into the request's extensions, for [`AuthUser`], and the handler runs.
/// So the role is checked before the handler reads anything (400s come after).
pub struct RequireRole(pub Role);

impl<S> Transform<S, ServiceRequest> for RequireRole
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse;
    type Error = actix_web::Error;
    type Transform = RequireRoleService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireRoleService {
            service: Rc::new(service),
            needed: self.0,
        }))
    }
}

pub struct RequireRoleService<S> {
    service: Rc<S>,
    needed: Role,
}

impl<S> Service<ServiceRequest> for RequireRoleService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse;
    type Error = actix_web::Error;
    /// A token checked within the last second (the token cache) is admitted synchronously and the
    /// handler's own future is answered; only a token lookup in the database (a round trip anyway)
    /// and a refusal are boxed.
    type Future = Either<S::Future, LocalBoxFuture<'static, Result<ServiceResponse, Self::Error>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let needed = self.needed;
        let Some(token_hash) = bearer(req.headers()).map(crypto::token_hash) else {
            return refuse(
                req,
                ApiError::Unauthorized(
                    "log in first: POST /login, then send the token in the Authorization header"
                        .into(),
                ),
            );
        };
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered");
        if let Some(user) = state.token_cache.get(&token_hash) {
            return match admit(&req, AuthUser { user, token_hash }, needed) {
                Ok(()) => Either::Left(self.service.call(req)),
                Err(e) => refuse(req, e),
            };
        }
        let state = state.clone();
        let service = Rc::clone(&self.service);
        Either::Right(Box::pin(async move {
            let began = Instant::now();
            let user = match tokens::touch(&state.pool, &token_hash, state.token_ttl).await {
                Ok(Some(user)) => user,
                Ok(None) => {
                    return Ok(req.error_response(ApiError::Unauthorized(
                        "the token is unknown or has expired; log in again with POST /login".into(),
                    )));
                }
                Err(e) => return Ok(req.error_response(ApiError::from(e))),
            };
            state
                .token_cache
                .put(token_hash.clone(), user.clone(), began);
            match admit(&req, AuthUser { user, token_hash }, needed) {
                Ok(()) => service.call(req).await,
                Err(e) => Ok(req.error_response(e)),
            }
        }))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
    (!token.is_empty()).then_some(token)
}

/// 403 unless the user's role is at least `needed`; else the user goes into the extensions.
fn admit(req: &ServiceRequest, user: AuthUser, needed: Role) -> ApiResult<()> {
    if user.user.role < needed {
        return Err(ApiError::Forbidden(format!(
            "user '{}' has role {} and may not do this: it needs {}",
            user.user.username, user.user.role, needed
        )));
    }
    req.extensions_mut().insert(user);
    Ok(())
}

fn refuse<F>(
    req: ServiceRequest,
    error: ApiError,
) -> Either<F, LocalBoxFuture<'static, Result<ServiceResponse, actix_web::Error>>> {
    Either::Right(Box::pin(ready(Ok(req.error_response(error)))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
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
#[utoipa::path(post, path = "/login", operation_id = "login", tag = "login",
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
