use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::domain::Role;
use crate::domain::serde_helpers::{Int, present};
use crate::masking::target::Target;
use crate::store::Filter;
use crate::store::connectors::{self, Changes, DatabaseConnector, NewConnector};

pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(Filter::Int("environment_id", id));
    }
    list_answer::<DatabaseConnector>(&state.pool, filters, query.page()?).await
}

pub async fn get_one(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<DatabaseConnector>(&state.pool, &req, "databaseConnectorId").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    database_connector_id: Option<Int>,
    connector_name: Option<String>,
    database_type: Option<String>,
    environment_id: Option<Int>,
    host: Option<String>,
    port: Option<Int>,
    database_name: Option<String>,
    schema_name: Option<String>,
    username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    password: Option<Option<String>>,
}

fn port(value: Option<Int>) -> ApiResult<Option<i32>> {
    match value {
        None => Ok(None),
        Some(Int(p)) if (1..=65535).contains(&p) => Ok(Some(p as i32)),
        Some(Int(p)) => Err(ApiError::BadRequest(format!(
            "port must be from 1 to 65535, got {p}"
        ))),
    }
}

fn check_database_type(value: Option<&str>) -> ApiResult<()> {
    match value {
        None | Some("POSTGRES") => Ok(()),
        Some(other) => Err(ApiError::BadRequest(format!(
            "databaseType '{other}' is not supported: maskd masks POSTGRES databases"
        ))),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let body: Body = request::json(&req, &body)?;
    if body.database_connector_id.is_some() {
        return Err(ApiError::BadRequest(
            "databaseConnectorId is assigned by maskd; leave it out".into(),
        ));
    }
    check_database_type(body.database_type.as_deref())?;
    let environment_id = body
        .environment_id
        .ok_or_else(|| ApiError::BadRequest("environmentId is required".into()))?
        .0;
    let new = NewConnector {
        connector_name: request::required_text("connectorName", body.connector_name)?,
        environment_id,
        host: request::required_text("host", body.host)?,
        port: port(body.port)?.ok_or_else(|| ApiError::BadRequest("port is required".into()))?,
        database_name: request::required_text("databaseName", body.database_name)?,
        schema_name: request::optional_text("schemaName", body.schema_name)?
            .unwrap_or_else(|| "public".into()),
        username: request::required_text("username", body.username)?,
        password_encrypted: body
            .password
            .flatten()
            .map(|p| state.keys.encrypt_password(&p)),
    };
    let created = connectors::create(&state.pool, &new)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("environment {environment_id} does not exist"))
        })?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let id = request::path_id(&req, "databaseConnectorId")?;
    let body: Body = request::json(&req, &body)?;
    request::same_id(
        "databaseConnectorId",
        body.database_connector_id.map(|i| i.0),
        id,
    )?;
    check_database_type(body.database_type.as_deref())?;
    let changes = Changes {
        connector_name: request::optional_text("connectorName", body.connector_name)?,
        host: request::optional_text("host", body.host)?,
        port: port(body.port)?,
        database_name: request::optional_text("databaseName", body.database_name)?,
        schema_name: request::optional_text("schemaName", body.schema_name)?,
        username: request::optional_text("username", body.username)?,
        password_encrypted: body
            .password
            .map(|p| p.map(|p| state.keys.encrypt_password(&p))),
    };
    if let Some(Int(env)) = body.environment_id {
        // Moving a connector would move its rulesets and jobs with it: refuse, unless unchanged.
        let current = crate::store::get::<DatabaseConnector>(&state.pool, id).await?;
        if current.is_some_and(|c| c.environment_id != env) {
            return Err(ApiError::BadRequest(
                "environmentId of a connector cannot be changed".into(),
            ));
        }
    }
    let updated = connectors::update(&state.pool, id, &changes)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("database connector {id} does not exist")))?;
    Ok(HttpResponse::Ok().json(updated))
}

pub async fn delete_one(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    delete_answer::<DatabaseConnector>(&state.pool, &req, "databaseConnectorId").await
}

/// Connects to the connector's database: `{"response": "Connection Succeeded"}` or
/// `{"response": "Connection Failed", "errorMessage"...}` with the reason.
pub async fn test(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let id = request::path_id(&req, "databaseConnectorId")?;
    let target = target_of(&state, id).await?;
    Ok(match target.test().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "response": "Connection Succeeded" })),
        Err(e) => HttpResponse::Ok()
            .json(json!({ "response": "Connection Failed", "reason": e.to_string() })),
    })
}

/// A connector's target database, with its password decrypted.
async fn target_of(state: &AppState, connector_id: i64) -> ApiResult<Target> {
    let details = connectors::connection_details(&state.pool, connector_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("database connector {connector_id} does not exist"))
        })?;
    target_from(state, details)
}

pub(super) fn target_from(
    state: &AppState,
    details: connectors::ConnectionDetails,
) -> ApiResult<Target> {
    let id = details.database_connector_id;
    Target::of_connector(details, &state.keys)
        .map_err(|e| ApiError::Conflict(format!("database connector {id}: {e}")))
}
