//! What the test targets share: the database per test, the application started on it and called
//! over HTTP, the fixtures made through its API, and `maskd serve` as a process.

pub mod app;
pub mod crm;
pub mod database;
pub mod fixtures;
pub mod maskd_serve;
pub mod proxy;

pub use app::{
    ADMIN_PASSWORD, BASE, Settings, TestApp, config, http_client, spawn_app, spawn_app_with,
    wait_until_ready,
};
pub use database::{TestDatabase, server_options, server_password};
pub use fixtures::{wait_until_sessions_gone, watch};
