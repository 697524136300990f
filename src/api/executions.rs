//! Executions: submit, list, read, and the guarded cancel.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, get_answer, list_answer, request};
use crate::domain::serde_helpers::Int;
use crate::domain::{ExecutionStatus, ExpectedStatus, Role};
use crate::store::Filter;
use crate::store::executions::{self, Execution, Submission};
use crate::store::jobs::MaskingJob;

pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("job_id")? {
        filters.push(Filter::Int("job_id", id));
    }
    if let Some(status) = query.parse::<ExecutionStatus>("execution_status")? {
        filters.push(Filter::Text("status", status.as_str().to_owned()));
    }
    list_answer::<Execution>(&state.pool, filters, query.page()?).await
}

pub async fn get_one(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<Execution>(&state.pool, &req, "executionId").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewExecution {
    job_id: Option<Int>,
    target_connector_id: Option<Int>,
    source_connector_id: Option<Int>,
    connector_type: Option<String>,
}

pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Operator)?;
    let body: NewExecution = request::json(&req, &body)?;
    let Int(job_id) = body
        .job_id
        .ok_or_else(|| ApiError::BadRequest("jobId is required".into()))?;
    if let Some(t) = body.connector_type.as_deref()
        && !matches!(t, "DATABASE" | "FILE" | "VSAM")
    {
        return Err(ApiError::BadRequest(format!(
            "connectorType must be DATABASE, FILE or VSAM, got '{t}'"
        )));
    }
    let submission = Submission {
        job_id,
        target_connector_id: body.target_connector_id.map(|i| i.0),
        source_connector_id: body.source_connector_id.map(|i| i.0),
        connector_type: body.connector_type,
    };
    match executions::create(&state.pool, &submission).await {
        Ok(Some(execution)) => {
            tracing::info!(executionId = execution.execution_id, jobId = job_id, user = %user.user.username, "execution submitted");
            Ok(HttpResponse::Created().json(execution))
        }
        Ok(None) => Err(explain_refused_submission(&state, &submission).await),
        Err(sqlx::Error::Database(e)) if e.constraint() == Some("executions_one_active_per_job") => {
            let active = executions::active_of_job(&state.pool, job_id).await?;
            Err(ApiError::Conflict(match active {
                Some(a) => format!(
                    "job {job_id} already has execution {} ({}{}); wait for it to end or cancel it",
                    a.execution_id,
                    a.status.0,
                    if a.status.0 == ExecutionStatus::Cancelled { ", still stopping" } else { "" }
                ),
                None => format!("job {job_id} already has an execution that has not stopped; try again"),
            }))
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23503") => Err(ApiError::NotFound(
            "the database connector given in targetConnectorId or sourceConnectorId does not exist".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Why a submission inserted nothing: the job is missing, or the connector fields do not suit it.
async fn explain_refused_submission(state: &AppState, s: &Submission) -> ApiError {
    let job = match crate::store::get::<MaskingJob>(&state.pool, s.job_id).await {
        Ok(job) => job,
        Err(e) => return e.into(),
    };
    let Some(job) = job else {
        return ApiError::NotFound(format!("masking job {} does not exist", s.job_id));
    };
    if job.multi_tenant && s.target_connector_id.is_none() {
        ApiError::BadRequest(format!(
            "job {} is multi-tenant: give targetConnectorId",
            s.job_id
        ))
    } else if !job.multi_tenant && s.target_connector_id.is_some() {
        ApiError::BadRequest(format!(
            "job {} is not multi-tenant: it masks its ruleset's connector, so leave targetConnectorId out",
            s.job_id
        ))
    } else {
        ApiError::BadRequest(format!(
            "job {} is not an on-the-fly multi-tenant job: leave sourceConnectorId and connectorType out",
            s.job_id
        ))
    }
}

/// `POST /executions/{executionId}/cancel?expectedStatus=&graceful=`: one conditional statement
/// decides, and the answer comes from its result.
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    user.require(Role::Operator)?;
    let id = request::path_id(&req, "executionId")?;
    let query = request::QueryParams::of(&req)?;
    let expected = query.parse::<ExpectedStatus>("expectedStatus")?;
    let graceful = query.bool("graceful")?.unwrap_or(false);

    let outcome = executions::cancel(&state.pool, id, expected, graceful)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("execution {id} does not exist")))?;
    let status = outcome.execution.status.0;
    if outcome.changed {
        tracing::info!(
            executionId = id,
            jobId = outcome.execution.job_id,
            from = %outcome.previous,
            graceful,
            user = %user.user.username,
            "execution cancelled"
        );
        return Ok(HttpResponse::Ok().json(outcome.execution));
    }
    match (status, expected) {
        // A retried cancel is safe.
        (ExecutionStatus::Cancelled, _) => Ok(HttpResponse::Ok().json(outcome.execution)),
        (s, _) if s.is_finished() => Err(ApiError::BadRequest(format!(
            "execution {id} has already finished with status {s} and cannot be cancelled"
        ))),
        (s, Some(e)) => Err(ApiError::BadRequest(format!(
            "execution {id} is {s}, not {} as expected; it was not cancelled",
            e.status()
        ))),
        (s, None) => Err(ApiError::internal(std::io::Error::other(format!(
            "cancel of execution {id} in status {s} changed nothing"
        )))),
    }
}
