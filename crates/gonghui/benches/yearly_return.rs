//! The yearly statistical return (统计年报) of the whole city, measured with
//! criterion (figures in BENCHMARKS.md, "The yearly statistical return"):
//!
//! - **demo**: the demo federation as `gonghui demo` seeds it (331 orgs,
//!   6,000 members, 职工人数 for every union);
//! - **386k** (unless `GONGHUI_BENCH_RETURN_SMALL=1`): the demo tree with
//!   386,057 generated members (the seeds' city), bulk-inserted with their
//!   会籍变化 events, and a 职工人数 value per union consistent with its
//!   members, in a SQLite database under `target/bench-return` (reused on
//!   later runs).
//!
//! Each is timed as `yearly_return::build` (the figures engine's one pass
//! with every org's own values, the columns and the 逻辑检查 of every org)
//! plus the xlsx, with the per-org cache warm and cold (emptied before each
//! run).
//!
//! `cargo bench -p gonghui --bench yearly_return` (release profile), or on
//! a shared machine where release builds are not wanted
//! `cargo bench --profile dev -p gonghui --bench yearly_return` (the
//! dependencies — SQLite, the xlsx writer — are optimised in dev too).

use std::{path::PathBuf, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use gonghui::{
    orgs::{store as orgs, workforce},
    platform::{
        config::{Config, Secret},
        ids::OrgId,
        scope::{Actor, Scope},
        web::AppState,
    },
    reports::{period::Period, yearly_return},
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sqlx::Executor;

const SEEDS_MEMBERS: usize = 386_057;

fn period() -> Period {
    Period::from_params(None, None, Some("2025-10-01"), Some("2026-09-30")).unwrap()
}

async fn open(dir: PathBuf) -> AppState {
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = Config {
        data_dir: dir,
        database_url: None,
        master_key: Some(Secret::new("42".repeat(32))),
        log: "warn".into(),
        ..Config::default()
    };
    gonghui::platform::open(cfg, gonghui::modules::registry())
        .await
        .unwrap()
}

fn date(rng: &mut StdRng, from: i32, to: i32) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.gen_range(from..=to),
        rng.gen_range(1..=12),
        rng.gen_range(1..=28)
    )
}

/// `n` members over the demo's grassroots unions (uneven sizes), as the
/// statistics benchmark generates them, then each union's 职工人数 as of
/// 2026-06-30 at least its members ever (so the 逻辑检查 passes).
async fn generate(st: &AppState, n: usize) -> anyhow::Result<()> {
    let db = &st.db;
    let unions: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM orgs WHERE level = 'grassroots' ORDER BY id")
            .fetch_all(db.pool())
            .await?;
    let mut rng = StdRng::seed_from_u64(386_057);
    let mut pick = Vec::new();
    for u in &unions {
        for _ in 0..rng.gen_range(1..=20) {
            pick.push(*u);
        }
    }
    let now = "2026-11-30T00:00:00.000000Z";
    let mut conn = db.pool().acquire().await?;
    conn.execute("PRAGMA synchronous = OFF").await?;
    let (mut i, mut event_id) = (0usize, 0usize);
    while i < n {
        let end = (i + 1000).min(n);
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
            let migrant = i64::from(rng.gen_bool(0.22));
            let neg = if rng.gen_bool(0.07) { "快递员" } else { "" };
            persons.push_str(&format!(
                "{sep}({id}, '会员{id}', 'huiyuan', 'hy', 'resident', 'h{id}', 'enc', '6104**********{:03}X', '{gender}', '{birth}', \
                 '138****{:04}', '大学本科', {migrant}, '{neg}', 'r', '{now}', '{now}')",
                id % 1000,
                id % 10000
            ));
            let org = pick[rng.gen_range(0..pick.len())];
            touched.push(org);
            let joined = date(&mut rng, 2000, 2026).min("2026-10-31".into());
            let (status, ended) = if rng.gen_range(0..100) < 9 {
                let e = date(&mut rng, 2001, 2026)
                    .max(joined.clone())
                    .min("2026-10-31".into());
                ("ended", Some(e))
            } else {
                ("active", None)
            };
            let ended_sql = ended
                .as_ref()
                .map_or("NULL".to_string(), |e| format!("'{e}'"));
            members.push_str(&format!(
                "{sep}({id}, {id}, {org}, 'B{id}', '{status}', '{joined}', {ended_sql}, NULL, '{now}', '{now}')"
            ));
            event_id += 1;
            events.push_str(&format!(
                "{sep}({event_id}, {id}, {id}, {org}, 'join', '{joined}', '{now}')"
            ));
            if let Some(e) = ended {
                event_id += 1;
                events.push_str(&format!(
                    ",({event_id}, {id}, {id}, {org}, 'leave', '{e}', '{now}')"
                ));
            }
        }
        conn.execute("BEGIN").await?;
        conn.execute(persons.as_str()).await?;
        conn.execute(members.as_str()).await?;
        conn.execute(events.as_str()).await?;
        gonghui::platform::dataver::touch(&mut conn, touched).await?;
        conn.execute("COMMIT").await?;
        i = end;
    }
    conn.execute("ANALYZE").await?;
    drop(conn);
    seed_workforce(st).await
}

/// Each union's 职工人数 at least its members (women, 农民工) ever.
async fn seed_workforce(st: &AppState) -> anyhow::Result<()> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT o.id, CAST(COUNT(m.id) AS BIGINT) AS n, \
         CAST(COALESCE(SUM(CASE WHEN p.gender = 'female' THEN 1 ELSE 0 END), 0) AS BIGINT) AS women, \
         CAST(COALESCE(SUM(CASE WHEN p.migrant = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS migrant \
         FROM orgs o LEFT JOIN memberships m ON m.org_id = o.id LEFT JOIN persons p ON p.id = m.person_id \
         WHERE o.level = 'grassroots' GROUP BY o.id",
    )
    .fetch_all(st.db.pool())
    .await?;
    let as_of = "2026-06-30".parse()?;
    let mut values = Vec::new();
    for r in rows {
        let (n, women, migrant): (i64, i64, i64) =
            (r.try_get("n")?, r.try_get("women")?, r.try_get("migrant")?);
        let extra = n / 6 + 3;
        values.push((
            OrgId(r.try_get("id")?),
            workforce::Values {
                as_of,
                workforce: n + extra,
                women: women + extra / 2,
                migrant: migrant + extra / 4,
            },
        ));
    }
    workforce::seed_values(&st.db, &values).await?;
    Ok(())
}

/// The demo, or the demo tree with `members` generated members, opened and
/// seeded once (reused on later runs).
async fn prepare(members: Option<usize>) -> AppState {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-return");
    let dir = match members {
        None => root.join("demo"),
        Some(n) => root.join(format!("members-{n}")),
    };
    let fresh = !dir.join("gonghui.db").exists();
    let st = open(dir.clone()).await;
    if fresh {
        eprintln!("seeding {} …", dir.display());
        let started = std::time::Instant::now();
        match members {
            None => {
                gonghui::demo::seed(&st).await.unwrap();
            }
            Some(n) => {
                gonghui::demo::seed_orgs_and_accounts(&st).await.unwrap();
                generate(&st, n).await.unwrap();
            }
        }
        eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    }
    st
}

fn bench_case(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, st: &AppState) {
    let (scope, root) = rt.block_on(async {
        let root = orgs::root(&st.db).await.unwrap().unwrap();
        (
            Scope::system(Actor::system("bench"), root.id, root.path.clone()),
            root,
        )
    });
    let contribution = st.registry.yearly_return();
    let run = || async {
        let r = yearly_return::build(&st.db, &scope, &contribution, root.id, period())
            .await
            .unwrap();
        assert!(
            r.failures.is_empty(),
            "{:?}",
            &r.failures[..r.failures.len().min(3)]
        );
        yearly_return::xlsx(&r).unwrap().len()
    };
    // Once, to report the shape.
    let size = rt.block_on(run());
    let cols = rt.block_on(async {
        yearly_return::build(&st.db, &scope, &contribution, root.id, period())
            .await
            .unwrap()
            .columns
            .len()
    });
    eprintln!("{name}: {cols} columns, xlsx {size} bytes");
    let mut g = c.benchmark_group(format!("yearly_return/{name}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    g.bench_function("warm cache", |b| b.iter(|| rt.block_on(run())));
    g.bench_function("cold cache", |b| {
        b.iter(|| {
            st.db.org_cache().clear();
            rt.block_on(run())
        })
    });
    // For comparison: the figures table alone (what the dashboard reads), cold.
    g.bench_function("figures table only, cold cache", |b| {
        b.iter(|| {
            st.db.org_cache().clear();
            rt.block_on(async {
                gonghui::reports::figures::table(&st.db, &scope, root.id, period())
                    .await
                    .unwrap()
                    .children
                    .len()
            })
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let demo = rt.block_on(prepare(None));
    bench_case(c, &rt, "demo", &demo);
    rt.block_on(demo.db.close());
    if std::env::var("GONGHUI_BENCH_RETURN_SMALL").is_ok_and(|v| v == "1") {
        return;
    }
    let big = rt.block_on(prepare(Some(SEEDS_MEMBERS)));
    bench_case(c, &rt, "386k", &big);
    rt.block_on(big.db.close());
}

criterion_group!(yearly, benches);
criterion_main!(yearly);
