//! The module kit, proved by a module that exists only in this test binary:
//! it brings its own migration, record sources and indicators (a sum of fen
//! and a distinct count of households) through the `Module` contract, and the
//! platform serves them unchanged — figures equal to their drill-downs, the
//! per-org cache following the module's own writes, the figures in the
//! table, the dashboard and the xlsx. On SQLite and PostgreSQL.

use std::sync::{Arc, OnceLock};

use chrono::Datelike;
use gonghui::{
    numfmt::Unit,
    platform::{
        dataver,
        db::Db,
        indicator::{
            Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Section, Show,
        },
        module::{Migration, Module, Registry},
        summary::Paragraph,
        time, tree,
    },
    reports::{figures, period::Period},
    sheet, testing,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{org_id, Client};

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "kit_visits",
    sql: "CREATE TABLE kit_visits (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    household TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    on_date TEXT NOT NULL
);
CREATE INDEX kit_visits_org_date ON kit_visits(org_id, on_date);",
}];

const KIT: Section = Section {
    key: "kit",
    zh: "测试模块",
    en: "Kit test module",
    order: 95,
};

const IN_PERIOD: &str = "v.on_date >= {start} AND v.on_date <= {end}";

/// Every visit: counted, or summed by amount.
static VISITS: RecordSource = RecordSource {
    key: "kit_visits",
    from: "kit_visits v JOIN orgs o ON o.id = v.org_id",
    scan: None,
    org_column: "v.org_id",
    window: Some("v.on_date"),
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "kit_visits",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "工会", "Union", Show::Text),
        DrillColumn::new("household", "v.household", "户", "Household", Show::Text),
        DrillColumn::new("amount_fen", "v.amount_fen", "金额", "Amount", Show::Money),
        DrillColumn::new("on_date", "v.on_date", "日期", "Date", Show::Text),
    ],
    drill_order: "o.code, v.on_date, v.id",
    drill_group: None,
};

/// The households visited: each once per union, however many visits.
static HOUSEHOLDS: RecordSource = RecordSource {
    key: "kit_households",
    measure: Measure::Distinct("v.household"),
    aggregation: Aggregation::Distinct,
    subject: "kit_households",
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "工会", "Union", Show::Text),
        DrillColumn::new("household", "v.household", "户", "Household", Show::Text),
        DrillColumn::new("visits", "COUNT(*)", "走访次数", "Visits", Show::Number),
        DrillColumn::new(
            "amount_fen",
            "SUM(v.amount_fen)",
            "金额",
            "Amount",
            Show::Money,
        ),
    ],
    drill_order: "o.code, v.household",
    drill_group: Some("o.id, v.household"),
    ..VISITS
};

fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "kit_amount",
            "慰问金额",
            "Amount given",
            Unit::Fen,
            Kind::Flow,
            KIT,
            &VISITS,
            IN_PERIOD,
        )
        .measure(Measure::Sum("v.amount_fen"), Aggregation::SumOfValues)
        .about(
            "统计期内慰问金额(测试模块)",
            "Amount given in the period (test module)",
        )
        .headline(),
        Indicator::records(
            "kit_households",
            "慰问户数",
            "Households visited",
            Unit::Household,
            Kind::Flow,
            KIT,
            &HOUSEHOLDS,
            IN_PERIOD,
        )
        .about(
            "统计期内走访的户数(每工会每户计一次)",
            "Households visited in the period (once per union)",
        )
        .headline(),
        Indicator::records(
            "kit_visits",
            "走访次数",
            "Visits",
            Unit::Times,
            Kind::Flow,
            KIT,
            &VISITS,
            IN_PERIOD,
        )
        .about("统计期内走访次数", "Visits in the period"),
    ]
}

fn kit_module() -> Module {
    Module {
        migrations: MIGRATIONS,
        indicators,
        summary: || {
            vec![Paragraph {
                key: "kit.visits",
                section: "assistance",
                indicators: &["kit_households", "kit_amount"],
                zh: "走访慰问困难家庭{kit_households},发放慰问金{kit_amount}。",
                en: "Visited {kit_households} households in hardship and gave {kit_amount}.",
            }]
        },
        ..Module::new("kit_test")
    }
}

/// The binary's modules and the kit module: "a new crate and one line".
fn registry() -> Arc<Registry> {
    static R: OnceLock<Arc<Registry>> = OnceLock::new();
    R.get_or_init(|| {
        let mut all = gonghui::modules::all();
        all.push(kit_module());
        Arc::new(Registry::new(all))
    })
    .clone()
}

/// The demo's org tree, opened by a binary with the kit module added: its
/// migration runs on the existing database.
async fn kit_env() -> testing::TestEnv {
    testing::reopen(testing::demo_orgs_env().await.unwrap(), registry())
        .await
        .unwrap()
}

/// The kit module's one write path: the visit and the org's data version in
/// one transaction, as every module writing cached records must.
async fn record_visit(db: &Db, org: i64, household: &str, fen: i64, on: &str) {
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query(
        "INSERT INTO kit_visits (org_id, household, amount_fen, on_date) VALUES ($1, $2, $3, $4)",
    )
    .bind(org)
    .bind(household)
    .bind(fen)
    .bind(on)
    .execute(&mut *tx.tx)
    .await
    .unwrap();
    dataver::touch(&mut tx.tx, [org]).await.unwrap();
    tx.commit().await.unwrap();
}

async fn org_by_code(db: &Db, code: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM orgs WHERE code = $1")
        .bind(code)
        .fetch_one(db.pool())
        .await
        .unwrap()
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

/// The drill-down's measure of its records: the sum for sums, else the count.
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
async fn a_module_brings_its_sources_and_the_platform_serves_them() {
    let env = kit_env().await;
    let db = env.state.db.clone();
    assert!(
        env.state
            .registry
            .summary_paragraphs()
            .iter()
            .any(|p| p.key == "kit.visits"),
        "the module's summary paragraph is registered"
    );
    let year = time::today().year();
    let (a, b) = (
        org_by_code(&db, "SF-01-S1-001").await,
        org_by_code(&db, "SF-01-S1-002").await,
    );
    let on = format!("{year}-03-01");
    record_visit(&db, a, "H1", 10_050, &on).await;
    record_visit(&db, a, "H1", 20_000, &on).await;
    record_visit(&db, a, "H2", 5_000, &on).await;
    record_visit(&db, b, "H1", 3_000, &on).await;
    record_visit(&db, a, "H3", 1_000, &format!("{}-06-01", year - 1)).await;

    // The engine: this year's figures, last year's, and the cache.
    let scope = tree::system_scope(&db).await.unwrap();
    let county = org_by_code(&db, "SF-01").await;
    let period = Period::year(year).unwrap();
    let cached = figures::table(&db, &scope, gonghui::platform::ids::OrgId(county), period)
        .await
        .unwrap();
    let t = serde_json::to_value(&cached).unwrap();
    assert_eq!(figure(&t, "kit_amount")["value"], 38_050);
    assert_eq!(figure(&t, "kit_amount")["display"], "380.50元");
    assert_eq!(figure(&t, "kit_amount")["previous"], 1_000);
    assert_eq!(
        figure(&t, "kit_households")["value"],
        3,
        "H1 once per union"
    );
    assert_eq!(figure(&t, "kit_visits")["value"], 4);

    // A write through the module's path: the cache follows it.
    let misses = db.org_cache().stats().misses;
    record_visit(&db, b, "H4", 2_500, &on).await;
    let after = figures::table(&db, &scope, gonghui::platform::ids::OrgId(county), period)
        .await
        .unwrap();
    let after_json = serde_json::to_value(&after).unwrap();
    assert_eq!(figure(&after_json, "kit_amount")["value"], 40_550);
    assert_eq!(figure(&after_json, "kit_households")["value"], 4);
    assert!(
        db.org_cache().stats().misses > misses,
        "recomputed the written org"
    );
    let fresh = figures::table_uncached(&db, &scope, gonghui::platform::ids::OrgId(county), period)
        .await
        .unwrap();
    assert_eq!(after_json, serde_json::to_value(&fresh).unwrap());

    // Over HTTP: figure = drill-down for every kit figure and every breakdown cell.
    let server = testing::TestServer::start(env).await.unwrap();
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let (s, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={county}&period={year}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    for code in ["kit_amount", "kit_households", "kit_visits"] {
        let f = figure(&t, code);
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={county}&period={year}&code={code}&per_page=500"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(
            d["subject"],
            if code == "kit_households" {
                "kit_households"
            } else {
                "kit_visits"
            }
        );
        assert_eq!(drilled(&d), f["value"].as_i64().unwrap(), "{code}");
        for (cell, child) in f["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .skip(1)
            .zip(t["children"].as_array().unwrap())
        {
            let (_, d) = c
                .get_json(&format!(
                    "/api/v1/reports/drill?org={}&period={year}&code={code}&per_page=500",
                    child["id"]
                ))
                .await;
            assert_eq!(
                drilled(&d),
                cell["value"].as_i64().unwrap(),
                "{code} {}",
                child["code"]
            );
        }
    }
    let (_, d) = c
        .get_json(&format!(
            "/api/v1/reports/drill?org={county}&period={year}&code=kit_households&per_page=500"
        ))
        .await;
    let h1: Vec<&Value> = d["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["household"] == "H1")
        .collect();
    assert_eq!(h1.len(), 2, "one row per union");
    assert!(h1
        .iter()
        .any(|r| r["visits"] == 2 && r["amount_fen"] == 30_050));

    // The catalogue, the table page, the dashboard and the drill page.
    let (_, cat) = c.get_json("/api/v1/reports/indicators").await;
    let info = cat
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "kit_amount")
        .unwrap();
    assert_eq!(info["aggregation"], "sum_of_values");
    assert_eq!(info["source"], "kit_visits");
    let (_, page) = c
        .text(&format!("/reports/table?org={county}&period={year}"))
        .await;
    assert!(
        page.contains("测试模块") && page.contains("405.50元"),
        "table page"
    );
    let (_, page) = c
        .text(&format!("/reports?org={county}&period={year}"))
        .await;
    assert!(
        page.contains("慰问金额") && page.contains("慰问户数"),
        "dashboard headline"
    );
    let (_, page) = c
        .text(&format!(
            "/reports/drill?org={county}&period={year}&code=kit_amount"
        ))
        .await;
    assert!(
        page.contains("100.50") && page.contains("H2"),
        "drill page lists the visits"
    );

    // The xlsx: the money in 元 with its fen, the counts as in the JSON.
    let r = c
        .http
        .post(c.base.clone() + &format!("/reports/export.xlsx?org={county}&period={year}"))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let table = sheet::read_table(&r.bytes().await.unwrap(), 10_000).unwrap();
    let row = |code: &str| {
        table
            .rows
            .iter()
            .find(|r| r.cells[0] == code)
            .unwrap_or_else(|| panic!("{code} in the xlsx"))
            .cells
            .clone()
    };
    assert_eq!(row("kit_amount")[3].parse::<f64>().unwrap(), 405.5);
    assert_eq!(row("kit_households")[3], "4");
}

/// Every person group a module declares (困难职工 …) is a query that runs on
/// this backend, answers `holds`, and agrees with itself: the persons it
/// lists are held, a hash it does not list is not.
#[tokio::test]
async fn every_declared_person_group_runs_and_answers() {
    let env = gonghui::testing::demo_env().await.unwrap();
    let groups = env.state.registry.person_groups();
    assert!(groups.iter().any(|g| g.key == "hardship"));
    for g in groups {
        let pool = env.state.db.pool();
        let hashes: Vec<String> = sqlx::query_scalar(g.id_hashes)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("person group {}: {e}", g.key));
        let mut conn = pool.acquire().await.unwrap();
        if let Some(h) = hashes.first() {
            assert!(g.holds(&mut conn, h).await.unwrap(), "{}", g.key);
        }
        assert!(
            !g.holds(&mut conn, "no such hash").await.unwrap(),
            "{}",
            g.key
        );
    }
}
