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
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    crate::attachments::spawn_collector(&state);
    for m in state.registry.modules() {
        (m.on_start)(&state);
    }
    let app = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(state.db.pool())
        .await
    {
        Ok(_) => Json(serde_json::json!({"status": "ok"})).into_response(),
        Err(e) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "error", "error": e.to_string()})),
        )
            .into_response(),
    }
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
