//! OpenAPI schemas of text fields that hold one of a few values, inline in the schema of the object
//! that has them: `#[schema(schema_with = ...)]` names one of these.

use utoipa::openapi::schema::{Object, SchemaType, Type};

fn one_of(values: &[&str], nullable: bool) -> Object {
    let mut object = Object::with_type(if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    });
    object.enum_values = Some(values.iter().map(|v| (*v).into()).collect());
    if nullable {
        object
            .enum_values
            .get_or_insert_default()
            .push(serde_json::Value::Null);
    }
    object
}

pub fn connector_type() -> Object {
    one_of(&["DATABASE", "FILE", "VSAM"], true)
}

pub fn database_type() -> Object {
    one_of(&["POSTGRES"], false)
}

pub fn purpose() -> Object {
    one_of(&["MASK", "TRAINING"], false)
}

pub fn ruleset_type() -> Object {
    one_of(&["DATABASE"], false)
}

pub fn severity() -> Object {
    one_of(&["INFO", "WARNING", "ERROR"], false)
}

pub fn algorithm_type() -> Object {
    one_of(
        &["LOOKUP", "SEGMENT", "DATE_SHIFT", "REDACTION", "MINMAX"],
        false,
    )
}
