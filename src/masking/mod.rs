//! Masking: the algorithm library, the built-in domains, and access to target databases.

pub mod algorithms;
pub mod domains;
pub mod runner;
pub mod target;
