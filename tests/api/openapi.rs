//! The OpenAPI document: it lists exactly the routes the app serves, its cancel operation is the
//! seed's, real answers conform to its schemas, and Swagger UI is served from the binary.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{BASE, TestApp, spawn_app};

async fn document(app: &TestApp) -> Value {
    let answer = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    answer.body
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut found = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.clone(), path.clone(), operation));
        }
    }
    found
}

/// A path with every `{placeholder}` filled with a value of the right shape.
fn concrete(path: &str) -> String {
    path.replace("{algorithmName}", "FirstNameLookup")
        .replace("{domainName}", "FIRST_NAME")
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "1"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_the_app_serves() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["version"], "5.1.43");

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let registered: BTreeSet<(String, String)> = maskd::api::ROUTES
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_string()))
        .collect();
    assert_eq!(
        documented.difference(&registered).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
    assert_eq!(
        registered.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not documented"
    );

    // Every documented operation is answered by a handler under both base paths: never the
    // unknown-route 404 or a 405.
    for (method, path) in &documented {
        for base in maskd::api::BASE_PATHS {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = app
                .call_at(base, method.clone(), &concrete(path), None, None)
                .await;
            assert_ne!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {base}{path}"
            );
            if answer.status == StatusCode::NOT_FOUND {
                assert!(
                    !answer.error_message().contains("there is no endpoint"),
                    "{method} {base}{path}: {answer:?}"
                );
            }
        }
    }

    // Both addresses serve the same document.
    let other = app
        .call(Method::GET, "/swagger-basepath.json", None, None)
        .await;
    assert_eq!(other.body, doc);
}

#[tokio::test]
async fn every_operation_is_named_secured_and_lists_its_error_answers() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"],
        json!({"type": "apiKey", "in": "header", "name": "Authorization",
               "description": "The token answered by POST /login (`Bearer <token>` is accepted too)"})
    );
    let public: BTreeSet<&str> = [
        "/login",
        "/system-information",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/swagger-basepath.json",
    ]
    .into();
    let mut ids = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap();
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(
            operation["tags"][0].is_string(),
            "{method} {path} has no tag"
        );
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        let secured = operation.get("security") != Some(&json!([{}]));
        assert_eq!(secured, !public.contains(path.as_str()), "{method} {path}");
        if secured {
            assert!(responses.contains_key("401"), "{method} {path}");
            assert!(responses.contains_key("503"), "{method} {path}");
        }
        // Any user may read and end its own session: only the other operations can be refused.
        assert_eq!(
            responses.contains_key("403"),
            secured && method != "get" && path != "/logout",
            "{method} {path}"
        );
        // The role needed is said in the description of every operation that needs a token.
        let description = operation["description"].as_str().unwrap_or_default();
        assert_eq!(
            description.contains("Role: "),
            secured,
            "{method} {path}: {description}"
        );
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{method} {path}");
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(responses.contains_key(status), "{method} {path}: {status}");
            }
        }
        for (status, response) in responses {
            if !status.starts_with('2') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorAnswer",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // Every reference points at a schema that exists.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let name = reference
            .split('"')
            .next()
            .unwrap()
            .trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{name} is referenced but not defined"
        );
    }
}

#[tokio::test]
async fn the_cancel_operation_is_the_seeds() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let cancel = &doc["paths"]["/executions/{executionId}/cancel"]["post"];
    assert_eq!(cancel["operationId"], "cancelExecution");
    assert_eq!(cancel["security"], Value::Null, "inherits api_key");
    assert!(
        cancel["description"]
            .as_str()
            .unwrap()
            .ends_with("\n\nRole: OPERATOR."),
        "{cancel}"
    );
    assert_eq!(doc["security"], json!([{"api_key": []}]));

    let parameters = cancel["parameters"].as_array().unwrap();
    let parameter = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    assert_eq!(parameters.len(), 3);
    let id = parameter("executionId");
    assert_eq!((&id["in"], &id["required"]), (&json!("path"), &json!(true)));
    assert_eq!(id["schema"]["type"], "integer");
    let expected = parameter("expectedStatus");
    assert_eq!(expected["in"], "query");
    assert_eq!(expected["required"], false);
    assert_eq!(
        resolve(&doc, &expected["schema"])["enum"],
        json!(["QUEUED", "RUNNING"])
    );
    let graceful = parameter("graceful");
    assert_eq!(graceful["in"], "query");
    assert_eq!(graceful["schema"]["type"], "boolean");

    for status in ["200", "400", "401", "403", "404"] {
        assert!(cancel["responses"].get(status).is_some(), "{status}");
    }
    let execution = resolve(
        &doc,
        &cancel["responses"]["200"]["content"]["application/json"]["schema"],
    );
    // The seed's response fields, with its types.
    let seed_fields = [
        ("executionId", "integer"),
        ("jobId", "integer"),
        ("connectorType", "string"),
        ("sourceConnectorId", "integer"),
        ("targetConnectorId", "integer"),
        ("status", "string"),
        ("rowsMasked", "integer"),
        ("rowsTotal", "integer"),
        ("bytesProcessed", "integer"),
        ("bytesTotal", "integer"),
        ("startTime", "string"),
        ("endTime", "string"),
        ("submitTime", "string"),
    ];
    let properties = execution["properties"].as_object().unwrap();
    assert_eq!(
        properties
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        seed_fields.iter().map(|(n, _)| *n).collect::<BTreeSet<_>>()
    );
    for (name, kind) in seed_fields {
        let schema = resolve(&doc, &properties[name]);
        assert!(types_of(schema).contains(&kind), "{name}: {schema}");
    }
    assert!(
        execution["required"]
            .as_array()
            .unwrap()
            .contains(&json!("jobId"))
    );
    assert_eq!(
        resolve(&doc, &properties["status"])["enum"],
        json!([
            "QUEUED",
            "RUNNING",
            "SUCCEEDED",
            "WARNING",
            "FAILED",
            "CANCELLED"
        ])
    );
    let connector_types = &properties["connectorType"]["enum"];
    for t in ["DATABASE", "FILE", "VSAM"] {
        assert!(connector_types.as_array().unwrap().contains(&json!(t)));
    }
}

/// Real answers, read through the API, have exactly the fields their schema lists, of its types.
#[tokio::test]
async fn real_answers_conform_to_their_schemas() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let job = app.create_job().await;
    let execution = app.submit(job).await;
    let cancelled = app.cancel(execution, "?expectedStatus=QUEUED").await;
    assert_eq!(cancelled.status, StatusCode::OK);

    let checks = [
        "/executions/{executionId}",
        "/executions",
        "/masking-jobs/{maskingJobId}",
        "/masking-jobs",
        "/environments",
        "/applications",
        "/database-connectors",
        "/database-rulesets",
        "/algorithms",
        "/algorithms/{algorithmName}",
        "/domains",
        "/syncable-objects",
        "/file-connectors",
        "/system-information",
    ];
    for path in checks {
        let url = concrete(path)
            .replace("/executions/1", &format!("/executions/{execution}"))
            .replace("/masking-jobs/1", &format!("/masking-jobs/{job}"));
        let answer = app.get(&url).await;
        assert_eq!(answer.status, StatusCode::OK, "{url}: {answer:?}");
        let schema =
            &doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        conforms(&doc, schema, &answer.body, path);
    }
    let error = app.get("/executions/999999").await;
    let schema = &doc["components"]["schemas"]["ErrorAnswer"];
    conforms(&doc, schema, &error.body, "ErrorAnswer");
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn types_of(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => schema["oneOf"]
            .as_array()
            .map(|alternatives| alternatives.iter().flat_map(types_of).collect())
            .unwrap_or_default(),
    }
}

/// A small structural check: types, enums, object properties (all present, none extra) and items.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        let matching = alternatives
            .iter()
            .filter(|alt| {
                let alt = resolve(doc, alt);
                types_of(alt).contains(&json_type(value))
            })
            .count();
        assert!(
            matching >= 1,
            "{at}: {value} matches no alternative of {schema}"
        );
        if let Some(alt) = alternatives
            .iter()
            .find(|alt| types_of(resolve(doc, alt)).contains(&json_type(value)))
        {
            conforms(doc, alt, value, at);
        }
        return;
    }
    let types = types_of(schema);
    if !types.is_empty() {
        assert!(
            types.contains(&json_type(value))
                || (json_type(value) == "integer" && types.contains(&"number")),
            "{at}: {value} is not {types:?}"
        );
    }
    if let Some(values) = schema["enum"].as_array() {
        assert!(
            values.contains(value),
            "{at}: {value} is not one of {values:?}"
        );
    }
    if let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object())
    {
        for key in object.keys() {
            assert!(
                properties.contains_key(key),
                "{at}: {key} is not documented"
            );
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            assert!(
                object.contains_key(required.as_str().unwrap()),
                "{at}: required {required} is missing"
            );
        }
        for (key, property) in properties {
            if let Some(v) = object.get(key) {
                conforms(doc, property, v, &format!("{at}.{key}"));
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for item in array {
            conforms(doc, items, item, &format!("{at}[]"));
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;
    let client = crate::common::http_client();
    let page = client
        .get(format!("{}{BASE}/docs", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for (asset, content_type) in [
        ("swagger-ui.css", "text/css"),
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-initializer.js", "text/javascript"),
    ] {
        assert!(html.contains(&format!("{BASE}/docs/{asset}")), "{asset}");
        let answer = client
            .get(format!("{}{BASE}/docs/{asset}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{asset}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{asset}"
        );
        assert!(answer.bytes().await.unwrap().len() > 100, "{asset}");
    }
    let initializer = client
        .get(format!("{}{BASE}/docs/swagger-initializer.js", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains("\"/masking/api/openapi.json\""));

    let missing = app.call(Method::GET, "/docs/nothing.js", None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.error_message().contains("Swagger UI"));
}

#[test]
fn the_conformance_check_catches_drift() {
    let doc = json!({"components": {"schemas": {"Thing": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer"},
            "state": {"type": ["string", "null"], "enum": ["A", "B", null]},
        },
    }}}});
    let thing = json!({"$ref": "#/components/schemas/Thing"});
    conforms(&doc, &thing, &json!({"id": 1, "state": null}), "ok");
    for bad in [
        json!({"id": "1"}),
        json!({"state": "A"}),
        json!({"id": 1, "state": "C"}),
        json!({"id": 1, "other": true}),
    ] {
        let caught = std::panic::catch_unwind(|| conforms(&doc, &thing, &bad, "bad"));
        assert!(caught.is_err(), "{bad} passed the check");
    }
}
