//! 帮扶救助 pages (files, campaigns, applications, the printable 审批表) and
//! the JSON API under /api/v1/hardship. Both call the same store functions,
//! which apply the caller's scope and audit every view.

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use crate::{
    files::{
        self, CheckInput, CheckRow, CloseInput, DrawInput, FileDetail, FileId, FileInput, FileRow,
        ListFilter,
    },
    grants::{
        self, Allocation, ApplyInput, Batch, BatchId, Campaign, CampaignId, CampaignInput,
        GrantRow, PayInput,
    },
    model::{self, Category, Line},
};
use platform::{
    error::{AppError, AppResult},
    ids::OrgId,
    money::Fen,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/hardship", get(index))
        .page("/hardship/files", get(files_page))
        .page("/hardship/files/{id}", get(file_page))
        .page("/hardship/campaigns", get(campaigns_page))
        .page("/hardship/campaigns/{id}", get(campaign_page))
        .page("/hardship/batches/{id}", get(batch_page))
        .page("/hardship/batches/{id}/print", get(print_page))
        // The same form as .docx (POST, as every download of records).
        .page("/hardship/batches/{id}/approval.docx", post(approval_docx))
        .page("/hardship/batches/{id}/pay", post(pay_submit))
        .page("/hardship/files/{id}/close", post(close_submit))
        // Exports: POST, masked, audited.
        .page("/hardship/files/export.xlsx", post(files_export))
        .page("/hardship/campaigns/{id}/grants.xlsx", post(grants_export))
        .page("/hardship/campaigns/{id}/apply", post(apply_submit))
        .api(routes!(api_files, api_create_file))
        .api(routes!(api_file))
        .api(routes!(api_unmask_bank))
        .api(routes!(api_object))
        .api(routes!(api_confirm))
        .api(routes!(api_close))
        .api(routes!(api_set_line))
        .api(routes!(api_rechecks, api_draw))
        .api(routes!(api_recheck))
        .api(routes!(api_campaigns, api_create_campaign))
        .api(routes!(api_campaign))
        .api(routes!(api_allocate))
        .api(routes!(api_batches, api_apply))
        .api(routes!(api_apply_sheet))
        .api(routes!(api_batch))
        .api(routes!(api_pay))
        // The file form (new, and edit after a return) and its API.
        .page(
            "/hardship/files/new",
            get(crate::file_pages::new_page).post(crate::file_pages::new_submit),
        )
        .page(
            "/hardship/files/{id}/edit",
            get(crate::file_pages::edit_page).post(crate::file_pages::edit_submit),
        )
        .api(routes!(api_resubmit_file))
        .api(routes!(api_income_test))
        // 走访慰问 and 春送岗位 (visits_http.rs).
        .merge(crate::visits_http::routes())
}

// ───────────────────────────── helpers for templates ─────────────────────────────

fn money(fen: i64) -> String {
    Fen::from_fen(fen).display()
}

fn status_label(s: &str, en: bool) -> &'static str {
    let (zh, e) = match s {
        "reviewing" => ("审批中", "Under review"),
        "notice" => ("公示中", "On public notice"),
        "open" => ("在档", "On file"),
        "rejected" => ("未通过", "Rejected"),
        "closed" => ("已解困脱困", "Closed"),
        "approved" => ("已批准", "Approved"),
        "paid" => ("已发放", "Paid"),
        "draft" => ("草稿", "Draft"),
        _ => ("—", "—"),
    };
    if en {
        e
    } else {
        zh
    }
}

// ───────────────────────────── pages ─────────────────────────────

async fn index(_staff: Staff) -> Response {
    Redirect::to("/hardship/files").into_response()
}

#[derive(Template)]
#[template(path = "hardship/files.html")]
struct FilesPage {
    c: Chrome,
    rows: Vec<FileRow>,
    f: ListFilter,
    /// Whether the reader may see health data (a cause may be an illness).
    health: bool,
}

impl FilesPage {
    fn category(&self, c: &Category) -> String {
        c.label().get(self.c.tr.0).to_string()
    }
    fn cause(&self, k: &str) -> String {
        cause_for(k, self.health, self.c.tr.0)
    }
    fn status(&self, s: &str) -> &'static str {
        status_label(s, self.c.tr.is_en())
    }
}

async fn files_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ListFilter>,
) -> AppResult<Response> {
    let rows = files::list(&st.db, staff.scope(), &f).await?;
    Ok(html(&FilesPage {
        health: model::Access::of(staff.scope()).health,
        c: Chrome::new(&staff, "hardship"),
        rows,
        f,
    }))
}

#[derive(Template)]
#[template(path = "hardship/file.html")]
struct FilePage {
    c: Chrome,
    d: FileDetail,
}

impl FilePage {
    fn category(&self, c: &Category) -> String {
        c.label().get(self.c.tr.0).to_string()
    }
    fn offered(&self) -> String {
        match self.d.offered_category {
            Some(c) => c.label().get(self.c.tr.0).to_string(),
            None => self.c.t("hardship.not_eligible").to_string(),
        }
    }
    fn cause(&self, k: &str) -> String {
        model::cause_label(k).get(self.c.tr.0).to_string()
    }
    fn status(&self, s: &str) -> &'static str {
        status_label(s, self.c.tr.is_en())
    }
    fn money(&self, fen: &Option<i64>) -> String {
        fen.map_or_else(|| self.c.t("hardship.hidden").to_string(), money)
    }
    fn text(&self, v: &Option<String>) -> String {
        v.clone()
            .unwrap_or_else(|| self.c.t("hardship.hidden").to_string())
    }
    fn measure(&self) -> String {
        files::MEASURES
            .iter()
            .find(|m| m.0 == self.d.close_measure)
            .map_or(String::new(), |m| {
                if self.c.tr.is_en() { m.2 } else { m.1 }.to_string()
            })
    }
    fn measures(&self) -> Vec<(&'static str, &'static str)> {
        files::MEASURES
            .iter()
            .map(|m| (m.0, if self.c.tr.is_en() { m.2 } else { m.1 }))
            .collect()
    }
    fn kind_label(&self) -> String {
        self.d.head.kind.label().get(self.c.tr.0).to_string()
    }
    fn yes(&self, b: &bool) -> &'static str {
        if *b {
            self.c.t("common.yes")
        } else {
            self.c.t("common.no")
        }
    }
}

async fn file_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = files::get(&st.db, staff.scope(), FileId(id)).await?;
    Ok(html(&FilePage {
        c: Chrome::new(&staff, "hardship"),
        d,
    }))
}

#[derive(Template)]
#[template(path = "hardship/campaigns.html")]
struct CampaignsPage {
    c: Chrome,
    rows: Vec<Campaign>,
    batches: Vec<Batch>,
}

impl CampaignsPage {
    fn kind(&self, k: &str) -> String {
        model::kind_label(k).get(self.c.tr.0).to_string()
    }
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn status(&self, s: &str) -> &'static str {
        status_label(s, self.c.tr.is_en())
    }
}

async fn campaigns_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let rows = grants::campaigns(&st.db, staff.scope()).await?;
    let batches = grants::batches(&st.db, staff.scope()).await?;
    Ok(html(&CampaignsPage {
        c: Chrome::new(&staff, "hardship"),
        rows,
        batches,
    }))
}

#[derive(Template)]
#[template(path = "hardship/campaign.html")]
struct CampaignPage {
    c: Chrome,
    campaign: Campaign,
    allocations: Vec<Allocation>,
}

impl CampaignPage {
    fn kind(&self, k: &str) -> String {
        model::kind_label(k).get(self.c.tr.0).to_string()
    }
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
}

async fn campaign_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = grants::campaign(&st.db, staff.scope(), CampaignId(id)).await?;
    let allocations = grants::allocations(&st.db, staff.scope(), CampaignId(id)).await?;
    Ok(html(&CampaignPage {
        c: Chrome::new(&staff, "hardship"),
        campaign,
        allocations,
    }))
}

#[derive(Template)]
#[template(path = "hardship/batch.html")]
struct BatchPage {
    c: Chrome,
    b: Batch,
    rows: Vec<GrantRow>,
}

#[derive(Template)]
#[template(path = "hardship/print.html")]
struct PrintPage {
    c: Chrome,
    b: Batch,
    rows: Vec<GrantRow>,
    steps: Vec<platform::review::StepRow>,
    today: String,
}

macro_rules! batch_helpers {
    ($t:ty) => {
        impl $t {
            fn money(&self, fen: &i64) -> String {
                money(*fen)
            }
            fn status(&self, s: &str) -> &'static str {
                status_label(s, self.c.tr.is_en())
            }
        }
    };
}
batch_helpers!(BatchPage);
impl PrintPage {
    fn action(&self, s: &platform::review::StepRow) -> String {
        s.action.label().get(self.c.tr.0).to_string()
    }
}
batch_helpers!(PrintPage);

async fn batch_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, rows) = grants::batch(&st.db, staff.scope(), BatchId(id)).await?;
    Ok(html(&BatchPage {
        c: Chrome::new(&staff, "hardship"),
        b,
        rows,
    }))
}

/// What the 审批表 shows, on paper or in Word: the application, its people
/// and the review's steps.
async fn approval_form(
    st: &AppState,
    staff: &Staff,
    id: BatchId,
) -> AppResult<(Batch, Vec<GrantRow>, Vec<platform::review::StepRow>)> {
    let (b, rows) = grants::batch(&st.db, staff.scope(), id).await?;
    let steps = match b.review_id {
        Some(r) => platform::review::history(&st.db, staff.scope(), platform::review::ReviewId(r))
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok((b, rows, steps))
}

/// The 审批表 to print and sign.
async fn print_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, rows, steps) = approval_form(&st, &staff, BatchId(id)).await?;
    Ok(html(&PrintPage {
        c: Chrome::new(&staff, "hardship"),
        b,
        rows,
        steps,
        today: platform::time::today().to_string(),
    }))
}

/// The 审批表 as .docx, for Word/WPS and a signature on paper.
async fn approval_docx(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (b, rows, steps) = approval_form(&st, &staff, BatchId(id)).await?;
    let lang = staff.ctx.lang;
    let bytes = crate::approval_docx::build(
        &b,
        &rows,
        &steps,
        &platform::time::today().to_string(),
        money,
        |s| s.action.label().get(lang).to_string(),
    )
    .map_err(AppError::Internal)?;
    Ok(platform::web::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &format!("审批表-{}.docx", b.id.0),
    ))
}

// ───────────────────────────── page forms ─────────────────────────────

/// The payment form of an approved application.
async fn pay_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<PayInput>,
) -> AppResult<Response> {
    grants::pay(&st.db, staff.scope(), BatchId(id), &b).await?;
    Ok(Redirect::to(&format!("/hardship/batches/{id}")).into_response())
}

/// The closing form of a file (解困脱困).
async fn close_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<CloseInput>,
) -> AppResult<Response> {
    files::close(&st.db, staff.scope(), FileId(id), &b).await?;
    Ok(Redirect::to(&format!("/hardship/files/{id}")).into_response())
}

/// An application from an Excel list, uploaded on the campaign's page
/// (multipart: file; the CSRF token in the query).
async fn apply_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let mut bytes = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            bytes = Some(field.bytes().await.map_err(multipart_error)?);
        }
    }
    let bytes =
        bytes.ok_or_else(|| AppError::invalid("请选择名单文件", "Choose the list to upload"))?;
    let input = ApplyInput {
        campaign_id: id,
        org_id: None,
        title: String::new(),
        people: grants::people_from_sheet(&bytes)?,
    };
    let batch = grants::apply(&st, staff.scope(), &input).await?;
    Ok(Redirect::to(&format!("/hardship/batches/{}", batch.0)).into_response())
}

// ───────────────────────────── API: files ─────────────────────────────

/// The hardship files of the caller's subtree (no health, income or bank
/// data in the list); the view is audited.
#[utoipa::path(get, path = "/api/v1/hardship/files", tag = "hardship", params(ListFilter),
    responses((status = 200, body = [FileRow])))]
async fn api_files(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ListFilter>,
) -> AppResult<Json<Vec<FileRow>>> {
    Ok(Json(files::list(&st.db, staff.scope(), &f).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Created {
    id: i64,
}

/// Files a household and sends it up the review chain (基层 → 县区 初审 →
/// 市总 终审). Income that contradicts the category needs `override_reason`.
#[utoipa::path(post, path = "/api/v1/hardship/files", tag = "hardship", request_body = FileInput,
    responses((status = 200, body = Created), (status = 409), (status = 422)))]
async fn api_create_file(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<FileInput>,
) -> AppResult<Json<Created>> {
    let id = files::create(&st, staff.scope(), &input).await?;
    Ok(Json(Created { id: id.0 }))
}

/// One file as the caller's role may see it (health and disability: case
/// workers; incomes and the masked account: case workers and auditors);
/// every view is audited.
#[utoipa::path(get, path = "/api/v1/hardship/files/{id}", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = FileDetail), (status = 404)))]
async fn api_file(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<FileDetail>> {
    Ok(Json(files::get(&st.db, staff.scope(), FileId(id)).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct BankAccount {
    bank_account: String,
}

/// The full bank account: needs the unmask permission; audited.
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/bank", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = BankAccount), (status = 403), (status = 404)))]
async fn api_unmask_bank(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<BankAccount>> {
    Ok(Json(BankAccount {
        bank_account: files::unmask_bank(&st, staff.scope(), FileId(id)).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ObjectionBody {
    content: String,
}

/// Records an objection raised during the public notice (公示).
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/objections", tag = "hardship", params(("id" = i64, Path)),
    request_body = ObjectionBody, responses((status = 204), (status = 409), (status = 422)))]
async fn api_object(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<ObjectionBody>,
) -> AppResult<axum::http::StatusCode> {
    files::object(&st.db, staff.scope(), FileId(id), &b.content).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ConfirmBody {
    /// The resolution of objections raised during the notice, if any.
    #[serde(default)]
    resolution: String,
}

/// Confirms a file after its notice period (county or city).
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/confirm", tag = "hardship", params(("id" = i64, Path)),
    request_body = ConfirmBody, responses((status = 204), (status = 409), (status = 422)))]
async fn api_confirm(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<ConfirmBody>,
) -> AppResult<axum::http::StatusCode> {
    files::confirm(&st.db, staff.scope(), FileId(id), &b.resolution).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Closes a file (解困脱困 / 撤档): reason and measure required; read-only afterwards.
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/close", tag = "hardship", params(("id" = i64, Path)),
    request_body = CloseInput, responses((status = 204), (status = 409), (status = 422)))]
async fn api_close(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<CloseInput>,
) -> AppResult<axum::http::StatusCode> {
    files::close(&st.db, staff.scope(), FileId(id), &b).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct LineBody {
    /// The county (or industry union) the line applies to; the city root
    /// sets the default for regions without their own.
    org_id: i64,
    year: i64,
    #[serde(flatten)]
    line: Line,
}

/// Sets a region's monthly 低保 line and the multiples of the income test.
#[utoipa::path(post, path = "/api/v1/hardship/lines", tag = "hardship", request_body = LineBody,
    responses((status = 204), (status = 422)))]
async fn api_set_line(
    State(st): State<AppState>,
    staff: Staff,
    Json(b): Json<LineBody>,
) -> AppResult<axum::http::StatusCode> {
    files::set_line(&st.db, staff.scope(), OrgId(b.org_id), b.year, b.line).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
struct YearQuery {
    /// The re-check's year; this year when absent.
    year: Option<i64>,
}

/// The year's re-check list (年审) of the caller's subtree, with the draw.
#[utoipa::path(get, path = "/api/v1/hardship/rechecks", tag = "hardship", params(YearQuery),
    responses((status = 200, body = [CheckRow])))]
async fn api_rechecks(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<YearQuery>,
) -> AppResult<Json<Vec<CheckRow>>> {
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&platform::time::today()) as i64);
    Ok(Json(files::rechecks(&st.db, staff.scope(), year).await?))
}

/// Draws the year's re-check: the open files due, `share_pct` of them drawn
/// for a home visit; a file keeps its first draw.
#[utoipa::path(post, path = "/api/v1/hardship/rechecks", tag = "hardship", request_body = DrawInput,
    responses((status = 200, body = [CheckRow]), (status = 422)))]
async fn api_draw(
    State(st): State<AppState>,
    staff: Staff,
    Json(b): Json<DrawInput>,
) -> AppResult<Json<Vec<CheckRow>>> {
    Ok(Json(files::draw_rechecks(&st.db, staff.scope(), &b).await?))
}

/// Records a file's re-check; a household that no longer qualifies is
/// closed (reason and measure required).
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/recheck", tag = "hardship",
    params(("id" = i64, Path)), request_body = CheckInput,
    responses((status = 204), (status = 409), (status = 422)))]
async fn api_recheck(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<CheckInput>,
) -> AppResult<axum::http::StatusCode> {
    files::record_check(&st.db, staff.scope(), FileId(id), &b).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ───────────────────────────── API: campaigns and applications ─────────────────────────────

/// The campaigns the caller works in (its ancestors' and its subtree's).
#[utoipa::path(get, path = "/api/v1/hardship/campaigns", tag = "hardship",
    responses((status = 200, body = [Campaign])))]
async fn api_campaigns(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<Campaign>>> {
    Ok(Json(grants::campaigns(&st.db, staff.scope()).await?))
}

/// Creates a campaign; the organising union holds the whole budget.
#[utoipa::path(post, path = "/api/v1/hardship/campaigns", tag = "hardship", request_body = CampaignInput,
    responses((status = 200, body = Created), (status = 422)))]
async fn api_create_campaign(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<CampaignInput>,
) -> AppResult<Json<Created>> {
    let id = grants::create_campaign(&st.db, staff.scope(), &input).await?;
    Ok(Json(Created { id: id.0 }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct CampaignDetail {
    campaign: Campaign,
    /// The allocations inside the caller's subtree.
    allocations: Vec<Allocation>,
}

#[utoipa::path(get, path = "/api/v1/hardship/campaigns/{id}", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = CampaignDetail), (status = 404)))]
async fn api_campaign(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<CampaignDetail>> {
    Ok(Json(CampaignDetail {
        campaign: grants::campaign(&st.db, staff.scope(), CampaignId(id)).await?,
        allocations: grants::allocations(&st.db, staff.scope(), CampaignId(id)).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct AllocateBody {
    org_id: i64,
    amount_fen: i64,
}

/// Hands part of the budget down to a union (or changes its share).
#[utoipa::path(post, path = "/api/v1/hardship/campaigns/{id}/allocations", tag = "hardship",
    params(("id" = i64, Path)), request_body = AllocateBody,
    responses((status = 204), (status = 403), (status = 422)))]
async fn api_allocate(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<AllocateBody>,
) -> AppResult<axum::http::StatusCode> {
    grants::allocate(
        &st.db,
        staff.scope(),
        CampaignId(id),
        OrgId(b.org_id),
        b.amount_fen,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The applications of the caller's subtree, newest first.
#[utoipa::path(get, path = "/api/v1/hardship/batches", tag = "hardship",
    responses((status = 200, body = [Batch])))]
async fn api_batches(State(st): State<AppState>, staff: Staff) -> AppResult<Json<Vec<Batch>>> {
    Ok(Json(grants::batches(&st.db, staff.scope()).await?))
}

/// Applies for one person or thousands (from files or by name and ID); the
/// application walks the review chain. Refused whole — nothing written — on
/// a person helped before in the campaign, an allocation exceeded, an
/// amount above the standard without a reason, or a bad line.
#[utoipa::path(post, path = "/api/v1/hardship/batches", tag = "hardship", request_body = ApplyInput,
    responses((status = 200, body = Created), (status = 409), (status = 422)))]
async fn api_apply(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<ApplyInput>,
) -> AppResult<Json<Created>> {
    let id = grants::apply(&st, staff.scope(), &input).await?;
    Ok(Json(Created { id: id.0 }))
}

/// The multipart form of an Excel application.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct SheetForm {
    campaign_id: i64,
    /// The applying union; the caller's own when absent.
    org_id: Option<i64>,
    title: Option<String>,
    /// xlsx, xls or CSV with 姓名, 身份证号 and optionally 金额, 超标准理由, 学校.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::invalid(
        format!("上传内容无法读取:{}", e.body_text()),
        format!("Cannot read the upload: {}", e.body_text()),
    )
}

/// Applies from an Excel list (multipart: campaign_id, org_id, title, file):
/// the whole list or nothing.
#[utoipa::path(post, path = "/api/v1/hardship/batches/import", tag = "hardship",
    request_body(content = SheetForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Created), (status = 409), (status = 422)))]
async fn api_apply_sheet(
    State(st): State<AppState>,
    staff: Staff,
    mut mp: Multipart,
) -> AppResult<Json<Created>> {
    staff.scope().require_write()?;
    let mut input = ApplyInput::default();
    let mut bytes = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(multipart_error)?;
        let text = || String::from_utf8_lossy(&data).trim().to_string();
        match name.as_str() {
            "file" => bytes = Some(data.clone()),
            "campaign_id" => {
                input.campaign_id = text().parse().map_err(|_| {
                    AppError::invalid("活动编号无效", "The campaign id is not a number")
                })?
            }
            "org_id" if !text().is_empty() => {
                input.org_id =
                    Some(text().parse().map_err(|_| {
                        AppError::invalid("单位编号无效", "The org id is not a number")
                    })?)
            }
            "title" => input.title = text(),
            _ => {}
        }
    }
    let bytes =
        bytes.ok_or_else(|| AppError::invalid("请上传名单文件", "Upload the list (file field)"))?;
    input.people = grants::people_from_sheet(&bytes)?;
    let id = grants::apply(&st, staff.scope(), &input).await?;
    Ok(Json(Created { id: id.0 }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct BatchDetail {
    batch: Batch,
    /// Masked.
    people: Vec<GrantRow>,
}

/// One application with its people (masked); the view is audited.
#[utoipa::path(get, path = "/api/v1/hardship/batches/{id}", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = BatchDetail), (status = 404)))]
async fn api_batch(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<BatchDetail>> {
    let (batch, people) = grants::batch(&st.db, staff.scope(), BatchId(id)).await?;
    Ok(Json(BatchDetail { batch, people }))
}

/// Records the payment of an approved application (date, method, 经办人).
#[utoipa::path(post, path = "/api/v1/hardship/batches/{id}/pay", tag = "hardship", params(("id" = i64, Path)),
    request_body = PayInput, responses((status = 204), (status = 409), (status = 422)))]
async fn api_pay(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<PayInput>,
) -> AppResult<axum::http::StatusCode> {
    grants::pay(&st.db, staff.scope(), BatchId(id), &b).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

// ───────────────────────────── API: editing a returned file ─────────────────────────────

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = HardshipFileEdit)]
struct FileEditBody {
    /// The file as it should be (the head cannot change; an empty
    /// `bank_account` keeps the stored one).
    #[serde(flatten)]
    file: FileInput,
    /// What was changed, for the reviewers.
    #[serde(default)]
    comment: String,
}

/// Edits a file the review chain returned for changes (退回修改) and sends it
/// up the chain again from the first step. Only the submitting union; a
/// file under review, on notice, confirmed, rejected or closed is refused.
#[utoipa::path(post, path = "/api/v1/hardship/files/{id}/resubmit", tag = "hardship",
    params(("id" = i64, Path)), request_body = FileEditBody,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
async fn api_resubmit_file(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Json(b): Json<FileEditBody>,
) -> AppResult<axum::http::StatusCode> {
    files::edit(&st, staff.scope(), FileId(id), &b.file, &b.comment).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The income test of a filing before it is made: per-capita monthly
/// income, the county's line and multiples, and the category the rules offer.
#[utoipa::path(post, path = "/api/v1/hardship/income-test", tag = "hardship", request_body = FileInput,
    responses((status = 200, body = files::IncomeTestView), (status = 422)))]
async fn api_income_test(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<FileInput>,
) -> AppResult<Json<files::IncomeTestView>> {
    staff.scope().require_write()?;
    Ok(Json(
        files::test_income(&st.db, staff.scope(), &input).await?,
    ))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn xlsx(sheet: sheet::SheetOut) -> AppResult<Vec<u8>> {
    sheet::write_xlsx(&[sheet]).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

/// The file list as filtered, as xlsx: the head masked, no income, health
/// or bank data (those stay on the file page, for the roles that see
/// them); audited.
async fn files_export(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<ListFilter>,
) -> AppResult<Response> {
    let rows = files::list_up_to(&st.db, staff.scope(), &f, 1_000_000).await?;
    let health = model::Access::of(staff.scope()).health;
    let en = staff.ctx.tr().is_en();
    let h = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
    let bytes = xlsx(sheet::SheetOut {
        name: h("困难职工档案", "Hardship files"),
        headers: vec![
            h("档案号", "File"),
            h("建档工会", "Union"),
            h("户主", "Household head"),
            h("证件号码", "ID number"),
            h("困难类别", "Category"),
            h("主要致困原因", "Primary cause"),
            h("状态", "Status"),
            h("建档年度", "Year"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    sheet::CellOut::from(r.id.0),
                    r.org_name.clone().into(),
                    r.head_name.clone().into(),
                    r.head_id_masked.clone().into(),
                    r.category.label().get(staff.ctx.tr().0).to_string().into(),
                    cause_for(&r.primary_cause, health, staff.ctx.tr().0).into(),
                    status_label(&r.status, en).to_string().into(),
                    r.year.into(),
                ]
            })
            .collect(),
        col_widths: None,
    })?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("hardship.file_export", "hardship_file", "list")
            .org(staff.scope().org_id)
            .detail(
                serde_json::json!({"rows": rows.len(), "status": f.status, "category": f.category}),
            ),
    )
    .await?;
    Ok(platform::web::download(bytes, XLSX, "困难职工档案.xlsx"))
}

/// A campaign's disbursements in the caller's subtree, as xlsx: masked,
/// with the batch's review and payment state; audited.
async fn grants_export(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let campaign = grants::campaign(&st.db, staff.scope(), CampaignId(id)).await?;
    let rows = grants::campaign_grants(&st.db, staff.scope(), CampaignId(id)).await?;
    let en = staff.ctx.tr().is_en();
    let h = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
    let bytes = xlsx(sheet::SheetOut {
        name: h("发放明细", "Disbursements"),
        headers: vec![
            h("申请批次", "Batch"),
            h("申请工会", "Union"),
            h("姓名", "Name"),
            h("证件号码", "ID number"),
            h("金额(元)", "Amount (yuan)"),
            h("超标准理由", "Exception reason"),
            h("学校", "School"),
            h("状态", "Status"),
            h("发放日期", "Paid on"),
            h("发放方式", "Method"),
            h("经办人", "Handler"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    sheet::CellOut::from(r.batch_id),
                    r.org_name.clone().into(),
                    r.name.clone().into(),
                    r.id_masked.clone().into(),
                    Fen::from_fen(r.amount_fen).yuan_text().into(),
                    r.exception_reason.clone().into(),
                    r.school.clone().into(),
                    status_label(&r.status, en).to_string().into(),
                    r.paid_on.clone().unwrap_or_default().into(),
                    r.pay_method.clone().into(),
                    r.handler.clone().into(),
                ]
            })
            .collect(),
        col_widths: None,
    })?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("hardship.grant_export", "hardship_campaign", id)
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"rows": rows.len()})),
    )
    .await?;
    Ok(platform::web::download(
        bytes,
        XLSX,
        &format!("{}-发放明细.xlsx", campaign.name),
    ))
}

/// A file's cause as a reader may see it: an illness (重特大疾病) is health
/// data, shown only to the roles that see health (not to 经审 auditors).
fn cause_for(k: &str, health: bool, lang: platform::i18n::Lang) -> String {
    if !health && k == "illness" {
        return platform::i18n::Msg::new("(无权查看)", "(not shown to your role)")
            .get(lang)
            .to_string();
    }
    model::cause_label(k).get(lang).to_string()
}
