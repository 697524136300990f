//! The PostgreSQL server the tests use, and a fresh database per test, copied from a template
//! migrated once per set of migrations.

use std::str::FromStr;
use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::OnceCell;

/// The PostgreSQL server the tests use: `DATABASE_URL`'s server, or the contract's default.
/// The PostgreSQL server the tests use: `DATABASE_URL`'s server, or the contract's default.
fn server_url() -> url::Url {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| maskd::config::DEFAULT_DATABASE_URL.into());
    url::Url::parse(&url).expect("DATABASE_URL is a URL")
}

pub fn server_options() -> PgConnectOptions {
    PgConnectOptions::from_str(server_url().as_str()).expect("DATABASE_URL is a PostgreSQL URL")
}

/// The URL of another database on the same server.
fn url_for(database: &str) -> String {
    let mut url = server_url();
    url.set_path(&format!("/{database}"));
    url.to_string()
}

pub fn server_password() -> Option<String> {
    server_url()
        .password()
        .map(str::to_owned)
        .or_else(|| std::env::var("PGPASSWORD").ok())
}

async fn admin_connection() -> PgConnection {
    server_options()
        .database("postgres")
        .connect()
        .await
        .expect("PostgreSQL is reachable")
}

/// The migrated template, built once per migration set (named by a hash of the migrations), under
/// an advisory lock so parallel test binaries build it once.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let mut hasher = Sha256::new();
            let mut files: Vec<_> = std::fs::read_dir("migrations")
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            for f in files {
                hasher.update(f.to_string_lossy().as_bytes());
                hasher.update(std::fs::read(&f).unwrap());
            }
            let name = format!("maskd_test_tpl_{}", &hex::encode(hasher.finalize())[..16]);
            let mut conn = admin_connection().await;
            sqlx::query("SELECT pg_advisory_lock(727271)")
                .execute(&mut conn)
                .await
                .unwrap();
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                    .bind(&name)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
            if !exists {
                let building = format!("{name}_building");
                sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE DATABASE {building}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                maskd::db::migrate(&url_for(&building))
                    .await
                    .expect("migrations apply");
                sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            sqlx::query("SELECT pg_advisory_unlock(727271)")
                .execute(&mut conn)
                .await
                .unwrap();
            name
        })
        .await
}

/// A fresh database (dropped when the guard drops).
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub async fn from_template() -> Self {
        let template = template().await;
        let name = format!("maskd_test_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = admin_connection().await;
        // Concurrent copies of one template may collide on its lock briefly: retry.
        for attempt in 0.. {
            match sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn)
                .await
            {
                Ok(_) => break,
                Err(e) if attempt < 50 => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        TestDatabase { name }
    }

    pub fn url(&self) -> String {
        url_for(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop it on a thread of its own: the test's runtime is going away.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut conn = admin_connection().await;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        })
        .join();
    }
}
