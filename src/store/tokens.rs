use std::time::Duration;

use crate::db::Db;
use crate::types::Role;

#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
}

pub async fn create(pool: &Db, token_hash: &[u8], user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO login_tokens (token_hash, user_id) VALUES ($1, $2)")
        .bind(token_hash)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The user behind a token that has not been idle longer than `ttl`, marking it used now.
pub async fn touch(
    pool: &Db,
    token_hash: &[u8],
    ttl: Duration,
) -> Result<Option<TokenUser>, sqlx::Error> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        "UPDATE login_tokens t SET last_used_time = now()
           FROM users u
          WHERE t.token_hash = $1 AND u.user_id = t.user_id
            AND t.last_used_time > now() - make_interval(secs => $2)
         RETURNING u.user_id, u.username, u.role",
    )
    .bind(token_hash)
    .bind(ttl.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(user_id, username, role)| {
        Some(TokenUser {
            user_id,
            username,
            role: role.parse().ok()?,
        })
    }))
}

pub async fn delete(pool: &Db, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM login_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_expired(pool: &Db, ttl: Duration) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM login_tokens WHERE last_used_time <= now() - make_interval(secs => $1)",
    )
    .bind(ttl.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
