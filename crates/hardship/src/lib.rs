//! 困难职工帮扶: hardship files (困难职工档案, one per household), campaigns
//! (送温暖, 金秋助学, 夏送清凉, 春送岗位, 日常救助 …) with budgets handed down
//! the tree, and disbursements through the review chain — nobody helped
//! twice in one campaign, no union above its allocation, amounts within the
//! standard unless an approved exception says why.

mod approval_docx;
pub mod demo;
mod demo_visits;
pub mod file_pages;
pub mod files;
pub mod grants;
pub mod http;
mod i18n;
pub mod indicators;
pub mod jobs;
pub mod model;
pub mod purge;
pub mod visits;
mod visits_http;

use std::sync::Arc;

use platform::{
    attachments::AttachmentOwner,
    module::{Migration, Module, OrgHold},
};

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "hardship",
        sql: include_str!("../migrations/0001_hardship.sql"),
    },
    Migration {
        version: 2,
        name: "visits_jobs",
        sql: include_str!("../migrations/0002_visits_jobs.sql"),
    },
    Migration {
        version: 3,
        name: "hardship_rules",
        sql: include_str!("../migrations/0003_hardship_rules.sql"),
    },
];

pub fn module() -> Module {
    Module {
        nav: Some(("nav.hardship", "/hardship")),
        migrations: MIGRATIONS,
        i18n: i18n::CATALOG,
        routes: http::routes,
        indicators: all_indicators,
        summary: all_paragraphs,
        yearly_return: indicators::yearly_return,
        seed_demo: Some(|st| Box::pin(demo::seed(st))),
        on_start: |st| {
            // A batch written but never submitted (the process died in
            // between) holds its people and its amount: let them go.
            let db = st.db.clone();
            tokio::spawn(async move {
                match grants::sweep_drafts(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(n, "hardship: removed unsubmitted batches"),
                    Err(e) => tracing::error!(error = %e, "hardship: draft sweep failed"),
                }
            });
            // Closed files past their keeping period lose their personal data.
            purge::spawn_daily(st);
        },
        cli: purge::COMMANDS,
        org_holds: &[OrgHold {
            count_sql: "SELECT COUNT(*) FROM hardship_files WHERE org_id = $1 AND status <> 'closed' AND status <> 'rejected'",
            zh: "该组织还有{n}份未关闭的困难职工档案,请先办理解困脱困或移交",
            en: "This org still has {n} open hardship files; close or hand them over first",
        }],
        review_kinds: files::review_kinds,
        // 困难职工 as other modules serve them (a merchant's offer for them):
        // the heads of households with a confirmed, open file.
        person_groups: &[platform::person::PersonGroup {
            key: "hardship",
            zh: "困难职工(在档)",
            en: "Workers with an open hardship file",
            id_hashes: "SELECT f.id_hash AS id_hash, o.path AS org_path FROM hardship_files f \
                        JOIN orgs o ON o.id = f.org_id WHERE f.status = 'open'",
        }],
        attachment_owners: || {
            vec![
                Arc::new(files::FileAttachments) as Arc<dyn AttachmentOwner>,
                Arc::new(grants::BatchAttachments) as Arc<dyn AttachmentOwner>,
            ]
        },
        ..Module::new("hardship")
    }
}

/// The module's indicators: files and grants, visits (走访慰问), job fairs.
pub fn all_indicators() -> Vec<platform::indicator::Indicator> {
    let mut out = indicators::indicators();
    out.extend(visits::indicators());
    out.extend(jobs::indicators());
    out
}

/// The module's summary paragraphs, in that order.
pub fn all_paragraphs() -> Vec<platform::summary::Paragraph> {
    let mut out = indicators::summary();
    out.extend(visits::summary());
    out.extend(jobs::summary());
    out
}
