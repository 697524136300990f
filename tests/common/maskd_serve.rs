//! `maskd serve` as the process-level tests start it: the real binary, with a clean environment,
//! on a free port of 127.0.0.1. Shared by the `api` and `faults` test targets.

use std::process::{Command, Stdio};

/// The command for `maskd serve` on `database_url`, with the test secret key, a 1 s heartbeat and
/// logs at `warn` on stderr (nothing on stdout), which callers may add to or override; and the
/// base URL it will answer on.
pub fn maskd_serve(database_url: &str) -> (Command, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_maskd"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("MASKD_BIND", format!("127.0.0.1:{port}"))
        .env("MASKD_SECRET_KEY", "test-secret-key")
        .env("MASKD_HEARTBEAT_SECS", "1")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null());
    (command, format!("http://127.0.0.1:{port}"))
}
