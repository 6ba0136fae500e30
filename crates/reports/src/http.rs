//! Statistics pages (dashboard, figures table, drill-down, manual entry,
//! xlsx export) and the JSON API under /api/v1/reports. Both faces call the
//! same functions in `figures`.

use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Form, Json,
};
use chrono::Datelike;
use serde::Deserialize;
use utoipa_axum::routes;

use super::{
    export,
    figures::{self, Amount, Drill, Figure, FigureTable, ManualValue},
    period::Period,
};
use charts::{self as svg, ChartOpts, Series};
use numfmt::{Rounding, Unit};
use platform::indicator::IndicatorInfo;
use platform::{
    audit::{self, Event},
    error::{AppError, AppResult},
    ids::OrgId,
    time,
    web::{
        ctx::{urlencode, Staff},
        html,
        pages::Chrome,
        AppState, Routes,
    },
};

/// The statistics pages and API, registered with its documentation.
pub fn routes() -> Routes {
    Routes::new()
        .page("/reports", get(dashboard))
        .page("/reports/table", get(table_page))
        .page("/reports/drill", get(drill_page))
        .page("/reports/manual", get(manual_page).post(manual_submit))
        // A file, documented with the API (scripts fetch it).
        .api(routes!(export_xlsx))
        .api(routes!(api_indicators))
        .api(routes!(api_figures))
        .api(routes!(api_drill))
        .api(routes!(api_manual_list, api_manual_set))
        .merge(super::return_http::routes())
}

/// Query parameters shared by every statistics route. All optional: the
/// caller's own org and the current year by default. Kept as text so a bad
/// value gets a clear message instead of a bare 400.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FigQuery {
    /// Org id (default: the caller's org).
    org: Option<String>,
    /// 2026 | 2026-Q2 | 2026-03 | 2026-01-01..2026-06-30
    period: Option<String>,
    /// Year, when `period` is not given.
    year: Option<String>,
    /// Custom range start (with `to`).
    from: Option<String>,
    /// Custom range end (with `from`).
    to: Option<String>,
    /// Indicator code (drill-down).
    code: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn parse_int<T: std::str::FromStr>(
    raw: &Option<String>,
    zh: &str,
    en: &str,
) -> AppResult<Option<T>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            AppError::invalid(
                format!("{zh}“{s}”应为整数"),
                format!("{en} “{s}” must be a whole number"),
            )
        }),
    }
}

impl FigQuery {
    fn org(&self, staff: &Staff) -> AppResult<OrgId> {
        Ok(parse_int(&self.org, "组织", "org")?
            .map(OrgId)
            .unwrap_or(staff.scope().org_id))
    }
    fn period(&self) -> AppResult<Period> {
        let year = parse_int::<i32>(&self.year, "年份", "year")?;
        Period::from_params(
            self.period.as_deref(),
            year,
            self.from.as_deref(),
            self.to.as_deref(),
        )
    }
    fn code(&self) -> AppResult<String> {
        self.code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| {
                AppError::invalid("请指定指标代码(code)", "Give the indicator code (code)")
            })
    }
    fn page(&self) -> AppResult<i64> {
        Ok(parse_int(&self.page, "页码", "page")?.unwrap_or(1))
    }
    fn per_page(&self) -> AppResult<i64> {
        Ok(parse_int(&self.per_page, "每页条数", "per_page")?.unwrap_or(figures::DRILL_PER_PAGE))
    }
}

fn qs(org: i64, period: &str) -> String {
    format!("org={org}&period={}", urlencode(period))
}

fn drill_href(org: i64, period: &str, code: &str) -> String {
    format!("/reports/drill?{}&code={code}", qs(org, period))
}

// ---------------------------------------------------------------------------
// view models

/// A figure as a page shows it: the number, where clicking it leads, and for
/// ratios the numerator and denominator with their own drill-downs.
pub struct ValueView {
    pub text: String,
    pub href: Option<String>,
    pub parts: Option<(String, String, String, String)>,
}

fn value_view(f: &Figure, a: Amount, org: i64, period: &str, style: Rounding) -> ValueView {
    let unit = f.unit_kind.unwrap_or(Unit::Ge);
    match a {
        Amount::Ratio(n, d) => ValueView {
            text: a.display(unit, style),
            href: None,
            parts: Some((
                numfmt::format_count(n, Unit::Person, Rounding::Exact),
                drill_href(org, period, f.numerator_code.unwrap_or_default()),
                numfmt::format_count(d, Unit::Person, Rounding::Exact),
                drill_href(org, period, f.denominator_code.unwrap_or_default()),
            )),
        },
        _ => ValueView {
            text: a.display(unit, style),
            href: Some(drill_href(org, period, f.code)),
            parts: None,
        },
    }
}

pub struct RowView {
    pub code: &'static str,
    pub name: String,
    pub manual: bool,
    pub value: ValueView,
    pub previous: String,
    pub change: String,
    pub cells: Vec<ValueView>,
}

pub struct SectionView {
    pub name: String,
    pub rows: Vec<RowView>,
}

fn name_of(f: &Figure, en: bool) -> String {
    if en {
        f.name_en.to_string()
    } else {
        f.name.to_string()
    }
}

fn section_views(t: &FigureTable, en: bool) -> Vec<SectionView> {
    let spec = &t.period.spec;
    t.sections
        .iter()
        .map(|s| SectionView {
            name: if en { s.name_en } else { s.name }.to_string(),
            rows: s
                .figures
                .iter()
                .map(|f| RowView {
                    code: f.code,
                    name: name_of(f, en),
                    manual: f.manual,
                    value: value_view(f, f.amount, t.org.id, spec, Rounding::Exact),
                    previous: f.previous_display.clone(),
                    change: f.change.clone(),
                    cells: f
                        .breakdown
                        .iter()
                        .enumerate()
                        .map(|(k, c)| {
                            let v = value_view(
                                f,
                                c.amount,
                                c.org_id.unwrap_or(t.org.id),
                                spec,
                                Rounding::Exact,
                            );
                            // The 本级 cell holds the org's own records only; a drill-down on
                            // the org would list the whole subtree, so it is not a link.
                            if k == 0 && !t.children.is_empty() {
                                let text = match v.parts {
                                    Some((n, _, d, _)) => format!("{} ({n}/{d})", v.text),
                                    None => v.text,
                                };
                                return ValueView {
                                    text,
                                    href: None,
                                    parts: None,
                                };
                            }
                            v
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// The period picker's state.
pub struct PeriodForm {
    pub spec: String,
    pub label: String,
    pub years: Vec<i32>,
    pub year: i32,
    pub quarter: String,
    pub month: String,
    pub from: String,
    pub to: String,
}

fn period_form(p: &Period, en: bool) -> PeriodForm {
    let spec = p.spec();
    let this = time::today().year();
    PeriodForm {
        label: if en { p.label_en() } else { p.label_zh() },
        years: (this - 9..=this).rev().collect(),
        year: p.start.year(),
        quarter: spec
            .split_once("-Q")
            .map(|(_, q)| q.to_string())
            .unwrap_or_default(),
        month: if spec.len() == 7 && !spec.contains('Q') {
            spec[5..].to_string()
        } else {
            String::new()
        },
        from: if spec.contains("..") {
            p.start.to_string()
        } else {
            String::new()
        },
        to: if spec.contains("..") {
            p.end.to_string()
        } else {
            String::new()
        },
        spec,
    }
}

/// The picker submits year/quarter/month/from/to; turn them into a period spec.
fn picked_period(q: &PickQuery) -> Option<String> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    if let (Some(a), Some(b)) = (nonempty(&q.from), nonempty(&q.to)) {
        return Some(format!("{a}..{b}"));
    }
    let y = nonempty(&q.year)?;
    if let Some(qq) = nonempty(&q.quarter) {
        return Some(format!("{y}-Q{qq}"));
    }
    if let Some(m) = nonempty(&q.month) {
        return Some(format!("{y}-{m:0>2}"));
    }
    Some(y)
}

#[derive(Debug, Default, Deserialize)]
struct PickQuery {
    year: Option<String>,
    quarter: Option<String>,
    month: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

// ---------------------------------------------------------------------------
// dashboard

pub struct Kpi {
    pub label: String,
    pub value: ValueView,
    pub change: String,
}

#[derive(Template)]
#[template(path = "reports/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    t: FigureTable,
    p: PeriodForm,
    kpis: Vec<Kpi>,
    charts: Vec<String>,
    can_write: bool,
    portal_note: bool,
    query: String,
}

/// Picker fields arrive as year/quarter/month/from/to; everything else as FigQuery.
fn resolve(q: &FigQuery, raw: &PickQuery) -> FigQuery {
    let mut q = FigQuery {
        org: q.org.clone(),
        period: q.period.clone(),
        year: q.year.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        code: q.code.clone(),
        page: q.page.clone(),
        per_page: q.per_page.clone(),
    };
    if q.period.as_deref().is_none_or(|p| p.trim().is_empty()) {
        if let Some(p) = picked_period(raw) {
            q.period = Some(p);
            q.year = None;
            q.from = None;
            q.to = None;
        }
    }
    q
}

fn group_slices(t: &FigureTable, group: &str, en: bool) -> Vec<(String, f64)> {
    t.figures()
        .filter(|f| f.group == Some(group))
        .map(|f| (name_of(f, en), f.amount.count().unwrap_or(0) as f64))
        .collect()
}

async fn dashboard(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
    Query(pick): Query<PickQuery>,
) -> AppResult<Response> {
    let q = resolve(&q, &pick);
    let scope = staff.scope();
    let period = q.period()?;
    let t = figures::table(&st.db, scope, q.org(&staff)?, period).await?;
    let en = staff.ctx.tr().is_en();
    let spec = t.period.spec.clone();
    let org = t.org.id;

    // Members at each month end of the period's year and of the year before;
    // months after today are gaps, not flat lines.
    let year = period.end.year();
    let this_year = Period::year(year)?;
    let ends = figures::trend_ends(year)?;
    let series = figures::trend(&st.db, scope, OrgId(org), "members_total", &ends).await?;
    let today = time::today();
    let cur: Vec<Option<f64>> = this_year
        .month_ends()
        .iter()
        .zip(&series[..12])
        .map(|(e, v)| {
            (*e <= today || e.year() < today.year() || e.month() == today.month())
                .then_some(*v as f64)
        })
        .collect();
    let prev: Vec<f64> = series[12..].iter().map(|v| *v as f64).collect();
    let months: Vec<String> = (1..=12)
        .map(|m| {
            if en {
                format!("{m}")
            } else {
                format!("{m}月")
            }
        })
        .collect();
    let unit_person = Unit::Person.symbol();
    let mut charts = Vec::new();
    let tr = staff.ctx.tr();
    charts.push(svg::line_chart(
        tr.t("report.chart_trend"),
        &[
            Series::with_gaps(format!("{year}"), cur),
            Series::new(format!("{}", year - 1), prev),
        ],
        &months,
        &ChartOpts {
            zero_based: false,
            ..ChartOpts::with_unit(unit_person)
        },
    ));
    if let Some(members) = t.get("members_total") {
        if !t.children.is_empty() {
            let mut bars: Vec<(String, f64)> = t
                .children
                .iter()
                .zip(members.breakdown.iter().skip(1))
                .map(|(c, cell)| (c.name.clone(), cell.amount.count().unwrap_or(0) as f64))
                .collect();
            let own = members.breakdown[0].amount.count().unwrap_or(0);
            if own > 0 {
                bars.push((tr.t("report.self").to_string(), own as f64));
            }
            charts.push(svg::bar_chart(
                tr.t("report.chart_by_child"),
                &bars,
                &ChartOpts::with_unit(unit_person),
            ));
        }
    }
    let donut = |unit: &str| ChartOpts {
        donut: true,
        width: 560,
        ..ChartOpts::with_unit(unit)
    };
    charts.push(svg::pie_or_donut(
        tr.t("report.chart_new_employment"),
        &group_slices(&t, "new_employment", en),
        &donut(unit_person),
    ));
    charts.push(svg::pie_or_donut(
        tr.t("report.chart_org_types"),
        &group_slices(&t, "org_type", en),
        &donut(Unit::Ge.symbol()),
    ));
    charts.push(svg::bar_chart(
        tr.t("report.chart_age"),
        &group_slices(&t, "age", en),
        &ChartOpts::with_unit(unit_person),
    ));
    charts.push(svg::bar_chart(
        tr.t("report.chart_education"),
        &group_slices(&t, "education", en),
        &ChartOpts::with_unit(unit_person),
    ));

    // The headline figures every module declares, in catalogue order.
    let kpis = t
        .figures()
        .filter(|f| f.headline)
        .map(|f| Kpi {
            label: name_of(f, en),
            value: value_view(f, f.amount, org, &spec, Rounding::WAN),
            change: f.change.clone(),
        })
        .collect();
    let portal_note = t
        .get("members_activated")
        .is_some_and(|f| f.amount == Amount::Count(0));
    Ok(html(&DashboardPage {
        c: Chrome::new(&staff, "reports"),
        p: period_form(&period, en),
        query: qs(org, &spec),
        t,
        kpis,
        charts,
        can_write: scope.can_write(),
        portal_note,
    }))
}

// ---------------------------------------------------------------------------
// figures table

#[derive(Template)]
#[template(path = "reports/table.html")]
struct TablePage {
    c: Chrome,
    t: FigureTable,
    p: PeriodForm,
    sections: Vec<SectionView>,
    query: String,
}

async fn table_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
    Query(pick): Query<PickQuery>,
) -> AppResult<Response> {
    let q = resolve(&q, &pick);
    let period = q.period()?;
    let t = figures::table(&st.db, staff.scope(), q.org(&staff)?, period).await?;
    let en = staff.ctx.tr().is_en();
    Ok(html(&TablePage {
        c: Chrome::new(&staff, "reports"),
        p: period_form(&period, en),
        sections: section_views(&t, en),
        query: qs(t.org.id, &t.period.spec),
        t,
    }))
}

// ---------------------------------------------------------------------------
// drill-down

#[derive(Template)]
#[template(path = "reports/drill.html")]
struct DrillPage {
    c: Chrome,
    d: Drill,
    total_text: String,
    back: String,
    base: String,
}

async fn drill_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
) -> AppResult<Response> {
    let period = q.period()?;
    let d = figures::drill(
        &st.db,
        staff.scope(),
        q.org(&staff)?,
        &q.code()?,
        period,
        q.page()?,
        q.per_page()?,
    )
    .await?;
    let unit = Unit::from_symbol(d.unit).unwrap_or(Unit::Ge);
    let total_text = if d.subject == "manual" {
        numfmt::format_count(
            d.entries.iter().map(|e| e.value).sum(),
            unit,
            Rounding::Exact,
        )
    } else {
        numfmt::format_count(d.total, unit, Rounding::Exact)
    };
    Ok(html(&DrillPage {
        c: Chrome::new(&staff, "reports"),
        back: format!("/reports/table?{}", qs(d.org.id, &d.period.spec)),
        base: format!(
            "/reports/drill?{}&code={}",
            qs(d.org.id, &d.period.spec),
            d.code
        ),
        total_text,
        d,
    }))
}

// ---------------------------------------------------------------------------
// manual values

pub struct ManualRow {
    pub code: &'static str,
    pub name: String,
    pub unit: &'static str,
    pub about: &'static str,
    pub value: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "reports/manual.html")]
struct ManualPage {
    c: Chrome,
    org_name: String,
    org_id: i64,
    p: PeriodForm,
    rows: Vec<ManualRow>,
    saved: Option<String>,
    can_write: bool,
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

async fn manual_page(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
    Query(pick): Query<PickQuery>,
    Query(saved): Query<SavedQuery>,
) -> AppResult<Response> {
    let q = resolve(&q, &pick);
    let period = q.period()?;
    let org_id = q.org(&staff)?;
    let own = figures::own_manual(&st.db, staff.scope(), org_id, period).await?;
    let org = ::orgs::store::get(&st.db, staff.scope(), org_id).await?;
    let en = staff.ctx.tr().is_en();
    let rows = st
        .db
        .catalogue()
        .iter()
        .filter(|i| i.is_manual())
        .map(|i| {
            let mine = own.iter().find(|m| m.code == i.code);
            ManualRow {
                code: i.code,
                name: if en { i.name_en } else { i.name_zh }.to_string(),
                unit: i.unit.symbol(),
                about: if en { i.about_en } else { i.about_zh },
                value: mine.map(|m| m.value.to_string()).unwrap_or_default(),
                note: mine.map(|m| m.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(html(&ManualPage {
        c: Chrome::new(&staff, "reports"),
        org_name: org.name,
        org_id: org.id.0,
        p: period_form(&period, en),
        rows,
        saved: saved.saved,
        can_write: staff.scope().can_write(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ManualBody {
    /// Org id (default: the caller's org).
    #[serde(default)]
    org: Option<i64>,
    /// Indicator code; must be a manual indicator.
    code: String,
    /// 2026 | 2026-Q2 | 2026-03 | 2026-01-01..2026-06-30
    period: String,
    value: i64,
    #[serde(default)]
    note: String,
}

#[derive(Debug, Deserialize)]
struct ManualForm {
    org: i64,
    code: String,
    period: String,
    value: String,
    #[serde(default)]
    note: String,
}

async fn manual_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(f): Form<ManualForm>,
) -> AppResult<Response> {
    let value = f.value.trim().parse::<i64>().map_err(|_| {
        AppError::invalid(
            format!("填报值“{}”应为不小于0的整数", f.value.trim()),
            format!(
                "The value “{}” must be a whole number, 0 or more",
                f.value.trim()
            ),
        )
    })?;
    let period = Period::parse(&f.period)?;
    let saved = figures::set_manual(
        &st.db,
        staff.scope(),
        OrgId(f.org),
        &f.code,
        period,
        value,
        &f.note,
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/reports/manual?{}&saved={}",
        qs(saved.org.id, &saved.period.spec),
        saved.code
    ))
    .into_response())
}

// ---------------------------------------------------------------------------
// export

/// The figures table as xlsx (summary, one sheet per section, breakdown by
/// child org). POST, as every export: a cross-site link cannot run an
/// audited export in a signed-in browser.
#[utoipa::path(post, path = "/reports/export.xlsx", tag = "reports", params(FigQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404), (status = 422)))]
async fn export_xlsx(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
    Query(pick): Query<PickQuery>,
) -> AppResult<Response> {
    let q = resolve(&q, &pick);
    let t = figures::table(&st.db, staff.scope(), q.org(&staff)?, q.period()?).await?;
    let bytes = export::xlsx(&t)?;
    audit::record(
        &st.db,
        &staff.scope().actor,
        Event::new("report.export", "figures", &t.org.code)
            .org(OrgId(t.org.id))
            .detail(serde_json::json!({"period": t.period.spec, "format": "xlsx"})),
    )
    .await?;
    let name = export::file_name(&t);
    Ok(platform::web::download(bytes, platform::web::XLSX, &name))
}

// ---------------------------------------------------------------------------
// JSON API

/// The indicator catalogue: every indicator of every module.
#[utoipa::path(get, path = "/api/v1/reports/indicators", tag = "reports",
    responses((status = 200, body = [IndicatorInfo])))]
async fn api_indicators(State(st): State<AppState>, _staff: Staff) -> Json<Vec<IndicatorInfo>> {
    Json(st.db.catalogue().iter().map(IndicatorInfo::from).collect())
}

/// Every figure for an org subtree and period, with last year and the breakdown by child org.
#[utoipa::path(get, path = "/api/v1/reports/figures", tag = "reports", params(FigQuery),
    responses((status = 200, body = FigureTable), (status = 404), (status = 422)))]
async fn api_figures(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
) -> AppResult<Json<FigureTable>> {
    Ok(Json(
        figures::table(&st.db, staff.scope(), q.org(&staff)?, q.period()?).await?,
    ))
}

/// The records behind one figure (orgs, or members masked — audited), paginated.
#[utoipa::path(get, path = "/api/v1/reports/drill", tag = "reports", params(FigQuery),
    responses((status = 200, body = Drill), (status = 404), (status = 422)))]
async fn api_drill(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
) -> AppResult<Json<Drill>> {
    Ok(Json(
        figures::drill(
            &st.db,
            staff.scope(),
            q.org(&staff)?,
            &q.code()?,
            q.period()?,
            q.page()?,
            q.per_page()?,
        )
        .await?,
    ))
}

/// The manual values an org itself entered for a period.
#[utoipa::path(get, path = "/api/v1/reports/manual", tag = "reports", params(FigQuery),
    responses((status = 200, body = [ManualValue]), (status = 404)))]
async fn api_manual_list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<FigQuery>,
) -> AppResult<Json<Vec<ManualValue>>> {
    Ok(Json(
        figures::own_manual(&st.db, staff.scope(), q.org(&staff)?, q.period()?).await?,
    ))
}

/// Enters a manual indicator's value for an org and period (refused for derived indicators).
#[utoipa::path(post, path = "/api/v1/reports/manual", tag = "reports", request_body = ManualBody,
    responses((status = 200, body = ManualValue), (status = 404), (status = 422)))]
async fn api_manual_set(
    State(st): State<AppState>,
    staff: Staff,
    Json(b): Json<ManualBody>,
) -> AppResult<Json<ManualValue>> {
    let org = b.org.map(OrgId).unwrap_or(staff.scope().org_id);
    Ok(Json(
        figures::set_manual(
            &st.db,
            staff.scope(),
            org,
            &b.code,
            Period::parse(&b.period)?,
            b.value,
            &b.note,
        )
        .await?,
    ))
}
