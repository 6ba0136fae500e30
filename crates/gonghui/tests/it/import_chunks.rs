//! The roster import on SQLite commits in chunks (issue 9, item 6): sign-ins
//! get in while it runs, a killed or failed import leaves the chunks it
//! committed — a consistent roster, a job marked partial, every index — and
//! importing the same file again finishes it. On PostgreSQL the import stays
//! one transaction (it never held a writer lock that sign-ins wait for): the
//! same tests check that there.

use std::{path::PathBuf, sync::atomic::Ordering, time::Duration};

use crate::common::Client;
use gonghui::{
    members::{
        import::{self, Report},
        sqlite_bulk,
    },
    platform::{self, jobs::Progress, scope::Scope, web::AppState},
    testing,
};
use reqwest::StatusCode;
use serde_json::Value;

fn is_sqlite(st: &AppState) -> bool {
    st.db.sqlite_file().is_some()
}

async fn city_scope(st: &AppState) -> Scope {
    platform::tree::system_scope(&st.db).await.unwrap()
}

fn roster(dir: &std::path::Path, name: &str, rows: u64, seed: u64) -> PathBuf {
    let path = dir.join(name);
    gonghui::members::gen::write_file(&path, rows, seed, gonghui::demo::grassroots_codes())
        .unwrap();
    path
}

fn options() -> import::Options {
    import::Options {
        org_code: None,
        all_or_nothing: false,
        file_name: "chunks.csv".into(),
    }
}

async fn import_file(st: &AppState, path: PathBuf) -> platform::error::AppResult<Report> {
    let scope = city_scope(st).await;
    let opts = options();
    let job = import::create_job(st, &scope, &opts).await?;
    import::run(st, &scope, job, path, &opts, st.jobs.start(job)).await
}

async fn count(st: &AppState, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(st.db.pool())
        .await
        .unwrap()
}

/// (persons, memberships, 会籍变化 events).
async fn roster_counts(st: &AppState) -> (i64, i64, i64) {
    (
        count(st, "SELECT COUNT(*) FROM persons").await,
        count(st, "SELECT COUNT(*) FROM memberships").await,
        count(st, "SELECT COUNT(*) FROM membership_events").await,
    )
}

/// (persons without a membership, memberships without a 会籍变化 event).
async fn orphans(st: &AppState) -> (i64, i64) {
    (
        count(
            st,
            "SELECT COUNT(*) FROM persons p WHERE NOT EXISTS \
             (SELECT 1 FROM memberships m WHERE m.person_id = p.id)",
        )
        .await,
        count(
            st,
            "SELECT COUNT(*) FROM memberships m WHERE NOT EXISTS \
             (SELECT 1 FROM membership_events e WHERE e.membership_id = m.id)",
        )
        .await,
    )
}

/// Index name → CREATE statement (SQLite).
async fn indexes(st: &AppState) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(st.db.pool())
    .await
    .unwrap()
}

/// The job row: (status, processed, new, updated, unchanged, rejected).
async fn job_row(st: &AppState, job: i64) -> (String, i64, i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT status, processed, new_count, updated_count, unchanged_count, rejected_count \
         FROM import_jobs WHERE id = $1",
    )
    .bind(job)
    .fetch_one(st.db.pool())
    .await
    .unwrap()
}

/// Starts an import in the background; returns the job, its progress and
/// the task.
async fn start_import(
    st: &AppState,
    path: PathBuf,
) -> (
    i64,
    std::sync::Arc<Progress>,
    tokio::task::JoinHandle<platform::error::AppResult<Report>>,
) {
    let scope = city_scope(st).await;
    let opts = options();
    let job = import::create_job(st, &scope, &opts).await.unwrap();
    let progress = st.jobs.start(job);
    let (st2, p2) = (st.clone(), progress.clone());
    let task = tokio::spawn(async move { import::run(&st2, &scope, job, path, &opts, p2).await });
    (job, progress, task)
}

/// Waits until the import has written (on SQLite: committed) at least
/// `rows` rows.
async fn wait_for_rows(st: &AppState, job: i64, progress: &Progress, rows: u64) {
    for _ in 0..1200 {
        let committed = if is_sqlite(st) {
            job_row(st, job).await.1 as u64
        } else {
            progress.processed.load(Ordering::Relaxed)
        };
        if committed >= rows {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the import never reached {rows} rows");
}

#[tokio::test]
async fn a_sign_in_completes_while_a_large_import_is_still_running() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let st = &server.env.state;
    // Small chunks with a pause between them: the import takes seconds,
    // and is mid-way whenever the sign-in happens.
    import::chunking(st).set(2_000, 200);
    import::chunking(st).set_pause(100);
    let rows = 40_000;
    let path = roster(&server.env.data_dir(), "big.csv", rows, 91);
    let (job, progress, task) = start_import(st, path).await;
    wait_for_rows(st, job, &progress, 4_000).await;
    let before = progress.processed.load(Ordering::Relaxed);

    // The real sign-in form: password check, session row, audit entry.
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, _) = c.text("/members").await;
    assert_eq!(s, StatusCode::OK);

    // Proof of overlap, not of timing: when the sign-in had finished, the
    // import had written rows before it, and had rows left after it.
    let after = progress.processed.load(Ordering::Relaxed);
    assert!(before > 0, "the import was under way before the sign-in");
    assert!(
        after < rows && !task.is_finished(),
        "the import was still running when the sign-in finished ({after} of {rows} rows)"
    );
    let (status, ..) = job_row(st, job).await;
    assert_eq!(status, "running");

    let r = task.await.unwrap().unwrap();
    assert!(r.committed);
    let c = &r.counts;
    assert_eq!(c.new + c.updated + c.unchanged + c.rejected, rows);
    let (status, processed, new, ..) = job_row(st, job).await;
    assert_eq!((status.as_str(), processed as u64), ("done", rows));
    assert_eq!(new as u64, r.counts.new);
}

#[tokio::test]
async fn one_transaction_made_a_sign_in_wait_for_the_whole_import() {
    // The behaviour before chunks (and all-or-nothing's today), for
    // contrast: the sign-in's write waits until the import has committed.
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let st = &server.env.state;
    if !is_sqlite(st) {
        return; // PostgreSQL has no single writer
    }
    import::chunking(st).set(0, 0);
    let rows = 20_000;
    let path = roster(&server.env.data_dir(), "big.csv", rows, 92);
    let (_, progress, task) = start_import(st, path).await;
    while progress.processed.load(Ordering::Relaxed) < 2_000 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _c = Client::signed_in(&server, "qinchuan_admin").await;
    assert_eq!(
        progress.processed.load(Ordering::Relaxed),
        rows,
        "the sign-in finished only after every row was written"
    );
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_killed_import_leaves_its_committed_chunks_and_a_partial_job() {
    let env = testing::demo_env().await.unwrap();
    let dir = env.data_dir();
    let url = env.database_url.clone();
    let sqlite = is_sqlite(&env.state);
    let before = roster_counts(&env.state).await;
    let orphans_before = orphans(&env.state).await;
    let index_before = if sqlite {
        indexes(&env.state).await
    } else {
        Vec::new()
    };
    env.state.db.close().await;
    // Above the size where the one-transaction writer defers indexes.
    let rows = gonghui::members::sqlite_bulk::DEFER_MIN_ROWS + 10_000;
    let csv = roster(&dir, "big.csv", rows, 93);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gonghui"));
    cmd.arg("--data-dir")
        .arg(&dir)
        .env("GONGHUI_MASTER_KEY", "42".repeat(32))
        .env("GONGHUI_LOG", "error")
        .env("GONGHUI_IMPORT_CHUNK_ROWS", "2000");
    if let Some(u) = &url {
        cmd.arg("--database-url").arg(u);
    }
    let mut child = cmd
        .args(["import", "members", csv.to_str().unwrap()])
        .spawn()
        .unwrap();
    let state = platform::open(
        platform::config::Config {
            data_dir: dir.clone(),
            database_url: url.clone().map(platform::config::Secret::new),
            master_key: Some(platform::config::Secret::new("42".repeat(32))),
            ..Default::default()
        },
        gonghui::modules::registry(),
    )
    .await
    .unwrap();
    let st = &state;
    let mut waited = 0;
    let job = loop {
        let job: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM import_jobs")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
        let ready = match job {
            Some(j) if sqlite => job_row(st, j).await.1 >= 6_000,
            Some(_) => true,
            None => false,
        };
        if ready {
            break job.unwrap();
        }
        waited += 1;
        assert!(waited < 1200, "import never got under way");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if !sqlite {
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (status, processed, new, updated, unchanged, rejected) = job_row(st, job).await;
    assert_eq!(status, "running", "killed before it finished");
    let after = roster_counts(st).await;
    if sqlite {
        assert!(
            processed > 0 && (processed as u64) < rows,
            "killed mid-way: {processed}"
        );
        assert_eq!(processed, new + updated + unchanged + rejected);
        // What the job row says was written is what is there: a membership
        // per new row, each with its 会籍变化 event, each person with a
        // membership.
        assert_eq!(after.1 - before.1, new, "memberships");
        assert!(after.0 - before.0 <= new && after.0 > before.0, "persons");
        assert!(after.2 - before.2 >= new, "events");
        assert_eq!(orphans(st).await, orphans_before);
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
        assert_eq!(ok, "ok");
        // The import dropped its random-key indexes for its length, and
        // noted them in the transaction that dropped them.
        let noted = count(
            st,
            "SELECT COUNT(*) FROM settings WHERE key LIKE 'import.deferred_index.%'",
        )
        .await;
        assert_eq!(noted as usize, index_before.len() - indexes(st).await.len());
        assert!(noted > 0, "a large import defers its indexes");
    } else {
        assert_eq!(after, before, "one transaction: nothing visible");
    }

    // On the next start (members' on_start) the indexes are rebuilt and the
    // job is marked for what it is.
    let rebuilt = sqlite_bulk::restore_pending_indexes(&st.db).await.unwrap();
    if sqlite {
        assert!(rebuilt > 0);
        assert_eq!(indexes(st).await, index_before, "every index is back");
    }
    assert_eq!(
        sqlite_bulk::restore_pending_indexes(&st.db).await.unwrap(),
        0
    );
    assert_eq!(import::recover_interrupted(st).await.unwrap(), 1);
    let (status, ..) = job_row(st, job).await;
    assert_eq!(status, if sqlite { "partial" } else { "failed" });

    // The same file again finishes it: the rows already applied come out
    // unchanged, the rest new; a third time changes nothing.
    let again = import_file(st, csv.clone()).await.unwrap();
    assert_eq!(again.counts.unchanged as i64, new + updated + unchanged);
    assert_eq!(again.counts.updated, 0);
    let done = roster_counts(st).await;
    assert_eq!(done.1 - before.1, new + again.counts.new as i64);
    assert_eq!(
        again.counts.new + again.counts.unchanged + again.counts.rejected,
        rows
    );
    let third = import_file(st, csv).await.unwrap();
    assert_eq!(third.counts.new + third.counts.updated, 0);
    assert_eq!(roster_counts(st).await, done);
    assert_eq!(orphans(st).await, orphans_before);
    if sqlite {
        assert_eq!(indexes(st).await, index_before, "rebuilt after each import");
    }
}

#[tokio::test]
async fn a_failed_import_is_partial_consistent_and_finished_by_a_reimport() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let st = &server.env.state;
    let sqlite = is_sqlite(st);
    import::chunking(st).set(2_000, 200);
    // Small enough to defer the indexes: they come back after a failure.
    import::chunking(st).set_defer_min_rows(5_000);
    let before = roster_counts(st).await;
    let orphans_before = orphans(st).await;
    let index_before = if sqlite {
        indexes(st).await
    } else {
        Vec::new()
    };
    // 10,000 good rows, then bytes that are not UTF-8: the reader stops
    // there, after the writer committed chunks of the rows before.
    let good = roster(&server.env.data_dir(), "good.csv", 10_000, 94);
    let mut bytes = std::fs::read(&good).unwrap();
    bytes.extend_from_slice(b"\xff\xfe\xff,\xff\r\n");
    let bad = server.env.data_dir().join("bad.csv");
    std::fs::write(&bad, bytes).unwrap();

    let scope = city_scope(st).await;
    let opts = options();
    let job = import::create_job(st, &scope, &opts).await.unwrap();
    let e = import::run(st, &scope, job, bad, &opts, st.jobs.start(job))
        .await
        .unwrap_err();
    let msg = e.user_message();
    assert!(!msg.zh.is_empty() && !msg.en.is_empty());
    let (status, processed, new, updated, unchanged, rejected) = job_row(st, job).await;
    let after = roster_counts(st).await;
    if sqlite {
        assert_eq!(status, "partial");
        assert!(processed >= 2_000, "chunks were committed: {processed}");
        assert_eq!(processed, new + updated + unchanged + rejected);
        assert_eq!(after.1 - before.1, new, "memberships as recorded");
        assert_eq!(orphans(st).await, orphans_before);
        assert_eq!(indexes(st).await, index_before, "rebuilt after the failure");
        let noted = count(
            st,
            "SELECT COUNT(*) FROM settings WHERE key LIKE 'import.deferred_index.%'",
        )
        .await;
        assert_eq!(noted, 0);
    } else {
        assert_eq!(status, "failed");
        assert_eq!(after, before, "one transaction: nothing written");
    }

    // The job page and the API say so, in both languages.
    let c = Client::signed_in(&server, "sf_admin").await;
    let (s, page) = c.text(&format!("/members/import/{job}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(&format!("data-status=\"{status}\"")),
        "{page}"
    );
    if sqlite {
        assert!(page.contains("部分导入"), "{page}");
        assert!(page.contains(&format!("{processed} / ")), "{page}");
    }
    let (_, v): (_, Value) = c.get_json(&format!("/api/v1/members/import/{job}")).await;
    assert_eq!(v["status"], status.as_str());
    assert_eq!(v["new_count"], new);

    // The fixed file finishes the job's rows: those written before are
    // unchanged.
    let r = import_file(st, good).await.unwrap();
    assert_eq!(r.counts.unchanged as i64, new + updated + unchanged);
    assert_eq!(
        roster_counts(st).await.1 - before.1,
        new + r.counts.new as i64
    );
}

#[tokio::test]
async fn each_chunk_bumps_the_data_versions_it_touched() {
    // Cached figures must never be stale after a commit: after the first
    // chunks have committed — the import still running — the versions of
    // the orgs they wrote have moved.
    let env = testing::demo_env().await.unwrap();
    let st = &env.state;
    if !is_sqlite(st) {
        return; // one transaction on PostgreSQL: bumped once, at the commit
    }
    import::chunking(st).set(2_000, 200);
    import::chunking(st).set_pause(100);
    let total_before = platform::dataver::total(&st.db).await.unwrap();
    let rows = 20_000;
    let path = roster(&env.data_dir(), "big.csv", rows, 95);
    let (job, progress, task) = start_import(st, path).await;
    wait_for_rows(st, job, &progress, 2_000).await;
    let mid = platform::dataver::total(&st.db).await.unwrap();
    let (_, processed, ..) = job_row(st, job).await;
    assert!((processed as u64) < rows, "still mid-way");
    assert!(mid > total_before, "committed chunks bumped their orgs");
    task.await.unwrap().unwrap();
    assert!(platform::dataver::total(&st.db).await.unwrap() > mid);
}
