//! The yearly return's surfaces: a page to choose the org and reference
//! period (with the 逻辑检查 shown before download), the download from its
//! form, and the API (`POST /api/v1/reports/return`, an xlsx — exports are
//! POSTs, checked for CSRF like every non-GET request). All three call
//! `yearly_return::build`; an org outside the caller's scope is 404 and
//! audited there (`figures::table` resolves it through `orgs::store::get`).

use askama::Template;
use axum::{
    extract::{Query, State},
    response::Response,
    routing::get,
    Form, Json,
};
use serde::Deserialize;
use utoipa_axum::routes;

use super::yearly_return::{self, Failure, Return};
use platform::{
    audit::{self, Event},
    error::{AppError, AppResult},
    ids::OrgId,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/reports/return", get(page).post(download_form))
        .api(routes!(api_return))
}

/// What the page's form and the API take: the org (id, or code) and the
/// reference period (both dates, or neither for 1 October – 30 September).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnQuery {
    /// Org id (default: the caller's org); a number or its text.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    #[param(value_type = Option<i64>)]
    pub org: Option<IdOrText>,
    /// Org code, instead of the id.
    #[serde(default)]
    pub org_code: Option<String>,
    /// Start of the reference period (YYYY-MM-DD); default 1 October last year.
    #[serde(default)]
    pub from: Option<String>,
    /// End of the reference period (YYYY-MM-DD); default 30 September this year.
    #[serde(default)]
    pub to: Option<String>,
}

/// An id given as a JSON number or as text (a form field).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdOrText {
    Id(i64),
    Text(String),
}

impl ReturnQuery {
    async fn org(&self, st: &AppState, staff: &Staff) -> AppResult<OrgId> {
        if let Some(code) = self
            .org_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            return Ok(::orgs::store::get_by_code(&st.db, staff.scope(), code)
                .await?
                .id);
        }
        let text = match &self.org {
            Some(IdOrText::Id(n)) => return Ok(OrgId(*n)),
            Some(IdOrText::Text(t)) => Some(t.trim()),
            None => None,
        };
        match text.filter(|s| !s.is_empty()) {
            None => Ok(staff.scope().org_id),
            Some(s) => s.parse().map(OrgId).map_err(|_| {
                AppError::invalid(
                    format!("组织“{s}”应为整数编号"),
                    format!("org “{s}” must be a whole number (the org id)"),
                )
            }),
        }
    }

    async fn build(&self, st: &AppState, staff: &Staff) -> AppResult<Return> {
        let period = yearly_return::period_from(self.from.as_deref(), self.to.as_deref())?;
        let org = self.org(st, staff).await?;
        yearly_return::build(
            &st.db,
            staff.scope(),
            &st.registry.yearly_return(),
            org,
            period,
        )
        .await
    }
}

struct PageArea {
    name: String,
    lines: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "reports/return.html")]
struct ReturnPage {
    c: Chrome,
    orgs: Vec<(i64, String, bool)>,
    from: String,
    to: String,
    /// Shown once the caller asked to check.
    checked: bool,
    org_name: String,
    columns: usize,
    failures: Vec<Failure>,
    areas: Vec<PageArea>,
}

/// The page: choose org and period; with `org` given, the return's totals
/// and its 逻辑检查 before downloading.
async fn page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<ReturnQuery>,
) -> AppResult<Response> {
    let asked = q.org.is_some() || q.org_code.is_some();
    let period = yearly_return::period_from(q.from.as_deref(), q.to.as_deref())?;
    let built = if asked {
        Some(q.build(&st, &staff).await?)
    } else {
        None
    };
    let selected = match &built {
        Some(r) => r.org.id,
        None => staff.scope().org_id.0,
    };
    // The federations of the subtree (a grassroots union's return is its own column).
    let orgs = ::orgs::store::list_subtree(&st.db, staff.scope())
        .await?
        .into_iter()
        .filter(|o| o.level != ::orgs::model::OrgLevel::Grassroots || o.id == staff.scope().org_id)
        .map(|o| {
            (
                o.id.0,
                format!("{}({})", o.name, o.code),
                o.id.0 == selected,
            )
        })
        .collect();
    let lang_en = staff.ctx.lang == platform::i18n::Lang::En;
    let (org_name, columns, failures, areas) = match &built {
        None => (String::new(), 0, Vec::new(), Vec::new()),
        Some(r) => {
            let total = r.total_column();
            let areas = r
                .areas
                .iter()
                .map(|a| PageArea {
                    name: if lang_en { a.area.en } else { a.area.zh }.to_string(),
                    lines: a
                        .lines
                        .iter()
                        .map(|l| {
                            (
                                l.item.code.to_string(),
                                if lang_en { l.item.en } else { l.item.zh }.to_string(),
                                l.item.unit.to_string(),
                                l.values[total].text(),
                            )
                        })
                        .collect(),
                })
                .collect();
            let failures = r
                .failures
                .iter()
                .cloned()
                .map(|mut f| {
                    if lang_en {
                        f.rule = f.rule_en.clone();
                    }
                    f
                })
                .collect();
            (r.org.name.clone(), r.columns.len(), failures, areas)
        }
    };
    Ok(html(&ReturnPage {
        c: Chrome::new(&staff, "reports"),
        orgs,
        from: period.start.to_string(),
        to: period.end.to_string(),
        checked: built.is_some(),
        org_name,
        columns,
        failures,
        areas,
    }))
}

async fn audited_download(st: &AppState, staff: &Staff, r: &Return) -> AppResult<Response> {
    let bytes = yearly_return::xlsx(r)?;
    audit::record(
        &st.db,
        &staff.scope().actor,
        Event::new("report.return", "org", &r.org.code)
            .org(OrgId(r.org.id))
            .detail(serde_json::json!({
                "from": r.period.start, "to": r.period.end,
                "failures": r.failures.len(), "format": "xlsx",
            })),
    )
    .await?;
    Ok(platform::web::download(
        bytes,
        platform::web::XLSX,
        &yearly_return::file_name(r),
    ))
}

/// The page's download button.
async fn download_form(
    State(st): State<AppState>,
    staff: Staff,
    Form(q): Form<ReturnQuery>,
) -> AppResult<Response> {
    let r = q.build(&st, &staff).await?;
    audited_download(&st, &staff, &r).await
}

/// The yearly statistical return (统计年报) of an org subtree for a reference
/// period, as xlsx: a cover sheet, one sheet per survey area (code, name,
/// unit, the org's own records, one column per child org, the total; items
/// Gonghui does not record marked 未统计), and the 逻辑检查 sheet naming
/// every failed rule by org (通过 when none). Audited as `report.return`.
#[utoipa::path(post, path = "/api/v1/reports/return", tag = "reports", request_body = ReturnQuery,
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404), (status = 422)))]
async fn api_return(
    State(st): State<AppState>,
    staff: Staff,
    Json(q): Json<ReturnQuery>,
) -> AppResult<Response> {
    let r = q.build(&st, &staff).await?;
    audited_download(&st, &staff, &r).await
}
