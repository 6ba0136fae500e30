//! The demo's members: generated rows joined over the years, some since
//! left, in the demo org tree (`orgs::demo`).

use chrono::Datelike;
use orgs::demo::{grassroots_codes, SEED};
use platform::{scope::Scope, web::AppState};

use crate::{gen::Generator, store};

/// Members of the demo: generated rows joined over the years, then some
/// leaving, applied through the same path as an import (so re-running the
/// demo finds them unchanged).
pub const DEMO_MEMBERS: u64 = 6000;

/// Enrols the demo's members in the demo's grassroots unions.
pub async fn seed(st: &AppState) -> anyhow::Result<()> {
    let scope = platform::tree::system_scope(&st.db).await?;
    let counts = seed_members(st, &scope).await?;
    tracing::info!(%counts, "demo members seeded");
    seed_workforce(st).await?;
    Ok(())
}

/// The demo unions' 职工人数, consistent with their rosters: every union's
/// workforce, women and 农民工 workers are at least the members (women,
/// 农民工 members) it has ever had, so 会员 ≤ 职工 holds at any date and the
/// return's logic check passes; 入会率 comes out between about 75% and 90%.
/// Two values per union: one as of the end of the reference period before
/// last (smaller) and one as of 30 June (or today, if earlier).
async fn seed_workforce(st: &AppState) -> anyhow::Result<()> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT o.id, CAST(COUNT(m.id) AS BIGINT) AS n, \
         CAST(COALESCE(SUM(CASE WHEN p.gender = 'female' THEN 1 ELSE 0 END), 0) AS BIGINT) AS women, \
         CAST(COALESCE(SUM(CASE WHEN p.migrant = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS migrant \
         FROM orgs o LEFT JOIN memberships m ON m.org_id = o.id LEFT JOIN persons p ON p.id = m.person_id \
         WHERE o.level = 'grassroots' GROUP BY o.id ORDER BY o.id",
    )
    .fetch_all(st.db.pool())
    .await?;
    let today = platform::time::today();
    let y = today.year();
    let older = chrono::NaiveDate::from_ymd_opt(y - 1, 9, 30).expect("valid");
    let latest = chrono::NaiveDate::from_ymd_opt(y, 6, 30)
        .expect("valid")
        .min(today);
    let mut values = Vec::with_capacity(rows.len() * 2);
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let n: i64 = r.try_get("n")?;
        let women: i64 = r.try_get("women")?;
        let migrant: i64 = r.try_get("migrant")?;
        let extra = n * (10 + id % 25) / 100 + 2 + id % 5;
        let value = |extra: i64, as_of| orgs::workforce::Values {
            as_of,
            workforce: n + extra,
            women: women + extra * 45 / 100,
            migrant: migrant + extra * 30 / 100,
        };
        let id = platform::ids::OrgId(id);
        values.push((id, value(extra / 2, older)));
        values.push((id, value(extra, latest)));
    }
    orgs::workforce::seed_values(&st.db, &values).await?;
    Ok(())
}

async fn seed_members(st: &AppState, scope: &Scope) -> anyhow::Result<store::Counts> {
    let unions = store::Unions::load(&st.db, scope).await?;
    let rule = store::retirement_rule(&st.db).await?;
    let today = platform::time::today();
    let mut g = Generator::new(SEED, grassroots_codes(), today);
    g.join_years = (2015, today.year());
    let mut rows: Vec<_> = (0..DEMO_MEMBERS).map(|n| g.row(n)).collect();
    // About one in twelve has since left (退会) after joining.
    let mut leavers = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        if n % 12 == 5 {
            let joined = platform::time::parse_date(&r.change_date).unwrap_or(today);
            let days = (today - joined).num_days();
            if days > 60 {
                let mut l = r.clone();
                l.change_kind = "退会".into();
                l.change_date = (joined
                    + chrono::Duration::days(30 + (n as i64 * 37) % (days - 30)))
                .to_string();
                leavers.push(l);
            }
        }
    }
    rows.sort_by(|a, b| a.change_date.cmp(&b.change_date));
    let mut counts = store::Counts::default();
    let mut tx = st.db.begin_write().await?;
    for phase in [rows, leavers] {
        let mut seen = std::collections::HashSet::new();
        let prepared: Vec<_> = phase
            .iter()
            .enumerate()
            .filter_map(|(i, r)| store::prepare(&st.keys, i + 2, r, &rule).ok())
            .filter(|p| seen.insert(p.sealed.id_hash.clone()))
            .collect();
        for chunk in prepared.chunks(2000) {
            for o in store::apply(&mut tx, &unions, None, chunk, None).await? {
                counts.add(&o);
            }
        }
    }
    tx.commit().await?;
    Ok(counts)
}
