//! The fault suite: three `maskd serve` processes (the real binary) on one PostgreSQL, under a
//! steady load of submits, cancels (with and without `expectedStatus`) and masking runs, with one
//! fault injected per scenario: SIGKILL of an instance, a PostgreSQL restart, every maskd
//! connection terminated, maskd's pool exhausted by blocked statements. After each, `verdict`
//! checks that no execution was lost, stuck or run twice, that every cancel answered 200 was
//! honoured, that every SQL object was restored or reported, that across a job's runs every row
//! was masked exactly once (a re-run after a FAILED or CANCELLED run goes on where it stopped), and
//! that the instances serve and run executions again without a restart. Every table is split into
//! chunks, so every run's chunks are claimed by workers across the fleet.
//!
//! Each scenario runs on a PostgreSQL cluster of its own (see `cluster`), so that restarting it
//! disturbs no other test; scenarios run one at a time. Instance logs are kept in
//! `target/tmp/faults/<scenario>/`.
//!
//! This is the `faults` test target; it shares `common/` with the `api` target.

#[allow(dead_code, unused_imports)]
// this target uses `common::maskd_serve` only; the rest serves `api`
mod common;

mod faults {
    mod cluster;
    mod fleet;
    mod load;
    mod scenarios;
    mod verdict;
}
