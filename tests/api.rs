//! The `api` test target: the API suite in `api/`, each test on its own database (created from a
//! migrated template) driving the real application over HTTP, or the store's transitions directly;
//! and the support the test targets share, in `common/`.

mod common;

mod api {
    mod auth;
    mod cancel;
    mod chunk_history;
    mod chunks;
    mod compat;
    mod console;
    mod deployment;
    mod engine;
    mod errors;
    mod executions;
    mod hostile;
    mod instances;
    mod layers;
    mod linear_history;
    mod linearizability;
    mod logs;
    mod metrics;
    mod on_the_fly;
    mod openapi;
    mod outage;
    mod pool;
    mod profile_jobs;
    mod profile_quality;
    mod profiling;
    mod races;
    mod rbac;
    mod resources;
    mod rotation;
    mod startup;
    mod store_transitions;
    mod takeover;
    mod throttle;
}
