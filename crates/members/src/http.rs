//! Roster pages and the JSON API under /api/v1/members: list and search,
//! a member's page (unmask, 退会/保留会籍), the single-member form, Excel
//! import with background progress, export, and transfers.

use crate::ids::{MembershipId, OrgId, TransferId};
use askama::Template;
use axum::{
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post, MethodRouter},
    Form, Json,
};
use serde::Deserialize;
use std::sync::Arc;
use tokio::{io::AsyncWriteExt, sync::Semaphore};
use utoipa_axum::routes;

use super::{
    import::{self, JobRow},
    model::{self, ChangeKind, RawMember},
    store::{
        self, Enrolment, MemberDetail, MemberListRow, Outcome, RosterCounts, SearchQuery, Sort,
        Unmasked,
    },
    transfer::{self, TransferRow},
};
use sheet::{self, CellOut, SheetOut};
use {
    ::orgs::store::{self as orgs, Org},
    platform::{
        error::{AppError, AppResult},
        i18n::Msg,
        scope::{Perm, Scope},
        time,
        web::{ctx::Staff, download, html, pages::Chrome, AppState, Routes, XLSX},
    },
};

/// Uploads may be large rosters: the most file bytes accepted.
const MAX_UPLOAD: usize = 300 * 1024 * 1024;
/// The body limit: the file plus what multipart adds around it.
const MAX_UPLOAD_BODY: usize = MAX_UPLOAD + 64 * 1024;

/// The roster pages and the members API, registered with its documentation.
pub fn routes() -> Routes {
    let upload_limit = |m: MethodRouter<AppState>| m.layer(DefaultBodyLimit::max(MAX_UPLOAD_BODY));
    Routes::new()
        .page("/members", get(list_page).post(create_submit))
        .page("/members/new", get(new_form))
        .page("/members/search", post(search_submit))
        // POST with the session's CSRF token: an export (unmasked, audited)
        // cannot be set off by a link from another site.
        .page("/members/export", post(export_page))
        .page(
            "/members/import",
            upload_limit(get(import_page).post(import_upload)),
        )
        .page("/members/import/template.xlsx", get(template))
        .page("/members/import/{job}", get(job_page))
        .page("/members/import/{job}/rejects.xlsx", get(job_rejects))
        .page(
            "/members/transfers",
            get(transfers_page).post(transfer_start),
        )
        .page("/members/transfers/{id}/approve", post(transfer_approve))
        .page("/members/transfers/{id}/reject", post(transfer_reject))
        .page("/members/{id}", get(show_page))
        .page("/members/{id}/unmask", post(unmask_page))
        .page("/members/{id}/status", post(status_submit))
        .api(routes!(api_list, api_create))
        .api(routes!(api_search))
        .api(routes!(api_counts))
        .api(routes!(api_export))
        .api_with(routes!(api_import), upload_limit)
        .api(routes!(api_job))
        .api(routes!(api_transfers, api_transfer_start))
        .api(routes!(api_transfer_approve))
        .api(routes!(api_transfer_reject))
        .api(routes!(api_get))
        .api(routes!(api_unmask))
}

// ------------------------------------------------------------------ list

#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(default)]
pub struct ListParams {
    /// Name (汉字 prefix, pinyin or initials) or member number. An ID or
    /// phone number never travels in a URL: search for it with
    /// `POST /api/v1/members/search` (or the page's search form, which
    /// turns it into the opaque `t`).
    q: String,
    /// An opaque search term: the page's search, sealed with the key, so a
    /// number searched for is not in the URL, the history or a log.
    t: String,
    /// Org id: narrow to its subtree (empty: the whole scope, as the form's
    /// "all" sends it).
    #[serde(deserialize_with = "empty_as_none")]
    org: Option<i64>,
    /// "" (active + retained), active, retained, ended, all
    status: String,
    group: String,
    /// "1" 农民工 only, "0" non-农民工 only
    migrant: String,
    /// member_no (default), name, joined
    sort: String,
    page: Option<i64>,
    per_page: Option<i64>,
    /// export: xlsx (default) or csv
    format: String,
    /// export unmasked (needs the permission)
    unmasked: Option<String>,
}

/// An optional number a form may send empty (and JSON as a number).
fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(i64),
        S(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::N(n)) => Ok(Some(n)),
        Some(Raw::S(s)) if s.trim().is_empty() => Ok(None),
        Some(Raw::S(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Whether a search term holds an ID or phone number (7 digits or more):
/// such a term must not be carried in a URL.
fn is_number_like(q: &str) -> bool {
    q.chars().filter(|c| c.is_ascii_digit()).count() >= 7
}

impl ListParams {
    /// The search term of a body (a POST): from the sealed `t` if given.
    fn unseal(mut self, keys: &platform::crypto::Keys) -> AppResult<ListParams> {
        if !self.t.is_empty() {
            self.q = keys.decrypt(&self.t).map_err(|_| {
                AppError::invalid(
                    "搜索条件无效,请重新搜索",
                    "The search is no longer valid; search again",
                )
            })?;
        }
        Ok(self)
    }

    /// The search term of a URL (a GET): from the sealed `t`, or `q` when
    /// it holds no number.
    fn resolve(self, keys: &platform::crypto::Keys) -> AppResult<ListParams> {
        if self.t.is_empty() && is_number_like(&self.q) {
            return Err(AppError::invalid(
                "证件号码和手机号码不能放在网址中:请用搜索框搜索(接口请用 POST /api/v1/members/search)",
                "ID and phone numbers must not travel in a URL: use the search box (or POST /api/v1/members/search)",
            ));
        }
        self.unseal(keys)
    }

    fn query(&self) -> SearchQuery {
        SearchQuery {
            q: self.q.clone(),
            org: self.org.map(OrgId),
            status: self.status.clone(),
            group: self.group.clone(),
            migrant: match self.migrant.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            },
            sort: Sort::parse(&self.sort),
            page: self.page.unwrap_or(1),
            per_page: self.per_page.unwrap_or(50),
        }
    }
    fn qs(&self) -> String {
        use platform::web::ctx::urlencode as e;
        // The term goes as given: sealed (`t`) or a name (`q`).
        let term = if self.t.is_empty() {
            format!("q={}", e(&self.q))
        } else {
            format!("t={}", e(&self.t))
        };
        format!(
            "{term}&org={}&status={}&group={}&migrant={}&sort={}",
            self.org.map(|o| o.to_string()).unwrap_or_default(),
            e(&self.status),
            e(&self.group),
            e(&self.migrant),
            e(&self.sort)
        )
    }
}

#[derive(Template)]
#[template(path = "members/list.html")]
struct ListPage {
    c: Chrome,
    p: ListParams,
    rows: Vec<MemberListRow>,
    total: i64,
    page: i64,
    pages: i64,
    counts: RosterCounts,
    orgs: Vec<Org>,
    groups: &'static [&'static str],
    qs: String,
    can_write: bool,
    can_unmask: bool,
}

impl ListPage {
    fn status(&self, s: &str) -> String {
        model::status_label(s).get(self.c.tr.0).to_string()
    }
    fn sex(&self, g: &str) -> &'static str {
        gender_label(g, self.c.tr.is_en())
    }
    fn org_selected(&self, id: &OrgId) -> bool {
        self.p.org == Some(id.0)
    }
}

fn gender_label(g: &str, en: bool) -> &'static str {
    match (g, en) {
        ("female", false) => "女",
        ("female", true) => "F",
        (_, false) => "男",
        (_, true) => "M",
    }
}

/// The page's search form: the term is sealed into the opaque `t` and the
/// list shown by a redirect, so no searched number is in a URL.
async fn search_submit(
    State(st): State<AppState>,
    _staff: Staff,
    Form(mut p): Form<ListParams>,
) -> AppResult<Response> {
    if !p.q.trim().is_empty() {
        p.t = st.keys.encrypt(p.q.trim());
    }
    p.q = String::new();
    Ok(Redirect::to(&format!("/members?{}", p.qs())).into_response())
}

async fn list_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    let p = p.resolve(&st.keys)?;
    let scope = staff.scope();
    let q = p.query();
    let (rows, total) = store::search(&st.db, &st.keys, scope, &q).await?;
    let counts = store::counts(&st.db, scope, q.org).await?;
    let orgs = orgs::list_subtree(&st.db, scope).await?;
    let per = q.per_page.clamp(1, 500);
    Ok(html(&ListPage {
        c: Chrome::new(&staff, "members"),
        qs: p.qs(),
        page: q.page.max(1),
        pages: (total + per - 1) / per,
        p,
        rows,
        total,
        counts,
        orgs,
        groups: crate::vocab::NEW_EMPLOYMENT_GROUPS,
        can_write: scope.can_write(),
        can_unmask: scope.has(Perm::Unmask),
    }))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct ListResponse {
    total: i64,
    page: i64,
    rows: Vec<MemberListRow>,
}

/// Search the roster of the caller's subtree.
#[utoipa::path(get, path = "/api/v1/members", tag = "members", params(ListParams),
    responses((status = 200, body = ListResponse)))]
async fn api_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(p): Query<ListParams>,
) -> AppResult<Json<ListResponse>> {
    let q = p.resolve(&st.keys)?.query();
    let (rows, total) = store::search(&st.db, &st.keys, staff.scope(), &q).await?;
    Ok(Json(ListResponse {
        total,
        page: q.page.max(1),
        rows,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct CountParams {
    org: Option<i64>,
}

/// Search the roster with the term in the body — for ID and phone numbers,
/// which must not travel in a URL. The same answer as `GET /api/v1/members`.
#[utoipa::path(post, path = "/api/v1/members/search", tag = "members", request_body = ListParams,
    responses((status = 200, body = ListResponse)))]
async fn api_search(
    State(st): State<AppState>,
    staff: Staff,
    Json(p): Json<ListParams>,
) -> AppResult<Json<ListResponse>> {
    let q = p.query();
    let (rows, total) = store::search(&st.db, &st.keys, staff.scope(), &q).await?;
    Ok(Json(ListResponse {
        total,
        page: q.page.max(1),
        rows,
    }))
}

/// Active members of the subtree: total, 农民工, women, by new-employment group.
#[utoipa::path(get, path = "/api/v1/members/counts", tag = "members", params(CountParams),
    responses((status = 200, body = RosterCounts)))]
async fn api_counts(
    State(st): State<AppState>,
    staff: Staff,
    Query(p): Query<CountParams>,
) -> AppResult<Json<RosterCounts>> {
    Ok(Json(
        store::counts(&st.db, staff.scope(), p.org.map(OrgId)).await?,
    ))
}

// ---------------------------------------------------------------- export

/// The roster as xlsx (or CSV with `format=csv`), masked unless `unmasked=1`
/// and the caller may unmask; every export is audited. A POST, so that no
/// link can set one off and no searched number is in a URL.
#[utoipa::path(post, path = "/api/v1/members/export", tag = "members", request_body = ListParams,
    responses((status = 200, description = "xlsx or CSV file", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              (status = 403), (status = 404)))]
async fn api_export(
    State(st): State<AppState>,
    staff: Staff,
    Json(p): Json<ListParams>,
) -> AppResult<Response> {
    export(&st, &staff, p).await
}

/// The roster page's export buttons (a form carrying the search).
async fn export_page(
    State(st): State<AppState>,
    staff: Staff,
    Form(p): Form<ListParams>,
) -> AppResult<Response> {
    export(&st, &staff, p).await
}

async fn export(st: &AppState, staff: &Staff, p: ListParams) -> AppResult<Response> {
    let unmasked = p
        .unmasked
        .as_deref()
        .is_some_and(|v| v == "1" || v == "true");
    let p = p.unseal(&st.keys)?;
    let (headers, rows) =
        store::export(&st.db, &st.keys, staff.scope(), &p.query(), unmasked).await?;
    let stamp = time::today().format("%Y%m%d");
    if p.format == "csv" {
        let cells: Vec<Vec<CellOut>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(CellOut::Text).collect())
            .collect();
        let bytes = sheet::write_csv_utf8_bom(&headers, &cells);
        return Ok(download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("members-{stamp}.csv"),
        ));
    }
    let cells = rows
        .into_iter()
        .map(|r| r.into_iter().map(CellOut::Text).collect())
        .collect();
    let bytes = sheet::write_xlsx(&[SheetOut {
        name: "会员名册".into(),
        headers,
        rows: cells,
        col_widths: None,
    }])
    .map_err(|e| AppError::Internal(anyhow::anyhow!("{}", e.message().1)))?;
    Ok(download(bytes, XLSX, &format!("members-{stamp}.xlsx")))
}

// ---------------------------------------------------------------- detail

#[derive(Template)]
#[template(path = "members/show.html")]
struct ShowPage {
    c: Chrome,
    m: MemberDetail,
    unmasked: Option<Unmasked>,
    can_write: bool,
    can_unmask: bool,
    today: String,
}

impl ShowPage {
    fn status(&self, s: &str) -> String {
        model::status_label(s).get(self.c.tr.0).to_string()
    }
    fn event(&self, k: &str) -> String {
        model::event_label(k).get(self.c.tr.0).to_string()
    }
    fn sex(&self) -> &'static str {
        gender_label(&self.m.row.gender, self.c.tr.is_en())
    }
}

async fn render_show(
    st: &AppState,
    staff: &Staff,
    id: i64,
    unmasked: Option<Unmasked>,
) -> AppResult<Response> {
    let m = store::get(&st.db, staff.scope(), MembershipId(id)).await?;
    Ok(html(&ShowPage {
        c: Chrome::new(staff, "members"),
        m,
        unmasked,
        can_write: staff.scope().can_write(),
        can_unmask: staff.scope().has(Perm::Unmask),
        today: time::today().to_string(),
    }))
}

async fn show_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    render_show(&st, &staff, id, None).await
}

async fn unmask_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let u = store::unmask(&st.db, &st.keys, staff.scope(), MembershipId(id)).await?;
    render_show(&st, &staff, id, Some(u)).await
}

#[derive(Deserialize)]
struct StatusForm {
    change: String,
    on: String,
    #[serde(default)]
    reason: String,
}

async fn status_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<StatusForm>,
) -> AppResult<Response> {
    let change = match f.change.as_str() {
        "leave" => ChangeKind::Leave,
        "retain" => ChangeKind::Retain,
        _ => {
            return Err(AppError::invalid(
                "未知的会籍变化",
                "Unknown membership change",
            ))
        }
    };
    let on = time::parse_date(&f.on).ok_or_else(|| {
        AppError::invalid(
            "日期无效,请按2024-03-01格式填写",
            "Invalid date; use 2024-03-01",
        )
    })?;
    store::change_status(
        &st.db,
        staff.scope(),
        MembershipId(id),
        change,
        on,
        &f.reason,
    )
    .await?;
    Ok(Redirect::to(&format!("/members/{id}")).into_response())
}

/// One member (masked); the read is audited.
#[utoipa::path(get, path = "/api/v1/members/{id}", tag = "members", params(("id" = i64, Path)),
    responses((status = 200, body = MemberDetail), (status = 404)))]
async fn api_get(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<MemberDetail>> {
    Ok(Json(
        store::get(&st.db, staff.scope(), MembershipId(id)).await?,
    ))
}

/// Full ID and phone numbers (permission `unmask`; audited).
#[utoipa::path(post, path = "/api/v1/members/{id}/unmask", tag = "members", params(("id" = i64, Path)),
    responses((status = 200, body = Unmasked), (status = 403), (status = 404)))]
async fn api_unmask(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<Unmasked>> {
    Ok(Json(
        store::unmask(&st.db, &st.keys, staff.scope(), MembershipId(id)).await?,
    ))
}

// ------------------------------------------------------------ single add

#[derive(Template)]
#[template(path = "members/form.html")]
struct FormPage {
    c: Chrome,
    unions: Vec<Org>,
    raw: RawMember,
    error: Option<String>,
    transfer_hint: bool,
    lists: Lists,
}

struct Lists {
    nations: &'static [&'static str],
    education: &'static [&'static str],
    political: &'static [&'static str],
    hukou: &'static [&'static str],
    skills: &'static [&'static str],
    groups: &'static [&'static str],
}

const LISTS: Lists = Lists {
    nations: crate::vocab::NATIONS,
    education: crate::vocab::EDUCATION,
    political: crate::vocab::POLITICAL,
    hukou: crate::vocab::HUKOU,
    skills: crate::vocab::SKILL_LEVELS,
    groups: crate::vocab::NEW_EMPLOYMENT_GROUPS,
};

async fn grassroots(st: &AppState, scope: &Scope) -> AppResult<Vec<Org>> {
    Ok(orgs::list_subtree(&st.db, scope)
        .await?
        .into_iter()
        .filter(|o| o.level == ::orgs::model::OrgLevel::Grassroots && !o.is_closed())
        .collect())
}

async fn new_form(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    staff.scope().require_write()?;
    let unions = grassroots(&st, staff.scope()).await?;
    let raw = RawMember {
        change_date: time::today().to_string(),
        ..Default::default()
    };
    Ok(html(&FormPage {
        c: Chrome::new(&staff, "members"),
        unions,
        raw,
        error: None,
        transfer_hint: false,
        lists: LISTS,
    }))
}

async fn create_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(raw): Form<RawMember>,
) -> AppResult<Response> {
    match store::enrol_one(&st.db, &st.keys, staff.scope(), &raw).await {
        Ok(Enrolment::Done(Outcome::New(id) | Outcome::Updated(id) | Outcome::Unchanged(id))) => {
            Ok(Redirect::to(&format!("/members/{id}")).into_response())
        }
        Ok(Enrolment::Done(Outcome::Rejected(m))) => Err(AppError::Conflict(m)),
        Ok(Enrolment::TransferRequested(_)) => {
            Ok(Redirect::to("/members/transfers?filed=1").into_response())
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            // Show the form again with the values and the reason.
            let status = axum::http::StatusCode::from_u16(e.status()).unwrap_or_default();
            let transfer_hint = matches!(&e, AppError::Conflict(m) if m.zh.contains("转会"));
            let unions = grassroots(&st, staff.scope()).await?;
            let page = FormPage {
                error: Some(e.user_message().get(staff.ctx.lang).to_string()),
                c: Chrome::new(&staff, "members"),
                unions,
                raw,
                transfer_hint,
                lists: LISTS,
            };
            Ok((status, html(&page)).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct CreateResponse {
    /// new | updated | unchanged | transfer_requested (the ID has an active
    /// membership outside the caller's subtree, or not under this name: a
    /// transfer request now waits for the sending union)
    outcome: String,
    membership_id: Option<i64>,
    transfer_id: Option<i64>,
}

/// Adds (or updates) one member with the same rules as a one-row import.
#[utoipa::path(post, path = "/api/v1/members", tag = "members", request_body = RawMember,
    responses((status = 200, body = CreateResponse), (status = 409), (status = 422)))]
async fn api_create(
    State(st): State<AppState>,
    staff: Staff,
    Json(raw): Json<RawMember>,
) -> AppResult<Json<CreateResponse>> {
    let (outcome, id) = match store::enrol_one(&st.db, &st.keys, staff.scope(), &raw).await? {
        Enrolment::Done(Outcome::New(id)) => ("new", id),
        Enrolment::Done(Outcome::Updated(id)) => ("updated", id),
        Enrolment::Done(Outcome::Unchanged(id)) => ("unchanged", id),
        Enrolment::Done(Outcome::Rejected(m)) => return Err(AppError::Conflict(m)),
        Enrolment::TransferRequested(t) => {
            return Ok(Json(CreateResponse {
                outcome: "transfer_requested".into(),
                membership_id: None,
                transfer_id: Some(t.0),
            }))
        }
    };
    Ok(Json(CreateResponse {
        outcome: outcome.into(),
        membership_id: Some(id.0),
        transfer_id: None,
    }))
}

// ---------------------------------------------------------------- import

#[derive(Template)]
#[template(path = "members/import.html")]
struct ImportPage {
    c: Chrome,
    unions: Vec<Org>,
    jobs: Vec<JobRow>,
}

async fn import_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    staff.scope().require_write()?;
    let unions = grassroots(&st, staff.scope()).await?;
    let jobs = import::jobs(&st, staff.scope(), None).await?;
    Ok(html(&ImportPage {
        c: Chrome::new(&staff, "members"),
        unions,
        jobs,
    }))
}

async fn template(staff: Staff) -> AppResult<Response> {
    let _ = staff;
    Ok(download(
        import::template_xlsx()?,
        XLSX,
        "会员名册导入模板.xlsx",
    ))
}

/// Saves the upload and starts the import in the background; returns the job id.
///
/// At most [`MAX_RUNNING_IMPORTS`] imports run at once per server: the next
/// one is refused at once (429, "导入任务繁忙") before its body is read,
/// rather than made to wait — an import can take minutes, and a browser
/// left hanging on an upload for that long times out or gets sent again.
/// The file is streamed to a temporary file under the data directory chunk
/// by chunk (never held in memory), with the size limit enforced as it
/// arrives, and a workbook is checked for bombs (`sheet::check_workbook`)
/// before a job is created for it.
async fn start_upload(
    st: &AppState,
    staff: &Staff,
    declared: Option<u64>,
    mut mp: Multipart,
) -> AppResult<i64> {
    let scope = staff.scope().clone();
    scope.require_write()?;
    if declared.is_some_and(|n| n > MAX_UPLOAD_BODY as u64) {
        return Err(too_large());
    }
    let permit = import_slots(st).try_acquire_owned().map_err(|_| {
        AppError::Throttled(Msg::new(
            "导入任务繁忙,请稍后再试(同时最多进行2个导入)",
            "Too many imports running; try again shortly (at most 2 run at once)",
        ))
    })?;
    let dir = st.cfg.data_dir.join("imports");
    std::fs::create_dir_all(&dir).map_err(anyhow::Error::from)?;
    let mut file: Option<(String, tempfile::NamedTempFile, u64)> = None;
    let mut org_code = String::new();
    let mut all_or_nothing = false;
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "file" => {
                let fname = field.file_name().unwrap_or("upload").to_string();
                let tmp = tempfile::Builder::new()
                    .prefix("upload-")
                    .tempfile_in(&dir)
                    .map_err(anyhow::Error::from)?;
                let mut out = tokio::fs::File::from_std(
                    tmp.as_file().try_clone().map_err(anyhow::Error::from)?,
                );
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    if size > MAX_UPLOAD as u64 {
                        // `tmp` is removed when dropped.
                        return Err(too_large());
                    }
                    out.write_all(&chunk).await.map_err(anyhow::Error::from)?;
                }
                out.flush().await.map_err(anyhow::Error::from)?;
                file = Some((fname, tmp, size));
            }
            "org_code" => org_code = field.text().await.unwrap_or_default().trim().to_string(),
            "all_or_nothing" => all_or_nothing = !field.text().await.unwrap_or_default().is_empty(),
            _ => {}
        }
    }
    let (fname, tmp, size) =
        file.ok_or_else(|| AppError::invalid("请选择要导入的文件", "Choose a file to import"))?;
    if size == 0 {
        return Err(AppError::invalid(
            "文件是空的,请检查后重新上传",
            "The file is empty; check it and upload again",
        ));
    }
    // Workbook bombs are refused here, in the request, from the zip
    // directory and streamed XML: nothing is allocated for their range.
    let check = tmp.reopen().map_err(anyhow::Error::from)?;
    tokio::task::spawn_blocking(move || sheet::check_workbook(std::io::BufReader::new(check)))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("upload check: {e}")))?
        .map_err(|e| {
            let (zh, en) = e.message();
            AppError::Invalid(Msg::new(zh, en))
        })?;
    let opts = import::Options {
        org_code: (!org_code.is_empty()).then_some(org_code),
        all_or_nothing,
        file_name: fname.chars().filter(|c| !matches!(c, '/' | '\\')).collect(),
    };
    let job = import::create_job(st, &scope, &opts).await?;
    let path = dir.join(format!("job-{job}-upload"));
    tmp.persist(&path)
        .map_err(|e| anyhow::Error::from(e.error))?;
    let progress = st.jobs.start(job);
    let st2 = st.clone();
    tokio::spawn(async move {
        let _permit = permit;
        if let Err(e) = import::run(&st2, &scope, job, path.clone(), &opts, progress).await {
            tracing::warn!(job, error = %e, "import failed");
        }
        let _ = std::fs::remove_file(&path);
        // The statistics of the unions just imported are recomputed before
        // anyone asks, by whoever listens (the reports module).
        st2.db.org_cache().announce_bulk_write();
    });
    Ok(job)
}

/// Imports allowed to run at once in one server.
pub const MAX_RUNNING_IMPORTS: usize = 2;

/// The import slots of the server `st` belongs to.
pub fn import_slots(st: &AppState) -> Arc<Semaphore> {
    st.instance
        .get_or_init(|| Semaphore::new(MAX_RUNNING_IMPORTS))
}

fn too_large() -> AppError {
    AppError::invalid(
        format!(
            "文件超过{}MB的上限。请拆分为多个文件,或另存为CSV后分批上传",
            MAX_UPLOAD >> 20
        ),
        format!(
            "The file is larger than the {} MB limit. Split it into several files, or save it as CSV and upload it in parts.",
            MAX_UPLOAD >> 20
        ),
    )
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        AppError::invalid(
            format!("上传内容无法读取:{}", e.body_text()),
            format!("Cannot read the upload: {}", e.body_text()),
        )
    }
}

/// The declared body size, to refuse an oversized upload before reading it.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

async fn import_upload(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    mp: Multipart,
) -> AppResult<Response> {
    let job = start_upload(&st, &staff, content_length(&headers), mp).await?;
    Ok(Redirect::to(&format!("/members/import/{job}")).into_response())
}

#[derive(Template)]
#[template(path = "members/job.html")]
struct JobPage {
    c: Chrome,
    j: JobRow,
    percent: i64,
    /// The rejects file holds full numbers: offered only with unmask.
    can_unmask: bool,
}

async fn job_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(job): Path<i64>,
) -> AppResult<Response> {
    let j = import::jobs(&st, staff.scope(), Some(job))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let percent = if j.total > 0 {
        (j.processed * 100 / j.total).min(100)
    } else {
        0
    };
    Ok(html(&JobPage {
        c: Chrome::new(&staff, "members"),
        j,
        percent,
        can_unmask: staff.scope().has(Perm::Unmask),
    }))
}

async fn job_rejects(
    State(st): State<AppState>,
    staff: Staff,
    Path(job): Path<i64>,
) -> AppResult<Response> {
    let bytes = import::rejects_file(&st, staff.scope(), job).await?;
    Ok(download(bytes, XLSX, &format!("未导入-{job}.xlsx")))
}

/// The roster upload form, for the API document.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
struct ImportForm {
    /// The roster: .xlsx, .xls or .csv (UTF-8 or GBK), recognised from its content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The union the rows belong to, when the file has no 单位 column.
    org_code: Option<String>,
    /// Any non-empty value: import nothing when a row is refused.
    all_or_nothing: Option<String>,
}

/// Uploads a roster (multipart: file, org_code, all_or_nothing) and starts
/// the import; poll /api/v1/members/import/{job}.
#[utoipa::path(post, path = "/api/v1/members/import", tag = "members",
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 200, body = JobRow), (status = 413, description = "larger than the upload limit")))]
async fn api_import(
    State(st): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    mp: Multipart,
) -> AppResult<Json<JobRow>> {
    let job = start_upload(&st, &staff, content_length(&headers), mp).await?;
    import::jobs(&st, staff.scope(), Some(job))
        .await?
        .pop()
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Progress and result of an import job.
#[utoipa::path(get, path = "/api/v1/members/import/{job}", tag = "members", params(("job" = i64, Path)),
    responses((status = 200, body = JobRow), (status = 404)))]
async fn api_job(
    State(st): State<AppState>,
    staff: Staff,
    Path(job): Path<i64>,
) -> AppResult<Json<JobRow>> {
    import::jobs(&st, staff.scope(), Some(job))
        .await?
        .pop()
        .map(Json)
        .ok_or(AppError::NotFound)
}

// ------------------------------------------------------------- transfers

#[derive(Template)]
#[template(path = "members/transfers.html")]
struct TransfersPage {
    c: Chrome,
    rows: Vec<TransferRow>,
    unions: Vec<Org>,
    can_write: bool,
    prefill_id: String,
    prefill_name: String,
    prefill_org: String,
    /// Arrived from the enrolment form, which filed a transfer request.
    filed: bool,
}

impl TransfersPage {
    fn status(&self, s: &str) -> String {
        let m = match s {
            "pending" => Msg::new("待转出单位确认", "Awaiting release"),
            "approved" => Msg::new("已转出", "Released"),
            _ => Msg::new("未同意转出", "Refused"),
        };
        m.get(self.c.tr.0).to_string()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TransferPrefill {
    id_number: String,
    name: String,
    org_code: String,
    filed: u8,
}

async fn transfers_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(pre): Query<TransferPrefill>,
) -> AppResult<Response> {
    let rows = transfer::list(&st.db, staff.scope()).await?;
    let unions = grassroots(&st, staff.scope()).await?;
    Ok(html(&TransfersPage {
        c: Chrome::new(&staff, "members"),
        rows,
        unions,
        can_write: staff.scope().can_write(),
        prefill_id: pre.id_number,
        prefill_name: pre.name,
        prefill_org: pre.org_code,
        filed: pre.filed == 1,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TransferBody {
    #[serde(default)]
    id_kind: String,
    id_number: String,
    /// The person's name as on the ID: a request matches a member only when
    /// both agree.
    #[serde(default)]
    name: String,
    /// The receiving grassroots union's code.
    to_org: String,
    #[serde(default)]
    reason: String,
}

impl TransferBody {
    fn request(&self) -> transfer::Request<'_> {
        transfer::Request {
            id_kind: &self.id_kind,
            id_number: &self.id_number,
            name: &self.name,
            to_code: &self.to_org,
            reason: &self.reason,
        }
    }
}

async fn transfer_start(
    State(st): State<AppState>,
    staff: Staff,
    Form(b): Form<TransferBody>,
) -> AppResult<Response> {
    transfer::start(&st.db, &st.keys, staff.scope(), b.request()).await?;
    Ok(Redirect::to("/members/transfers").into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct DecisionBody {
    #[serde(default)]
    note: String,
}

async fn transfer_approve(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<DecisionBody>,
) -> AppResult<Response> {
    transfer::approve(&st.db, staff.scope(), TransferId(id), &b.note).await?;
    Ok(Redirect::to("/members/transfers").into_response())
}

async fn transfer_reject(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<DecisionBody>,
) -> AppResult<Response> {
    transfer::reject(&st.db, staff.scope(), TransferId(id), &b.note).await?;
    Ok(Redirect::to("/members/transfers").into_response())
}

/// Transfers into or out of the caller's subtree.
#[utoipa::path(get, path = "/api/v1/members/transfers", tag = "members", responses((status = 200, body = [TransferRow])))]
async fn api_transfers(
    State(st): State<AppState>,
    staff: Staff,
) -> AppResult<Json<Vec<TransferRow>>> {
    Ok(Json(transfer::list(&st.db, staff.scope()).await?))
}

/// Asks for a member of another union to move into one of the caller's
/// unions. The answer is the same whether or not the ID belongs to a member:
/// the sending union, which alone sees the request, releases it.
#[utoipa::path(post, path = "/api/v1/members/transfers", tag = "members", request_body = TransferBody,
    responses((status = 200), (status = 409), (status = 422)))]
async fn api_transfer_start(
    State(st): State<AppState>,
    staff: Staff,
    Json(b): Json<TransferBody>,
) -> AppResult<Json<serde_json::Value>> {
    let id = transfer::start(&st.db, &st.keys, staff.scope(), b.request()).await?;
    Ok(Json(serde_json::json!({"id": id})))
}

/// The sending union (or an account above both unions) releases the member.
#[utoipa::path(post, path = "/api/v1/members/transfers/{id}/approve", tag = "members", params(("id" = i64, Path)),
    request_body = DecisionBody, responses((status = 200), (status = 404)))]
async fn api_transfer_approve(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> AppResult<Json<serde_json::Value>> {
    transfer::approve(&st.db, staff.scope(), TransferId(id), &b.note).await?;
    Ok(Json(serde_json::json!({"status": "approved"})))
}

#[utoipa::path(post, path = "/api/v1/members/transfers/{id}/reject", tag = "members", params(("id" = i64, Path)),
    request_body = DecisionBody, responses((status = 200), (status = 404), (status = 422)))]
async fn api_transfer_reject(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> AppResult<Json<serde_json::Value>> {
    transfer::reject(&st.db, staff.scope(), TransferId(id), &b.note).await?;
    Ok(Json(serde_json::json!({"status": "rejected"})))
}
