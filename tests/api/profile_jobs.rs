//! Profile jobs: configured beside masking jobs in one id space, run through /executions, finding
//! the personal data of a ruleset's tables by their data, never writing the target.

use std::collections::BTreeMap;
use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Settings, TestApp, spawn_app, spawn_app_with, watch};

fn ended(e: &Value) -> bool {
    e["endTime"].is_string()
}

async fn create_profile_job(app: &TestApp, ruleset: i64, profile_set: i64) -> i64 {
    let job = app
        .post(
            "/profile-jobs",
            json!({"jobName": "find", "rulesetId": ruleset, "profileSetId": profile_set, "feedbackSize": 100}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    job.body["profileJobId"].as_i64().unwrap()
}

#[tokio::test]
async fn profile_jobs_share_the_id_space_of_masking_jobs_and_keep_their_references() {
    let app = spawn_app().await;
    let rs = app.create_ruleset().await;
    let masking = app.create_job_on(rs).await;
    let profile = create_profile_job(&app, rs, 1).await;
    let masking_after = app.create_job_on(rs).await;
    assert!(
        masking < profile && profile < masking_after,
        "{masking} {profile} {masking_after}"
    );
    assert_eq!(
        app.get(&format!("/masking-jobs/{profile}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/profile-jobs/{masking}")).await.status,
        StatusCode::NOT_FOUND
    );

    let path = format!("/profile-jobs/{profile}");
    let read = app.get(&path).await.body;
    assert_eq!(
        (read["createdBy"].clone(), read["rulesetType"].clone()),
        (json!("admin"), json!("DATABASE"))
    );
    let put = app.put(&path, read.clone()).await;
    assert_eq!(
        (put.status, &put.body),
        (StatusCode::OK, &read),
        "the whole object back changes nothing"
    );
    let put = app
        .put(
            &path,
            json!({"profileSetId": 2, "multipleProfilerCheck": true, "numInputStreams": 2}),
        )
        .await;
    assert_eq!(
        (
            put.body["profileSetId"].clone(),
            put.body["multipleProfilerCheck"].clone(),
            put.body["numInputStreams"].clone()
        ),
        (json!(2), json!(true), json!(2))
    );
    for (body, status, says) in [
        (
            json!({"profileSetId": 4242}),
            StatusCode::NOT_FOUND,
            "profile set 4242",
        ),
        (
            json!({"rulesetId": 4242}),
            StatusCode::NOT_FOUND,
            "database ruleset 4242",
        ),
        (
            json!({"email": "ops@example.com"}),
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            json!({"rulesetType": "FILE"}),
            StatusCode::BAD_REQUEST,
            "rulesetType",
        ),
        (
            json!({"numInputStreams": 0}),
            StatusCode::BAD_REQUEST,
            "numInputStreams",
        ),
        (
            json!({"createdBy": "mallory"}),
            StatusCode::BAD_REQUEST,
            "createdBy",
        ),
    ] {
        let a = app.put(&path, body.clone()).await;
        assert_eq!(a.status, status, "{body}: {a:?}");
        assert!(a.error_message().contains(says), "{body}: {a:?}");
    }
    let missing = app
        .post(
            "/profile-jobs",
            json!({"jobName": "x", "rulesetId": rs, "profileSetId": 4242}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{missing:?}");
    let missing = app
        .post("/profile-jobs", json!({"jobName": "x", "rulesetId": rs}))
        .await;
    assert!(
        missing.error_message().contains("profileSetId"),
        "{missing:?}"
    );

    // A set a job uses cannot go; the job can, and then the set can.
    let set = app
        .post(
            "/profile-sets",
            json!({"profileSetName": "mine", "profileExpressionIds": [1]}),
        )
        .await
        .body["profileSetId"]
        .as_i64()
        .unwrap();
    app.put(&path, json!({"profileSetId": set})).await;
    let used = app.delete(&format!("/profile-sets/{set}")).await;
    assert_eq!(used.status, StatusCode::CONFLICT, "{used:?}");
    assert!(used.error_message().contains("profile jobs"), "{used:?}");
    assert_eq!(app.delete(&path).await.status, StatusCode::OK);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&format!("/profile-sets/{set}")).await.status,
        StatusCode::OK
    );
}

/// A table of personal data under plain and obscure names, and decoys under sensitive names.
async fn create_customers(app: &TestApp, rows: i64) {
    for sql in [
        "CREATE TABLE target.customers (
            id bigint PRIMARY KEY, first_name text, surname text, contact text, c7 text, card text,
            born date, ssn_verified boolean, email_sent_at timestamptz, phone_model text,
            order_no text, name text, notes text)",
        &format!(
            "INSERT INTO target.customers
             SELECT g,
                    (ARRAY['James','Mary','John','Patricia','Robert','Linda','Michael','Barbara'])[1 + g % 8],
                    (ARRAY['Smith','Johnson','Williams','Jones','Garcia','Miller','Davis','Wilson'])[1 + g % 8],
                    'user' || g || '@example.com',
                    lpad((100 + g % 600)::text, 3, '0') || '-' || lpad((10 + g % 80)::text, 2, '0') || '-' || lpad((1000 + g)::text, 4, '0'),
                    '4111111111111111',
                    date '1950-01-01' + (g % 18000),
                    g % 2 = 0,
                    now() - (g % 30) * interval '1 day',
                    (ARRAY['iPhone 15','Pixel 8','Galaxy S24'])[1 + g % 3],
                    lpad(g::text, 16, '9'),
                    (ARRAY['Deluxe Widget','Basic Gadget','Super Gizmo'])[1 + g % 3],
                    'please call back tomorrow'
               FROM generate_series(1, {rows}) g"
        ),
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
}

async fn columns(app: &TestApp, table: i64) -> BTreeMap<String, Value> {
    let c = app
        .get(&format!("/column-metadata?table_metadata_id={table}"))
        .await;
    c.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["columnName"].as_str().unwrap().to_owned(), c.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_run_finds_personal_data_by_its_values_and_never_writes_the_target() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    create_customers(&app, 20_000).await;
    let table = app.mask_columns(rs, "customers", &[]).await;
    let mine = &columns(&app, table).await["surname"];
    let kept = app
        .put(
            &format!("/column-metadata/{}", mine["columnMetadataId"]),
            json!({"isProfilerWritable": false}),
        )
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    let before: String = sqlx::query_scalar(
        "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM target.customers c",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let job = create_profile_job(&app, rs, 1).await;
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(10_000), Some(10_000)),
        "a bounded sample"
    );
    let listed = app.get(&format!("/executions?job_id={job}")).await;
    assert_eq!(listed.body["responseList"][0]["executionId"], id);

    let results = app.get(&format!("/profile-results-database/{id}")).await;
    assert_eq!(results.status, StatusCode::OK, "{results:?}");
    let found: BTreeMap<String, (Value, Value, Value)> = results.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["columnName"].as_str().unwrap().to_owned(),
                (
                    r["domainName"].clone(),
                    r["foundIn"].clone(),
                    r["applied"].clone(),
                ),
            )
        })
        .collect();
    let expect = |domain: &str| (json!(domain), json!("DATA"), json!(true));
    assert_eq!(found["first_name"], expect("FIRST_NAME"));
    assert_eq!(
        found["contact"],
        expect("EMAIL"),
        "an email column under a name that says nothing"
    );
    assert_eq!(found["c7"], expect("SSN"));
    assert_eq!(found["card"], expect("CREDIT_CARD"));
    assert_eq!(found["born"], expect("DOB"));
    assert_eq!(
        found["surname"],
        (json!("LAST_NAME"), json!("DATA"), json!(false)),
        "found, but the user's choice stays"
    );
    for decoy in [
        "id",
        "ssn_verified",
        "email_sent_at",
        "phone_model",
        "order_no",
        "name",
        "notes",
    ] {
        assert!(
            found[decoy].0.is_null(),
            "{decoy} is not personal data: {:?}",
            found[decoy]
        );
    }
    let ratio = results.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["columnName"] == "card")
        .unwrap()["matchRatio"]
        .as_f64()
        .unwrap();
    assert_eq!(ratio, 1.0);

    // The columns found took their domain, its algorithm and isMasked, but for the user's own.
    let after = columns(&app, table).await;
    assert_eq!(
        (
            after["c7"]["domainName"].clone(),
            after["c7"]["algorithmName"].clone(),
            after["c7"]["isMasked"].clone()
        ),
        (json!("SSN"), json!("SsnSegment"), json!(true))
    );
    assert_eq!(
        (
            after["surname"]["domainName"].clone(),
            after["surname"]["isMasked"].clone()
        ),
        (Value::Null, json!(false))
    );
    assert_eq!(after["ssn_verified"]["isMasked"], false);
    let now: String = sqlx::query_scalar(
        "SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM target.customers c",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(before, now, "the target is unchanged");
    let missing = app.get("/profile-results-database/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_run_needs_only_select_on_the_target_and_its_cancel_stops_it() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    create_customers(&app, 1_000).await;
    app.mask_columns(rs, "customers", &[]).await;
    // A connector whose role may only read the target.
    let role = format!("reader_{}", app.db.name);
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'reader-password'"),
        format!("GRANT USAGE ON SCHEMA target TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA target TO {role}"),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    let connector =
        app.get(&format!("/database-rulesets/{rs}")).await.body["databaseConnectorId"].clone();
    let changed = app
        .put(
            &format!("/database-connectors/{connector}"),
            json!({"username": role, "password": "reader-password"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");

    let job = create_profile_job(&app, rs, 1).await;
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(
        last["status"], "SUCCEEDED",
        "a read-only role is enough: {last}"
    );

    // A run held up by a lock on its table, cancelled while RUNNING: it stops and ends.
    use sqlx::{Connection, Executor};
    let mut blocker = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
    blocker
        .execute("BEGIN; LOCK TABLE target.customers IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let id = app.submit(job).await;
    watch(&app, id, |e| e["status"] == "RUNNING").await;
    let asked = Instant::now();
    let cancel = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(
        (cancel.status, cancel.body["status"].clone()),
        (StatusCode::OK, json!("CANCELLED")),
        "{cancel:?}"
    );
    let last = watch(&app, id, ended).await.pop().unwrap();
    println!("profile run: cancel to endTime {:?}", asked.elapsed());
    assert_eq!(last["status"], "CANCELLED");
    let results: i64 =
        sqlx::query_scalar("SELECT count(*) FROM profile_results WHERE execution_id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(results, 0, "the cancelled run recorded nothing");
    blocker.execute("ROLLBACK").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_is_as_large_as_maskd_profile_sample_rows_says() {
    let app = spawn_app_with(Settings {
        workers: 1,
        profile_sample_rows: 300,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    create_customers(&app, 1_000).await;
    app.mask_columns(rs, "customers", &[]).await;
    let job = create_profile_job(&app, rs, 1).await;
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    // people (empty) and customers (1,000 rows, 300 of them read).
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(300), Some(300))
    );
    let results = app
        .get(&format!("/profile-results-database/{id}"))
        .await
        .body;
    let card = results["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["columnName"] == "card")
        .unwrap()
        .clone();
    assert_eq!(
        (card["valuesSampled"].as_i64(), card["domainName"].as_str()),
        (Some(300), Some("CREDIT_CARD"))
    );
}
