//! 互助保障 pages and the JSON API under /api/v1/mutual-aid. Claims are
//! decided on the platform's review pages (/reviews, /api/v1/reviews); their
//! files go through the platform's attachment routes (kind `mutual_aid_claim`).

use askama::Template;
use axum::{
    extract::{Multipart, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use crate::{
    export,
    lists::{
        self, ClaimFilter, EnrolmentFilter, LedgerFilter, MutualAidEnrolmentRow,
        MutualAidLedgerRow, MutualAidUnionTotal,
    },
    rules::Payout,
    sheet_enrol::{self, MutualAidRowProblem, Outcome},
    store::{self, ClaimInput, ClaimView, EnrolInput, Enrolled, Enrolment, Plan, PlanInput},
};
use platform::{
    error::{AppError, AppResult},
    money::Fen,
    review::{self, ReviewItem, StepRow},
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/mutual-aid", get(index))
        .page("/mutual-aid/plans", post(plan_create_submit))
        .page("/mutual-aid/plans/{id}", get(plan_page))
        .page(
            "/mutual-aid/enrolments",
            get(enrolments_page).post(enrol_submit),
        )
        .page("/mutual-aid/enrolments/sheet", post(enrol_sheet_submit))
        // Exports are POSTs (CSRF), the filters in the query.
        .page(
            "/mutual-aid/enrolments/export.xlsx",
            post(enrolments_export),
        )
        .page(
            "/mutual-aid/claims",
            get(claims_page).post(claim_create_submit),
        )
        .page("/mutual-aid/claims/new", get(claim_new_page))
        .page("/mutual-aid/claims/export.xlsx", post(claims_export))
        .page("/mutual-aid/claims/{id}", get(claim_page))
        .page("/mutual-aid/claims/{id}/submit", post(claim_submit_form))
        .page("/mutual-aid/claims/{id}/review", post(claim_review_form))
        .page("/mutual-aid/claims/{id}/files", post(claim_file_form))
        .page("/mutual-aid/ledger", get(ledger_page))
        .page("/mutual-aid/ledger/export.xlsx", post(ledger_export))
        .api(routes!(api_plans, api_plan_create))
        .api(routes!(api_enrolments, api_enrol))
        .api(routes!(api_enrolment_list))
        .api(routes!(api_enrol_sheet))
        .api(routes!(api_claims, api_claim_create))
        .api(routes!(api_claim))
        .api(routes!(api_claim_submit))
        .api(routes!(api_ledger))
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
    can_create: bool,
    categories: &'static [(&'static str, &'static str, &'static str)],
}

impl IndexPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map(money).unwrap_or_else(|| "—".into())
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
            contributions: money(fen),
        });
    }
    let claims = store::claims(&st.db, scope).await?;
    let en = staff.ctx.tr().is_en();
    Ok(html(&IndexPage {
        c: Chrome::new(&staff, "mutual_aid"),
        plans,
        claims: claims.into_iter().take(20).collect(),
        en,
        can_create: store::may_create_plan(scope),
        categories: store::CATEGORIES,
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
    /// The payout in words: the rules' parts and the cap that cut it.
    pub payout_note: Option<String>,
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
    let (payout, payout_refused) = payout_now(&st, &staff, &claim).await?;
    let payout_note = match &payout {
        Some(p) => {
            let plan = store::get_plan(&st.db, staff.scope(), claim.plan_id).await?;
            Some(store::explain(p, &plan).get(staff.ctx.lang).to_string())
        }
        None => None,
    };
    Ok(Json(ClaimDetail {
        claim,
        payout,
        payout_note,
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

/// What the rules give a claim now, or why nothing can be paid (nothing
/// for a decided claim: its payout is on the ledger).
async fn payout_now(
    st: &AppState,
    staff: &Staff,
    claim: &ClaimView,
) -> AppResult<(Option<Payout>, Option<String>)> {
    if claim.status == "approved" || claim.status == "rejected" {
        return Ok((None, None));
    }
    match store::preview(&st.db, staff.scope(), claim.id).await {
        Ok(p) => Ok((Some(p), None)),
        Err(AppError::Invalid(m)) => Ok((None, Some(m.get(staff.ctx.lang).to_string()))),
        Err(e) => Err(e),
    }
}

// ───────────────────────────── API: lists, Excel enrolment, ledger ─────────────────────────────

/// Enrolments of the caller's subtree, filtered by plan, union (code) and
/// status (active | pending | expired); names with masked IDs, at most 5000.
#[utoipa::path(get, path = "/api/v1/mutual-aid/enrolments", tag = "mutual_aid", params(EnrolmentFilter),
    responses((status = 200, body = [MutualAidEnrolmentRow]), (status = 404), (status = 422)))]
async fn api_enrolment_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<EnrolmentFilter>,
) -> AppResult<Json<Vec<MutualAidEnrolmentRow>>> {
    Ok(Json(lists::enrolments(&st.db, staff.scope(), &f).await?))
}

/// The payout ledger of the caller's subtree (plan, period), newest first.
#[utoipa::path(get, path = "/api/v1/mutual-aid/ledger", tag = "mutual_aid", params(LedgerFilter),
    responses((status = 200, body = [MutualAidLedgerRow]), (status = 422)))]
async fn api_ledger(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<LedgerFilter>,
) -> AppResult<Json<Vec<MutualAidLedgerRow>>> {
    Ok(Json(lists::ledger(&st.db, staff.scope(), &f).await?))
}

/// The multipart form of an enrolment from an Excel list.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct MutualAidSheetForm {
    plan_id: i64,
    /// YYYY-MM-DD; today when absent. Inside the plan's period.
    enrolled_on: Option<String>,
    /// "1": check the list and total it, write nothing.
    check_only: Option<String>,
    /// xlsx, xls or CSV with 姓名 and 身份证号 (证件类型 optional).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A refused list: every bad row with its number and reason.
#[derive(Serialize, utoipa::ToSchema)]
struct MutualAidSheetRefusal {
    error: MutualAidSheetError,
}

#[derive(Serialize, utoipa::ToSchema)]
struct MutualAidSheetError {
    code: &'static str,
    message: String,
    message_zh: String,
    message_en: String,
    /// The bad rows (at most 200) when the list itself was refused; absent
    /// when the request was (no plan, not a spreadsheet …).
    #[schema(required = false)]
    rows: Vec<MutualAidRowProblem>,
}

struct SheetUpload {
    plan_id: i64,
    enrolled_on: String,
    check_only: bool,
    bytes: axum::body::Bytes,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    AppError::invalid(
        format!("上传内容无法读取:{}", e.body_text()),
        format!("Cannot read the upload: {}", e.body_text()),
    )
}

async fn read_upload(mut mp: Multipart) -> AppResult<SheetUpload> {
    let mut plan_id = None;
    let mut enrolled_on = String::new();
    let mut check_only = false;
    let mut bytes = None;
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let data = field.bytes().await.map_err(multipart_error)?;
        let text = || String::from_utf8_lossy(&data).trim().to_string();
        match name.as_str() {
            "file" => bytes = Some(data.clone()),
            "plan_id" => {
                plan_id = Some(text().parse::<i64>().map_err(|_| {
                    AppError::invalid("请选择互助计划", "Choose the plan (plan_id)")
                })?)
            }
            "enrolled_on" => enrolled_on = text(),
            "check_only" => check_only = matches!(text().as_str(), "1" | "true" | "on"),
            _ => {}
        }
    }
    let plan_id =
        plan_id.ok_or_else(|| AppError::invalid("请选择互助计划", "Choose the plan (plan_id)"))?;
    let bytes = bytes
        .filter(|b| !b.is_empty())
        .ok_or_else(|| AppError::invalid("请选择名单文件", "Choose the list to upload (file)"))?;
    Ok(SheetUpload {
        plan_id,
        enrolled_on,
        check_only,
        bytes,
    })
}

/// Enrols an Excel list (multipart: plan_id, enrolled_on, check_only, file)
/// of 姓名 and 身份证号: each row matched to an active member of the
/// caller's subtree by ID number, the name checked against the roster.
/// All or nothing: a list with any bad row (bad ID, not a member, name
/// differs, listed twice, already enrolled) is refused with every bad row
/// listed (`error.rows`), nothing written.
#[utoipa::path(post, path = "/api/v1/mutual-aid/enrolments/sheet", tag = "mutual_aid",
    request_body(content = MutualAidSheetForm, content_type = "multipart/form-data"),
    responses((status = 200, body = Enrolled), (status = 404), (status = 409),
        (status = 422, body = MutualAidSheetRefusal)))]
async fn api_enrol_sheet(
    State(st): State<AppState>,
    staff: Staff,
    mp: Multipart,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let u = read_upload(mp).await?;
    match sheet_enrol::enrol_from_sheet(
        &st,
        staff.scope(),
        u.plan_id,
        &u.bytes,
        &u.enrolled_on,
        u.check_only,
    )
    .await?
    {
        Outcome::Enrolled(e) => Ok(Json(e).into_response()),
        Outcome::Refused(rows) => {
            let m = sheet_enrol::refusal_message(&rows);
            let rows = rows.into_iter().take(sheet_enrol::MAX_PROBLEMS).collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(MutualAidSheetRefusal {
                    error: MutualAidSheetError {
                        code: "invalid",
                        message: m.get(staff.ctx.lang).to_string(),
                        message_zh: m.zh,
                        message_en: m.en,
                        rows,
                    },
                }),
            )
                .into_response())
        }
    }
}

// ───────────────────────────── pages ─────────────────────────────

/// Exact yuan for the pages ("10,750.00元"): a payout is read to the fen.
fn money(fen: i64) -> String {
    format!("{}元", numfmt::format_fen_table(fen, true))
}

/// The create form of a plan (city administrators).
async fn plan_create_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<PlanInput>,
) -> AppResult<Response> {
    let p = store::create_plan(&st.db, staff.scope(), &f).await?;
    Ok(Redirect::to(&format!("/mutual-aid/plans/{}", p.id)).into_response())
}

#[derive(Template)]
#[template(path = "mutual_aid/plan.html")]
struct PlanPage {
    c: Chrome,
    plan: Plan,
    unions: Vec<MutualAidUnionTotal>,
    persons: i64,
    contributions: i64,
    paid: i64,
    en: bool,
}

impl PlanPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map(money)
            .unwrap_or_else(|| self.c.t("aid.no_cap").into())
    }
    fn category(&self, k: &str) -> String {
        store::category_label(k, self.en)
    }
}

async fn plan_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let plan = store::get_plan(&st.db, scope, id).await?;
    let unions = lists::union_totals(&st.db, scope, id).await?;
    Ok(html(&PlanPage {
        persons: unions.iter().map(|u| u.persons).sum(),
        contributions: unions.iter().map(|u| u.contributions_fen).sum(),
        paid: unions.iter().map(|u| u.paid_fen).sum(),
        c: Chrome::new(&staff, "mutual_aid"),
        plan,
        unions,
        en: staff.ctx.tr().is_en(),
    }))
}

type Choices = &'static [(&'static str, &'static str, &'static str)];

#[derive(Template)]
#[template(path = "mutual_aid/enrolments.html")]
struct EnrolmentsPage {
    c: Chrome,
    f: EnrolmentFilter,
    plans: Vec<Plan>,
    rows: Vec<MutualAidEnrolmentRow>,
    total: i64,
    more: bool,
    can_write: bool,
    statuses: Choices,
    en: bool,
}

impl EnrolmentsPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn status(&self, s: &str) -> String {
        lists::label(lists::ENROLMENT_STATUSES, s, self.en)
    }
    fn selected_plan(&self, id: &i64) -> bool {
        self.f.plan.trim() == id.to_string()
    }
    fn query(&self) -> String {
        format!(
            "plan={}&union={}&status={}",
            platform::web::ctx::urlencode(self.f.plan.trim()),
            platform::web::ctx::urlencode(self.f.union.trim()),
            platform::web::ctx::urlencode(self.f.status.trim())
        )
    }
}

async fn enrolments_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<EnrolmentFilter>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let rows = lists::enrolments(&st.db, scope, &f).await?;
    let plans = store::plans(&st.db, scope).await?;
    Ok(html(&EnrolmentsPage {
        c: Chrome::new(&staff, "mutual_aid"),
        total: rows.iter().map(|r| r.contribution_fen).sum(),
        more: rows.len() as i64 >= lists::MAX_ROWS,
        rows,
        plans,
        f,
        can_write: scope.can_write(),
        statuses: lists::ENROLMENT_STATUSES,
        en: staff.ctx.tr().is_en(),
    }))
}

#[derive(Template)]
#[template(path = "mutual_aid/enrolled.html")]
struct EnrolledPage {
    c: Chrome,
    plan: Plan,
    e: Option<Enrolled>,
    check_only: bool,
    problems: Vec<MutualAidRowProblem>,
    message: String,
    en: bool,
}

impl EnrolledPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    /// After the list: as written, or (a check) as it would be.
    fn after_persons(&self, e: &Enrolled) -> i64 {
        if self.check_only {
            e.before_persons.saturating_add(e.persons)
        } else {
            e.plan_persons
        }
    }
    fn after_money(&self, e: &Enrolled) -> String {
        money(if self.check_only {
            e.before_contributions_fen
                .saturating_add(e.contributions_fen)
        } else {
            e.plan_contributions_fen
        })
    }
    fn reason<'a>(&self, p: &'a MutualAidRowProblem) -> &'a str {
        if self.en {
            &p.en
        } else {
            &p.zh
        }
    }
}

/// The roster-selection form: a union's code (all its active members not
/// yet enrolled), or membership numbers.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EnrolForm {
    plan_id: String,
    org: String,
    membership_ids: String,
    enrolled_on: String,
}

async fn enrol_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<EnrolForm>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let plan_id: i64 = f
        .plan_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("请选择互助计划", "Choose the plan"))?;
    let mut ids = Vec::new();
    for part in f
        .membership_ids
        .split(|c: char| matches!(c, ',' | '\u{ff0c}' | '、') || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        ids.push(part.parse::<i64>().map_err(|_| {
            AppError::invalid(
                format!("会员编号“{part}”无效,应为数字"),
                format!("Membership number “{part}” is not a number"),
            )
        })?);
    }
    let e = store::enrol(
        &st.db,
        staff.scope(),
        plan_id,
        &EnrolInput {
            membership_ids: ids,
            org: f.org,
            enrolled_on: f.enrolled_on,
        },
    )
    .await?;
    let plan = store::get_plan(&st.db, staff.scope(), plan_id).await?;
    Ok(html(&EnrolledPage {
        c: Chrome::new(&staff, "mutual_aid"),
        plan,
        e: Some(e),
        check_only: false,
        problems: Vec::new(),
        message: String::new(),
        en: staff.ctx.tr().is_en(),
    }))
}

/// The Excel form (multipart; the CSRF token in the query).
async fn enrol_sheet_submit(
    State(st): State<AppState>,
    staff: Staff,
    mp: Multipart,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let u = read_upload(mp).await?;
    let outcome = sheet_enrol::enrol_from_sheet(
        &st,
        staff.scope(),
        u.plan_id,
        &u.bytes,
        &u.enrolled_on,
        u.check_only,
    )
    .await?;
    let plan = store::get_plan(&st.db, staff.scope(), u.plan_id).await?;
    let c = Chrome::new(&staff, "mutual_aid");
    let en = staff.ctx.tr().is_en();
    Ok(match outcome {
        Outcome::Enrolled(e) => html(&EnrolledPage {
            c,
            plan,
            e: Some(e),
            check_only: u.check_only,
            problems: Vec::new(),
            message: String::new(),
            en,
        }),
        Outcome::Refused(rows) => {
            let message = sheet_enrol::refusal_message(&rows)
                .get(staff.ctx.lang)
                .to_string();
            let mut r = html(&EnrolledPage {
                c,
                plan,
                e: None,
                check_only: u.check_only,
                problems: rows.into_iter().take(sheet_enrol::MAX_PROBLEMS).collect(),
                message,
                en,
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    })
}

fn xlsx(bytes: Vec<u8>, name: &str) -> Response {
    platform::web::download(bytes, platform::web::XLSX, name)
}

async fn enrolments_export(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<EnrolmentFilter>,
) -> AppResult<Response> {
    let en = staff.ctx.tr().is_en();
    let b = export::enrolments(&st, staff.scope(), &f, en).await?;
    Ok(xlsx(b, "互助保障参保名单.xlsx"))
}

async fn claims_export(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ClaimFilter>,
) -> AppResult<Response> {
    let en = staff.ctx.tr().is_en();
    let b = export::claims(&st, staff.scope(), &f, en).await?;
    Ok(xlsx(b, "互助保障赔付申请.xlsx"))
}

async fn ledger_export(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<LedgerFilter>,
) -> AppResult<Response> {
    let en = staff.ctx.tr().is_en();
    let b = export::ledger(&st, staff.scope(), &f, en).await?;
    Ok(xlsx(b, "互助保障赔付台账.xlsx"))
}

#[derive(Template)]
#[template(path = "mutual_aid/claims.html")]
struct ClaimsPage {
    c: Chrome,
    f: ClaimFilter,
    plans: Vec<Plan>,
    rows: Vec<ClaimView>,
    more: bool,
    can_write: bool,
    statuses: Choices,
    en: bool,
}

impl ClaimsPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map(money).unwrap_or_else(|| "—".into())
    }
    fn status(&self, s: &str) -> String {
        lists::label(lists::CLAIM_STATUSES, s, self.en)
    }
    fn selected_plan(&self, id: &i64) -> bool {
        self.f.plan.trim() == id.to_string()
    }
    fn query(&self) -> String {
        format!(
            "plan={}&status={}&period={}",
            platform::web::ctx::urlencode(self.f.plan.trim()),
            platform::web::ctx::urlencode(self.f.status.trim()),
            platform::web::ctx::urlencode(self.f.period.trim())
        )
    }
}

async fn claims_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<ClaimFilter>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let rows = lists::claims(&st.db, scope, &f).await?;
    Ok(html(&ClaimsPage {
        c: Chrome::new(&staff, "mutual_aid"),
        plans: store::plans(&st.db, scope).await?,
        more: rows.len() as i64 >= lists::MAX_ROWS,
        rows,
        f,
        can_write: scope.can_write(),
        statuses: lists::CLAIM_STATUSES,
        en: staff.ctx.tr().is_en(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    enrolment: String,
}

#[derive(Template)]
#[template(path = "mutual_aid/claim_new.html")]
struct ClaimNewPage {
    c: Chrome,
    e: Option<MutualAidEnrolmentRow>,
    plan: Option<Plan>,
    today: String,
}

async fn claim_new_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let (e, plan) = match q.enrolment.trim() {
        "" => (None, None),
        raw => {
            let id = raw.parse::<i64>().map_err(|_| AppError::NotFound)?;
            let e = lists::enrolment(&st.db, scope, id).await?;
            let plan = store::get_plan(&st.db, scope, e.plan_id).await?;
            (Some(e), Some(plan))
        }
    };
    Ok(html(&ClaimNewPage {
        c: Chrome::new(&staff, "mutual_aid"),
        e,
        plan,
        today: platform::time::today().to_string(),
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClaimForm {
    enrolment_id: String,
    event_date: String,
    category: String,
    amount: String,
    days: String,
}

async fn claim_create_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<ClaimForm>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let enrolment_id = f.enrolment_id.trim().parse::<i64>().map_err(|_| {
        AppError::invalid(
            "请先在参保名单中选择参保职工",
            "Choose the insured worker from the enrolments first",
        )
    })?;
    let c = store::create_claim(
        &st.db,
        staff.scope(),
        &ClaimInput {
            enrolment_id,
            event_date: f.event_date,
            category: f.category,
            amount: f.amount,
            days: f.days,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/mutual-aid/claims/{}", c.id)).into_response())
}

struct Doc {
    label: String,
    present: bool,
}

#[derive(Template)]
#[template(path = "mutual_aid/claim.html")]
struct ClaimPage {
    c: Chrome,
    x: ClaimView,
    plan: Plan,
    payout: Option<Payout>,
    payout_note: String,
    payout_refused: Option<String>,
    docs: Vec<Doc>,
    files: Vec<platform::attachments::Attachment>,
    review: Option<ReviewItem>,
    history: Vec<StepRow>,
    /// The caller's org decides the current step.
    may_decide: bool,
    /// Returned to the caller's org.
    may_resubmit: bool,
    may_submit: bool,
    may_attach: bool,
    en: bool,
}

impl ClaimPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn fen(&self, f: &Fen) -> String {
        money(f.fen())
    }
    fn opt_money(&self, fen: &Option<i64>) -> String {
        fen.map(money)
            .unwrap_or_else(|| self.c.t("aid.no_cap").into())
    }
    fn status(&self, s: &str) -> String {
        lists::label(lists::CLAIM_STATUSES, s, self.en)
    }
    fn action(&self, s: &StepRow) -> String {
        s.action.label().get(self.c.tr.0).to_string()
    }
    fn review_status(&self, r: &ReviewItem) -> String {
        r.status.label().get(self.c.tr.0).to_string()
    }
    fn when(&self, at: &str) -> String {
        platform::time::display(at)
    }
}

async fn claim_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let x = store::get_claim(&st.db, scope, id).await?;
    let plan = store::get_plan(&st.db, scope, x.plan_id).await?;
    let (payout, payout_refused) = payout_now(&st, &staff, &x).await?;
    let payout_note = payout
        .as_ref()
        .map(|p| store::explain(p, &plan).get(staff.ctx.lang).to_string())
        .unwrap_or_default();
    let files = platform::attachments::list(&st, scope, store::CLAIM_KIND, id).await?;
    let docs = plan
        .required_docs
        .iter()
        .map(|d| Doc {
            label: d.clone(),
            present: files.iter().any(|f| &f.label == d),
        })
        .collect();
    let review = review::latest_for_record(&st.db, scope, &store::ClaimKind, id).await?;
    let history = match &review {
        Some(r) => review::history(&st.db, scope, r.id).await?,
        None => Vec::new(),
    };
    let writer = scope.can_write();
    let waiting_here = review
        .as_ref()
        .is_some_and(|r| r.waiting_org_id == Some(scope.org_id));
    let returned = review
        .as_ref()
        .is_some_and(|r| r.status == review::Status::Returned);
    Ok(html(&ClaimPage {
        c: Chrome::new(&staff, "mutual_aid"),
        may_decide: writer && waiting_here && !returned,
        may_resubmit: writer && waiting_here && returned,
        may_submit: writer && x.status == "draft",
        may_attach: writer && (x.status == "draft" || returned),
        x,
        plan,
        payout,
        payout_note,
        payout_refused,
        docs,
        files,
        review,
        history,
        en: staff.ctx.tr().is_en(),
    }))
}

async fn claim_submit_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    store::submit_claim(&st.db, staff.scope(), id).await?;
    Ok(Redirect::to(&format!("/mutual-aid/claims/{id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReviewForm {
    action: String,
    comment: String,
}

/// The claim's step on the shared review chain (the same checks as the
/// review inbox and API), back to the claim's page.
async fn claim_review_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> AppResult<Response> {
    let scope = staff.scope();
    store::get_claim(&st.db, scope, id).await?;
    scope.require_write()?;
    let item = review::latest_for_record(&st.db, scope, &store::ClaimKind, id)
        .await?
        .ok_or_else(|| {
            AppError::conflict("该申请尚未提交审批", "This claim has not been submitted")
        })?;
    let kind = store::ClaimKind;
    let comment = f.comment.trim();
    match f.action.as_str() {
        "approve" => review::approve(&st.db, scope, &kind, item.id, comment).await?,
        "return" => review::return_for_changes(&st.db, scope, &kind, item.id, comment).await?,
        "reject" => review::reject(&st.db, scope, &kind, item.id, comment).await?,
        "resubmit" => review::resubmit(&st.db, scope, &kind, item.id, comment).await?,
        _ => return Err(AppError::invalid("未知的审批操作", "Unknown review action")),
    };
    Ok(Redirect::to(&format!("/mutual-aid/claims/{id}")).into_response())
}

/// A document for the claim (multipart: file, label; the CSRF token in the
/// query), through the platform's attachments (type sniffed, size limited).
async fn claim_file_form(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    mut mp: Multipart,
) -> AppResult<Response> {
    let scope = staff.scope();
    store::get_claim(&st.db, scope, id).await?;
    scope.require_write()?;
    let mut file = None;
    let mut label = String::new();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, bytes));
            }
            Some("label") => {
                let b = field.bytes().await.map_err(multipart_error)?;
                label = String::from_utf8_lossy(&b)
                    .trim()
                    .chars()
                    .take(50)
                    .collect();
            }
            _ => {}
        }
    }
    let (name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| AppError::invalid("请选择要上传的文件", "Choose a file to upload"))?;
    platform::attachments::upload(&st, scope, store::CLAIM_KIND, id, &name, &label, bytes).await?;
    Ok(Redirect::to(&format!("/mutual-aid/claims/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "mutual_aid/ledger.html")]
struct LedgerPage {
    c: Chrome,
    f: LedgerFilter,
    plans: Vec<Plan>,
    rows: Vec<MutualAidLedgerRow>,
    total: i64,
    more: bool,
}

impl LedgerPage {
    fn money(&self, fen: &i64) -> String {
        money(*fen)
    }
    fn selected_plan(&self, id: &i64) -> bool {
        self.f.plan.trim() == id.to_string()
    }
    fn query(&self) -> String {
        format!(
            "plan={}&period={}",
            platform::web::ctx::urlencode(self.f.plan.trim()),
            platform::web::ctx::urlencode(self.f.period.trim())
        )
    }
}

async fn ledger_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<LedgerFilter>,
) -> AppResult<Response> {
    let scope = staff.scope();
    let rows = lists::ledger(&st.db, scope, &f).await?;
    Ok(html(&LedgerPage {
        c: Chrome::new(&staff, "mutual_aid"),
        plans: store::plans(&st.db, scope).await?,
        total: rows.iter().map(|r| r.amount_fen).sum(),
        more: rows.len() as i64 >= lists::MAX_ROWS,
        rows,
        f,
    }))
}
