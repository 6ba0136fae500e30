//! 统计: the indicator catalogue, figures for any subtree and period,
//! dashboards and exports.

pub mod numfmt;
pub mod svg;

pub fn module() -> crate::modules::Module {
    crate::modules::Module {
        key: "reports",
        nav: Some(("nav.reports", "/reports")),
        routes: || axum::Router::new(),
        openapi: || utoipa::openapi::OpenApiBuilder::new().build(),
    }
}
