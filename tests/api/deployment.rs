//! docker-compose.yml, the Dockerfile and the README's configuration table stay in step with the
//! code. (No Docker engine runs where the tests run: this checks what can be read.)

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The variables of the README's configuration table.
fn documented_variables() -> BTreeSet<String> {
    let readme = read("README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Configuration section");
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_documented_variable_is_read_by_maskd() {
    let sources = read("src/config.rs") + &read("src/telemetry.rs");
    let documented = documented_variables();
    assert!(documented.len() >= 7, "{documented:?}");
    for name in &documented {
        let read_by_code = sources.contains(&format!("\"{name}\"")) || name == "RUST_LOG";
        assert!(
            read_by_code,
            "{name} is documented but maskd does not read it"
        );
    }
}

#[test]
fn compose_runs_postgres_then_maskd_with_documented_settings() {
    let compose = &YamlLoader::load_from_str(&read("docker-compose.yml")).unwrap()[0];
    let services = &compose["services"];
    let postgres = &services["postgres"];
    assert!(
        !postgres["healthcheck"]["test"].is_badvalue(),
        "postgres has a health check"
    );
    let maskd = &services["maskd"];
    assert_eq!(
        maskd["build"].as_str(),
        Some("."),
        "maskd is built from the Dockerfile"
    );
    assert_eq!(
        maskd["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    let ports = maskd["ports"].as_vec().expect("ports are published");
    assert!(
        ports
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.ends_with(":8282"))),
        "{ports:?}"
    );

    let Yaml::Hash(environment) = &maskd["environment"] else {
        panic!("maskd has an environment map")
    };
    let documented = documented_variables();
    for (key, value) in environment {
        let key = key.as_str().unwrap();
        assert!(
            documented.contains(key),
            "compose sets {key}, which the README does not document"
        );
        assert!(
            value.as_str().is_some_and(|v| !v.is_empty()),
            "{key} has a value"
        );
    }
    for needed in [
        "DATABASE_URL",
        "MASKD_BIND",
        "MASKD_ADMIN_PASSWORD",
        "MASKD_SECRET_KEY",
    ] {
        assert!(
            environment.contains_key(&Yaml::String(needed.into())),
            "compose sets {needed}"
        );
    }
    let url = environment[&Yaml::String("DATABASE_URL".into())]
        .as_str()
        .unwrap();
    assert!(
        url.contains("@postgres:5432/"),
        "maskd reaches the postgres service: {url}"
    );
    // Docker stops a container with SIGKILL after stop_grace_period: it must outlast maskd's own
    // grace period, or running executions are killed instead of handed back.
    let grace: u64 = environment[&Yaml::String("MASKD_SHUTDOWN_GRACE_SECS".into())]
        .as_str()
        .and_then(|v| v.rsplit(":-").next())
        .and_then(|v| v.trim_end_matches('}').parse().ok())
        .expect("MASKD_SHUTDOWN_GRACE_SECS has a default");
    let stop: u64 = maskd["stop_grace_period"]
        .as_str()
        .and_then(|v| v.strip_suffix('s'))
        .and_then(|v| v.parse().ok())
        .expect("stop_grace_period is set in seconds");
    assert!(
        stop > grace,
        "stop_grace_period {stop}s must be longer than MASKD_SHUTDOWN_GRACE_SECS {grace}"
    );
    let bind = environment[&Yaml::String("MASKD_BIND".into())]
        .as_str()
        .unwrap();
    assert!(
        bind.starts_with("0.0.0.0:8282"),
        "maskd listens beyond its container: {bind}"
    );
}

#[test]
fn dockerfile_builds_locked_and_runs_unprivileged_with_a_health_check() {
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.matches("\nFROM ").count() + dockerfile.starts_with("FROM ") as usize >= 2,
        "multi-stage"
    );
    assert!(dockerfile.contains("cargo build --release --locked"));
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert_ne!(user.trim(), "root");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/readyz"));
    // Everything Cargo.toml names must be copied into the build stage.
    for needed in ["Cargo.toml", "Cargo.lock", "src", "migrations", "benches"] {
        assert!(
            dockerfile
                .lines()
                .any(|l| l.starts_with("COPY") && l.contains(needed)),
            "COPY {needed}"
        );
    }
}
