//! The CRM target most engine tests mask: `target.customers` (with a trigger, indexes, and a
//! foreign key from `target.orders` on its masked email), the job that masks both tables, and what
//! the catalog says of the SQL objects the job touches.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::app::TestApp;

/// `target.customers` (with a trigger, indexes, and a foreign key from `target.orders` on its
/// masked email) of `rows` rows, and a pristine copy of it in `target.customers_original`.
pub async fn create_customers(app: &TestApp, rows: i64) {
    for sql in [
        "CREATE SCHEMA target",
        "CREATE TABLE target.customers (
             id bigint PRIMARY KEY, first_name text, last_name varchar(60), email text UNIQUE, phone text,
             ssn text, card text, born date, note text, updated_count int NOT NULL DEFAULT 0)",
        "CREATE INDEX customers_last_name ON target.customers (last_name)",
        "CREATE INDEX customers_phone_born ON target.customers (phone, born)",
        "CREATE TABLE target.orders (id bigint PRIMARY KEY,
             customer_email text CONSTRAINT orders_customer_email_fkey REFERENCES target.customers (email), amount numeric(10, 2))",
        "CREATE FUNCTION target.bump() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN NEW.updated_count := OLD.updated_count + 1; RETURN NEW; END $$",
        "CREATE TRIGGER customers_bump BEFORE UPDATE ON target.customers FOR EACH ROW EXECUTE FUNCTION target.bump()",
    ] {
        sqlx::query(sql).execute(&app.pool).await.unwrap();
    }
    sqlx::query(
        "INSERT INTO target.customers (id, first_name, last_name, email, phone, ssn, card, born, note)
         SELECT g, 'First' || g, 'Last' || (g % 500), 'user' || g || '@example.com',
                '+1 (555) ' || lpad((g % 1000)::text, 3, '0') || '-' || lpad((g % 10000)::text, 4, '0'),
                lpad((100 + g % 700)::text, 3, '0') || '-' || lpad((1 + g % 98)::text, 2, '0') || '-' || lpad((1 + g % 9998)::text, 4, '0'),
                '4000 0012 ' || lpad((g % 10000)::text, 4, '0') || ' ' || lpad(((g * 7) % 10000)::text, 4, '0'),
                date '1950-01-01' + (g % 20000)::int, 'note ' || g
           FROM generate_series(1, $1) g",
    )
    .bind(rows)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO target.orders SELECT g, 'user' || (1 + g % $1) || '@example.com', g * 1.5
           FROM generate_series(1, $1 / 2) g",
    )
    .bind(rows)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("CREATE TABLE target.customers_original AS SELECT * FROM target.customers")
        .execute(&app.pool)
        .await
        .unwrap();
}

/// Environment, connector, ruleset with both tables and their masking rules, and a job; returns
/// the job id.
pub async fn create_masking_job(app: &TestApp, options: Value) -> i64 {
    let connector = app.create_connector().await;
    create_masking_job_on(app, connector, options).await
}

/// The same, on `connector`.
pub async fn create_masking_job_on(app: &TestApp, connector: i64, options: Value) -> i64 {
    let rs = app
        .post(
            "/database-rulesets",
            json!({"rulesetName": "crm", "databaseConnectorId": connector}),
        )
        .await;
    let rs = rs.body["databaseRulesetId"].as_i64().unwrap();
    let rules: [(&str, &[(&str, &str)]); 2] = [
        (
            "customers",
            &[
                ("first_name", "FirstNameLookup"),
                ("last_name", "LastNameLookup"),
                ("email", "EmailLookup"),
                ("phone", "PhoneNumberSegment"),
                ("ssn", "SsnSegment"),
                ("card", "CreditCardSegment"),
                ("born", "DateShiftVariable"),
            ],
        ),
        ("orders", &[("customer_email", "EmailLookup")]),
    ];
    for (table, columns) in rules {
        app.mask_columns(rs, table, columns).await;
    }
    let mut job = json!({"jobName": "mask crm", "rulesetId": rs, "feedbackSize": 500});
    job["databaseMaskingOptions"] = options;
    let j = app.post("/masking-jobs", job).await;
    assert_eq!(j.status, StatusCode::CREATED, "{:?}", j.body);
    j.body["maskingJobId"].as_i64().unwrap()
}

pub const ALL_OPTIONS: fn() -> Value = || json!({"commitSize": 1000, "disableTriggers": true, "disableConstraints": true, "dropIndexes": true});

/// What the catalog says of the SQL objects the job touches: the trigger's state, how many of the
/// indexes exist, whether the foreign key exists, and whether it is validated.
pub async fn sql_objects_state(app: &TestApp) -> (String, i64, bool, bool) {
    let trigger: String = sqlx::query_scalar(
        "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'customers_bump'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let indexes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = 'target' AND indexname IN ('customers_last_name', 'customers_phone_born')",
    )
    .fetch_one(&app.pool).await.unwrap();
    let fk: Option<bool> = sqlx::query_scalar(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_email_fkey'",
    )
    .fetch_optional(&app.pool)
    .await
    .unwrap();
    (trigger, indexes, fk.is_some(), fk == Some(true))
}
