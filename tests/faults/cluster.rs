//! A PostgreSQL cluster of the suite's own, made with Debian's server binaries on a free port, so
//! that a scenario can stop and restart it without disturbing anyone else's database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    /// initdb and the server refuse to run as root: as root, they run as the `postgres` user.
    as_postgres: bool,
}

impl Cluster {
    /// A new cluster, started, with trust authentication for the superuser `postgres`.
    pub fn start() -> Cluster {
        let bin = server_binaries();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("maskd-faults-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").args(["postgres:postgres", path(&dir)]));
        }
        let cluster = Cluster {
            port,
            dir,
            bin,
            as_postgres,
        };
        cluster.run_server_tool(
            "initdb",
            &[
                "-D",
                path(&cluster.data()),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.start_server();
        cluster
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start_server(&self) {
        // track_commit_timestamp: the suite compares when each masking transaction committed with
        // the end of its execution.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=200 \
             -c track_commit_timestamp=on -c fsync=off -c synchronous_commit=off",
            self.port,
            path(&self.dir)
        );
        let log = self.dir.join("server.log");
        self.run_server_tool(
            "pg_ctl",
            &[
                "-D",
                path(&self.data()),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server: `fast` ends every session (as a restart does), `immediate` as a crash.
    pub fn stop_server(&self, mode: &str) {
        self.run_server_tool(
            "pg_ctl",
            &[
                "-D",
                path(&self.data()),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run_server_tool(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        run(command.args(args));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", path(&data), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest of Debian's PostgreSQL server versions installed (`/usr/lib/postgresql/N/bin`), or
/// the directory in `MASKD_FAULTS_PG_BIN`.
fn server_binaries() -> PathBuf {
    if let Some(dir) = std::env::var_os("MASKD_FAULTS_PG_BIN") {
        return dir.into();
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .max();
    match newest {
        Some(version) => format!("/usr/lib/postgresql/{version}/bin").into(),
        None => panic!(
            "the fault suite needs PostgreSQL's server binaries (initdb, pg_ctl): install Debian's \
             postgresql package, or set MASKD_FAULTS_PG_BIN to the directory that holds them"
        ),
    }
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn run(command: &mut Command) {
    let out = command.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
