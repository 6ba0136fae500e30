//! 互助保障's pages, Excel enrolment and exports (crates/mutual_aid): an
//! uploaded list enrols all or nothing with every bad row listed; the
//! pages walk a claim through the shared review chain with its documents
//! and explain a capped payout; exports are POSTs, masked, per scope;
//! another county's enrolments and claims are 404 by every route; the demo
//! fills every page. SQLite and PostgreSQL.

use chrono::Datelike;
use gonghui::{platform::time, testing::TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sheet::{CellOut, SheetOut};

use crate::common::Client;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn server() -> TestServer {
    TestServer::start(gonghui::testing::demo_env().await.unwrap())
        .await
        .unwrap()
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

/// Active members of a union: (membership id, name, full ID number), the
/// number unmasked by the city's administrator.
async fn members(
    server: &TestServer,
    admin: &Client,
    code: &str,
    n: i64,
) -> Vec<(i64, String, String)> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.id, p.name FROM memberships m JOIN persons p ON p.id = m.person_id JOIN orgs o ON o.id = m.org_id \
         WHERE o.code = $1 AND m.status = 'active' ORDER BY m.id LIMIT $2",
    )
    .bind(code)
    .bind(n)
    .fetch_all(server.state().db.pool())
    .await
    .unwrap();
    let mut out = Vec::new();
    for (mid, name) in rows {
        let (s, v) = admin
            .json(Method::POST, &format!("/api/v1/members/{mid}/unmask"), None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        out.push((mid, name, v["id_number"].as_str().unwrap().to_string()));
    }
    out
}

fn xlsx(rows: &[(&str, &str)]) -> Vec<u8> {
    sheet::write_xlsx(&[SheetOut {
        name: "参保名单".into(),
        headers: vec!["姓名".into(), "身份证号".into()],
        rows: rows
            .iter()
            .map(|(n, i)| vec![CellOut::Text(n.to_string()), CellOut::Text(i.to_string())])
            .collect(),
        col_widths: None,
    }])
    .unwrap()
}

/// The API upload (multipart).
async fn upload(
    c: &Client,
    plan: i64,
    bytes: Vec<u8>,
    check_only: bool,
    on: &str,
) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .text("plan_id", plan.to_string())
        .text("enrolled_on", on.to_string())
        .text("check_only", if check_only { "1" } else { "" })
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("名单.xlsx"),
        );
    let r = c
        .http
        .post(format!("{}/api/v1/mutual-aid/enrolments/sheet", c.base))
        .header("x-csrf-token", &c.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    let t = r.text().await.unwrap();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

/// The page's upload form (multipart, the token in the query).
async fn upload_page(
    c: &Client,
    plan: i64,
    bytes: Vec<u8>,
    check_only: bool,
) -> (StatusCode, String) {
    let mut form = reqwest::multipart::Form::new()
        .text("plan_id", plan.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("名单.xlsx"),
        );
    if check_only {
        form = form.text("check_only", "1");
    }
    let r = c
        .http
        .post(format!(
            "{}/mutual-aid/enrolments/sheet?_csrf={}",
            c.base, c.csrf
        ))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn create_plan(city: &Client, name: &str, year: i32, contribution: &str) -> i64 {
    let (s, v) = city
        .json(
            Method::POST,
            "/api/v1/mutual-aid/plans",
            Some(json!({"name": name, "category": "critical",
                "period_start": format!("{year}-01-01"), "period_end": format!("{year}-12-31"),
                "contribution": contribution, "deductible": "1000", "ratio_pct": "60",
                "per_claim_cap": "20000", "person_period_cap": "30000", "required_docs": "诊断证明"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

/// A bad-check-digit variant of a valid resident ID.
fn bad_check_digit(id: &str) -> String {
    let last = id.chars().last().unwrap();
    let swap = if last == '0' { '1' } else { '0' };
    format!("{}{swap}", &id[..id.len() - 1])
}

#[tokio::test]
async fn an_excel_list_enrols_all_or_nothing_with_every_bad_row_listed() {
    let server = server().await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let year = time::today().year();
    let today = time::today().to_string();
    let plan = create_plan(&city, "测试重大疾病互助", year, "25").await;

    let mine = members(&server, &city, "SF-01-S1-001", 3).await;
    let other = members(&server, &city, "SF-02-S1-001", 1).await;
    let (a, b, c) = (&mine[0], &mine[1], &mine[2]);
    // A well-formed ID no roster holds.
    let stranger = "11010519491231002X";
    let bad = bad_check_digit(&c.2);
    let refused = xlsx(&[
        (&a.1, &a.2),               // row 2: fine
        ("别的名字", &b.2),         // row 3: the name differs from the roster
        (&c.1, &bad),               // row 4: a bad check digit
        (&other[0].1, &other[0].2), // row 5: a member of another county
        ("陌生人", stranger),       // row 6: nobody on the roster
        (&a.1, &a.2),               // row 7: row 2 again
    ]);
    let enrolments = count(&server, "SELECT COUNT(*) FROM aid_enrolments").await;
    let (s, v) = upload(&clerk, plan, refused.clone(), false, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let rows = v["error"]["rows"].as_array().unwrap();
    let rows_of = |n: i64| -> Vec<&Value> { rows.iter().filter(|r| r["row"] == n).collect() };
    assert_eq!(rows.len(), 5, "{v}");
    assert!(rows_of(2).is_empty(), "{v}");
    assert!(
        rows_of(3)[0]["zh"]
            .as_str()
            .unwrap()
            .contains("与会员名册不符"),
        "{v}"
    );
    assert!(
        rows_of(3)[0]["en"]
            .as_str()
            .unwrap()
            .contains("does not match the roster"),
        "{v}"
    );
    assert!(
        rows_of(4)[0]["zh"]
            .as_str()
            .unwrap()
            .contains("身份证号有误"),
        "{v}"
    );
    assert!(
        rows_of(7)[0]["zh"].as_str().unwrap().contains("第2行"),
        "{v}"
    );
    // Another county's member reads exactly like a stranger.
    assert_eq!(rows_of(5)[0]["zh"], rows_of(6)[0]["zh"], "{v}");
    assert_eq!(rows_of(5)[0]["en"], rows_of(6)[0]["en"], "{v}");
    assert!(
        rows_of(6)[0]["zh"].as_str().unwrap().contains("不是本单位"),
        "{v}"
    );
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("未登记任何人"),
        "{v}"
    );
    assert!(
        v["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("nobody was enrolled"),
        "{v}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments
    );
    // The page lists the same rows (422), nothing written.
    let (s, page) = upload_page(&clerk, plan, refused, false).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"problems\"") && page.contains("与会员名册不符"),
        "{page}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments
    );

    // A clean list: checked first (totalled, nothing written), then enrolled.
    let good = xlsx(&[(&a.1, &a.2), (&b.1, &b.2), (&c.1, &c.2)]);
    let (s, v) = upload(&clerk, plan, good.clone(), true, "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["persons"].as_i64(), v["contributions_fen"].as_i64()),
        (Some(3), Some(7500))
    );
    assert_eq!(v["before_persons"], 0);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments
    );
    let (s, page) = upload_page(&clerk, plan, good.clone(), true).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("id=\"checked\"") && page.contains("75.00"),
        "{page}"
    );
    let (s, v) = upload(&clerk, plan, good.clone(), false, &today).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["persons"], 3);
    assert_eq!(v["contributions_fen"], 7500);
    assert_eq!(
        (
            v["before_persons"].as_i64(),
            v["before_contributions_fen"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(
        (
            v["plan_persons"].as_i64(),
            v["plan_contributions_fen"].as_i64()
        ),
        (Some(3), Some(7500))
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments + 3
    );

    // Again: each row is already enrolled in this plan's period.
    let (s, v) = upload(&clerk, plan, good.clone(), false, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let rows = v["error"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{v}");
    assert!(
        rows.iter()
            .all(|r| r["zh"].as_str().unwrap().contains("已参加该计划")),
        "{v}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments + 3
    );

    // The plan's period has ended: refused before any row is looked at.
    let old = create_plan(&city, "测试往年重大疾病互助", year - 1, "25").await;
    let (s, v) = upload(&clerk, old, good.clone(), false, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("保障期已结束"),
        "{v}"
    );
    assert!(
        v["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("period has ended"),
        "{v}"
    );
    // An enrolment date after the period, by the roster-selection API too.
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/plans/{plan}/enrolments"),
            Some(json!({"membership_ids": [a.0], "enrolled_on": format!("{}-01-05", year + 1)})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("不在该计划的保障期"), "{v}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments + 3
    );

    // Not a spreadsheet, a column missing, an empty list, no file.
    for (bytes, want) in [
        (b"\x00\x01\x02garbage".to_vec(), ""),
        (
            "姓名,手机号\n张三,13800000000\n".as_bytes().to_vec(),
            "身份证号",
        ),
        ("姓名,身份证号\n".as_bytes().to_vec(), ""),
    ] {
        let (s, v) = upload(&clerk, plan, bytes, false, "").await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(
            !v["error"]["message_zh"].as_str().unwrap().is_empty(),
            "{v}"
        );
        assert!(
            !v["error"]["message_en"].as_str().unwrap().is_empty(),
            "{v}"
        );
        assert!(v.to_string().contains(want), "{want}: {v}");
    }
    let (s, v) = upload(&clerk, plan, Vec::new(), false, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        enrolments + 3
    );

    // The county enrols another county's member: refused like a stranger.
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, v) = upload(
        &county,
        plan,
        xlsx(&[(&other[0].1, &other[0].2)]),
        false,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["rows"][0]["zh"]
            .as_str()
            .unwrap()
            .contains("不是本单位"),
        "{v}"
    );
    // A read-only auditor may not upload at all.
    let auditor = Client::signed_in(&server, "sf_auditor").await;
    let (s, _) = upload(&auditor, plan, good, false, "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A plan is the city administrators' to create.
    let (s, v) = county
        .json(
            Method::POST,
            "/api/v1/mutual-aid/plans",
            Some(json!({"name": "县里的计划", "category": "critical",
                "period_start": format!("{year}-01-01"), "period_end": format!("{year}-12-31"),
                "contribution": "10"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(v.to_string().contains("市总工会"), "{v}");
}

/// Posts a claim page's form; returns the final status and page.
async fn form(c: &Client, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    c.post_form(path, fields).await
}

async fn attach_page(c: &Client, claim: i64, label: &str) -> StatusCode {
    let f = reqwest::multipart::Form::new()
        .text("label", label.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name(format!("{label}.pdf")),
        );
    c.http
        .post(format!(
            "{}/mutual-aid/claims/{claim}/files?_csrf={}",
            c.base, c.csrf
        ))
        .multipart(f)
        .send()
        .await
        .unwrap()
        .status()
}

/// An enrolment of SF-01-S1-001 in `plan` with no claim yet.
async fn free_enrolment(server: &TestServer, plan: i64, skip: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT e.id FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id WHERE e.plan_id = $1 AND o.code = 'SF-01-S1-001' \
         AND NOT EXISTS (SELECT 1 FROM aid_claims c WHERE c.enrolment_id = e.id) ORDER BY e.id LIMIT 1 OFFSET $2",
    )
    .bind(plan)
    .bind(skip)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap()
}

/// Creates a claim through the new-claim form; its id from the redirect.
async fn new_claim(c: &Client, enrolment: i64, amount: &str, days: &str) -> i64 {
    let e = enrolment.to_string();
    let today = time::today().to_string();
    let r = c
        .http
        .post(format!("{}/mutual-aid/claims", c.base))
        .form(&[
            ("_csrf", c.csrf.as_str()),
            ("enrolment_id", e.as_str()),
            ("event_date", today.as_str()),
            ("category", "住院治疗"),
            ("amount", amount),
            ("days", days),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let url = r.url().path().to_string();
    url.rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{url}"))
}

#[tokio::test]
async fn a_claim_walks_the_chain_on_its_pages_and_caps_are_explained() {
    let server = server().await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let plan: i64 = count(&server, "SELECT MIN(id) FROM aid_plans").await;
    let enrolment = free_enrolment(&server, plan, 0).await;

    // The new-claim form names the insured worker, masked.
    let (s, page) = clerk
        .text(&format!("/mutual-aid/claims/new?enrolment={enrolment}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("id=\"claim-form\"") && page.contains('*'),
        "{page}"
    );
    let claims = count(&server, "SELECT COUNT(*) FROM aid_claims").await;
    // A bad amount: refused, nothing written.
    let (s, page) = form(
        &clerk,
        "/mutual-aid/claims",
        &[
            ("enrolment_id", &enrolment.to_string()),
            ("event_date", &time::today().to_string()),
            ("category", "住院治疗"),
            ("amount", "很多"),
            ("days", "3"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("申请金额"), "{page}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_claims").await,
        claims
    );

    // 20,000元 over 20 days: the rules give 1,000 + 9,750; the claim cap is 3,000.
    let id = new_claim(&clerk, enrolment, "20000", "20").await;
    let (s, page) = clerk.text(&format!("/mutual-aid/claims/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"submit-form\""), "{page}");
    assert!(page.contains("10,750.00元"), "{page}");
    assert!(page.contains("超过单次赔付上限"), "{page}");
    assert!(page.contains("✗ 住院发票"), "{page}");

    // Submitting without the documents: refused, nothing on the chain.
    let items = count(&server, "SELECT COUNT(*) FROM review_items").await;
    let (s, page) = form(&clerk, &format!("/mutual-aid/claims/{id}/submit"), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("缺少所需材料") && page.contains("出院小结"),
        "{page}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM review_items").await,
        items
    );

    for doc in ["住院发票", "出院小结"] {
        assert_eq!(attach_page(&clerk, id, doc).await, StatusCode::OK);
    }
    let (_, page) = clerk.text(&format!("/mutual-aid/claims/{id}")).await;
    assert!(
        page.contains("✓ 住院发票") && page.contains("✓ 出院小结"),
        "{page}"
    );
    let (s, page) = form(&clerk, &format!("/mutual-aid/claims/{id}/submit"), &[]).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("审批中"), "{page}");
    assert!(
        !page.contains("id=\"review-form\""),
        "the clerk does not decide: {page}"
    );

    // 县区 approves on the claim's page; 市总 must give a reason to reject.
    let (_, page) = county.text(&format!("/mutual-aid/claims/{id}")).await;
    assert!(page.contains("id=\"review-form\""), "{page}");
    let (s, page) = form(
        &county,
        &format!("/mutual-aid/claims/{id}/review"),
        &[("action", "approve"), ("comment", "材料齐全")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let (s, page) = form(
        &city,
        &format!("/mutual-aid/claims/{id}/review"),
        &[("action", "reject"), ("comment", "")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (s, page) = form(
        &city,
        &format!("/mutual-aid/claims/{id}/review"),
        &[("action", "approve"), ("comment", "同意")],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"paid\"") && page.contains("3,000.00"),
        "{page}"
    );
    assert!(
        page.contains("材料齐全") && page.contains("同意"),
        "history: {page}"
    );
    let (_, ledger) = clerk.text("/mutual-aid/ledger").await;
    assert!(
        ledger.contains(&format!("/mutual-aid/claims/{id}\"")),
        "{ledger}"
    );

    // The same person again: 3,000 more (6,000 of 8,000), then the 2,000
    // left of the person's cap, explained; then nothing (refused).
    let person_enrolment = enrolment;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let c = new_claim(&clerk, person_enrolment, "20000", "20").await;
        for doc in ["住院发票", "出院小结"] {
            assert_eq!(attach_page(&clerk, c, doc).await, StatusCode::OK);
        }
        ids.push(c);
    }
    for (i, c) in ids.iter().enumerate().take(2) {
        let (s, page) = form(&clerk, &format!("/mutual-aid/claims/{c}/submit"), &[]).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        if i == 1 {
            let (_, v) = clerk
                .get_json(&format!("/api/v1/mutual-aid/claims/{c}"))
                .await;
            assert_eq!(v["payout"]["paid"], 200_000, "{v}");
            assert_eq!(v["payout"]["limited_by"], "person_period", "{v}");
            assert!(
                v["payout_note"]
                    .as_str()
                    .unwrap()
                    .contains("每人每期赔付上限"),
                "{v}"
            );
        }
        form(
            &county,
            &format!("/mutual-aid/claims/{c}/review"),
            &[("action", "approve")],
        )
        .await;
        let (s, page) = form(
            &city,
            &format!("/mutual-aid/claims/{c}/review"),
            &[("action", "approve")],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
    }
    let (_, v) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{}", ids[1]))
        .await;
    assert_eq!(v["claim"]["payout_fen"], 200_000, "{v}");
    let paid: i64 = count(&server, &format!(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM aid_payouts WHERE claim_id IN ({id}, {}, {})", ids[0], ids[1])).await;
    assert_eq!(paid, 800_000, "never over the person's cap");
    let (_, page) = clerk.text(&format!("/mutual-aid/claims/{}", ids[2])).await;
    assert!(
        page.contains("id=\"payout-refused\"") && page.contains("已达到赔付上限"),
        "{page}"
    );
    let (s, page) = form(
        &clerk,
        &format!("/mutual-aid/claims/{}/submit", ids[2]),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("已达到赔付上限"), "{page}");

    // A claim on an expired enrolment (last year's accident plan).
    let expired: i64 = count(&server,
        "SELECT MIN(e.id) FROM aid_enrolments e JOIN aid_plans p ON p.id = e.plan_id WHERE p.category = 'accident'").await;
    let claims = count(&server, "SELECT COUNT(*) FROM aid_claims").await;
    let (s, page) = form(
        &city,
        "/mutual-aid/claims",
        &[
            ("enrolment_id", &expired.to_string()),
            ("event_date", &time::today().to_string()),
            ("category", "意外受伤"),
            ("amount", "1000"),
            ("days", "2"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("参保已过期"), "{page}");
    let (s, v) = city
        .json(Method::POST, "/api/v1/mutual-aid/claims", Some(json!({"enrolment_id": expired,
            "event_date": time::today().to_string(), "category": "意外受伤", "amount": "1000", "days": "2"})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_en"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{v}"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_claims").await,
        claims
    );
}

/// Reads an export's first sheet.
async fn export(c: &Client, path: &str) -> (StatusCode, Option<sheet::Table>) {
    let r = c
        .http
        .post(format!("{}{}", c.base, path))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    let s = r.status();
    let b = r.bytes().await.unwrap();
    (
        s,
        if s == StatusCode::OK {
            sheet::read_table(&b, 100_000).ok()
        } else {
            None
        },
    )
}

#[tokio::test]
async fn pages_and_exports_keep_to_the_callers_subtree() {
    let server = server().await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let plan: i64 = count(&server, "SELECT MIN(id) FROM aid_plans").await;
    let in_claim: i64 = count(&server,
        "SELECT MIN(c.id) FROM aid_claims c JOIN orgs o ON o.id = c.org_id WHERE o.code = 'SF-01-S1-001'").await;
    let other_claim: i64 = count(&server,
        "SELECT MIN(c.id) FROM aid_claims c JOIN orgs o ON o.id = c.org_id WHERE o.code LIKE 'SF-02%'").await;
    let other_enrolment: i64 = count(&server,
        "SELECT MIN(e.id) FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id WHERE o.code LIKE 'SF-02%'").await;
    let other_file: i64 = count(&server, &format!(
        "SELECT MIN(id) FROM attachments WHERE owner_kind = 'mutual_aid_claim' AND owner_id = {other_claim}")).await;

    // Every page renders for every staff role, in Chinese.
    for c in [&city, &county, &clerk] {
        for path in [
            "/mutual-aid".to_string(),
            format!("/mutual-aid/plans/{plan}"),
            format!("/mutual-aid/enrolments?plan={plan}&status=active"),
            "/mutual-aid/claims?status=approved".to_string(),
            format!(
                "/mutual-aid/claims?plan={plan}&period={}",
                time::today().year()
            ),
            format!("/mutual-aid/claims/{in_claim}"),
            "/mutual-aid/claims/new".to_string(),
            "/mutual-aid/ledger".to_string(),
        ] {
            let (s, page) = c.text(&path).await;
            assert_eq!(s, StatusCode::OK, "{path}: {page}");
            assert!(page.contains("互助"), "{path}");
        }
    }
    // The city sees both counties' claims; the county only its own.
    let (_, page) = city
        .text(&format!("/mutual-aid/claims/{other_claim}"))
        .await;
    assert!(page.contains("id=\"claim\""), "{page}");
    let (_, page) = county.text("/mutual-aid/enrolments").await;
    assert!(!page.contains("渭水区"), "no SF-02 union on 秦川区's list");
    // Only the city's administrators get the plan form.
    let (_, page) = city.text("/mutual-aid").await;
    assert!(page.contains("id=\"plan-form\""));
    let (_, page) = county.text("/mutual-aid").await;
    assert!(!page.contains("id=\"plan-form\""));
    // The plan page's totals per union add up to the plan's enrolments.
    let (_, page) = city.text(&format!("/mutual-aid/plans/{plan}")).await;
    let n = count(
        &server,
        &format!("SELECT COUNT(*) FROM aid_enrolments WHERE plan_id = {plan}"),
    )
    .await;
    assert!(
        page.contains(&format!("id=\"plan-persons\">{n}<")),
        "{n}: {page}"
    );
    // Bad filters: a clear message.
    let (s, page) = county.text("/mutual-aid/claims?period=someday").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("期间无效"), "{page}");
    let (s, v) = county
        .get_json("/api/v1/mutual-aid/enrolments?status=lapsed")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Another county's claims and enrolments: 404 by every route.
    for path in [
        format!("/mutual-aid/claims/{other_claim}"),
        format!("/mutual-aid/claims/new?enrolment={other_enrolment}"),
        "/mutual-aid/enrolments?union=SF-02-S1-001".to_string(),
        format!("/attachments/{other_file}"),
    ] {
        let (s, _) = county.text(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        format!("/api/v1/mutual-aid/claims/{other_claim}"),
        format!("/api/v1/attachments/mutual_aid_claim/{other_claim}"),
        "/api/v1/mutual-aid/enrolments?union=SF-02-S1-001".to_string(),
    ] {
        let (s, v) = county.get_json(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}: {v}");
    }
    for path in [
        format!("/mutual-aid/claims/{other_claim}/submit"),
        format!("/mutual-aid/claims/{other_claim}/review"),
        "/mutual-aid/enrolments/export.xlsx?union=SF-02-S1-001".to_string(),
    ] {
        let (s, _) = form(&county, &path, &[("action", "approve"), ("comment", "x")]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        attach_page(&county, other_claim, "住院发票").await,
        StatusCode::NOT_FOUND
    );
    let (s, v) = county
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/claims/{other_claim}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Exports: POSTs with the token, masked, the caller's subtree only.
    let (s, t) = export(&county, "/mutual-aid/enrolments/export.xlsx").await;
    assert_eq!(s, StatusCode::OK);
    let t = t.unwrap();
    let id_col = t.headers.iter().position(|h| h == "证件号码").unwrap();
    let code_col = t.headers.iter().position(|h| h == "组织代码").unwrap();
    assert!(!t.rows.is_empty());
    assert!(
        t.rows.iter().all(|r| r.cells[id_col].contains('*')),
        "masked"
    );
    assert!(
        t.rows
            .iter()
            .all(|r| r.cells[code_col].starts_with("SF-01")),
        "own county only"
    );
    let (s, t) = export(&county, "/mutual-aid/claims/export.xlsx?status=approved").await;
    assert_eq!(s, StatusCode::OK);
    let t = t.unwrap();
    let county_claims = count(&server,
        "SELECT COUNT(*) FROM aid_claims c JOIN orgs o ON o.id = c.org_id WHERE o.code LIKE 'SF-01%' AND c.status = 'approved'").await;
    assert_eq!(t.rows.len() as i64, county_claims);
    let (s, t) = export(&city, "/mutual-aid/ledger/export.xlsx").await;
    assert_eq!(s, StatusCode::OK);
    let t = t.unwrap();
    let payouts = count(&server, "SELECT COUNT(*) FROM aid_payouts").await;
    assert_eq!(t.rows.len() as i64, payouts + 1, "with the total line");
    // Without the token: refused.
    let r = county
        .http
        .post(format!("{}/mutual-aid/ledger/export.xlsx", county.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
}

#[tokio::test]
async fn the_demo_fills_the_pages() {
    let server = server().await;
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT status FROM aid_claims ORDER BY status")
            .fetch_all(server.state().db.pool())
            .await
            .unwrap();
    assert_eq!(statuses, ["approved", "draft", "rejected", "submitted"]);
    assert!(count(&server, "SELECT COUNT(*) FROM aid_plans").await >= 3);
    assert!(count(&server, "SELECT COUNT(DISTINCT org_id) FROM aid_enrolments").await >= 5);
    assert!(count(&server, "SELECT COUNT(*) FROM aid_claims c JOIN orgs o ON o.id = c.org_id WHERE o.code LIKE 'SF-02%'").await >= 3);
    assert!(count(&server, "SELECT COUNT(*) FROM review_items WHERE kind = 'mutual_aid_claim' AND status = 'returned'").await >= 1);
    let city = Client::signed_in(&server, "sf_admin").await;
    let (_, page) = city.text("/mutual-aid/ledger").await;
    assert!(
        page.contains("id=\"ledger\"") && page.matches("/mutual-aid/claims/").count() >= 3,
        "{page}"
    );
    let (_, page) = city.text("/mutual-aid/enrolments?status=expired").await;
    assert!(page.contains("已到期"), "{page}");
    // The claim the reviewers returned reads "退回修改", and the filter finds it.
    let (_, v) = city
        .json(reqwest::Method::GET, "/api/v1/mutual-aid/claims", None)
        .await;
    let returned: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "returned")
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(!returned.is_empty(), "{v}");
    let (_, page) = city.text("/mutual-aid/claims?status=returned").await;
    for id in &returned {
        assert!(
            page.contains(&format!("href=\"/mutual-aid/claims/{id}\"")),
            "{page}"
        );
    }
    assert!(
        !page.contains("<td>审批中</td>"),
        "only returned claims: {page}"
    );
}

/// A valid resident ID for `n` (born 1980 + n/1000 days, region 110101).
fn id_no(n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8] = b"10X98765432";
    let birth = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()
        + chrono::Duration::days((n / 1000) as i64);
    let body = format!("110101{}{:03}", birth.format("%Y%m%d"), n % 1000);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize] as char)
}

/// The timing of a large list (`MUTUAL_AID_ROWS`, 5,000 by default): N
/// members put straight on the roster of SF-01-S1-001, then the list
/// checked, enrolled, and refused when sent again (all enrolled) through
/// the API. `MUTUAL_AID_ANALYZE=1` analyzes aid_enrolments before the
/// resend, as autovacuum soon does after a bulk insert (PostgreSQL plans
/// the "already enrolled" lookup badly on stale statistics). Run by hand:
/// `cargo test -p gonghui --test it -- mutual_aid_pages::timing --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn timing_a_large_list() {
    let n: usize = std::env::var("MUTUAL_AID_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let server = server().await;
    let st = server.state();
    let org: i64 = count(&server, "SELECT id FROM orgs WHERE code = 'SF-01-S1-001'").await;
    let now = time::now_rfc3339();
    let mut rows = Vec::with_capacity(n);
    let t = std::time::Instant::now();
    let mut tx = st.db.pool().begin().await.unwrap();
    for i in 0..n {
        let id = id_no(i);
        let name = format!("测试{i}");
        let hash = gonghui::platform::person::id_lookup_hash(&st.keys, &id);
        let pid: i64 = sqlx::query_scalar(
            "INSERT INTO persons (name, name_pinyin, name_initials, id_kind, id_hash, id_enc, id_masked, gender, row_hash, created_at, updated_at) \
             VALUES ($1, 'ceshi', 'cs', 'resident_id', $2, 'x', '110101**********', 'male', 'x', $3, $3) RETURNING id",
        )
        .bind(&name)
        .bind(&hash)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO memberships (person_id, org_id, member_no, status, joined_on, created_at, updated_at) \
             VALUES ($1, $2, $3, 'active', '2020-01-01', $4, $4)",
        )
        .bind(pid)
        .bind(org)
        .bind(format!("T{i:07}"))
        .bind(&now)
        .execute(&mut *tx)
        .await
        .unwrap();
        rows.push((name, id));
    }
    tx.commit().await.unwrap();
    // What autovacuum does to a table after a bulk load.
    for t in ["persons", "memberships"] {
        sqlx::query(&format!("ANALYZE {t}"))
            .execute(st.db.pool())
            .await
            .unwrap();
    }
    eprintln!("setup: {n} members in {:?}", t.elapsed());
    let city = Client::signed_in(&server, "sf_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let plan = create_plan(&city, "计时用互助计划", time::today().year(), "30").await;
    let list: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let bytes = xlsx(&list);
    eprintln!("xlsx: {} bytes", bytes.len());
    let t = std::time::Instant::now();
    let (s, v) = upload(&clerk, plan, bytes.clone(), true, "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    eprintln!("check only: {n} rows in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let (s, v) = upload(&clerk, plan, bytes.clone(), false, "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["persons"].as_u64(), Some(n as u64));
    eprintln!("enrolled: {n} rows in {:?}", t.elapsed());
    if std::env::var("MUTUAL_AID_ANALYZE").is_ok() {
        sqlx::query("ANALYZE aid_enrolments")
            .execute(st.db.pool())
            .await
            .unwrap();
    }
    let t = std::time::Instant::now();
    let (s, v) = upload(&clerk, plan, bytes, false, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        v["error"]["rows"].as_array().unwrap().len(),
        200,
        "the list is capped"
    );
    eprintln!(
        "refused (all already enrolled): {n} rows in {:?}",
        t.elapsed()
    );
}
