//! The authorization matrix, generated from the router: every registered
//! path (`Registry::paths()`: the platform's pages and API and every
//! module's) × GET, POST, PATCH, DELETE × every demo role × an object inside
//! the caller's subtree, one in another county (SF-02) and one that does not
//! exist. What each role may get is the table below; a path or a method the
//! table does not know fails the test, naming it, so a route lands with its
//! row.
//!
//! Requests that change state are kept safe: JSON bodies are a bare string
//! and forms carry no field but the token, which every handler refuses
//! (422) before acting; the few routes that act without a body are marked
//! `acts`, and where the table expects them to succeed they are not sent.
//!
//! `MATRIX_PRINT=1 cargo test -p gonghui --test it matrix -- --nocapture`
//! prints the observed table in the table's own syntax (to review a change).

use std::collections::{BTreeMap, BTreeSet};

use gonghui::testing::{self, TestServer};
use reqwest::{redirect::Policy, Method, StatusCode};

use crate::common::{csrf_in, PW};

/// Anonymous, then city (示范市总工会), county (秦川区, SF-01) and
/// grassroots (SF-01-S1-001) accounts, and a merchant's clerk (the city's
/// cinema: no staff page, no roster, only the redemption pages).
const ROLES: [&str; 8] = [
    "anon",
    "sf_admin",
    "sf_staff",
    "sf_auditor",
    "qinchuan_admin",
    "qinchuan_staff",
    "jc_clerk",
    "merchant_clerk",
];

const METHODS: [&str; 4] = ["GET", "POST", "PATCH", "DELETE"];

/// What a path parameter is filled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    /// An object of the grassroots union SF-01-S1-001: inside every
    /// signed-in role's subtree.
    In,
    /// An object of the SF-02 county: inside the city's subtree only.
    Other,
    /// An id that does not exist.
    Absent,
}

/// One row: `"METHOD /path"`, then per role in [`ROLES`] order the class
/// expected for `in/other/absent` (or one class for a path without
/// parameters). Classes: `ok` (2xx, or a 3xx that is not the sign-in page),
/// `login` (401, or a redirect to /login), `400`, `403`, `404`, `409`, `422`.
struct Row {
    route: &'static str,
    acts: bool,
    cells: [&'static str; 8],
}

const fn r(route: &'static str, cells: [&'static str; 8]) -> Row {
    Row {
        route,
        acts: false,
        cells,
    }
}

/// A row whose request acts without a body: where `ok` is expected it is not sent.
const fn acts(route: &'static str, cells: [&'static str; 8]) -> Row {
    Row {
        route,
        acts: true,
        cells,
    }
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // TABLE-BEGIN
    // A clerk lands on its redemption page (Module::homes).
    r("GET /", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    acts("DELETE /api/v1/attachments/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /api/v1/attachments/{kind}/{owner_id}", ["login/login/login", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "403/403/403"]),
    r("POST /api/v1/attachments/{kind}/{owner_id}", ["login/login/login", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "403/403/403"]),
    r("POST /api/v1/cards/verify", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    r("GET /api/v1/joins", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    acts("POST /api/v1/joins/{id}/approve", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/joins/{id}/reject", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/members", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/members", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/members/counts", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/members/export", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("POST /api/v1/members/import", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /api/v1/members/import/{job}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /api/v1/members/transfers", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/members/transfers", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("POST /api/v1/members/transfers/{id}/approve", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/members/transfers/{id}/reject", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/members/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/members/{id}/unmask", ["login/login/login", "ok/ok/404", "403/403/404", "403/403/404", "403/404/404", "403/404/404", "403/404/404", "403/403/403"]),
    r("GET /api/v1/openapi.json", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /api/v1/orgs", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/orgs/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("PATCH /api/v1/orgs/{id}", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/orgs/{id}/children", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/orgs/{id}/children", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/orgs/{id}/close", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/orgs/{id}/history", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/orgs/{id}/move", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/reports/drill", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/reports/figures", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/reports/indicators", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/reports/manual", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/reports/manual", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/reviews/inbox", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/reviews/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/reviews/{id}/approve", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/reviews/{id}/reject", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/reviews/{id}/resubmit", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/reviews/{id}/return", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /attachments/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /audit", ["login", "ok", "403", "ok", "ok", "403", "403", "403"]),
    // A clerk verifies cards too (and redeems on /redeem).
    r("GET /cards/verify", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /cards/view", ["404", "404", "404", "404", "404", "404", "404", "404"]),
    r("GET /healthz", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /join", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /join/status", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("POST /join/status", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    r("POST /join/status/code", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    r("GET /join/{code}", ["ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404"]),
    r("POST /join/{code}", ["422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404"]),
    r("POST /join/{code}/code", ["422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404", "422/404/404"]),
    r("GET /lang/{code}", ["ok/ok/ok", "ok/ok/ok", "ok/ok/ok", "ok/ok/ok", "ok/ok/ok", "ok/ok/ok", "ok/ok/ok", "ok/ok/ok"]),
    r("GET /login", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("POST /login", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    acts("POST /logout", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /members", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /members", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    // A form of the roster page: the caller's own scope, masked.
    r("POST /members/export", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /members/import", ["login", "ok", "ok", "403", "ok", "ok", "ok", "403"]),
    r("POST /members/import", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /members/import/template.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /members/import/{job}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /members/import/{job}/rejects.xlsx", ["login/login/login", "ok/ok/404", "403/403/404", "403/403/404", "403/404/404", "403/404/404", "403/404/404", "403/403/403"]),
    r("GET /members/joins", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /members/joins/qr", ["login", "404", "404", "404", "404", "404", "404", "403"]),
    acts("POST /members/joins/{id}/approve", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /members/joins/{id}/reject", ["login/login/login", "422/422/422", "422/422/422", "403/403/403", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /members/new", ["login", "ok", "ok", "403", "ok", "ok", "ok", "403"]),
    r("GET /members/transfers", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /members/transfers", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    acts("POST /members/transfers/{id}/approve", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /members/transfers/{id}/reject", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /members/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /members/{id}/card", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    acts("POST /members/{id}/card", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /members/{id}/status", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /members/{id}/unmask", ["login/login/login", "ok/ok/404", "403/403/404", "403/403/404", "403/404/404", "403/404/404", "403/404/404", "403/403/403"]),
    r("GET /metrics", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /orgs", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /orgs/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /orgs/{id}/children", ["login/login/login", "422/422/404", "422/422/404", "422/422/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    acts("POST /orgs/{id}/close", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /orgs/{id}/edit", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /orgs/{id}/edit", ["login/login/login", "422/422/404", "422/422/404", "422/422/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    r("POST /orgs/{id}/move", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /orgs/{id}/new", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /reports", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /reports/drill", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("POST /reports/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /reports/manual", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /reports/manual", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /reports/table", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /reviews", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /reviews/{id}", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /users", ["login", "ok", "403", "403", "ok", "403", "403", "403"]),
    r("POST /users", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /assets/app.js", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /password", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /api/v1/orgs/{id}/workforce", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/orgs/{id}/workforce", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/orgs/workforce/import", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("POST /api/v1/reports/return", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("POST /orgs/{id}/workforce", ["login/login/login", "422/422/404", "422/422/404", "422/422/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    r("GET /orgs/workforce/import", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /orgs/workforce/import", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /orgs/workforce/template.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /reports/return", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /reports/return", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    // The form is refused before the session is looked at: nothing is said.
    r("POST /password", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    // An unknown action is refused for everyone; the actions themselves
    // (inside the subtree, outside 404) are tested in tests/it/accounts.rs.
    r("POST /users/{id}/{action}", ["login/login/login", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "404/404/404", "403/403/403"]),
    r("POST /api/v1/members/search", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    // Seals the term and redirects to the list: every signed-in caller.
    r("POST /members/search", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    // 普惠 (benefits): staff manage merchants in their subtree; the clerk
    // reaches only the redemption page and API of its merchant.
    r("GET /benefits", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /benefits", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /benefits/merchants/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /benefits/merchants/{id}/offers", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /benefits/merchants/{id}/clerks", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /benefits/merchants/{id}/status", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /benefits/campaigns", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /benefits/campaigns", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /benefits/usage", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /benefits/settlement.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /benefits/usage.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    // The member's own page, by the card's token: without one, nothing.
    r("GET /benefits/mine", ["404", "404", "404", "404", "404", "404", "404", "404"]),
    r("GET /redeem", ["login", "403", "403", "403", "403", "403", "403", "ok"]),
    r("POST /redeem", ["login", "403", "403", "403", "403", "403", "403", "422"]),
    r("GET /api/v1/benefits/merchants", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/benefits/merchants", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/benefits/merchants/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/benefits/merchants/{id}/offers", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/benefits/merchants/{id}/clerks", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/benefits/offers", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/benefits/campaigns", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/benefits/campaigns", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/benefits/usage", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/benefits/settlement", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/benefits/redeem", ["login", "403", "403", "403", "403", "403", "403", "422"]),
    r("GET /api/v1/benefits/redemptions/today", ["login", "403", "403", "403", "403", "403", "403", "ok"]),
    r("POST /api/v1/reports/summary", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/reports/summary/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /reports/summary", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /reports/summary", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /reports/summary/sections", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    // The form with no rows: the admin's empty list is saved (defaults
    // apply), others are refused.
    acts("POST /reports/summary/sections", ["login", "ok", "403", "403", "ok", "403", "403", "403"]),
    r("POST /reports/summary/{id}/add", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /reports/summary/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /reports/summary/{id}/download", ["login/login/login", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "403/403/403"]),
    r("POST /reports/summary/{id}/edit", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    acts("POST /reports/summary/{id}/refresh", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    acts("POST /reports/summary/{id}/submit", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    acts("POST /reports/summary/{id}/version", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/403", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    // 阵地: "附近的驿站" (page, API, script) is public; the JSON near API without a
    // position is refused (422) for everyone.
    r("GET /api/v1/stations", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/stations", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/stations/near", ["422", "422", "422", "422", "422", "422", "422", "422"]),
    r("GET /api/v1/stations/townships", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/stations/townships", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/stations/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("PATCH /api/v1/stations/{id}", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/stations/{id}/visits", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /assets/stations.js", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /stations", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /stations", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("GET /stations/circle", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /stations/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /stations/near", ["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok"]),
    r("GET /stations/new", ["login", "ok", "ok", "403", "ok", "ok", "ok", "403"]),
    r("POST /stations/townships", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("GET /stations/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /stations/{id}/edit", ["login/login/login", "ok/ok/404", "ok/ok/404", "403/403/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /stations/{id}/edit", ["login/login/login", "422/422/404", "422/422/404", "403/403/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    r("POST /stations/{id}/visits", ["login/login/login", "422/422/404", "422/422/404", "403/403/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    // 互助保障: the demo's one plan is the city's, offered to every union
    // (none outside); its first claim in SF-01-S1-001 is already decided (409 to
    // submit again); SF-02 has no claim.
    r("GET /api/v1/mutual-aid/claims", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/mutual-aid/claims", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/mutual-aid/claims/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    acts("POST /api/v1/mutual-aid/claims/{id}/submit", ["login/login/login", "409/409/404", "409/409/404", "403/403/404", "409/404/404", "409/404/404", "409/404/404", "403/403/403"]),
    r("GET /api/v1/mutual-aid/enrolments", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/mutual-aid/enrolments/sheet", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /api/v1/mutual-aid/ledger", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /api/v1/mutual-aid/plans", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/mutual-aid/plans", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/mutual-aid/plans/{id}/enrolments", ["login/login/login", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/mutual-aid/plans/{id}/enrolments", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /mutual-aid", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /mutual-aid/claims", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /mutual-aid/claims", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("POST /mutual-aid/claims/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /mutual-aid/claims/new", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /mutual-aid/claims/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /mutual-aid/claims/{id}/files", ["login/login/login", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "403/403/403"]),
    r("POST /mutual-aid/claims/{id}/review", ["login/login/login", "422/422/404", "422/422/404", "403/403/404", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    r("POST /mutual-aid/claims/{id}/submit", ["login/login/login", "409/409/404", "409/409/404", "403/403/404", "409/404/404", "409/404/404", "409/404/404", "403/403/403"]),
    r("GET /mutual-aid/enrolments", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /mutual-aid/enrolments", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("POST /mutual-aid/enrolments/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /mutual-aid/enrolments/sheet", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /mutual-aid/ledger", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /mutual-aid/ledger/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /mutual-aid/plans", ["login", "422", "403", "403", "403", "403", "403", "403"]),
    r("GET /mutual-aid/plans/{id}", ["login/login/login", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    // 帮扶救助 (crates/hardship): files, campaigns, applications.
    r("GET /api/v1/hardship/batches", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/batches", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("POST /api/v1/hardship/batches/import", ["login", "400", "400", "400", "400", "400", "400", "403"]),
    r("GET /api/v1/hardship/batches/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/hardship/batches/{id}/pay", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/hardship/campaigns", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/campaigns", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/hardship/campaigns/{id}", ["login/login/login", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/hardship/campaigns/{id}/allocations", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("GET /api/v1/hardship/files", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/files", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/hardship/files/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/bank", ["login/login/login", "ok/ok/404", "403/403/404", "403/403/404", "403/404/404", "403/404/404", "403/404/404", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/close", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/confirm", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/objections", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/recheck", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/hardship/lines", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/hardship/rechecks", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/rechecks", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /hardship", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /hardship/batches/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /hardship/batches/{id}/approval.docx", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/batches/{id}/print", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/campaigns", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /hardship/campaigns/{id}", ["login/login/login", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/files", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    // Exports (POST, masked, audited): the file list; a campaign's disbursements in the caller's subtree.
    r("POST /hardship/files/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /hardship/campaigns/{id}/grants.xlsx", ["login/login/login", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/files/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("POST /hardship/batches/{id}/pay", ["login/login/login", "422/422/404", "422/422/404", "403/403/403", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    r("POST /hardship/campaigns/{id}/apply", ["login/login/login", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "400/400/400", "403/403/403"]),
    r("POST /hardship/files/{id}/close", ["login/login/login", "422/422/404", "422/422/404", "403/403/403", "422/404/404", "422/404/404", "422/404/404", "403/403/403"]),
    // 困难职工档案: the form (new, edit after a return), its API (crates/hardship/src/file_pages.rs).
    r("GET /hardship/files/new", ["login", "ok", "ok", "403", "ok", "ok", "ok", "403"]),
    r("POST /hardship/files/new", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("GET /hardship/files/{id}/edit", ["login/login/login", "409/409/404", "409/409/404", "409/409/404", "409/404/404", "409/404/404", "409/404/404", "403/403/403"]),
    r("POST /hardship/files/{id}/edit", ["login/login/login", "409/409/404", "409/409/404", "403/403/403", "409/404/404", "409/404/404", "409/404/404", "403/403/403"]),
    r("POST /api/v1/hardship/files/{id}/resubmit", ["login/login/login", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "422/422/422", "403/403/403"]),
    r("POST /api/v1/hardship/income-test", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    // 走访慰问 and 春送岗位 (crates/hardship: visits.rs, jobs.rs).
    r("GET /api/v1/hardship/visits", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/visits", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/hardship/visits/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /api/v1/hardship/fairs", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /api/v1/hardship/fairs", ["login", "422", "422", "422", "422", "422", "422", "403"]),
    r("GET /api/v1/hardship/fairs/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/visits", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /hardship/visits", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("POST /hardship/visits/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /hardship/visits/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    r("GET /hardship/fairs", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("POST /hardship/fairs", ["login", "422", "422", "403", "422", "422", "422", "403"]),
    r("POST /hardship/fairs/export.xlsx", ["login", "ok", "ok", "ok", "ok", "ok", "ok", "403"]),
    r("GET /hardship/fairs/{id}", ["login/login/login", "ok/ok/404", "ok/ok/404", "ok/ok/404", "ok/404/404", "ok/404/404", "ok/404/404", "403/403/403"]),
    // TABLE-END
];

/// Ids of the demo's objects, per kind of path parameter.
struct Ids {
    by_kind: BTreeMap<&'static str, [i64; 3]>,
}

const ABSENT: i64 = 987_654_321;

/// The kind of object a parameter names, from the path: a parameter the
/// matrix cannot fill fails the test, naming the path.
fn param_kind(path: &str, name: &str) -> &'static str {
    let p = path.trim_start_matches("/api/v1");
    match name {
        "code" if p.starts_with("/lang/") => "lang",
        "code" if p.starts_with("/join/") => "join_code",
        "job" => "job",
        "kind" if p.starts_with("/attachments/") => "owner_kind",
        "owner_id" if p.starts_with("/attachments/") => "member",
        "id" if p.starts_with("/orgs/") => "org",
        "id" if p.starts_with("/benefits/merchants/") => "merchant",
        "id" if p.starts_with("/hardship/files/") => "hardship_file",
        "id" if p.starts_with("/hardship/campaigns/") => "hardship_campaign",
        "id" if p.starts_with("/hardship/batches/") => "hardship_batch",
        "id" if p.starts_with("/hardship/visits/") => "hardship_visit",
        "id" if p.starts_with("/hardship/fairs/") => "hardship_fair",
        "id" if p.starts_with("/members/transfers/") => "transfer",
        "id" if p.starts_with("/members/joins/") || p.starts_with("/joins/") => "join",
        "id" if p.starts_with("/members/") => "member",
        "id" if p.starts_with("/reviews/") => "review",
        "id" if p.starts_with("/stations/") => "station",
        "id" if p.starts_with("/mutual-aid/plans/") => "aid_plan",
        "id" if p.starts_with("/mutual-aid/claims/") => "aid_claim",
        "id" if p.starts_with("/attachments/") => "attachment",
        "id" if p.starts_with("/users/") => "user",
        "id" if p.starts_with("/reports/summary/") => "summary",
        // An action no handler knows: every caller is refused, nothing changes.
        "action" if p.starts_with("/users/") => "user_action",
        _ => panic!("{path}: the matrix does not know what {{{name}}} names; teach param_kind"),
    }
}

impl Ids {
    async fn load(server: &TestServer) -> Ids {
        let pool = server.state().db.pool();
        let path_of = |code: &'static str| async move {
            sqlx::query_scalar::<_, String>("SELECT path FROM orgs WHERE code = $1")
                .bind(code)
                .fetch_one(pool)
                .await
                .unwrap()
        };
        let inside = path_of("SF-01-S1-001").await;
        let other = path_of("SF-02").await;
        let first = |sql: String, prefix: String| async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(format!("{prefix}%"))
                .fetch_optional(pool)
                .await
                .unwrap()
                .unwrap_or(ABSENT)
        };
        let mut by_kind = BTreeMap::new();
        for (kind, table, org_col) in [
            ("org", "orgs", "id"),
            ("member", "memberships", "org_id"),
            ("transfer", "transfers", "from_org_id"),
            ("join", "join_requests", "org_id"),
            ("job", "import_jobs", "org_id"),
            ("review", "review_items", "org_id"),
            ("attachment", "attachments", "org_id"),
            ("user", "users", "org_id"),
            ("summary", "summary_drafts", "org_id"),
            ("merchant", "merchants", "org_id"),
            ("station", "stations", "org_id"),
            ("aid_claim", "aid_claims", "org_id"),
            ("hardship_file", "hardship_files", "org_id"),
            ("hardship_batch", "hardship_batches", "org_id"),
            ("hardship_visit", "hardship_visits", "org_id"),
            ("hardship_fair", "hardship_fairs", "org_id"),
        ] {
            let sql = format!(
                "SELECT t.id FROM {table} t JOIN orgs o ON o.id = t.{org_col} \
                 WHERE o.path LIKE $1 ORDER BY o.path, t.id LIMIT 1"
            );
            let a = first(sql.clone(), inside.clone()).await;
            let b = first(sql, other.clone()).await;
            by_kind.insert(kind, [a, b, ABSENT]);
        }
        // The demo's one mutual-aid plan is the city's, offered to every
        // union below it: inside for everyone; there is none outside.
        let plan = sqlx::query_scalar::<_, i64>("SELECT id FROM aid_plans ORDER BY id LIMIT 1")
            .fetch_optional(pool)
            .await
            .unwrap()
            .unwrap_or(ABSENT);
        by_kind.insert("aid_plan", [plan, ABSENT, ABSENT]);
        // Campaigns are the city's: every signed-in role works in them.
        let campaign = sqlx::query_scalar::<_, i64>("SELECT MIN(id) FROM hardship_campaigns")
            .fetch_one(pool)
            .await
            .unwrap();
        by_kind.insert("hardship_campaign", [campaign, ABSENT, ABSENT]);
        Ids { by_kind }
    }

    fn fill(&self, path: &str, t: Target) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let j = rest[i..].find('}').unwrap() + i;
            let name = &rest[i + 1..j];
            let v = match param_kind(path, name) {
                "lang" => "en".to_string(),
                "user_action" => "no-such-action".to_string(),
                "owner_kind" => "membership".to_string(),
                "join_code" => match t {
                    Target::In => "SF-01-S1-001".into(),
                    Target::Other => "SF-02".into(),
                    Target::Absent => "NO-SUCH-ORG".into(),
                },
                kind => self.by_kind[kind][t as usize].to_string(),
            };
            out.push_str(&v);
            rest = &rest[j + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Uploads a roster with one refused row as `user` (the job belongs to the
/// user's org) and waits until the job has finished.
async fn import_job(server: &TestServer, user: &str) {
    let c = crate::common::Client::signed_in(server, user).await;
    let csv = "姓名,身份证号,手机号\n张三,123,1\n".as_bytes().to_vec();
    let r = c.upload("/api/v1/members/import", csv, "matrix.csv").await;
    assert!(r.status().is_success(), "{user}: import {}", r.status());
    let job: serde_json::Value = r.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    for _ in 0..200 {
        let (_, v) = c.get_json(&format!("/api/v1/members/import/{id}")).await;
        if v["status"] != "running" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{user}: import job {id} did not finish");
}

struct Caller {
    http: reqwest::Client,
    csrf: String,
}

async fn caller(base: &str, user: &str) -> Caller {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut csrf = csrf_in(&page).expect("login form has a csrf token");
    // A clerk has no staff page: it lands on the redemption page.
    let landing = if user == "merchant_clerk" {
        "/redeem"
    } else {
        "/orgs"
    };
    if user != "anon" {
        let r = http
            .post(format!("{base}/login"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", user),
                ("password", PW),
                ("next", landing),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_redirection(),
            "login as {user}: {}",
            r.status()
        );
        // The signed-in pages carry the session's token (follow /orgs's redirects).
        let mut url = landing.to_string();
        let page = loop {
            let r = http.get(format!("{base}{url}")).send().await.unwrap();
            match r.headers().get("location").and_then(|l| l.to_str().ok()) {
                Some(l) if r.status().is_redirection() => url = l.to_string(),
                _ => break r.text().await.unwrap(),
            }
        };
        csrf = csrf_in(&page).unwrap_or_else(|| panic!("{user}: no csrf token on {url}"));
    }
    Caller { http, csrf }
}

/// The outcome class of a response, and a short description for messages.
async fn class(resp: reqwest::Response) -> (String, String) {
    let s = resp.status();
    let loc = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.text().await.unwrap_or_default();
    let c = if s == StatusCode::UNAUTHORIZED || (s.is_redirection() && loc.starts_with("/login")) {
        "login".to_string()
    } else if s.is_success() || s.is_redirection() {
        "ok".to_string()
    } else {
        s.as_u16().to_string()
    };
    let short: String = body.chars().take(160).collect();
    (c, format!("{s} {loc} {short}"))
}

async fn send(c: &Caller, base: &str, method: &str, url: &str, api: bool) -> reqwest::Response {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut rb = c
        .http
        .request(m.clone(), format!("{base}{url}"))
        .header("x-csrf-token", &c.csrf);
    if m != Method::GET {
        rb = if api {
            // A JSON string: no request struct deserialises from it.
            rb.header("content-type", "application/json")
                .body("\"matrix\"")
        } else {
            rb.header("content-type", "application/x-www-form-urlencoded")
                .body(format!("_csrf={}", c.csrf))
        };
    }
    rb.send().await.unwrap()
}

fn targets(path: &str) -> Vec<Target> {
    if path.contains('{') {
        vec![Target::In, Target::Other, Target::Absent]
    } else {
        vec![Target::In]
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let started = std::time::Instant::now();
    let mut env = testing::demo_env().await.unwrap();
    // Thousands of requests from one address: the public pages' per-IP
    // limit (tests/it/join_limits.rs) would answer 429 to the later callers.
    std::sync::Arc::make_mut(&mut env.state.cfg).public_per_minute = 0;
    let server = TestServer::start(env).await.unwrap();
    let base = server.url("");
    let base = base.trim_end_matches('/').to_string();
    // The demo has no import jobs: one inside (SF-01-S1-001) and one in SF-02.
    for user in ["jc_clerk", "weishui_admin"] {
        import_job(&server, user).await;
    }
    let ids = Ids::load(&server).await;
    let registry = gonghui::modules::registry();
    let mut paths: BTreeMap<String, bool> = BTreeMap::new();
    for p in registry.paths() {
        paths.insert(p.path.clone(), p.api);
    }
    for must in [
        "/login",
        "/logout",
        "/lang/{code}",
        "/audit",
        "/users",
        "/",
        "/healthz",
    ] {
        assert!(paths.contains_key(must), "{must} is in Registry::paths()");
    }
    let table: BTreeMap<&str, &Row> = TABLE.iter().map(|row| (row.route, row)).collect();
    assert_eq!(table.len(), TABLE.len(), "a route is in the table twice");

    let print = std::env::var("MATRIX_PRINT").is_ok();
    let mut callers = Vec::new();
    for role in ROLES {
        callers.push(caller(&base, role).await);
    }
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut requests = 0usize;
    let mut printed = Vec::new();
    for (path, &api) in &paths {
        for method in METHODS {
            let route = format!("{method} {path}");
            let row = table.get(route.as_str()).copied();
            let mut cells = Vec::new();
            for (ri, role) in ROLES.iter().enumerate() {
                let expected: Option<Vec<&str>> = row.map(|row| row.cells[ri].split('/').collect());
                let mut got = Vec::new();
                for (ti, t) in targets(path).into_iter().enumerate() {
                    let want = expected.as_ref().and_then(|e| e.get(ti).copied());
                    if row.is_some_and(|row| row.acts) && want == Some("ok") {
                        got.push("ok".to_string());
                        continue;
                    }
                    let url = ids.fill(path, t);
                    let resp = send(&callers[ri], &base, method, &url, api).await;
                    requests += 1;
                    let status = resp.status();
                    let (c, detail) = class(resp).await;
                    if status == StatusCode::METHOD_NOT_ALLOWED {
                        got.push("405".into());
                        if let Some(w) = want {
                            failures.push(format!(
                                "{route}: the table says {role} gets {w} for {t:?} ({url}), but the method is not routed (405)"
                            ));
                        }
                        continue;
                    }
                    match want {
                        None if row.is_none() => {}
                        None => failures.push(format!(
                            "{route}: the row for {role} has no class for {t:?}"
                        )),
                        Some(w) if w != c => failures.push(format!(
                            "{route} as {role} on {t:?} ({url}): expected {w}, got {c}: {detail}"
                        )),
                        Some(_) => {}
                    }
                    if c == "404" && path.starts_with("/api/") && !detail.contains("not_found") {
                        failures.push(format!(
                            "{route} as {role} on {t:?}: a 404 must be the plain not_found: {detail}"
                        ));
                    }
                    got.push(c);
                }
                cells.push(got.join("/"));
            }
            if cells.iter().all(|c| c.split('/').all(|x| x == "405")) {
                if row.is_some() {
                    failures.push(format!(
                        "{route}: in the table but not routed (405 for everyone)"
                    ));
                }
                continue;
            }
            seen.insert(route.clone());
            if row.is_none() {
                failures.push(format!(
                    "{route}: not in the authorization table (tests/it/matrix.rs); add its row"
                ));
            }
            // Outside the subtree is indistinguishable from absent.
            for (ri, role) in ROLES.iter().enumerate().skip(4) {
                let parts: Vec<&str> = cells[ri].split('/').collect();
                if parts.len() == 3 && parts[1] != parts[2] {
                    failures.push(format!(
                        "{route} as {role}: an SF-02 object answers {} but an absent one {}",
                        parts[1], parts[2]
                    ));
                }
            }
            printed.push(format!(
                "    {}(\"{route}\", [{}]),",
                if row.is_some_and(|r| r.acts) {
                    "acts"
                } else {
                    "r"
                },
                cells
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    for row in TABLE {
        if !seen.contains(row.route) {
            failures.push(format!(
                "{}: in the table but not a registered route",
                row.route
            ));
        }
    }
    if print {
        println!("{}", printed.join("\n"));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "matrix: {} routes × {} roles, {requests} requests, {secs:.1} s",
        seen.len(),
        ROLES.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The API document declares the error answers (the `Error` schema) the
/// fuzzing in CI (e2e/fuzz.sh) checks the responses against, and the
/// multipart uploads.
#[test]
fn the_api_document_declares_errors_and_uploads() {
    let doc = serde_json::to_value(gonghui::modules::registry().openapi()).unwrap();
    assert!(doc["components"]["schemas"]["Error"]["properties"]["error"].is_object());
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "patch", "delete", "put"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let responses = &op["responses"];
            // Public operations (`security(())`: the document, 附近的驿站)
            // answer no 401.
            if path == "/api/v1/openapi.json" || op["security"] == serde_json::json!([{}]) {
                assert!(responses.get("401").is_none(), "{path} is public");
                continue;
            }
            for status in ["401", "403", "404"] {
                assert!(
                    responses[status]["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/Error"))
                        || responses[status]["content"].is_object(),
                    "{method} {path}: {status} declared with the Error shape: {responses}"
                );
            }
            if op.get("requestBody").is_some() {
                assert!(responses["422"].is_object(), "{method} {path}: 422");
            }
        }
    }
    assert!(operations >= 40, "{operations}");
    for path in [
        "/api/v1/members/import",
        "/api/v1/attachments/{kind}/{owner_id}",
    ] {
        assert!(
            doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"].is_object(),
            "{path} documents its multipart body"
        );
    }
}

/// Regression: axum's own refusals of a malformed body, query or upload
/// were plain text under /api/; they now have the API's error shape (which
/// the document declares), their status kept.
#[tokio::test]
async fn malformed_api_requests_get_the_json_error_shape() {
    let server = TestServer::start(testing::demo_env().await.unwrap())
        .await
        .unwrap();
    let base = server.url("");
    let base = base.trim_end_matches('/').to_string();
    let c = caller(&base, "sf_admin").await;
    for (method, path, content_type, body, status) in [
        ("POST", "/api/v1/members", "application/json", "\"x\"", 422),
        ("POST", "/api/v1/members", "application/json", "{", 400),
        ("POST", "/api/v1/members", "text/plain", "x", 415),
        (
            "POST",
            "/api/v1/members/import",
            "multipart/form-data",
            "x",
            400,
        ),
        ("GET", "/api/v1/members?page=many", "", "", 400),
    ] {
        let mut rb = c
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{base}{path}"),
            )
            .header("x-csrf-token", &c.csrf);
        if !content_type.is_empty() {
            rb = rb.header("content-type", content_type).body(body);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(
            r.status().as_u16(),
            status,
            "{method} {path} {content_type}"
        );
        let v: serde_json::Value = r.json().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(v["error"]["code"], "invalid", "{path}: {v}");
        assert!(
            v["error"]["message_zh"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
                && v["error"]["message_en"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
    }
}
