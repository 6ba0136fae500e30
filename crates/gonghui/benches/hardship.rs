//! 帮扶救助 hot paths, through `hardship::grants::apply` — the function the
//! API calls: the checks, the cross-instance 重复救助 check, the allocations,
//! the batch written whole, its audit entry and its submission up the review
//! chain.
//! - `bulk_5000`: one application of 5,000 people (fresh people each time);
//! - `single_after_bulk`: one person, against a campaign already holding the
//!   grants of every earlier iteration (≥ 25,000 people).
//!
//! Figures in BENCHMARKS.md, "Hardship disbursements".
//!   cargo bench -p gonghui --bench hardship

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use criterion::{criterion_group, criterion_main, Criterion};
use gonghui::{
    hardship::grants::{self, ApplyInput, CampaignInput, GrantInput},
    platform::{ids::OrgId, scope::Scope, tree, web::AppState},
    testing,
};

/// A valid ID number, distinct for every `n`.
fn id_no(n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8] = b"10X98765432";
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()
        + chrono::Duration::days((n / 1000) as i64);
    let body = format!("610331{}{:03}", birth.format("%Y%m%d"), n % 1000);
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize] as char)
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

fn people(n: usize) -> Vec<GrantInput> {
    (0..n)
        .map(|_| {
            let i = NEXT.fetch_add(1, Ordering::Relaxed);
            GrantInput {
                name: format!("工人{i}"),
                id_number: id_no(i),
                ..Default::default()
            }
        })
        .collect()
}

struct Setup {
    st: AppState,
    grassroots: Scope,
    campaign: i64,
    union: i64,
    _env: testing::TestEnv,
}

async fn setup() -> Setup {
    let env = testing::demo_orgs_env().await.unwrap();
    let st = env.state.clone();
    let city = tree::system_scope(&st.db).await.unwrap();
    let year = chrono::Datelike::year(&gonghui::platform::time::today());
    let campaign = grants::create_campaign(
        &st.db,
        &city,
        &CampaignInput {
            // 夏送清凉: any worker by ID (送温暖 needs a file).
            kind: "summer".into(),
            name: "基准测试夏送清凉".into(),
            starts_on: format!("{year}-01-01"),
            ends_on: format!("{year}-12-31"),
            standard_fen: 50_000,
            budget_fen: 50_000 * 10_000_000,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (union, path): (i64, String) =
        sqlx::query_as("SELECT id, path FROM orgs WHERE code = 'SF-01-S1-001'")
            .fetch_one(st.db.pool())
            .await
            .unwrap();
    let grassroots = Scope::new(
        gonghui::platform::scope::Actor::system("bench"),
        OrgId(union),
        path,
        gonghui::platform::scope::Role::Staff,
        "",
    );
    Setup {
        st,
        grassroots,
        campaign: campaign.0,
        union,
        _env: env,
    }
}

async fn apply(s: &Setup, n: usize) -> Duration {
    let input = ApplyInput {
        campaign_id: s.campaign,
        org_id: Some(s.union),
        title: String::new(),
        people: people(n),
    };
    let t = Instant::now();
    grants::apply(&s.st, &s.grassroots, &input).await.unwrap();
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(setup());
    let mut g = c.benchmark_group("hardship");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("bulk_5000", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += apply(&s, 5_000).await;
                }
                total
            })
        })
    });
    g.bench_function("single_after_bulk", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += apply(&s, 1).await;
                }
                total
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
