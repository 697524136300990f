use sqlx::PgExecutor;

use crate::db::Db;

/// Stores `candidate` as the generated secret unless one exists, and returns the stored one:
/// instances starting together all end up with the same secret.
pub async fn generated_secret(pool: &Db, candidate: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO settings (name, value) VALUES ('generated_secret_key', $1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
         RETURNING value",
    )
    .bind(candidate)
    .fetch_one(pool)
    .await
}

/// The secret generated at the first start without `MASKD_SECRET_KEY`, if one was.
pub async fn stored_generated_secret(
    db: impl PgExecutor<'_>,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM settings WHERE name = 'generated_secret_key'")
        .fetch_optional(db)
        .await
}
