//! The platform end to end: the real server, on SQLite by default or on
//! PostgreSQL when GONGHUI_TEST_DATABASE_URL is set.

use crate::common::{org_id, Client, PW};
use gonghui::{orgs::store as orgs, platform::audit, testing};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn demo_server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn login_page_is_chinese_with_an_english_switch() {
    let server = demo_server().await;
    let c = Client::new(&server);
    let (s, page) = c.text("/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("lang=\"zh-CN\""));
    assert!(page.contains("登录") && page.contains("用户名"), "{page}");
    let (_, en) = c.text("/lang/en?next=/login").await;
    assert!(en.contains("Sign in") && en.contains("Username"), "{en}");
    // Unauthenticated pages redirect to the login page.
    let (_, p) = c.text("/orgs").await;
    assert!(p.contains("Sign in"));
}

#[tokio::test]
async fn county_admin_sees_only_its_subtree_and_other_counties_get_404_audited() {
    let server = demo_server().await;
    let a = Client::signed_in(&server, "qinchuan_admin").await;
    let b = Client::signed_in(&server, "weishui_admin").await;
    let (s, list) = a.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::OK);
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"SF-01") && codes.iter().all(|c| c.starts_with("SF-01")),
        "{codes:?}"
    );
    assert_eq!(codes.len(), 1 + 4 + 48 + 5);

    let a_org = org_id(&a, "SF-01-S1-001").await;
    let before = crate::common::audit_count(&server, "scope.denied").await;
    // JSON, page, children, history, edit form and a write: all 404.
    crate::common::assert_not_found_everywhere(
        &b,
        &[
            format!("/api/v1/orgs/{a_org}"),
            format!("/api/v1/orgs/{a_org}/children"),
            format!("/api/v1/orgs/{a_org}/history"),
        ],
        &[
            format!("/orgs/{a_org}"),
            format!("/orgs/{a_org}/edit"),
            format!("/orgs/{a_org}/new"),
        ],
    )
    .await;
    let (s, _) = b
        .json(
            Method::PATCH,
            &format!("/api/v1/orgs/{a_org}"),
            Some(json!({"code":"X","name":"hijack","level":"grassroots"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = b
        .post_form(&format!("/orgs/{a_org}/close"), &[("closed_on", "")])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let after = crate::common::audit_count(&server, "scope.denied").await;
    assert!(
        after >= before + 7,
        "every denial audited: {before} -> {after}"
    );
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'scope.denied' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(actor, "weishui_admin");
    // The county's own pages work, and the tree shows only its subtree.
    let (s, page) = a.text(&format!("/orgs/{a_org}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !page.contains("渭水区"),
        "another county leaked into the tree"
    );
}

#[tokio::test]
async fn moving_a_subtree_moves_counts_and_lists() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let s1 = org_id(&c, "SF-01-S1").await;
    let county1 = org_id(&c, "SF-01").await;
    let county2 = org_id(&c, "SF-02").await;
    let (_, before1) = c.get_json(&format!("/api/v1/orgs/{county1}")).await;
    let (_, before2) = c.get_json(&format!("/api/v1/orgs/{county2}")).await;
    let moved = 1 + 12;
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{s1}/move"),
            Some(json!({"new_parent": "SF-02"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["parent"], "SF-02");
    let (_, after1) = c.get_json(&format!("/api/v1/orgs/{county1}")).await;
    let (_, after2) = c.get_json(&format!("/api/v1/orgs/{county2}")).await;
    assert_eq!(
        after1["subtree"]["orgs"].as_i64().unwrap(),
        before1["subtree"]["orgs"].as_i64().unwrap() - moved
    );
    assert_eq!(
        after2["subtree"]["orgs"].as_i64().unwrap(),
        before2["subtree"]["orgs"].as_i64().unwrap() + moved
    );
    let (_, kids1) = c
        .get_json(&format!("/api/v1/orgs/{county1}/children"))
        .await;
    let (_, kids2) = c
        .get_json(&format!("/api/v1/orgs/{county2}/children"))
        .await;
    assert!(!kids1
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "SF-01-S1"));
    assert!(kids2
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "SF-01-S1"));
    // The county admins' scopes follow: the old one no longer sees the grandchild.
    let old = Client::signed_in(&server, "qinchuan_admin").await;
    let (_, list) = old.get_json("/api/v1/orgs").await;
    assert!(!list
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "SF-01-S1-001"));
    let new = Client::signed_in(&server, "weishui_admin").await;
    let (_, list) = new.get_json("/api/v1/orgs").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "SF-01-S1-001"));
    // History kept.
    let (_, h) = c.get_json(&format!("/api/v1/orgs/{s1}/history")).await;
    assert!(
        h.as_array().unwrap().iter().any(|e| e["kind"] == "moved"),
        "{h}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let street = org_id(&c, "SF-01-S1").await;
    let count = || async { c.get_json("/api/v1/orgs").await.1.as_array().unwrap().len() };
    let n0 = count().await;
    let create_path = format!("/api/v1/orgs/{street}/children");
    let create = |body: serde_json::Value| c.json(Method::POST, &create_path, Some(body));

    let (s, v) = create(json!({"code":"NEW-1","name":"新工会","level":"grassroots","credit_code":"91350100M000100Y4A"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("校验位"),
        "{v}"
    );
    assert!(
        v["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("check character"),
        "{v}"
    );

    let (s, v) = create(json!({"code":"NEW-1","name":"   ","level":"grassroots"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("不能为空"),
        "{v}"
    );

    let (s, v) = create(json!({"code":"SF-01-S1-002","name":"重复","level":"grassroots"})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message_zh"]
        .as_str()
        .unwrap()
        .contains("已被使用"));

    let (s, v) = create(json!({"code":"NEW-2","name":"街道下的县","level":"county"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{street}/move"),
            Some(json!({"new_parent":"SF-01-S1-003"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_zh"].as_str().unwrap().contains("下级"),
        "{v}"
    );

    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{county}/move"),
            Some(json!({"new_parent":"SF-01-S2"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cannot move own scope root"
    );

    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{street}/close"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "open children: {v}");

    // A good one works, proving the refusals were not for some other reason.
    let (s, v) = create(json!({"code":"NEW-OK","name":"示范新工会","level":"grassroots","credit_code":"91350100M000100Y43","org_type":"企业"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(count().await, n0 + 1);

    // Forged or missing CSRF tokens: refused, nothing written.
    let forged = c
        .http
        .post(format!("{}/api/v1/orgs/{street}/children", c.base))
        .header("x-csrf-token", "forged")
        .json(&json!({"code":"NEW-3","name":"伪造","level":"grassroots"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let missing = c
        .http
        .post(format!("{}/orgs/{street}/children", c.base))
        .form(&[
            ("code", "NEW-4"),
            ("name", "无令牌"),
            ("level", "grassroots"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    assert!(missing.text().await.unwrap().contains("CSRF"));
    assert_eq!(count().await, n0 + 1);

    // A read-only auditor cannot write.
    let aud = Client::signed_in(&server, "sf_auditor").await;
    let (s, _) = aud
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{street}/children"),
            Some(json!({"code":"NEW-5","name":"x","level":"grassroots"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn forms_create_edit_and_close_through_pages() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_s1_admin").await;
    let street = org_id(&c, "SF-01-S1").await;
    let (s, page) = c
        .post_form(
            &format!("/orgs/{street}/children"),
            &[
                ("code", "PAGE-1"),
                ("name", "页面新建工会"),
                ("level", "grassroots"),
                ("org_type", "新业态"),
                ("founded_on", "2024-03-01"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("页面新建工会"));
    let id = org_id(&c, "PAGE-1").await;
    let (s, page) = c
        .post_form(
            &format!("/orgs/{id}/edit"),
            &[
                ("code", "PAGE-1"),
                ("name", "改名后的工会"),
                ("level", "grassroots"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("改名后的工会") && page.contains("更名"));
    let (s, page) = c
        .post_form(&format!("/orgs/{id}/close"), &[("closed_on", "2026-01-01")])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("已撤销"));
    let (s, page) = c
        .post_form(
            &format!("/orgs/{id}/edit"),
            &[("code", "PAGE-1"), ("name", ""), ("level", "grassroots")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("不能为空"));
    // A bad credit code on the form: the form comes back with the reason and what was typed.
    let (s, page) = c
        .post_form(
            &format!("/orgs/{street}/children"),
            &[
                ("code", "PAGE-2"),
                ("name", "信用代码错的工会"),
                ("level", "grassroots"),
                ("credit_code", "91350100M000100Y4A"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("校验位")
            && page.contains("信用代码错的工会")
            && page.contains("91350100M000100Y4A")
    );
    let (s, _) = c.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!c
        .get_json("/api/v1/orgs")
        .await
        .1
        .to_string()
        .contains("PAGE-2"));
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_and_are_audited() {
    let server = demo_server().await;
    let mut c = Client::new(&server);
    let (s, page) = c.login("jiaoyu_admin", "wrong-pass-1").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("用户名或密码错误"));
    for _ in 0..4 {
        c.login("jiaoyu_admin", "wrong-pass-1").await;
    }
    let (s, page) = c.login("jiaoyu_admin", PW).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "locked even with the right password, with the same answer"
    );
    assert!(page.contains("用户名或密码错误") && page.contains("锁定"));
    assert!(crate::common::audit_count(&server, "auth.login_failed").await >= 5);
    // An unknown user gets the same answer as a wrong password.
    let (s, page) = c.login("nobody_here", PW).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("用户名或密码错误"));
}

#[tokio::test]
async fn audit_verify_names_an_edited_or_deleted_row() {
    let env = testing::demo_env().await.unwrap();
    let db = &env.state.db;
    let ok = audit::verify(db).await.unwrap();
    assert!(
        ok.problems.is_empty() && ok.checked > 300,
        "{} checked",
        ok.checked
    );
    let (id, seq): (i64, i64) =
        sqlx::query_as("SELECT id, seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET 10")
            .fetch_one(db.pool())
            .await
            .unwrap();
    sqlx::query("UPDATE audit_log SET detail = '{}' WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
    let bad = audit::verify(db).await.unwrap();
    assert_eq!(bad.problems, vec![audit::VerifyProblem::Edited { id, seq }]);
    assert!(bad.problems[0].to_string().contains(&format!("id={id}")));
    // Deleting a later entry is also found.
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(seq + 5)
        .execute(db.pool())
        .await
        .unwrap();
    let bad = audit::verify(db).await.unwrap();
    assert!(
        bad.problems.contains(&audit::VerifyProblem::Missing {
            after_seq: seq + 4,
            next_seq: seq + 6
        }),
        "{:?}",
        bad.problems
    );
    // And so is deleting the newest entry.
    let env2 = testing::demo_env().await.unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(env2.state.db.pool())
        .await
        .unwrap();
    let bad = audit::verify(&env2.state.db).await.unwrap();
    assert!(
        matches!(
            bad.problems.as_slice(),
            [audit::VerifyProblem::TailMissing { .. }]
        ),
        "{:?}",
        bad.problems.len()
    );
}

#[tokio::test]
async fn audit_page_for_auditors_only_and_scoped() {
    let server = demo_server().await;
    let aud = Client::signed_in(&server, "sf_auditor").await;
    let (s, page) = aud.text("/audit?action=org.create").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("审计日志") && page.contains("org.create"));
    let staff = Client::signed_in(&server, "sf_staff").await;
    let (s, _) = staff.text("/audit").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let server = demo_server().await;
    let c = Client::new(&server);
    let (s, body) = c.text("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("ok"));
    let (_, doc) = c.get_json("/api/v1/openapi.json").await;
    assert!(doc["paths"]["/api/v1/orgs"].is_object(), "{doc}");
    let (_, m) = c.text("/metrics").await;
    assert!(m.contains("http_requests_total"), "{m}");
}

#[tokio::test]
async fn admins_create_accounts_in_their_subtree_only() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let street = org_id(&c, "SF-01-S2").await;
    let sid = street.to_string();
    let (s, page) = c
        .post_form(
            "/users",
            &[
                ("username", "s2_clerk"),
                ("display_name", "街道干事"),
                ("role", "staff"),
                ("org_id", &sid),
                ("password", "Clerk2026x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("s2_clerk"));
    let other = orgs::get_by_code_unscoped(&server.state().db, "SF-02")
        .await
        .unwrap()
        .unwrap();
    let oid = other.id.to_string();
    let (s, _) = c
        .post_form(
            "/users",
            &[
                ("username", "spy"),
                ("display_name", "x"),
                ("role", "admin"),
                ("org_id", &oid),
                ("password", "Clerk2026x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, page) = c
        .post_form(
            "/users",
            &[
                ("username", "s2_clerk"),
                ("display_name", "重复"),
                ("role", "staff"),
                ("org_id", &sid),
                ("password", "Clerk2026x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("已被使用"));
    let new = Client::signed_in_with(&server, "s2_clerk", "Clerk2026x").await;
    let (_, list) = new.get_json("/api/v1/orgs").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["code"].as_str().unwrap().starts_with("SF-01-S2")));
}

#[tokio::test]
async fn cli_lists_orgs_verifies_audit_and_backs_up() {
    let env = testing::demo_env().await.unwrap();
    let dir = env.data_dir();
    let url = env.database_url.clone();
    env.state.db.close().await;
    let bin = env!("CARGO_BIN_EXE_gonghui");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(bin);
        cmd.arg("--data-dir")
            .arg(&dir)
            .env("GONGHUI_MASTER_KEY", "42".repeat(32))
            .env("GONGHUI_LOG", "error");
        if let Some(u) = &url {
            cmd.arg("--database-url").arg(u);
        }
        cmd.args(args).output().unwrap()
    };
    let out = run(&["org", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &list.as_array().unwrap()[0];
    assert_eq!(first["code"], "SF");
    assert_eq!(first["level"], "city");
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["code"] == "SF-01-S1-001"
            && o["level"] == "grassroots"
            && o["parent"] == "SF-01-S1"));
    let out = run(&["audit", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    if url.is_none() {
        let backup = dir.join("copy.db");
        let out = run(&["backup", "--to", backup.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::metadata(&backup).unwrap().len() > 10_000);
        let out = run(&["backup", "--to", backup.to_str().unwrap()]);
        assert!(!out.status.success(), "refuses to overwrite");
    }
    // Tamper and verify again through the CLI.
    let state = gonghui::platform::open(
        gonghui::platform::config::Config {
            data_dir: dir.clone(),
            database_url: url.clone().map(gonghui::platform::config::Secret::new),
            // The key the database was made with (another one is refused).
            master_key: Some(gonghui::platform::config::Secret::new("42".repeat(32))),
            ..Default::default()
        },
        gonghui::modules::registry(),
    )
    .await
    .unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM audit_log ORDER BY seq LIMIT 1 OFFSET 3")
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = $1")
        .bind(id)
        .execute(state.db.pool())
        .await
        .unwrap();
    state.db.close().await;
    let out = run(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("id={id}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
