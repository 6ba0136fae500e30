//! Statistics end to end on the demo tree plus a small, hand-counted set of
//! members (inserted with SQL: the member registry's own store is not needed
//! to test figures). Runs on SQLite, and on PostgreSQL when
//! GONGHUI_TEST_DATABASE_URL is set.

use crate::common::{csrf_in, org_id, Client};
use chrono::Datelike;
use gonghui::{
    members::import,
    orgs::store as orgs,
    platform::{
        dataver,
        db::Db,
        ids::OrgId,
        scope::{Actor, Scope},
    },
    reports::{figures as engine, period::Period},
    sheet, testing,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// (org code, joined_on, ended_on, activated_at, events [(kind, date)])
type Spell<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
);

/// One person with one or more memberships and their 会籍变化 events.
struct M<'a> {
    name: &'a str,
    gender: &'a str,
    birth: Option<&'a str>,
    education: &'a str,
    migrant: i64,
    group: &'a str,
    /// (org code, joined_on, ended_on, activated_at, events [(kind, date)])
    spells: Vec<Spell<'a>>,
}

async fn org_by_code(db: &Db, code: &str) -> i64 {
    orgs::get_by_code_unscoped(db, code)
        .await
        .unwrap()
        .unwrap()
        .id
        .0
}

async fn add(db: &Db, n: usize, m: &M<'_>) {
    let now = "2026-01-01T00:00:00.000000Z";
    let mut touched = Vec::new();
    let pid: i64 = sqlx::query_scalar(
        "INSERT INTO persons (name, name_pinyin, name_initials, id_kind, id_hash, id_enc, id_masked, gender, birth_date, \
         phone_masked, education, migrant, new_employment_group, row_hash, created_at, updated_at) \
         VALUES ($1, 'x', 'x', 'resident', $2, 'enc', $3, $4, $5, '138****0000', $6, $7, $8, 'h', $9, $9) RETURNING id",
    )
    .bind(m.name)
    .bind(format!("hash-{n}"))
    .bind(format!("6104**********{n:03}X"))
    .bind(m.gender)
    .bind(m.birth)
    .bind(m.education)
    .bind(m.migrant)
    .bind(m.group)
    .bind(now)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for (k, (org, joined, ended, activated, events)) in m.spells.iter().enumerate() {
        let org = org_by_code(db, org).await;
        touched.push(org);
        let status = if ended.is_some() { "ended" } else { "active" };
        let mid: i64 = sqlx::query_scalar(
            "INSERT INTO memberships (person_id, org_id, member_no, status, joined_on, ended_on, activated_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(pid)
        .bind(org)
        .bind(format!("M{n:04}-{k}"))
        .bind(status)
        .bind(*joined)
        .bind(*ended)
        .bind(*activated)
        .bind(now)
        .fetch_one(db.pool())
        .await
        .unwrap();
        for (kind, on) in events {
            sqlx::query(
                "INSERT INTO membership_events (membership_id, person_id, org_id, kind, on_date, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(mid)
            .bind(pid)
            .bind(org)
            .bind(*kind)
            .bind(*on)
            .bind(now)
            .execute(db.pool())
            .await
            .unwrap();
        }
    }
    // Like every writer of member records: the unions' data versions move.
    let mut conn = db.pool().acquire().await.unwrap();
    dataver::touch(&mut conn, touched).await.unwrap();
}

/// The hand-counted members (see the expected figures in `figures_are_the_counts_we_expect`).
async fn seed_members(db: &Db) {
    let people = vec![
        M {
            name: "张一",
            gender: "female",
            birth: Some("1995-06-01"),
            education: "大学本科",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-01-S1-001",
                "2020-03-01",
                None,
                Some("2026-05-01T02:00:00.000000Z"),
                vec![("join", "2020-03-01")],
            )],
        },
        M {
            name: "李二",
            gender: "male",
            birth: Some("1980-01-15"),
            education: "初中",
            migrant: 1,
            group: "快递员",
            spells: vec![(
                "SF-01-S1-001",
                "2026-02-10",
                None,
                None,
                vec![("join", "2026-02-10")],
            )],
        },
        M {
            name: "王三",
            gender: "male",
            birth: Some("1960-07-01"),
            education: "普通高中",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-01-S1-001",
                "2015-01-01",
                Some("2026-08-31"),
                None,
                vec![("join", "2015-01-01"), ("leave", "2026-08-31")],
            )],
        },
        M {
            name: "赵四",
            gender: "female",
            birth: None,
            education: "",
            migrant: 1,
            group: "外卖送餐员",
            spells: vec![
                (
                    "SF-02-S1-001",
                    "2019-05-05",
                    Some("2026-06-01"),
                    None,
                    vec![("join", "2019-05-05"), ("transfer_out", "2026-06-01")],
                ),
                (
                    "SF-01-S1-001",
                    "2026-06-01",
                    None,
                    None,
                    vec![("transfer_in", "2026-06-01")],
                ),
            ],
        },
        M {
            name: "钱五",
            gender: "female",
            birth: Some("1990-12-31"),
            education: "研究生(硕士)",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-01-S1-002",
                "2025-07-01",
                None,
                None,
                vec![("join", "2025-07-01")],
            )],
        },
        M {
            name: "孙六",
            gender: "male",
            birth: Some("1971-12-31"),
            education: "大学专科",
            migrant: 1,
            group: "货车司机",
            spells: vec![
                (
                    "SF-01-S1-002",
                    "2024-01-01",
                    Some("2026-03-31"),
                    None,
                    vec![("join", "2024-01-01"), ("transfer_out", "2026-03-31")],
                ),
                (
                    "SF-01-Z01",
                    "2026-03-31",
                    None,
                    None,
                    vec![("transfer_in", "2026-03-31")],
                ),
            ],
        },
        M {
            name: "周七",
            gender: "female",
            birth: Some("2000-01-01"),
            education: "中等专科",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-01-S2-001",
                "2026-11-01",
                None,
                Some("2026-11-02T10:00:00.000000Z"),
                vec![("join", "2026-11-01")],
            )],
        },
        M {
            name: "吴八",
            gender: "male",
            birth: Some("1985-05-05"),
            education: "其他",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-01-S2-001",
                "2026-01-10",
                Some("2026-04-01"),
                None,
                vec![("join", "2026-01-10"), ("leave", "2026-04-01")],
            )],
        },
        M {
            name: "郑九",
            gender: "female",
            birth: Some("1992-02-02"),
            education: "大学本科",
            migrant: 0,
            group: "",
            spells: vec![(
                "SF-02-S1-001",
                "2021-01-01",
                None,
                None,
                vec![("join", "2021-01-01")],
            )],
        },
    ];
    for (n, p) in people.iter().enumerate() {
        add(db, n, p).await;
    }
}

/// Demo tree + members; SF-01-S4-012 closed on 2026-05-01 so the union count moves.
async fn server() -> testing::TestServer {
    let env = testing::demo_orgs_env().await.unwrap();
    let db = &env.state.db;
    seed_members(db).await;
    let root = orgs::root(db).await.unwrap().unwrap();
    let scope = Scope::system(Actor::system("test"), root.id, root.path);
    let closing = orgs::get_by_code(db, &scope, "SF-01-S4-012").await.unwrap();
    orgs::close(
        db,
        &scope,
        &gonghui::modules::registry().org_holds(),
        closing.id,
        "2026-05-01".parse().unwrap(),
    )
    .await
    .unwrap();
    testing::TestServer::start(env).await.unwrap()
}

async fn figures(c: &Client, org: i64, period: &str) -> Value {
    let (s, v) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={org}&period={period}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn fig<'a>(t: &'a Value, code: &str) -> &'a Value {
    t["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["figures"].as_array().unwrap())
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

fn all_figures(t: &Value) -> Vec<Value> {
    t["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["figures"].as_array().unwrap().clone())
        .collect()
}

#[tokio::test]
async fn figures_are_the_counts_we_expect_with_last_year_and_children() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let t = figures(&c, county, "2026").await;
    assert_eq!(t["org"]["code"], "SF-01");
    assert_eq!(t["previous_period"]["spec"], "2025");
    let expect: &[(&str, i64, i64)] = &[
        ("members_total", 6, 4),
        ("members_joined", 3, 1),
        ("members_transfer_in", 2, 0),
        ("members_transfer_out", 1, 0),
        ("members_left", 2, 0),
        ("members_joined_migrant", 1, 0),
        ("members_joined_new_employment", 1, 0),
        ("members_migrant", 3, 1),
        ("members_women", 4, 2),
        ("members_new_employment", 3, 1),
        ("members_neg_courier", 1, 0),
        ("members_neg_food_delivery", 1, 0),
        ("members_neg_truck_driver", 1, 1),
        ("members_neg_domestic", 0, 0),
        ("members_activated", 2, 0),
        ("members_age_35", 2, 2),
        ("members_age_36_45", 1, 0),
        ("members_age_46_54", 1, 1),
        ("members_age_55", 1, 1),
        ("members_age_unknown", 1, 0),
        ("members_edu_postgraduate", 1, 1),
        ("members_edu_bachelor", 1, 1),
        ("members_edu_college", 1, 1),
        ("members_edu_secondary", 1, 1),
        ("members_edu_junior", 1, 0),
        ("members_edu_other", 1, 0),
        ("orgs_grassroots", 52, 53),
    ];
    for (code, cur, prev) in expect {
        let f = fig(&t, code);
        assert_eq!(f["value"], json!(cur), "{code}: {f}");
        assert_eq!(f["previous"], json!(prev), "{code} last year: {f}");
        assert_eq!(f["manual"], false);
    }
    // Ratio: numerator and denominator shown; numfmt's change and display.
    let rate = fig(&t, "members_online_rate");
    assert_eq!(rate["numerator"], 2);
    assert_eq!(rate["denominator"], 6);
    assert_eq!(rate["value"], json!(33.3));
    assert_eq!(rate["display"], "33.3%");
    assert_eq!(rate["previous"], json!(0.0));
    assert_eq!(fig(&t, "members_total")["change"], "+50.0%");
    assert_eq!(fig(&t, "members_total")["display"], "6人");
    // The parts of each breakdown add up to the total.
    for group in ["age", "education", "org_type"] {
        let total: i64 = all_figures(&t)
            .iter()
            .filter(|f| f["group"] == group)
            .map(|f| f["value"].as_i64().unwrap())
            .sum();
        let whole = if group == "org_type" {
            "orgs_grassroots"
        } else {
            "members_total"
        };
        assert_eq!(total, fig(&t, whole)["value"].as_i64().unwrap(), "{group}");
    }
    // Breakdown by child org: 本级 first, then children by code.
    let kids: Vec<&str> = t["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        &kids[..5],
        &["SF-01-S1", "SF-01-S2", "SF-01-S3", "SF-01-S4", "SF-01-Z01"]
    );
    let cells: Vec<i64> = fig(&t, "members_total")["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_i64().unwrap())
        .collect();
    assert_eq!(&cells[..6], &[0, 4, 1, 0, 0, 1]);
    // Manual indicators are flagged and empty until entered.
    let m = fig(&t, "work_publicity_reports");
    assert_eq!(m["manual"], true);
    assert_eq!(m["value"], Value::Null);
    // A quarter, a month and a custom range.
    let q = figures(&c, county, "2026-Q1").await;
    assert_eq!(fig(&q, "members_joined")["value"], 2);
    assert_eq!(
        fig(&q, "members_total")["value"],
        6,
        "end of March: 王三 and 吴八 still in, 孙六 counted once"
    );
    let m = figures(&c, county, "2026-11").await;
    assert_eq!(fig(&m, "members_joined")["value"], 1);
    let r = figures(&c, county, "2026-03-31..2026-06-01").await;
    assert_eq!(fig(&r, "members_transfer_in")["value"], 2);
    assert_eq!(fig(&r, "members_transfer_out")["value"], 1);
    // A grassroots clerk sees its own union.
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let (s, own) = clerk.get_json("/api/v1/reports/figures?year=2026").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(own["org"]["code"], "SF-01-S1-001");
    assert_eq!(fig(&own, "members_total")["value"], 3);
    assert_eq!(own["children"].as_array().unwrap().len(), 0);
}

/// Every counted figure — totals and every breakdown cell — equals the
/// number of records its drill-down lists.
#[tokio::test]
async fn every_figure_equals_the_count_of_its_drill_down() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let t = figures(&c, county, "2026").await;
    let before = crate::common::audit_count(&server, "report.drill").await;
    let mut member_drills = 0;
    let kids: Vec<i64> = t["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    for f in all_figures(&t) {
        let code = f["code"].as_str().unwrap();
        if f["manual"] == true || f["kind"] == "ratio" {
            continue;
        }
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={county}&period=2026&code={code}&per_page=500"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{code}: {d}");
        // A sum (money in fen) equals the sum of its records.
        if d["sum"].is_null() {
            assert_eq!(d["total"], f["value"], "{code}");
            let listed = d["rows"].as_array().unwrap().len();
            assert_eq!(listed as i64, f["value"].as_i64().unwrap(), "{code} list");
        } else {
            assert_eq!(d["sum"], f["value"], "{code}");
        }
        // Every personal list (members, and other modules' lists of
        // persons: vouchers, redemptions, hardship records …) is audited.
        if d["personal"] == true {
            member_drills += 1;
        }
        if d["subject"] == "members" {
            for m in d["rows"].as_array().unwrap() {
                assert!(m["id_masked"].as_str().unwrap().contains('*'), "{m}");
                assert!(m["org_code"].as_str().unwrap().starts_with("SF-01"), "{m}");
            }
        }
        // Breakdown cells drill into the child's subtree.
        for (cell, kid) in f["breakdown"].as_array().unwrap().iter().skip(1).zip(&kids) {
            if cell["value"].as_i64().unwrap() == 0 && code.starts_with("orgs_") {
                continue;
            }
            let (_, d) = c
                .get_json(&format!(
                    "/api/v1/reports/drill?org={kid}&period=2026&code={code}&per_page=500"
                ))
                .await;
            let measured = if d["sum"].is_null() {
                &d["total"]
            } else {
                &d["sum"]
            };
            assert_eq!(measured, &cell["value"], "{code} in child {kid}");
            if d["personal"] == true {
                member_drills += 1;
            }
        }
    }
    // Reading lists of persons (members, the insured …) is audited, once
    // per drill-down.
    let after = crate::common::audit_count(&server, "report.drill").await;
    assert_eq!(after - before, member_drills);
    // A ratio's parts equal their indicators.
    let rate = fig(&t, "members_online_rate");
    assert_eq!(rate["numerator"], fig(&t, "members_activated")["value"]);
    assert_eq!(rate["denominator"], fig(&t, "members_total")["value"]);
    // The page: the figure, and the drill-down page shows the same count.
    let (s, page) = c
        .text(&format!("/reports/table?org={county}&period=2026"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("6人") && page.contains("33.3%"), "{page}");
    let (s, page) = c
        .text(&format!(
            "/reports/drill?org={county}&period=2026&code=members_women"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<b id=\"drill-total\">4人</b>"), "{page}");
    assert!(
        page.contains("张一") && !page.contains("郑九"),
        "only the county's members"
    );
    // Pagination.
    let (_, p2) = c
        .get_json(&format!("/api/v1/reports/drill?org={county}&period=2026&code=orgs_grassroots&per_page=20&page=3"))
        .await;
    assert_eq!(p2["total"], 52);
    assert_eq!(p2["rows"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn county_admin_cannot_reach_another_county_by_any_route() {
    let server = server().await;
    let a = Client::signed_in(&server, "qinchuan_admin").await;
    let b = Client::signed_in(&server, "weishui_admin").await;
    let other = org_id(&b, "SF-02").await;
    let other_union = org_id(&b, "SF-02-S1-001").await;
    let before = crate::common::audit_count(&server, "scope.denied").await;
    crate::common::assert_not_found_everywhere(
        &a,
        &[
            format!("/api/v1/reports/figures?org={other}&year=2026"),
            format!("/api/v1/reports/drill?org={other_union}&year=2026&code=members_total"),
            format!("/api/v1/reports/drill?org={other}&year=2026&code=orgs_grassroots"),
            format!("/api/v1/reports/manual?org={other}&year=2026"),
        ],
        &[
            format!("/reports?org={other}"),
            format!("/reports/table?org={other}&period=2026"),
            format!("/reports/drill?org={other_union}&period=2026&code=members_women"),
            format!("/reports/manual?org={other}&period=2026"),
        ],
    )
    .await;
    let (s, _) = a
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": other, "code": "work_publicity_reports", "period": "2026", "value": 5})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = a
        .post_form(
            &format!("/reports/export.xlsx?org={other}&period=2026"),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "an export outside the subtree");
    let (s, _) = a
        .post_form(
            "/reports/manual",
            &[
                ("org", &other.to_string()),
                ("code", "work_publicity_reports"),
                ("period", "2026"),
                ("value", "5"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let after = crate::common::audit_count(&server, "scope.denied").await;
    assert!(
        after >= before + 11,
        "every denial audited: {before} -> {after}"
    );
    // Nothing was written, and the county's own figures never include the other county.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM manual_values")
        .fetch_one(server.state().db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (s, dash) = a.text("/reports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        dash.contains("秦川区总工会") && !dash.contains("渭水区"),
        "only the county"
    );
    assert!(dash.contains("<svg"), "charts");
    let own = org_id(&a, "SF-01").await;
    let t = figures(&a, own, "2026").await;
    assert!(t["children"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["code"].as_str().unwrap().starts_with("SF-01")));
}

#[tokio::test]
async fn bad_input_is_refused_with_clear_messages() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let cases: Vec<(String, &str)> = vec![
        (
            format!("/api/v1/reports/figures?org={county}&period=2026-06-30..2026-01-01"),
            "早于开始日期",
        ),
        (
            format!("/api/v1/reports/figures?org={county}&from=2026-06-30&to=2026-01-01"),
            "早于开始日期",
        ),
        (
            format!("/api/v1/reports/figures?org={county}&period=2026-13"),
            "无法识别",
        ),
        (
            format!("/api/v1/reports/figures?org={county}&year=abc"),
            "应为整数",
        ),
        (
            format!("/api/v1/reports/drill?org={county}&period=2026&code=no_such"),
            "未知的指标代码",
        ),
        (
            format!("/api/v1/reports/drill?org={county}&period=2026&code=members_online_rate"),
            "分子",
        ),
    ];
    for (path, needle) in cases {
        let (s, v) = c.get_json(&path).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert!(
            v["error"]["message_zh"].as_str().unwrap().contains(needle),
            "{path}: {v}"
        );
        assert!(!v["error"]["message_en"].as_str().unwrap().is_empty());
    }
    let (s, page) = c
        .text(&format!(
            "/reports?org={county}&period=2026-06-30..2026-01-01"
        ))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("早于开始日期"));
    // Manual values: derived indicators refused, unknown code refused, manual accepted.
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(
                json!({"org": county, "code": "members_total", "period": "2026", "value": 386057}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("不能手工填报"),
        "{v}"
    );
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": county, "code": "members_online_rate", "period": "2026", "value": 84})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": county, "code": "bogus", "period": "2026", "value": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message_zh"]
        .as_str()
        .unwrap()
        .contains("未知的指标代码"));
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": county, "code": "work_publicity_reports", "period": "2026", "value": -3})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
}

#[tokio::test]
async fn manual_values_roll_up_flagged_manual_and_audited() {
    let server = server().await;
    let county_admin = Client::signed_in(&server, "qinchuan_admin").await;
    let clerk = Client::signed_in(&server, "jc_clerk").await;
    let county = org_id(&county_admin, "SF-01").await;
    let union = org_id(&county_admin, "SF-01-S1-001").await;
    let (s, v) = county_admin
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": county, "code": "work_publicity_reports", "period": "2026", "value": 40, "note": "县总"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["manual"], true);
    // Through the page form, by the grassroots clerk, twice (the second replaces the first).
    for value in ["3", "5"] {
        let (s, body) = clerk
            .post_form(
                "/reports/manual",
                &[
                    ("org", &union.to_string()),
                    ("code", "work_publicity_reports"),
                    ("period", "2026"),
                    ("value", value),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    let t = figures(&county_admin, county, "2026").await;
    let f = fig(&t, "work_publicity_reports");
    assert_eq!(f["value"], 45);
    assert_eq!(f["manual"], true);
    assert_eq!(f["breakdown"][0]["value"], 40, "本级");
    assert_eq!(f["breakdown"][1]["value"], 5, "SF-01-S1");
    let (_, d) = county_admin
        .get_json(&format!(
            "/api/v1/reports/drill?org={county}&period=2026&code=work_publicity_reports"
        ))
        .await;
    assert_eq!(d["subject"], "manual");
    assert_eq!(
        d["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].as_i64().unwrap())
            .sum::<i64>(),
        45
    );
    // Another period is separate; manual shows on the page with its tag.
    let q = figures(&county_admin, county, "2026-Q1").await;
    assert_eq!(fig(&q, "work_publicity_reports")["value"], Value::Null);
    let (_, page) = county_admin
        .text(&format!("/reports/table?org={county}&period=2026"))
        .await;
    assert!(page.contains("tag manual"));
    assert_eq!(
        crate::common::audit_count(&server, "report.manual").await,
        3
    );
    // Auditors read but do not write.
    let aud = Client::signed_in(&server, "sf_auditor").await;
    let (s, _) = aud
        .json(
            Method::POST,
            "/api/v1/reports/manual",
            Some(json!({"org": county, "code": "work_publicity_reports", "period": "2026", "value": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn xlsx_export_carries_the_json_numbers() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let t = figures(&c, county, "2026").await;
    let r = c
        .http
        .post(c.base.clone() + &format!("/reports/export.xlsx?org={county}&period=2026"))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    let bytes = r.bytes().await.unwrap();
    let table = sheet::read_table(&bytes, 10_000).unwrap();
    assert_eq!(
        table.headers[..5],
        ["指标代码", "指标名称", "单位", "本期", "上年同期"]
    );
    let figs = all_figures(&t);
    assert_eq!(table.rows.len(), figs.len());
    let num = |s: &str| -> Value {
        if s.is_empty() {
            Value::Null
        } else if let Ok(n) = s.parse::<i64>() {
            json!(n)
        } else {
            json!(s.parse::<f64>().unwrap())
        }
    };
    for (row, f) in table.rows.iter().zip(&figs) {
        assert_eq!(row.cells[0], f["code"].as_str().unwrap());
        assert_eq!(row.cells[1], f["name"].as_str().unwrap());
        let (cur, prev) = (num(&row.cells[3]), num(&row.cells[4]));
        let same =
            |a: &Value, b: &Value| a == b || (a.as_f64().is_some() && a.as_f64() == b.as_f64());
        assert!(
            same(&cur, &f["value"]),
            "{}: {cur} vs {}",
            f["code"],
            f["value"]
        );
        assert!(
            same(&prev, &f["previous"]),
            "{}: {prev} vs {}",
            f["code"],
            f["previous"]
        );
        assert_eq!(row.cells[5], f["change"].as_str().unwrap());
        assert_eq!(
            row.cells[8],
            if f["manual"] == true {
                "手工填报"
            } else {
                "系统统计"
            }
        );
    }
    assert_eq!(
        crate::common::audit_count(&server, "report.export").await,
        1
    );
    // One sheet per section, plus the summary and the breakdown.
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let names = book.sheet_names();
    // The sections of the registered modules' indicators, in section order.
    let mut sections: Vec<&str> = Vec::new();
    for i in gonghui::modules::registry().indicators() {
        if !sections.contains(&i.section.zh) {
            sections.push(i.section.zh);
        }
    }
    assert_eq!(
        sections[..3],
        ["组织建设", "会员发展", "会员构成"],
        "{sections:?}"
    );
    assert!(
        sections.contains(&"普惠服务") && sections.contains(&"服务阵地"),
        "{sections:?}"
    );
    let mut expected = vec!["指标汇总"];
    expected.extend(sections);
    expected.push("按下级组织");
    assert_eq!(names, expected);
}

#[tokio::test]
async fn dashboard_is_home_with_charts_and_openapi_lists_the_api() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, page) = c.text("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("统计看板") || page.contains("秦川区总工会"),
        "home is the dashboard"
    );
    let (_, dash) = c.text("/reports?year=2026").await;
    assert!(
        dash.matches("<svg").count() >= 5,
        "trend, children, groups, types, age"
    );
    assert!(
        dash.contains("33.3%") && dash.contains("2人") && dash.contains("6人"),
        "{dash}"
    );
    assert!(dash.contains("viewport"), "phone layout");
    // The period picker's fields become a period.
    let (s, q) = c.text("/reports/table?year=2026&quarter=1").await;
    assert_eq!(s, StatusCode::OK);
    assert!(q.contains("2026年第1季度"), "{q}");
    let (_, doc) = c.get_json("/api/v1/openapi.json").await;
    for p in [
        "/api/v1/reports/figures",
        "/api/v1/reports/drill",
        "/api/v1/reports/manual",
        "/api/v1/reports/indicators",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
    let (_, cat) = c.get_json("/api/v1/reports/indicators").await;
    assert!(cat
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["code"] == "members_online_rate"
            && i["numerator"] == "members_activated"
            && i["denominator"] == "members_total"));
    // The city sees every county as a child.
    let city = Client::signed_in(&server, "sf_admin").await;
    let (_, t) = city.get_json("/api/v1/reports/figures?year=2026").await;
    assert_eq!(fig(&t, "members_total")["value"], 7, "SF-01's six and 郑九");
    assert_eq!(t["children"].as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn cli_report_indicators_json_and_xlsx() {
    let env = testing::demo_orgs_env().await.unwrap();
    seed_members(&env.state.db).await;
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
        cmd.args(args).output().unwrap()
    };
    let out = run(&["report", "indicators", "--org", "SF-01", "--year", "2026"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "members_total")
        .unwrap();
    assert_eq!(total["value"], 6);
    assert_eq!(total["unit"], "人");
    assert_eq!(total["manual"], false);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["name"].is_string() && f.get("value").is_some()));
    let file = dir.join("r.xlsx");
    let out = run(&[
        "report",
        "indicators",
        "--org",
        "SF-01",
        "--year",
        "2026",
        "--format",
        "xlsx",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t = sheet::read_table(&std::fs::read(&file).unwrap(), 1000).unwrap();
    let row = t
        .rows
        .iter()
        .find(|r| r.cells[0] == "members_total")
        .unwrap();
    assert_eq!(row.cells[3], "6");
    let out = run(&["report", "indicators", "--org", "NOPE", "--year", "2026"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOPE"));
}

/// The "done means" on the real demo data (6,000 generated members):
/// the county admin's dashboard shows only the county, and every member
/// figure equals the length of its drill-down list.
#[tokio::test]
async fn on_the_demo_data_a_county_dashboard_is_scoped_and_figures_match_drill_downs() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (s, page) = c.text("/reports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("<svg"), "charts are rendered");
    assert!(
        page.contains("秦川区") && !page.contains("渭水区"),
        "only the county on its dashboard"
    );
    let county = org_id(&c, "SF-01").await;
    let year = gonghui::platform::time::today().format("%Y").to_string();
    let t = figures(&c, county, &year).await;
    let total = fig(&t, "members_total")["value"].as_i64().unwrap();
    assert!(total > 500, "demo members present: {total}");
    for f in all_figures(&t) {
        let code = f["code"].as_str().unwrap();
        if f["manual"] == true || f["kind"] == "ratio" || f["value"].as_i64().unwrap_or(0) > 500 {
            continue;
        }
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={county}&period={year}&code={code}&per_page=500"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{code}: {d}");
        if let Some(sum) = d["sum"].as_i64() {
            // A sum (职工人数): the figure is what the rows add up to.
            assert_eq!(sum, f["value"].as_i64().unwrap(), "{code}");
            continue;
        }
        let listed = d["rows"].as_array().unwrap().len();
        assert_eq!(listed as i64, f["value"].as_i64().unwrap(), "{code}");
    }
    // The big ones: the total, counted page by page.
    let mut listed = 0;
    let mut page_no = 1;
    loop {
        let (_, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={county}&period={year}&code=members_total&per_page=500&page={page_no}"
            ))
            .await;
        let n = d["rows"].as_array().unwrap().len();
        listed += n;
        if n < 500 {
            break;
        }
        page_no += 1;
    }
    assert_eq!(listed as i64, total);
    // And it agrees with the roster's own count.
    let (_, counts) = c
        .get_json(&format!("/api/v1/members/counts?org={county}"))
        .await;
    assert_eq!(counts["members"].as_i64().unwrap(), total);
}

// ---------------------------------------------------------------------------
// the per-org figures cache

/// The first figure (code and field) where two tables differ, for messages.
fn first_difference(a: &Value, b: &Value) -> String {
    if a["children"] != b["children"] {
        return "children".into();
    }
    for (x, y) in all_figures(a).iter().zip(all_figures(b).iter()) {
        for field in ["value", "previous", "breakdown", "numerator", "denominator"] {
            if x[field] != y[field] {
                return format!(
                    "{} {field}: served {} / from the records {}",
                    x["code"], x[field], y[field]
                );
            }
        }
    }
    "elsewhere".into()
}

async fn city_scope(db: &Db) -> Scope {
    let root = orgs::root(db).await.unwrap().unwrap();
    Scope::system(Actor::system("test"), root.id, root.path)
}

/// For each org: the figures table the server serves (through the cache)
/// equals one computed from the records, this year with last year; so does
/// the dashboard's monthly trend.
async fn assert_served_equals_records(
    server: &testing::TestServer,
    c: &Client,
    org_ids: &[i64],
    after: &str,
) {
    let db = &server.state().db;
    let scope = city_scope(db).await;
    let year = gonghui::platform::time::today().year();
    let period = Period::year(year).unwrap();
    let ends = engine::trend_ends(year).unwrap();
    for &org in org_ids {
        let served = figures(c, org, &year.to_string()).await;
        let fresh = serde_json::to_value(
            engine::table_uncached(db, &scope, OrgId(org), period)
                .await
                .unwrap(),
        )
        .unwrap();
        assert!(
            served == fresh,
            "after {after}, org {org}: {}",
            first_difference(&served, &fresh)
        );
        let cached = engine::trend(db, &scope, OrgId(org), "members_total", &ends)
            .await
            .unwrap();
        let fresh = engine::trend_uncached(db, &scope, OrgId(org), "members_total", &ends)
            .await
            .unwrap();
        assert_eq!(cached, fresh, "after {after}: trend of org {org}");
    }
}

/// Enrols (or updates) a member through the API; the answer must be 200.
async fn enrol(c: &Client, member: Value) -> Value {
    let (s, v) = c.json(Method::POST, "/api/v1/members", Some(member)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

/// Runs an import job of `file` in the server's process, as the page does.
async fn import_file(
    server: &testing::TestServer,
    scope: &Scope,
    file: std::path::PathBuf,
    opts: &import::Options,
) -> import::Report {
    let job = import::create_job(server.state(), scope, opts)
        .await
        .unwrap();
    import::run(
        server.state(),
        scope,
        job,
        file,
        opts,
        server.state().jobs.start(job),
    )
    .await
    .unwrap()
}

async fn wait_for_warmups(server: &testing::TestServer, n: u64) {
    let cache = server.state().db.org_cache();
    for _ in 0..600 {
        if cache.warmups_done() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("warm-up {n} did not finish");
}

fn this_year_value(t: &Value, code: &str) -> i64 {
    fig(t, code)["value"].as_i64().unwrap()
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

async fn versions(db: &Db) -> Vec<(i64, i64)> {
    sqlx::query_as("SELECT org_id, version FROM org_data_version ORDER BY org_id")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

/// Every write path of the member registry and the org tree, one after the
/// other on the demo data: after each, what is served from the cache equals
/// the records, the figures moved (so a stale entry would have been caught),
/// and only the orgs written to were recomputed.
#[tokio::test]
async fn cached_figures_follow_every_write_path() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let db = server.state().db.clone();
    let cache = db.org_cache();
    wait_for_warmups(&server, 1).await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let year = gonghui::platform::time::today().year().to_string();
    let today = gonghui::platform::time::today().to_string();
    let city = orgs::root(&db).await.unwrap().unwrap().id.0;
    let county = org_id(&c, "SF-01").await;
    let union = org_id(&c, "SF-01-S1-001").await;
    let other = org_id(&c, "SF-02-S1-001").await;
    let watched = [city, county, union, other];
    assert_served_equals_records(&server, &c, &watched, "start").await;

    // The start-up warm-up filled the city's table: served without recomputing.
    let before = cache.stats();
    let t = figures(&c, city, &year).await;
    assert_eq!(cache.stats().misses, before.misses, "warm after start");
    assert!(cache.stats().hits > before.hits);
    let city_total = this_year_value(&t, "members_total");

    // 1. Enrol one member through the API.
    let id1 = resident_id("61010219900101123");
    let v = enrol(
        &c,
        json!({"name": "缓存一", "id_number": id1, "org_code": "SF-01-S1-001",
                        "change_date": today, "education": "大学本科"}),
    )
    .await;
    let membership = v["membership_id"].as_i64().expect("membership id");
    let before = cache.stats();
    let t = figures(&c, city, &year).await;
    assert_eq!(this_year_value(&t, "members_total"), city_total + 1);
    // One union stale: recomputed in each cached source's column set, this
    // year and last (memberships and events; stations and their visits;
    // mutual-aid enrolments and payouts), nothing else.
    let cached_sources: std::collections::BTreeSet<&str> = gonghui::modules::registry()
        .indicators()
        .iter()
        .filter_map(|i| i.source())
        .filter(|s| s.cached)
        .map(|s| s.key)
        .collect();
    assert!(cached_sources.len() >= 4, "{cached_sources:?}");
    assert_eq!(
        cache.stats().misses - before.misses,
        2 * cached_sources.len() as u64,
        "only the union"
    );
    assert_served_equals_records(&server, &c, &watched, "enrolling a member").await;

    // 2. The same person again with another education: the person is updated.
    enrol(
        &c,
        json!({"name": "缓存一", "id_number": id1, "org_code": "SF-01-S1-001",
                        "change_date": today, "education": "研究生(硕士)"}),
    )
    .await;
    assert_served_equals_records(&server, &c, &watched, "updating a person").await;

    // 3. The member leaves (status change from the member page).
    let (s, page) = c
        .post_form(
            &format!("/members/{membership}/status"),
            &[("change", "leave"), ("on", &today), ("reason", "调离")],
        )
        .await;
    assert!(s.is_success() || s.is_redirection(), "{s}: {page}");
    let t = figures(&c, city, &year).await;
    assert_eq!(this_year_value(&t, "members_total"), city_total);
    assert_served_equals_records(&server, &c, &watched, "a member leaving").await;

    // 4. A transfer from SF-01-S1-001 to SF-02-S1-001, approved.
    let id2 = resident_id("61010219910202234");
    enrol(
        &c,
        json!({"name": "缓存二", "id_number": id2, "org_code": "SF-01-S1-001",
                        "change_date": "2025-03-01"}),
    )
    .await;
    assert_served_equals_records(&server, &c, &watched, "enrolling a second member").await;
    let other_before = this_year_value(&figures(&c, other, &year).await, "members_total");
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/members/transfers",
            Some(json!({"id_number": id2, "name": "缓存二", "to_org": "SF-02-S1-001", "reason": "工作调动"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let tid = v["id"].as_i64().unwrap();
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/members/transfers/{tid}/approve"),
            Some(json!({"note": "同意"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        this_year_value(&figures(&c, other, &year).await, "members_total"),
        other_before + 1
    );
    assert_served_equals_records(&server, &c, &watched, "a transfer").await;

    // 5. The transferred person's details change at the new union: the old
    //    union's figures (last year's profile) move too.
    enrol(
        &c,
        json!({"name": "缓存二", "id_number": id2, "org_code": "SF-02-S1-001",
                        "change_date": today, "education": "初中"}),
    )
    .await;
    assert_served_equals_records(&server, &c, &watched, "updating a transferred person").await;

    // 6. An online application, approved.
    let mut anon = Client::new(&server);
    let (_, page) = anon.text("/join/SF-01-S1-001").await;
    anon.csrf = csrf_in(&page).expect("join form token");
    let id3 = resident_id("61010219920303345");
    let (s, page) = crate::common::post_with_code(
        &server,
        &anon,
        "/join/SF-01-S1-001",
        &[
            ("name", "缓存三"),
            ("id_kind", "居民身份证"),
            ("id_number", &id3),
            ("phone", "13912345670"),
            ("gender", ""),
            ("birth_date", ""),
            ("workplace", "示例公司"),
            ("new_employment_group", "快递员"),
            ("migrant", "是"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let rid: i64 = sqlx::query_scalar("SELECT id FROM join_requests WHERE name = $1")
        .bind("缓存三")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let (s, v) = c
        .json(Method::POST, &format!("/api/v1/joins/{rid}/approve"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_served_equals_records(&server, &c, &watched, "approving an application").await;

    // 7. An import through the upload page; the import's warm-up recomputes
    //    the city before anyone asks.
    let warmed = cache.warmups_done();
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/members_gbk.csv"),
    )
    .unwrap();
    let r = c.upload("/api/v1/members/import", bytes, "名册.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let job = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let mut tries = 0;
    loop {
        let (_, v) = c.get_json(&format!("/api/v1/members/import/{job}")).await;
        if v["status"] != "running" {
            assert_eq!(v["status"], "done", "{v}");
            assert_eq!(v["new_count"], 4, "{v}");
            break;
        }
        tries += 1;
        assert!(tries < 300, "import finishes");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    wait_for_warmups(&server, warmed + 1).await;
    let before = cache.stats();
    let t = figures(&c, city, &year).await;
    assert_eq!(cache.stats().misses, before.misses, "warm after the import");
    assert_eq!(this_year_value(&t, "members_total"), city_total + 1 + 1 + 4);
    assert_served_equals_records(&server, &c, &watched, "an import").await;

    // 8. A union moves to another county: the breakdowns follow the tree.
    let moving = org_id(&c, "SF-01-S1-002").await;
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/orgs/{moving}/move"),
            Some(json!({"new_parent": "SF-02-S1"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let county2 = org_id(&c, "SF-02").await;
    assert_served_equals_records(&server, &c, &[city, county, county2, moving], "a move").await;
}

/// The version bump is part of the writing transaction: an all-or-nothing
/// import that is rolled back leaves the versions as they were, and the
/// cached figures stay valid (served without recomputing anything).
#[tokio::test]
async fn a_rolled_back_import_leaves_versions_and_cache_valid() {
    let server = testing::TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let db = server.state().db.clone();
    wait_for_warmups(&server, 1).await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let year = gonghui::platform::time::today().year().to_string();
    let city = orgs::root(&db).await.unwrap().unwrap().id.0;
    let union = org_id(&c, "SF-01-S1-001").await;
    assert_served_equals_records(&server, &c, &[city, union], "start").await;
    let versions_before = versions(&db).await;
    assert!(
        !versions_before.is_empty(),
        "the demo's writes bumped versions"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.csv");
    let mut bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/members_gbk.csv"),
    )
    .unwrap();
    let bad =
        "\r\n坏行,男,,汉族,居民身份证,11010219840506970X,,,,,,,,,,入会,2024-03-01,SF-01-S1-001";
    bytes.extend_from_slice(&encoding_rs::GBK.encode(bad).0);
    std::fs::write(&file, bytes).unwrap();
    let scope = city_scope(&db).await;
    let opts = import::Options {
        org_code: None,
        all_or_nothing: true,
        file_name: "roster.csv".into(),
    };
    let report = import_file(&server, &scope, file, &opts).await;
    assert!(!report.committed, "a bad row rolls the whole file back");
    assert_eq!(versions(&db).await, versions_before);

    let before = db.org_cache().stats();
    figures(&c, city, &year).await;
    figures(&c, union, &year).await;
    assert_eq!(
        db.org_cache().stats().misses,
        before.misses,
        "nothing recomputed"
    );
    assert_served_equals_records(&server, &c, &[city, union], "a rolled-back import").await;

    // The same file without the bad row commits, and its versions move with it.
    let file = dir.path().join("good.csv");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/members_gbk.csv"),
        &file,
    )
    .unwrap();
    let report = import_file(&server, &scope, file, &opts).await;
    assert!(report.committed);
    assert_ne!(versions(&db).await, versions_before);
    assert_served_equals_records(&server, &c, &[city, union], "a committed import").await;
}
