//! Append-only audit log with a keyed hash chain. Each entry's hash is an
//! HMAC-SHA256 (key derived from the master key, `Keys::audit_mac`) of its
//! content and the previous entry's hash, so someone who can write to the
//! database but has no master key cannot rewrite entries and recompute the
//! chain. The single `audit_head` row holds the latest (seq, hash) and the
//! chain's format, so deleting the newest entries is detected too.
//! Appends happen inside the caller's transaction, so a write and its audit
//! entry commit or roll back together.
//!
//! `platform::open` installs the key for the process ([`install_key`]); the
//! head names it by a key id, so a database opened with another master key
//! is refused at start instead of failing later. Databases whose chain
//! is still plain SHA-256 (before platform migration 7) are verified and
//! re-keyed in one transaction by [`upgrade_chain`] on open.

use std::{
    collections::HashMap,
    path::Path,
    sync::{OnceLock, RwLock},
};

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use sqlx::{AnyConnection, Row};

use crate::{
    crypto::{sha256_hex, Keys},
    db::Db,
    error::{AppError, AppResult},
    ids::OrgId,
    scope::{Actor, Scope},
    time,
};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `audit_head.format` of a keyed chain.
pub const FORMAT_HMAC: &str = "hmac-sha256";
/// `audit_head.format` of a chain made before migration 7: plain SHA-256.
pub const FORMAT_LEGACY: &str = "sha256";

/// How entry hashes are computed.
#[derive(Clone)]
pub(crate) enum Chain {
    /// Plain SHA-256: only for verifying a chain before it is re-keyed.
    Legacy,
    Keyed(Hmac<Sha256>),
}

impl Chain {
    fn digest(&self, canonical: &str) -> String {
        match self {
            Chain::Legacy => sha256_hex(canonical.as_bytes()),
            Chain::Keyed(mac) => {
                let mut m = mac.clone();
                m.update(canonical.as_bytes());
                hex::encode(m.finalize().into_bytes())
            }
        }
    }
}

/// The audit keys this process was opened with, by key id. A process
/// usually holds one; tests and tools may open databases under different
/// master keys side by side, each chain naming its key in `audit_head.key_id`.
static KEYS: OnceLock<RwLock<HashMap<String, Hmac<Sha256>>>> = OnceLock::new();

fn keys() -> &'static RwLock<HashMap<String, Hmac<Sha256>>> {
    KEYS.get_or_init(Default::default)
}

/// Installs the audit key of `keys` for this process and returns its id: a
/// MAC of a fixed text (it reveals nothing of the key), stored in the
/// chain's head so appends and verification find the key, and a database
/// opened with the wrong master key is recognised.
pub fn install_key(keys_: &Keys) -> String {
    let mac = keys_.audit_mac();
    let id = Chain::Keyed(mac.clone()).digest("gonghui audit key id")[..16].to_string();
    keys()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id.clone())
        .or_insert(mac);
    id
}

fn keyed(key_id: &str) -> AppResult<Chain> {
    keys()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key_id)
        .map(|m| Chain::Keyed(m.clone()))
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "the audit key {key_id} is not installed (platform::open installs it)"
            ))
        })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn entry_hash(
    chain: &Chain,
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
    chain.digest(&canonical.to_string())
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

/// Moves the chain head on by one and returns (seq, prev hash, format, key
/// id): taking the head row's write lock first serialises appenders.
pub const ADVANCE_HEAD_SQL: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash, format, key_id";
/// Inserts a [`Sealed`] entry; its values in field order.
pub const INSERT_ENTRY_SQL: &str = "INSERT INTO audit_log (seq, at, actor_id, actor, action, object_type, object_id, org_id, detail, ip, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
/// Records the new entry's hash as the head's.
pub const SET_HEAD_SQL: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";

/// The head the next entry chains onto, as [`ADVANCE_HEAD_SQL`] returns it,
/// without moving it. For a writer that holds the database's write lock
/// across several entries (`benefits::counter`): it reads the head once,
/// chains each entry in memory ([`Head::following`]) and stores the last
/// with [`STORE_HEAD_SQL`] before it commits. Without RETURNING, SQLite
/// needs no temporary table for it.
pub const NEXT_HEAD_SQL: &str =
    "SELECT seq + 1 AS seq, hash, format, key_id FROM audit_head WHERE id = 1";
/// Records the last entry's seq and hash as the head's.
pub const STORE_HEAD_SQL: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

/// The head an entry chains onto: its seq, and the previous entry's hash.
#[derive(Clone, Debug)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    pub format: String,
    pub key_id: String,
}

impl Head {
    /// The head of the entry after `e` (which was sealed on this head).
    pub fn following(&self, e: &Sealed) -> Head {
        Head {
            seq: e.seq + 1,
            hash: e.hash.clone(),
            format: self.format.clone(),
            key_id: self.key_id.clone(),
        }
    }
}

/// An entry chained onto a head, ready to insert with [`INSERT_ENTRY_SQL`].
/// [`append`] writes it through sqlx; a writer on its own SQLite connection
/// (`benefits::counter`) runs the same three statements itself.
pub struct Sealed {
    pub seq: i64,
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub org_id: Option<i64>,
    pub detail: String,
    pub ip: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Chains `ev` onto `head` with the installed key.
pub fn seal(head: Head, actor: &Actor, ev: Event<'_>) -> AppResult<Sealed> {
    if head.format != FORMAT_HMAC {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the audit chain is in format {}: it is re-keyed when the platform opens",
            head.format
        )));
    }
    let chain = keyed(&head.key_id)?;
    let at = time::now_rfc3339();
    let detail = ev.detail.to_string();
    let actor_id = actor.user_id.map(|u| u.0);
    let org_id = ev.org_id.map(|o| o.0);
    let hash = entry_hash(
        &chain,
        &head.hash,
        head.seq,
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
    Ok(Sealed {
        seq: head.seq,
        at,
        actor_id,
        actor: actor.name.clone(),
        action: ev.action.to_string(),
        object_type: ev.object_type.to_string(),
        object_id: ev.object_id,
        org_id,
        detail,
        ip: actor.ip.clone(),
        prev_hash: head.hash,
        hash,
    })
}

/// Appends within `conn`'s transaction.
pub async fn append(conn: &mut AnyConnection, actor: &Actor, ev: Event<'_>) -> AppResult<()> {
    let row = sqlx::query(ADVANCE_HEAD_SQL).fetch_one(&mut *conn).await?;
    let head = Head {
        seq: row.try_get("seq")?,
        hash: row.try_get("hash")?,
        format: row.try_get("format")?,
        key_id: row.try_get("key_id")?,
    };
    let e = seal(head, actor, ev)?;
    sqlx::query(INSERT_ENTRY_SQL)
        .bind(e.seq)
        .bind(&e.at)
        .bind(e.actor_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_id)
        .bind(e.org_id)
        .bind(&e.detail)
        .bind(&e.ip)
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut *conn)
        .await?;
    sqlx::query(SET_HEAD_SQL)
        .bind(&e.hash)
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

/// Walks the whole chain in pages, recomputing every hash with the audit
/// key (or plain SHA-256 for a chain not yet re-keyed).
pub async fn verify(db: &Db) -> AppResult<VerifyReport> {
    let mut conn = db.pool().acquire().await?;
    let (format, key_id): (String, String) =
        sqlx::query_as("SELECT format, key_id FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let chain = if format == FORMAT_HMAC {
        keyed(&key_id)?
    } else {
        Chain::Legacy
    };
    verify_on(&mut conn, &chain).await
}

pub(crate) async fn verify_on(conn: &mut AnyConnection, chain: &Chain) -> AppResult<VerifyReport> {
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
        .fetch_all(&mut *conn)
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
            let computed = row_hash(chain, r, &stored_prev)?;
            if computed != stored {
                problems.push(VerifyProblem::Edited { id, seq });
            }
            prev_hash = stored;
            prev_seq = seq;
            checked += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
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

/// The hash of a stored entry (a row of `audit_log` with every column),
/// chained to `prev`.
pub(crate) fn row_hash(chain: &Chain, r: &sqlx::any::AnyRow, prev: &str) -> AppResult<String> {
    let seq: i64 = r.try_get("seq")?;
    let actor: String = r.try_get("actor")?;
    let action: String = r.try_get("action")?;
    let ot: String = r.try_get("object_type")?;
    let oid: String = r.try_get("object_id")?;
    let detail: String = r.try_get("detail")?;
    let ip: String = r.try_get("ip")?;
    let at: String = r.try_get("at")?;
    Ok(entry_hash(
        chain,
        prev,
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
    ))
}

/// Rewrites every entry from `from_seq` on with `chain`, linking each to the
/// one before, and points the head at the last; in `conn`'s transaction.
/// Returns how many entries were rewritten.
pub(crate) async fn rechain(
    conn: &mut AnyConnection,
    chain: &Chain,
    from_seq: i64,
) -> AppResult<i64> {
    let mut prev_hash: String = if from_seq <= 1 {
        GENESIS.to_string()
    } else {
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(from_seq - 1)
            .fetch_one(&mut *conn)
            .await?
    };
    let mut last_seq = from_seq - 1;
    let mut n = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT id, seq, at, actor_id, actor, action, object_type, object_id, org_id, detail, ip, prev_hash, hash \
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000",
        )
        .bind(last_seq)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let hash = row_hash(chain, r, &prev_hash)?;
            sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3")
                .bind(&prev_hash)
                .bind(&hash)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            prev_hash = hash;
            last_seq = r.try_get("seq")?;
            n += 1;
        }
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut *conn)
        .await?;
    Ok(n)
}

/// The file in the data directory that says this installation's audit
/// chain has been keyed: a chain found in the old format afterwards was
/// turned back by someone with database access (to launder rewritten
/// entries through the re-key), and the start is refused.
pub const KEYED_MARKER: &str = "audit.keyed";

/// Installs the audit key and, if the chain is still plain SHA-256 (a
/// database from before platform migration 7), verifies it and re-keys
/// every entry with the HMAC, in one transaction that holds the head row.
/// A broken old chain is refused: re-keying it would launder the tampering.
/// With `marker` (the [`KEYED_MARKER`] file in the data directory), an old
/// format chain where the marker says the chain was already keyed is
/// refused too, and the marker is written once the chain is keyed.
pub async fn upgrade_chain(db: &Db, keys: &Keys, marker: Option<&Path>) -> anyhow::Result<()> {
    let key_id = install_key(keys);
    if let Some(m) = marker.filter(|m| m.exists()) {
        let (format,): (String,) = sqlx::query_as("SELECT format FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await?;
        anyhow::ensure!(
            format == FORMAT_HMAC,
            "审计链已被改回未签名的旧格式(数据库可能被篡改),程序拒绝启动;如确实恢复了升级前的备份,请删除 {file} 后重试 / \
             the audit chain was turned back to the old unkeyed format (the database may have been tampered with), \
             so Gonghui will not start; if you really restored a backup from before the upgrade, delete {file} and start again",
            file = m.display()
        );
    }
    let mut tx = db.begin_write().await?;
    // Ends the transaction explicitly either way: a dropped one is rolled
    // back only when its connection is next used, holding the head row's
    // lock until then.
    match upgrade_in(&mut tx, &key_id).await {
        Ok(()) => tx.commit().await?,
        Err(e) => {
            tx.tx.rollback().await?;
            return Err(e);
        }
    }
    if let Some(m) = marker.filter(|m| !m.exists()) {
        if let Err(e) = std::fs::write(m, format!("{key_id}\n")) {
            tracing::warn!(error = %e, file = %m.display(), "could not write the audit marker");
        }
    }
    Ok(())
}

async fn upgrade_in(tx: &mut crate::db::WriteTx, key_id: &str) -> anyhow::Result<()> {
    // Locks the head row on both backends: no append can interleave.
    let (format, stored_key): (String, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING format, key_id")
            .fetch_one(&mut *tx.tx)
            .await?;
    if format == FORMAT_HMAC {
        anyhow::ensure!(
            stored_key == key_id,
            "审计链由另一个主密钥签名:请确认 master.key / GONGHUI_MASTER_KEY 与此数据库配套 / \
             the audit chain was keyed with another master key: check that master.key or \
             GONGHUI_MASTER_KEY belongs to this database (key id {stored_key}, this key {key_id})"
        );
        return Ok(());
    }
    anyhow::ensure!(
        format == FORMAT_LEGACY,
        "审计链格式 {format} 未知,请使用更新版本的程序 / unknown audit chain format {format}: this database was made by a newer Gonghui"
    );
    let report = verify_on(tx, &Chain::Legacy).await?;
    if !report.problems.is_empty() {
        let list: Vec<String> = report
            .problems
            .iter()
            .take(10)
            .map(|p| p.to_string())
            .collect();
        anyhow::bail!(
            "审计链已损坏,无法升级为密钥签名格式,程序拒绝启动;请从备份恢复或联系管理员 / \
             the audit chain is already broken, so it cannot be re-keyed and Gonghui will not start; \
             restore a backup or ask your administrator ({} problem(s)): {}",
            report.problems.len(),
            list.join("; ")
        );
    }
    let n = rechain(tx, &keyed(key_id)?, 1).await?;
    sqlx::query("UPDATE audit_head SET format = $1, key_id = $2 WHERE id = 1")
        .bind(FORMAT_HMAC)
        .bind(key_id)
        .execute(&mut *tx.tx)
        .await?;
    tracing::info!(entries = n, "audit chain re-keyed with HMAC-SHA256");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{module::Registry, testing};

    async fn env_with_entries(n: i64) -> testing::TestEnv {
        let env = testing::env(Arc::new(Registry::new(vec![]))).await.unwrap();
        for i in 0..n {
            let ev = Event::new("test.entry", "thing", i)
                .detail(serde_json::json!({"n": i, "名": "张三"}));
            record(&env.state.db, &Actor::system("tester"), ev)
                .await
                .unwrap();
        }
        env
    }

    async fn format(db: &Db) -> String {
        sqlx::query_scalar("SELECT format FROM audit_head WHERE id = 1")
            .fetch_one(db.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn audit_a_rewritten_and_rechained_entry_is_detected_without_the_key() {
        let env = env_with_entries(6).await;
        let db = &env.state.db;
        assert_eq!(format(db).await, FORMAT_HMAC);
        let ok = verify(db).await.unwrap();
        assert_eq!((ok.checked, ok.problems.len()), (6, 0));

        // An attacker with database access edits entry 3 and recomputes the
        // chain from there on, as the plain SHA-256 scheme allowed.
        let id: i64 = sqlx::query_scalar("SELECT id FROM audit_log WHERE seq = 3")
            .fetch_one(db.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{\"n\":99}', actor = 'someone' WHERE seq = 3")
            .execute(db.pool())
            .await
            .unwrap();
        testing::rechain_unkeyed(db, 3, false).await.unwrap();
        // The links are consistent again: only the keyed hashes give it away.
        let bad = verify(db).await.unwrap();
        assert_eq!(
            bad.problems.first(),
            Some(&VerifyProblem::Edited { id, seq: 3 })
        );
        assert!(bad.problems.iter().all(|p| matches!(p,
            VerifyProblem::Edited { seq, .. } if *seq >= 3)));
        assert!(!bad.problems.iter().any(|p| matches!(
            p,
            VerifyProblem::BrokenLink { .. } | VerifyProblem::Missing { .. }
        )));
    }

    #[tokio::test]
    async fn audit_an_old_format_chain_is_verified_and_rekeyed_in_place() {
        let env = env_with_entries(7).await;
        let db = &env.state.db;
        testing::rechain_unkeyed(db, 1, true).await.unwrap();
        assert_eq!(format(db).await, FORMAT_LEGACY);
        let legacy = verify(db).await.unwrap();
        assert_eq!((legacy.checked, legacy.problems.len()), (7, 0));
        let old_hashes: Vec<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq")
            .fetch_all(db.pool())
            .await
            .unwrap();

        upgrade_chain(db, &env.state.keys, None).await.unwrap();
        assert_eq!(format(db).await, FORMAT_HMAC);
        let new_hashes: Vec<String> = sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert!(old_hashes.iter().zip(&new_hashes).all(|(a, b)| a != b));
        let ok = verify(db).await.unwrap();
        assert_eq!((ok.checked, ok.problems.len()), (7, 0));
        // Appends continue the keyed chain; a second open changes nothing.
        record(
            db,
            &Actor::system("tester"),
            Event::new("test.after", "thing", 1),
        )
        .await
        .unwrap();
        upgrade_chain(db, &env.state.keys, None).await.unwrap();
        let ok = verify(db).await.unwrap();
        assert_eq!((ok.checked, ok.problems.len()), (8, 0));
    }

    #[tokio::test]
    async fn audit_a_broken_old_chain_is_refused_not_rekeyed() {
        let env = env_with_entries(4).await;
        let db = &env.state.db;
        testing::rechain_unkeyed(db, 1, true).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
            .execute(db.pool())
            .await
            .unwrap();
        let hashes_before: Vec<String> =
            sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq")
                .fetch_all(db.pool())
                .await
                .unwrap();
        let err = upgrade_chain(db, &env.state.keys, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("审计链已损坏") && err.contains("already broken"),
            "{err}"
        );
        assert!(err.contains("seq=2"), "{err}");
        // Nothing was rewritten: the evidence stays as it was.
        assert_eq!(format(db).await, FORMAT_LEGACY);
        let hashes_after: Vec<String> =
            sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq")
                .fetch_all(db.pool())
                .await
                .unwrap();
        assert_eq!(hashes_before, hashes_after);
    }

    #[tokio::test]
    async fn audit_a_chain_keyed_with_another_master_key_is_refused() {
        let env = env_with_entries(2).await;
        let db = &env.state.db;
        let other = Keys::from_master(&[7u8; 32]);
        let err = upgrade_chain(db, &other, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("another master key") && err.contains("主密钥"),
            "{err}"
        );
        // The right key still opens it, and it verifies.
        upgrade_chain(db, &env.state.keys, None).await.unwrap();
        assert!(verify(db).await.unwrap().problems.is_empty());
    }

    #[tokio::test]
    async fn audit_a_keyed_chain_turned_back_to_the_old_format_is_refused() {
        let env = env_with_entries(3).await;
        let db = &env.state.db;
        let marker = env.data_dir().join(KEYED_MARKER);
        assert!(marker.exists(), "written when the platform opened");
        // Someone with database access rewrites an entry, recomputes the
        // whole chain with plain SHA-256 and marks it old, hoping the next
        // start re-keys it.
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
            .execute(db.pool())
            .await
            .unwrap();
        testing::rechain_unkeyed(db, 1, true).await.unwrap();
        let err = upgrade_chain(db, &env.state.keys, Some(&marker))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("turned back") && err.contains("旧格式"),
            "{err}"
        );
        assert_eq!(format(db).await, FORMAT_LEGACY, "nothing re-keyed");
    }
}
