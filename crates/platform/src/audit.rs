//! Append-only audit log with a hash chain. Each entry's hash covers its
//! content and the previous entry's hash; the single `audit_head` row holds
//! the latest (seq, hash), so deleting the newest entries is detected too.
//! Appends happen inside the caller's transaction, so a write and its audit
//! entry commit or roll back together.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::{
    crypto::sha256_hex,
    db::Db,
    error::AppResult,
    ids::OrgId,
    scope::{Actor, Scope},
    time,
};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[allow(clippy::too_many_arguments)]
fn entry_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    object_type: &str,
    object_id: &str,
    org_id: Option<i64>,
    detail: &str,
    ip: &str,
) -> String {
    let canonical = serde_json::json!([
        prev,
        seq,
        at,
        actor_id,
        actor,
        action,
        object_type,
        object_id,
        org_id,
        detail,
        ip
    ]);
    sha256_hex(canonical.to_string().as_bytes())
}

/// One audit record to append.
pub struct Event<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub org_id: Option<OrgId>,
    pub detail: Value,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str, object_type: &'a str, object_id: impl ToString) -> Self {
        Event {
            action,
            object_type,
            object_id: object_id.to_string(),
            org_id: None,
            detail: Value::Null,
        }
    }
    pub fn org(mut self, org: OrgId) -> Self {
        self.org_id = Some(org);
        self
    }
    pub fn detail(mut self, d: Value) -> Self {
        self.detail = d;
        self
    }
}

/// Appends within `conn`'s transaction.
pub async fn append(conn: &mut AnyConnection, actor: &Actor, ev: Event<'_>) -> AppResult<()> {
    // Taking the head row's write lock first serialises concurrent appenders.
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let at = time::now_rfc3339();
    let detail = ev.detail.to_string();
    let actor_id = actor.user_id.map(|u| u.0);
    let org_id = ev.org_id.map(|o| o.0);
    let hash = entry_hash(
        &prev,
        seq,
        &at,
        actor_id,
        &actor.name,
        ev.action,
        ev.object_type,
        &ev.object_id,
        org_id,
        &detail,
        &actor.ip,
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, org_id, detail, ip, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(seq)
    .bind(&at)
    .bind(actor_id)
    .bind(&actor.name)
    .bind(ev.action)
    .bind(ev.object_type)
    .bind(&ev.object_id)
    .bind(org_id)
    .bind(&detail)
    .bind(&actor.ip)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Appends in a transaction of its own (reads of personal data, refusals).
pub async fn record(db: &Db, actor: &Actor, ev: Event<'_>) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    append(&mut tx, actor, ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Records an attempt to reach an object outside the caller's scope.
pub async fn record_denied(db: &Db, scope: &Scope, object_type: &str, object_id: impl ToString) {
    let ev = Event::new("scope.denied", object_type, object_id.to_string())
        .org(scope.org_id)
        .detail(serde_json::json!({"scope_org": scope.org_id.0, "role": scope.role.as_str()}));
    if let Err(e) = record(db, &scope.actor, ev).await {
        tracing::error!(error = %e, "could not audit a scope denial");
    }
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: i64,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub org_id: Option<i64>,
    pub detail: String,
    pub ip: String,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub object: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Browses the log. Auditors and admins see entries about their subtree's
/// orgs and entries by accounts of their subtree; the city root sees all.
pub async fn list(
    db: &Db,
    scope: &Scope,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Entry>> {
    if !scope.can_read_audit() {
        return Err(crate::error::AppError::forbidden(
            "仅审计人员和管理员可查看审计日志",
            "Only auditors and administrators can read the audit log",
        ));
    }
    let rows = sqlx::query(
        "SELECT a.id, a.seq, a.at, a.actor, a.action, a.object_type, a.object_id, a.org_id, a.detail, a.ip \
         FROM audit_log a \
         LEFT JOIN orgs o ON o.id = a.org_id \
         LEFT JOIN users u ON u.id = a.actor_id \
         LEFT JOIN orgs uo ON uo.id = u.org_id \
         WHERE (o.path LIKE $1 OR uo.path LIKE $1 OR ($2 = 1 AND a.org_id IS NULL)) \
           AND ($3 = '' OR a.action LIKE $3 || '%') \
           AND ($4 = '' OR a.actor = $4) \
           AND ($5 = '' OR a.object_type || ':' || a.object_id LIKE '%' || $5 || '%') \
           AND ($6 = '' OR a.at >= $6) AND ($7 = '' OR a.at < $7) \
         ORDER BY a.seq DESC LIMIT $8 OFFSET $9",
    )
    .bind(scope.like())
    .bind(i64::from(scope.path().matches('/').count() == 2))
    .bind(f.action.clone().unwrap_or_default())
    .bind(f.actor.clone().unwrap_or_default())
    .bind(f.object.clone().unwrap_or_default())
    .bind(f.from.clone().unwrap_or_default())
    .bind(f.to.clone().unwrap_or_default())
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Entry {
                id: r.try_get("id")?,
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                object_type: r.try_get("object_type")?,
                object_id: r.try_get("object_id")?,
                org_id: r.try_get("org_id")?,
                detail: r.try_get("detail")?,
                ip: r.try_get("ip")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyProblem {
    /// The entry's content no longer matches its hash: it was edited.
    Edited { id: i64, seq: i64 },
    /// The entry's prev_hash does not match the entry before it.
    BrokenLink { id: i64, seq: i64 },
    /// Sequence numbers jump: entries were deleted.
    Missing { after_seq: i64, next_seq: i64 },
    /// The newest entries were removed (head says more exist).
    TailMissing { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for VerifyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyProblem::Edited { id, seq } => {
                write!(f, "审计记录被修改 / entry edited: id={id} seq={seq}")
            }
            VerifyProblem::BrokenLink { id, seq } => {
                write!(f, "审计链断裂 / chain broken at: id={id} seq={seq}")
            }
            VerifyProblem::Missing {
                after_seq,
                next_seq,
            } => write!(
                f,
                "审计记录被删除 / entries deleted: seq {}..={} missing",
                after_seq + 1,
                next_seq - 1
            ),
            VerifyProblem::TailMissing { last_seq, head_seq } => write!(
                f,
                "最新的审计记录被删除 / newest entries deleted: seq {}..={} missing",
                last_seq + 1,
                head_seq
            ),
        }
    }
}

pub struct VerifyReport {
    pub checked: i64,
    pub problems: Vec<VerifyProblem>,
}

/// Walks the whole chain in pages, recomputing every hash.
pub async fn verify(db: &Db) -> AppResult<VerifyReport> {
    let mut problems = Vec::new();
    let mut prev_hash = GENESIS.to_string();
    let mut prev_seq = 0i64;
    let mut checked = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, seq, at, actor_id, actor, action, object_type, object_id, org_id, detail, ip, prev_hash, hash \
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
        )
        .bind(prev_seq)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let seq: i64 = r.try_get("seq")?;
            let stored_prev: String = r.try_get("prev_hash")?;
            let stored: String = r.try_get("hash")?;
            if seq != prev_seq + 1 {
                problems.push(VerifyProblem::Missing {
                    after_seq: prev_seq,
                    next_seq: seq,
                });
            } else if stored_prev != prev_hash {
                problems.push(VerifyProblem::BrokenLink { id, seq });
            }
            let actor: String = r.try_get("actor")?;
            let action: String = r.try_get("action")?;
            let ot: String = r.try_get("object_type")?;
            let oid: String = r.try_get("object_id")?;
            let detail: String = r.try_get("detail")?;
            let ip: String = r.try_get("ip")?;
            let at: String = r.try_get("at")?;
            let computed = entry_hash(
                &stored_prev,
                seq,
                &at,
                r.try_get("actor_id")?,
                &actor,
                &action,
                &ot,
                &oid,
                r.try_get("org_id")?,
                &detail,
                &ip,
            );
            if computed != stored {
                problems.push(VerifyProblem::Edited { id, seq });
            }
            prev_hash = stored;
            prev_seq = seq;
            checked += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    if head_seq > prev_seq {
        problems.push(VerifyProblem::TailMissing {
            last_seq: prev_seq,
            head_seq,
        });
    } else if head_seq == prev_seq && head_hash != prev_hash {
        problems.push(VerifyProblem::Edited {
            id: -1,
            seq: head_seq,
        });
    }
    Ok(VerifyReport { checked, problems })
}
