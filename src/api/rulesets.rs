use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::store::rulesets::{self, DatabaseRuleset};
use crate::types::serde_helpers::Int;

/// Lists database rulesets.
#[utoipa::path(get, path = "/database-rulesets", operation_id = "getAllDatabaseRulesets", tag = "databaseRuleset",
    params(super::request::PageParams, ("environment_id" = Option<i64>, Query, minimum = 1, description = "Only the rulesets whose connector is in this environment")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<DatabaseRuleset>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(rulesets::in_environment(id));
    }
    list_answer::<DatabaseRuleset>(&state.pool, filters, query.page()?).await
}

/// Reads one database ruleset.
#[utoipa::path(get, path = "/database-rulesets/{databaseRulesetId}", operation_id = "getDatabaseRulesetById", tag = "databaseRuleset",
    params(("databaseRulesetId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = DatabaseRuleset)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<DatabaseRuleset>(&state.pool, &req, "databaseRulesetId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const READ_ONLY: &[&str] = &["databaseRulesetId"];
/// What a POST must carry.
pub(super) const REQUIRED_ON_CREATE: &[&str] = &["rulesetName", "databaseConnectorId"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = DatabaseRulesetUpdate)]
struct Body {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    ruleset_name: Option<String>,
    database_connector_id: Option<Int>,
    /// Only false, until rulesets can be refreshed from their connector's catalog.
    refresh_drops_tables: Option<bool>,
}

impl Body {
    /// Refuses, by name, what maskd cannot honour.
    fn refuse_unsupported(&self) -> ApiResult<()> {
        request::unsupported(
            "refreshDropsTables",
            self.refresh_drops_tables == Some(true),
            "maskd has no ruleset refresh yet",
        )
    }
}

/// Creates a database ruleset.
#[utoipa::path(post, path = "/database-rulesets", operation_id = "createDatabaseRuleset", tag = "databaseRuleset",
    request_body = Body,
    responses(
        (status = 201, description = "Created", body = DatabaseRuleset),
        (status = 409, description = "A ruleset of this name exists", body = super::error::ErrorAnswer),
        (status = 404, description = "The connector does not exist", body = super::error::ErrorAnswer),
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
    let name = request::required_text("rulesetName", body.ruleset_name)?;
    let Int(connector_id) = body
        .database_connector_id
        .ok_or_else(|| ApiError::BadRequest("databaseConnectorId is required".into()))?;
    let created = rulesets::create(&state.pool, &name, connector_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("database connector {connector_id} does not exist"))
        })?;
    Ok(HttpResponse::Created().json(created))
}

/// Changes a database ruleset.
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/database-rulesets/{databaseRulesetId}", operation_id = "updateDatabaseRuleset", tag = "databaseRuleset",
    params(("databaseRulesetId" = i64, Path, minimum = 1)),
    request_body = Body,
    responses(
        (status = 200, description = "The whole updated object", body = DatabaseRuleset),
        (status = 409, description = "A ruleset of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "databaseRulesetId")?;
    let current = crate::store::get::<DatabaseRuleset>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("database ruleset {id} does not exist")))?;
    let body: Body = request::Object::parse(&req, &body)?
        .matching(&current, READ_ONLY)?
        .read()?;
    body.refuse_unsupported()?;
    let name = request::optional_text("rulesetName", body.ruleset_name)?;
    let connector_id = body.database_connector_id.map(|i| i.0);
    match rulesets::update(&state.pool, id, name.as_deref(), connector_id).await? {
        Some(ruleset) => Ok(HttpResponse::Ok().json(ruleset)),
        None => match crate::store::get::<DatabaseRuleset>(&state.pool, id).await? {
            None => Err(ApiError::NotFound(format!(
                "database ruleset {id} does not exist"
            ))),
            Some(_) => Err(ApiError::NotFound(format!(
                "database connector {} does not exist",
                connector_id.unwrap_or_default()
            ))),
        },
    }
}

/// Deletes a database ruleset and its table and column metadata.
#[utoipa::path(delete, path = "/database-rulesets/{databaseRulesetId}", operation_id = "deleteDatabaseRuleset", tag = "databaseRuleset",
    params(("databaseRulesetId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "Jobs still use it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    delete_answer::<DatabaseRuleset>(&state.pool, &req, "databaseRulesetId").await
}
