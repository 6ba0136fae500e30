//! Gonghui (智慧工会): the platform on which a municipal trade-union
//! federation and every union under it does and records its work.
//!
//! This crate is the top of the workspace: the CLI, the module registry
//! (`modules`), the demo federation and the demo-seeded test environments.
//! The platform and every business module are crates of their own (see
//! ARCHITECTURE.md); they are re-exported here for the binary's tests and
//! benchmarks.

pub mod bench_setup;
pub mod cli;
pub mod demo;
pub mod modules;
pub mod testing;

pub use {
    benefits, hardship, ident, members, mutual_aid, numfmt, orgs, platform, reports, sheet,
    stations, summary,
};
