//! Serde helpers for the Delphix JSON conventions.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// RFC 3339 in UTC with milliseconds: `2026-11-29T04:33:05.123+00:00`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, false)
}

pub fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(t))
}

pub fn opt_time<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(t)),
        None => s.serialize_none(),
    }
}

/// An integer given as a JSON number or as a decimal string (`"1"`), as Delphix's binding accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(d) {
            Ok(Raw::Number(n)) => Ok(Int(n)),
            Ok(Raw::Text(t)) => t
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| serde::de::Error::custom(format!("'{t}' is not an integer"))),
            Err(_) => Err(serde::de::Error::custom("expected an integer")),
        }
    }
}

impl utoipa::PartialSchema for Int {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Int64,
            )))
            .description(Some(
                "An integer; a decimal string such as \"1\" is accepted too",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Int {}

/// Distinguishes a field that is absent (`None`) from one set to null (`Some(None)`), for PUT.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        id: Int,
    }

    #[test]
    fn integers_accept_decimal_strings() {
        let a: Body = serde_json::from_str(r#"{"id": 7}"#).unwrap();
        let b: Body = serde_json::from_str(r#"{"id": "7"}"#).unwrap();
        assert_eq!((a.id, b.id), (Int(7), Int(7)));
        assert!(serde_json::from_str::<Body>(r#"{"id": "seven"}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"id": 1.5}"#).is_err());
    }

    #[test]
    fn times_have_milliseconds_and_offset() {
        let t = DateTime::parse_from_rfc3339("2026-11-29T04:33:05.123456Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_time(&t), "2026-11-29T04:33:05.123+00:00");
    }
}
