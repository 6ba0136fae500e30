//! 互助保障 (crates/mutual_aid): a claim walks 基层 → 县区 → 市总 to a payout
//! computed from the plan's rules and capped; refusals (missing documents,
//! an expired enrolment, the person's cap used up, another county) write
//! nothing; the figures equal their drill-downs. SQLite and PostgreSQL.

use chrono::Datelike;
use gonghui::{platform::time, testing};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{org_id, Client};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn attach(c: &Client, claim: i64, label: &str) {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name(format!("{label}.pdf")),
        )
        .text("label", label.to_string());
    let r = c
        .http
        .post(format!(
            "{}/api/v1/attachments/mutual_aid_claim/{claim}?_csrf={}",
            c.base, c.csrf
        ))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn count(server: &testing::TestServer, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

async fn decide(c: &Client, review: i64, action: &str, comment: &str) -> (StatusCode, Value) {
    c.json(
        Method::POST,
        &format!("/api/v1/reviews/{review}/{action}"),
        Some(json!({"comment": comment})),
    )
    .await
}

/// An enrolment of the grassroots clerk's union with no claim yet.
async fn free_enrolment(c: &Client, plan: i64, skip: usize) -> i64 {
    let (s, v) = c
        .get_json(&format!("/api/v1/mutual-aid/plans/{plan}/enrolments"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, claims) = c.get_json("/api/v1/mutual-aid/claims").await;
    let used: Vec<i64> = claims
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["enrolment_id"].as_i64().unwrap())
        .collect();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .filter(|id| !used.contains(id))
        .nth(skip)
        .expect("a free enrolment")
}

#[tokio::test]
async fn a_claim_walks_the_chain_to_a_computed_capped_payout() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let (_, plans) = clerk.get_json("/api/v1/mutual-aid/plans").await;
    let plan = plans[0]["id"].as_i64().unwrap();
    assert_eq!(plans[0]["required_docs"], json!(["住院发票", "出院小结"]));
    let enrolment = free_enrolment(&clerk, plan, 0).await;
    let today = time::today().to_string();

    // A draft: 20,000元 over 20 days; the rules give 1,000 + 9,750, the claim cap 3,000.
    let (s, claim) = clerk
        .json(
            Method::POST,
            "/api/v1/mutual-aid/claims",
            Some(
                json!({"enrolment_id": enrolment, "event_date": today, "category": "住院治疗",
                        "amount": "20000", "days": "20"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{claim}");
    let id = claim["id"].as_i64().unwrap();
    assert_eq!(claim["status"], "draft");

    // Without the documents: refused, nothing on the chain.
    let items = count(&server, "SELECT COUNT(*) FROM review_items").await;
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/claims/{id}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("住院发票"), "{v}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM review_items").await,
        items
    );
    attach(&clerk, id, "住院发票").await;
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/claims/{id}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v.to_string().contains("出院小结") && !v.to_string().contains("住院发票"),
        "{v}"
    );
    attach(&clerk, id, "出院小结").await;
    let (_, detail) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(detail["payout"]["by_rules"], 1_075_000);
    assert_eq!(detail["payout"]["paid"], 300_000);
    assert_eq!(detail["payout"]["limited_by"], "per_claim");

    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/claims/{id}/submit"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let review = v["review_id"].as_i64().unwrap();
    // The city cannot skip the county's review; another county cannot see it.
    let (s, _) = decide(&city, review, "approve", "同意").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let weishui = Client::signed_in(&server, "weishui_admin").await;
    let (s, _) = decide(&weishui, review, "approve", "同意").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = weishui
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = decide(&county, review, "approve", "材料齐全").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(
        c["claim"]["status"], "submitted",
        "not paid before the city decides"
    );
    let (s, v) = decide(&city, review, "approve", "同意赔付").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(c["claim"]["status"], "approved");
    assert_eq!(c["claim"]["payout_fen"], 300_000);
    assert_eq!(
        count(
            &server,
            &format!(
                "SELECT COUNT(*) FROM aid_payouts WHERE claim_id = {id} AND amount_fen = 300000"
            )
        )
        .await,
        1,
        "the ledger"
    );
    // Approving again: already decided.
    let (s, _) = decide(&city, review, "approve", "again").await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The figures follow the ledger and equal their drill-downs.
    let root = org_id(&city, "SF").await;
    let year = time::today().year();
    let (s, t) = city
        .get_json(&format!("/api/v1/reports/figures?org={root}&period={year}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let figure = |code: &str| -> i64 {
        t["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["figures"].as_array().unwrap())
            .find(|f| f["code"] == code)
            .unwrap()["value"]
            .as_i64()
            .unwrap()
    };
    let paid = figure("aid_payouts");
    let ledger = count(
        &server,
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM aid_payouts",
    )
    .await;
    assert_eq!(paid, ledger);
    assert_eq!(
        figure("aid_beneficiaries"),
        count(&server, "SELECT COUNT(*) FROM aid_payouts").await
    );
    for (code, col) in [
        ("aid_insured", None),
        ("aid_contributions", Some("contribution_fen")),
        ("aid_payouts", Some("amount_fen")),
        ("aid_beneficiaries", None),
    ] {
        let mut rows = Vec::new();
        let mut page = 1;
        let total = loop {
            let (s, d) = city
                .get_json(&format!(
                    "/api/v1/reports/drill?org={root}&period={year}&code={code}&per_page=500&page={page}"
                ))
                .await;
            assert_eq!(s, StatusCode::OK, "{d}");
            let got = d["rows"].as_array().unwrap().clone();
            let done = got.is_empty();
            rows.extend(got);
            if done || rows.len() as i64 >= d["total"].as_i64().unwrap() {
                break d;
            }
            page += 1;
        };
        let drilled = match col {
            Some(col) => {
                let sum: i64 = rows.iter().map(|r| r[col].as_i64().unwrap()).sum();
                assert_eq!(Some(sum), total["sum"].as_i64(), "{code}");
                sum
            }
            None => rows.len() as i64,
        };
        assert_eq!(drilled, figure(code), "{code}");
    }
    assert!(figure("aid_insured") > 0 && figure("aid_contributions") > 0);
}

#[tokio::test]
async fn refusals_write_nothing() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let year = time::today().year();

    // A plan whose person cap is 1,000元.
    let (s, plan) = city
        .json(
            Method::POST,
            "/api/v1/mutual-aid/plans",
            Some(json!({"name": "测试意外伤害互助", "category": "accident",
                "period_start": format!("{year}-01-01"), "period_end": format!("{year}-12-31"),
                "contribution": "20", "deductible": "0", "ratio_pct": "100",
                "person_period_cap": "1000", "required_docs": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    let plan = plan["id"].as_i64().unwrap();
    // Bad plans.
    for (body, want) in [
        (
            json!({"name": "x", "category": "pets", "period_start": "2026-01-01", "period_end": "2026-12-31", "contribution": "1"}),
            "互助类别",
        ),
        (
            json!({"name": "x", "category": "accident", "period_start": "2026-12-01", "period_end": "2026-01-01", "contribution": "1"}),
            "早于",
        ),
        (
            json!({"name": "x", "category": "accident", "period_start": "2026-01-01", "period_end": "2026-12-31", "contribution": "-5"}),
            "每人缴费",
        ),
        (
            json!({"name": "x", "category": "accident", "period_start": "2026-01-01", "period_end": "2026-12-31", "contribution": "5", "ratio_pct": "150"}),
            "比例",
        ),
    ] {
        let (s, v) = city
            .json(Method::POST, "/api/v1/mutual-aid/plans", Some(body))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v.to_string().contains(want), "{want}: {v}");
    }

    // Enrolment: another county's members are not found, and nothing is enrolled.
    let other: i64 = count(
        &server,
        "SELECT m.id FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE o.code LIKE 'SF-02%' AND m.status = 'active' ORDER BY m.id LIMIT 1",
    )
    .await;
    let mine: i64 = count(
        &server,
        "SELECT m.id FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE o.code = 'SF-01-S1-001' AND m.status = 'active' ORDER BY m.id LIMIT 1",
    )
    .await;
    let before = count(&server, "SELECT COUNT(*) FROM aid_enrolments").await;
    let (s, _) = county
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/plans/{plan}/enrolments"),
            Some(json!({"membership_ids": [mine, other]})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        before
    );
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/plans/{plan}/enrolments"),
            Some(json!({"membership_ids": [mine]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["persons"], 1);
    assert_eq!(v["contributions_fen"], 2000);
    // Twice: a conflict, nothing more.
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/plans/{plan}/enrolments"),
            Some(json!({"membership_ids": [mine]})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_enrolments").await,
        before + 1
    );

    let (_, list) = clerk
        .get_json(&format!("/api/v1/mutual-aid/plans/{plan}/enrolments"))
        .await;
    let enrolment = list[0]["id"].as_i64().unwrap();
    assert!(list[0]["id_masked"].as_str().unwrap().contains('*'));
    // An event outside the enrolment's period: the enrolment has expired.
    let claims = count(&server, "SELECT COUNT(*) FROM aid_claims").await;
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/mutual-aid/claims",
            Some(
                json!({"enrolment_id": enrolment, "event_date": format!("{}-12-01", year - 1),
                        "category": "意外受伤", "amount": "800"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("已过期"), "{v}");
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/mutual-aid/claims",
            Some(
                json!({"enrolment_id": enrolment, "event_date": time::today().to_string(),
                        "category": "意外受伤", "amount": "八百"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_claims").await,
        claims
    );

    // 1,500元 claimed: 1,000 paid (the person's cap).
    let walk =
        |amount: &'static str| {
            let clerk = &clerk;
            let county = &county;
            let city = &city;
            async move {
                let (s, c) = clerk
                .json(
                    Method::POST,
                    "/api/v1/mutual-aid/claims",
                    Some(json!({"enrolment_id": enrolment, "event_date": time::today().to_string(),
                                "category": "意外受伤", "amount": amount})),
                )
                .await;
                assert_eq!(s, StatusCode::OK, "{c}");
                let id = c["id"].as_i64().unwrap();
                let (s, v) = clerk
                    .json(
                        Method::POST,
                        &format!("/api/v1/mutual-aid/claims/{id}/submit"),
                        None,
                    )
                    .await;
                if s != StatusCode::OK {
                    return (id, s, v);
                }
                let review = v["review_id"].as_i64().unwrap();
                assert_eq!(
                    decide(county, review, "approve", "同意").await.0,
                    StatusCode::OK
                );
                let (s, v) = decide(city, review, "approve", "同意").await;
                (id, s, v)
            }
        };
    let (id, s, v) = walk("1500").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(c["claim"]["payout_fen"], 100_000);
    // The cap is used up: the next claim cannot be submitted, nothing is paid.
    let ledger = count(&server, "SELECT COUNT(*) FROM aid_payouts").await;
    let (id, s, v) = walk("300").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("赔付上限"), "{v}");
    let (_, c) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(c["claim"]["status"], "draft");
    assert!(c["payout_refused"].as_str().unwrap().contains("上限"));
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM aid_payouts").await,
        ledger
    );

    // A rejection carries its reason on the chain and pays nothing.
    let (_, plans) = clerk.get_json("/api/v1/mutual-aid/plans").await;
    let main_plan = plans
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["category"] == "inpatient")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let e = free_enrolment(&clerk, main_plan, 1).await;
    let (_, c) = clerk
        .json(
            Method::POST,
            "/api/v1/mutual-aid/claims",
            Some(
                json!({"enrolment_id": e, "event_date": time::today().to_string(),
                        "category": "门诊", "amount": "700", "days": "0"}),
            ),
        )
        .await;
    let id = c["id"].as_i64().unwrap();
    attach(&clerk, id, "住院发票").await;
    attach(&clerk, id, "出院小结").await;
    let (_, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/mutual-aid/claims/{id}/submit"),
            None,
        )
        .await;
    let review = v["review_id"].as_i64().unwrap();
    decide(&county, review, "approve", "同意").await;
    let (s, _) = decide(&city, review, "reject", "").await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection needs its reason"
    );
    let (s, v) = decide(&city, review, "reject", "门诊费用不在住院医疗互助范围内").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = clerk
        .get_json(&format!("/api/v1/mutual-aid/claims/{id}"))
        .await;
    assert_eq!(c["claim"]["status"], "rejected");
    assert!(c["claim"]["payout_fen"].is_null());
    let (_, r) = clerk.get_json(&format!("/api/v1/reviews/{review}")).await;
    assert!(
        r.to_string().contains("门诊费用不在住院医疗互助范围内"),
        "{r}"
    );
    let (s, page) = clerk.text("/mutual-aid").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("未通过") && page.contains("已赔付"), "{page}");
}
