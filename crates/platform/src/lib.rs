//! The platform every Gonghui module stands on: configuration, storage and
//! the migration runner, per-org data versions, errors, the i18n mechanism,
//! typed ids, time, crypto, the audit log, accounts and sessions, scope, jobs,
//! attachments (files on a module's records), person references (a roster
//! member or a non-member worker, sealed), the web shell, the `Module`
//! contract, the indicator vocabulary and the shared review chain (审批流).
//!
//! It knows no business module: modules are handed to it as a
//! [`module::Registry`] by the binary.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod dataver;
pub mod db;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod indicator;
pub mod instance;
pub mod jobs;
pub mod module;
pub mod money;
pub mod person;
pub mod review;
pub mod scope;
pub mod sms;
pub mod sqlx_util;
pub mod summary;
pub mod survey;
pub mod testing;
pub mod time;
pub mod tree;
pub mod web;

use std::sync::Arc;

/// Opens everything a command needs: config → database (the platform's and
/// every module's migrations) → keys.
pub async fn open(
    cfg: config::Config,
    registry: Arc<module::Registry>,
) -> anyhow::Result<web::AppState> {
    let mut db = db::Db::open(
        &cfg.data_dir,
        cfg.database_url.as_ref().map(|s| s.expose().as_str()),
        &registry.migrations(),
    )
    .await?;
    db.set_catalogue(registry.indicators());
    let keys = crypto::Keys::load(
        &cfg.data_dir,
        cfg.master_key.as_ref().map(|s| s.expose().as_str()),
    )?;
    // Before anything appends: a chain of the plain SHA-256 era is verified
    // and re-keyed (or the start is refused if it is already broken).
    std::fs::create_dir_all(&cfg.data_dir)?;
    audit::upgrade_chain(&db, &keys, Some(&cfg.data_dir.join(audit::KEYED_MARKER))).await?;
    db.migrate_keyed(&keys, &registry.keyed_migrations())
        .await?;
    let attachments = Arc::new(attachments::Attachments::local(&cfg)?);
    Ok(web::AppState {
        instance: Default::default(),
        db,
        attachments,
        cfg: Arc::new(cfg),
        keys: Arc::new(keys),
        jobs: Default::default(),
        registry,
        sms: Arc::new(sms::LogSender::default()),
    })
}
