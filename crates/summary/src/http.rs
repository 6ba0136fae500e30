//! The summary's pages (drafts list, a draft with its editor, downloads)
//! and its JSON API under /api/v1/reports/summary.

use askama::Template;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Form, Json,
};
use serde::Deserialize;
use utoipa_axum::routes;

use crate::{
    draft::{self, Draft, DraftId, DraftRow, Written},
    output,
    render::{Lang, Span},
};
use platform::{
    error::{AppError, AppResult},
    i18n,
    ids::OrgId,
    time,
    web::{ctx::Staff, html, pages::Chrome, AppState, Routes},
};

pub fn routes() -> Routes {
    Routes::new()
        .page("/reports/summary", get(list_page).post(generate_submit))
        .page(
            "/reports/summary/sections",
            get(sections_page).post(sections_submit),
        )
        .page("/reports/summary/{id}", get(draft_page))
        .page("/reports/summary/{id}/add", post(add_submit))
        .page("/reports/summary/{id}/edit", post(edit_submit))
        .page("/reports/summary/{id}/refresh", post(refresh_submit))
        .page("/reports/summary/{id}/submit", post(submit_submit))
        .page("/reports/summary/{id}/version", post(version_submit))
        .page("/reports/summary/{id}/download", post(download))
        .api(routes!(api_generate))
        .api(routes!(api_get))
}

fn lang(s: &Staff) -> Lang {
    match s.ctx.lang {
        i18n::Lang::En => Lang::En,
        _ => Lang::Zh,
    }
}

fn parse_year(raw: &str) -> AppResult<i32> {
    raw.trim().parse().map_err(|_| {
        AppError::invalid(
            format!("年份“{raw}”应为四位数字"),
            format!("The year “{raw}” must be four digits"),
        )
    })
}

#[derive(Template)]
#[template(path = "summary/list.html")]
struct ListPage {
    c: Chrome,
    rows: Vec<DraftRow>,
    year: i32,
    can_write: bool,
}

async fn list_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let rows = draft::list(&st, staff.scope()).await?;
    Ok(html(&ListPage {
        c: Chrome::new(&staff, "reports"),
        rows,
        year: time::today()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026),
        can_write: staff.scope().can_write(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct GenerateBody {
    /// Org id (default: the caller's org).
    #[serde(default)]
    org: Option<String>,
    year: String,
}

fn org_of(staff: &Staff, raw: &Option<String>) -> AppResult<OrgId> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(staff.scope().org_id),
        Some(s) => s.parse().map(OrgId).map_err(|_| {
            AppError::invalid(
                format!("组织“{s}”应为整数编号"),
                format!("The org “{s}” must be a whole number"),
            )
        }),
    }
}

async fn generate_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(b): Form<GenerateBody>,
) -> AppResult<Response> {
    let org = org_of(&staff, &b.org)?;
    let id = draft::generate(&st, staff.scope(), org, parse_year(&b.year)?).await?;
    Ok(Redirect::to(&format!("/reports/summary/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "summary/draft.html")]
struct DraftPage {
    c: Chrome,
    d: Draft,
    w: Written,
    status: &'static str,
    editable: bool,
}

impl DraftPage {
    fn para_src(&self, key: &str) -> (String, String) {
        self.d
            .body
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.iter())
            .find(|p| p.key == key)
            .map(|p| (p.zh.clone(), p.en.clone()))
            .unwrap_or_default()
    }
}

async fn draft_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let d = draft::load(&st, staff.scope(), DraftId(id)).await?;
    let l = lang(&staff);
    let w = draft::write(&d, l, true)?;
    Ok(html(&DraftPage {
        c: Chrome::new(&staff, "reports"),
        status: d.status.label(l),
        editable: staff.scope().can_write() && d.status == draft::DraftStatus::Draft,
        d,
        w,
    }))
}

#[derive(Deserialize)]
struct EditBody {
    key: String,
    zh: String,
    #[serde(default)]
    en: String,
}

async fn edit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<EditBody>,
) -> AppResult<Response> {
    draft::edit(&st, staff.scope(), DraftId(id), &b.key, &b.zh, &b.en).await?;
    Ok(Redirect::to(&format!("/reports/summary/{id}#p-{}", b.key)).into_response())
}

async fn refresh_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    draft::refresh(&st, staff.scope(), DraftId(id)).await?;
    Ok(Redirect::to(&format!("/reports/summary/{id}")).into_response())
}

async fn submit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    draft::submit(&st, staff.scope(), DraftId(id)).await?;
    Ok(Redirect::to(&format!("/reports/summary/{id}")).into_response())
}

async fn version_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let new = draft::new_version(&st, staff.scope(), DraftId(id)).await?;
    Ok(Redirect::to(&format!("/reports/summary/{new}")).into_response())
}

#[derive(Deserialize)]
struct AddBody {
    section: String,
    zh: String,
    #[serde(default)]
    en: String,
}

async fn add_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(b): Form<AddBody>,
) -> AppResult<Response> {
    draft::add_paragraph(&st, staff.scope(), DraftId(id), &b.section, &b.zh, &b.en).await?;
    Ok(Redirect::to(&format!("/reports/summary/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "summary/sections.html")]
struct SectionsPage {
    c: Chrome,
    sections: Vec<(String, String, String)>,
    can_edit: bool,
}

async fn org_path(st: &AppState, staff: &Staff) -> AppResult<String> {
    Ok(
        platform::tree::node(&st.db, staff.scope(), staff.scope().org_id)
            .await?
            .path,
    )
}

async fn sections_page(State(st): State<AppState>, staff: Staff) -> AppResult<Response> {
    let path = org_path(&st, &staff).await?;
    let mut conn = st.db.pool().acquire().await?;
    let sections = draft::sections(&mut conn, &path).await?;
    Ok(html(&SectionsPage {
        c: Chrome::new(&staff, "reports"),
        sections,
        can_edit: staff.scope().role == platform::scope::Role::Admin,
    }))
}

/// The form posts rows as `key`, `zh`, `en`, `pos` repeated; a row with an
/// empty key and name is ignored (the blank row for adding one).
async fn sections_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(fields): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut rows: Vec<(f64, draft::SectionConfig)> = Vec::new();
    let mut cur: Option<(f64, draft::SectionConfig)> = None;
    for (k, v) in fields {
        match k.as_str() {
            "key" => {
                rows.extend(cur.take());
                cur = Some((
                    rows.len() as f64,
                    draft::SectionConfig {
                        key: v.trim().to_string(),
                        zh: String::new(),
                        en: String::new(),
                    },
                ));
            }
            "zh" | "en" | "pos" => {
                let Some((pos, c)) = cur.as_mut() else {
                    continue;
                };
                match k.as_str() {
                    "zh" => c.zh = v,
                    "en" => c.en = v,
                    _ => {
                        if let Ok(p) = v.trim().parse::<f64>() {
                            *pos = p;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    rows.extend(cur.take());
    rows.retain(|(_, c)| !(c.key.is_empty() && c.zh.trim().is_empty()));
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let list: Vec<draft::SectionConfig> = rows.into_iter().map(|(_, c)| c).collect();
    draft::save_sections(&st, staff.scope(), &list).await?;
    Ok(Redirect::to("/reports/summary/sections").into_response())
}

#[derive(Deserialize)]
struct DownloadQuery {
    format: String,
}

/// The file of a version: `docx` or `md`.
pub async fn file(
    d: &Draft,
    format: &str,
    lang: Lang,
) -> AppResult<(Vec<u8>, &'static str, String)> {
    let date = time::today().format("%Y年%m月%d日").to_string();
    let base = format!("{}-{}-v{}", d.org_code, d.year, d.version);
    match format {
        "md" => {
            let w = draft::write(d, lang, true)?;
            Ok((
                output::markdown(&w, &date).into_bytes(),
                "text/markdown; charset=utf-8",
                format!("{base}.md"),
            ))
        }
        "docx" => {
            let w = draft::write(d, lang, false)?;
            let figures = d.figures.clone();
            let chart = tokio::task::spawn_blocking(move || output::chart_png(&figures))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("chart: {e}")))?;
            let bytes = output::docx(&w, &date, chart.as_ref()).map_err(AppError::Internal)?;
            Ok((
                bytes,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                format!("{base}.docx"),
            ))
        }
        other => Err(AppError::invalid(
            format!("格式须为 docx 或 md(收到“{other}”)"),
            format!("The format must be docx or md (got “{other}”)"),
        )),
    }
}

async fn download(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DownloadQuery>,
) -> AppResult<Response> {
    let d = draft::load(&st, staff.scope(), DraftId(id)).await?;
    let (bytes, mime, name) = file(&d, &q.format, lang(&staff)).await?;
    Ok(platform::web::download(bytes, mime, &name))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct DraftOut {
    draft: Draft,
    written: Written,
    /// The written text, plain.
    text: Vec<String>,
}

fn out(d: Draft, lang: Lang) -> AppResult<DraftOut> {
    let written = draft::write(&d, lang, true)?;
    let text = written
        .sections
        .iter()
        .flat_map(|s| {
            std::iter::once(s.title.clone()).chain(
                s.paragraphs
                    .iter()
                    .map(|p| p.spans.iter().map(Span::plain).collect::<String>()),
            )
        })
        .collect();
    Ok(DraftOut {
        draft: d,
        written,
        text,
    })
}

/// Generates a new draft version of an org's summary for a year.
#[utoipa::path(post, path = "/api/v1/reports/summary", tag = "reports", request_body = GenerateBody,
    responses((status = 200, body = DraftOut), (status = 404), (status = 422)))]
async fn api_generate(
    State(st): State<AppState>,
    staff: Staff,
    Json(b): Json<GenerateBody>,
) -> AppResult<Json<DraftOut>> {
    let org = org_of(&staff, &b.org)?;
    let id = draft::generate(&st, staff.scope(), org, parse_year(&b.year)?).await?;
    let d = draft::load(&st, staff.scope(), id).await?;
    Ok(Json(out(d, lang(&staff))?))
}

/// A version of a summary, with its text and every figure's indicator, exact value and drill-down.
#[utoipa::path(get, path = "/api/v1/reports/summary/{id}", tag = "reports", params(("id" = i64, Path)),
    responses((status = 200, body = DraftOut), (status = 404)))]
async fn api_get(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Json<DraftOut>> {
    let d = draft::load(&st, staff.scope(), DraftId(id)).await?;
    Ok(Json(out(d, lang(&staff))?))
}
