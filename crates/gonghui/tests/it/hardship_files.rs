//! 困难职工档案, the gaps of issue 12: the page form that files a household
//! (the income test shown, a differing category needs a reason, refusals
//! re-show the form and write nothing); editing a file the review chain
//! returned and resubmitting it (only the submitting union, never a file
//! under review, confirmed or closed, every change audited); the 年审 close
//! in one transaction with the re-check; each campaign kind's eligibility
//! rule. Another county gets 404 from every new route. SQLite and PostgreSQL.

use chrono::Datelike;
use gonghui::{
    platform::{db::Backend, time},
    testing::{self, TestServer},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{audit_count, org_id, Client};

/// A valid ID number no demo person holds (太白县, born 1996 on), distinct
/// for every `n`.
fn id_no(n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8] = b"10X98765432";
    let birth = chrono::NaiveDate::from_ymd_opt(1996, 1, 1).unwrap()
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

async fn scalar_s(server: &TestServer, sql: &str, id: i64) -> String {
    sqlx::query_scalar::<_, String>(sql)
        .bind(id)
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

/// A file body: the head `name`/`id`, a per-capita monthly income of `pc`
/// fen over `size` people, laid off.
fn file_body(name: &str, id: &str, category: &str, pc: i64, size: i64) -> Value {
    let mut members = vec![
        json!({"name": name, "relation": "本人", "income_fen": pc * size,
        "health": "慢性病", "insurance": "职工医保"}),
    ];
    for k in 1..size {
        members.push(
            json!({"name": format!("家属{k}"), "relation": "子女", "income_fen": 0,
            "schooling": "初中"}),
        );
    }
    json!({
        "head": {"name": name, "id_number": id},
        "category": category,
        "primary_cause": "下岗失业",
        "members": members,
        "housing": "租房",
        "bank_name": "示范市农商银行",
        "bank_account": "6221 0000 1234 5678",
    })
}

/// The page form's fields for a household of three (incomes in yuan).
fn form_fields<'a>(
    name: &'a str,
    id: &'a str,
    category: &'a str,
    income: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("head_name", name),
        ("head_id_number", id),
        ("category", category),
        ("primary_cause", "laid_off"),
        ("secondary_1", "schooling"),
        ("m0_name", name),
        ("m0_relation", "本人"),
        ("m0_income", income),
        ("m0_health", "高血压"),
        ("m1_name", "页面家属甲"),
        ("m1_relation", "配偶"),
        ("m1_income", "0"),
        ("m3_name", "页面家属乙"),
        ("m3_relation", "子女"),
        ("m3_schooling", "小学"),
        ("housing", "租房"),
        ("employer_status", "停产"),
        ("single_parent", "1"),
        ("bank_name", "示范市农商银行"),
        ("bank_account", "6222 0212 3456 7890"),
    ]
}

async fn files_n(server: &TestServer) -> (i64, i64, i64) {
    (
        count(server, "SELECT COUNT(*) FROM hardship_files").await,
        count(server, "SELECT COUNT(*) FROM hardship_members").await,
        count(server, "SELECT COUNT(*) FROM review_items").await,
    )
}

#[tokio::test]
async fn hardship_files_the_page_form_files_a_household_and_refusals_reshow_it() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let auditor = Client::signed_in(&server, "sf_auditor").await;
    let (s, page) = clerk.text("/hardship/files").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("/hardship/files/new"), "a link to the form");
    let (s, page) = clerk.text("/hardship/files/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("新建困难职工档案") && page.contains("m7_name") && !page.contains("m8_name"),
        "eight empty household rows"
    );
    assert!(!page.contains("<script>"), "no inline script");
    let (s, _) = auditor.text("/hardship/files/new").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "auditors do not file");

    let id = id_no(1);
    let before = files_n(&server).await;
    // The income test on request: 2,400元 over 3 people = 800元, between the
    // county's line (680元) and 150% of it: 相对困难.
    let mut fields = form_fields("页面户主", &id, "deep", "2400");
    fields.push(("action", "test"));
    let (s, page) = clerk.post_form("/hardship/files/new", &fields).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"income-test\""), "the test is shown");
    assert!(
        page.contains("800.00") && page.contains("680.00"),
        "per-capita and line"
    );
    assert!(page.contains("相对困难"), "the category offered");
    assert!(
        page.contains("override-needed"),
        "a differing category is flagged"
    );
    assert!(page.contains("页面家属乙"), "the form keeps what was typed");
    assert_eq!(files_n(&server).await, before, "a test writes nothing");

    // Filing it as 深度困难 without a reason: refused, the form shown again.
    let fields = form_fields("页面户主", &id, "deep", "2400");
    let (s, page) = clerk.post_form("/hardship/files/new", &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("收入与困难类别不符"), "{page}");
    assert!(page.contains("页面户主") && page.contains("id=\"income-test\""));
    assert_eq!(files_n(&server).await, before, "nothing written");
    // A bad income, a bad ID number, too many secondary causes.
    for (patch, needle) in [
        (("m1_income", "很多"), "第2行"),
        (("head_id_number", "610331199601010000"), "校验位"),
        (("bank_account", "12ab"), "银行账号"),
        (("primary_cause", ""), "主要致困原因"),
    ] {
        let mut f = form_fields("页面户主", &id, "relative", "2400");
        f.retain(|(k, _)| *k != patch.0);
        f.push(patch);
        let (s, page) = clerk.post_form("/hardship/files/new", &f).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{patch:?}");
        assert!(page.contains(needle), "{patch:?}: {needle}");
        assert!(page.contains("role=\"alert\""), "{patch:?}");
        assert_eq!(files_n(&server).await, before, "{patch:?}: nothing written");
    }
    // In English too.
    let (s, _) = clerk.text("/lang/en").await;
    assert!(s.is_success() || s.is_redirection());
    let (s, page) = clerk
        .post_form(
            "/hardship/files/new",
            &form_fields("页面户主", &id, "deep", "2400"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("contradicts"), "the English message");
    let _ = clerk.text("/lang/zh").await;

    // With a reason it is filed and goes up the chain.
    let mut f = form_fields("页面户主", &id, "deep", "2400");
    f.push(("override_reason", "配偶长期患病,医疗支出大"));
    let (s, page) = clerk.post_form("/hardship/files/new", &f).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("页面户主") && page.contains("审批中"),
        "the file page"
    );
    let (files, members, reviews) = files_n(&server).await;
    assert_eq!(
        (files, members, reviews),
        (before.0 + 1, before.1 + 3, before.2 + 1)
    );
    let fid = count(&server, "SELECT MAX(id) FROM hardship_files").await;
    let row: (String, String, String, i64, i64) = sqlx::query_as(
        "SELECT category, offered_category, bank_account_masked, household_size, single_parent FROM hardship_files WHERE id = $1",
    )
    .bind(fid)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(
        row,
        ("deep".into(), "relative".into(), "****7890".into(), 3, 1)
    );
    // The same person again: one open file per household.
    let (s, page) = clerk.post_form("/hardship/files/new", &f).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("重复建档"), "{page}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM hardship_files").await,
        files
    );

    // The API's income test says the same as the page.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/income-test",
            Some(file_body("接口户主", &id_no(2), "deep", 80_000, 3)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["per_capita_fen"].clone(),
            v["line_fen"].clone(),
            v["offered"].clone()
        ),
        (json!(80_000), json!(68_000), json!("relative"))
    );
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/income-test",
            Some(json!({"primary_cause": "运气", "members": []})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("不在规定的原因中") && msg(&v).contains("listed causes"));
}

async fn act(c: &Client, review: i64, action: &str, comment: &str) -> (StatusCode, Value) {
    c.json(
        Method::POST,
        &format!("/api/v1/reviews/{review}/{action}"),
        Some(json!({"comment": comment})),
    )
    .await
}

async fn review_of(server: &TestServer, id: i64) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT review_id FROM hardship_files WHERE id = $1")
        .bind(id)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn hardship_files_a_returned_file_is_edited_and_resubmitted_by_its_union_only() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let city = Client::signed_in(&server, "sf_admin").await;
    let other = Client::signed_in(&server, "weishui_admin").await;
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/files",
            Some(file_body("退回户主", &id_no(10), "relative", 80_000, 3)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["id"].as_i64().unwrap();
    let rid = review_of(&server, id).await;
    let edit_url = format!("/hardship/files/{id}/edit");
    let api_url = format!("/api/v1/hardship/files/{id}/resubmit");
    let edited = || file_body("退回户主", &id_no(10), "deep", 60_000, 3);

    // Under review: not editable, said clearly.
    let (s, page) = clerk.text(&edit_url).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("正在审批中"), "{page}");
    let (s, v) = clerk.json(Method::POST, &api_url, Some(edited())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        msg(&v).contains("正在审批中") && msg(&v).contains("under review"),
        "{v}"
    );

    // The county returns it for changes.
    let (s, v) = act(&county, rid, "return", "收入证明不全,请补充").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, page) = clerk.text(&format!("/hardship/files/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&edit_url), "the file page links to the edit");
    let (s, page) = clerk.text(&edit_url).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("家属2") && page.contains("800.00") && page.contains("****5678"),
        "prefilled, the account kept unless typed"
    );
    assert!(!page.contains("6221 0000 1234 5678") && !page.contains("6221000012345678"));
    // Another county: absent, by every route.
    for (s, what) in [
        (other.text(&edit_url).await.0, "GET page"),
        (
            other.post_form(&edit_url, &[("category", "deep")]).await.0,
            "POST page",
        ),
        (
            other.json(Method::POST, &api_url, Some(edited())).await.0,
            "API",
        ),
    ] {
        assert_eq!(s, StatusCode::NOT_FOUND, "{what}");
    }
    // The county is above the file but did not submit it.
    let (s, v) = county.json(Method::POST, &api_url, Some(edited())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(msg(&v).contains("提交建档的工会"), "{v}");

    // Bad input: refused, nothing changed, still returned.
    let edits = || audit_count(&server, "hardship.file_edit");
    let e0 = edits().await;
    let members0 = count(
        &server,
        &format!("SELECT COUNT(*) FROM hardship_members WHERE file_id = {id}"),
    )
    .await;
    let mut bad = edited();
    bad["members"] = json!([]);
    let (s, v) = clerk.json(Method::POST, &api_url, Some(bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("家庭成员"), "{v}");
    let mut bad = edited();
    bad["category"] = json!("deep");
    bad["members"][0]["income_fen"] = json!(600_000);
    let (s, v) = clerk.json(Method::POST, &api_url, Some(bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(msg(&v).contains("收入与困难类别不符"), "{v}");
    let (s, page) = clerk
        .post_form(
            &edit_url,
            &[
                ("category", "deep"),
                ("primary_cause", "laid_off"),
                ("m0_name", "退回户主"),
                ("m0_relation", "本人"),
                ("m0_income", "多"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("第1行") && page.contains("退回户主"),
        "{page}"
    );
    assert_eq!(edits().await, e0);
    assert_eq!(
        count(
            &server,
            &format!("SELECT COUNT(*) FROM hardship_members WHERE file_id = {id}")
        )
        .await,
        members0
    );
    assert_eq!(
        scalar_s(
            &server,
            "SELECT status FROM review_items WHERE id = $1",
            rid
        )
        .await,
        "returned"
    );

    // The page form: the household now 1,800元 over three, 深度困难; the
    // account left empty is kept.
    let (s, page) = clerk
        .post_form(
            &edit_url,
            &[
                ("category", "deep"),
                ("primary_cause", "laid_off"),
                ("secondary_1", "illness"),
                ("m0_name", "退回户主"),
                ("m0_relation", "本人"),
                ("m0_income", "1800"),
                ("m1_name", "家属1"),
                ("m1_relation", "子女"),
                ("m2_name", "家属2"),
                ("m2_relation", "子女"),
                ("housing", "廉租房"),
                ("bank_name", "示范市农商银行"),
                ("bank_account", ""),
                ("comment", "已补充收入证明"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let row: (String, String, i64, String, String) = sqlx::query_as(
        "SELECT category, housing, per_capita_fen, bank_account_masked, secondary_causes FROM hardship_files WHERE id = $1",
    )
    .bind(id)
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "deep".into(),
            "廉租房".into(),
            60_000,
            "****5678".into(),
            "illness".into()
        )
    );
    assert_eq!(edits().await, e0 + 1, "the edit is audited");
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'hardship.file_edit' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    assert!(
        detail.contains("category") && detail.contains("housing") && !detail.contains("廉租房"),
        "the fields changed, not their values: {detail}"
    );
    // Back in the chain, from the first step: the county decides again.
    assert_eq!(
        scalar_s(
            &server,
            "SELECT status FROM review_items WHERE id = $1",
            rid
        )
        .await,
        "pending"
    );
    let (s, _) = clerk.text(&edit_url).await;
    assert_eq!(s, StatusCode::CONFLICT, "under review again");
    let (s, v) = act(&county, rid, "approve", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = act(&city, rid, "approve", "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // On notice, then closed: not editable, each said clearly.
    let (s, v) = clerk.json(Method::POST, &api_url, Some(edited())).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(msg(&v).contains("已通过审批"), "{v}");
    let (s, v) = county
        .json(
            Method::POST,
            &format!("/api/v1/hardship/files/{id}/close"),
            Some(json!({"reason": "就业", "measure": "就业创业"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, page) = clerk.text(&edit_url).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(page.contains("只读"), "{page}");
    assert_eq!(edits().await, e0 + 1);
}

#[tokio::test]
async fn hardship_files_a_recheck_that_closes_is_one_transaction() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let year = time::today().year();
    let (s, list) = county
        .json(
            Method::POST,
            "/api/v1/hardship/rechecks",
            Some(json!({"year": year, "share_pct": 10})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let file = list.as_array().unwrap()[0]["file_id"].as_i64().unwrap();
    let db = &server.state().db;
    // A failure after the close and before the re-check's last write.
    let triggers: &[&str] = match db.backend() {
        Backend::Sqlite => &["CREATE TRIGGER hs_fail BEFORE UPDATE OF last_checked_on ON hardship_files \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION hs_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER hs_fail BEFORE UPDATE OF last_checked_on ON hardship_files FOR EACH ROW EXECUTE FUNCTION hs_fail()",
        ],
    };
    for t in triggers {
        sqlx::query(t).execute(db.pool()).await.unwrap();
    }
    let closes = || audit_count(&server, "hardship.file_close");
    let c0 = closes().await;
    let body = json!({"year": year, "qualifies": false, "note": "家庭收入已超过标准", "measure": "家庭收入提高"});
    let url = format!("/api/v1/hardship/files/{file}/recheck");
    let (s, v) = county.json(Method::POST, &url, Some(body.clone())).await;
    assert!(s.is_server_error(), "{s} {v}");
    let state = || async {
        sqlx::query_as::<_, (String, String)>(
            "SELECT f.status, k.outcome FROM hardship_files f JOIN hardship_checks k ON k.file_id = f.id \
             WHERE f.id = $1 AND k.year = $2",
        )
        .bind(file)
        .bind(i64::from(year))
        .fetch_one(db.pool())
        .await
        .unwrap()
    };
    assert_eq!(
        state().await,
        ("open".into(), "pending".into()),
        "neither written"
    );
    assert_eq!(closes().await, c0, "no close audited");
    let drop = match db.backend() {
        Backend::Sqlite => "DROP TRIGGER hs_fail",
        Backend::Postgres => "DROP TRIGGER hs_fail ON hardship_files",
    };
    sqlx::query(drop).execute(db.pool()).await.unwrap();
    let (s, v) = county.json(Method::POST, &url, Some(body)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        state().await,
        ("closed".into(), "closed".into()),
        "both written"
    );
    assert_eq!(closes().await, c0 + 1);
}

/// A campaign of `kind` by the city, 500元 a person, with both demo counties
/// allocated 10,000元.
async fn campaign(city: &Client, kind: &str, file_required: bool) -> i64 {
    let year = time::today().year();
    let (s, v) = city
        .json(
            Method::POST,
            "/api/v1/hardship/campaigns",
            Some(
                json!({"kind": kind, "name": format!("{year}年规则{kind}{file_required}"),
                "starts_on": format!("{year}-01-01"), "ends_on": format!("{year}-12-31"),
                "standard_fen": 50_000, "budget_fen": 10_000_000, "file_required": file_required}),
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
                Some(json!({"org_id": org, "amount_fen": 1_000_000})),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    id
}

async fn apply(c: &Client, cid: i64, person: Value) -> (StatusCode, Value) {
    c.json(
        Method::POST,
        "/api/v1/hardship/batches",
        Some(json!({"campaign_id": cid, "people": [person]})),
    )
    .await
}

#[tokio::test]
async fn hardship_files_each_campaign_kind_checks_its_own_rule() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let city = Client::signed_in(&server, "sf_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let open_files: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT f.id, f.primary_cause, f.secondary_causes FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code = 'SF-01-S1-001' AND f.status = 'open' ORDER BY f.id",
    )
    .fetch_all(server.state().db.pool())
    .await
    .unwrap();
    let is_job = |p: &str, s: &str| {
        ["unemployed", "laid_off"]
            .iter()
            .any(|c| p == *c || s.split(',').any(|x| x == *c))
    };
    let not_job = open_files
        .iter()
        .find(|(_, p, s)| !is_job(p, s))
        .expect("the demo has a household that is not out of work")
        .0;
    let job = open_files
        .iter()
        .find(|(_, p, s)| is_job(p, s))
        .map(|f| f.0);
    let by_id = |n: usize| json!({"name": format!("规则{n}"), "id_number": id_no(100 + n)});
    let grants = || count(&server, "SELECT COUNT(*) FROM hardship_grants");

    // 送温暖 and 日常救助: an open file.
    for (n, kind) in [(1, "warmth"), (2, "daily")] {
        let cid = campaign(&city, kind, false).await;
        let g0 = grants().await;
        let (s, v) = apply(&clerk, cid, by_id(n)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {v}");
        assert!(
            msg(&v).contains("要求有在档的困难职工档案")
                && msg(&v).contains("requires an open hardship file"),
            "{kind}: {v}"
        );
        assert_eq!(grants().await, g0, "{kind}: nothing written");
        let (s, v) = apply(&clerk, cid, json!({"file_id": not_job})).await;
        assert_eq!(s, StatusCode::OK, "{kind}: {v}");
    }
    // 夏送清凉: any worker.
    let cid = campaign(&city, "summer", true).await;
    let (s, v) = apply(&clerk, cid, by_id(3)).await;
    assert_eq!(s, StatusCode::OK, "summer: {v}");
    // 春送岗位: no file, or a file out of work.
    let cid = campaign(&city, "jobs", false).await;
    let (s, v) = apply(&clerk, cid, by_id(4)).await;
    assert_eq!(s, StatusCode::OK, "jobs without a file: {v}");
    let (s, v) = apply(&clerk, cid, json!({"file_id": not_job})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("下岗失业") && msg(&v).contains("laid off"),
        "names the rule: {v}"
    );
    if let Some(job) = job {
        let (s, v) = apply(&clerk, cid, json!({"file_id": job})).await;
        assert_eq!(s, StatusCode::OK, "a file out of work: {v}");
    }
    // Special campaigns: as configured.
    let strict = campaign(&city, "special", true).await;
    let (s, v) = apply(&clerk, strict, by_id(5)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        msg(&v).contains("专项") && msg(&v).contains("special campaign"),
        "{v}"
    );
    let (s, v) = apply(&clerk, strict, json!({"file_id": not_job})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let free = campaign(&city, "special", false).await;
    let (s, v) = apply(&clerk, free, by_id(6)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = city
        .get_json(&format!("/api/v1/hardship/campaigns/{strict}"))
        .await;
    assert_eq!(v["campaign"]["file_required"], true);
    // A file requirement on another kind means nothing: only special campaigns carry it.
    let (_, v) = city
        .get_json(&format!("/api/v1/hardship/campaigns/{cid}"))
        .await;
    assert_eq!(v["campaign"]["file_required"], false);
}

/// The figures of the files' source for `org` and `period`: each code's
/// value and breakdown.
async fn file_figures(c: &Client, org: i64, period: i32) -> Vec<(String, Value, Value)> {
    let (s, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={org}&period={period}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let mut out = Vec::new();
    for code in [
        "hardship_files_open",
        "hardship_files_deep",
        "hardship_files_relative",
        "hardship_files_sudden",
    ] {
        let f = t["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["figures"].as_array().unwrap())
            .find(|f| f["code"] == code)
            .unwrap_or_else(|| panic!("{code}"));
        out.push((code.to_string(), f["value"].clone(), f["breakdown"].clone()));
    }
    out
}

#[tokio::test]
async fn hardship_files_closed_files_are_purged_after_ten_years_and_the_figures_stay() {
    use gonghui::hardship::purge;
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let st = server.state().clone();
    let db = &st.db;
    let city = Client::signed_in(&server, "sf_admin").await;
    let root = org_id(&city, "SF").await;
    let today = time::today();
    let cutoff = purge::cutoff(today);
    assert_eq!(cutoff.year(), today.year() - 10);
    // Two open files of SF-01, filed twelve years ago: one closed ten years
    // and a day ago, one ten years less a day ago.
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT f.id FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code LIKE 'SF-01%' AND f.status = 'open' ORDER BY f.id LIMIT 2",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let (old, young) = (ids[0], ids[1]);
    let filed = (today - chrono::Duration::days(12 * 366)).to_string();
    for (id, closed) in [
        (old, cutoff - chrono::Duration::days(1)),
        (young, cutoff + chrono::Duration::days(1)),
    ] {
        sqlx::query(
            "UPDATE hardship_files SET status = 'closed', confirmed_on = $1, closed_on = $2, \
             close_reason = '家庭收入提高', close_measure = 'income' WHERE id = $3",
        )
        .bind(&filed)
        .bind(closed.to_string())
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
    }
    // Its head was last referred when it was filed.
    sqlx::query(
        "UPDATE person_refs SET updated_at = '2014-06-01T00:00:00.000000Z' \
         WHERE id IN (SELECT person_ref_id FROM hardship_files WHERE id = $1)",
    )
    .bind(old)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO hardship_objections (region_root, file_id, org_id, content, created_at) \
         SELECT region_root, id, org_id, '邻居反映其有车', '2015-01-01T00:00:00Z' FROM hardship_files WHERE id = $1",
    )
    .bind(old)
    .execute(db.pool())
    .await
    .unwrap();
    let system = gonghui::platform::tree::system_scope(db).await.unwrap();
    let pdf = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    gonghui::platform::attachments::upload(
        &st,
        &system,
        "hardship_file",
        old,
        "收入证明.pdf",
        "收入证明",
        axum::body::Bytes::from(pdf.as_bytes().to_vec()),
    )
    .await
    .unwrap();
    let head: String = scalar_s(
        &server,
        "SELECT head_name FROM hardship_files WHERE id = $1",
        old,
    )
    .await;
    let members: i64 = count(
        &server,
        &format!("SELECT COUNT(*) FROM hardship_members WHERE file_id = {old}"),
    )
    .await;
    assert!(members > 0);

    // The year both were open at its end.
    let period = today.year() - 11;
    let before = file_figures(&city, root, period).await;
    assert!(before[0].1.as_i64().unwrap() >= 2, "{before:?}");

    // A dry run counts and writes nothing.
    let dry = purge::purge(&st, today, true).await.unwrap();
    assert_eq!(
        (
            dry.files,
            dry.members as i64,
            dry.objections,
            dry.attachments
        ),
        (1, members, 1, 1)
    );
    assert_eq!(
        scalar_s(
            &server,
            "SELECT head_name FROM hardship_files WHERE id = $1",
            old
        )
        .await,
        head
    );
    assert_eq!(audit_count(&server, "hardship.file_purge").await, 0);

    let done = purge::purge(&st, today, false).await.unwrap();
    assert_eq!(
        (done.files, done.members as i64, done.attachments),
        (1, members, 1)
    );
    // Gone: the household, the objection, the account, the name, the attachment.
    let gone: (String, String, Option<String>, String, Option<String>) = sqlx::query_as(
        "SELECT head_name, id_hash, bank_account_enc, bank_account_masked, purged_on FROM hardship_files WHERE id = $1",
    )
    .bind(old)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(gone.0, "");
    assert!(gone.1.starts_with("purged:"));
    assert_eq!((gone.2, gone.3.as_str()), (None, ""));
    assert_eq!(gone.4, Some(today.to_string()));
    for sql in [
        format!("SELECT COUNT(*) FROM hardship_members WHERE file_id = {old}"),
        format!("SELECT COUNT(*) FROM hardship_objections WHERE file_id = {old}"),
        format!("SELECT COUNT(*) FROM attachments WHERE owner_kind = 'hardship_file' AND owner_id = {old} AND deleted_at IS NULL"),
    ] {
        assert_eq!(count(&server, &sql).await, 0, "{sql}");
    }
    // The head's person reference is erased with its last file.
    assert_eq!(done.persons, 1);
    let reference: (String, String, String, Option<String>) = sqlx::query_as(
        "SELECT r.kind, r.name, r.id_masked, r.phone_masked FROM person_refs r \
         JOIN hardship_files f ON f.person_ref_id = r.id WHERE f.id = $1",
    )
    .bind(old)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(reference, ("erased".into(), "".into(), "".into(), None));
    // A reference something still needs (the younger file, not purged) is
    // kept, whoever asks.
    let young_ref: i64 = count(
        &server,
        &format!("SELECT person_ref_id FROM hardship_files WHERE id = {young}"),
    )
    .await;
    let mut tx = db.begin_write().await.unwrap();
    let erased = gonghui::platform::person::erase_if_unused(
        &mut tx.tx,
        gonghui::platform::person::PersonRefId(young_ref),
        "hardship_files",
        "purged_on IS NOT NULL",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(!erased);
    assert_eq!(
        count(
            &server,
            &format!("SELECT COUNT(*) FROM person_refs WHERE id = {young_ref} AND name <> ''")
        )
        .await,
        1
    );
    // What the statistics need stays.
    let kept: (String, String, String, String) = sqlx::query_as(
        "SELECT category, confirmed_on, closed_on, close_reason FROM hardship_files WHERE id = $1",
    )
    .bind(old)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        (kept.1.as_str(), kept.3.as_str()),
        (filed.as_str(), "家庭收入提高")
    );
    // The younger one is untouched.
    assert_eq!(
        count(&server, &format!("SELECT COUNT(*) FROM hardship_files WHERE id = {young} AND purged_on IS NULL AND head_name <> ''")).await,
        1
    );
    assert!(
        count(
            &server,
            &format!("SELECT COUNT(*) FROM hardship_members WHERE file_id = {young}")
        )
        .await
            > 0
    );
    // Audited with counts, not names.
    assert_eq!(audit_count(&server, "hardship.file_purge").await, 1);
    assert_eq!(audit_count(&server, "hardship.purge").await, 1);
    let detail: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'hardship.file_purge'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(
        detail.contains("\"members\"") && !detail.contains(&head),
        "{detail}"
    );
    // Absent to every reader; the younger one still read-only on file.
    let (s, _) = city
        .get_json(&format!("/api/v1/hardship/files/{old}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = city.text(&format!("/hardship/files/{old}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = city
        .get_json(&format!("/api/v1/hardship/files/{young}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = city.get_json("/api/v1/hardship/files?status=closed").await;
    assert!(list.as_array().unwrap().iter().all(|r| r["id"] != old));

    // The old year's figures are the same, and still equal their drill-down.
    let after = file_figures(&city, root, period).await;
    assert_eq!(after, before);
    let (s, d) = city
        .get_json(&format!(
            "/api/v1/reports/drill?org={root}&period={period}&code=hardship_files_open&per_page=500"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["total"], before[0].1);
    let row = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == old || r["id"] == json!(old.to_string()));
    if let Some(r) = row {
        assert_eq!(r["id_masked"], "", "no ID for a purged file: {r}");
    }
    // Nothing more to purge.
    assert_eq!(purge::purge(&st, today, false).await.unwrap().files, 0);
}

#[tokio::test]
async fn hardship_files_the_purge_command_counts_dry_and_purges() {
    let env = testing::demo_env().await.unwrap();
    let long_ago = (time::today() - chrono::Duration::days(11 * 366)).to_string();
    sqlx::query(
        "UPDATE hardship_files SET status = 'closed', closed_on = $1, close_reason = '测试', close_measure = 'other' \
         WHERE id = (SELECT MIN(id) FROM hardship_files WHERE status = 'open')",
    )
    .bind(&long_ago)
    .execute(env.state.db.pool())
    .await
    .unwrap();
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
        let out = cmd.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let out = run(&["hardship", "purge", "--dry-run"]);
    assert!(
        out.contains("将清除档案1份") && out.contains("would purge 1 files"),
        "{out}"
    );
    let out = run(&["hardship", "purge"]);
    assert!(out.contains("已清除档案1份"), "{out}");
    let out = run(&["hardship", "purge", "--dry-run"]);
    assert!(out.contains("将清除档案0份"), "{out}");
}

#[tokio::test]
async fn hardship_files_the_form_files_a_roster_member_under_the_rosters_name_only() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let st = server.state();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (name, id_enc): (String, String) = sqlx::query_as(
        "SELECT p.name, p.id_enc FROM persons p \
         JOIN memberships m ON m.person_id = p.id AND m.status = 'active' \
         JOIN orgs o ON o.id = m.org_id \
         WHERE o.code = 'SF-01-S1-001' \
         AND NOT EXISTS (SELECT 1 FROM hardship_files f WHERE f.id_hash = p.id_hash) ORDER BY p.id LIMIT 1",
    )
    .fetch_one(st.db.pool())
    .await
    .unwrap();
    let id = st.keys.decrypt(&id_enc).unwrap();
    let before = files_n(&server).await;
    // Another name for the member's number: refused, saying nothing of the holder.
    let (s, page) = clerk
        .post_form(
            "/hardship/files/new",
            &form_fields("某某某", &id, "relative", "2400"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("证件号码与姓名不一致"), "{page}");
    assert!(!page.contains(&name), "the holder's name is not shown");
    assert_eq!(files_n(&server).await, before, "nothing written");
    // Under the roster's name: filed, the head a member reference.
    let (s, page) = clerk
        .post_form(
            "/hardship/files/new",
            &form_fields(&name, &id, "relative", "2400"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let kind: String = sqlx::query_scalar(
        "SELECT r.kind FROM hardship_files f JOIN person_refs r ON r.id = f.person_ref_id \
         WHERE f.id = (SELECT MAX(id) FROM hardship_files)",
    )
    .fetch_one(st.db.pool())
    .await
    .unwrap();
    assert_eq!(kind, "member");
    assert_eq!(files_n(&server).await.0, before.0 + 1);
}

/// Cells of a downloaded workbook.
async fn workbook_cells(c: &Client, path: &str, form: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut fields = vec![("_csrf", c.csrf.as_str())];
    fields.extend_from_slice(form);
    let r = c
        .http
        .post(format!("{}{path}", c.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let bytes = r.bytes().await.unwrap();
    let t = gonghui::sheet::read_table(&bytes, 100_000).unwrap();
    t.rows.into_iter().map(|r| r.cells).collect()
}

#[tokio::test]
async fn hardship_files_lists_and_disbursements_export_masked_within_scope() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    // Exports are POSTs.
    let (s, _) = c.text("/hardship/files/export.xlsx").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);

    // The file list: the county's open files, masked, nothing of others.
    let rows = workbook_cells(&c, "/hardship/files/export.xlsx", &[("status", "open")]).await;
    let expected = count(
        &server,
        "SELECT COUNT(*) FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code LIKE 'SF-01%' AND f.status = 'open' AND f.purged_on IS NULL",
    )
    .await;
    assert!(expected > 0);
    assert_eq!(rows.len() as i64, expected);
    for r in &rows {
        assert!(r[3].contains('*'), "ID masked: {r:?}");
        assert!(!r[1].contains("渭水"), "the county only: {r:?}");
    }

    // A campaign's disbursements: the county's lines only, masked.
    let campaign = count(
        &server,
        "SELECT MIN(b.campaign_id) FROM hardship_batches b JOIN orgs o ON o.id = b.org_id \
         WHERE o.code LIKE 'SF-01%' AND b.status <> 'draft'",
    )
    .await;
    let rows = workbook_cells(
        &c,
        &format!("/hardship/campaigns/{campaign}/grants.xlsx"),
        &[],
    )
    .await;
    let expected = count(
        &server,
        &format!(
            "SELECT COUNT(*) FROM hardship_grants g JOIN hardship_batches b ON b.id = g.batch_id \
             JOIN orgs o ON o.id = b.org_id WHERE b.campaign_id = {campaign} AND o.code LIKE 'SF-01%' \
             AND b.status <> 'draft'"
        ),
    )
    .await;
    assert!(expected > 0);
    assert_eq!(rows.len() as i64, expected);
    assert!(rows
        .iter()
        .all(|r| r[3].contains('*') && !r[1].contains("渭水")));
    assert!(audit_count(&server, "hardship.grant_export").await >= 1);
    assert!(audit_count(&server, "hardship.file_export").await >= 1);

    // Another county's staff get only their own lines of the same campaign.
    let w = Client::signed_in(&server, "weishui_admin").await;
    let rows = workbook_cells(
        &w,
        &format!("/hardship/campaigns/{campaign}/grants.xlsx"),
        &[],
    )
    .await;
    assert!(rows.iter().all(|r| !r[1].contains("秦川")));
}
