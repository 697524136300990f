//! The resources most tests need, made through the API: a target table, connectors, rulesets,
//! jobs, masked columns, executions in a given status.

use std::time::{Duration, Instant};

use maskd::types::ExecutionStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::app::TestApp;
use super::database::{server_options, server_password};

/// The worker that `execution_in` claims executions as.
pub const TEST_WORKER: &str = "test-worker";

impl TestApp {
    /// A target schema with a table `people`, in this test's own database.
    pub async fn create_target_table(&self) {
        sqlx::query("CREATE SCHEMA IF NOT EXISTS target")
            .execute(&self.pool)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS target.people (
                id bigint PRIMARY KEY, first_name varchar(40), last_name text, email text UNIQUE, born date)",
        )
        .execute(&self.pool)
        .await
        .unwrap();
    }

    /// Environment, connector (to this test's database, schema `target`), and ruleset; returns the
    /// ruleset id.
    pub async fn create_ruleset(&self) -> i64 {
        self.create_target_table().await;
        let connector = self.create_connector().await;
        let ruleset = self
            .post(
                "/database-rulesets",
                json!({"rulesetName": "rs", "databaseConnectorId": connector}),
            )
            .await;
        assert_eq!(ruleset.status, StatusCode::CREATED, "{:?}", ruleset.body);
        ruleset.body["databaseRulesetId"].as_i64().unwrap()
    }

    /// A new environment and a connector in it to this test's database, schema `target`; returns
    /// the connector id.
    pub async fn create_connector(&self) -> i64 {
        self.create_connector_on_port(server_options().get_port())
            .await
    }

    /// The same, through `port` (a proxy's) instead of the server's.
    pub async fn create_connector_on_port(&self, port: u16) -> i64 {
        let name = format!("env-{}", hex::encode(rand::random::<[u8; 4]>()));
        let env = self
            .post(
                "/environments",
                json!({"environmentName": name, "applicationName": "app"}),
            )
            .await;
        assert_eq!(env.status, StatusCode::CREATED, "{:?}", env.body);
        let mut body = self.connector_body(env.body["environmentId"].as_i64().unwrap());
        body["port"] = json!(port);
        let connector = self.post("/database-connectors", body).await;
        assert_eq!(
            connector.status,
            StatusCode::CREATED,
            "{:?}",
            connector.body
        );
        connector.body["databaseConnectorId"].as_i64().unwrap()
    }

    pub fn connector_body(&self, environment_id: i64) -> Value {
        let o = server_options();
        json!({
            "connectorName": format!("c-{}", hex::encode(rand::random::<[u8; 4]>())),
            "databaseType": "POSTGRES",
            "environmentId": environment_id,
            "host": o.get_host(),
            "port": o.get_port(),
            "databaseName": self.db.name,
            "schemaName": "target",
            "username": o.get_username(),
            "password": server_password().unwrap_or_else(|| "unused-with-trust-auth".into()),
        })
    }

    /// A masking job on a fresh ruleset; returns its id.
    pub async fn create_job(&self) -> i64 {
        let ruleset = self.create_ruleset().await;
        self.create_job_on(ruleset).await
    }

    pub async fn create_job_on(&self, ruleset_id: i64) -> i64 {
        let job = self
            .post(
                "/masking-jobs",
                json!({"jobName": "job", "rulesetId": ruleset_id}),
            )
            .await;
        assert_eq!(job.status, StatusCode::CREATED, "{:?}", job.body);
        job.body["maskingJobId"].as_i64().unwrap()
    }

    /// Adds `table` of the target to a ruleset and masks each of `columns` with its algorithm;
    /// returns the table metadata id.
    pub async fn mask_columns(
        &self,
        ruleset_id: i64,
        table: &str,
        columns: &[(&str, &str)],
    ) -> i64 {
        let t = self
            .post(
                "/table-metadata",
                json!({"tableName": table, "rulesetId": ruleset_id}),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{table}: {:?}", t.body);
        let table_id = t.body["tableMetadataId"].as_i64().unwrap();
        let listed = self
            .get(&format!("/column-metadata?table_metadata_id={table_id}"))
            .await;
        for (column, algorithm) in columns {
            let found = listed.body["responseList"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["columnName"] == *column)
                .unwrap_or_else(|| panic!("{column} is not a column of {table}: {listed:?}"));
            let put = self
                .put(
                    &format!("/column-metadata/{}", found["columnMetadataId"]),
                    json!({"algorithmName": algorithm}),
                )
                .await;
            assert_eq!(put.status, StatusCode::OK, "{column}: {put:?}");
        }
        table_id
    }

    /// Submits an execution of `job_id` through the API; returns its id.
    pub async fn submit(&self, job_id: i64) -> i64 {
        let e = self.post("/executions", json!({"jobId": job_id})).await;
        assert_eq!(e.status, StatusCode::CREATED, "{:?}", e.body);
        e.body["executionId"].as_i64().unwrap()
    }

    /// An execution of a new job, brought to `status` through the store's transitions.
    pub async fn execution_in(&self, status: ExecutionStatus, ruleset_id: i64) -> i64 {
        let job = self.create_job_on(ruleset_id).await;
        let id = self.submit(job).await;
        use maskd::store::executions as ex;
        if status == ExecutionStatus::Queued {
            return id;
        }
        if status == ExecutionStatus::Cancelled {
            ex::cancel(&self.pool, id, None, false)
                .await
                .unwrap()
                .unwrap();
            return id;
        }
        let claimed = ex::claim(&self.pool, TEST_WORKER)
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(claimed.execution_id, id);
        if status.is_finished() {
            ex::finish(&self.pool, id, TEST_WORKER, status)
                .await
                .unwrap()
                .unwrap();
        }
        id
    }

    /// The `eventType` of every event of an execution, oldest first.
    pub async fn event_types(&self, execution_id: i64) -> Vec<String> {
        let events = self
            .get(&format!("/execution-events?execution_id={execution_id}"))
            .await;
        assert_eq!(events.status, StatusCode::OK, "{events:?}");
        events.body["responseList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["eventType"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Polls an execution until `done` says so; returns every state seen.
pub async fn watch(app: &TestApp, id: i64, done: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = vec![];
    loop {
        let e = app.status_of(id).await;
        let finished = done(&e);
        seen.push(e);
        if finished {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "execution {id} did not get there: {:?}",
            seen.last()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (up to 10 s) until no session of execution `id` (`maskd execution <id>`) is left on the
/// target: ended backends leave `pg_stat_activity` a moment after their signal.
pub async fn wait_until_sessions_gone(app: &TestApp, id: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sessions: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(format!("maskd execution {id}"))
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if sessions == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sessions} sessions of execution {id} are left on the target"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
