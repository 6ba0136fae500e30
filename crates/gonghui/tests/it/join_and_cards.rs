//! Online join (网上入会) and member cards (会员服务卡) end to end, through
//! the real server, on SQLite by default or on PostgreSQL when
//! GONGHUI_TEST_DATABASE_URL is set.

use crate::common::{csrf_in, post_with_code, Client};
use gonghui::{members::card, testing};
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Row;

const UNION: &str = "SF-01-S1-001";

async fn demo_server() -> testing::TestServer {
    testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

/// A GB 11643 number from its first 17 digits, with the right check digit.
fn resident_id(body17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let s: u32 = body17
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body17}{}", C[(s % 11) as usize] as char)
}

/// The same number with a wrong check digit.
fn bad_check(id: &str) -> String {
    let last = id.chars().last().unwrap();
    let other = if last == '1' { '2' } else { '1' };
    format!("{}{other}", &id[..17])
}

async fn scalar(server: &testing::TestServer, sql: &str, arg: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(arg.to_string())
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

async fn join_count(server: &testing::TestServer) -> i64 {
    scalar(
        server,
        "SELECT COUNT(*) FROM join_requests WHERE status <> $1",
        "-",
    )
    .await
}

/// An anonymous phone: picks up the anonymous CSRF cookie from a page.
async fn applicant(server: &testing::TestServer) -> Client {
    let mut c = Client::new(server);
    let (s, page) = c.text(&format!("/join/{UNION}")).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    c.csrf = csrf_in(&page).expect("the join form carries a csrf token");
    c
}

async fn apply(
    server: &testing::TestServer,
    c: &Client,
    name: &str,
    id: &str,
    phone: &str,
) -> (StatusCode, String) {
    post_with_code(
        server,
        c,
        &format!("/join/{UNION}"),
        &apply_fields(name, id, phone),
    )
    .await
}

fn apply_fields<'a>(name: &'a str, id: &'a str, phone: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("id_kind", "居民身份证"),
        ("id_number", id),
        ("phone", phone),
        ("gender", ""),
        ("birth_date", ""),
        ("workplace", "华秦纺织有限公司"),
        ("new_employment_group", "外卖送餐员"),
        ("migrant", "是"),
    ]
}

async fn status(
    server: &testing::TestServer,
    c: &Client,
    id: &str,
    phone: &str,
) -> (StatusCode, String) {
    post_with_code(
        server,
        c,
        "/join/status",
        &[("id_number", id), ("phone", phone)],
    )
    .await
}

async fn request_id(server: &testing::TestServer, name: &str) -> i64 {
    scalar(
        server,
        "SELECT id FROM join_requests WHERE name = $1 ORDER BY id DESC LIMIT 1",
        name,
    )
    .await
}

/// The token of the status page's card link.
fn card_link_token(page: &str) -> String {
    let i = page.find("/cards/view?t=").expect("a card link") + "/cards/view?t=".len();
    let rest = &page[i..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn online_join_from_search_to_verified_card() {
    let server = demo_server().await;
    let union_name: String = sqlx::query_scalar("SELECT name FROM orgs WHERE code = $1")
        .bind(UNION)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();

    // Find the union by part of its name; only grassroots unions are listed.
    let anon = Client::new(&server);
    let part: String = union_name.chars().skip(2).take(4).collect();
    let (s, page) = anon.text(&format!("/join?q={}", urlencode(&part))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&format!("/join/{UNION}")), "{page}");
    let (_, page) = anon.text("/join?q=%E6%80%BB%E5%B7%A5%E4%BC%9A").await; // 总工会
    assert!(
        !page.contains("/join/SF-01\""),
        "county federations are not listed"
    );
    let (s, _) = anon.text("/join/SF-01").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "only grassroots unions take applications"
    );

    // Apply on a phone, without an account.
    let c = applicant(&server).await;
    let id = resident_id("61040219900315124");
    let (s, page) = apply(&server, &c, "王小丽", &id, "13912345678").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("申请已提交") && page.contains(&union_name),
        "{page}"
    );
    let r = sqlx::query("SELECT id_enc, id_masked, phone_enc, phone_masked, gender, birth_date, migrant, new_employment_group, status FROM join_requests WHERE name = '王小丽'")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    let id_enc: String = r.try_get("id_enc").unwrap();
    let phone_enc: String = r.try_get("phone_enc").unwrap();
    assert!(!id_enc.contains("610402") && !phone_enc.contains("1391234"));
    assert_eq!(server.state().keys.decrypt(&id_enc).unwrap(), id);
    assert_eq!(
        r.try_get::<String, _>("id_masked").unwrap(),
        format!("**************{}", &id[14..])
    );
    assert_eq!(
        r.try_get::<String, _>("phone_masked").unwrap(),
        "139****5678"
    );
    assert_eq!(
        r.try_get::<String, _>("gender").unwrap(),
        "female",
        "derived from the ID"
    );
    assert_eq!(
        r.try_get::<Option<String>, _>("birth_date")
            .unwrap()
            .as_deref(),
        Some("1990-03-15")
    );
    assert_eq!(r.try_get::<i64, _>("migrant").unwrap(), 1);
    assert_eq!(
        r.try_get::<String, _>("new_employment_group").unwrap(),
        "外卖送餐员"
    );

    // The applicant sees "pending"; a wrong phone finds nothing.
    let (s, page) = status(&server, &c, &id, "13912345678").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("待审核"), "{page}");
    let (s, page) = status(&server, &c, &id, "13900000000").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(page.contains("没有找到入会申请"), "{page}");

    // The clerk sees it masked, with the union's join QR code.
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (s, page) = clerk.text("/members/joins").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("王小丽") && page.contains("139****5678"),
        "{page}"
    );
    assert!(!page.contains(&id) && !page.contains("13912345678"));
    assert!(
        page.contains("<svg") && page.contains(&format!("/join/{UNION}")),
        "{page}"
    );
    let (s, page) = clerk.text(&format!("/members/joins/qr?org={UNION}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<svg") && page.contains(&union_name));

    // Approve: enrolled (入会 today) and a card issued.
    let rid = request_id(&server, "王小丽").await;
    let (s, page) = clerk
        .post_form(&format!("/members/joins/{rid}/approve"), &[])
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("会员服务卡") && page.contains("<svg"),
        "{page}"
    );
    let r = sqlx::query(
        "SELECT j.status, j.membership_id, m.member_no, m.joined_on, m.status AS ms, o.code, c.card_no, c.status AS cs \
         FROM join_requests j JOIN memberships m ON m.id = j.membership_id JOIN orgs o ON o.id = m.org_id \
         JOIN cards c ON c.membership_id = m.id WHERE j.id = $1",
    )
    .bind(rid)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(r.try_get::<String, _>("status").unwrap(), "approved");
    assert_eq!(r.try_get::<String, _>("ms").unwrap(), "active");
    assert_eq!(r.try_get::<String, _>("code").unwrap(), UNION);
    assert_eq!(
        r.try_get::<String, _>("joined_on").unwrap(),
        gonghui::platform::time::today().to_string()
    );
    let member_no: String = r.try_get("member_no").unwrap();
    let card_no: String = r.try_get("card_no").unwrap();
    let mid: i64 = r.try_get("membership_id").unwrap();
    assert!(
        card_no.starts_with("GH") && card_no.len() == 14,
        "{card_no}"
    );
    assert_eq!(r.try_get::<String, _>("cs").unwrap(), "active");
    assert!(page.contains(&card_no) && page.contains(&member_no));
    let events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM membership_events WHERE membership_id = $1 AND kind = 'join'",
    )
    .bind(mid)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(events, 1);
    assert_eq!(crate::common::audit_count(&server, "join.approve").await, 1);
    // A second approval is refused clearly.
    let (s, page) = clerk
        .post_form(&format!("/members/joins/{rid}/approve"), &[])
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("该申请已处理"), "{page}");

    // The applicant sees the member number and a link to the card.
    let (s, page) = status(&server, &c, &id, "139 1234 5678").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("已批准入会") && page.contains(&member_no),
        "{page}"
    );
    let token = card_link_token(&page);
    let (s, page) = c.text(&format!("/cards/view?t={token}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(&card_no) && page.contains("王**") && page.contains("<svg"),
        "{page}"
    );
    assert!(!page.contains("王小丽") && !page.contains(&id[..10]));

    // Verification: signed-in accounts only; masked name and union, never the ID.
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/cards/verify",
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/cards/verify",
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["valid"], true);
    assert_eq!(v["result"], "valid");
    assert_eq!(v["name_masked"], "王**");
    assert_eq!(v["union_name"], union_name.as_str());
    assert_eq!(v["card_no"], card_no.as_str());
    assert!(!v.to_string().contains(&id[6..14]), "{v}");
    let (s, page) = clerk.text(&format!("/cards/verify?t={token}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("有效会员") && page.contains("王**"), "{page}");
    assert_eq!(crate::common::audit_count(&server, "card.verify").await, 2);
    let report = gonghui::platform::audit::verify(&server.state().db)
        .await
        .unwrap();
    assert!(report.problems.is_empty());
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn bad_applications_are_refused_clearly_and_store_nothing() {
    let server = demo_server().await;
    let c = applicant(&server).await;
    let id = resident_id("61040219880521234");
    let before = join_count(&server).await;

    let (s, page) = apply(&server, &c, "赵强", &bad_check(&id), "13812345678").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("校验位错误"), "{page}");
    assert!(page.contains("赵强"), "the form keeps what was typed");

    let (s, page) = apply(&server, &c, "赵强", &id, "12812345678").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("手机号码应以13至19开头"), "{page}");
    let (s, page) = apply(&server, &c, "赵强", &id, "1381234567").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("应为11位"), "{page}");
    let (s, page) = apply(&server, &c, "赵强", &id, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("请填写手机号码"), "{page}");
    let (s, page) = apply(&server, &c, "", &id, "13812345678").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("姓名不能为空"), "{page}");
    assert_eq!(join_count(&server).await, before, "nothing stored");

    // The public page answers alike whether the ID has applied before, is a
    // member, or is nobody's: the union sees every application and decides.
    // The same ID and phone again is the same application.
    let (s, first) = apply(&server, &c, "赵强", &id, "13812345678").await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let (s, again) = apply(&server, &c, "赵强", &id, "13812345678").await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(
        join_count(&server).await,
        before + 1,
        "the same application"
    );
    let (s, other_phone) = apply(&server, &c, "赵强", &id, "13812345679").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(other_phone, first, "the same answer");
    assert_eq!(join_count(&server).await, before + 2);

    // An active member (from the demo roster) is told so, without the union.
    let r = sqlx::query(
        "SELECT p.id_enc FROM persons p JOIN memberships m ON m.person_id = p.id JOIN orgs o ON o.id = m.org_id \
         WHERE m.status = 'active' AND p.id_kind = 'resident_id' AND p.birth_date > '1980-01-01' AND o.code <> $1 \
         ORDER BY m.id LIMIT 1",
    )
    .bind(UNION)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let member_id = server
        .state()
        .keys
        .decrypt(&r.try_get::<String, _>("id_enc").unwrap())
        .unwrap();
    let (s, page) = apply(&server, &c, "在籍会员", &member_id, "13712345678").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(
        page,
        first.replace("赵强", "在籍会员"),
        "a member gets the stranger's answer"
    );
    assert_eq!(join_count(&server).await, before + 3);

    // A bad form submission without the CSRF token is refused.
    let mut no_csrf = Client::new(&server);
    no_csrf.csrf = "x".into();
    let (s, _) = apply(&server, &no_csrf, "赵强", &id, "13812345678").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Status lookups validate their input too.
    let (s, page) = status(&server, &c, &id, "123").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("应为11位"), "{page}");
}

/// An active membership of the grassroots union the clerk runs.
async fn member_of_union(server: &testing::TestServer) -> (i64, String) {
    let r = sqlx::query(
        "SELECT m.id, p.name FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id \
         WHERE o.code = $1 AND m.status = 'active' ORDER BY m.id LIMIT 1",
    )
    .bind(UNION)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    (r.try_get("id").unwrap(), r.try_get("name").unwrap())
}

async fn active_card(server: &testing::TestServer, mid: i64) -> String {
    sqlx::query_scalar("SELECT card_no FROM cards WHERE membership_id = $1 AND status = 'active'")
        .bind(mid)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn forged_altered_and_revoked_tokens_fail_verification() {
    let server = demo_server().await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (mid, name) = member_of_union(&server).await;

    let (s, page) = clerk.text(&format!("/members/{mid}/card")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("尚未发放会员服务卡"), "{page}");
    let (s, page) = clerk.post_form(&format!("/members/{mid}/card"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let first = active_card(&server, mid).await;
    assert!(page.contains(&first) && page.contains("<svg"), "{page}");
    let keys = &server.state().keys;
    let token = card::token(keys, &first);

    let verify = |t: String| {
        let clerk = &clerk;
        async move {
            let (s, v) = clerk
                .json(
                    Method::POST,
                    "/api/v1/cards/verify",
                    Some(json!({"token": t})),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{v}");
            v
        }
    };
    let v = verify(token.clone()).await;
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["name_masked"], card::mask_name(&name));

    // Altered: one character of the payload changed; another card number
    // under the old signature; a signature from another key; garbage.
    let mut altered = token.clone().into_bytes();
    altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let (_, sig) = token.split_once('.').unwrap();
    let other = card::token(keys, "GH000000000999");
    let (other_payload, _) = other.split_once('.').unwrap();
    let swapped = format!("{other_payload}.{sig}");
    let foreign = card::token(
        &gonghui::platform::crypto::Keys::from_master(&[1u8; 32]),
        &first,
    );
    for bad in [altered, swapped, foreign, "not-a-token".to_string()] {
        let v = verify(bad.clone()).await;
        assert_eq!(v["valid"], false, "{bad}: {v}");
        assert_eq!(v["result"], "forged", "{bad}: {v}");
        assert!(v["name_masked"].is_null() && v["union_name"].is_null());
        assert!(v["message"]["zh"].as_str().unwrap().contains("无效"), "{v}");
    }

    // Reissue: the old card is revoked and no longer verifies.
    let (s, _) = clerk.post_form(&format!("/members/{mid}/card"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let second = active_card(&server, mid).await;
    assert_ne!(first, second);
    let status: String = sqlx::query_scalar("SELECT status FROM cards WHERE card_no = $1")
        .bind(&first)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    assert_eq!(status, "revoked");
    let v = verify(token.clone()).await;
    assert_eq!(
        (v["valid"].clone(), v["result"].clone()),
        (json!(false), json!("revoked")),
        "{v}"
    );
    assert!(v["message"]["zh"].as_str().unwrap().contains("已作废"));
    let (s, page) = clerk.text(&format!("/cards/verify?t={token}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("已作废"), "{page}");
    let new_token = card::token(keys, &second);
    assert_eq!(verify(new_token.clone()).await["valid"], true);
    assert_eq!(crate::common::audit_count(&server, "card.reissue").await, 1);

    // A membership that ended makes the card invalid.
    sqlx::query("UPDATE memberships SET status = 'ended', ended_on = '2026-01-01' WHERE id = $1")
        .bind(mid)
        .execute(server.state().db.pool())
        .await
        .unwrap();
    let v = verify(new_token).await;
    assert_eq!(
        (v["valid"].clone(), v["result"].clone()),
        (json!(false), json!("ended")),
        "{v}"
    );
    // …and no new card can be issued for it.
    let (s, page) = clerk.post_form(&format!("/members/{mid}/card"), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("会籍已结束"), "{page}");
}

#[tokio::test]
async fn another_county_cannot_list_decide_or_touch_cards() {
    let server = demo_server().await;
    let c = applicant(&server).await;
    let id = resident_id("61040219920704567");
    let (s, page) = apply(&server, &c, "孙立", &id, "13612345678").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let rid = request_id(&server, "孙立").await;

    let other = Client::signed_in(&server, "weishui_admin").await;
    let denied_before = crate::common::audit_count(&server, "scope.denied").await;
    let (s, page) = other.text("/members/joins").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!page.contains("孙立"), "{page}");
    let (s, v) = other.get_json("/api/v1/joins").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v.as_array().unwrap().iter().all(|r| r["id"] != rid), "{v}");
    let (s, _) = other
        .post_form(&format!("/members/joins/{rid}/approve"), &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = other
        .post_form(
            &format!("/members/joins/{rid}/reject"),
            &[("reason", "不在本区")],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = other
        .json(Method::POST, &format!("/api/v1/joins/{rid}/approve"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "not_found");
    let (s, _) = other.text(&format!("/members/joins/qr?org={UNION}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Cards of the first county: neither seen nor issued.
    let (mid, _) = member_of_union(&server).await;
    let (s, _) = other.text(&format!("/members/{mid}/card")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = other.post_form(&format!("/members/{mid}/card"), &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let cards: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cards WHERE membership_id = $1")
        .bind(mid)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    assert_eq!(cards, 0);
    assert!(
        crate::common::audit_count(&server, "scope.denied").await >= denied_before + 6,
        "every refusal is audited"
    );
    let jr_status: String = sqlx::query_scalar("SELECT status FROM join_requests WHERE id = $1")
        .bind(rid)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    assert_eq!(jr_status, "pending");

    // The right county lists it; a rejection needs a reason, which the
    // applicant then reads.
    let own = Client::signed_in(&server, "qinchuan_admin").await;
    let (_, page) = own.text("/members/joins").await;
    assert!(page.contains("孙立"), "{page}");
    let (s, page) = own
        .post_form(&format!("/members/joins/{rid}/reject"), &[("reason", "  ")])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("请填写驳回原因"), "{page}");
    let (s, page) = own
        .post_form(
            &format!("/members/joins/{rid}/reject"),
            &[("reason", "工作单位不在本工会覆盖范围,请向所在单位工会申请")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("已驳回"), "{page}");
    let (s, page) = status(&server, &c, &id, "13612345678").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("未通过") && page.contains("工作单位不在本工会覆盖范围"),
        "{page}"
    );
    // After a rejection the person may apply again.
    let (s, page) = apply(&server, &c, "孙立", &id, "13612345678").await;
    assert_eq!(s, StatusCode::OK, "{page}");
}

#[tokio::test]
async fn openapi_documents_the_card_and_join_api() {
    let server = demo_server().await;
    let c = Client::new(&server);
    let (s, v) = c.get_json("/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["paths"]["/api/v1/cards/verify"]["post"].is_object(),
        "{v}"
    );
    assert!(v["paths"]["/api/v1/joins"]["get"].is_object());
}
