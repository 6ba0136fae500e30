//! The integration tests: one binary (one link, one process, one demo
//! template per backend), each module a file. They drive the real server on
//! port 0 over HTTP (`crate::common::Client`) and the real database: SQLite by
//! default, PostgreSQL when `GONGHUI_TEST_DATABASE_URL` is set.

mod accounts;
mod benefits;
mod catalogue;
mod common;
mod hardening;
mod hardship;
mod hardship_files;
mod hardship_visits;
mod import_chunks;
mod join_and_cards;
mod join_limits;
mod join_otp;
mod kit;
mod masking;
mod matrix;
mod members;
mod mutual_aid;
mod mutual_aid_pages;
mod person;
mod platform;
mod reports;
mod sqlite_bulk;
mod stations;
mod summary;
mod untrusted_files;
mod upgrade;
mod workspace;
mod yearly;
