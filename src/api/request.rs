//! Parsing what a request carries into domain values, with errors that name the culprit.
//! Handlers parse here; the route's role check (`auth::RequireRole`) runs before any handler, so an
//! anonymous caller always gets 401 first, and a caller without the role 403.

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use crate::types::{Page, parse_id};

/// The id in the path segment `name`.
pub fn path_id(req: &HttpRequest, name: &str) -> ApiResult<i64> {
    let text = req.match_info().get(name).unwrap_or_default();
    parse_id(name, text).map_err(ApiError::BadRequest)
}

/// The query string's parameters (the first of repeated ones wins).
pub struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn of(req: &HttpRequest) -> ApiResult<Self> {
        serde_urlencoded::from_str(req.query_string())
            .map(QueryParams)
            .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn id(&self, name: &str) -> ApiResult<Option<i64>> {
        self.get(name)
            .map(|t| parse_id(name, t).map_err(ApiError::BadRequest))
            .transpose()
    }

    /// `true` or `false` in any case: Python clients send `True`.
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        self.get(name)
            .map(|t| {
                if t.eq_ignore_ascii_case("true") {
                    Ok(true)
                } else if t.eq_ignore_ascii_case("false") {
                    Ok(false)
                } else {
                    Err(ApiError::BadRequest(format!(
                        "{name} must be true or false, got '{t}'"
                    )))
                }
            })
            .transpose()
    }

    pub fn parse<T: std::str::FromStr<Err = String>>(&self, name: &str) -> ApiResult<Option<T>> {
        self.get(name)
            .map(|t| t.parse().map_err(ApiError::BadRequest))
            .transpose()
    }

    pub fn page(&self) -> ApiResult<Page> {
        Page::parse(self.get("page_number"), self.get("page_size")).map_err(ApiError::BadRequest)
    }
}

/// `page_number` and `page_size` of every list, as the OpenAPI document describes them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by utoipa only; lists parse these through `QueryParams::page`
pub struct PageParams {
    /// The page to answer, from 1. A page past the last one is refused with 400.
    #[param(minimum = 1)]
    page_number: Option<i64>,
    /// Items on a page (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    page_size: Option<i64>,
}

/// The JSON body; an empty body reads as `{}`.
pub fn json<T: DeserializeOwned>(req: &HttpRequest, body: &Bytes) -> ApiResult<T> {
    if let Some(ct) = req.headers().get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body must be JSON sent with Content-Type: application/json, not '{essence}'"
            )));
        }
    }
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        ApiError::BadRequest(if e.is_data() {
            format!("the request body does not fit this endpoint: {e}")
        } else {
            format!("the request body is not valid JSON: {e}")
        })
    })
}

/// A required, non-blank text field.
pub fn required_text(name: &str, value: Option<String>) -> ApiResult<String> {
    match value {
        Some(v) if !v.trim().is_empty() => text(name, v),
        _ => Err(ApiError::BadRequest(format!("{name} is required"))),
    }
}

/// An optional text field, refused when blank or too long.
pub fn optional_text(name: &str, value: Option<String>) -> ApiResult<Option<String>> {
    value
        .map(|v| {
            if v.trim().is_empty() {
                Err(ApiError::BadRequest(format!("{name} must not be blank")))
            } else {
                text(name, v)
            }
        })
        .transpose()
}

const MAX_TEXT: usize = 1000;

fn text(name: &str, value: String) -> ApiResult<String> {
    if value.chars().count() > MAX_TEXT {
        return Err(ApiError::BadRequest(format!(
            "{name} is longer than {MAX_TEXT} characters"
        )));
    }
    if value.contains('\0') {
        return Err(ApiError::BadRequest(format!(
            "{name} must not contain NUL characters"
        )));
    }
    Ok(value)
}

/// A body field that names the resource's own id must match the path (ids cannot change).
pub fn same_id(name: &str, body: Option<i64>, path: i64) -> ApiResult<()> {
    match body {
        Some(id) if id != path => Err(ApiError::BadRequest(format!(
            "{name} cannot be changed (the path says {path}, the body {id})"
        ))),
        _ => Ok(()),
    }
}
