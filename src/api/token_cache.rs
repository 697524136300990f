//! Tokens checked within the last second. Without it, each request writes its token's last-used
//! time, and the requests of one busy client (a script, a console polling every second, a
//! benchmark) all queue on that one row. A cached check is trusted for at most `FRESH`, counted
//! from when the check began, so a logout through another instance, an idle expiry, or a change
//! of the user's role takes effect within a second; a logout through this instance at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::tokens::TokenUser;

const FRESH: Duration = Duration::from_secs(1);
/// Past this many entries, stale ones are dropped before another is added.
const PRUNE_ABOVE: usize = 4096;

#[derive(Default)]
pub struct TokenCache {
    checked: Mutex<HashMap<Vec<u8>, Checked>>,
}

struct Checked {
    user: TokenUser,
    began: Instant,
}

impl TokenCache {
    /// The user of a token (by its hash) found valid less than a second ago.
    pub fn get(&self, token_hash: &[u8]) -> Option<TokenUser> {
        let checked = self.checked.lock().expect("not poisoned");
        checked
            .get(token_hash)
            .filter(|c| c.began.elapsed() < FRESH)
            .map(|c| c.user.clone())
    }

    /// Remembers that a check begun at `began` found the token valid.
    pub fn put(&self, token_hash: Vec<u8>, user: TokenUser, began: Instant) {
        let mut checked = self.checked.lock().expect("not poisoned");
        if checked.len() >= PRUNE_ABOVE {
            checked.retain(|_, c| c.began.elapsed() < FRESH);
        }
        checked.insert(token_hash, Checked { user, began });
    }

    pub fn forget(&self, token_hash: &[u8]) {
        self.checked
            .lock()
            .expect("not poisoned")
            .remove(token_hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Role;

    fn user() -> TokenUser {
        TokenUser {
            user_id: 1,
            username: "u".into(),
            role: Role::Operator,
        }
    }

    #[test]
    fn a_check_is_trusted_for_a_second_from_when_it_began() {
        let cache = TokenCache::default();
        cache.put(b"fresh".to_vec(), user(), Instant::now());
        cache.put(b"stale".to_vec(), user(), Instant::now() - FRESH);
        assert_eq!(cache.get(b"fresh").map(|u| u.user_id), Some(1));
        assert!(cache.get(b"stale").is_none());
        assert!(cache.get(b"unknown").is_none());
        cache.forget(b"fresh");
        assert!(cache.get(b"fresh").is_none());
    }

    #[test]
    fn stale_entries_are_dropped_when_the_cache_is_full() {
        let cache = TokenCache::default();
        for i in 0..PRUNE_ABOVE {
            cache.put(i.to_be_bytes().to_vec(), user(), Instant::now() - FRESH);
        }
        cache.put(b"new".to_vec(), user(), Instant::now());
        assert_eq!(cache.checked.lock().unwrap().len(), 1);
    }
}
