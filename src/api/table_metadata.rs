//! Table metadata (read from the target's catalog on creation) and column metadata (the masking
//! rule of each column).

use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;

use super::connectors::target_from;
use super::error::{ApiError, ApiResult};
use super::{AppState, delete_answer, get_answer, list_answer, request};
use crate::masking::algorithms::Algorithm;
use crate::masking::domains;
use crate::store::Filter;
use crate::store::connectors;
use crate::store::table_metadata::{self, ColumnChanges, ColumnMetadata, TableMetadata};
use crate::types::serde_helpers::{Int, present};

/// Lists table metadata.
#[utoipa::path(get, path = "/table-metadata", operation_id = "getAllTableMetadata", tag = "tableMetadata",
    params(super::request::PageParams, ("ruleset_id" = Option<i64>, Query, minimum = 1, description = "Only the tables of this ruleset")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<TableMetadata>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("ruleset_id")? {
        filters.push(Filter::Int("ruleset_id", id));
    }
    list_answer::<TableMetadata>(&state.pool, filters, query.page()?).await
}

/// Reads one table metadata.
#[utoipa::path(get, path = "/table-metadata/{tableMetadataId}", operation_id = "getTableMetadataById", tag = "tableMetadata",
    params(("tableMetadataId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = TableMetadata)),
)]
pub async fn get_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<TableMetadata>(&state.pool, &req, "tableMetadataId").await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TableMetadataBody)]
struct TableBody {
    #[schema(read_only)]
    table_metadata_id: Option<Int>,
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    table_name: Option<String>,
    ruleset_id: Option<Int>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    key_column: Option<Option<String>>,
}

/// Adds a table of the target database to a ruleset.
///
/// maskd reads the table's columns from the target's catalog and creates their column metadata.
#[utoipa::path(post, path = "/table-metadata", operation_id = "createTableMetadata", tag = "tableMetadata",
    request_body = TableBody,
    responses(
        (status = 201, description = "Created", body = TableMetadata),
        (status = 409, description = "The table is in the ruleset already", body = super::error::ErrorAnswer),
        (status = 400, description = "A field is missing or invalid, or the table is not in the target's catalog", body = super::error::ErrorAnswer),
        (status = 404, description = "The ruleset does not exist", body = super::error::ErrorAnswer),
    ),
)]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let body: TableBody = request::json(&req, &body)?;
    if body.table_metadata_id.is_some() {
        return Err(ApiError::BadRequest(
            "tableMetadataId is assigned by maskd; leave it out".into(),
        ));
    }
    let table_name = request::required_text("tableName", body.table_name)?;
    let Int(ruleset_id) = body
        .ruleset_id
        .ok_or_else(|| ApiError::BadRequest("rulesetId is required".into()))?;
    let key_column = request::optional_text("keyColumn", body.key_column.flatten())?;

    let details = connectors::connection_details_of_ruleset(&state.pool, ruleset_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("database ruleset {ruleset_id} does not exist"))
        })?;
    let target = target_from(&state, details)?;
    let columns = target
        .table_columns(&table_name)
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "table '{table_name}' does not exist in schema '{}' of {}",
                target.schema(),
                target.describe()
            ))
        })?;
    if let Some(key) = &key_column
        && !columns.iter().any(|c| &c.name == key)
    {
        return Err(ApiError::BadRequest(format!(
            "keyColumn '{key}' is not a column of table '{table_name}'"
        )));
    }
    let created = table_metadata::create(
        &state.pool,
        ruleset_id,
        &table_name,
        key_column.as_deref(),
        &columns,
    )
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("database ruleset {ruleset_id} does not exist")))?;
    tracing::info!(table = %table_name, ruleset_id, columns = columns.len(), "table metadata created");
    Ok(HttpResponse::Created().json(created))
}

/// Changes a table metadata (its key column).
///
/// Changes the fields the body carries; ids and creation fields cannot change.
#[utoipa::path(put, path = "/table-metadata/{tableMetadataId}", operation_id = "updateTableMetadata", tag = "tableMetadata",
    params(("tableMetadataId" = i64, Path, minimum = 1)),
    request_body = TableBody,
    responses(
        (status = 200, description = "The whole updated object", body = TableMetadata),
    ),
)]
pub async fn update(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "tableMetadataId")?;
    let body: TableBody = request::json(&req, &body)?;
    request::same_id("tableMetadataId", body.table_metadata_id.map(|i| i.0), id)?;
    let current = crate::store::get::<TableMetadata>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("table metadata {id} does not exist")))?;
    if body
        .table_name
        .as_ref()
        .is_some_and(|t| *t != current.table_name)
        || body.ruleset_id.is_some_and(|r| r.0 != current.ruleset_id)
    {
        return Err(ApiError::BadRequest(
            "tableName and rulesetId cannot be changed: create new table metadata instead".into(),
        ));
    }
    let Some(key_column) = body.key_column else {
        return Ok(HttpResponse::Ok().json(current));
    };
    let key_column = request::optional_text("keyColumn", key_column)?;
    let updated = table_metadata::update_key_column(&state.pool, id, key_column.as_deref())
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "keyColumn '{}' is not a column of table '{}'",
                key_column.clone().unwrap_or_default(),
                current.table_name
            ))
        })?;
    Ok(HttpResponse::Ok().json(updated))
}

/// Removes a table from its ruleset.
#[utoipa::path(delete, path = "/table-metadata/{tableMetadataId}", operation_id = "deleteTableMetadata", tag = "tableMetadata",
    params(("tableMetadataId" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Deleted; the body is empty"),
        (status = 409, description = "An execution that has not stopped uses it", body = super::error::ErrorAnswer),
    ),
)]
pub async fn delete_one(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    delete_answer::<TableMetadata>(&state.pool, &req, "tableMetadataId").await
}

/// Lists column metadata.
#[utoipa::path(get, path = "/column-metadata", operation_id = "getAllColumnMetadata", tag = "columnMetadata",
    params(super::request::PageParams, ("table_metadata_id" = Option<i64>, Query, minimum = 1, description = "Only the columns of this table")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<ColumnMetadata>)),
)]
pub async fn list_columns(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("table_metadata_id")? {
        filters.push(Filter::Int("table_metadata_id", id));
    }
    if let Some(masked) = query.bool("is_masked")? {
        filters.push(Filter::Bool("is_masked", masked));
    }
    list_answer::<ColumnMetadata>(&state.pool, filters, query.page()?).await
}

/// Reads one column metadata.
#[utoipa::path(get, path = "/column-metadata/{columnMetadataId}", operation_id = "getColumnMetadataById", tag = "columnMetadata",
    params(("columnMetadataId" = i64, Path, minimum = 1)),
    responses((status = 200, description = "Found", body = ColumnMetadata)),
)]
pub async fn get_column(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    get_answer::<ColumnMetadata>(&state.pool, &req, "columnMetadataId").await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ColumnMetadataBody)]
struct ColumnBody {
    #[schema(read_only)]
    column_metadata_id: Option<Int>,
    column_name: Option<String>,
    table_metadata_id: Option<Int>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    algorithm_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    domain_name: Option<Option<String>>,
    is_masked: Option<bool>,
}

/// Sets how a column is masked (algorithmName, domainName, isMasked).
///
/// Changes the fields the body carries; ids and creation fields cannot change. A domain without an
/// algorithm takes the domain's default algorithm; giving an algorithm marks the column masked
/// unless `isMasked` says otherwise; removing the algorithm unmasks it.
#[utoipa::path(put, path = "/column-metadata/{columnMetadataId}", operation_id = "updateColumnMetadata", tag = "columnMetadata",
    params(("columnMetadataId" = i64, Path, minimum = 1)),
    request_body = ColumnBody,
    responses(
        (status = 200, description = "The whole updated object", body = ColumnMetadata),
    ),
)]
pub async fn update_column(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let id = request::path_id(&req, "columnMetadataId")?;
    let body: ColumnBody = request::json(&req, &body)?;
    request::same_id("columnMetadataId", body.column_metadata_id.map(|i| i.0), id)?;

    let mut changes = ColumnChanges {
        algorithm_name: body.algorithm_name.clone(),
        domain_name: body.domain_name.clone(),
        is_masked: body.is_masked,
    };
    if let Some(Some(name)) = &body.algorithm_name
        && Algorithm::from_name(name).is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "algorithmName '{name}' is not an algorithm; GET /algorithms lists them"
        )));
    }
    if let Some(Some(name)) = &body.domain_name {
        let domain = domains::find(name).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "domainName '{name}' is not a domain; GET /domains lists them"
            ))
        })?;
        if body.algorithm_name.is_none() {
            changes.algorithm_name = Some(Some(domain.default_algorithm.name().to_owned()));
        }
    }
    if changes.is_masked.is_none() {
        changes.is_masked = changes.algorithm_name.as_ref().map(Option::is_some);
    }

    let current = crate::store::get::<ColumnMetadata>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("column metadata {id} does not exist")))?;
    if body
        .column_name
        .as_ref()
        .is_some_and(|c| *c != current.column_name)
        || body
            .table_metadata_id
            .is_some_and(|t| t.0 != current.table_metadata_id)
    {
        return Err(ApiError::BadRequest(
            "columnName and tableMetadataId come from the target's catalog and cannot be changed"
                .into(),
        ));
    }
    let will_have_algorithm = match &changes.algorithm_name {
        Some(a) => a.is_some(),
        None => current.algorithm_name.is_some(),
    };
    if changes.is_masked == Some(true) && !will_have_algorithm {
        return Err(ApiError::BadRequest(
            "a column can be masked only with an algorithm: give algorithmName (or domainName)"
                .into(),
        ));
    }
    let updated = table_metadata::update_column(&state.pool, id, &changes)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("column metadata {id} does not exist")))?;
    Ok(HttpResponse::Ok().json(updated))
}
