//! Org pages (tree on the left, details and children on the right) and the
//! JSON API under /api/v1/orgs. Both call the same store functions.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json, Router,
};
use serde::Deserialize;
use utoipa::OpenApi;

use super::{
    model::{LegalCertStatus, OrgLevel, ORG_TYPES},
    store::{self, HistoryEntry, Org, OrgInput, SubtreeCounts},
};
use crate::platform::{
    error::{AppError, AppResult},
    ids::OrgId,
    time,
    web::{ctx::Staff, html, pages::Chrome, AppState},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orgs", get(index))
        .route("/orgs/{id}", get(show))
        .route("/orgs/{id}/new", get(new_child_form))
        .route("/orgs/{id}/children", post(create_child))
        .route("/orgs/{id}/edit", get(edit_form).post(edit_submit))
        .route("/orgs/{id}/move", post(move_submit))
        .route("/orgs/{id}/close", post(close_submit))
        .route("/api/v1/orgs", get(api_list))
        .route("/api/v1/orgs/{id}", get(api_get).patch(api_update))
        .route(
            "/api/v1/orgs/{id}/children",
            get(api_children).post(api_create),
        )
        .route("/api/v1/orgs/{id}/move", post(api_move))
        .route("/api/v1/orgs/{id}/close", post(api_close))
        .route("/api/v1/orgs/{id}/history", get(api_history))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        api_list,
        api_get,
        api_children,
        api_create,
        api_update,
        api_move,
        api_close,
        api_history
    ),
    components(schemas(
        Org,
        OrgInput,
        OrgLevel,
        MoveBody,
        CloseBody,
        SubtreeCounts,
        HistoryEntry
    ))
)]
struct ApiDoc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn index(staff: Staff) -> Response {
    Redirect::to(&format!("/orgs/{}", staff.scope().org_id)).into_response()
}

#[derive(Template)]
#[template(path = "orgs/show.html")]
struct ShowPage {
    c: Chrome,
    tree: Vec<Org>,
    org: Org,
    children: Vec<Org>,
    counts: SubtreeCounts,
    history: Vec<HistoryEntry>,
    move_targets: Vec<Org>,
    can_write: bool,
    is_scope_root: bool,
    today: String,
}

impl ShowPage {
    fn level(&self, o: &Org) -> String {
        o.level_label(self.c.tr.0)
    }
    fn cert(&self, s: &str) -> &'static str {
        LegalCertStatus::label_zh(s)
    }
    fn when(&self, at: &str) -> String {
        time::display(at)
    }
    fn can_add_child(&self) -> bool {
        self.can_write && !self.org.is_closed() && self.org.level != OrgLevel::Grassroots
    }
}

async fn show(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let org = store::get(&st.db, scope, OrgId(id)).await?;
    let tree = store::list_subtree(&st.db, scope).await?;
    let children = store::children(&st.db, scope, org.id).await?;
    let counts = store::subtree_counts(&st.db, scope, org.id).await?;
    let history = store::history(&st.db, scope, org.id).await?;
    let move_targets = tree
        .iter()
        .filter(|t| {
            !t.path.starts_with(&org.path) && !t.is_closed() && t.level.allows_child(org.level)
        })
        .filter(|t| Some(t.id) != org.parent_id)
        .cloned()
        .collect();
    Ok(html(&ShowPage {
        c: Chrome::new(&staff, "orgs"),
        tree,
        is_scope_root: org.id == scope.org_id,
        org,
        children,
        counts,
        history,
        move_targets,
        can_write: scope.can_write(),
        today: time::today().to_string(),
    }))
}

#[derive(Template)]
#[template(path = "orgs/form.html")]
struct FormPage {
    c: Chrome,
    parent: Org,
    editing: Option<Org>,
    input: OrgInput,
    levels: Vec<(&'static str, String)>,
    types: &'static [(&'static str, &'static str)],
    action: String,
}

fn level_choices(parent: &Org, lang: crate::platform::i18n::Lang) -> Vec<(&'static str, String)> {
    OrgLevel::ALL
        .iter()
        .filter(|l| parent.level.allows_child(**l))
        .map(|l| (l.as_str(), l.label().get(lang).to_string()))
        .collect()
}

async fn new_child_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let parent = store::get(&st.db, staff.scope(), OrgId(id)).await?;
    let levels = level_choices(&parent, staff.ctx.lang);
    let input = OrgInput {
        level: levels.last().map(|l| l.0.to_string()).unwrap_or_default(),
        ..Default::default()
    };
    Ok(html(&FormPage {
        c: Chrome::new(&staff, "orgs"),
        action: format!("/orgs/{}/children", parent.id),
        parent,
        editing: None,
        input,
        levels,
        types: ORG_TYPES,
    }))
}

async fn create_child(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(input): Form<OrgInput>,
) -> AppResult<Response> {
    let f = input.parse()?;
    let org = store::create(&st.db, staff.scope(), OrgId(id), &f).await?;
    Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response())
}

async fn edit_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let org = store::get(&st.db, staff.scope(), OrgId(id)).await?;
    let lang = staff.ctx.lang;
    Ok(html(&FormPage {
        c: Chrome::new(&staff, "orgs"),
        action: format!("/orgs/{}/edit", org.id),
        parent: org.clone(),
        input: org.to_input(),
        levels: vec![(org.level.as_str(), org.level.label().get(lang).to_string())],
        editing: Some(org),
        types: ORG_TYPES,
    }))
}

async fn edit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(input): Form<OrgInput>,
) -> AppResult<Response> {
    let f = input.parse()?;
    let org = store::update(&st.db, staff.scope(), OrgId(id), &f).await?;
    Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct MoveBody {
    /// The new parent's org code.
    new_parent: String,
}

async fn move_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<MoveBody>,
) -> AppResult<Response> {
    let target = store::get_by_code(&st.db, staff.scope(), &b.new_parent).await?;
    let org = store::move_subtree(&st.db, staff.scope(), OrgId(id), target.id).await?;
    Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct CloseBody {
    /// Date of closing (YYYY-MM-DD); today if empty.
    #[serde(default)]
    closed_on: String,
}

fn close_date(raw: &str) -> AppResult<chrono::NaiveDate> {
    if raw.trim().is_empty() {
        return Ok(time::today());
    }
    time::parse_date(raw).ok_or_else(|| {
        AppError::invalid(
            "撤销日期无效,请按 2024-03-01 格式填写",
            "Invalid closing date; use 2024-03-01",
        )
    })
}

async fn close_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<CloseBody>,
) -> AppResult<Response> {
    let org = store::close(&st.db, staff.scope(), OrgId(id), close_date(&b.closed_on)?).await?;
    Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response())
}

/// Every org in the caller's subtree, in tree order.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", responses((status = 200, body = [Org])))]
async fn api_list(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<Org>>> {
    Ok(Json(store::list_subtree(&st.db, staff.scope()).await?))
}

/// One org; 404 outside the caller's subtree (and the attempt is audited).
#[utoipa::path(get, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = Org), (status = 404)))]
async fn api_get(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<serde_json::Value>> {
    let org = store::get(&st.db, staff.scope(), OrgId(id)).await?;
    let counts = store::subtree_counts(&st.db, staff.scope(), org.id).await?;
    let mut v = serde_json::to_value(&org).map_err(anyhow::Error::from)?;
    v["subtree"] = serde_json::to_value(counts).map_err(anyhow::Error::from)?;
    Ok(Json(v))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/children", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = [Org])))]
async fn api_children(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Org>>> {
    Ok(Json(
        store::children(&st.db, staff.scope(), OrgId(id)).await?,
    ))
}

/// Creates a child org.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/children", tag = "orgs", params(("id" = i64, Path)),
    request_body = OrgInput, responses((status = 200, body = Org), (status = 409), (status = 422)))]
async fn api_create(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(input): Json<OrgInput>,
) -> AppResult<Json<Org>> {
    Ok(Json(
        store::create(&st.db, staff.scope(), OrgId(id), &input.parse()?).await?,
    ))
}

/// Replaces an org's fields (a rename is an update of `name`).
#[utoipa::path(patch, path = "/api/v1/orgs/{id}", tag = "orgs", params(("id" = i64, Path)),
    request_body = OrgInput, responses((status = 200, body = Org), (status = 422)))]
async fn api_update(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(input): Json<OrgInput>,
) -> AppResult<Json<Org>> {
    Ok(Json(
        store::update(&st.db, staff.scope(), OrgId(id), &input.parse()?).await?,
    ))
}

/// Moves the org and its subtree under `new_parent`.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/move", tag = "orgs", params(("id" = i64, Path)),
    request_body = MoveBody, responses((status = 200, body = Org), (status = 422)))]
async fn api_move(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<MoveBody>,
) -> AppResult<Json<Org>> {
    let target = store::get_by_code(&st.db, staff.scope(), &b.new_parent).await?;
    Ok(Json(
        store::move_subtree(&st.db, staff.scope(), OrgId(id), target.id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/orgs/{id}/close", tag = "orgs", params(("id" = i64, Path)),
    request_body = CloseBody, responses((status = 200, body = Org), (status = 422)))]
async fn api_close(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<CloseBody>,
) -> AppResult<Json<Org>> {
    Ok(Json(
        store::close(&st.db, staff.scope(), OrgId(id), close_date(&b.closed_on)?).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/orgs/{id}/history", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = [HistoryEntry])))]
async fn api_history(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<HistoryEntry>>> {
    Ok(Json(
        store::history(&st.db, staff.scope(), OrgId(id)).await?,
    ))
}
