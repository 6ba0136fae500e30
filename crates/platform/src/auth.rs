//! Accounts, passwords (argon2id), sessions and login throttling.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use chrono::Duration;
use serde::Serialize;
use sqlx::Row;

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

/// A password that meets the policy (parse, don't validate).
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
        let has_letter = raw.chars().any(|c| c.is_alphabetic());
        let has_digit = raw.chars().any(|c| c.is_ascii_digit());
        if !(8..=128).contains(&n) || !has_letter || !has_digit {
            return Err(AppError::invalid(
                "密码至少8位,且须同时包含字母和数字",
                "The password needs at least 8 characters, with both letters and digits",
            ));
        }
        Ok(Password(raw.to_string()))
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

pub fn hash_password(pw: &Password) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pw.0.as_bytes(), &salt)
        .expect("argon2 hashing of a bounded password cannot fail")
        .to_string()
}

fn verify_password(raw: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(raw.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash nobody's password matches: verified against when the username is
/// unknown so both paths cost the same time.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&Password("dummy-password-1".into())))
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
    scope.require_admin()?;
    let org = crate::tree::node(db, scope, u.org_id).await?;
    if u.display_name.trim().is_empty() {
        return Err(AppError::invalid(
            "姓名不能为空",
            "The name must not be empty",
        ));
    }
    let hash = hash_password(&u.password);
    let mut tx = db.begin_write().await?;
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
    .bind(&hash)
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
        &mut tx,
        &scope.actor,
        Event::new("user.create", "user", id).org(org.id).detail(serde_json::json!({
            "after": {"username": u.username.as_str(), "role": u.role.as_str(), "org": org.code, "perms": u.perms}
        })),
    )
    .await?;
    tx.commit().await?;
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
    let user = find_user_in_scope(db, scope, username).await?;
    let hash = hash_password(pw);
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

#[derive(Clone, Debug, Serialize)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<i64>,
    pub org_name: String,
    pub active: bool,
    pub locked_until: Option<String>,
}

async fn find_user_in_scope(db: &Db, scope: &Scope, username: &Username) -> AppResult<UserRow> {
    list_users(db, scope)
        .await?
        .into_iter()
        .find(|u| u.username == username.as_str())
        .ok_or(AppError::NotFound)
}

pub async fn list_users(db: &Db, scope: &Scope) -> AppResult<Vec<UserRow>> {
    let rows = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.role, u.org_id, o.name AS org_name, u.active, u.locked_until \
         FROM users u JOIN orgs o ON o.id = u.org_id WHERE o.path LIKE $1 ORDER BY o.path, u.username",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserRow {
                id: UserId(r.try_get("id")?),
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: r.try_get("role")?,
                org_id: r.try_get("org_id")?,
                org_name: r.try_get("org_name")?,
                active: r.try_get::<i64, _>("active")? == 1,
                locked_until: r.try_get("locked_until")?,
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
}

pub struct LoggedIn {
    pub token: String,
    pub csrf: String,
}

/// Checks the password, with per-account lockout: after [`MAX_FAILURES`]
/// failures the account is locked for 15 minutes, doubling on each further
/// failure (capped at a day). Every failure and lockout is audited.
pub async fn login(
    db: &Db,
    username: &str,
    password: &str,
    ip: &str,
    session_hours: i64,
) -> AppResult<LoggedIn> {
    let wrong = || AppError::Invalid(Msg::new("用户名或密码错误", "Wrong username or password"));
    let name = username.trim().to_ascii_lowercase();
    let row = sqlx::query(
        "SELECT id, password_hash, active, failed_logins, locked_until FROM users WHERE username = $1",
    )
    .bind(&name)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        let _ = verify_password(password, dummy_hash());
        return Err(wrong());
    };
    let id: i64 = row.try_get("id")?;
    let failed: i64 = row.try_get("failed_logins")?;
    let locked_until: Option<String> = row.try_get("locked_until")?;
    let actor = Actor {
        user_id: Some(UserId(id)),
        name: name.clone(),
        ip: ip.to_string(),
    };
    if let Some(until) = locked_until.as_deref().and_then(time::parse_rfc3339) {
        if until > time::now() {
            let shown = time::display(&time::to_rfc3339(until));
            return Err(AppError::Throttled(Msg::new(
                format!("登录失败次数过多,账号已临时锁定至 {shown},请稍后再试或联系管理员"),
                format!("Too many failed sign-ins; the account is locked until {shown} (Beijing time). Try later or ask an administrator"),
            )));
        }
    }
    let hash: String = row.try_get("password_hash")?;
    let active: i64 = row.try_get("active")?;
    if !verify_password(password, &hash) || active != 1 {
        let failed = failed + 1;
        let lock = (failed >= MAX_FAILURES).then(|| {
            let minutes = (15i64 << (failed - MAX_FAILURES).min(7)).min(24 * 60);
            time::to_rfc3339(time::now() + Duration::minutes(minutes))
        });
        let mut tx = db.begin_write().await?;
        sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
            .bind(failed)
            .bind(lock.clone())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?;
        audit::append(
            &mut tx,
            &actor,
            Event::new("auth.login_failed", "user", id)
                .detail(serde_json::json!({"failures": failed, "locked_until": lock})),
        )
        .await?;
        tx.commit().await?;
        return Err(wrong());
    }
    let token = random_token();
    let csrf = random_token();
    let now = time::now();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(time::to_rfc3339(now))
        .execute(&mut *tx.tx)
        .await?;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(sha256_hex(token.as_bytes()))
        .bind(id)
        .bind(&csrf)
        .bind(time::to_rfc3339(now))
        .bind(time::to_rfc3339(now + Duration::hours(session_hours)))
        .execute(&mut *tx.tx)
        .await?;
    audit::append(&mut tx, &actor, Event::new("auth.login", "user", id)).await?;
    tx.commit().await?;
    Ok(LoggedIn { token, csrf })
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

/// Resolves a session cookie to the caller and its scope.
pub async fn session(db: &Db, token: &str, ip: &str) -> AppResult<Option<Session>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.role, u.perms, u.active, s.csrf, s.expires_at, \
                o.id AS org_id, o.path, o.name AS org_name \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id \
         WHERE s.token_hash = $1",
    )
    .bind(sha256_hex(token.as_bytes()))
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let expires: String = r.try_get("expires_at")?;
    if time::parse_rfc3339(&expires).is_none_or(|t| t < time::now())
        || r.try_get::<i64, _>("active")? != 1
    {
        return Ok(None);
    }
    let role_s: String = r.try_get("role")?;
    let role = Role::parse(&role_s).ok_or_else(|| anyhow::anyhow!("unknown role {role_s}"))?;
    let user_id = UserId(r.try_get("id")?);
    let username: String = r.try_get("username")?;
    let perms: String = r.try_get("perms")?;
    let actor = Actor {
        user_id: Some(user_id),
        name: username.clone(),
        ip: ip.to_string(),
    };
    let scope = Scope::new(
        actor,
        OrgId(r.try_get("org_id")?),
        r.try_get("path")?,
        role,
        &perms,
    );
    Ok(Some(Session {
        user_id,
        username,
        display_name: r.try_get("display_name")?,
        org_name: r.try_get("org_name")?,
        csrf: r.try_get("csrf")?,
        scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(Password::parse("short1").is_err());
        assert!(Password::parse("allletters").is_err());
        assert!(Password::parse("12345678").is_err());
        assert!(Password::parse("Demo@2026").is_ok());
        assert!(!format!("{:?}", Password::parse("Demo@2026").unwrap()).contains("Demo"));
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(Username::parse(" SF_Admin ").unwrap().as_str(), "sf_admin");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三").is_err());
    }

    #[test]
    fn argon2id_roundtrip() {
        let pw = Password::parse("Demo@2026").unwrap();
        let h = hash_password(&pw);
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Demo@2026", &h));
        assert!(!verify_password("Demo@2027", &h));
    }
}
