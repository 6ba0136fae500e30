//! Untrusted files: workbook bombs refused at upload before anything is
//! allocated for them, uploads streamed to disk with imports capped, and
//! rejects files (full ID and phone numbers) sealed at rest, behind the
//! unmask permission, audited, and deleted after `rejects_keep_days`.

use std::time::{Duration, Instant};

use crate::common::{audit_count, Client};
use gonghui::{members::import, testing};
use reqwest::StatusCode;
use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

/// Resident memory of this process (the server runs in it), in KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The tests of this file one at a time, so the RSS figure is this
/// file's own bomb and not a neighbour's import.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn imports_dir(server: &testing::TestServer) -> std::path::PathBuf {
    server.state().cfg.data_dir.join("imports")
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn job_count(server: &testing::TestServer) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM import_jobs")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn workbook_bomb_upload_is_refused_fast_with_rss_unchanged() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let bomb = std::fs::read(fixture("bomb_xfd1048576.xlsx")).unwrap();
    let jobs_before = job_count(&server).await;
    let files_before = files_in(&imports_dir(&server));
    let rss_before = vm_rss_kib();
    let t = Instant::now();
    let r = c
        .upload("/api/v1/members/import", bomb.clone(), "名册.xlsx")
        .await;
    let took = t.elapsed();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    let rss_after = vm_rss_kib();
    let grew_mib = rss_after.saturating_sub(rss_before) / 1024;
    eprintln!(
        "bomb refused in {took:?}; VmRSS {} → {} MiB (+{grew_mib} MiB)",
        rss_before / 1024,
        rss_after / 1024
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let zh = v["error"]["message_zh"].as_str().unwrap();
    let en = v["error"]["message_en"].as_str().unwrap();
    assert!(
        zh.contains("1048576行×16384列") && zh.contains('请'),
        "{zh}"
    );
    assert!(en.contains("1048576 rows × 16384 columns"), "{en}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(grew_mib < 50, "RSS grew by {grew_mib} MiB");
    // No job was created and the upload left no file behind.
    assert_eq!(job_count(&server).await, jobs_before);
    assert_eq!(files_in(&imports_dir(&server)), files_before);
    // The page form refuses it the same way.
    let r = c.upload("/members/import", bomb, "名册.xlsx").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("16384"));
    assert_eq!(job_count(&server).await, jobs_before);
}

#[tokio::test]
async fn imports_beyond_the_cap_are_refused_with_429() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let slots = gonghui::members::http::import_slots(server.state());
    let held: Vec<_> = (0..gonghui::members::http::MAX_RUNNING_IMPORTS)
        .map(|_| slots.clone().try_acquire_owned().unwrap())
        .collect();
    let csv = std::fs::read(fixture("members_gbk.csv")).unwrap();
    let r = c
        .upload("/api/v1/members/import", csv.clone(), "名册.csv")
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("导入任务繁忙,请稍后再试"),
        "{v}"
    );
    assert!(v["error"]["message_en"]
        .as_str()
        .unwrap()
        .contains("Too many imports running"));
    drop(held);
    let r = c.upload("/api/v1/members/import", csv, "名册.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let job = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    wait_done(&c, job).await;
    // The slot is given back when the import ends.
    for _ in 0..50 {
        if slots.available_permits() == gonghui::members::http::MAX_RUNNING_IMPORTS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        slots.available_permits(),
        gonghui::members::http::MAX_RUNNING_IMPORTS
    );
}

async fn wait_done(c: &Client, job: i64) -> Value {
    for _ in 0..300 {
        let (_, v) = c.get_json(&format!("/api/v1/members/import/{job}")).await;
        if v["status"] != "running" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {job} did not finish");
}

const BAD_ID: &str = "11010219840506970X";

/// Imports the GBK fixture plus one row with a wrong ID check digit as
/// qinchuan_admin; returns the job id (which has one rejected row).
async fn import_with_a_reject(c: &Client) -> i64 {
    let mut bytes = std::fs::read(fixture("members_gbk.csv")).unwrap();
    let bad = format!(
        "\r\n坏行,男,,汉族,居民身份证,{BAD_ID},,,13912345678,,,,,,,入会,2024-03-01,SF-01-S1-001"
    );
    bytes.extend_from_slice(&encoding_rs::GBK.encode(&bad).0);
    let r = c.upload("/api/v1/members/import", bytes, "名册.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let job = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let v = wait_done(c, job).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["rejected_count"], 1, "{v}");
    assert_eq!(v["has_rejects"], true);
    job
}

#[tokio::test]
async fn rejects_are_sealed_need_unmask_and_every_download_is_audited() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    crate::common::grant_unmask(&server, "qinchuan_admin").await;
    let admin = Client::signed_in(&server, "qinchuan_admin").await;
    let job = import_with_a_reject(&admin).await;
    // At rest: sealed, neither a zip nor the ID in clear.
    let stored = std::fs::read(imports_dir(&server).join(format!("job-{job}-rejects.xlsx.enc")))
        .expect("the sealed rejects file");
    assert!(stored.starts_with(b"v1."));
    assert!(!stored.windows(BAD_ID.len()).any(|w| w == BAD_ID.as_bytes()));
    assert!(!files_in(&imports_dir(&server))
        .iter()
        .any(|f| f.ends_with("rejects.xlsx")));
    let path = format!("/members/import/{job}/rejects.xlsx");
    // Staff of the same county without unmask: refused, and audited.
    let staff = Client::signed_in(&server, "qinchuan_staff").await;
    let (s, _) = staff
        .get_json(&format!("/api/v1/members/import/{job}"))
        .await;
    assert_eq!(s, StatusCode::OK, "the job itself is visible");
    let (_, page) = staff.text(&format!("/members/import/{job}")).await;
    assert!(page.contains("须由有查看完整号码权限的账号下载"), "{page}");
    assert!(!page.contains("rejects.xlsx"), "no link without unmask");
    let (_, page) = admin.text(&format!("/members/import/{job}")).await;
    assert!(page.contains(&path), "{page}");
    let denied_before = audit_count(&server, "scope.denied").await;
    let (s, page) = staff.text(&path).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("完整号码的权限"), "{page}");
    assert_eq!(
        audit_count(&server, "scope.denied").await,
        denied_before + 1
    );
    assert_eq!(
        audit_count(&server, "member.import_rejects_download").await,
        0
    );
    // Outside the subtree: not found.
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (s, _) = clerk.text(&path).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The admin (unmask) gets the full rows; each download is audited.
    for n in 1..=2 {
        let r = admin
            .http
            .get(format!("{}{path}", admin.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let t = gonghui::sheet::read_table(&r.bytes().await.unwrap(), 10).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert!(
            t.rows[0].cells.iter().any(|c| c == BAD_ID),
            "{:?}",
            t.rows[0]
        );
        assert_eq!(
            audit_count(&server, "member.import_rejects_download").await,
            n
        );
    }
    let (actor, object): (String, String) = sqlx::query_as(
        "SELECT actor, object_id FROM audit_log WHERE action = 'member.import_rejects_download' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), object),
        ("qinchuan_admin", job.to_string())
    );
}

#[tokio::test]
async fn expired_rejects_files_are_gone_after_the_sweep() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = server().await;
    let st = server.state();
    assert_eq!(st.cfg.rejects_keep_days, 7, "the default");
    crate::common::grant_unmask(&server, "qinchuan_admin").await;
    let admin = Client::signed_in(&server, "qinchuan_admin").await;
    let old = import_with_a_reject(&admin).await;
    let fresh = import_with_a_reject(&admin).await;
    let dir = imports_dir(&server);
    let old_file = dir.join(format!("job-{old}-rejects.xlsx.enc"));
    let fresh_file = dir.join(format!("job-{fresh}-rejects.xlsx.enc"));
    assert!(old_file.exists() && fresh_file.exists());
    // The first job finished eight days ago.
    let eight_days_ago =
        gonghui::platform::time::to_rfc3339(chrono::Utc::now() - chrono::Duration::days(8));
    let mut tx = st.db.begin_write().await.unwrap();
    sqlx::query("UPDATE import_jobs SET finished_at = $1 WHERE id = $2")
        .bind(&eight_days_ago)
        .bind(old)
        .execute(&mut *tx.tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // An upload left behind by a crash long ago, and a recent one.
    let stale = dir.join("upload-stale");
    std::fs::write(&stale, b"x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(8 * 86_400))
        .unwrap();
    let recent = dir.join("upload-recent");
    std::fs::write(&recent, b"x").unwrap();

    let swept = import::sweep_rejects(st, st.cfg.rejects_keep_days)
        .await
        .unwrap();
    assert_eq!(swept.rejects, 1, "{swept:?}");
    assert_eq!(swept.leftovers, 1, "{swept:?}");
    assert!(!old_file.exists() && !stale.exists());
    assert!(fresh_file.exists() && recent.exists());
    let (_, v) = admin
        .get_json(&format!("/api/v1/members/import/{old}"))
        .await;
    assert_eq!(v["has_rejects"], false, "{v}");
    let (s, _) = admin
        .text(&format!("/members/import/{old}/rejects.xlsx"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = admin
        .text(&format!("/members/import/{fresh}/rejects.xlsx"))
        .await;
    assert_eq!(s, StatusCode::OK);
    // A second sweep finds nothing more.
    let again = import::sweep_rejects(st, 7).await.unwrap();
    assert_eq!((again.rejects, again.leftovers), (0, 0));
}
