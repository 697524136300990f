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
use crate::store::table_metadata::{
    self, ColumnChanges, ColumnMetadata, TableChanges, TableMetadata,
};
use crate::types::serde_helpers::{Int, present};

/// Lists table metadata.
#[utoipa::path(get, path = "/table-metadata", operation_id = "getAllTableMetadata", tag = "tableMetadata",
    params(super::request::PageParams, ("ruleset_id" = Option<i64>, Query, minimum = 1, description = "Only the tables of this ruleset"),
        ("is_masked" = Option<bool>, Query, description = "Only the tables with (true) or without (false) a masked column")),
    responses((status = 200, description = "A page of them, in ascending id order", body = crate::types::Paged<TableMetadata>)),
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let query = request::QueryParams::of(&req)?;
    let mut filters = vec![];
    if let Some(id) = query.id("ruleset_id")? {
        filters.push(Filter::Int("ruleset_id", id));
    }
    if let Some(masked) = query.bool("is_masked")? {
        filters.push(table_metadata::table_is_masked(masked));
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

/// Set by maskd: a POST ignores them, a PUT may send them unchanged.
const TABLE_READ_ONLY: &[&str] = &["tableMetadataId", "isMasked"];
/// What a POST must carry.
pub(super) const TABLE_REQUIRED_ON_CREATE: &[&str] = &["tableName", "rulesetId"];
/// Which table of which ruleset it is: to mask another table, create its own table metadata.
const TABLE_FIXED_AFTER_CREATE: &[&str] = &["tableName", "rulesetId"];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = TableMetadataUpdate)]
struct TableBody {
    #[schema(min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    table_name: Option<String>,
    ruleset_id: Option<Int>,
    /// What an on-the-fly job reads from its source in place of the table: a query whose columns
    /// include every column of the target's table, by name (the relation is `t`; the whereClause
    /// filters it). Planned by the ruleset's connector before it is saved. In-place masking reads
    /// the table itself: an in-place job on a ruleset with a customSql is refused.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 10000)]
    custom_sql: Option<Option<String>>,
    /// Only the rows matching it are masked. SQL for the target, put inside `WHERE (...)` of
    /// maskd's statements (the table is `t`); the target plans a query with it before it is saved.
    /// No `;`, comment or dollar quoting; parentheses balanced.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000)]
    where_clause: Option<Option<String>>,
    /// Only null: maskd reads rows, not groups.
    having_clause: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = r"^[^\x00]*\S[^\x00]*$")]
    key_column: Option<Option<String>>,
}

impl TableBody {
    /// Refuses, by name, what maskd cannot honour yet.
    fn refuse_unsupported(&self) -> ApiResult<()> {
        let why = "maskd reads rows, not groups: use whereClause (or customSql on the fly)";
        request::unsupported("havingClause", self.having_clause.is_some(), why)?;
        Ok(())
    }
}

/// A customSql and whereClause the ruleset's connector can plan together (empty strings mean
/// absent); the target's words, naming the field, when it cannot.
async fn checked_read(
    target: &crate::masking::target::Target,
    table: &str,
    custom_sql: Option<String>,
    where_clause: Option<String>,
) -> ApiResult<(Option<String>, Option<String>)> {
    let custom_sql = request::optional_text("customSql", custom_sql)?;
    let where_clause = request::optional_text("whereClause", where_clause)?;
    if custom_sql.is_none() && where_clause.is_none() {
        return Ok((None, None));
    }
    match target
        .plan_table_read(table, custom_sql.as_deref(), where_clause.as_deref())
        .await
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
    {
        Ok(()) => Ok((custom_sql, where_clause)),
        Err((field, why)) => Err(ApiError::BadRequest(format!(
            "{field} cannot be used on table '{table}': {why}"
        ))),
    }
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
    let body = request::Object::parse(&req, &body)?.without(TABLE_READ_ONLY);
    body.require(TABLE_REQUIRED_ON_CREATE)?;
    let body: TableBody = body.read()?;
    body.refuse_unsupported()?;
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
    let (custom_sql, where_clause) = checked_read(
        &target,
        &table_name,
        body.custom_sql.flatten(),
        body.where_clause.flatten(),
    )
    .await?;
    let created = table_metadata::create(
        &state.pool,
        ruleset_id,
        &table_name,
        key_column.as_deref(),
        where_clause.as_deref(),
        custom_sql.as_deref(),
        &columns,
    )
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("database ruleset {ruleset_id} does not exist")))?;
    tracing::info!(table = %table_name, ruleset_id, columns = columns.len(), "table metadata created");
    Ok(HttpResponse::Created().json(created))
}

/// Changes a table metadata (its key column and where clause).
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
    let current = crate::store::get::<TableMetadata>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("table metadata {id} does not exist")))?;
    let body: TableBody = request::Object::parse(&req, &body)?
        .matching(&current, TABLE_READ_ONLY)?
        .matching(&current, TABLE_FIXED_AFTER_CREATE)?
        .read()?;
    body.refuse_unsupported()?;
    let key_column = body
        .key_column
        .map(|k| request::optional_text("keyColumn", k))
        .transpose()?;
    // Either changed: the target plans the pair as it will stand.
    let custom_sql = body.custom_sql.filter(|c| *c != current.custom_sql);
    let where_clause = body.where_clause.filter(|w| *w != current.where_clause);
    let (custom_sql, where_clause) = if custom_sql.is_some() || where_clause.is_some() {
        let details = connectors::connection_details_of_ruleset(&state.pool, current.ruleset_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("table metadata {id} does not exist")))?;
        let target = target_from(&state, details)?;
        let (c, w) = checked_read(
            &target,
            &current.table_name,
            custom_sql.clone().unwrap_or(current.custom_sql.clone()),
            where_clause.clone().unwrap_or(current.where_clause.clone()),
        )
        .await?;
        (custom_sql.map(|_| c), where_clause.map(|_| w))
    } else {
        (None, None)
    };
    let changes = TableChanges {
        key_column,
        where_clause,
        custom_sql,
    };
    let updated = table_metadata::update_table(&state.pool, id, &changes)
        .await?
        .ok_or_else(|| match &changes.key_column {
            Some(Some(key)) => ApiError::BadRequest(format!(
                "keyColumn '{key}' is not a column of table '{}'",
                current.table_name
            )),
            _ => ApiError::NotFound(format!("table metadata {id} does not exist")),
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

/// What the target's catalog said, and the ids: a PUT may send them unchanged.
const COLUMN_READ_ONLY: &[&str] = &[
    "columnMetadataId",
    "columnName",
    "tableMetadataId",
    "dataType",
    "columnLength",
    "isPrimaryKey",
    "isIdentity",
    "isIndex",
    "isForeignKey",
    "documentStoreType",
    "fileFormatId",
    "domainAssignedBy",
];

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ColumnMetadataUpdate)]
struct ColumnBody {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    algorithm_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    domain_name: Option<Option<String>>,
    is_masked: Option<bool>,
    /// Whether a profile job may change the column's domain and algorithm.
    is_profiler_writable: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    notes: Option<Option<String>>,
    /// Only null: dates are read in PostgreSQL's own form.
    date_format: Option<String>,
    /// Only null: maskd's algorithms mask one column each.
    algorithm_field_id: Option<Int>,
    /// Only null: maskd's algorithms mask one column each.
    algorithm_group_no: Option<Int>,
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
    let current = crate::store::get::<ColumnMetadata>(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("column metadata {id} does not exist")))?;
    let body: ColumnBody = request::Object::parse(&req, &body)?
        .matching(&current, COLUMN_READ_ONLY)?
        .read()?;

    if body.date_format.is_some() {
        return Err(ApiError::BadRequest(
            "dateFormat is not supported: maskd reads dates in PostgreSQL's own form; keep dates in a date or timestamp column"
                .into(),
        ));
    }
    for (name, value) in [
        ("algorithmFieldId", body.algorithm_field_id),
        ("algorithmGroupNo", body.algorithm_group_no),
    ] {
        if value.is_some() {
            return Err(ApiError::BadRequest(format!(
                "{name} is not supported: maskd's algorithms mask one column each; leave it null"
            )));
        }
    }
    let mut changes = ColumnChanges {
        algorithm_name: body.algorithm_name.clone(),
        domain_name: body.domain_name.clone(),
        is_masked: body.is_masked,
        is_profiler_writable: body.is_profiler_writable,
        notes: match body.notes {
            Some(Some(n)) => Some(request::optional_text("notes", Some(n))?),
            other => other,
        },
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
