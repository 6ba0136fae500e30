//! 走访慰问 and 春送岗位 over HTTP, on the demo federation: every figure
//! equals its drill-down (and every breakdown cell); households count once
//! per union however often visited, person-visits every time, as recorded;
//! the paragraphs read like the seeds; another county sees nothing and
//! cannot visit what is not its own; bad input is refused clearly with
//! nothing written; the pages record, show and export (masked). SQLite and
//! PostgreSQL.

use chrono::Datelike;
use gonghui::{
    platform::time,
    testing::{self, TestServer},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{assert_not_found_everywhere, org_id, Client};

async fn count(server: &TestServer, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(server.state().db.pool())
        .await
        .unwrap()
}

/// The rows that any refusal must leave as they were.
async fn written(server: &TestServer) -> [i64; 5] {
    [
        count(server, "SELECT COUNT(*) FROM hardship_visits").await,
        count(server, "SELECT COUNT(*) FROM hardship_worksites").await,
        count(server, "SELECT COUNT(*) FROM hardship_fairs").await,
        count(server, "SELECT COUNT(*) FROM hardship_fair_employers").await,
        count(server, "SELECT COUNT(*) FROM person_refs").await,
    ]
}

fn msg(v: &Value) -> String {
    format!(
        "{} / {}",
        v["error"]["message_zh"].as_str().unwrap_or_default(),
        v["error"]["message_en"].as_str().unwrap_or_default()
    )
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
async fn drill_all(c: &Client, org: i64, period: &str, code: &str) -> Value {
    let mut rows = Vec::new();
    let mut page = 1;
    loop {
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={org}&period={period}&code={code}&per_page=500&page={page}"
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

/// The column a sum indicator's drill-down rows add up.
fn sum_column(code: &str) -> &'static str {
    match code {
        "hardship_visit_people" => "people",
        "hardship_visit_workers" | "hardship_summer_workers" => "workers",
        "hardship_visit_money" => "money_fen",
        "hardship_visit_goods" => "goods_fen",
        "hardship_job_posts" => "posts",
        "hardship_job_placed" => "placed",
        other => panic!("{other} is not a sum"),
    }
}

/// What a drill-down says the figure is: the sum its rows add up to, or
/// its row count.
fn drilled(code: &str, d: &Value) -> i64 {
    let rows = d["rows"].as_array().unwrap();
    match d["sum"].as_i64() {
        Some(sum) => {
            let col = sum_column(code);
            let listed: i64 = rows.iter().map(|r| r[col].as_i64().unwrap()).sum();
            assert_eq!(listed, sum, "{code}: the rows add up to the sum");
            sum
        }
        None => {
            assert_eq!(rows.len() as i64, d["total"].as_i64().unwrap(), "{code}");
            d["total"].as_i64().unwrap()
        }
    }
}

fn codes() -> Vec<&'static str> {
    gonghui::hardship::visits::indicators()
        .iter()
        .chain(gonghui::hardship::jobs::indicators().iter())
        .map(|i| i.code)
        .collect()
}

#[tokio::test]
async fn visits_and_fairs_figures_equal_their_drill_downs_and_read_like_the_seeds() {
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
    for code in codes() {
        let f = figure(&t, code);
        let value = f["value"].as_i64().unwrap();
        assert!(value > 0, "{code}: the demo has records");
        let d = drill_all(&c, root, &year.to_string(), code).await;
        assert_eq!(drilled(code, &d), value, "{code}");
        for (cell, child) in f["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .zip(t["children"].as_array().unwrap())
        {
            let d = drill_all(&c, child["id"].as_i64().unwrap(), &year.to_string(), code).await;
            assert_eq!(
                drilled(code, &d),
                cell["value"].as_i64().unwrap(),
                "{code} {}",
                child["code"]
            );
        }
    }
    // From the records: households once per visiting union, person-visits
    // as recorded, and some households were visited more than once.
    let pool = server.state().db.pool();
    let (households, people, visits): (i64, i64, i64) = sqlx::query_as(
        "SELECT CAST(COUNT(DISTINCT CAST(org_id AS TEXT) || ':' || CAST(file_id AS TEXT)) AS BIGINT), \
         CAST(COALESCE(SUM(people), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
         FROM hardship_visits WHERE target = 'household' AND visited_on >= $1 AND visited_on <= $2",
    )
    .bind(format!("{year}-01-01"))
    .bind(format!("{year}-12-31"))
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(figure(&t, "hardship_visit_households")["value"], households);
    assert!(visits > households, "some households were visited again");
    let persons: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM hardship_visits WHERE target = 'person' AND visited_on >= $1 AND visited_on <= $2",
    )
    .bind(format!("{year}-01-01"))
    .bind(format!("{year}-12-31"))
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        figure(&t, "hardship_visit_people")["value"],
        people + persons
    );
    // The draft's paragraphs, in the seeds' words.
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/reports/summary",
            Some(json!({"org": root.to_string(), "year": year.to_string()})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let text: String = v["text"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    if std::env::var("SHOW_SUMMARY").is_ok() {
        eprintln!("{text}");
    }
    let hh = figure(&t, "hardship_visit_households")["display"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("全市各级工会共走访慰问困难家庭{hh},慰问困难职工")),
        "{text}"
    );
    assert!(
        text.contains("在高温季节走访企事业单位和建筑工地"),
        "{text}"
    );
    assert!(
        text.contains("举办招聘会") && text.contains("实现就业"),
        "{text}"
    );
    assert_eq!(
        text.matches("走访慰问困难家庭").count(),
        1,
        "one sentence on household visits: {text}"
    );
    // The yearly return's 职业介绍成功人数 is the fairs' placements.
    let ret = server.state().registry.yearly_return();
    assert!(ret.items.iter().any(|i| i.code == "BF12"
        && i.answer == gonghui::platform::survey::Answer::Indicator("hardship_job_placed")));
}

async fn first_open_file(server: &TestServer, union_code: &str) -> Vec<(i64, String)> {
    sqlx::query_as::<_, (i64, String)>(
        "SELECT f.id, f.head_name FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.code = $1 AND f.status = 'open' ORDER BY f.id",
    )
    .bind(union_code)
    .fetch_all(server.state().db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn visits_count_each_household_once_and_every_person_visit() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let union = org_id(&clerk, "SF-01-S1-001").await;
    let files = first_open_file(&server, "SF-01-S1-001").await;
    assert!(files.len() >= 2, "the demo union has open files: {files:?}");
    // A month the demo records no visits in (last year's March: past).
    let year = time::today().year() - 1;
    let month = format!("{year}-03");
    let on = |d: u32| format!("{year}-03-{d:02}");
    let visit = |file: i64, day: u32, met: Vec<&str>| {
        json!({"visited_on": on(day), "visitors": "工会主席", "file_id": file,
               "persons_met": met, "money_fen": 20_000})
    };
    for body in [
        // Two visits to the first household (three persons met, then none)…
        visit(files[0].0, 3, vec!["甲", "乙", "丙"]),
        visit(files[0].0, 9, vec![]),
        // … and one to the second, two persons met.
        visit(files[1].0, 5, vec!["丁", "戊"]),
    ] {
        let (s, v) = clerk
            .json(Method::POST, "/api/v1/hardship/visits", Some(body))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // A person without a file, and a worksite visited twice.
    let (s, v) = clerk
        .json(
            Method::POST,
            "/api/v1/hardship/visits",
            Some(json!({"visited_on": on(6), "visitors": "工会主席",
                "person": {"name": "韩劳模", "id_number": "610331199501010019"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for (day, workers) in [(7, 40), (20, 35)] {
        let (s, v) = clerk
            .json(
                Method::POST,
                "/api/v1/hardship/visits",
                Some(json!({"visited_on": on(day), "visitors": "工会主席",
                    "worksite": {"name": " 示范  工地 ", "kind": "建筑工地", "address": "北路"},
                    "workers": workers})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let c = Client::signed_in(&server, "sf_admin").await;
    let (s, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={union}&period={month}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let value = |code: &str| figure(&t, code)["value"].as_i64().unwrap();
    assert_eq!(
        value("hardship_visit_households"),
        2,
        "2 households, not 3 visits"
    );
    // 3 + 1 (none met counts 1) + 2, and 1 for the person.
    assert_eq!(
        value("hardship_visit_people"),
        7,
        "person-visits as defined"
    );
    assert_eq!(
        value("hardship_visit_worksites"),
        1,
        "one worksite, visited twice"
    );
    assert_eq!(value("hardship_visit_workers"), 75);
    assert_eq!(value("hardship_visit_money"), 60_000);
    for code in [
        "hardship_visit_households",
        "hardship_visit_people",
        "hardship_visit_worksites",
        "hardship_visit_workers",
    ] {
        let d = drill_all(&c, union, &month, code).await;
        assert_eq!(drilled(code, &d), value(code), "{code}");
    }
    let d = drill_all(&c, union, &month, "hardship_visit_households").await;
    let first = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == files[0].1.as_str())
        .expect("the first household");
    assert_eq!(
        (first["visits"].as_i64(), first["people"].as_i64()),
        (Some(2), Some(4))
    );
    assert!(
        first["id_masked"].as_str().unwrap().contains('*'),
        "masked: {first}"
    );
}

#[tokio::test]
async fn visits_and_fairs_of_another_county_are_not_found_by_any_route() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let other = Client::signed_in(&server, "weishui_admin").await;
    let county = Client::signed_in(&server, "qinchuan_admin").await;
    let pool = server.state().db.pool();
    let visit: i64 = sqlx::query_scalar(
        "SELECT MIN(v.id) FROM hardship_visits v JOIN orgs o ON o.id = v.org_id WHERE o.code LIKE 'SF-01%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let fair: i64 = sqlx::query_scalar(
        "SELECT MIN(j.id) FROM hardship_fairs j JOIN orgs o ON o.id = j.org_id WHERE o.code LIKE 'SF-01%'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (s, _) = county
        .get_json(&format!("/api/v1/hardship/visits/{visit}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_not_found_everywhere(
        &other,
        &[
            format!("/api/v1/hardship/visits/{visit}"),
            format!("/api/v1/hardship/fairs/{fair}"),
        ],
        &[
            format!("/hardship/visits/{visit}"),
            format!("/hardship/fairs/{fair}"),
        ],
    )
    .await;
    // Lists hold only the caller's subtree.
    let (s, rows) = other.get_json("/api/v1/hardship/visits").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!rows.as_array().unwrap().is_empty());
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .all(|r| !r["org_name"].as_str().unwrap().contains("秦川")));
    let (_, fairs) = other.get_json("/api/v1/hardship/fairs").await;
    assert!(fairs.as_array().unwrap().iter().all(|r| r["id"] != fair));
    // A household of another county: refused as "not found", nothing written.
    let files = first_open_file(&server, "SF-01-S1-001").await;
    let before = written(&server).await;
    let denied = crate::common::audit_count(&server, "scope.denied").await;
    let (s, v) = other
        .json(
            Method::POST,
            "/api/v1/hardship/visits",
            Some(
                json!({"visited_on": time::today().to_string(), "visitors": "某某",
                "file_id": files[0].0}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "not_found");
    let (s, _) = other
        .json(
            Method::POST,
            "/api/v1/hardship/visits",
            Some(
                json!({"visited_on": time::today().to_string(), "visitors": "某某",
                "file_id": 987_654_321}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "absent answers the same");
    assert_eq!(written(&server).await, before);
    assert!(crate::common::audit_count(&server, "scope.denied").await > denied);
    // Nor on behalf of a union outside its subtree.
    let sf01 = org_id(&county, "SF-01").await;
    let (s, _) = other
        .json(
            Method::POST,
            "/api/v1/hardship/fairs",
            Some(
                json!({"org_id": sf01, "held_on": time::today().to_string(), "name": "x",
                "place": "y", "kind": "onsite"}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The drill-down of another county's figure is out of reach too.
    let year = time::today().year();
    let (s, _) = other
        .get_json(&format!(
            "/api/v1/reports/drill?org={sf01}&period={year}&code=hardship_visit_households"
        ))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_visits_and_fairs_are_refused_clearly_and_write_nothing() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let files = first_open_file(&server, "SF-01-S1-001").await;
    let today = time::today();
    let tomorrow = (today + chrono::Duration::days(1)).to_string();
    let today = today.to_string();
    let site = json!({"name": "示范工地", "kind": "site"});
    let before = written(&server).await;
    let visit = |extra: Value| {
        let mut b = json!({"visited_on": today, "visitors": "工会主席"});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, zh) in [
        (visit(json!({})), "三者选一"),
        (
            visit(json!({"file_id": files[0].0, "worksite": site, "workers": 10})),
            "只能登记一个对象",
        ),
        (
            visit(
                json!({"file_id": files[0].0, "person": {"name": "张三", "id_number": "610331199501010019"}}),
            ),
            "只能登记一个对象",
        ),
        (
            visit(json!({"file_id": files[0].0, "visited_on": tomorrow})),
            "不能晚于今天",
        ),
        (
            visit(json!({"file_id": files[0].0, "money_fen": -100})),
            "不能为负数",
        ),
        (
            visit(json!({"file_id": files[0].0, "goods_fen": -1, "goods": "米"})),
            "不能为负数",
        ),
        (visit(json!({"worksite": site, "workers": 0})), "至少1人"),
        (visit(json!({"worksite": site, "workers": 500_000})), "过大"),
        (
            visit(json!({"file_id": files[0].0, "workers": 5})),
            "只用于企事业单位",
        ),
        (
            visit(json!({"person": {"name": "张三", "id_number": "610331199501010010"}})),
            "",
        ),
    ] {
        let (s, v) = c
            .json(Method::POST, "/api/v1/hardship/visits", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        let m = msg(&v);
        assert!(m.contains(zh), "{body}: {m}");
        assert!(
            !v["error"]["message_en"]
                .as_str()
                .unwrap_or_default()
                .is_empty(),
            "{m}"
        );
    }
    let fair = |extra: Value| {
        let mut b = json!({"held_on": today, "name": "春风行动招聘会", "place": "人力资源市场",
            "kind": "spring", "placed": 10,
            "employers": [{"name": "甲公司", "credit_code": "91350100M000100Y43", "posts": 30}]});
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, zh) in [
        (fair(json!({"placed": 31})), "超过招聘会提供的岗位数"),
        (fair(json!({"placed": -1})), "不能为负数"),
        (
            fair(
                json!({"employers": [{"name": "甲公司", "credit_code": "91350100M000100Y4A", "posts": 30}]}),
            ),
            "校验位",
        ),
        (
            fair(json!({"employers": [{"name": "甲公司", "credit_code": "123", "posts": 30}]})),
            "18位",
        ),
        (
            fair(json!({"employers": [{"name": "甲公司", "posts": -3}]})),
            "不能为负数",
        ),
        (
            fair(json!({"employers": [{"name": "甲公司", "posts": 5, "placed": 6}], "placed": 6})),
            "不能超过该单位提供的岗位数",
        ),
        (fair(json!({"held_on": tomorrow})), "不能晚于今天"),
        (fair(json!({"kind": "party"})), "招聘会类型"),
    ] {
        let (s, v) = c
            .json(Method::POST, "/api/v1/hardship/fairs", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(msg(&v).contains(zh), "{body}: {}", msg(&v));
    }
    assert_eq!(written(&server).await, before, "nothing written");
    // The page form shows the refusal on the form, nothing written.
    let (s, page) = c
        .post_form(
            "/hardship/visits",
            &[
                ("visited_on", &tomorrow),
                ("visitors", "主席"),
                ("worksite_name", "某工地"),
                ("workers", "3"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"error\"") && page.contains("不能晚于今天"),
        "{page}"
    );
    let (s, page) = c
        .post_form(
            "/hardship/fairs",
            &[
                ("held_on", &today),
                ("name", "招聘会"),
                ("place", "广场"),
                ("kind", "onsite"),
                ("employers", "甲公司,91350100M000100Y4A,20"),
                ("placed", "1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("第1家用人单位") && page.contains("校验位"),
        "{page}"
    );
    assert_eq!(written(&server).await, before, "nothing written");
    // Read-only roles write nothing.
    let auditor = Client::signed_in(&server, "sf_auditor").await;
    let (s, _) = auditor
        .json(
            Method::POST,
            "/api/v1/hardship/visits",
            Some(visit(json!({"file_id": files[0].0}))),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn visit_and_fair_pages_record_show_and_export_masked() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "qinchuan_staff").await;
    let (s, page) = c.text("/hardship/visits").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("走访慰问") && page.contains("id=\"visits\""),
        "{page}"
    );
    let files = first_open_file(&server, "SF-01-S1-001").await;
    assert!(
        page.contains(&format!("value=\"{}\"", files[0].0)),
        "the household picker"
    );
    let today = time::today().to_string();
    let file = files[0].0.to_string();
    let r = c
        .http
        .post(format!("{}/hardship/visits", c.base))
        .form(&[
            ("_csrf", c.csrf.as_str()),
            ("visited_on", &today),
            ("visitors", "区总工会主席"),
            ("occasion", "daily"),
            ("file_id", &file),
            ("persons_met", "张三、李四"),
            ("money", "500"),
            ("goods", "米面油"),
            ("goods_value", "120.50"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "followed to the visit's page");
    let url = r.url().path().to_string();
    let page = r.text().await.unwrap();
    assert!(url.starts_with("/hardship/visits/"), "{url}");
    assert!(
        page.contains(&files[0].1) && page.contains("张三、李四"),
        "{page}"
    );
    let id: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
    let (s, v) = c.get_json(&format!("/api/v1/hardship/visits/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            v["people"].as_i64(),
            v["money_fen"].as_i64(),
            v["goods_fen"].as_i64()
        ),
        (Some(2), Some(50_000), Some(12_050))
    );
    // In English too.
    let (s, _) = c.text("/lang/en").await;
    assert!(s.is_success());
    let (_, page) = c.text("/hardship/visits").await;
    assert!(
        page.contains("Record a visit") && page.contains("Person-visits"),
        "{page}"
    );
    let (_, _) = c.text("/lang/zh").await;
    // A fair from the page form, then its page lists the employers.
    let r = c
        .http
        .post(format!("{}/hardship/fairs", c.base))
        .form(&[
            ("_csrf", c.csrf.as_str()),
            ("held_on", &today),
            ("name", "秦川区春送岗位招聘会"),
            ("place", "区职工服务中心"),
            ("kind", "onsite"),
            ("employers", "甲公司,91350100M000100Y43,50,5\n乙公司,,20"),
            ("placed", "12"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let url = r.url().path().to_string();
    let page = r.text().await.unwrap();
    assert!(url.starts_with("/hardship/fairs/"), "{url}");
    assert!(
        page.contains("甲公司") && page.contains("乙公司") && page.contains("91350100M000100Y43"),
        "{page}"
    );
    let (_, list) = c.text("/hardship/fairs").await;
    assert!(list.contains("秦川区春送岗位招聘会"), "{list}");
    // Exports: POST only, a workbook of the caller's subtree, masked.
    let (s, _) = c.text("/hardship/visits/export.xlsx").await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    for (path, sheet_has) in [
        ("/hardship/visits/export.xlsx", files[0].1.clone()),
        (
            "/hardship/fairs/export.xlsx",
            "秦川区春送岗位招聘会".to_string(),
        ),
    ] {
        let r = c
            .http
            .post(format!("{}{path}", c.base))
            .form(&[("_csrf", c.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let bytes = r.bytes().await.unwrap();
        let t = gonghui::sheet::read_table(&bytes, 100_000).unwrap();
        let cells: Vec<String> = t
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().cloned())
            .collect();
        assert!(cells.iter().any(|c| c.contains(&sheet_has)), "{path}");
        assert!(
            cells.iter().all(|c| !c.contains("渭水")),
            "{path}: the county's subtree only"
        );
        // No full ID number: every 18-character ID is masked.
        assert!(
            cells
                .iter()
                .all(|c| !(c.len() == 18 && c.chars().all(|ch| ch.is_ascii_digit()))),
            "{path}: masked"
        );
    }
    assert!(crate::common::audit_count(&server, "hardship.visit_export").await >= 1);
}
