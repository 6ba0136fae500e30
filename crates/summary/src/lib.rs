//! 工作综述: the annual work summary, written from the records. Every module
//! declares its paragraphs (`platform::summary::Paragraph`); this crate
//! writes them for an org subtree and a year, saves the result as a draft
//! people edit in the browser with the figures kept bound to their
//! indicators, sends it up the review chain, freezes the final version, and
//! puts it out as a page, Markdown, HTML and .docx.

pub mod cli;
mod demo;
pub mod draft;
pub mod http;
pub mod output;
pub mod render;

use std::sync::Arc;

use platform::{
    module::{Migration, Module},
    review::ReviewKind,
};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "summary",
    sql: include_str!("../migrations/0001_summary.sql"),
}];

pub fn module() -> Module {
    Module {
        migrations: MIGRATIONS,
        routes: http::routes,
        cli: cli::COMMANDS,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        review_kinds: || vec![Arc::new(draft::DraftReview) as Arc<dyn ReviewKind>],
        ..Module::new("summary")
    }
}
