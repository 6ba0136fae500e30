//! 阵地 (crates/stations): stations recorded in the Chinese maps' datums and
//! found again from a phone's WGS-84 position on the public page; their
//! figures equal their drill-downs; the service circle; scope; refusals that
//! write nothing. On SQLite and PostgreSQL.

use chrono::Datelike;
use gonghui::{
    platform::time,
    stations::geo::{self, Datum, LatLng},
    testing,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{audit_count, org_id, Client};

async fn server() -> testing::TestServer {
    let mut env = testing::demo_env().await.unwrap();
    std::sync::Arc::make_mut(&mut env.state.cfg).public_per_minute = 0;
    testing::TestServer::start(env).await.unwrap()
}

async fn count(server: &testing::TestServer, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(server.state().db.pool())
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

/// The drill-down's measure, every page read: the sum of its rows for a
/// sum (checked against the sum it reports), else the count of its rows.
async fn drilled(c: &Client, org: &Value, year: i32, code: &str, column: Option<&str>) -> i64 {
    let mut rows = Vec::new();
    let mut page = 1;
    let d = loop {
        let (s, d) = c
            .get_json(&format!(
                "/api/v1/reports/drill?org={org}&period={year}&code={code}&per_page=500&page={page}"
            ))
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        rows.extend(d["rows"].as_array().unwrap().iter().cloned());
        if rows.len() as i64 >= d["total"].as_i64().unwrap()
            || d["rows"].as_array().unwrap().is_empty()
        {
            break d;
        }
        page += 1;
    };
    assert_eq!(rows.len() as i64, d["total"].as_i64().unwrap(), "{code}");
    match column {
        Some(col) => {
            let listed: i64 = rows.iter().map(|r| r[col].as_i64().unwrap()).sum();
            assert_eq!(
                Some(listed),
                d["sum"].as_i64(),
                "the rows add up to the sum"
            );
            listed
        }
        None => rows.len() as i64,
    }
}

const CODES: &[(&str, Option<&str>)] = &[
    ("stations_total", None),
    ("stations_love", None),
    ("stations_maternal", None),
    ("stations_driver", None),
    ("stations_library", None),
    ("stations_centre", None),
    ("stations_area", Some("area_sqm")),
    ("stations_visits", Some("visits")),
    ("stations_townships", None),
    ("stations_townships_covered", None),
    ("stations_townships_uncovered", None),
];

#[tokio::test]
async fn stations_figures_equal_their_drill_downs() {
    let server = server().await;
    let c = Client::signed_in(&server, "sf_admin").await;
    let root = org_id(&c, "SF").await;
    let year = time::today().year();
    let (s, t) = c
        .get_json(&format!("/api/v1/reports/figures?org={root}&period={year}"))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(figure(&t, "stations_total")["value"].as_i64().unwrap() >= 35);
    assert!(figure(&t, "stations_visits")["value"].as_i64().unwrap() > 0);
    let kinds: i64 = [
        "stations_love",
        "stations_maternal",
        "stations_driver",
        "stations_library",
        "stations_centre",
    ]
    .iter()
    .map(|k| figure(&t, k)["value"].as_i64().unwrap())
    .sum();
    assert_eq!(
        kinds,
        figure(&t, "stations_total")["value"].as_i64().unwrap()
    );
    let towns = figure(&t, "stations_townships")["value"].as_i64().unwrap();
    let covered = figure(&t, "stations_townships_covered")["value"]
        .as_i64()
        .unwrap();
    let uncovered = figure(&t, "stations_townships_uncovered")["value"]
        .as_i64()
        .unwrap();
    assert_eq!(towns, 30, "six per demo county");
    assert_eq!(covered + uncovered, towns);
    assert!(covered > 0 && uncovered > 0, "the demo has gaps");
    for &(code, col) in CODES {
        let f = figure(&t, code);
        assert_eq!(
            drilled(&c, &json!(root), year, code, col).await,
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
            assert_eq!(
                drilled(&c, &child["id"], year, code, col).await,
                cell["value"].as_i64().unwrap(),
                "{code} {}",
                child["code"]
            );
        }
    }
    // The service circle's list names the same gaps as the figure.
    let (_, list) = c.get_json("/api/v1/stations/townships").await;
    let gaps = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["open_stations"] == 0)
        .count() as i64;
    assert!(gaps >= uncovered, "paused stations do not cover");
    let (s, page) = c.text("/stations/circle").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("南坡镇") && page.contains("尚无阵地"),
        "{page}"
    );
    // The paragraph and the return items are registered.
    let reg = gonghui::modules::registry();
    assert!(reg
        .summary_paragraphs()
        .iter()
        .any(|p| p.key == "stations.built" && p.section == "rights"));
    assert!(reg.yearly_return().items.iter().any(|i| i.code == "ZD07"));
}

/// A station typed in GCJ-02 (as copied from 高德) is stored in WGS-84, so
/// a phone standing at it (WGS-84 geolocation) finds it first, metres away.
#[tokio::test]
async fn near_lists_the_nearest_first_from_a_phone_for_stations_typed_in_gcj02() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (_, towns) = c.get_json("/api/v1/stations/townships").await;
    let town = towns[0]["id"].as_i64().unwrap();
    // Two stations 600 m apart, far from the demo's (in 咸阳 north of the Wei).
    let a_wgs = LatLng::new(34.4100, 108.6500);
    let b_wgs = LatLng::new(34.4154, 108.6500);
    let mut ids = Vec::new();
    for (name, p) in [("测试甲驿站", a_wgs), ("测试乙驿站", b_wgs)] {
        let g = geo::from_wgs(p, Datum::Gcj02);
        let (s, v) = c
            .json(
                Method::POST,
                "/api/v1/stations",
                Some(json!({
                    "org": "SF-01-S1", "kind": "love", "name": name, "address": "测试路1号",
                    "township_id": town.to_string(), "pair": format!("{:.6},{:.6}", g.lng, g.lat),
                    "datum": "gcj02", "area_sqm": "30", "facilities": "water,heat,charge",
                    "hours": "每日 7:00–21:00", "opened_on": "2024-05-01"
                })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["datum_in"], "gcj02");
        let stored = LatLng::new(v["lat"].as_f64().unwrap(), v["lng"].as_f64().unwrap());
        assert!(geo::distance_m(stored, p) < 0.5, "stored in WGS-84");
        ids.push(v["id"].as_i64().unwrap());
    }
    // Anonymous, from a point 100 m south of A.
    let anon = Client::new(&server);
    let (s, v) = anon
        .get_json("/api/v1/stations/near?lat=34.4091&lng=108.6500&n=3")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hits = v.as_array().unwrap();
    assert_eq!(hits[0]["id"], ids[0], "{v}");
    assert_eq!(hits[1]["id"], ids[1]);
    let d0 = hits[0]["distance_m"].as_i64().unwrap();
    assert!((95..=105).contains(&d0), "{d0}");
    assert!(hits[0]["amap_url"]
        .as_str()
        .unwrap()
        .starts_with("https://uri.amap.com/navigation?to="));
    // The map link carries the GCJ-02 place the station was typed in.
    let g = geo::from_wgs(a_wgs, Datum::Gcj02);
    assert!(
        hits[0]["amap_url"]
            .as_str()
            .unwrap()
            .contains(&format!("{:.6},{:.6}", g.lng, g.lat)),
        "{}",
        hits[0]["amap_url"]
    );
    for h in hits {
        let s = h.to_string();
        assert!(!s.contains("member") && !s.contains("org_id"), "{s}");
    }
    // The page, without signing in: the nearest first, its facilities, the links.
    let (s, page) = anon.text("/stations/near?lat=34.4091&lng=108.6500").await;
    assert_eq!(s, StatusCode::OK);
    let (ia, ib) = (
        page.find("测试甲驿站").unwrap(),
        page.find("测试乙驿站").unwrap(),
    );
    assert!(ia < ib, "nearest first");
    assert!(page.contains("100米") && page.contains("热饭") && page.contains("uri.amap.com"));
    assert!(page.contains("/assets/stations.js") && !page.contains("<script>"));
    // From a chosen street/township instead of a position.
    let (s, page) = anon.text(&format!("/stations/near?township={town}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"hits\""));
    // The script is a static file.
    let r = anon
        .http
        .get(format!("{}/assets/stations.js", anon.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(r.text().await.unwrap().contains("geolocation"));
    // A paused station is not listed.
    let (s, v) = c
        .json(
            Method::PATCH,
            &format!("/api/v1/stations/{}", ids[0]),
            Some(json!({
                "org": "SF-01-S1", "kind": "love", "name": "测试甲驿站", "address": "测试路1号",
                "township_id": town.to_string(), "lat": "34.41", "lng": "108.65",
                "datum": "wgs84", "area_sqm": "30", "status": "paused", "opened_on": "2024-05-01"
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = anon
        .get_json("/api/v1/stations/near?lat=34.4091&lng=108.6500&n=1")
        .await;
    assert_eq!(v[0]["id"], ids[1]);
    // Bad positions: a clear refusal.
    let (s, v) = anon
        .get_json("/api/v1/stations/near?lat=134.4&lng=108.65")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("超出范围"), "{v}");
    let (s, page) = anon.text("/stations/near?lat=abc&lng=1").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("数字"));
}

#[tokio::test]
async fn bad_stations_are_refused_and_nothing_is_written() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let (_, towns) = c.get_json("/api/v1/stations/townships").await;
    let town = towns[0]["id"].as_i64().unwrap().to_string();
    let good = json!({
        "org": "SF-01-S1", "kind": "love", "name": "坏数据驿站", "address": "测试路1号",
        "township_id": town, "lat": "34.33", "lng": "108.70", "datum": "wgs84",
        "area_sqm": "30"
    });
    let with = |k: &str, v: &str| {
        let mut b = good.clone();
        b[k] = json!(v);
        b
    };
    let before = (
        count(&server, "stations").await,
        count(&server, "audit_log").await,
        audit_count(&server, "scope.denied").await,
    );
    let cases = [
        (
            with("lat", "108.70")
                .as_object()
                .cloned()
                .map(|mut m| {
                    m.insert("lng".into(), json!("34.33"));
                    Value::Object(m)
                })
                .unwrap(),
            422,
            "填反",
        ),
        (
            with("lat", "-33.86")
                .as_object()
                .cloned()
                .map(|mut m| {
                    m.insert("lng".into(), json!("151.21"));
                    Value::Object(m)
                })
                .unwrap(),
            422,
            "中国境内",
        ),
        (with("lat", "91"), 422, "超出范围"),
        (with("lng", "东经108"), 422, "数字"),
        (with("datum", "wgs-72"), 422, "坐标系"),
        (with("area_sqm", "30.5"), 422, "整数"),
        (with("kind", "加油站"), 422, "阵地类型"),
        (with("township_id", "987654321"), 422, "街道(乡镇)不存在"),
        (with("org", "SF-02-S1"), 404, ""),
        (with("org", "NO-SUCH"), 404, ""),
        (with("opened_on", "2024-13-01"), 422, "建成日期"),
    ];
    for (body, status, want) in cases {
        let (s, v) = c
            .json(Method::POST, "/api/v1/stations", Some(body.clone()))
            .await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        let text = v.to_string();
        assert!(text.contains(want), "{want}: {text}");
        if status == 422 {
            assert!(
                !v["error"]["message_en"].as_str().unwrap().is_empty(),
                "{text}"
            );
        }
    }
    let denied = audit_count(&server, "scope.denied").await - before.2;
    assert_eq!(
        denied, 1,
        "the other county's union; an unknown code is simply absent"
    );
    assert_eq!(
        count(&server, "stations").await,
        before.0,
        "nothing written"
    );
    assert_eq!(
        count(&server, "audit_log").await,
        before.1 + denied,
        "only the scope denials are audited"
    );
    // The form says what is wrong, keeps what was typed, writes nothing.
    let (s, page) = c
        .post_form(
            "/stations",
            &[
                ("org", "SF-01-S1"),
                ("kind", "love"),
                ("name", "表单驿站"),
                ("address", "测试路2号"),
                ("township_id", &town),
                ("lat", "108.70"),
                ("lng", "34.33"),
                ("datum", "gcj02"),
                ("area_sqm", "20"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("填反") && page.contains("表单驿站"), "{page}");
    assert_eq!(count(&server, "stations").await, before.0);
    // Visits: a future day, a negative count, refused; a good one recorded.
    let (_, list) = c.get_json("/api/v1/stations").await;
    let id = list[0]["id"].as_i64().unwrap();
    let tomorrow = (time::today() + chrono::Duration::days(1)).to_string();
    for (on, n, want) in [
        (tomorrow.as_str(), "5", "今天以后"),
        ("2020-13-01", "5", "日期无效"),
        (&time::today().to_string(), "-1", "0 至"),
        (&time::today().to_string(), "很多", "整数"),
    ] {
        let (s, v) = c
            .json(
                Method::POST,
                &format!("/api/v1/stations/{id}/visits"),
                Some(json!({"on_date": on, "visits": n})),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v.to_string().contains(want), "{want}: {v}");
    }
    // A township: a bad county code, a duplicate.
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/stations/townships",
            Some(json!({"org": "SF-01", "county_code": "6104", "name": "测试镇"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let name = towns[0]["name"].as_str().unwrap();
    let (s, v) = c
        .json(
            Method::POST,
            "/api/v1/stations/townships",
            Some(json!({"org": "SF-01", "county_code": "610402", "name": name})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[tokio::test]
async fn visits_move_the_figure_and_scope_hides_other_counties() {
    let server = server().await;
    let c = Client::signed_in(&server, "qinchuan_admin").await;
    let county = org_id(&c, "SF-01").await;
    let year = time::today().year();
    let visits = |t: &Value| figure(t, "stations_visits")["value"].as_i64().unwrap();
    let (_, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={county}&period={year}"
        ))
        .await;
    let before = visits(&t);
    let (_, list) = c.get_json("/api/v1/stations").await;
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list
        .iter()
        .all(|s| s["org_code"].as_str().unwrap().starts_with("SF-01")));
    let id = list[0]["id"].as_i64().unwrap();
    let today = time::today().to_string();
    let (s, v) = c
        .json(
            Method::POST,
            &format!("/api/v1/stations/{id}/visits"),
            Some(json!({"on_date": today, "visits": "1000"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={county}&period={year}"
        ))
        .await;
    assert_eq!(visits(&t), before + 1000, "the cache follows the write");
    // Recording the same day again replaces it.
    c.json(
        Method::POST,
        &format!("/api/v1/stations/{id}/visits"),
        Some(json!({"on_date": today, "visits": "400"})),
    )
    .await;
    let (_, t) = c
        .get_json(&format!(
            "/api/v1/reports/figures?org={county}&period={year}"
        ))
        .await;
    assert_eq!(visits(&t), before + 400);
    let (s, page) = c.text(&format!("/stations/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("400"));
    // The list as xlsx: the same rows as the API, this county's only.
    let r = c
        .http
        .post(format!("{}/stations/export.xlsx?kind=love", c.base))
        .form(&[("_csrf", c.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let table = gonghui::sheet::read_table(&r.bytes().await.unwrap(), 10_000).unwrap();
    let (_, loves) = c.get_json("/api/v1/stations?kind=love").await;
    assert_eq!(table.rows.len(), loves.as_array().unwrap().len());
    assert!(table.rows.iter().all(|r| r.cells[4].starts_with("SF-01")));

    // Another county's station: 404 on every route, as if absent.
    let other: i64 = sqlx::query_scalar(
        "SELECT s.id FROM stations s JOIN orgs o ON o.id = s.org_id WHERE o.code LIKE 'SF-02%' ORDER BY s.id LIMIT 1",
    )
    .fetch_one(server.state().db.pool())
    .await
    .unwrap();
    for path in [
        format!("/api/v1/stations/{other}"),
        format!("/stations/{other}"),
        format!("/stations/{other}/edit"),
    ] {
        let (s, _) = c.text(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    let (s, _) = c
        .json(
            Method::POST,
            &format!("/api/v1/stations/{other}/visits"),
            Some(json!({"on_date": today, "visits": "5"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An auditor reads but does not write.
    let a = Client::signed_in(&server, "sf_auditor").await;
    let (s, _) = a.get_json(&format!("/api/v1/stations/{other}")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = a
        .json(
            Method::POST,
            &format!("/api/v1/stations/{other}/visits"),
            Some(json!({"on_date": today, "visits": "5"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_public_page_is_rate_limited_per_ip() {
    let mut env = testing::demo_orgs_env().await.unwrap();
    std::sync::Arc::make_mut(&mut env.state.cfg).public_per_minute = 5;
    let server = testing::TestServer::start(env).await.unwrap();
    let anon = Client::new(&server);
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(anon.text("/stations/near").await.0);
    }
    assert!(got[..5].iter().all(|s| *s == StatusCode::OK), "{got:?}");
    assert_eq!(got[5], StatusCode::TOO_MANY_REQUESTS);
    let (s, v) = anon
        .get_json("/api/v1/stations/near?lat=34.3&lng=108.7")
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(v.to_string().contains("操作过于频繁"));
}
