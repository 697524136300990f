//! Login throttling. Failed logins are counted in maskd's database, shared by every instance, under
//! two keys: the client's address with the username, and the address alone. Past its limit a key
//! is blocked for a time that doubles with each further failure, up to a cap, and that ends by
//! itself. Because a user's limit is keyed by address too, failures from one address never lock
//! the user out from another.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::HttpRequest;
use chrono::SecondsFormat;
use ipnet::IpNet;

use super::error::{ApiError, ApiResult};
use crate::config::LoginThrottle;
use crate::db::Db;
use crate::store::login_failures;

/// Keys are indexed, so a username of any length must not make one too long to store. Names that
/// share their first characters then share a count, but only from the same address.
const MAX_KEY_USERNAME_CHARS: usize = 200;

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most
/// address of `X-Forwarded-For` that is not a trusted proxy. Entries left of that one could have
/// been written by the client itself, so they are never believed.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    // Only a connection that is not over TCP has no peer address.
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip().to_canonical());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .flat_map(|v| v.to_str().unwrap_or_default().split(','))
        .collect();
    client_from(peer, &forwarded, trusted)
}

fn client_from(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        if !is_trusted(&client) {
            break;
        }
        match forwarded_address(entry) {
            Some(ip) => client = ip,
            // A trusted proxy writes addresses only: past anything else, the proxy that passed it
            // on is the last address known to be true.
            None => break,
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:5678`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|a| a.ip()))
        .or_else(|_| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or_default()
                .parse::<IpAddr>()
        })
        .ok()?;
    Some(ip.to_canonical())
}

/// The keys one login attempt is counted under.
pub struct LoginKeys {
    pub client: IpAddr,
    /// `"<address> <username>"`: an address never contains a space.
    pair: String,
    address: String,
}

impl LoginKeys {
    pub fn new(client: IpAddr, username: &str) -> Self {
        let address = client.to_string();
        let username: String = username.chars().take(MAX_KEY_USERNAME_CHARS).collect();
        LoginKeys {
            client,
            pair: format!("{address} {username}"),
            address,
        }
    }

    /// 429 while either key is blocked. Only a read: a blocked attempt costs no password hashing
    /// and changes nothing, and its answer is the same whether the user exists or not.
    pub async fn check(&self, pool: &Db) -> ApiResult<()> {
        let Some((until, seconds)) =
            login_failures::blocked(pool, &[&self.pair, &self.address]).await?
        else {
            return Ok(());
        };
        let seconds = u64::try_from(seconds).unwrap_or(1).max(1);
        Err(ApiError::TooManyRequests {
            message: format!(
                "too many failed logins from this address; try again in {seconds} seconds, after {}",
                until.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            retry_after_secs: seconds,
        })
    }

    /// Counts a failure under both keys.
    pub async fn failed(&self, pool: &Db, policy: &LoginThrottle) -> ApiResult<()> {
        for (key, max_failures) in [
            (&self.pair, policy.max_user_failures),
            (&self.address, policy.max_address_failures),
        ] {
            let (failures, blocked) =
                login_failures::record_failure(pool, key, max_failures, policy).await?;
            if let Some(until) = blocked {
                tracing::warn!(key = %key, failures, blocked_until = %until, "too many failed logins: blocked");
            }
        }
        login_failures::delete_expired(pool).await?;
        Ok(())
    }

    /// Forgets the failures of this username from this address. The address's own count stays:
    /// logging in to one account must not reset an attacker's count for trying others.
    pub async fn succeeded(&self, pool: &Db) -> ApiResult<()> {
        login_failures::clear(pool, &self.pair).await?;
        login_failures::delete_expired(pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_from(ip("192.0.2.1"), &["198.51.100.7"], &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_from(ip("192.0.2.1"), &["10.1.1.1"], &[]),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1/32"]);
        let peer = ip("10.0.0.2");
        // The client wrote the first entry itself.
        let chain = ["6.6.6.6", "198.51.100.7", "192.168.1.1", "10.0.0.9"];
        assert_eq!(client_from(peer, &chain, &trusted), ip("198.51.100.7"));
        assert_eq!(
            client_from(peer, &[" 198.51.100.7 "], &trusted),
            ip("198.51.100.7")
        );
        // All trusted: the farthest one.
        assert_eq!(
            client_from(peer, &["10.9.9.9", "10.0.0.9"], &trusted),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(client_from(peer, &[], &trusted), peer);
    }

    #[test]
    fn forwarded_entries_with_ports_count_and_garbage_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        assert_eq!(
            client_from(peer, &["198.51.100.7:4711"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_from(peer, &["[2001:db8::1]:4711"], &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_from(peer, &["[2001:db8::1]"], &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_from(peer, &["198.51.100.7", "unknown", "10.0.0.3"], &trusted),
            ip("10.0.0.3")
        );
        assert_eq!(client_from(peer, &[""], &trusted), peer);
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_from(ip("10.0.0.2"), &["::ffff:198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn keys_are_bounded_and_unambiguous() {
        let keys = LoginKeys::new(ip("2001:db8::1"), &"x".repeat(100_000));
        assert_eq!(keys.address, "2001:db8::1");
        assert_eq!(
            keys.pair.len(),
            "2001:db8::1 ".len() + MAX_KEY_USERNAME_CHARS
        );
        let keys = LoginKeys::new(ip("192.0.2.1"), "alice smith");
        assert_eq!(keys.pair, "192.0.2.1 alice smith");
    }
}
