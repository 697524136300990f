//! Wiring: maskd's database, the HTTP server, and everything they share. Tests start the real
//! application through `Application::build`, exactly as `maskd serve` does.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::api::error::{ApiError, json_errors};
use crate::api::observe::observe;
use crate::api::{self, AppState};
use crate::config::{Config, Secret};
use crate::crypto::{self, Keys};
use crate::db::{self, Db, DbError, PoolShares};
use crate::engine::{ChunkSettings, Engine, EngineConfig, ProfilingSettings};
use crate::metrics::Metrics;
use crate::store;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("maskd's database refused a start-up step: {0}")]
    Sql(#[from] sqlx::Error),
    #[error(
        "cannot listen on {addr}: {source}. Is another process using it? Set MASKD_BIND to another address"
    )]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Creates the database when missing and applies migrations.
pub async fn prepare_database(config: &Config) -> Result<(), DbError> {
    db::ensure_database(config.database_url.expose()).await?;
    db::migrate(config.database_url.expose()).await
}

/// The keys of the configured secret, or of the one generated and stored at the first start.
pub async fn load_keys(pool: &Db, configured: Option<&Secret>) -> Result<Keys, sqlx::Error> {
    if let Some(secret) = configured {
        return Ok(Keys::from_secret(secret.expose().as_bytes()));
    }
    let stored = store::settings::generated_secret(pool, &crypto::random_secret()).await?;
    tracing::warn!(
        "MASKD_SECRET_KEY is not set: using a random key generated once and stored in maskd's database. \
         Set MASKD_SECRET_KEY to keep masking results and connector passwords independent of the database"
    );
    Ok(Keys::from_secret(&stored))
}

pub struct Application {
    port: u16,
    server: Server,
    pool: Db,
    /// None on an API-only instance (`MASKD_WORKERS=0`).
    engine: Option<Engine>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        prepare_database(&config).await?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        let shares = PoolShares::of(config.db_pool_size, config.workers, cpus);
        let pool = db::pool(
            config.database_url.expose(),
            shares.engine,
            config.db_statement_timeout,
        )
        .await?;
        if let Some(password) = &config.admin_password {
            let hash = crypto::hash_password(password.expose());
            if store::users::bootstrap_admin(&pool, &hash).await? {
                tracing::info!("created user 'admin' (ADMIN) from MASKD_ADMIN_PASSWORD");
            }
        }
        let keys = load_keys(&pool, config.secret_key.as_ref()).await?;
        let metrics = Arc::new(Metrics::new(config.workers));
        let engine = (config.workers > 0).then(|| {
            Engine::start(
                pool.clone(),
                keys.clone(),
                EngineConfig {
                    workers: config.workers,
                    heartbeat_interval: config.heartbeat_interval,
                    shutdown_grace: config.shutdown_grace,
                    profiling: ProfilingSettings {
                        sample_rows: i64::from(config.profile_sample_rows),
                        match_ratio: f64::from(config.profile_match_percent) / 100.0,
                    },
                    chunking: ChunkSettings {
                        min_rows: config.chunk_min_rows as i64,
                        rows: config.chunk_rows as i64,
                    },
                },
                metrics.clone(),
            )
        });
        let state = AppState {
            pool: pool.clone(),
            keys,
            token_ttl: config.token_ttl,
            metrics,
            trusted_proxies: config.trusted_proxies.clone(),
            login_throttle: config.login_throttle.clone(),
            token_cache: Default::default(),
        };

        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: config.bind.to_string(),
                source,
            })?
            .port();
        let options =
            db::options_with_timeout(config.database_url.expose(), config.db_statement_timeout)?;
        // Called once in each HTTP worker's thread, so the worker's pool belongs to its event loop.
        let server = HttpServer::new(move || {
            let pool = db::http_worker_pool(options.clone(), shares.per_http_worker);
            App::new()
                .app_data(web::Data::new(AppState {
                    pool,
                    ..state.clone()
                }))
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .wrap(from_fn(json_errors))
                // Outermost: it sees the final status, and its span covers everything else.
                .wrap(from_fn(observe))
                .configure(api::configure)
                .default_service(web::to(unknown_route))
        })
        .workers(shares.http_workers as usize)
        .shutdown_timeout(5)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?
        .run();
        tracing::info!(port, "maskd is listening");
        Ok(Application {
            port,
            server,
            pool,
            engine,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &Db {
        &self.pool
    }

    /// Serves until SIGINT/SIGTERM (actix handles both, finishing requests in flight), then shuts
    /// the engine down: no new claims, a grace period for running executions, then FAILED.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(engine) = self.engine {
            engine.shutdown().await;
        }
        served
    }

    pub fn worker_id(&self) -> Option<&str> {
        self.engine.as_ref().map(Engine::worker_id)
    }
}

async fn unknown_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "there is no endpoint {} {} (the API is under /masking/api and /masking/api/v5.1.43)",
        req.method(),
        req.path()
    )))
}
