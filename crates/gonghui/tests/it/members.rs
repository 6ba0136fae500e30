//! The member registry end to end, on SQLite by default and on PostgreSQL
//! when GONGHUI_TEST_DATABASE_URL is set.

use crate::common::{org_id, Client};
use gonghui::{members::import, platform::audit, testing};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

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

/// Runs an import as the given scope (the CLI's code path, minus the process).
async fn import_file(
    st: &gonghui::platform::web::AppState,
    scope: &gonghui::platform::scope::Scope,
    path: std::path::PathBuf,
    all_or_nothing: bool,
) -> gonghui::platform::error::AppResult<import::Report> {
    let opts = import::Options {
        org_code: None,
        all_or_nothing,
        file_name: "t".into(),
    };
    let job = import::create_job(st, scope, &opts).await?;
    import::run(st, scope, job, path, &opts, st.jobs.start(job)).await
}

async fn city_scope(st: &gonghui::platform::web::AppState) -> gonghui::platform::scope::Scope {
    gonghui::platform::tree::system_scope(&st.db).await.unwrap()
}

async fn member_count(st: &gonghui::platform::web::AppState) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE status <> 'ended'")
        .fetch_one(st.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn libreoffice_xlsx_legacy_xls_and_gbk_csv_import_and_reimport_changes_nothing() {
    let env = testing::demo_env().await.unwrap();
    let st = &env.state;
    let scope = city_scope(st).await;
    let before = member_count(st).await;
    let r = import_file(st, &scope, fixture("members_libreoffice.xlsx"), false)
        .await
        .unwrap();
    assert_eq!((r.counts.new, r.counts.rejected), (4, 0), "{:?}", r.rejects);
    assert_eq!(member_count(st).await, before + 4);
    // The same people from the .xls and the GBK CSV: nothing changes.
    for f in [
        "members_legacy.xls",
        "members_gbk.csv",
        "members_libreoffice.xlsx",
    ] {
        let r = import_file(st, &scope, fixture(f), false).await.unwrap();
        assert_eq!(
            (
                r.counts.new,
                r.counts.updated,
                r.counts.unchanged,
                r.counts.rejected
            ),
            (0, 0, 4, 0),
            "{f}: {:?}",
            r.rejects
        );
    }
    assert_eq!(member_count(st).await, before + 4);
    // Values landed as typed: the 维吾尔族 member with an X-ending ID, 货车司机, 农民工.
    let (name, group, migrant, masked): (String, String, i64, String) = sqlx::query_as(
        "SELECT name, new_employment_group, migrant, id_masked FROM persons WHERE name LIKE '阿依古丽%'",
    )
    .fetch_one(st.db.pool())
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), group.as_str(), migrant, masked.as_str()),
        ("阿依古丽·买买提", "货车司机", 1, "**************102X")
    );
    // Stored encrypted: the plain number is nowhere in the table.
    let leaks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE id_enc LIKE '%61040219780918102X%' OR id_masked = '61040219780918102X'")
        .fetch_one(st.db.pool())
        .await
        .unwrap();
    assert_eq!(leaks, 0);
}

/// A demo member of the given county, found through the API as the city admin.
async fn demo_member(c: &Client, county: &str) -> Value {
    let org = org_id(c, county).await;
    let (s, v) = c
        .get_json(&format!("/api/v1/members?org={org}&per_page=1"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["rows"][0].clone()
}

async fn full_id(c: &Client, membership: i64) -> String {
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/members/{membership}/unmask"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["id_number"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn bad_rows_get_one_reason_each_and_good_rows_are_kept() {
    let server = server().await;
    let st = server.state();
    let admin = Client::signed_in(&server, "sf_admin").await;
    let other = demo_member(&admin, "SF-02").await;
    let taken_id = full_id(&admin, other["membership_id"].as_i64().unwrap()).await;
    let header = import::template_headers().join(",");
    let row = |name: &str, sex: &str, id: &str, phone: &str, org: &str| {
        format!("{name},{sex},,汉族,居民身份证,{id},大学本科,,{phone},非农业户口,,群众,示范公司,否,,入会,2024-03-01,{org}")
    };
    let lines = [
        header.clone(),
        row(
            "好人甲",
            "",
            "610402199005121231",
            "13800138000",
            "SF-01-S1-001",
        ), // 2 good
        row(
            "校验位",
            "",
            "11010219840506970X",
            "13800138001",
            "SF-01-S1-001",
        ), // 3 check digit
        row(
            "生日错",
            "",
            "610402199002301234",
            "13800138002",
            "SF-01-S1-001",
        ), // 4 impossible date
        row(
            "性别错",
            "男",
            "11010219840406970X",
            "13800138003",
            "SF-01-S1-001",
        ), // 5 sex contradicts ID
        row(
            "好人乙",
            "",
            "610102198511030024",
            "13900139000",
            "SF-01-S1-002",
        ), // 6 good
        row(
            "重复",
            "",
            "610102198511030024",
            "13900139001",
            "SF-01-S1-002",
        ), // 7 duplicate of row 6
        row("别家的", "", &taken_id, "13900139002", "SF-01-S1-001"), // 8 active elsewhere
        row("电话错", "", "110105200101200044", "12345", "SF-01-S1-001"), // 9 bad phone
        row("无此会", "", "61040219780918102X", "18612345678", "NO-SUCH"), // 10 unknown union
        row("", "", "440524188001010014", "18612345679", "SF-01-S1-001"), // 11 empty name
    ];
    let path = server.env.data_dir().join("bad.csv");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let scope = city_scope(st).await;
    let before = member_count(st).await;

    // All-or-nothing first: nothing is imported.
    let r = import_file(st, &scope, path.clone(), true).await.unwrap();
    assert!(!r.committed);
    assert_eq!(member_count(st).await, before);

    let r = import_file(st, &scope, path.clone(), false).await.unwrap();
    assert!(r.committed);
    assert_eq!(
        (r.counts.new, r.counts.rejected),
        (2, 8),
        "{:#?}",
        r.rejects
    );
    assert_eq!(member_count(st).await, before + 2);
    let reason = |line: usize| {
        r.rejects
            .iter()
            .find(|x| x.line == line)
            .unwrap_or_else(|| panic!("row {line} not rejected"))
            .reason
            .zh
            .clone()
    };
    assert!(reason(3).contains("校验"), "{}", reason(3));
    assert!(
        reason(4).contains("出生日期") || reason(4).contains("日期"),
        "{}",
        reason(4)
    );
    assert!(reason(5).contains("性别"), "{}", reason(5));
    assert!(reason(7).contains("第6行"), "{}", reason(7));
    assert!(
        reason(8).contains("在籍会员") && reason(8).contains("转会"),
        "{}",
        reason(8)
    );
    assert!(reason(9).contains("手机"), "{}", reason(9));
    assert!(reason(10).contains("NO-SUCH"), "{}", reason(10));
    assert!(reason(11).contains("姓名"), "{}", reason(11));
    assert_eq!(r.rejects.len(), 8, "one reason per bad row");
    // The rejects file carries each row and its reason, ready to fix.
    let bytes = import::rejects_xlsx(&r.rejects).unwrap();
    let t = gonghui::sheet::read_table(&bytes, 100).unwrap();
    assert_eq!(t.rows.len(), 8);
    assert_eq!(t.headers.last().unwrap(), "错误原因");
    assert!(t.rows[0].cells.last().unwrap().contains("校验"));
    // Re-importing the same file: the good rows are unchanged, the bad still bad.
    let r = import_file(st, &scope, path, false).await.unwrap();
    assert_eq!(
        (r.counts.new, r.counts.unchanged, r.counts.rejected),
        (0, 2, 8)
    );
}

#[tokio::test]
async fn files_that_are_not_rosters_are_refused_clearly() {
    let env = testing::demo_env().await.unwrap();
    let st = &env.state;
    let scope = city_scope(st).await;
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "png.xlsx",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0",
            "不是有效",
        ),
        ("empty.csv", b"", "没有数据"),
        ("header-only.csv", "姓名,证件号码\n".as_bytes(), "没有"),
        (
            "wrong-columns.csv",
            "名字,号码\n张三,1\n".as_bytes(),
            "证件号码",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = env.data_dir().join(name);
        std::fs::write(&path, bytes).unwrap();
        let e = import_file(st, &scope, path, false).await.unwrap_err();
        let m = e.user_message();
        assert!(m.zh.contains(want), "{name}: {m}");
        assert!(!m.en.is_empty());
    }
    let status: String =
        sqlx::query_scalar("SELECT status FROM import_jobs ORDER BY id DESC LIMIT 1")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "failed");
}

#[tokio::test]
async fn killing_the_import_process_leaves_no_half_import() {
    let env = testing::demo_env().await.unwrap();
    let dir = env.data_dir();
    let url = env.database_url.clone();
    let before = member_count(&env.state).await;
    env.state.db.close().await;
    let csv = dir.join("big.csv");
    gonghui::members::gen::write_file(&csv, 40_000, 77, gonghui::demo::grassroots_codes()).unwrap();
    let bin = env!("CARGO_BIN_EXE_gonghui");
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--data-dir")
        .arg(&dir)
        .env("GONGHUI_MASTER_KEY", "42".repeat(32))
        .env("GONGHUI_LOG", "error");
    if let Some(u) = &url {
        cmd.arg("--database-url").arg(u);
    }
    // All-or-nothing: one transaction (a default import on SQLite commits
    // in chunks, and a kill leaves those: import_chunks.rs).
    let mut child = cmd
        .args([
            "import",
            "members",
            "--all-or-nothing",
            csv.to_str().unwrap(),
        ])
        .spawn()
        .unwrap();
    // Wait until the job is registered (the import transaction is then open), then kill -9.
    let state = gonghui::platform::open(
        gonghui::platform::config::Config {
            data_dir: dir.clone(),
            database_url: url.clone().map(gonghui::platform::config::Secret::new),
            master_key: Some(gonghui::platform::config::Secret::new("42".repeat(32))),
            ..Default::default()
        },
        gonghui::modules::registry(),
    )
    .await
    .unwrap();
    let mut waited = 0;
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_jobs")
            .fetch_one(state.db.pool())
            .await
            .unwrap();
        if n > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 600, "import never started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM import_jobs ORDER BY id DESC LIMIT 1")
            .fetch_one(state.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "running", "killed before it finished");
    assert_eq!(
        member_count(&state).await,
        before,
        "nothing of the killed import is visible"
    );
    let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert!(persons <= gonghui::demo::DEMO_MEMBERS as i64);
    // On the next start the job is marked interrupted.
    assert_eq!(import::recover_interrupted(&state).await.unwrap(), 1);
}

#[tokio::test]
async fn search_by_name_pinyin_initials_id_and_phone() {
    let env = testing::demo_env().await.unwrap();
    let st = &env.state;
    let scope = city_scope(st).await;
    import_file(st, &scope, fixture("members_gbk.csv"), false)
        .await
        .unwrap();
    let search = |q: &str| {
        let q = gonghui::members::store::SearchQuery {
            q: q.into(),
            per_page: 50,
            ..Default::default()
        };
        let scope = scope.clone();
        async move {
            gonghui::members::store::search(&st.db, &st.keys, &scope, &q)
                .await
                .unwrap()
        }
    };
    let names = |rows: &[gonghui::members::store::MemberListRow]| {
        rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
    };
    let (rows, _) = search("阿依").await;
    assert_eq!(names(&rows), vec!["阿依古丽·买买提"]);
    let (rows, _) = search("ayiguli").await;
    assert!(names(&rows).contains(&"阿依古丽·买买提".to_string()));
    let (rows, _) = search("ZW").await;
    assert!(
        names(&rows).contains(&"张伟".to_string()),
        "initials: {:?}",
        names(&rows)
    );
    let (rows, total) = search("61040219780918102x").await;
    assert_eq!(
        (names(&rows), total),
        (vec!["阿依古丽·买买提".to_string()], 1)
    );
    let (rows, _) = search("186 1234 5678").await;
    assert_eq!(names(&rows), vec!["阿依古丽·买买提"]);
    let (rows, _) = search("不存在的人").await;
    assert!(rows.is_empty());
}

#[tokio::test]
async fn a_county_cannot_see_or_export_another_countys_members_by_any_route() {
    let server = server().await;
    let admin = Client::signed_in(&server, "sf_admin").await;
    let theirs = demo_member(&admin, "SF-02").await;
    let their_id = theirs["membership_id"].as_i64().unwrap();
    let their_full = full_id(&admin, their_id).await;
    let county2 = org_id(&admin, "SF-02").await;
    let a = Client::signed_in(&server, "qinchuan_admin").await;
    let denied_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied'")
            .fetch_one(server.state().db.pool())
            .await
            .unwrap();
    for path in [
        format!("/api/v1/members/{their_id}"),
        format!("/api/v1/members?org={county2}"),
        format!("/api/v1/members/counts?org={county2}"),
    ] {
        let (s, v) = a.get_json(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
    }
    let (s, _) = a
        .json(
            Method::POST,
            &format!("/api/v1/members/{their_id}/unmask"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for path in [
        format!("/members/{their_id}"),
        format!("/members?org={county2}"),
    ] {
        let (s, _) = a.text(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let q = format!("org={county2}&format=csv");
    assert_eq!(a.export_api(&q).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(a.export_page(&q).await.status(), StatusCode::NOT_FOUND);
    let (s, _) = a
        .post_form(
            &format!("/members/{their_id}/status"),
            &[("change", "leave"), ("on", "2026-01-01")],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Searching by their exact ID or name finds nothing in my scope.
    let (_, v) = a
        .json(
            Method::POST,
            "/api/v1/members/search",
            Some(json!({"q": their_full})),
        )
        .await;
    assert_eq!(v["total"], 0, "{v}");
    let (_, v) = a
        .get_json(&format!(
            "/api/v1/members?q={}&status=all&per_page=500",
            theirs["name"].as_str().unwrap()
        ))
        .await;
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["org_code"].as_str().unwrap().starts_with("SF-01")));
    // My own export holds only my county.
    let r = a.export_page("format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let rows: Vec<&str> = body.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|l| l.contains(",SF-01-")),
        "foreign row in export"
    );
    assert!(!body.contains(&their_full));
    let denied_after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied'")
            .fetch_one(server.state().db.pool())
            .await
            .unwrap();
    assert!(
        denied_after >= denied_before + 8,
        "{denied_before} -> {denied_after}"
    );
}

#[tokio::test]
async fn unmasking_and_exports_need_the_permission_and_are_audited() {
    let server = server().await;
    let staff = Client::signed_in(&server, "qinchuan_staff").await;
    // Being an administrator is not enough: the permission is granted
    // explicitly (the demo grants it to the city's `sf_admin` only).
    let county_admin = Client::signed_in(&server, "qinchuan_admin").await;
    let admin = Client::signed_in(&server, "sf_admin").await;
    let m = demo_member(&admin, "SF-01").await;
    let id = m["membership_id"].as_i64().unwrap();
    let masked = m["id_masked"].as_str().unwrap();
    assert!(masked.contains("********"));
    for c in [&staff, &county_admin] {
        let (s, _) = c
            .json(Method::POST, &format!("/api/v1/members/{id}/unmask"), None)
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let s = c.export_api("unmasked=1").await.status();
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let full = full_id(&admin, id).await;
    // Only the last 4 are shown (see ident::mask_id).
    assert_eq!(&masked[..14], "**************");
    assert_eq!(&full[14..], &masked[14..]);
    let (_, page) = admin.post_form(&format!("/members/{id}/unmask"), &[]).await;
    assert!(page.contains(&full));
    let r = admin.export_page("format=csv&unmasked=1").await;
    assert!(r.text().await.unwrap().contains(&full));
    let r = staff.export_page("format=csv").await;
    let masked_export = r.text().await.unwrap();
    assert!(!masked_export.contains(&full) && masked_export.contains(masked));
    assert!(crate::common::audit_count(&server, "member.unmask").await >= 2);
    assert!(crate::common::audit_count(&server, "member.export").await >= 2);
    let detail: String = sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'member.export' AND detail LIKE '%\"unmasked\":true%'")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    assert!(detail.contains("rows"));
    assert!(audit::verify(&server.state().db)
        .await
        .unwrap()
        .problems
        .is_empty());
}

#[tokio::test]
async fn enrolling_a_member_of_another_union_leads_to_a_transfer() {
    let server = server().await;
    let admin = Client::signed_in(&server, "sf_admin").await;
    let m = demo_member(&admin, "SF-01").await;
    let old_id = m["membership_id"].as_i64().unwrap();
    let full = full_id(&admin, old_id).await;
    let b = Client::signed_in(&server, "weishui_admin").await;
    let body = json!({"name": m["name"], "id_number": full, "org_code": "SF-02-S1-001", "change_date": "2026-01-05"});
    // Outside its subtree the enrolment cannot say "already a member
    // elsewhere": it files a transfer request, the answer a stranger's ID or
    // a wrong name gets on the transfer form too.
    let (s, v) = b.json(Method::POST, "/api/v1/members", Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "transfer_requested", "{v}");
    assert!(v["membership_id"].is_null(), "{v}");
    let tid = v["transfer_id"].as_i64().unwrap();
    let shape = |v: &serde_json::Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (keys, v["outcome"].clone())
    };
    let wrong_name = json!({"name": "别的名字", "id_number": full, "org_code": "SF-02-S1-004", "change_date": "2026-01-05"});
    let (s2, v2) = b
        .json(Method::POST, "/api/v1/members", Some(wrong_name))
        .await;
    assert_eq!((s2, shape(&v2)), (s, shape(&v)), "{v2}");
    let msg = serde_json::to_string(&v).unwrap();
    assert!(!msg.contains("秦川") && !msg.contains("SF-01"), "{msg}");
    // The form lands on the transfers page, saying a request was filed.
    let (s, page) = b
        .post_form(
            "/members",
            &[
                ("name", m["name"].as_str().unwrap()),
                ("id_number", &full),
                ("org_code", "SF-02-S1-005"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("已提交转会申请"), "{page}");
    let name = m["name"].as_str().unwrap();
    let ask = |id: String, who: &str, to: &str| json!({"id_number": id, "name": who, "to_org": to, "reason": "工作调动"});
    let (s, _) = b
        .json(
            Method::POST,
            "/api/v1/members/transfers",
            Some(ask(full.clone(), name, "SF-02-S1-001")),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "one pending request per person and union"
    );
    // A stranger's ID and a member's ID under another name get the same
    // answer: the asking side cannot tell who is a member anywhere.
    let stranger = "11010519491231002X";
    for (id, who) in [(stranger.to_string(), "路人甲"), (full.clone(), "别人")] {
        let (s, v) = b
            .json(
                Method::POST,
                "/api/v1/members/transfers",
                Some(ask(id, who, "SF-02-S1-002")),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["id"].as_i64().is_some());
    }
    // Until the release the asking side sees only what it typed.
    let (_, list) = b.get_json("/api/v1/members/transfers").await;
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid)
        .unwrap();
    assert_eq!(
        mine["from_org"],
        "待转出单位确认 / awaiting the sending union"
    );
    assert_eq!(mine["can_release"], false);
    let listed = list.to_string();
    assert!(
        !listed.contains("秦川"),
        "nothing of the sending side: {listed}"
    );
    // The receiving side cannot release it; the sending county sees only the
    // request that matches its member.
    let (s, _) = b
        .json(
            Method::POST,
            &format!("/api/v1/members/transfers/{tid}/approve"),
            Some(json!({"note": "同意"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let a = Client::signed_in(&server, "qinchuan_admin").await;
    let (_, theirs) = a.get_json("/api/v1/members/transfers").await;
    let theirs = theirs.as_array().unwrap();
    let t = theirs
        .iter()
        .find(|t| t["id"] == tid)
        .expect("the sending side sees it");
    assert_eq!(t["can_release"], true);
    assert_eq!(t["name"], name);
    assert!(!theirs
        .iter()
        .any(|t| t["name"] == "路人甲" || t["name"] == "别人"));
    let (s, v) = a
        .json(
            Method::POST,
            &format!("/api/v1/members/transfers/{tid}/approve"),
            Some(json!({"note": "同意转出"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Old membership ended with 转出, new one active with 转入, history kept.
    let (_, old) = admin.get_json(&format!("/api/v1/members/{old_id}")).await;
    assert_eq!(old["status"], "ended");
    let kinds: Vec<&str> = old["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"transfer_out") && kinds.contains(&"transfer_in"),
        "{kinds:?}"
    );
    let (_, found) = b
        .json(
            Method::POST,
            "/api/v1/members/search",
            Some(json!({"q": full})),
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["rows"][0]["org_code"], "SF-02-S1-001");
    // Both sides see the outcome; the receiving side now sees its member.
    let (_, list) = a.get_json("/api/v1/members/transfers").await;
    let t = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid)
        .expect("sending side sees it");
    assert_eq!(t["status"], "approved");
    assert!(!t["incoming"].as_bool().unwrap());
    let (_, list) = b.get_json("/api/v1/members/transfers").await;
    let t = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid)
        .unwrap();
    assert_eq!(t["status"], "approved");
    assert_eq!(t["name"], name);
}

#[tokio::test]
async fn upload_through_the_page_runs_in_the_background_with_progress_and_rejects() {
    let server = server().await;
    crate::common::grant_unmask(&server, "qinchuan_admin").await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, page) = c.text("/members/import").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("导入"));
    let r = c
        .http
        .get(format!("{}/members/import/template.xlsx", c.base))
        .send()
        .await
        .unwrap();
    let t = gonghui::sheet::read_table(&r.bytes().await.unwrap(), 10).unwrap();
    assert_eq!(t.headers, import::template_headers());
    let mut bytes = std::fs::read(fixture("members_gbk.csv")).unwrap();
    let bad =
        "\r\n坏行,男,,汉族,居民身份证,11010219840506970X,,,,,,,,,,入会,2024-03-01,SF-01-S1-001";
    bytes.extend_from_slice(&encoding_rs::GBK.encode(bad).0);
    let r = c.upload("/members/import", bytes, "名册.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let url = r.url().to_string();
    let job: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
    let mut tries = 0;
    let v = loop {
        let (_, v) = c.get_json(&format!("/api/v1/members/import/{job}")).await;
        if v["status"] != "running" {
            break v;
        }
        tries += 1;
        assert!(tries < 200);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(
        (v["new_count"].as_i64(), v["rejected_count"].as_i64()),
        (Some(4), Some(1))
    );
    let (_, page) = c.text(&format!("/members/import/{job}")).await;
    assert!(page.contains("未导入"));
    let r = c
        .http
        .get(format!("{}/members/import/{job}/rejects.xlsx", c.base))
        .send()
        .await
        .unwrap();
    let t = gonghui::sheet::read_table(&r.bytes().await.unwrap(), 10).unwrap();
    assert_eq!(t.rows.len(), 1);
    // Another county cannot see the job or its rejects.
    let b = Client::signed_in(&server, "weishui_admin").await;
    let (s, _) = b.get_json(&format!("/api/v1/members/import/{job}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = b.text(&format!("/members/import/{job}/rejects.xlsx")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Without a CSRF token the upload is refused.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("a.csv"),
    );
    let r = c
        .http
        .post(format!("{}/members/import", c.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn roster_pages_render_in_chinese_and_english() {
    let server = server().await;
    let c = Client::signed_in(&server, "jc_clerk").await;
    let (s, page) = c.text("/members").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("会员名册") && page.contains("在籍会员"));
    let (_, v) = c.get_json("/api/v1/members?per_page=1").await;
    let id = v["rows"][0]["membership_id"].as_i64().unwrap();
    assert!(v["rows"][0]["org_code"] == "SF-01-S1-001");
    let (s, page) = c.text(&format!("/members/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("会籍变化记录"));
    c.text("/lang/en?next=/members").await;
    let (_, page) = c.text("/members").await;
    assert!(page.contains("Member roster"));
}
