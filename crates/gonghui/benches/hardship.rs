//! 帮扶救助 at the scale of issue 12 ("Speed"): "A bulk disbursement of
//! 10,000 people, with the cross-instance double-help check against
//! 1,000,000 members and 100,000 past disbursements: under 10 s on SQLite.
//! The 重复救助 check for one application: under 5 ms."
//!
//! Setup (deterministic, see `setup`):
//! - the demo org tree and accounts;
//! - 1,000,000 members (`GONGHUI_BENCH_MEMBERS`) through the roster's own
//!   bulk path: rows from `members::gen::Generator` (seed 42, fixed date),
//!   written to a CSV exactly as `gonghui gen members` does, then imported by
//!   `members::import::run` (what `gonghui import members` calls; on SQLite
//!   its `sqlite_bulk` writer) — as `bench/search.sh` builds its roster;
//! - 100,000 past disbursements (`GONGHUI_BENCH_GRANTS`), written through
//!   the product's path, `hardship::grants::apply_in` (the keyed ID hashes,
//!   allocations, audit and review submission are the product's own), in
//!   applications of 2,000 people by unions across the city: 80 % of them
//!   in three earlier campaigns (2024 and 2025 夏送清凉, 2026 春送岗位,
//!   their batches then marked paid as `pay_in` would after approval) and
//!   20 % in the campaign under test (2026 夏送清凉, left under review), so
//!   the check has real competition in the unique index;
//! - every list is 80 % roster members and 20 % workers outside the roster
//!   (夏送清凉 helps any worker by name and ID): the check goes by the keyed
//!   ID hash, not by membership.
//!
//! On SQLite the database after setup is kept in
//! `$CARGO_TARGET_DIR/bench-hardship/` (`GONGHUI_BENCH_DIR`) and copied for
//! each run; `GONGHUI_BENCH_REGEN=1` rebuilds it. With
//! `GONGHUI_TEST_DATABASE_URL` set the bench runs on PostgreSQL instead (a
//! fresh database, built every run).
//!
//! Measured:
//! - `apply_10000`: one application of 10,000 new people (8,000 members,
//!   2,000 non-members) through `hardship::grants::apply`, whole;
//! - `apply_1`: one application of one new member, whole;
//! - `check_1`: the 重复救助 check alone (`grants::helped_before`, the
//!   indexed lookup `write_batch` runs in its transaction; here on a pooled
//!   connection outside a transaction), one person not helped yet (the usual
//!   answer; the check stops at the first person found), cycling through
//!   10,000 such people;
//! - `check_10000`: the same check for those 10,000 people at once (20
//!   statements of 500 hashes);
//! - `prepare_10000`: `grants::prepare` alone for 10,000 new people (the
//!   lines' checks before the write transaction), to see where time goes.
//!
//!   cargo bench -p gonghui --bench hardship --profile dev
//!
//! Figures in crates/hardship/BENCH.md.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use gonghui::{
    hardship::grants::{self, ApplyInput, CampaignId, CampaignInput, GrantInput},
    members::{gen::Generator, import},
    platform::{
        ids::OrgId,
        scope::{Actor, Role, Scope},
        tree,
        web::AppState,
    },
    testing,
};
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use sqlx::Executor;

/// The roster generator's seed and "today" (fixed, so a kept database
/// matches the people the bench regenerates).
const SEED: u64 = 42;
const GEN_DAY: (i32, u32, u32) = (2026, 6, 30);
/// People per application when writing the past disbursements.
const PAST_BATCH: usize = 2_000;
/// Of the past disbursements, the share in the campaign under test.
const UNDER_TEST_SHARE: f64 = 0.2;
const UNDER_TEST: &str = "基准测试2026年夏送清凉";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A valid resident ID outside the generator's regions (610331 is not one
/// of them): a worker who is not in the roster.
fn outsider_id(n: usize) -> String {
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

/// A person on a list: (name, ID number).
type Person = (String, String);

/// The people lists are drawn from, in a fixed shuffled order.
struct People {
    members: Vec<Person>,
    /// Next unused member / outsider for the campaign under test.
    next_member: usize,
    next_outsider: usize,
}

impl People {
    /// The roster's people (first occurrence of each ID, as the import keeps
    /// them), shuffled with a fixed seed.
    fn new(members: usize) -> People {
        let day = chrono::NaiveDate::from_ymd_opt(GEN_DAY.0, GEN_DAY.1, GEN_DAY.2).unwrap();
        let mut g = Generator::new(SEED, gonghui::demo::grassroots_codes(), day);
        let mut seen = HashSet::with_capacity(members);
        let mut out = Vec::with_capacity(members);
        for n in 0..members as u64 {
            let r = g.row(n);
            if seen.insert(r.id_number.clone()) {
                out.push((r.name, r.id_number));
            }
        }
        out.shuffle(&mut StdRng::seed_from_u64(7));
        People {
            members: out,
            next_member: 0,
            next_outsider: 0,
        }
    }

    /// `n` people never helped in the campaign under test: 4 in 5 roster
    /// members, 1 in 5 outsiders, interleaved as on a union's list.
    fn fresh(&mut self, n: usize) -> Vec<GrantInput> {
        (0..n)
            .map(|i| {
                let (name, id) = if i % 5 == 4 {
                    let k = self.next_outsider;
                    self.next_outsider += 1;
                    (format!("职工{k}"), outsider_id(k))
                } else {
                    let p = self.members.get(self.next_member).cloned().expect(
                        "the roster has no unused member left: run with fewer samples or more members",
                    );
                    self.next_member += 1;
                    p
                };
                GrantInput {
                    name,
                    id_number: id,
                    ..Default::default()
                }
            })
            .collect()
    }

    /// `n` people for an earlier campaign: a sample of the roster and of
    /// outsiders (the same people may be helped again in another campaign).
    fn sample(&self, rng: &mut StdRng, n: usize) -> Vec<GrantInput> {
        let outsiders = n / 5;
        let mut out: Vec<GrantInput> =
            rand::seq::index::sample(rng, self.members.len(), n - outsiders)
                .into_iter()
                .map(|i| {
                    let (name, id) = self.members[i].clone();
                    GrantInput {
                        name,
                        id_number: id,
                        ..Default::default()
                    }
                })
                .collect();
        // Outsiders of earlier campaigns: far above those the campaign
        // under test takes (which start at 0).
        for k in rand::seq::index::sample(rng, 2_000_000, outsiders) {
            out.push(GrantInput {
                name: format!("职工{}", 3_000_000 + k),
                id_number: outsider_id(3_000_000 + k),
                ..Default::default()
            });
        }
        out
    }
}

fn staff(union: i64, path: String) -> Scope {
    Scope::new(Actor::system("bench"), OrgId(union), path, Role::Staff, "")
}

async fn create(st: &AppState, city: &Scope, kind: &str, name: &str, year: i32) -> CampaignId {
    grants::create_campaign(
        &st.db,
        city,
        &CampaignInput {
            kind: kind.into(),
            name: name.into(),
            starts_on: format!("{year}-01-01"),
            ends_on: format!("{year}-12-31"),
            standard_fen: 50_000,
            budget_fen: 50_000 * 10_000_000,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// Writes the roster and the past disbursements (see the file's head).
async fn build(st: &AppState, people: &mut People, members: usize, past: usize) {
    let t = Instant::now();
    let city = tree::system_scope(&st.db).await.unwrap();
    // The roster, as `gonghui gen members` + `gonghui import members`.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("members.csv");
    {
        use std::io::Write;
        let day = chrono::NaiveDate::from_ymd_opt(GEN_DAY.0, GEN_DAY.1, GEN_DAY.2).unwrap();
        let mut g = Generator::new(SEED, gonghui::demo::grassroots_codes(), day);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&csv_path).unwrap());
        file.write_all("\u{feff}".as_bytes()).unwrap();
        let mut w = csv::Writer::from_writer(file);
        w.write_record(import::template_headers()).unwrap();
        for n in 0..members as u64 {
            w.write_record(g.row(n).cells()).unwrap();
        }
        w.flush().unwrap();
    }
    let opts = import::Options {
        org_code: None,
        all_or_nothing: false,
        file_name: "members.csv".into(),
    };
    let job = import::create_job(st, &city, &opts).await.unwrap();
    let progress = st.jobs.start(job);
    let report = import::run(st, &city, job, csv_path, &opts, progress)
        .await
        .unwrap();
    eprintln!(
        "roster: {} ({:.0} s)",
        report.counts,
        t.elapsed().as_secs_f64()
    );

    // The past disbursements, through the product's path.
    let unions: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, path FROM orgs WHERE level = 'grassroots' ORDER BY id")
            .fetch_all(st.db.pool())
            .await
            .unwrap();
    let under_test = create(st, &city, "summer", UNDER_TEST, 2026).await;
    let earlier = [
        create(st, &city, "summer", "基准测试2024年夏送清凉", 2024).await,
        create(st, &city, "summer", "基准测试2025年夏送清凉", 2025).await,
        create(st, &city, "jobs", "基准测试2026年春送岗位", 2026).await,
    ];
    let in_test = (past as f64 * UNDER_TEST_SHARE) as usize;
    let per_earlier = (past - in_test) / earlier.len();
    let mut rng = StdRng::seed_from_u64(12);
    let mut u = 0usize;
    let mut next_union = || {
        u = (u + 37) % unions.len();
        unions[u].clone()
    };
    let apply = |cid: CampaignId, org: (i64, String), people: Vec<GrantInput>| async move {
        let scope = staff(org.0, org.1);
        let c = grants::campaign(&st.db, &scope, cid).await.unwrap();
        let node = tree::node(&st.db, &scope, OrgId(org.0)).await.unwrap();
        let input = ApplyInput {
            campaign_id: cid.0,
            org_id: Some(org.0),
            title: String::new(),
            people,
        };
        // `apply` without the campaign's period: the earlier ones ended.
        grants::apply_in(st, &scope, &c, &node, &input)
            .await
            .unwrap();
    };
    for (i, cid) in earlier.into_iter().enumerate() {
        // The last earlier campaign takes the remainder: `past` in all.
        let n = if i == 2 {
            past - in_test - 2 * per_earlier
        } else {
            per_earlier
        };
        let all = people.sample(&mut rng, n);
        for chunk in all.chunks(PAST_BATCH) {
            apply(cid, next_union(), chunk.to_vec()).await;
        }
        // Approved and paid, as the review chain's `on_decided` and `pay_in`
        // leave them.
        for sql in [
            "UPDATE review_items SET status = 'approved', waiting_org_id = NULL \
             WHERE kind = 'hardship_batch' AND record_id IN (SELECT id FROM hardship_batches WHERE campaign_id = $1)",
            "UPDATE hardship_batches SET status = 'paid', paid_on = '2025-12-20', pay_method = '银行转账', handler = '基准' WHERE campaign_id = $1",
            "UPDATE hardship_grants SET status = 'paid', paid_on = '2025-12-20' WHERE campaign_id = $1",
        ] {
            sqlx::query(sql)
                .bind(cid.0)
                .execute(st.db.pool())
                .await
                .unwrap();
        }
    }
    let mut left = in_test;
    while left > 0 {
        let n = left.min(PAST_BATCH);
        let list = people.fresh(n);
        apply(under_test, next_union(), list).await;
        left -= n;
    }
    eprintln!(
        "past disbursements written ({:.0} s in all)",
        t.elapsed().as_secs_f64()
    );
}

struct Setup {
    st: AppState,
    people: Mutex<People>,
    campaign: CampaignId,
    /// The applying union (a grassroots union under a county: the two-step
    /// review chain) and its staff's scope.
    union: i64,
    grassroots: Scope,
    _env: testing::TestEnv,
}

async fn setup() -> Setup {
    let members = env_usize("GONGHUI_BENCH_MEMBERS", 1_000_000);
    let past = env_usize("GONGHUI_BENCH_GRANTS", 100_000);
    let t = Instant::now();
    let mut people = People::new(members);
    let postgres = std::env::var("GONGHUI_TEST_DATABASE_URL").is_ok();
    let kept = PathBuf::from(std::env::var("GONGHUI_BENCH_DIR").unwrap_or_else(|_| {
        format!(
            "{}/bench-hardship",
            std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into())
        )
    }))
    .join(format!("hardship-{members}-{past}.db"));
    let regen = std::env::var("GONGHUI_BENCH_REGEN").is_ok_and(|v| v == "1");
    let env = if !postgres && kept.is_file() && !regen {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&kept, dir.path().join("gonghui.db")).unwrap();
        let env = testing::open_env(dir, None, gonghui::modules::registry())
            .await
            .unwrap();
        // The people the setup gave grants in the campaign under test.
        people.fresh((past as f64 * UNDER_TEST_SHARE) as usize);
        env
    } else {
        let env = testing::demo_orgs_env().await.unwrap();
        build(&env.state, &mut people, members, past).await;
        if !postgres {
            env.state
                .db
                .pool()
                .execute("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .unwrap();
            std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
            std::fs::copy(env.dir.path().join("gonghui.db"), &kept).unwrap();
        }
        env
    };
    let st = env.state.clone();
    let pool = st.db.pool();
    sqlx::query("ANALYZE").execute(pool).await.ok();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let campaign: i64 = sqlx::query_scalar("SELECT id FROM hardship_campaigns WHERE name = $1")
        .bind(UNDER_TEST)
        .fetch_one(pool)
        .await
        .unwrap();
    let in_campaign: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hardship_grants WHERE campaign_id = $1")
            .bind(campaign)
            .fetch_one(pool)
            .await
            .unwrap();
    eprintln!(
        "setup ({}, {:.0} s): persons {}, memberships {}, hardship_grants {} ({} in the campaign under test), campaigns {}",
        if postgres { "PostgreSQL" } else { "SQLite" },
        t.elapsed().as_secs_f64(),
        count("SELECT COUNT(*) FROM persons").await,
        count("SELECT COUNT(*) FROM memberships").await,
        count("SELECT COUNT(*) FROM hardship_grants").await,
        in_campaign,
        count("SELECT COUNT(*) FROM hardship_campaigns").await,
    );
    let (union, path): (i64, String) =
        sqlx::query_as("SELECT id, path FROM orgs WHERE code = 'SF-01-S1-001'")
            .fetch_one(pool)
            .await
            .unwrap();
    Setup {
        st,
        people: Mutex::new(people),
        campaign: CampaignId(campaign),
        union,
        grassroots: staff(union, path),
        _env: env,
    }
}

impl Setup {
    fn fresh(&self, n: usize) -> Vec<GrantInput> {
        self.people.lock().unwrap().fresh(n)
    }

    /// One whole application of `n` new people, timed.
    async fn apply(&self, n: usize) -> Duration {
        let input = ApplyInput {
            campaign_id: self.campaign.0,
            org_id: Some(self.union),
            title: String::new(),
            people: self.fresh(n),
        };
        let t = Instant::now();
        grants::apply(&self.st, &self.grassroots, &input)
            .await
            .unwrap();
        t.elapsed()
    }

    /// `grants::prepare` alone for `n` new people, timed.
    async fn prepare(&self, n: usize) -> Duration {
        let people = self.fresh(n);
        let c = grants::campaign(&self.st.db, &self.grassroots, self.campaign)
            .await
            .unwrap();
        let t = Instant::now();
        let lines = grants::prepare(&self.st, &self.grassroots, &c, &people)
            .await
            .unwrap();
        let d = t.elapsed();
        assert_eq!(lines.len(), n);
        d
    }

    /// Keyed ID hashes of `n` people never helped in the campaign under
    /// test (as `prepare` computes them), for the checks alone: the check
    /// writes nothing, so they stay unhelped and are reused.
    fn probes(&self, n: usize) -> Vec<String> {
        self.fresh(n)
            .iter()
            .map(|p| gonghui::platform::person::id_lookup_hash(&self.st.keys, &p.id_number))
            .collect()
    }

    /// The 重复救助 check alone for `hashes`, timed; must find nobody.
    async fn check(&self, hashes: &[String]) -> Duration {
        let refs: Vec<&str> = hashes.iter().map(String::as_str).collect();
        let mut conn = self.st.db.pool().acquire().await.unwrap();
        let t = Instant::now();
        let found = grants::helped_before(&mut conn, self.campaign, &refs)
            .await
            .unwrap();
        let d = t.elapsed();
        assert!(found.is_none());
        d
    }
}

fn timed<F: std::future::Future<Output = Duration>>(
    rt: &tokio::runtime::Runtime,
    iters: u64,
    mut f: impl FnMut() -> F,
) -> Duration {
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            total += f().await;
        }
        total
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(setup());
    // A helped person is found (the check's other answer).
    rt.block_on(async {
        let hash: String = sqlx::query_scalar(
            "SELECT id_hash FROM hardship_grants WHERE campaign_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(s.campaign.0)
        .fetch_one(s.st.db.pool())
        .await
        .unwrap();
        let mut conn = s.st.db.pool().acquire().await.unwrap();
        let found = grants::helped_before(&mut conn, s.campaign, &[hash.as_str()])
            .await
            .unwrap();
        assert!(found.is_some());
    });
    let mut g = c.benchmark_group("hardship");
    // Flat sampling: one application per sample for the slow cases (each
    // takes 8,000 unused members of the roster).
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30));
    g.bench_function("apply_10000", |b| {
        b.iter_custom(|iters| timed(&rt, iters, || s.apply(10_000)))
    });
    g.sample_size(50)
        .sampling_mode(SamplingMode::Auto)
        .measurement_time(Duration::from_secs(10));
    g.bench_function("apply_1", |b| {
        b.iter_custom(|iters| timed(&rt, iters, || s.apply(1)))
    });
    // Where an application's time goes: the lines' checks alone (`prepare`:
    // each ID parsed and hashed, the open-file lookup per person, the
    // campaign's rule), no write.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(20));
    g.bench_function("prepare_10000", |b| {
        b.iter_custom(|iters| timed(&rt, iters, || s.prepare(10_000)))
    });
    g.sample_size(50)
        .sampling_mode(SamplingMode::Auto)
        .measurement_time(Duration::from_secs(10));
    let probes = s.probes(10_000);
    let mut k = 0usize;
    g.bench_function("check_1", |b| {
        b.iter_custom(|iters| {
            timed(&rt, iters, || {
                k = (k + 1) % probes.len();
                s.check(&probes[k..=k])
            })
        })
    });
    g.sample_size(10).sampling_mode(SamplingMode::Flat);
    g.bench_function("check_10000", |b| {
        b.iter_custom(|iters| timed(&rt, iters, || s.check(&probes)))
    });
    g.finish();
    rt.block_on(async {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM hardship_grants WHERE campaign_id = $1")
                .bind(s.campaign.0)
                .fetch_one(s.st.db.pool())
                .await
                .unwrap();
        eprintln!("grants in the campaign under test at the end: {n}");
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
