//! 转会: moving an active member from one union to another, with the
//! sending union's consent. The receiving union asks with what it knows —
//! the person's name and ID number — and learns nothing more until the
//! release: the answer is the same whether the ID belongs to an active
//! member of another union, to nobody, or to someone of another name. The
//! sending union (or an account whose subtree holds both unions) sees the
//! request among its members' and releases or refuses it; the release ends
//! the old membership with a 转出 event and opens the new one with a 转入
//! event, in one transaction.
//!
//! Why not the platform's review chain: its steps are decided by the
//! applicant's own ancestors, while a transfer needs the consent of another
//! subtree — the one the member leaves.

use crate::ids::{OrgId, TransferId};
use serde::Serialize;
use sqlx::Row;

use super::{
    model,
    store::{member_no, reserve, Unions},
};
use ident::{IdKind, IdNumber};
use platform::{
    audit::{self, Event},
    crypto::Keys,
    dataver,
    db::Db,
    error::{AppError, AppResult},
    scope::Scope,
    time,
};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TransferRow {
    pub id: i64,
    /// The roster's name once the caller may see the person (the sending
    /// side, or after the release); before that what the receiving side typed.
    pub name: String,
    pub id_masked: String,
    /// The sending union's name, or a placeholder when outside the caller's
    /// scope or not yet known to the receiving side.
    pub from_org: String,
    pub to_org: String,
    pub status: String,
    pub reason: String,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub decision_note: String,
    /// True when the caller's scope holds the receiving union.
    pub incoming: bool,
    /// True when the caller may release or refuse it: its scope holds the
    /// sending union, and it is still pending.
    pub can_release: bool,
}

/// What the receiving side asks with.
pub struct Request<'a> {
    pub id_kind: &'a str,
    pub id_number: &'a str,
    pub name: &'a str,
    pub to_code: &'a str,
    pub reason: &'a str,
}

/// Asks for the person with `id_number` to move into `to_code`. The answer
/// is the same for an active member elsewhere, for nobody and for a name
/// that does not match: a pending request. Only the person's own union sees
/// it, and only a request that matches a member.
pub async fn start(db: &Db, keys: &Keys, scope: &Scope, req: Request<'_>) -> AppResult<TransferId> {
    scope.require_write()?;
    let unions = Unions::load(db, scope).await?;
    let to = unions
        .resolve(req.to_code, None)
        .map_err(AppError::Invalid)?
        .clone();
    let name = req.name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(
            "请填写转入人员的姓名",
            "Enter the name of the person to transfer",
        ));
    }
    let kind = IdKind::from_label(req.id_kind).unwrap_or(IdKind::ResidentId);
    let parsed = IdNumber::parse(kind, req.id_number).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })?;
    let hash = model::id_lookup_hash(keys, parsed.as_str());
    let found = sqlx::query(
        "SELECT p.id AS pid, p.name, m.id AS mid, m.org_id, o.path FROM persons p \
         JOIN memberships m ON m.person_id = p.id JOIN orgs o ON o.id = m.org_id \
         WHERE p.id_hash = $1 AND m.status <> 'ended'",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    // A member only when the name matches too: the ID alone must not pull
    // someone else's membership.
    let member = match &found {
        Some(r) if r.try_get::<String, _>("name")? == name => Some((
            r.try_get::<i64, _>("pid")?,
            r.try_get::<i64, _>("mid")?,
            r.try_get::<i64, _>("org_id")?,
            r.try_get::<String, _>("path")?,
        )),
        _ => None,
    };
    if let Some((_, _, from, path)) = &member {
        // Inside the caller's own subtree it already sees the person.
        if scope.contains_path(path) && *from == to.id.0 {
            return Err(AppError::invalid(
                "此人已是本工会会员",
                "This person is already a member of this union",
            ));
        }
    }
    // One pending request per person and receiving union; the asking side
    // typed the ID itself, so saying so reveals nothing.
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM transfers WHERE id_hash = $1 AND to_org_id = $2 AND status = 'pending'",
    )
    .bind(&hash)
    .bind(to.id.0)
    .fetch_one(db.pool())
    .await?;
    if pending > 0 {
        return Err(AppError::conflict(
            "已有待处理的转入申请,请等待转出单位确认",
            "A transfer request for this person into this union is already waiting for the sending union",
        ));
    }
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO transfers (person_id, from_membership_id, from_org_id, to_org_id, id_hash, typed_name, typed_id_masked, \
         status, reason, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10) RETURNING id",
    )
    .bind(member.as_ref().map(|m| m.0))
    .bind(member.as_ref().map(|m| m.1))
    .bind(member.as_ref().map(|m| m.2))
    .bind(to.id.0)
    .bind(&hash)
    .bind(name)
    .bind(parsed.masked())
    .bind(req.reason.trim())
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("member.transfer_start", "transfer", id)
            .org(to.id)
            .detail(serde_json::json!({"to": to.code, "reason": req.reason, "matched": member.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok(TransferId(id))
}

/// Transfers touching the caller's subtree: requests into its unions (what
/// it typed, until released) and requests for its members (to release).
pub async fn list(db: &Db, scope: &Scope) -> AppResult<Vec<TransferRow>> {
    let rows = sqlx::query(
        "SELECT t.id, t.typed_name, t.typed_id_masked, p.name, p.id_masked, fo.name AS from_name, fo.path AS from_path, \
                tr.name AS to_name, tr.path AS to_path, t.status, t.reason, t.requested_at, t.decided_at, t.decision_note \
         FROM transfers t LEFT JOIN persons p ON p.id = t.person_id LEFT JOIN orgs fo ON fo.id = t.from_org_id \
         JOIN orgs tr ON tr.id = t.to_org_id \
         WHERE tr.path LIKE $1 OR fo.path LIKE $1 ORDER BY t.id DESC LIMIT 200",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let fp: Option<String> = r.try_get("from_path")?;
            let tp: String = r.try_get("to_path")?;
            let status: String = r.try_get("status")?;
            let sender = fp.as_deref().is_some_and(|p| scope.contains_path(p));
            // The person is the caller's to see when it is their member, or
            // once the release made them a member of the receiving union.
            let sees_person = sender || status == "approved";
            let (name, id_masked) = if sees_person {
                (
                    r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                    r.try_get::<Option<String>, _>("id_masked")?
                        .unwrap_or_default(),
                )
            } else {
                (r.try_get("typed_name")?, r.try_get("typed_id_masked")?)
            };
            Ok(TransferRow {
                id: r.try_get("id")?,
                name,
                id_masked,
                from_org: if sender {
                    r.try_get::<Option<String>, _>("from_name")?
                        .unwrap_or_default()
                } else if status == "pending" {
                    "待转出单位确认 / awaiting the sending union".into()
                } else {
                    "其他工会 / another union".into()
                },
                to_org: if scope.contains_path(&tp) {
                    r.try_get("to_name")?
                } else {
                    "其他工会 / another union".into()
                },
                can_release: sender && status == "pending",
                status,
                reason: r.try_get("reason")?,
                requested_at: r.try_get("requested_at")?,
                decided_at: r.try_get("decided_at")?,
                decision_note: r.try_get("decision_note")?,
                incoming: scope.contains_path(&tp),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

struct Pending {
    person_id: i64,
    from_membership: i64,
    from_org: i64,
    to_org: i64,
}

/// A pending request the caller may decide: its scope holds the sending
/// union. Anything else — a request for nobody, one of another subtree, the
/// receiving side's own — is "not found" (and audited), like an absent one.
async fn pending_for_sender(db: &Db, scope: &Scope, id: TransferId) -> AppResult<Pending> {
    scope.require_write()?;
    let r = sqlx::query(
        "SELECT t.person_id, t.from_membership_id, t.from_org_id, t.to_org_id, t.status, o.path \
         FROM transfers t JOIN orgs o ON o.id = t.from_org_id WHERE t.id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let path: String = r.try_get("path")?;
    scope.admit(db, &path, "transfer", id).await?;
    if r.try_get::<String, _>("status")? != "pending" {
        return Err(AppError::invalid(
            "该转会申请已处理",
            "This transfer has already been decided",
        ));
    }
    Ok(Pending {
        person_id: r.try_get("person_id")?,
        from_membership: r.try_get("from_membership_id")?,
        from_org: r.try_get("from_org_id")?,
        to_org: r.try_get("to_org_id")?,
    })
}

/// The sending union releases: ends the old membership (转出) and opens the new one (转入).
pub async fn approve(db: &Db, scope: &Scope, id: TransferId, note: &str) -> AppResult<()> {
    let p = pending_for_sender(db, scope, id).await?;
    let today = time::today().to_string();
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    let ended = sqlx::query(
        "UPDATE memberships SET status = 'ended', ended_on = $1, updated_at = $2 WHERE id = $3 AND status <> 'ended'",
    )
    .bind(&today)
    .bind(&now)
    .bind(p.from_membership)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if ended == 0 {
        return Err(AppError::conflict(
            "原会籍已结束,转会申请失效,请直接登记入会",
            "The old membership has ended meanwhile; enrol the person directly",
        ));
    }
    let n = reserve(&mut tx, "seq.member_no", 1).await?;
    let new_id: i64 = sqlx::query_scalar(
        "INSERT INTO memberships (person_id, org_id, member_no, status, joined_on, created_at, updated_at) \
         VALUES ($1, $2, $3, 'active', $4, $5, $5) RETURNING id",
    )
    .bind(p.person_id)
    .bind(p.to_org)
    .bind(member_no(n))
    .bind(&today)
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await?;
    for (mid, org, kind) in [
        (p.from_membership, p.from_org, "transfer_out"),
        (new_id, p.to_org, "transfer_in"),
    ] {
        sqlx::query(
            "INSERT INTO membership_events (membership_id, person_id, org_id, kind, on_date, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(mid)
        .bind(p.person_id)
        .bind(org)
        .bind(kind)
        .bind(&today)
        .bind(format!("转会 #{id}"))
        .bind(&now)
        .execute(&mut *tx.tx)
        .await?;
    }
    dataver::touch(&mut tx, [p.from_org, p.to_org]).await?;
    sqlx::query("UPDATE transfers SET status = 'approved', decided_by = $1, decided_at = $2, decision_note = $3 WHERE id = $4")
        .bind(scope.actor.user_id.map(|u| u.0))
        .bind(&now)
        .bind(note.trim())
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("member.transfer_approve", "transfer", id)
            .org(OrgId(p.to_org))
            .detail(serde_json::json!({"from_org": p.from_org, "to_org": p.to_org, "new_membership": new_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The sending union refuses the release, with a reason.
pub async fn reject(db: &Db, scope: &Scope, id: TransferId, note: &str) -> AppResult<()> {
    if note.trim().is_empty() {
        return Err(AppError::invalid(
            "请填写不同意的理由",
            "Give a reason for the rejection",
        ));
    }
    let p = pending_for_sender(db, scope, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE transfers SET status = 'rejected', decided_by = $1, decided_at = $2, decision_note = $3 WHERE id = $4")
        .bind(scope.actor.user_id.map(|u| u.0))
        .bind(time::now_rfc3339())
        .bind(note.trim())
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("member.transfer_reject", "transfer", id)
            .org(OrgId(p.to_org))
            .detail(serde_json::json!({"note": note})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
