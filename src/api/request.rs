//! Parsing what a request carries into domain values, with errors that name the culprit.
//! Handlers parse here; the route's role check (`auth::RequireRole`) runs before any handler, so an
//! anonymous caller always gets 401 first, and a caller without the role 403.

use actix_web::HttpRequest;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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

/// A JSON object body, as Delphix clients send it: an empty body reads as `{}`, and an empty string
/// anywhere in it means the field is absent (CSV-driven clients send `"keyColumn": ""`). Read it
/// into the endpoint's body type with [`Object::read`], whose `deny_unknown_fields` refuses a field
/// maskd does not know by name. Before that, a POST drops the read-only fields a client copying an
/// object sends ([`Object::without`]), and a PUT checks them against the stored object
/// ([`Object::matching`]): clients send back the whole object they read.
pub struct Object(Map<String, Value>);

impl Object {
    pub fn parse(req: &HttpRequest, body: &Bytes) -> ApiResult<Self> {
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
        match serde_json::from_slice(body) {
            Ok(Value::Object(mut fields)) => {
                drop_empty_strings(&mut fields);
                Ok(Object(fields))
            }
            Ok(_) => Err(ApiError::BadRequest(
                "the request body must be a JSON object".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!(
                "the request body is not valid JSON: {e}"
            ))),
        }
    }

    /// Without these fields: a POST ignores the read-only fields of the object it is sent, which
    /// gets its own.
    pub fn without(mut self, read_only: &[&str]) -> Self {
        for name in read_only {
            self.0.remove(*name);
        }
        self
    }

    /// Without these fields, once each one sent (and not null) is found equal to the stored
    /// object's: a PUT may carry read-only fields as GET answered them, but cannot change them.
    pub fn matching<T: Serialize>(self, stored: &T, read_only: &[&str]) -> ApiResult<Self> {
        let stored = serde_json::to_value(stored).map_err(ApiError::internal)?;
        for name in read_only {
            let Some(sent) = self.0.get(*name).filter(|v| !v.is_null()) else {
                continue;
            };
            let current = &stored[*name];
            if !same_value(sent, current) {
                return Err(ApiError::BadRequest(format!(
                    "{name} is read-only: it is {current}, the body says {sent}; \
                     leave it out or send it as GET answers it"
                )));
            }
        }
        Ok(self.without(read_only))
    }

    /// Each of these fields is present (not null): what a POST needs.
    pub fn require(&self, names: &[&str]) -> ApiResult<()> {
        match names
            .iter()
            .find(|name| self.0.get(**name).is_none_or(Value::is_null))
        {
            Some(name) => Err(ApiError::BadRequest(format!("{name} is required"))),
            None => Ok(()),
        }
    }

    pub fn read<T: DeserializeOwned>(self) -> ApiResult<T> {
        serde_json::from_value(Value::Object(self.0)).map_err(|e| {
            ApiError::BadRequest(format!("the request body does not fit this endpoint: {e}"))
        })
    }
}

/// The body of an endpoint whose object has no read-only fields a client would send.
pub fn json<T: DeserializeOwned>(req: &HttpRequest, body: &Bytes) -> ApiResult<T> {
    Object::parse(req, body)?.read()
}

fn drop_empty_strings(fields: &mut Map<String, Value>) {
    fields.retain(|_, v| !matches!(v, Value::String(s) if s.is_empty()));
    for value in fields.values_mut() {
        if let Value::Object(inner) = value {
            drop_empty_strings(inner);
        }
    }
}

/// Equal as a client means it: an id as a decimal string, a time in another RFC 3339 spelling.
fn same_value(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::String(text), Value::Number(n)) => text.trim().parse::<i64>().ok() == n.as_i64(),
        (Value::String(a), Value::String(b)) if a != b => {
            match (
                chrono::DateTime::parse_from_rfc3339(a),
                chrono::DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            }
        }
        (a, b) => a == b,
    }
}

/// Refuses a field maskd accepts only at its neutral value (absent, null, false), naming it and
/// saying why, so that no field a client sends is silently ignored.
pub fn unsupported(name: &str, set: bool, why: &str) -> ApiResult<()> {
    if set {
        Err(ApiError::BadRequest(format!(
            "{name} is not supported: {why}"
        )))
    } else {
        Ok(())
    }
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
