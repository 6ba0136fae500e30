//! Accounts and sessions to 等保 level-3 expectations, end to end: the
//! lockout under parallel guesses, one answer for every refused sign-in,
//! Argon2 off the async workers, the password policy, the idle timeout,
//! disable / enable / unlock / forced password change from the accounts
//! page, and `unmask` only where granted. SQLite by default, PostgreSQL
//! when GONGHUI_TEST_DATABASE_URL is set.

use std::{sync::Arc, time::Duration};

use crate::common::{audit_count, Client, PW};
use gonghui::{platform::auth, testing};
use reqwest::StatusCode;

async fn server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_orgs_env().await.unwrap())
        .await
        .unwrap()
}

/// A server whose sessions end after `idle_minutes` without a request.
async fn server_with_idle(idle_minutes: u64) -> testing::TestServer {
    let mut env = testing::demo_orgs_env().await.unwrap();
    let mut cfg = (*env.state.cfg).clone();
    cfg.idle_minutes = idle_minutes;
    env.state.cfg = Arc::new(cfg);
    testing::TestServer::start(env).await.unwrap()
}

async fn user_id(server: &testing::TestServer, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

/// The reasons recorded for refused sign-ins of `name`, oldest first.
async fn refusal_reasons(server: &testing::TestServer, name: &str) -> Vec<String> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'auth.login_failed' AND actor = $1 ORDER BY seq",
    )
    .bind(name)
    .fetch_all(server.state().db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(d).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The error paragraph of a login page.
fn login_error(page: &str) -> &str {
    let i = page.find("class=\"err\"").expect("an error on the page");
    let rest = &page[i..];
    &rest[..rest.find("</p>").unwrap()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_guesses_lock_the_account_exactly_at_the_limit() {
    let server = server().await;
    let mut clients = Vec::new();
    for _ in 0..12 {
        let c = Client::new(&server);
        c.text("/login").await; // the anonymous CSRF cookie
        clients.push(c);
    }
    let guesses: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            tokio::spawn(async move { c.login("jiaoyu_admin", &format!("Wrong@{i}x")).await })
        })
        .collect();
    for g in guesses {
        let (s, page) = g.await.unwrap();
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("用户名或密码错误"));
    }
    let (failed, locked): (i64, Option<String>) = sqlx::query_as(
        "SELECT failed_logins, locked_until FROM users WHERE username = 'jiaoyu_admin'",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(failed, auth::MAX_FAILURES);
    assert!(locked.is_some());
    let reasons = refusal_reasons(&server, "jiaoyu_admin").await;
    assert_eq!(reasons.len(), 12);
    assert_eq!(reasons.iter().filter(|r| *r == "wrong_password").count(), 5);
    assert_eq!(reasons.iter().filter(|r| *r == "locked").count(), 7);
}

#[tokio::test]
async fn wrong_unknown_locked_and_disabled_get_the_same_answer() {
    let server = server().await;
    let admin = Client::signed_in(&server, "sf_admin").await;
    let mut c = Client::new(&server);
    let mut answers = Vec::new();
    let mut timings = Vec::new();
    // Warm the pages and connections up before timing.
    c.login("no_such_user", PW).await;
    c.login("weishui_staff", "Wrong@2025").await;
    // Each kind three times; the fastest of the three is its cost (other
    // tests in this process share the Argon2 limit and only add delay).
    let mut attempt = async |c: &mut Client, user: &str, pw: &str| {
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let (s, page) = c.login(user, pw).await;
            best = best.min(t.elapsed());
            answers.push((s, login_error(&page).to_string()));
        }
        timings.push(best);
    };
    attempt(&mut c, "weishui_staff", "Wrong@2026").await;
    attempt(&mut c, "no_such_user", PW).await;
    let id = user_id(&server, "weishui_staff").await;
    let (s, _) = admin.post_form(&format!("/users/{id}/disable"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    attempt(&mut c, "weishui_staff", PW).await;
    admin.post_form(&format!("/users/{id}/enable"), &[]).await;
    sqlx::query("UPDATE users SET locked_until = '2999-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(id)
        .execute(server.state().db.pool())
        .await
        .unwrap();
    attempt(&mut c, "weishui_staff", PW).await;
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:#?}");
    assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
    let n = |r: &str, k: usize| std::iter::repeat_n(r.to_string(), k);
    let expected: Vec<String> = n("wrong_password", 4)
        .chain(n("disabled", 3))
        .chain(n("locked", 3))
        .collect();
    assert_eq!(refusal_reasons(&server, "weishui_staff").await, expected);
    assert_eq!(
        refusal_reasons(&server, "no_such_user").await,
        n("unknown_user", 4).collect::<Vec<_>>()
    );
    eprintln!("refusal timings, fastest of 3 (wrong, unknown, disabled, locked): {timings:?}");
    let (lo, hi) = (timings.iter().min().unwrap(), timings.iter().max().unwrap());
    // One Argon2 verification each: alike within a loose bound.
    assert!(
        hi.as_secs_f64() < lo.as_secs_f64() * 3.0 + 0.05,
        "{timings:?}"
    );
    // Unlocked from the accounts page, the account signs in again.
    let (s, page) = admin.post_form(&format!("/users/{id}/unlock"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    Client::signed_in(&server, "weishui_staff").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_logins_does_not_stall_other_requests() {
    let server = server().await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let c = Client::new(&server);
        c.text("/login").await;
        clients.push(c);
    }
    let start = std::time::Instant::now();
    let logins: Vec<_> = clients
        .into_iter()
        .map(|mut c| tokio::spawn(async move { c.login("sf_staff", PW).await.0 }))
        .collect();
    let probe = Client::new(&server);
    let mut worst = Duration::ZERO;
    let mut probes = 0;
    while !logins.iter().all(|l| l.is_finished()) {
        let t = std::time::Instant::now();
        let (s, _) = probe.text("/healthz").await;
        assert_eq!(s, StatusCode::OK);
        worst = worst.max(t.elapsed());
        probes += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for l in logins {
        assert_eq!(l.await.unwrap(), StatusCode::OK);
    }
    let burst = start.elapsed();
    eprintln!(
        "20 logins in {burst:?} (Argon2 limit {}); /healthz worst {worst:?} over {probes} probes",
        auth::argon_concurrency()
    );
    assert!(probes >= 3, "the burst was too short to probe ({burst:?})");
    assert!(
        worst < Duration::from_millis(500),
        "/healthz took {worst:?} during the burst"
    );
}

#[tokio::test]
async fn the_password_policy_is_enforced_on_create_and_change() {
    let server = server().await;
    let admin = Client::signed_in(&server, "qinchuan_admin").await;
    let org = crate::common::org_id(&admin, "SF-01-S2").await.to_string();
    for (pw, zh) in [
        ("short1A", "至少8位"),
        ("lowercase123", "至少三类"),
        ("S2_clerk-2026", "不能包含用户名"),
    ] {
        let (s, page) = admin
            .post_form(
                "/users",
                &[
                    ("username", "s2_clerk"),
                    ("display_name", "街道干事"),
                    ("role", "staff"),
                    ("org_id", &org),
                    ("password", pw),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{pw}");
        assert!(page.contains(zh), "{pw}: {page}");
    }
    assert_eq!(user_count(&server, "s2_clerk").await, 0, "nothing written");
    // English refusals too.
    admin.text("/lang/en?next=/users").await;
    let (s, page) = admin
        .post_form(
            "/users",
            &[
                ("username", "s2_clerk"),
                ("display_name", "x"),
                ("role", "staff"),
                ("org_id", &org),
                ("password", "lowercase123"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("at least three of"), "{page}");
    // Changing one's own password: the same policy.
    let c = Client::signed_in(&server, "qinchuan_staff").await;
    for (cur, new, zh) in [
        ("Wrong@2026", "New@Pass2026", "当前密码不正确"),
        (PW, "weakpassword", "至少三类"),
        (PW, "Qinchuan_Staff1", "不能包含用户名"),
        (PW, PW, "不能与当前密码相同"),
    ] {
        let (s, page) = c
            .post_form(
                "/password",
                &[("current", cur), ("new", new), ("confirm", new)],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        assert!(page.contains(zh), "{new}: {page}");
    }
    let (s, _) = c
        .post_form(
            "/password",
            &[
                ("current", PW),
                ("new", "New@Pass2026"),
                ("confirm", "New@Pass2026"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    Client::signed_in_with(&server, "qinchuan_staff", "New@Pass2026").await;
    assert_eq!(audit_count(&server, "user.password_change").await, 1);
}

async fn user_count(server: &testing::TestServer, name: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_idle_session_is_signed_out_and_the_page_goes_to_login() {
    let server = server_with_idle(1).await;
    let c = Client::signed_in(&server, "sf_staff").await;
    let (s, _) = c.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::OK);
    // Within the minute: last activity is not rewritten on every request.
    let seen = || async {
        sqlx::query_scalar::<_, String>("SELECT last_seen FROM sessions")
            .fetch_one(server.state().db.pool())
            .await
            .unwrap()
    };
    let before = seen().await;
    c.get_json("/api/v1/orgs").await;
    assert_eq!(seen().await, before);
    // Two minutes without a request, with a one-minute timeout.
    sqlx::query("UPDATE sessions SET last_seen = $1")
        .bind(gonghui::platform::time::to_rfc3339(
            gonghui::platform::time::now() - chrono::Duration::minutes(2),
        ))
        .execute(server.state().db.pool())
        .await
        .unwrap();
    let r = c.http.get(format!("{}/orgs", c.base)).send().await.unwrap();
    assert_eq!(r.url().path(), "/login", "redirected to sign in");
    assert_eq!(r.url().query(), Some("next=/orgs"));
    let (s, _) = c.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(audit_count(&server, "auth.idle_timeout").await, 1);
}

#[tokio::test]
async fn admins_disable_unlock_and_force_a_change_in_their_subtree_only() {
    let server = server().await;
    let admin = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, page) = admin.text("/users").await;
    assert_eq!(s, StatusCode::OK);
    let clerk = user_id(&server, "qinchuan_staff").await;
    assert!(page.contains(&format!("/users/{clerk}/disable")));
    assert!(page.contains(&format!("/users/{clerk}/force-password-change")));
    // Disable: the clerk's session ends and sign-in is refused.
    let staff = Client::signed_in(&server, "qinchuan_staff").await;
    let (s, _) = admin
        .post_form(&format!("/users/{clerk}/disable"), &[])
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = staff.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "its session ended");
    let (s, _) = Client::new(&server).login("qinchuan_staff", PW).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = admin.text("/users").await;
    assert!(page.contains(&format!("/users/{clerk}/enable")));
    admin
        .post_form(&format!("/users/{clerk}/enable"), &[])
        .await;
    // Force a change: after sign-in every page leads to /password.
    admin
        .post_form(&format!("/users/{clerk}/force-password-change"), &[])
        .await;
    let staff = Client::signed_in(&server, "qinchuan_staff").await;
    let r = staff
        .http
        .get(format!("{}/members", staff.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/password");
    let page = r.text().await.unwrap();
    assert!(page.contains("管理员要求您修改密码"));
    let (s, v) = staff.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = staff
        .post_form(
            "/password",
            &[
                ("current", PW),
                ("new", "Changed@2026"),
                ("confirm", "Changed@2026"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = staff.get_json("/api/v1/orgs").await;
    assert_eq!(s, StatusCode::OK, "free again after the change");
    // Unlock.
    sqlx::query("UPDATE users SET failed_logins = 7, locked_until = '2999-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(clerk)
        .execute(server.state().db.pool())
        .await
        .unwrap();
    let (_, page) = admin.text("/users").await;
    assert!(page.contains(&format!("/users/{clerk}/unlock")));
    admin
        .post_form(&format!("/users/{clerk}/unlock"), &[])
        .await;
    Client::signed_in_with(&server, "qinchuan_staff", "Changed@2026").await;
    for a in [
        "user.disable",
        "user.enable",
        "user.force_password_change",
        "user.unlock",
    ] {
        assert_eq!(audit_count(&server, a).await, 1, "{a}");
    }
    // Outside the subtree: 404, audited, nothing changed.
    let other = user_id(&server, "weishui_staff").await;
    let denied = audit_count(&server, "scope.denied").await;
    for action in ["disable", "unlock", "force-password-change", "enable"] {
        let (s, page) = admin
            .post_form(&format!("/users/{other}/{action}"), &[])
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{action}");
        assert!(page.contains("找不到"));
    }
    assert_eq!(audit_count(&server, "scope.denied").await, denied + 4);
    let (active, must): (i64, i64) =
        sqlx::query_as("SELECT active, must_change_password FROM users WHERE id = $1")
            .bind(other)
            .fetch_one(server.state().db.pool())
            .await
            .unwrap();
    assert_eq!((active, must), (1, 0));
    // Staff cannot use the actions at all.
    let staff = Client::signed_in(&server, "weishui_staff").await;
    let (s, _) = staff
        .post_form(&format!("/users/{clerk}/disable"), &[])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unmask_is_a_permission_granted_explicitly() {
    let server = server().await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let s = county.export_api("unmasked=1").await.status();
    assert_eq!(s, StatusCode::FORBIDDEN, "an admin without the grant");
    let s = city.export_api("unmasked=1").await.status();
    assert_eq!(s, StatusCode::OK, "the demo grants it to sf_admin");
    // Only a holder can grant it: the county admin cannot.
    let org = crate::common::org_id(&county, "SF-01").await.to_string();
    let (s, page) = county
        .post_form(
            "/users",
            &[
                ("username", "qc_sneaky"),
                ("display_name", "县管理员"),
                ("role", "staff"),
                ("org_id", org.as_str()),
                ("password", "Grant@2026"),
                ("unmask", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("不能授予他人"), "{page}");
    assert_eq!(user_count(&server, "qc_sneaky").await, 0);
    // Granted on the accounts form by the city admin, who holds it.
    for (name, unmask) in [("qc_plain", None), ("qc_unmask", Some("1"))] {
        let mut f = vec![
            ("username", name),
            ("display_name", "县管理员"),
            ("role", "admin"),
            ("org_id", org.as_str()),
            ("password", "Grant@2026"),
        ];
        if let Some(u) = unmask {
            f.push(("unmask", u));
        }
        let (s, page) = city.post_form("/users", &f).await;
        assert_eq!(s, StatusCode::OK, "{page}");
    }
    let plain = Client::signed_in_with(&server, "qc_plain", "Grant@2026").await;
    let granted = Client::signed_in_with(&server, "qc_unmask", "Grant@2026").await;
    let s = plain.export_api("unmasked=1").await.status();
    assert_eq!(s, StatusCode::FORBIDDEN);
    let s = granted.export_api("unmasked=1").await.status();
    assert_eq!(s, StatusCode::OK);
    let (_, page) = county.text("/users").await;
    assert!(
        page.contains("qc_unmask"),
        "the county admin sees the account"
    );
}
