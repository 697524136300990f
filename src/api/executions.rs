//! Executions: submit, list, read, and the guarded cancel.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, get_answer, list_answer, request};
use crate::sql_error::{self, sqlstate};
use crate::store::Filter;
use crate::store::executions::{self, Execution, Submission};
use crate::store::jobs;
use crate::types::serde_helpers::Int;
use crate::types::{ExecutionStatus, ExpectedStatus};

/// Lists executions.
#[utoipa::path(get, path = "/executions", operation_id = "getAllExecutions", tag = "execution",
    params(super::request::PageParams, ("job_id" = Option<i64>, Query, minimum = 1, description = "Only the executions of this job"), ("execution_status" = Option<ExecutionStatus>, Query, description = "Only the executions in this status")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<Execution>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
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

/// Reads one execution.
#[utoipa::path(get, path = "/executions/{executionId}", operation_id = "getExecutionById", tag = "execution",
    params(("executionId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = Execution)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<Execution>(&state.pool, &req, "executionId").await
}

/// Set by maskd: a POST ignores them (a client resubmitting an execution it read sends them).
const READ_ONLY: &[&str] = &[
    "executionId",
    "status",
    "rowsMasked",
    "rowsTotal",
    "bytesProcessed",
    "bytesTotal",
    "startTime",
    "endTime",
    "submitTime",
];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ExecutionCreate)]
struct NewExecution {
    #[schema(required = true)]
    job_id: Option<Int>,
    target_connector_id: Option<Int>,
    source_connector_id: Option<Int>,
    #[schema(schema_with = crate::types::schema::connector_type)]
    connector_type: Option<String>,
    /// A maskd extension: true makes an in-place run mask every row again instead of continuing
    /// after what the job's last FAILED or CANCELLED execution committed (for a target refreshed
    /// from production since). Default false.
    start_over: Option<bool>,
}

/// Runs a masking job: a new QUEUED execution, claimed by a free worker on any instance.
#[utoipa::path(post, path = "/executions", operation_id = "createExecution", tag = "execution",
    request_body = NewExecution,
    responses(
        (status = 201, description = "Created", body = Execution),
        (status = 409, description = "The job has an execution that is QUEUED, RUNNING, or CANCELLED but not yet stopped", body = super::error::ErrorAnswer),
        (status = 404, description = "The job, or a connector given, does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body: NewExecution = request::Object::parse(&req, &body)?
        .without(READ_ONLY)
        .read()?;
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
        start_over: body.start_over.unwrap_or(false),
    };
    match executions::create(&state.pool, &submission).await {
        Ok(Some(execution)) => {
            tracing::info!(executionId = execution.execution_id, jobId = job_id, user = %user.user.username, "execution submitted");
            Ok(HttpResponse::Created().json(execution))
        }
        Ok(None) => Err(explain_refused_submission(&state, &submission).await),
        Err(sqlx::Error::Database(e))
            if e.constraint() == Some("executions_one_active_per_job") =>
        {
            let active = executions::active_of_job(&state.pool, job_id).await?;
            Err(ApiError::Conflict(match active {
                Some(a) => format!(
                    "job {job_id} already has execution {} ({}{}); wait for it to end or cancel it",
                    a.execution_id,
                    a.status,
                    if a.status == ExecutionStatus::Cancelled {
                        ", still stopping"
                    } else {
                        ""
                    }
                ),
                None => {
                    format!("job {job_id} already has an execution that has not stopped; try again")
                }
            }))
        }
        Err(e) if sql_error::is(&e, sqlstate::FOREIGN_KEY_VIOLATION) => Err(ApiError::NotFound(
            "the database connector given in targetConnectorId or sourceConnectorId does not exist"
                .into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Why a submission inserted nothing: the job is missing, or the connector fields do not suit it.
async fn explain_refused_submission(state: &AppState, s: &Submission) -> ApiError {
    let facts = match jobs::submission_facts(&state.pool, s.job_id).await {
        Ok(facts) => facts,
        Err(e) => return e.into(),
    };
    let Some((_, multi_tenant, on_the_fly)) = facts else {
        return ApiError::NotFound(format!(
            "job {} does not exist (neither a masking job nor a profile job)",
            s.job_id
        ));
    };
    if multi_tenant && s.target_connector_id.is_none() {
        ApiError::BadRequest(format!(
            "job {} is multi-tenant: give targetConnectorId",
            s.job_id
        ))
    } else if !multi_tenant && s.target_connector_id.is_some() {
        ApiError::BadRequest(format!(
            "job {} is not multi-tenant: it works on its ruleset's connector, so leave targetConnectorId out",
            s.job_id
        ))
    } else if let Some(table) =
        match jobs::in_place_table_with_custom_sql(&state.pool, s.job_id).await {
            Ok(table) => table,
            Err(e) => return e.into(),
        }
    {
        ApiError::BadRequest(format!(
            "job {} masks in place, and table '{table}' of its ruleset has a customSql, which only an on-the-fly job reads: clear the table's customSql (PUT /table-metadata), or limit its rows with whereClause",
            s.job_id
        ))
    } else if multi_tenant && on_the_fly {
        ApiError::BadRequest(format!(
            "job {} is multi-tenant and on-the-fly and has no onTheFlyMaskingSource of its own: give sourceConnectorId",
            s.job_id
        ))
    } else {
        ApiError::BadRequest(format!(
            "job {} is not an on-the-fly multi-tenant job: leave sourceConnectorId and connectorType out",
            s.job_id
        ))
    }
}

/// Cancels an execution by ID.
///
/// One conditional statement decides, and the answer comes from its result. A QUEUED execution
/// gets its endTime at once; a RUNNING one is CANCELLED when this answers, and its worker (on any
/// instance) stops within a second and then sets endTime. A retried cancel of a CANCELLED execution
/// answers 200 with it unchanged.
#[utoipa::path(post, path = "/executions/{executionId}/cancel", operation_id = "cancelExecution", tag = "execution",
    params(
        ("executionId" = i64, Path, minimum = 1, description = "The ID of the execution to cancel"),
        ("expectedStatus" = Option<ExpectedStatus>, Query, description = "The expected status of the execution to cancel to prevent cancelling a queued job that has transitioned to a running state since the request was issued"),
        ("graceful" = Option<bool>, Query, description = "A cancellation strategy to re-enable SQL objects that were disabled earlier in the execution before terminating"),
    ),
    responses(
        (status = 200, description = "The execution as it stands after the cancel", body = Execution),
        (status = 400, description = "The status differs from expectedStatus, or the execution has already finished; errorMessage names the status. Also a bad executionId, expectedStatus or graceful", body = super::error::ErrorAnswer),
    ),
)]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "executionId")?;
    let query = request::QueryParams::of(&req)?;
    let expected = query.parse::<ExpectedStatus>("expectedStatus")?;
    let graceful = query.bool("graceful")?.unwrap_or(false);

    let outcome = executions::cancel(&state.pool, id, expected, graceful)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("execution {id} does not exist")))?;
    let status = outcome.execution.status;
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
