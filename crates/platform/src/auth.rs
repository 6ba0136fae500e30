//! Accounts, passwords (argon2id), sessions and login throttling.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use std::sync::{Arc, OnceLock};

use chrono::Duration;
use serde::Serialize;
use sqlx::Row;
use tokio::sync::Semaphore;

use crate::{
    audit::{self, Event},
    crypto::{random_token, sha256_hex},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    i18n::Msg,
    ids::{OrgId, UserId},
    scope::{Actor, Role, Scope},
    time,
};

/// Failed attempts allowed before the account is locked for a while.
pub const MAX_FAILURES: i64 = 5;

/// The one answer to every refused sign-in — wrong password, unknown user,
/// locked or disabled account — so the answer does not tell which; the
/// audit log records which it was.
pub fn refused() -> AppError {
    AppError::Invalid(Msg::new(
        "用户名或密码错误,或账号已被锁定、停用。多次失败后账号将被临时锁定,请稍后再试或联系管理员",
        "Wrong username or password, or the account is locked or disabled. Repeated failures lock the account for a while: try later or ask an administrator",
    ))
}

/// A password that meets the policy (parse, don't validate): 8–128
/// characters with at least three of lowercase letters, uppercase letters,
/// digits and symbols. That it does not contain the username is checked
/// where the account is known ([`Password::check_for`]).
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    pub fn parse(raw: &str) -> AppResult<Password> {
        let n = raw.chars().count();
        let lower = raw.chars().any(|c| c.is_lowercase());
        let upper = raw.chars().any(|c| c.is_uppercase());
        let digit = raw.chars().any(|c| c.is_ascii_digit());
        let symbol = raw
            .chars()
            .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit());
        let classes = [lower, upper, digit, symbol].iter().filter(|b| **b).count();
        if !(8..=128).contains(&n) || classes < 3 {
            return Err(AppError::invalid(
                "密码至少8位,且须包含小写字母、大写字母、数字、符号中的至少三类",
                "The password needs at least 8 characters and at least three of: lowercase letters, uppercase letters, digits, symbols",
            ));
        }
        Ok(Password(raw.to_string()))
    }

    /// Refuses a password that contains the account's username.
    pub fn check_for(&self, username: &Username) -> AppResult<()> {
        if self.0.to_lowercase().contains(username.as_str()) {
            return Err(AppError::invalid(
                "密码不能包含用户名",
                "The password must not contain the username",
            ));
        }
        Ok(())
    }
}

/// A login name: 3–32 of a–z, 0–9, '_', '-', '.'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> AppResult<Username> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err(AppError::invalid(
                "用户名须为3至32位小写字母、数字、下划线、点或连字符",
                "A username is 3–32 lowercase letters, digits, '_', '.' or '-'",
            ));
        }
        Ok(Username(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Argon2 runs on tokio's blocking pool, at most this many at once (the
/// cores, at least 1, at most 8): a burst of sign-ins queues here instead
/// of occupying the async workers that answer every other request.
fn argon_permits() -> &'static Arc<Semaphore> {
    static S: OnceLock<Arc<Semaphore>> = OnceLock::new();
    S.get_or_init(|| Arc::new(Semaphore::new(argon_concurrency())))
}

/// How many Argon2 computations may run at once.
pub fn argon_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8)
}

async fn on_argon_pool<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let permit = argon_permits()
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 semaphore closed: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let out = f();
        drop(permit);
        out
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("argon2 task failed: {e}")))
}

fn hash_blocking(pw: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .expect("argon2 hashing of a bounded password cannot fail")
        .to_string()
}

fn verify_blocking(raw: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(raw.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashes on the blocking pool behind the Argon2 limit.
pub async fn hash_password(pw: &Password) -> AppResult<String> {
    let raw = pw.0.clone();
    on_argon_pool(move || hash_blocking(&raw)).await
}

/// Verifies on the blocking pool behind the Argon2 limit; `None` verifies
/// against a hash nobody's password matches, so an unknown user costs the
/// same time as a known one.
pub async fn verify_password(raw: &str, stored: Option<&str>) -> AppResult<bool> {
    #[cfg(test)]
    let _ = VERIFICATIONS.try_with(|n| n.set(n.get() + 1));
    let raw = raw.to_string();
    let stored = stored.map(str::to_string);
    on_argon_pool(move || match stored {
        Some(h) => verify_blocking(&raw, &h),
        None => {
            let _ = verify_blocking(&raw, dummy_hash());
            false
        }
    })
    .await
}

#[cfg(test)]
tokio::task_local! {
    /// Argon2 verifications made by the task (tests count them per sign-in).
    static VERIFICATIONS: std::cell::Cell<u32>;
}

/// Computes the dummy hash ahead of the first sign-in of an unknown user
/// (the server calls this at start), so that first refusal costs no more
/// than the others.
pub async fn warm_up() {
    let _ = on_argon_pool(|| dummy_hash().len()).await;
}

/// A hash nobody's password matches (computed once, on the blocking pool).
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_blocking("dummy-Password-1"))
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub org_id: OrgId,
    pub perms: String,
    pub password: Password,
}

/// Creates a staff account in an org of the caller's subtree.
pub async fn create_user(db: &Db, scope: &Scope, u: NewUser) -> AppResult<UserId> {
    let ready = prepare_user(db, scope, u).await?;
    let mut tx = db.begin_write().await?;
    let id = insert_user(&mut tx, scope, &ready).await?;
    tx.commit().await?;
    Ok(id)
}

/// An account checked against the caller's rights, its org resolved in
/// scope and its password hashed: ready for [`insert_user`].
pub struct ReadyUser {
    user: NewUser,
    org: crate::tree::OrgNode,
    hash: String,
}

impl ReadyUser {
    pub fn org_id(&self) -> OrgId {
        self.org.id
    }
}

/// The checks of [`create_user`] and the (slow) password hash, before any
/// transaction: a module that creates an account together with its own
/// rows (a merchant's clerk) inserts it with [`insert_user`] in its
/// transaction, so the account and its rows commit together.
pub async fn prepare_user(db: &Db, scope: &Scope, u: NewUser) -> AppResult<ReadyUser> {
    scope.require_admin()?;
    let org = crate::tree::node(db, scope, u.org_id).await?;
    if u.display_name.trim().is_empty() {
        return Err(AppError::invalid(
            "姓名不能为空",
            "The name must not be empty",
        ));
    }
    u.password.check_for(&u.username)?;
    // A permission can only be granted by someone who holds it: otherwise
    // an administrator could create an account to see what they may not.
    if crate::scope::perms_include(&u.perms, "unmask") && !scope.has(crate::scope::Perm::Unmask) {
        return Err(AppError::forbidden(
            "您本人没有查看完整证件号码和手机号码的权限,不能授予他人",
            "You do not hold the permission to see full ID and phone numbers, so you cannot grant it",
        ));
    }
    let hash = hash_password(&u.password).await?;
    Ok(ReadyUser { user: u, org, hash })
}

/// Inserts a prepared account and its audit entry in the caller's transaction.
pub async fn insert_user(
    tx: &mut crate::db::WriteTx,
    scope: &Scope,
    r: &ReadyUser,
) -> AppResult<UserId> {
    let (u, org) = (&r.user, &r.org);
    let kind = match u.role {
        Role::Member => "member",
        Role::Merchant => "merchant",
        _ => "staff",
    };
    let id: i64 = match sqlx::query_scalar(
        "INSERT INTO users (username, display_name, kind, role, org_id, perms, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(u.username.as_str())
    .bind(u.display_name.trim())
    .bind(kind)
    .bind(u.role.as_str())
    .bind(org.id.0)
    .bind(&u.perms)
    .bind(&r.hash)
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await
    {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                format!("用户名“{}”已被使用,请换一个", u.username.as_str()),
                format!("The username “{}” is taken; choose another", u.username.as_str()),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    audit::append(
        tx,
        &scope.actor,
        Event::new("user.create", "user", id).org(org.id).detail(serde_json::json!({
            "after": {"username": u.username.as_str(), "role": u.role.as_str(), "org": org.code, "perms": u.perms}
        })),
    )
    .await?;
    Ok(UserId(id))
}

/// Sets a password (CLI `user passwd`, or an admin for an account in scope).
pub async fn set_password(
    db: &Db,
    scope: &Scope,
    username: &Username,
    pw: &Password,
) -> AppResult<()> {
    scope.require_admin()?;
    pw.check_for(username)?;
    let user = find_user_in_scope(db, scope, username).await?;
    let hash = hash_password(pw).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
    )
    .bind(&hash)
    .bind(user.id.0)
    .execute(&mut *tx.tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.id.0)
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("user.password", "user", user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in user changes their own password (the change-password
/// page; required after an administrator forced it). The current password
/// is checked, the new one must meet the policy and differ from it; the
/// user's other sessions end.
pub async fn change_own_password(
    db: &Db,
    session: &Session,
    current: &str,
    new: &str,
    this_token: &str,
) -> AppResult<()> {
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(session.user_id.0)
        .fetch_one(db.pool())
        .await?;
    if !verify_password(current, Some(&hash)).await? {
        return Err(AppError::invalid(
            "当前密码不正确",
            "The current password is wrong",
        ));
    }
    let pw = Password::parse(new)?;
    pw.check_for(&Username(session.username.clone()))?;
    if new == current {
        return Err(AppError::invalid(
            "新密码不能与当前密码相同",
            "The new password must differ from the current one",
        ));
    }
    let hash = hash_password(&pw).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = 0, failed_logins = 0, locked_until = NULL WHERE id = $2",
    )
    .bind(&hash)
    .bind(session.user_id.0)
    .execute(&mut *tx.tx)
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(session.user_id.0)
        .bind(sha256_hex(this_token.as_bytes()))
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &session.scope.actor,
        Event::new("user.password_change", "user", session.user_id)
            .detail(serde_json::json!({"forced": session.must_change_password})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an administrator can do to an account of their subtree from the
/// accounts page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAction {
    /// 停用: no sign-in, its sessions end.
    Disable,
    /// 启用 again.
    Enable,
    /// 解锁: clears the failure count and the lock.
    Unlock,
    /// 下次登录须修改密码.
    ForcePasswordChange,
}

impl AccountAction {
    pub fn parse(s: &str) -> Option<AccountAction> {
        Some(match s {
            "disable" => AccountAction::Disable,
            "enable" => AccountAction::Enable,
            "unlock" => AccountAction::Unlock,
            "force-password-change" => AccountAction::ForcePasswordChange,
            _ => return None,
        })
    }
    pub fn audit_action(self) -> &'static str {
        match self {
            AccountAction::Disable => "user.disable",
            AccountAction::Enable => "user.enable",
            AccountAction::Unlock => "user.unlock",
            AccountAction::ForcePasswordChange => "user.force_password_change",
        }
    }
}

/// Applies an [`AccountAction`] to an account of the caller's subtree (an
/// account outside it is "not found", and the attempt is audited), with its
/// audit entry in the same transaction.
pub async fn account_action(
    db: &Db,
    scope: &Scope,
    id: UserId,
    action: AccountAction,
) -> AppResult<String> {
    scope.require_admin()?;
    let row = sqlx::query(
        "SELECT u.username, u.org_id, o.path FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        crate::audit::record_denied(db, scope, "user", id).await;
        return Err(AppError::NotFound);
    };
    let path: String = row.try_get("path")?;
    scope.admit(db, &path, "user", id).await?;
    let username: String = row.try_get("username")?;
    let org_id: i64 = row.try_get("org_id")?;
    if scope.actor.user_id == Some(id)
        && matches!(
            action,
            AccountAction::Disable | AccountAction::ForcePasswordChange
        )
    {
        return Err(AppError::invalid(
            "不能对自己的账号执行此操作",
            "You cannot do this to your own account",
        ));
    }
    let mut tx = db.begin_write().await?;
    let sql = match action {
        AccountAction::Disable => "UPDATE users SET active = 0 WHERE id = $1",
        AccountAction::Enable => "UPDATE users SET active = 1 WHERE id = $1",
        AccountAction::Unlock => {
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1"
        }
        AccountAction::ForcePasswordChange => {
            "UPDATE users SET must_change_password = 1 WHERE id = $1"
        }
    };
    sqlx::query(sql).bind(id.0).execute(&mut *tx.tx).await?;
    if action == AccountAction::Disable {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id.0)
            .execute(&mut *tx.tx)
            .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new(action.audit_action(), "user", id)
            .org(OrgId(org_id))
            .detail(serde_json::json!({"username": username})),
    )
    .await?;
    tx.commit().await?;
    Ok(username)
}

#[derive(Clone, Debug, Serialize)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: String,
    pub active: bool,
    /// Set only while the lock is in force.
    pub locked_until: Option<String>,
    pub unmask: bool,
    pub must_change_password: bool,
}

/// An account of the scope's subtree by username ("not found" outside it).
pub async fn find_user_in_scope(db: &Db, scope: &Scope, username: &Username) -> AppResult<UserRow> {
    list_users(db, scope)
        .await?
        .into_iter()
        .find(|u| u.username == username.as_str())
        .ok_or(AppError::NotFound)
}

pub async fn list_users(db: &Db, scope: &Scope) -> AppResult<Vec<UserRow>> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.role, u.org_id, o.name AS org_name, u.active, u.locked_until, \
                u.perms, u.must_change_password \
         FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE $1 ORDER BY o.path, u.username",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    let now = time::now();
    rows.iter()
        .map(|r| {
            let locked: Option<String> = r.try_get("locked_until")?;
            let perms: String = r.try_get("perms")?;
            Ok(UserRow {
                id: UserId(r.try_get("id")?),
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: r.try_get("role")?,
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("org_name")?,
                active: r.try_get::<i64, _>("active")? == 1,
                locked_until: locked
                    .filter(|l| time::parse_rfc3339(l).is_some_and(|t| t > now))
                    .map(|l| time::display(&l)),
                unmask: crate::scope::perms_include(&perms, "unmask"),
                must_change_password: r.try_get::<i64, _>("must_change_password")? == 1,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A signed-in session, resolved from the cookie on every request.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub org_name: String,
    pub csrf: String,
    pub scope: Scope,
    /// An administrator forced a password change: every page but the
    /// change-password page sends the user there.
    pub must_change_password: bool,
}

pub struct LoggedIn {
    pub token: String,
    pub csrf: String,
}

/// Checks the password, with per-account lockout: after [`MAX_FAILURES`]
/// failures the account is locked for 15 minutes, doubling on each further
/// failure (capped at a day).
///
/// Every refusal — wrong password, unknown user, locked, disabled — gets
/// the same answer ([`refused`]) after the same work (one Argon2 verify, on
/// the blocking pool, against a dummy hash for an unknown user, and one
/// audited write); the audit entry `auth.login_failed` records the reason.
/// The failure count and the lock change in one transaction whose first
/// statement increments atomically and only while the account is not
/// locked, so parallel wrong guesses count exactly up to the lock.
pub async fn login(
    db: &Db,
    username: &str,
    password: &str,
    ip: &str,
    session_hours: i64,
) -> AppResult<LoggedIn> {
    let name: String = username
        .trim()
        .to_ascii_lowercase()
        .chars()
        .take(64)
        .collect();
    let row = sqlx::query(
        "SELECT id, password_hash, active, locked_until FROM users WHERE username = $1",
    )
    .bind(&name)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        verify_password(password, None).await?;
        let actor = Actor {
            user_id: None,
            name: name.clone(),
            ip: ip.to_string(),
        };
        audit::record(
            db,
            &actor,
            Event::new("auth.login_failed", "user", &name)
                .detail(serde_json::json!({"reason": "unknown_user"})),
        )
        .await?;
        return Err(refused());
    };
    let id: i64 = row.try_get("id")?;
    let hash: String = row.try_get("password_hash")?;
    let active = row.try_get::<i64, _>("active")? == 1;
    let locked_until: Option<String> = row.try_get("locked_until")?;
    let actor = Actor {
        user_id: Some(UserId(id)),
        name: name.clone(),
        ip: ip.to_string(),
    };
    let ok = verify_password(password, Some(&hash)).await?;
    let now = time::now();
    let now_s = time::to_rfc3339(now);
    let locked = locked_until
        .as_deref()
        .and_then(time::parse_rfc3339)
        .is_some_and(|t| t > now);
    let mut tx = db.begin_write().await?;
    if ok && active && !locked {
        // Still not locked (nor disabled) by a racing request?
        let admitted = sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL \
             WHERE id = $1 AND active = 1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(id)
        .bind(&now_s)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected()
            == 1;
        if admitted {
            let token = random_token();
            let csrf = random_token();
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(&now_s)
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, last_seen) \
                 VALUES ($1, $2, $3, $4, $5, $4)",
            )
            .bind(sha256_hex(token.as_bytes()))
            .bind(id)
            .bind(&csrf)
            .bind(&now_s)
            .bind(time::to_rfc3339(now + Duration::hours(session_hours)))
            .execute(&mut *tx.tx)
            .await?;
            audit::append(&mut tx, &actor, Event::new("auth.login", "user", id)).await?;
            tx.commit().await?;
            return Ok(LoggedIn { token, csrf });
        }
    }
    let mut detail = serde_json::json!({});
    let reason = if !active {
        "disabled"
    } else if ok || locked {
        "locked"
    } else {
        // Counted only while not locked; the row lock (PostgreSQL) or the
        // writer lock (SQLite) orders parallel guesses.
        let failed: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 \
             WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failed_logins",
        )
        .bind(id)
        .bind(&now_s)
        .fetch_optional(&mut *tx.tx)
        .await?;
        match failed {
            None => "locked",
            Some(failed) => {
                let lock = (failed >= MAX_FAILURES).then(|| {
                    let minutes = (15i64 << (failed - MAX_FAILURES).min(7)).min(24 * 60);
                    time::to_rfc3339(now + Duration::minutes(minutes))
                });
                if let Some(l) = &lock {
                    sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                        .bind(l)
                        .bind(id)
                        .execute(&mut *tx.tx)
                        .await?;
                }
                detail = serde_json::json!({"failures": failed, "locked_until": lock});
                "wrong_password"
            }
        }
    };
    detail["reason"] = reason.into();
    audit::append(
        &mut tx,
        &actor,
        Event::new("auth.login_failed", "user", id).detail(detail),
    )
    .await?;
    tx.commit().await?;
    Err(refused())
}

pub async fn logout(db: &Db, token: &str) -> AppResult<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(sha256_hex(token.as_bytes()))
        .execute(&mut *tx.tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A session's last activity is written at most this often.
pub const TOUCH_SECS: i64 = 60;

/// Resolves a session cookie to the caller and its scope. A session idle
/// for longer than `idle_minutes` is ended (and audited) and resolves to
/// none; otherwise its last activity is touched, at most once a minute.
pub async fn session(
    db: &Db,
    token: &str,
    ip: &str,
    idle_minutes: u64,
) -> AppResult<Option<Session>> {
    let token_hash = sha256_hex(token.as_bytes());
    let Some(r) = session_row(db, &token_hash).await? else {
        return Ok(None);
    };
    let now = time::now();
    if time::parse_rfc3339(&r.expires_at).is_none_or(|t| t < now) || r.active != 1 {
        return Ok(None);
    }
    let role = Role::parse(&r.role).ok_or_else(|| anyhow::anyhow!("unknown role {}", r.role))?;
    let user_id = UserId(r.id);
    let username = r.username;
    let actor = Actor {
        user_id: Some(user_id),
        name: username.clone(),
        ip: ip.to_string(),
    };
    let last = time::parse_rfc3339(r.last_seen.as_deref().unwrap_or(&r.created_at)).unwrap_or(now);
    let idle = now.signed_duration_since(last);
    if idle > Duration::minutes(i64::try_from(idle_minutes.max(1)).unwrap_or(i64::MAX / 120)) {
        let mut tx = db.begin_write().await?;
        let ended = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&token_hash)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if ended == 1 {
            audit::append(
                &mut tx,
                &actor,
                Event::new("auth.idle_timeout", "user", user_id)
                    .detail(serde_json::json!({"idle_minutes": idle.num_minutes()})),
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(None);
    }
    if idle >= Duration::seconds(TOUCH_SECS) {
        let mut tx = db.begin_write().await?;
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(time::to_rfc3339(now))
            .bind(&token_hash)
            .execute(&mut *tx.tx)
            .await?;
        tx.commit().await?;
    }
    let scope = Scope::new(actor, OrgId(r.org_id), r.path, role, &r.perms);
    Ok(Some(Session {
        user_id,
        username,
        display_name: r.display_name,
        org_name: r.org_name,
        csrf: r.csrf,
        scope,
        must_change_password: r.must_change_password == 1,
    }))
}

/// How long a resolved session may be reused while nothing is written
/// through the pool: the bound on what the cache can miss (a write by
/// another process on the same file: `gonghui` commands beside the server).
const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
/// Sessions kept at most; a full cache starts over.
const SESSION_CACHE_MAX: usize = 4096;

/// Sessions resolved on an SQLite file, reused while the pool has not been
/// used since (`Db::pool_uses`: no write through the pool — a sign-out, a
/// disabled account, a moved org, a password change — began or committed)
/// and for at most [`SESSION_CACHE_TTL`].
///
/// A holiday peak is every counter redeeming at once, and each redemption
/// is a signed-in request. The counter writer commits on a connection of
/// its own several hundred times a second; every commit empties the page
/// caches of SQLite's other connections, so each session read went back
/// to the file for its pages (the largest piece of the request outside
/// the redemption: bench/REDEEM_LOAD.md). The counter writes no session,
/// account or org, and does not go through the pool, so it leaves these
/// entries valid. PostgreSQL (possibly several servers on one database)
/// reads the session every time.
#[derive(Default)]
pub(crate) struct SessionCache {
    rows: std::sync::Mutex<std::collections::HashMap<String, CachedSession>>,
}

struct CachedSession {
    pool_uses: u64,
    at: std::time::Instant,
    row: SessionRow,
}

impl SessionCache {
    fn get(&self, token_hash: &str, pool_uses: u64) -> Option<SessionRow> {
        let rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        rows.get(token_hash)
            .filter(|c| c.pool_uses == pool_uses && c.at.elapsed() < SESSION_CACHE_TTL)
            .map(|c| c.row.clone())
    }

    fn put(&self, token_hash: &str, pool_uses: u64, row: SessionRow) {
        let mut rows = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        if rows.len() >= SESSION_CACHE_MAX {
            rows.clear();
        }
        let at = std::time::Instant::now();
        rows.insert(token_hash.to_string(), CachedSession { pool_uses, at, row });
    }
}

/// The session with its account and the account's org, by token hash.
const SESSION_SQL: &str =
    "SELECT u.id, u.username, u.display_name, u.role, u.perms, u.active, u.must_change_password, \
        s.csrf, s.expires_at, s.created_at, s.last_seen, \
        o.id AS org_id, o.path, o.name AS org_name \
     FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id \
     WHERE s.token_hash = $1";

/// A row of [`SESSION_SQL`].
#[derive(Clone)]
struct SessionRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    perms: String,
    active: i64,
    must_change_password: i64,
    csrf: String,
    expires_at: String,
    created_at: String,
    last_seen: Option<String>,
    org_id: i64,
    path: String,
    org_name: String,
}

/// Read before every signed-in request: inline on an SQLite file
/// ([`crate::db::InlineReads`]), through the pool elsewhere.
async fn session_row(db: &Db, token_hash: &str) -> AppResult<Option<SessionRow>> {
    if let Some(inline) = db.inline_reads() {
        // Taken before the read: a write that lands during it makes the
        // row stored below stale at once.
        let uses = db.pool_uses();
        if let Some(r) = db.sessions().get(token_hash, uses) {
            return Ok(Some(r));
        }
        static SQL: OnceLock<String> = OnceLock::new();
        let sql = SQL.get_or_init(|| crate::db::sqlite_numbered(SESSION_SQL));
        let row = inline.read(|c| {
            use rusqlite::OptionalExtension;
            c.prepare_cached(sql)?
                .query_row([token_hash], |r| {
                    Ok(SessionRow {
                        id: r.get("id")?,
                        username: r.get("username")?,
                        display_name: r.get("display_name")?,
                        role: r.get("role")?,
                        perms: r.get("perms")?,
                        active: r.get("active")?,
                        must_change_password: r.get("must_change_password")?,
                        csrf: r.get("csrf")?,
                        expires_at: r.get("expires_at")?,
                        created_at: r.get("created_at")?,
                        last_seen: r.get("last_seen")?,
                        org_id: r.get("org_id")?,
                        path: r.get("path")?,
                        org_name: r.get("org_name")?,
                    })
                })
                .optional()
        })?;
        if let Some(r) = &row {
            db.sessions().put(token_hash, uses, r.clone());
        }
        return Ok(row);
    }
    let Some(r) = sqlx::query(SESSION_SQL)
        .bind(token_hash)
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(SessionRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: r.try_get("role")?,
        perms: r.try_get("perms")?,
        active: r.try_get("active")?,
        must_change_password: r.try_get("must_change_password")?,
        csrf: r.try_get("csrf")?,
        expires_at: r.try_get("expires_at")?,
        created_at: r.try_get("created_at")?,
        last_seen: r.try_get("last_seen")?,
        org_id: r.try_get("org_id")?,
        path: r.try_get("path")?,
        org_name: r.try_get("org_name")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(Password::parse("Sh0rt!").is_err(), "too short");
        assert!(Password::parse("allletters").is_err());
        assert!(Password::parse("12345678").is_err());
        assert!(Password::parse("lower123").is_err(), "two classes");
        assert!(Password::parse("Upper123").is_ok(), "three classes");
        assert!(Password::parse("lower-123").is_ok(), "symbol counts");
        assert!(Password::parse("Demo@2026").is_ok(), "the demo password");
        assert!(
            Password::parse("工会Abc123").is_ok(),
            "CJK counts as a symbol"
        );
        let e = Password::parse("password").unwrap_err();
        let m = e.user_message();
        assert!(m.zh.contains("三类") && m.en.contains("three"));
        assert!(!format!("{:?}", Password::parse("Demo@2026").unwrap()).contains("Demo"));
        let u = Username::parse("sf_admin").unwrap();
        assert!(Password::parse("Sf_Admin2026")
            .unwrap()
            .check_for(&u)
            .is_err());
        assert!(Password::parse("Demo@2026").unwrap().check_for(&u).is_ok());
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(Username::parse(" SF_Admin ").unwrap().as_str(), "sf_admin");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三").is_err());
    }

    #[tokio::test]
    async fn argon2id_roundtrip_on_the_blocking_pool() {
        let pw = Password::parse("Demo@2026").unwrap();
        let h = hash_password(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Demo@2026", Some(&h)).await.unwrap());
        assert!(!verify_password("Demo@2027", Some(&h)).await.unwrap());
        assert!(!verify_password("Demo@2026", None).await.unwrap());
    }

    /// On a current-thread runtime (one async worker), Argon2 work on the
    /// blocking pool leaves the worker free: a timer keeps ticking while
    /// eight verifications run.
    #[tokio::test(flavor = "current_thread")]
    async fn argon2_leaves_the_async_worker_free() {
        let h = hash_password(&Password::parse("Demo@2026").unwrap())
            .await
            .unwrap();
        let start = std::time::Instant::now();
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move { verify_password("Demo@2026", Some(&h)).await })
            })
            .collect();
        let mut worst = std::time::Duration::ZERO;
        while !jobs.iter().all(|j| j.is_finished()) {
            let t = std::time::Instant::now();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            worst = worst.max(t.elapsed());
        }
        for j in jobs {
            assert!(j.await.unwrap().unwrap());
        }
        assert!(
            worst < std::time::Duration::from_millis(200),
            "a 5 ms timer took {worst:?} while verifying ({:?} in all)",
            start.elapsed()
        );
    }

    mod with_db {
        use super::super::*;
        use crate::testing::TestEnv;

        fn root() -> Scope {
            Scope::system(Actor::system("test"), OrgId(1), "/1/".into())
        }

        async fn env_with_user(name: &str) -> (TestEnv, UserId) {
            let env = crate::attachments::tests::setup().await;
            let id = create_user(
                &env.state.db,
                &root(),
                NewUser {
                    username: Username::parse(name).unwrap(),
                    display_name: "县工会干事".into(),
                    role: Role::Staff,
                    org_id: OrgId(2),
                    perms: String::new(),
                    password: Password::parse("Demo@2026").unwrap(),
                },
            )
            .await
            .unwrap();
            (env, id)
        }

        async fn reasons(db: &Db) -> Vec<String> {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT detail FROM audit_log WHERE action = 'auth.login_failed' ORDER BY seq",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
            rows.iter()
                .map(|d| {
                    serde_json::from_str::<serde_json::Value>(d).unwrap()["reason"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        }

        fn answer(e: AppError) -> (u16, String, String) {
            let m = e.user_message();
            (e.status(), m.zh.clone(), m.en.clone())
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn parallel_wrong_guesses_lock_exactly_at_the_limit() {
            let (env, id) = env_with_user("clerk").await;
            let db = env.state.db.clone();
            let guesses: Vec<_> = (0..12)
                .map(|i| {
                    let db = db.clone();
                    tokio::spawn(async move {
                        login(&db, "clerk", &format!("Wrong@{i}x"), "10.0.0.1", 1).await
                    })
                })
                .collect();
            for g in guesses {
                let e = g.await.unwrap().err().expect("refused");
                assert_eq!(answer(e), answer(refused()));
            }
            let (failed, locked): (i64, Option<String>) =
                sqlx::query_as("SELECT failed_logins, locked_until FROM users WHERE id = $1")
                    .bind(id.0)
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            assert_eq!(failed, MAX_FAILURES, "counted exactly up to the lock");
            let until = time::parse_rfc3339(&locked.expect("locked")).unwrap();
            let minutes = (until - time::now()).num_minutes();
            assert!((14..=15).contains(&minutes), "{minutes} min");
            let r = reasons(&db).await;
            assert_eq!(r.iter().filter(|x| *x == "wrong_password").count(), 5);
            assert_eq!(r.iter().filter(|x| *x == "locked").count(), 7);
            // The right password while locked: the same answer.
            let e = login(&db, "clerk", "Demo@2026", "10.0.0.1", 1)
                .await
                .err()
                .unwrap();
            assert_eq!(answer(e), answer(refused()));
            assert_eq!(reasons(&db).await.last().unwrap(), "locked");
        }

        #[tokio::test]
        async fn every_refusal_answers_alike_and_the_audit_says_which() {
            let (env, id) = env_with_user("clerk").await;
            let db = &env.state.db;
            let mut answers = Vec::new();
            let mut times = Vec::new();
            // Each refusal makes exactly one Argon2 verification (so each
            // costs the same time); three of each kind.
            let attempt = |user: &'static str, pw: &'static str| {
                let db = db.clone();
                async move {
                    let mut a = None;
                    let mut work = Vec::new();
                    for _ in 0..3 {
                        let (e, n) = VERIFICATIONS
                            .scope(std::cell::Cell::new(0), async {
                                let e = login(&db, user, pw, "10.0.0.1", 1).await.err().unwrap();
                                (e, VERIFICATIONS.with(|n| n.get()))
                            })
                            .await;
                        a = Some(answer(e));
                        work.push(n);
                    }
                    (a.unwrap(), work)
                }
            };
            for (user, pw) in [("clerk", "Wrong@2026"), ("nobody", "Demo@2026")] {
                let (a, t) = attempt(user, pw).await;
                answers.push(a);
                times.push(t);
            }
            account_action(db, &root(), id, AccountAction::Disable)
                .await
                .unwrap();
            let (a, t) = attempt("clerk", "Demo@2026").await;
            answers.push(a);
            times.push(t);
            account_action(db, &root(), id, AccountAction::Enable)
                .await
                .unwrap();
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(time::to_rfc3339(time::now() + Duration::minutes(10)))
                .bind(id.0)
                .execute(db.pool())
                .await
                .unwrap();
            let (a, t) = attempt("clerk", "Demo@2026").await;
            answers.push(a);
            times.push(t);
            assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
            assert_eq!(answers[0].0, 422);
            let r = reasons(db).await;
            for (i, want) in ["wrong_password", "unknown_user", "disabled", "locked"]
                .iter()
                .enumerate()
            {
                assert!(r[i * 3..i * 3 + 3].iter().all(|x| x == want), "{r:?}");
            }
            assert!(times.iter().all(|w| w == &[1, 1, 1]), "{times:?}");
            account_action(db, &root(), id, AccountAction::Unlock)
                .await
                .unwrap();
            assert!(login(db, "clerk", "Demo@2026", "10.0.0.1", 1).await.is_ok());
        }

        /// The session cache (`SessionCache`) must never outlive a change
        /// made through the pool, whatever path made it, and outlives one
        /// made by another process at most [`SESSION_CACHE_TTL`].
        #[tokio::test]
        async fn a_reused_session_ends_with_any_pool_write_and_soon_after_one_from_elsewhere() {
            let (env, id) = env_with_user("clerk").await;
            let db = &env.state.db;
            let li = login(db, "clerk", "Demo@2026", "10.0.0.1", 12)
                .await
                .unwrap();
            let resolves = || async { session(db, &li.token, "", 30).await.unwrap().is_some() };
            assert!(resolves().await);
            // A plain statement on the pool, not a platform write transaction.
            let set_active = |on: bool| async move {
                sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                    .bind(i64::from(on))
                    .bind(id.0)
                    .execute(db.pool())
                    .await
                    .unwrap();
            };
            set_active(false).await;
            assert!(
                !resolves().await,
                "a disabled account's session ends at once"
            );
            set_active(true).await;
            assert!(resolves().await);
            if let Some(file) = db.sqlite_file() {
                // Another process on the same file: its own connection.
                rusqlite::Connection::open(file)
                    .unwrap()
                    .execute("DELETE FROM sessions", [])
                    .unwrap();
                assert!(resolves().await, "reused: nothing went through the pool");
                tokio::time::sleep(SESSION_CACHE_TTL + std::time::Duration::from_millis(100)).await;
            } else {
                // PostgreSQL keeps no cache: another server's sign-out is
                // seen at the next request.
                sqlx::query("DELETE FROM sessions")
                    .execute(db.pool())
                    .await
                    .unwrap();
            }
            assert!(!resolves().await, "the session is read again");
        }

        #[tokio::test]
        async fn idle_sessions_end_and_activity_is_touched_at_most_once_a_minute() {
            let (env, _) = env_with_user("clerk").await;
            let db = &env.state.db;
            let li = login(db, "clerk", "Demo@2026", "10.0.0.1", 12)
                .await
                .unwrap();
            let set_seen = |ago: Duration| {
                let at = time::to_rfc3339(time::now() - ago);
                async move {
                    sqlx::query("UPDATE sessions SET last_seen = $1")
                        .bind(&at)
                        .execute(db.pool())
                        .await
                        .unwrap();
                    at
                }
            };
            let seen = || async {
                sqlx::query_scalar::<_, String>("SELECT last_seen FROM sessions")
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
            };
            let at = set_seen(Duration::seconds(20)).await;
            assert!(session(db, &li.token, "", 30).await.unwrap().is_some());
            assert_eq!(seen().await, at, "not touched within a minute");
            let at = set_seen(Duration::minutes(5)).await;
            assert!(session(db, &li.token, "", 30).await.unwrap().is_some());
            assert_ne!(seen().await, at, "touched after a minute");
            set_seen(Duration::minutes(31)).await;
            assert!(session(db, &li.token, "", 30).await.unwrap().is_none());
            let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(left, 0, "the idle session is deleted");
            let audited: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.idle_timeout'",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(audited, 1);
        }

        #[tokio::test]
        async fn account_actions_stay_inside_the_subtree() {
            let (env, id) = env_with_user("clerk").await;
            let db = &env.state.db;
            let other = Scope::new(
                Actor::system("county3"),
                OrgId(3),
                "/1/3/".into(),
                Role::Admin,
                "",
            );
            for a in [
                AccountAction::Disable,
                AccountAction::Unlock,
                AccountAction::ForcePasswordChange,
            ] {
                assert!(matches!(
                    account_action(db, &other, id, a).await,
                    Err(AppError::NotFound)
                ));
            }
            let denied: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'scope.denied' AND object_type = 'user'",
            )
            .fetch_one(db.pool())
            .await
            .unwrap();
            assert_eq!(denied, 3);
            account_action(db, &root(), id, AccountAction::ForcePasswordChange)
                .await
                .unwrap();
            let li = login(db, "clerk", "Demo@2026", "", 1).await.unwrap();
            let s = session(db, &li.token, "", 30).await.unwrap().unwrap();
            assert!(s.must_change_password);
            let e = change_own_password(db, &s, "Demo@2026", "clerk-Pass-1", &li.token)
                .await
                .unwrap_err();
            assert!(e.user_message().zh.contains("用户名"));
            change_own_password(db, &s, "Demo@2026", "New@Pass-2026", &li.token)
                .await
                .unwrap();
            let s = session(db, &li.token, "", 30).await.unwrap().unwrap();
            assert!(!s.must_change_password, "this session goes on, unforced");
        }
    }
}
