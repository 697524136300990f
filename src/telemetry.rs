//! Logging through `tracing`, filtered by `RUST_LOG` (default `info`): readable lines, or one JSON
//! object per line with `MASKD_LOG_FORMAT=json` (its `span`/`spans` carry `requestId` for lines
//! logged while serving a request, `executionId` and `jobId` for lines about an execution).

use std::io::{BufWriter, IsTerminal};

use tracing_appender::non_blocking::NonBlockingBuilder;
pub use tracing_appender::non_blocking::WorkerGuard as LogGuard;
use tracing_subscriber::EnvFilter;

/// Lines are formatted where they are logged and written to standard error by a thread of their
/// own, in batches: a request no longer waits for a write(2) of its line. A logger never drops a
/// line (it waits when 128,000 are queued); keep the guard until exit, whose drop writes the rest.
/// Lines queued when the process is killed (`kill -9`, an abort) are lost, usually the last
/// milliseconds' worth.
pub fn init() -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("MASKD_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("maskd-log")
        .finish(BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = if json {
        builder.json().try_init()
    } else {
        // Colours only for a person at a terminal, not in files or collected container logs.
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
    guard
}
