//! Profile expressions and profile sets: what a profile job looks for. The built-in ones are
//! read-only; users add their own beside them.

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::auth::AuthUser;
use super::error::{ApiError, ApiResult};
use super::{AppState, get_answer, list_answer, request};
use crate::masking::domains;
use crate::store::profiling::{
    self, BuiltIn, ExpressionFields, ProfileExpression, ProfileSet, SetFields,
};
use crate::types::serde_helpers::{Int, present};

/// Lists profile expressions, built-in ones first.
#[utoipa::path(get, path = "/profile-expressions", operation_id = "getAllProfileExpressions", tag = "profileExpression",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ProfileExpression>)),
)]
pub async fn list_expressions(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    list_answer::<ProfileExpression>(&state.pool, vec![], query.page()?).await
}

/// Reads one profile expression.
#[utoipa::path(get, path = "/profile-expressions/{profileExpressionId}", operation_id = "getProfileExpressionById", tag = "profileExpression",
    params(("profileExpressionId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ProfileExpression)),
)]
pub async fn get_expression(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    get_answer::<ProfileExpression>(&state.pool, &req, "profileExpressionId").await
}

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const EXPRESSION_READ_ONLY: &[&str] = &["profileExpressionId", "createdBy"];
/// What a POST must carry.
pub(super) const EXPRESSION_REQUIRED_ON_CREATE: &[&str] =
    &["domainName", "expressionName", "regularExpression"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProfileExpressionUpdate)]
struct ExpressionBody {
    /// A domain `GET /domains` lists.
    domain_name: Option<String>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    expression_name: Option<String>,
    /// Rust's regex syntax, which runs in linear time (no look-around or back-references); `(?i)`
    /// ignores case. Searched anywhere in the name or value: anchor it with `^...$` to match all.
    #[schema(min_length = 1, max_length = 10000)]
    regular_expression: Option<String>,
    /// false: matched against column names; true: against the sampled values.
    data_level_profiling: Option<bool>,
}

impl ExpressionBody {
    fn into_fields(self) -> ApiResult<ExpressionFields> {
        if let Some(name) = &self.domain_name {
            domains::find(name).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "domainName '{name}' is not a domain; GET /domains lists them"
                ))
            })?;
        }
        if let Some(expression) = &self.regular_expression {
            crate::masking::profiling::compile_expression(expression).map_err(|e| {
                ApiError::BadRequest(format!("regularExpression is not valid: {e}"))
            })?;
        }
        Ok(ExpressionFields {
            domain_name: self.domain_name,
            expression_name: request::optional_text("expressionName", self.expression_name)?,
            regular_expression: self.regular_expression,
            data_level_profiling: self.data_level_profiling,
        })
    }
}

/// Why a change of a built-in object, or of a missing one, changed nothing.
async fn refused(state: &AppState, which: BuiltIn, id: i64) -> ApiError {
    let noun = match which {
        BuiltIn::Expression => "profile expression",
        BuiltIn::Set => "profile set",
    };
    match profiling::is_built_in(&state.pool, which, id).await {
        Ok(Some(true)) => ApiError::BadRequest(format!(
            "{noun} {id} is built in and cannot be changed or deleted; create one of your own"
        )),
        Ok(_) => ApiError::NotFound(format!("{noun} {id} does not exist")),
        Err(e) => e.into(),
    }
}

/// Creates a profile expression.
#[utoipa::path(post, path = "/profile-expressions", operation_id = "createProfileExpression", tag = "profileExpression",
    request_body = ExpressionBody,
    responses(
        (status = 201, description = "Created", body = ProfileExpression),
        (status = 409, description = "An expression of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create_expression(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = request::Object::parse(&req, &body)?.without(EXPRESSION_READ_ONLY);
    body.require(EXPRESSION_REQUIRED_ON_CREATE)?;
    let fields = body.read::<ExpressionBody>()?.into_fields()?;
    let created = profiling::create_expression(&state.pool, &fields, &user.user.username).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Changes a profile expression of a user's (the built-in ones cannot change).
#[utoipa::path(put, path = "/profile-expressions/{profileExpressionId}", operation_id = "updateProfileExpression", tag = "profileExpression",
    params(("profileExpressionId" = i64, Path, minimum = 1)),
    request_body = ExpressionBody,
    responses(
        (status = 200, description = "The whole updated object", body = ProfileExpression),
        (status = 409, description = "An expression of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update_expression(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileExpressionId")?;
    let current = crate::store::get::<ProfileExpression>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("profile expression {id} does not exist")))?;
    let fields = request::Object::parse(&req, &body)?
        .matching(&current, EXPRESSION_READ_ONLY)?
        .read::<ExpressionBody>()?
        .into_fields()?;
    match profiling::update_expression(&state.pool, id, &fields).await? {
        Some(updated) => Ok(HttpResponse::Ok().json(updated)),
        None => Err(refused(&state, BuiltIn::Expression, id).await),
    }
}

/// Deletes a profile expression of a user's (409 while a profile set uses it).
#[utoipa::path(delete, path = "/profile-expressions/{profileExpressionId}", operation_id = "deleteProfileExpression", tag = "profileExpression",
    params(("profileExpressionId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "A profile set uses it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_expression(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileExpressionId")?;
    let deleted = profiling::delete_expression(&state.pool, id)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::Conflict(_) => ApiError::Conflict(format!(
                "profile expression {id} cannot be deleted: a profile set uses it; remove it from the set first"
            )),
            other => other,
        })?;
    if deleted {
        Ok(HttpResponse::Ok().finish())
    } else {
        Err(refused(&state, BuiltIn::Expression, id).await)
    }
}

/// Lists profile sets, built-in ones first.
#[utoipa::path(get, path = "/profile-sets", operation_id = "getAllProfileSets", tag = "profileSet",
    params(super::request::PageParams),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ProfileSet>)),
)]
pub async fn list_sets(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    list_answer::<ProfileSet>(&state.pool, vec![], query.page()?).await
}

/// Reads one profile set.
#[utoipa::path(get, path = "/profile-sets/{profileSetId}", operation_id = "getProfileSetById", tag = "profileSet",
    params(("profileSetId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ProfileSet)),
)]
pub async fn get_set(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<ProfileSet>(&state.pool, &req, "profileSetId").await
}

const SET_READ_ONLY: &[&str] = &["profileSetId", "createdBy", "createdTime"];
pub(super) const SET_REQUIRED_ON_CREATE: &[&str] = &["profileSetName", "profileExpressionIds"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProfileSetUpdate)]
struct SetBody {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    profile_set_name: Option<String>,
    /// The set's expressions; they replace its current ones.
    #[schema(value_type = Option<Vec<i64>>)]
    profile_expression_ids: Option<Vec<Int>>,
    /// Only empty: maskd has no type expressions.
    #[schema(value_type = Option<Vec<i64>>, max_items = 0)]
    profile_type_expression_ids: Option<Vec<Int>>,
    /// Only empty: maskd has no classifiers.
    #[schema(value_type = Option<Vec<i64>>, max_items = 0)]
    classifier_ids: Option<Vec<Int>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    description: Option<Option<String>>,
}

impl SetBody {
    fn into_fields(self) -> ApiResult<SetFields> {
        request::unsupported(
            "profileTypeExpressionIds",
            self.profile_type_expression_ids
                .is_some_and(|ids| !ids.is_empty()),
            "maskd has no type expressions; use profileExpressionIds",
        )?;
        request::unsupported(
            "classifierIds",
            self.classifier_ids.is_some_and(|ids| !ids.is_empty()),
            "maskd has no classifiers; use profileExpressionIds",
        )?;
        Ok(SetFields {
            profile_set_name: request::optional_text("profileSetName", self.profile_set_name)?,
            profile_expression_ids: self
                .profile_expression_ids
                .map(|ids| ids.into_iter().map(|Int(id)| id).collect()),
            description: match self.description {
                Some(Some(d)) => Some(request::optional_text("description", Some(d))?),
                other => other,
            },
        })
    }
}

/// Why a set naming `ids` was refused: the unknown expressions, if any.
async fn unknown_expressions(state: &AppState, ids: &[i64]) -> ApiResult<Option<ApiError>> {
    let unknown = profiling::unknown_expressions(&state.pool, ids).await?;
    Ok((!unknown.is_empty()).then(|| {
        ApiError::NotFound(format!(
            "profileExpressionIds names profile expressions that do not exist: {unknown:?}"
        ))
    }))
}

/// Creates a profile set.
#[utoipa::path(post, path = "/profile-sets", operation_id = "createProfileSet", tag = "profileSet",
    request_body = SetBody,
    responses(
        (status = 201, description = "Created", body = ProfileSet),
        (status = 404, description = "An expression does not exist", body = super::error::ErrorAnswer),
        (status = 409, description = "A set of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create_set(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body = request::Object::parse(&req, &body)?.without(SET_READ_ONLY);
    body.require(SET_REQUIRED_ON_CREATE)?;
    let fields = body.read::<SetBody>()?.into_fields()?;
    match profiling::create_set(&state.pool, &fields, &user.user.username).await? {
        Some(created) => Ok(HttpResponse::Created().json(created)),
        None => {
            let ids = fields.profile_expression_ids.unwrap_or_default();
            Err(unknown_expressions(&state, &ids).await?.unwrap_or_else(|| {
                ApiError::Conflict("the profile set changed meanwhile; try again".into())
            }))
        }
    }
}

/// Changes a profile set of a user's (the built-in ones cannot change).
#[utoipa::path(put, path = "/profile-sets/{profileSetId}", operation_id = "updateProfileSet", tag = "profileSet",
    params(("profileSetId" = i64, Path, minimum = 1)),
    request_body = SetBody,
    responses(
        (status = 200, description = "The whole updated object", body = ProfileSet),
        (status = 404, description = "The set or an expression does not exist", body = super::error::ErrorAnswer),
        (status = 409, description = "A set of this name exists", body = super::error::ErrorAnswer),
    ),
)]
pub async fn update_set(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileSetId")?;
    let current = crate::store::get::<ProfileSet>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("profile set {id} does not exist")))?;
    let fields = request::Object::parse(&req, &body)?
        .matching(&current, SET_READ_ONLY)?
        .read::<SetBody>()?
        .into_fields()?;
    match profiling::update_set(&state.pool, id, &fields).await? {
        Some(updated) => Ok(HttpResponse::Ok().json(updated)),
        None => {
            if let Some(ids) = &fields.profile_expression_ids
                && let Some(unknown) = unknown_expressions(&state, ids).await?
            {
                return Err(unknown);
            }
            Err(refused(&state, BuiltIn::Set, id).await)
        }
    }
}

/// Deletes a profile set of a user's.
#[utoipa::path(delete, path = "/profile-sets/{profileSetId}", operation_id = "deleteProfileSet", tag = "profileSet",
    params(("profileSetId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Deleted; the body is empty")),
)]
pub async fn delete_set(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "profileSetId")?;
    if profiling::delete_set(&state.pool, id).await? {
        Ok(HttpResponse::Ok().finish())
    } else {
        Err(refused(&state, BuiltIn::Set, id).await)
    }
}
