//! Campaigns (送温暖, 金秋助学 …) with their budget handed down the tree, and
//! disbursements: a union applies for one person or thousands at once (a
//! batch), the batch walks the review chain, then the payment is recorded.
//!
//! Enforced in the write transaction, whatever the caller:
//! - nobody is helped twice in one campaign anywhere in the instance (a
//!   unique index on (campaign, keyed ID hash) over live grants; the refusal
//!   names the campaign, and the union that gave the help only when it is in
//!   the caller's subtree);
//! - no union on the applicant's path spends above its allocation (a
//!   conditional UPDATE of the allocation's committed amount);
//! - amounts stay within the campaign's standard unless the line carries an
//!   exception reason, which the review chain then approves with the batch;
//! - a batch is written whole or not at all.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::model;
use platform::{
    attachments::{AttachmentOwner, OwnerOrg},
    audit::{self, Event},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    module::BoxFuture,
    money::Fen,
    review::{self, Outcome, ReviewItem, ReviewKind},
    scope::Scope,
    sqlx_util::{insert_many, V},
    time, tree,
    web::AppState,
};

platform::id_type!(CampaignId, BatchId);

/// The most people in one batch.
pub const MAX_BATCH: usize = 20_000;

// ───────────────────────────── campaigns ─────────────────────────────

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
#[schema(as = HardshipCampaignInput)]
pub struct CampaignInput {
    /// The organising union; the caller's own org when absent.
    pub org_id: Option<i64>,
    /// warmth | education | summer | jobs | daily | special (or 送温暖 …).
    pub kind: String,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    /// The standard amount per person, fen.
    pub standard_fen: i64,
    /// The whole budget, fen: the organising union's allocation.
    pub budget_fen: i64,
    /// Special campaigns only: whether each person needs an open hardship
    /// file (other kinds have fixed rules, see `Eligibility`).
    pub file_required: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    #[schema(value_type = i64)]
    pub id: CampaignId,
    pub org_id: i64,
    pub org_name: String,
    pub kind: String,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub standard_fen: i64,
    pub budget_fen: i64,
    /// Special campaigns: an open hardship file is required.
    pub file_required: bool,
    #[serde(skip)]
    pub org_path: String,
}

/// One union's share of a campaign's budget.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Allocation {
    pub org_id: i64,
    pub org_name: String,
    pub amount_fen: i64,
    /// Handed further down.
    pub allocated_fen: i64,
    /// Applied for in its subtree (under review, approved or paid).
    pub committed_fen: i64,
}

fn date(raw: &str, zh: &str, en: &str) -> AppResult<NaiveDate> {
    time::parse_date(raw.trim()).ok_or_else(|| {
        AppError::invalid(
            format!("{zh}无效,请按 2026-03-01 格式填写"),
            format!("{en} is not a valid date; use 2026-03-01"),
        )
    })
}

/// Creates a campaign; the organising union holds the whole budget.
pub async fn create_campaign(
    db: &Db,
    scope: &Scope,
    input: &CampaignInput,
) -> AppResult<CampaignId> {
    scope.require_write()?;
    let org = tree::node(db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    let kind = model::kind(&input.kind)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "请填写活动名称(最多100字)",
            "Give the campaign a name (100 characters at most)",
        ));
    }
    let starts = date(&input.starts_on, "开始日期", "The start date")?;
    let ends = date(&input.ends_on, "结束日期", "The end date")?;
    if ends < starts {
        return Err(AppError::invalid(
            "结束日期不能早于开始日期",
            "The end date is before the start date",
        ));
    }
    if input.standard_fen <= 0 || input.budget_fen <= 0 || input.standard_fen > input.budget_fen {
        return Err(AppError::invalid(
            "标准金额和预算须大于0,且标准不超过预算",
            "The standard amount and the budget must be positive, the standard within the budget",
        ));
    }
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(db.pool())
        .await?;
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hardship_campaigns (region_root, org_id, kind, name, starts_on, ends_on, standard_fen, budget_fen, created_by, created_at, file_required) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(kind)
    .bind(name)
    .bind(starts.to_string())
    .bind(ends.to_string())
    .bind(input.standard_fen)
    .bind(input.budget_fen)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .bind(i64::from(kind == "special" && input.file_required))
    .fetch_one(&mut *tx.tx)
    .await?;
    sqlx::query(
        "INSERT INTO hardship_allocations (campaign_id, org_id, region_root, amount_fen) VALUES ($1,$2,$3,$4)",
    )
    .bind(id)
    .bind(org.id.0)
    .bind(region_root)
    .bind(input.budget_fen)
    .execute(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.campaign_create", "hardship_campaign", id)
            .org(org.id)
            .detail(
                serde_json::json!({"kind": kind, "name": name, "budget_fen": input.budget_fen,
                "standard_fen": input.standard_fen,
                "file_required": kind == "special" && input.file_required}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(CampaignId(id))
}

const CAMPAIGN_SELECT: &str = "SELECT c.id, c.org_id, o.name AS org_name, o.path AS org_path, c.kind, c.name, \
     c.starts_on, c.ends_on, c.standard_fen, c.budget_fen, c.file_required FROM hardship_campaigns c JOIN orgs o ON o.id = c.org_id";

fn campaign_from(r: &sqlx::any::AnyRow) -> AppResult<Campaign> {
    Ok(Campaign {
        id: CampaignId(r.try_get("id")?),
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        starts_on: r.try_get("starts_on")?,
        ends_on: r.try_get("ends_on")?,
        standard_fen: r.try_get("standard_fen")?,
        budget_fen: r.try_get("budget_fen")?,
        file_required: r.try_get::<i64, _>("file_required")? == 1,
    })
}

/// Whether the caller works inside the campaign: its org is in the
/// campaign's subtree (a grassroots union applying) or above it.
fn reaches(scope: &Scope, c: &Campaign) -> bool {
    scope.path().starts_with(&c.org_path) || c.org_path.starts_with(scope.path())
}

/// The campaigns the caller works in: those of its ancestors and its subtree.
pub async fn campaigns(db: &Db, scope: &Scope) -> AppResult<Vec<Campaign>> {
    let rows = sqlx::query(&format!(
        "{CAMPAIGN_SELECT} ORDER BY c.starts_on DESC, c.id DESC"
    ))
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(campaign_from)
        .collect::<AppResult<Vec<_>>>()?
        .into_iter()
        .filter(|c| reaches(scope, c))
        .collect())
}

/// One campaign the caller works in (404 + audit otherwise).
pub async fn campaign(db: &Db, scope: &Scope, id: CampaignId) -> AppResult<Campaign> {
    let c = sqlx::query(&format!("{CAMPAIGN_SELECT} WHERE c.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(campaign_from)
        .transpose()?
        .ok_or(AppError::NotFound)?;
    if !reaches(scope, &c) {
        audit::record_denied(db, scope, "hardship_campaign", id).await;
        return Err(AppError::NotFound);
    }
    Ok(c)
}

/// The allocations of a campaign inside the caller's subtree.
pub async fn allocations(db: &Db, scope: &Scope, id: CampaignId) -> AppResult<Vec<Allocation>> {
    campaign(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT a.org_id, o.name, a.amount_fen, a.allocated_fen, a.committed_fen FROM hardship_allocations a \
         JOIN orgs o ON o.id = a.org_id WHERE a.campaign_id = $1 AND o.path LIKE $2 ORDER BY o.path",
    )
    .bind(id.0)
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Allocation {
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("name")?,
                amount_fen: r.try_get("amount_fen")?,
                allocated_fen: r.try_get("allocated_fen")?,
                committed_fen: r.try_get("committed_fen")?,
            })
        })
        .collect()
}

/// The ids on an org path, root first.
fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

/// Hands `amount_fen` of the nearest allocated ancestor's budget to `org`
/// (first allocation) or changes its allocation. The ancestor's share must
/// cover it; a changed allocation cannot drop below what the org already
/// handed down or committed.
pub async fn allocate(
    db: &Db,
    scope: &Scope,
    id: CampaignId,
    org: OrgId,
    amount_fen: i64,
) -> AppResult<()> {
    scope.require_write()?;
    let c = campaign(db, scope, id).await?;
    let node = tree::node(db, scope, org).await?;
    if !node.path.starts_with(&c.org_path) || node.path == c.org_path {
        return Err(AppError::invalid(
            "只能向活动发起单位的下级工会分配资金",
            "Funds are allocated to unions below the campaign's organiser",
        ));
    }
    if amount_fen < 0 {
        return Err(AppError::invalid(
            "分配金额不能为负数",
            "The amount cannot be negative",
        ));
    }
    let mut tx = db.begin_write().await?;
    // The nearest ancestor holding an allocation gives it.
    let ids = path_ids(&node.path);
    let mut parent = None;
    for pid in ids[..ids.len() - 1].iter().rev() {
        let has: Option<i64> = sqlx::query_scalar(
            "SELECT amount_fen FROM hardship_allocations WHERE campaign_id = $1 AND org_id = $2",
        )
        .bind(id.0)
        .bind(*pid)
        .fetch_optional(&mut *tx.tx)
        .await?;
        if has.is_some() {
            parent = Some(*pid);
            break;
        }
    }
    let parent =
        parent.ok_or_else(|| anyhow::anyhow!("campaign {} has no root allocation", id.0))?;
    let parent_path: String = sqlx::query_scalar("SELECT path FROM orgs WHERE id = $1")
        .bind(parent)
        .fetch_one(&mut *tx.tx)
        .await?;
    if !scope.contains_path(&parent_path) {
        // The budget being handed out is not the caller's.
        return Err(AppError::forbidden(
            "该资金由上级工会分配,您不能调整",
            "This budget is handed out by a union above you",
        ));
    }
    let current = sqlx::query(
        "SELECT amount_fen, allocated_fen, committed_fen FROM hardship_allocations WHERE campaign_id = $1 AND org_id = $2",
    )
    .bind(id.0)
    .bind(org.0)
    .fetch_optional(&mut *tx.tx)
    .await?;
    let old = match &current {
        Some(r) => {
            let (a, handed, committed): (i64, i64, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            if amount_fen < handed + committed {
                return Err(AppError::invalid(
                    format!(
                        "该单位已下拨或使用{},分配额度不能低于此数",
                        Fen::from_fen(handed + committed).display()
                    ),
                    format!(
                        "This union has already handed down or used {}; its allocation cannot go below that",
                        Fen::from_fen(handed + committed).yuan_text()
                    ),
                ));
            }
            a
        }
        None => 0,
    };
    let delta = amount_fen - old;
    let n = sqlx::query(
        "UPDATE hardship_allocations SET allocated_fen = allocated_fen + $1 \
         WHERE campaign_id = $2 AND org_id = $3 AND allocated_fen + $1 <= amount_fen - committed_fen",
    )
    .bind(delta)
    .bind(id.0)
    .bind(parent)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::invalid(
            "上级工会的剩余额度不足,不能分配这么多",
            "The union above has not enough left to allocate this much",
        ));
    }
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.0)
        .fetch_one(&mut *tx.tx)
        .await?;
    if current.is_some() {
        sqlx::query("UPDATE hardship_allocations SET amount_fen = $1 WHERE campaign_id = $2 AND org_id = $3")
            .bind(amount_fen)
            .bind(id.0)
            .bind(org.0)
            .execute(&mut *tx.tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO hardship_allocations (campaign_id, org_id, region_root, amount_fen) VALUES ($1,$2,$3,$4)",
        )
        .bind(id.0)
        .bind(org.0)
        .bind(region_root)
        .bind(amount_fen)
        .execute(&mut *tx.tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.allocate", "hardship_campaign", id)
            .org(org)
            .detail(serde_json::json!({"org": org.0, "amount_fen": amount_fen, "from": parent})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ───────────────────────────── who a campaign helps ─────────────────────────────

/// Who a campaign may help, one rule per kind (the union's practice):
/// - 送温暖, 日常救助: households with an open (confirmed) hardship file;
/// - 金秋助学: an open file, the school and this year's admission notice;
/// - 夏送清凉: any worker, by name and ID (no file needed);
/// - 春送岗位: a worker without a file, or one whose file names 有劳动能力未就业
///   or 下岗失业 among its causes;
/// - 专项救助 (疫情救助 …): as the campaign says, a file required or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eligibility {
    OpenFile,
    StudyGrant,
    AnyWorker,
    JobSeeker,
    Special { file_required: bool },
}

/// The causes that make a filed worker a 春送岗位 case.
pub const JOB_CAUSES: &[&str] = &["unemployed", "laid_off"];

impl Eligibility {
    pub fn of(kind: &str, file_required: bool) -> Eligibility {
        match kind {
            "warmth" | "daily" => Eligibility::OpenFile,
            "education" => Eligibility::StudyGrant,
            "summer" => Eligibility::AnyWorker,
            "jobs" => Eligibility::JobSeeker,
            _ => Eligibility::Special { file_required },
        }
    }

    pub fn needs_file(self) -> bool {
        matches!(
            self,
            Eligibility::OpenFile
                | Eligibility::StudyGrant
                | Eligibility::Special {
                    file_required: true
                }
        )
    }

    /// Checks one person: `file` is the causes of their open file in the
    /// applicant's subtree, if any. The refusal names the rule (zh, en).
    pub fn check(self, kind: &str, file: Option<&[&str]>) -> Result<(), (String, String)> {
        let k = model::kind_label(kind);
        if self.needs_file() && file.is_none() {
            let (zh, en) = match self {
                Eligibility::OpenFile => (
                    "送温暖、日常救助只帮扶已确认建档的困难职工家庭",
                    "winter warmth and everyday relief help households with a confirmed hardship file only",
                ),
                Eligibility::StudyGrant => ("金秋助学须有已建档的困难职工档案", "a study grant needs an open hardship file"),
                _ => ("本专项活动规定须有已确认的困难职工档案", "this special campaign requires a confirmed hardship file"),
            };
            return Err((
                format!("“{}”要求有在档的困难职工档案,此人没有({zh})", k.zh),
                format!(
                    "“{}” requires an open hardship file and this person has none ({en})",
                    k.en
                ),
            ));
        }
        if self == Eligibility::JobSeeker {
            if let Some(causes) = file {
                if !causes.iter().any(|c| JOB_CAUSES.contains(c)) {
                    return Err((
                        "春送岗位帮扶未就业人员:此人的困难档案致困原因中没有“有劳动能力未就业”或“下岗失业”".to_string(),
                        "spring job help is for workers out of work: this person's hardship file names neither “able to work, not employed” nor “laid off” among its causes".to_string(),
                    ));
                }
            }
        }
        Ok(())
    }
}

// ───────────────────────────── applying ─────────────────────────────

/// One person of an application: from a file (`file_id`) or by name and ID.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct GrantInput {
    pub file_id: Option<i64>,
    pub name: String,
    pub id_kind: String,
    pub id_number: String,
    /// Fen; the campaign's standard when absent.
    pub amount_fen: Option<i64>,
    /// Required above the standard.
    pub exception_reason: String,
    /// 金秋助学: the school the child was admitted to.
    pub school: String,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ApplyInput {
    pub campaign_id: i64,
    /// The applying union; the caller's own org when absent.
    pub org_id: Option<i64>,
    pub title: String,
    pub people: Vec<GrantInput>,
}

/// A checked line, ready to write.
#[derive(Clone, Debug)]
pub struct Line {
    pub id_hash: String,
    pub name: String,
    pub id_masked: String,
    pub file_id: Option<i64>,
    pub amount: i64,
    pub exception_reason: String,
    pub school: String,
}

fn row_err(n: usize, zh: impl std::fmt::Display, en: impl std::fmt::Display) -> AppError {
    AppError::invalid(format!("第{n}人:{zh}"), format!("Person {n}: {en}"))
}

/// The grant lines of an input, checked against the campaign: who (a file
/// in scope, or a valid ID), how much (within the standard, or with a
/// reason), 金秋助学's file and admission notice, no one twice in the list.
pub async fn prepare(
    st: &AppState,
    scope: &Scope,
    c: &Campaign,
    people: &[GrantInput],
) -> AppResult<Vec<Line>> {
    if people.is_empty() {
        return Err(AppError::invalid(
            "申请名单为空",
            "The list of people is empty",
        ));
    }
    if people.len() > MAX_BATCH {
        return Err(AppError::invalid(
            format!("一次最多申请{MAX_BATCH}人"),
            format!("At most {MAX_BATCH} people per application"),
        ));
    }
    let today = time::today();
    let mut out = Vec::with_capacity(people.len());
    let mut seen = HashSet::new();
    for (i, p) in people.iter().enumerate() {
        let n = i + 1;
        let (id_hash, mut name, id_masked, mut file_id) = match p.file_id {
            Some(fid) => {
                let r = sqlx::query(
                    "SELECT f.id_hash, f.head_name, r.id_masked, f.status, o.path FROM hardship_files f \
                     JOIN person_refs r ON r.id = f.person_ref_id JOIN orgs o ON o.id = f.org_id WHERE f.id = $1",
                )
                .bind(fid)
                .fetch_optional(st.db.pool())
                .await?;
                let r = match r {
                    Some(r) if scope.contains_path(&r.try_get::<String, _>("path")?) => r,
                    _ => return Err(row_err(n, "找不到该困难职工档案", "no such hardship file")),
                };
                let status: String = r.try_get("status")?;
                if status != "open" {
                    return Err(row_err(
                        n,
                        "该困难职工档案尚未确认建档或已关闭",
                        "the hardship file is not confirmed or is closed",
                    ));
                }
                (
                    r.try_get::<String, _>("id_hash")?,
                    r.try_get::<String, _>("head_name")?,
                    r.try_get::<String, _>("id_masked")?,
                    Some(fid),
                )
            }
            None => {
                let name = p.name.split_whitespace().collect::<Vec<_>>().join(" ");
                if name.is_empty() || name.chars().count() > 50 {
                    return Err(row_err(
                        n,
                        "请填写姓名(最多50字)",
                        "give the name (50 characters at most)",
                    ));
                }
                let kind = match p.id_kind.trim() {
                    "" => ident::IdKind::ResidentId,
                    s => ident::IdKind::from_label(s).ok_or_else(|| {
                        row_err(
                            n,
                            format!("证件类型“{s}”无法识别"),
                            format!("unknown document type “{s}”"),
                        )
                    })?,
                };
                let id = ident::IdNumber::parse_on(kind, &p.id_number, today).map_err(|e| {
                    let (zh, en) = e.message();
                    row_err(n, zh, en)
                })?;
                (
                    platform::person::id_lookup_hash(&st.keys, id.as_str()),
                    name,
                    id.masked(),
                    None,
                )
            }
        };
        if !seen.insert(id_hash.clone()) {
            return Err(row_err(
                n,
                format!("{name}在名单中重复出现"),
                format!("{name} is listed twice"),
            ));
        }
        if file_id.is_none() {
            // Someone with an open file is helped on that file.
            let found: Option<(i64, String)> = sqlx::query_as(
                "SELECT f.id, o.path FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
                 WHERE f.id_hash = $1 AND f.status = 'open'",
            )
            .bind(&id_hash)
            .fetch_optional(st.db.pool())
            .await?;
            if let Some((fid, path)) = found {
                if scope.contains_path(&path) {
                    file_id = Some(fid);
                }
            }
        }
        let amount = p.amount_fen.unwrap_or(c.standard_fen);
        if amount <= 0 {
            return Err(row_err(n, "金额须大于0", "the amount must be positive"));
        }
        let reason = p.exception_reason.trim().to_string();
        if reason.chars().count() > 500 {
            return Err(row_err(
                n,
                "超标准理由过长",
                "the exception reason is too long",
            ));
        }
        if amount > c.standard_fen && reason.is_empty() {
            return Err(row_err(
                n,
                format!(
                    "{}超过“{}”的标准{},须填写超标准理由并经审批",
                    Fen::from_fen(amount).display(),
                    c.name,
                    Fen::from_fen(c.standard_fen).display()
                ),
                format!(
                    "{} is above the standard of {} in “{}”; an exception needs a reason and approval",
                    Fen::from_fen(amount).yuan_text(),
                    Fen::from_fen(c.standard_fen).yuan_text(),
                    c.name
                ),
            ));
        }
        let school = p.school.trim().to_string();
        let rule = Eligibility::of(&c.kind, c.file_required);
        let causes: Option<Vec<String>> = match file_id {
            Some(fid) => {
                let (p, s): (String, String) = sqlx::query_as(
                    "SELECT primary_cause, secondary_causes FROM hardship_files WHERE id = $1",
                )
                .bind(fid)
                .fetch_one(st.db.pool())
                .await?;
                Some(
                    std::iter::once(p)
                        .chain(s.split(',').filter(|x| !x.is_empty()).map(str::to_string))
                        .collect(),
                )
            }
            None => None,
        };
        let cause_refs: Option<Vec<&str>> = causes
            .as_ref()
            .map(|v| v.iter().map(String::as_str).collect());
        rule.check(&c.kind, cause_refs.as_deref())
            .map_err(|(zh, en)| row_err(n, zh, en))?;
        if rule == Eligibility::StudyGrant {
            let Some(fid) = file_id else {
                return Err(row_err(
                    n,
                    "金秋助学须有已建档的困难职工档案",
                    "a study grant needs an open hardship file",
                ));
            };
            if school.is_empty() {
                return Err(row_err(
                    n,
                    "请填写录取学校",
                    "give the school the child was admitted to",
                ));
            }
            let year = &c.starts_on[..4];
            let notices: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM attachments WHERE owner_kind = 'hardship_file' AND owner_id = $1 \
                 AND deleted_at IS NULL AND label LIKE '%录取通知书%' AND uploaded_at >= $2",
            )
            .bind(fid)
            .bind(format!("{year}-01-01"))
            .fetch_one(st.db.pool())
            .await?;
            if notices == 0 {
                return Err(row_err(
                    n,
                    format!("请先在档案中上传{year}年的录取通知书(附件说明填“录取通知书”)"),
                    format!("attach this year's admission notice ({year}) to the file first, labelled 录取通知书"),
                ));
            }
        }
        name.truncate(200);
        out.push(Line {
            id_hash,
            name,
            id_masked,
            file_id,
            amount,
            exception_reason: reason,
            school,
        });
    }
    Ok(out)
}

/// The union whose allocation a union's applications spend: the nearest
/// ancestor-or-self holding an allocation of the campaign. Refused when
/// there is none.
async fn holder(conn: &mut AnyConnection, campaign: &Campaign, org_path: &str) -> AppResult<i64> {
    for oid in path_ids(org_path).into_iter().rev() {
        let has: Option<i64> = sqlx::query_scalar(
            "SELECT amount_fen FROM hardship_allocations WHERE campaign_id = $1 AND org_id = $2",
        )
        .bind(campaign.id.0)
        .bind(oid)
        .fetch_optional(&mut *conn)
        .await?;
        if has.is_some() {
            return Ok(oid);
        }
    }
    Err(AppError::invalid(
        format!(
            "本单位在“{}”中没有分配资金,请先由上级工会分配",
            campaign.name
        ),
        format!(
            "Your union has no allocation in “{}”; the union above allocates first",
            campaign.name
        ),
    ))
}

/// Spends `delta` of the holder's allocation (a negative `delta` gives it
/// back). What a union may spend is its allocation less what it handed
/// down; the conditional UPDATE holds under concurrency, and a refusal
/// names the union and what is left.
async fn commit_at(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    holder: i64,
    delta: i64,
) -> AppResult<()> {
    let n = sqlx::query(
        "UPDATE hardship_allocations SET committed_fen = committed_fen + $1 \
         WHERE campaign_id = $2 AND org_id = $3 AND (committed_fen + allocated_fen + $1 <= amount_fen OR $1 <= 0)",
    )
    .bind(delta)
    .bind(campaign.id.0)
    .bind(holder)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        return Ok(());
    }
    let r = sqlx::query(
        "SELECT a.amount_fen, a.allocated_fen, a.committed_fen, o.name FROM hardship_allocations a \
         JOIN orgs o ON o.id = a.org_id WHERE a.campaign_id = $1 AND a.org_id = $2",
    )
    .bind(campaign.id.0)
    .bind(holder)
    .fetch_one(&mut *conn)
    .await?;
    let (amount, handed, committed, name): (i64, i64, i64, String) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
    let left = Fen::from_fen((amount - handed - committed).max(0));
    Err(AppError::invalid(
        format!(
            "超出分配额度:“{name}”在“{}”中的额度为{},可用余额{},本次申请{}",
            campaign.name,
            Fen::from_fen(amount).display(),
            left.display(),
            Fen::from_fen(delta).display()
        ),
        format!(
            "Above the allocation: “{name}” has {} in “{}”, {} available, and this application asks for {}",
            Fen::from_fen(amount).yuan_text(),
            campaign.name,
            left.yuan_text(),
            Fen::from_fen(delta).yuan_text()
        ),
    ))
}

/// The refusal of a second grant in one campaign: it names the campaign,
/// and the union that gave the help only when the caller may see it.
fn helped_twice(campaign: &Campaign, name: &str, masked: &str, by: Option<&str>) -> AppError {
    let tail: String = masked
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let (zh_by, en_by) = match by {
        Some(org) => (format!("(由{org}申请)"), format!(" (applied for by {org})")),
        None => (String::new(), String::new()),
    };
    AppError::conflict(
        format!(
            "重复救助:{name}(证件尾号{tail})在“{}”中已获帮扶{zh_by},同一活动中每人只能救助一次",
            campaign.name
        ),
        format!(
            "Helped twice: {name} (ID ending {tail}) has already been helped in “{}”{en_by}; one grant per person per campaign",
            campaign.name
        ),
    )
}

/// A live grant found by [`helped_before`]: whose (keyed ID hash) and the
/// union that applied for it.
#[derive(Clone, Debug)]
pub struct HelpedBefore {
    pub id_hash: String,
    pub org_path: String,
    pub org_name: String,
}

/// The 重复救助 check: the first of `hashes` (keyed ID hashes) already
/// holding a live grant of the campaign anywhere in the instance, if any.
/// Lookups on the unique index `hardship_grants_once (campaign_id, id_hash)`,
/// 500 hashes per statement. [`write_batch`] runs it inside its write
/// transaction (so nothing can slip in between the check and the write).
pub async fn helped_before(
    conn: &mut AnyConnection,
    campaign: CampaignId,
    hashes: &[&str],
) -> AppResult<Option<HelpedBefore>> {
    for chunk in hashes.chunks(500) {
        let ph = platform::sqlx_util::placeholders(1, chunk.len());
        let sql = format!(
            "SELECT g.id_hash, o.path, o.name FROM hardship_grants g JOIN orgs o ON o.id = g.org_id \
             WHERE g.campaign_id = $1 AND g.status <> 'rejected' AND g.id_hash IN ({ph}) LIMIT 1"
        );
        let mut q = sqlx::query(&sql).bind(campaign.0);
        for h in chunk {
            q = q.bind(*h);
        }
        if let Some(r) = q.fetch_optional(&mut *conn).await? {
            return Ok(Some(HelpedBefore {
                id_hash: r.try_get(0)?,
                org_path: r.try_get(1)?,
                org_name: r.try_get(2)?,
            }));
        }
    }
    Ok(None)
}

/// Writes a checked batch, all or nothing, in `tx`: the double-help check
/// against every live grant of the campaign, the allocations on the path,
/// the batch and its lines. Returns the batch id (status `draft`).
pub async fn write_batch(
    tx: &mut AnyConnection,
    scope: &Scope,
    c: &Campaign,
    org: &tree::OrgNode,
    title: &str,
    lines: &[Line],
) -> AppResult<BatchId> {
    // 重复救助 anywhere in the instance, read inside the transaction.
    let hashes: Vec<&str> = lines.iter().map(|l| l.id_hash.as_str()).collect();
    if let Some(found) = helped_before(tx, c.id, &hashes).await? {
        let l = lines
            .iter()
            .find(|l| l.id_hash == found.id_hash)
            .expect("asked for");
        return Err(helped_twice(
            c,
            &l.name,
            &l.id_masked,
            scope
                .contains_path(&found.org_path)
                .then_some(found.org_name.as_str()),
        ));
    }
    let total = lines
        .iter()
        .try_fold(0i64, |s, l| s.checked_add(l.amount))
        .ok_or_else(|| AppError::invalid("金额合计过大", "The amounts add up too high"))?;
    let holder = holder(tx, c, &org.path).await?;
    commit_at(tx, c, holder, total).await?;
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(&mut *tx)
        .await?;
    let exceptions = lines
        .iter()
        .filter(|l| !l.exception_reason.is_empty())
        .count() as i64;
    let batch: i64 = sqlx::query_scalar(
        "INSERT INTO hardship_batches (region_root, org_id, campaign_id, title, people, total_fen, exceptions, status, created_by, created_at, holder_org_id) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,'draft',$8,$9,$10) RETURNING id",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(c.id.0)
    .bind(title)
    .bind(lines.len() as i64)
    .bind(total)
    .bind(exceptions)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .bind(holder)
    .fetch_one(&mut *tx)
    .await?;
    let rows: Vec<Vec<V>> = lines
        .iter()
        .map(|l| {
            vec![
                V::from(region_root),
                V::I(batch),
                V::I(c.id.0),
                V::I(org.id.0),
                V::from(l.id_hash.as_str()),
                V::from(l.name.as_str()),
                V::from(l.id_masked.as_str()),
                V::from(l.file_id),
                V::I(l.amount),
                V::from(l.exception_reason.as_str()),
                V::from(l.school.as_str()),
                V::from("reviewing"),
            ]
        })
        .collect();
    let written = insert_many(
        tx,
        "hardship_grants",
        &[
            "region_root",
            "batch_id",
            "campaign_id",
            "org_id",
            "id_hash",
            "name",
            "id_masked",
            "file_id",
            "amount_fen",
            "exception_reason",
            "school",
            "status",
        ],
        &rows,
        None,
    )
    .await;
    match written {
        Ok(_) => {}
        // A concurrent application for the same person won the index.
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                format!(
                    "重复救助:名单中有人已在“{}”中获得帮扶,同一活动中每人只能救助一次",
                    c.name
                ),
                format!(
                    "Helped twice: someone on the list has already been helped in “{}”",
                    c.name
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    audit::append(
        tx,
        &scope.actor,
        Event::new("hardship.batch_apply", "hardship_batch", batch)
            .org(org.id)
            .detail(
                serde_json::json!({"campaign": c.id.0, "people": lines.len(), "total_fen": total,
                "exceptions": exceptions}),
            ),
    )
    .await?;
    Ok(BatchId(batch))
}

/// The chain for an applicant: the county's 初审 and the city's 终审, or
/// the city alone for a union directly under it.
async fn chain_for(db: &Db, org: &tree::OrgNode) -> AppResult<&'static [&'static str]> {
    let levels: Vec<String> = {
        let ids = path_ids(&org.path);
        let mut out = Vec::new();
        for id in ids {
            out.push(
                sqlx::query_scalar::<_, String>("SELECT level FROM orgs WHERE id = $1")
                    .bind(id)
                    .fetch_one(db.pool())
                    .await?,
            );
        }
        out
    };
    Ok(if levels.iter().any(|l| l == "county") {
        &["county", "city"]
    } else {
        &["city"]
    })
}

/// Applies: checks, writes the batch whole, and sends it up the review
/// chain. A refusal anywhere leaves nothing written.
pub async fn apply(st: &AppState, scope: &Scope, input: &ApplyInput) -> AppResult<BatchId> {
    scope.require_write()?;
    let c = campaign(&st.db, scope, CampaignId(input.campaign_id)).await?;
    let org = tree::node(&st.db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    if !org.path.starts_with(&c.org_path) {
        return Err(AppError::invalid(
            format!("本单位不在“{}”的范围内", c.name),
            format!("Your union is not within “{}”", c.name),
        ));
    }
    if time::today().to_string() > c.ends_on {
        return Err(AppError::invalid(
            format!("“{}”已于{}结束,不能再申请", c.name, c.ends_on),
            format!("“{}” ended on {}; no more applications", c.name, c.ends_on),
        ));
    }
    apply_in(st, scope, &c, &org, input).await
}

/// [`apply`] without the campaign's period (the demo's past campaigns).
pub async fn apply_in(
    st: &AppState,
    scope: &Scope,
    c: &Campaign,
    org: &tree::OrgNode,
    input: &ApplyInput,
) -> AppResult<BatchId> {
    let c = c.clone();
    let lines = prepare(st, scope, &c, &input.people).await?;
    let title = match input.title.trim() {
        "" => format!("{}:{}等{}人", c.name, lines[0].name, lines.len()),
        t => t.chars().take(150).collect(),
    };
    let chain = chain_for(&st.db, org).await?;
    let mut tx = st.db.begin_write().await?;
    let batch = write_batch(&mut tx, scope, &c, org, &title, &lines).await?;
    tx.commit().await?;
    match review::submit_with_chain(&st.db, scope, &BatchReview, org.id, batch.0, &title, chain)
        .await
    {
        Ok(rid) => {
            sqlx::query(
                "UPDATE hardship_batches SET status = 'reviewing', review_id = $1 WHERE id = $2",
            )
            .bind(rid.0)
            .bind(batch.0)
            .execute(st.db.pool())
            .await?;
            Ok(batch)
        }
        Err(e) => {
            withdraw(&st.db, batch).await?;
            Err(e)
        }
    }
}

/// Removes a batch that never reached the review chain (its submit failed,
/// or the process died between the two): its lines, and its amount from
/// the allocations.
pub async fn withdraw(db: &Db, batch: BatchId) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT b.total_fen, b.campaign_id, b.holder_org_id FROM hardship_batches b JOIN orgs o ON o.id = b.org_id \
         WHERE b.id = $1 AND b.status = 'draft'",
    )
    .bind(batch.0)
    .fetch_optional(&mut *tx.tx)
    .await?;
    let Some(r) = row else { return Ok(()) };
    let (total, cid, holder): (i64, i64, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    let c = Campaign {
        id: CampaignId(cid),
        org_id: 0,
        org_name: String::new(),
        kind: String::new(),
        name: String::new(),
        starts_on: String::new(),
        ends_on: String::new(),
        standard_fen: 0,
        budget_fen: 0,
        file_required: false,
        org_path: String::new(),
    };
    commit_at(&mut tx.tx, &c, holder, -total).await?;
    sqlx::query("DELETE FROM hardship_grants WHERE batch_id = $1")
        .bind(batch.0)
        .execute(&mut *tx.tx)
        .await?;
    sqlx::query("DELETE FROM hardship_batches WHERE id = $1")
        .bind(batch.0)
        .execute(&mut *tx.tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Drafts left by a process that died between writing a batch and
/// submitting it: removed at start.
pub async fn sweep_drafts(db: &Db) -> AppResult<usize> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM hardship_batches WHERE status = 'draft'")
            .fetch_all(db.pool())
            .await?;
    for id in &ids {
        withdraw(db, BatchId(*id)).await?;
    }
    Ok(ids.len())
}

// ───────────────────────────── review and payment ─────────────────────────────

/// The review of a batch: the final approval approves every line; a
/// rejection frees the people (they may be helped in another application)
/// and gives the amount back to the allocations.
pub struct BatchReview;

impl ReviewKind for BatchReview {
    fn key(&self) -> &'static str {
        "hardship_batch"
    }
    fn chain(&self) -> &'static [&'static str] {
        &["county", "city"]
    }
    fn label(&self) -> platform::i18n::Msg {
        platform::i18n::Msg::new("帮扶救助申请", "Assistance application")
    }
    fn on_decided<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        outcome: Outcome,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let status = match outcome {
                Outcome::Approved => "approved",
                Outcome::Rejected => "rejected",
            };
            let row = sqlx::query(
                "SELECT total_fen, campaign_id, holder_org_id FROM hardship_batches WHERE id = $1 AND status = 'reviewing'",
            )
            .bind(item.record_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| AppError::conflict("该申请已不在审批中", "This application is no longer under review"))?;
            let (total, cid, holder): (i64, i64, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            sqlx::query("UPDATE hardship_batches SET status = $1 WHERE id = $2")
                .bind(status)
                .bind(item.record_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE hardship_grants SET status = $1 WHERE batch_id = $2")
                .bind(status)
                .bind(item.record_id)
                .execute(&mut *tx)
                .await?;
            if outcome == Outcome::Rejected {
                let c = Campaign {
                    id: CampaignId(cid),
                    org_id: 0,
                    org_name: String::new(),
                    kind: String::new(),
                    name: String::new(),
                    starts_on: String::new(),
                    ends_on: String::new(),
                    standard_fen: 0,
                    budget_fen: 0,
                    file_required: false,
                    org_path: String::new(),
                };
                commit_at(tx, &c, holder, -total).await?;
            }
            Ok(())
        })
    }
}

/// Batches may carry documents (审批表 signed, 发放签收表 …).
pub struct BatchAttachments;

impl AttachmentOwner for BatchAttachments {
    fn kind(&self) -> &'static str {
        "hardship_batch"
    }
    fn resolve<'a>(
        &'a self,
        db: &'a Db,
        owner_id: i64,
    ) -> BoxFuture<'a, AppResult<Option<OwnerOrg>>> {
        Box::pin(async move {
            let row: Option<(i64, String)> = sqlx::query_as(
                "SELECT o.id, o.path FROM hardship_batches b JOIN orgs o ON o.id = b.org_id WHERE b.id = $1",
            )
            .bind(owner_id)
            .fetch_optional(db.pool())
            .await?;
            Ok(row.map(|(id, path)| OwnerOrg {
                org_id: OrgId(id),
                org_path: path,
            }))
        })
    }
}

/// A batch as listed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Batch {
    #[schema(value_type = i64)]
    pub id: BatchId,
    pub org_id: i64,
    pub org_name: String,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub title: String,
    pub people: i64,
    pub total_fen: i64,
    pub exceptions: i64,
    pub status: String,
    pub review_id: Option<i64>,
    pub paid_on: Option<String>,
    pub pay_method: String,
    pub handler: String,
    pub created_at: String,
}

/// One person of a batch: masked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GrantRow {
    pub name: String,
    pub id_masked: String,
    pub file_id: Option<i64>,
    pub amount_fen: i64,
    pub exception_reason: String,
    pub school: String,
    pub status: String,
}

const BATCH_SELECT: &str = "SELECT b.id, b.org_id, o.name AS org_name, o.path AS org_path, b.campaign_id, \
     c.name AS campaign_name, b.title, b.people, b.total_fen, b.exceptions, b.status, b.review_id, b.paid_on, \
     b.pay_method, b.handler, b.created_at FROM hardship_batches b JOIN orgs o ON o.id = b.org_id \
     JOIN hardship_campaigns c ON c.id = b.campaign_id";

fn batch_from(r: &sqlx::any::AnyRow) -> AppResult<Batch> {
    Ok(Batch {
        id: BatchId(r.try_get("id")?),
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        campaign_id: r.try_get("campaign_id")?,
        campaign_name: r.try_get("campaign_name")?,
        title: r.try_get("title")?,
        people: r.try_get("people")?,
        total_fen: r.try_get("total_fen")?,
        exceptions: r.try_get("exceptions")?,
        status: r.try_get("status")?,
        review_id: r.try_get("review_id")?,
        paid_on: r.try_get("paid_on")?,
        pay_method: r.try_get("pay_method")?,
        handler: r.try_get("handler")?,
        created_at: r.try_get("created_at")?,
    })
}

/// The batches of the caller's subtree, newest first.
pub async fn batches(db: &Db, scope: &Scope) -> AppResult<Vec<Batch>> {
    let rows = sqlx::query(&format!(
        "{BATCH_SELECT} WHERE o.path LIKE $1 AND b.status <> 'draft' ORDER BY b.id DESC LIMIT 500"
    ))
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(batch_from).collect()
}

/// One batch in scope with its people (masked); the view is audited.
pub async fn batch(db: &Db, scope: &Scope, id: BatchId) -> AppResult<(Batch, Vec<GrantRow>)> {
    let r = sqlx::query(&format!("{BATCH_SELECT} WHERE b.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    scope
        .admit(
            db,
            &r.try_get::<String, _>("org_path")?,
            "hardship_batch",
            id,
        )
        .await?;
    let b = batch_from(&r)?;
    let rows = sqlx::query(
        "SELECT name, id_masked, file_id, amount_fen, exception_reason, school, status FROM hardship_grants \
         WHERE batch_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?;
    let grants = rows
        .iter()
        .map(|g| {
            Ok(GrantRow {
                name: g.try_get("name")?,
                id_masked: g.try_get("id_masked")?,
                file_id: g.try_get("file_id")?,
                amount_fen: g.try_get("amount_fen")?,
                exception_reason: g.try_get("exception_reason")?,
                school: g.try_get("school")?,
                status: g.try_get("status")?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    audit::record(
        db,
        &scope.actor,
        Event::new("hardship.batch_view", "hardship_batch", id).org(OrgId(b.org_id)),
    )
    .await?;
    Ok((b, grants))
}

/// One disbursement line of a campaign, as the campaign's list and its
/// export show it: masked, no file details.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignGrantRow {
    pub batch_id: i64,
    pub org_name: String,
    pub name: String,
    pub id_masked: String,
    pub amount_fen: i64,
    pub exception_reason: String,
    pub school: String,
    /// The batch's state: reviewing | approved | paid | rejected …
    pub status: String,
    pub paid_on: Option<String>,
    pub pay_method: String,
    pub handler: String,
}

/// Every disbursement line of a campaign applied by a union of the caller's
/// subtree (batches sent for review or decided; drafts are not yet anyone's
/// application), union by union.
pub async fn campaign_grants(
    db: &Db,
    scope: &Scope,
    id: CampaignId,
) -> AppResult<Vec<CampaignGrantRow>> {
    campaign(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT b.id AS batch_id, o.name AS org_name, g.name, g.id_masked, g.amount_fen, g.exception_reason, \
         g.school, b.status, b.paid_on, b.pay_method, b.handler FROM hardship_grants g \
         JOIN hardship_batches b ON b.id = g.batch_id JOIN orgs o ON o.id = b.org_id \
         WHERE b.campaign_id = $1 AND o.path LIKE $2 AND b.status <> 'draft' ORDER BY o.path, b.id, g.id",
    )
    .bind(id.0)
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CampaignGrantRow {
                batch_id: r.try_get("batch_id")?,
                org_name: r.try_get("org_name")?,
                name: r.try_get("name")?,
                id_masked: r.try_get("id_masked")?,
                amount_fen: r.try_get("amount_fen")?,
                exception_reason: r.try_get("exception_reason")?,
                school: r.try_get("school")?,
                status: r.try_get("status")?,
                paid_on: r.try_get("paid_on")?,
                pay_method: r.try_get("pay_method")?,
                handler: r.try_get("handler")?,
            })
        })
        .collect()
}

/// The payment of an approved batch.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PayInput {
    /// YYYY-MM-DD; today when empty.
    pub paid_on: String,
    /// 银行转账 | 现金 | 实物 …
    pub method: String,
    /// 经办人.
    pub handler: String,
}

/// Records the payment of an approved batch (every line at its amount).
pub async fn pay(db: &Db, scope: &Scope, id: BatchId, input: &PayInput) -> AppResult<()> {
    scope.require_write()?;
    let r = sqlx::query(&format!("{BATCH_SELECT} WHERE b.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    scope
        .admit(
            db,
            &r.try_get::<String, _>("org_path")?,
            "hardship_batch",
            id,
        )
        .await?;
    let b = batch_from(&r)?;
    let method = input.method.trim();
    let handler = input.handler.trim();
    if method.is_empty()
        || handler.is_empty()
        || method.chars().count() > 50
        || handler.chars().count() > 50
    {
        return Err(AppError::invalid(
            "请填写发放方式和经办人",
            "Give the payment method and the person who handled it",
        ));
    }
    let on = match input.paid_on.trim() {
        "" => time::today(),
        s => date(s, "发放日期", "The payment date")?,
    };
    if on > time::today() {
        return Err(AppError::invalid(
            "发放日期不能晚于今天",
            "The payment date cannot be in the future",
        ));
    }
    if b.status != "approved" {
        return Err(AppError::conflict(
            "只有审批通过且尚未发放的申请才能登记发放",
            "Only an approved application not yet paid can be paid",
        ));
    }
    pay_in(db, scope, &b, on, method, handler).await
}

/// Writes a payment (also used by the demo for past dates).
pub async fn pay_in(
    db: &Db,
    scope: &Scope,
    b: &Batch,
    on: NaiveDate,
    method: &str,
    handler: &str,
) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE hardship_batches SET status = 'paid', paid_on = $1, pay_method = $2, handler = $3 \
         WHERE id = $4 AND status = 'approved'",
    )
    .bind(on.to_string())
    .bind(method)
    .bind(handler)
    .bind(b.id.0)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::conflict(
            "该申请的状态已变化",
            "The application changed meanwhile",
        ));
    }
    sqlx::query("UPDATE hardship_grants SET status = 'paid', paid_on = $1 WHERE batch_id = $2")
        .bind(on.to_string())
        .bind(b.id.0)
        .execute(&mut *tx.tx)
        .await?;
    platform::dataver::touch(&mut tx.tx, [b.org_id]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.batch_pay", "hardship_batch", b.id)
            .org(OrgId(b.org_id))
            .detail(
                serde_json::json!({"paid_on": on.to_string(), "method": method, "handler": handler,
                "total_fen": b.total_fen}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ───────────────────────────── Excel lists ─────────────────────────────

/// The people of an uploaded list (xlsx, xls or CSV): 姓名, 身份证号, and
/// optionally 金额 (元), 超标准理由, 学校. A bad row is refused naming it;
/// the whole list is then refused (nothing is written).
pub fn people_from_sheet(bytes: &[u8]) -> AppResult<Vec<GrantInput>> {
    let sheet_err = |e: sheet::SheetError| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    };
    let table = sheet::read_table(bytes, MAX_BATCH).map_err(sheet_err)?;
    let map = sheet::HeaderMap::new(
        &table.headers,
        &[
            ("name", &["姓名"], true),
            ("id", &["身份证号", "证件号码", "身份证号码"], true),
            ("kind", &["证件类型"], false),
            ("amount", &["金额", "金额(元)", "救助金额"], false),
            ("reason", &["超标准理由", "说明"], false),
            ("school", &["学校", "录取学校"], false),
        ],
    )
    .map_err(sheet_err)?;
    let mut out = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let amount = match map.get(row, "amount") {
            "" => None,
            a => Some(
                Fen::parse(a)
                    .map_err(|e| {
                        let m: AppError = e.into();
                        let msg = m.user_message();
                        AppError::invalid(
                            format!("第{}行:{}", row.line, msg.zh),
                            format!("Row {}: {}", row.line, msg.en),
                        )
                    })?
                    .fen(),
            ),
        };
        out.push(GrantInput {
            file_id: None,
            name: map.get(row, "name").to_string(),
            id_kind: map.get(row, "kind").to_string(),
            id_number: map.get(row, "id").to_string(),
            amount_fen: amount,
            exception_reason: map.get(row, "reason").to_string(),
            school: map.get(row, "school").to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Eligibility;

    #[test]
    fn each_campaign_kind_has_its_rule_and_says_which_failed() {
        let laid_off: &[&str] = &["laid_off", "illness"];
        let ill: &[&str] = &["illness"];
        // 送温暖 and 日常救助: an open file.
        for kind in ["warmth", "daily"] {
            let r = Eligibility::of(kind, false);
            assert_eq!(r, Eligibility::OpenFile);
            let (zh, en) = r.check(kind, None).unwrap_err();
            assert!(
                zh.contains("已确认建档") && en.contains("confirmed hardship file"),
                "{zh} {en}"
            );
            assert!(r.check(kind, Some(ill)).is_ok());
        }
        // 金秋助学: a file (school and notice are checked against the records).
        let r = Eligibility::of("education", true);
        assert!(r
            .check("education", None)
            .unwrap_err()
            .0
            .contains("金秋助学"));
        assert!(r.check("education", Some(ill)).is_ok());
        // 夏送清凉: anyone.
        let r = Eligibility::of("summer", true);
        assert!(r.check("summer", None).is_ok() && r.check("summer", Some(ill)).is_ok());
        // 春送岗位: no file, or a file out of work.
        let r = Eligibility::of("jobs", false);
        assert!(r.check("jobs", None).is_ok());
        assert!(r.check("jobs", Some(laid_off)).is_ok());
        assert!(r.check("jobs", Some(&["unemployed"])).is_ok());
        let (zh, en) = r.check("jobs", Some(ill)).unwrap_err();
        assert!(
            zh.contains("下岗失业") && en.contains("laid off"),
            "{zh} {en}"
        );
        // Special campaigns: as configured.
        let free = Eligibility::of("special", false);
        assert!(free.check("special", None).is_ok());
        let filed = Eligibility::of("special", true);
        let (zh, en) = filed.check("special", None).unwrap_err();
        assert!(
            zh.contains("专项") && en.contains("special campaign"),
            "{zh} {en}"
        );
        assert!(filed.check("special", Some(ill)).is_ok());
    }
}
