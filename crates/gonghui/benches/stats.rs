//! Statistics benchmark (see BENCHMARKS.md, "Statistics"; run `bench/stats.sh`).
//!
//! 1. Builds the demo org tree and N members (default 1,000,000; env
//!    `GONGHUI_BENCH_MEMBERS`) with their memberships and 会籍变化 events in a
//!    SQLite database under `GONGHUI_BENCH_DIR` (default
//!    `target/bench-stats`), bulk-inserted; reused on later runs unless
//!    `GONGHUI_BENCH_REGEN=1`.
//! 2. Times the whole figures table (every indicator, this year and last,
//!    breakdown by child org) for the city and for one grassroots union, and
//!    the city's monthly trend: uncached (every value from the records),
//!    with a cold cache, a warm cache, and after one member was enrolled in
//!    one union (one org stale); reports medians and checks the cached
//!    results against the records. The members it enrols are removed again.
//!    Also the naive plan (one COUNT query per indicator and period) for the
//!    before/after comparison.
//! 3. Hands the same member definitions to `bench/duckdb_stats.py`, which
//!    exports the same data to CSV and Parquet, computes the same member
//!    figures in DuckDB and reports its medians; the figures must be equal.

use std::{path::PathBuf, time::Instant};

use gonghui::{
    members::store,
    orgs::store as orgs,
    platform::{
        config::{Config, Secret},
        dataver,
        indicator::Definition,
        scope::{Actor, Scope},
    },
    reports::{figures, period::Period},
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::Executor;

const EDU: &[&str] = &[
    "研究生(博士)",
    "研究生(硕士)",
    "大学本科",
    "大学本科",
    "大学专科",
    "大学专科",
    "中等专科",
    "职业高中",
    "技工学校",
    "普通高中",
    "普通高中",
    "初中",
    "初中",
    "小学",
    "其他",
    "",
];
const NEG: &[&str] = &[
    "快递员",
    "外卖送餐员",
    "货车司机",
    "网约车司机",
    "家政服务员",
    "护工护理员",
    "保安员",
    "商场信息员",
    "其他新就业形态",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn date(rng: &mut StdRng, from: i32, to: i32) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.gen_range(from..=to),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

/// Literal period tokens, for the naive plan and for DuckDB.
fn literal(when: &str, p: &Period) -> String {
    when.replace("{start}", &format!("'{}'", p.start))
        .replace("{end_at}", &format!("'{}'", p.end_instant()))
        .replace("{end}", &format!("'{}'", p.end))
        .replace("{born36}", &format!("'{}'", p.born_by_for_age(36)))
        .replace("{born46}", &format!("'{}'", p.born_by_for_age(46)))
        .replace("{born55}", &format!("'{}'", p.born_by_for_age(55)))
}

async fn generate(db: &gonghui::platform::db::Db, n: usize) -> anyhow::Result<()> {
    let unions: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM orgs WHERE level = 'grassroots' ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let mut rng = StdRng::seed_from_u64(20261121);
    // Union sizes vary a lot: weight each union.
    let weights: Vec<u32> = unions.iter().map(|_| rng.gen_range(1..=20)).collect();
    let total_w: u32 = weights.iter().sum();
    let mut pick = Vec::with_capacity(total_w as usize);
    for (u, w) in unions.iter().zip(&weights) {
        for _ in 0..*w {
            pick.push(*u);
        }
    }
    let now = "2026-11-21T00:00:00.000000Z";
    let mut conn = db.pool().acquire().await?;
    conn.execute("PRAGMA synchronous = OFF").await?;
    let chunk = 1000;
    let started = Instant::now();
    let mut i = 0usize;
    let mut event_id = 0usize;
    while i < n {
        let end = (i + chunk).min(n);
        let mut persons = String::from(
            "INSERT INTO persons (id, name, name_pinyin, name_initials, id_kind, id_hash, id_enc, id_masked, gender, birth_date, \
             phone_masked, education, migrant, new_employment_group, row_hash, created_at, updated_at) VALUES ",
        );
        let mut members = String::from(
            "INSERT INTO memberships (id, person_id, org_id, member_no, status, joined_on, ended_on, activated_at, created_at, updated_at) VALUES ",
        );
        let mut events = String::from(
            "INSERT INTO membership_events (id, membership_id, person_id, org_id, kind, on_date, created_at) VALUES ",
        );
        let mut touched = Vec::new();
        for k in i..end {
            let id = k + 1;
            let sep = if k == i { "" } else { "," };
            let gender = if rng.gen_bool(0.46) { "female" } else { "male" };
            let birth = date(&mut rng, 1962, 2006);
            let edu = EDU[rng.gen_range(0..EDU.len())];
            let migrant = i64::from(rng.gen_bool(0.22));
            let neg = if rng.gen_bool(0.07) {
                NEG[rng.gen_range(0..NEG.len())]
            } else {
                ""
            };
            persons.push_str(&format!(
                "{sep}({id}, '会员{id}', 'huiyuan', 'hy', 'resident', 'h{id}', 'enc', '6104**********{:03}X', '{gender}', '{birth}', \
                 '138****{:04}', '{edu}', {migrant}, '{neg}', 'r', '{now}', '{now}')",
                id % 1000,
                id % 10000
            ));
            let org = pick[rng.gen_range(0..pick.len())];
            touched.push(org);
            let joined = date(&mut rng, 2000, 2026).min("2026-10-31".into());
            let roll = rng.gen_range(0..100);
            let (status, ended) = if roll < 9 {
                let e = date(&mut rng, 2001, 2026)
                    .max(joined.clone())
                    .min("2026-10-31".into());
                ("ended", Some(e))
            } else if roll < 11 {
                ("retained", None)
            } else {
                ("active", None)
            };
            let activated = if ended.is_none() && rng.gen_bool(0.3) {
                format!(
                    "'2026-{:02}-{:02}T08:00:00.000000Z'",
                    rng.gen_range(1..=10),
                    rng.gen_range(1..=28)
                )
            } else {
                "NULL".into()
            };
            let ended_sql = ended
                .as_ref()
                .map_or("NULL".to_string(), |e| format!("'{e}'"));
            members.push_str(&format!(
                "{sep}({id}, {id}, {org}, 'B{id}', '{status}', '{joined}', {ended_sql}, {activated}, '{now}', '{now}')"
            ));
            event_id += 1;
            let esep = if k == i { "" } else { "," };
            let first = if rng.gen_bool(0.1) {
                "transfer_in"
            } else {
                "join"
            };
            events.push_str(&format!(
                "{esep}({event_id}, {id}, {id}, {org}, '{first}', '{joined}', '{now}')"
            ));
            if let Some(e) = ended {
                event_id += 1;
                let kind = if rng.gen_bool(0.4) {
                    "transfer_out"
                } else {
                    "leave"
                };
                events.push_str(&format!(
                    ",({event_id}, {id}, {id}, {org}, '{kind}', '{e}', '{now}')"
                ));
            }
        }
        conn.execute("BEGIN").await?;
        conn.execute(persons.as_str()).await?;
        conn.execute(members.as_str()).await?;
        conn.execute(events.as_str()).await?;
        // Like every writer of member records: bump the unions' data versions.
        gonghui::platform::dataver::touch(&mut conn, touched).await?;
        conn.execute("COMMIT").await?;
        i = end;
        if i.is_multiple_of(100_000) {
            eprintln!("  {i} members ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    conn.execute("ANALYZE").await?;
    eprintln!(
        "generated {n} members, {event_id} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(Default)]
struct Timings {
    uncached: Vec<f64>,
    cold: Vec<f64>,
    warm: Vec<f64>,
    one_stale: Vec<f64>,
    /// Org entries recomputed per one-stale run (cache misses).
    stale_misses: Vec<u64>,
    /// Org entries recomputed in all warm runs together (must be 0).
    warm_misses: u64,
}

impl Timings {
    fn print(&self, what: &str) {
        let m = |v: &Vec<f64>| median(v.clone());
        println!("  {what}, medians over {} runs:", self.cold.len());
        println!(
            "    uncached {:.1} ms | cold cache {:.1} ms | warm {:.2} ms | one union stale {:.2} ms",
            m(&self.uncached),
            m(&self.cold),
            m(&self.warm),
            m(&self.one_stale)
        );
        if self.cold.len() <= 5 {
            let r = |v: &Vec<f64>| v.iter().map(|x| x.round()).collect::<Vec<_>>();
            println!(
                "    runs: uncached {:?}, cold {:?}, warm {:?}, one stale {:?}",
                r(&self.uncached),
                r(&self.cold),
                r(&self.warm),
                r(&self.one_stale)
            );
        }
        println!(
            "    org entries recomputed in the warm runs: {}",
            self.warm_misses
        );
        if !self.stale_misses.is_empty() {
            println!(
                "    org entries recomputed per one-stale run: {:?}",
                self.stale_misses
            );
        }
    }
}

/// Milliseconds taken by `f`, and its result.
async fn timed<T, E: Into<anyhow::Error>>(
    f: impl std::future::Future<Output = Result<T, E>>,
) -> anyhow::Result<(f64, T)> {
    let s = Instant::now();
    let v = f.await.map_err(Into::into)?;
    Ok((s.elapsed().as_secs_f64() * 1000.0, v))
}

/// The name of the members the benchmark enrols (and removes at the end).
const ADDED_NAME: &str = "基准新会员";

/// Enrols one new member in `union` through the registry's write path (so
/// its data version moves: one org stale).
async fn add_member(
    state: &gonghui::platform::web::AppState,
    scope: &Scope,
    union: &str,
    added: &mut u64,
) -> anyhow::Result<()> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let born =
        chrono::NaiveDate::from_ymd_opt(1980, 1, 1).expect("date") + chrono::Days::new(*added * 7);
    let body = format!("110101{}123", born.format("%Y%m%d"));
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let raw = gonghui::members::model::RawMember {
        name: ADDED_NAME.into(),
        id_number: format!("{body}{}", C[(sum % 11) as usize] as char),
        org_code: union.into(),
        change_date: "2026-11-21".into(),
        ..Default::default()
    };
    match store::enrol_one(&state.db, &state.keys, scope, &raw).await? {
        store::Enrolment::Done(store::Outcome::New(_)) => {
            *added += 1;
            Ok(())
        }
        other => anyhow::bail!("benchmark member not new: {other:?}"),
    }
}

/// Removes the members `add_member` enrolled (also after an interrupted run),
/// so the data stay the generated ones.
async fn remove_added(db: &gonghui::platform::db::Db) -> anyhow::Result<usize> {
    let mut tx = db.begin_write().await?;
    let pids: Vec<i64> = sqlx::query_scalar("SELECT id FROM persons WHERE name = $1")
        .bind(ADDED_NAME)
        .fetch_all(&mut *tx.tx)
        .await?;
    if pids.is_empty() {
        return Ok(0);
    }
    let list = pids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let orgs: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT DISTINCT org_id FROM memberships WHERE person_id IN ({list})"
    ))
    .fetch_all(&mut *tx.tx)
    .await?;
    for sql in [
        format!("DELETE FROM membership_events WHERE person_id IN ({list})"),
        format!("DELETE FROM memberships WHERE person_id IN ({list})"),
        format!("DELETE FROM persons WHERE id IN ({list})"),
    ] {
        sqlx::query(&sql).execute(&mut *tx.tx).await?;
    }
    dataver::touch(&mut tx, orgs).await?;
    tx.commit().await?;
    Ok(pids.len())
}

/// Times the figures table of `org`: uncached, cold, warm, one org stale.
async fn time_table(
    state: &gonghui::platform::web::AppState,
    scope: &Scope,
    org: &orgs::Org,
    period: Period,
    runs: usize,
    stale_union: &str,
    added: &mut u64,
) -> anyhow::Result<Timings> {
    let db = &state.db;
    let mut t = Timings::default();
    for _ in 0..runs {
        t.uncached.push(
            timed(figures::table_uncached(db, scope, org.id, period))
                .await?
                .0,
        );
    }
    for _ in 0..runs {
        db.org_cache().clear();
        t.cold
            .push(timed(figures::table(db, scope, org.id, period)).await?.0);
    }
    let before = db.org_cache().stats().misses;
    for _ in 0..runs {
        t.warm
            .push(timed(figures::table(db, scope, org.id, period)).await?.0);
    }
    t.warm_misses = db.org_cache().stats().misses - before;
    for _ in 0..runs {
        add_member(state, scope, stale_union, added).await?;
        let before = db.org_cache().stats().misses;
        t.one_stale
            .push(timed(figures::table(db, scope, org.id, period)).await?.0);
        t.stale_misses.push(db.org_cache().stats().misses - before);
    }
    let cached = serde_json::to_value(figures::table(db, scope, org.id, period).await?)?;
    let fresh = serde_json::to_value(figures::table_uncached(db, scope, org.id, period).await?)?;
    assert!(cached == fresh, "the cached table equals the records");
    Ok(t)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let root_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var("GONGHUI_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root_dir.join("target/bench-stats"));
    let n: usize = std::env::var("GONGHUI_BENCH_MEMBERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let regen = std::env::var("GONGHUI_BENCH_REGEN").is_ok_and(|v| v == "1");
    if regen {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir)?;
    let cfg = Config {
        data_dir: dir.clone(),
        database_url: None,
        master_key: Some(Secret::new("42".repeat(32))),
        log: "warn".into(),
        ..Config::default()
    };
    let state = gonghui::platform::open(cfg, gonghui::modules::registry()).await?;
    let db = &state.db;
    // Members enrolled by an interrupted earlier run go first.
    remove_added(db).await?;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships")
        .fetch_one(db.pool())
        .await?;
    if have as usize != n {
        if have > 0 {
            anyhow::bail!(
                "{} holds {have} members, not {n}: set GONGHUI_BENCH_REGEN=1",
                dir.display()
            );
        }
        eprintln!(
            "seeding the demo tree and {n} members into {} …",
            dir.display()
        );
        // The org tree only: `demo::seed` also enrols the demo's own members,
        // whose ids the generator's would collide with.
        gonghui::demo::seed_orgs_and_accounts(&state).await?;
        generate(db, n).await?;
    }
    if std::env::var("GONGHUI_BENCH_GENERATE_ONLY").is_ok_and(|v| v == "1") {
        return Ok(());
    }
    let root = orgs::root(db).await?.expect("demo root");
    let city = Scope::system(Actor::system("bench"), root.id, root.path.clone());
    let union = orgs::get_by_code(db, &city, "SF-01-S1-001").await?;
    let union_scope = city.narrow(union.id, &union.path)?;
    let period = Period::year(2026)?;

    // Each case: uncached (every value from the records), cold (empty
    // cache), warm (everything cached), and after one member was enrolled
    // in one union (that org stale). Then the cached table must equal the records.
    // The tables checked against plain SQL below, before any member is added.
    let city_table = figures::table_uncached(db, &city, root.id, period).await?;
    let union_table = figures::table_uncached(db, &union_scope, union.id, period).await?;
    let mut added = 0u64;
    let city_t = time_table(&state, &city, &root, period, 5, "SF-01-S1-001", &mut added).await?;
    let union_t = time_table(
        &state,
        &union_scope,
        &union,
        period,
        21,
        "SF-01-S1-001",
        &mut added,
    )
    .await?;
    let ends = figures::trend_ends(2026)?;
    let mut trend_t = Timings::default();
    for _ in 0..5 {
        let (ms, _) = timed(figures::trend_uncached(
            db,
            &city,
            root.id,
            "members_total",
            &ends,
        ))
        .await?;
        trend_t.uncached.push(ms);
    }
    for _ in 0..5 {
        db.org_cache().clear();
        let (ms, _) = timed(figures::trend(db, &city, root.id, "members_total", &ends)).await?;
        trend_t.cold.push(ms);
    }
    let before = db.org_cache().stats().misses;
    for _ in 0..5 {
        let (ms, _) = timed(figures::trend(db, &city, root.id, "members_total", &ends)).await?;
        trend_t.warm.push(ms);
    }
    trend_t.warm_misses = db.org_cache().stats().misses - before;
    for _ in 0..5 {
        add_member(&state, &city, "SF-02-S1-001", &mut added).await?;
        let (ms, _) = timed(figures::trend(db, &city, root.id, "members_total", &ends)).await?;
        trend_t.one_stale.push(ms);
    }
    assert_eq!(
        figures::trend(db, &city, root.id, "members_total", &ends).await?,
        figures::trend_uncached(db, &city, root.id, "members_total", &ends).await?,
        "cached trend equals the records"
    );
    let removed = remove_added(db).await?;
    assert_eq!(
        removed as u64, added,
        "every member the benchmark enrolled removed"
    );

    // Before: the naive plan — one COUNT per indicator and period over the subtree, no breakdown.
    let prev = period.previous_year();
    let cat = state.db.catalogue().to_vec();
    let naive = |like: String| {
        let cat = &cat;
        async move {
            let s = Instant::now();
            for i in cat {
                let (source, when) = match i.definition {
                    Definition::Records { source, when, .. } => (source, when),
                    _ => continue,
                };
                let from = source.from;
                for p in [&period, &prev] {
                    let sql = format!(
                        "SELECT COUNT(*) FROM {from} WHERE o.path LIKE '{like}' AND ({})",
                        literal(when, p)
                    );
                    let _: i64 = sqlx::query_scalar(&sql).fetch_one(db.pool()).await?;
                }
            }
            anyhow::Ok(s.elapsed().as_secs_f64() * 1000.0)
        }
    };
    // The naive plan scans the whole table ~80 times for the city: minutes at 1M, so opt-in.
    let naive_city = if std::env::var("GONGHUI_BENCH_NAIVE").is_ok_and(|v| v == "1") {
        Some(naive(format!("{}%", root.path)).await?)
    } else {
        None
    };
    let naive_union = median(vec![
        naive(format!("{}%", union.path)).await?,
        naive(format!("{}%", union.path)).await?,
        naive(format!("{}%", union.path)).await?,
    ]);

    let members_total = city_table
        .get("members_total")
        .and_then(|f| f.amount.count())
        .unwrap_or(0);
    println!("Statistics benchmark — {n} members, SQLite, period 2026 (with 2025 and breakdown by child org)");
    println!("  members on the roll at 2026-12-31: {members_total}");
    city_t.print("city figures table (43 indicators, 2026 + 2025, breakdown)");
    union_t.print("grassroots figures table (SF-01-S1-001)");
    trend_t.print("city monthly trend (24 month ends)");
    println!(
        "  naive plan (one COUNT per indicator and period, no breakdown): city {}, grassroots {naive_union:.1} ms",
        naive_city.map_or("not run (GONGHUI_BENCH_NAIVE=1)".to_string(), |v| format!("{v:.0} ms"))
    );

    // The member figures alone, as two plain SQL statements (this year's totals,
    // no breakdown): the same text runs on SQLite here and on DuckDB in Python.
    let mut mcols = Vec::new();
    let mut ecols = Vec::new();
    let mut codes_m = Vec::new();
    let mut codes_e = Vec::new();
    for i in &cat {
        if let Definition::Records { source, when, .. } = i.definition {
            let cond = literal(when, &period);
            match source.key {
                "memberships" => {
                    mcols.push(format!(
                        "SUM(CASE WHEN ({cond}) THEN 1 ELSE 0 END) AS v{}",
                        mcols.len()
                    ));
                    codes_m.push(i.code);
                }
                "membership_events" => {
                    ecols.push(format!(
                        "COUNT(DISTINCT CASE WHEN ({cond}) THEN e.person_id END) AS v{}",
                        ecols.len()
                    ));
                    codes_e.push(i.code);
                }
                _ => {}
            }
        }
    }
    let members_sql = format!(
        "SELECT {} FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN persons p ON p.id = m.person_id WHERE o.path LIKE '__LIKE__'",
        mcols.join(", ")
    );
    let sums: Vec<String> = (0..ecols.len()).map(|k| format!("SUM(v{k})")).collect();
    let events_sql = format!(
        "SELECT {} FROM (SELECT o.id, {} FROM membership_events e JOIN orgs o ON o.id = e.org_id JOIN persons p ON p.id = e.person_id \
         WHERE o.path LIKE '__LIKE__' GROUP BY o.id) t",
        sums.join(", "),
        ecols.join(", ")
    );
    let run_plain = |like: String| {
        let (msql, esql) = (
            members_sql.replace("__LIKE__", &like),
            events_sql.replace("__LIKE__", &like),
        );
        async move {
            let s = Instant::now();
            let a = sqlx::query(&msql).fetch_one(db.pool()).await?;
            let b = sqlx::query(&esql).fetch_one(db.pool()).await?;
            let ms = s.elapsed().as_secs_f64() * 1000.0;
            use sqlx::Row;
            let mut vals = Vec::new();
            for k in 0..a.len() {
                vals.push(a.try_get::<i64, _>(k)?);
            }
            for k in 0..b.len() {
                vals.push(b.try_get::<i64, _>(k)?);
            }
            anyhow::Ok((ms, vals))
        }
    };
    let city_like = format!("{}%", root.path);
    let union_like = format!("{}%", union.path);
    let mut plain_city = Vec::new();
    let mut plain_union = Vec::new();
    let mut city_vals = Vec::new();
    let mut union_vals = Vec::new();
    for _ in 0..5 {
        let (ms, v) = run_plain(city_like.clone()).await?;
        plain_city.push(ms);
        city_vals = v;
    }
    for _ in 0..21 {
        let (ms, v) = run_plain(union_like.clone()).await?;
        plain_union.push(ms);
        union_vals = v;
    }
    let codes: Vec<&str> = codes_m.iter().chain(&codes_e).copied().collect();
    for (k, code) in codes.iter().enumerate() {
        let engine = city_table.get(code).and_then(|f| f.amount.count());
        assert_eq!(
            engine,
            Some(city_vals[k]),
            "{code}: engine and plain SQL agree (city)"
        );
        let engine = union_table.get(code).and_then(|f| f.amount.count());
        assert_eq!(
            engine,
            Some(union_vals[k]),
            "{code}: engine and plain SQL agree (union)"
        );
    }
    let (pc, pu) = (median(plain_city), median(plain_union));
    println!("  member figures only, plain SQL on SQLite ({} indicators): city median {pc:.1} ms, grassroots {pu:.2} ms", codes.len());

    let spec = serde_json::json!({
        "sqlite": dir.join("gonghui.db"),
        "work": dir.join("duckdb"),
        "city_like": city_like,
        "union_like": union_like,
        "members_sql": members_sql,
        "events_sql": events_sql,
        "codes": codes,
        "city": city_vals,
        "union": union_vals,
    });
    let spec_file = dir.join("duckdb_spec.json");
    std::fs::write(&spec_file, serde_json::to_vec_pretty(&spec)?)?;
    state.db.close().await;
    let script = root_dir.join("bench/duckdb_stats.py");
    let out =
        std::process::Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
            .arg(&script)
            .arg(&spec_file)
            .output();
    match out {
        Ok(o) if o.status.success() => {
            let r: serde_json::Value = serde_json::from_slice(&o.stdout)?;
            let d_city = r["city_ms"].as_f64().unwrap_or(f64::NAN);
            let d_union = r["union_ms"].as_f64().unwrap_or(f64::NAN);
            println!("  DuckDB {} on the same data (exported to CSV, then Parquet, loaded into DuckDB), same SQL:", r["version"]);
            println!("    city median {d_city:.1} ms, grassroots median {d_union:.2} ms; export {:.1} s; figures equal: {}", r["export_s"].as_f64().unwrap_or(0.0), r["equal"]);
            println!(
                "    ratio SQLite/DuckDB, member figures: city {:.1}×, grassroots {:.2}×",
                pc / d_city,
                pu / d_union
            );
            println!("    ratio Gonghui full table uncached (all indicators, two periods, breakdown) / DuckDB member figures: city {:.1}×", median(city_t.uncached.clone()) / d_city);
            if r["equal"] != true {
                anyhow::bail!("DuckDB figures differ: {}", r["mismatches"]);
            }
        }
        Ok(o) => eprintln!(
            "DuckDB comparison failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("DuckDB comparison skipped (python3 not found): {e}"),
    }
    Ok(())
}
