//! Per-request context: the session, the language, the CSRF token, and the
//! middleware that resolves them, checks CSRF on every state-changing
//! request, renders errors in one place, and wraps each request in a
//! `tracing` span with Prometheus metrics.

use std::{net::SocketAddr, time::Instant};

use axum::{
    body::{to_bytes, Body},
    extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State},
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Redirect, Response},
};
use tracing::Instrument;

use super::AppState;
use crate::{
    auth::Session,
    crypto::random_token,
    error::AppError,
    i18n::{Lang, Msg, Tr},
    scope::Scope,
};

pub const SESSION_COOKIE: &str = "gh_session";
pub const ANON_CSRF_COOKIE: &str = "gh_csrf";
pub const LANG_COOKIE: &str = "gh_lang";

/// Resolved once per request by [`context_layer`].
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    pub session: Option<Session>,
    /// The token forms must echo: the session's, or the anonymous cookie's.
    pub csrf: String,
    pub ip: String,
    pub path: String,
    /// The modules' navigation entries: (module key, label key, href).
    pub nav: Nav,
}

pub type Nav = std::sync::Arc<Vec<(&'static str, &'static str, &'static str)>>;

impl Ctx {
    pub fn tr(&self) -> Tr {
        Tr(self.lang)
    }
    pub fn msg<'a>(&self, m: &'a Msg) -> &'a str {
        m.get(self.lang)
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("context layer missing")))
    }
}

/// A signed-in staff member; the extractor refuses everyone else.
#[derive(Clone, Debug)]
pub struct Staff {
    pub ctx: Ctx,
    pub session: Session,
}

impl Staff {
    pub fn scope(&self) -> &Scope {
        &self.session.scope
    }
}

impl Staff {
    /// The staff member of a resolved context, refusing everyone else.
    pub fn from_ctx(ctx: Ctx) -> Result<Staff, AppError> {
        match ctx.session.clone() {
            Some(s) if s.scope.is_staff() => Ok(Staff { ctx, session: s }),
            Some(_) => Err(AppError::forbidden(
                "此页面仅供工会工作人员使用",
                "This page is for union staff",
            )),
            None => Err(AppError::Unauthenticated),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Staff::from_ctx(Ctx::from_request_parts(parts, state).await?)
    }
}

pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    http_only: bool,
    secure: bool,
) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; SameSite=Lax");
    if let Some(a) = max_age {
        s.push_str(&format!("; Max-Age={a}"));
    }
    if http_only {
        s.push_str("; HttpOnly");
    }
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).expect("cookie values are URL-safe")
}

fn client_ip(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

fn is_state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Finds `_csrf` in the query string or an url-encoded body.
fn token_in_urlencoded(s: &str) -> Option<String> {
    s.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "_csrf")
        .map(|(_, v)| {
            // Tokens are URL-safe base64; only '%XX' of '-' '_' could appear.
            v.replace("%2D", "-").replace("%5F", "_")
        })
}

const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// Resolves session, language and CSRF; refuses state-changing requests
/// whose token does not match. Body bytes are buffered only for
/// url-encoded forms (multipart uploads, and only they, may carry the token
/// in the URL).
pub async fn context_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req);
    let headers = req.headers().clone();
    let lang = cookie(&headers, LANG_COOKIE)
        .map(|c| Lang::from_code(&c))
        .unwrap_or_default();
    let session = match cookie(&headers, SESSION_COOKIE) {
        Some(tok) => match crate::auth::session(&state.db, &tok, &ip, state.cfg.idle_minutes).await
        {
            Ok(s) => s,
            Err(e) => return render_error(&e, lang, req.uri().path()),
        },
        None => None,
    };
    let anon = cookie(&headers, ANON_CSRF_COOKIE);
    let mut new_anon = None;
    let csrf = match (&session, &anon) {
        (Some(s), _) => s.csrf.clone(),
        (None, Some(a)) => a.clone(),
        (None, None) => {
            let t = random_token();
            new_anon = Some(t.clone());
            t
        }
    };
    let path = req.uri().path().to_string();
    let mut req = req;
    if is_state_changing(req.method()) {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        // Only a multipart upload may carry the token in the URL: its file
        // part can come before any form field, and the body is not buffered.
        // Everything else sends it as a header or a form field, so a token
        // that leaked through a URL (logs, Referer) cannot be replayed on a
        // plain form.
        let is_multipart = content_type.starts_with("multipart/form-data");
        let mut provided = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                if is_multipart {
                    req.uri().query().and_then(token_in_urlencoded)
                } else {
                    None
                }
            });
        if provided.is_none() && is_form {
            let (parts, body) = req.into_parts();
            let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
                Ok(b) => b,
                Err(_) => {
                    let e = AppError::invalid("表单内容过大", "The form is too large");
                    return render_error(&e, lang, &path);
                }
            };
            provided = token_in_urlencoded(&String::from_utf8_lossy(&bytes));
            req = Request::from_parts(parts, Body::from(bytes));
        }
        let ok = match provided {
            Some(p) => {
                !csrf.is_empty()
                    && constant_time_eq(p.as_bytes(), csrf.as_bytes())
                    && new_anon.is_none()
            }
            None => false,
        };
        if !ok {
            tracing::warn!(path, "csrf check failed");
            return render_error(&AppError::Csrf, lang, &path);
        }
    }
    if session.as_ref().is_some_and(|s| s.must_change_password) && !allowed_before_change(&path) {
        if path.starts_with("/api/") {
            let e = AppError::forbidden(
                "管理员要求您先修改密码",
                "An administrator requires you to change your password first",
            );
            return render_error(&e, lang, &path);
        }
        return Redirect::to(PASSWORD_PAGE).into_response();
    }
    req.extensions_mut().insert(Ctx {
        nav: state.registry.nav(),
        lang,
        session,
        csrf,
        ip,
        path: path.clone(),
    });
    let mut resp = next.run(req).await;
    if let Some(t) = new_anon {
        resp.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(ANON_CSRF_COOKIE, &t, None, true, state.cfg.secure_cookies),
        );
    }
    if let Some(err) = resp.extensions_mut().remove::<ErrorBox>() {
        let mut rendered = render_error(&err.0, lang, &path);
        for v in resp.headers().get_all(header::SET_COOKIE) {
            rendered.headers_mut().append(header::SET_COOKIE, v.clone());
        }
        return rendered;
    }
    if path.starts_with("/api/") {
        return json_rejection(resp, lang).await;
    }
    resp
}

/// The change-password page.
pub const PASSWORD_PAGE: &str = "/password";

/// What a user whose password change is forced may still reach.
fn allowed_before_change(path: &str) -> bool {
    matches!(path, PASSWORD_PAGE | "/logout" | "/login" | "/healthz") || path.starts_with("/lang/")
}

/// The Content-Security-Policy of every response. The pages use inline
/// `<style>` blocks and `style=` attributes (`'unsafe-inline'` for styles
/// only), inline SVG charts and QR codes (no image requests; `data:` images
/// are allowed for safety), and one script file of the platform
/// (`/assets/app.js`: print, confirm, back); no inline script runs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every response, errors and the fallback included.
///
/// `Cache-Control: no-store` goes on every response that did not set its
/// own caching (only the static script does): pages show personal data to a
/// signed-in session, downloads (exports, reject files, attachments) are
/// personal data, and even anonymous pages carry a CSRF token, so nothing
/// the server generates may be kept by a shared or browser cache.
/// HSTS is sent only when the deployment says it is behind TLS
/// (`secure_cookies`), so a plain-HTTP test or intranet install is not
/// locked out.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.cfg.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}

/// An extractor's refusal under /api/ (axum answers a malformed JSON body,
/// query or multipart form, a wrong content type or an oversized body in
/// plain text) gets the API's JSON error shape, its status kept.
async fn json_rejection(resp: Response, lang: Lang) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !matches!(status.as_u16(), 400 | 413 | 415 | 422) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let detail = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, msg) = match status.as_u16() {
        413 => (
            "too_large",
            Msg::new(
                "上传内容超过大小限制",
                "The upload is larger than the limit",
            ),
        ),
        415 => (
            "invalid",
            Msg::new(
                format!("请求内容类型不正确:{detail}"),
                format!("Wrong content type: {detail}"),
            ),
        ),
        _ => (
            "invalid",
            Msg::new(
                format!("请求格式有误:{detail}"),
                format!("Malformed request: {detail}"),
            ),
        ),
    };
    let body = serde_json::json!({
        "error": {"code": code, "message": msg.get(lang), "message_zh": msg.zh, "message_en": msg.en}
    });
    let mut out = (status, axum::Json(body)).into_response();
    for v in parts.headers.get_all(header::SET_COOKIE) {
        out.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Carries an error from a handler to [`context_layer`], which renders it.
#[derive(Clone)]
struct ErrorBox(std::sync::Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut r = StatusCode::from_u16(self.status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
        r.extensions_mut()
            .insert(ErrorBox(std::sync::Arc::new(self)));
        r
    }
}

/// The one place an error becomes HTTP: JSON under /api, a page elsewhere.
pub fn render_error(e: &AppError, lang: Lang, path: &str) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let msg = e.user_message();
    if path.starts_with("/api/") {
        let body = serde_json::json!({
            "error": {"code": e.code(), "message": msg.get(lang), "message_zh": msg.zh, "message_en": msg.en}
        });
        return (status, axum::Json(body)).into_response();
    }
    if matches!(e, AppError::Unauthenticated) {
        let next = urlencode(path);
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    let tr = Tr(lang);
    let page = super::pages::ErrorPage {
        tr,
        status: status.as_u16(),
        message: msg.get(lang).to_string(),
    };
    (status, Html(super::render(&page))).into_response()
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `tracing` span per request, and request metrics by route template.
pub async fn trace_layer(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let span = tracing::info_span!("request", %method, route, status = tracing::field::Empty);
    let start = Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status().as_u16();
    span.record("status", status);
    let secs = start.elapsed().as_secs_f64();
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2]).record(secs);
    tracing::debug!(parent: &span, status, secs, "done");
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tokens_and_cookies() {
        assert_eq!(
            token_in_urlencoded("a=1&_csrf=abc-_x&b=2").as_deref(),
            Some("abc-_x")
        );
        assert_eq!(token_in_urlencoded("a=1"), None);
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("x=1; gh_lang=en"));
        assert_eq!(cookie(&h, "gh_lang").as_deref(), Some("en"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert_eq!(urlencode("/orgs/1?x=组"), "/orgs/1%3Fx%3D%E7%BB%84");
    }
}
