//! Key material: the secret behind connector-password encryption and keyed masking.
//!
//! With `MASKD_SECRET_KEY` set, keys derive from it. Without it, a random secret is generated once,
//! stored in maskd's database (so every instance uses the same one), and a warning is logged.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct Keys {
    /// Raw secret, for keyed masking.
    secret: Vec<u8>,
    connector_passwords: Aes256Gcm,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "the stored connector password cannot be decrypted with the current MASKD_SECRET_KEY; set the connector's password again"
)]
pub struct DecryptError;

/// 32 random bytes: a secret for when none is configured.
pub fn random_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    secret
}

impl Keys {
    pub fn from_secret(secret: &[u8]) -> Self {
        let derived = Sha256::new()
            .chain_update(b"maskd connector passwords v1\0")
            .chain_update(secret)
            .finalize();
        Keys {
            secret: secret.to_vec(),
            connector_passwords: Aes256Gcm::new(&derived),
        }
    }

    pub fn masking_secret(&self) -> &[u8] {
        &self.secret
    }

    /// Nonce followed by ciphertext.
    pub fn encrypt_password(&self, password: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .connector_passwords
            .encrypt(&Nonce::from(nonce), password.as_bytes())
            .expect("AES-GCM encryption of a short password cannot fail");
        [nonce.as_slice(), &ciphertext].concat()
    }

    pub fn decrypt_password(&self, stored: &[u8]) -> Result<String, DecryptError> {
        if stored.len() < NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce, ciphertext) = stored.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| DecryptError)?;
        let plain = self
            .connector_passwords
            .decrypt(&Nonce::from(nonce), ciphertext)
            .map_err(|_| DecryptError)?;
        String::from_utf8(plain).map_err(|_| DecryptError)
    }
}

/// SHA-256 of a login token: tokens are stored only in this form.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A new 256-bit login token, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashing with default parameters cannot fail")
        .to_string()
}

/// Verifies `password` against a stored argon2 hash; with no hash (unknown user) it still spends
/// the same work, so response times do not reveal which usernames exist.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("maskd timing equaliser"));
    let (hash, known) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_are_not_stored_in_clear() {
        let keys = Keys::from_secret(b"one");
        let stored = keys.encrypt_password("s3cret-pw");
        assert!(!stored.windows(9).any(|w| w == b"s3cret-pw"));
        assert_eq!(keys.decrypt_password(&stored).unwrap(), "s3cret-pw");
        assert_ne!(
            stored,
            keys.encrypt_password("s3cret-pw"),
            "nonces must differ"
        );
    }

    #[test]
    fn another_key_cannot_decrypt() {
        let stored = Keys::from_secret(b"one").encrypt_password("pw");
        assert!(Keys::from_secret(b"two").decrypt_password(&stored).is_err());
        assert!(
            Keys::from_secret(b"one")
                .decrypt_password(&stored[..5])
                .is_err()
        );
    }

    #[test]
    fn password_hashes_verify() {
        let h = hash_password("right");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("right", Some(&h)));
        assert!(!verify_password("wrong", Some(&h)));
        assert!(!verify_password("right", None));
    }
}
