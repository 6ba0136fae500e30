//! Purging closed files after their keeping period (《困难职工档案管理办法》:
//! a closed file is kept read-only for [`KEEP_YEARS`] years from its closing
//! date). After that the file's personal data goes: the household members,
//! the objections raised on notice, the re-checks' notes, the bank account,
//! the attachments (deleted through `platform::attachments`, so the orphan
//! collector removes their blobs) and the head's name and keyed ID hash.
//! What the statistics read stays, anonymised: org, category, causes,
//! household size, the dates (filed, confirmed, closed) and the closing
//! reason and measure — so past years' figures do not change. A purged file
//! is absent to every page and API (404) and out of the list.
//!
//! Run at server start and then daily (`lib.rs`, `on_start`), and by
//! `gonghui hardship purge [--dry-run]`. Each file is purged in its own
//! transaction with its audit entry (counts, never names); its attachments
//! are deleted just before, each audited by the platform. A purge stopped
//! half-way leaves whole files purged or not, and the next run continues.

use chrono::{Months, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use crate::files::KEEP_YEARS;
use platform::{
    audit::{self, Event},
    error::AppResult,
    ids::OrgId,
    scope::Actor,
    time, tree,
    web::AppState,
};

/// What a purge did (or, dry, would do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    pub files: u64,
    pub members: u64,
    pub objections: u64,
    pub attachments: u64,
    /// Person references erased with their last file.
    pub persons: u64,
    pub dry_run: bool,
}

/// The last closing date still kept on `today`: files closed before the
/// day [`KEEP_YEARS`] years ago are due.
pub fn cutoff(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(12 * KEEP_YEARS as u32))
        .unwrap_or(NaiveDate::MIN)
}

/// Purges every closed file kept past its period on `today` (or counts
/// what would go, writing nothing, when `dry_run`).
pub async fn purge(st: &AppState, today: NaiveDate, dry_run: bool) -> AppResult<PurgeReport> {
    let db = &st.db;
    let before = cutoff(today).to_string();
    let due: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, org_id FROM hardship_files WHERE status = 'closed' AND purged_on IS NULL \
         AND closed_on IS NOT NULL AND closed_on < $1 ORDER BY id",
    )
    .bind(&before)
    .fetch_all(db.pool())
    .await?;
    let mut report = PurgeReport {
        dry_run,
        ..PurgeReport::default()
    };
    if due.is_empty() {
        return Ok(report);
    }
    let mut scope = tree::system_scope(db)
        .await
        .map_err(platform::error::AppError::Internal)?;
    scope.actor = Actor::system("hardship.purge");
    for (id, org) in due {
        let n = |sql: &'static str| {
            let pool = db.pool().clone();
            async move {
                sqlx::query_scalar::<_, i64>(sql)
                    .bind(id)
                    .fetch_one(&pool)
                    .await
            }
        };
        let members = n("SELECT COUNT(*) FROM hardship_members WHERE file_id = $1").await?;
        let objections = n("SELECT COUNT(*) FROM hardship_objections WHERE file_id = $1").await?;
        let attachments: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM attachments WHERE owner_kind = 'hardship_file' AND owner_id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_all(db.pool())
        .await?;
        report.files += 1;
        report.members += members as u64;
        report.objections += objections as u64;
        report.attachments += attachments.len() as u64;
        if dry_run {
            continue;
        }
        for a in &attachments {
            match platform::attachments::delete(st, &scope, *a).await {
                // Deleted meanwhile by someone else: gone either way.
                Ok(()) | Err(platform::error::AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let mut tx = db.begin_write().await?;
        let done = sqlx::query(
            "UPDATE hardship_files SET head_name = '', id_hash = 'purged:' || CAST(id AS TEXT), \
             override_reason = '', income_fen = 0, per_capita_fen = 0, housing = '', employer_status = '', \
             zero_employment = 0, single_parent = 0, bank_name = '', bank_account_enc = NULL, \
             bank_account_masked = '', purged_on = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'closed' AND purged_on IS NULL",
        )
        .bind(today.to_string())
        .bind(time::now_rfc3339())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if done != 1 {
            continue;
        }
        for sql in [
            "DELETE FROM hardship_members WHERE file_id = $1",
            "DELETE FROM hardship_objections WHERE file_id = $1",
            "UPDATE hardship_checks SET note = '' WHERE file_id = $1",
            // The household members met on visits: names too. The visit's
            // count (persons met) stays in the figures through its row.
            "UPDATE hardship_visits SET persons_met = '' WHERE file_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx.tx).await?;
        }
        // The head's person reference goes too when nothing else needs it
        // (another open file, a visit, another module's record).
        let head: i64 =
            sqlx::query_scalar("SELECT person_ref_id FROM hardship_files WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx.tx)
                .await?;
        let erased = platform::person::erase_if_unused(
            &mut tx.tx,
            platform::person::PersonRefId(head),
            "hardship_files",
            "purged_on IS NOT NULL",
        )
        .await?;
        if erased {
            report.persons += 1;
        }
        platform::dataver::touch(&mut tx.tx, [org]).await?;
        audit::append(
            &mut tx,
            &scope.actor,
            Event::new("hardship.file_purge", "hardship_file", id)
                .org(OrgId(org))
                .detail(serde_json::json!({
                    "members": members, "objections": objections,
                    "attachments": attachments.len(), "closed_before": before,
                    "person_erased": erased,
                })),
        )
        .await?;
        tx.commit().await?;
    }
    if !dry_run {
        audit::record(
            db,
            &scope.actor,
            Event::new("hardship.purge", "org", scope.org_id)
                .org(scope.org_id)
                .detail(serde_json::json!({
                    "files": report.files, "members": report.members,
                    "objections": report.objections, "attachments": report.attachments,
                    "persons": report.persons,
                    "closed_before": before,
                })),
        )
        .await?;
    }
    Ok(report)
}

/// Whether a file was purged (it then answers as absent).
pub(crate) fn is_purged(r: &sqlx::any::AnyRow) -> bool {
    r.try_get::<Option<String>, _>("purged_on")
        .ok()
        .flatten()
        .is_some()
}

/// Purges at start, then once a day, in the background.
pub fn spawn_daily(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move {
        loop {
            match purge(&st, time::today(), false).await {
                Ok(r) if r.files > 0 => tracing::info!(
                    files = r.files,
                    attachments = r.attachments,
                    "hardship: purged closed files past their keeping period"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "hardship: purge failed"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        }
    });
}

// ───────────────────────────── CLI ─────────────────────────────

pub const COMMANDS: &[platform::module::CliCommand] = &[platform::module::CliCommand {
    verb: "hardship",
    command: || {
        clap::Command::new("purge")
            .about("Purge the personal data of hardship files closed more than 10 years ago")
            .arg(
                clap::Arg::new("dry-run")
                    .long("dry-run")
                    .action(clap::ArgAction::SetTrue)
                    .help("Count what would be purged; write nothing"),
            )
    },
    run: run_purge,
}];

fn run_purge<'a>(
    st: &'a AppState,
    m: &'a clap::ArgMatches,
) -> platform::module::BoxFuture<'a, anyhow::Result<std::process::ExitCode>> {
    Box::pin(async move {
        let dry = m.get_flag("dry-run");
        let r = purge(st, time::today(), dry)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.user_message()))?;
        println!(
            "{}档案{}份,家庭成员{}人,异议{}条,附件{}个(关闭早于{}) / {} {} files, {} household members, {} objections, {} attachments (closed before {})",
            if dry { "将清除" } else { "已清除" },
            r.files,
            r.members,
            r.objections,
            r.attachments,
            cutoff(time::today()),
            if dry { "would purge" } else { "purged" },
            r.files,
            r.members,
            r.objections,
            r.attachments,
            cutoff(time::today()),
        );
        Ok(std::process::ExitCode::SUCCESS)
    })
}
