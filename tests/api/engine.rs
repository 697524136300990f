//! The execution engine masking real tables: results, SQL objects, progress, cancellation.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::common::crm::{
    ALL_OPTIONS, create_customers, create_masking_job, create_masking_job_on, sql_objects_state,
};
use crate::common::proxy::Proxy;
use crate::common::{Settings, TestApp, spawn_app_with, wait_until_sessions_gone, watch};

fn ended(e: &Value) -> bool {
    e["endTime"].is_string()
}

fn luhn_ok(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 { y - 9 } else { y }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_masks_its_tables_and_restores_every_sql_object() {
    let app = spawn_app_with(Settings {
        workers: 2,
        ..Default::default()
    })
    .await;
    create_customers(&app, 10_000).await;
    let job = create_masking_job(&app, ALL_OPTIONS()).await;

    let id = app.submit(job).await;
    let seen = watch(&app, id, ended).await;
    let last = seen.last().unwrap();
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    assert_eq!(last["status"], "SUCCEEDED", "{last} {events}");
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(15_000), Some(15_000))
    );
    let progress: Vec<i64> = seen
        .iter()
        .filter_map(|e| e["rowsMasked"].as_i64())
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {progress:?}"
    );
    assert!(
        progress.iter().any(|&p| p > 0 && p < 15_000),
        "progress was seen moving: {progress:?}"
    );

    // Every masked value changed and is valid for its algorithm; the rest is untouched.
    let rows = sqlx::query(
        "SELECT m.*, o.first_name AS o_first, o.last_name AS o_last, o.email AS o_email, o.phone AS o_phone,
                o.ssn AS o_ssn, o.card AS o_card, o.born AS o_born, o.note AS o_note
           FROM target.customers m JOIN target.customers_original o USING (id)",
    )
    .fetch_all(&app.pool).await.unwrap();
    assert_eq!(rows.len(), 10_000);
    let (mut same_first, mut same_email, mut same_born) = (0, 0, 0);
    for r in &rows {
        let s = |c: &str| r.get::<String, _>(c);
        same_first += (s("first_name") == s("o_first")) as i32;
        same_email += (s("email") == s("o_email")) as i32;
        assert!(s("email").ends_with("@example.com"), "{}", s("email"));
        assert_eq!(s("phone").len(), s("o_phone").len());
        assert_eq!(
            s("phone").replace(|c: char| c.is_ascii_digit(), "9"),
            s("o_phone").replace(|c: char| c.is_ascii_digit(), "9")
        );
        assert_ne!(s("phone"), s("o_phone"));
        let ssn = s("ssn");
        assert_ne!(ssn, s("o_ssn"));
        let area: u32 = ssn[..3].parse().unwrap();
        assert!(
            area != 0 && area != 666 && area < 900 && &ssn[4..6] != "00" && &ssn[7..] != "0000",
            "{ssn}"
        );
        let card = s("card");
        assert_ne!(card, s("o_card"));
        assert!(
            luhn_ok(&card) && card.starts_with("4000 00") && card.len() == s("o_card").len(),
            "{card}"
        );
        let (born, o_born) = (
            r.get::<chrono::NaiveDate, _>("born"),
            r.get::<chrono::NaiveDate, _>("o_born"),
        );
        let shift = (born - o_born).num_days().abs();
        same_born += (shift == 0) as i32;
        assert!(shift <= 365, "{born} {o_born}");
        assert_eq!(s("note"), s("o_note"), "unmasked columns are untouched");
        assert_eq!(
            r.get::<i32, _>("updated_count"),
            0,
            "the trigger was disabled while masking"
        );
    }
    assert!(
        same_first < 100 && same_email == 0 && same_born == 0,
        "{same_first} {same_email} {same_born}"
    );

    // Joins on the masked email still match, and every SQL object is back.
    let joined: i64 = sqlx::query_scalar("SELECT count(*) FROM target.orders o JOIN target.customers c ON c.email = o.customer_email")
        .fetch_one(&app.pool).await.unwrap();
    assert_eq!(joined, 5_000);
    assert_eq!(
        sql_objects_state(&app).await,
        ("O".to_owned(), 2, true, true)
    );

    let comps: Vec<(String, String, i64)> = components_of(&app, id)
        .await
        .into_iter()
        .map(|(name, status, rows, _, _)| (name, status, rows))
        .collect();
    assert_eq!(
        comps,
        [
            ("customers".into(), "SUCCEEDED".into(), 10_000),
            ("orders".into(), "SUCCEEDED".into(), 5_000)
        ]
    );
    assert_eq!(
        app.get(&format!("/execution-events?execution_id={id}"))
            .await
            .body["_pageInfo"]["total"],
        0
    );

    // A second run on the original data gives identical output.
    let first_run: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, first_name, email, card FROM target.customers ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    for sql in [
        "TRUNCATE target.orders, target.customers",
        "INSERT INTO target.customers SELECT * FROM target.customers_original",
        "INSERT INTO target.orders SELECT g, 'user' || (1 + g % 10000) || '@example.com', g * 1.5 FROM generate_series(1, 5000) g",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    let second = app.submit(job).await;
    assert_eq!(
        watch(&app, second, ended).await.last().unwrap()["status"],
        "SUCCEEDED"
    );
    let second_run: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, first_name, email, card FROM target.customers ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(first_run == second_run, "masking is deterministic");
}

async fn wait_until_masking(app: &TestApp, id: i64) {
    watch(app, id, |e| e["rowsMasked"].as_i64().unwrap_or(0) > 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_cancel_restores_objects_before_the_end_time() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 100_000).await;
    let job = create_masking_job(&app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let id = app.submit(job).await;
    wait_until_masking(&app, id).await;
    let asked = Instant::now();
    let a = app
        .cancel(id, "?expectedStatus=RUNNING&graceful=true")
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["status"], "CANCELLED");
    let last = watch(&app, id, ended).await.pop().unwrap();
    println!("cancel to endTime: {:?}", asked.elapsed());
    assert_eq!(last["status"], "CANCELLED");
    assert!(
        last["rowsMasked"].as_i64().unwrap() < 150_000,
        "it stopped before the end"
    );
    // rowsMasked is what was committed: the customers whose email changed (orders come after).
    let committed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM target.customers c JOIN target.customers_original o USING (id)
          WHERE c.email <> o.email",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(last["rowsMasked"].as_i64().unwrap(), committed, "{last}");
    let (trigger, indexes, fk, _) = sql_objects_state(&app).await;
    assert_eq!(
        (trigger.as_str(), indexes, fk),
        ("O", 2, true),
        "restored before endTime"
    );
    // Part of the emails is masked, so the foreign key may be back NOT VALID, and said so.
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    for e in events["responseList"].as_array().unwrap() {
        assert_eq!(e["eventType"], "CONSTRAINT_NOT_VALIDATED", "{events}");
    }
    let comps = app
        .get(&format!("/execution-components?execution_id={id}"))
        .await
        .body;
    assert!(
        comps["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "CANCELLED" && c["endTime"].is_string()),
        "{comps}"
    );

    // The job can run again now that the execution has its endTime.
    let again = app.post("/executions", json!({"jobId": job})).await;
    assert_eq!(again.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_cancel_leaves_objects_and_reports_them() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 100_000).await;
    let job = create_masking_job(&app, json!({"commitSize": 200, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true})).await;
    let id = app.submit(job).await;
    wait_until_masking(&app, id).await;
    // A cancel meant for a queued execution cannot stop it...
    let refused = app.cancel(id, "?expectedStatus=QUEUED").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    // ...one without graceful stops it at once, leaving the objects as they are.
    let a = app.cancel(id, "?graceful=false").await;
    assert_eq!(a.status, StatusCode::OK);
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "CANCELLED");
    assert_eq!(
        sql_objects_state(&app).await,
        ("D".to_owned(), 0, false, false),
        "left disabled"
    );
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    let event = &events["responseList"][0];
    assert_eq!(event["eventType"], "SQL_OBJECTS_LEFT_DISABLED");
    let cause = event["cause"].as_str().unwrap();
    for name in [
        "customers_bump",
        "customers_last_name",
        "customers_phone_born",
        "orders_customer_email_fkey",
    ] {
        assert!(cause.contains(name), "{cause}");
    }
    assert_eq!(event["count"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_while_counting_stops_the_run() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 1_000).await;
    let job = create_masking_job(&app, ALL_OPTIONS()).await;
    // Hold a lock that blocks the count.
    let mut blocker = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
    use sqlx::Connection;
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("LOCK TABLE target.customers IN ACCESS EXCLUSIVE MODE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let id = app.submit(job).await;
    let running = watch(&app, id, |e| e["status"] == "RUNNING")
        .await
        .pop()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.status_of(id).await["rowsTotal"],
        -1,
        "still counting: {running}"
    );
    let a = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(a.status, StatusCode::OK);
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(
        (last["status"].as_str(), last["rowsMasked"].as_i64()),
        (Some("CANCELLED"), Some(0))
    );
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    let untouched: i64 = sqlx::query_scalar("SELECT count(*) FROM target.customers c JOIN target.customers_original o USING (id) WHERE c.first_name = o.first_name")
        .fetch_one(&app.pool).await.unwrap();
    assert_eq!(untouched, 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmaskable_values_are_counted_and_end_in_warning_or_fail_immediately() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 2_000).await;
    sqlx::query("UPDATE target.customers SET ssn = 'unknown' WHERE id % 100 = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    let job =
        create_masking_job(&app, json!({"commitSize": 500, "disableConstraints": true})).await;
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    assert_eq!(last["status"], "WARNING", "{events}");
    let e = &events["responseList"][0];
    assert_eq!(
        (e["eventType"].as_str(), e["count"].as_i64()),
        (Some("UNMASKED_DATA"), Some(20))
    );
    assert_eq!(
        (e["maskedObjectName"].as_str(), e["algorithmName"].as_str()),
        (Some("ssn"), Some("SsnSegment"))
    );
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM target.customers WHERE ssn = 'unknown'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(left, 20, "left as they were");

    let put = app
        .put(
            &format!("/masking-jobs/{job}"),
            json!({"failImmediately": true}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED");
    let types = app.event_types(id).await;
    assert!(
        types.iter().any(|t| t == "UNMASKED_DATA") && types.iter().any(|t| t == "EXECUTION_FAILED"),
        "{types:?}"
    );
}

/// A run whose target goes away mid-run fails, and names in an event the SQL objects it left
/// disabled and why they are not back (its restore could not reach the target either).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_target_goes_away_reports_the_objects_it_left() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    create_customers(&app, 100_000).await;
    let proxy = Proxy::start().await;
    let connector = app.create_connector_on_port(proxy.port).await;
    let job = create_masking_job_on(&app, connector, ALL_OPTIONS()).await;
    let id = app.submit(job).await;
    wait_until_masking(&app, id).await;
    proxy.cut();
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    let of_type = |t: &str| {
        events["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["eventType"] == t)
            .unwrap_or_else(|| panic!("no {t} in {events}"))
            .clone()
    };
    let failed = of_type("EXECUTION_FAILED");
    assert!(
        failed["cause"].as_str().unwrap().contains("connection"),
        "{failed}"
    );
    let left = of_type("SQL_OBJECTS_LEFT_DISABLED");
    let cause = left["cause"].as_str().unwrap();
    assert!(cause.contains("the target cannot be reached"), "{cause}");
    for name in [
        "customers_bump",
        "customers_last_name",
        "customers_phone_born",
        "orders_customer_email_fkey",
    ] {
        assert!(cause.contains(name), "{cause}");
    }
    assert_eq!(left["count"], 4);
    assert_eq!(
        sql_objects_state(&app).await,
        ("D".to_owned(), 0, false, false),
        "left as the event says"
    );
}

/// The execution's components: (name, status, rowsMasked, startTime, endTime).
async fn components_of(
    app: &TestApp,
    id: i64,
) -> Vec<(String, String, i64, Option<String>, Option<String>)> {
    let comps = app
        .get(&format!("/execution-components?execution_id={id}"))
        .await;
    comps.body["responseList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["componentName"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["rowsMasked"].as_i64().unwrap_or(0),
                c["startTime"].as_str().map(str::to_owned),
                c["endTime"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn num_input_streams_masks_tables_at_once_and_a_cancel_stops_them_all() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    let rs = app.create_ruleset().await;
    const ROWS: i64 = 40_000;
    for t in ["t1", "t2", "t3"] {
        for sql in [
            format!("CREATE TABLE target.{t} (id bigint PRIMARY KEY, name text)"),
            format!(
                "INSERT INTO target.{t} SELECT g, 'Name' || g FROM generate_series(1, {ROWS}) g"
            ),
        ] {
            sqlx::query(&sql).execute(&app.pool).await.unwrap();
        }
        app.mask_columns(rs, t, &[("name", "FirstNameLookup")])
            .await;
    }
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "streams", "rulesetId": rs, "numInputStreams": 3, "feedbackSize": 500,
                   "databaseMaskingOptions": {"commitSize": 500}}),
        )
        .await;
    assert_eq!(job.status, StatusCode::CREATED, "{job:?}");
    let job = job.body["maskingJobId"].as_i64().unwrap();

    // A whole run: the three tables are masked at once, so every table started before any ended.
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        last["rowsMasked"].as_i64(),
        Some(3 * ROWS),
        "progress is the sum of the streams"
    );
    let comps = components_of(&app, id).await;
    assert_eq!(comps.len(), 3, "{comps:?}");
    let parse =
        |t: &Option<String>| chrono::DateTime::parse_from_rfc3339(t.as_deref().unwrap()).unwrap();
    let last_start = comps.iter().map(|c| parse(&c.3)).max().unwrap();
    let first_end = comps.iter().map(|c| parse(&c.4)).min().unwrap();
    assert!(
        last_start < first_end,
        "the components' time ranges overlap: {comps:?}"
    );
    for (name, status, rows, _, _) in &comps {
        assert_eq!((status.as_str(), *rows), ("SUCCEEDED", ROWS), "{name}");
        let unmasked: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM target.{name} WHERE name = 'Name' || id"
        ))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(
            unmasked < ROWS / 100,
            "{name}: {unmasked} rows left as they were"
        );
    }

    // Another run, cancelled while all three streams are masking: all of them stop.
    let id = app.submit(job).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let comps = components_of(&app, id).await;
        if comps.len() == 3 && comps.iter().all(|c| c.1 == "RUNNING" && c.2 > 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the three tables never ran at once: {comps:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let asked = Instant::now();
    let cancel = app.cancel(id, "?expectedStatus=RUNNING").await;
    assert_eq!(cancel.status, StatusCode::OK, "{cancel:?}");
    let last = watch(&app, id, ended).await.pop().unwrap();
    println!("cancel to endTime with 3 streams: {:?}", asked.elapsed());
    assert_eq!(last["status"], "CANCELLED");
    let comps = components_of(&app, id).await;
    for (name, status, rows, _, end) in &comps {
        assert_eq!(status, "CANCELLED", "{name}: {comps:?}");
        assert!(
            end.is_some() && *rows < ROWS,
            "{name} stopped before its end: {comps:?}"
        );
    }
    wait_until_sessions_gone(&app, id).await;
}

/// An instance with `workers` workers; with `split`, one that splits tables of 1,000 rows or more
/// into chunks of 200.
fn splitting(workers: u32, split: bool) -> Settings {
    Settings {
        workers,
        chunks: if split {
            (1_000, 200)
        } else {
            (1_000_000, 100_000)
        },
        ..Default::default()
    }
}

/// How many chunks execution `id` split its tables into.
async fn chunks_of(app: &TestApp, id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM execution_chunks WHERE execution_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A table whose primary key has several columns is read in the key's order with a row comparison
/// and written back by the whole key: every row masked once, batches crossing key boundaries;
/// whole, and split into key ranges masked by two workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_with_a_composite_primary_key_is_masked_once_per_row() {
    composite_key(false).await;
    composite_key(true).await;
}

async fn composite_key(split: bool) {
    use maskd::masking::algorithms::{Algorithm, MaskingKey};
    let app = spawn_app_with(splitting(2, split)).await;
    let rs = app.create_ruleset().await;
    for sql in [
        "CREATE TABLE target.lines (order_id int, line_no smallint, region text, buyer text,
             PRIMARY KEY (region, order_id, line_no))",
        "INSERT INTO target.lines SELECT g / 7, g % 7, (ARRAY['eu', 'us', 'apac'])[1 + g % 3], 'Buyer' || g
           FROM generate_series(1, 2500) g",
        "CREATE TABLE target.lines_original AS SELECT * FROM target.lines",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    app.mask_columns(rs, "lines", &[("buyer", "FirstNameLookup")])
        .await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "lines", "rulesetId": rs, "databaseMaskingOptions": {"commitSize": 300}}),
        )
        .await
        .body["maskingJobId"]
        .as_i64()
        .unwrap();
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        (last["rowsMasked"].as_i64(), last["rowsTotal"].as_i64()),
        (Some(2500), Some(2500))
    );
    assert_eq!(chunks_of(&app, id).await > 1, split);
    let key = MaskingKey::new(b"test-secret-key");
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.buyer, l.buyer FROM target.lines_original o
           JOIN target.lines l USING (region, order_id, line_no)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(pairs.len(), 2500);
    for (from, to) in pairs {
        let once = Algorithm::FirstNameLookup
            .mask(&key, Some(&from))
            .unwrap()
            .unwrap();
        assert_eq!(to, once, "{from} masked exactly once");
    }
    // A key column cannot be masked itself.
    app.mask_columns(rs, "lines_original", &[("line_no", "NumberMinMax")])
        .await;
    sqlx::query("ALTER TABLE target.lines_original ADD PRIMARY KEY (order_id, line_no, region)")
        .execute(&app.pool)
        .await
        .unwrap();
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "FAILED", "{last}");
    let events = app
        .get(&format!("/execution-events?execution_id={id}"))
        .await
        .body;
    let cause = events["responseList"][0]["cause"]
        .as_str()
        .unwrap_or_default();
    assert!(
        cause.contains("'line_no'") && cause.contains("cannot itself be masked"),
        "{events}"
    );
}

/// A table without any key is masked through a temporary identity column: every row once (even
/// rows identical in every column), and the column gone when the run ends; whole, and split into
/// ranges of the temporary column masked by two workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_without_a_key_is_masked_once_per_row_through_a_temporary_row_number() {
    without_key(false).await;
    without_key(true).await;
}

async fn without_key(split: bool) {
    use maskd::masking::algorithms::{Algorithm, MaskingKey};
    let app = spawn_app_with(splitting(2, split)).await;
    let rs = app.create_ruleset().await;
    for sql in [
        "CREATE TABLE target.visits (visitor text, page text)",
        // Each row three times: nothing tells the copies apart but their position.
        "INSERT INTO target.visits SELECT 'Visitor' || (g % 500), '/p' || (g % 500)
           FROM generate_series(1, 1500) g",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    app.mask_columns(rs, "visits", &[("visitor", "FirstNameLookup")])
        .await;
    let job = app
        .post(
            "/masking-jobs",
            json!({"jobName": "visits", "rulesetId": rs, "databaseMaskingOptions": {"commitSize": 200}}),
        )
        .await
        .body["maskingJobId"]
        .as_i64()
        .unwrap();
    let id = app.submit(job).await;
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["rowsMasked"], 1500);
    assert_eq!(chunks_of(&app, id).await > 1, split);
    let key = MaskingKey::new(b"test-secret-key");
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT visitor, page FROM target.visits")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1500);
    for (visitor, page) in rows {
        let original = format!("Visitor{}", &page[2..]);
        let once = Algorithm::FirstNameLookup
            .mask(&key, Some(&original))
            .unwrap()
            .unwrap();
        assert_eq!(visitor, once, "{page}: masked exactly once");
    }
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT attname::text FROM pg_attribute
          WHERE attrelid = 'target.visits'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(columns, ["visitor", "page"], "the row numbers are gone");
}

/// A job run again after a cancel continues after the rows the cancelled run committed: every row
/// is updated exactly once across the runs (the table's trigger counts updates per row), even when
/// the first run's last commit was left pending, as by a crash between the target's COMMIT and
/// its record; `startOver` masks every row again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_run_after_a_cancel_masks_only_the_rows_not_yet_committed() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Default::default()
    })
    .await;
    const ROWS: i64 = 50_000;
    create_customers(&app, ROWS).await;
    let job =
        create_masking_job(&app, json!({"commitSize": 500, "disableConstraints": true})).await;
    let first = app.submit(job).await;
    watch(&app, first, |e| {
        e["rowsMasked"].as_i64().unwrap_or(0) > 2_000
    })
    .await;
    let cancel = app
        .cancel(first, "?expectedStatus=RUNNING&graceful=true")
        .await;
    assert_eq!(cancel.body["status"], "CANCELLED", "{cancel:?}");
    watch(&app, first, ended).await;
    let done_first: i64 =
        sqlx::query_scalar("SELECT count(*) FROM target.customers WHERE updated_count = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        done_first > 0 && done_first < ROWS,
        "cancelled part-way: {done_first}"
    );

    // As if the run had crashed between the target's COMMIT of its last batch and its record: the
    // last committed key is pending, with a transaction the target committed.
    let committed_xid: i64 = {
        use sqlx::{Connection, Executor};
        let mut c = sqlx::PgConnection::connect(&app.db.url()).await.unwrap();
        c.execute("BEGIN").await.unwrap();
        let xid: i64 = sqlx::query_scalar("SELECT txid_current()")
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.execute("COMMIT").await.unwrap();
        xid
    };
    let pending = sqlx::query(
        "UPDATE execution_table_commits
            SET pending_key = committed_key, pending_xid = $2, committed_key = ARRAY['1']
          WHERE execution_id = $1 AND table_name = 'customers' AND committed_key IS NOT NULL",
    )
    .bind(first)
    .bind(committed_xid)
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(pending.rows_affected(), 1);

    let second = app.submit(job).await;
    let last = watch(&app, second, ended).await.pop().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(
        last["rowsTotal"].as_i64().unwrap(),
        ROWS - done_first + ROWS / 2,
        "only the customers not yet masked (and every order: none was reached): {last}"
    );
    let types = app.event_types(second).await;
    assert!(types.iter().any(|t| t == "EXECUTION_RESUMED"), "{types:?}");
    let counts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT updated_count, count(*) FROM target.customers GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(counts, [(1, ROWS)], "every customer masked exactly once");

    // startOver masks every row again.
    let again = app
        .post("/executions", json!({"jobId": job, "startOver": true}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    let id = again.body["executionId"].as_i64().unwrap();
    let last = watch(&app, id, ended).await.pop().unwrap();
    assert_eq!(last["rowsTotal"].as_i64(), Some(ROWS + ROWS / 2), "{last}");
    let twice: i64 =
        sqlx::query_scalar("SELECT count(*) FROM target.customers WHERE updated_count = 2")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(twice, ROWS);
}
