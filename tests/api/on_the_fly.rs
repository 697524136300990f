//! On-the-fly masking: a job reads a source schema through a connector whose role may only
//! SELECT, and writes the rows, masked, into the target's tables of the same name; unmasked
//! columns arrive byte for byte, the source is never written, and the job's options act on the
//! target.

use std::time::Instant;

use maskd::masking::algorithms::{Algorithm, MaskingKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Settings, TestApp, spawn_app_with, wait_until_sessions_gone, watch};

fn ended(e: &Value) -> bool {
    e["endTime"].is_string()
}

/// Source and target schemas with the same two tables (orders reference customers), the source
/// filled with `rows` customers (awkward values included) and an order each; the target holds a
/// row of its own.
pub(crate) async fn create_schemas(app: &TestApp, rows: i64) {
    for schema in ["source", "target"] {
        for sql in [
            format!("CREATE SCHEMA {schema}"),
            format!(
                "CREATE TABLE {schema}.customers (id int PRIMARY KEY, first_name text, note text,
                     born date, photo bytea, tags text[], doc jsonb, total numeric(12, 2),
                     shout text GENERATED ALWAYS AS (upper(note)) STORED)"
            ),
            format!(
                "CREATE TABLE {schema}.orders (id int PRIMARY KEY,
                     customer_id int NOT NULL REFERENCES {schema}.customers, email text)"
            ),
            format!("CREATE INDEX ON {schema}.orders (email)"),
        ] {
            sqlx::query(&sql).execute(&app.pool).await.unwrap();
        }
    }
    sqlx::query(
        "INSERT INTO source.customers (id, first_name, note, born, photo, tags, doc, total)
         SELECT g, (ARRAY['Mary', 'John', 'Zoë'])[1 + g % 3],
                CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN E'tab\\there\\nnew line \\\\ back' WHEN 2 THEN '\\N'
                           WHEN 3 THEN '' ELSE 'plain ' || g END,
                date '1950-01-01' + g, decode(lpad(to_hex(g), 8, '0'), 'hex'),
                ARRAY['a b', E'q\"uote', NULL], jsonb_build_object('k', g, 's', E'x\\ty'), g * 1.25
           FROM generate_series(1, $1) g",
    )
    .bind(rows as i32)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO source.orders SELECT g, g, 'buyer' || g || '@example.com' FROM generate_series(1, $1) g",
    )
    .bind(rows as i32)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO target.customers (id, first_name) VALUES (-1, 'already there')")
        .execute(&app.pool)
        .await
        .unwrap();
}

/// A connector to schema `source` whose role may only read it.
pub(crate) async fn create_source_connector(app: &TestApp) -> i64 {
    let role = format!("src_reader_{}", app.db.name);
    for sql in [
        format!("CREATE ROLE {role} LOGIN PASSWORD 'reader-password'"),
        format!("GRANT USAGE ON SCHEMA source TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA source TO {role}"),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    let env = app
        .post(
            "/environments",
            json!({"environmentName": "production", "applicationName": "crm"}),
        )
        .await;
    let mut body = app.connector_body(env.body["environmentId"].as_i64().unwrap());
    body["schemaName"] = json!("source");
    body["username"] = json!(role);
    body["password"] = json!("reader-password");
    let c = app.post("/database-connectors", body).await;
    assert_eq!(c.status, StatusCode::CREATED, "{c:?}");
    c.body["databaseConnectorId"].as_i64().unwrap()
}

/// A ruleset on a target connector with both tables (customers' first_name and orders' email
/// masked); the ruleset id.
pub(crate) async fn create_target_ruleset(app: &TestApp) -> i64 {
    let connector = app.create_connector().await;
    let rs = app
        .post(
            "/database-rulesets",
            json!({"rulesetName": "copy", "databaseConnectorId": connector}),
        )
        .await;
    let rs = rs.body["databaseRulesetId"].as_i64().unwrap();
    // In the ruleset's order the child comes first: the run writes parents first anyway.
    app.mask_columns(rs, "orders", &[("email", "EmailLookup")])
        .await;
    app.mask_columns(rs, "customers", &[("first_name", "FirstNameLookup")])
        .await;
    rs
}

/// The text of every row of `schema.table`, in id order, without the masked column `masked`.
async fn rows_without(app: &TestApp, schema: &str, table: &str, masked: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT (to_jsonb(t) - '{masked}')::text FROM {schema}.{table} t ORDER BY id"
    ))
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// The id of table `name`'s metadata in ruleset `rs`.
async fn table_metadata_id(app: &TestApp, rs: i64, name: &str) -> i64 {
    let tables = app.get(&format!("/table-metadata?ruleset_id={rs}")).await;
    tables.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tableName"] == name)
        .unwrap()["tableMetadataId"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn fingerprint(app: &TestApp, schema: &str) -> (String, String) {
    sqlx::query_as(&format!(
        "SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM {schema}.customers c),
                (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM {schema}.orders o)"
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_the_fly_job_copies_the_source_masked_and_never_writes_it() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_schemas(&app, 2_500).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let before = fingerprint(&app, "source").await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy", "rulesetId": rs, "onTheFlyMasking": true,
                   "onTheFlyMaskingSource": {"connectorId": source, "connectorType": "DATABASE"},
                   "numInputStreams": 2,
                   "databaseMaskingOptions": {"commitSize": 700, "truncateTables": true,
                                              "dropIndexes": true, "disableTriggers": true}}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    assert_eq!(
        job.body["onTheFlyMaskingSource"],
        json!({"connectorId": source, "connectorType": "DATABASE"})
    );
    assert_eq!(job.body["databaseMaskingOptions"]["truncateTables"], true);
    let job = job.body["maskingJobId"].as_i64().unwrap();

    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(5_000), Some(5_000))
    );
    assert_eq!(
        fingerprint(&app, "source").await,
        before,
        "the source is unchanged"
    );

    // Every row arrived; the target's own row went with truncateTables.
    for (table, masked) in [("customers", "first_name"), ("orders", "email")] {
        assert_eq!(
            rows_without(&app, "target", table, masked).await,
            rows_without(&app, "source", table, masked).await,
            "{table}: the unmasked columns are identical"
        );
    }
    let key = MaskingKey::new(b"test-secret-key");
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.first_name, t.first_name FROM source.customers s JOIN target.customers t USING (id)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(pairs.len(), 2_500);
    for (from, to) in pairs {
        let expected = Algorithm::FirstNameLookup
            .mask(&key, Some(&from))
            .unwrap()
            .unwrap();
        assert_eq!(to, expected, "{from}");
    }
    let emails: Vec<(String, String)> = sqlx::query_as(
        "SELECT s.email, t.email FROM source.orders s JOIN target.orders t USING (id) LIMIT 50",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for (from, to) in emails {
        assert_ne!(from, to);
        assert_eq!(
            to,
            Algorithm::EmailLookup
                .mask(&key, Some(&from))
                .unwrap()
                .unwrap()
        );
    }
    // The generated column was computed by the target; the dropped index is back.
    let (shouts, indexes): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.customers WHERE shout IS DISTINCT FROM upper(note)),
                (SELECT count(*) FROM pg_indexes WHERE schemaname = 'target' AND tablename = 'orders')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((shouts, indexes), (0, 2));

    // Without truncateTables the rows are added: the same keys again violate the primary key.
    let off = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"databaseMaskingOptions": {"truncateTables": false}}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{off:?}");
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    assert_eq!(fingerprint(&app, "source").await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_where_clause_filters_the_source_and_a_multi_tenant_execution_names_both_connectors() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_schemas(&app, 300).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let customers = table_metadata_id(&app, rs, "customers").await;
    let orders = table_metadata_id(&app, rs, "orders").await;
    for (t, clause) in [(&customers, "id <= 100"), (&orders, "customer_id <= 100")] {
        let put = app
            .put(
                &format!("/table-metadata/{t}"),
                json!({"whereClause": clause}),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{put:?}");
    }
    let target = app.get(&format!("/database-rulesets/{rs}")).await.body["databaseConnectorId"]
        .as_i64()
        .unwrap();
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "tenants", "rulesetId": rs, "onTheFlyMasking": true, "multiTenant": true,
                   "databaseMaskingOptions": {"truncateTables": true}}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    assert!(job.body["onTheFlyMaskingSource"].is_null());
    let job = job.body["maskingJobId"].as_i64().unwrap();
    let without_source = app
        .post(
            "/executions",
            json!({"jobId": job, "targetConnectorId": target}),
        )
        .await;
    assert_eq!(without_source.status, StatusCode::BAD_REQUEST);
    assert!(
        without_source.error_message().contains("sourceConnectorId"),
        "{without_source:?}"
    );
    let e = app
        .post(
            "/executions",
            json!({"jobId": job, "targetConnectorId": target, "sourceConnectorId": source}),
        )
        .await;
    assert_eq!(e.status, StatusCode::CREATED, "{e:?}");
    assert_eq!(
        (
            e.body["sourceConnectorId"].as_i64(),
            e.body["targetConnectorId"].as_i64()
        ),
        (Some(source), Some(target))
    );
    let id = e.body["executionId"].as_i64().unwrap();
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["rowsTotal"], 200);
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.customers), (SELECT count(*) FROM target.orders)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(counts, (100, 100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_sql_is_what_an_on_the_fly_job_reads_and_an_in_place_job_is_refused_it() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_schemas(&app, 300).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let customers = format!(
        "/table-metadata/{}",
        table_metadata_id(&app, rs, "customers").await
    );
    let orders = format!(
        "/table-metadata/{}",
        table_metadata_id(&app, rs, "orders").await
    );

    // Checked when saved: by the lexer, then by the ruleset's connector planning it.
    for (sql, words) in [
        ("SELECT * FROM customers; DROP TABLE customers", "';'"),
        ("SELECT * FROM customers -- all", "comment"),
        ("SELECT * FROM customers) AS t, (SELECT 1", "')'"),
        ("SELECT nope FROM customers", "nope"),
        ("DELETE FROM customers RETURNING *", "syntax"),
    ] {
        let refused = app.put(&customers, json!({ "customSql": sql })).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{sql}: {refused:?}"
        );
        let message = refused.error_message();
        assert!(
            message.contains("customSql") && message.contains(words),
            "{sql}: {message}"
        );
    }
    let untouched: (i64, Option<String>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM target.customers), \
                (SELECT custom_sql FROM table_metadata WHERE table_name = 'customers')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        untouched,
        (1, None),
        "the target and the metadata are unchanged"
    );

    // The query (unqualified, in the connector's schema) replaces the table: even ids, a note of
    // its own; the whereClause filters what it returns.
    let custom = "SELECT id, first_name, 'from the query ' || id AS note, born, photo, tags, doc, total \
                  FROM customers WHERE id % 2 = 0";
    let saved = app
        .put(
            &customers,
            json!({"customSql": custom, "whereClause": "t.id <= 100"}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    assert_eq!(
        (
            saved.body["customSql"].clone(),
            saved.body["whereClause"].clone()
        ),
        (json!(custom), json!("t.id <= 100"))
    );
    let put = app
        .put(
            &orders,
            json!({"whereClause": "customer_id % 2 = 0 AND customer_id <= 100"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");

    // In place, maskd updates the table itself: refused by name, nothing queued.
    let in_place = app
        .post(
            "/masking-jobs",
            json!({"jobName": "in place", "rulesetId": rs}),
        )
        .await;
    let refused = app
        .post(
            "/executions",
            json!({"jobId": in_place.body["maskingJobId"]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert!(
        refused.error_message().contains("customSql")
            && refused.error_message().contains("'customers'"),
        "{refused:?}"
    );
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM executions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);

    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy", "rulesetId": rs, "onTheFlyMasking": true,
                   "onTheFlyMaskingSource": {"connectorId": source, "connectorType": "DATABASE"},
                   "databaseMaskingOptions": {"truncateTables": true}}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    let id = app.submit(job.body["maskingJobId"].as_i64().unwrap()).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["rowsTotal"], 100);
    let copied: Vec<(i32, Option<String>, bool)> = sqlx::query_as(
        "SELECT t.id, t.note, t.first_name IS DISTINCT FROM s.first_name
           FROM target.customers t JOIN source.customers s USING (id) ORDER BY t.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        copied.iter().map(|(id, ..)| *id).collect::<Vec<_>>(),
        (1..=50).map(|i| i * 2).collect::<Vec<_>>()
    );
    assert!(
        copied
            .iter()
            .all(|(id, note, _)| note.as_deref() == Some(&format!("from the query {id}"))),
        "{copied:?}"
    );
    assert!(
        copied.iter().any(|(.., masked)| *masked),
        "first names are masked"
    );

    // A query that lacks a column of the target's table fails the run before a row is written.
    let put = app
        .put(
            &customers,
            json!({"customSql": "SELECT id, first_name FROM customers"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{put:?}");
    let id = app.submit(job.body["maskingJobId"].as_i64().unwrap()).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    assert!(
        events.to_string().contains("customSql") && events.to_string().contains("no column 'note'"),
        "{events}"
    );
}

#[tokio::test]
async fn on_the_fly_jobs_are_checked_when_saved() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    let source = app.create_connector().await;
    let post = |body: Value| {
        let app = &app;
        async move {
            let mut b = json!({"jobName": format!("j{}", rand::random::<u32>()), "rulesetId": rs});
            b.as_object_mut()
                .unwrap()
                .extend(body.as_object().unwrap().clone());
            app.post("/masking-jobs", b).await
        }
    };
    let cases: [(Value, StatusCode, &str); 5] = [
        (
            json!({"onTheFlyMasking": true}),
            StatusCode::BAD_REQUEST,
            "onTheFlyMaskingSource",
        ),
        (
            json!({"onTheFlyMasking": true, "onTheFlyMaskingSource": {"connectorId": source, "connectorType": "FILE"}}),
            StatusCode::BAD_REQUEST,
            "connectorType",
        ),
        (
            json!({"onTheFlyMasking": true, "onTheFlyMaskingSource": {"connectorId": 999999}}),
            StatusCode::NOT_FOUND,
            "999999",
        ),
        (
            json!({"onTheFlyMaskingSource": {"connectorId": source}}),
            StatusCode::BAD_REQUEST,
            "onTheFlyMasking",
        ),
        (
            json!({"databaseMaskingOptions": {"truncateTables": true}}),
            StatusCode::BAD_REQUEST,
            "truncateTables",
        ),
    ];
    for (body, status, names) in cases {
        let r = post(body.clone()).await;
        assert_eq!(r.status, status, "{body}: {r:?}");
        assert!(r.error_message().contains(names), "{body}: {r:?}");
    }
    let total = app.get("/masking-jobs").await.body["_pageInfo"]["total"].clone();
    assert_eq!(total, 0, "nothing was created");

    // A job that is, and the whole object sent back unchanged.
    let ok =
        post(json!({"onTheFlyMasking": true, "onTheFlyMaskingSource": {"connectorId": source}}))
            .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    let id = ok.body["maskingJobId"].clone();
    let same = app
        .put(&format!("/masking-jobs/{id}"), ok.body.clone())
        .await;
    assert_eq!((same.status, &same.body), (StatusCode::OK, &ok.body));
    // Back to in place needs the source gone too.
    let half = app
        .put(
            &format!("/masking-jobs/{id}"),
            json!({"onTheFlyMasking": false}),
        )
        .await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST, "{half:?}");
    let back = app
        .put(
            &format!("/masking-jobs/{id}"),
            json!({"onTheFlyMasking": false, "onTheFlyMaskingSource": null}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{back:?}");
    // A connector a job reads from cannot be deleted.
    let again = app
        .put(
            &format!("/masking-jobs/{id}"),
            json!({"onTheFlyMasking": true, "onTheFlyMaskingSource": {"connectorId": source}}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    let gone = app.delete(&format!("/database-connectors/{source}")).await;
    assert_eq!(gone.status, StatusCode::CONFLICT, "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_stops_an_on_the_fly_run_and_ends_its_sessions_on_both_sides() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_schemas(&app, 200_000).await;
    let source = create_source_connector(&app).await;
    let rs = create_target_ruleset(&app).await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy", "rulesetId": rs, "onTheFlyMasking": true, "feedbackSize": 1000,
                   "onTheFlyMaskingSource": {"connectorId": source},
                   "databaseMaskingOptions": {"commitSize": 1000, "truncateTables": true}}),
        )
        .await;
    let job = job.body["maskingJobId"].as_i64().unwrap();
    let id = app.submit(job).await;
    watch(&app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;
    let asked = Instant::now();
    let cancel = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(cancel.body["status"], "CANCELLED", "{cancel:?}");
    let last = watch(&app, id, ended).await.pop().unwrap();
    println!("cancel to endTime: {:?}", asked.elapsed());
    assert_eq!(last["status"], "CANCELLED");
    // No session of the run is left on either side.
    wait_until_sessions_gone(&app, id).await;
    let copied: i64 = sqlx::query_scalar("SELECT count(*) FROM target.customers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(copied < 200_000, "stopped before the end: {copied}");
}

/// A masked value longer than its `varchar(n)` or `char(n)` column is never cut short by the cast:
/// it is left unmasked and counted in `UNMASKED_DATA`, in place and on the fly alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_value_too_long_for_its_column_is_left_unmasked_never_cut() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let names = [
        "Ann", "Bob", "Eve", "Joe", "Amy", "Ian", "Kim", "Lee", "Max", "Zoe",
    ];
    let key = MaskingKey::new(b"test-secret-key");
    let masked_len = |n: &str| {
        Algorithm::FirstNameLookup
            .mask(&key, Some(n))
            .unwrap()
            .unwrap()
            .chars()
            .count()
    };
    // The columns are as long as the shortest masked name: the longer ones do not fit.
    let limit = names.iter().map(|n| masked_len(n)).min().unwrap().max(3);
    let too_long = names.iter().filter(|n| masked_len(n) > limit).count();
    assert!(
        too_long > 0 && too_long < names.len(),
        "the names exercise both cases: {too_long} longer than {limit}"
    );
    for schema in ["source", "target"] {
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&app.pool)
            .await
            .unwrap();
        sqlx::query(&format!(
            "CREATE TABLE {schema}.short (id int PRIMARY KEY, code varchar({limit}), initials char({limit}))"
        ))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO source.short SELECT g, ($1::text[])[1 + g % 10], ($1::text[])[1 + g % 10]
           FROM generate_series(1, 500) g",
    )
    .bind(&names[..])
    .execute(&app.pool)
    .await
    .unwrap();

    // In place on the target (a copy of the source), and on the fly from the source.
    sqlx::query("INSERT INTO target.short SELECT * FROM source.short")
        .execute(&app.pool)
        .await
        .unwrap();
    let connector = app.create_connector().await;
    let rs = app
        .post(
            "/database-rulesets",
            json!({"rulesetName": "short", "databaseConnectorId": connector}),
        )
        .await
        .body["databaseRulesetId"]
        .as_i64()
        .unwrap();
    app.mask_columns(
        rs,
        "short",
        &[("code", "FirstNameLookup"), ("initials", "FirstNameLookup")],
    )
    .await;
    let in_place = app.create_job_on(rs).await;
    let source = create_source_connector(&app).await;
    let on_the_fly = app
        .post(
            "/masking-jobs",
            json!({"jobName": "copy short", "rulesetId": rs, "onTheFlyMasking": true,
                   "onTheFlyMaskingSource": {"connectorId": source},
                   "databaseMaskingOptions": {"truncateTables": true}}),
        )
        .await
        .body["maskingJobId"]
        .as_i64()
        .unwrap();
    for job in [in_place, on_the_fly] {
        if job == on_the_fly {
            // The on-the-fly run masks the source's values, not the target's masked ones.
            sqlx::query("TRUNCATE target.short")
                .execute(&app.pool)
                .await
                .unwrap();
        }
        let id = app.submit(job).await;
        let last = watch(&app, id, ended).await.pop().unwrap();
        assert_eq!(last["status"], "WARNING", "job {job}: {last}");
        let events = app
            .get(&format!("/execution-events?execution_id={id}"))
            .await
            .body;
        let unmasked: i64 = events["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["eventType"] == "UNMASKED_DATA")
            .map(|e| e["count"].as_i64().unwrap())
            .sum();
        let pairs: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT s.code, t.code, rtrim(t.initials) FROM source.short s JOIN target.short t USING (id)",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(pairs.len(), 500, "job {job}");
        let mut kept = 0;
        for (from, code, initials) in pairs {
            let masked = Algorithm::FirstNameLookup
                .mask(&key, Some(&from))
                .unwrap()
                .unwrap();
            let expected = if masked.chars().count() > limit {
                kept += 2;
                from.clone()
            } else {
                masked
            };
            assert_eq!(
                (&code, &initials),
                (&expected, &expected),
                "job {job}: {from}"
            );
        }
        assert_eq!(unmasked, kept, "job {job}: {events}");
    }
}
