//! CRUD and validation of the configuration resources.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::spawn_app;

fn id(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
}

#[tokio::test]
async fn applications_and_environments() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/environments",
            json!({"environmentName": "dev", "applicationName": "crm"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.body["purpose"], "MASK");
    let env = id(&a.body, "environmentId");
    let apps = app.get("/applications").await;
    assert_eq!(
        apps.body["responseList"][0]["applicationName"], "crm",
        "the application was created with it"
    );
    let crm = id(&apps.body["responseList"][0], "applicationId");

    // Same application name again: reused, not duplicated.
    let b = app
        .post(
            "/environments",
            json!({"environmentName": "qa", "applicationName": "crm"}),
        )
        .await;
    assert_eq!(b.body["applicationId"], crm);
    assert_eq!(app.get("/applications").await.body["_pageInfo"]["total"], 1);
    let c = app
        .post(
            "/environments",
            json!({"environmentName": "prod", "applicationId": crm.to_string()}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED);

    assert_eq!(
        app.post(
            "/environments",
            json!({"environmentName": "dev", "applicationId": crm})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            "/environments",
            json!({"environmentName": "x", "applicationId": 999})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/environments", json!({"environmentName": "x"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post("/environments", json!({"applicationId": crm}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post(
            "/environments",
            json!({"environmentName": " ", "applicationId": crm})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post(
            "/environments",
            json!({"environmentName": "y", "applicationId": crm, "purpose": "PLAY"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    let filtered = app
        .get(&format!("/environments?application_id={crm}"))
        .await;
    assert_eq!(filtered.body["_pageInfo"]["total"], 3);

    let put = app
        .put(
            &format!("/environments/{env}"),
            json!({"environmentName": "development"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body["environmentName"], "development");
    assert_eq!(put.body["applicationId"], crm);
    let refused = app
        .put(
            &format!("/environments/{env}"),
            json!({"environmentId": env + 1}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.put(
            &format!("/environments/{env}"),
            json!({"environmentId": env, "purpose": "MASK"})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        app.put("/environments/999", json!({"environmentName": "z"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        app.delete(&format!("/applications/{crm}")).await.status,
        StatusCode::CONFLICT,
        "environments use it"
    );
    assert_eq!(
        app.delete(&format!("/environments/{env}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/environments/{env}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/environments/{env}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn connector_passwords_are_write_only_and_encrypted() {
    let app = spawn_app().await;
    app.create_target_table().await;
    let env = app
        .post(
            "/environments",
            json!({"environmentName": "e", "applicationName": "a"}),
        )
        .await;
    let env = id(&env.body, "environmentId");
    // The server's real password where it needs one; any password works under trust auth.
    let password = crate::common::server_password().unwrap_or_else(|| "Sup3r-Secret-Pw".into());
    let mut body = app.connector_body(env);
    body["password"] = json!(password);
    let c = app.post("/database-connectors", body.clone()).await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    let cid = id(&c.body, "databaseConnectorId");
    assert!(c.body.get("password").is_none());
    let got = app.get(&format!("/database-connectors/{cid}")).await;
    assert!(got.body.get("password").is_none() && !got.body.to_string().contains(&password));
    let listed = app
        .get(&format!("/database-connectors?environment_id={env}"))
        .await;
    assert!(!listed.body.to_string().contains(&password));
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT password_encrypted FROM database_connectors WHERE database_connector_id = $1",
    )
    .bind(cid)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        !stored
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "stored encrypted"
    );

    assert_eq!(
        app.post(&format!("/database-connectors/{cid}/test"), json!({}))
            .await
            .body["response"],
        "Connection Succeeded"
    );
    let bad_db = app
        .put(
            &format!("/database-connectors/{cid}"),
            json!({"databaseName": "no_such_db_here"}),
        )
        .await;
    assert_eq!(bad_db.status, StatusCode::OK);
    let failed = app
        .post(&format!("/database-connectors/{cid}/test"), json!({}))
        .await;
    assert_eq!(failed.body["response"], "Connection Failed");
    assert!(
        failed.body["reason"]
            .as_str()
            .unwrap()
            .contains("no_such_db_here")
    );
    assert!(!failed.body.to_string().contains(&password));

    for (field, value) in [
        ("port", json!(70000)),
        ("port", json!("x")),
        ("host", json!("")),
        ("databaseType", json!("ORACLE")),
    ] {
        let mut b = app.connector_body(env);
        b[field] = value.clone();
        assert_eq!(
            app.post("/database-connectors", b).await.status,
            StatusCode::BAD_REQUEST,
            "{field}={value}"
        );
    }
    let mut b = app.connector_body(env);
    b["environmentId"] = json!(999);
    assert_eq!(
        app.post("/database-connectors", b).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post("/database-connectors/999/test", json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let moved = app
        .put(
            &format!("/database-connectors/{cid}"),
            json!({"environmentId": env + 5}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rulesets_tables_and_columns() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let ruleset = app.get(&format!("/database-rulesets/{rs}")).await.body;
    let connector = id(&ruleset, "databaseConnectorId");
    let env = id(
        &app.get(&format!("/database-connectors/{connector}"))
            .await
            .body,
        "environmentId",
    );
    assert_eq!(
        app.get(&format!("/database-rulesets?environment_id={env}"))
            .await
            .body["_pageInfo"]["total"],
        1
    );
    assert_eq!(
        app.get(&format!("/database-rulesets?environment_id={}", env + 1))
            .await
            .body["_pageInfo"]["total"],
        0
    );
    assert_eq!(
        app.post(
            "/database-rulesets",
            json!({"rulesetName": "x", "databaseConnectorId": 999})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The connector is used by the ruleset: 409.
    let a = app
        .delete(&format!("/database-connectors/{connector}"))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(
        a.error_message().contains("ruleset"),
        "{}",
        a.error_message()
    );

    // Table metadata reads the target's catalog.
    let t = app
        .post(
            "/table-metadata",
            json!({"tableName": "people", "rulesetId": rs}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    let table = id(&t.body, "tableMetadataId");
    let cols = app
        .get(&format!("/column-metadata?table_metadata_id={table}"))
        .await;
    let names: Vec<&str> = cols.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["columnName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "first_name", "last_name", "email", "born"]);
    let by_name = |n: &str| {
        cols.body["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["columnName"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("id")["isPrimaryKey"], true);
    assert_eq!(by_name("email")["isIndex"], true);
    assert_eq!(by_name("first_name")["dataType"], "character varying(40)");
    assert_eq!(by_name("first_name")["columnLength"], 40);
    assert_eq!(by_name("born")["isMasked"], false);

    let missing = app
        .post(
            "/table-metadata",
            json!({"tableName": "nope", "rulesetId": rs}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.error_message().contains("nope"));
    let hostile = app
        .post(
            "/table-metadata",
            json!({"tableName": "people\"; DROP TABLE target.people; --", "rulesetId": rs}),
        )
        .await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST);
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'target' AND table_name = 'people'")
        .fetch_one(&app.pool).await.unwrap();
    assert_eq!(still, 1, "the target is unharmed");
    assert_eq!(
        app.post(
            "/table-metadata",
            json!({"tableName": "people", "rulesetId": rs})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            "/table-metadata",
            json!({"tableName": "people", "rulesetId": 999})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // keyColumn must be a column.
    assert_eq!(
        app.put(
            &format!("/table-metadata/{table}"),
            json!({"keyColumn": "nope"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let k = app
        .put(
            &format!("/table-metadata/{table}"),
            json!({"keyColumn": "email"}),
        )
        .await;
    assert_eq!(k.body["keyColumn"], "email");
    assert_eq!(
        app.put(
            &format!("/table-metadata/{table}"),
            json!({"tableName": "other"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    // Column rules.
    let first = id(&by_name("first_name"), "columnMetadataId");
    let set = app
        .put(
            &format!("/column-metadata/{first}"),
            json!({"algorithmName": "FirstNameLookup", "domainName": "FIRST_NAME"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    assert_eq!(
        (
            set.body["algorithmName"].as_str(),
            set.body["isMasked"].as_bool()
        ),
        (Some("FirstNameLookup"), Some(true))
    );
    let email = id(&by_name("email"), "columnMetadataId");
    let by_domain = app
        .put(
            &format!("/column-metadata/{email}"),
            json!({"domainName": "EMAIL"}),
        )
        .await;
    assert_eq!(
        by_domain.body["algorithmName"], "EmailLookup",
        "the domain's default algorithm"
    );
    assert_eq!(
        app.put(
            &format!("/column-metadata/{first}"),
            json!({"algorithmName": "Nope"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.put(
            &format!("/column-metadata/{first}"),
            json!({"domainName": "NOPE"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.put(
            &format!("/column-metadata/{first}"),
            json!({"columnName": "other"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let born = id(&by_name("born"), "columnMetadataId");
    assert_eq!(
        app.put(
            &format!("/column-metadata/{born}"),
            json!({"isMasked": true})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    // As a Delphix client unmasks a column: isMasked false keeps its algorithm for later.
    let unmasked = app
        .put(
            &format!("/column-metadata/{first}"),
            json!({"isMasked": false}),
        )
        .await;
    assert_eq!(
        (
            unmasked.status,
            unmasked.body["isMasked"].as_bool(),
            unmasked.body["algorithmName"].as_str()
        ),
        (StatusCode::OK, Some(false), Some("FirstNameLookup"))
    );
    assert_eq!(
        app.get(&format!("/column-metadata/{first}")).await.body["isMasked"],
        false
    );
    let remasked = app
        .put(
            &format!("/column-metadata/{first}"),
            json!({"isMasked": true}),
        )
        .await;
    assert_eq!(remasked.body["isMasked"], true);
    let off = app
        .put(
            &format!("/column-metadata/{first}"),
            json!({"algorithmName": null}),
        )
        .await;
    assert_eq!(
        (
            off.body["algorithmName"].is_null(),
            off.body["isMasked"].as_bool()
        ),
        (true, Some(false))
    );
    assert_eq!(
        app.get("/column-metadata?is_masked=true").await.body["_pageInfo"]["total"],
        1
    );
    // As a Python client spells it, the same filter.
    assert_eq!(
        app.get("/column-metadata?is_masked=True").await.body["_pageInfo"]["total"],
        1
    );

    // Deleting the table metadata removes its columns.
    assert_eq!(
        app.delete(&format!("/table-metadata/{table}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/column-metadata?table_metadata_id={table}"))
            .await
            .body["_pageInfo"]["total"],
        0
    );
}

#[tokio::test]
async fn masking_jobs() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let body = json!({
        "jobName": "nightly", "rulesetId": rs.to_string(), "feedbackSize": 1000, "jobDescription": "mask people",
        "failImmediately": true,
        "databaseMaskingOptions": {"commitSize": "500", "disableTriggers": true, "dropIndexes": true}
    });
    let j = app.post("/masking-jobs", body).await;
    assert_eq!(j.status, StatusCode::CREATED, "{:?}", j.body);
    let job = id(&j.body, "maskingJobId");
    assert_eq!(
        j.body["databaseMaskingOptions"],
        json!({"commitSize": 500, "disableConstraints": false, "disableTriggers": true, "dropIndexes": true,
               "batchUpdate": true, "numOutputThreadsPerStream": 1, "truncateTables": false,
               "prescript": null, "postscript": null})
    );
    assert_eq!(j.body["createdBy"], "admin");
    assert!(j.body["createdTime"].is_string());
    assert_eq!(j.body["multiTenant"], false);

    let p = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"jobDescription": null, "feedbackSize": 10}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body["jobDescription"].is_null());
    assert_eq!(p.body["feedbackSize"], 10);
    assert_eq!(
        p.body["jobName"], "nightly",
        "absent fields keep their values"
    );
    assert_eq!(
        app.put(
            &format!("/masking-jobs/{job}"),
            json!({"createdTime": "2020-01-01T00:00:00Z"})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.put(
            &format!("/masking-jobs/{job}"),
            json!({"maskingJobId": job + 1})
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.put(&format!("/masking-jobs/{job}"), json!({"rulesetId": 999}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    for bad in [
        json!({"rulesetId": rs}),
        json!({"jobName": "x"}),
        json!({"jobName": "x", "rulesetId": rs, "feedbackSize": 0}),
        json!({"jobName": "x", "rulesetId": rs, "databaseMaskingOptions": {"commitSize": -1}}),
        json!({"jobName": "x", "rulesetId": rs, "onTheFlyMasking": true}),
    ] {
        assert_eq!(
            app.post("/masking-jobs", bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(
        app.post("/masking-jobs", json!({"jobName": "x", "rulesetId": 999}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The ruleset is used by the job; the job has an active execution: both 409.
    assert_eq!(
        app.delete(&format!("/database-rulesets/{rs}")).await.status,
        StatusCode::CONFLICT
    );
    let e = app.submit(job).await;
    let a = app.delete(&format!("/masking-jobs/{job}")).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.error_message().contains("has an execution"));
    // Once it has stopped, the job and its history go.
    maskd::store::executions::cancel(&app.pool, e, None, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.delete(&format!("/masking-jobs/{job}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/executions/{e}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/masking-jobs/{job}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/database-rulesets/{rs}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn catalogs_clients_read_at_start_up() {
    let app = spawn_app().await;
    let algorithms = app.get("/algorithms").await;
    let list = algorithms.body["responseList"].as_array().unwrap();
    assert_eq!(
        algorithms.body["_pageInfo"]["total"].as_u64().unwrap() as usize,
        list.len()
    );
    assert!(list.len() >= 10);
    let types: Vec<&str> = list
        .iter()
        .map(|a| a["algorithmType"].as_str().unwrap())
        .collect();
    for t in ["LOOKUP", "SEGMENT", "DATE_SHIFT", "MINMAX", "REDACTION"] {
        assert!(types.contains(&t), "{t}");
    }
    assert_eq!(
        app.get("/algorithms/CreditCardSegment").await.body["algorithmType"],
        "SEGMENT"
    );
    assert_eq!(
        app.get("/algorithms/Nope").await.status,
        StatusCode::NOT_FOUND
    );

    let domains = app.get("/domains").await;
    let first = domains.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domainName"] == "FIRST_NAME")
        .unwrap()
        .clone();
    assert_eq!(first["defaultAlgorithmCode"], "FirstNameLookup");
    let syncable = app.get("/syncable-objects").await;
    assert_eq!(
        syncable.body["_pageInfo"]["total"].as_u64().unwrap() as usize,
        list.len()
    );
    assert!(syncable.body["responseList"][0]["objectIdentifier"]["algorithmName"].is_string());
    for empty in ["/file-connectors", "/file-rulesets"] {
        assert_eq!(
            app.get(empty).await.body,
            json!({"_pageInfo": {"numberOnPage": 0, "total": 0}, "responseList": []})
        );
    }
}
