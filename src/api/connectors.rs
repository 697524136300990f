use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::masking::target::Target;
use crate::store::Filter;
use crate::store::connectors::{self, Changes, DatabaseConnector, NewConnector};
use crate::types::serde_helpers::{Int, present};

/// Lists database connectors (never their passwords).
#[utoipa::path(get, path = "/database-connectors", operation_id = "getAllDatabaseConnectors", tag = "databaseConnector",
    params(super::request::PageParams, ("environment_id" = Option<i64>, Query, minimum = 1, description = "Only the connectors of this environment")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<DatabaseConnector>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(Filter::Int("environment_id", id));
    }
    list_answer::<DatabaseConnector>(&state.pool, filters, query.page()?).await
}

/// Reads one database connector (never its password).
#[utoipa::path(get, path = "/database-connectors/{databaseConnectorId}", operation_id = "getDatabaseConnectorById", tag = "databaseConnector",
    params(("databaseConnectorId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = DatabaseConnector)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<DatabaseConnector>(&state.pool, &req, "databaseConnectorId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const READ_ONLY: &[&str] = &["databaseConnectorId"];
/// What a POST must carry.
pub(super) const REQUIRED_ON_CREATE: &[&str] = &[
    "connectorName",
    "environmentId",
    "host",
    "port",
    "databaseName",
    "username",
];
/// Moving a connector would move its rulesets and jobs with it.
const FIXED_AFTER_CREATE: &[&str] = &["environmentId"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = DatabaseConnectorUpdate)]
struct Body {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    connector_name: Option<String>,
    #[schema(schema_with = crate::types::schema::database_type)]
    database_type: Option<String>,
    environment_id: Option<Int>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    host: Option<String>,
    port: Option<Int>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    database_name: Option<String>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    schema_name: Option<String>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, write_only)]
    password: Option<Option<String>>,
    /// Delphix's fields for other databases, drivers, Kerberos and vaults: only null or false.
    custom_driver_name: Option<String>,
    instance_name: Option<String>,
    jdbc: Option<String>,
    sid: Option<String>,
    kerberos_auth: Option<bool>,
    service_principal: Option<String>,
    jdbc_driver_id: Option<Int>,
    enable_logger: Option<bool>,
    file_reference_id: Option<String>,
    password_vault_auth: Option<bool>,
    credential_path_id: Option<Int>,
}

impl Body {
    /// Refuses, by name, what maskd cannot honour: it connects to PostgreSQL itself, with the
    /// connector's username and password.
    fn refuse_unsupported(&self) -> ApiResult<()> {
        use request::unsupported;
        let driver =
            "maskd connects with its own PostgreSQL driver; give host, port and databaseName";
        let login = "maskd logs in with username and password";
        unsupported(
            "customDriverName",
            self.custom_driver_name.is_some(),
            driver,
        )?;
        unsupported("jdbc", self.jdbc.is_some(), driver)?;
        unsupported("jdbcDriverId", self.jdbc_driver_id.is_some(), driver)?;
        unsupported("fileReferenceId", self.file_reference_id.is_some(), driver)?;
        unsupported("enableLogger", self.enable_logger == Some(true), driver)?;
        unsupported(
            "instanceName",
            self.instance_name.is_some(),
            "it names a SQL Server instance; maskd masks POSTGRES databases",
        )?;
        unsupported(
            "sid",
            self.sid.is_some(),
            "it names an Oracle database; maskd masks POSTGRES databases",
        )?;
        unsupported("kerberosAuth", self.kerberos_auth == Some(true), login)?;
        unsupported("servicePrincipal", self.service_principal.is_some(), login)?;
        unsupported(
            "passwordVaultAuth",
            self.password_vault_auth == Some(true),
            login,
        )?;
        unsupported("credentialPathId", self.credential_path_id.is_some(), login)?;
        Ok(())
    }
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

/// Creates a database connector.
///
/// The password is stored encrypted and is never answered.
#[utoipa::path(post, path = "/database-connectors", operation_id = "createDatabaseConnector", tag = "databaseConnector",
    request_body = Body,
    responses(
        (status = 201, description = "Created", body = DatabaseConnector),
        (status = 409, description = "A connector of this name exists", body = super::error::ErrorAnswer),
        (status = 404, description = "The environment does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = request::Object::parse(&req, &body)?.without(READ_ONLY);
    body.require(REQUIRED_ON_CREATE)?;
    let body: Body = body.read()?;
    body.refuse_unsupported()?;
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

/// Changes a database connector.
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/database-connectors/{databaseConnectorId}", operation_id = "updateDatabaseConnector", tag = "databaseConnector",
    params(("databaseConnectorId" = i64, Path, minimum = 1)),
    request_body = Body,
    responses(
        (status = 200, description = "The whole updated object", body = DatabaseConnector),
        (status = 409, description = "A connector of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "databaseConnectorId")?;
    let current = crate::store::get::<DatabaseConnector>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("database connector {id} does not exist")))?;
    let body: Body = request::Object::parse(&req, &body)?
        .matching(&current, READ_ONLY)?
        .matching(&current, FIXED_AFTER_CREATE)?
        .read()?;
    body.refuse_unsupported()?;
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
    let updated = connectors::update(&state.pool, id, &changes)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("database connector {id} does not exist")))?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Deletes a database connector.
#[utoipa::path(delete, path = "/database-connectors/{databaseConnectorId}", operation_id = "deleteDatabaseConnector", tag = "databaseConnector",
    params(("databaseConnectorId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "Rulesets still use it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    delete_answer::<DatabaseConnector>(&state.pool, &req, "databaseConnectorId").await
}

/// Tests a database connector.
///
/// Connects to the connector's database: `{"response": "Connection Succeeded"}`, or
/// `{"response": "Connection Failed", "reason": ...}`.
#[utoipa::path(post, path = "/database-connectors/{databaseConnectorId}/test", operation_id = "testDatabaseConnector", tag = "databaseConnector",
    params(("databaseConnectorId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Whether maskd could connect", body = ConnectionTest),
        (status = 409, description = "The stored password cannot be decrypted with the current MASKD_SECRET_KEY", body = super::error::ErrorAnswer),
    ),
)]
pub async fn test(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "databaseConnectorId")?;
    let target = target_of(&state, id).await?;
    Ok(match target.test().await {
        Ok(()) => HttpResponse::Ok().json(ConnectionTest {
            response: "Connection Succeeded",
            reason: None,
        }),
        Err(e) => HttpResponse::Ok().json(ConnectionTest {
            response: "Connection Failed",
            reason: Some(e.to_string()),
        }),
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct ConnectionTest {
    /// `Connection Succeeded` or `Connection Failed`.
    response: &'static str,
    /// Why the connection failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
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
    details: crate::types::target::ConnectionDetails,
) -> ApiResult<Target> {
    let id = details.database_connector_id;
    Target::of_connector(details, &state.keys)
        .map_err(|e| ApiError::Conflict(format!("database connector {id}: {e}")))
}
