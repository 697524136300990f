use sqlx::PgPool;

/// Stores `candidate` as the generated secret unless one exists, and returns the stored one:
/// instances starting together all end up with the same secret.
pub async fn generated_secret(pool: &PgPool, candidate: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO settings (name, value) VALUES ('generated_secret_key', $1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
         RETURNING value",
    )
    .bind(candidate)
    .fetch_one(pool)
    .await
}
