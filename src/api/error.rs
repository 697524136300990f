//! Every non-2xx answer is `{"errorMessage": "..."}` in words a user understands; internals
//! (SQL, connection strings) are logged, never sent.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::sql_error::sqlstate::*;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// Answered with `Retry-After: retry_after_secs`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What every error answer carries.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorAnswer<'a> {
    /// What is wrong, in words, and what to do about it.
    pub error_message: &'a str,
}

pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(ErrorAnswer {
        error_message: message,
    })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Internal(source) => {
                tracing::error!(error = %source, "internal error");
                "maskd hit an internal error; the details are in its log".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = error_response(self.status_code(), &message);
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        response
    }
}

impl ApiError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(e))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // A connection that broke mid-statement (a database restart or failover): the pool
            // replaces it, so a retry can succeed.
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => {
                ApiError::Unavailable(
                    "maskd's database is busy or unreachable; try again in a few seconds".into(),
                )
            }
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // A row still referenced by others (foreign keys are RESTRICT).
                Some(FOREIGN_KEY_VIOLATION) => ApiError::Conflict(format!(
                    "it is still used by {}; delete or change those first",
                    referencing_noun(db.table())
                )),
                Some(UNIQUE_VIOLATION) => ApiError::Conflict(unique_message(db.constraint())),
                Some(CHECK_VIOLATION)
                    if db.constraint() == Some("column_metadata_masked_needs_algorithm") =>
                {
                    ApiError::BadRequest(
                        "a column can be masked only with an algorithm: give algorithmName".into(),
                    )
                }
                Some(CHECK_VIOLATION)
                    if db.constraint() == Some("masking_jobs_on_the_fly_needs_a_source") =>
                {
                    ApiError::BadRequest(
                        "an on-the-fly job reads from a source: give onTheFlyMaskingSource {connectorId, connectorType: DATABASE} (or make the job multiTenant and give sourceConnectorId per execution)".into(),
                    )
                }
                Some(CHECK_VIOLATION)
                    if db.constraint() == Some("masking_jobs_source_only_on_the_fly") =>
                {
                    ApiError::BadRequest(
                        "onTheFlyMaskingSource belongs to on-the-fly jobs: set onTheFlyMasking true, or onTheFlyMaskingSource null".into(),
                    )
                }
                Some(CHECK_VIOLATION)
                    if db.constraint() == Some("masking_jobs_truncate_only_on_the_fly") =>
                {
                    ApiError::BadRequest(
                        "databaseMaskingOptions.truncateTables empties the target tables of an on-the-fly job; a job masking in place never empties a table".into(),
                    )
                }
                // The address now leads to a standby.
                Some(READ_ONLY_SQL_TRANSACTION) => ApiError::Unavailable(
                    "maskd's database is read-only (a standby?); DATABASE_URL must lead to the primary"
                        .into(),
                ),
                // The statement timeout ran out, most often waiting for a lock.
                Some(QUERY_CANCELED) => ApiError::Unavailable(
                    "maskd's database did not answer in time (a long lock or an overloaded server?); try again in a few seconds"
                        .into(),
                ),
                // The server is going away.
                Some(ADMIN_SHUTDOWN | CRASH_SHUTDOWN | CANNOT_CONNECT_NOW) => ApiError::Unavailable(
                    "maskd's database is restarting; try again in a few seconds".into(),
                ),
                Some(CHECK_VIOLATION | NUMERIC_VALUE_OUT_OF_RANGE) => {
                    ApiError::BadRequest("a value is out of its allowed range".into())
                }
                _ => ApiError::internal(e),
            },
            _ => ApiError::internal(e),
        }
    }
}

fn referencing_noun(table: Option<&str>) -> &'static str {
    match table {
        Some("environments") => "environments",
        Some("database_connectors") => "database connectors",
        Some("database_rulesets") => "database rulesets",
        Some("masking_jobs") => "masking jobs",
        Some("profile_jobs") => "profile jobs",
        Some("executions") => "an execution that has not stopped",
        _ => "other resources",
    }
}

fn unique_message(constraint: Option<&str>) -> String {
    match constraint {
        Some("applications_application_name_key") => {
            "an application with this name already exists".into()
        }
        Some("environments_environment_name_key") => {
            "an environment with this name already exists".into()
        }
        Some("database_connectors_environment_id_connector_name_key") => {
            "this environment already has a database connector with this name".into()
        }
        Some("table_metadata_ruleset_id_table_name_key") => {
            "this ruleset already has metadata for this table".into()
        }
        Some("profile_expressions_expression_name_key") => {
            "a profile expression with this name already exists".into()
        }
        Some("profile_sets_profile_set_name_key") => {
            "a profile set with this name already exists".into()
        }
        Some("executions_one_active_per_job") => {
            "this job already has an execution that has not stopped; wait for it or cancel it"
                .into()
        }
        _ => "a resource with these values already exists".into(),
    }
}

/// Turns any error answer that is not JSON yet (actix's own 404/405, extractor and payload errors)
/// into `{"errorMessage": ...}`.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    let path = req.path().to_owned();
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return Ok(res);
    }
    let message = match status {
        StatusCode::NOT_FOUND => format!("there is no endpoint {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{path} does not accept {method}"),
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is too large".to_owned(),
        StatusCode::INTERNAL_SERVER_ERROR => {
            "maskd hit an internal error; the details are in its log".to_owned()
        }
        other => other
            .canonical_reason()
            .unwrap_or("the request failed")
            .to_owned(),
    };
    let (req, res) = res.into_parts();
    let mut replaced = error_response(status, &message);
    for (name, value) in res.headers() {
        if name != CONTENT_TYPE && name != actix_web::http::header::CONTENT_LENGTH {
            replaced.headers_mut().insert(name.clone(), value.clone());
        }
    }
    replaced
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(ServiceResponse::new(req, replaced))
}
