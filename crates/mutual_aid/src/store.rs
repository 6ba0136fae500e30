//! Plans, enrolments, claims and the payout ledger. Every read goes through
//! the caller's subtree (404 + `scope.denied` outside it); every write is
//! one transaction with its audit entry and the orgs' data versions; a
//! refused batch writes nothing.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, AnyConnection, Row};

use crate::rules::{self, Claim as ClaimFacts, Payout, Rules};
use platform::{
    attachments::{AttachmentOwner, OwnerOrg},
    audit::{self, Event},
    dataver,
    db::Db,
    error::{AppError, AppResult},
    i18n::Msg,
    ids::OrgId,
    module::BoxFuture,
    money::Fen,
    review::{self, Action, Outcome, ReviewItem, ReviewKind},
    scope::Scope,
    sqlx_util::{insert_many, V},
    time, tree,
};

/// (key, 中文, English) of the plans' categories.
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "inpatient",
        "在职职工住院医疗互助",
        "In-patient medical mutual aid",
    ),
    ("critical", "重大疾病互助", "Critical illness"),
    ("accident", "意外伤害互助", "Accidental injury"),
    (
        "female",
        "女职工特殊疾病互助",
        "Women workers' special illnesses",
    ),
];

pub fn category_label(key: &str, en: bool) -> String {
    CATEGORIES
        .iter()
        .find(|(k, ..)| *k == key)
        .map(|(_, zh, e)| if en { *e } else { *zh })
        .unwrap_or(key)
        .to_string()
}

// ------------------------------------------------------------------ plans

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Plan {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub name: String,
    pub category: String,
    pub period_start: String,
    pub period_end: String,
    /// Contribution per person (fen).
    pub contribution_fen: i64,
    pub per_day_fen: i64,
    pub deductible_fen: i64,
    pub ratio_pct: i64,
    pub per_claim_cap_fen: Option<i64>,
    pub person_period_cap_fen: Option<i64>,
    /// Labels of the attachments a claim needs.
    pub required_docs: Vec<String>,
}

impl Plan {
    pub fn rules(&self) -> Rules {
        Rules {
            per_day: Fen::from_fen(self.per_day_fen),
            deductible: Fen::from_fen(self.deductible_fen),
            ratio_pct: self.ratio_pct,
            per_claim_cap: self.per_claim_cap_fen.map(Fen::from_fen),
            person_period_cap: self.person_period_cap_fen.map(Fen::from_fen),
        }
    }
}

const PLAN_SELECT: &str = "SELECT p.id, p.org_id, o.name AS org_name, o.path AS org_path, p.name, p.category, \
    p.period_start, p.period_end, p.contribution_fen, p.per_day_fen, p.deductible_fen, p.ratio_pct, \
    p.per_claim_cap_fen, p.person_period_cap_fen, p.required_docs \
    FROM aid_plans p JOIN orgs o ON o.id = p.org_id";

fn plan(r: &AnyRow) -> Result<Plan, sqlx::Error> {
    Ok(Plan {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        category: r.try_get("category")?,
        period_start: r.try_get("period_start")?,
        period_end: r.try_get("period_end")?,
        contribution_fen: r.try_get("contribution_fen")?,
        per_day_fen: r.try_get("per_day_fen")?,
        deductible_fen: r.try_get("deductible_fen")?,
        ratio_pct: r.try_get("ratio_pct")?,
        per_claim_cap_fen: r.try_get("per_claim_cap_fen")?,
        person_period_cap_fen: r.try_get("person_period_cap_fen")?,
        required_docs: r
            .try_get::<String, _>("required_docs")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// The plans a caller may see: offered by an org on the caller's path
/// (its ancestors, which offer to their subtree) or inside its subtree.
pub async fn plans(db: &Db, scope: &Scope) -> AppResult<Vec<Plan>> {
    let rows = sqlx::query(&format!("{PLAN_SELECT} ORDER BY p.period_start DESC, p.id"))
        .fetch_all(db.pool())
        .await?;
    let all: Vec<Plan> = rows.iter().map(plan).collect::<Result<_, _>>()?;
    Ok(all
        .into_iter()
        .filter(|p| scope.contains_path(&p.org_path) || scope.path().starts_with(&p.org_path))
        .collect())
}

pub async fn get_plan(db: &Db, scope: &Scope, id: i64) -> AppResult<Plan> {
    let row = sqlx::query(&format!("{PLAN_SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let p = plan(&row)?;
    if scope.contains_path(&p.org_path) || scope.path().starts_with(&p.org_path) {
        Ok(p)
    } else {
        scope.admit(db, &p.org_path, "aid_plan", p.id).await?;
        Err(AppError::NotFound)
    }
}

/// Plans are the city federation's: its administrators (the root org's).
pub fn may_create_plan(scope: &Scope) -> bool {
    scope.role == platform::scope::Role::Admin
        && scope.path().trim_matches('/').split('/').count() == 1
}

/// A plan as typed.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PlanInput {
    pub name: String,
    /// inpatient | critical | accident | female
    pub category: String,
    pub period_start: String,
    pub period_end: String,
    /// Yuan ("30", "30.00元").
    pub contribution: String,
    pub per_day: String,
    pub deductible: String,
    /// 0–100.
    pub ratio_pct: String,
    /// Empty = no cap.
    pub per_claim_cap: String,
    pub person_period_cap: String,
    /// Comma-separated labels (住院发票,出院小结).
    pub required_docs: String,
}

fn money(raw: &str, zh: &str, en: &str) -> AppResult<Fen> {
    if raw.trim().is_empty() {
        return Ok(Fen::from_fen(0));
    }
    Fen::parse(raw)
        .map_err(|e| AppError::invalid(format!("{zh}:{}", e.zh), format!("{en}: {}", e.en)))
}

fn opt_money(raw: &str, zh: &str, en: &str) -> AppResult<Option<Fen>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    money(raw, zh, en).map(Some)
}

fn date(raw: &str, zh: &str, en: &str) -> AppResult<NaiveDate> {
    time::parse_date(raw).ok_or_else(|| {
        AppError::invalid(
            format!("{zh}无效,请按 2024-03-01 格式填写"),
            format!("Invalid {en}; use 2024-03-01"),
        )
    })
}

/// Creates a plan offered by the caller's own org to its subtree.
pub async fn create_plan(db: &Db, scope: &Scope, f: &PlanInput) -> AppResult<Plan> {
    if !may_create_plan(scope) {
        return Err(AppError::forbidden(
            "互助计划由市总工会管理员制定",
            "Plans are set up by the city federation's administrators",
        ));
    }
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::invalid(
            "请填写计划名称(最多60字)",
            "Fill in the plan's name (at most 60 characters)",
        ));
    }
    if !CATEGORIES.iter().any(|(k, ..)| *k == f.category.trim()) {
        return Err(AppError::invalid(
            "互助类别无效:inpatient(住院医疗)、critical(重大疾病)、accident(意外伤害)或 female(女职工特殊疾病)",
            "Unknown category: inpatient, critical, accident or female",
        ));
    }
    let start = date(&f.period_start, "保障期开始日期", "start of the period")?;
    let end = date(&f.period_end, "保障期结束日期", "end of the period")?;
    if end < start {
        return Err(AppError::invalid(
            "保障期结束日期不能早于开始日期",
            "The period ends before it starts",
        ));
    }
    let contribution = money(&f.contribution, "每人缴费", "Contribution")?;
    if contribution.fen() == 0 {
        return Err(AppError::invalid(
            "请填写每人缴费金额",
            "Fill in the contribution per person",
        ));
    }
    let ratio = if f.ratio_pct.trim().is_empty() {
        100
    } else {
        f.ratio_pct
            .trim()
            .trim_end_matches('%')
            .parse::<i64>()
            .ok()
            .filter(|r| (0..=100).contains(r))
            .ok_or_else(|| {
                AppError::invalid(
                    "赔付比例应为0至100之间的整数",
                    "The ratio must be a whole number within 0–100",
                )
            })?
    };
    let docs: Vec<String> = f
        .required_docs
        .split([',', ',', '、'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if docs.iter().any(|d| d.chars().count() > 20) {
        return Err(AppError::invalid(
            "所需材料名称每项最多20字",
            "Each required document's name is at most 20 characters",
        ));
    }
    let rules = Rules {
        per_day: money(&f.per_day, "每日津贴", "Per-day benefit")?,
        deductible: money(&f.deductible, "起付线", "Deductible")?,
        ratio_pct: ratio,
        per_claim_cap: opt_money(&f.per_claim_cap, "单次赔付上限", "Per-claim cap")?,
        person_period_cap: opt_money(
            &f.person_period_cap,
            "每人每期赔付上限",
            "Cap per person per period",
        )?,
    };
    let org = tree::node(db, scope, scope.org_id).await?;
    let mut tx = db.begin_write().await?;
    let root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(&mut *tx.tx)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO aid_plans (org_id, region_root, name, category, period_start, period_end, contribution_fen, \
         per_day_fen, deductible_fen, ratio_pct, per_claim_cap_fen, person_period_cap_fen, required_docs, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(org.id.0)
    .bind(root)
    .bind(name)
    .bind(f.category.trim())
    .bind(start.to_string())
    .bind(end.to_string())
    .bind(contribution.fen())
    .bind(rules.per_day.fen())
    .bind(rules.deductible.fen())
    .bind(rules.ratio_pct)
    .bind(rules.per_claim_cap.map(Fen::fen))
    .bind(rules.person_period_cap.map(Fen::fen))
    .bind(docs.join(","))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("aid.plan_create", "aid_plan", id)
            .org(org.id)
            .detail(serde_json::json!({"name": name, "category": f.category.trim()})),
    )
    .await?;
    tx.commit().await?;
    get_plan(db, scope, id).await
}

// ------------------------------------------------------------------ enrolment

/// A selection of the roster to enrol.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EnrolInput {
    /// Membership ids (as the roster lists them).
    pub membership_ids: Vec<i64>,
    /// Or: every active member of this union (its code) not yet enrolled.
    pub org: String,
    /// The enrolment date (YYYY-MM-DD); today when empty.
    pub enrolled_on: String,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolled {
    pub plan_id: i64,
    /// The plan's totals in the caller's subtree before this enrolment.
    pub before_persons: i64,
    pub before_contributions_fen: i64,
    pub persons: i64,
    /// Contributions of this enrolment, in fen.
    pub contributions_fen: i64,
    /// The plan's totals after it.
    pub plan_persons: i64,
    pub plan_contributions_fen: i64,
}

/// The enrolment date as typed (today when empty), inside the plan's period:
/// nobody enrols in a plan whose period has ended.
pub(crate) fn enrolment_date(raw: &str, plan: &Plan) -> AppResult<NaiveDate> {
    let on = if raw.trim().is_empty() {
        time::today()
    } else {
        date(raw, "参保日期", "enrolment date")?
    };
    if on.to_string() > plan.period_end {
        return Err(AppError::invalid(
            format!(
                "参保日期{on}不在该计划的保障期({} 至 {})内:保障期已结束,不能再参保",
                plan.period_start, plan.period_end
            ),
            format!(
                "The enrolment date {on} is outside the plan's period ({} to {}): the period has ended; no more enrolment",
                plan.period_start, plan.period_end
            ),
        ));
    }
    Ok(on)
}

/// Most persons one request enrols (a large union enrols in several).
pub const MAX_ENROL: usize = 20_000;

/// Enrols the selected members in a plan, all or nothing.
pub async fn enrol(db: &Db, scope: &Scope, plan_id: i64, f: &EnrolInput) -> AppResult<Enrolled> {
    scope.require_write()?;
    let plan = get_plan(db, scope, plan_id).await?;
    let on = enrolment_date(&f.enrolled_on, &plan)?;
    // The selection: (membership id, person id, org id, org path, status).
    let rows = if !f.org.trim().is_empty() {
        let org = orgs::store::get_by_code(db, scope, &f.org).await?;
        sqlx::query(
            "SELECT m.id, m.person_id, m.org_id, o.path, m.status FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.org_id = $1 AND m.status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM aid_enrolments e WHERE e.plan_id = $2 AND e.person_id = m.person_id) \
             ORDER BY m.id",
        )
        .bind(org.id.0)
        .bind(plan.id)
        .fetch_all(db.pool())
        .await?
    } else {
        if f.membership_ids.is_empty() {
            return Err(AppError::invalid(
                "请选择要参保的会员",
                "Select the members to enrol",
            ));
        }
        if f.membership_ids.len() > MAX_ENROL {
            return Err(AppError::invalid(
                format!("一次最多为{MAX_ENROL}人参保,请分批办理"),
                format!("At most {MAX_ENROL} persons at a time; enrol in batches"),
            ));
        }
        let ids: Vec<String> = f.membership_ids.iter().map(|i| i.to_string()).collect();
        // Integers only: safe to inline.
        sqlx::query(&format!(
            "SELECT m.id, m.person_id, m.org_id, o.path, m.status FROM memberships m JOIN orgs o ON o.id = m.org_id \
             WHERE m.id IN ({}) ORDER BY m.id",
            ids.join(",")
        ))
        .fetch_all(db.pool())
        .await?
    };
    let mut picked = Vec::new();
    for r in &rows {
        let (mid, pid, oid, path, status): (i64, i64, i64, String, String) = (
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        );
        if !scope.contains_path(&path) || !path.starts_with(&plan.org_path) {
            scope.admit(db, &path, "membership", mid).await?;
            return Err(AppError::NotFound);
        }
        if status != "active" {
            return Err(AppError::invalid(
                format!("会员(编号{mid})会籍已终止,不能参保"),
                format!("Membership {mid} has ended; it cannot be enrolled"),
            ));
        }
        picked.push((mid, pid, oid));
    }
    if f.org.trim().is_empty() && picked.len() != f.membership_ids.len() {
        return Err(AppError::NotFound);
    }
    if picked.is_empty() {
        return Err(AppError::invalid(
            "没有可参保的会员(都已参保或无在籍会员)",
            "No member to enrol (all enrolled already, or none active)",
        ));
    }
    write_enrolments(db, scope, &plan, on, &picked).await
}

/// Writes the picked (membership, person, org) enrolments in one
/// transaction with the audit entry, all or nothing; the plan's totals in
/// the caller's subtree before and after.
pub(crate) async fn write_enrolments(
    db: &Db,
    scope: &Scope,
    plan: &Plan,
    on: NaiveDate,
    picked: &[(i64, i64, i64)],
) -> AppResult<Enrolled> {
    let (before_persons, before_fen) = plan_totals(db, scope, plan.id).await?;
    let orgs_touched: std::collections::BTreeSet<i64> = picked.iter().map(|p| p.2).collect();
    // The unions' region roots (a handful), then one multi-row insert.
    let mut roots = std::collections::HashMap::new();
    for &o in &orgs_touched {
        let root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
            .bind(o)
            .fetch_one(db.pool())
            .await?;
        roots.insert(o, root);
    }
    let now = time::now_rfc3339();
    let rows: Vec<Vec<V>> = picked
        .iter()
        .map(|&(mid, pid, oid)| {
            vec![
                V::from(plan.id),
                V::from(oid),
                V::from(roots.get(&oid).copied().flatten()),
                V::from(pid),
                V::from(mid),
                V::from(plan.contribution_fen),
                V::from(on.to_string()),
                V::from(now.clone()),
            ]
        })
        .collect();
    let mut tx = db.begin_write().await?;
    let inserted = insert_many(
        &mut tx.tx,
        "aid_enrolments",
        &[
            "plan_id",
            "org_id",
            "region_root",
            "person_id",
            "membership_id",
            "contribution_fen",
            "enrolled_on",
            "created_at",
        ],
        &rows,
        None,
    )
    .await;
    if let Err(e) = inserted {
        tx.tx.rollback().await?;
        if platform::error::is_unique_violation(&e) {
            // Someone enrolled one of them meanwhile: name the first.
            let mut mid = None;
            for &(m, p, _) in picked {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM aid_enrolments WHERE plan_id = $1 AND person_id = $2",
                )
                .bind(plan.id)
                .bind(p)
                .fetch_one(db.pool())
                .await?;
                if n > 0 {
                    mid = Some(m);
                    break;
                }
            }
            let who = mid.map_or_else(String::new, |m| format!("(编号{m})"));
            let who_en = mid.map_or_else(String::new, |m| format!(" {m}"));
            return Err(AppError::conflict(
                format!("会员{who}已参加该计划,不能重复参保;本次未登记任何人"),
                format!("Membership{who_en} is already enrolled in this plan; nobody was enrolled"),
            ));
        }
        return Err(e.into());
    }
    dataver::touch(&mut tx.tx, orgs_touched.iter().copied()).await?;
    let n = picked.len() as i64;
    let total = Fen::from_fen(plan.contribution_fen)
        .checked_mul(n)
        .ok_or_else(|| AppError::invalid("金额过大", "Amount too large"))?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("aid.enrol", "aid_plan", plan.id)
            .org(scope.org_id)
            .detail(serde_json::json!({"persons": n, "contributions_fen": total.fen()})),
    )
    .await?;
    tx.commit().await?;
    let (pp, pc) = plan_totals(db, scope, plan.id).await?;
    Ok(Enrolled {
        plan_id: plan.id,
        before_persons,
        before_contributions_fen: before_fen,
        persons: n,
        contributions_fen: total.fen(),
        plan_persons: pp,
        plan_contributions_fen: pc,
    })
}

/// Persons enrolled and contributions in a plan, within the caller's subtree.
pub async fn plan_totals(db: &Db, scope: &Scope, plan: i64) -> AppResult<(i64, i64)> {
    let r = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(e.contribution_fen), 0) AS BIGINT) \
         FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id WHERE e.plan_id = $1 AND o.path LIKE $2",
    )
    .bind(plan)
    .bind(scope.like())
    .fetch_one(db.pool())
    .await?;
    Ok((r.try_get(0)?, r.try_get(1)?))
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    pub id: i64,
    pub plan_id: i64,
    pub org_name: String,
    pub name: String,
    /// Masked as the roster masks it.
    pub id_masked: String,
    pub contribution_fen: i64,
    pub enrolled_on: String,
}

/// A plan's enrolments in the caller's subtree (at most 500, by union).
pub async fn enrolments(db: &Db, scope: &Scope, plan: i64) -> AppResult<Vec<Enrolment>> {
    get_plan(db, scope, plan).await?;
    let rows = sqlx::query(
        "SELECT e.id, e.plan_id, o.name AS org_name, p.name, p.id_masked, e.contribution_fen, e.enrolled_on \
         FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id JOIN persons p ON p.id = e.person_id \
         WHERE e.plan_id = $1 AND o.path LIKE $2 ORDER BY o.code, e.id LIMIT 500",
    )
    .bind(plan)
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Enrolment {
                id: r.try_get("id")?,
                plan_id: r.try_get("plan_id")?,
                org_name: r.try_get("org_name")?,
                name: r.try_get("name")?,
                id_masked: r.try_get("id_masked")?,
                contribution_fen: r.try_get("contribution_fen")?,
                enrolled_on: r.try_get("enrolled_on")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

// ------------------------------------------------------------------ claims

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ClaimView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_name: String,
    pub enrolment_id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub name: String,
    pub id_masked: String,
    pub event_date: String,
    pub category: String,
    pub amount_fen: i64,
    pub days: i64,
    /// draft | submitted | approved | rejected
    pub status: String,
    pub payout_fen: Option<i64>,
    pub updated_at: String,
}

/// A claim's status as people read it: the stored one, except a claim in
/// review whose item the reviewers returned for changes is "returned" (the
/// chain's return is not a decision, so the stored status stays
/// "submitted"). A macro so the SELECT below is one literal.
macro_rules! claim_status_sql {
    () => {
        "CASE WHEN c.status = 'submitted' AND EXISTS (SELECT 1 FROM review_items ri \
         WHERE ri.kind = 'mutual_aid_claim' AND ri.record_id = c.id AND ri.status = 'returned') \
         THEN 'returned' ELSE c.status END"
    };
}
pub const CLAIM_STATUS_SQL: &str = claim_status_sql!();

pub const CLAIM_SELECT: &str = concat!(
    "SELECT c.id, c.plan_id, pl.name AS plan_name, c.enrolment_id, c.org_id, o.name AS org_name, \
    o.path AS org_path, p.name, p.id_masked, c.event_date, c.category, c.amount_fen, c.days, ",
    claim_status_sql!(),
    " AS status, c.payout_fen, c.updated_at \
    FROM aid_claims c JOIN aid_plans pl ON pl.id = c.plan_id JOIN orgs o ON o.id = c.org_id JOIN persons p ON p.id = c.person_id"
);

pub fn claim_view(r: &AnyRow) -> Result<ClaimView, sqlx::Error> {
    Ok(ClaimView {
        id: r.try_get("id")?,
        plan_id: r.try_get("plan_id")?,
        plan_name: r.try_get("plan_name")?,
        enrolment_id: r.try_get("enrolment_id")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        id_masked: r.try_get("id_masked")?,
        event_date: r.try_get("event_date")?,
        category: r.try_get("category")?,
        amount_fen: r.try_get("amount_fen")?,
        days: r.try_get("days")?,
        status: r.try_get("status")?,
        payout_fen: r.try_get("payout_fen")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn get_claim(db: &Db, scope: &Scope, id: i64) -> AppResult<ClaimView> {
    let row = sqlx::query(&format!("{CLAIM_SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let c = claim_view(&row)?;
    scope.admit(db, &c.org_path, "aid_claim", c.id).await?;
    Ok(c)
}

pub async fn claims(db: &Db, scope: &Scope) -> AppResult<Vec<ClaimView>> {
    let rows = sqlx::query(&format!(
        "{CLAIM_SELECT} WHERE o.path LIKE $1 ORDER BY c.id DESC LIMIT 500"
    ))
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(claim_view)
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ClaimInput {
    pub enrolment_id: i64,
    /// The day of the illness, accident or admission.
    pub event_date: String,
    /// What happened (住院, 手术, 意外 …), shown to the reviewers.
    pub category: String,
    /// The expenses claimed, in yuan.
    pub amount: String,
    /// Days in hospital.
    pub days: String,
}

/// Records a claim (a draft: attach the plan's documents, then submit).
pub async fn create_claim(db: &Db, scope: &Scope, f: &ClaimInput) -> AppResult<ClaimView> {
    scope.require_write()?;
    let row = sqlx::query(
        "SELECT e.id, e.plan_id, e.org_id, e.person_id, o.path, pl.period_start, pl.period_end \
         FROM aid_enrolments e JOIN orgs o ON o.id = e.org_id JOIN aid_plans pl ON pl.id = e.plan_id WHERE e.id = $1",
    )
    .bind(f.enrolment_id)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let (eid, plan_id, org_id, person_id, path, start, end): (
        i64,
        i64,
        i64,
        i64,
        String,
        String,
        String,
    ) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
    );
    scope.admit(db, &path, "aid_enrolment", eid).await?;
    let on = date(&f.event_date, "发生日期", "event date")?;
    if on > time::today() {
        return Err(AppError::invalid(
            "发生日期不能晚于今天",
            "The event date cannot be in the future",
        ));
    }
    if on.to_string() < start || on.to_string() > end {
        return Err(AppError::invalid(
            format!("发生日期不在参保保障期({start} 至 {end})内:参保已过期或尚未生效,不能申请"),
            format!("The event date is outside the enrolment's period ({start} to {end}): the enrolment has expired or not begun"),
        ));
    }
    let category = f.category.trim();
    if category.is_empty() || category.chars().count() > 30 {
        return Err(AppError::invalid(
            "请填写事由(最多30字),例如 住院治疗",
            "Fill in what happened (at most 30 characters)",
        ));
    }
    let amount = money(&f.amount, "申请金额", "Amount claimed")?;
    let days = if f.days.trim().is_empty() {
        0
    } else {
        f.days
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=366).contains(d))
            .ok_or_else(|| {
                AppError::invalid(
                    "住院天数应为0至366之间的整数",
                    "Days must be a whole number within 0–366",
                )
            })?
    };
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO aid_claims (enrolment_id, plan_id, org_id, region_root, person_id, event_date, category, amount_fen, days, status, created_at, updated_at) \
         SELECT $1, $2, $3, o.region_root, $4, $5, $6, $7, $8, 'draft', $9, $9 FROM orgs o WHERE o.id = $3 RETURNING id",
    )
    .bind(eid)
    .bind(plan_id)
    .bind(org_id)
    .bind(person_id)
    .bind(on.to_string())
    .bind(category)
    .bind(amount.fen())
    .bind(days)
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("aid.claim_create", "aid_claim", id)
            .org(OrgId(org_id))
            .detail(serde_json::json!({"amount_fen": amount.fen(), "days": days})),
    )
    .await?;
    tx.commit().await?;
    get_claim(db, scope, id).await
}

/// Sends a draft claim up the review chain (基层 → 县区 → 市总).
pub async fn submit_claim(db: &Db, scope: &Scope, id: i64) -> AppResult<review::ReviewId> {
    let c = get_claim(db, scope, id).await?;
    scope.require_write()?;
    if c.status != "draft" {
        return Err(AppError::conflict(
            "该申请已提交",
            "This claim has already been submitted",
        ));
    }
    let title = format!("互助保障赔付申请:{} {}", c.name, c.plan_name);
    review::submit(db, scope, &ClaimKind, OrgId(c.org_id), c.id, &title).await
}

/// The payout a claim gets, as the ledger stands (inside `tx`).
async fn compute(tx: &mut AnyConnection, claim: i64) -> AppResult<(Payout, i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT c.amount_fen, c.days, c.plan_id, c.person_id, c.org_id, pl.per_day_fen, pl.deductible_fen, pl.ratio_pct, \
         pl.per_claim_cap_fen, pl.person_period_cap_fen FROM aid_claims c JOIN aid_plans pl ON pl.id = c.plan_id WHERE c.id = $1",
    )
    .bind(claim)
    .fetch_one(&mut *tx)
    .await?;
    let plan_id: i64 = r.try_get("plan_id")?;
    let person: i64 = r.try_get("person_id")?;
    let rules = Rules {
        per_day: Fen::from_fen(r.try_get("per_day_fen")?),
        deductible: Fen::from_fen(r.try_get("deductible_fen")?),
        ratio_pct: r.try_get("ratio_pct")?,
        per_claim_cap: r
            .try_get::<Option<i64>, _>("per_claim_cap_fen")?
            .map(Fen::from_fen),
        person_period_cap: r
            .try_get::<Option<i64>, _>("person_period_cap_fen")?
            .map(Fen::from_fen),
    };
    let facts = ClaimFacts {
        amount: Fen::from_fen(r.try_get("amount_fen")?),
        days: r.try_get("days")?,
    };
    let before: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM aid_payouts WHERE plan_id = $1 AND person_id = $2",
    )
    .bind(plan_id)
    .bind(person)
    .fetch_one(&mut *tx)
    .await?;
    let p = rules::payout(&rules, &facts, Fen::from_fen(before)).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })?;
    Ok((p, plan_id, person, r.try_get("org_id")?))
}

/// The payout the claim would get now (for the claim's page).
pub async fn preview(db: &Db, scope: &Scope, id: i64) -> AppResult<Payout> {
    get_claim(db, scope, id).await?;
    let mut conn = db.pool().acquire().await?;
    Ok(compute(&mut conn, id).await?.0)
}

/// Labels of the plan's required documents the claim has no file for.
async fn missing_docs(tx: &mut AnyConnection, claim: i64) -> AppResult<Vec<String>> {
    let docs: String = sqlx::query_scalar(
        "SELECT pl.required_docs FROM aid_claims c JOIN aid_plans pl ON pl.id = c.plan_id WHERE c.id = $1",
    )
    .bind(claim)
    .fetch_one(&mut *tx)
    .await?;
    let mut missing = Vec::new();
    for d in docs.split(',').filter(|d| !d.is_empty()) {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM attachments WHERE owner_kind = $1 AND owner_id = $2 AND label = $3 AND deleted_at IS NULL",
        )
        .bind(CLAIM_KIND)
        .bind(claim)
        .bind(d)
        .fetch_one(&mut *tx)
        .await?;
        if n == 0 {
            missing.push(d.to_string());
        }
    }
    Ok(missing)
}

pub const CLAIM_KIND: &str = "mutual_aid_claim";

/// A claim on the review chain: submitted by the grassroots union, reviewed
/// by the county, approved or rejected by the city. Submitting needs the
/// plan's documents and some of the person's cap left; the final approval
/// computes the payout and writes the ledger in the step's transaction.
pub struct ClaimKind;

impl ReviewKind for ClaimKind {
    fn key(&self) -> &'static str {
        CLAIM_KIND
    }
    fn chain(&self) -> &'static [&'static str] {
        &["county", "city"]
    }
    fn label(&self) -> Msg {
        Msg::new("互助保障赔付", "Mutual-aid claim")
    }
    fn check<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        action: Action,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            if matches!(action, Action::Submit | Action::Resubmit | Action::Approve) {
                let missing = missing_docs(tx, item.record_id).await?;
                if !missing.is_empty() {
                    return Err(AppError::invalid(
                        format!("缺少所需材料:{},请上传后再提交", missing.join("、")),
                        format!(
                            "Required documents missing: {}; attach them, then submit",
                            missing.join(", ")
                        ),
                    ));
                }
                // Refused here when the person's cap is already used up.
                compute(tx, item.record_id).await?;
            }
            if action == Action::Submit {
                sqlx::query("UPDATE aid_claims SET status = 'submitted', updated_at = $1 WHERE id = $2 AND status = 'draft'")
                    .bind(time::now_rfc3339())
                    .bind(item.record_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(())
        })
    }
    fn on_decided<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        outcome: Outcome,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let now = time::now_rfc3339();
            match outcome {
                Outcome::Approved => {
                    let (p, plan, person, org) = compute(tx, item.record_id).await?;
                    sqlx::query(
                        "INSERT INTO aid_payouts (claim_id, plan_id, org_id, region_root, person_id, amount_fen, paid_on, created_at) \
                         SELECT $1, $2, $3, o.region_root, $4, $5, $6, $7 FROM orgs o WHERE o.id = $3",
                    )
                    .bind(item.record_id)
                    .bind(plan)
                    .bind(org)
                    .bind(person)
                    .bind(p.paid.fen())
                    .bind(time::today().to_string())
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("UPDATE aid_claims SET status = 'approved', payout_fen = $1, updated_at = $2 WHERE id = $3")
                        .bind(p.paid.fen())
                        .bind(&now)
                        .bind(item.record_id)
                        .execute(&mut *tx)
                        .await?;
                    dataver::touch(tx, [org]).await?;
                }
                Outcome::Rejected => {
                    sqlx::query(
                        "UPDATE aid_claims SET status = 'rejected', updated_at = $1 WHERE id = $2",
                    )
                    .bind(&now)
                    .bind(item.record_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            Ok(())
        })
    }
}

/// Files on a claim (发票, 出院小结 …) belong to the claim's union.
pub struct ClaimFiles;

impl AttachmentOwner for ClaimFiles {
    fn kind(&self) -> &'static str {
        CLAIM_KIND
    }
    fn resolve<'a>(
        &'a self,
        db: &'a Db,
        owner_id: i64,
    ) -> BoxFuture<'a, AppResult<Option<OwnerOrg>>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT o.id, o.path FROM aid_claims c JOIN orgs o ON o.id = c.org_id WHERE c.id = $1",
            )
            .bind(owner_id)
            .fetch_optional(db.pool())
            .await?;
            Ok(match row {
                Some(r) => Some(OwnerOrg {
                    org_id: OrgId(r.try_get(0)?),
                    org_path: r.try_get(1)?,
                }),
                None => None,
            })
        })
    }
}

/// The payout in words: the rules' parts, and which cap cut it and why.
pub fn explain(p: &Payout, plan: &Plan) -> Msg {
    let m = |f: Fen| format!("{}元", numfmt::format_fen_table(f.fen(), true));
    let parts_zh = format!(
        "住院津贴{} + 起付线{}以上部分按{}%报销{} = {}",
        m(p.per_day_part),
        m(Fen::from_fen(plan.deductible_fen)),
        plan.ratio_pct,
        m(p.reimbursed_part),
        m(p.by_rules)
    );
    let parts_en = format!(
        "per-day benefit {} + {}% of the amount above the deductible {}: {} = {}",
        m(p.per_day_part),
        plan.ratio_pct,
        m(Fen::from_fen(plan.deductible_fen)),
        m(p.reimbursed_part),
        m(p.by_rules)
    );
    match p.limited_by {
        rules::Limit::None => Msg::new(
            format!("{parts_zh};全额赔付{}", m(p.paid)),
            format!("{parts_en}; paid in full: {}", m(p.paid)),
        ),
        rules::Limit::PerClaim => Msg::new(
            format!(
                "{parts_zh};超过单次赔付上限{},按上限赔付{}",
                m(Fen::from_fen(plan.per_claim_cap_fen.unwrap_or_default())),
                m(p.paid)
            ),
            format!(
                "{parts_en}; above the per-claim cap of {}, so {} is paid",
                m(Fen::from_fen(plan.per_claim_cap_fen.unwrap_or_default())),
                m(p.paid)
            ),
        ),
        rules::Limit::PersonPeriod => {
            let cap = Fen::from_fen(plan.person_period_cap_fen.unwrap_or_default());
            let before = cap.checked_sub(p.paid).unwrap_or(cap);
            Msg::new(
                format!(
                    "{parts_zh};每人每期赔付上限{},该职工本期已获赔{},本次按剩余额度赔付{}",
                    m(cap),
                    m(before),
                    m(p.paid)
                ),
                format!(
                    "{parts_en}; the cap per person per period is {}, {} was paid before, so the {} left is paid",
                    m(cap),
                    m(before),
                    m(p.paid)
                ),
            )
        }
    }
}
