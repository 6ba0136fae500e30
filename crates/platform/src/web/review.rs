//! The review chain on the web: the inbox page `/reviews` and the JSON API
//! under `/api/v1/reviews`. Both call `crate::review`, which does every
//! check; an action resolves the item's kind from the key on its row.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{ctx::Staff, html, pages::Chrome, AppState, Routes};
use crate::{
    error::{AppError, AppResult},
    review::{self, Action, ReviewId, ReviewItem, Status, StepRow},
    scope::Scope,
    time,
};

/// The inbox page and the review API, registered with its documentation.
pub fn routes() -> Routes {
    Routes::new()
        .page("/reviews", get(page))
        .page("/reviews/{id}", post(page_act))
        .api(routes!(api_inbox))
        .api(routes!(api_get))
        .api(routes!(api_approve))
        .api(routes!(api_return))
        .api(routes!(api_reject))
        .api(routes!(api_resubmit))
}

/// The body of an action.
#[derive(Deserialize, ToSchema)]
struct ActBody {
    /// The item's kind, if the caller wants it checked; taken from the item otherwise.
    #[serde(default)]
    kind: Option<String>,
    /// Required to return or reject.
    #[serde(default)]
    comment: String,
}

/// An item and every step taken on it.
#[derive(Serialize, ToSchema)]
struct ReviewDetail {
    item: ReviewItem,
    history: Vec<StepRow>,
}

/// Takes `action` on item `id`, with the kind registered under the key the
/// item carries (a kind no module registers any more is a deployment fault).
async fn run(
    st: &AppState,
    scope: &Scope,
    id: ReviewId,
    kind_hint: Option<&str>,
    action: Action,
    comment: &str,
) -> AppResult<ReviewItem> {
    // Scoped (and audited) first, so a probe learns nothing from the kind.
    let item = review::get(&st.db, scope, id).await?;
    if kind_hint.is_some_and(|k| k != item.kind) {
        return Err(AppError::invalid(
            "审批事项的类型与请求不符",
            "The item's kind is not the one in the request",
        ));
    }
    let kind = st.registry.review_kind(&item.kind).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "review kind {} is not registered",
            item.kind
        ))
    })?;
    review::act(&st.db, scope, kind.as_ref(), id, comment, action).await
}

/// What waits for the caller's org: items at its step, items returned to it.
#[utoipa::path(get, path = "/api/v1/reviews/inbox", tag = "reviews",
    responses((status = 200, body = [ReviewItem])))]
async fn api_inbox(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<ReviewItem>>> {
    Ok(Json(review::inbox(&st.db, staff.scope()).await?))
}

/// An item and its history; 404 outside the caller's subtree unless its org
/// decides a step (and the attempt is audited).
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewDetail), (status = 404)))]
async fn api_get(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<ReviewDetail>> {
    let item = review::get(&st.db, staff.scope(), ReviewId(id)).await?;
    let history = review::history(&st.db, staff.scope(), item.id).await?;
    Ok(Json(ReviewDetail { item, history }))
}

async fn api_act(
    st: AppState,
    staff: Staff,
    id: i64,
    body: ActBody,
    action: Action,
) -> AppResult<Json<ReviewItem>> {
    let item = run(
        &st,
        staff.scope(),
        ReviewId(id),
        body.kind.as_deref(),
        action,
        &body.comment,
    )
    .await?;
    Ok(Json(item))
}

/// The current step's deciding org agrees (the last step approves the item).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/approve", tag = "reviews", params(("id" = i64, Path)),
    request_body = ActBody, responses((status = 200, body = ReviewItem), (status = 404), (status = 409), (status = 422)))]
async fn api_approve(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> AppResult<Json<ReviewItem>> {
    api_act(st, staff, id, body, Action::Approve).await
}

/// Sends the item back to the submitting org; the comment is required.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/return", tag = "reviews", params(("id" = i64, Path)),
    request_body = ActBody, responses((status = 200, body = ReviewItem), (status = 404), (status = 409), (status = 422)))]
async fn api_return(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> AppResult<Json<ReviewItem>> {
    api_act(st, staff, id, body, Action::Return).await
}

/// Refuses the item for good; the comment is required.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/reject", tag = "reviews", params(("id" = i64, Path)),
    request_body = ActBody, responses((status = 200, body = ReviewItem), (status = 404), (status = 409), (status = 422)))]
async fn api_reject(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> AppResult<Json<ReviewItem>> {
    api_act(st, staff, id, body, Action::Reject).await
}

/// The submitting org sends a returned item again, from the first step.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/resubmit", tag = "reviews", params(("id" = i64, Path)),
    request_body = ActBody, responses((status = 200, body = ReviewItem), (status = 404), (status = 409)))]
async fn api_resubmit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(body): Json<ActBody>,
) -> AppResult<Json<ReviewItem>> {
    api_act(st, staff, id, body, Action::Resubmit).await
}

// ─── the inbox page ──────────────────────────────────────────────────────

/// One inbox line, labelled for the page's language.
struct Line {
    item: ReviewItem,
    kind: String,
    step: String,
    status: String,
    when: String,
    /// Returned to the caller's org: it may resubmit; otherwise it decides.
    returned: bool,
    history: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    c: Chrome,
    lines: Vec<Line>,
    can_write: bool,
    done: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    done: Option<String>,
}

async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let lang = staff.ctx.lang;
    let scope = staff.scope();
    let mut lines = Vec::new();
    for item in review::inbox(&st.db, scope).await? {
        let kind = st
            .registry
            .review_kind(&item.kind)
            .map(|k| k.label().get(lang).to_string())
            .unwrap_or_else(|| item.kind.clone());
        let step = format!(
            "{}/{} {}",
            item.step + 1,
            item.chain.len(),
            review::level_label(item.level(), lang)
        );
        // The inbox is short (what waits for one org), so one history
        // query per line is fine.
        let history = review::history(&st.db, scope, item.id)
            .await?
            .into_iter()
            .map(|s| {
                let what = format!(
                    "{} · {} · {} {}",
                    time::display(&s.at),
                    s.org_name,
                    s.actor,
                    s.action.label().get(lang)
                );
                (what, s.comment)
            })
            .collect();
        lines.push(Line {
            kind,
            step,
            status: item.status.label().get(lang).to_string(),
            when: time::display(&item.submitted_at),
            returned: item.status == Status::Returned,
            history,
            item,
        });
    }
    Ok(html(&ReviewsPage {
        c: Chrome::new(&staff, "reviews"),
        lines,
        can_write: scope.can_write(),
        done: q.done.is_some(),
    }))
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    #[serde(default)]
    comment: String,
}

async fn page_act(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> AppResult<Response> {
    let action = match f.action.as_str() {
        "approve" => Action::Approve,
        "return" => Action::Return,
        "reject" => Action::Reject,
        "resubmit" => Action::Resubmit,
        _ => return Err(AppError::invalid("未知的审批操作", "Unknown review action")),
    };
    run(&st, staff.scope(), ReviewId(id), None, action, &f.comment).await?;
    Ok(Redirect::to("/reviews?done=1").into_response())
}
