//! The filtered lists behind the pages and the exports: enrolments (by
//! plan, union, status), claims (by plan, status, period), the payout
//! ledger, and a plan's totals per union. Every query is bounded by the
//! caller's subtree (`o.path LIKE scope`), so another county's rows are
//! simply not there; a union filter outside the subtree answers 404.

use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, Row};

use platform::{
    db::Db,
    error::{AppError, AppResult},
    scope::Scope,
    sqlx_util::V,
    time,
};

use crate::store::{self, ClaimView};

/// Most rows a list page or an export carries.
pub const MAX_ROWS: i64 = 5_000;

/// (key, 中文, English) of an enrolment's status, from its plan's period.
pub const ENROLMENT_STATUSES: &[(&str, &str, &str)] = &[
    ("active", "保障中", "Covered"),
    ("pending", "未生效", "Not yet begun"),
    ("expired", "已到期", "Expired"),
];

/// (key, 中文, English) of a claim's status.
pub const CLAIM_STATUSES: &[(&str, &str, &str)] = &[
    ("draft", "待提交", "Draft"),
    ("submitted", "审批中", "Under review"),
    ("returned", "退回修改", "Returned for changes"),
    ("approved", "已赔付", "Paid"),
    ("rejected", "未通过", "Rejected"),
];

pub fn label(table: &[(&str, &str, &str)], key: &str, en: bool) -> String {
    table
        .iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, zh, e)| if en { *e } else { *zh })
        .unwrap_or(key)
        .to_string()
}

/// The union filter: a code inside the caller's subtree (404 outside it,
/// as for an unknown code); "" = the whole subtree.
async fn union_like(db: &Db, scope: &Scope, code: &str) -> AppResult<String> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(scope.like());
    }
    let o = orgs::store::get_by_code(db, scope, code).await?;
    Ok(format!("{}%", o.path))
}

fn opt_id(raw: &str, zh: &str, en: &str) -> AppResult<Option<i64>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>()
        .map(Some)
        .map_err(|_| AppError::invalid(format!("{zh}无效"), format!("Invalid {en}")))
}

// ------------------------------------------------------------------ enrolments

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
pub struct EnrolmentFilter {
    /// A plan's id.
    pub plan: String,
    /// A union's code (its subtree).
    pub union: String,
    /// active | pending | expired
    pub status: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MutualAidEnrolmentRow {
    pub id: i64,
    pub plan_id: i64,
    pub plan_name: String,
    pub org_code: String,
    pub org_name: String,
    pub name: String,
    /// Masked as the roster masks it.
    pub id_masked: String,
    pub contribution_fen: i64,
    pub enrolled_on: String,
    pub period_start: String,
    pub period_end: String,
    /// active | pending | expired (from the plan's period and today).
    pub status: String,
}

pub async fn enrolments(
    db: &Db,
    scope: &Scope,
    f: &EnrolmentFilter,
) -> AppResult<Vec<MutualAidEnrolmentRow>> {
    let like = union_like(db, scope, &f.union).await?;
    let today = time::today().to_string();
    let mut vals: Vec<V> = vec![V::from(like)];
    let mut conds = vec!["o.path LIKE $1".to_string()];
    if let Some(p) = opt_id(&f.plan, "计划编号", "plan id")? {
        // A plan the caller cannot see answers 404, like an unknown one.
        store::get_plan(db, scope, p).await?;
        vals.push(V::from(p));
        conds.push(format!("e.plan_id = ${}", vals.len()));
    }
    match f.status.trim() {
        "" => {}
        s @ ("active" | "pending" | "expired") => {
            vals.push(V::from(today.clone()));
            let n = vals.len();
            conds.push(match s {
                "active" => format!("pl.period_start <= ${n} AND pl.period_end >= ${n}"),
                "pending" => format!("pl.period_start > ${n}"),
                _ => format!("pl.period_end < ${n}"),
            });
        }
        _ => {
            return Err(AppError::invalid(
                "参保状态无效:active(保障中)、pending(未生效)或 expired(已到期)",
                "Unknown status: active, pending or expired",
            ))
        }
    }
    let sql = format!(
        "{ENROLMENT_SELECT} WHERE {} ORDER BY pl.period_start DESC, o.code, e.id LIMIT {MAX_ROWS}",
        conds.join(" AND ")
    );
    let rows = platform::sqlx_util::bind_all(sqlx::query(&sql), &vals)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| enrolment_row(r, &today))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

const ENROLMENT_SELECT: &str = "SELECT e.id, e.plan_id, pl.name AS plan_name, o.code AS org_code, o.name AS org_name, \
    o.path AS org_path, p.name, p.id_masked, e.contribution_fen, e.enrolled_on, pl.period_start, pl.period_end \
    FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id JOIN aid_plans pl ON pl.id = e.plan_id \
    JOIN persons p ON p.id = e.person_id";

fn enrolment_row(r: &AnyRow, today: &str) -> Result<MutualAidEnrolmentRow, sqlx::Error> {
    let start: String = r.try_get("period_start")?;
    let end: String = r.try_get("period_end")?;
    let status = if start.as_str() > today {
        "pending"
    } else if end.as_str() < today {
        "expired"
    } else {
        "active"
    };
    Ok(MutualAidEnrolmentRow {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        plan_name: r.try_get("plan_name")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        name: r.try_get("name")?,
        id_masked: r.try_get("id_masked")?,
        contribution_fen: r.try_get("contribution_fen")?,
        enrolled_on: r.try_get("enrolled_on")?,
        period_start: start,
        period_end: end,
        status: status.to_string(),
    })
}

/// One enrolment of the caller's subtree (404 otherwise), for the new-claim form.
pub async fn enrolment(db: &Db, scope: &Scope, id: i64) -> AppResult<MutualAidEnrolmentRow> {
    let row = sqlx::query(&format!("{ENROLMENT_SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let path: String = row.try_get("org_path")?;
    scope.admit(db, &path, "aid_enrolment", id).await?;
    Ok(enrolment_row(&row, &time::today().to_string())?)
}

// ------------------------------------------------------------------ claims

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ClaimFilter {
    /// A plan's id.
    pub plan: String,
    /// draft | submitted | approved | rejected
    pub status: String,
    /// The event's year or month: 2025 or 2025-03.
    pub period: String,
}

pub async fn claims(db: &Db, scope: &Scope, f: &ClaimFilter) -> AppResult<Vec<ClaimView>> {
    let mut vals: Vec<V> = vec![V::from(scope.like())];
    let mut conds = vec!["o.path LIKE $1".to_string()];
    if let Some(p) = opt_id(&f.plan, "计划编号", "plan id")? {
        store::get_plan(db, scope, p).await?;
        vals.push(V::from(p));
        conds.push(format!("c.plan_id = ${}", vals.len()));
    }
    let status = f.status.trim();
    if !status.is_empty() {
        if !CLAIM_STATUSES.iter().any(|(k, ..)| *k == status) {
            return Err(AppError::invalid(
                "申请状态无效:draft、submitted、returned、approved 或 rejected",
                "Unknown status: draft, submitted, returned, approved or rejected",
            ));
        }
        vals.push(V::from(status.to_string()));
        conds.push(format!("({}) = ${}", store::CLAIM_STATUS_SQL, vals.len()));
    }
    let period = f.period.trim();
    if !period.is_empty() {
        let ok = match period.len() {
            4 => period.parse::<u16>().is_ok(),
            7 => time::parse_date(&format!("{period}-01")).is_some(),
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid(
                "期间无效,请填写年份(2025)或年月(2025-03)",
                "Invalid period; give a year (2025) or a month (2025-03)",
            ));
        }
        vals.push(V::from(format!("{period}%")));
        conds.push(format!("c.event_date LIKE ${}", vals.len()));
    }
    let sql = format!(
        "{} WHERE {} ORDER BY c.id DESC LIMIT {MAX_ROWS}",
        store::CLAIM_SELECT,
        conds.join(" AND ")
    );
    let rows = platform::sqlx_util::bind_all(sqlx::query(&sql), &vals)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(store::claim_view)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

// ------------------------------------------------------------------ ledger

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
pub struct LedgerFilter {
    /// A plan's id.
    pub plan: String,
    /// The payment's year or month: 2025 or 2025-03.
    pub period: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MutualAidLedgerRow {
    pub id: i64,
    pub claim_id: i64,
    pub plan_name: String,
    pub org_code: String,
    pub org_name: String,
    pub name: String,
    pub id_masked: String,
    pub amount_fen: i64,
    pub paid_on: String,
}

pub async fn ledger(
    db: &Db,
    scope: &Scope,
    f: &LedgerFilter,
) -> AppResult<Vec<MutualAidLedgerRow>> {
    let mut vals: Vec<V> = vec![V::from(scope.like())];
    let mut conds = vec!["o.path LIKE $1".to_string()];
    if let Some(p) = opt_id(&f.plan, "计划编号", "plan id")? {
        store::get_plan(db, scope, p).await?;
        vals.push(V::from(p));
        conds.push(format!("y.plan_id = ${}", vals.len()));
    }
    let period = f.period.trim();
    if !period.is_empty() {
        let ok = match period.len() {
            4 => period.parse::<u16>().is_ok(),
            7 => time::parse_date(&format!("{period}-01")).is_some(),
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid(
                "期间无效,请填写年份(2025)或年月(2025-03)",
                "Invalid period; give a year (2025) or a month (2025-03)",
            ));
        }
        vals.push(V::from(format!("{period}%")));
        conds.push(format!("y.paid_on LIKE ${}", vals.len()));
    }
    let sql = format!(
        "SELECT y.id, y.claim_id, pl.name AS plan_name, o.code AS org_code, o.name AS org_name, p.name, p.id_masked, \
         y.amount_fen, y.paid_on FROM aid_payouts y JOIN orgs o ON o.id = y.org_id JOIN aid_plans pl ON pl.id = y.plan_id \
         JOIN persons p ON p.id = y.person_id WHERE {} ORDER BY y.paid_on DESC, y.id DESC LIMIT {MAX_ROWS}",
        conds.join(" AND ")
    );
    let rows = platform::sqlx_util::bind_all(sqlx::query(&sql), &vals)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r: &AnyRow| {
            Ok(MutualAidLedgerRow {
                id: r.try_get("id")?,
                claim_id: r.try_get("claim_id")?,
                plan_name: r.try_get("plan_name")?,
                org_code: r.try_get("org_code")?,
                org_name: r.try_get("org_name")?,
                name: r.try_get("name")?,
                id_masked: r.try_get("id_masked")?,
                amount_fen: r.try_get("amount_fen")?,
                paid_on: r.try_get("paid_on")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

// ------------------------------------------------------------------ a plan's unions

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MutualAidUnionTotal {
    pub org_code: String,
    pub org_name: String,
    pub persons: i64,
    pub contributions_fen: i64,
    pub claims: i64,
    pub paid_fen: i64,
}

/// A plan's enrolments, contributions, claims and payouts per union of the
/// caller's subtree (unions with an enrolment).
pub async fn union_totals(
    db: &Db,
    scope: &Scope,
    plan: i64,
) -> AppResult<Vec<MutualAidUnionTotal>> {
    store::get_plan(db, scope, plan).await?;
    let rows = sqlx::query(
        "SELECT o.code, o.name, CAST(COUNT(*) AS BIGINT) AS persons, CAST(COALESCE(SUM(e.contribution_fen), 0) AS BIGINT) AS fen, \
         CAST((SELECT COUNT(*) FROM aid_claims c WHERE c.plan_id = $1 AND c.org_id = o.id) AS BIGINT) AS claims, \
         CAST((SELECT COALESCE(SUM(y.amount_fen), 0) FROM aid_payouts y WHERE y.plan_id = $1 AND y.org_id = o.id) AS BIGINT) AS paid \
         FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id WHERE e.plan_id = $1 AND o.path LIKE $2 \
         GROUP BY o.id, o.code, o.name ORDER BY o.code",
    )
    .bind(plan)
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(MutualAidUnionTotal {
                org_code: r.try_get(0)?,
                org_name: r.try_get(1)?,
                persons: r.try_get(2)?,
                contributions_fen: r.try_get(3)?,
                claims: r.try_get(4)?,
                paid_fen: r.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
