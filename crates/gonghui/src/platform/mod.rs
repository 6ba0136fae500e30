//! Cross-cutting parts every module stands on.

pub mod audit;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod dataver;
pub mod db;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod jobs;
pub mod scope;
pub mod sheet;
pub mod sqlx_util;
pub mod testing;
pub mod time;
pub mod web;

use std::sync::Arc;

/// Opens everything a command needs: config → database (migrated) → keys.
pub async fn open(cfg: config::Config) -> anyhow::Result<web::AppState> {
    let db = db::Db::open(
        &cfg.data_dir,
        cfg.database_url.as_ref().map(|s| s.expose().as_str()),
    )
    .await?;
    let keys = crypto::Keys::load(
        &cfg.data_dir,
        cfg.master_key.as_ref().map(|s| s.expose().as_str()),
    )?;
    Ok(web::AppState {
        db,
        cfg: Arc::new(cfg),
        keys: Arc::new(keys),
        jobs: Default::default(),
    })
}
