//! The web shell: router assembly from the modules, shared state, the
//! server that runs from a listener (so tests use port 0), and the
//! platform's own pages (login, language switch, audit log, accounts) and
//! the review inbox with its API.

pub mod attachments;
pub mod ctx;
pub mod pages;
pub mod review;
pub mod routes;

pub use routes::{RoutePath, Routes};

use std::{future::Future, net::SocketAddr, sync::Arc, sync::OnceLock};

use axum::{
    extract::State,
    http::header,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::{config::Config, crypto::Keys, db::Db};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<Config>,
    pub keys: Arc<Keys>,
    pub jobs: Arc<crate::jobs::Jobs>,
    /// Where attachment bytes are kept, and the upload limits.
    pub attachments: Arc<crate::attachments::Attachments>,
    /// The modules of this binary.
    pub registry: Arc<crate::module::Registry>,
    /// Text messages (one-time codes); the log sender until a gateway is set.
    pub sms: Arc<dyn crate::sms::SmsSender>,
    /// What modules keep in memory for this instance (`instance::Instance`).
    pub instance: Arc<crate::instance::Instance>,
}

fn metrics_handle() -> &'static PrometheusHandle {
    static H: OnceLock<PrometheusHandle> = OnceLock::new();
    H.get_or_init(|| {
        PrometheusBuilder::new()
            .install_recorder()
            .expect("the Prometheus recorder is installed once per process")
    })
}

/// Renders a template; a template error is a bug, logged and shown as 500.
pub fn render<T: askama::Template>(t: &T) -> String {
    t.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template failed");
        "<h1>500</h1>".into()
    })
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file download. The name goes out as an ASCII fallback plus the
/// RFC 5987 `filename*` form, so Chinese file names (未导入-3.xlsx) arrive intact.
pub fn download(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("bin");
    let disposition = format!(
        "attachment; filename=\"download.{ext}\"; filename*=UTF-8''{}",
        ctx::urlencode(name)
    );
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub fn html<T: askama::Template>(t: &T) -> Response {
    axum::response::Html(render(t)).into_response()
}

/// The platform's own routes, registered like a module's (pages and a
/// documented JSON API) so that `Registry::paths()` lists the whole surface:
/// health, metrics and the API document, sign-in, language, home, audit log
/// and accounts, the review inbox and API, attachments.
pub fn platform_routes(attachment_max_bytes: u64) -> Routes {
    Routes::new()
        .page("/healthz", get(healthz))
        .page("/metrics", get(metrics))
        .page("/assets/app.js", get(app_js))
        .api(utoipa_axum::routes!(openapi))
        .merge(pages::routes())
        .merge(review::routes())
        .merge(attachments::routes(attachment_max_bytes))
}

/// The whole application: every module's routes under the platform layers.
pub fn app(state: AppState) -> Router {
    metrics_handle();
    let upload_limit = state.attachments.limits.max_bytes;
    let mut router = Router::new().merge(platform_routes(upload_limit).split().0);
    router = router.merge(state.registry.router());
    router
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ctx::context_layer,
        ))
        .layer(middleware::from_fn(ctx::trace_layer))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ctx::security_headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    crate::attachments::spawn_collector(&state);
    tokio::spawn(crate::auth::warm_up());
    for m in state.registry.modules() {
        (m.on_start)(&state);
    }
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// 200 `{"status":"ok"}` or 503 `{"status":"error"}`: the reason is logged,
/// never sent (it can name hosts, users and database internals).
async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(state.db.pool())
        .await
    {
        Ok(_) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"status": "error"})),
            )
                .into_response()
        }
    }
}

/// The platform's one script (the CSP allows no inline script): print
/// buttons, confirmations and back links by data attributes.
async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/app.js"),
    )
        .into_response()
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_handle().render(),
    )
        .into_response()
}

/// This document: every JSON endpoint of the platform and its modules.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "platform", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
async fn openapi(State(state): State<AppState>) -> Json<utoipa::openapi::OpenApi> {
    Json(state.registry.openapi())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reqwest::StatusCode;

    use crate::{module::Registry, testing};

    async fn server(secure_cookies: bool) -> testing::TestServer {
        let mut env = testing::env(Arc::new(Registry::new(vec![]))).await.unwrap();
        let mut cfg = (*env.state.cfg).clone();
        cfg.secure_cookies = secure_cookies;
        env.state.cfg = Arc::new(cfg);
        testing::TestServer::start(env).await.unwrap()
    }

    fn assert_hardened(r: &reqwest::Response, what: &str) {
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
        assert!(
            !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{what}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
    }

    #[tokio::test]
    async fn web_every_response_carries_the_security_headers() {
        let srv = server(false).await;
        let http = reqwest::Client::new();
        for path in [
            "/login",
            "/healthz",
            "/no-such-page",
            "/api/v1/no-such-thing",
        ] {
            let r = http.get(srv.url(path)).send().await.unwrap();
            assert_hardened(&r, path);
            assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
            assert!(
                r.headers().get("strict-transport-security").is_none(),
                "{path}"
            );
        }
        // The one static file may be cached; it is the only script.
        let r = http.get(srv.url("/assets/app.js")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_hardened(&r, "app.js");
        assert_eq!(r.headers()["cache-control"], "public, max-age=3600");
        assert!(r.text().await.unwrap().contains("data-confirm"));

        // Behind TLS (secure cookies), HSTS too.
        let tls = server(true).await;
        let r = http.get(tls.url("/login")).send().await.unwrap();
        assert_hardened(&r, "tls /login");
        assert!(r.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
    }

    #[tokio::test]
    async fn web_healthz_says_ok_or_error_and_nothing_more() {
        let srv = server(false).await;
        let http = reqwest::Client::new();
        let r = http.get(srv.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.text().await.unwrap(), r#"{"status":"ok"}"#);
        srv.state().db.close().await;
        let r = http.get(srv.url("/healthz")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.text().await.unwrap(), r#"{"status":"error"}"#);
    }

    #[tokio::test]
    async fn web_csrf_token_in_the_url_counts_only_for_multipart() {
        let srv = server(false).await;
        let http = reqwest::Client::new();
        let r = http.get(srv.url("/login")).send().await.unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let token = cookie.strip_prefix("gh_csrf=").unwrap().to_string();
        let form = |q: &str, body: &str| {
            http.post(srv.url(&format!("/login{q}")))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string())
                .send()
        };
        // The token in the query of an url-encoded form: refused.
        let r = form(&format!("?_csrf={token}"), "username=a&password=b")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("CSRF"));
        // In the body: accepted (the sign-in itself then fails).
        let r = form("", &format!("_csrf={token}&username=a&password=b"))
            .await
            .unwrap();
        assert_ne!(r.status(), StatusCode::FORBIDDEN);
        // A JSON body with the token only in the query: refused.
        let r = http
            .post(srv.url(&format!("/login?_csrf={token}")))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // A multipart upload may carry it in the URL: past the check (the
        // sign-in form then refuses the multipart body).
        let r = http
            .post(srv.url(&format!("/login?_csrf={token}")))
            .header("cookie", &cookie)
            .multipart(reqwest::multipart::Form::new().text("username", "a"))
            .send()
            .await
            .unwrap();
        assert_ne!(r.status(), StatusCode::FORBIDDEN);
        let r = http
            .post(srv.url("/login"))
            .header("cookie", &cookie)
            .multipart(reqwest::multipart::Form::new().text("username", "a"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token anywhere");
    }
}
