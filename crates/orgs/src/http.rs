//! Org pages (tree on the left, details and children on the right) and the
//! JSON API under /api/v1/orgs. Both call the same store functions.

use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::Deserialize;
use utoipa_axum::routes;

use super::{
    model::{LegalCertStatus, OrgLevel, ORG_TYPES},
    store::{self, HistoryEntry, Org, OrgInput, SubtreeCounts},
    workforce::{self, ImportReport, Values, Workforce, WorkforceBody, WorkforceForm},
};
use platform::{
    error::{AppError, AppResult},
    ids::OrgId,
    time,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

/// The org pages and the JSON API, registered with its documentation.
pub fn routes() -> Routes {
    Routes::new()
        .page("/orgs", get(index))
        .page("/orgs/{id}", get(show))
        .page("/orgs/{id}/new", get(new_child_form))
        .page("/orgs/{id}/children", post(create_child))
        .page("/orgs/{id}/edit", get(edit_form).post(edit_submit))
        .page("/orgs/{id}/move", post(move_submit))
        .page("/orgs/{id}/close", post(close_submit))
        .page("/orgs/{id}/workforce", post(workforce_submit))
        .page(
            "/orgs/workforce/import",
            get(import_form)
                .post(import_submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::cli::MAX_FILE_BYTES as usize + 64 * 1024,
                )),
        )
        .page("/orgs/workforce/template.xlsx", get(import_template))
        .api(routes!(api_list))
        .api(routes!(api_get, api_update))
        .api(routes!(api_children, api_create))
        .api(routes!(api_move))
        .api(routes!(api_close))
        .api(routes!(api_history))
        .api(routes!(api_workforce_list, api_workforce_record))
        .api(routes!(api_workforce_import))
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
    /// 职工人数 as recorded, latest date first.
    workforce: Vec<Workforce>,
    workforce_error: Option<String>,
}

impl ShowPage {
    fn level(&self, o: &Org) -> String {
        o.level_label(self.c.tr.0)
    }
    fn cert(&self, s: &str) -> String {
        LegalCertStatus::label(s).get(self.c.tr.0).to_string()
    }
    fn org_type(&self, t: &str) -> String {
        org_type_label(t, self.c.tr.is_en())
    }
    fn term(&self, n: &i64) -> String {
        if self.c.tr.is_en() {
            format!("Term {n}")
        } else {
            format!("第{n}届")
        }
    }
    fn history_kind(&self, k: &str) -> String {
        history_label(k).get(self.c.tr.0).to_string()
    }
    /// The parent's name (it is in the caller's tree unless the org is the scope root).
    fn parent_name(&self) -> String {
        match &self.org.parent {
            Some(code) => self
                .tree
                .iter()
                .find(|o| &o.code == code)
                .map(|o| format!("{} ({})", o.name, o.code))
                .unwrap_or_else(|| code.clone()),
            None => "—".into(),
        }
    }
    /// A readable summary of what a history entry changed.
    fn history_summary(&self, h: &HistoryEntry) -> String {
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
        };
        let (before, after) = (parse(&h.before), parse(&h.after));
        match (before, after) {
            (Some(b), Some(a)) if a.is_object() => {
                let mut out = Vec::new();
                if let Some(map) = a.as_object() {
                    for (k, v) in map {
                        if b.get(k) != Some(v) {
                            let show = |x: Option<&serde_json::Value>| match x {
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(serde_json::Value::Null) | None => "—".into(),
                                Some(other) => other.to_string(),
                            };
                            out.push(format!("{k}: {} → {}", show(b.get(k)), show(Some(v))));
                        }
                    }
                }
                out.join("; ")
            }
            (None, Some(a)) => a
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        }
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
    show_page(&st, &staff, id, None).await
}

/// The org page; with the 职工人数 form's refusal when it is shown again.
async fn show_page(
    st: &AppState,
    staff: &Staff,
    id: i64,
    workforce_error: Option<AppError>,
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
    let status = workforce_error
        .as_ref()
        .and_then(|e| axum::http::StatusCode::from_u16(e.status()).ok())
        .unwrap_or(axum::http::StatusCode::OK);
    let workforce_error = workforce_error.map(|e| e.user_message().get(staff.ctx.lang).to_string());
    let page = html(&ShowPage {
        c: Chrome::new(staff, "orgs"),
        tree,
        is_scope_root: org.id == scope.org_id,
        org,
        children,
        counts,
        history,
        move_targets,
        can_write: scope.can_write(),
        today: time::today().to_string(),
        workforce: workforce::history(&st.db, scope, OrgId(id)).await?,
        workforce_error,
    });
    Ok((status, page).into_response())
}

#[derive(Template)]
#[template(path = "orgs/workforce_import.html")]
struct ImportPage {
    c: Chrome,
    can_write: bool,
    columns: Vec<String>,
    report: Option<ImportReport>,
    error: Option<String>,
    en: bool,
}

/// The 职工人数 import page: the template's columns, the upload form.
async fn import_form(staff: Staff) -> Response {
    html(&ImportPage {
        c: Chrome::new(&staff, "orgs"),
        can_write: staff.scope().can_write(),
        columns: workforce::template_headers(),
        report: None,
        error: None,
        en: staff.ctx.lang == platform::i18n::Lang::En,
    })
}

/// The import template: the columns and one example row.
async fn import_template(_staff: Staff) -> AppResult<Response> {
    let sheet = sheet::SheetOut {
        name: "职工人数".into(),
        headers: workforce::template_headers(),
        rows: vec![vec![
            "SF-01-S1-001".into(),
            "2026-09-30".into(),
            sheet::CellOut::Int(120),
            sheet::CellOut::Int(48),
            sheet::CellOut::Int(30),
        ]],
        col_widths: None,
    };
    let bytes = sheet::write_xlsx(&[sheet]).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })?;
    Ok(platform::web::download(
        bytes,
        platform::web::XLSX,
        "职工人数导入模板.xlsx",
    ))
}

/// The upload (multipart, field `file`; the CSRF token in the query as for
/// every upload form): all or nothing, the result on the page.
async fn import_submit(
    State(st): State<AppState>,
    staff: Staff,
    mut mp: axum::extract::Multipart,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::invalid(
                format!(
                    "文件过大(上限{}MB)",
                    crate::cli::MAX_FILE_BYTES / 1024 / 1024
                ),
                format!(
                    "The file is too large (limit {} MB)",
                    crate::cli::MAX_FILE_BYTES / 1024 / 1024
                ),
            )
        } else {
            AppError::invalid(
                format!("上传内容无法读取:{}", e.body_text()),
                format!("Cannot read the upload: {}", e.body_text()),
            )
        }
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("upload").to_string();
            let bytes = field.bytes().await.map_err(unreadable)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let result = match file {
        Some((name, bytes)) if !bytes.is_empty() => {
            workforce::import(&st.db, staff.scope(), &bytes, &name).await
        }
        _ => Err(AppError::invalid(
            "请选择要导入的文件",
            "Choose a file to import",
        )),
    };
    let (report, error, status) = match result {
        Ok(r) => {
            let status = if r.committed {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            (Some(r), None, status)
        }
        Err(e @ AppError::Invalid(_)) => (
            None,
            Some(e.user_message().get(staff.ctx.lang).to_string()),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return Err(e),
    };
    let page = html(&ImportPage {
        c: Chrome::new(&staff, "orgs"),
        can_write: true,
        columns: workforce::template_headers(),
        report,
        error,
        en: staff.ctx.lang == platform::i18n::Lang::En,
    });
    Ok((status, page).into_response())
}

/// The org page's 职工人数 form: back to the page, or the page again with the message.
async fn workforce_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<WorkforceForm>,
) -> AppResult<Response> {
    let done = match Values::from_form(&f) {
        Ok(v) => workforce::record(&st.db, staff.scope(), OrgId(id), v, "form")
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/orgs/{id}#workforce")).into_response()),
        // The page again with the reason (an org outside the scope is 404 there too).
        Err(e @ AppError::Invalid(_)) => show_page(&st, &staff, id, Some(e)).await,
        Err(e) => Err(e),
    }
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
    error: Option<String>,
}

pub fn org_type_label(t: &str, en: bool) -> String {
    if en {
        ORG_TYPES
            .iter()
            .find(|(zh, _)| *zh == t)
            .map(|(_, e)| e.to_string())
            .unwrap_or_else(|| t.to_string())
    } else {
        t.to_string()
    }
}

fn history_label(kind: &str) -> platform::i18n::Msg {
    use platform::i18n::Msg;
    match kind {
        "created" => Msg::new("建立", "Created"),
        "renamed" => Msg::new("更名", "Renamed"),
        "updated" => Msg::new("信息变更", "Details changed"),
        "moved" => Msg::new("隶属关系调整", "Moved"),
        "closed" => Msg::new("撤销", "Closed"),
        "cert_new" => Msg::new("取得法人资格", "Legal-person status obtained"),
        "cert_changed" => Msg::new("法人资格变更", "Legal-person certificate changed"),
        other => Msg::new(other, other),
    }
}

impl FormPage {
    fn cert_key(&self, v: &str) -> &'static str {
        match v {
            "valid" => "org.cert_valid",
            "changed" => "org.cert_changed",
            "revoked" => "org.cert_revoked",
            _ => "org.cert_none",
        }
    }
}

fn level_choices(parent: &Org, lang: platform::i18n::Lang) -> Vec<(&'static str, String)> {
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
        error: None,
    }))
}

async fn create_child(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(input): Form<OrgInput>,
) -> AppResult<Response> {
    let res = match input.parse() {
        Ok(f) => store::create(&st.db, staff.scope(), OrgId(id), &f).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(org) => Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let parent = store::get(&st.db, staff.scope(), OrgId(id)).await?;
            let levels = level_choices(&parent, staff.ctx.lang);
            form_again(
                &staff,
                e,
                FormParts {
                    action: format!("/orgs/{}/children", parent.id),
                    parent,
                    editing: None,
                    input,
                    levels,
                },
            )
        }
        Err(e) => Err(e),
    }
}

struct FormParts {
    action: String,
    parent: Org,
    editing: Option<Org>,
    input: OrgInput,
    levels: Vec<(&'static str, String)>,
}

/// The form again, with what was typed and the reason it was refused.
fn form_again(staff: &Staff, e: AppError, p: FormParts) -> AppResult<Response> {
    let status = axum::http::StatusCode::from_u16(e.status())
        .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let page = FormPage {
        c: Chrome::new(staff, "orgs"),
        parent: p.parent,
        editing: p.editing,
        input: p.input,
        levels: p.levels,
        types: ORG_TYPES,
        action: p.action,
        error: Some(e.user_message().get(staff.ctx.lang).to_string()),
    };
    Ok((status, html(&page)).into_response())
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
        error: None,
    }))
}

async fn edit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(input): Form<OrgInput>,
) -> AppResult<Response> {
    let res = match input.parse() {
        Ok(f) => store::update(&st.db, staff.scope(), OrgId(id), &f).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(org) => Ok(Redirect::to(&format!("/orgs/{}", org.id)).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let org = store::get(&st.db, staff.scope(), OrgId(id)).await?;
            let lang = staff.ctx.lang;
            let levels = vec![(org.level.as_str(), org.level.label().get(lang).to_string())];
            form_again(
                &staff,
                e,
                FormParts {
                    action: format!("/orgs/{}/edit", org.id),
                    parent: org.clone(),
                    editing: Some(org),
                    input,
                    levels,
                },
            )
        }
        Err(e) => Err(e),
    }
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
    let org = store::close(
        &st.db,
        staff.scope(),
        &st.registry.org_holds(),
        OrgId(id),
        close_date(&b.closed_on)?,
    )
    .await?;
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
        store::close(
            &st.db,
            staff.scope(),
            &st.registry.org_holds(),
            OrgId(id),
            close_date(&b.closed_on)?,
        )
        .await?,
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

/// The org's 职工人数 as recorded, latest date first; 404 outside the caller's subtree.
#[utoipa::path(get, path = "/api/v1/orgs/{id}/workforce", tag = "orgs", params(("id" = i64, Path)),
    responses((status = 200, body = [Workforce]), (status = 404)))]
async fn api_workforce_list(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Vec<Workforce>>> {
    Ok(Json(
        workforce::history(&st.db, staff.scope(), OrgId(id)).await?,
    ))
}

/// Records a grassroots union's 职工人数 (workforce, women, 农民工) as of a
/// date; the same date again replaces the value. Women and 农民工 within the
/// workforce, the date not in the future.
#[utoipa::path(post, path = "/api/v1/orgs/{id}/workforce", tag = "orgs", params(("id" = i64, Path)),
    request_body = WorkforceBody, responses((status = 200, body = Workforce), (status = 404), (status = 422)))]
async fn api_workforce_record(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<WorkforceBody>,
) -> AppResult<Json<Workforce>> {
    let v = Values::from_body(&b)?;
    Ok(Json(
        workforce::record(&st.db, staff.scope(), OrgId(id), v, "api").await?,
    ))
}

/// Imports a 职工人数 file (the body: .xlsx, .xls or .csv in UTF-8 or GBK;
/// columns 组织编码, 截至日期, 职工人数, 女职工人数, 农民工人数), all or nothing:
/// when a row is refused nothing is written and every refused row is listed.
#[utoipa::path(post, path = "/api/v1/orgs/workforce/import", tag = "orgs",
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportReport), (status = 413), (status = 422)))]
async fn api_workforce_import(
    State(st): State<AppState>,
    staff: Staff,
    body: axum::body::Bytes,
) -> AppResult<Json<ImportReport>> {
    Ok(Json(
        workforce::import(&st.db, staff.scope(), &body, "api").await?,
    ))
}
