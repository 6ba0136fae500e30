//! 职工人数: the workforce of the unit a grassroots union is founded in —
//! workers, women workers, 农民工 workers — recorded as of a date, as the
//! roster is. A history per union: the figure for a period is the union's
//! latest value as of the period's end (see `indicators::WORKFORCE`), so
//! 入会率 (members / workforce) and the coverage figures can be computed.
//!
//! One write path: the org page's form, the API and the import
//! (`gonghui import workforce FILE`) all validate into [`Values`] and write
//! through [`write`]. An import is all or nothing: a file with a bad row
//! writes nothing and says which rows and why.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{model::OrgLevel, store};
use platform::{
    audit::{self, Event},
    db::Db,
    error::{AppError, AppResult},
    i18n::Msg,
    ids::OrgId,
    scope::Scope,
    time,
};

/// The largest workforce a union may record (a sanity bound, not a rule).
pub const MAX_COUNT: i64 = 10_000_000;
/// Rows an import file may hold.
pub const MAX_IMPORT_ROWS: usize = 20_000;

/// One recorded value.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Workforce {
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    /// The date the figures are as of (YYYY-MM-DD).
    pub as_of: String,
    /// 职工人数
    pub workforce: i64,
    /// 女职工人数
    pub women: i64,
    /// 农民工人数
    pub migrant: i64,
    /// form | api | import:<file>
    pub source: String,
    pub recorded_at: String,
}

/// Validated values, ready to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Values {
    pub as_of: NaiveDate,
    pub workforce: i64,
    pub women: i64,
    pub migrant: i64,
}

/// What the API takes.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct WorkforceBody {
    /// YYYY-MM-DD; not in the future.
    pub as_of: String,
    pub workforce: i64,
    #[serde(default)]
    pub women: i64,
    #[serde(default)]
    pub migrant: i64,
}

/// What the org page's form posts (text, so a bad value gets a clear message).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WorkforceForm {
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub workforce: String,
    #[serde(default)]
    pub women: String,
    #[serde(default)]
    pub migrant: String,
}

fn bad(zh: impl Into<String>, en: impl Into<String>) -> Msg {
    Msg::new(zh.into(), en.into())
}

/// A count typed as text: a whole number from 0 to [`MAX_COUNT`]; empty is
/// 0 unless `required`.
fn parse_count(raw: &str, zh: &str, en: &str, required: bool) -> Result<i64, Msg> {
    let s = raw.trim().replace([',', ','], "");
    // Spreadsheets hand whole numbers over as "120.0".
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s.is_empty() {
        return if required {
            Err(bad(format!("请填写{zh}"), format!("{en} is required")))
        } else {
            Ok(0)
        };
    }
    match s.parse::<i64>() {
        Ok(n) => Ok(n),
        Err(_) => Err(bad(
            format!("{zh}“{s}”应为不小于0的整数"),
            format!("{en} “{s}” must be a whole number, 0 or more"),
        )),
    }
}

fn parse_as_of(raw: &str) -> Result<NaiveDate, Msg> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad(
            "请填写截至日期(如 2026-09-30)",
            "The as-of date is required (e.g. 2026-09-30)",
        ));
    }
    time::parse_date(s).ok_or_else(|| {
        bad(
            format!("截至日期“{s}”无效,请按 2026-09-30 格式填写"),
            format!("As-of date “{s}” is invalid; use the form 2026-09-30"),
        )
    })
}

impl Values {
    /// The rules every way in shares: counts 0…[`MAX_COUNT`], women and
    /// 农民工 within the workforce, a date not in the future.
    pub fn check(
        as_of: NaiveDate,
        workforce: i64,
        women: i64,
        migrant: i64,
    ) -> Result<Values, Msg> {
        for (n, zh, en) in [
            (workforce, "职工人数", "Workforce"),
            (women, "女职工人数", "Women workers"),
            (migrant, "农民工人数", "Migrant workers"),
        ] {
            if !(0..=MAX_COUNT).contains(&n) {
                return Err(bad(
                    format!("{zh}{n}超出范围(0至{MAX_COUNT})"),
                    format!("{en} {n} is out of range (0–{MAX_COUNT})"),
                ));
            }
        }
        if women > workforce {
            return Err(bad(
                format!("女职工人数({women})不能多于职工人数({workforce})"),
                format!("Women workers ({women}) cannot exceed the workforce ({workforce})"),
            ));
        }
        if migrant > workforce {
            return Err(bad(
                format!("农民工人数({migrant})不能多于职工人数({workforce})"),
                format!("Migrant workers ({migrant}) cannot exceed the workforce ({workforce})"),
            ));
        }
        if as_of > time::today() {
            return Err(bad(
                format!("截至日期{as_of}晚于今天;职工人数只能按已到的日期填报"),
                format!("The as-of date {as_of} is in the future; record the workforce as of a date that has come"),
            ));
        }
        if as_of < NaiveDate::from_ymd_opt(1949, 1, 1).expect("valid") {
            return Err(bad(
                format!("截至日期{as_of}过早"),
                format!("The as-of date {as_of} is too early"),
            ));
        }
        Ok(Values {
            as_of,
            workforce,
            women,
            migrant,
        })
    }

    pub fn from_form(f: &WorkforceForm) -> AppResult<Values> {
        let parsed = (|| {
            let as_of = parse_as_of(&f.as_of)?;
            let w = parse_count(&f.workforce, "职工人数", "Workforce", true)?;
            let women = parse_count(&f.women, "女职工人数", "Women workers", false)?;
            let migrant = parse_count(&f.migrant, "农民工人数", "Migrant workers", false)?;
            Values::check(as_of, w, women, migrant)
        })();
        parsed.map_err(AppError::Invalid)
    }

    pub fn from_body(b: &WorkforceBody) -> AppResult<Values> {
        let as_of = parse_as_of(&b.as_of).map_err(AppError::Invalid)?;
        Values::check(as_of, b.workforce, b.women, b.migrant).map_err(AppError::Invalid)
    }
}

/// Only a grassroots union records the workforce of its unit (the survey's
/// 已建工会组织的基层单位职工人数); a federation's figure is its subtree's sum.
fn writable(org: &store::Org, v: &Values) -> Result<(), Msg> {
    if org.level != OrgLevel::Grassroots {
        return Err(bad(
            format!(
                "“{}”不是基层工会:职工人数由基层工会按所在单位填报,上级工会的数字由下级汇总",
                org.name
            ),
            format!(
                "“{}” is not a grassroots union: the workforce is recorded by grassroots unions for their unit; a federation's figure is the sum of its subtree",
                org.name
            ),
        ));
    }
    if let Some(closed) = org.closed_on.as_deref().and_then(time::parse_date) {
        if v.as_of > closed {
            return Err(bad(
                format!("“{}”已于{closed}撤销,截至日期不能晚于撤销日期", org.name),
                format!(
                    "“{}” was closed on {closed}; the as-of date cannot be later",
                    org.name
                ),
            ));
        }
    }
    Ok(())
}

/// new | updated | unchanged
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    New,
    Updated,
    Unchanged,
}

/// Writes one value inside the caller's transaction (replacing the value of
/// the same date). The caller has checked scope and rules.
async fn write(
    conn: &mut sqlx::AnyConnection,
    org: &store::Org,
    v: &Values,
    source: &str,
    actor: Option<i64>,
) -> AppResult<Outcome> {
    let old = sqlx::query(
        "SELECT workforce, women, migrant FROM org_workforce WHERE org_id = $1 AND as_of = $2",
    )
    .bind(org.id.0)
    .bind(v.as_of.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let outcome = match old {
        None => Outcome::New,
        Some(r) => {
            let same = r.try_get::<i64, _>("workforce")? == v.workforce
                && r.try_get::<i64, _>("women")? == v.women
                && r.try_get::<i64, _>("migrant")? == v.migrant;
            if same {
                return Ok(Outcome::Unchanged);
            }
            Outcome::Updated
        }
    };
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO org_workforce (region_root, org_id, as_of, workforce, women, migrant, source, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (org_id, as_of) DO UPDATE SET workforce = excluded.workforce, women = excluded.women, \
         migrant = excluded.migrant, source = excluded.source, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(v.as_of.to_string())
    .bind(v.workforce)
    .bind(v.women)
    .bind(v.migrant)
    .bind(source)
    .bind(actor)
    .bind(time::now_rfc3339())
    .execute(&mut *conn)
    .await?;
    Ok(outcome)
}

/// Records an org's workforce as of a date (the form and the API).
pub async fn record(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    v: Values,
    source: &str,
) -> AppResult<Workforce> {
    scope.require_write()?;
    let org = store::get(db, scope, org_id).await?;
    writable(&org, &v).map_err(AppError::Invalid)?;
    let mut tx = db.begin_write().await?;
    let actor = scope.actor.user_id.map(|u| u.0);
    let outcome = write(&mut tx, &org, &v, source, actor).await?;
    if outcome != Outcome::Unchanged {
        audit::append(
            &mut tx,
            &scope.actor,
            Event::new("org.workforce", "org", org.id)
                .org(org.id)
                .detail(serde_json::json!({
                    "as_of": v.as_of, "workforce": v.workforce, "women": v.women,
                    "migrant": v.migrant, "source": source,
                })),
        )
        .await?;
    }
    tx.commit().await?;
    latest(db, scope, org.id, v.as_of)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("workforce row vanished")))
}

const SELECT: &str = "SELECT w.org_id, o.code, o.name, w.as_of, w.workforce, w.women, w.migrant, w.source, w.recorded_at \
     FROM org_workforce w JOIN orgs o ON o.id = w.org_id";

fn from_row(r: &sqlx::any::AnyRow) -> AppResult<Workforce> {
    Ok(Workforce {
        org_id: r.try_get(0)?,
        org_code: r.try_get(1)?,
        org_name: r.try_get(2)?,
        as_of: r.try_get(3)?,
        workforce: r.try_get(4)?,
        women: r.try_get(5)?,
        migrant: r.try_get(6)?,
        source: r.try_get(7)?,
        recorded_at: r.try_get(8)?,
    })
}

/// Every value an org recorded, latest date first (404 outside the scope).
pub async fn history(db: &Db, scope: &Scope, org_id: OrgId) -> AppResult<Vec<Workforce>> {
    let org = store::get(db, scope, org_id).await?;
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE w.org_id = $1 ORDER BY w.as_of DESC"
    ))
    .bind(org.id.0)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The org's value as of `on`: the latest recorded on or before it.
pub async fn latest(
    db: &Db,
    scope: &Scope,
    org_id: OrgId,
    on: NaiveDate,
) -> AppResult<Option<Workforce>> {
    let org = store::get(db, scope, org_id).await?;
    let row = sqlx::query(&format!(
        "{SELECT} WHERE w.org_id = $1 AND w.as_of <= $2 ORDER BY w.as_of DESC LIMIT 1"
    ))
    .bind(org.id.0)
    .bind(on.to_string())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

// ---------------------------------------------------------------------------
// import

/// A refused row of an import file.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Reject {
    /// The row number as the spreadsheet shows it.
    pub line: usize,
    pub org_code: String,
    pub reason: String,
    pub reason_en: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows refused; when any is, nothing was written.
    pub rejects: Vec<Reject>,
    pub committed: bool,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows={} new={} updated={} unchanged={} rejected={}",
            self.rows,
            self.new,
            self.updated,
            self.unchanged,
            self.rejects.len()
        )
    }
}

/// The template's columns (the first spelling is the template's header).
const COLUMNS: &[(&str, &[&str], bool)] = &[
    (
        "org_code",
        &["组织编码", "组织代码", "工会编码", "org code", "org_code"],
        true,
    ),
    (
        "as_of",
        &["截至日期", "统计日期", "as of", "as_of", "date"],
        true,
    ),
    (
        "workforce",
        &["职工人数", "职工数", "workforce", "workers"],
        true,
    ),
    (
        "women",
        &["女职工人数", "女职工", "women workers", "women"],
        false,
    ),
    (
        "migrant",
        &["农民工人数", "农民工", "migrant workers", "migrant"],
        false,
    ),
];

/// The headers of the import template.
pub fn template_headers() -> Vec<String> {
    COLUMNS
        .iter()
        .map(|(_, spellings, _)| spellings[0].to_string())
        .collect()
}

fn file_error(e: sheet::SheetError) -> AppError {
    let (zh, en) = e.message();
    AppError::invalid(zh, en)
}

/// Imports a workforce file (.xlsx, .xls, .csv in UTF-8 or GBK): columns
/// 组织编码, 截至日期, 职工人数, 女职工人数, 农民工人数. Sizes are checked by
/// `sheet` before anything is allocated; every row is checked (code inside
/// the caller's subtree, a grassroots union, the counts' rules, one row per
/// union and date); if any row is refused nothing is written and the report
/// lists every refused row. Otherwise all rows are written in one
/// transaction with one audit entry.
pub async fn import(
    db: &Db,
    scope: &Scope,
    bytes: &[u8],
    file_name: &str,
) -> AppResult<ImportReport> {
    scope.require_write()?;
    let table = sheet::read_table(bytes, MAX_IMPORT_ROWS).map_err(file_error)?;
    let map = sheet::HeaderMap::new(&table.headers, COLUMNS).map_err(file_error)?;
    let orgs: std::collections::HashMap<String, store::Org> = store::list_subtree(db, scope)
        .await?
        .into_iter()
        .map(|o| (o.code.clone(), o))
        .collect();
    let mut report = ImportReport {
        rows: table.rows.len(),
        ..Default::default()
    };
    let mut good: Vec<(&store::Org, Values)> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for row in &table.rows {
        let code = map.get(row, "org_code").trim().to_string();
        let checked = (|| {
            if code.is_empty() {
                return Err(bad("组织编码为空", "The org code is empty"));
            }
            // Outside the caller's subtree reads the same as absent.
            let org = orgs.get(&code).ok_or_else(|| {
                bad(
                    format!("找不到组织编码“{code}”(或不在您的管辖范围内)"),
                    format!("No org with code “{code}” in your subtree"),
                )
            })?;
            let as_of = parse_as_of(map.get(row, "as_of"))?;
            let w = parse_count(map.get(row, "workforce"), "职工人数", "Workforce", true)?;
            let women = parse_count(map.get(row, "women"), "女职工人数", "Women workers", false)?;
            let migrant = parse_count(
                map.get(row, "migrant"),
                "农民工人数",
                "Migrant workers",
                false,
            )?;
            let v = Values::check(as_of, w, women, migrant)?;
            writable(org, &v)?;
            if let Some(first) = seen.insert((code.clone(), as_of), row.line) {
                return Err(bad(
                    format!("与第{first}行重复:同一组织同一截至日期只能有一行"),
                    format!("Duplicate of row {first}: one row per org and as-of date"),
                ));
            }
            Ok((org, v))
        })();
        match checked {
            Ok(ok) => good.push(ok),
            Err(m) => report.rejects.push(Reject {
                line: row.line,
                org_code: code,
                reason: m.zh.to_string(),
                reason_en: m.en.to_string(),
            }),
        }
    }
    if !report.rejects.is_empty() {
        return Ok(report);
    }
    let source = format!("import:{}", file_name.chars().take(100).collect::<String>());
    let actor = scope.actor.user_id.map(|u| u.0);
    let mut tx = db.begin_write().await?;
    for (org, v) in &good {
        match write(&mut tx, org, v, &source, actor).await? {
            Outcome::New => report.new += 1,
            Outcome::Updated => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
        }
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("org.workforce_import", "org", scope.org_id)
            .org(scope.org_id)
            .detail(serde_json::json!({
                "file": file_name, "rows": report.rows, "new": report.new,
                "updated": report.updated, "unchanged": report.unchanged,
            })),
    )
    .await?;
    tx.commit().await?;
    report.committed = true;
    Ok(report)
}

/// Records demo unions' workforce without the request checks, in one
/// transaction (the demo seeds through this after the roster exists, so the
/// figures agree with the members).
pub async fn seed_values(db: &Db, values: &[(OrgId, Values)]) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    for (org_id, v) in values {
        let org = store::get_unscoped(db, *org_id)
            .await?
            .ok_or(AppError::NotFound)?;
        write(&mut tx, &org, v, "demo", None).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_dates_are_checked() {
        let d = NaiveDate::from_ymd_opt(2025, 9, 30).unwrap();
        assert!(Values::check(d, 100, 40, 30).is_ok());
        assert!(Values::check(d, 100, 101, 0)
            .unwrap_err()
            .zh
            .contains("女职工"));
        assert!(Values::check(d, 100, 0, 101)
            .unwrap_err()
            .zh
            .contains("农民工"));
        assert!(Values::check(d, -1, 0, 0).is_err());
        assert!(Values::check(d, MAX_COUNT + 1, 0, 0).is_err());
        let future = time::today() + chrono::Days::new(3);
        assert!(Values::check(future, 1, 0, 0)
            .unwrap_err()
            .en
            .contains("future"));
        assert_eq!(
            parse_count("1,200", "职工人数", "Workforce", true),
            Ok(1200)
        );
        assert_eq!(parse_count("120.0", "职工人数", "Workforce", true), Ok(120));
        assert_eq!(parse_count("", "女职工人数", "Women", false), Ok(0));
        assert!(parse_count("", "职工人数", "Workforce", true).is_err());
        assert!(parse_count("12人", "职工人数", "Workforce", true)
            .unwrap_err()
            .zh
            .contains("整数"));
        assert!(parse_as_of("2025/13/01").is_err());
    }
}
