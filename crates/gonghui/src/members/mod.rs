//! 会员实名制: the real-name member roster — persons, memberships and their
//! history, import/export, online join, transfers, member cards, search.

pub mod gen;
pub mod http;
pub mod ident;
pub mod import;
pub mod model;
pub mod store;
pub mod transfer;

pub fn module() -> crate::modules::Module {
    crate::modules::Module {
        key: "members",
        nav: Some(("nav.members", "/members")),
        routes: http::routes,
        openapi: http::openapi,
    }
}
