//! 组织: the org tree — 市总工会 → 县(区)总工会/产业工会 → 乡镇(街道)/联合工会 → 基层工会.

pub mod http;
pub mod indicators;
pub mod model;
pub mod store;

pub fn module() -> crate::modules::Module {
    crate::modules::Module {
        key: "orgs",
        nav: Some(("nav.orgs", "/orgs")),
        routes: http::routes,
        openapi: http::openapi,
        indicators: indicators::indicators,
        on_start: |_| {},
    }
}
