//! Web hardening and integrity end to end, on SQLite by default or on
//! PostgreSQL when GONGHUI_TEST_DATABASE_URL is set: security headers and
//! `no-store` on pages, the API, errors and downloads; the health check's
//! body; the CSRF token in a URL refused outside multipart; the pages free
//! of inline script (the CSP forbids it); org moves racing each other and
//! a create, leaving every path consistent.

use std::collections::HashMap;

use crate::common::{org_id, Client};
use gonghui::{
    orgs::store::{self as orgs, OrgInput},
    platform::{ids::OrgId, scope::Scope, tree},
    testing,
};
use reqwest::StatusCode;

async fn demo_server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

fn assert_hardened(r: &reqwest::Response, what: &str) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {csp}");
    }
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["cache-control"], "no-store", "{what}");
    // The demo serves plain HTTP: no HSTS.
    assert!(h.get("strict-transport-security").is_none(), "{what}");
}

#[tokio::test]
async fn pages_api_errors_and_downloads_carry_the_security_headers_and_no_store() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    for path in [
        "/orgs".to_string(),
        format!("/orgs/{county}"),
        "/api/v1/orgs".to_string(),
        "/no-such-page".to_string(),
        "/api/v1/no-such-thing".to_string(),
        "/healthz".to_string(),
    ] {
        let r = c.http.get(c.base.clone() + &path).send().await.unwrap();
        assert_hardened(&r, &path);
        if path.contains("no-such") {
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        } else {
            assert_eq!(r.status(), StatusCode::OK, "{path}");
        }
        if path.contains("export") {
            assert!(
                r.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment"),
                "{path}"
            );
        }
    }
    // The figures export (a POST; GET is not a route).
    let path = format!("/reports/export.xlsx?org={county}&period=2026");
    let r = c.http.get(c.base.clone() + &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    let r = c
        .http
        .post(c.base.clone() + &path)
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_hardened(&r, &path);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    // The roster export (a POST).
    let r = c.export_page("format=xlsx").await;
    assert_hardened(&r, "/members/export");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    // An anonymous page too (it carries a CSRF token).
    let anon = Client::new(&server);
    let r = anon
        .http
        .get(anon.base.clone() + "/login")
        .send()
        .await
        .unwrap();
    assert_hardened(&r, "/login");
}

#[tokio::test]
async fn healthz_answers_only_ok() {
    let server = demo_server().await;
    let c = Client::new(&server);
    let (s, body) = c.text("/healthz").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
    server.state().db.close().await;
    let (s, body) = c.text("/healthz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"status":"error"}"#, "no database error text");
}

#[tokio::test]
async fn a_csrf_token_in_the_query_of_a_plain_form_is_refused() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let edit = |q: String, body: Vec<(&'static str, String)>| {
        c.http
            .post(format!("{}/orgs/{county}/edit{q}", c.base))
            .form(&body)
            .send()
    };
    let r = edit(
        format!("?_csrf={}", c.csrf),
        vec![("name", "改名的区总工会".to_string())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(page.contains("CSRF"), "{page}");
    // Nothing was written.
    let (_, v) = c.get_json(&format!("/api/v1/orgs/{county}")).await;
    assert_ne!(v["name"], "改名的区总工会", "{v}");
    // Signing out with the token only in the URL is refused as well; with
    // the form field it works.
    let r = c
        .http
        .post(format!("{}/logout?_csrf={}", c.base, c.csrf))
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _) = c.post_form("/logout", &[]).await;
    assert_eq!(s, StatusCode::OK);
}

/// The CSP allows no inline script: no page may carry one.
#[tokio::test]
async fn pages_carry_no_inline_script() {
    let server = demo_server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let mut paths = vec![
        "/".to_string(),
        "/orgs".to_string(),
        format!("/orgs/{county}"),
        format!("/orgs/{county}/edit"),
        format!("/orgs/{county}/new"),
        "/members".to_string(),
        "/members/new".to_string(),
        "/members/import".to_string(),
        "/members/joins".to_string(),
        "/members/joins/qr".to_string(),
        "/reports".to_string(),
        "/reports/table".to_string(),
        "/reviews".to_string(),
        "/no-such-page".to_string(),
    ];
    paths.push("/login".to_string());
    let inline_handler = regex_lite_handlers();
    for path in paths {
        let (_, page) = c.text(&path).await;
        for (i, _) in page.match_indices("<script") {
            let tag = &page[i..page[i..].find('>').map(|j| i + j).unwrap_or(page.len())];
            assert!(
                tag.contains(" src=\"/assets/"),
                "{path}: inline script {tag}"
            );
        }
        assert!(!page.contains("javascript:"), "{path}");
        for h in &inline_handler {
            assert!(!page.contains(h.as_str()), "{path}: inline handler {h}");
        }
    }
}

fn regex_lite_handlers() -> Vec<String> {
    [
        "onclick", "onsubmit", "onchange", "onload", "oninput", "onerror",
    ]
    .iter()
    .map(|h| format!(" {h}="))
    .collect()
}

/// Every org's path is its parent's path plus its own id, and its region
/// root is the second element of its path.
async fn assert_paths_consistent(db: &gonghui::platform::db::Db) {
    let rows: Vec<(i64, Option<i64>, String, Option<i64>)> =
        sqlx::query_as("SELECT id, parent_id, path, region_root FROM orgs")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let paths: HashMap<i64, String> = rows.iter().map(|(id, _, p, _)| (*id, p.clone())).collect();
    for (id, parent, path, region_root) in &rows {
        let expected = match parent {
            Some(p) => format!("{}{id}/", paths[p]),
            None => format!("/{id}/"),
        };
        assert_eq!(path, &expected, "org {id}");
        let second = path
            .split('/')
            .filter(|s| !s.is_empty())
            .nth(1)
            .map(|s| s.parse::<i64>().unwrap());
        assert_eq!(region_root, &second, "org {id} region root");
    }
}

async fn by_code(db: &gonghui::platform::db::Db, code: &str) -> OrgId {
    orgs::get_by_code_unscoped(db, code)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn move_both(
    db: &gonghui::platform::db::Db,
    scope: &Scope,
    a: (OrgId, OrgId),
    b: (OrgId, OrgId),
) -> (Result<orgs::Org, String>, Result<orgs::Org, String>) {
    let (db1, s1, db2, s2) = (db.clone(), scope.clone(), db.clone(), scope.clone());
    let t1 = tokio::spawn(async move {
        orgs::move_subtree(&db1, &s1, a.0, a.1)
            .await
            .map_err(|e| e.user_message().en.to_string())
    });
    let t2 = tokio::spawn(async move {
        orgs::move_subtree(&db2, &s2, b.0, b.1)
            .await
            .map_err(|e| e.user_message().en.to_string())
    });
    (t1.await.unwrap(), t2.await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_org_moves_leave_every_path_consistent() {
    let env = testing::demo_orgs_env().await.unwrap();
    let db = &env.state.db;
    let scope = tree::system_scope(db).await.unwrap();
    let root = orgs::root(db).await.unwrap().unwrap().id;
    // An industry union (under the city), two counties, a street of the first.
    let industry: (i64, String) =
        sqlx::query_as("SELECT id, code FROM orgs WHERE level = 'industry' ORDER BY id LIMIT 1")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let industry = OrgId(industry.0);
    let c1 = by_code(db, "SF-01").await;
    let c2 = by_code(db, "SF-02").await;
    let street: (i64, String) = sqlx::query_as(
        "SELECT id, code FROM orgs WHERE level = 'street' AND parent_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(c1.0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let (street, street_code) = (OrgId(street.0), street.1);

    // Crossing moves: the industry union under the county and the county
    // under the industry union at the same time. One succeeds; the other is
    // refused with a message (a county cannot sit under an industry union,
    // nor under its own descendant).
    let (a, b) = move_both(db, &scope, (industry, c1), (c1, industry)).await;
    assert!(a.is_ok(), "{a:?}");
    let msg = b.unwrap_err();
    assert!(
        msg.contains("cannot be placed") || msg.contains("its own descendant"),
        "{msg}"
    );
    assert_paths_consistent(db).await;
    orgs::move_subtree(db, &scope, industry, root)
        .await
        .unwrap();
    assert_paths_consistent(db).await;

    for i in 0..8 {
        // Into a subtree that is moving: the street under the industry
        // union while the industry union moves to the second county; and a
        // new union created under the street meanwhile.
        let create = {
            let (db, scope) = (db.clone(), scope.clone());
            let code = format!("{street_code}-H{i:02}");
            tokio::spawn(async move {
                let f = OrgInput {
                    code,
                    name: format!("并发测试工会{i}"),
                    level: "grassroots".into(),
                    org_type: "企业".into(),
                    ..Default::default()
                }
                .parse()
                .unwrap();
                orgs::create(&db, &scope, street, &f).await.map(|_| ())
            })
        };
        let (a, b) = move_both(db, &scope, (street, industry), (industry, c2)).await;
        a.unwrap();
        b.unwrap();
        create.await.unwrap().unwrap();
        assert_paths_consistent(db).await;
        let s = orgs::get_unscoped(db, street).await.unwrap().unwrap();
        let c2_path = orgs::get_unscoped(db, c2).await.unwrap().unwrap().path;
        assert_eq!(s.path, format!("{c2_path}{}/{}/", industry.0, street.0));

        // Out of a subtree that is moving: the street back to its county
        // while the industry union goes back to the city.
        let (a, b) = move_both(db, &scope, (street, c1), (industry, root)).await;
        a.unwrap();
        b.unwrap();
        assert_paths_consistent(db).await;
        let s = orgs::get_unscoped(db, street).await.unwrap().unwrap();
        let c1_path = orgs::get_unscoped(db, c1).await.unwrap().unwrap().path;
        assert_eq!(s.path, format!("{c1_path}{}/", street.0));
    }
    // Every move is in the history and the audit chain still verifies.
    let report = gonghui::platform::audit::verify(db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
