//! The platform's own pages: login/logout, language switch, home, the audit
//! log and account management.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form,
};
use serde::Deserialize;

use super::{
    ctx::{self, Ctx, Staff},
    html, AppState, Routes,
};
use crate::{
    audit,
    auth::{self, NewUser, Password, UserRow, Username},
    error::{AppError, AppResult},
    i18n::{Lang, Tr},
    ids::OrgId,
    scope::Role,
    time,
};

/// The platform's own pages, registered like a module's so that
/// `Registry::paths()` lists them.
pub fn routes() -> Routes {
    Routes::new()
        .page("/", get(home))
        .page("/login", get(login_page).post(login_submit))
        .page("/logout", post(logout))
        .page("/lang/{code}", get(switch_lang))
        .page("/audit", get(audit_page))
        .page("/users", get(users_page).post(users_create))
        .page("/users/{id}/{action}", post(users_action))
        .page(ctx::PASSWORD_PAGE, get(password_page).post(password_submit))
}

/// What the layout needs on every signed-in page.
pub struct Chrome {
    pub tr: Tr,
    pub csrf: String,
    pub user: String,
    pub org: String,
    pub role: String,
    pub active: &'static str,
    pub can_audit: bool,
    pub is_admin: bool,
    pub nav: Vec<(&'static str, &'static str, &'static str)>,
    pub path: String,
}

impl Chrome {
    pub fn new(s: &Staff, active: &'static str) -> Chrome {
        let scope = s.scope();
        Chrome {
            tr: s.ctx.tr(),
            csrf: s.ctx.csrf.clone(),
            user: s.session.display_name.clone(),
            org: s.session.org_name.clone(),
            role: scope.role.label().get(s.ctx.lang).to_string(),
            active,
            can_audit: scope.can_read_audit(),
            is_admin: scope.role == Role::Admin,
            nav: s.ctx.nav.to_vec(),
            path: s.ctx.path.clone(),
        }
    }
    pub fn t(&self, key: &str) -> &'static str {
        self.tr.t(key)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub tr: Tr,
    pub status: u16,
    pub message: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    csrf: String,
    next: String,
    error: Option<String>,
    username: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site relative paths may be redirected to after login.
fn safe_next(n: Option<&str>) -> String {
    match n {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".into(),
    }
}

async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Response {
    if ctx.session.is_some() {
        return Redirect::to(&safe_next(q.next.as_deref())).into_response();
    }
    html(&LoginPage {
        tr: ctx.tr(),
        csrf: ctx.csrf,
        next: safe_next(q.next.as_deref()),
        error: None,
        username: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login_submit(State(st): State<AppState>, ctx: Ctx, Form(f): Form<LoginForm>) -> Response {
    match auth::login(
        &st.db,
        &f.username,
        &f.password,
        &ctx.ip,
        st.cfg.session_hours,
    )
    .await
    {
        Ok(li) => {
            let mut r = Redirect::to(&safe_next(f.next.as_deref())).into_response();
            let max_age = st.cfg.session_hours * 3600;
            r.headers_mut().append(
                header::SET_COOKIE,
                ctx::set_cookie(
                    ctx::SESSION_COOKIE,
                    &li.token,
                    Some(max_age),
                    true,
                    st.cfg.secure_cookies,
                ),
            );
            r
        }
        Err(e @ (AppError::Invalid(_) | AppError::Throttled(_))) => {
            let status = axum::http::StatusCode::from_u16(e.status()).unwrap_or_default();
            let page = LoginPage {
                tr: ctx.tr(),
                csrf: ctx.csrf.clone(),
                next: safe_next(f.next.as_deref()),
                error: Some(e.user_message().get(ctx.lang).to_string()),
                username: f.username.clone(),
            };
            (status, html(&page)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn logout(State(st): State<AppState>, headers: axum::http::HeaderMap) -> AppResult<Response> {
    if let Some(tok) = ctx::cookie(&headers, ctx::SESSION_COOKIE) {
        auth::logout(&st.db, &tok).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        ctx::set_cookie(
            ctx::SESSION_COOKIE,
            "",
            Some(0),
            true,
            st.cfg.secure_cookies,
        ),
    );
    Ok(r)
}

async fn switch_lang(
    State(st): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = Lang::from_code(&code);
    let mut r = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        ctx::set_cookie(
            ctx::LANG_COOKIE,
            lang.code(),
            Some(365 * 86400),
            false,
            st.cfg.secure_cookies,
        ),
    );
    r
}

async fn home(State(st): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    // The statistics dashboard is the home page of every staff account;
    // another role lands where a module says it does (a merchant's clerk:
    // the redemption page), or is refused as on any staff page.
    if let Some(s) = &ctx.session {
        if !s.scope.is_staff() {
            if let Some(to) = st.registry.home_for(s.scope.role) {
                return Ok(Redirect::to(to).into_response());
            }
        }
    }
    let _staff = Staff::from_ctx(ctx)?;
    Ok(Redirect::to("/reports").into_response())
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    object: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    rows: Vec<audit::Entry>,
    q_action: String,
    q_actor: String,
    q_object: String,
    q_from: String,
    q_to: String,
    page: i64,
    has_next: bool,
    query_base: String,
}

impl AuditPage {
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
}

async fn audit_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let page = q.page.unwrap_or(1).max(1);
    let per = 50;
    let clean = |s: &Option<String>| s.clone().unwrap_or_default().trim().to_string();
    let to_bound = |d: &str| time::parse_date(d).map(|d| d.succ_opt().unwrap_or(d).to_string());
    let f = audit::Filter {
        action: Some(clean(&q.action)),
        actor: Some(clean(&q.actor)),
        object: Some(clean(&q.object)),
        from: time::parse_date(&clean(&q.from)).map(|d| d.to_string()),
        to: to_bound(&clean(&q.to)),
    };
    let mut rows = audit::list(
        &st.db,
        staff.scope(),
        &f,
        per + 1,
        (page - 1).saturating_mul(per),
    )
    .await?;
    let has_next = rows.len() as i64 > per;
    rows.truncate(per as usize);
    let query_base = format!(
        "action={}&actor={}&object={}&from={}&to={}",
        ctx::urlencode(&clean(&q.action)),
        ctx::urlencode(&clean(&q.actor)),
        ctx::urlencode(&clean(&q.object)),
        ctx::urlencode(&clean(&q.from)),
        ctx::urlencode(&clean(&q.to))
    );
    Ok(html(&AuditPage {
        c: Chrome::new(&staff, "audit"),
        rows,
        q_action: clean(&q.action),
        q_actor: clean(&q.actor),
        q_object: clean(&q.object),
        q_from: clean(&q.from),
        q_to: clean(&q.to),
        page,
        has_next,
        query_base,
    }))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserRow>,
    orgs: Vec<crate::tree::OrgNode>,
    created: Option<String>,
    done: Option<String>,
    me: Option<i64>,
}

impl UsersPage {
    fn is_me(&self, id: &crate::ids::UserId) -> bool {
        self.me == Some(id.0)
    }
    fn role_label(&self, r: &str) -> String {
        Role::parse(r)
            .map(|r| r.label().get(self.c.tr.0).to_string())
            .unwrap_or_else(|| r.to_string())
    }
}

#[derive(Deserialize)]
struct UsersQuery {
    created: Option<String>,
    done: Option<String>,
}

async fn users_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<UsersQuery>,
) -> AppResult<Response> {
    staff.scope().require_admin()?;
    let users = auth::list_users(&st.db, staff.scope()).await?;
    let orgs = crate::tree::subtree(&st.db, staff.scope()).await?;
    Ok(html(&UsersPage {
        c: Chrome::new(&staff, "users"),
        users,
        orgs,
        created: q.created,
        done: q.done,
        me: staff.scope().actor.user_id.map(|u| u.0),
    }))
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    org_id: i64,
    password: String,
    #[serde(default)]
    unmask: Option<String>,
}

async fn users_create(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<NewUserForm>,
) -> AppResult<Response> {
    let role = match f.role.as_str() {
        "admin" => Role::Admin,
        "staff" => Role::Staff,
        "auditor" => Role::Auditor,
        _ => return Err(AppError::invalid("角色无效", "Invalid role")),
    };
    let u = NewUser {
        username: Username::parse(&f.username)?,
        display_name: f.display_name,
        role,
        org_id: OrgId(f.org_id),
        perms: if f.unmask.as_deref().is_some_and(|v| !v.is_empty()) {
            "unmask".into()
        } else {
            String::new()
        },
        password: Password::parse(&f.password)?,
    };
    let name = u.username.as_str().to_string();
    auth::create_user(&st.db, staff.scope(), u).await?;
    Ok(Redirect::to(&format!("/users?created={}", ctx::urlencode(&name))).into_response())
}

/// Disable, enable, unlock, or force a password change for an account of
/// the admin's subtree (outside it: 404, audited).
async fn users_action(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Path((id, action)): axum::extract::Path<(i64, String)>,
) -> AppResult<Response> {
    let action = auth::AccountAction::parse(&action).ok_or(AppError::NotFound)?;
    let name = auth::account_action(&st.db, staff.scope(), crate::ids::UserId(id), action).await?;
    Ok(Redirect::to(&format!(
        "/users?done={}",
        ctx::urlencode(&format!("{} · {}", name, action.audit_action()))
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    tr: Tr,
    csrf: String,
    forced: bool,
    error: Option<String>,
}

async fn password_page(ctx: Ctx) -> AppResult<Response> {
    let s = ctx.session.clone().ok_or(AppError::Unauthenticated)?;
    Ok(html(&PasswordPage {
        tr: ctx.tr(),
        csrf: ctx.csrf.clone(),
        forced: s.must_change_password,
        error: None,
    }))
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn password_submit(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    let s = ctx.session.clone().ok_or(AppError::Unauthenticated)?;
    let token = ctx::cookie(&headers, ctx::SESSION_COOKIE).unwrap_or_default();
    let result = if f.new != f.confirm {
        Err(AppError::invalid(
            "两次输入的新密码不一致",
            "The two new passwords differ",
        ))
    } else {
        auth::change_own_password(&st.db, &s, &f.current, &f.new, &token).await
    };
    match result {
        Ok(()) => Ok(Redirect::to("/").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            let page = PasswordPage {
                tr: ctx.tr(),
                csrf: ctx.csrf.clone(),
                forced: s.must_change_password,
                error: Some(e.user_message().get(ctx.lang).to_string()),
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}
