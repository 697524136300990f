//! What a failed SQL statement means: SQLSTATEs by name, and one description of a `sqlx::Error`
//! in words, for events, logs and error answers (never the statement itself).

/// The SQLSTATEs maskd tells apart (PostgreSQL's Appendix A names).
pub mod sqlstate {
    pub const NUMERIC_VALUE_OUT_OF_RANGE: &str = "22003";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const CHECK_VIOLATION: &str = "23514";
    pub const READ_ONLY_SQL_TRANSACTION: &str = "25006";
    pub const UNDEFINED_OBJECT: &str = "42704";
    pub const DUPLICATE_OBJECT: &str = "42710";
    pub const DUPLICATE_DATABASE: &str = "42P04";
    pub const DUPLICATE_TABLE: &str = "42P07";
    pub const QUERY_CANCELED: &str = "57014";
    pub const ADMIN_SHUTDOWN: &str = "57P01";
    pub const CRASH_SHUTDOWN: &str = "57P02";
    pub const CANNOT_CONNECT_NOW: &str = "57P03";
}

/// The SQLSTATE of an error the database answered; None for any other failure.
pub fn code(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether the database answered this error with `sqlstate`.
pub fn is(e: &sqlx::Error, sqlstate: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some(sqlstate))
}

/// The failure in words, without internals: the database's own message, or what broke.
pub fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => format!("the connection failed: {io}"),
        sqlx::Error::Tls(_) => "TLS negotiation failed".to_owned(),
        sqlx::Error::PoolTimedOut => "no connection was free in time".to_owned(),
        sqlx::Error::Protocol(p) => format!("the connection broke: {p}"),
        other => other.to_string(),
    }
}
