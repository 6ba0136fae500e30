//! 普惠: merchants, clerk accounts, offers, voucher campaigns and redemption
//! at the counter — one transaction that verifies the card and records the
//! use; racing clerks redeem a voucher once; refusals write nothing; the
//! figures equal their drill-downs; the settlement adds up. On SQLite and
//! PostgreSQL.

use chrono::Datelike;
use gonghui::{platform::time, testing::TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{audit_count, csrf_in, Client, PW};

/// Signs a clerk in (the clerk lands on the redemption page, not /orgs).
async fn clerk(server: &TestServer, user: &str) -> Client {
    let mut c = Client::new(server);
    let (_, page) = c.text("/login").await;
    let token = csrf_in(&page).unwrap();
    let r = c
        .http
        .post(format!("{}/login", c.base))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", user),
            ("password", PW),
        ])
        .send()
        .await
        .unwrap();
    let url = r.url().path().to_string();
    let body = r.text().await.unwrap();
    assert_eq!(url, "/redeem", "{user} lands on the redemption page");
    c.csrf = csrf_in(&body).expect("the redemption page has the csrf token");
    c
}

async fn scalar(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

async fn exec(server: &TestServer, sql: &str) {
    sqlx::query(sql)
        .execute(server.state().db.pool())
        .await
        .unwrap();
}

async fn id_of(server: &TestServer, sql: &str, arg: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(arg)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

async fn merchant(server: &TestServer, name: &str) -> i64 {
    id_of(server, "SELECT id FROM merchants WHERE name = $1", name).await
}

async fn offer(server: &TestServer, title: &str) -> i64 {
    id_of(server, "SELECT id FROM offers WHERE title = $1", title).await
}

async fn campaign(server: &TestServer) -> i64 {
    scalar(server, "SELECT MIN(id) FROM voucher_campaigns").await
}

/// Active cards (card no, last 4 of the phone, membership id) whose holder
/// still has an unused voucher of the demo campaign, skipping `skip`.
async fn cards_with_voucher(server: &TestServer, n: i64, skip: i64) -> Vec<(String, String, i64)> {
    let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT c.card_no, p.phone_masked, c.membership_id FROM cards c JOIN persons p ON p.id = c.person_id \
         JOIN memberships m ON m.id = c.membership_id \
         JOIN vouchers v ON v.person_id = c.person_id AND v.status = 'issued' \
         WHERE c.status = 'active' AND m.status = 'active' ORDER BY c.id LIMIT $1 OFFSET $2",
    )
    .bind(n)
    .bind(skip)
    .fetch_all(server.state().db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(c, p, m)| {
            let p = p.unwrap_or_default();
            (c, p[p.len() - 4..].to_string(), m)
        })
        .collect()
}

fn token(server: &TestServer, card_no: &str) -> String {
    gonghui::members::card::token(&server.state().keys, card_no)
}

async fn redeem(c: &Client, body: Value) -> (StatusCode, Value) {
    c.json(Method::POST, "/api/v1/benefits/redeem", Some(body))
        .await
}

/// Creates a clerk account through the API as `admin`; returns its client.
async fn new_clerk(server: &TestServer, admin: &str, merchant_id: i64, user: &str) -> Client {
    let a = Client::signed_in(server, admin).await;
    let (s, v) = a
        .json(
            Method::POST,
            &format!("/api/v1/benefits/merchants/{merchant_id}/clerks"),
            Some(json!({"username": user, "display_name": "店员", "password": PW})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    clerk(server, user).await
}

#[tokio::test]
async fn a_clerk_verifies_and_redeems_in_one_step_and_a_voucher_only_once() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = clerk(&server, "merchant_clerk").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 3, 0).await;
    let before = scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions").await;

    // Scanned: the voucher is redeemed, with its value; the member masked.
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[0].0), "item": format!("campaign:{cid}")}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["amount_fen"], 5000);
    assert_eq!(v["kind"], "voucher");
    assert!(v["name_masked"].as_str().unwrap().contains('*'));
    // The same voucher again: refused, and nothing more is written.
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[0].0), "campaign_id": cid}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("已经使用过"),
        "{v}"
    );
    assert_eq!(
        scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions").await,
        before + 1
    );

    // Typed: card number + the last 4 digits of the phone, on the page.
    let item = format!("campaign:{cid}");
    let (s, page) = c
        .post_form(
            "/redeem",
            &[
                ("item", item.as_str()),
                ("card_no", &cards[1].0),
                ("phone_last4", &cards[1].1),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("核销成功") && page.contains("data-result=\"ok\""),
        "{page}"
    );
    let wrong = if cards[2].1 == "0000" { "1111" } else { "0000" };
    let (s, page) = c
        .post_form(
            "/redeem",
            &[
                ("item", item.as_str()),
                ("card_no", &cards[2].0),
                ("phone_last4", wrong),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("卡号或手机号后四位不正确"), "{page}");

    // A phone camera opens the card's code (the verification link): the
    // clerk goes on to the redemption page with the code filled in.
    let t3 = token(&server, &cards[2].0);
    let (s, page) = c.text(&format!("/cards/verify?t={t3}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("核验并核销") && page.contains(&t3), "{page}");
    let (s, page) = c.text("/cards/verify?t=%0Abad").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("核验并核销"),
        "a bad code lands on the empty form"
    );

    // The clerk's own day lists the two, the member's page shows the use.
    let (s, day) = c.get_json("/api/v1/benefits/redemptions/today").await;
    assert_eq!(s, StatusCode::OK);
    assert!(day.as_array().unwrap().len() >= 2, "{day}");
    let (s, page) = c.text("/redeem").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("我今天的核销"));
    let (s, mine) = Client::new(&server)
        .text(&format!("/benefits/mine?t={}", token(&server, &cards[0].0)))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        mine.contains("已使用") && mine.contains("工人文化宫影城"),
        "{mine}"
    );
    let (s, _) = Client::new(&server).text("/benefits/mine?t=forged.x").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(audit_count(&server, "benefit.redeem").await >= 2);
}

#[tokio::test]
async fn refusals_say_why_and_write_nothing() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = clerk(&server, "merchant_clerk").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 6, 10).await;
    let count = || scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions");
    let used = || {
        scalar(
            &server,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers WHERE status = 'redeemed'",
        )
    };
    let (n0, u0) = (count().await, used().await);
    let zh = |v: &Value| v["error"]["message_zh"].as_str().unwrap_or("").to_string();

    // A forged token: another card number under the first one's signature.
    let t = token(&server, &cards[0].0);
    let (_, sig) = t.split_once('.').unwrap();
    let forged = format!(
        "{}.{sig}",
        &token(&server, &cards[1].0).split_once('.').unwrap().0
    );
    let (s, v) = redeem(&c, json!({"token": forged, "campaign_id": cid})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("无效的会员卡二维码"), "{v}");
    let (s, v) = redeem(&c, json!({"token": t, "item": "bogus"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("请选择要核销"), "{v}");

    // A revoked card (reissued by the union): the old code is refused.
    let staff = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, _) = staff
        .post_form(&format!("/members/{}/card", cards[2].2), &[])
        .await;
    assert!(s.is_success(), "{s}");
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[2].0), "campaign_id": cid}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("已作废"), "{v}");

    // An ended membership.
    exec(
        &server,
        &format!(
            "UPDATE memberships SET status = 'ended' WHERE id = {}",
            cards[3].2
        ),
    )
    .await;
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[3].0), "campaign_id": cid}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("会籍已结束"), "{v}");

    // Another shop's offer.
    let car_wash = offer(&server, "职工洗车").await;
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[4].0), "offer_id": car_wash}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(zh(&v).contains("不是本店的优惠"), "{v}");

    // A shop the campaign does not list (渭水区's restaurant).
    let restaurant = merchant(&server, "渭水区便民餐厅").await;
    let r = new_clerk(&server, "weishui_admin", restaurant, "canteen_clerk").await;
    let (s, v) = redeem(
        &r,
        json!({"token": token(&server, &cards[4].0), "campaign_id": cid}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(zh(&v).contains("不是该消费券的使用商户"), "{v}");

    // Ineligible (the migrant-workers' offer) and over the limit (1 a day).
    let park = merchant(&server, "秦川区秦岭植物园").await;
    let p = new_clerk(&server, "qinchuan_admin", park, "park_clerk").await;
    let non_migrant: String = sqlx::query_scalar(
        "SELECT c.card_no FROM cards c JOIN persons p ON p.id = c.person_id JOIN memberships m ON m.id = c.membership_id \
         WHERE c.status = 'active' AND m.status = 'active' AND p.migrant = 0 ORDER BY c.id DESC LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let migrant_offer = offer(&server, "农民工周末游").await;
    let (s, v) = redeem(
        &p,
        json!({"token": token(&server, &non_migrant), "offer_id": migrant_offer}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("不符合"), "{v}");
    let free_entry = offer(&server, "免费游园").await;
    let (s, v) = redeem(
        &p,
        json!({"token": token(&server, &non_migrant), "offer_id": free_entry}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = redeem(
        &p,
        json!({"token": token(&server, &non_migrant), "offer_id": free_entry}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("已用完"), "{v}");

    // An expired campaign.
    exec(
        &server,
        &format!("UPDATE voucher_campaigns SET expires_on = '2000-01-31' WHERE id = {cid}"),
    )
    .await;
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[5].0), "campaign_id": cid}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh(&v).contains("过期"), "{v}");

    // Only the one good offer use was written; no voucher changed.
    assert_eq!(count().await, n0 + 1);
    assert_eq!(used().await, u0);
    assert!(audit_count(&server, "benefit.redeem_refused").await >= 8);

    // Staff do not redeem; clerks reach nothing but their pages.
    let (s, _) = redeem(&staff, json!({"token": t, "campaign_id": cid})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for path in [
        "/api/v1/members",
        "/api/v1/benefits/merchants",
        "/api/v1/orgs",
        "/api/v1/reports/figures",
    ] {
        let (s, v) = c.get_json(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {v}");
    }
    for path in [
        "/members",
        "/benefits",
        "/reports",
        "/orgs",
        "/members/transfers",
    ] {
        let (s, _) = c.text(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }

    // A suspended agreement: the shop cannot redeem until it is resumed.
    let cinema = merchant(&server, "示范市工人文化宫影城").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let (s, page) = city
        .post_form(
            &format!("/benefits/merchants/{cinema}/status"),
            &[("status", "suspended")],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("暂停"), "{page}");
    let movie = offer(&server, "职工观影").await;
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &cards[4].0), "offer_id": movie}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(zh(&v).contains("合作协议"), "{v}");
    assert_eq!(count().await, n0 + 1);
}

/// Redemptions queued while the writer is busy are served together (on an
/// SQLite file: one commit, a savepoint each): every success is kept and
/// every refusal among them writes nothing, whatever its neighbours did.
#[tokio::test]
async fn redemptions_served_together_keep_each_success_and_drop_each_refusal() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let a = clerk(&server, "merchant_clerk").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 4, 40).await;
    assert_eq!(cards.len(), 4);
    let body =
        |no: &str, campaign: i64| json!({"token": token(&server, no), "campaign_id": campaign});
    let mut bodies: Vec<Value> = cards.iter().map(|c| body(&c.0, cid)).collect();
    // The same vouchers again, and a campaign the shop does not take.
    bodies.push(body(&cards[0].0, cid));
    bodies.push(body(&cards[1].0, cid));
    bodies.push(body(&cards[2].0, 999_999));
    // Hold the writer so that the redemptions queue up behind it.
    let held = server.state().db.write_guard().await;
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|b| {
            let a = a.clone();
            tokio::spawn(async move { redeem(&a, b).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(held);
    let mut statuses = Vec::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT, StatusCode::FORBIDDEN].contains(&s),
            "{s} {v}"
        );
        statuses.push(s);
    }
    let count = |s: StatusCode| statuses.iter().filter(|x| **x == s).count();
    assert_eq!(count(StatusCode::OK), 4, "{statuses:?}");
    assert_eq!(count(StatusCode::CONFLICT), 2, "{statuses:?}");
    assert_eq!(count(StatusCode::FORBIDDEN), 1, "{statuses:?}");
    let list = cards
        .iter()
        .map(|c| format!("'{}'", c.0))
        .collect::<Vec<_>>()
        .join(",");
    for (what, sql) in [
        ("redemptions", format!("SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE card_no IN ({list}) AND campaign_id = {cid}")),
        ("vouchers used", format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v JOIN cards c ON c.person_id = v.person_id \
             WHERE c.card_no IN ({list}) AND v.campaign_id = {cid} AND v.status = 'redeemed'"
        )),
        ("audit entries", format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log a JOIN redemptions r \
             ON a.object_type = 'redemption' AND a.object_id = CAST(r.id AS TEXT) \
             WHERE a.action = 'benefit.redeem' AND r.card_no IN ({list}) AND r.campaign_id = {cid}"
        )),
    ] {
        assert_eq!(scalar(&server, &sql).await, 4, "{what}");
    }
    let report = gonghui::platform::audit::verify(&server.state().db)
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

/// A redemption that fails at its last write (its audit entry) among others
/// served together: its savepoint takes the entry and the audit head's step
/// back, the others are kept, and the chain has no gap.
#[tokio::test]
async fn a_redemption_failing_at_its_audit_entry_leaves_the_others_and_the_chain_whole() {
    use gonghui::platform::db::Backend;
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let a = clerk(&server, "merchant_clerk").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 3, 60).await;
    assert_eq!(cards.len(), 3);
    let failing = &cards[1].0;
    let db = &server.state().db;
    let triggers: Vec<String> = match db.backend() {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER redeem_audit_fail BEFORE INSERT ON audit_log \
             WHEN NEW.action = 'benefit.redeem' AND NEW.detail LIKE '%{failing}%' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION redeem_audit_fail() RETURNS trigger AS $$ BEGIN \
                 IF NEW.action = 'benefit.redeem' AND NEW.detail LIKE '%{failing}%' THEN \
                 RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER redeem_audit_fail BEFORE INSERT ON audit_log FOR EACH ROW \
             EXECUTE FUNCTION redeem_audit_fail()"
                .to_string(),
        ],
    };
    for t in &triggers {
        sqlx::query(t).execute(db.pool()).await.unwrap();
    }
    let held = db.write_guard().await;
    let tasks: Vec<_> = cards
        .iter()
        .map(|c| {
            let a = a.clone();
            let body = json!({"token": token(&server, &c.0), "campaign_id": cid});
            tokio::spawn(async move { redeem(&a, body).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(held);
    for (t, c) in tasks.into_iter().zip(&cards) {
        let (s, v) = t.await.unwrap();
        if &c.0 == failing {
            assert!(s.is_server_error(), "{s} {v}");
        } else {
            assert_eq!(s, StatusCode::OK, "{v}");
        }
    }
    for (no, want) in [(&cards[0].0, 1), (failing, 0), (&cards[2].0, 1)] {
        let rows = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE card_no = '{no}' AND campaign_id = {cid}"
        );
        assert_eq!(scalar(&server, &rows).await, want, "{no}: redemptions");
        let used = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v JOIN cards c ON c.person_id = v.person_id \
             WHERE c.card_no = '{no}' AND v.campaign_id = {cid} AND v.status = 'redeemed'"
        );
        assert_eq!(scalar(&server, &used).await, want, "{no}: voucher used");
    }
    let report = gonghui::platform::audit::verify(db).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn racing_clerks_redeem_each_voucher_once() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let cinema = merchant(&server, "示范市工人文化宫影城").await;
    let a = clerk(&server, "merchant_clerk").await;
    let b = new_clerk(&server, "sf_admin", cinema, "cinema_clerk2").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 10, 20).await;
    for (no, _, _) in &cards {
        let body = json!({"token": token(&server, no), "campaign_id": cid});
        let ((sa, va), (sb, vb)) = tokio::join!(redeem(&a, body.clone()), redeem(&b, body));
        let ok = [sa, sb].iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(
            ok, 1,
            "{no}: one of the two succeeds: {sa} {va} / {sb} {vb}"
        );
        let refused = if sa == StatusCode::OK {
            (sb, vb)
        } else {
            (sa, va)
        };
        assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    }
    // Counted after the race: one redemption per voucher, each voucher used.
    let nos: Vec<String> = cards.iter().map(|c| format!("'{}'", c.0)).collect();
    let list = nos.join(",");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE kind = 'voucher' AND card_no IN ({list})")
        )
        .await,
        cards.len() as i64
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT voucher_id FROM redemptions WHERE voucher_id IS NOT NULL \
             GROUP BY voucher_id HAVING COUNT(*) > 1) d"
        )
        .await,
        0,
        "no voucher redeemed twice"
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v WHERE (v.status = 'redeemed') <> \
             EXISTS (SELECT 1 FROM redemptions r WHERE r.voucher_id = v.id)"
        )
        .await,
        0,
        "every used voucher has its redemption and no other has one"
    );

    // An offer limited to 2 a month: three racing uses, two succeed.
    let movie = offer(&server, "职工观影").await;
    let no: String = sqlx::query_scalar(&format!(
        "SELECT c.card_no FROM cards c JOIN memberships m ON m.id = c.membership_id \
         WHERE c.status = 'active' AND m.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM redemptions r WHERE r.offer_id = {movie} AND r.person_id = c.person_id) \
         ORDER BY c.id LIMIT 1"
    ))
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let no = &no;
    let body = json!({"token": token(&server, no), "offer_id": movie});
    let (x, y, z) = tokio::join!(
        redeem(&a, body.clone()),
        redeem(&b, body.clone()),
        redeem(&a, body)
    );
    let ok = [x.0, y.0, z.0]
        .iter()
        .filter(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(ok, 2, "{x:?} {y:?} {z:?}");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions WHERE offer_id = {movie} AND card_no = '{no}'"),
        )
        .await,
        2
    );
}

#[tokio::test]
async fn merchants_offers_and_campaigns_refuse_bad_input_and_keep_to_scope() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = crate::common::org_id(&c, "SF-01").await;
    let counts = || async {
        (
            scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM merchants").await,
            scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM offers").await,
            scalar(
                &server,
                "SELECT CAST(COUNT(*) AS BIGINT) FROM voucher_campaigns",
            )
            .await,
            scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers").await,
            scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM users").await,
        )
    };
    let before = counts().await;
    let good = json!({
        "org_id": county, "name": "秦川区职工书店", "credit_code": "91110000101623741K",
        "category": "图书文具", "lng": "109.01", "lat": "34.29",
        "agreement_from": "2026-01-01", "agreement_to": "2027-12-31"
    });
    let post = |path: &'static str, body: Value| {
        let c = &c;
        async move { c.json(Method::POST, path, Some(body)).await }
    };
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, status, words) in [
        (
            with("credit_code", json!("91110000101623741A")),
            422,
            "校验位",
        ),
        (with("credit_code", json!("123")), 422, "18位"),
        (good.clone(), 409, "已登记"),
        (with("category", json!("赌场")), 422, "类别"),
        (
            {
                let mut b = with("lng", json!("34.29"));
                b["lat"] = json!("109.01");
                b
            },
            422,
            "填反",
        ),
        (with("lng", json!("-0.1278")), 422, "境内"),
        (with("lat", json!("")), 422, "同时填写"),
        (with("datum", json!("火星坐标")), 422, "坐标系"),
        (with("agreement_to", json!("2025-12-31")), 422, "不能早于"),
        (
            with("agreement_from", json!("2026-02-30")),
            422,
            "不是有效日期",
        ),
        (with("name", json!(" ")), 422, "商户名称"),
    ] {
        let (s, v) = post("/api/v1/benefits/merchants", body).await;
        assert_eq!(s.as_u16(), status, "{v}");
        let zh = v["error"]["message_zh"].as_str().unwrap();
        assert!(zh.contains(words), "{zh} should say {words}");
        assert!(!v["error"]["message_en"].as_str().unwrap().is_empty());
    }
    // The demo's cinema, typed in GCJ-02 as 高德 copies it (109.0329,
    // 34.3416), is kept in WGS-84 like the stations.
    let (x, y): (i64, i64) = sqlx::query_as(
        "SELECT lng_e6, lat_e6 FROM merchants WHERE credit_code = '91110000101623741K'",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    use gonghui::stations::geo;
    let wgs = geo::to_wgs(geo::LatLng::new(34.3416, 109.0329), geo::Datum::Gcj02);
    assert_eq!((y, x), wgs.to_e6());
    assert!(
        (y - 34_341_600).abs() + (x - 109_032_900).abs() > 1000,
        "the GCJ offset is removed"
    );
    // Another county's union: as absent.
    let other = sqlx::query_scalar::<_, i64>("SELECT id FROM orgs WHERE code = 'SF-02'")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    let (s, _) = post("/api/v1/benefits/merchants", with("org_id", json!(other))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let park = merchant(&server, "秦川区秦岭植物园").await;
    let restaurant = merchant(&server, "渭水区便民餐厅").await;
    let offer_ok = json!({"title": "职工票", "price_rule": "半价", "valid_from": "2026-01-01",
        "valid_to": "2026-12-31", "limit_count": 1, "limit_period": "month", "eligibility": "all"});
    let offer_with = |k: &str, v: Value| {
        let mut b = offer_ok.clone();
        b[k] = v;
        b
    };
    let op = format!("/api/v1/benefits/merchants/{park}/offers");
    for (body, words) in [
        // No module keeps 劳模 yet: refused, naming the groups that exist.
        (
            offer_with("eligibility", json!("model_worker")),
            "可选群体:困难职工",
        ),
        (offer_with("eligibility", json!("group")), "请选择群体"),
        (offer_with("limit_count", json!(0)), "限用次数"),
        (offer_with("limit_period", json!("decade")), "限用周期"),
        (offer_with("eligibility", json!("subtree")), "请选择工会"),
        (offer_with("valid_to", json!("2025-01-01")), "不能早于"),
    ] {
        let (s, v) = c.json(Method::POST, &op, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["error"]["message_zh"].as_str().unwrap().contains(words),
            "{v}"
        );
    }
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/benefits/merchants/{restaurant}/offers"),
            Some(offer_ok.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another county's merchant");
    let (s, _) = c
        .get_json(&format!("/api/v1/benefits/merchants/{restaurant}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c.text(&format!("/benefits/merchants/{restaurant}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let year = time::today().year();
    let camp = json!({"org_id": county, "name": "测试消费券", "value": "50", "quantity": 5,
        "expires_on": format!("{year}-12-31"), "merchant_ids": [park], "group": "all"});
    let camp_with = |k: &str, v: Value| {
        let mut b = camp.clone();
        b[k] = v;
        b
    };
    for (body, words) in [
        (camp.clone(), "超过发行数量"),
        (camp_with("value", json!("0")), "面值"),
        (camp_with("expires_on", json!("2000-01-01")), "已过"),
        (camp_with("merchant_ids", json!([])), "至少选择一家"),
        (
            camp_with("merchant_ids", json!([restaurant])),
            "不在您的管辖范围内",
        ),
        (camp_with("quantity", json!(0)), "发行数量"),
    ] {
        let (s, v) = c
            .json(Method::POST, "/api/v1/benefits/campaigns", Some(body))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            v["error"]["message_zh"].as_str().unwrap().contains(words),
            "{v}"
        );
    }
    // A clerk account for another county's merchant: as absent; a bad password: refused.
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/benefits/merchants/{restaurant}/clerks"),
            Some(json!({"username": "x_clerk", "display_name": "x", "password": PW})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/benefits/merchants/{park}/clerks"),
            Some(json!({"username": "y_clerk", "display_name": "y", "password": "short"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(counts().await, before, "nothing written");

    // The good ones, for the record: a merchant, an offer, a campaign.
    let (s, v) = post(
        "/api/v1/benefits/merchants",
        with("credit_code", json!("91610104MA6U1A2B66")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = c
        .json(
            Method::POST,
            &op,
            Some(offer_with("eligibility", json!("new_employment"))),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/benefits/campaigns",
            Some(camp_with("quantity", json!(100_000))),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["issued"].as_i64().unwrap() > 100);
    // Lists follow the scope: 渭水区's merchant is not listed for 秦川区.
    let (_, list) = c.get_json("/api/v1/benefits/merchants").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"秦川区秦岭植物园") && !names.contains(&"渭水区便民餐厅"),
        "{names:?}"
    );
}

fn figure<'a>(t: &'a Value, code: &str) -> &'a Value {
    t["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["figures"].as_array().unwrap())
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code} in the table"))
}

/// The drill-down's measure, read page by page: the sum its rows add up
/// to for sums, else the count of its rows (checked against its total).
async fn drilled(c: &Client, org: i64, year: i32, code: &str) -> i64 {
    let (mut rows, mut amount, mut page) = (0i64, 0i64, 1);
    loop {
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={org}&period={year}&code={code}&per_page=500&page={page}"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let list = d["rows"].as_array().unwrap();
        rows += list.len() as i64;
        if d["sum"].is_i64() {
            amount += list
                .iter()
                .map(|r| r["amount_fen"].as_i64().unwrap())
                .sum::<i64>();
        }
        let total = d["total"].as_i64().unwrap();
        if list.is_empty() || rows >= total {
            assert_eq!(rows, total, "{code}: every row listed");
            return match d["sum"].as_i64() {
                Some(sum) => {
                    assert_eq!(amount, sum, "{code}: the rows add up to the sum");
                    sum
                }
                None => total,
            };
        }
        page += 1;
    }
}

const CODES: [&str; 7] = [
    "benefits_merchants",
    "benefits_offers",
    "benefits_cards",
    "benefits_vouchers_issued",
    "benefits_vouchers_redeemed",
    "benefits_voucher_amount",
    "benefits_redemptions",
];

#[tokio::test]
async fn figures_equal_their_drill_downs_and_the_settlement_adds_up() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    assert!(server
        .state()
        .registry
        .summary_paragraphs()
        .iter()
        .any(|p| p.key == "benefits.cards_and_vouchers" && p.section == "rights"));
    let c = Client::signed_in(&server, "sf_admin").await;
    let root = crate::common::org_id(&c, "SF").await;
    let year = time::today().year();
    let (s, t) = c
        .get_json(&format!("/api/v1/reports/figures?org={root}&period={year}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    for code in CODES {
        let f = figure(&t, code);
        assert!(
            f["value"].as_i64().unwrap() > 0,
            "{code} has demo records: {f}"
        );
        assert_eq!(
            drilled(&c, root, year, code).await,
            f["value"].as_i64().unwrap(),
            "{code}"
        );
        for (cell, child) in f["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .zip(t["children"].as_array().unwrap())
        {
            let id = child["id"].as_i64().unwrap();
            assert_eq!(
                drilled(&c, id, year, code).await,
                cell["value"].as_i64().unwrap(),
                "{code} {}",
                child["code"]
            );
        }
    }
    let amount = figure(&t, "benefits_voucher_amount")["value"]
        .as_i64()
        .unwrap();
    let redeemed = figure(&t, "benefits_vouchers_redeemed")["value"]
        .as_i64()
        .unwrap();
    assert_eq!(amount, redeemed * 5000, "50 元 each");
    assert_eq!(
        figure(&t, "benefits_merchants")["value"].as_i64().unwrap(),
        scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM merchants").await
    );

    // Usage by merchant and the settlement (JSON, page and xlsx) agree.
    let (s, usage) = c.get_json("/api/v1/benefits/usage?by=campaign").await;
    assert_eq!(s, StatusCode::OK);
    let voucher_row = usage
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"].as_str().unwrap().contains("送温暖"))
        .expect("the campaign's row");
    assert_eq!(voucher_row["amount_fen"].as_i64().unwrap(), amount);
    let (s, rows) = c.get_json("/api/v1/benefits/settlement").await;
    assert_eq!(s, StatusCode::OK);
    let settled: i64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(settled, amount);
    let r = c
        .http
        .post(format!("{}/benefits/settlement.xlsx", c.base))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("消费券结算").unwrap();
    let last = sheet.rows().next_back().unwrap();
    assert_eq!(last[0].to_string(), "合计");
    let total: f64 = last[5].to_string().parse().unwrap();
    assert_eq!((total * 100.0).round() as i64, amount);
    assert_eq!(audit_count(&server, "benefit.settlement_export").await, 1);
    // The usage table by campaign, as xlsx: its total is the same amount.
    let r = c
        .http
        .post(format!("{}/benefits/usage.xlsx?by=campaign", c.base))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.worksheet_range("普惠使用情况").unwrap();
    assert!(sheet.rows().any(|r| r[0].to_string().contains("送温暖")));
    let last = sheet.rows().next_back().unwrap();
    assert!(last[0].to_string().starts_with("合计"));
    let used: f64 = last[3].to_string().parse().unwrap();
    assert!((used * 100.0).round() as i64 >= amount);
    assert_eq!(audit_count(&server, "benefit.usage_export").await, 1);
    // 渭水区 issued no campaign: nothing to settle; the pages answer.
    let w = Client::signed_in(&server, "weishui_admin").await;
    let (_, rows) = w.get_json("/api/v1/benefits/settlement").await;
    assert!(rows.as_array().unwrap().is_empty());
    for path in [
        "/benefits",
        "/benefits/campaigns",
        "/benefits/usage?by=union",
    ] {
        let (s, page) = c.text(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(
            page.contains("普惠服务") || page.contains("消费券"),
            "{path}"
        );
    }
    let (s, _) = c.text("/benefits/usage?from=2026-13-01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A current member (membership id, person id, keyed ID hash) without an
/// open hardship file, skipping `skip`.
async fn member_without_file(server: &TestServer, skip: i64) -> (i64, i64, String) {
    sqlx::query_as(
        "SELECT m.id, m.person_id, p.id_hash FROM memberships m JOIN persons p ON p.id = m.person_id \
         WHERE m.status = 'active' AND p.id_hash NOT IN \
         (SELECT id_hash FROM hardship_files WHERE status = 'open') ORDER BY m.id LIMIT 1 OFFSET $1",
    )
    .bind(skip)
    .fetch_one(server.state().db.pool())
    .await
    .expect("the demo has such a member")
}

/// Issues a card for a membership; returns its number.
async fn issue_card(server: &TestServer, mid: i64, pid: i64) -> String {
    let db = &server.state().db;
    let mut tx = db.begin_write().await.unwrap();
    let (no, _) = gonghui::members::card::issue_in_tx(
        &mut tx.tx,
        gonghui::members::ids::MembershipId(mid),
        pid,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    no
}

#[tokio::test]
async fn an_offer_for_workers_in_hardship_follows_the_hardship_files() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let wash = merchant(&server, "示范市清泉洗车连锁").await;
    let oid = offer(&server, "困难职工免费洗车").await;
    let c = new_clerk(&server, "sf_admin", wash, "wash_clerk").await;
    // The demo's households are workers off the roster: one open file is
    // handed to a roster member here (as if its head had joined the union).
    let (mid, pid, hash) = member_without_file(&server, 0).await;
    exec(
        &server,
        &format!(
            "UPDATE hardship_files SET id_hash = '{hash}' WHERE id = \
             (SELECT MIN(id) FROM hardship_files WHERE status = 'open')"
        ),
    )
    .await;
    let with_file = issue_card(&server, mid, pid).await;
    let (mid2, pid2, _) = member_without_file(&server, 1).await;
    let without = issue_card(&server, mid2, pid2).await;
    let before = scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions").await;

    // Not on file: refused, naming the group, nothing written.
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &without), "offer_id": oid}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("困难职工"),
        "{v}"
    );
    assert_eq!(
        scalar(&server, "SELECT CAST(COUNT(*) AS BIGINT) FROM redemptions").await,
        before
    );
    // On file: served.
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &with_file), "offer_id": oid}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The file is closed (解困脱困): the offer no longer applies.
    exec(
        &server,
        "UPDATE hardship_files SET status = 'closed' WHERE status = 'open'",
    )
    .await;
    let (s, v) = redeem(
        &c,
        json!({"token": token(&server, &with_file), "offer_id": oid}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // A voucher campaign for the group issues to those on file only.
    exec(
        &server,
        "UPDATE hardship_files SET status = 'open' WHERE status = 'closed' AND closed_on IS NULL",
    )
    .await;
    let on_file = scalar(
        &server,
        "SELECT CAST(COUNT(DISTINCT m.person_id) AS BIGINT) FROM memberships m JOIN persons p ON p.id = m.person_id \
         WHERE m.status <> 'ended' AND p.id_hash IN (SELECT id_hash FROM hardship_files WHERE status = 'open')",
    )
    .await;
    assert!(on_file > 0);
    let a = Client::signed_in(&server, "sf_admin").await;
    let city = scalar(&server, "SELECT MIN(id) FROM orgs").await;
    let (s, v) = a
        .json(
            Method::POST,
            "/api/v1/benefits/campaigns",
            Some(json!({"org_id": city, "name": "困难职工冬季洗车券", "value": "30", "quantity": 10000,
                "expires_on": format!("{}-12-31", time::today().year()), "merchant_ids": [wash],
                "group": "group:hardship"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let issued = scalar(
        &server,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM vouchers v JOIN voucher_campaigns k ON k.id = v.campaign_id \
         WHERE k.name = '困难职工冬季洗车券'",
    )
    .await;
    assert_eq!(issued, on_file);
}

#[tokio::test]
async fn typed_card_numbers_cannot_be_guessed_at_the_counter() {
    let server = TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = clerk(&server, "merchant_clerk").await;
    let cid = campaign(&server).await;
    let cards = cards_with_voucher(&server, 2, 0).await;
    let (no, four, _) = &cards[0];
    let wrong = if four == "0000" { "1111" } else { "0000" };
    let typed = |n: &str, d: &str| json!({"card_no": n, "phone_last4": d, "campaign_id": cid});

    // Five wrong digits for one card number …
    for _ in 0..5 {
        let (s, v) = redeem(&c, typed(no, wrong)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
    // … and typing that card is refused, even with the right digits.
    let (s, v) = redeem(&c, typed(no, four)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(
        v["error"]["message_zh"].as_str().unwrap().contains("扫描"),
        "{v}"
    );
    // Scanning the card's QR still serves the member.
    let (s, v) = redeem(&c, json!({"token": token(&server, no), "campaign_id": cid})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Another card typed right is served.
    let (s, v) = redeem(&c, typed(&cards[1].0, &cards[1].1)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A clerk trying many card numbers: typing stops for the account after
    // 20 wrong entries in the hour (5 of them above).
    for i in 0..15 {
        let guess = format!("GH{:012}", 900_000_000_000u64 + i);
        let (s, _) = redeem(&c, typed(&guess, "1234")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let fresh = cards_with_voucher(&server, 1, 0).await;
    let (s, v) = redeem(&c, typed(&fresh[0].0, &fresh[0].1)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("本账号"),
        "{v}"
    );
}

/// A database from before merchants were kept in WGS-84 (their coordinates
/// as typed, GCJ-02) is converted once when the platform opens it, and a
/// second opening changes nothing.
#[tokio::test]
async fn merchants_typed_in_gcj02_are_moved_to_wgs84_once() {
    use gonghui::stations::geo;
    let env = gonghui::testing::demo_env().await.unwrap();
    let st = &env.state;
    let pool = st.db.pool();
    // As the first release stored the cinema: the pair 高德 gave.
    sqlx::query(
        "UPDATE merchants SET lng_e6 = 109032900, lat_e6 = 34341600 WHERE credit_code = '91110000101623741K'",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM module_migrations WHERE module = 'benefits+keyed'")
        .execute(pool)
        .await
        .unwrap();
    let list = st.registry.keyed_migrations();
    let read = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT lng_e6, lat_e6 FROM merchants WHERE credit_code = '91110000101623741K'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    };
    st.db.migrate_keyed(&st.keys, &list).await.unwrap();
    let (x, y) = read().await;
    let wgs = geo::to_wgs(geo::LatLng::new(34.3416, 109.0329), geo::Datum::Gcj02);
    assert_eq!((y, x), wgs.to_e6());
    st.db.migrate_keyed(&st.keys, &list).await.unwrap();
    assert_eq!(read().await, (x, y), "converted once");
}
