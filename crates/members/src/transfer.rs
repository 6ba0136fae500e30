//! 转会: moving an active member from one union to another. The receiving
//! union starts it (it cannot see the sending union unless that is in its
//! own scope), the receiving side approves, and the sending side is
//! notified: the old membership ends with a 转出 event and a new one starts
//! with a 转入 event, in one transaction.

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
    pub name: String,
    pub id_masked: String,
    /// The sending union's name, or a placeholder when outside the caller's scope.
    pub from_org: String,
    pub to_org: String,
    pub status: String,
    pub reason: String,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub decision_note: String,
    /// True when the caller's scope holds the receiving union (may decide).
    pub incoming: bool,
}

/// Starts a transfer of the person with `id_number` into `to_code`.
pub async fn start(
    db: &Db,
    keys: &Keys,
    scope: &Scope,
    kind: &str,
    id_number: &str,
    to_code: &str,
    reason: &str,
) -> AppResult<TransferId> {
    scope.require_write()?;
    let unions = Unions::load(db, scope).await?;
    let to = unions
        .resolve(to_code, None)
        .map_err(AppError::Invalid)?
        .clone();
    let kind = IdKind::from_label(kind).unwrap_or(IdKind::ResidentId);
    let parsed = IdNumber::parse(kind, id_number).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })?;
    let hash = model::id_lookup_hash(keys, parsed.as_str());
    let row = sqlx::query(
        "SELECT p.id AS pid, m.id AS mid, m.org_id FROM persons p JOIN memberships m ON m.person_id = p.id \
         WHERE p.id_hash = $1 AND m.status <> 'ended'",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| {
        AppError::invalid(
            "此人目前没有在籍会籍,无需转会,请直接登记入会",
            "This person has no active membership; enrol them directly instead of a transfer",
        )
    })?;
    let pid: i64 = row.try_get("pid")?;
    let mid: i64 = row.try_get("mid")?;
    let from: i64 = row.try_get("org_id")?;
    if from == to.id.0 {
        return Err(AppError::invalid(
            "此人已是本工会会员",
            "This person is already a member of this union",
        ));
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM transfers WHERE person_id = $1 AND status = 'pending'",
    )
    .bind(pid)
    .fetch_one(db.pool())
    .await?;
    if pending > 0 {
        return Err(AppError::conflict(
            "此人已有待审批的转会申请,请等待审批结果",
            "A transfer for this person is already waiting for approval",
        ));
    }
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO transfers (person_id, from_membership_id, from_org_id, to_org_id, status, reason, requested_by, requested_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7) RETURNING id",
    )
    .bind(pid)
    .bind(mid)
    .bind(from)
    .bind(to.id.0)
    .bind(reason.trim())
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("member.transfer_start", "transfer", id)
            .org(to.id)
            .detail(serde_json::json!({"to": to.code, "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(TransferId(id))
}

/// Transfers touching the caller's subtree: incoming (to decide) and
/// outgoing (notifications to the sending side).
pub async fn list(db: &Db, scope: &Scope) -> AppResult<Vec<TransferRow>> {
    let rows = sqlx::query(
        "SELECT t.id, p.name, p.id_masked, fo.name AS from_name, fo.path AS from_path, tr.name AS to_name, tr.path AS to_path, \
                t.status, t.reason, t.requested_at, t.decided_at, t.decision_note \
         FROM transfers t JOIN persons p ON p.id = t.person_id JOIN orgs fo ON fo.id = t.from_org_id JOIN orgs tr ON tr.id = t.to_org_id \
         WHERE tr.path LIKE $1 OR fo.path LIKE $1 ORDER BY t.id DESC LIMIT 200",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let fp: String = r.try_get("from_path")?;
            let tp: String = r.try_get("to_path")?;
            Ok(TransferRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                id_masked: r.try_get("id_masked")?,
                from_org: if scope.contains_path(&fp) {
                    r.try_get("from_name")?
                } else {
                    "其他工会 / another union".into()
                },
                to_org: if scope.contains_path(&tp) {
                    r.try_get("to_name")?
                } else {
                    "其他工会 / another union".into()
                },
                status: r.try_get("status")?,
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

async fn pending_in_scope(db: &Db, scope: &Scope, id: TransferId) -> AppResult<Pending> {
    scope.require_write()?;
    let r = sqlx::query(
        "SELECT t.person_id, t.from_membership_id, t.from_org_id, t.to_org_id, t.status, o.path \
         FROM transfers t JOIN orgs o ON o.id = t.to_org_id WHERE t.id = $1",
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

/// Approves: ends the old membership (转出) and opens the new one (转入).
pub async fn approve(db: &Db, scope: &Scope, id: TransferId, note: &str) -> AppResult<()> {
    let p = pending_in_scope(db, scope, id).await?;
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

pub async fn reject(db: &Db, scope: &Scope, id: TransferId, note: &str) -> AppResult<()> {
    if note.trim().is_empty() {
        return Err(AppError::invalid(
            "请填写不同意的理由",
            "Give a reason for the rejection",
        ));
    }
    let p = pending_in_scope(db, scope, id).await?;
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
