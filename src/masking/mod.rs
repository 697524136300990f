//! Masking: the algorithm library, the built-in domains (kinds of sensitive data), and access to
//! target databases: connections, tables and the SQL objects in their way.

pub mod address;
pub mod algorithms;
pub mod copy_table;
pub mod copy_text;
pub mod domains;
pub mod profiling;
pub mod sql_objects;
pub mod table_sql;
pub mod target;
pub mod where_clause;
