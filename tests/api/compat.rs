//! What existing Delphix clients do, against the real app: send back the whole object they read,
//! copy objects with their ids, send empty strings and decimal-string ids; every field of Delphix's
//! MaskingJob either works or is refused by name; a table's whereClause limits the rows masked and
//! cannot leave its parentheses; a job's prescript and postscript run around the tables.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Settings, TestApp, spawn_app, spawn_app_with, watch};

/// The fields DELPHIX-API.md lists for `model` (a model or a nested object of a masking job).
fn delphix_fields(model: &str) -> BTreeSet<String> {
    let doc = include_str!("../../docs/DELPHIX-API.md");
    let line = doc
        .lines()
        .find(|l| l.starts_with(&format!("- **{model}**")))
        .unwrap_or_else(|| panic!("DELPHIX-API.md lists no {model}"));
    let fields = line.split_once(':').unwrap().1;
    fields
        .split(", ")
        .map(|f| {
            f.trim()
                .trim_start_matches('`')
                .split('`')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn keys(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

/// Every integer field named like an id, as a decimal string (as some clients send them).
fn ids_as_strings(mut object: Value) -> Value {
    for (name, value) in object.as_object_mut().unwrap() {
        if name.ends_with("Id") && value.is_i64() {
            *value = json!(value.to_string());
        }
    }
    object
}

/// An instance whose worker runs the executions the test submits.
async fn spawn_app_with_a_worker() -> TestApp {
    spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await
}

async fn finished(app: &TestApp, job: i64) -> Value {
    let e = app.submit(job).await;
    let seen = watch(app, e, |x| x["endTime"].is_string()).await;
    seen.last().unwrap().clone()
}

#[tokio::test]
async fn a_client_puts_back_what_it_read_and_copies_objects_with_their_ids() {
    let app = spawn_app_with_a_worker().await;
    let rs = app.create_ruleset().await;
    sqlx::query("INSERT INTO target.people SELECT g, 'First' || g, 'Last' || g FROM generate_series(1, 50) g")
        .execute(&app.pool)
        .await
        .unwrap();
    let table = app
        .mask_columns(
            rs,
            "people",
            &[
                ("first_name", "FirstNameLookup"),
                ("last_name", "LastNameLookup"),
            ],
        )
        .await;
    let job = app.create_job_on(rs).await;
    let columns = app
        .get(&format!("/column-metadata?table_metadata_id={table}"))
        .await;
    let first_name = columns.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["columnName"] == "first_name")
        .unwrap()["columnMetadataId"]
        .as_i64()
        .unwrap();
    let ruleset = app.get(&format!("/database-rulesets/{rs}")).await.body;
    let connector = ruleset["databaseConnectorId"].as_i64().unwrap();
    let environment = app
        .get(&format!("/database-connectors/{connector}"))
        .await
        .body["environmentId"]
        .as_i64()
        .unwrap();

    // GET, then PUT the whole object: it succeeds and changes nothing, ids as numbers or strings.
    // A read-only field with another value is refused, naming it.
    let objects = [
        (
            format!("/environments/{environment}"),
            "environmentId",
            json!(environment + 100),
        ),
        (
            format!("/database-connectors/{connector}"),
            "environmentId",
            json!(environment + 100),
        ),
        (
            format!("/database-rulesets/{rs}"),
            "databaseRulesetId",
            json!(rs + 100),
        ),
        (
            format!("/table-metadata/{table}"),
            "tableName",
            json!("other"),
        ),
        (
            format!("/column-metadata/{first_name}"),
            "dataType",
            json!("integer"),
        ),
        (
            format!("/masking-jobs/{job}"),
            "createdTime",
            json!("2020-01-01T00:00:00.000+00:00"),
        ),
    ];
    for (path, read_only, other_value) in objects {
        let read = app.get(&path).await;
        assert_eq!(read.status, StatusCode::OK, "{path}");
        for sent in [read.body.clone(), ids_as_strings(read.body.clone())] {
            let put = app.put(&path, sent.clone()).await;
            assert_eq!(put.status, StatusCode::OK, "{path} {sent}: {put:?}");
            assert_eq!(
                put.body, read.body,
                "{path}: a PUT of what GET answered changes nothing"
            );
        }
        let mut changed = read.body.clone();
        changed[read_only] = other_value;
        let refused = app.put(&path, changed).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            refused.error_message().contains(read_only),
            "{path}: {refused:?}"
        );
        assert_eq!(
            app.get(&path).await.body,
            read.body,
            "{path}: a refused PUT changes nothing"
        );

        let mut typo = read.body.clone();
        typo["colour"] = json!("red");
        let unknown = app.put(&path, typo).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            unknown.error_message().contains("colour"),
            "{path}: {unknown:?}"
        );
    }

    // A copy: the job as read, renamed, POSTed with its id, createdBy and createdTime.
    let original = app.get(&format!("/masking-jobs/{job}")).await.body;
    let mut copy = original.clone();
    copy["jobName"] = json!("copy of job");
    copy["createdBy"] = json!("someone else");
    let copied = app.post("/masking-jobs", copy).await;
    assert_eq!(copied.status, StatusCode::CREATED, "{copied:?}");
    assert_ne!(copied.body["maskingJobId"], original["maskingJobId"]);
    assert_eq!(copied.body["createdBy"], "admin");
    assert_ne!(copied.body["createdTime"], original["createdTime"]);
    assert_eq!(
        copied.body["databaseMaskingOptions"],
        original["databaseMaskingOptions"]
    );

    // An empty string is an absent field: no key column, no description.
    sqlx::query("CREATE TABLE target.pets (id int PRIMARY KEY, name text)")
        .execute(&app.pool)
        .await
        .unwrap();
    let pets = app
        .post(
            "/table-metadata",
            json!({"tableName": "pets", "rulesetId": rs, "keyColumn": "", "whereClause": ""}),
        )
        .await;
    assert_eq!(pets.status, StatusCode::CREATED, "{pets:?}");
    assert!(pets.body["keyColumn"].is_null() && pets.body["whereClause"].is_null());
    let blank = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"jobDescription": ""}),
        )
        .await;
    assert_eq!(
        (blank.status, blank.body["jobDescription"].clone()),
        (StatusCode::OK, Value::Null)
    );

    // Unmask a column as a client does (the whole object, isMasked false): the run leaves it alone.
    let mut column = app
        .get(&format!("/column-metadata/{first_name}"))
        .await
        .body;
    column["isMasked"] = json!(false);
    let unmasked = app
        .put(&format!("/column-metadata/{first_name}"), column)
        .await;
    assert_eq!(
        (unmasked.status, unmasked.body["isMasked"].clone()),
        (StatusCode::OK, json!(false))
    );
    let tables = app
        .get(&format!("/table-metadata?ruleset_id={rs}&is_masked=True"))
        .await;
    assert_eq!(
        tables.body["_pageInfo"]["total"], 1,
        "people still has a masked column"
    );
    let done = finished(&app, job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let (kept, changed): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE first_name = 'First' || id), count(*) FILTER (WHERE last_name <> 'Last' || id)
           FROM target.people",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((kept, changed), (50, 50));
}

#[tokio::test]
async fn every_field_of_a_delphix_masking_job_works_or_is_refused_by_name() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let job = app.create_job_on(rs).await;
    let read = app.get(&format!("/masking-jobs/{job}")).await.body;
    assert_eq!(
        keys(&read),
        delphix_fields("MaskingJob"),
        "the job answers exactly Delphix's fields"
    );
    assert_eq!(
        keys(&read["databaseMaskingOptions"]),
        delphix_fields("DatabaseMaskingOptions")
    );

    // Each field Delphix lists, with a value a client could send: Ok(what GET then answers), or
    // Err(the name the refusal gives).
    let script = json!({"name": "note", "contents": "SELECT 1"});
    let cases: Vec<(&str, Value, Result<Value, &str>)> = vec![
        ("maskingJobId", json!(job), Ok(json!(job))),
        ("jobName", json!("renamed"), Ok(json!("renamed"))),
        ("rulesetId", json!(rs), Ok(json!(rs))),
        ("rulesetType", json!("DATABASE"), Ok(json!("DATABASE"))),
        ("rulesetType", json!("FILE"), Err("rulesetType")),
        (
            "createdBy",
            read["createdBy"].clone(),
            Ok(read["createdBy"].clone()),
        ),
        ("createdBy", json!("mallory"), Err("createdBy")),
        (
            "createdTime",
            read["createdTime"].clone(),
            Ok(read["createdTime"].clone()),
        ),
        ("email", json!("ops@example.com"), Err("email")),
        ("feedbackSize", json!(777), Ok(json!(777))),
        ("jobDescription", json!("described"), Ok(json!("described"))),
        ("maxMemory", json!(2048), Ok(json!(2048))),
        ("minMemory", json!(512), Ok(json!(512))),
        ("multiTenant", json!(true), Ok(json!(true))),
        ("numInputStreams", json!(1), Ok(json!(1))),
        ("numInputStreams", json!(3), Ok(json!(3))),
        ("numInputStreams", json!(65), Err("numInputStreams")),
        ("onTheFlyMasking", json!(false), Ok(json!(false))),
        // A source belongs to on-the-fly jobs (tests/api/on_the_fly.rs runs them).
        (
            "onTheFlyMaskingSource",
            json!({"connectorId": 1, "connectorType": "DATABASE"}),
            Err("onTheFlyMaskingSource"),
        ),
        (
            "onTheFlyMaskingSource",
            json!({"connectorId": 1, "connectorType": "FILE"}),
            Err("connectorType"),
        ),
        // Multi-tenant (above), it may take its source per execution.
        ("onTheFlyMasking", json!(true), Ok(json!(true))),
        ("onTheFlyMasking", json!(false), Ok(json!(false))),
        ("failImmediately", json!(true), Ok(json!(true))),
        ("enabledTasks", json!(["DROP_INDEXES"]), Err("enabledTasks")),
        ("streamRowLimit", json!(5000), Ok(json!(5000))),
        (
            "databaseMaskingOptions",
            json!({"batchUpdate": false}),
            Ok(json!(false)),
        ),
        (
            "databaseMaskingOptions",
            json!({"commitSize": 250}),
            Ok(json!(250)),
        ),
        (
            "databaseMaskingOptions",
            json!({"disableConstraints": true}),
            Ok(json!(true)),
        ),
        (
            "databaseMaskingOptions",
            json!({"dropIndexes": true}),
            Ok(json!(true)),
        ),
        (
            "databaseMaskingOptions",
            json!({"disableTriggers": true}),
            Ok(json!(true)),
        ),
        (
            "databaseMaskingOptions",
            json!({"numOutputThreadsPerStream": 1}),
            Ok(json!(1)),
        ),
        (
            "databaseMaskingOptions",
            json!({"numOutputThreadsPerStream": 4}),
            Err("numOutputThreadsPerStream"),
        ),
        (
            "databaseMaskingOptions",
            json!({"truncateTables": true}),
            Err("truncateTables"),
        ),
        (
            "databaseMaskingOptions",
            json!({"prescript": script}),
            Ok(script.clone()),
        ),
        (
            "databaseMaskingOptions",
            json!({"postscript": script}),
            Ok(script.clone()),
        ),
        (
            "databaseMaskingOptions",
            json!({"prescript": {"name": "empty"}}),
            Err("prescript.contents"),
        ),
        (
            "databaseMaskingOptions",
            json!({"speed": "max"}),
            Err("speed"),
        ),
    ];
    let mut covered = BTreeSet::new();
    let mut covered_options = BTreeSet::new();
    for (field, value, expected) in cases {
        covered.insert(field.to_owned());
        let option = (field == "databaseMaskingOptions")
            .then(|| value.as_object().unwrap().keys().next().unwrap().clone());
        if let Some(o) = &option {
            covered_options.insert(o.clone());
        }
        let before = app.get(&format!("/masking-jobs/{job}")).await.body;
        let put = app
            .put(&format!("/masking-jobs/{job}"), json!({ field: value }))
            .await;
        let answered = match &option {
            Some(o) => put.body["databaseMaskingOptions"][o].clone(),
            None => put.body[field].clone(),
        };
        match expected {
            Ok(stored) => {
                assert_eq!(put.status, StatusCode::OK, "{field} {value}: {put:?}");
                assert_eq!(answered, stored, "{field} {value}");
                let again = app.get(&format!("/masking-jobs/{job}")).await.body;
                assert_eq!(again, put.body, "{field} is stored as answered");
            }
            Err(name) => {
                assert_eq!(
                    put.status,
                    StatusCode::BAD_REQUEST,
                    "{field} {value}: {put:?}"
                );
                assert!(
                    put.error_message().contains(name),
                    "{field} {value}: {put:?}"
                );
                let after = app.get(&format!("/masking-jobs/{job}")).await.body;
                assert_eq!(after, before, "a refused {field} changes nothing");
                // Refused on create too, not stored and ignored.
                let mut create = json!({"jobName": format!("new {field}"), "rulesetId": rs});
                create[field] = value.clone();
                let post = app.post("/masking-jobs", create).await;
                if !matches!(field, "createdBy" | "maskingJobId" | "createdTime") {
                    assert_eq!(
                        post.status,
                        StatusCode::BAD_REQUEST,
                        "POST {field} {value}: {post:?}"
                    );
                }
            }
        }
    }
    assert_eq!(
        covered,
        delphix_fields("MaskingJob"),
        "every MaskingJob field is tried"
    );
    covered_options.remove("speed");
    assert_eq!(
        covered_options,
        delphix_fields("DatabaseMaskingOptions"),
        "every option is tried"
    );
    let nulled = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"maxMemory": null, "databaseMaskingOptions": {"prescript": null}}),
        )
        .await;
    assert_eq!(
        (
            nulled.body["maxMemory"].clone(),
            nulled.body["databaseMaskingOptions"]["prescript"].clone()
        ),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn table_and_column_metadata_have_delphix_fields_and_refuse_what_maskd_cannot_do() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let table = app
        .mask_columns(rs, "people", &[("email", "EmailLookup")])
        .await;
    let t = app.get(&format!("/table-metadata/{table}")).await.body;
    assert_eq!(keys(&t), delphix_fields("TableMetadata"));
    assert_eq!(t["isMasked"], true);
    let columns = app
        .get(&format!("/column-metadata?table_metadata_id={table}"))
        .await
        .body;
    let email = columns["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["columnName"] == "email")
        .unwrap()
        .clone();
    assert_eq!(keys(&email), delphix_fields("ColumnMetadata"));
    assert_eq!(
        (
            email["isProfilerWritable"].clone(),
            email["algorithmFieldId"].clone()
        ),
        (json!(true), Value::Null)
    );
    let path = format!("/column-metadata/{}", email["columnMetadataId"]);

    let noted = app
        .put(
            &path,
            json!({"notes": "checked by legal", "isProfilerWritable": false}),
        )
        .await;
    assert_eq!(
        (
            noted.status,
            noted.body["notes"].clone(),
            noted.body["isProfilerWritable"].clone()
        ),
        (StatusCode::OK, json!("checked by legal"), json!(false))
    );
    for (field, value) in [
        ("dateFormat", json!("yyyy-MM-dd")),
        ("algorithmFieldId", json!(3)),
        ("algorithmGroupNo", json!(1)),
    ] {
        let refused = app.put(&path, json!({ field: value })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(refused.error_message().contains(field), "{refused:?}");
    }
    // customSql is honoured by on-the-fly jobs (tests/api/on_the_fly.rs).
    for (field, value) in [("havingClause", json!("count(*) > 1"))] {
        let refused = app
            .put(&format!("/table-metadata/{table}"), json!({ field: value }))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(refused.error_message().contains(field), "{refused:?}");
        sqlx::query("CREATE TABLE IF NOT EXISTS target.other (id int PRIMARY KEY)")
            .execute(&app.pool)
            .await
            .unwrap();
        let post = app
            .post(
                "/table-metadata",
                json!({"tableName": "other", "rulesetId": rs, field: value}),
            )
            .await;
        assert_eq!(post.status, StatusCode::BAD_REQUEST, "{field}: {post:?}");
    }
    let read_only = app
        .put(
            &format!("/table-metadata/{table}"),
            json!({"isMasked": false}),
        )
        .await;
    assert_eq!(read_only.status, StatusCode::BAD_REQUEST);
    assert!(read_only.error_message().contains("isMasked"));
}

#[tokio::test]
async fn a_where_clause_masks_exactly_the_matching_rows_and_leaves_the_others_byte_identical() {
    let app = spawn_app_with_a_worker().await;
    let rs = app.create_ruleset().await;
    for sql in [
        "CREATE TABLE target.big (id bigint PRIMARY KEY, name text, region text)",
        "INSERT INTO target.big SELECT g, 'Name' || g, CASE WHEN g % 3 = 0 THEN 'EU' ELSE 'US' END
           FROM generate_series(1, 100000) g",
        "CREATE TABLE target.big_original AS SELECT * FROM target.big",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    let table = app
        .mask_columns(rs, "big", &[("name", "FirstNameLookup")])
        .await;
    let clause = "region = 'EU' AND id > 1000";
    let put = app
        .put(
            &format!("/table-metadata/{table}"),
            json!({"whereClause": clause}),
        )
        .await;
    assert_eq!(
        (put.status, put.body["whereClause"].clone()),
        (StatusCode::OK, json!(clause)),
        "{put:?}"
    );
    let job = app.create_job_on(rs).await;
    let done = finished(&app, job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let matching: i64 =
        sqlx::query_scalar("SELECT count(*) FROM target.big WHERE region = 'EU' AND id > 1000")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (done["rowsTotal"].as_i64(), done["rowsMasked"].as_i64()),
        (Some(matching), Some(matching))
    );
    let (masked, untouched, others): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE o.region = 'EU' AND o.id > 1000 AND b.name <> o.name),
                count(*) FILTER (WHERE NOT (o.region = 'EU' AND o.id > 1000) AND b::text = o::text),
                count(*) FILTER (WHERE NOT (o.region = 'EU' AND o.id > 1000))
           FROM target.big b JOIN target.big_original o USING (id)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(masked, matching, "every matching row is masked");
    assert_eq!(untouched, others, "every other row is byte-identical");
    assert_eq!(matching + others, 100000);
}

#[tokio::test]
async fn a_hostile_where_clause_is_refused_and_the_target_is_unharmed() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    sqlx::query("INSERT INTO target.people SELECT g, 'First' || g FROM generate_series(1, 10) g")
        .execute(&app.pool)
        .await
        .unwrap();
    let table = app
        .mask_columns(rs, "people", &[("first_name", "FirstNameLookup")])
        .await;
    let path = format!("/table-metadata/{table}");
    assert_eq!(
        app.put(&path, json!({"whereClause": "id > 5"}))
            .await
            .status,
        StatusCode::OK
    );
    for hostile in [
        "1=1; DROP TABLE target.people",
        ") OR (1=1",
        "1=1) OR (1=1",
        "id > 5 -- and the rest",
        "id > 5 /* hidden */",
        "no_such_column = 1",
        "id >",
        "name = $$x$$",
    ] {
        let refused = app.put(&path, json!({"whereClause": hostile})).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{hostile}: {refused:?}"
        );
        assert!(
            refused.error_message().contains("whereClause"),
            "{refused:?}"
        );
        assert_eq!(
            app.get(&path).await.body["whereClause"],
            "id > 5",
            "{hostile}"
        );
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM target.people")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 10, "the target is unharmed");
    // The target's own words for a clause it cannot plan.
    let unknown = app
        .put(&path, json!({"whereClause": "no_such_column = 1"}))
        .await;
    assert!(
        unknown.error_message().contains("no_such_column"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn prescript_runs_before_the_first_table_and_postscript_after_the_last() {
    let app = spawn_app_with_a_worker().await;
    let rs = app.create_ruleset().await;
    sqlx::query("INSERT INTO target.people SELECT g, 'First' || g FROM generate_series(1, 20) g")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE target.script_log (step text, first_name text)")
        .execute(&app.pool)
        .await
        .unwrap();
    app.mask_columns(rs, "people", &[("first_name", "FirstNameLookup")])
        .await;
    let record = |step: &str| {
        json!({"name": step, "contents": format!(
            "INSERT INTO target.script_log SELECT '{step}', first_name FROM target.people WHERE id = 1; \
             UPDATE target.script_log SET step = step WHERE false"
        )})
    };
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "scripted", "rulesetId": rs,
            "databaseMaskingOptions": {"prescript": record("pre"), "postscript": record("post")}}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    let job = job.body["maskingJobId"].as_i64().unwrap();
    let done = finished(&app, job).await;
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let log: Vec<(String, String)> =
        sqlx::query_as("SELECT step, first_name FROM target.script_log ORDER BY step DESC")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        log[0],
        ("pre".to_owned(), "First1".to_owned()),
        "the prescript saw the data unmasked"
    );
    assert_eq!(log[1].0, "post");
    assert_ne!(log[1].1, "First1", "the postscript saw it masked");

    // A failing prescript fails the execution before anything is masked, with its error in an event.
    sqlx::query("TRUNCATE target.people")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO target.people SELECT g, 'First' || g FROM generate_series(1, 20) g")
        .execute(&app.pool)
        .await
        .unwrap();
    let put = app
        .put(&format!("/masking-jobs/{job}"), json!({"databaseMaskingOptions":
            {"prescript": {"name": "broken", "contents": "INSERT INTO target.script_log VALUES ('x', 'y'); SELECT * FROM target.no_such_table"}}}))
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let failed = finished(&app, job).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let events = app
        .get(&format!(
            "/execution-events?execution_id={}",
            failed["executionId"]
        ))
        .await;
    let causes: Vec<String> = events.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["cause"].as_str().map(str::to_owned))
        .collect();
    assert!(
        causes
            .iter()
            .any(|c| c.contains("prescript 'broken'") && c.contains("no_such_table")),
        "{causes:?}"
    );
    let (unmasked, logged): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.people WHERE first_name = 'First' || id),
                (SELECT count(*) FROM target.script_log WHERE step = 'x')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (unmasked, logged),
        (20, 0),
        "nothing masked, and the script's own work rolled back"
    );
}

/// The property names of a schema of maskd's OpenAPI document.
fn properties(schema: &Value) -> BTreeSet<String> {
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_openapi_schemas_have_exactly_delphixs_fields() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let schemas = doc.body["components"]["schemas"].as_object().unwrap();
    // What maskd answers: every field of Delphix's model, and no other. Passwords are write-only.
    let answered = [
        "Algorithm",
        "Application",
        "ColumnMetadata",
        "DatabaseConnector",
        "DatabaseMaskingOptions",
        "DatabaseRuleset",
        "Domain",
        "Environment",
        "Execution",
        "ExecutionComponent",
        "ExecutionEvent",
        "ExportObjectMetadata",
        "MaskingJob",
        "MaskingJobScript",
        "OnTheFlyMaskingSource",
        "ProfileExpression",
        "ProfileJob",
        "ProfileSet",
        "TableMetadata",
    ];
    for model in answered {
        let schema = schemas
            .get(model)
            .unwrap_or_else(|| panic!("maskd's document has no {model}"));
        let mut expected = delphix_fields(model);
        expected.remove("password");
        assert_eq!(properties(schema), expected, "{model}");
    }
    // What maskd is sent: only Delphix's field names, plus maskd's two extensions: an
    // environment's application by name, and an execution's choice to start over.
    let extensions = BTreeSet::from(["applicationName".to_owned(), "startOver".to_owned()]);
    let mut bodies = 0;
    for (name, schema) in schemas {
        let Some(model) = name
            .strip_suffix("Create")
            .or_else(|| name.strip_suffix("Update"))
        else {
            continue;
        };
        let allowed: BTreeSet<String> = delphix_fields(model).union(&extensions).cloned().collect();
        let extra: Vec<_> = properties(schema).difference(&allowed).cloned().collect();
        assert!(
            extra.is_empty(),
            "{name} has fields Delphix's {model} does not: {extra:?}"
        );
        bodies += 1;
    }
    assert!(
        bodies >= 12,
        "every create and update body is checked ({bodies})"
    );
    // Every schema named like a Delphix model is one of those checked.
    for name in schemas.keys() {
        let doc = include_str!("../../docs/DELPHIX-API.md");
        if doc.contains(&format!("- **{name}**")) {
            assert!(
                answered.contains(&name.as_str()),
                "{name} is a Delphix model this test does not check"
            );
        }
    }
}

#[tokio::test]
async fn every_field_of_a_delphix_connector_environment_and_ruleset_works_or_is_refused_by_name() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let ruleset = app.get(&format!("/database-rulesets/{rs}")).await.body;
    let connector = ruleset["databaseConnectorId"].as_i64().unwrap();
    let environment = app
        .get(&format!("/database-connectors/{connector}"))
        .await
        .body["environmentId"]
        .as_i64()
        .unwrap();
    let (c, e, r) = (
        format!("/database-connectors/{connector}"),
        format!("/environments/{environment}"),
        format!("/database-rulesets/{rs}"),
    );
    // (object, field, a value a client could send, Ok(what GET then answers) or Err(the name
    // the refusal gives)).
    let cases: Vec<(&str, &str, Value, Result<Value, &str>)> = vec![
        (&c, "connectorName", json!("renamed"), Ok(json!("renamed"))),
        (&c, "databaseType", json!("POSTGRES"), Ok(json!("POSTGRES"))),
        (&c, "databaseType", json!("ORACLE"), Err("databaseType")),
        (
            &c,
            "customDriverName",
            json!("my-driver"),
            Err("customDriverName"),
        ),
        (&c, "instanceName", json!("SQLEXPRESS"), Err("instanceName")),
        (&c, "jdbc", json!("jdbc:postgresql://db/x"), Err("jdbc")),
        (&c, "sid", json!("ORCL"), Err("sid")),
        (&c, "schemaName", json!("public"), Ok(json!("public"))),
        (&c, "kerberosAuth", json!(false), Ok(json!(false))),
        (&c, "kerberosAuth", json!(true), Err("kerberosAuth")),
        (
            &c,
            "servicePrincipal",
            json!("maskd@REALM"),
            Err("servicePrincipal"),
        ),
        (&c, "jdbcDriverId", json!(3), Err("jdbcDriverId")),
        (&c, "enableLogger", json!(true), Err("enableLogger")),
        (
            &c,
            "fileReferenceId",
            json!("a-file"),
            Err("fileReferenceId"),
        ),
        (
            &c,
            "passwordVaultAuth",
            json!(true),
            Err("passwordVaultAuth"),
        ),
        (&c, "credentialPathId", json!(2), Err("credentialPathId")),
        (
            &e,
            "environmentName",
            json!("renamed"),
            Ok(json!("renamed")),
        ),
        (&e, "purpose", json!("TRAINING"), Ok(json!("TRAINING"))),
        (&e, "isWorkflowEnabled", json!(false), Ok(json!(false))),
        (
            &e,
            "isWorkflowEnabled",
            json!(true),
            Err("isWorkflowEnabled"),
        ),
        (&r, "rulesetName", json!("renamed"), Ok(json!("renamed"))),
        (&r, "refreshDropsTables", json!(false), Ok(json!(false))),
        (
            &r,
            "refreshDropsTables",
            json!(true),
            Err("refreshDropsTables"),
        ),
    ];
    for (path, field, value, expected) in cases {
        let before = app.get(path).await.body;
        let put = app.put(path, json!({field: value})).await;
        match expected {
            Ok(answered) => {
                assert_eq!(put.status, StatusCode::OK, "{path} {field}: {put:?}");
                assert_eq!(app.get(path).await.body[field], answered, "{path} {field}");
            }
            Err(name) => {
                assert_eq!(
                    put.status,
                    StatusCode::BAD_REQUEST,
                    "{path} {field}: {put:?}"
                );
                assert!(
                    put.error_message().contains(name),
                    "{path} {field}: {put:?}"
                );
                assert_eq!(
                    app.get(path).await.body,
                    before,
                    "{path} {field}: a refusal changes nothing"
                );
            }
        }
    }
    // A POST refuses the same, by name.
    let mut body = app.connector_body(environment);
    body["kerberosAuth"] = json!(true);
    let refused = app.post("/database-connectors", body).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.error_message().contains("kerberosAuth"),
        "{refused:?}"
    );
}
