//! The integration tests: one binary (one link, one process, one demo
//! template per backend), each module a file. They drive the real server on
//! port 0 over HTTP (`crate::common::Client`) and the real database: SQLite by
//! default, PostgreSQL when `GONGHUI_TEST_DATABASE_URL` is set.

mod catalogue;
mod common;
mod join_and_cards;
mod kit;
mod matrix;
mod members;
mod platform;
mod reports;
mod sqlite_bulk;
mod upgrade;
mod workspace;
