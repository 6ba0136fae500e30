//! Pages and API of 走访慰问 (visits) and 春送岗位 (job fairs): lists with
//! filters, the forms that record them, a visit's and a fair's page, the
//! xlsx exports (POST, masked) and /api/v1/hardship/visits, /fairs. Every
//! query goes through the caller's subtree; outside it "not found".

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::Serialize;
use utoipa_axum::routes;

use crate::{
    grants::{self, Campaign},
    jobs::{self, FairId, JobFairEmployer, JobFairFilter, JobFairInput, JobFairRow},
    model,
    visits::{
        self, HouseholdChoice, VisitFilter, VisitId, VisitInput, VisitRow, VisitWorksiteInput,
    },
};
use platform::{
    error::{AppError, AppResult},
    money::Fen,
    person::PersonInput,
    tree,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/hardship/visits", get(visits_page).post(visit_submit))
        // POST, as every export.
        .page("/hardship/visits/export.xlsx", post(visits_export))
        .page("/hardship/visits/{id}", get(visit_page))
        .page("/hardship/fairs", get(fairs_page).post(fair_submit))
        .page("/hardship/fairs/export.xlsx", post(fairs_export))
        .page("/hardship/fairs/{id}", get(fair_page))
        .api(routes!(api_visits, api_create_visit))
        .api(routes!(api_visit))
        .api(routes!(api_fairs, api_create_fair))
        .api(routes!(api_fair))
}

fn money(fen: &i64) -> String {
    Fen::from_fen(*fen).display()
}

fn yuan_field(raw: &str, zh: &str, en: &str) -> AppResult<i64> {
    match raw.trim() {
        "" => Ok(0),
        s => Fen::parse_signed(s)
            .map(|f| f.fen())
            .map_err(|e| AppError::invalid(format!("{zh}:{}", e.zh), format!("{en}: {}", e.en))),
    }
}

fn int_field(raw: &str, zh: &str, en: &str) -> AppResult<i64> {
    match raw.trim() {
        "" => Ok(0),
        s => s.parse().map_err(|_| {
            AppError::invalid(
                format!("{zh}“{s}”不是整数"),
                format!("{en} “{s}” is not a whole number"),
            )
        }),
    }
}

/// Shows an invalid form again with its message (422); other errors pass.
fn refusal(e: AppError, staff: &Staff) -> AppResult<String> {
    match e {
        AppError::Invalid(_) | AppError::Conflict(_) => {
            Ok(e.user_message().get(staff.ctx.lang).to_string())
        }
        other => Err(other),
    }
}

// ───────────────────────────── visits: pages ─────────────────────────────

/// The visit form as typed (every field text, kept to show it again).
#[derive(Clone, Debug, Default)]
struct VisitForm {
    org_id: String,
    visited_on: String,
    visitors: String,
    campaign_id: String,
    occasion: String,
    file_id: String,
    persons_met: String,
    person_name: String,
    person_id_number: String,
    worksite_name: String,
    worksite_kind: String,
    worksite_address: String,
    workers: String,
    money: String,
    goods: String,
    goods_value: String,
    note: String,
}

impl VisitForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> VisitForm {
        let mut f = VisitForm::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "org_id" => &mut f.org_id,
                "visited_on" => &mut f.visited_on,
                "visitors" => &mut f.visitors,
                "campaign_id" => &mut f.campaign_id,
                "occasion" => &mut f.occasion,
                "file_id" => &mut f.file_id,
                "persons_met" => &mut f.persons_met,
                "person_name" => &mut f.person_name,
                "person_id_number" => &mut f.person_id_number,
                "worksite_name" => &mut f.worksite_name,
                "worksite_kind" => &mut f.worksite_kind,
                "worksite_address" => &mut f.worksite_address,
                "workers" => &mut f.workers,
                "money" => &mut f.money,
                "goods" => &mut f.goods,
                "goods_value" => &mut f.goods_value,
                "note" => &mut f.note,
                _ => continue,
            };
            *slot = v;
        }
        f
    }

    fn input(&self) -> AppResult<VisitInput> {
        let person = (!self.person_name.trim().is_empty()
            || !self.person_id_number.trim().is_empty())
        .then(|| PersonInput {
            name: self.person_name.clone(),
            id_number: self.person_id_number.clone(),
            ..Default::default()
        });
        let worksite = (!self.worksite_name.trim().is_empty()).then(|| VisitWorksiteInput {
            name: self.worksite_name.clone(),
            kind: self.worksite_kind.clone(),
            address: self.worksite_address.clone(),
        });
        Ok(VisitInput {
            org_id: visits::opt_id(&self.org_id)?,
            visited_on: self.visited_on.clone(),
            visitors: self.visitors.clone(),
            campaign_id: visits::opt_id(&self.campaign_id)?,
            occasion: self.occasion.clone(),
            file_id: visits::opt_id(&self.file_id)?,
            persons_met: self
                .persons_met
                .split([',', ',', '、', ' '])
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            person,
            worksite,
            workers: int_field(&self.workers, "慰问职工人数", "Workers greeted")?,
            money_fen: yuan_field(&self.money, "慰问金额", "The money given")?,
            goods: self.goods.clone(),
            goods_fen: yuan_field(&self.goods_value, "物资价值", "The goods' value")?,
            note: self.note.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "hardship/visits.html")]
struct VisitsPage {
    c: Chrome,
    rows: Vec<VisitRow>,
    f: VisitFilter,
    form: VisitForm,
    error: Option<String>,
    can_write: bool,
    unions: Vec<(i64, String)>,
    campaigns: Vec<Campaign>,
    households: Vec<HouseholdChoice>,
    households_visited: usize,
    people: i64,
    workers: i64,
}

impl VisitsPage {
    fn en(&self) -> bool {
        self.c.tr.is_en()
    }
    fn target(&self, k: &str) -> String {
        visits::label(visits::TARGETS, k)
            .get(self.c.tr.0)
            .to_string()
    }
    fn site_kind(&self, k: &str) -> String {
        if k.is_empty() {
            String::new()
        } else {
            visits::label(visits::WORKSITE_KINDS, k)
                .get(self.c.tr.0)
                .to_string()
        }
    }
    fn occasion(&self, k: &str) -> String {
        if k.is_empty() {
            self.c.t("hardship.visit.everyday").to_string()
        } else {
            model::kind_label(k).get(self.c.tr.0).to_string()
        }
    }
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }
    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        model::KINDS
            .iter()
            .map(|k| (k.0, if self.en() { k.2 } else { k.1 }))
            .collect()
    }
    fn targets(&self) -> Vec<(&'static str, &'static str)> {
        visits::TARGETS
            .iter()
            .map(|k| (k.0, if self.en() { k.2 } else { k.1 }))
            .collect()
    }
    fn site_kinds(&self) -> Vec<(&'static str, &'static str)> {
        visits::WORKSITE_KINDS
            .iter()
            .map(|k| (k.0, if self.en() { k.2 } else { k.1 }))
            .collect()
    }
    fn selected(&self, a: &str, b: &i64) -> bool {
        a.trim() == b.to_string()
    }
}

async fn visits_view(
    st: &AppState,
    staff: &Staff,
    f: VisitFilter,
    form: VisitForm,
    error: Option<String>,
) -> AppResult<VisitsPage> {
    let scope = staff.scope();
    let rows = visits::list(&st.db, scope, &f, 2_000).await?;
    let mut seen = std::collections::HashSet::new();
    for r in &rows {
        if let Some(fid) = r.file_id {
            seen.insert((r.org_id, fid));
        }
    }
    let can_write = scope.can_write();
    let (unions, households) = if can_write {
        (
            tree::subtree(&st.db, scope)
                .await?
                .into_iter()
                .map(|o| (o.id.0, o.name))
                .collect(),
            visits::household_choices(&st.db, scope).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(VisitsPage {
        c: Chrome::new(staff, "hardship"),
        households_visited: seen.len(),
        people: rows.iter().map(|r| r.people).sum(),
        workers: rows.iter().map(|r| r.workers).sum(),
        rows,
        f,
        form,
        error,
        can_write,
        unions,
        campaigns: grants::campaigns(&st.db, scope).await?,
        households,
    })
}

async fn visits_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<VisitFilter>,
) -> AppResult<Response> {
    let form = VisitForm {
        visited_on: platform::time::today().to_string(),
        ..Default::default()
    };
    Ok(html(&visits_view(&st, &staff, f, form, None).await?))
}

async fn visit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let form = VisitForm::from_pairs(pairs);
    let result = match form.input() {
        Ok(input) => visits::create(&st, staff.scope(), &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/hardship/visits/{}", id.0)).into_response()),
        Err(e) => {
            let msg = refusal(e, &staff)?;
            let page = visits_view(&st, &staff, VisitFilter::default(), form, Some(msg)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "hardship/visit.html")]
struct VisitPage {
    c: Chrome,
    v: VisitRow,
}

impl VisitPage {
    fn target(&self) -> String {
        visits::label(visits::TARGETS, &self.v.target)
            .get(self.c.tr.0)
            .to_string()
    }
    fn site_kind(&self) -> String {
        visits::label(visits::WORKSITE_KINDS, &self.v.worksite_kind)
            .get(self.c.tr.0)
            .to_string()
    }
    fn occasion(&self) -> String {
        if self.v.occasion.is_empty() {
            self.c.t("hardship.visit.everyday").to_string()
        } else {
            model::kind_label(&self.v.occasion)
                .get(self.c.tr.0)
                .to_string()
        }
    }
    fn money(&self, fen: &i64) -> String {
        money(fen)
    }
}

async fn visit_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let v = visits::get(&st.db, staff.scope(), VisitId(id)).await?;
    Ok(html(&VisitPage {
        c: Chrome::new(&staff, "hardship"),
        v,
    }))
}

/// The list as filtered (the form's fields), as xlsx: masked, audited.
async fn visits_export(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<VisitFilter>,
) -> AppResult<Response> {
    let rows = visits::list(&st.db, staff.scope(), &f, 100_000).await?;
    let bytes = visits::workbook(&rows, staff.ctx.tr().is_en())?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("hardship.visit_export", "hardship_visit", "list")
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"rows": rows.len(), "filter": f})),
    )
    .await?;
    Ok(platform::web::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "走访慰问.xlsx",
    ))
}

// ───────────────────────────── fairs: pages ─────────────────────────────

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
struct FairForm {
    org_id: String,
    held_on: String,
    name: String,
    place: String,
    kind: String,
    campaign_id: String,
    /// One employer a line: 单位名称,统一社会信用代码,岗位数[,就业人数].
    employers: String,
    placed: String,
}

impl FairForm {
    fn input(&self) -> AppResult<JobFairInput> {
        Ok(JobFairInput {
            org_id: visits::opt_id(&self.org_id)?,
            held_on: self.held_on.clone(),
            name: self.name.clone(),
            place: self.place.clone(),
            kind: self.kind.clone(),
            campaign_id: visits::opt_id(&self.campaign_id)?,
            employers: jobs::employers_from_lines(&self.employers)?,
            placed: int_field(&self.placed, "就业人数", "The people placed")?,
        })
    }
}

#[derive(Template)]
#[template(path = "hardship/fairs.html")]
struct FairsPage {
    c: Chrome,
    rows: Vec<JobFairRow>,
    f: JobFairFilter,
    form: FairForm,
    error: Option<String>,
    can_write: bool,
    unions: Vec<(i64, String)>,
    campaigns: Vec<Campaign>,
    posts: i64,
    placed: i64,
}

impl FairsPage {
    fn kind(&self, k: &str) -> String {
        jobs::kind_label(k).get(self.c.tr.0).to_string()
    }
    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        jobs::FAIR_KINDS
            .iter()
            .map(|k| (k.0, if self.c.tr.is_en() { k.2 } else { k.1 }))
            .collect()
    }
    fn selected(&self, a: &str, b: &i64) -> bool {
        a.trim() == b.to_string()
    }
}

async fn fairs_view(
    st: &AppState,
    staff: &Staff,
    f: JobFairFilter,
    form: FairForm,
    error: Option<String>,
) -> AppResult<FairsPage> {
    let scope = staff.scope();
    let rows = jobs::list(&st.db, scope, &f).await?;
    let can_write = scope.can_write();
    let unions = if can_write {
        tree::subtree(&st.db, scope)
            .await?
            .into_iter()
            .map(|o| (o.id.0, o.name))
            .collect()
    } else {
        Vec::new()
    };
    let campaigns = grants::campaigns(&st.db, scope)
        .await?
        .into_iter()
        .filter(|c| c.kind == "jobs")
        .collect();
    Ok(FairsPage {
        c: Chrome::new(staff, "hardship"),
        posts: rows.iter().map(|r| r.posts).sum(),
        placed: rows.iter().map(|r| r.placed).sum(),
        rows,
        f,
        form,
        error,
        can_write,
        unions,
        campaigns,
    })
}

async fn fairs_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<JobFairFilter>,
) -> AppResult<Response> {
    let form = FairForm {
        held_on: platform::time::today().to_string(),
        kind: "spring".into(),
        ..Default::default()
    };
    Ok(html(&fairs_view(&st, &staff, f, form, None).await?))
}

async fn fair_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(form): Form<FairForm>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let result = match form.input() {
        Ok(input) => jobs::create(&st.db, staff.scope(), &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(id) => Ok(Redirect::to(&format!("/hardship/fairs/{}", id.0)).into_response()),
        Err(e) => {
            let msg = refusal(e, &staff)?;
            let page = fairs_view(&st, &staff, JobFairFilter::default(), form, Some(msg)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "hardship/fair.html")]
struct FairPage {
    c: Chrome,
    fair: JobFairRow,
    employers: Vec<JobFairEmployer>,
}

impl FairPage {
    fn kind(&self) -> String {
        jobs::kind_label(&self.fair.kind)
            .get(self.c.tr.0)
            .to_string()
    }
}

async fn fair_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (fair, employers) = jobs::get(&st.db, staff.scope(), FairId(id)).await?;
    Ok(html(&FairPage {
        c: Chrome::new(&staff, "hardship"),
        fair,
        employers,
    }))
}

async fn fairs_export(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<JobFairFilter>,
) -> AppResult<Response> {
    let rows = jobs::list(&st.db, staff.scope(), &f).await?;
    let bytes = jobs::workbook(&rows, staff.ctx.tr().is_en())?;
    platform::audit::record(
        &st.db,
        &staff.scope().actor,
        platform::audit::Event::new("hardship.fair_export", "hardship_fair", "list")
            .org(staff.scope().org_id)
            .detail(serde_json::json!({"rows": rows.len(), "filter": f})),
    )
    .await?;
    Ok(platform::web::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "招聘会.xlsx",
    ))
}

// ───────────────────────────── API ─────────────────────────────

#[derive(Serialize, utoipa::ToSchema)]
struct VisitCreated {
    id: i64,
}

/// The visits of the caller's subtree (names with masked ID numbers),
/// newest first, at most 2000; the view is audited.
#[utoipa::path(get, path = "/api/v1/hardship/visits", tag = "hardship", params(VisitFilter),
    responses((status = 200, body = [VisitRow])))]
async fn api_visits(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<VisitFilter>,
) -> AppResult<Json<Vec<VisitRow>>> {
    Ok(Json(visits::list(&st.db, staff.scope(), &f, 2_000).await?))
}

/// Records a visit to one household (a file of the caller's subtree), one
/// person, or one worksite. Refused, nothing written: no target or two, a
/// date in the future, negative amounts, workers greeted 0 or above 20000.
#[utoipa::path(post, path = "/api/v1/hardship/visits", tag = "hardship", request_body = VisitInput,
    responses((status = 200, body = VisitCreated), (status = 422)))]
async fn api_create_visit(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<VisitInput>,
) -> AppResult<Json<VisitCreated>> {
    let id = visits::create(&st, staff.scope(), &input).await?;
    Ok(Json(VisitCreated { id: id.0 }))
}

/// One visit of the caller's subtree; the view is audited.
#[utoipa::path(get, path = "/api/v1/hardship/visits/{id}", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = VisitRow), (status = 404)))]
async fn api_visit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<VisitRow>> {
    Ok(Json(visits::get(&st.db, staff.scope(), VisitId(id)).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
struct JobFairCreated {
    id: i64,
}

/// The job fairs of the caller's subtree, newest first.
#[utoipa::path(get, path = "/api/v1/hardship/fairs", tag = "hardship", params(JobFairFilter),
    responses((status = 200, body = [JobFairRow])))]
async fn api_fairs(
    State(st): State<AppState>,
    staff: Staff,
    Query(f): Query<JobFairFilter>,
) -> AppResult<Json<Vec<JobFairRow>>> {
    Ok(Json(jobs::list(&st.db, staff.scope(), &f).await?))
}

/// Records a job fair with its employers, whole or not at all: credit codes
/// checked (GB 32100), posts and placements not negative, an employer's
/// placements within its posts, the fair's within the posts offered.
#[utoipa::path(post, path = "/api/v1/hardship/fairs", tag = "hardship", request_body = JobFairInput,
    responses((status = 200, body = JobFairCreated), (status = 422)))]
async fn api_create_fair(
    State(st): State<AppState>,
    staff: Staff,
    Json(input): Json<JobFairInput>,
) -> AppResult<Json<JobFairCreated>> {
    let id = jobs::create(&st.db, staff.scope(), &input).await?;
    Ok(Json(JobFairCreated { id: id.0 }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct JobFairDetail {
    fair: JobFairRow,
    employers: Vec<JobFairEmployer>,
}

/// One fair of the caller's subtree with its employers.
#[utoipa::path(get, path = "/api/v1/hardship/fairs/{id}", tag = "hardship", params(("id" = i64, Path)),
    responses((status = 200, body = JobFairDetail), (status = 404)))]
async fn api_fair(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<JobFairDetail>> {
    let (fair, employers) = jobs::get(&st.db, staff.scope(), FairId(id)).await?;
    Ok(Json(JobFairDetail { fair, employers }))
}
