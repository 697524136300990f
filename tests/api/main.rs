//! Integration tests: each test starts the real application on its own database (created from a
//! migrated template) and drives it over HTTP.

mod auth;
mod cancel;
mod console;
mod deployment;
mod engine;
mod errors;
mod executions;
mod helpers;
mod hostile;
mod instances;
mod linear_history;
mod linearizability;
mod logs;
#[path = "../common/maskd_serve.rs"]
mod maskd_serve;
mod metrics;
mod openapi;
mod outage;
mod pool;
mod races;
mod rbac;
mod resources;
mod rotation;
mod startup;
mod throttle;
