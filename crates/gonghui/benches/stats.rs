//! Statistics benchmark (see BENCHMARKS.md, "Statistics"; run `bench/stats.sh`).
//!
//! 1. Builds the demo org tree and N members (default 1,000,000; env
//!    `GONGHUI_BENCH_MEMBERS`) with their memberships and 会籍变化 events in a
//!    SQLite database under `GONGHUI_BENCH_DIR` (default
//!    `target/bench-stats`), bulk-inserted; reused on later runs unless
//!    `GONGHUI_BENCH_REGEN=1`.
//! 2. Times the whole figures table (every indicator, this year and last,
//!    breakdown by child org) for the city and for one grassroots union, and
//!    reports medians; also the naive plan (one COUNT query per indicator
//!    and period) for the before/after comparison.
//! 3. Hands the same member definitions to `bench/duckdb_stats.py`, which
//!    exports the same data to CSV and Parquet, computes the same member
//!    figures in DuckDB and reports its medians; the figures must be equal.

use std::{path::PathBuf, time::Instant};

use gonghui::{
    orgs::store as orgs,
    platform::{
        config::{Config, Secret},
        scope::{Actor, Scope},
    },
    reports::{
        figures,
        indicator::{catalogue, Definition, Source},
        period::Period,
    },
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
    let state = gonghui::platform::open(cfg).await?;
    let db = &state.db;
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
        gonghui::demo::seed(&state).await?;
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

    let mut city_ms = Vec::new();
    let mut t = None;
    for _ in 0..5 {
        let s = Instant::now();
        t = Some(figures::table(db, &city, root.id, period).await?);
        city_ms.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    let city_table = t.expect("ran");
    let mut union_ms = Vec::new();
    let mut u = None;
    for _ in 0..21 {
        let s = Instant::now();
        u = Some(figures::table(db, &union_scope, union.id, period).await?);
        union_ms.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    let union_table = u.expect("ran");
    let mut trend_ms = Vec::new();
    let ends: Vec<_> = period
        .month_ends()
        .into_iter()
        .chain(period.previous_year().month_ends())
        .collect();
    for _ in 0..5 {
        let s = Instant::now();
        figures::trend(db, &city, root.id, "members_total", &ends).await?;
        trend_ms.push(s.elapsed().as_secs_f64() * 1000.0);
    }

    // Before: the naive plan — one COUNT per indicator and period over the subtree, no breakdown.
    let prev = period.previous_year();
    let cat = catalogue();
    let naive = |like: String| {
        let cat = &cat;
        async move {
            let s = Instant::now();
            for i in cat {
                let (source, when) = match i.definition {
                    Definition::Records { source, when } => (source, when),
                    _ => continue,
                };
                let from = match source {
                    Source::Orgs => "orgs o",
                    Source::OrgHistory => "org_history h JOIN orgs o ON o.id = h.org_id",
                    Source::Memberships => "memberships m JOIN orgs o ON o.id = m.org_id JOIN persons p ON p.id = m.person_id",
                    Source::MemberEvents => "membership_events e JOIN orgs o ON o.id = e.org_id JOIN persons p ON p.id = e.person_id",
                };
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
    println!(
        "  city figures table:        median {:.1} ms over {} runs {:?}",
        median(city_ms.clone()),
        city_ms.len(),
        city_ms.iter().map(|v| v.round()).collect::<Vec<_>>()
    );
    println!(
        "  grassroots figures table:  median {:.2} ms over {} runs",
        median(union_ms.clone()),
        union_ms.len()
    );
    println!(
        "  city monthly trend (24 month ends): median {:.1} ms",
        median(trend_ms)
    );
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
        if let Definition::Records { source, when } = i.definition {
            let cond = literal(when, &period);
            match source {
                Source::Memberships => {
                    mcols.push(format!(
                        "SUM(CASE WHEN ({cond}) THEN 1 ELSE 0 END) AS v{}",
                        mcols.len()
                    ));
                    codes_m.push(i.code);
                }
                Source::MemberEvents => {
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
            println!("    ratio Gonghui full table (all indicators, two periods, breakdown) / DuckDB member figures: city {:.1}×", median(city_ms) / d_city);
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
