use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::domain::Role;
use crate::domain::serde_helpers::Int;
use crate::store::rulesets::{self, DatabaseRuleset};

pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("environment_id")? {
        filters.push(rulesets::in_environment(id));
    }
    list_answer::<DatabaseRuleset>(&state.pool, filters, query.page()?).await
}

pub async fn get_one(
    state: web::Data<AppState>,
    _user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<DatabaseRuleset>(&state.pool, &req, "databaseRulesetId").await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    database_ruleset_id: Option<Int>,
    ruleset_name: Option<String>,
    database_connector_id: Option<Int>,
}

pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let body: Body = request::json(&req, &body)?;
    if body.database_ruleset_id.is_some() {
        return Err(ApiError::BadRequest(
            "databaseRulesetId is assigned by maskd; leave it out".into(),
        ));
    }
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

pub async fn update(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    let id = request::path_id(&req, "databaseRulesetId")?;
    let body: Body = request::json(&req, &body)?;
    request::same_id(
        "databaseRulesetId",
        body.database_ruleset_id.map(|i| i.0),
        id,
    )?;
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

pub async fn delete_one(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    user.require(Role::Admin)?;
    delete_answer::<DatabaseRuleset>(&state.pool, &req, "databaseRulesetId").await
}
