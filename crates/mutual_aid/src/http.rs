//! 互助保障 pages and the JSON API under /api/v1/mutual-aid. Claims are
//! decided on the platform's review pages (/reviews, /api/v1/reviews); their
//! files go through the platform's attachment routes (kind `mutual_aid_claim`).

use askama::Template;
use axum::{
    extract::{Path, State},
    response::Response,
    routing::get,
    Json,
};
use serde::Serialize;
use utoipa_axum::routes;

use crate::{
    rules::Payout,
    store::{self, ClaimInput, ClaimView, EnrolInput, Enrolled, Enrolment, Plan, PlanInput},
};
use platform::{
    error::AppResult,
    money::Fen,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/mutual-aid", get(index))
        .api(routes!(api_plans, api_plan_create))
        .api(routes!(api_enrolments, api_enrol))
        .api(routes!(api_claims, api_claim_create))
        .api(routes!(api_claim))
        .api(routes!(api_claim_submit))
}

pub struct PlanRow {
    pub plan: Plan,
    pub persons: i64,
    pub contributions: String,
}

#[derive(Template)]
#[template(path = "mutual_aid/index.html")]
struct IndexPage {
    c: Chrome,
    plans: Vec<PlanRow>,
    claims: Vec<ClaimView>,
    en: bool,
}

impl IndexPage {
    fn money(&self, fen: &i64) -> String {
        Fen::from_fen(*fen).display()
    }
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map(|f| Fen::from_fen(f).display())
            .unwrap_or_else(|| "—".into())
    }
    fn category(&self, k: &str) -> String {
        store::category_label(k, self.en)
    }
    fn status(&self, s: &str) -> &'static str {
        self.c.t(&format!("aid.status_{s}"))
    }
}

async fn index(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let scope = staff.scope();
    let mut plans = Vec::new();
    for p in store::plans(&st.db, scope).await? {
        let (persons, fen) = store::plan_totals(&st.db, scope, p.id).await?;
        plans.push(PlanRow {
            plan: p,
            persons,
            contributions: Fen::from_fen(fen).display(),
        });
    }
    let claims = store::claims(&st.db, scope).await?;
    let en = staff.ctx.tr().is_en();
    Ok(html(&IndexPage {
        c: Chrome::new(&staff, "mutual_aid"),
        plans,
        claims,
        en,
    }))
}

/// The plans offered to the caller's union (by it or an org above it) and
/// those of its subtree.
#[utoipa::path(get, path = "/api/v1/mutual-aid/plans", tag = "mutual_aid",
    responses((status = 200, body = [Plan])))]
async fn api_plans(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<Plan>>> {
    Ok(Json(store::plans(&st.db, staff.scope()).await?))
}

/// Creates a plan offered by the caller's union to its subtree.
#[utoipa::path(post, path = "/api/v1/mutual-aid/plans", tag = "mutual_aid", request_body = PlanInput,
    responses((status = 200, body = Plan), (status = 422)))]
async fn api_plan_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<PlanInput>,
) -> AppResult<Json<Plan>> {
    Ok(Json(store::create_plan(&st.db, staff.scope(), &f).await?))
}

/// The plan's enrolments in the caller's subtree (names with masked IDs).
#[utoipa::path(get, path = "/api/v1/mutual-aid/plans/{id}/enrolments", tag = "mutual_aid",
    params(("id" = i64, Path)), responses((status = 200, body = [Enrolment])))]
async fn api_enrolments(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Enrolment>>> {
    Ok(Json(store::enrolments(&st.db, staff.scope(), id).await?))
}

/// Enrols a roster selection (membership ids, or every active member of a
/// union) in the plan, all or nothing, and totals the contributions.
#[utoipa::path(post, path = "/api/v1/mutual-aid/plans/{id}/enrolments", tag = "mutual_aid",
    params(("id" = i64, Path)), request_body = EnrolInput,
    responses((status = 200, body = Enrolled), (status = 409), (status = 422)))]
async fn api_enrol(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(f): Json<EnrolInput>,
) -> AppResult<Json<Enrolled>> {
    Ok(Json(store::enrol(&st.db, staff.scope(), id, &f).await?))
}

/// Claims of the caller's subtree (the latest 500).
#[utoipa::path(get, path = "/api/v1/mutual-aid/claims", tag = "mutual_aid",
    responses((status = 200, body = [ClaimView])))]
async fn api_claims(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<ClaimView>>> {
    Ok(Json(store::claims(&st.db, staff.scope()).await?))
}

/// Records a claim as a draft; attach the plan's documents
/// (`/api/v1/attachments/mutual_aid_claim/{id}`, label = the document's
/// name), then submit.
#[utoipa::path(post, path = "/api/v1/mutual-aid/claims", tag = "mutual_aid", request_body = ClaimInput,
    responses((status = 200, body = ClaimView), (status = 422)))]
async fn api_claim_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(f): Json<ClaimInput>,
) -> AppResult<Json<ClaimView>> {
    Ok(Json(store::create_claim(&st.db, staff.scope(), &f).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ClaimDetail {
    pub claim: ClaimView,
    /// What the rules and caps give now (the paid amount once approved).
    pub payout: Option<Payout>,
    /// Why no payout can be computed (the person's cap reached …).
    pub payout_refused: Option<String>,
}

/// One claim, with the payout its plan's rules give now.
#[utoipa::path(get, path = "/api/v1/mutual-aid/claims/{id}", tag = "mutual_aid",
    params(("id" = i64, Path)), responses((status = 200, body = ClaimDetail), (status = 404)))]
async fn api_claim(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<ClaimDetail>> {
    let claim = store::get_claim(&st.db, staff.scope(), id).await?;
    let (payout, payout_refused) = if claim.status == "approved" || claim.status == "rejected" {
        (None, None)
    } else {
        match store::preview(&st.db, staff.scope(), id).await {
            Ok(p) => (Some(p), None),
            Err(platform::error::AppError::Invalid(m)) => {
                (None, Some(m.get(staff.ctx.lang).to_string()))
            }
            Err(e) => return Err(e),
        }
    };
    Ok(Json(ClaimDetail {
        claim,
        payout,
        payout_refused,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Submitted {
    /// The review item (`/api/v1/reviews/{id}`).
    pub review_id: i64,
}

/// Sends a draft claim up the review chain: 县区 review, then 市总 approves
/// (the payout is computed and paid into the ledger) or rejects.
#[utoipa::path(post, path = "/api/v1/mutual-aid/claims/{id}/submit", tag = "mutual_aid",
    params(("id" = i64, Path)), responses((status = 200, body = Submitted), (status = 409), (status = 422)))]
async fn api_claim_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Submitted>> {
    let r = store::submit_claim(&st.db, staff.scope(), id).await?;
    Ok(Json(Submitted { review_id: r.0 }))
}
