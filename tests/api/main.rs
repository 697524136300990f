//! Integration tests: each test starts the real application on its own database (created from a
//! migrated template) and drives it over HTTP.

mod auth;
mod cancel;
mod deployment;
mod engine;
mod errors;
mod executions;
mod helpers;
mod instances;
mod logs;
mod metrics;
mod races;
mod resources;
mod startup;
