//! Storage and service functions of the org tree. Every function takes the
//! caller's `Scope` and only ever touches orgs under it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, AnyConnection, Row};

use super::model::{
    parse_name, parse_org_type, parse_region_code, CreditCode, LegalCertStatus, OrgCode, OrgLevel,
};
use platform::{
    audit::{self, Event},
    dataver,
    db::{Backend, Db},
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    module::OrgHold,
    scope::{Actor, Scope},
    time,
};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Org {
    #[schema(value_type = i64)]
    pub id: OrgId,
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub level: OrgLevel,
    pub org_type: String,
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<OrgId>,
    /// The parent's org code (None for the city federation).
    pub parent: Option<String>,
    #[serde(skip)]
    pub path: String,
    pub credit_code: Option<String>,
    pub region_code: String,
    pub founded_on: Option<String>,
    pub legal_cert_no: String,
    pub legal_cert_status: String,
    pub legal_cert_on: Option<String>,
    pub term_no: Option<i64>,
    pub term_start: Option<String>,
    pub term_end: Option<String>,
    pub status: String,
    pub closed_on: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Org {
    pub fn short_name_or_name(&self) -> &str {
        if self.short_name.is_empty() {
            &self.name
        } else {
            &self.short_name
        }
    }
    pub fn is_closed(&self) -> bool {
        self.status == "closed"
    }
    /// Depth below the city root (root = 0), for indenting the tree.
    pub fn depth(&self) -> usize {
        self.path.matches('/').count().saturating_sub(2)
    }
    pub fn level_zh(&self) -> String {
        self.level.label().zh
    }
    pub fn level_label(&self, lang: platform::i18n::Lang) -> String {
        self.level.label().get(lang).to_string()
    }
}

const SELECT: &str = "SELECT o.id, o.code, o.name, o.short_name, o.level, o.org_type, o.parent_id, p.code AS parent_code, \
    o.path, o.credit_code, o.region_code, o.founded_on, o.legal_cert_no, o.legal_cert_status, o.legal_cert_on, \
    o.term_no, o.term_start, o.term_end, o.status, o.closed_on, o.created_at, o.updated_at \
    FROM orgs o LEFT JOIN orgs p ON p.id = o.parent_id";

fn from_row(r: &AnyRow) -> AppResult<Org> {
    let level: String = r.try_get("level")?;
    Ok(Org {
        id: OrgId(r.try_get("id")?),
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        short_name: r.try_get("short_name")?,
        level: OrgLevel::parse(&level)?,
        org_type: r.try_get("org_type")?,
        parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(OrgId),
        parent: r.try_get("parent_code")?,
        path: r.try_get("path")?,
        credit_code: r.try_get("credit_code")?,
        region_code: r.try_get("region_code")?,
        founded_on: r.try_get("founded_on")?,
        legal_cert_no: r.try_get("legal_cert_no")?,
        legal_cert_status: r.try_get("legal_cert_status")?,
        legal_cert_on: r.try_get("legal_cert_on")?,
        term_no: r.try_get("term_no")?,
        term_start: r.try_get("term_start")?,
        term_end: r.try_get("term_end")?,
        status: r.try_get("status")?,
        closed_on: r.try_get("closed_on")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// What a form or JSON body gives for an org: raw text, parsed by [`OrgInput::parse`].
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrgInput {
    pub code: String,
    pub name: String,
    pub short_name: String,
    pub level: String,
    pub org_type: String,
    pub credit_code: String,
    pub region_code: String,
    pub founded_on: String,
    pub legal_cert_no: String,
    pub legal_cert_status: String,
    pub legal_cert_on: String,
    pub term_no: String,
    pub term_start: String,
    pub term_end: String,
}

/// Validated org fields.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgFields {
    pub code: OrgCode,
    pub name: String,
    pub short_name: String,
    pub level: OrgLevel,
    pub org_type: String,
    pub credit_code: Option<CreditCode>,
    pub region_code: String,
    pub founded_on: Option<NaiveDate>,
    pub legal_cert_no: String,
    pub legal_cert_status: LegalCertStatus,
    pub legal_cert_on: Option<NaiveDate>,
    pub term_no: Option<i64>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

fn opt_date(raw: &str, zh: &str, en: &str) -> AppResult<Option<NaiveDate>> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    time::parse_date(raw).map(Some).ok_or_else(|| {
        AppError::invalid(
            format!("{zh}“{}”不是有效日期,请按 2024-03-01 格式填写", raw.trim()),
            format!(
                "{en} “{}” is not a valid date; use the form 2024-03-01",
                raw.trim()
            ),
        )
    })
}

impl OrgInput {
    pub fn parse(&self) -> AppResult<OrgFields> {
        let credit_code = match self.credit_code.trim() {
            "" => None,
            s => Some(CreditCode::parse(s).map_err(|e| AppError::invalid(e.zh, e.en))?),
        };
        let term_no = match self.term_no.trim() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        AppError::invalid(
                            format!("届次“{s}”应为1至100的整数"),
                            format!("Term “{s}” must be a whole number 1–100"),
                        )
                    })?,
            ),
        };
        let term_start = opt_date(&self.term_start, "届期开始日期", "Term start")?;
        let term_end = opt_date(&self.term_end, "届期结束日期", "Term end")?;
        if let (Some(s), Some(e)) = (term_start, term_end) {
            if e <= s {
                return Err(AppError::invalid(
                    "届期结束日期须晚于开始日期",
                    "The term must end after it starts",
                ));
            }
        }
        let founded_on = opt_date(&self.founded_on, "成立日期", "Founding date")?;
        if founded_on.is_some_and(|d| d > time::today()) {
            return Err(AppError::invalid(
                "成立日期不能晚于今天",
                "The founding date cannot be in the future",
            ));
        }
        let legal_cert_status = LegalCertStatus::parse(&self.legal_cert_status)?;
        let legal_cert_no = self.legal_cert_no.trim().to_string();
        if legal_cert_status != LegalCertStatus::None && legal_cert_no.is_empty() {
            return Err(AppError::invalid(
                "已取得法人资格的工会须填写法人资格证书号",
                "A union with legal-person status needs its certificate number",
            ));
        }
        Ok(OrgFields {
            code: OrgCode::parse(&self.code)?,
            name: parse_name(&self.name, "组织全称", "full name")?,
            short_name: self.short_name.trim().to_string(),
            level: OrgLevel::parse(&self.level)?,
            org_type: parse_org_type(&self.org_type)?,
            credit_code,
            region_code: parse_region_code(&self.region_code)?,
            founded_on,
            legal_cert_no,
            legal_cert_status,
            legal_cert_on: opt_date(
                &self.legal_cert_on,
                "法人资格取得/变更日期",
                "Certificate date",
            )?,
            term_no,
            term_start,
            term_end,
        })
    }
}

impl Org {
    /// The org as an input, to prefill an edit form.
    pub fn to_input(&self) -> OrgInput {
        OrgInput {
            code: self.code.clone(),
            name: self.name.clone(),
            short_name: self.short_name.clone(),
            level: self.level.as_str().into(),
            org_type: self.org_type.clone(),
            credit_code: self.credit_code.clone().unwrap_or_default(),
            region_code: self.region_code.clone(),
            founded_on: self.founded_on.clone().unwrap_or_default(),
            legal_cert_no: self.legal_cert_no.clone(),
            legal_cert_status: self.legal_cert_status.clone(),
            legal_cert_on: self.legal_cert_on.clone().unwrap_or_default(),
            term_no: self.term_no.map(|n| n.to_string()).unwrap_or_default(),
            term_start: self.term_start.clone().unwrap_or_default(),
            term_end: self.term_end.clone().unwrap_or_default(),
        }
    }
}

/// Fetches any org by id with no scope: only for the platform itself
/// (session resolution, the public join page's union lookup).
pub async fn get_unscoped(db: &Db, id: OrgId) -> AppResult<Option<Org>> {
    let row = sqlx::query(&format!("{SELECT} WHERE o.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_by_code_unscoped(db: &Db, code: &str) -> AppResult<Option<Org>> {
    let row = sqlx::query(&format!("{SELECT} WHERE o.code = $1"))
        .bind(code.trim().to_ascii_uppercase())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The city federation at the root of the tree, if set up.
pub async fn root(db: &Db) -> AppResult<Option<Org>> {
    let row = sqlx::query(&format!(
        "{SELECT} WHERE o.parent_id IS NULL ORDER BY o.id LIMIT 1"
    ))
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// One org in scope. Outside the scope it is "not found", and the attempt is audited.
pub async fn get(db: &Db, scope: &Scope, id: OrgId) -> AppResult<Org> {
    let o = get_unscoped(db, id).await?.ok_or(AppError::NotFound)?;
    scope.admit(db, &o.path, "org", o.id).await?;
    Ok(o)
}

pub async fn get_by_code(db: &Db, scope: &Scope, code: &str) -> AppResult<Org> {
    let o = get_by_code_unscoped(db, code)
        .await?
        .ok_or(AppError::NotFound)?;
    scope.admit(db, &o.path, "org", o.id).await?;
    Ok(o)
}

/// Every org in the scope's subtree, in tree order.
pub async fn list_subtree(db: &Db, scope: &Scope) -> AppResult<Vec<Org>> {
    let rows = sqlx::query(&format!("{SELECT} WHERE o.path LIKE $1 ORDER BY o.path"))
        .bind(scope.like())
        .fetch_all(db.pool())
        .await?;
    let mut orgs: Vec<Org> = rows.iter().map(from_row).collect::<AppResult<_>>()?;
    // Path order sorts ids as text ("/1/10/" before "/1/2/"); order siblings by code.
    platform::tree::tree_order(&mut orgs, |o| o.id, |o| o.parent_id, |o| &o.code);
    Ok(orgs)
}

pub async fn children(db: &Db, scope: &Scope, id: OrgId) -> AppResult<Vec<Org>> {
    let parent = get(db, scope, id).await?;
    let rows = sqlx::query(&format!("{SELECT} WHERE o.parent_id = $1 ORDER BY o.code"))
        .bind(parent.id.0)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubtreeCounts {
    /// Orgs under this one (not counting itself), open ones only.
    pub orgs: i64,
    pub grassroots: i64,
}

pub async fn subtree_counts(db: &Db, scope: &Scope, id: OrgId) -> AppResult<SubtreeCounts> {
    let org = get(db, scope, id).await?;
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN level = 'grassroots' THEN 1 ELSE 0 END), 0) AS g \
         FROM orgs WHERE path LIKE $1 AND id <> $2 AND status = 'active'",
    )
    .bind(format!("{}%", org.path))
    .bind(org.id.0)
    .fetch_one(db.pool())
    .await?;
    Ok(SubtreeCounts {
        orgs: r.try_get("n")?,
        grassroots: r.try_get("g")?,
    })
}

async fn write_history(
    conn: &mut AnyConnection,
    org: OrgId,
    kind: &str,
    effective_on: NaiveDate,
    actor: &Actor,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO org_history (org_id, at, kind, effective_on, actor_id, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.0)
    .bind(time::now_rfc3339())
    .bind(kind)
    .bind(effective_on.to_string())
    .bind(actor.user_id.map(|u| u.0))
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn dup_code(code: &OrgCode) -> AppError {
    AppError::conflict(
        format!("组织编码“{}”已被使用,请换一个编码", code.as_str()),
        format!(
            "The org code “{}” is already used; choose another",
            code.as_str()
        ),
    )
}

fn fields_json(f: &OrgFields) -> serde_json::Value {
    serde_json::json!({
        "code": f.code.as_str(), "name": f.name, "short_name": f.short_name, "level": f.level.as_str(),
        "org_type": f.org_type, "credit_code": f.credit_code.as_ref().map(|c| c.as_str()),
        "region_code": f.region_code, "founded_on": f.founded_on, "legal_cert_no": f.legal_cert_no,
        "legal_cert_status": f.legal_cert_status.as_str(), "legal_cert_on": f.legal_cert_on,
        "term_no": f.term_no, "term_start": f.term_start, "term_end": f.term_end,
    })
}

async fn insert(conn: &mut AnyConnection, parent: Option<&Org>, f: &OrgFields) -> AppResult<OrgId> {
    let now = time::now_rfc3339();
    let res = sqlx::query_scalar::<_, i64>(
        "INSERT INTO orgs (code, name, short_name, level, org_type, parent_id, path, credit_code, region_code, founded_on, \
         legal_cert_no, legal_cert_status, legal_cert_on, term_no, term_start, term_end, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, $9, $10, $11, $12, $13, $14, $15, 'active', $16, $16) RETURNING id",
    )
    .bind(f.code.as_str())
    .bind(&f.name)
    .bind(&f.short_name)
    .bind(f.level.as_str())
    .bind(&f.org_type)
    .bind(parent.map(|p| p.id.0))
    .bind(f.credit_code.as_ref().map(|c| c.as_str().to_string()))
    .bind(&f.region_code)
    .bind(f.founded_on.map(|d| d.to_string()))
    .bind(&f.legal_cert_no)
    .bind(f.legal_cert_status.as_str())
    .bind(f.legal_cert_on.map(|d| d.to_string()))
    .bind(f.term_no)
    .bind(f.term_start.map(|d| d.to_string()))
    .bind(f.term_end.map(|d| d.to_string()))
    .bind(&now)
    .fetch_one(&mut *conn)
    .await;
    let id = match res {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(dup_code(&f.code)),
        Err(e) => return Err(e.into()),
    };
    let path = match parent {
        Some(p) => format!("{}{id}/", p.path),
        None => format!("/{id}/"),
    };
    let region_root = region_root_of(&path);
    sqlx::query("UPDATE orgs SET path = $1, region_root = $2 WHERE id = $3")
        .bind(&path)
        .bind(region_root)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(OrgId(id))
}

/// The second id in the path: the county/industry ancestor, or None at the root.
fn region_root_of(path: &str) -> Option<i64> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .nth(1)
        .and_then(|s| s.parse().ok())
}

/// Creates the city federation: the root of a new instance (setup, demo).
pub async fn create_root(db: &Db, actor: &Actor, f: &OrgFields) -> AppResult<OrgId> {
    if root(db).await?.is_some() {
        return Err(AppError::conflict(
            "市总工会已存在",
            "The city federation already exists",
        ));
    }
    if f.level != OrgLevel::City {
        return Err(AppError::invalid(
            "根组织必须是市总工会",
            "The root must be a city federation",
        ));
    }
    let mut tx = db.begin_write().await?;
    let id = insert(&mut tx, None, f).await?;
    let after = fields_json(f);
    write_history(
        &mut tx,
        id,
        "created",
        time::today(),
        actor,
        None,
        Some(&after),
    )
    .await?;
    audit::append(
        &mut tx,
        actor,
        Event::new("org.create", "org", id)
            .org(id)
            .detail(serde_json::json!({"after": after})),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

fn level_refusal(parent: &Org, child: OrgLevel) -> AppError {
    AppError::invalid(
        format!("{}下不能设立{}", parent.level.label().zh, child.label().zh),
        format!(
            "A {} cannot be placed under a {}",
            child.label().en,
            parent.level.label().en
        ),
    )
}

pub async fn create(db: &Db, scope: &Scope, parent_id: OrgId, f: &OrgFields) -> AppResult<Org> {
    scope.require_write()?;
    let parent = get(db, scope, parent_id).await?;
    if parent.is_closed() {
        return Err(AppError::invalid(
            "上级组织已撤销,不能新建下级",
            "The parent is closed",
        ));
    }
    if !parent.level.allows_child(f.level) {
        return Err(level_refusal(&parent, f.level));
    }
    let mut tx = db.begin_write().await?;
    // The parent's path as the transaction sees it, its row locked: a move
    // of the parent's subtree waits for this insert or is seen by it.
    let parent = match get_locked(&mut tx, db, parent_id).await? {
        Some(p) if scope.contains_path(&p.path) => p,
        _ => return end_refused(tx, AppError::NotFound).await,
    };
    if parent.is_closed() {
        let e = AppError::invalid("上级组织已撤销,不能新建下级", "The parent is closed");
        return end_refused(tx, e).await;
    }
    let id = insert(&mut tx, Some(&parent), f).await?;
    let after = fields_json(f);
    write_history(
        &mut tx,
        id,
        "created",
        f.founded_on.unwrap_or_else(time::today),
        &scope.actor,
        None,
        Some(&after),
    )
    .await?;
    if f.legal_cert_status != LegalCertStatus::None {
        let on = f.legal_cert_on.unwrap_or_else(time::today);
        write_history(
            &mut tx,
            id,
            "cert_new",
            on,
            &scope.actor,
            None,
            Some(&after),
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("org.create", "org", id)
            .org(id)
            .detail(serde_json::json!({"parent": parent.code, "after": after})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, id).await
}

/// Edits an org's fields (a rename is an edit of the name; its level is fixed
/// at creation because children depend on it).
pub async fn update(db: &Db, scope: &Scope, id: OrgId, f: &OrgFields) -> AppResult<Org> {
    scope.require_write()?;
    let before = get(db, scope, id).await?;
    if f.level != before.level {
        return Err(AppError::invalid(
            "组织层级创建后不能修改;如需调整,请新建组织后迁移下级",
            "An org's level is fixed once created; create a new org and move the children instead",
        ));
    }
    let before_json = fields_json(&before.to_input().parse()?);
    let after_json = fields_json(f);
    if before_json == after_json {
        return Ok(before);
    }
    let mut tx = db.begin_write().await?;
    let res = sqlx::query(
        "UPDATE orgs SET code = $1, name = $2, short_name = $3, org_type = $4, credit_code = $5, region_code = $6, \
         founded_on = $7, legal_cert_no = $8, legal_cert_status = $9, legal_cert_on = $10, term_no = $11, \
         term_start = $12, term_end = $13, updated_at = $14 WHERE id = $15",
    )
    .bind(f.code.as_str())
    .bind(&f.name)
    .bind(&f.short_name)
    .bind(&f.org_type)
    .bind(f.credit_code.as_ref().map(|c| c.as_str().to_string()))
    .bind(&f.region_code)
    .bind(f.founded_on.map(|d| d.to_string()))
    .bind(&f.legal_cert_no)
    .bind(f.legal_cert_status.as_str())
    .bind(f.legal_cert_on.map(|d| d.to_string()))
    .bind(f.term_no)
    .bind(f.term_start.map(|d| d.to_string()))
    .bind(f.term_end.map(|d| d.to_string()))
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx.tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(dup_code(&f.code)),
        Err(e) => return Err(e.into()),
    }
    let kind = if before.name != f.name {
        "renamed"
    } else {
        "updated"
    };
    write_history(
        &mut tx,
        id,
        kind,
        time::today(),
        &scope.actor,
        Some(&before_json),
        Some(&after_json),
    )
    .await?;
    let cert_before = before.legal_cert_status.as_str();
    let cert_after = f.legal_cert_status.as_str();
    let cert_kind = match (cert_before, cert_after) {
        ("none" | "revoked", "valid" | "changed") => Some("cert_new"),
        (_, "changed") if cert_before != "changed" || before.legal_cert_no != f.legal_cert_no => {
            Some("cert_changed")
        }
        ("valid", "valid") if before.legal_cert_no != f.legal_cert_no => Some("cert_changed"),
        _ => None,
    };
    if let Some(k) = cert_kind {
        let on = f.legal_cert_on.unwrap_or_else(time::today);
        write_history(
            &mut tx,
            id,
            k,
            on,
            &scope.actor,
            Some(&before_json),
            Some(&after_json),
        )
        .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("org.update", "org", id)
            .org(id)
            .detail(serde_json::json!({"before": before_json, "after": after_json})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, id).await
}

/// The PostgreSQL advisory lock that serialises org moves ("orgmove").
const ORG_MOVE_LOCK: i64 = 0x006f_7267_6d6f_7665;

/// Reads one org inside a write transaction, its row locked on PostgreSQL
/// (SQLite's writer lock already serialises every writer).
async fn get_locked(conn: &mut AnyConnection, db: &Db, id: OrgId) -> AppResult<Option<Org>> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE OF o",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!("{SELECT} WHERE o.id = $1{lock}"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Rolls back at once (releasing the row and advisory locks now, not when
/// the connection is next used) and returns the refusal.
async fn end_refused<T>(tx: platform::db::WriteTx, e: AppError) -> AppResult<T> {
    tx.tx.rollback().await?;
    Err(e)
}

/// The refusals of a move, from rows read inside its transaction.
fn check_move(scope: &Scope, org: &Org, new_parent: &Org) -> AppResult<()> {
    if org.parent_id.is_none() || org.id == scope.org_id {
        return Err(AppError::invalid(
            "不能移动本级组织或市总工会,请由上级组织操作",
            "You cannot move your own org or the city federation; ask the level above",
        ));
    }
    if !scope.contains_path(&org.path) || !scope.contains_path(&new_parent.path) {
        // Moved out of this scope by someone else meanwhile.
        return Err(AppError::NotFound);
    }
    if new_parent.path.starts_with(&org.path) {
        return Err(AppError::invalid(
            format!(
                "不能把“{}”移到它自己或它的下级组织“{}”之下(如有他人刚移动过组织,请刷新后再试)",
                org.name, new_parent.name
            ),
            format!(
                "Cannot move “{}” under itself or its own descendant “{}” (if someone has just moved an org, reload and try again)",
                org.name, new_parent.name
            ),
        ));
    }
    if new_parent.is_closed() {
        return Err(AppError::invalid(
            "目标上级组织已撤销",
            "The new parent is closed",
        ));
    }
    if !new_parent.level.allows_child(org.level) {
        return Err(level_refusal(new_parent, org.level));
    }
    Ok(())
}

/// Moves an org and its whole subtree under a new parent. Paths of every
/// descendant are rewritten in one statement, so counts and lists follow at once.
///
/// Everything the move depends on is read inside its write transaction: on
/// PostgreSQL moves are serialised by an advisory lock (two moves of
/// disjoint rows can still close a cycle together: A under a descendant of
/// B while B goes under a descendant of A), then the moved org, the new
/// parent and the moved subtree are locked `FOR UPDATE` before the checks
/// and the rewrite; on SQLite the in-process writer lock serialises it all.
/// Of two crossing moves (A under B, B under A) the second sees the first's
/// paths and is refused as a cycle.
pub async fn move_subtree(
    db: &Db,
    scope: &Scope,
    id: OrgId,
    new_parent_id: OrgId,
) -> AppResult<Org> {
    scope.require_write()?;
    // Scope checks (and their audit) on the rows as they are now; every
    // rule is checked again below on the rows as the transaction sees them.
    let org = get(db, scope, id).await?;
    let new_parent = get(db, scope, new_parent_id).await?;
    check_move(scope, &org, &new_parent)?;
    if org.parent_id == Some(new_parent.id) {
        return Ok(org);
    }
    let mut tx = db.begin_write().await?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ORG_MOVE_LOCK)
            .execute(&mut *tx.tx)
            .await?;
    }
    let org = get_locked(&mut tx, db, id).await?;
    let new_parent = get_locked(&mut tx, db, new_parent_id).await?;
    let (org, new_parent) = match (org, new_parent) {
        (Some(o), Some(p)) => (o, p),
        _ => return end_refused(tx, AppError::NotFound).await,
    };
    if let Err(e) = check_move(scope, &org, &new_parent) {
        return end_refused(tx, e).await;
    }
    if org.parent_id == Some(new_parent.id) {
        tx.tx.rollback().await?;
        return Ok(org);
    }
    if db.backend() == Backend::Postgres {
        // Locks the subtree in a statement of its own: the UPDATE below
        // takes a new snapshot, so it also sees a child created (under a
        // locked row) just before these locks were granted.
        sqlx::query("SELECT id FROM orgs WHERE path LIKE $1 ORDER BY id FOR UPDATE")
            .bind(format!("{}%", org.path))
            .fetch_all(&mut *tx.tx)
            .await?;
    }
    let new_path = format!("{}{}/", new_parent.path, org.id.0);
    let new_root = region_root_of(&new_path);
    sqlx::query("UPDATE orgs SET parent_id = $1, updated_at = $2 WHERE id = $3")
        .bind(new_parent.id.0)
        .bind(time::now_rfc3339())
        .bind(org.id.0)
        .execute(&mut *tx.tx)
        .await?;
    sqlx::query(
        "UPDATE orgs SET path = $1 || substr(path, CAST($2 AS INTEGER)), region_root = $3 WHERE path LIKE $4",
    )
    .bind(&new_path)
    .bind(org.path.len() as i64 + 1)
    .bind(new_root)
    .bind(format!("{}%", org.path))
    .execute(&mut *tx.tx)
    .await?;
    // The workforce values follow their unions' shard key.
    sqlx::query(
        "UPDATE org_workforce SET region_root = $1 WHERE org_id IN (SELECT id FROM orgs WHERE path LIKE $2)",
    )
    .bind(new_root)
    .bind(format!("{new_path}%"))
    .execute(&mut *tx.tx)
    .await?;
    // The moved orgs leave one subtree for another: per-org figures cached
    // for a subtree query that raced this move must not be reused.
    let moved: Vec<i64> = sqlx::query_scalar("SELECT id FROM orgs WHERE path LIKE $1")
        .bind(format!("{new_path}%"))
        .fetch_all(&mut *tx.tx)
        .await?;
    dataver::touch(&mut tx, moved).await?;
    let before = serde_json::json!({"parent": org.parent});
    let after = serde_json::json!({"parent": new_parent.code});
    write_history(
        &mut tx,
        org.id,
        "moved",
        time::today(),
        &scope.actor,
        Some(&before),
        Some(&after),
    )
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("org.move", "org", org.id)
            .org(org.id)
            .detail(serde_json::json!({"before": before, "after": after})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, id).await
}

/// Closes (撤销) an org. Refused while it has open child orgs or open records
/// of a module (`holds`: active members …), so nothing is orphaned; the
/// record and its history stay.
pub async fn close(
    db: &Db,
    scope: &Scope,
    holds: &[OrgHold],
    id: OrgId,
    on: NaiveDate,
) -> AppResult<Org> {
    scope.require_write()?;
    let org = get(db, scope, id).await?;
    if org.id == scope.org_id || org.parent_id.is_none() {
        return Err(AppError::invalid(
            "不能撤销本级组织,请由上级组织操作",
            "You cannot close your own org",
        ));
    }
    if org.is_closed() {
        return Ok(org);
    }
    let open_children: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE parent_id = $1 AND status = 'active'")
            .bind(org.id.0)
            .fetch_one(db.pool())
            .await?;
    if open_children > 0 {
        return Err(AppError::invalid(
            format!("该组织还有{open_children}个未撤销的下级组织,请先撤销或迁移它们"),
            format!("This org still has {open_children} open child orgs; close or move them first"),
        ));
    }
    for hold in holds {
        let n: i64 = sqlx::query_scalar(hold.count_sql)
            .bind(org.id.0)
            .fetch_one(db.pool())
            .await?;
        if n > 0 {
            return Err(AppError::invalid(
                hold.zh.replace("{n}", &n.to_string()),
                hold.en.replace("{n}", &n.to_string()),
            ));
        }
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE orgs SET status = 'closed', closed_on = $1, updated_at = $2 WHERE id = $3")
        .bind(on.to_string())
        .bind(time::now_rfc3339())
        .bind(org.id.0)
        .execute(&mut *tx.tx)
        .await?;
    write_history(&mut tx, org.id, "closed", on, &scope.actor, None, None).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("org.close", "org", org.id)
            .org(org.id)
            .detail(serde_json::json!({"closed_on": on})),
    )
    .await?;
    tx.commit().await?;
    get(db, scope, id).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub kind: String,
    pub effective_on: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn history(db: &Db, scope: &Scope, id: OrgId) -> AppResult<Vec<HistoryEntry>> {
    let org = get(db, scope, id).await?;
    let rows = sqlx::query(
        "SELECT at, kind, effective_on, before_json, after_json FROM org_history WHERE org_id = $1 ORDER BY id DESC",
    )
    .bind(org.id.0)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                at: r.try_get("at")?,
                kind: r.try_get("kind")?,
                effective_on: r.try_get("effective_on")?,
                before: r.try_get("before_json")?,
                after: r.try_get("after_json")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_root_is_the_second_path_element() {
        assert_eq!(region_root_of("/1/"), None);
        assert_eq!(region_root_of("/1/5/"), Some(5));
        assert_eq!(region_root_of("/1/5/23/"), Some(5));
    }
}
