//! The statistics engine: every indicator of the catalogue for an org subtree
//! and a period (with the same period last year and a breakdown by child
//! org), trends, the records behind a figure (drill-down) and manually
//! entered values. All of it is scoped: the org is resolved through
//! `::orgs::store::get` (outside the scope → not found, audited) and every
//! query filters `orgs.path LIKE` the subtree itself.
//!
//! Speed: one query per record source computes every indicator of that
//! source for both periods at once — conditional aggregates grouped by org,
//! a few hundred groups — and the roll-up to child orgs happens in memory
//! from the org paths. The member sources' per-org values are cached and
//! reused while the org's data version is unchanged (`platform::dataver`),
//! so after a write only the orgs written to are read again. The drill-down
//! always reads the records. See BENCHMARKS.md.

use std::{collections::HashMap, sync::Arc};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::period::{Period, PeriodOut};
use numfmt::Rounding;
use platform::indicator::{Definition, Indicator, Kind, Measure, RecordSource, Show};
use {
    ::orgs::store::{self as orgs, Org},
    platform::{
        audit::{self, Event},
        dataver,
        db::Db,
        error::{AppError, AppResult},
        ids::OrgId,
        scope::Scope,
        time,
    },
};

// ---------------------------------------------------------------------------
// SQL assembly

/// Positional parameters of one statement; `$1` is always the subtree's
/// LIKE pattern. Period tokens are bound once per (token, period) and only
/// when used (PostgreSQL refuses parameters it cannot type).
struct Binder {
    params: Vec<String>,
    slots: HashMap<(usize, &'static str), usize>,
}

const TOKENS: [&str; 6] = ["start", "end", "end_at", "born36", "born46", "born55"];

fn token_value(p: &Period, token: &str) -> String {
    match token {
        "start" => p.start.to_string(),
        "end" => p.end.to_string(),
        "end_at" => p.end_instant(),
        "born36" => p.born_by_for_age(36).to_string(),
        "born46" => p.born_by_for_age(46).to_string(),
        "born55" => p.born_by_for_age(55).to_string(),
        _ => unreachable!("known tokens only"),
    }
}

impl Binder {
    fn new(like: String) -> Binder {
        Binder {
            params: vec![like],
            slots: HashMap::new(),
        }
    }

    fn push(&mut self, v: String) -> String {
        self.params.push(v);
        format!("${}", self.params.len())
    }

    /// `when` with its tokens replaced by parameters holding `period`'s values.
    fn when(&mut self, when: &str, period_no: usize, period: &Period) -> String {
        let mut out = when.to_string();
        for t in TOKENS {
            let tok = format!("{{{t}}}");
            if out.contains(&tok) {
                let slot = match self.slots.get(&(period_no, t)) {
                    Some(n) => *n,
                    None => {
                        self.params.push(token_value(period, t));
                        let n = self.params.len();
                        self.slots.insert((period_no, t), n);
                        n
                    }
                };
                out = out.replace(&tok, &format!("${slot}"));
            }
        }
        debug_assert!(!out.contains('{'), "unknown token in {when}");
        out
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// `sql` with the text parameters bound in order.
fn bound<'q>(sql: &'q str, params: &'q [String]) -> AnyQuery<'q> {
    let mut q = sqlx::query(sql);
    for p in params {
        q = q.bind(p.as_str());
    }
    q
}

/// The FROM clause and leading join conditions of a source's pass. A large
/// subtree reads the source's table in storage order when the source says
/// how (its `scan`): orgs and persons looked up by primary key. (Reaching a
/// whole city's members through the org index costs a random read per row:
/// 4 s instead of 1 s at a million members, see BENCHMARKS.md.)
fn from_for(source: &RecordSource, large: bool) -> (&'static str, &'static str) {
    match source.scan {
        Some(scan) if large => scan,
        _ => (source.from, ""),
    }
}

/// The per-org aggregate of one indicator condition.
fn aggregate(measure: Measure, cond: &str) -> String {
    match measure {
        // A sum of 0/1: cheaper than COUNT over a CASE.
        Measure::Count => {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0) AS BIGINT)")
        }
        // Each value once per org (NULL, the non-matching rows, not counted).
        Measure::Distinct(col) => {
            format!("CAST(COUNT(DISTINCT CASE WHEN {cond} THEN {col} END) AS BIGINT)")
        }
        Measure::Sum(col) => {
            format!("CAST(COALESCE(SUM(CASE WHEN {cond} THEN {col} ELSE 0 END), 0) AS BIGINT)")
        }
    }
}

/// The top-level conjuncts of a condition: `a AND (b OR c) AND d` → `a`,
/// `(b OR c)`, `d`. None when the condition is not a plain conjunction at
/// the top level — a top-level OR, BETWEEN … AND … or CASE — so it is kept
/// whole. Parentheses and quoted text are opaque.
fn conjuncts(cond: &str) -> Option<Vec<&str>> {
    let b = cond.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80;
    let mut terms = Vec::new();
    let (mut depth, mut quote, mut start, mut i) = (0i32, None::<u8>, 0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'\'' | b'"' => quote = Some(c),
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0 && word(c) && (i == 0 || !word(b[i - 1])) => {
                let end = (i..b.len()).find(|&k| !word(b[k])).unwrap_or(b.len());
                let w = &cond[i..end];
                if w.eq_ignore_ascii_case("OR")
                    || w.eq_ignore_ascii_case("BETWEEN")
                    || w.eq_ignore_ascii_case("CASE")
                {
                    return None;
                }
                if w.eq_ignore_ascii_case("AND") {
                    terms.push(cond[start..i].trim());
                    start = end;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 || quote.is_some() {
        return None;
    }
    terms.push(cond[start..].trim());
    if terms.iter().any(|t| t.is_empty()) {
        return None;
    }
    Some(terms)
}

/// Splits bound conditions into the leading conjuncts all of them share and
/// what is left of each (`1 = 1` when nothing is). Nothing is shared when
/// any condition is not a plain conjunction.
fn factor(conds: &[String]) -> (Vec<String>, Vec<String>) {
    let split: Option<Vec<Vec<&str>>> = conds.iter().map(|c| conjuncts(c)).collect();
    let Some(split) = split.filter(|s| !s.is_empty()) else {
        return (Vec::new(), conds.to_vec());
    };
    let mut n = 0;
    while let Some(term) = split[0].get(n) {
        if split[1..].iter().any(|t| t.get(n) != Some(term)) {
            break;
        }
        n += 1;
    }
    let shared = split[0][..n].iter().map(|t| t.to_string()).collect();
    let rests = split
        .iter()
        .map(|t| {
            if t.len() > n {
                t[n..].join(" AND ")
            } else {
                "1 = 1".to_string()
            }
        })
        .collect();
    (shared, rests)
}

/// One column to compute: a condition and a measure, evaluated for a period.
struct Col<'a> {
    when: &'a str,
    measure: Measure,
    /// A flow: bounded by the period, so the source's `window` may narrow its rows.
    flow: bool,
    period_no: usize,
    period: Period,
}

/// Computes every column for every org of the subtree in one pass over the
/// source; returns org id → one value per column (orgs without records are
/// absent). With `only`, just those orgs of the subtree, reached through the
/// org index of the source's table.
async fn per_org(
    db: &Db,
    like: &str,
    source: &RecordSource,
    cols: &[Col<'_>],
    large: bool,
    only: Option<&[i64]>,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    if cols.is_empty() {
        return Ok(HashMap::new());
    }
    let mut b = Binder::new(like.to_string());
    let conds: Vec<String> = cols
        .iter()
        .map(|c| b.when(c.when, c.period_no, &c.period))
        .collect();
    // What every column's condition starts with (a stock's "member at the
    // end of the period", a flow's period window) is tested once per row in
    // WHERE rather than once per column; rows failing it count in no column.
    let (shared, rests) = factor(&conds);
    let mut select = String::from("SELECT o.id AS org_id");
    for (i, rest) in rests.iter().enumerate() {
        select.push_str(&format!(
            ", {} AS v{i}",
            aggregate(cols[i].measure, &format!("({rest})"))
        ));
    }
    let shared: String = shared.iter().map(|t| format!(" AND ({t})")).collect();
    // Narrow the event and history rows to the span of the periods asked for.
    let min_start = cols
        .iter()
        .map(|c| c.period.start)
        .min()
        .expect("non-empty");
    let max_end = cols.iter().map(|c| c.period.end).max().expect("non-empty");
    // Only when every column is a flow: a stock counts records from before
    // the period too.
    let prefilter = match source.window {
        Some(col) if cols.iter().all(|c| c.flow) => {
            let (a, z) = (b.push(min_start.to_string()), b.push(max_end.to_string()));
            format!(" AND {col} >= {a} AND {col} <= {z}")
        }
        _ => String::new(),
    };
    let (from, joins) = from_for(source, large && only.is_none());
    let restrict = match only {
        Some(ids) => {
            // Integers cannot carry SQL: written inline, no parameter limit.
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!(" AND {} IN ({})", source.org_column, list.join(","))
        }
        None => String::new(),
    };
    let sql = format!(
        "{select} FROM {from} WHERE {joins}o.path LIKE $1{prefilter}{restrict}{shared} GROUP BY o.id"
    );
    let rows = bound(&sql, &b.params).fetch_all(db.pool()).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let mut v = Vec::with_capacity(cols.len());
        for i in 0..cols.len() {
            v.push(r.try_get::<i64, _>(i + 1)?);
        }
        out.insert(id, v);
    }
    Ok(out)
}

/// The cache key of a column list: the source, and each column's period,
/// measure and condition in order (the values of an org depend on nothing
/// else).
fn cache_key(source: &RecordSource, cols: &[Col<'_>]) -> String {
    let mut k = source.key.to_string();
    for c in cols {
        k.push_str(&format!(
            "\u{1}{}\u{1}{}\u{1}{:?}\u{1}{}",
            c.period.start, c.period.end, c.measure, c.when
        ));
    }
    k
}

/// [`per_org`] through the per-org cache (`platform::dataver`): `versions`
/// (read before anything is computed) lists the subtree's orgs; those cached
/// at their current version are reused, the others recomputed — only those
/// when they are few (under a quarter of the subtree, through the org index),
/// otherwise the whole subtree in one pass — and stored with the versions
/// read, zeros for orgs without records. Concurrent callers for the same
/// columns wait for one computation.
async fn per_org_cached(
    db: &Db,
    like: &str,
    source: &RecordSource,
    cols: &[Col<'_>],
    large: bool,
    versions: &HashMap<i64, i64>,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    if cols.is_empty() {
        return Ok(HashMap::new());
    }
    let cache = db.org_cache();
    let key = cache_key(source, cols);
    let n = cols.len();
    let flight = cache.flight(&key, n);
    let _computing = flight.lock().await;
    let found = cache.lookup(&key, n, versions);
    if found.stale.is_empty() {
        return Ok(found.values);
    }
    let mut out = found.values;
    let few = found.stale.len() * 4 < versions.len();
    let (computed, recomputed) = if few {
        let c = per_org(db, like, source, cols, false, Some(&found.stale)).await?;
        (c, found.stale)
    } else {
        let c = per_org(db, like, source, cols, large, None).await?;
        (c, versions.keys().copied().collect())
    };
    let mut fresh = Vec::with_capacity(recomputed.len());
    for org in recomputed {
        let v = computed.get(&org).cloned().unwrap_or_else(|| vec![0; n]);
        fresh.push((org, versions[&org], v.clone()));
        out.insert(org, v);
    }
    // Orgs created since the versions were read: counted, not cached.
    for (org, v) in computed {
        out.entry(org).or_insert(v);
    }
    cache.store(&key, n, fresh);
    Ok(out)
}

/// How figures are computed.
#[derive(Clone, Copy, Debug)]
struct Mode {
    /// Through the per-org cache.
    cached: bool,
    /// The per-source queries at once (requests), or one after the other
    /// (the background warm-up: one pool connection at a time).
    concurrent: bool,
}

impl Mode {
    const SERVE: Mode = Mode {
        cached: true,
        concurrent: true,
    };
    const UNCACHED: Mode = Mode {
        cached: false,
        concurrent: true,
    };
    const WARM: Mode = Mode {
        cached: true,
        concurrent: false,
    };
}

/// What one indicator contributes to its source's pass.
#[derive(Clone, Copy)]
struct ColSpec {
    when: &'static str,
    measure: Measure,
    flow: bool,
}

/// One source's columns for one period, per org, cached or not.
async fn source_values(
    db: Db,
    like: String,
    source: &'static RecordSource,
    specs: Vec<ColSpec>,
    period: Period,
    large: bool,
    versions: Option<Arc<HashMap<i64, i64>>>,
) -> AppResult<HashMap<i64, Vec<i64>>> {
    let cols: Vec<Col<'static>> = specs
        .iter()
        .map(|c| Col {
            when: c.when,
            measure: c.measure,
            flow: c.flow,
            period_no: 0,
            period,
        })
        .collect();
    match versions {
        Some(v) if source.cached => per_org_cached(&db, &like, source, &cols, large, &v).await,
        _ => per_org(&db, &like, source, &cols, large, None).await,
    }
}

/// The distinct record sources of a catalogue, in catalogue order.
fn sources_of(cat: &[Indicator]) -> Vec<&'static RecordSource> {
    let mut out: Vec<&'static RecordSource> = Vec::new();
    for i in cat {
        if let Some(s) = i.source() {
            if !out.iter().any(|x| x.key == s.key) {
                out.push(s);
            }
        }
    }
    out
}

/// The columns `source` computes for `cat`, in catalogue order.
fn specs_of(cat: &[Indicator], source: &RecordSource) -> Vec<ColSpec> {
    cat.iter()
        .filter_map(|i| match i.definition {
            Definition::Records {
                source: s,
                when,
                measure,
            } if s.key == source.key => Some(ColSpec {
                when,
                measure,
                flow: i.kind == Kind::Flow,
            }),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// the subtree and its buckets

/// The org asked about, the orgs under it, and which direct child (bucket)
/// each belongs to: bucket 0 is the org itself (本级), bucket k the k-th child.
pub struct Subtree {
    pub org: Org,
    pub children: Vec<Org>,
    bucket: HashMap<i64, usize>,
    /// A quarter of the tree or more: read member tables in storage order.
    pub large: bool,
}

/// Whether a subtree of `n` orgs is a large part of the whole tree.
async fn is_large(db: &Db, n: usize) -> AppResult<bool> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs")
        .fetch_one(db.pool())
        .await?;
    Ok(n as i64 * 4 >= total)
}

impl Subtree {
    pub async fn load(db: &Db, scope: &Scope, org_id: OrgId) -> AppResult<Subtree> {
        let org = orgs::get(db, scope, org_id).await?;
        let narrowed = scope.narrow(org.id, &org.path)?;
        let all = orgs::list_subtree(db, &narrowed).await?;
        let mut children: Vec<Org> = all
            .iter()
            .filter(|o| o.parent_id == Some(org.id))
            .cloned()
            .collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        let index: HashMap<i64, usize> = children
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.0, i + 1))
            .collect();
        let mut bucket = HashMap::with_capacity(all.len());
        for o in &all {
            let rest = &o.path[org.path.len().min(o.path.len())..];
            let b = match rest.split('/').next().and_then(|s| s.parse::<i64>().ok()) {
                Some(child) => index.get(&child).copied().unwrap_or(0),
                None => 0,
            };
            bucket.insert(o.id.0, b);
        }
        let large = is_large(db, all.len()).await?;
        Ok(Subtree {
            org,
            children,
            bucket,
            large,
        })
    }

    pub fn like(&self) -> String {
        format!("{}%", self.org.path)
    }

    fn buckets(&self) -> usize {
        self.children.len() + 1
    }

    /// Sums per-org values into buckets: result[column][bucket].
    fn roll_up(&self, per_org: &HashMap<i64, Vec<i64>>, ncols: usize) -> Vec<Vec<i64>> {
        let mut out = vec![vec![0i64; self.buckets()]; ncols];
        for (org, vals) in per_org {
            // An org created since the tree was read counts with its ancestor's bucket 0.
            let b = self.bucket.get(org).copied().unwrap_or(0);
            for (c, v) in vals.iter().enumerate() {
                out[c][b] += v;
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// the figures table

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

impl From<&Org> for OrgRef {
    fn from(o: &Org) -> Self {
        OrgRef {
            id: o.id.0,
            code: o.code.clone(),
            name: o.name.clone(),
        }
    }
}

/// A value: a count, or a ratio's parts, or nothing entered yet (manual).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amount {
    Count(i64),
    Ratio(i64, i64),
    NotEntered,
}

impl Amount {
    /// For JSON and xlsx: the count; the ratio in percent with one decimal
    /// (null when the denominator is zero); null when not entered.
    pub fn json(self) -> Value {
        match self {
            Amount::Count(n) => json!(n),
            Amount::Ratio(n, d) => match percent_1dp(n, d) {
                Some(p) => json!(p),
                None => Value::Null,
            },
            Amount::NotEntered => Value::Null,
        }
    }

    pub fn display(self, unit: numfmt::Unit, style: Rounding) -> String {
        match self {
            Amount::Count(n) => numfmt::format_count(n, unit, style),
            Amount::Ratio(n, d) => numfmt::format_ratio(n, d, 1),
            Amount::NotEntered => "未填报".into(),
        }
    }

    /// Comparable integer for the change column: counts as is, ratios in
    /// hundredths of a percent.
    fn comparable(self) -> Option<i64> {
        match self {
            Amount::Count(n) => Some(n),
            Amount::Ratio(n, d) if d != 0 => {
                Some(((n as i128 * 10_000 + d as i128 / 2) / d as i128) as i64)
            }
            _ => None,
        }
    }

    pub fn count(self) -> Option<i64> {
        match self {
            Amount::Count(n) => Some(n),
            _ => None,
        }
    }
}

/// Percentage with one decimal, rounded half up in integers (as numfmt does).
pub fn percent_1dp(n: i64, d: i64) -> Option<f64> {
    if d == 0 {
        return None;
    }
    let scaled = (n as i128 * 1000 * 2 + d as i128) / (2 * d as i128);
    Some(scaled as f64 / 10.0)
}

/// The change column: relative change through numfmt; "—" when either side is undefined.
pub fn change(cur: Amount, prev: Amount) -> String {
    match (cur.comparable(), prev.comparable()) {
        (Some(c), Some(p)) => numfmt::format_change(c, p),
        _ => numfmt::UNDEFINED.to_string(),
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Cell {
    /// The child org; None for the org's own records (本级).
    pub org_id: Option<i64>,
    #[schema(value_type = Option<f64>)]
    pub value: Value,
    pub display: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    #[serde(skip)]
    pub amount: Amount,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Figure {
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub unit: &'static str,
    pub kind: &'static str,
    pub group: Option<&'static str>,
    /// Entered by hand (not derived from records).
    pub manual: bool,
    /// Count, or percentage for ratios; null when undefined or not entered.
    #[schema(value_type = Option<f64>)]
    pub value: Value,
    pub display: String,
    #[schema(value_type = Option<f64>)]
    pub previous: Value,
    pub previous_display: String,
    /// Relative change against the same period last year (numfmt::format_change).
    pub change: String,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub numerator_code: Option<&'static str>,
    pub denominator_code: Option<&'static str>,
    /// By child org; the first cell is the org's own records (本级).
    pub breakdown: Vec<Cell>,
    #[serde(skip)]
    pub amount: Amount,
    #[serde(skip)]
    pub previous_amount: Amount,
    #[serde(skip)]
    pub unit_kind: Option<numfmt::Unit>,
    /// One of the dashboard's headline figures.
    pub headline: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SectionOut {
    pub key: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub figures: Vec<Figure>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FigureTable {
    pub org: OrgRef,
    pub period: PeriodOut,
    pub previous_period: PeriodOut,
    /// Columns of every figure's breakdown after the first (本级) cell.
    pub children: Vec<OrgRef>,
    pub sections: Vec<SectionOut>,
}

impl FigureTable {
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections.iter().flat_map(|s| s.figures.iter())
    }
    pub fn get(&self, code: &str) -> Option<&Figure> {
        self.figures().find(|f| f.code == code)
    }
}

/// Per indicator: [bucket values for the current period], current total, previous total.
struct Raw {
    buckets: Vec<Amount>,
    cur: Amount,
    prev: Amount,
}

/// Every indicator for the subtree of `org_id` over `period`, with last year's
/// figures and the breakdown by child org. The member figures come per org
/// from the cache where the org's records have not changed since they were
/// computed (`platform::dataver`).
pub async fn table(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    period: Period,
) -> AppResult<FigureTable> {
    table_with(db, scope, org_id, period, Mode::SERVE, None).await
}

/// [`table`] with every value read from the records, bypassing the cache
/// (tests and benchmarks compare the two).
pub async fn table_uncached(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    period: Period,
) -> AppResult<FigureTable> {
    table_with(db, scope, org_id, period, Mode::UNCACHED, None).await
}

/// The values of the counted indicators for each org's own records (not
/// rolled up), for the current period: org id → indicator code → value.
/// Orgs without any record are absent.
pub type PerOrg = HashMap<i64, HashMap<&'static str, i64>>;

/// [`table`] and, from the same pass, every org's own values ([`PerOrg`]):
/// the yearly return checks each union's own records as well as the
/// columns.
pub async fn table_and_orgs(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    period: Period,
) -> AppResult<(FigureTable, PerOrg)> {
    let mut per_org = PerOrg::new();
    let t = table_with(db, scope, org_id, period, Mode::SERVE, Some(&mut per_org)).await?;
    Ok((t, per_org))
}

async fn table_with(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    period: Period,
    mode: Mode,
    mut per_org: Option<&mut PerOrg>,
) -> AppResult<FigureTable> {
    let tree = Subtree::load(db, scope, org_id).await?;
    let prev = period.previous_year();
    let like = tree.like();
    let cat = db.catalogue();
    let mut raw: HashMap<&'static str, Raw> = HashMap::new();
    // The data versions first: whatever is computed after is at least as new.
    let versions = if mode.cached {
        Some(Arc::new(dataver::versions(db, &like).await?))
    } else {
        None
    };

    // One query per source and period, run concurrently: SQLite readers
    // (WAL) and PostgreSQL backends use both cores.
    let sources = sources_of(cat);
    let mut jobs = Vec::new();
    for &source in &sources {
        let specs = specs_of(cat, source);
        for (no, p) in [(0usize, period), (1usize, prev)] {
            let ncols = specs.len();
            let job = source_values(
                db.clone(),
                like.clone(),
                source,
                specs.clone(),
                p,
                tree.large,
                versions.clone(),
            );
            let key = source.key;
            jobs.push(async move { Ok::<_, AppError>((key, no, job.await?, ncols)) });
        }
    }
    let mut rolled: HashMap<(&'static str, usize), Vec<Vec<i64>>> = HashMap::new();
    // Each org's own values of the current period, when asked for.
    let mut keep = |source: &'static str, no: usize, values: &HashMap<i64, Vec<i64>>| {
        let Some(out) = per_org.as_deref_mut() else {
            return;
        };
        if no != 0 {
            return;
        }
        let codes: Vec<&'static str> = cat
            .iter()
            .filter(|i| i.source().map(|s| s.key) == Some(source))
            .map(|i| i.code)
            .collect();
        for (org, vals) in values {
            let e = out.entry(*org).or_default();
            for (code, v) in codes.iter().zip(vals) {
                e.insert(code, *v);
            }
        }
    };
    if mode.concurrent {
        let mut set = tokio::task::JoinSet::new();
        for job in jobs {
            set.spawn(job);
        }
        while let Some(done) = set.join_next().await {
            let (source, no, values, ncols) =
                done.map_err(|e| AppError::Internal(anyhow::anyhow!("figures task: {e}")))??;
            keep(source, no, &values);
            rolled.insert((source, no), tree.roll_up(&values, ncols));
        }
    } else {
        for job in jobs {
            let (source, no, values, ncols) = job.await?;
            keep(source, no, &values);
            rolled.insert((source, no), tree.roll_up(&values, ncols));
        }
    }
    for source in sources {
        let inds: Vec<&Indicator> = cat
            .iter()
            .filter(|i| i.source().map(|s| s.key) == Some(source.key))
            .collect();
        let (cur, before) = (&rolled[&(source.key, 0)], &rolled[&(source.key, 1)]);
        for (k, i) in inds.iter().enumerate() {
            raw.insert(
                i.code,
                Raw {
                    buckets: cur[k].iter().map(|v| Amount::Count(*v)).collect(),
                    cur: Amount::Count(cur[k].iter().sum()),
                    prev: Amount::Count(before[k].iter().sum()),
                },
            );
        }
    }

    // Manual values: the sum of what the orgs of the subtree entered for exactly this period.
    let manual_codes: Vec<&'static str> = cat
        .iter()
        .filter(|i| i.is_manual())
        .map(|i| i.code)
        .collect();
    if !manual_codes.is_empty() {
        for (no, p) in [(0usize, period), (1, prev)] {
            let rows = sqlx::query(
                "SELECT mv.org_id, mv.indicator, CAST(SUM(mv.value) AS BIGINT) AS v FROM manual_values mv \
                 JOIN orgs o ON o.id = mv.org_id \
                 WHERE o.path LIKE $1 AND mv.period_start = $2 AND mv.period_end = $3 \
                 GROUP BY mv.org_id, mv.indicator",
            )
            .bind(&like)
            .bind(p.start.to_string())
            .bind(p.end.to_string())
            .fetch_all(db.pool())
            .await?;
            for code in &manual_codes {
                let entry = raw.entry(code).or_insert_with(|| Raw {
                    buckets: vec![Amount::NotEntered; tree.buckets()],
                    cur: Amount::NotEntered,
                    prev: Amount::NotEntered,
                });
                for r in &rows {
                    let ind: String = r.try_get("indicator")?;
                    if ind != *code {
                        continue;
                    }
                    let org: i64 = r.try_get("org_id")?;
                    let v: i64 = r.try_get("v")?;
                    let add = |a: Amount| match a {
                        Amount::Count(n) => Amount::Count(n + v),
                        _ => Amount::Count(v),
                    };
                    if no == 0 {
                        let b = tree.bucket.get(&org).copied().unwrap_or(0);
                        entry.buckets[b] = add(entry.buckets[b]);
                        entry.cur = add(entry.cur);
                    } else {
                        entry.prev = add(entry.prev);
                    }
                }
            }
        }
    }

    // Ratios from their rolled-up parts.
    for i in cat {
        if let Kind::Ratio { num, den } = i.kind {
            let (n, d) = (&raw[num], &raw[den]);
            let pair = |a: Amount, b: Amount| {
                Amount::Ratio(a.count().unwrap_or(0), b.count().unwrap_or(0))
            };
            let r = Raw {
                buckets: n
                    .buckets
                    .iter()
                    .zip(&d.buckets)
                    .map(|(a, b)| pair(*a, *b))
                    .collect(),
                cur: pair(n.cur, d.cur),
                prev: pair(n.prev, d.prev),
            };
            raw.insert(i.code, r);
        }
    }

    let mut sections: Vec<SectionOut> = Vec::new();
    for i in cat {
        let r = &raw[i.code];
        let (numerator, denominator) = match r.cur {
            Amount::Ratio(n, d) => (Some(n), Some(d)),
            _ => (None, None),
        };
        let (numerator_code, denominator_code) = match i.kind {
            Kind::Ratio { num, den } => (Some(num), Some(den)),
            _ => (None, None),
        };
        let breakdown = r
            .buckets
            .iter()
            .enumerate()
            .map(|(b, a)| Cell {
                org_id: (b > 0).then(|| tree.children[b - 1].id.0),
                value: a.json(),
                display: a.display(i.unit, Rounding::Exact),
                numerator: match a {
                    Amount::Ratio(n, _) => Some(*n),
                    _ => None,
                },
                denominator: match a {
                    Amount::Ratio(_, d) => Some(*d),
                    _ => None,
                },
                amount: *a,
            })
            .collect();
        let f = Figure {
            code: i.code,
            name: i.name_zh,
            name_en: i.name_en,
            unit: i.unit.symbol(),
            kind: i.kind.as_str(),
            group: i.group,
            manual: i.is_manual(),
            value: r.cur.json(),
            display: r.cur.display(i.unit, Rounding::Exact),
            previous: r.prev.json(),
            previous_display: r.prev.display(i.unit, Rounding::Exact),
            change: change(r.cur, r.prev),
            numerator,
            denominator,
            numerator_code,
            denominator_code,
            breakdown,
            amount: r.cur,
            previous_amount: r.prev,
            unit_kind: Some(i.unit),
            headline: i.headline,
        };
        match sections.iter_mut().find(|s| s.key == i.section.key) {
            Some(s) => s.figures.push(f),
            None => sections.push(SectionOut {
                key: i.section.key,
                name: i.section.zh,
                name_en: i.section.en,
                figures: vec![f],
            }),
        }
    }
    Ok(FigureTable {
        org: OrgRef::from(&tree.org),
        period: period.out(),
        previous_period: prev.out(),
        children: tree.children.iter().map(OrgRef::from).collect(),
        sections,
    })
}

/// The dates of the dashboard's monthly trend: the month ends of `year`, then
/// those of the year before.
pub fn trend_ends(year: i32) -> AppResult<Vec<NaiveDate>> {
    let mut ends = Period::year(year)?.month_ends();
    ends.extend(Period::year(year - 1)?.month_ends());
    Ok(ends)
}

/// A counted point-in-time indicator at several dates, over the whole subtree,
/// in one pass (the dashboard's monthly trend), per org through the cache.
pub async fn trend(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    code: &str,
    ends: &[NaiveDate],
) -> AppResult<Vec<i64>> {
    trend_with(db, scope, org_id, code, ends, Mode::SERVE).await
}

/// [`trend`] read from the records, bypassing the cache (tests, benchmarks).
pub async fn trend_uncached(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    code: &str,
    ends: &[NaiveDate],
) -> AppResult<Vec<i64>> {
    trend_with(db, scope, org_id, code, ends, Mode::UNCACHED).await
}

async fn trend_with(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    code: &str,
    ends: &[NaiveDate],
    mode: Mode,
) -> AppResult<Vec<i64>> {
    let ind = db.indicator(code)?;
    let (
        Definition::Records {
            source,
            when,
            measure,
        },
        Kind::PointInTime,
    ) = (ind.definition, ind.kind)
    else {
        return Err(AppError::invalid(
            format!("指标“{}”不是期末数指标,不能画月度走势", ind.name_zh),
            format!(
                "“{}” is not a point-in-time indicator; it has no monthly trend",
                ind.name_en
            ),
        ));
    };
    let org = orgs::get(db, scope, org_id).await?;
    let cols: Vec<Col> = ends
        .iter()
        .enumerate()
        .map(|(k, e)| Col {
            when,
            measure,
            flow: false,
            period_no: k,
            period: Period { start: *e, end: *e },
        })
        .collect();
    let like = format!("{}%", org.path);
    let values = if mode.cached && source.cached {
        let versions = dataver::versions(db, &like).await?;
        let large = is_large(db, versions.len()).await?;
        per_org_cached(db, &like, source, &cols, large, &versions).await?
    } else {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE path LIKE $1")
            .bind(&like)
            .fetch_one(db.pool())
            .await?;
        let large = is_large(db, n as usize).await?;
        per_org(db, &like, source, &cols, large, None).await?
    };
    let mut out = vec![0i64; ends.len()];
    for v in values.values() {
        for (k, x) in v.iter().enumerate() {
            out[k] += x;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// warm-up

/// Fills the cache, in the background, with what the city's dashboard shows
/// first: the root org's table for the current year (with last year) and the
/// monthly member trend. It only reads, one query at a time, so it never
/// holds the SQLite writer or more than one pool connection; failures are
/// logged. Warm-ups run one after the other.
pub fn warm_up(db: Db) {
    tokio::spawn(async move { warm_logged(&db).await });
}

/// Warms again after every bulk write this process announces (an import
/// through the web), so the unions just imported are recomputed before
/// anyone asks.
pub fn warm_after_writes(db: Db) {
    tokio::spawn(async move {
        loop {
            db.org_cache().bulk_written().await;
            warm_logged(&db).await;
        }
    });
}

/// [`warm`], logged, then counted as a finished warm-up.
async fn warm_logged(db: &Db) {
    let started = std::time::Instant::now();
    match warm(db).await {
        Ok(()) => tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "statistics cache warm"
        ),
        Err(e) => tracing::warn!(error = %e, "statistics warm-up failed"),
    }
    db.org_cache().warmup_finished();
}

/// Keeps the dashboard warm after writes this server did not make itself (a
/// `gonghui import` on the command line, another server process): every
/// `every` (config `stats_watch_secs`, 30 s by default) it reads the sum of the org data versions and, when it
/// moved, warms again — which recomputes only the stale orgs, a few
/// milliseconds for a union's change, a few seconds after a million-row
/// import. Without it the first dashboard view after such an import would
/// pay that.
pub fn keep_warm(db: Db, every: std::time::Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut seen = dataver::total(&db).await.ok();
        let mut every = tokio::time::interval(every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            let now = match dataver::total(&db).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::debug!(error = %e, "statistics watch: cannot read data versions");
                    continue;
                }
            };
            if seen != Some(now) {
                seen = Some(now);
                warm_logged(&db).await;
            }
        }
    });
}

async fn warm(db: &Db) -> AppResult<()> {
    let _one_at_a_time = db.org_cache().warming.lock().await;
    let Some(root) = orgs::root(db).await? else {
        return Ok(());
    };
    let scope = Scope::system(
        platform::scope::Actor::system("warm-up"),
        root.id,
        root.path.clone(),
    );
    let year = time::today().year();
    table_with(db, &scope, root.id, Period::year(year)?, Mode::WARM, None).await?;
    let ends = trend_ends(year)?;
    trend_with(db, &scope, root.id, "members_total", &ends, Mode::WARM).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// drill-down

/// A column of a drill-down list, as the page and the API show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DrillColumnOut {
    /// The key of the column's value in each row.
    pub key: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    /// text | number | money | age | label | flag | link | hidden
    pub show: &'static str,
    /// For links: the address, `{}` standing for the row's `link_key` value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_key: Option<&'static str>,
}

impl DrillColumnOut {
    fn is_shown(&self) -> bool {
        self.show != "hidden"
    }
    pub fn is_number(&self) -> bool {
        matches!(self.show, "number" | "money" | "age")
    }
}

/// One record behind a figure: column key → value (text, number, flag or null).
pub type DrillRow = serde_json::Map<String, Value>;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ManualRecord {
    pub org_code: String,
    pub org_name: String,
    pub value: i64,
    pub note: String,
    pub entered_at: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Drill {
    pub code: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
    pub unit: &'static str,
    pub org: OrgRef,
    pub period: PeriodOut,
    /// What the records are: the source's subject ("orgs", "members", a
    /// module's own) or "manual".
    pub subject: &'static str,
    /// The rows hold personal data (masked; the view is audited).
    pub personal: bool,
    /// Number of records behind the figure: equals a count or distinct
    /// count; for a sum the number of records summed; for a manual indicator
    /// the number of entries (the figure is the sum of their values).
    pub total: i64,
    /// For a sum: the sum over every record behind the figure (equals it).
    pub sum: Option<i64>,
    pub page: i64,
    pub per_page: i64,
    pub columns: Vec<DrillColumnOut>,
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<DrillRow>,
    pub entries: Vec<ManualRecord>,
}

impl Drill {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    /// The shown columns (for the page).
    pub fn shown(&self) -> Vec<&DrillColumnOut> {
        self.columns.iter().filter(|c| c.is_shown()).collect()
    }

    /// A row's cell as the page shows it: (text, link, right-aligned).
    pub fn cell(&self, row: &DrillRow, col: &DrillColumnOut) -> (String, Option<String>, bool) {
        let text = match row.get(col.key) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => {
                if *b {
                    "✓".into()
                } else {
                    String::new()
                }
            }
            Some(Value::Number(n)) if col.show == "money" => n
                .as_i64()
                .map(|f| numfmt::format_fen_table(f, false))
                .unwrap_or_default(),
            Some(v) => v.to_string(),
        };
        let link = match (col.href, col.link_key) {
            (Some(href), Some(k)) => row.get(k).map(|id| {
                let id = match id {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                href.replace("{}", &id)
            }),
            _ => None,
        };
        (text, link, col.is_number())
    }
}

fn column_out(c: &platform::indicator::DrillColumn) -> DrillColumnOut {
    let (show, href, link_key) = match c.show {
        Show::Text => ("text", None, None),
        Show::Number => ("number", None, None),
        Show::Money => ("money", None, None),
        Show::AgeAtEnd => ("age", None, None),
        Show::Label(_) => ("label", None, None),
        Show::Flag(..) => ("flag", None, None),
        Show::Link { href, id_key } => ("link", Some(href), Some(id_key)),
        Show::Hidden => ("hidden", None, None),
    };
    DrillColumnOut {
        key: c.key,
        name: c.zh,
        name_en: c.en,
        show,
        href,
        link_key,
    }
}

/// A drill-down cell's value from its row, as the column shows it.
fn cell_value(
    r: &sqlx::any::AnyRow,
    i: usize,
    c: &platform::indicator::DrillColumn,
    period: &Period,
) -> AppResult<Value> {
    use sqlx::{TypeInfo, ValueRef};
    let raw = r.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let is_int = {
        let t = raw.type_info();
        let n = t.name().to_ascii_uppercase();
        n.contains("INT")
    };
    Ok(match c.show {
        Show::Number | Show::Money => json!(r.try_get::<i64, _>(i)?),
        Show::Flag(zh, _) => {
            let on = if is_int {
                r.try_get::<i64, _>(i)? == 1
            } else {
                r.try_get::<String, _>(i)? == "1"
            };
            let _ = zh;
            json!(on)
        }
        Show::AgeAtEnd => {
            let birth: String = r.try_get(i)?;
            match time::parse_date(&birth) {
                Some(b) => json!(ident::age_on(b, period.end)),
                None => Value::Null,
            }
        }
        Show::Label(labels) => {
            let v: String = r.try_get(i)?;
            match labels.iter().find(|(k, ..)| *k == v) {
                Some((_, zh, _)) => json!(zh),
                None => json!(v),
            }
        }
        Show::Text | Show::Link { .. } | Show::Hidden => {
            if is_int {
                json!(r.try_get::<i64, _>(i)?)
            } else {
                json!(r.try_get::<String, _>(i)?)
            }
        }
    })
}

pub const DRILL_PER_PAGE: i64 = 50;

/// The records behind one figure, a page at a time, listed from the same
/// declaration the figure is computed from (source, condition, measure), so
/// the count (or sum) of the list is the figure. Personal lists are masked
/// by their declaration and every view of one is audited.
pub async fn drill(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    code: &str,
    period: Period,
    page: i64,
    per_page: i64,
) -> AppResult<Drill> {
    let ind = db.indicator(code)?;
    if let Kind::Ratio { num, den } = ind.kind {
        return Err(AppError::invalid(
            format!(
                "“{}”是比率,请分别查看分子({num})与分母({den})的明细",
                ind.name_zh
            ),
            format!(
                "“{}” is a ratio; drill into its numerator ({num}) and denominator ({den})",
                ind.name_en
            ),
        ));
    }
    let org = orgs::get(db, scope, org_id).await?;
    let page = page.max(1);
    let per_page = per_page.clamp(1, 500);
    let offset = (page - 1).saturating_mul(per_page);
    let like = format!("{}%", org.path);
    let mut d = Drill {
        code: ind.code,
        name: ind.name_zh,
        name_en: ind.name_en,
        unit: ind.unit.symbol(),
        org: OrgRef::from(&org),
        period: period.out(),
        subject: "manual",
        personal: false,
        total: 0,
        sum: None,
        page,
        per_page,
        columns: vec![],
        rows: vec![],
        entries: vec![],
    };
    let Definition::Records {
        source,
        when,
        measure,
    } = ind.definition
    else {
        // Manual: the entries of the subtree's orgs for this period.
        let rows = sqlx::query(
            "SELECT o.code, o.name, mv.value, mv.note, mv.entered_at FROM manual_values mv JOIN orgs o ON o.id = mv.org_id \
             WHERE o.path LIKE $1 AND mv.indicator = $2 AND mv.period_start = $3 AND mv.period_end = $4 ORDER BY o.code",
        )
        .bind(&like)
        .bind(ind.code)
        .bind(period.start.to_string())
        .bind(period.end.to_string())
        .fetch_all(db.pool())
        .await?;
        for r in &rows {
            d.entries.push(ManualRecord {
                org_code: r.try_get("code")?,
                org_name: r.try_get("name")?,
                value: r.try_get("value")?,
                note: r.try_get("note")?,
                entered_at: r.try_get("entered_at")?,
            });
        }
        d.total = d.entries.len() as i64;
        return Ok(d);
    };
    d.subject = source.subject;
    d.personal = source.personal;
    d.columns = source.drill_columns.iter().map(column_out).collect();
    let mut b = Binder::new(like);
    let cond = b.when(when, 0, &period);
    // LIMIT/OFFSET are bound as integers after the text parameters.
    let lim = format!("${}", b.params.len() + 1);
    let off = format!("${}", b.params.len() + 2);
    let params = b.params;
    let from = source.from;
    let mut filter = format!("o.path LIKE $1 AND ({cond})");
    if let Measure::Distinct(col) = measure {
        // What COUNT(DISTINCT …) leaves out.
        filter.push_str(&format!(" AND {col} IS NOT NULL"));
    }
    let count_sql = match measure {
        Measure::Distinct(col) => format!(
            "SELECT COUNT(*) FROM (SELECT DISTINCT {}, {col} FROM {from} WHERE {filter}) t",
            source.org_column
        ),
        Measure::Count | Measure::Sum(_) => format!("SELECT COUNT(*) FROM {from} WHERE {filter}"),
    };
    d.total = bound(&count_sql, &params)
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    if let Measure::Sum(col) = measure {
        let sum_sql =
            format!("SELECT CAST(COALESCE(SUM({col}), 0) AS BIGINT) FROM {from} WHERE {filter}");
        d.sum = Some(
            bound(&sum_sql, &params)
                .fetch_one(db.pool())
                .await?
                .try_get(0)?,
        );
    }
    // Integers as BIGINT on both backends (PostgreSQL's SUM of a BIGINT is
    // NUMERIC), so a module's aggregates decode the same everywhere.
    let select: Vec<String> = source
        .drill_columns
        .iter()
        .map(|c| match c.show {
            Show::Number | Show::Money => format!("CAST({} AS BIGINT)", c.expr),
            _ => c.expr.to_string(),
        })
        .collect();
    let group = match (measure, source.drill_group) {
        (Measure::Distinct(_), Some(g)) => format!(" GROUP BY {g}"),
        _ => String::new(),
    };
    let list_sql = format!(
        "SELECT {} FROM {from} WHERE {filter}{group} ORDER BY {} LIMIT {lim} OFFSET {off}",
        select.join(", "),
        source.drill_order
    );
    let rows = bound(&list_sql, &params)
        .bind(per_page)
        .bind(offset)
        .fetch_all(db.pool())
        .await?;
    for r in &rows {
        let mut row = DrillRow::new();
        for (i, c) in source.drill_columns.iter().enumerate() {
            row.insert(c.key.to_string(), cell_value(r, i, c, &period)?);
        }
        d.rows.push(row);
    }
    if source.personal {
        audit::record(
            db,
            &scope.actor,
            Event::new("report.drill", "indicator", ind.code)
                .org(org.id)
                .detail(json!({
                    "period": period.spec(), "page": page, "rows": d.rows.len(), "total": d.total
                })),
        )
        .await?;
    }
    Ok(d)
}

// ---------------------------------------------------------------------------
// manual values

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ManualValue {
    pub org: OrgRef,
    pub code: &'static str,
    pub name: &'static str,
    pub period: PeriodOut,
    pub value: i64,
    pub note: String,
    pub manual: bool,
}

/// Enters (or replaces) an org's own value of a manual indicator for a period.
/// Derived indicators are refused: their figure comes from the records.
pub async fn set_manual(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    code: &str,
    period: Period,
    value: i64,
    note: &str,
) -> AppResult<ManualValue> {
    let ind = db.indicator(code)?;
    if !ind.is_manual() {
        let what = match ind.kind {
            Kind::Ratio { .. } => "由分子和分母计算得出",
            _ => "由系统根据业务记录自动统计",
        };
        return Err(AppError::invalid(
            format!(
                "指标“{}”({}){what},不能手工填报;如数字有误,请更正其背后的记录(组织信息或会员名册)",
                ind.name_zh, ind.code
            ),
            format!(
                "“{}” ({}) is derived from the records and cannot be entered by hand; if it is wrong, correct the records behind it (the org tree or the member roster)",
                ind.name_en, ind.code
            ),
        ));
    }
    scope.require_write()?;
    if !(0..=1_000_000_000_000).contains(&value) {
        return Err(AppError::invalid(
            format!("填报值{value}超出范围:须为0至1万亿的整数"),
            format!("Value {value} is out of range: enter a whole number from 0 to 10^12"),
        ));
    }
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(AppError::invalid(
            "说明过长(最多500字)",
            "The note is too long (500 characters at most)",
        ));
    }
    let org = orgs::get(db, scope, org_id).await?;
    let mut tx = db.begin_write().await?;
    let before: Option<i64> = sqlx::query_scalar(
        "SELECT value FROM manual_values WHERE org_id = $1 AND indicator = $2 AND period_start = $3 AND period_end = $4",
    )
    .bind(org.id.0)
    .bind(ind.code)
    .bind(period.start.to_string())
    .bind(period.end.to_string())
    .fetch_optional(&mut *tx.tx)
    .await?;
    let now = time::now_rfc3339();
    if before.is_some() {
        sqlx::query(
            "UPDATE manual_values SET value = $1, note = $2, entered_by = $3, entered_at = $4 \
             WHERE org_id = $5 AND indicator = $6 AND period_start = $7 AND period_end = $8",
        )
        .bind(value)
        .bind(note)
        .bind(scope.actor.user_id.map(|u| u.0))
        .bind(&now)
        .bind(org.id.0)
        .bind(ind.code)
        .bind(period.start.to_string())
        .bind(period.end.to_string())
        .execute(&mut *tx.tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO manual_values (org_id, indicator, period_start, period_end, value, note, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org.id.0)
        .bind(ind.code)
        .bind(period.start.to_string())
        .bind(period.end.to_string())
        .bind(value)
        .bind(note)
        .bind(scope.actor.user_id.map(|u| u.0))
        .bind(&now)
        .execute(&mut *tx.tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("report.manual", "indicator", ind.code)
            .org(org.id)
            .detail(json!({
                "period": period.spec(), "before": before, "after": value, "note": note
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(ManualValue {
        org: OrgRef::from(&org),
        code: ind.code,
        name: ind.name_zh,
        period: period.out(),
        value,
        note: note.to_string(),
        manual: true,
    })
}

/// The values the org itself entered for a period (for the entry form).
pub async fn own_manual(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    period: Period,
) -> AppResult<Vec<ManualValue>> {
    let org = orgs::get(db, scope, org_id).await?;
    let rows = sqlx::query(
        "SELECT indicator, value, note FROM manual_values WHERE org_id = $1 AND period_start = $2 AND period_end = $3",
    )
    .bind(org.id.0)
    .bind(period.start.to_string())
    .bind(period.end.to_string())
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for i in db.catalogue().iter().filter(|i| i.is_manual()) {
        if let Some(r) = rows
            .iter()
            .find(|r| r.try_get::<String, _>("indicator").ok().as_deref() == Some(i.code))
        {
            out.push(ManualValue {
                org: OrgRef::from(&org),
                code: i.code,
                name: i.name_zh,
                period: period.out(),
                value: r.try_get("value")?,
                note: r.try_get("note")?,
                manual: true,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue of the modules whose indicators the engine serves here.
    fn catalogue() -> Vec<Indicator> {
        let r = platform::module::Registry::new(vec![
            crate::module(),
            ::orgs::module(),
            members::module(),
        ]);
        r.indicators()
    }

    fn find(code: &str) -> AppResult<Indicator> {
        platform::indicator::find(&catalogue(), code)
    }

    #[test]
    fn binder_numbers_tokens_once_per_period() {
        let p = Period::parse("2026").unwrap();
        let q = p.previous_year();
        let mut b = Binder::new("/1/%".into());
        let a = b.when("x <= {end} AND y > {end} AND z >= {start}", 0, &p);
        let c = b.when("x <= {end}", 1, &q);
        let again = b.when("w <= {end}", 0, &p);
        assert_eq!(a, "x <= $3 AND y > $3 AND z >= $2");
        assert_eq!(c, "x <= $4");
        assert_eq!(again, "w <= $3");
        assert_eq!(
            b.params,
            vec!["/1/%", "2026-01-01", "2026-12-31", "2025-12-31"]
        );
    }

    /// The cache keys per-org values by the org's data version, which moves
    /// with the org's member records and persons; a member condition that
    /// read the org row (`o.` columns) would need org edits to bump it too.
    #[test]
    fn cached_conditions_read_only_member_records() {
        for i in catalogue() {
            let Definition::Records { source, when, .. } = i.definition else {
                continue;
            };
            if !source.cached {
                continue;
            }
            let b = when.as_bytes();
            for (k, _) in when.match_indices("o.") {
                let prev = if k == 0 { b' ' } else { b[k - 1] };
                assert!(
                    prev.is_ascii_alphanumeric() || prev == b'_',
                    "{}: reads the org row",
                    i.code
                );
            }
        }
    }

    #[test]
    fn conjuncts_split_only_plain_top_level_ands() {
        assert_eq!(
            conjuncts("a <= $3 AND ((b IS NULL AND c <> 'x') OR d > $3) AND p.g = 'AND'"),
            Some(vec![
                "a <= $3",
                "((b IS NULL AND c <> 'x') OR d > $3)",
                "p.g = 'AND'"
            ])
        );
        assert_eq!(conjuncts("x = 1"), Some(vec!["x = 1"]));
        assert_eq!(
            conjuncts("p.education NOT IN ('a', 'b') and p.band = 'or'"),
            Some(vec!["p.education NOT IN ('a', 'b')", "p.band = 'or'"])
        );
        // Not plain conjunctions: kept whole.
        assert_eq!(conjuncts("a = 1 AND b = 2 OR c = 3"), None);
        assert_eq!(conjuncts("a = 1 and b = 2 or c = 3"), None);
        assert_eq!(conjuncts("x BETWEEN 1 AND 2"), None);
        assert_eq!(conjuncts("CASE WHEN a AND b THEN 1 END = 1"), None);
        assert_eq!(conjuncts("a AND"), None);
        assert_eq!(conjuncts("(a AND b"), None);
        // Words containing AND/OR are not operators.
        assert_eq!(
            conjuncts("m.ORDER_no = 1 AND p.ANDx = 2"),
            Some(vec!["m.ORDER_no = 1", "p.ANDx = 2"])
        );
    }

    #[test]
    fn factor_moves_the_shared_leading_conjuncts_out() {
        let conds: Vec<String> = [
            "a AND (b OR c) AND x = 1",
            "a AND (b OR c)",
            "a AND (b OR c) AND y AND z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (shared, rests) = factor(&conds);
        assert_eq!(shared, vec!["a", "(b OR c)"]);
        assert_eq!(rests, vec!["x = 1", "1 = 1", "y AND z"]);
        // Different periods (other parameters): nothing shared.
        let conds = vec!["m.j <= $2".to_string(), "m.j <= $3".to_string()];
        assert_eq!(factor(&conds), (vec![], conds.clone()));
        // One condition that is not a plain conjunction: nothing moved.
        let conds = vec!["a AND b".to_string(), "a AND b OR c".to_string()];
        assert_eq!(factor(&conds), (vec![], conds.clone()));
    }

    /// Every member column set the table computes shares its period test.
    #[test]
    fn the_member_sources_share_their_period_test() {
        let p = Period::parse("2026").unwrap();
        for source in [
            &members::indicators::MEMBERSHIPS,
            &members::indicators::MEMBER_EVENTS,
        ] {
            let mut b = Binder::new("/1/%".into());
            let conds: Vec<String> = catalogue()
                .iter()
                .filter_map(|i| match i.definition {
                    Definition::Records {
                        source: s, when, ..
                    } if s.key == source.key => Some(b.when(when, 0, &p)),
                    _ => None,
                })
                .collect();
            let (shared, _) = factor(&conds);
            assert_eq!(shared.len(), 2, "{}: {shared:?}", source.key);
        }
    }

    #[test]
    fn cache_keys_differ_by_period_and_conditions() {
        let p = Period::parse("2026").unwrap();
        let q = p.previous_year();
        let col = |when, period| Col {
            when,
            measure: Measure::Count,
            flow: false,
            period_no: 0,
            period,
        };
        let a = cache_key(&members::indicators::MEMBERSHIPS, &[col("x = 1", p)]);
        assert_eq!(
            a,
            cache_key(&members::indicators::MEMBERSHIPS, &[col("x = 1", p)])
        );
        assert_ne!(
            a,
            cache_key(&members::indicators::MEMBERSHIPS, &[col("x = 1", q)])
        );
        assert_ne!(
            a,
            cache_key(&members::indicators::MEMBERSHIPS, &[col("x = 2", p)])
        );
        assert_ne!(
            a,
            cache_key(&members::indicators::MEMBER_EVENTS, &[col("x = 1", p)])
        );
        let sum = Col {
            measure: Measure::Sum("m.x"),
            ..col("x = 1", p)
        };
        assert_ne!(a, cache_key(&members::indicators::MEMBERSHIPS, &[sum]));
        assert_ne!(
            cache_key(
                &members::indicators::MEMBERSHIPS,
                &[col("x = 1", p), col("x = 2", p)]
            ),
            cache_key(
                &members::indicators::MEMBERSHIPS,
                &[col("x = 2", p), col("x = 1", p)]
            )
        );
    }

    /// A write that commits after the versions were read but before the
    /// computation: the values include it, but they are stored under the old
    /// version, so the next reader recomputes instead of trusting them.
    #[tokio::test]
    async fn a_write_racing_a_computation_leaves_the_entry_stale_not_wrong() {
        use platform::scope::Actor;
        let env = orgs_env().await;
        let db = &env.state.db;
        let root = orgs::root(db).await.unwrap().unwrap();
        let scope = Scope::system(Actor::system("test"), root.id, root.path.clone());
        let union = orgs::get_by_code(db, &scope, "SF-01-S1-001").await.unwrap();
        let period = Period::year(time::today().year()).unwrap();
        let like = format!("{}%", root.path);
        let when = match find("members_total").unwrap().definition {
            Definition::Records { when, .. } => when,
            _ => unreachable!(),
        };
        let cols = [Col {
            when,
            measure: Measure::Count,
            flow: false,
            period_no: 0,
            period,
        }];
        let read_first = dataver::versions(db, &like).await.unwrap();
        enrol_in_union(&env, &scope, "竞态").await;
        let values = per_org_cached(
            db,
            &like,
            &members::indicators::MEMBERSHIPS,
            &cols,
            true,
            &read_first,
        )
        .await
        .unwrap();
        assert_eq!(values[&union.id.0], vec![1], "computed after the write");
        let now = dataver::versions(db, &like).await.unwrap();
        assert_eq!(now[&union.id.0], read_first[&union.id.0] + 1);
        let l = db.org_cache().lookup(
            &cache_key(&members::indicators::MEMBERSHIPS, &cols),
            1,
            &now,
        );
        assert_eq!(l.stale, vec![union.id.0], "stale: recomputed next time");
        let served = table(db, &scope, union.id, period).await.unwrap();
        let fresh = table_uncached(db, &scope, union.id, period).await.unwrap();
        assert_eq!(
            serde_json::to_value(&served).unwrap(),
            serde_json::to_value(&fresh).unwrap()
        );
        assert_eq!(
            served.get("members_total").unwrap().amount,
            Amount::Count(1)
        );
    }

    /// The demo org tree, without members, on a fresh database.
    async fn orgs_env() -> platform::testing::TestEnv {
        let registry = std::sync::Arc::new(platform::module::Registry::new(vec![
            crate::module(),
            ::orgs::module(),
            members::module(),
        ]));
        let env = platform::testing::env(registry).await.unwrap();
        ::orgs::demo::seed_orgs_and_accounts(&env.state)
            .await
            .unwrap();
        env
    }

    /// Enrols one member, joining today, in SF-01-S1-001 through the registry.
    async fn enrol_in_union(env: &platform::testing::TestEnv, scope: &Scope, name: &str) {
        let raw = members::model::RawMember {
            name: name.into(),
            id_number: "110102198405069701".into(),
            org_code: "SF-01-S1-001".into(),
            change_date: time::today().to_string(),
            ..Default::default()
        };
        members::store::enrol_one(&env.state.db, &env.state.keys, scope, &raw)
            .await
            .unwrap();
    }

    /// A write this server did not make (as by a CLI import next to it) is
    /// noticed by the watch, which warms the city's table again.
    #[tokio::test]
    async fn the_watch_warms_again_after_writes_made_elsewhere() {
        let env = orgs_env().await;
        let db = &env.state.db;
        let root = orgs::root(db).await.unwrap().unwrap();
        let scope = Scope::system(
            platform::scope::Actor::system("test"),
            root.id,
            root.path.clone(),
        );
        let period = Period::year(time::today().year()).unwrap();
        warm(db).await.unwrap();
        keep_warm(db.clone(), std::time::Duration::from_millis(50));
        let done = db.org_cache().warmups_done();
        enrol_in_union(&env, &scope, "看守").await;
        for _ in 0..200 {
            if db.org_cache().warmups_done() > done {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(
            db.org_cache().warmups_done() > done,
            "the watch warmed again"
        );
        let before = db.org_cache().stats();
        let t = table(db, &scope, root.id, period).await.unwrap();
        assert_eq!(db.org_cache().stats().misses, before.misses, "served warm");
        assert_eq!(t.get("members_total").unwrap().amount, Amount::Count(1));
    }

    #[test]
    fn ratios_and_changes_use_numfmt_rules() {
        assert_eq!(percent_1dp(84, 100), Some(84.0));
        assert_eq!(percent_1dp(1, 3), Some(33.3));
        assert_eq!(percent_1dp(2, 3), Some(66.7));
        assert_eq!(percent_1dp(0, 0), None);
        assert_eq!(
            Amount::Ratio(0, 5).display(numfmt::Unit::Percent, Rounding::Exact),
            "0%"
        );
        assert_eq!(
            Amount::Ratio(0, 0).display(numfmt::Unit::Percent, Rounding::Exact),
            "—"
        );
        assert_eq!(change(Amount::Count(110), Amount::Count(100)), "+10.0%");
        assert_eq!(change(Amount::Count(5), Amount::Count(0)), "—");
        assert_eq!(change(Amount::NotEntered, Amount::Count(3)), "—");
    }
}
