//! Types that are valid once built: handlers parse input into these and never re-check.

pub mod id;
pub mod paging;
pub mod role;
pub mod schema;
pub mod serde_helpers;
pub mod status;
pub mod target;

pub use id::parse_id;
pub use paging::{Page, PageInfo, Paged};
pub use role::Role;
pub use status::{ExecutionStatus, ExpectedStatus};
