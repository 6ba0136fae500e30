//! 网上入会: online join. A worker finds their grassroots union (or scans
//! its QR code), fills in the application on a phone without an account,
//! and later checks its status with ID number + phone. The union's staff
//! approve (enrolment through `store::prepare` + `store::apply`, event
//! 'join' on the approval date, a member card issued at once) or reject
//! with a reason the applicant sees.

use crate::ids::{JoinRequestId, MembershipId, OrgId};
use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa_axum::routes;

use super::{
    card,
    model::{self, RawMember},
    store::{self, Outcome, Unions},
};
use crate::otp::{self, Codes};
use crate::vocab::NEW_EMPLOYMENT_GROUPS;
use ident::{self, IdKind, IdNumber};
use {
    ::orgs::{model::OrgLevel, store as orgs, store::Org},
    platform::{
        audit::{self, Event},
        crypto::Keys,
        db::Db,
        error::{AppError, AppResult},
        i18n::{Msg, Tr},
        scope::{Actor, Scope},
        time,
        web::{
            ctx::{Ctx, Staff},
            html,
            pages::Chrome,
            AppState, Routes,
        },
    },
};

/// Layout data of the public (no login) pages: join, status, card view,
/// card verification.
pub struct Public {
    pub tr: Tr,
    pub csrf: String,
    pub path: String,
    pub signed_in: bool,
}

impl Public {
    pub fn new(ctx: &Ctx) -> Public {
        Public {
            tr: ctx.tr(),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            signed_in: ctx.session.is_some(),
        }
    }
    pub fn t(&self, key: &str) -> &'static str {
        self.tr.t(key)
    }
}

// ------------------------------------------------------------------ storage

/// At most this many unions are listed for a search.
pub const SEARCH_LIMIT: i64 = 20;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct UnionHit {
    pub code: String,
    pub name: String,
}

fn like_contains(s: &str) -> String {
    let mut out = String::from("%");
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Open grassroots unions whose name contains `q` or whose code is `q`.
/// Public: org names and codes are not personal data.
pub async fn search_unions(db: &Db, q: &str) -> AppResult<Vec<UnionHit>> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let q: String = q.chars().take(50).collect();
    let rows = sqlx::query(
        "SELECT code, name FROM orgs WHERE level = 'grassroots' AND status = 'active' \
         AND (name LIKE $1 ESCAPE '\\' OR short_name LIKE $1 ESCAPE '\\' OR code = $2) \
         ORDER BY CASE WHEN code = $2 THEN 0 ELSE 1 END, code LIMIT $3",
    )
    .bind(like_contains(&q))
    .bind(q.to_ascii_uppercase())
    .bind(SEARCH_LIMIT + 1)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnionHit {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The union an application goes to: an open grassroots union, else 404.
pub async fn open_union(db: &Db, code: &str) -> AppResult<Org> {
    match orgs::get_by_code_unscoped(db, code).await? {
        Some(o) if o.level == OrgLevel::Grassroots && !o.is_closed() => Ok(o),
        _ => Err(AppError::NotFound),
    }
}

/// The application form, as typed.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct JoinForm {
    pub name: String,
    pub id_kind: String,
    pub id_number: String,
    pub phone: String,
    pub gender: String,
    pub birth_date: String,
    pub workplace: String,
    pub new_employment_group: String,
    pub migrant: String,
    /// The one-time code texted to `phone` (`crate::otp`).
    pub code: String,
}

fn applicant(ip: &str) -> Actor {
    Actor {
        user_id: None,
        name: "网上入会申请人 / online applicant".into(),
        ip: ip.to_string(),
    }
}

async fn has_active_membership(db: &Db, id_hash: &str) -> AppResult<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM persons p JOIN memberships m ON m.person_id = p.id \
         WHERE p.id_hash = $1 AND m.status <> 'ended'",
    )
    .bind(id_hash)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

/// Validates and stores an application (ID and phone sealed). Refuses only
/// invalid input: the answer to a public page must not say whether the ID
/// belongs to a member or has applied before, so every valid application is
/// kept for the union to decide (approving one for an active member is
/// refused there), and the same ID and phone pending already is that
/// application again — the same answer, in the same time.
///
/// The one-time code `f.code` must be the one texted to `f.phone`; it is
/// checked (and used up) once the form is valid, before anything is written,
/// so a typo elsewhere does not cost the applicant their code.
pub async fn submit(
    db: &Db,
    keys: &Keys,
    codes: &Codes,
    union: &Org,
    f: &JoinForm,
    ip: &str,
) -> AppResult<JoinRequestId> {
    if f.phone.trim().is_empty() {
        return Err(AppError::invalid(
            "请填写手机号码:审核结果要靠它查询",
            "Fill in your mobile number: you need it to check the result",
        ));
    }
    let raw = RawMember {
        name: f.name.clone(),
        id_kind: f.id_kind.clone(),
        id_number: f.id_number.clone(),
        phone: f.phone.clone(),
        gender: f.gender.clone(),
        birth_date: f.birth_date.clone(),
        workplace: f.workplace.chars().take(100).collect(),
        new_employment_group: f.new_employment_group.clone(),
        migrant: f.migrant.clone(),
        change_kind: "入会".into(),
        org_code: union.code.clone(),
        ..Default::default()
    };
    let rule = store::retirement_rule(db).await?;
    let p = store::prepare(keys, 1, &raw, &rule).map_err(AppError::Invalid)?;
    let person = &p.row.person;
    let s = &p.sealed;
    let (Some(phone_hash), Some(phone_enc), Some(phone_masked)) =
        (&s.phone_hash, &s.phone_enc, &s.phone_masked)
    else {
        return Err(AppError::invalid(
            "请填写手机号码",
            "Fill in your mobile number",
        ));
    };
    let phone = ident::parse_mobile(&f.phone).map_err(|_| otp::refused())?;
    codes.take(keys, &phone, &f.code)?;
    let mut tx = db.begin_write().await?;
    let same: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM join_requests WHERE id_hash = $1 AND phone_hash = $2 AND status = 'pending' \
         ORDER BY id LIMIT 1",
    )
    .bind(&s.id_hash)
    .bind(phone_hash)
    .fetch_optional(&mut *tx.tx)
    .await?;
    if let Some(id) = same {
        audit::append(
            &mut tx,
            &applicant(ip),
            Event::new("join.apply_again", "join_request", id).org(union.id),
        )
        .await?;
        tx.commit().await?;
        return Ok(JoinRequestId(id));
    }
    let inserted = sqlx::query(
        "INSERT INTO join_requests (org_id, name, id_kind, id_hash, id_enc, id_masked, phone_hash, phone_enc, phone_masked, \
         gender, birth_date, workplace, new_employment_group, migrant, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending', $15) RETURNING id",
    )
    .bind(union.id.0)
    .bind(&person.name)
    .bind(person.id.kind.code())
    .bind(&s.id_hash)
    .bind(&s.id_enc)
    .bind(&s.id_masked)
    .bind(phone_hash)
    .bind(phone_enc)
    .bind(phone_masked)
    .bind(person.gender_code())
    .bind(person.birth.map(|d| d.to_string()))
    .bind(&person.workplace)
    .bind(&person.group)
    .bind(i64::from(person.migrant))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await;
    let id: i64 = inserted?.try_get("id")?;
    audit::append(
        &mut tx,
        &applicant(ip),
        Event::new("join.apply", "join_request", id)
            .org(union.id)
            .detail(serde_json::json!({"name": person.name, "id": s.id_masked})),
    )
    .await?;
    tx.commit().await?;
    Ok(JoinRequestId(id))
}

/// What the applicant sees of their latest application.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    pub name: String,
    /// pending | approved | rejected
    pub status: String,
    pub union_name: String,
    pub applied_at: String,
    pub decided_at: Option<String>,
    /// The rejection reason written by the union.
    pub reason: String,
    pub member_no: Option<String>,
    /// Signed token of the member's valid card, for the card page.
    pub card_token: Option<String>,
}

/// The normalised form of an ID number as typed, whatever its kind.
fn normalise_id(raw: &str) -> String {
    IdKind::ALL
        .iter()
        .find_map(|k| IdNumber::parse(*k, raw).ok())
        .map(|p| p.as_str().to_string())
        .unwrap_or_default()
}

/// The applicant's latest application, found by ID number AND phone, once
/// the one-time code texted to that phone is given (and used up).
pub async fn status(
    db: &Db,
    keys: &Keys,
    codes: &Codes,
    id_number: &str,
    phone: &str,
    code: &str,
    ip: &str,
) -> AppResult<Option<StatusView>> {
    let id = normalise_id(id_number);
    if id.is_empty() {
        return Err(AppError::invalid(
            "请填写证件号码",
            "Fill in your ID number",
        ));
    }
    let phone = ident::parse_mobile(phone).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })?;
    codes.take(keys, &phone, code)?;
    let r = sqlx::query(
        "SELECT j.id, j.name, j.status, j.reason, j.created_at, j.decided_at, j.membership_id, j.org_id, \
         o.name AS union_name, m.member_no \
         FROM join_requests j JOIN orgs o ON o.id = j.org_id LEFT JOIN memberships m ON m.id = j.membership_id \
         WHERE j.id_hash = $1 AND j.phone_hash = $2 ORDER BY j.id DESC LIMIT 1",
    )
    .bind(model::id_lookup_hash(keys, &id))
    .bind(model::phone_lookup_hash(keys, &phone))
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = r else {
        return Ok(None);
    };
    let mid: Option<i64> = r.try_get("membership_id")?;
    let card_token = match mid {
        Some(m) => card::active_card_no(db, m)
            .await?
            .map(|no| card::token(keys, &no)),
        None => None,
    };
    let jid: i64 = r.try_get("id")?;
    audit::record(
        db,
        &applicant(ip),
        Event::new("join.status", "join_request", jid).org(OrgId(r.try_get("org_id")?)),
    )
    .await?;
    Ok(Some(StatusView {
        name: r.try_get("name")?,
        status: r.try_get("status")?,
        union_name: r.try_get("union_name")?,
        applied_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
        reason: r.try_get("reason")?,
        member_no: r.try_get("member_no")?,
        card_token,
    }))
}

/// A pending application as the union's staff see it (masked).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JoinRow {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub name: String,
    pub id_masked: String,
    pub phone_masked: String,
    pub gender: String,
    /// Age in whole years today (not the birth date: see `ident::mask_id`).
    pub age: Option<u32>,
    pub workplace: String,
    pub new_employment_group: String,
    pub migrant: bool,
    pub created_at: String,
}

/// Applications listed per page.
pub const PENDING_PER_PAGE: i64 = 100;

/// Pending applications of the scope's subtree, oldest first, a page at a
/// time (every one is reachable, however many), with the total; audited.
pub async fn list_pending(db: &Db, scope: &Scope, page: i64) -> AppResult<(Vec<JoinRow>, i64)> {
    let page = page.max(1);
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM join_requests j JOIN orgs o ON o.id = j.org_id \
         WHERE o.path LIKE $1 AND j.status = 'pending'",
    )
    .bind(scope.like())
    .fetch_one(db.pool())
    .await?;
    let rows = sqlx::query(
        "SELECT j.id, o.code, o.name AS org_name, j.name, j.id_masked, j.phone_masked, j.gender, j.birth_date, \
         j.workplace, j.new_employment_group, j.migrant, j.created_at \
         FROM join_requests j JOIN orgs o ON o.id = j.org_id \
         WHERE o.path LIKE $1 AND j.status = 'pending' ORDER BY j.created_at, j.id LIMIT $2 OFFSET $3",
    )
    .bind(scope.like())
    .bind(PENDING_PER_PAGE)
    .bind((page - 1).saturating_mul(PENDING_PER_PAGE))
    .fetch_all(db.pool())
    .await?;
    let list: Vec<JoinRow> = rows
        .iter()
        .map(|r| {
            Ok(JoinRow {
                id: r.try_get("id")?,
                org_code: r.try_get("code")?,
                org_name: r.try_get("org_name")?,
                name: r.try_get("name")?,
                id_masked: r.try_get("id_masked")?,
                phone_masked: r.try_get("phone_masked")?,
                gender: r.try_get("gender")?,
                age: r
                    .try_get::<Option<String>, _>("birth_date")?
                    .as_deref()
                    .and_then(time::parse_date)
                    .map(|b| ident::age_on(b, time::today())),
                workplace: r.try_get("workplace")?,
                new_employment_group: r.try_get("new_employment_group")?,
                migrant: r.try_get::<i64, _>("migrant")? == 1,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    audit::record(
        db,
        &scope.actor,
        Event::new("join.list", "join_request", "*")
            .org(scope.org_id)
            .detail(serde_json::json!({"returned": list.len(), "page": page, "total": total})),
    )
    .await?;
    Ok((list, total))
}

struct Request {
    org_id: OrgId,
    org_code: String,
    status: String,
    name: String,
    id_kind: String,
    id_enc: String,
    id_masked: String,
    phone_enc: String,
    gender: String,
    birth_date: Option<String>,
    workplace: String,
    group: String,
    migrant: bool,
}

/// One application in scope; outside it: 404 and audited.
async fn request_in_scope(db: &Db, scope: &Scope, id: JoinRequestId) -> AppResult<Request> {
    let r = sqlx::query(
        "SELECT j.*, o.path, o.code AS org_code FROM join_requests j JOIN orgs o ON o.id = j.org_id WHERE j.id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let path: String = r.try_get("path")?;
    scope.admit(db, &path, "join_request", id).await?;
    Ok(Request {
        org_id: OrgId(r.try_get("org_id")?),
        org_code: r.try_get("org_code")?,
        status: r.try_get("status")?,
        name: r.try_get("name")?,
        id_kind: r.try_get("id_kind")?,
        id_enc: r.try_get("id_enc")?,
        id_masked: r.try_get("id_masked")?,
        phone_enc: r.try_get("phone_enc")?,
        gender: r.try_get("gender")?,
        birth_date: r.try_get("birth_date")?,
        workplace: r.try_get("workplace")?,
        group: r.try_get("new_employment_group")?,
        migrant: r.try_get::<i64, _>("migrant")? == 1,
    })
}

fn not_pending() -> AppError {
    AppError::conflict(
        "该申请已处理(已批准或已驳回),请刷新列表",
        "This application has already been decided; reload the list",
    )
}

/// Claims a pending application inside the transaction (so two clerks
/// cannot both decide it).
async fn claim(
    conn: &mut sqlx::AnyConnection,
    id: JoinRequestId,
    status: &str,
    reason: &str,
    scope: &Scope,
) -> AppResult<()> {
    let n = sqlx::query(
        "UPDATE join_requests SET status = $1, reason = $2, decided_at = $3, decided_by = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(reason)
    .bind(time::now_rfc3339())
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(id.0)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(not_pending())
    }
}

/// Approves: enrols the applicant through `store::prepare` + `store::apply`
/// (入会 on today's date), issues a member card, links the membership.
pub async fn approve(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    id: JoinRequestId,
) -> AppResult<(MembershipId, String)> {
    scope.require_write()?;
    let req = request_in_scope(db, scope, id).await?;
    if req.status != "pending" {
        return Err(not_pending());
    }
    let kind = IdKind::ALL
        .into_iter()
        .find(|k| k.code() == req.id_kind)
        .unwrap_or(IdKind::Other);
    let today = time::today();
    let raw = RawMember {
        name: req.name.clone(),
        id_kind: kind.label_zh().into(),
        id_number: keys.decrypt(&req.id_enc)?,
        phone: keys.decrypt(&req.phone_enc)?,
        gender: if req.gender == "female" { "女" } else { "男" }.into(),
        birth_date: req.birth_date.clone().unwrap_or_default(),
        workplace: req.workplace.clone(),
        new_employment_group: req.group.clone(),
        migrant: if req.migrant { "是" } else { "否" }.into(),
        change_kind: "入会".into(),
        change_date: today.to_string(),
        org_code: req.org_code.clone(),
        ..Default::default()
    };
    let rule = store::retirement_rule(db).await?;
    let p = store::prepare(keys, 1, &raw, &rule).map_err(|m| {
        AppError::Invalid(Msg::new(
            format!("此申请无法批准:{},请驳回并告知原因", m.zh),
            format!(
                "This application cannot be approved: {}; reject it with the reason",
                m.en
            ),
        ))
    })?;
    if has_active_membership(db, &p.sealed.id_hash).await? {
        return Err(AppError::conflict(
            "申请人已是在籍会员(可能已通过名册导入登记),无需批准,请驳回并说明",
            "The applicant is already an active member (perhaps imported meanwhile); reject this application with a note",
        ));
    }
    let unions = Unions::load(db, scope).await?;
    let mut tx = db.begin_write().await?;
    claim(&mut tx, id, "approved", "", scope).await?;
    let outcome = store::apply(&mut tx, &unions, None, std::slice::from_ref(&p), None)
        .await?
        .remove(0);
    let mid = match outcome {
        Outcome::New(m) => m,
        Outcome::Rejected(m) => return Err(AppError::Conflict(m)),
        Outcome::Updated(_) | Outcome::Unchanged(_) => return Err(AppError::conflict(
            "申请人已是本工会会员,无需批准,请驳回并说明",
            "The applicant is already a member of this union; reject this application with a note",
        )),
    };
    let row = sqlx::query("SELECT person_id, member_no FROM memberships WHERE id = $1")
        .bind(mid.0)
        .fetch_one(&mut *tx.tx)
        .await?;
    let person_id: i64 = row.try_get("person_id")?;
    let member_no: String = row.try_get("member_no")?;
    sqlx::query("UPDATE join_requests SET membership_id = $1 WHERE id = $2")
        .bind(mid.0)
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    let (card_no, _) = card::issue_in_tx(&mut tx, mid, person_id).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("join.approve", "join_request", id)
            .org(req.org_id)
            .detail(serde_json::json!({
                "membership_id": mid.0, "member_no": member_no, "name": req.name,
                "id": req.id_masked, "on": today, "card_no": card_no
            })),
    )
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("card.issue", "card", &card_no)
            .org(req.org_id)
            .detail(
                serde_json::json!({"membership_id": mid.0, "member_no": member_no, "via": "join"}),
            ),
    )
    .await?;
    tx.commit().await?;
    Ok((mid, card_no))
}

/// Rejects with a reason the applicant will read.
pub async fn reject(db: &Db, scope: &Scope, id: JoinRequestId, reason: &str) -> AppResult<()> {
    scope.require_write()?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "请填写驳回原因:申请人查询进度时会看到它",
            "Give a reason for the rejection: the applicant will see it",
        ));
    }
    if reason.chars().count() > 200 {
        return Err(AppError::invalid(
            "驳回原因过长(最多200字)",
            "The reason is too long (200 characters at most)",
        ));
    }
    let req = request_in_scope(db, scope, id).await?;
    if req.status != "pending" {
        return Err(not_pending());
    }
    let mut tx = db.begin_write().await?;
    claim(&mut tx, id, "rejected", reason, scope).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("join.reject", "join_request", id)
            .org(req.org_id)
            .detail(serde_json::json!({"name": req.name, "id": req.id_masked, "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Open grassroots unions of the scope, for the QR code picker.
pub async fn unions_in_scope(db: &Db, scope: &Scope) -> AppResult<Vec<Org>> {
    Ok(orgs::list_subtree(db, scope)
        .await?
        .into_iter()
        .filter(|o| o.level == OrgLevel::Grassroots && !o.is_closed())
        .collect())
}

pub fn join_url(base: &str, code: &str) -> String {
    format!("{base}/join/{code}")
}

// ------------------------------------------------------------------ HTTP

pub fn routes() -> Routes {
    Routes::new()
        .page("/join", get(find_page))
        .page("/join/status", get(status_form).post(status_submit))
        .page("/join/status/code", post(status_code))
        .page("/join/{code}", get(form_page).post(form_submit))
        .page("/join/{code}/code", post(form_code))
        .page("/members/joins", get(review_page))
        .page("/members/joins/qr", get(qr_page))
        .page("/members/joins/{id}/approve", post(approve_submit))
        .page("/members/joins/{id}/reject", post(reject_submit))
        .api(routes!(api_list))
        .api(routes!(api_approve))
        .api(routes!(api_reject))
}

#[derive(Deserialize, Default)]
struct FindQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "members/join_find.html")]
struct FindPage {
    c: Public,
    q: String,
    hits: Vec<UnionHit>,
    more: bool,
}

async fn find_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FindQuery>,
) -> AppResult<Response> {
    crate::limits::of(&st).ip(&ctx.ip)?;
    let mut hits = search_unions(&st.db, &q.q).await?;
    let more = hits.len() as i64 > SEARCH_LIMIT;
    hits.truncate(SEARCH_LIMIT as usize);
    Ok(html(&FindPage {
        c: Public::new(&ctx),
        q: q.q.trim().to_string(),
        hits,
        more,
    }))
}

#[derive(Template)]
#[template(path = "members/join_form.html")]
struct FormPage {
    c: Public,
    union_name: String,
    code: String,
    f: JoinForm,
    error: Option<String>,
    /// The code step: a code was sent (or a submit is being retried), so
    /// the code field and the submit button are shown.
    with_code: bool,
    /// "If the number is valid, a code has been sent".
    sent: bool,
    kinds: Vec<(&'static str, &'static str)>,
    groups: &'static [&'static str],
}

fn form(
    ctx: &Ctx,
    union: &Org,
    mut f: JoinForm,
    error: Option<String>,
    with_code: bool,
    sent: bool,
) -> FormPage {
    let en = ctx.lang == platform::i18n::Lang::En;
    // A code is never echoed back: it is used up or wrong.
    f.code.clear();
    FormPage {
        c: Public::new(ctx),
        union_name: union.name.clone(),
        code: union.code.clone(),
        f,
        error,
        with_code,
        sent,
        kinds: IdKind::ALL
            .iter()
            .map(|k| (k.label_zh(), if en { k.label_en() } else { k.label_zh() }))
            .collect(),
        groups: NEW_EMPLOYMENT_GROUPS,
    }
}

async fn form_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let union = open_union(&st.db, &code).await?;
    Ok(html(&form(
        &ctx,
        &union,
        JoinForm::default(),
        None,
        false,
        false,
    )))
}

#[derive(Template)]
#[template(path = "members/join_done.html")]
struct DonePage {
    c: Public,
    union_name: String,
}

async fn form_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<JoinForm>,
) -> AppResult<Response> {
    let limits = crate::limits::of(&st);
    limits.ip(&ctx.ip)?;
    let id = normalise_id(&f.id_number);
    if !id.is_empty() {
        limits.identity(&model::id_lookup_hash(&st.keys, &id))?;
    }
    let union = open_union(&st.db, &code).await?;
    let codes = otp::of(&st);
    match submit(&st.db, &st.keys, &codes, &union, &f, &ctx.ip).await {
        Ok(_) => Ok(html(&DonePage {
            c: Public::new(&ctx),
            union_name: union.name,
        })),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let msg = e.user_message().get(ctx.lang).to_string();
            Ok((status, html(&form(&ctx, &union, f, Some(msg), true, false))).into_response())
        }
        Err(e) => Err(e),
    }
}

/// Texts a one-time code to `phone` (normalised) if the limits allow. The
/// caller answers the same whatever the number or ID: nothing here says
/// whether anyone is a member or has applied.
async fn send_code(st: &AppState, ip: &str, phone: &str) -> AppResult<()> {
    let limits = crate::limits::of(st);
    limits.code(ip, &model::phone_lookup_hash(&st.keys, phone))?;
    let code = otp::of(st).issue(&st.keys, phone);
    st.sms.send(phone, &otp::message(&code)).await
}

fn mobile(raw: &str) -> AppResult<String> {
    ident::parse_mobile(raw).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })
}

/// 获取验证码 on the application form: texts a code to the phone given and
/// shows the form again, filled in, with the code field.
async fn form_code(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Form(f): Form<JoinForm>,
) -> AppResult<Response> {
    crate::limits::of(&st).ip(&ctx.ip)?;
    let union = open_union(&st.db, &code).await?;
    let sent = match mobile(&f.phone) {
        Ok(phone) => send_code(&st, &ctx.ip, &phone).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => Ok(html(&form(&ctx, &union, f, None, true, true))),
        Err(e @ AppError::Invalid(_)) => {
            let msg = e.user_message().get(ctx.lang).to_string();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                html(&form(&ctx, &union, f, Some(msg), false, false)),
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, Default)]
struct StatusForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
}

#[derive(Template)]
#[template(path = "members/join_status.html")]
struct StatusPage {
    c: Public,
    id_number: String,
    phone: String,
    error: Option<String>,
    view: Option<StatusView>,
    /// The code field and the check button are shown.
    with_code: bool,
    sent: bool,
}

impl StatusPage {
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
}

async fn status_form(ctx: Ctx) -> Response {
    html(&StatusPage {
        c: Public::new(&ctx),
        id_number: String::new(),
        phone: String::new(),
        error: None,
        view: None,
        with_code: false,
        sent: false,
    })
}

/// 获取验证码 on the status form: the same answer whatever the ID and phone
/// (a format error aside), whether or not anyone applied with them.
async fn status_code(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    crate::limits::of(&st).ip(&ctx.ip)?;
    let checked = if normalise_id(&f.id_number).is_empty() {
        Err(AppError::invalid(
            "请填写正确的证件号码",
            "Fill in a valid ID number",
        ))
    } else {
        mobile(&f.phone)
    };
    let sent = match checked {
        Ok(phone) => send_code(&st, &ctx.ip, &phone).await,
        Err(e) => Err(e),
    };
    let (status, error, ok) = match sent {
        Ok(()) => (StatusCode::OK, None, true),
        Err(e @ AppError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(e.user_message().get(ctx.lang).to_string()),
            false,
        ),
        Err(e) => return Err(e),
    };
    let page = StatusPage {
        c: Public::new(&ctx),
        id_number: f.id_number.trim().to_string(),
        phone: f.phone.trim().to_string(),
        error,
        view: None,
        with_code: ok,
        sent: ok,
    };
    Ok((status, html(&page)).into_response())
}

/// POST so the ID number never lands in a URL or an access log.
async fn status_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    let limits = crate::limits::of(&st);
    limits.ip(&ctx.ip)?;
    let id = normalise_id(&f.id_number);
    if !id.is_empty() {
        limits.identity(&model::id_lookup_hash(&st.keys, &id))?;
    }
    let codes = otp::of(&st);
    let (view, error, code) = match status(
        &st.db,
        &st.keys,
        &codes,
        &f.id_number,
        &f.phone,
        &f.code,
        &ctx.ip,
    )
    .await
    {
        Ok(Some(v)) => (Some(v), None, StatusCode::OK),
        Ok(None) => (
            None,
            Some(
                Msg::new(
                    "没有找到入会申请:请核对证件号码和手机号码(须与申请时填写的一致)",
                    "No application found: check the ID and mobile numbers (they must match the application)",
                )
                .get(ctx.lang)
                .to_string(),
            ),
            StatusCode::NOT_FOUND,
        ),
        Err(e @ AppError::Invalid(_)) => (
            None,
            Some(e.user_message().get(ctx.lang).to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e),
    };
    let page = StatusPage {
        c: Public::new(&ctx),
        // Only echo the ID number back when nothing was found (to fix a typo).
        id_number: if view.is_some() {
            String::new()
        } else {
            f.id_number.trim().to_string()
        },
        phone: if view.is_some() {
            String::new()
        } else {
            f.phone.trim().to_string()
        },
        with_code: view.is_none(),
        sent: false,
        error,
        view,
    };
    Ok((code, html(&page)).into_response())
}

#[derive(Deserialize, Default)]
struct ReviewQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    page: i64,
}

#[derive(Template)]
#[template(path = "members/join_review.html")]
struct ReviewPage {
    c: Chrome,
    rows: Vec<JoinRow>,
    total: i64,
    page: i64,
    pages: i64,
    can_write: bool,
    unions: Vec<Org>,
    /// The QR code shown inline when the scope is one grassroots union.
    own_qr: Option<(String, String, String)>,
    done: String,
}

impl ReviewPage {
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
}

async fn review_page(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<ReviewQuery>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let page = q.page.max(1);
    let (rows, total) = list_pending(&st.db, scope, page).await?;
    let pages = ((total + PENDING_PER_PAGE - 1) / PENDING_PER_PAGE).max(1);
    let unions = unions_in_scope(&st.db, scope).await?;
    let own_qr = match unions.as_slice() {
        [only] => {
            let url = join_url(&card::base_url(&headers, &st), &only.code);
            Some((only.name.clone(), card::qr_svg(&url, 200), url))
        }
        _ => None,
    };
    Ok(html(&ReviewPage {
        c: Chrome::new(&staff, "members"),
        rows,
        total,
        page,
        pages,
        can_write: scope.can_write(),
        unions,
        own_qr,
        done: match q.done.as_str() {
            "rejected" => "rejected".into(),
            _ => String::new(),
        },
    }))
}

#[derive(Deserialize, Default)]
struct QrQuery {
    #[serde(default)]
    org: String,
}

#[derive(Template)]
#[template(path = "members/join_qr.html")]
struct QrPage {
    c: Chrome,
    union_name: String,
    url: String,
    qr: String,
}

/// A printable poster: the union's name and its join QR code.
async fn qr_page(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<QrQuery>,
) -> AppResult<Response> {
    let org = orgs::get_by_code(&st.db, staff.scope(), &q.org).await?;
    if org.level != OrgLevel::Grassroots || org.is_closed() {
        return Err(AppError::invalid(
            "只有未撤销的基层工会才能接收入会申请,请选择基层工会",
            "Only open grassroots unions take applications; choose a grassroots union",
        ));
    }
    let url = join_url(&card::base_url(&headers, &st), &org.code);
    Ok(html(&QrPage {
        c: Chrome::new(&staff, "members"),
        qr: card::qr_svg(&url, 360),
        union_name: org.name,
        url,
    }))
}

async fn approve_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (mid, _) = approve(&st.db, &st.keys, staff.scope(), JoinRequestId(id)).await?;
    Ok(Redirect::to(&format!("/members/{mid}/card")).into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
struct RejectBody {
    /// Shown to the applicant on the status page.
    #[serde(default)]
    reason: String,
}

async fn reject_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<RejectBody>,
) -> AppResult<Response> {
    reject(&st.db, staff.scope(), JoinRequestId(id), &b.reason).await?;
    Ok(Redirect::to("/members/joins?done=rejected").into_response())
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
struct PageQuery {
    /// 1-based page of `PENDING_PER_PAGE` applications.
    page: i64,
}

/// Pending online applications in the caller's subtree (masked), a page at
/// a time; `X-Total-Count` says how many there are.
#[utoipa::path(get, path = "/api/v1/joins", tag = "members", params(PageQuery),
    responses((status = 200, body = [JoinRow])))]
async fn api_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let (rows, total) = list_pending(&st.db, staff.scope(), q.page).await?;
    Ok(([("x-total-count", total.to_string())], Json(rows)).into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
struct Approved {
    membership_id: i64,
    card_no: String,
}

/// Approves an application: enrols the applicant (入会 today) and issues a card.
#[utoipa::path(post, path = "/api/v1/joins/{id}/approve", tag = "members", params(("id" = i64, Path)),
    responses((status = 200, body = Approved), (status = 404), (status = 409)))]
async fn api_approve(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Approved>> {
    let (mid, card_no) = approve(&st.db, &st.keys, staff.scope(), JoinRequestId(id)).await?;
    Ok(Json(Approved {
        membership_id: mid.0,
        card_no,
    }))
}

/// Rejects an application with a reason the applicant sees.
#[utoipa::path(post, path = "/api/v1/joins/{id}/reject", tag = "members", params(("id" = i64, Path)),
    request_body = RejectBody, responses((status = 200), (status = 404), (status = 422)))]
async fn api_reject(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<RejectBody>,
) -> AppResult<Json<serde_json::Value>> {
    reject(&st.db, staff.scope(), JoinRequestId(id), &b.reason).await?;
    Ok(Json(serde_json::json!({"status": "rejected"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_contains_escapes_wildcards() {
        assert_eq!(like_contains("华秦"), "%华秦%");
        assert_eq!(like_contains("a%_b"), "%a\\%\\_b%");
    }

    #[test]
    fn ids_are_normalised_for_lookup() {
        assert_eq!(normalise_id(" 11010219840406970x "), "11010219840406970X");
        assert_eq!(normalise_id("e1234567"), "E1234567");
        assert_eq!(normalise_id(""), "");
    }
}
