//! Settings from the environment (a `.env` file is loaded first when present).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/maskd";

/// A value that must never be printed (passwords, keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub bind: SocketAddr,
    pub workers: u32,
    pub admin_password: Option<Secret>,
    pub token_ttl: Duration,
    pub secret_key: Option<Secret>,
    /// Connections in this instance's pool to maskd's own database.
    pub db_pool_size: u32,
    /// Longest a statement on maskd's own database may run (lock waits included) before PostgreSQL
    /// cancels it, so that a request never hangs on a blocked database.
    pub db_statement_timeout: Duration,
    /// How often workers heartbeat their executions; one silent for 3 intervals is taken over.
    pub heartbeat_interval: Duration,
    /// On SIGTERM, how long running executions may go on before they are handed back as FAILED.
    pub shutdown_grace: Duration,
    /// Proxies trusted to name the client in `X-Forwarded-For` (`MASKD_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    pub login_throttle: LoginThrottle,
    /// Rows a profile run reads per table (`MASKD_PROFILE_SAMPLE_ROWS`).
    pub profile_sample_rows: u32,
    /// The share of a column's sampled values, in percent, that must match for a profile run to
    /// find the column (`MASKD_PROFILE_MATCH_PERCENT`).
    pub profile_match_percent: u32,
    /// A table with at least this many rows to mask is split into chunks (`MASKD_CHUNK_MIN_ROWS`).
    pub chunk_min_rows: u64,
    /// Rows per chunk (`MASKD_CHUNK_ROWS`).
    pub chunk_rows: u64,
}

/// How failed logins are throttled. Not read from the environment: the defaults are the documented
/// policy, and tests shorten them.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    /// Failures in a row for one username from one address before that pair is blocked.
    pub max_user_failures: u32,
    /// Failures in a row from one address, whatever the usernames, before the address is blocked.
    pub max_address_failures: u32,
    /// The block that the last allowed failure starts; each further failure doubles it.
    pub first_block: Duration,
    pub max_block: Duration,
    /// Failures are forgotten after this long without a failure or a block.
    pub forget_after: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            max_user_failures: 5,
            max_address_failures: 50,
            first_block: Duration::from_secs(30),
            max_block: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError(
                "DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/maskd".into(),
            ));
        }
        let bind_text = get("MASKD_BIND").unwrap_or_else(|| "127.0.0.1:8282".to_owned());
        let bind = bind_text.parse().map_err(|_| {
            ConfigError(format!(
                "MASKD_BIND must be an address and port such as 127.0.0.1:8282 or 0.0.0.0:8282, got '{bind_text}'"
            ))
        })?;
        let workers = parse_number(&get, "MASKD_WORKERS", 4, 0, 1024)? as u32;
        let token_ttl_secs = parse_number(&get, "MASKD_TOKEN_TTL_SECS", 1800, 1, 31_536_000)?;
        let default_pool = 10 + u64::from(workers) * 2;
        let db_pool_size = parse_number(&get, "MASKD_DB_POOL_SIZE", default_pool, 2, 1000)? as u32;
        let statement_timeout_secs =
            parse_number(&get, "MASKD_DB_STATEMENT_TIMEOUT_SECS", 15, 1, 3600)?;
        let heartbeat_secs = parse_number(&get, "MASKD_HEARTBEAT_SECS", 2, 1, 60)?;
        let grace_secs = parse_number(&get, "MASKD_SHUTDOWN_GRACE_SECS", 30, 0, 3600)?;
        let profile_sample_rows =
            parse_number(&get, "MASKD_PROFILE_SAMPLE_ROWS", 10_000, 100, 10_000_000)? as u32;
        let profile_match_percent =
            parse_number(&get, "MASKD_PROFILE_MATCH_PERCENT", 80, 1, 100)? as u32;
        let chunk_min_rows = parse_number(
            &get,
            "MASKD_CHUNK_MIN_ROWS",
            1_000_000,
            1,
            1_000_000_000_000,
        )?;
        let chunk_rows = parse_number(&get, "MASKD_CHUNK_ROWS", 100_000, 100, 1_000_000_000)?;
        let trusted_proxies = match get("MASKD_TRUSTED_PROXIES") {
            Some(text) => parse_networks("MASKD_TRUSTED_PROXIES", &text)?,
            None => vec![],
        };

        Ok(Config {
            database_url: Secret::new(database_url),
            bind,
            workers,
            admin_password: get("MASKD_ADMIN_PASSWORD").map(Secret::new),
            token_ttl: Duration::from_secs(token_ttl_secs),
            secret_key: get("MASKD_SECRET_KEY").map(Secret::new),
            db_pool_size,
            db_statement_timeout: Duration::from_secs(statement_timeout_secs),
            heartbeat_interval: Duration::from_secs(heartbeat_secs),
            shutdown_grace: Duration::from_secs(grace_secs),
            trusted_proxies,
            login_throttle: LoginThrottle::default(),
            profile_sample_rows,
            profile_match_percent,
            chunk_min_rows,
            chunk_rows,
        })
    }
}

fn parse_number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    let Some(text) = get(name) else {
        return Ok(default);
    };
    match text.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError(format!(
            "{name} must be a whole number from {min} to {max}, got '{text}'"
        ))),
    }
}

/// Comma-separated IP addresses and CIDR ranges.
fn parse_networks(name: &str, text: &str) -> Result<Vec<IpNet>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "{name} must be comma-separated IP addresses or CIDR ranges such as \
                         10.0.0.5,192.168.0.0/16; '{item}' is neither"
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8282");
        assert_eq!(c.workers, 4);
        assert_eq!(c.token_ttl, Duration::from_secs(1800));
        assert!(c.admin_password.is_none() && c.secret_key.is_none());
        assert!(c.trusted_proxies.is_empty());
        assert_eq!(
            (c.profile_sample_rows, c.profile_match_percent),
            (10_000, 80)
        );
        assert_eq!((c.chunk_min_rows, c.chunk_rows), (1_000_000, 100_000));
    }

    #[test]
    fn trusted_proxies_are_addresses_and_ranges() {
        let c = config(&[("MASKD_TRUSTED_PROXIES", " 10.0.0.5, 192.168.0.0/16,::1 ,")]).unwrap();
        let printed: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(printed, ["10.0.0.5/32", "192.168.0.0/16", "::1/128"]);
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        for (name, value) in [
            ("MASKD_WORKERS", "many"),
            ("MASKD_WORKERS", "-1"),
            ("MASKD_TOKEN_TTL_SECS", "0"),
            ("MASKD_BIND", "localhost"),
            ("DATABASE_URL", "mysql://x"),
            ("MASKD_TRUSTED_PROXIES", "10.0.0.1,proxy.local"),
            ("MASKD_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("MASKD_PROFILE_MATCH_PERCENT", "0"),
            ("MASKD_PROFILE_MATCH_PERCENT", "101"),
            ("MASKD_CHUNK_MIN_ROWS", "0"),
            ("MASKD_CHUNK_ROWS", "99"),
            ("MASKD_PROFILE_SAMPLE_ROWS", "10"),
        ] {
            let err = config(&[(name, value)]).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = config(&[
            ("MASKD_ADMIN_PASSWORD", "hunter2"),
            ("MASKD_SECRET_KEY", "k3y"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("k3y"),
            "{printed}"
        );
    }
}
