//! 组织: the org tree — 市总工会 → 县(区)总工会/产业工会 → 乡镇(街道)/联合工会 → 基层工会.
//!
//! The `orgs` and `org_history` tables are created by the platform's first
//! migration (accounts and scopes reference them); this crate owns their
//! rules, pages, API and figures.

mod cli;
pub mod demo;
pub mod http;
mod i18n;
pub mod indicators;
pub mod model;
pub mod store;
pub mod survey;
pub mod workforce;

const MIGRATIONS: &[platform::module::Migration] = &[platform::module::Migration {
    version: 1,
    name: "workforce",
    sql: include_str!("../migrations/0001_workforce.sql"),
}];

pub fn module() -> platform::module::Module {
    platform::module::Module {
        nav: Some(("nav.orgs", "/orgs")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        cli: cli::COMMANDS,
        yearly_return: survey::contribution,
        routes: http::routes,
        indicators: indicators::indicators,
        summary: indicators::summary,
        seed_demo: Some(|st| {
            Box::pin(async move { demo::seed_orgs_and_accounts(st).await.map(|_| ()) })
        }),
        ..platform::module::Module::new("orgs")
    }
}
