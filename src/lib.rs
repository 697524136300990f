//! maskd: a persistent job-execution service for data-masking jobs, API-compatible with the
//! Delphix Masking Engine (v5.1.43), backed by PostgreSQL.
//!
//! Where things live: `api` (HTTP handlers, one file per resource), `store` (SQL, one function per
//! statement; `store::executions` is the execution state machine), `types` (types that are valid
//! once built), `masking` (algorithms and target-database access), `startup` (wiring), `metrics` and
//! `telemetry` (what an operator watches).

pub mod api;
pub mod config;
pub mod crypto;
pub mod db;
pub mod engine;
pub mod masking;
pub mod metrics;
pub mod rotation;
pub mod sql_error;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod types;
