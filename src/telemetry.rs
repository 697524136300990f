//! Logging through `tracing`, filtered by `RUST_LOG` (default `info`): readable lines, or one JSON
//! object per line with `MASKD_LOG_FORMAT=json` (its `span`/`spans` carry `requestId` for lines
//! logged while serving a request, `executionId` and `jobId` for lines about an execution).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("MASKD_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        // Colours only for a person at a terminal, not in files or collected container logs.
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}
