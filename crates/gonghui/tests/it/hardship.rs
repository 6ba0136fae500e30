//! 困难职工帮扶 over HTTP, on the demo federation: a file walks filing →
//! 初审 → 终审 → 公示 → confirmation → 解困脱困; health, income and bank
//! data by role, every view audited; another county sees nothing; nobody is
//! helped twice in a campaign (also racing), no union above its allocation,
//! amounts within the standard unless an exception says why; a bulk list of
//! thousands is written whole or not at all; 金秋助学's file and notice; the
//! figures equal their drill-downs and read like the seeds. SQLite and
//! PostgreSQL.

use chrono::Datelike;
use gonghui::{
    platform::time,
    sheet::{self, CellOut, SheetOut},
    testing::{self, TestServer},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{audit_count, org_id, Client};

/// A valid ID number no demo person holds (太白县, born from 1995 on),
/// distinct for every `n`.
fn id_no(n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8] = b"10X98765432";
    let birth = chrono::NaiveDate::from_ymd_opt(1995, 1, 1).unwrap()
        + chrono::Duration::days((n / 1000) as i64);
    let body = format!("610331{}{:03}", birth.format("%Y%m%d"), n % 1000);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize] as char)
}

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

fn msg(v: &Value) -> String {
    format!(
        "{} / {}",
        v["error"]["message_zh"].as_str().unwrap_or_default(),
        v["error"]["message_en"].as_str().unwrap_or_default()
    )
}

/// A file body for the head `name`/`id` with a per-capita income of `pc` fen
/// over `size` people.
fn file_body(org: i64, name: &str, id: &str, category: &str, pc: i64, size: i64) -> Value {
    let mut members = vec![
        json!({"name": name, "relation": "本人", "income_fen": pc * size,
        "health": "尿毒症透析", "disability": "无", "insurance": "职工医保"}),
    ];
    for k in 1..size {
        members.push(
            json!({"name": format!("家属{k}"), "relation": "子女", "income_fen": 0,
            "schooling": "高中"}),
        );
    }
    json!({
        "org_id": org,
        "head": {"name": name, "id_number": id},
        "category": category,
        "primary_cause": "重特大疾病",
        "secondary_causes": ["子女上学"],
        "members": members,
        "housing": "租房",
        "employer_status": "停产半停产",
        "zero_employment": false,
        "single_parent": true,
        "bank_name": "示范市农商银行",
        "bank_account": "6221 0000 1234 5678",
    })
}

async fn act(c: &Client, review: i64, action: &str, comment: &str) -> (StatusCode, Value) {
    c.json(
        Method::POST,
        &format!("/api/v1/reviews/{review}/{action}"),
        Some(json!({"comment": comment})),
    )
    .await
}

async fn review_of(server: &TestServer, table: &str, id: i64) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT review_id FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn hardship_file_walks_filing_notice_confirmation_and_closing() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let auditor = Client::signed_in(&server, "sf_auditor").await;
    let other = Client::signed_in(&server, "weishui_admin").await;
    let union = org_id(&clerk, "SF-01-S1-001").await;
    let id = id_no(1);
    let files_before = count(&server, "SELECT COUNT(*) FROM hardship_files").await;

    // Income that contradicts the category: refused, saying what the test found.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/files",
            Some(file_body(union, "柳青山", &id, "deep", 200_000, 3)),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("收入与困难类别不符") && msg(&v).contains("contradicts"),
        "{v}"
    );
    // More than three secondary causes, an unknown cause, no members.
    for (patch, needle) in [
        (
            json!({"secondary_causes": ["未参保", "子女上学", "下岗失业", "其他"]}),
            "最多填写3项",
        ),
        (json!({"primary_cause": "运气不好"}), "不在规定的原因中"),
        (json!({"members": []}), "家庭成员"),
        (json!({"bank_account": "12ab"}), "银行账号"),
    ] {
        let mut body = file_body(union, "柳青山", &id, "deep", 40_000, 3);
        for (k, val) in patch.as_object().unwrap() {
            body[k] = val.clone();
        }
        let (s, v) = clerk
            .json(Method::POST, "/api/v1/hardship/files", Some(body))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{needle}: {v}");
        assert!(msg(&v).contains(needle), "{needle}: {v}");
    }
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM hardship_files").await,
        files_before,
        "nothing half-written"
    );
    // With a reason the override is accepted and kept.
    let mut body = file_body(union, "柳青山", &id, "deep", 200_000, 3);
    body["override_reason"] = json!("透析费用每月3000元,实际生活低于低保");
    let (s, v) = clerk
        .json(Method::POST, "/api/v1/hardship/files", Some(body))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let file = v["id"].as_i64().unwrap();
    // A second open file for the same person: refused, nothing written.
    let (s, v) = county
        .json(
            Method::POST,
            "/api/v1/hardship/files",
            Some(file_body(union, "柳青山", &id, "sudden", 200_000, 3)),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("已有未关闭的困难职工档案"), "{v}");

    // The chain: the county's 初审, then the city's 终审.
    let review = review_of(&server, "hardship_files", file).await;
    let (s, v) = act(&city, review, "approve", "").await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the city cannot skip the 初审: {v}"
    );
    let (s, v) = act(&county, review, "approve", "情况属实").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = act(&city, review, "approve", "同意建档").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, d) = clerk
        .get_json(&format!("/api/v1/hardship/files/{file}"))
        .await;
    assert_eq!(d["status"], "notice", "{d}");

    // Who sees what; every view audited.
    let views = audit_count(&server, "hardship.file_view").await;
    assert_eq!(d["members"][0]["health"], "尿毒症透析");
    assert_eq!(d["income_fen"], 600_000);
    assert_eq!(d["bank_account_masked"], "****5678");
    assert!(!d.to_string().contains("6221000012345678"), "{d}");
    assert!(!d.to_string().contains(&id), "the full ID: {d}");
    let (s, a) = auditor
        .get_json(&format!("/api/v1/hardship/files/{file}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        a["members"][0]["health"].is_null() && a["members"][0]["disability"].is_null(),
        "{a}"
    );
    assert_eq!(a["income_fen"], 600_000, "auditors check incomes");
    let (s, page) = auditor.text(&format!("/hardship/files/{file}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("柳青山") && !page.contains("尿毒症"),
        "auditor page"
    );
    assert_eq!(audit_count(&server, "hardship.file_view").await, views + 2);
    // The full account: the unmask permission, audited.
    let (s, _) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/bank"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, b) = city
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/bank"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["bank_account"], "6221000012345678");
    assert_eq!(audit_count(&server, "hardship.bank_unmask").await, 1);

    // Another county: not found everywhere, and audited.
    let denied = audit_count(&server, "scope.denied").await;
    crate::common::assert_not_found_everywhere(
        &other,
        &[
            format!("/api/v1/hardship/files/{file}"),
            format!("/api/v1/attachments/hardship_file/{file}"),
        ],
        &[format!("/hardship/files/{file}")],
    )
    .await;
    assert!(audit_count(&server, "scope.denied").await > denied);
    let (_, list) = other.get_json("/api/v1/hardship/files?name=柳").await;
    assert!(
        !list.as_array().unwrap().iter().any(|r| r["id"] == file),
        "not in another county's list"
    );
    let (s, v) = other
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/close"),
            Some(json!({"reason": "x", "measure": "其他"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // 公示: an objection; confirmation waits for the notice and a resolution.
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/objections"),
            Some(json!({"content": "群众反映其配偶有经营收入"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, v) = county
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/confirm"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("公示期至"), "{v}");
    sqlx::query("UPDATE hardship_files SET notice_until = '2000-01-01' WHERE id = $1")
        .bind(file)
        .execute(server.state().db.pool())
        .await
        .unwrap();
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/confirm"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "a grassroots union does not confirm: {v}"
    );
    let (s, v) = county
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/confirm"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("异议"), "{v}");
    let (s, v) = county
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/confirm"),
            Some(json!({"resolution": "经核实,配偶经营已停业"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, d) = clerk
        .get_json(&format!("/api/v1/hardship/files/{file}"))
        .await;
    assert_eq!(d["status"], "open");
    assert_eq!(d["objections"][0]["resolution"], "经核实,配偶经营已停业");

    // 解困脱困: a reason and a measure, then read-only.
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/close"),
            Some(json!({"reason": "  ", "measure": "就业创业"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("原因"), "{v}");
    let (s, v) = clerk
        .json(Method::POST, &format!("/api/v1/hardship/files/{file}/close"),
            Some(json!({"reason": "子女毕业就业,家庭人均收入超过低保标准2倍", "measure": "就业创业"})))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, d) = clerk
        .get_json(&format!("/api/v1/hardship/files/{file}"))
        .await;
    assert_eq!(d["status"], "closed");
    let keep = d["keep_until"].as_str().unwrap();
    assert!(
        keep.starts_with(&(time::today().year() + 10).to_string()),
        "{keep}"
    );
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{file}/close"),
            Some(json!({"reason": "again", "measure": "其他"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("只读"), "{v}");
    // A closed file no longer blocks a new one for the household.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/files",
            Some(file_body(union, "柳青山", &id, "deep", 40_000, 3)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, page) = clerk.text("/hardship/files").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("柳青山"));
}

/// A campaign of the city with `budget` fen, allocated to SF-01 and SF-02.
async fn campaign(city: &Client, kind: &str, standard: i64, budget: i64, each: i64) -> i64 {
    let year = time::today().year();
    let (s, v) = city
        .json(
            Method::POST,
            "/api/v1/hardship/campaigns",
            Some(
                json!({"kind": kind, "name": format!("{year}年测试{kind}活动"),
                "starts_on": format!("{year}-01-01"), "ends_on": format!("{year}-12-31"),
                "standard_fen": standard, "budget_fen": budget}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    for code in ["SF-01", "SF-02"] {
        let org = org_id(city, code).await;
        let (s, v) = city
            .json(
                Method::POST,
                &format!("/api/v1/hardship/campaigns/{id}/allocations"),
                Some(json!({"org_id": org, "amount_fen": each})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    id
}

fn person(n: usize, amount: Option<i64>, reason: &str) -> Value {
    json!({"name": format!("测试{n}"), "id_number": id_no(n), "amount_fen": amount,
        "exception_reason": reason})
}

#[tokio::test]
async fn hardship_no_one_is_helped_twice_and_no_union_spends_above_its_allocation() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let other = Client::signed_in(&server, "weishui_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let cid = campaign(&city, "special", 100_000, 10_000_000, 500_000).await;
    let sf01_2 = org_id(&county, "SF-01-S1-002").await;
    let sf02_1 = org_id(&other, "SF-02-S1-001").await;
    let grants = || count(&server, "SELECT COUNT(*) FROM hardship_grants");
    let committed = |org: &'static str| {
        let pool = server.state().db.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT a.committed_fen FROM hardship_allocations a JOIN orgs o ON o.id = a.org_id \
                 WHERE o.code = $1 ORDER BY a.campaign_id DESC LIMIT 1",
            )
            .bind(org)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(1, None, "")]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let first = v["id"].as_i64().unwrap();
    assert_eq!(committed("SF-01").await, 100_000);

    // The same person from another county: refused, naming the campaign, not the union.
    let before = grants().await;
    let (s, v) = other
        .json(Method::POST, "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "org_id": sf02_1, "people": [person(2, None, ""), person(1, None, "")]})))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let m = msg(&v);
    assert!(
        m.contains("重复救助") && m.contains("测试special活动") && m.contains("已获帮扶"),
        "{m}"
    );
    assert!(
        !m.contains("秦川") && !m.contains("SF-01"),
        "not by whom: {m}"
    );
    assert_eq!(grants().await, before, "nothing written");
    assert_eq!(committed("SF-02").await, 0);
    // Inside the caller's subtree the union is named.
    let (s, v) = county
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "org_id": sf01_2, "people": [person(1, None, "")]})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("由"), "{v}");

    // Above the standard: a reason, approved with the application.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(3, Some(150_000), "")]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("超过") && msg(&v).contains("超标准理由"),
        "{v}"
    );
    let (s, v) = clerk
        .json(Method::POST, "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(3, Some(150_000), "住院自付费用超过5万元")]})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let exception = v["id"].as_i64().unwrap();
    let (_, b) = clerk
        .get_json(&format!("/api/v1/hardship/batches/{exception}"))
        .await;
    assert_eq!(b["batch"]["exceptions"], 1, "{b}");

    // The allocation: SF-01 has 5,000元, 2,500元 committed; 3 × 1,000元 more is too much.
    let before = grants().await;
    let (s, v) = clerk
        .json(Method::POST, "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(4, None, ""), person(5, None, ""), person(6, None, "")]})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("超出分配额度") && msg(&v).contains("秦川区"),
        "{v}"
    );
    assert_eq!(grants().await, before, "nothing written");
    assert_eq!(
        committed("SF-01").await,
        250_000,
        "the allocation is untouched"
    );

    // A rejection frees the person and the money.
    let review = review_of(&server, "hardship_batches", first).await;
    let (s, v) = act(&county, review, "reject", "不符合救助条件").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(committed("SF-01").await, 150_000);
    let (s, v) = other
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "org_id": sf02_1, "people": [person(1, None, "")]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "after the rejection: {v}");

    // Approved up the chain, then paid once.
    let review = review_of(&server, "hardship_batches", exception).await;
    assert_eq!(act(&county, review, "approve", "").await.0, StatusCode::OK);
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/batches/{exception}/pay"),
            Some(json!({"method": "银行转账", "handler": "李会计"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "not approved yet: {v}");
    assert_eq!(act(&city, review, "approve", "").await.0, StatusCode::OK);
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/batches/{exception}/pay"),
            Some(json!({"method": "", "handler": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/batches/{exception}/pay"),
            Some(json!({"method": "银行转账", "handler": "李会计"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, _) = clerk
        .json(
            Method::POST,
            &format!("/api/v1/hardship/batches/{exception}/pay"),
            Some(json!({"method": "银行转账", "handler": "李会计"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, page) = clerk
        .text(&format!("/hardship/batches/{exception}/print"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("审批表") && page.contains("住院自付费用") && page.contains("同意"),
        "print view"
    );
    let (s, _) = other
        .text(&format!("/hardship/batches/{exception}/print"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The same form as .docx; outside the subtree, not found.
    let docx = |c: &Client| {
        let (http, base, csrf) = (c.http.clone(), c.base.clone(), c.csrf.clone());
        async move {
            http.post(format!("{base}/hardship/batches/{exception}/approval.docx"))
                .form(&[("_csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let r = docx(&clerk).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "a .docx is a zip");
    assert_eq!(docx(&other).await.status(), StatusCode::NOT_FOUND);
    if let Some(text) = crate::common::docx_text(&bytes) {
        assert!(
            text.contains("审批表") && text.contains("住院自付费用"),
            "{text}"
        );
    }

    // Racing: two unions of two counties apply for one person at once; one wins.
    let (a, b) = tokio::join!(
        clerk.json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(9, None, "")]}))
        ),
        other.json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "org_id": sf02_1, "people": [person(9, None, "")]}))
        ),
    );
    let won = [a.0, b.0].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(won, 1, "{a:?} {b:?}");
    assert!([a.0, b.0].contains(&StatusCode::CONFLICT), "{a:?} {b:?}");
    let hash = {
        let id = id_no(9);
        gonghui::platform::person::id_lookup_hash(&server.state().keys, &id)
    };
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hardship_grants WHERE campaign_id = $1 AND id_hash = $2 AND status <> 'rejected'",
    )
    .bind(cid)
    .bind(&hash)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(live, 1);
}

fn xlsx(rows: &[(String, String, String)]) -> Vec<u8> {
    sheet::write_xlsx(&[SheetOut {
        name: "名单".into(),
        headers: vec!["姓名".into(), "身份证号".into(), "金额".into()],
        rows: rows
            .iter()
            .map(|(n, i, a)| {
                vec![
                    CellOut::Text(n.clone()),
                    CellOut::Text(i.clone()),
                    CellOut::Text(a.clone()),
                ]
            })
            .collect(),
        col_widths: None,
    }])
    .unwrap()
}

async fn upload(c: &Client, campaign: i64, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .text("campaign_id", campaign.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("名单.xlsx"),
        );
    let r = c
        .http
        .post(format!("{}/api/v1/hardship/batches/import", c.base))
        .header("x-csrf-token", &c.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn hardship_a_bulk_list_of_thousands_is_written_whole_or_not_at_all() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let n = 3_000;
    let cid = campaign(
        &city,
        "summer",
        20_000,
        20_000 * 3 * n as i64,
        20_000 * (n as i64 + 10),
    )
    .await;
    // Someone already helped, at the end of a list of thousands.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [person(5_000, None, "")]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let grants = || count(&server, "SELECT COUNT(*) FROM hardship_grants");
    let batches = || count(&server, "SELECT COUNT(*) FROM hardship_batches");
    let (g0, b0) = (grants().await, batches().await);
    let mut rows: Vec<(String, String, String)> = (0..n - 1)
        .map(|i| (format!("工人{i}"), id_no(10_000 + i), "200".into()))
        .collect();
    rows.push(("测试5000".into(), id_no(5_000), "200".into()));
    let (s, v) = upload(&clerk, cid, xlsx(&rows)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("重复救助"), "{v}");
    assert_eq!(
        (grants().await, batches().await),
        (g0, b0),
        "nothing of the list"
    );
    // A bad row anywhere: refused naming it, nothing written.
    let mut bad = rows.clone();
    bad[n / 2].1 = "61033119950101".into();
    let (s, v) = upload(&clerk, cid, xlsx(&bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains(&format!("第{}人", n / 2 + 1)), "{v}");
    assert_eq!((grants().await, batches().await), (g0, b0));
    // Without the duplicate: the whole list, one application.
    rows.pop();
    rows.push(("最后一人".into(), id_no(20_000), "200".into()));
    let started = std::time::Instant::now();
    let (s, v) = upload(&clerk, cid, xlsx(&rows)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    eprintln!("bulk of {n}: {:?}", started.elapsed());
    assert_eq!(grants().await, g0 + n as i64);
    assert_eq!(batches().await, b0 + 1);
    let (_, b) = clerk
        .get_json(&format!("/api/v1/hardship/batches/{}", v["id"]))
        .await;
    assert_eq!(b["batch"]["people"], n as i64);
    assert_eq!(b["batch"]["total_fen"], 20_000 * n as i64);
    // Not a spreadsheet: refused clearly.
    let (s, v) = upload(&clerk, cid, b"not a sheet".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test]
async fn hardship_study_grants_need_an_open_file_and_an_admission_notice() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let cid = campaign(&city, "education", 300_000, 30_000_000, 3_000_000).await;
    // No file.
    let (s, v) = clerk
        .json(Method::POST, "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [{"name": "测试1", "id_number": id_no(1), "school": "西北大学"}]})))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("金秋助学须有已建档"), "{v}");
    // An open file of the clerk's union without this year's notice.
    let file: i64 = sqlx::query_scalar(
        "SELECT f.id FROM hardship_files f JOIN orgs o ON o.id = f.org_id WHERE o.code = 'SF-01-S1-001' \
         AND f.status = 'open' AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.owner_kind = 'hardship_file' \
         AND a.owner_id = f.id) ORDER BY f.id LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let apply = json!({"campaign_id": cid, "people": [{"file_id": file, "school": "西北大学"}]});
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(apply.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("录取通知书"), "{v}");
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/batches",
            Some(json!({"campaign_id": cid, "people": [{"file_id": file}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // The notice attached to the file, then accepted.
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf).file_name("notice.pdf"),
        )
        .text("label", "录取通知书");
    let r = clerk
        .http
        .post(format!(
            "{}/api/v1/attachments/hardship_file/{file}",
            clerk.base
        ))
        .header("x-csrf-token", &clerk.csrf)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (s, v) = clerk
        .json(Method::POST, "/api/v1/hardship/batches", Some(apply))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Another county cannot see the file's attachments.
    let other = Client::signed_in(&server, "weishui_admin").await;
    let (s, _) = other
        .get_json(&format!("/api/v1/attachments/hardship_file/{file}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
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

/// Every row of a drill-down (pages of 500), as one answer.
async fn drill_all(c: &Client, org: i64, year: i32, code: &str) -> Value {
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={org}&period={year}&code={code}&per_page=500&page={page}"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        let got = d["rows"].as_array().unwrap().clone();
        let done =
            got.is_empty() || rows.len() + got.len() >= d["total"].as_i64().unwrap() as usize;
        rows.extend(got);
        if done {
            let mut all = d.clone();
            all["rows"] = Value::Array(rows);
            return all;
        }
        page += 1;
    }
}

fn drilled(d: &Value) -> i64 {
    match d["sum"].as_i64() {
        Some(sum) => {
            let listed: i64 = d["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["amount_fen"].as_i64().unwrap())
                .sum();
            assert_eq!(listed, sum, "the rows add up to the sum");
            sum
        }
        None => {
            assert_eq!(
                d["rows"].as_array().unwrap().len() as i64,
                d["total"].as_i64().unwrap()
            );
            d["total"].as_i64().unwrap()
        }
    }
}

#[tokio::test]
async fn hardship_figures_equal_their_drill_downs_and_read_like_the_seeds() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "sf_admin").await;
    let year = time::today().year();
    let root = org_id(&c, "SF").await;
    let (s, t) = c
        .get_json(&format!("/api/v1/reports/figures?org={root}&period={year}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let codes: Vec<&str> = gonghui::hardship::indicators::indicators()
        .iter()
        .map(|i| i.code)
        .collect();
    for code in &codes {
        let f = figure(&t, code);
        let value = f["value"].as_i64().unwrap();
        assert!(value > 0, "{code}: the demo has records");
        let d = drill_all(&c, root, year, code).await;
        assert_eq!(drilled(&d), value, "{code}");
        for (cell, child) in f["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .zip(t["children"].as_array().unwrap())
        {
            let d = drill_all(&c, child["id"].as_i64().unwrap(), year, code).await;
            assert_eq!(
                drilled(&d),
                cell["value"].as_i64().unwrap(),
                "{code} {}",
                child["code"]
            );
        }
    }
    // Households counted once, person-visits every time: from the records.
    let pool = server.state().db.pool();
    let (households, visits): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(DISTINCT g.org_id || ':' || g.id_hash) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM hardship_grants g JOIN hardship_campaigns c ON c.id = g.campaign_id \
         WHERE c.kind = 'warmth' AND g.status = 'paid' AND g.paid_on >= $1 AND g.paid_on <= $2",
    )
    .bind(format!("{year}-01-01"))
    .bind(format!("{year}-12-31"))
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        figure(&t, "hardship_warmth_households")["value"],
        households
    );
    assert_eq!(figure(&t, "hardship_warmth_visits")["value"], visits);
    assert!(visits > households, "some households were visited twice");
    let parts: i64 = [
        "hardship_files_deep",
        "hardship_files_relative",
        "hardship_files_sudden",
    ]
    .iter()
    .map(|c| figure(&t, c)["value"].as_i64().unwrap())
    .sum();
    assert_eq!(
        parts,
        figure(&t, "hardship_files_open")["value"].as_i64().unwrap()
    );

    // The paragraph, written with the figures' own display.
    let p = gonghui::hardship::indicators::summary()
        .into_iter()
        .find(|p| p.key == "hardship.warmth")
        .unwrap();
    let mut text = String::new();
    for piece in gonghui::platform::summary::parse(p.zh).unwrap() {
        match piece {
            gonghui::platform::summary::Piece::Text(s) => text.push_str(&s),
            gonghui::platform::summary::Piece::Figure { code, .. } => {
                text.push_str(figure(&t, &code)["display"].as_str().unwrap())
            }
            gonghui::platform::summary::Piece::Optional(_) => {}
        }
    }
    assert_eq!(
        text,
        format!("送温暖活动慰问困难家庭{households}户,慰问困难职工{visits}人次。")
    );
    // Registered: the paragraphs and the yearly return's 帮扶 lines.
    let reg = &server.state().registry;
    assert!(reg
        .summary_paragraphs()
        .iter()
        .any(|p| p.key == "hardship.education"));
    let ret = reg.yearly_return();
    assert!(ret
        .items
        .iter()
        .any(|i| i.code == "BF01" && i.area.key == "assistance"));
    // A county sees its own subtree only.
    let county = Client::signed_in(&server, "weishui_admin").await;
    let sf01 = org_id(&c, "SF-01").await;
    let (s, _) = county
        .get_json(&format!(
            "/api/v1/reports/drill?org={sf01}&period={year}&code=hardship_warmth_visits"
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hardship_yearly_recheck_draws_a_share_and_closes_who_no_longer_qualifies() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let other = Client::signed_in(&server, "weishui_admin").await;
    let year = time::today().year();
    let due: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code LIKE 'SF-01%' AND f.status = 'open' AND f.confirmed_on < $1",
    )
    .bind(format!("{year}-01-01"))
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert!(due > 3, "the demo has files due: {due}");
    let (s, v) = county
        .json(
            Method::POST,
            "/api/v1/hardship/rechecks",
            Some(json!({"year": year, "share_pct": 0})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, list) = county
        .json(
            Method::POST,
            "/api/v1/hardship/rechecks",
            Some(json!({"year": year, "share_pct": 30})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len() as i64, due);
    let sampled: Vec<i64> = rows
        .iter()
        .filter(|r| r["sampled"] == true)
        .map(|r| r["file_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sampled.len() as i64,
        (due * 30 + 99) / 100,
        "30%, rounded up"
    );
    // Drawing again keeps the draw.
    let (_, again) = county
        .json(
            Method::POST,
            "/api/v1/hardship/rechecks",
            Some(json!({"year": year, "share_pct": 100})),
        )
        .await;
    let again: Vec<i64> = again
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["sampled"] == true)
        .map(|r| r["file_id"].as_i64().unwrap())
        .collect();
    assert_eq!(again, sampled);
    let (_, theirs) = other
        .get_json(&format!("/api/v1/hardship/rechecks?year={year}"))
        .await;
    assert!(
        theirs.as_array().unwrap().is_empty(),
        "another county's list: {theirs}"
    );

    let (a, b) = (
        sampled[0],
        rows.iter()
            .map(|r| r["file_id"].as_i64().unwrap())
            .find(|f| *f != sampled[0])
            .unwrap(),
    );
    let check = |id: i64, body: Value| {
        let c = &county;
        async move {
            c.json(
                Method::POST,
                &format!("/api/v1/hardship/files/{id}/recheck"),
                Some(body),
            )
            .await
        }
    };
    let (s, v) = check(
        a,
        json!({"year": year, "qualifies": true, "note": "入户核查,仍符合条件"}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, v) = check(a, json!({"year": year, "qualifies": true})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = check(
        b,
        json!({"year": year, "qualifies": false, "note": "", "measure": ""}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, d) = county
        .get_json(&format!("/api/v1/hardship/files/{b}"))
        .await;
    assert_eq!(d["status"], "open", "nothing half-written");
    let (s, v) = other
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{b}/recheck"),
            Some(json!({"year": year, "qualifies": true})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = check(b, json!({"year": year, "qualifies": false, "note": "配偶已就业,人均收入超过标准", "measure": "就业创业"})).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (_, d) = county
        .get_json(&format!("/api/v1/hardship/files/{b}"))
        .await;
    assert_eq!(d["status"], "closed");
    assert_eq!(d["close_measure"], "employment");
    let (_, list) = county
        .get_json(&format!("/api/v1/hardship/rechecks?year={year}"))
        .await;
    let outcome = |id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["file_id"] == id)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(
        (outcome(a), outcome(b)),
        (json!("qualifies"), json!("closed"))
    );
}

/// A bulk application killed mid-way: inside its transaction nothing is
/// visible and a dropped transaction leaves nothing; one killed between its
/// write and its submission (a draft) is removed at the next start, its
/// people and its money released.
#[tokio::test]
async fn hardship_a_killed_bulk_application_leaves_nothing() {
    use gonghui::hardship::grants::{self, CampaignInput, GrantInput};
    let env = testing::demo_env().await.unwrap();
    let st = env.state.clone();
    let city = gonghui::platform::tree::system_scope(&st.db).await.unwrap();
    let year = time::today().year();
    let cid = grants::create_campaign(
        &st.db,
        &city,
        &CampaignInput {
            // A special campaign without a file requirement: people by ID.
            kind: "special".into(),
            name: "中断测试".into(),
            starts_on: format!("{year}-01-01"),
            ends_on: format!("{year}-12-31"),
            standard_fen: 10_000,
            budget_fen: 100_000_000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let c = grants::campaign(&st.db, &city, cid).await.unwrap();
    let org = gonghui::platform::tree::node(&st.db, &city, city.org_id)
        .await
        .unwrap();
    let people: Vec<GrantInput> = (0..2_000)
        .map(|i| GrantInput {
            name: format!("中断{i}"),
            id_number: id_no(30_000 + i),
            ..Default::default()
        })
        .collect();
    let lines = grants::prepare(&st, &city, &c, &people).await.unwrap();
    let grants_n = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM hardship_grants WHERE campaign_id = $1")
            .bind(cid.0)
            .fetch_one(st.db.pool())
            .await
            .unwrap()
    };
    let committed = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT committed_fen FROM hardship_allocations WHERE campaign_id = $1 AND org_id = $2",
        )
        .bind(cid.0)
        .bind(city.org_id.0)
        .fetch_one(st.db.pool())
        .await
        .unwrap()
    };
    // Killed inside the transaction: the transaction is dropped, not committed.
    {
        let mut tx = st.db.begin_write().await.unwrap();
        grants::write_batch(&mut tx, &city, &c, &org, "中断", &lines)
            .await
            .unwrap();
        drop(tx);
    }
    assert_eq!((grants_n().await, committed().await), (0, 0));
    // Killed after the write, before the submission: a draft, swept at start.
    let mut tx = st.db.begin_write().await.unwrap();
    grants::write_batch(&mut tx, &city, &c, &org, "中断", &lines)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(grants_n().await, 2_000);
    assert_eq!(committed().await, 2_000 * 10_000);
    let env = testing::reopen(env, gonghui::modules::registry())
        .await
        .unwrap();
    let server = TestServer::start(env).await.unwrap();
    let st = server.state().clone();
    for _ in 0..100 {
        if grants_n_in(&st, cid.0).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(grants_n_in(&st, cid.0).await, 0, "the draft is gone");
    let left: i64 = sqlx::query_scalar(
        "SELECT committed_fen FROM hardship_allocations WHERE campaign_id = $1 AND org_id = $2",
    )
    .bind(cid.0)
    .bind(city.org_id.0)
    .fetch_one(st.db.pool())
    .await
    .unwrap();
    assert_eq!(left, 0, "its money released");
    // The people may be helped by a real application.
    let lines = grants::prepare(&st, &city, &c, &people[..1]).await.unwrap();
    let mut tx = st.db.begin_write().await.unwrap();
    grants::write_batch(&mut tx, &city, &c, &org, "再次", &lines)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn grants_n_in(st: &gonghui::platform::web::AppState, cid: i64) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM hardship_grants WHERE campaign_id = $1")
        .bind(cid)
        .fetch_one(st.db.pool())
        .await
        .unwrap()
}

/// The budget handed down: a union spends its allocation less what it
/// handed further down; a union below without its own spends its nearest
/// allocated ancestor's; nobody hands out a budget above them.
#[tokio::test]
async fn hardship_budgets_are_handed_down_and_spent_within_each_allocation() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let city = Client::signed_in(&server, "sf_admin").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let cid = campaign(&city, "special", 100_000, 10_000_000, 500_000).await;
    let (s, v) = allocate_to(&county, cid, "SF-01-S1", 300_000).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, v) = allocate_to(&county, cid, "SF-01-S2", 300_000).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("剩余额度不足"), "{v}");
    // The grassroots union cannot hand out its street's budget.
    let (s, v) = allocate_to(&clerk, cid, "SF-01-S1-001", 100_000).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Under the street: its 3,000元.
    let (s, v) = apply_n(&clerk, cid, None, 0, 3).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = apply_n(&clerk, cid, None, 3, 1).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("城关街道") || msg(&v).contains("街道"),
        "names the street: {v}"
    );
    // Directly under the county: its 5,000元 less the 3,000元 handed down.
    let z = org_id(&county, "SF-01-Z01").await;
    let (s, v) = apply_n(&county, cid, Some(z), 10, 2).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = apply_n(&county, cid, Some(z), 12, 1).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("秦川区"), "{v}");
    // A share cannot drop below what was spent from it.
    let (s, v) = allocate_to(&county, cid, "SF-01-S1", 200_000).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, d) = county
        .get_json(&format!("/api/v1/hardship/campaigns/{cid}"))
        .await;
    let street = d["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["org_name"].as_str().unwrap().contains("街道"))
        .unwrap()
        .clone();
    assert_eq!(
        (
            street["amount_fen"].as_i64(),
            street["committed_fen"].as_i64()
        ),
        (Some(300_000), Some(300_000))
    );
}

async fn allocate_to(c: &Client, cid: i64, code: &str, amount: i64) -> (StatusCode, Value) {
    let org = org_id(c, code).await;
    c.json(
        Method::POST,
        &format!("/api/v1/hardship/campaigns/{cid}/allocations"),
        Some(json!({"org_id": org, "amount_fen": amount})),
    )
    .await
}

async fn apply_n(
    c: &Client,
    cid: i64,
    org: Option<i64>,
    from: usize,
    n: usize,
) -> (StatusCode, Value) {
    let people: Vec<Value> = (from..from + n)
        .map(|i| person(40_000 + i, None, ""))
        .collect();
    c.json(
        Method::POST,
        "/api/v1/hardship/batches",
        Some(json!({"campaign_id": cid, "org_id": org, "people": people})),
    )
    .await
}

/// The pages: lists and records, an application uploaded on the campaign's
/// page, its payment and a file's closing recorded by the pages' forms.
#[tokio::test]
async fn hardship_pages_show_records_and_their_forms_act() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let cid = campaign(&city, "summer", 50_000, 10_000_000, 1_000_000).await;
    let (s, page) = clerk.text("/hardship/campaigns").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("测试summer活动") && page.contains("夏送清凉"),
        "campaigns page"
    );
    let (s, page) = clerk.text(&format!("/hardship/campaigns/{cid}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("multipart/form-data"), "the upload form");
    let csv = format!(
        "姓名,身份证号,金额\n页面甲,{},500\n页面乙,{},300\n",
        id_no(50_001),
        id_no(50_002)
    );
    let r = clerk
        .upload(
            &format!("/hardship/campaigns/{cid}/apply"),
            csv.into_bytes(),
            "名单.csv",
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let batch: i64 = r
        .url()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .expect("redirected to the application");
    let page = r.text().await.unwrap();
    assert!(page.contains("页面甲") && page.contains("800元"), "{page}");
    let review = review_of(&server, "hardship_batches", batch).await;
    assert_eq!(act(&county, review, "approve", "").await.0, StatusCode::OK);
    assert_eq!(act(&city, review, "approve", "").await.0, StatusCode::OK);
    let (s, page) = clerk
        .post_form(
            &format!("/hardship/batches/{batch}/pay"),
            &[("paid_on", ""), ("method", "现金"), ("handler", "赵出纳")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("已发放") && page.contains("赵出纳"), "{page}");
    // Closing from the file's page.
    let file: i64 = sqlx::query_scalar(
        "SELECT f.id FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code = 'SF-01-S1-001' AND f.status = 'open' ORDER BY f.id LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    let (s, page) = clerk.text(&format!("/hardship/files/{file}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("家庭成员") && page.contains("解困脱困"),
        "file page"
    );
    let (s, page) = clerk
        .post_form(
            &format!("/hardship/files/{file}/close"),
            &[("reason", ""), ("measure", "employment")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (s, page) = clerk
        .post_form(
            &format!("/hardship/files/{file}/close"),
            &[("reason", "户主再就业"), ("measure", "employment")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("已解困脱困") && page.contains("只读"),
        "{page}"
    );
    let (s, _) = clerk.text("/hardship").await;
    assert_eq!(s, StatusCode::OK);
    // Every string of every page is in the catalogue, in both languages.
    for lang in ["zh", "en"] {
        let _ = clerk.text(&format!("/lang/{lang}")).await;
        for path in [
            "/hardship/files".to_string(),
            format!("/hardship/files/{file}"),
            "/hardship/campaigns".to_string(),
            format!("/hardship/campaigns/{cid}"),
            format!("/hardship/batches/{batch}"),
            format!("/hardship/batches/{batch}/print"),
        ] {
            let (s, page) = clerk.text(&path).await;
            assert_eq!(s, StatusCode::OK, "{path}");
            assert!(!page.contains("⟨?⟩"), "{lang} {path}: a key is missing");
        }
    }
}
