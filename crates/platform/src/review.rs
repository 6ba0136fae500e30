//! The shared review chain (审批流): a module's record — a hardship file, a
//! disbursement, a mutual-aid claim — goes up a chain of org levels above
//! the applicant, each step decided by one org:
//!
//! ```text
//! 基层工会 submits → 县(区)总工会 初审 → 市总工会 终审      chain ["county", "city"]
//! ```
//!
//! The deciding org of a step is the applicant's ancestor-or-self whose
//! `orgs.level` is the step's level, resolved from the applicant's path at
//! submit and kept on the item (`deciders`), so the chain an applicant was
//! told about is the chain that decides. A decider may approve (the next step,
//! or the final approval), return for changes (back to the submitting org,
//! which resubmits from the first step) or reject (final).
//!
//! Who may act, in the order it is checked (the web layer adds nothing):
//! - an item outside the caller's subtree is "not found", and audited (`Scope::admit`);
//! - an org at the wrong level for the action is "not found" too, and
//!   audited: a street union on the path or any level not in the chain, the
//!   city trying to decide before the county (skipping the 初审), the
//!   applicant deciding, a decider resubmitting;
//! - read-only roles (auditors) are refused (`Scope::require_write`);
//! - a decider or submitter who is merely late — the step already moved on
//!   (a double click, a lost race), the item decided, or returned and not yet
//!   resubmitted — is told so with a conflict (409); nothing is audited,
//!   since nothing was attempted beyond its authority.
//!
//! Each step, the module's `check`, its `on_decided` on a final decision and
//! the audit entry run in one write transaction: if any fails, nothing of the
//! step is written. Two deciders racing on one step: the step is claimed with
//! a conditional UPDATE (`… AND step = $ AND status = 'pending'`), so exactly
//! one wins and the other is told it was already handled.

use std::fmt::Write as _;

use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::{
    audit::{self, Event},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    i18n::{Lang, Msg},
    ids::{OrgId, UserId},
    module::BoxFuture,
    scope::Scope,
    time,
};

crate::id_type!(ReviewId);

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for the current step's deciding org.
    Pending,
    /// Sent back to the submitting org for changes.
    Returned,
    /// Refused for good.
    Rejected,
    /// Approved at the last step.
    Approved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Returned => "returned",
            Status::Rejected => "rejected",
            Status::Approved => "approved",
        }
    }
    fn parse(s: &str) -> AppResult<Status> {
        Ok(match s {
            "pending" => Status::Pending,
            "returned" => Status::Returned,
            "rejected" => Status::Rejected,
            "approved" => Status::Approved,
            other => return Err(anyhow::anyhow!("unknown review status {other}").into()),
        })
    }
    pub fn label(self) -> Msg {
        match self {
            Status::Pending => Msg::new("审批中", "Pending"),
            Status::Returned => Msg::new("已退回", "Returned"),
            Status::Rejected => Msg::new("未通过", "Rejected"),
            Status::Approved => Msg::new("已通过", "Approved"),
        }
    }
}

/// What was done at a step; also what a module's `check` is asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Submit,
    Approve,
    Return,
    Reject,
    Resubmit,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Return => "return",
            Action::Reject => "reject",
            Action::Resubmit => "resubmit",
        }
    }
    fn parse(s: &str) -> AppResult<Action> {
        Ok(match s {
            "submit" => Action::Submit,
            "approve" => Action::Approve,
            "return" => Action::Return,
            "reject" => Action::Reject,
            "resubmit" => Action::Resubmit,
            other => return Err(anyhow::anyhow!("unknown review action {other}").into()),
        })
    }
    pub fn label(self) -> Msg {
        match self {
            Action::Submit => Msg::new("提交", "Submitted"),
            Action::Approve => Msg::new("同意", "Approved"),
            Action::Return => Msg::new("退回修改", "Returned for changes"),
            Action::Reject => Msg::new("不同意", "Rejected"),
            Action::Resubmit => Msg::new("重新提交", "Resubmitted"),
        }
    }
}

/// The final decision handed to [`ReviewKind::on_decided`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Approved,
    Rejected,
}

/// What a module's kind of record does on the review chain. Register it in
/// `Module::review_kinds` (the registry refuses a key twice): the inbox and
/// the API find an item's kind there by the key stored on the item, so an
/// unregistered kind can be submitted but never decided.
pub trait ReviewKind: Send + Sync + 'static {
    /// Stable key stored on every item: `"hardship_file"`.
    fn key(&self) -> &'static str;
    /// The levels that decide, in order, bottom up: `&["county", "city"]`.
    /// A submit may name another chain ([`submit_with_chain`]).
    fn chain(&self) -> &'static [&'static str];
    /// The name shown in the inbox.
    fn label(&self) -> Msg {
        Msg::new(self.key(), self.key())
    }
    /// Refuses a step (budget used up, the record incomplete …) inside the
    /// step's transaction; `item` is as it was before the step. Runs for
    /// every action, submit included. Its refusal reaches the user as is.
    fn check<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        action: Action,
    ) -> BoxFuture<'a, AppResult<()>> {
        let _ = (tx, item, action);
        Box::pin(async { Ok(()) })
    }
    /// What the final approval or a rejection does to the module's record,
    /// inside the step's transaction (`item` as decided). An error undoes
    /// the whole step.
    fn on_decided<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        outcome: Outcome,
    ) -> BoxFuture<'a, AppResult<()>>;
}

/// One record under review.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReviewItem {
    #[schema(value_type = i64)]
    pub id: ReviewId,
    /// The module's review kind key.
    pub kind: String,
    /// The module's own record.
    pub record_id: i64,
    /// The applicant org.
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    #[serde(skip)]
    pub region_root: Option<i64>,
    pub title: String,
    /// The deciding levels, in order.
    pub chain: Vec<String>,
    /// The deciding org of each step.
    #[schema(value_type = Vec<i64>)]
    pub deciders: Vec<OrgId>,
    /// Index of the current step (the last one once decided).
    pub step: i64,
    pub status: Status,
    /// Whose inbox it is in; none once decided.
    #[schema(value_type = Option<i64>)]
    pub waiting_org_id: Option<OrgId>,
    #[schema(value_type = Option<i64>)]
    pub submitted_by: Option<UserId>,
    #[schema(value_type = i64)]
    pub submitter_org_id: OrgId,
    pub submitted_at: String,
    pub updated_at: String,
}

impl ReviewItem {
    /// The level deciding the current step.
    pub fn level(&self) -> &str {
        self.chain
            .get(self.step as usize)
            .map_or("", String::as_str)
    }

    /// Whether `org` has any business taking `action` on the item: the
    /// submitting org resubmits; a decider decides, but not ahead of its
    /// step while the item is pending (that would skip the 初审). Everyone
    /// else is at the wrong level, refused as if the item were absent. Being
    /// late (the step moved on, the item was decided or returned) is not
    /// this: it is a conflict the caller is told about.
    fn may_take(&self, org: OrgId, action: Action) -> bool {
        match action {
            Action::Submit => false,
            Action::Resubmit => self.submitter_org_id == org,
            Action::Approve | Action::Return | Action::Reject => {
                match self.deciders.iter().position(|d| *d == org) {
                    Some(i) => !(self.status == Status::Pending && i as i64 > self.step),
                    None => false,
                }
            }
        }
    }
}

/// One step of an item's history.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepRow {
    pub step: i64,
    /// The acting org's level.
    pub level: String,
    pub action: Action,
    #[schema(value_type = Option<i64>)]
    pub actor_id: Option<UserId>,
    pub actor: String,
    #[schema(value_type = i64)]
    pub org_id: OrgId,
    pub org_name: String,
    pub comment: String,
    pub at: String,
}

/// The org levels (`orgs.level`) and their names. The platform does not
/// depend on the orgs crate, which owns the levels; these are its keys.
const LEVELS: &[(&str, &str, &str)] = &[
    ("city", "市总工会", "city federation"),
    ("county", "县(区)总工会", "county federation"),
    ("industry", "产业工会", "industry union"),
    ("street", "乡镇(街道)工会", "street union"),
    ("grassroots", "基层工会", "grassroots union"),
];

/// The name of a level, for messages and pages.
pub(crate) fn level_label(level: &str, lang: Lang) -> String {
    match LEVELS.iter().find(|(k, ..)| *k == level) {
        Some((_, zh, en)) => Msg::new(*zh, *en).get(lang).to_string(),
        None => level.to_string(),
    }
}

fn level_msg(level: &str) -> Msg {
    Msg::new(level_label(level, Lang::Zh), level_label(level, Lang::En))
}

const MAX_TITLE: usize = 200;
const MAX_COMMENT: usize = 2000;

// ─── submitting ──────────────────────────────────────────────────────────

/// Sends `record_id` of the applicant org `org_id` up the kind's chain.
/// The applicant must be inside the caller's subtree (the caller's own org,
/// or one it files for); the caller's org is the one a return goes back to.
pub async fn submit(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    org_id: OrgId,
    record_id: i64,
    title: &str,
) -> AppResult<ReviewId> {
    submit_with_chain(db, scope, kind, org_id, record_id, title, kind.chain()).await
}

/// [`submit`] along another chain than the kind's default (a large grant
/// that also needs the city, a small one the county alone).
pub async fn submit_with_chain(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    org_id: OrgId,
    record_id: i64,
    title: &str,
    chain: &[&str],
) -> AppResult<ReviewId> {
    scope.require_write()?;
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::invalid(
            "审批事项的标题不能为空",
            "The title of the review item must not be empty",
        ));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(AppError::invalid(
            format!("标题不能超过 {MAX_TITLE} 个字"),
            format!("The title must be at most {MAX_TITLE} characters"),
        ));
    }
    check_chain(chain)?;
    let org = crate::tree::node(db, scope, org_id).await?;
    let path_orgs = orgs_on_path(db, &org.path).await?;
    let applicant = path_orgs
        .last()
        .filter(|o| o.id == org_id)
        .ok_or(AppError::NotFound)?;
    if applicant.status != "active" {
        return Err(AppError::invalid(
            format!("“{}”已撤销,不能提交审批", org.name),
            format!("“{}” is closed and cannot submit for review", org.name),
        ));
    }
    let deciders = resolve_deciders(&path_orgs, chain, &org.name)?;
    let submitter_level = level_of(db, scope.org_id).await?;
    let now = time::now_rfc3339();
    let chain_text = chain.join(",");
    let mut tx = db.begin_write().await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO review_items (region_root, org_id, org_path, kind, record_id, title, chain, deciders, \
         step, status, waiting_org_id, submitted_by, submitter_org_id, submitted_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 'pending', $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(applicant.region_root)
    .bind(org_id.0)
    .bind(&org.path)
    .bind(kind.key())
    .bind(record_id)
    .bind(title)
    .bind(&chain_text)
    .bind(join_ids(&deciders))
    .bind(deciders[0].0)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(scope.org_id.0)
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await;
    let id = match inserted {
        Ok(id) => ReviewId(id),
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "该记录已在审批中,请勿重复提交",
                "This record is already under review; it cannot be submitted twice",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let item = ReviewItem {
        id,
        kind: kind.key().to_string(),
        record_id,
        org_id,
        org_name: org.name.clone(),
        org_path: org.path.clone(),
        region_root: applicant.region_root,
        title: title.to_string(),
        chain: chain.iter().map(|s| s.to_string()).collect(),
        deciders: deciders.clone(),
        step: 0,
        status: Status::Pending,
        waiting_org_id: Some(deciders[0]),
        submitted_by: scope.actor.user_id,
        submitter_org_id: scope.org_id,
        submitted_at: now.clone(),
        updated_at: now,
    };
    kind.check(&mut tx, &item, Action::Submit).await?;
    write_step(
        &mut tx,
        scope,
        &item,
        0,
        &submitter_level,
        Action::Submit,
        "",
    )
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("review.submit", "review", id)
            .org(org_id)
            .detail(serde_json::json!({
                "kind": kind.key(), "record_id": record_id, "title": title,
                "chain": chain, "deciders": deciders,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A chain is a non-empty list of known levels.
fn check_chain(chain: &[&str]) -> AppResult<()> {
    if chain.is_empty() {
        return Err(AppError::invalid(
            "审批流程至少需要一级审批",
            "A review chain needs at least one deciding level",
        ));
    }
    for level in chain {
        if !LEVELS.iter().any(|(k, ..)| k == level) {
            return Err(AppError::invalid(
                format!("审批流程中的层级“{level}”未知"),
                format!("Unknown level “{level}” in the review chain"),
            ));
        }
    }
    Ok(())
}

/// An org on the applicant's path, root first.
struct PathOrg {
    id: OrgId,
    level: String,
    status: String,
    region_root: Option<i64>,
}

/// The orgs of a materialised path ('/1/2/3/'), root first: the applicant's
/// ancestors and itself, read by id (a handful of primary-key lookups).
async fn orgs_on_path(db: &Db, path: &str) -> AppResult<Vec<PathOrg>> {
    let ids: Vec<i64> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("bad org path {path}: {e}"))?;
    if ids.is_empty() {
        return Err(anyhow::anyhow!("empty org path").into());
    }
    let mut sql = String::from("SELECT id, level, status, region_root FROM orgs WHERE id IN (");
    for i in 1..=ids.len() {
        let _ = write!(sql, "{}${i}", if i > 1 { ", " } else { "" });
    }
    sql.push(')');
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(*id);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let mut found = Vec::with_capacity(ids.len());
    for r in &rows {
        found.push(PathOrg {
            id: OrgId(r.try_get("id")?),
            level: r.try_get("level")?,
            status: r.try_get("status")?,
            region_root: r.try_get("region_root")?,
        });
    }
    // Root first, as the path lists them.
    found.sort_by_key(|o| ids.iter().position(|i| *i == o.id.0));
    Ok(found)
}

/// The deciding org of each step: walking up from the applicant, the first
/// org at the step's level, each step strictly above the one before (the
/// first may be the applicant itself: ancestor-or-self).
fn resolve_deciders(path: &[PathOrg], chain: &[&str], org_name: &str) -> AppResult<Vec<OrgId>> {
    let mut out = Vec::with_capacity(chain.len());
    // Index into `path` (root first) at or above which the next step is sought.
    let mut below = path.len();
    for level in chain {
        match path[..below].iter().rposition(|o| o.level == *level) {
            Some(i) => {
                out.push(path[i].id);
                below = i;
            }
            None => {
                let l = level_msg(level);
                return Err(AppError::invalid(
                    format!(
                        "“{org_name}”的上级中没有按此顺序的{},无法按此审批流程提交",
                        l.zh
                    ),
                    format!(
                        "“{org_name}” has no {} above it in this order; it cannot be submitted along this review chain",
                        l.en
                    ),
                ));
            }
        }
    }
    Ok(out)
}

async fn level_of(db: &Db, org: OrgId) -> AppResult<String> {
    let level: Option<String> = sqlx::query_scalar("SELECT level FROM orgs WHERE id = $1")
        .bind(org.0)
        .fetch_optional(db.pool())
        .await?;
    level.ok_or(AppError::NotFound)
}

fn join_ids(ids: &[OrgId]) -> String {
    ids.iter()
        .map(|i| i.0.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

// ─── deciding ────────────────────────────────────────────────────────────

/// The current step's deciding org agrees: the item moves to the next step,
/// or, at the last, is approved and the module's `on_decided(Approved)` runs.
pub async fn approve(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    id: ReviewId,
    comment: &str,
) -> AppResult<ReviewItem> {
    act(db, scope, kind, id, comment, Action::Approve).await
}

/// Sends the item back to the submitting org for changes (a comment saying
/// what to change is required); it resubmits from the first step.
pub async fn return_for_changes(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    id: ReviewId,
    comment: &str,
) -> AppResult<ReviewItem> {
    act(db, scope, kind, id, comment, Action::Return).await
}

/// Refuses the item for good (a reason is required); the module's
/// `on_decided(Rejected)` runs.
pub async fn reject(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    id: ReviewId,
    comment: &str,
) -> AppResult<ReviewItem> {
    act(db, scope, kind, id, comment, Action::Reject).await
}

/// The submitting org sends a returned item again, from the first step.
pub async fn resubmit(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    id: ReviewId,
    comment: &str,
) -> AppResult<ReviewItem> {
    act(db, scope, kind, id, comment, Action::Resubmit).await
}

/// One of the four actions on an existing item (the web shell's entry).
pub(crate) async fn act(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    id: ReviewId,
    comment: &str,
    action: Action,
) -> AppResult<ReviewItem> {
    if action == Action::Submit {
        return Err(AppError::invalid(
            "请使用提交功能提交新的审批事项",
            "A new item is submitted through submit",
        ));
    }
    let comment = comment.trim();
    // Input first: it says nothing about the item, so it may come before
    // the scope checks, and a refusal writes nothing.
    if comment.is_empty() && matches!(action, Action::Return | Action::Reject) {
        return Err(if action == Action::Return {
            AppError::invalid(
                "退回时请填写需要修改的内容",
                "Say what needs changing when returning an item",
            )
        } else {
            AppError::invalid("不同意时请填写理由", "Give a reason when rejecting an item")
        });
    }
    if comment.chars().count() > MAX_COMMENT {
        return Err(AppError::invalid(
            format!("意见不能超过 {MAX_COMMENT} 个字"),
            format!("The comment must be at most {MAX_COMMENT} characters"),
        ));
    }
    let item = fetch(db, id).await?.ok_or(AppError::NotFound)?;
    // A module acts on its own kind only; another kind's id is "absent".
    if item.kind != kind.key() {
        return Err(AppError::NotFound);
    }
    scope.admit(db, &item.org_path, "review", id).await?;
    if !item.may_take(scope.org_id, action) {
        audit::record_denied(db, scope, "review", id).await;
        return Err(AppError::NotFound);
    }
    scope.require_write()?;
    let my_turn = match action {
        Action::Resubmit => {
            item.status == Status::Returned && item.submitter_org_id == scope.org_id
        }
        _ => {
            item.status == Status::Pending
                && item.deciders.get(item.step as usize) == Some(&scope.org_id)
        }
    };
    if !my_turn {
        return Err(out_of_turn(&item, action));
    }

    let last = item.step as usize + 1 >= item.deciders.len();
    let (status, step, waiting) = match action {
        Action::Approve if last => (Status::Approved, item.step, None),
        Action::Approve => (
            Status::Pending,
            item.step + 1,
            Some(item.deciders[item.step as usize + 1]),
        ),
        Action::Return => (Status::Returned, item.step, Some(item.submitter_org_id)),
        Action::Reject => (Status::Rejected, item.step, None),
        Action::Resubmit => (Status::Pending, 0, Some(item.deciders[0])),
        Action::Submit => return Err(AppError::Internal(anyhow::anyhow!("submit in act"))),
    };
    // The step row records where the action was taken: a decider's own
    // step, or step 0 for a resubmission.
    let (at_step, level) = match action {
        Action::Resubmit => (0, level_of(db, scope.org_id).await?),
        _ => (item.step, item.level().to_string()),
    };
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    claim(&mut tx, &item, status, step, waiting, &now).await?;
    kind.check(&mut tx, &item, action).await?;
    let after = ReviewItem {
        status,
        step,
        waiting_org_id: waiting,
        updated_at: now,
        ..item.clone()
    };
    write_step(&mut tx, scope, &after, at_step, &level, action, comment).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new(audit_action(action), "review", id)
            .org(item.org_id)
            .detail(serde_json::json!({
                "kind": item.kind, "record_id": item.record_id, "step": at_step,
                "level": level, "status": status.as_str(), "comment": comment,
            })),
    )
    .await?;
    let outcome = match status {
        Status::Approved => Some(Outcome::Approved),
        Status::Rejected => Some(Outcome::Rejected),
        _ => None,
    };
    if let Some(o) = outcome {
        kind.on_decided(&mut tx, &after, o).await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Moves the item on from the state it was read in (`item`): of two
/// deciders racing on one step exactly one changes the row — on PostgreSQL
/// the loser waits on the row lock, then finds the step moved on; on SQLite
/// the writer lock orders them. The loser is told, and writes nothing.
async fn claim(
    tx: &mut AnyConnection,
    item: &ReviewItem,
    status: Status,
    step: i64,
    waiting: Option<OrgId>,
    now: &str,
) -> AppResult<()> {
    let claimed = sqlx::query(
        "UPDATE review_items SET status = $1, step = $2, waiting_org_id = $3, updated_at = $4 \
         WHERE id = $5 AND step = $6 AND status = $7",
    )
    .bind(status.as_str())
    .bind(step)
    .bind(waiting.map(|o| o.0))
    .bind(now)
    .bind(item.id.0)
    .bind(item.step)
    .bind(item.status.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Err(AppError::conflict(
            "该审批事项刚刚已被他人处理,请刷新后查看",
            "Someone else has just acted on this item; reload to see where it stands",
        ));
    }
    Ok(())
}

fn audit_action(a: Action) -> &'static str {
    match a {
        Action::Submit => "review.submit",
        Action::Approve => "review.approve",
        Action::Return => "review.return",
        Action::Reject => "review.reject",
        Action::Resubmit => "review.resubmit",
    }
}

/// Why a party may not take this action now.
fn out_of_turn(item: &ReviewItem, action: Action) -> AppError {
    match item.status {
        Status::Approved | Status::Rejected => AppError::conflict(
            format!("该审批事项已办结({}),不能再处理", item.status.label().zh),
            format!(
                "This item is already decided ({}); it cannot be acted on",
                item.status.label().en
            ),
        ),
        Status::Returned if action != Action::Resubmit => AppError::conflict(
            "该审批事项已退回申请单位修改,等待重新提交",
            "This item was returned to the applicant for changes and awaits resubmission",
        ),
        Status::Pending if action == Action::Resubmit => AppError::conflict(
            "该审批事项正在审批中,无需重新提交",
            "This item is under review; there is nothing to resubmit",
        ),
        _ => {
            let l = level_msg(item.level());
            AppError::conflict(
                format!("该审批事项当前由{}审批,不在您单位的审批环节", l.zh),
                format!(
                    "This item is now with the {} for review, not with your organisation",
                    l.en
                ),
            )
        }
    }
}

async fn write_step(
    tx: &mut AnyConnection,
    scope: &Scope,
    item: &ReviewItem,
    step: i64,
    level: &str,
    action: Action,
    comment: &str,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO review_steps (region_root, item_id, step, level, action, actor_id, actor, org_id, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(item.region_root)
    .bind(item.id.0)
    .bind(step)
    .bind(level)
    .bind(action.as_str())
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&scope.actor.name)
    .bind(scope.org_id.0)
    .bind(comment)
    .bind(&item.updated_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

// ─── reading ─────────────────────────────────────────────────────────────

const ITEM_SELECT: &str = "SELECT r.id, r.kind, r.record_id, r.org_id, o.name AS org_name, r.org_path, \
     r.region_root, r.title, r.chain, r.deciders, r.step, r.status, r.waiting_org_id, r.submitted_by, \
     r.submitter_org_id, r.submitted_at, r.updated_at \
     FROM review_items r JOIN orgs o ON o.id = r.org_id";

fn item_from_row(r: &sqlx::any::AnyRow) -> AppResult<ReviewItem> {
    let chain: String = r.try_get("chain")?;
    let deciders: String = r.try_get("deciders")?;
    let status: String = r.try_get("status")?;
    Ok(ReviewItem {
        id: ReviewId(r.try_get("id")?),
        kind: r.try_get("kind")?,
        record_id: r.try_get("record_id")?,
        org_id: OrgId(r.try_get("org_id")?),
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        region_root: r.try_get("region_root")?,
        title: r.try_get("title")?,
        chain: chain.split(',').map(str::to_string).collect(),
        deciders: deciders
            .split(',')
            .map(|s| s.parse().map(OrgId))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("bad deciders {deciders}: {e}"))?,
        step: r.try_get("step")?,
        status: Status::parse(&status)?,
        waiting_org_id: r.try_get::<Option<i64>, _>("waiting_org_id")?.map(OrgId),
        submitted_by: r.try_get::<Option<i64>, _>("submitted_by")?.map(UserId),
        submitter_org_id: OrgId(r.try_get("submitter_org_id")?),
        submitted_at: r.try_get("submitted_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The row, unscoped.
async fn fetch(db: &Db, id: ReviewId) -> AppResult<Option<ReviewItem>> {
    let row = sqlx::query(&format!("{ITEM_SELECT} WHERE r.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(item_from_row).transpose()
}

/// One item, for staff whose subtree holds the applicant or whose org
/// decides one of its steps; otherwise "not found", and audited.
pub async fn get(db: &Db, scope: &Scope, id: ReviewId) -> AppResult<ReviewItem> {
    require_staff(scope)?;
    let item = fetch(db, id).await?.ok_or(AppError::NotFound)?;
    if !(scope.contains_path(&item.org_path) || item.deciders.contains(&scope.org_id)) {
        audit::record_denied(db, scope, "review", id).await;
        return Err(AppError::NotFound);
    }
    Ok(item)
}

/// The latest review of a module's record, if it was ever submitted (for the
/// module's own pages: "审批中 / 已通过").
pub async fn latest_for_record(
    db: &Db,
    scope: &Scope,
    kind: &dyn ReviewKind,
    record_id: i64,
) -> AppResult<Option<ReviewItem>> {
    require_staff(scope)?;
    let row = sqlx::query(&format!(
        "{ITEM_SELECT} WHERE r.kind = $1 AND r.record_id = $2 ORDER BY r.id DESC LIMIT 1"
    ))
    .bind(kind.key())
    .bind(record_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(item) = row.as_ref().map(item_from_row).transpose()? else {
        return Ok(None);
    };
    if !(scope.contains_path(&item.org_path) || item.deciders.contains(&scope.org_id)) {
        audit::record_denied(db, scope, "review", item.id).await;
        return Err(AppError::NotFound);
    }
    Ok(Some(item))
}

/// What waits for the caller's org: items whose current step it decides,
/// and items returned to it for changes; oldest first.
pub async fn inbox(db: &Db, scope: &Scope) -> AppResult<Vec<ReviewItem>> {
    require_staff(scope)?;
    let rows = sqlx::query(&format!(
        "{ITEM_SELECT} WHERE r.waiting_org_id = $1 ORDER BY r.updated_at, r.id"
    ))
    .bind(scope.org_id.0)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(item_from_row).collect()
}

/// Every step of an item, in the order taken (scoped as [`get`]).
pub async fn history(db: &Db, scope: &Scope, id: ReviewId) -> AppResult<Vec<StepRow>> {
    let item = get(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT s.step, s.level, s.action, s.actor_id, s.actor, s.org_id, o.name AS org_name, s.comment, s.at \
         FROM review_steps s JOIN orgs o ON o.id = s.org_id WHERE s.item_id = $1 ORDER BY s.id",
    )
    .bind(item.id.0)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let action: String = r.try_get("action")?;
            Ok(StepRow {
                step: r.try_get("step")?,
                level: r.try_get("level")?,
                action: Action::parse(&action)?,
                actor_id: r.try_get::<Option<i64>, _>("actor_id")?.map(UserId),
                actor: r.try_get("actor")?,
                org_id: OrgId(r.try_get("org_id")?),
                org_name: r.try_get("org_name")?,
                comment: r.try_get("comment")?,
                at: r.try_get("at")?,
            })
        })
        .collect()
}

/// Members and merchants have no part in reviews.
fn require_staff(scope: &Scope) -> AppResult<()> {
    if scope.is_staff() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "审批仅供工会工作人员使用",
            "Reviews are for union staff",
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        module::{Migration, Module, Registry},
        scope::{Actor, Role},
        testing::{self, TestEnv},
    };

    /// The test module's tables: what its `on_decided` records, and flags
    /// that make its `check` or `on_decided` refuse.
    static TEST_MIGRATIONS: &[Migration] = &[Migration {
        version: 1,
        name: "review_test",
        sql: "CREATE TABLE review_test_decisions (id ID_PK, item_id BIGINT NOT NULL, record_id BIGINT NOT NULL, outcome TEXT NOT NULL);\n\
              CREATE TABLE review_test_flags (name TEXT PRIMARY KEY, value BIGINT NOT NULL);",
    }];

    /// 基层 → 县(区)总工会 初审 → 市总工会 终审.
    struct TestKind;

    async fn flag(tx: &mut AnyConnection, name: &str) -> AppResult<bool> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT value FROM review_test_flags WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        Ok(v == Some(1))
    }

    impl ReviewKind for TestKind {
        fn key(&self) -> &'static str {
            "test_application"
        }
        fn chain(&self) -> &'static [&'static str] {
            &["county", "city"]
        }
        fn check<'a>(
            &'a self,
            tx: &'a mut AnyConnection,
            _item: &'a ReviewItem,
            action: Action,
        ) -> BoxFuture<'a, AppResult<()>> {
            Box::pin(async move {
                if flag(tx, &format!("refuse_{}", action.as_str())).await? {
                    return Err(AppError::invalid(
                        "本年度预算已用完",
                        "This year's budget is used up",
                    ));
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
                sqlx::query("INSERT INTO review_test_decisions (item_id, record_id, outcome) VALUES ($1, $2, $3)")
                    .bind(item.id.0)
                    .bind(item.record_id)
                    .bind(format!("{outcome:?}"))
                    .execute(&mut *tx)
                    .await?;
                // Fails after writing, so a rollback must undo its own row too.
                if flag(tx, "fail_decided").await? {
                    return Err(AppError::Internal(anyhow::anyhow!(
                        "test: on_decided failed"
                    )));
                }
                Ok(())
            })
        }
    }

    fn test_module() -> Module {
        Module {
            migrations: TEST_MIGRATIONS,
            review_kinds: || vec![Arc::new(TestKind) as Arc<dyn ReviewKind>],
            ..Module::new("review_test")
        }
    }

    /// city 1 /1/ → county 2 /1/2/ → street 3 /1/2/3/ → grassroots 4
    /// /1/2/3/4/; another county 5 /1/5/.
    async fn env() -> TestEnv {
        let env = testing::env(Arc::new(Registry::new(vec![test_module()])))
            .await
            .unwrap();
        let now = time::now_rfc3339();
        for (id, level, parent, path, root) in [
            (1, "city", None, "/1/", None),
            (2, "county", Some(1), "/1/2/", Some(2)),
            (3, "street", Some(2), "/1/2/3/", Some(2)),
            (4, "grassroots", Some(3), "/1/2/3/4/", Some(2)),
            (5, "county", Some(1), "/1/5/", Some(5)),
        ] {
            sqlx::query(
                "INSERT INTO orgs (id, code, name, level, parent_id, path, region_root, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(id as i64)
            .bind(format!("T{id}"))
            .bind(format!("{level}工会{id}"))
            .bind(level)
            .bind(parent.map(|p: i64| p))
            .bind(path)
            .bind(root.map(|r: i64| r))
            .bind(&now)
            .execute(env.state.db.pool())
            .await
            .unwrap();
        }
        env
    }

    fn path_of(org: i64) -> &'static str {
        ["", "/1/", "/1/2/", "/1/2/3/", "/1/2/3/4/", "/1/5/"][org as usize]
    }

    /// An account `user` of org `org`.
    fn scope(org: i64, role: Role, user: i64) -> Scope {
        let actor = Actor {
            user_id: Some(UserId(user)),
            name: format!("u{user}"),
            ip: "127.0.0.1".into(),
        };
        Scope::new(actor, OrgId(org), path_of(org).into(), role, "")
    }
    fn staff(org: i64) -> Scope {
        scope(org, Role::Staff, org * 10)
    }

    async fn count(db: &Db, sql: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT CAST(({sql}) AS BIGINT)"))
            .fetch_one(db.pool())
            .await
            .unwrap()
    }
    async fn denied(db: &Db) -> i64 {
        count(
            db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied'",
        )
        .await
    }
    async fn steps(db: &Db) -> i64 {
        count(db, "SELECT COUNT(*) FROM review_steps").await
    }
    async fn audited(db: &Db) -> i64 {
        count(db, "SELECT COUNT(*) FROM audit_log").await
    }
    async fn set_flag(db: &Db, name: &str, on: bool) {
        sqlx::query("DELETE FROM review_test_flags WHERE name = $1")
            .bind(name)
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO review_test_flags (name, value) VALUES ($1, $2)")
            .bind(name)
            .bind(i64::from(on))
            .execute(db.pool())
            .await
            .unwrap();
    }

    /// The inbox of each org of the tree, as the item ids in it.
    async fn inboxes(db: &Db) -> Vec<Vec<i64>> {
        let mut out = Vec::new();
        for org in 1..=5 {
            let items = inbox(db, &staff(org)).await.unwrap();
            out.push(items.iter().map(|i| i.id.0).collect());
        }
        out
    }

    fn both_languages(e: &AppError) -> bool {
        let m = e.user_message();
        !m.zh.is_empty() && !m.en.is_empty() && m.zh != m.en
    }

    #[tokio::test]
    async fn review_three_level_chain_with_return_and_resubmission() {
        let env = env().await;
        let db = &env.state.db;
        let k = &TestKind;
        let id = submit(db, &staff(4), k, OrgId(4), 42, "困难职工帮扶申请:张三")
            .await
            .unwrap();
        let item = get(db, &staff(4), id).await.unwrap();
        assert_eq!(item.deciders, [OrgId(2), OrgId(1)]);
        assert_eq!(
            (item.status, item.step, item.region_root),
            (Status::Pending, 0, Some(2))
        );
        // Only the county (初审) sees it.
        assert_eq!(
            inboxes(db).await,
            [vec![], vec![id.0], vec![], vec![], vec![]]
        );

        // The street union is on the path but decides nothing; the other
        // county is outside the subtree: both "not found", both audited.
        let before = (steps(db).await, denied(db).await);
        for outsider in [staff(3), staff(5)] {
            let e = approve(db, &outsider, k, id, "").await.unwrap_err();
            assert!(matches!(e, AppError::NotFound), "{e:?}");
        }
        assert_eq!(steps(db).await, before.0);
        assert_eq!(denied(db).await, before.1 + 2);
        // The city decides later, not now: trying to skip the county is the
        // wrong level too.
        let e = approve(db, &staff(1), k, id, "").await.unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");
        assert_eq!(denied(db).await, before.1 + 3);
        // An auditor of the county cannot decide.
        let e = approve(db, &scope(2, Role::Auditor, 29), k, id, "")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{e:?}");
        assert_eq!(steps(db).await, before.0);

        // Returning needs a comment: refused in both languages, nothing written.
        let (s0, a0) = (steps(db).await, audited(db).await);
        let e = return_for_changes(db, &staff(2), k, id, "  ")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Invalid(_)) && both_languages(&e),
            "{e:?}"
        );
        assert_eq!((steps(db).await, audited(db).await), (s0, a0));
        assert_eq!(
            get(db, &staff(2), id).await.unwrap().status,
            Status::Pending
        );

        let r = return_for_changes(db, &staff(2), k, id, "请补充收入证明")
            .await
            .unwrap();
        assert_eq!(
            (r.status, r.waiting_org_id),
            (Status::Returned, Some(OrgId(4)))
        );
        assert_eq!(
            inboxes(db).await,
            [vec![], vec![], vec![], vec![id.0], vec![]]
        );
        let e = approve(db, &staff(2), k, id, "").await.unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)),
            "a returned item waits: {e:?}"
        );
        // Only the submitting org resubmits.
        let d = denied(db).await;
        let e = resubmit(db, &staff(2), k, id, "").await.unwrap_err();
        assert!(matches!(e, AppError::NotFound), "{e:?}");
        assert_eq!(denied(db).await, d + 1);

        let r = resubmit(db, &staff(4), k, id, "已补充收入证明")
            .await
            .unwrap();
        assert_eq!((r.status, r.step), (Status::Pending, 0));
        assert_eq!(
            inboxes(db).await,
            [vec![], vec![id.0], vec![], vec![], vec![]]
        );
        let e = resubmit(db, &staff(4), k, id, "").await.unwrap_err();
        assert!(matches!(e, AppError::Conflict(_)), "{e:?}");

        let r = approve(db, &staff(2), k, id, "同意,报市总工会")
            .await
            .unwrap();
        assert_eq!((r.status, r.step), (Status::Pending, 1));
        assert_eq!(
            inboxes(db).await,
            [vec![id.0], vec![], vec![], vec![], vec![]]
        );
        // The county again (a second click): late, not out of bounds — 409,
        // in both languages, not audited as a denial.
        let d = denied(db).await;
        let e = approve(db, &staff(2), k, id, "").await.unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)) && both_languages(&e),
            "{e:?}"
        );
        assert_eq!(denied(db).await, d);
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM review_test_decisions").await,
            0
        );

        let r = approve(db, &staff(1), k, id, "同意").await.unwrap();
        assert_eq!((r.status, r.waiting_org_id), (Status::Approved, None));
        assert_eq!(inboxes(db).await, vec![Vec::<i64>::new(); 5]);
        let decided: Vec<(i64, String)> =
            sqlx::query_as("SELECT record_id, outcome FROM review_test_decisions")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(decided, [(42, "Approved".to_string())]);
        let e = approve(db, &staff(1), k, id, "").await.unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)) && both_languages(&e),
            "{e:?}"
        );

        // Every step, in order, as the city (a decider) sees it.
        let h = history(db, &staff(1), id).await.unwrap();
        let seen: Vec<_> = h
            .iter()
            .map(|s| {
                (
                    s.action,
                    s.step,
                    s.org_id.0,
                    s.level.as_str(),
                    s.comment.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Action::Submit, 0, 4, "grassroots", ""),
                (Action::Return, 0, 2, "county", "请补充收入证明"),
                (Action::Resubmit, 0, 4, "grassroots", "已补充收入证明"),
                (Action::Approve, 0, 2, "county", "同意,报市总工会"),
                (Action::Approve, 1, 1, "city", "同意"),
            ]
        );
        assert_eq!(h[4].actor, "u10");
        assert_eq!(h[0].actor_id, Some(UserId(40)));
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'review.%'"
            )
            .await,
            5
        );
        // The other county cannot read it either.
        let d = denied(db).await;
        assert!(matches!(
            history(db, &staff(5), id).await,
            Err(AppError::NotFound)
        ));
        assert_eq!(denied(db).await, d + 1);
        // The chain of audit entries is still whole.
        assert!(audit::verify(db).await.unwrap().problems.is_empty());
    }

    #[tokio::test]
    async fn review_decision_runs_the_module_action_in_the_same_transaction() {
        let env = env().await;
        let db = &env.state.db;
        let k = &TestKind;
        // A one-step chain: the county decides alone.
        let id = submit_with_chain(db, &staff(4), k, OrgId(4), 7, "小额补助", &["county"])
            .await
            .unwrap();
        let (s0, a0) = (steps(db).await, audited(db).await);

        // The module's final action fails: nothing of the step remains.
        set_flag(db, "fail_decided", true).await;
        let e = approve(db, &staff(2), k, id, "同意").await.unwrap_err();
        assert!(matches!(e, AppError::Internal(_)), "{e:?}");
        // The module's check refuses: its message reaches the user, nothing written.
        set_flag(db, "fail_decided", false).await;
        set_flag(db, "refuse_approve", true).await;
        let e = approve(db, &staff(2), k, id, "同意").await.unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(m) if m.zh.contains("预算")) && both_languages(&e),
            "{e:?}"
        );
        assert_eq!((steps(db).await, audited(db).await), (s0, a0));
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM review_test_decisions").await,
            0
        );
        let item = get(db, &staff(2), id).await.unwrap();
        assert_eq!((item.status, item.step), (Status::Pending, 0));
        assert_eq!(inbox(db, &staff(2)).await.unwrap().len(), 1);

        // Rejecting needs a reason; with one, the module records the rejection.
        let e = reject(db, &staff(2), k, id, "").await.unwrap_err();
        assert!(
            matches!(e, AppError::Invalid(_)) && both_languages(&e),
            "{e:?}"
        );
        assert_eq!((steps(db).await, audited(db).await), (s0, a0));
        let r = reject(db, &staff(2), k, id, "不符合帮扶条件")
            .await
            .unwrap();
        assert_eq!(r.status, Status::Rejected);
        let decided: Vec<(i64, String)> =
            sqlx::query_as("SELECT record_id, outcome FROM review_test_decisions")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(decided, [(7, "Rejected".to_string())]);
        assert!(inbox(db, &staff(2)).await.unwrap().is_empty());
        let e = resubmit(db, &staff(4), k, id, "").await.unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)),
            "a rejection is final: {e:?}"
        );

        // A decided record may be submitted again (a new review); the module
        // reads the latest.
        let again = submit_with_chain(db, &staff(4), k, OrgId(4), 7, "小额补助(复议)", &["county"])
            .await
            .unwrap();
        let latest = latest_for_record(db, &staff(4), k, 7)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(latest.id, again);
        // One successful approval decides the one-step chain.
        set_flag(db, "refuse_approve", false).await;
        let r = approve(db, &staff(2), k, again, "").await.unwrap();
        assert_eq!(r.status, Status::Approved);
        assert_eq!(
            count(db, "SELECT COUNT(*) FROM review_test_decisions").await,
            2
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn review_racing_approvals_one_wins() {
        let env = env().await;
        let db = &env.state.db;
        let k = &TestKind;
        for record in 0..4 {
            let id = submit(db, &staff(4), k, OrgId(4), record, "并发审批")
                .await
                .unwrap();
            let (a, b) = (scope(2, Role::Staff, 21), scope(2, Role::Admin, 22));
            let (ra, rb) = tokio::join!(approve(db, &a, k, id, "甲"), approve(db, &b, k, id, "乙"));
            let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
            assert_eq!(wins, 1, "{ra:?} {rb:?}");
            let lost = if ra.is_ok() { rb } else { ra };
            assert!(matches!(lost, Err(AppError::Conflict(_))), "{lost:?}");
            let item = get(db, &staff(1), id).await.unwrap();
            assert_eq!(item.step, 1);
            let n = count(
                db,
                &format!(
                    "SELECT COUNT(*) FROM review_steps WHERE item_id = {} AND action = 'approve'",
                    id.0
                ),
            )
            .await;
            assert_eq!(n, 1);
        }
    }

    #[tokio::test]
    async fn review_submissions_are_checked() {
        let env = env().await;
        let db = &env.state.db;
        let k = &TestKind;
        let bad = |r: AppResult<ReviewId>| matches!(r, Err(ref e @ AppError::Invalid(_)) if both_languages(e));
        assert!(bad(submit_with_chain(
            db,
            &staff(4),
            k,
            OrgId(4),
            1,
            "x",
            &[]
        )
        .await));
        assert!(bad(submit_with_chain(
            db,
            &staff(4),
            k,
            OrgId(4),
            1,
            "x",
            &["province"]
        )
        .await));
        // Levels go upward: the city cannot review before the county.
        assert!(bad(submit_with_chain(
            db,
            &staff(4),
            k,
            OrgId(4),
            1,
            "x",
            &["city", "county"]
        )
        .await));
        // A county has no street union above it.
        assert!(bad(submit_with_chain(
            db,
            &staff(2),
            k,
            OrgId(2),
            1,
            "x",
            &["street"]
        )
        .await));
        assert!(bad(submit(db, &staff(4), k, OrgId(4), 1, "  ").await));
        assert_eq!(steps(db).await, 0);

        // Auditors submit nothing; an org outside the subtree is "not found" (audited).
        let e = submit(db, &scope(4, Role::Auditor, 49), k, OrgId(4), 1, "x").await;
        assert!(matches!(e, Err(AppError::Forbidden(_))));
        let d = denied(db).await;
        let e = submit(db, &staff(5), k, OrgId(4), 1, "x").await;
        assert!(matches!(e, Err(AppError::NotFound)));
        assert_eq!(denied(db).await, d + 1);

        // The street union files for its grassroots union (ancestor-or-self:
        // the street level would decide its own step); a return goes back to it.
        let id = submit_with_chain(db, &staff(3), k, OrgId(4), 1, "代报", &["street", "county"])
            .await
            .unwrap();
        assert_eq!(
            get(db, &staff(4), id).await.unwrap().deciders,
            [OrgId(3), OrgId(2)]
        );
        // One open review per record.
        let e = submit(db, &staff(4), k, OrgId(4), 1, "again").await;
        assert!(matches!(e, Err(AppError::Conflict(_))), "{e:?}");
        // The applicant is not a decider: "not found" for it, and audited.
        let d = denied(db).await;
        assert!(matches!(
            approve(db, &staff(4), k, id, "").await,
            Err(AppError::NotFound)
        ));
        assert_eq!(denied(db).await, d + 1);
        return_for_changes(db, &staff(3), k, id, "补材料")
            .await
            .unwrap();
        assert_eq!(inbox(db, &staff(3)).await.unwrap().len(), 1);
        assert!(inbox(db, &staff(4)).await.unwrap().is_empty());
        // Another module's kind cannot act on this item.
        struct Other;
        impl ReviewKind for Other {
            fn key(&self) -> &'static str {
                "other"
            }
            fn chain(&self) -> &'static [&'static str] {
                &["county"]
            }
            fn on_decided<'a>(
                &'a self,
                _: &'a mut AnyConnection,
                _: &'a ReviewItem,
                _: Outcome,
            ) -> BoxFuture<'a, AppResult<()>> {
                Box::pin(async { Ok(()) })
            }
        }
        assert!(matches!(
            resubmit(db, &staff(3), &Other, id, "").await,
            Err(AppError::NotFound)
        ));
        resubmit(db, &staff(3), k, id, "").await.unwrap();
    }

    #[tokio::test]
    async fn review_a_stale_claim_changes_nothing() {
        let env = env().await;
        let db = &env.state.db;
        let id = submit(db, &staff(4), &TestKind, OrgId(4), 9, "x")
            .await
            .unwrap();
        // Read by one decider, moved on by another before the first claims.
        let stale = get(db, &staff(2), id).await.unwrap();
        approve(db, &staff(2), &TestKind, id, "").await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        let e = claim(&mut tx, &stale, Status::Rejected, 0, None, "t")
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)) && both_languages(&e),
            "{e:?}"
        );
        drop(tx);
        let now = get(db, &staff(1), id).await.unwrap();
        assert_eq!((now.status, now.step), (Status::Pending, 1));
    }

    /// The JSON API and the inbox page on the real server, signed in
    /// through sessions written directly (no password hashing in tests).
    #[tokio::test]
    async fn review_http_api_and_inbox_page() {
        let env = env().await;
        let db = env.state.db.clone();
        let now = time::now_rfc3339();
        let mut sessions = std::collections::HashMap::new();
        for org in [1i64, 2, 4, 5] {
            let uid: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, display_name, kind, role, org_id, password_hash, created_at) \
                 VALUES ($1, $2, 'staff', 'staff', $3, 'x', $4) RETURNING id",
            )
            .bind(format!("staff{org}"))
            .bind(format!("工作人员{org}"))
            .bind(org)
            .bind(&now)
            .fetch_one(db.pool())
            .await
            .unwrap();
            let token = format!("token-{org}");
            let csrf = format!("csrf-{org}");
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(crate::crypto::sha256_hex(token.as_bytes()))
            .bind(uid)
            .bind(&csrf)
            .bind(&now)
            .bind(time::to_rfc3339(time::now() + chrono::Duration::hours(1)))
            .execute(db.pool())
            .await
            .unwrap();
            sessions.insert(org, (token, csrf));
        }
        let id = submit(&db, &staff(4), &TestKind, OrgId(4), 3, "慰问金申请")
            .await
            .unwrap();
        let server = testing::TestServer::start(env).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let get = |org: i64, path: &str| {
            let (token, _) = &sessions[&org];
            http.get(server.url(path))
                .header("cookie", format!("gh_session={token}"))
                .send()
        };
        let post = |org: i64, path: &str, body: serde_json::Value| {
            let (token, csrf) = &sessions[&org];
            http.post(server.url(path))
                .header("cookie", format!("gh_session={token}"))
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
        };

        let inbox: serde_json::Value = get(2, "/api/v1/reviews/inbox")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(inbox.as_array().unwrap().len(), 1, "{inbox}");
        assert_eq!(inbox[0]["id"], id.0);
        assert_eq!(inbox[0]["status"], "pending");
        assert!(inbox[0].get("org_path").is_none());
        let inbox: serde_json::Value = get(1, "/api/v1/reviews/inbox")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(inbox, serde_json::json!([]));

        // An empty comment on a return: 422, in both languages.
        let r = post(
            2,
            &format!("/api/v1/reviews/{id}/return"),
            serde_json::json!({"comment": ""}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 422);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(!body["error"]["message_zh"].as_str().unwrap().is_empty());
        assert!(!body["error"]["message_en"].as_str().unwrap().is_empty());
        // A wrong kind in the body is refused; the right one, or none, is taken.
        let r = post(
            2,
            &format!("/api/v1/reviews/{id}/approve"),
            serde_json::json!({"kind": "other"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 422);
        let r = post(
            2,
            &format!("/api/v1/reviews/{id}/approve"),
            serde_json::json!({"kind": "test_application", "comment": "同意"}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let item: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (item["step"].as_i64(), item["waiting_org_id"].as_i64()),
            (Some(1), Some(1))
        );
        // Outside the subtree: 404; the county again: 409; no CSRF token: 403.
        assert_eq!(
            get(5, &format!("/api/v1/reviews/{id}"))
                .await
                .unwrap()
                .status(),
            404
        );
        let r = post(
            2,
            &format!("/api/v1/reviews/{id}/approve"),
            serde_json::json!({}),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 409);
        let r = http
            .post(server.url(&format!("/api/v1/reviews/{id}/approve")))
            .header("cookie", format!("gh_session={}", sessions[&1].0))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);

        // The city's inbox page shows it, and its form approves it.
        let r = get(1, "/reviews").await.unwrap();
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains("慰问金申请") && page.contains("审批待办"),
            "{page}"
        );
        assert!(
            page.contains("2/2 市总工会") && page.contains("value=\"approve\""),
            "{page}"
        );
        assert!(
            page.contains("href=\"/reviews\" class=\"on\""),
            "the nav entry: {page}"
        );
        let (token, csrf) = &sessions[&1];
        let r = http
            .post(server.url(&format!("/reviews/{id}")))
            .header("cookie", format!("gh_session={token}"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("action", "approve"),
                ("comment", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/reviews?done=1");

        let detail: serde_json::Value = get(4, &format!("/api/v1/reviews/{id}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(detail["item"]["status"], "approved");
        let actions: Vec<&str> = detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["submit", "approve", "approve"]);
        let page = get(4, "/reviews").await.unwrap().text().await.unwrap();
        assert!(page.contains("暂无待您单位处理的审批事项"), "{page}");

        let doc: serde_json::Value = get(1, "/api/v1/openapi.json")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for p in [
            "/api/v1/reviews/inbox",
            "/api/v1/reviews/{id}",
            "/api/v1/reviews/{id}/approve",
            "/api/v1/reviews/{id}/return",
            "/api/v1/reviews/{id}/reject",
            "/api/v1/reviews/{id}/resubmit",
        ] {
            assert!(
                doc["paths"].get(p).is_some(),
                "{p} missing from the API document"
            );
        }
    }
}
