//! Roster search latency on a large roster: name prefix (汉字), pinyin,
//! initials, exact ID and exact phone, through `members::store::search` —
//! the same function the page and API call, scope filter and audit write
//! included. Run by `bench/search.sh`, which builds the roster first.
//!
//!   cargo bench --bench search -- DATA_DIR SEED ROWS

use std::time::Instant;

use gonghui::{
    members::{
        gen::Generator,
        store::{self, SearchQuery},
    },
    platform::{
        self,
        config::{Config, Secret},
        scope::Scope,
    },
};

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().filter(|a| a != "--bench").collect();
    let dir = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "gonghui-bench".into());
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(42);
    let rows: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let cfg = Config {
        data_dir: dir.clone().into(),
        master_key: std::env::var("GONGHUI_MASTER_KEY").ok().map(Secret::new),
        log: "error".into(),
        ..Config::default()
    };
    let st = platform::open(cfg, gonghui::modules::registry()).await?;
    let city = gonghui::platform::tree::system_scope(&st.db).await?;
    let county = gonghui::orgs::store::get_by_code(&st.db, &city, "SF-01").await?;
    let county: Scope = city.narrow(county.id, &county.path)?;
    // The same rows the generator wrote (same seed, same day).
    let mut g = Generator::new(
        seed,
        gonghui::demo::grassroots_codes(),
        platform::time::today(),
    );
    let step = (rows / 200).max(1);
    let mut samples = Vec::new();
    for n in 0..rows {
        let r = g.row(n);
        if n % step == 0 {
            samples.push(r);
        }
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships")
        .fetch_one(st.db.pool())
        .await?;
    println!(
        "memberships in the database: {total}; {} sample people",
        samples.len()
    );
    type Make = fn(&gonghui::members::model::RawMember) -> String;
    let kinds: [(&str, Make); 5] = [
        ("name prefix (surname+1 char)", |r| {
            r.name.chars().take(2).collect()
        }),
        ("pinyin prefix", |r| {
            gonghui::members::model::pinyin_of(&r.name)
                .0
                .chars()
                .take(6)
                .collect()
        }),
        ("initials", |r| {
            gonghui::members::model::pinyin_of(&r.name).1
        }),
        ("exact ID number", |r| r.id_number.clone()),
        ("exact phone", |r| r.phone.clone()),
    ];
    for (label, scope) in [("city", &city), ("county SF-01", &county)] {
        for (kind, make) in &kinds {
            let mut ms = Vec::with_capacity(samples.len());
            let mut hits = 0usize;
            for r in &samples {
                let q = SearchQuery {
                    q: make(r),
                    per_page: 20,
                    ..Default::default()
                };
                let t = Instant::now();
                let (found, _) = store::search(&st.db, &st.keys, scope, &q).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
                hits += usize::from(!found.is_empty());
            }
            ms.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{label:<13} {kind:<30} n={:<4} p50={:>7.2} ms  p99={:>7.2} ms  (with results: {hits})",
                ms.len(),
                pct(&ms, 0.5),
                pct(&ms, 0.99)
            );
        }
    }
    Ok(())
}
