//! SQL for maskd's own database: one function per statement. Every state change is one conditional
//! statement; `executions` holds the execution state machine.

pub mod applications;
pub mod chunks;
pub mod commits;
pub mod components;
pub mod connectors;
pub mod environments;
pub mod events;
pub mod executions;
pub mod jobs;
pub mod login_failures;
pub mod profile_jobs;
pub mod profiling;
pub mod rulesets;
pub mod settings;
pub mod sql_objects;
pub mod table_metadata;
pub mod tokens;
pub mod users;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, Postgres, QueryBuilder};

use crate::db::Db;
use crate::types::Page;

/// A resource stored in one table with a bigint id, listed and read the same way.
pub trait Resource: for<'r> FromRow<'r, PgRow> + Send + Unpin {
    /// Its name in messages, e.g. "database connector".
    const NOUN: &'static str;
    const TABLE: &'static str;
    const ID: &'static str;
    /// The select list (never a secret column).
    const COLUMNS: &'static str;
}

/// A list filter on one of the resource's own columns (the column name comes from code).
pub enum Filter {
    Int(&'static str, i64),
    Text(&'static str, String),
    Bool(&'static str, bool),
    /// `column IN (<subquery ending in "= "> value)`, for filters through a parent's parent.
    IntIn(&'static str, &'static str, i64),
    /// `EXISTS (<subquery>) = value`, for a flag derived from children.
    Exists(&'static str, bool),
}

fn push_filters(q: &mut QueryBuilder<'_, Postgres>, filters: &[Filter]) {
    for (i, f) in filters.iter().enumerate() {
        q.push(if i == 0 { " WHERE " } else { " AND " });
        match f {
            Filter::Int(col, v) => {
                q.push(*col).push(" = ").push_bind(*v);
            }
            Filter::Text(col, v) => {
                q.push(*col).push(" = ").push_bind(v.clone());
            }
            Filter::Bool(col, v) => {
                q.push(*col).push(" = ").push_bind(*v);
            }
            Filter::Exists(subquery, v) => {
                q.push("EXISTS (")
                    .push(*subquery)
                    .push(") = ")
                    .push_bind(*v);
            }
            Filter::IntIn(col, subquery, v) => {
                q.push(*col)
                    .push(" IN (")
                    .push(*subquery)
                    .push_bind(*v)
                    .push(")");
            }
        }
    }
}

pub async fn count<T: Resource>(pool: &Db, filters: &[Filter]) -> Result<i64, sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT count(*) FROM {}", T::TABLE));
    push_filters(&mut q, filters);
    q.build_query_scalar().fetch_one(pool).await
}

pub async fn list<T: Resource>(
    pool: &Db,
    filters: &[Filter],
    page: Page,
) -> Result<Vec<T>, sqlx::Error> {
    let mut q = QueryBuilder::new(format!("SELECT {} FROM {}", T::COLUMNS, T::TABLE));
    push_filters(&mut q, filters);
    q.push(format!(" ORDER BY {} LIMIT ", T::ID))
        .push_bind(page.size)
        .push(" OFFSET ")
        .push_bind(page.offset());
    q.build_query_as().fetch_all(pool).await
}

pub async fn get<T: Resource>(pool: &Db, id: i64) -> Result<Option<T>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = $1",
        T::COLUMNS,
        T::TABLE,
        T::ID
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
}

/// Deletes one row; false when it did not exist. Rows that still reference it make PostgreSQL
/// refuse (foreign keys are RESTRICT), which the API answers with 409.
pub async fn delete<T: Resource>(pool: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let sql = format!("DELETE FROM {} WHERE {} = $1", T::TABLE, T::ID);
    Ok(sqlx::query(&sql)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
        == 1)
}
