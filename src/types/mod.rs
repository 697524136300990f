//! Types that are valid once built: handlers parse input into these and never re-check.

pub mod event;
pub mod id;
pub mod paging;
pub mod role;
pub mod schema;
pub mod serde_helpers;
pub mod status;
pub mod target;

pub use event::{EventType, Severity};
pub use id::parse_id;
pub use paging::{Page, PageInfo, Paged};
pub use role::Role;
pub use status::{ExecutionStatus, ExpectedStatus};

/// Reads and binds an enum stored in a text column as the enum itself, through its `as_str` and
/// `FromStr` (so a value the column's CHECK constraint would refuse cannot be built). Typed as
/// `text`, so no per-connection type lookup is needed.
macro_rules! text_type {
    ($t:ty) => {
        impl sqlx::Type<sqlx::Postgres> for $t {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl sqlx::Decode<'_, sqlx::Postgres> for $t {
            fn decode(
                value: sqlx::postgres::PgValueRef<'_>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                Ok(text.parse::<$t>()?)
            }
        }

        impl sqlx::postgres::PgHasArrayType for $t {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
        }
    };
}
use text_type;
