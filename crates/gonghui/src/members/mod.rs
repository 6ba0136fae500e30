//! 会员实名制: the real-name member roster — persons, memberships and their
//! history, import/export, online join, transfers, member cards, search.

pub mod card;
pub mod gen;
pub mod http;
pub mod ident;
pub mod import;
pub mod indicators;
pub mod join;
pub mod model;
pub mod sqlite_bulk;
pub mod store;
pub mod transfer;

pub fn module() -> crate::modules::Module {
    crate::modules::Module {
        key: "members",
        nav: Some(("nav.members", "/members")),
        routes: || {
            axum::Router::new()
                .merge(http::routes())
                .merge(join::routes())
                .merge(card::routes())
        },
        openapi: || {
            let mut doc = http::openapi();
            doc.merge(join::openapi());
            doc.merge(card::openapi());
            doc
        },
        indicators: indicators::indicators,
        on_start: |_| {},
    }
}
