//! One-time codes on the public join pages: applying and reading the status
//! page need the code texted to the phone given; a wrong, expired or used
//! code is refused and stores or shows nothing; asking for a code answers
//! the same whoever the ID belongs to. SQLite by default, PostgreSQL when
//! GONGHUI_TEST_DATABASE_URL is set.

use std::time::Duration;

use crate::common::{csrf_in, join_code, post_with_code, sms, Client};
use gonghui::{members::otp, testing};
use reqwest::{Method, StatusCode};
use sqlx::Row;

const UNION: &str = "SF-01-S1-001";
const ID: &str = "110102199001011233";
const PHONE: &str = "13512345678";

async fn server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

async fn anon(server: &testing::TestServer) -> Client {
    let mut c = Client::new(server);
    let (s, page) = c.text(&format!("/join/{UNION}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    c.csrf = csrf_in(&page).unwrap();
    c
}

async fn requests(server: &testing::TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM join_requests")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

fn form<'a>(id: &'a str, phone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "验证码测试"),
        ("id_kind", "居民身份证"),
        ("id_number", id),
        ("phone", phone),
        ("workplace", "华秦纺织有限公司"),
        ("migrant", "否"),
    ]
}

fn with<'a>(f: &[(&'a str, &'a str)], code: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut all = f.to_vec();
    all.push(("code", code));
    all
}

fn other_than(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

fn refused(s: StatusCode, page: &str) {
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("验证码不正确或已过期"), "{page}");
}

#[tokio::test]
async fn applying_needs_the_code_texted_to_the_phone() {
    let server = server().await;
    let c = anon(&server).await;
    let path = format!("/join/{UNION}");
    let f = form(ID, PHONE);
    // The form asks for a code first; no code, no application.
    let (_, page) = c.text(&path).await;
    assert!(
        page.contains(&format!("formaction=\"/join/{UNION}/code\"")),
        "{page}"
    );
    assert!(!page.contains("name=\"code\""), "{page}");
    let (s, page) = c.post_form(&path, &f).await;
    refused(s, &page);
    assert_eq!(requests(&server).await, 0);
    // Getting one shows the form again, filled in, with the code field.
    let (s, page) = c.post_form(&format!("{path}/code"), &f).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("name=\"code\"") && page.contains("验证码已发送"),
        "{page}"
    );
    assert!(page.contains(ID), "the form keeps what was typed");
    let code = sms(&server).last_code(PHONE).expect("a code was texted");
    assert_eq!(code.len(), 6);
    // A wrong code, or the code of another phone: refused, nothing stored.
    let (s, page) = c.post_form(&path, &with(&f, other_than(&code))).await;
    refused(s, &page);
    assert!(
        page.contains("name=\"code\""),
        "the code field stays: {page}"
    );
    let (s, page) = c
        .post_form(&path, &with(&form(ID, "13512345679"), &code))
        .await;
    refused(s, &page);
    assert_eq!(requests(&server).await, 0);
    // The right code (a try remains) is taken, once.
    let (s, page) = c.post_form(&path, &with(&f, &code)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(requests(&server).await, 1);
    let (s, page) = c.post_form(&path, &with(&f, &code)).await;
    refused(s, &page);
    // An invalid form does not use up the code.
    let code = join_code(&server, &c, &path, &f).await.unwrap();
    let mut bad = with(&f, &code);
    bad[0].1 = "";
    let (s, page) = c.post_form(&path, &bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(!page.contains("验证码不正确"), "{page}");
    let (s, page) = c.post_form(&path, &with(&f, &code)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(requests(&server).await, 1, "the same pending application");
}

#[tokio::test]
async fn expired_and_exhausted_codes_are_refused() {
    let server = server().await;
    let c = anon(&server).await;
    let path = format!("/join/{UNION}");
    let f = form(ID, PHONE);
    // Expired: older than ten minutes.
    let code = join_code(&server, &c, &path, &f).await.unwrap();
    otp::of(server.state()).age_all(Duration::from_secs(otp::VALID_MINUTES * 60 + 1));
    let (s, page) = c.post_form(&path, &with(&f, &code)).await;
    refused(s, &page);
    // Five wrong tries and the right code is gone.
    let code = join_code(&server, &c, &path, &f).await.unwrap();
    for _ in 0..otp::MAX_TRIES {
        let (s, page) = c.post_form(&path, &with(&f, other_than(&code))).await;
        refused(s, &page);
    }
    let (s, page) = c.post_form(&path, &with(&f, &code)).await;
    refused(s, &page);
    // A new code replaces the previous one.
    let old = join_code(&server, &c, &path, &f).await.unwrap();
    let new = join_code(&server, &c, &path, &f).await.unwrap();
    if old != new {
        let (s, page) = c.post_form(&path, &with(&f, &old)).await;
        refused(s, &page);
    }
    let (s, page) = c.post_form(&path, &with(&f, &new)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn the_status_page_without_a_valid_code_reveals_nothing() {
    let server = server().await;
    let c = anon(&server).await;
    let (s, page) = post_with_code(&server, &c, &format!("/join/{UNION}"), &form(ID, PHONE)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    // The union approves: the status page would hand out the card.
    let rid: i64 = sqlx::query_scalar("SELECT id FROM join_requests ORDER BY id DESC LIMIT 1")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (s, v) = clerk
        .json(Method::POST, &format!("/api/v1/joins/{rid}/approve"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let union_name: String = sqlx::query("SELECT name FROM orgs WHERE code = $1")
        .bind(UNION)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
        .try_get("name")
        .unwrap();
    let fields = [("id_number", ID), ("phone", PHONE)];
    let reveals = |page: &str| {
        page.contains("id=\"status\"")
            || page.contains("验证码测试")
            || page.contains(&union_name)
            || page.contains("/cards/view")
            || page.contains("member-no")
    };
    // No code, a wrong code, an expired code, a used code: 422, nothing shown.
    let (s, page) = c.post_form("/join/status", &fields).await;
    refused(s, &page);
    assert!(!reveals(&page), "{page}");
    let code = join_code(&server, &c, "/join/status", &fields)
        .await
        .unwrap();
    let (s, page) = c
        .post_form("/join/status", &with(&fields, other_than(&code)))
        .await;
    refused(s, &page);
    assert!(!reveals(&page), "{page}");
    otp::of(server.state()).age_all(Duration::from_secs(otp::VALID_MINUTES * 60 + 1));
    let (s, page) = c.post_form("/join/status", &with(&fields, &code)).await;
    refused(s, &page);
    assert!(!reveals(&page), "{page}");
    // The right code shows the result and the card, once.
    let code = join_code(&server, &c, "/join/status", &fields)
        .await
        .unwrap();
    let (s, page) = c.post_form("/join/status", &with(&fields, &code)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(reveals(&page) && page.contains("/cards/view"), "{page}");
    let (s, page) = c.post_form("/join/status", &with(&fields, &code)).await;
    refused(s, &page);
    assert!(!reveals(&page), "{page}");
}

#[tokio::test]
async fn asking_for_a_code_answers_the_same_for_a_member_an_applicant_and_a_stranger() {
    let server = server().await;
    let c = anon(&server).await;
    let member_enc: String = sqlx::query_scalar(
        "SELECT p.id_enc FROM persons p JOIN memberships m ON m.person_id = p.id \
         WHERE m.status = 'active' AND p.id_kind = 'resident_id' ORDER BY m.id LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let member = server.state().keys.decrypt(&member_enc).unwrap();
    let (s, page) = post_with_code(&server, &c, &format!("/join/{UNION}"), &form(ID, PHONE)).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let stranger = "11010519850707456X";
    let mut pages = Vec::new();
    for (id, phone) in [
        (&member[..], "13600000001"),
        (ID, PHONE),
        (stranger, "13600000003"),
    ] {
        for path in [
            "/join/status/code".to_string(),
            format!("/join/{UNION}/code"),
        ] {
            let (s, page) = c.post_form(&path, &form(id, phone)).await;
            assert_eq!(s, StatusCode::OK, "{id} {path}: {page}");
            assert!(sms(&server).last_code(phone).is_some());
            pages.push(page.replace(id, "ID").replace(phone, "PHONE"));
        }
    }
    assert_eq!(pages[0], pages[2], "status: member vs applicant");
    assert_eq!(pages[0], pages[4], "status: member vs stranger");
    assert_eq!(pages[1], pages[3], "apply: member vs applicant");
    assert_eq!(pages[1], pages[5], "apply: member vs stranger");
}
