//! The scenarios: one fault each, with the load before, during and after it, and the verdict.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::task::JoinSet;

use super::cluster::Cluster;
use super::fleet::{self, ACQUIRE_TIMEOUT_SECS, Api, Instance, STATEMENT_TIMEOUT_SECS};
use super::load::Load;
use super::verdict;

/// Jobs, each masking its own table of `ROWS` rows (split into chunks: see `fleet`).
const JOBS: usize = 12;
/// The job that copies its table on the fly from database `source` (same schema and table) into
/// the target, rewriting it (`truncateTables`).
pub const ON_THE_FLY_JOB: usize = JOBS - 1;
pub const ROWS: i64 = 10_000;
const INSTANCES: usize = 3;
const LOAD_CLIENTS: usize = 6;
/// Load before the fault, and after it is over.
const BEFORE: Duration = Duration::from_secs(4);
const AFTER: Duration = Duration::from_secs(5);

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    KillInstance,
    RestartPostgres,
    TerminateConnections,
    ExhaustPool,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::KillInstance => "sigkill",
            Fault::RestartPostgres => "postgres-restart",
            Fault::TerminateConnections => "terminate-backends",
            Fault::ExhaustPool => "pool-exhaustion",
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_instance() {
    run(Fault::KillInstance).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart() {
    run(Fault::RestartPostgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_maskd_connection_terminated() {
    run(Fault::TerminateConnections).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_exhausted_by_blocked_statements() {
    run(Fault::ExhaustPool).await;
}

/// Everything a scenario works with.
pub struct Stage {
    pub cluster: Cluster,
    pub fleet: Arc<Vec<Instance>>,
    pub api: Api,
    /// maskd's own database and the masked one, seen from the test.
    pub maskd_db: PgPool,
    pub target_db: PgPool,
    /// The on-the-fly job's source, and what its table was before.
    pub source_db: PgPool,
    pub source_before: String,
    pub jobs: Vec<i64>,
}

async fn run(fault: Fault) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let started = Instant::now();
    let stage = set_up(fault).await;
    let load = Load::start(&stage.api, &stage.fleet, &stage.jobs, LOAD_CLIENTS);
    tokio::time::sleep(BEFORE).await;
    let injected = load.started.elapsed();
    let fault_notes = inject(fault, &stage).await;
    let healed = load.started.elapsed();
    tokio::time::sleep(AFTER).await;
    let calls = load.stop().await;

    // Serving again, without a restart: every live instance is ready, then every execution ends.
    let mut ready_in = Duration::ZERO;
    for instance in stage.fleet.iter().filter(|i| i.is_alive()) {
        ready_in = ready_in.max(
            instance
                .wait_until_ready(&stage.api.client, Duration::from_secs(30))
                .await,
        );
    }
    let drained_in = verdict::wait_until_all_ended(&stage, Duration::from_secs(120)).await;
    let after = verdict::runs_on_every_instance(&stage).await;
    let summary = verdict::check(&stage, &calls, fault_notes.burst.as_deref()).await;
    println!(
        "\n== fault '{}': injected at {:.1} s, over at {:.1} s ({}); {summary}; ready again {:.1} s \
         after the load stopped, every execution ended {:.1} s after that; afterwards {after}; \
         scenario took {:.0} s\n",
        fault.name(),
        injected.as_secs_f64(),
        healed.as_secs_f64(),
        fault_notes.what,
        ready_in.as_secs_f64(),
        drained_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// A cluster, three instances on it, and `JOBS` jobs, each on its own table of the target.
async fn set_up(fault: Fault) -> Stage {
    let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("faults")
        .join(fault.name());
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = tokio::task::block_in_place(Cluster::start);
    let server = connect(&cluster.url("postgres")).await;
    for database in ["target", "source"] {
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&server)
            .await
            .unwrap();
    }
    server.close().await;
    let target_db = connect(&cluster.url("target")).await;
    create_tables(&target_db).await;
    let source_db = connect(&cluster.url("source")).await;
    let i = ON_THE_FLY_JOB;
    for sql in [
        "CREATE SCHEMA crm".to_owned(),
        format!("CREATE TABLE crm.t{i} (id int PRIMARY KEY, name text, email text)"),
        format!(
            "INSERT INTO crm.t{i} SELECT g, 'Name' || g, 'user' || g || '@example.com' FROM generate_series(1, {ROWS}) g"
        ),
    ] {
        sqlx::query(&sql).execute(&source_db).await.unwrap();
    }
    let source_before = source_fingerprint(&source_db).await;

    let maskd_url = cluster.url("maskd");
    // The first instance creates maskd's database; the others start on it.
    let first = Instance::start(&maskd_url, logs.join("maskd-0.log"));
    let client = crate::common::http_client();
    first
        .wait_until_ready(&client, Duration::from_secs(60))
        .await;
    let mut fleet = vec![first];
    for n in 1..INSTANCES {
        fleet.push(Instance::start(
            &maskd_url,
            logs.join(format!("maskd-{n}.log")),
        ));
    }
    for instance in &fleet {
        instance
            .wait_until_ready(&client, Duration::from_secs(60))
            .await;
    }
    let api = Api::login(&fleet[0].url).await;
    let jobs = create_jobs(&api, &fleet[0].url, cluster.port).await;
    let maskd_db = connect(&maskd_url).await;
    Stage {
        cluster,
        fleet: Arc::new(fleet),
        api,
        maskd_db,
        target_db,
        source_db,
        source_before,
        jobs,
    }
}

/// What the on-the-fly job's source table holds.
pub async fn source_fingerprint(source_db: &PgPool) -> String {
    sqlx::query_scalar(&format!(
        "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM crm.t{ON_THE_FLY_JOB} t"
    ))
    .fetch_one(source_db)
    .await
    .unwrap()
}

async fn connect(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"))
}

/// Table `crm.t{i}` per job: a masked `name` with an index and a masked `email`. Even tables have
/// a trigger that records, for every row a masking run updates, the run's `application_name`
/// (`maskd execution <id>`) in `crm.audit`: that is how `verdict` sees which execution masked
/// what, and when it committed. Odd tables have a trigger that the run disables.
async fn create_tables(db: &PgPool) {
    let setup = [
        "CREATE SCHEMA crm",
        "CREATE TABLE crm.audit (execution text NOT NULL, table_name text NOT NULL, row_id int NOT NULL)",
        "CREATE FUNCTION crm.audit_update() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           INSERT INTO crm.audit VALUES (current_setting('application_name'), TG_TABLE_NAME, NEW.id);
           RETURN NEW;
         END $$",
        "CREATE FUNCTION crm.keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    ];
    for sql in setup {
        sqlx::query(sql).execute(db).await.unwrap();
    }
    for i in 0..JOBS {
        let (index, trigger) = (index_of(i), trigger_of(i));
        let trigger = if audited(i) {
            format!(
                "CREATE TRIGGER {trigger} AFTER UPDATE ON crm.t{i} FOR EACH ROW EXECUTE FUNCTION crm.audit_update()"
            )
        } else {
            format!(
                "CREATE TRIGGER {trigger} BEFORE UPDATE ON crm.t{i} FOR EACH ROW EXECUTE FUNCTION crm.keep()"
            )
        };
        for sql in [
            format!("CREATE TABLE crm.t{i} (id int PRIMARY KEY, name text, email text)"),
            format!("CREATE INDEX {index} ON crm.t{i} (name)"),
            trigger,
            format!(
                "INSERT INTO crm.t{i} SELECT g, 'Name' || g, 'user' || g || '@example.com' FROM generate_series(1, {ROWS}) g"
            ),
        ] {
            sqlx::query(&sql).execute(db).await.unwrap();
        }
    }
}

/// Whether job `i`'s table has the audit trigger (even ones), which its runs must leave on.
pub fn audited(i: usize) -> bool {
    i.is_multiple_of(2)
}

/// The index on `name` of job `i`'s table, which its runs drop.
pub fn index_of(i: usize) -> String {
    format!("t{i}_name_idx")
}

/// The trigger of job `i`'s table: the audit on even tables, one the runs disable on odd ones.
pub fn trigger_of(i: usize) -> String {
    if audited(i) {
        format!("t{i}_audit")
    } else {
        format!("t{i}_keep")
    }
}

/// A job per table, through the API: its own ruleset masking `name` and `email`, dropping the
/// index, and disabling the trigger of odd tables (the audit trigger of even ones must fire).
async fn create_jobs(api: &Api, base: &str, port: u16) -> Vec<i64> {
    let environment = api
        .ok(
            base,
            Method::POST,
            "/environments",
            json!({"environmentName": "faults", "applicationName": "faults"}),
        )
        .await["environmentId"]
        .clone();
    let connector = api
        .ok(
            base,
            Method::POST,
            "/database-connectors",
            json!({
                "connectorName": "target", "databaseType": "POSTGRES", "environmentId": environment,
                "host": "127.0.0.1", "port": port, "databaseName": "target", "schemaName": "crm",
                "username": "postgres", "password": "unused-with-trust-auth",
            }),
        )
        .await["databaseConnectorId"]
        .clone();
    let source = api
        .ok(
            base,
            Method::POST,
            "/database-connectors",
            json!({
                "connectorName": "source", "databaseType": "POSTGRES", "environmentId": environment,
                "host": "127.0.0.1", "port": port, "databaseName": "source", "schemaName": "crm",
                "username": "postgres", "password": "unused-with-trust-auth",
            }),
        )
        .await["databaseConnectorId"]
        .clone();
    let mut jobs = vec![];
    for i in 0..JOBS {
        let ruleset = api
            .ok(
                base,
                Method::POST,
                "/database-rulesets",
                json!({"rulesetName": format!("rs{i}"), "databaseConnectorId": connector}),
            )
            .await["databaseRulesetId"]
            .clone();
        let table = api
            .ok(
                base,
                Method::POST,
                "/table-metadata",
                json!({"tableName": format!("t{i}"), "rulesetId": ruleset}),
            )
            .await["tableMetadataId"]
            .clone();
        let columns = api
            .call(
                base,
                Method::GET,
                &format!("/column-metadata?table_metadata_id={table}"),
                None,
            )
            .await
            .unwrap()
            .1;
        for column in columns["responseList"].as_array().unwrap() {
            let algorithm = match column["columnName"].as_str().unwrap() {
                "name" => "FirstNameLookup",
                "email" => "EmailLookup",
                _ => continue,
            };
            api.ok(
                base,
                Method::PUT,
                &format!("/column-metadata/{}", column["columnMetadataId"]),
                json!({"algorithmName": algorithm}),
            )
            .await;
        }
        let mut body = json!({
            "jobName": format!("job{i}"), "rulesetId": ruleset, "feedbackSize": 1000,
            "databaseMaskingOptions": {
                "commitSize": 1000, "dropIndexes": true, "disableTriggers": !audited(i),
            },
        });
        if i == ON_THE_FLY_JOB {
            body["onTheFlyMasking"] = json!(true);
            body["onTheFlyMaskingSource"] =
                json!({"connectorId": source, "connectorType": "DATABASE"});
            body["databaseMaskingOptions"]["truncateTables"] = json!(true);
        }
        let job = api.ok(base, Method::POST, "/masking-jobs", body).await;
        jobs.push(job["maskingJobId"].as_i64().unwrap());
    }
    jobs
}

/// What the fault was, and for the pool exhaustion the answers to its burst of requests.
pub struct FaultNotes {
    what: String,
    burst: Option<Vec<verdict::Timed>>,
}

async fn inject(fault: Fault, stage: &Stage) -> FaultNotes {
    match fault {
        Fault::KillInstance => {
            let doomed = &stage.fleet[0];
            // Killed while it runs something, so that there is something to take over.
            let running = verdict::wait_for_running(stage, Some(doomed.pid())).await;
            doomed.kill();
            FaultNotes {
                what: format!("kill -9 of instance 0 while it ran {running} execution(s)"),
                burst: None,
            }
        }
        Fault::RestartPostgres => {
            let running = verdict::wait_for_running(stage, None).await;
            let down = Instant::now();
            tokio::task::block_in_place(|| {
                stage.cluster.stop_server("fast");
                std::thread::sleep(Duration::from_secs(3));
                stage.cluster.start_server();
            });
            FaultNotes {
                what: format!(
                    "pg_ctl stop -m fast, 3 s, start: down {:.1} s, {running} execution(s) running",
                    down.elapsed().as_secs_f64()
                ),
                burst: None,
            }
        }
        Fault::TerminateConnections => {
            let running = verdict::wait_for_running(stage, None).await;
            let killed: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE application_name LIKE 'maskd%') k",
            )
            .fetch_one(&stage.maskd_db)
            .await
            .unwrap();
            assert!(killed > INSTANCES as i64, "only {killed} maskd connections");
            FaultNotes {
                what: format!(
                    "pg_terminate_backend of all {killed} maskd connections, {running} execution(s) running"
                ),
                burst: None,
            }
        }
        Fault::ExhaustPool => exhaust_pool(stage).await,
    }
}

/// Holds an exclusive lock on `executions` for 8 s, so that every statement of maskd on it blocks
/// (holding its pool connection), and meanwhile sends each instance twice as many requests as its
/// pool has connections. Each must be answered, 503 with an errorMessage at worst, within the pool
/// wait plus the statement timeout.
async fn exhaust_pool(stage: &Stage) -> FaultNotes {
    const HOLD: Duration = Duration::from_secs(8);
    verdict::wait_for_running(stage, None).await;
    let any_execution: i64 = sqlx::query_scalar("SELECT max(execution_id) FROM executions")
        .fetch_one(&stage.maskd_db)
        .await
        .unwrap();
    let mut lock = stage.maskd_db.begin().await.unwrap();
    sqlx::query("LOCK TABLE executions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let locked = Instant::now();
    let mut burst = JoinSet::new();
    for instance in stage.fleet.iter() {
        for _ in 0..2 * fleet::POOL_SIZE {
            let (api, url) = (stage.api.clone(), instance.url.clone());
            burst.spawn(async move {
                let start = Instant::now();
                let answer = api
                    .call(
                        &url,
                        Method::GET,
                        &format!("/executions/{any_execution}"),
                        None,
                    )
                    .await;
                verdict::Timed {
                    took: start.elapsed(),
                    answer,
                }
            });
        }
    }
    let mut answers = vec![];
    while let Some(a) = burst.join_next().await {
        answers.push(a.unwrap());
    }
    let left = HOLD.saturating_sub(locked.elapsed());
    tokio::time::sleep(left).await;
    lock.rollback().await.unwrap();
    FaultNotes {
        what: format!(
            "LOCK TABLE executions for {} s, a burst of {} GETs (pool {} per instance, statement timeout {STATEMENT_TIMEOUT_SECS} s, pool wait {ACQUIRE_TIMEOUT_SECS} s)",
            HOLD.as_secs(),
            answers.len(),
            fleet::POOL_SIZE
        ),
        burst: Some(answers),
    }
}
