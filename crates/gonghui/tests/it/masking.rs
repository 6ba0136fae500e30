//! Masking that masks: for every display of a person — the roster list and
//! page, the API rows and detail, the masked export, the statistics
//! drill-down and the transfer list — the fields shown together must not
//! give back the ID number. A citizen ID is region (6) + birth date (8) +
//! sequence (3) + check digit; a display gives back the number when it
//! shows enough of those parts that few candidates remain. The check below
//! counts the digits a display reveals (the masked form's, the birth date's
//! in any common spelling, the region's) and fails when fewer than 6 of the
//! 17 information digits stay unknown (under ~10⁵ candidates).

use chrono::Datelike;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{org_id, Client};
use gonghui::{sheet, testing};

/// How many of the 17 information digits of `id` the text `shown` reveals.
fn revealed_digits(id: &str, shown: &str) -> usize {
    assert_eq!(id.len(), 18, "a citizen ID");
    assert!(!shown.contains(id), "the full number is shown");
    let mut known = [false; 17];
    let region = &id[..6];
    if shown.contains(region) {
        known[..6].iter_mut().for_each(|k| *k = true);
    }
    let (y, m, d) = (&id[6..10], &id[10..12], &id[12..14]);
    let spellings = [
        format!("{y}{m}{d}"),
        format!("{y}-{m}-{d}"),
        format!("{y}/{m}/{d}"),
        format!(
            "{y}年{}月{}日",
            m.trim_start_matches('0'),
            d.trim_start_matches('0')
        ),
        format!("{y}.{m}.{d}"),
    ];
    if spellings.iter().any(|s| shown.contains(s.as_str())) {
        known[6..14].iter_mut().for_each(|k| *k = true);
    }
    for masked in masked_forms_in(shown) {
        // Align the masked form with the number (same length): every
        // unmasked character in place reveals that digit.
        if masked.chars().count() == 18 {
            for (i, (a, b)) in masked.chars().zip(id.chars()).enumerate().take(17) {
                if a != '*' && a == b {
                    known[i] = true;
                }
            }
        }
    }
    known.iter().filter(|k| **k).count()
}

/// The masked ID forms in a text: 18-character runs of digits, X and '*'
/// with at least one '*'.
fn masked_forms_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let ok = |c: char| c.is_ascii_digit() || c == 'X' || c == '*';
    let mut i = 0;
    while i < chars.len() {
        if ok(chars[i]) {
            let start = i;
            while i < chars.len() && ok(chars[i]) {
                i += 1;
            }
            let run: String = chars[start..i].iter().collect();
            if run.contains('*') && run.chars().count() >= 18 {
                // Every 18-long window (a run can be two values side by side).
                let rc: Vec<char> = run.chars().collect();
                for w in rc.windows(18) {
                    let s: String = w.iter().collect();
                    if s.contains('*') {
                        out.push(s);
                    }
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

fn assert_masks(what: &str, id: &str, shown: &str) {
    let n = revealed_digits(id, shown);
    assert!(
        17 - n >= 6,
        "{what}: the fields shown reveal {n} of 17 digits of the ID number"
    );
}

#[test]
fn the_check_catches_the_old_mask_beside_a_birth_date() {
    let id = "61011219790423342X";
    assert_eq!(
        revealed_digits(id, "610112********342X 出生日期 1979-04-23"),
        17
    );
    assert_eq!(revealed_digits(id, "**************342X 年龄 47"), 3);
    assert_eq!(revealed_digits(id, "**************342X 1979-04-23"), 11);
}

#[tokio::test]
async fn no_display_gives_back_an_id_number() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let admin = Client::signed_in(&server, "sf_admin").await;
    let staff = Client::signed_in(&server, "qinchuan_staff").await;
    let county = org_id(&staff, "SF-01").await;
    let (s, list) = staff
        .get_json(&format!("/api/v1/members?org={county}&per_page=20"))
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let row = list["rows"][0].clone();
    let mid = row["membership_id"].as_i64().unwrap();
    let (s, v) = admin
        .json(Method::POST, &format!("/api/v1/members/{mid}/unmask"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["id_number"].as_str().unwrap().to_string();
    let name = row["name"].as_str().unwrap().to_string();

    // The API list row and the detail.
    assert_masks("API list row", &id, &row.to_string());
    let (_, detail) = staff.get_json(&format!("/api/v1/members/{mid}")).await;
    assert_masks("API detail", &id, &detail.to_string());
    // The roster page and the member page.
    let (_, page) = staff
        .text(&format!("/members?org={county}&per_page=20"))
        .await;
    assert!(page.contains(&name));
    assert_masks("roster page", &id, &page);
    let (_, page) = staff.text(&format!("/members/{mid}")).await;
    assert_masks("member page", &id, &page);
    // The masked export.
    let r = staff.export_api(&format!("org={county}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = sheet::read_table(&r.bytes().await.unwrap(), 100_000).unwrap();
    let line = t
        .rows
        .iter()
        .find(|r| r.cells.iter().any(|c| c == &name))
        .expect("the member in the export");
    assert_masks("masked export row", &id, &line.cells.join(" "));
    // The statistics drill-down (API and page), in the member's union.
    let year = gonghui::platform::time::today().year();
    let union = org_id(&staff, row["org_code"].as_str().unwrap()).await;
    let (_, d) = staff
        .get_json(&format!(
            "/api/v1/reports/drill?org={union}&period={year}&code=members_total&per_page=500"
        ))
        .await;
    let mine = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name.as_str())
        .expect("the member in the drill-down")
        .to_string();
    assert_masks("drill-down row", &id, &mine);
    let (_, page) = staff
        .text(&format!(
            "/reports/drill?org={union}&period={year}&code=members_total&page=1"
        ))
        .await;
    assert_masks("drill-down page", &id, &page);
    // The transfer list, on the asking side and on the sending side.
    let asker = Client::signed_in(&server, "weishui_admin").await;
    let (s, v) = asker
        .json(
            Method::POST,
            "/api/v1/members/transfers",
            Some(json!({"id_number": id, "name": name, "to_org": "SF-02-S1-001"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for c in [&asker, &staff] {
        let (_, l) = c.get_json("/api/v1/members/transfers").await;
        assert_masks("transfer list", &id, &l.to_string());
        let (_, page) = c.text("/members/transfers").await;
        assert_masks("transfer page", &id, &page);
    }
    // The union's review of an online application.
    let applicant_id = "610402198805212348";
    let mut a = Client::new(&server);
    let (_, form) = a.text("/join/SF-01-S1-001").await;
    a.csrf = crate::common::csrf_in(&form).unwrap();
    let (s, page) = crate::common::post_with_code(
        &server,
        &a,
        "/join/SF-01-S1-001",
        &[
            ("name", "申请人"),
            ("id_kind", "居民身份证"),
            ("id_number", applicant_id),
            ("phone", "13812345678"),
            ("workplace", "华秦纺织有限公司"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let (_, joins) = staff.get_json("/api/v1/joins").await;
    assert!(joins.to_string().contains("申请人"), "{joins}");
    assert_masks("join review rows", applicant_id, &joins.to_string());
    let (_, page) = staff.text("/members/joins").await;
    assert!(page.contains("申请人"));
    assert_masks("join review page", applicant_id, &page);
    // The stored masked forms, readable without the master key.
    let masked: String = sqlx::query_scalar(
        "SELECT p.id_masked FROM persons p JOIN memberships m ON m.person_id = p.id WHERE m.id = $1",
    )
    .bind(mid)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let birth: Option<String> = sqlx::query_scalar(
        "SELECT p.birth_date FROM persons p JOIN memberships m ON m.person_id = p.id WHERE m.id = $1",
    )
    .bind(mid)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_masks(
        "the database's plain columns",
        &id,
        &format!("{masked} {}", birth.unwrap_or_default()),
    );
}

/// The change-detection hash is keyed: hashes of the single-sequence era
/// (plain SHA-256) are recomputed with the key when the platform opens, and
/// the same row entered again is still "unchanged".
#[tokio::test]
async fn row_hashes_are_keyed_and_rekeyed_on_open() {
    use gonghui::members::{model::RawMember, store};
    let env = testing::demo_orgs_env().await.unwrap();
    let raw = RawMember {
        name: "哈希测试".into(),
        id_number: "110102198405069701".into(),
        phone: "13800138000".into(),
        org_code: "SF-01-S1-001".into(),
        change_date: "2026-01-05".into(),
        education: "大学本科".into(),
        ..Default::default()
    };
    let enrol = |env: &testing::TestEnv| {
        let (db, keys) = (env.state.db.clone(), env.state.keys.clone());
        let raw = raw.clone();
        async move {
            let scope = gonghui::platform::tree::system_scope(&db).await.unwrap();
            store::enrol_one(&db, &keys, &scope, &raw).await.unwrap()
        }
    };
    assert!(matches!(
        enrol(&env).await,
        store::Enrolment::Done(store::Outcome::New(_))
    ));
    let db = env.state.db.clone();
    let stored: String = sqlx::query_scalar("SELECT row_hash FROM persons WHERE name = '哈希测试'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 32);
    // As if written before the key: a stale hash, and the keyed migration
    // not yet recorded.
    sqlx::query("UPDATE persons SET row_hash = 'plain-sha256-of-the-old-days'")
        .execute(db.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM module_migrations WHERE module = 'members+keyed'")
        .execute(db.pool())
        .await
        .unwrap();
    db.close().await;
    drop(db);
    let env = testing::reopen(env, gonghui::modules::registry())
        .await
        .unwrap();
    let rekeyed: String =
        sqlx::query_scalar("SELECT row_hash FROM persons WHERE name = '哈希测试'")
            .fetch_one(env.state.db.pool())
            .await
            .unwrap();
    assert_eq!(
        rekeyed, stored,
        "recomputed from the stored fields, as sealed"
    );
    assert!(matches!(
        enrol(&env).await,
        store::Enrolment::Done(store::Outcome::Unchanged(_))
    ));
}

/// ID and phone numbers searched for never travel in a URL: the API refuses
/// them in a query string and takes them by POST; the page's search seals
/// the term into an opaque token; the audit log keeps the keyed hash of the
/// number, never the number.
#[tokio::test]
async fn searched_numbers_stay_out_of_urls_and_logs() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let admin = Client::signed_in(&server, "sf_admin").await;
    let (_, list) = admin.get_json("/api/v1/members?per_page=1").await;
    let row = list["rows"][0].clone();
    let mid = row["membership_id"].as_i64().unwrap();
    let (_, v) = admin
        .json(Method::POST, &format!("/api/v1/members/{mid}/unmask"), None)
        .await;
    let id = v["id_number"].as_str().unwrap().to_string();
    // In a query string: refused, saying where to go.
    let (s, v) = admin.get_json(&format!("/api/v1/members?q={id}")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message_en"]
        .as_str()
        .unwrap()
        .contains("POST /api/v1/members/search"));
    // By POST: found.
    let (s, v) = admin
        .json(
            Method::POST,
            "/api/v1/members/search",
            Some(json!({"q": id})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 1);
    // A page far past the end is empty, not an overflow (schemathesis found one).
    let (s, v) = admin
        .json(
            Method::POST,
            "/api/v1/members/search",
            Some(json!({"q": id, "page": i64::MAX, "per_page": 500})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["rows"].as_array().unwrap().len(), 0);
    let (s, _) = admin
        .get_json(&format!(
            "/api/v1/reports/drill?org=1&period=2026&code=members_total&page={}",
            i64::MAX
        ))
        .await;
    assert!(s == StatusCode::OK || s == StatusCode::NOT_FOUND, "{s}");
    let (s, _) = admin
        .get_json(&format!("/api/v1/joins?page={}", i64::MAX))
        .await;
    assert_eq!(s, StatusCode::OK);
    // The page: the form posts, the redirect carries a sealed token only.
    let r = admin
        .http
        .post(format!("{}/members/search", admin.base))
        .form(&[
            ("_csrf", admin.csrf.as_str()),
            ("q", id.as_str()),
            ("status", ""),
        ])
        .send()
        .await
        .unwrap();
    let final_url = r.url().to_string();
    assert_eq!(r.status(), StatusCode::OK, "{final_url}");
    assert!(!final_url.contains(&id[6..14]), "{final_url}");
    assert!(final_url.contains("t="), "{final_url}");
    let page = r.text().await.unwrap();
    assert!(page.contains(row["name"].as_str().unwrap()));
    assert!(
        !page.contains(&format!("q={id}")),
        "no link carries the number"
    );
    // The audit log: the keyed hash of the number, not the number.
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'member.search' ORDER BY seq DESC LIMIT 2",
    )
    .fetch_all(server.state().db.pool())
    .await
    .unwrap();
    for d in &details {
        assert!(!d.contains(&id[..14]), "{d}");
        assert!(d.contains("\"term\":\""), "{d}");
    }
}
