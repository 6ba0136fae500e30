//! 会员实名制: the real-name member roster — persons, memberships and their
//! history, import/export, online join, transfers, member cards, search.

pub mod ident;
pub mod indicators;
pub mod store;

pub fn module() -> crate::modules::Module {
    crate::modules::Module {
        key: "members",
        nav: None,
        routes: || axum::Router::new(),
        openapi: || utoipa::openapi::OpenApiBuilder::new().build(),
        indicators: indicators::indicators,
    }
}
