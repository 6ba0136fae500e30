//! "附近的驿站" on 10,000 open stations (a province's worth): the query the
//! public page and API run (`stations::store::nearest_open`: an index range
//! of 30 km, exact distances in memory, the ten nearest read back with
//! their township and union), on SQLite in a fresh data directory; and its
//! parts — the in-memory nearest over all 10,000 candidates and the datum
//! transforms. Criterion; figures in BENCHMARKS.md, "附近的驿站".
//!
//!   cargo bench -p gonghui --bench stations

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use gonghui::stations::{
    geo::{self, Candidate, Datum, LatLng},
    store,
};
use rand::{rngs::StdRng, Rng, SeedableRng};

const STATIONS: usize = 10_000;
/// The stations spread over 陕西's Guanzhong plain and beyond (about 300 × 250 km).
const LAT: (f64, f64) = (33.2, 35.4);
const LNG: (f64, f64) = (107.0, 110.4);

fn point(rng: &mut StdRng) -> LatLng {
    LatLng::new(rng.gen_range(LAT.0..LAT.1), rng.gen_range(LNG.0..LNG.1))
}

async fn setup() -> (gonghui::testing::TestEnv, Vec<LatLng>) {
    let env = gonghui::testing::env(gonghui::modules::registry())
        .await
        .unwrap();
    gonghui::demo::seed_orgs_and_accounts(&env.state)
        .await
        .unwrap();
    let db = &env.state.db;
    let org: i64 = sqlx::query_scalar("SELECT id FROM orgs WHERE code = 'SF-01-S1'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let now = gonghui::platform::time::now_rfc3339();
    let town: i64 = sqlx::query_scalar(
        "INSERT INTO station_townships (org_id, county_code, name, created_at) \
         VALUES ($1, '610402', '城关街道', $2) RETURNING id",
    )
    .bind(org)
    .bind(&now)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let mut rng = StdRng::seed_from_u64(2026);
    let mut tx = db.begin_write().await.unwrap();
    for chunk in 0..STATIONS / 500 {
        let mut values = Vec::new();
        for i in 0..500 {
            let (lat, lng) = point(&mut rng).to_e6();
            let n = chunk * 500 + i;
            values.push(format!(
                "({org}, 'love', '驿站{n}', '人民路{n}号', {town}, {lat}, {lng}, 'wgs84', 30, \
                 'water,heat,charge', '每日 7:00–21:00', '', 'open', '2024-01-01', '{now}', '{now}')"
            ));
        }
        sqlx::query(&format!(
            "INSERT INTO stations (org_id, kind, name, address, township_id, lat_e6, lng_e6, datum_in, \
             area_sqm, facilities, hours, phone, status, opened_on, created_at, updated_at) VALUES {}",
            values.join(",")
        ))
        .execute(&mut *tx.tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let asks = (0..256).map(|_| point(&mut rng)).collect();
    (env, asks)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (env, asks) = rt.block_on(setup());
    let db = env.state.db.clone();
    let mut i = 0usize;
    c.bench_function("near: 10 nearest of 10,000 open stations (SQLite)", |b| {
        b.iter(|| {
            i = (i + 1) % asks.len();
            let hits = rt
                .block_on(store::nearest_open(&db, asks[i], 10, None))
                .unwrap();
            black_box(hits)
        })
    });
    // Far from every station: the 30 km range holds too few, all are read.
    let far = LatLng::new(45.75, 126.63);
    c.bench_function("near: fallback to all 10,000 (SQLite)", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(store::nearest_open(&db, far, 10, None))
                    .unwrap(),
            )
        })
    });
    let mut rng = StdRng::seed_from_u64(7);
    let candidates: Vec<Candidate> = (0..STATIONS as i64)
        .map(|id| {
            let (lat_e6, lng_e6) = point(&mut rng).to_e6();
            Candidate { id, lat_e6, lng_e6 }
        })
        .collect();
    c.bench_function("geo::nearest: 10 of 10,000 in memory", |b| {
        b.iter(|| black_box(geo::nearest(black_box(asks[0]), &candidates, 10)))
    });
    let p = LatLng::new(34.3296, 108.7060);
    c.bench_function("geo: WGS-84 → GCJ-02", |b| {
        b.iter(|| black_box(geo::wgs_to_gcj(black_box(p))))
    });
    c.bench_function("geo: BD-09 → WGS-84 (iterated)", |b| {
        b.iter(|| black_box(geo::to_wgs(black_box(p), Datum::Bd09)))
    });
    drop(env);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench
}
criterion_main!(benches);
