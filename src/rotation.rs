//! `maskd rotate-secret`: re-encrypts every stored connector password from the old secret key to
//! the new one. Each row changes in one conditional statement, so a password set meanwhile through
//! an instance is never overwritten, and a row already under the new key is left alone: running it
//! again after a success changes nothing.

use crate::config::Secret;
use crate::crypto::Keys;
use crate::db::Db;
use crate::store::{connectors, settings};

/// What a rotation did: connectors counted by outcome.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Re-encrypted from the old key to the new one.
    pub re_encrypted: usize,
    /// Already under the new key (a previous run, or set through an instance on the new key).
    pub already_new: usize,
    pub without_password: usize,
    /// Ids of the connectors whose password neither key decrypts: left as they are.
    pub undecryptable: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(
        "set MASKD_SECRET_KEY to the new key (and MASKD_OLD_SECRET_KEY to the old one, or leave it unset if the instances ran without MASKD_SECRET_KEY)"
    )]
    NoNewKey,
    #[error(
        "MASKD_OLD_SECRET_KEY is unset, which means the key maskd generated in its database, but there is none: set MASKD_OLD_SECRET_KEY to the MASKD_SECRET_KEY the instances ran with"
    )]
    NoGeneratedKey,
    #[error("the old and the new key are the same: there is nothing to rotate")]
    SameKey,
    #[error("maskd's database refused a statement: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The old key's secret: `MASKD_OLD_SECRET_KEY`, or the generated one stored in the database.
async fn old_secret(pool: &Db, old: Option<&Secret>) -> Result<Vec<u8>, RotationError> {
    match old {
        Some(s) => Ok(s.expose().as_bytes().to_vec()),
        None => settings::stored_generated_secret(pool)
            .await?
            .ok_or(RotationError::NoGeneratedKey),
    }
}

/// Re-encrypts every connector password from `old` (None: the generated key) to `new`.
pub async fn rotate(
    pool: &Db,
    old: Option<&Secret>,
    new: &Secret,
) -> Result<Outcome, RotationError> {
    let new = new.expose().as_bytes();
    let old = old_secret(pool, old).await?;
    if old == new {
        return Err(RotationError::SameKey);
    }
    let (old, new) = (Keys::from_secret(&old), Keys::from_secret(new));
    let mut outcome = Outcome::default();
    for (id, mut stored) in connectors::stored_passwords(pool).await? {
        loop {
            let Some(current) = stored else {
                outcome.without_password += 1;
                break;
            };
            // AES-GCM authenticates: only the key that encrypted a password decrypts it.
            if new.decrypt_password(&current).is_ok() {
                outcome.already_new += 1;
                break;
            }
            let Ok(password) = old.decrypt_password(&current) else {
                outcome.undecryptable.push(id);
                break;
            };
            let replacement = new.encrypt_password(&password);
            if connectors::replace_password(pool, id, &current, &replacement).await? {
                outcome.re_encrypted += 1;
                break;
            }
            // Its password was set (or the connector deleted) since it was read: look again.
            match connectors::stored_password(pool, id).await? {
                Some(now) => stored = now,
                None => break,
            }
        }
    }
    Ok(outcome)
}

/// Connections to this database from other maskd processes (instances, or other commands).
pub async fn other_maskd_connections(pool: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'maskd' AND pid <> pg_backend_pid()",
    )
    .fetch_one(pool)
    .await
}
