//! The module registry: each business module declares its routes, its
//! navigation entry and its OpenAPI paths here once; the platform assembles
//! them. Adding a module touches its own folder and one line below.

use axum::Router;

use crate::platform::web::AppState;

pub struct Module {
    pub key: &'static str,
    /// (i18n key of the label, href) in the navigation bar.
    pub nav: Option<(&'static str, &'static str)>,
    pub routes: fn() -> Router<AppState>,
    pub openapi: fn() -> utoipa::openapi::OpenApi,
    /// The module's statistical indicators (see `reports::indicator`).
    pub indicators: fn() -> Vec<crate::reports::indicator::Indicator>,
    /// Called once when the server starts listening; must not block
    /// (background work is spawned).
    pub on_start: fn(&AppState),
}

pub fn all() -> Vec<Module> {
    vec![
        crate::reports::module(),
        crate::orgs::module(),
        crate::members::module(),
    ]
}

/// (module key, label key, href) for the layout.
pub fn nav() -> Vec<(&'static str, &'static str, &'static str)> {
    all()
        .into_iter()
        .filter_map(|m| m.nav.map(|(label, href)| (m.key, label, href)))
        .collect()
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Gonghui 智慧工会 API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "JSON API. Sign in through /login (session cookie); state-changing calls need the X-CSRF-Token header.",
                ))
                .build(),
        )
        .build();
    for m in all() {
        doc.merge((m.openapi)());
    }
    doc
}
