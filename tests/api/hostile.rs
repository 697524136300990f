//! Hostile identifiers and values: names built to break out of SQL are either refused (they are
//! not in the target's catalog) or quoted and masked like any other, and the target database is
//! unharmed either way.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::watch;
use crate::common::{Settings, TestApp, spawn_app_with};

const EVIL_TABLE: &str = r#"x"; DROP TABLE target.canary; --"#;
const EVIL_COLUMN: &str = r#"name"); DELETE FROM target.canary; --"#;
const UNICODE_TABLE: &str = "Kundén 顧客 🚀";

/// A canary table the hostile names aim at, and two tables whose names are hostile or exotic.
async fn create_targets(app: &TestApp) {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let statements = [
        "CREATE SCHEMA IF NOT EXISTS target".to_owned(),
        "CREATE TABLE target.canary (id int PRIMARY KEY, note text)".to_owned(),
        "INSERT INTO target.canary VALUES (1, 'still here')".to_owned(),
        format!(
            "CREATE TABLE target.{} (id bigint PRIMARY KEY, {} text)",
            quote(EVIL_TABLE),
            quote(EVIL_COLUMN)
        ),
        format!(
            "INSERT INTO target.{} SELECT g, 'Name ' || g FROM generate_series(1, 200) g",
            quote(EVIL_TABLE)
        ),
        format!(
            "CREATE TABLE target.{} (id bigint PRIMARY KEY, \"prénom\" text)",
            quote(UNICODE_TABLE)
        ),
        format!(
            "INSERT INTO target.{} SELECT g, 'Zoë ' || g FROM generate_series(1, 50) g",
            quote(UNICODE_TABLE)
        ),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(&app.pool).await.unwrap();
    }
}

async fn canary_is_unharmed(app: &TestApp) {
    let note: String = sqlx::query_scalar("SELECT note FROM target.canary WHERE id = 1")
        .fetch_one(&app.pool)
        .await
        .expect("target.canary still exists");
    assert_eq!(note, "still here");
}

#[tokio::test]
async fn hostile_names_are_refused_or_quoted_and_the_target_is_unharmed() {
    let app = spawn_app_with(Settings {
        workers: 1,
        ..Settings::default()
    })
    .await;
    create_targets(&app).await;
    let connector = app.create_connector().await;
    let ruleset = app
        .post(
            "/database-rulesets",
            json!({"rulesetName": "hostile", "databaseConnectorId": connector}),
        )
        .await;
    let ruleset = ruleset.body["databaseRulesetId"].as_i64().unwrap();

    // Names that are not tables of the target are refused (looked up in its catalog as values),
    // whatever they contain.
    for name in [
        "canary; DROP TABLE target.canary",
        "canary\" ; DROP TABLE target.canary; --",
        "' OR 1=1 --",
        "pg_catalog.pg_authid",
        "../../etc/passwd",
    ] {
        let answer = app
            .post(
                "/table-metadata",
                json!({"tableName": name, "rulesetId": ruleset}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name}: {answer:?}");
        assert!(
            answer.error_message().contains("does not exist"),
            "{answer:?}"
        );
    }
    let too_long = "t".repeat(5000);
    let answer = app
        .post(
            "/table-metadata",
            json!({"tableName": too_long, "rulesetId": ruleset}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    let answer = app
        .post(
            "/table-metadata",
            json!({"tableName": "canary\u{0}x", "rulesetId": ruleset}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    canary_is_unharmed(&app).await;

    // Tables that exist, with hostile or exotic names, are masked like any other.
    for (table, column) in [(EVIL_TABLE, EVIL_COLUMN), (UNICODE_TABLE, "prénom")] {
        let table_id = app
            .mask_columns(ruleset, table, &[(column, "FirstNameLookup")])
            .await;
        let stored = app.get(&format!("/table-metadata/{table_id}")).await;
        assert_eq!(stored.body["tableName"], table);
        // A hostile key column that is not a column of the table is refused.
        let key = app
            .put(
                &format!("/table-metadata/{table_id}"),
                json!({"keyColumn": "id\"; DROP TABLE target.canary; --"}),
            )
            .await;
        assert_eq!(key.status, StatusCode::BAD_REQUEST, "{key:?}");
    }

    let job = app.create_job_on(ruleset).await;
    let execution = app.submit(job).await;
    let seen = watch(&app, execution, |e| e["endTime"].is_string()).await;
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "SUCCEEDED", "{last}");
    assert_eq!(last["rowsMasked"], 250);

    let unchanged: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM target.\"{}\" WHERE \"{}\" LIKE 'Name %'",
        EVIL_TABLE.replace('"', "\"\""),
        EVIL_COLUMN.replace('"', "\"\"")
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(unchanged, 0, "every hostile-named value was masked");
    let unchanged: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM target.\"{UNICODE_TABLE}\" WHERE \"prénom\" LIKE 'Zoë %'"
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(unchanged, 0, "every value of the Unicode table was masked");
    canary_is_unharmed(&app).await;
}
