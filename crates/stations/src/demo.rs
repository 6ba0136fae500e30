//! The demo's stations: the streets/townships of the five demo counties
//! (their street unions' 街道/镇 and two townships kept by each county), and
//! about forty stations of every kind around the counties' seats (the demo
//! counties carry 咸阳's GB/T 2260 codes, so the places are near 咸阳's
//! districts), some typed in GCJ-02 as copied from 高德, some in BD-09, with
//! daily visits over the last 400 days. Fixed seed; re-running adds nothing.

use chrono::Duration;
use rand::{rngs::StdRng, Rng, SeedableRng};

use crate::{
    geo::{self, Datum, LatLng},
    model::{StationFields, TownshipFields},
    store,
};
use platform::{dataver, time, tree, web::AppState};

/// (county code, GB/T 2260 code, seat centre in WGS-84) of the demo counties.
const COUNTIES: &[(&str, &str, f64, f64)] = &[
    ("SF-01", "610402", 34.3296, 108.7060),
    ("SF-02", "610404", 34.3617, 108.7370),
    ("SF-03", "610481", 34.2990, 108.4906),
    ("SF-04", "610422", 34.6173, 108.9403),
    ("SF-05", "610423", 34.5275, 108.8426),
];

/// The demo org tree's streets (orgs::demo::STREETS), in order S1..S4.
const STREETS: &[&str] = &["城关街道", "东关街道", "西兰街道", "北塬镇"];
/// Townships with no street union of their own: kept by the county.
const RURAL: &[&str] = &["南坡镇", "河湾乡"];

const ROADS: &[&str] = &[
    "人民路",
    "渭阳路",
    "文林路",
    "乐育路",
    "世纪大道",
    "迎宾大道",
    "中华路",
    "建设路",
    "东风路",
    "育才路",
];

/// (kind, name pattern, area range, facilities)
const PLANS: &[(&str, &str, (i64, i64), &str)] = &[
    (
        "love",
        "{}环卫工人爱心驿站",
        (18, 45),
        "water,heat,charge,toilet,rest,firstaid",
    ),
    (
        "love",
        "{}户外劳动者服务站",
        (20, 60),
        "water,heat,charge,rest,firstaid,wifi",
    ),
    (
        "maternal",
        "{}母婴关爱室",
        (10, 25),
        "water,rest,nursing,aircon",
    ),
    (
        "driver",
        "{}司机之家",
        (60, 200),
        "water,heat,charge,toilet,rest,wifi,repair",
    ),
    (
        "library",
        "{}职工书屋",
        (40, 120),
        "water,rest,books,wifi,aircon",
    ),
    (
        "love",
        "{}快递小哥爱心驿站",
        (15, 35),
        "water,heat,charge,rest",
    ),
    (
        "centre",
        "{}职工服务中心",
        (300, 1200),
        "water,toilet,rest,firstaid,wifi,aircon,books",
    ),
];

pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let db = &st.db;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM station_townships")
        .fetch_one(db.pool())
        .await?;
    if existing > 0 {
        return Ok(());
    }
    let scope = tree::system_scope(db).await?;
    let mut rng = StdRng::seed_from_u64(orgs_seed() ^ 0x57A7_1045);
    let today = time::today();
    for (ci, (county, region, lat, lng)) in COUNTIES.iter().enumerate() {
        if orgs::store::get_by_code_unscoped(db, county)
            .await?
            .is_none()
        {
            continue;
        }
        let seat = LatLng::new(*lat, *lng);
        // Townships: the streets east, west, north … of the seat.
        let mut townships = Vec::new();
        for (si, name) in STREETS.iter().chain(RURAL).enumerate() {
            let angle = si as f64 * 1.1;
            let r = if si < STREETS.len() { 0.02 } else { 0.07 };
            let centre = LatLng::new(seat.lat + r * angle.sin(), seat.lng + r * angle.cos());
            let org = if si < STREETS.len() {
                format!("{county}-S{}", si + 1)
            } else {
                county.to_string()
            };
            let t = store::create_township(
                db,
                &scope,
                &TownshipFields {
                    org_code: org.clone(),
                    county_code: region.to_string(),
                    name: name.to_string(),
                    centre: Some(centre),
                },
            )
            .await?;
            townships.push((t.id, org, centre));
        }
        // Stations in the first three streets (the fourth street and the
        // rural townships are the service circle's gaps), one 司机之家 of
        // the transport industry union in the first county.
        let per_county = 7 + ci % 3;
        for k in 0..per_county {
            let (kind, pattern, (amin, amax), facilities) = PLANS[(k + ci) % PLANS.len()];
            let street = k % 3;
            let (township_id, street_org, centre) = &townships[street];
            let owner = if ci == 0 && k == 0 {
                // The demo's grassroots clerk (jc_clerk) has a station of its own.
                format!("{street_org}-001")
            } else if kind == "driver" && ci == 0 {
                "SF-I3".to_string()
            } else if k % 2 == 0 {
                street_org.clone()
            } else {
                format!("{street_org}-{:03}", rng.gen_range(1..=12))
            };
            let p = LatLng::new(
                centre.lat + rng.gen_range(-0.008..0.008),
                centre.lng + rng.gen_range(-0.01..0.01),
            );
            // As typed: a third from 高德 (GCJ-02), some from 百度, the rest GPS.
            let datum = match k % 3 {
                0 => Datum::Gcj02,
                1 => Datum::Wgs84,
                _ => Datum::Bd09,
            };
            let typed = geo::from_wgs(p, datum);
            let point = geo::to_wgs(typed, datum);
            let street_name = STREETS[street];
            let name = pattern.replace("{}", street_name);
            let road = ROADS[rng.gen_range(0..ROADS.len())];
            let opened_on = today - Duration::days(rng.gen_range(60..1500));
            let status = if k == per_county - 1 && ci % 2 == 1 {
                "paused"
            } else {
                "open"
            };
            let f = StationFields {
                org_code: owner,
                kind,
                name: format!("{name}{}", if k >= PLANS.len() { "二站" } else { "" }),
                address: format!("{street_name}{road}{}号", rng.gen_range(1..300)),
                township_id: *township_id,
                point,
                datum_in: datum,
                area_sqm: rng.gen_range(amin..=amax),
                facilities: facilities
                    .split(',')
                    .filter_map(|f| {
                        crate::model::FACILITIES
                            .iter()
                            .find(|(k, ..)| *k == f)
                            .map(|(k, ..)| *k)
                    })
                    .collect(),
                hours: if kind == "centre" {
                    "周一至周五 9:00–17:30".into()
                } else {
                    "每日 7:00–21:00".into()
                },
                phone: format!("029-3{:07}", rng.gen_range(0..10_000_000)),
                status,
                opened_on,
                closed_on: None,
            };
            let s = store::create(db, &scope, &f).await?;
            seed_visits(st, s.id, s.org_id.0, opened_on, &mut rng).await?;
        }
    }
    Ok(())
}

fn orgs_seed() -> u64 {
    orgs::demo::SEED
}

/// Daily visits since the later of opening and 400 days ago: one statement
/// per station, one transaction, the org's data version bumped once.
async fn seed_visits(
    st: &AppState,
    station: store::StationId,
    org: i64,
    opened_on: chrono::NaiveDate,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let today = time::today();
    let from = opened_on.max(today - Duration::days(400));
    let base = rng.gen_range(8..40);
    let now = time::now_rfc3339();
    let mut values = Vec::new();
    let mut d = from;
    while d < today {
        let n = base + rng.gen_range(0..base);
        values.push(format!(
            "({}, {org}, (SELECT region_root FROM orgs WHERE id = {org}), '{d}', {n}, '{now}')",
            station.0
        ));
        d += Duration::days(1);
    }
    if values.is_empty() {
        return Ok(());
    }
    let mut tx = st.db.begin_write().await?;
    for chunk in values.chunks(200) {
        // Every value is an integer or a date made here: nothing typed.
        sqlx::query(&format!(
            "INSERT INTO station_visits (station_id, org_id, region_root, on_date, visits, recorded_at) VALUES {}",
            chunk.join(",")
        ))
        .execute(&mut *tx.tx)
        .await?;
    }
    dataver::touch(&mut tx.tx, [org]).await?;
    tx.commit().await?;
    Ok(())
}
