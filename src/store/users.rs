use crate::db::Db;
use crate::types::Role;

pub struct Credentials {
    pub user_id: i64,
    pub password_hash: String,
}

/// Creates a user; false when the name is taken.
pub async fn create(
    pool: &Db,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Creates user `admin` only when no user exists at all (one statement, so two instances
/// bootstrapping at once create it once).
pub async fn bootstrap_admin(pool: &Db, password_hash: &str) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, role)
         SELECT 'admin', $1, 'ADMIN' WHERE NOT EXISTS (SELECT 1 FROM users)
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(password_hash)
    .execute(pool)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn credentials(pool: &Db, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT user_id, password_hash FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(user_id, password_hash)| Credentials {
        user_id,
        password_hash,
    }))
}
