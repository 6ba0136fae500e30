//! Drafts of the summary: generated for an org and a year from every
//! module's paragraphs, edited by people paragraph by paragraph (the prose
//! is theirs, the `{code}` tokens stay bound to the indicators), refreshed
//! from the records on demand, sent up the review chain, and frozen once
//! final: a final version keeps the figures it was approved with, and a
//! change means a new version.

use std::collections::BTreeMap;

use reports::{
    figures::{self, Amount},
    period::Period,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::render::{self, Lang, Span, Value, Values};
use platform::{
    audit::{self, Event},
    error::{AppError, AppResult},
    ids::OrgId,
    module::BoxFuture,
    review::{self, Outcome, ReviewItem, ReviewKind},
    scope::Scope,
    summary::{self, Paragraph},
    time, tree,
    web::AppState,
};

// A version of an org's annual summary.
platform::id_type!(DraftId);

/// One paragraph of a draft: the pattern as last written (by its module, or
/// edited by a person).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ParaDraft {
    /// The module's paragraph key, or `custom.N` for prose a person added.
    pub key: String,
    pub zh: String,
    pub en: String,
    /// Edited by a person: a refresh keeps it as written.
    pub edited: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SectionDraft {
    pub key: String,
    pub zh: String,
    pub en: String,
    pub paragraphs: Vec<ParaDraft>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Body {
    pub sections: Vec<SectionDraft>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    Draft,
    InReview,
    Final,
}

impl DraftStatus {
    fn parse(s: &str) -> DraftStatus {
        match s {
            "in_review" => DraftStatus::InReview,
            "final" => DraftStatus::Final,
            _ => DraftStatus::Draft,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::InReview => "in_review",
            DraftStatus::Final => "final",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (DraftStatus::Draft, Lang::Zh) => "草稿",
            (DraftStatus::Draft, Lang::En) => "Draft",
            (DraftStatus::InReview, Lang::Zh) => "审批中",
            (DraftStatus::InReview, Lang::En) => "In review",
            (DraftStatus::Final, Lang::Zh) => "定稿",
            (DraftStatus::Final, Lang::En) => "Final",
        }
    }
}

/// A stored version.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Draft {
    #[schema(value_type = i64)]
    pub id: DraftId,
    pub org_id: i64,
    pub org_code: String,
    pub org_name: String,
    #[serde(skip)]
    pub org_is_root: bool,
    /// The org's path when the draft was made: its scope and its sections.
    #[serde(skip)]
    pub org_path: String,
    pub year: i32,
    pub version: i32,
    pub status: DraftStatus,
    pub author: String,
    pub created_at: String,
    pub updated_at: String,
    pub generated_at: String,
    pub finalised_at: Option<String>,
    pub body: Body,
    #[schema(value_type = Object)]
    pub figures: Values,
    #[serde(skip)]
    pub figures_before: Values,
}

/// The summary's sections for an org: the defaults, as the nearest
/// ancestor-or-self federation renamed, reordered or extended them.
pub async fn sections(
    conn: &mut AnyConnection,
    org_path: &str,
) -> AppResult<Vec<(String, String, String)>> {
    // The org's ancestors-or-self, nearest first.
    let ids: Vec<i64> = org_path
        .split('/')
        .filter_map(|s| s.parse().ok())
        .rev()
        .collect();
    for id in ids {
        let rows = sqlx::query(
            "SELECT key, title_zh, title_en FROM summary_sections WHERE org_id = $1 ORDER BY position, key",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        if !rows.is_empty() {
            let mut out = Vec::new();
            for r in rows {
                out.push((
                    r.try_get("key")?,
                    r.try_get("title_zh")?,
                    r.try_get("title_en")?,
                ));
            }
            // A module's section the federation did not list still shows, last.
            for (k, zh, en) in summary::SECTIONS {
                if !out.iter().any(|(key, ..)| key == k) {
                    out.push((k.to_string(), zh.to_string(), en.to_string()));
                }
            }
            return Ok(out);
        }
    }
    Ok(summary::SECTIONS
        .iter()
        .map(|(k, zh, en)| (k.to_string(), zh.to_string(), en.to_string()))
        .collect())
}

/// The figures of every indicator for the org subtree and year, with last
/// year's where last year has data.
pub async fn values(st: &AppState, scope: &Scope, org: OrgId, year: i32) -> AppResult<Values> {
    let period = Period::year(year)?;
    let table = figures::table(&st.db, scope, org, period).await?;
    let mut out = Values::new();
    for f in table.figures() {
        let unit = f
            .unit_kind
            .map(render::unit_name)
            .unwrap_or_else(|| "Percent".to_string());
        let v = match (f.amount, f.previous_amount) {
            (Amount::Count(n), prev) => Value {
                value: n,
                of: None,
                previous: prev.count().filter(|p| *p != 0),
                previous_of: None,
                unit,
            },
            (Amount::Ratio(n, d), prev) => {
                let (pn, pd) = match prev {
                    Amount::Ratio(pn, pd) if pd != 0 && pn != 0 => (Some(pn), Some(pd)),
                    _ => (None, None),
                };
                Value {
                    value: n,
                    of: Some(d),
                    previous: pn,
                    previous_of: pd,
                    unit: "Percent".into(),
                }
            }
            (Amount::NotEntered, _) => continue,
        };
        out.insert(f.code.to_string(), v);
    }
    Ok(out)
}

/// The body a generation writes: the paragraphs with records, in their
/// sections, keeping what `keep` (an earlier draft) has edited or added.
fn compose(
    sections: &[(String, String, String)],
    paragraphs: &[Paragraph],
    values: &Values,
    keep: Option<&Body>,
) -> Body {
    let kept: BTreeMap<&str, (&str, &ParaDraft)> = keep
        .map(|b| {
            b.sections
                .iter()
                .flat_map(|s| {
                    s.paragraphs
                        .iter()
                        .map(move |p| (p.key.as_str(), (s.key.as_str(), p)))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = Body::default();
    for (key, zh, en) in sections {
        let mut paras = Vec::new();
        for p in paragraphs.iter().filter(|p| p.section == key.as_str()) {
            match kept.get(p.key) {
                // Edited prose stays as written (its figures refresh).
                Some((_, d)) if d.edited => paras.push((*d).clone()),
                _ if render::appears(p.indicators, values) => paras.push(ParaDraft {
                    key: p.key.to_string(),
                    zh: p.zh.to_string(),
                    en: p.en.to_string(),
                    edited: false,
                }),
                _ => {}
            }
        }
        // Prose a person added to this section.
        if let Some(b) = keep {
            if let Some(s) = b.sections.iter().find(|s| &s.key == key) {
                paras.extend(
                    s.paragraphs
                        .iter()
                        .filter(|p| p.key.starts_with("custom."))
                        .cloned(),
                );
            }
        }
        if !paras.is_empty() {
            out.sections.push(SectionDraft {
                key: key.clone(),
                zh: zh.clone(),
                en: en.clone(),
                paragraphs: paras,
            });
        }
    }
    out
}

fn json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.into()))
}

fn no_records(year: i32) -> AppError {
    AppError::invalid(
        format!("{year}年该组织及所属工会没有可写入综述的记录,未生成草稿"),
        format!("The union and its branches have no records for {year} to write a summary from; no draft was made"),
    )
}

fn check_year(year: i32) -> AppResult<()> {
    if !(2000..=2100).contains(&year) {
        return Err(AppError::invalid(
            format!("年份{year}不在2000–2100之间"),
            format!("The year {year} is not between 2000 and 2100"),
        ));
    }
    Ok(())
}

/// Generates a new draft (the next version) of `org`'s summary for `year`.
pub async fn generate(st: &AppState, scope: &Scope, org: OrgId, year: i32) -> AppResult<DraftId> {
    scope.require_write()?;
    check_year(year)?;
    let node = tree::node(&st.db, scope, org).await?;
    let values = values(st, scope, org, year).await?;
    let paragraphs = st.registry.summary_paragraphs();
    let mut tx = st.db.begin_write().await?;
    let secs = sections(&mut tx, &node.path).await?;
    let body = compose(&secs, &paragraphs, &values, None);
    if body.sections.is_empty() {
        return Err(no_records(year));
    }
    let (id, version) = insert_version(
        &mut tx,
        scope,
        NewVersion {
            org,
            path: &node.path,
            year,
            body: &body,
            values: &values,
            before: &Values::new(),
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.generate", "summary_draft", id)
            .org(org)
            .detail(serde_json::json!({"year": year, "version": version})),
    )
    .await?;
    tx.commit().await?;
    Ok(DraftId(id))
}

/// What a new version is made of.
struct NewVersion<'a> {
    org: OrgId,
    path: &'a str,
    year: i32,
    body: &'a Body,
    values: &'a Values,
    /// The figures of the version it comes from, to mark what changed.
    before: &'a Values,
}

/// Writes the next version of an org's summary for the year, as a draft
/// by the caller: (id, version).
async fn insert_version(
    tx: &mut AnyConnection,
    scope: &Scope,
    v: NewVersion<'_>,
) -> AppResult<(i64, i64)> {
    let version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM summary_drafts WHERE org_id = $1 AND year = $2",
    )
    .bind(v.org.0)
    .bind(v.year)
    .fetch_one(&mut *tx)
    .await?;
    let now = time::now_rfc3339();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO summary_drafts (region_root, org_id, org_path, year, version, status, body, figures, figures_before, \
         author_id, author, created_at, updated_at, generated_at) \
         VALUES ((SELECT region_root FROM orgs WHERE id = $1), $1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $10, $10) RETURNING id",
    )
    .bind(v.org.0)
    .bind(v.path)
    .bind(v.year)
    .bind(version)
    .bind(json(v.body)?)
    .bind(json(v.values)?)
    .bind(json(v.before)?)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&scope.actor.name)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?;
    Ok((id, version))
}

/// Loads a version within the caller's subtree ("not found" outside it).
pub async fn load(st: &AppState, scope: &Scope, id: DraftId) -> AppResult<Draft> {
    let row = sqlx::query(
        "SELECT d.*, o.code AS org_code, o.name AS org_name, o.parent_id AS org_parent \
         FROM summary_drafts d JOIN orgs o ON o.id = d.org_id WHERE d.id = $1",
    )
    .bind(id.0)
    .fetch_optional(st.db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let path: String = row.try_get("org_path")?;
    scope.admit(&st.db, &path, "summary_draft", id.0).await?;
    let parse = |s: String| -> AppResult<Values> {
        serde_json::from_str(&s).map_err(|e| AppError::Internal(e.into()))
    };
    Ok(Draft {
        id,
        org_id: row.try_get("org_id")?,
        org_code: row.try_get("org_code")?,
        org_name: row.try_get("org_name")?,
        org_is_root: row.try_get::<Option<i64>, _>("org_parent")?.is_none(),
        org_path: path,
        year: row
            .try_get::<i32, _>("year")
            .or_else(|_| row.try_get::<i64, _>("year").map(|y| y as i32))?,
        version: row
            .try_get::<i32, _>("version")
            .or_else(|_| row.try_get::<i64, _>("version").map(|y| y as i32))?,
        status: DraftStatus::parse(&row.try_get::<String, _>("status")?),
        author: row.try_get("author")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        generated_at: row.try_get("generated_at")?,
        finalised_at: row.try_get("finalised_at")?,
        body: serde_json::from_str(&row.try_get::<String, _>("body")?)
            .map_err(|e| AppError::Internal(e.into()))?,
        figures: parse(row.try_get("figures")?)?,
        figures_before: parse(row.try_get("figures_before")?)?,
    })
}

fn final_refused() -> AppError {
    AppError::conflict(
        "定稿版本不能修改,请基于它新建一个版本",
        "A final version cannot be changed; make a new version from it",
    )
}

/// A draft that may still change: not final, not waiting in review (a
/// returned one may change again).
async fn editable(st: &AppState, d: &Draft) -> AppResult<()> {
    match d.status {
        DraftStatus::Final => Err(final_refused()),
        DraftStatus::InReview => {
            let returned: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM review_items WHERE kind = $1 AND record_id = $2 AND status = 'returned'",
            )
            .bind(KIND)
            .bind(d.id.0)
            .fetch_one(st.db.pool())
            .await?;
            if returned == 0 {
                return Err(AppError::conflict(
                    "草稿正在审批中,退回后才能修改",
                    "The draft is in review; it can change once returned",
                ));
            }
            Ok(())
        }
        DraftStatus::Draft => Ok(()),
    }
}

/// Refreshes a draft's figures from the records, keeping its edited prose;
/// paragraphs that now have records join it, and the figures that changed
/// are marked when it is shown.
pub async fn refresh(st: &AppState, scope: &Scope, id: DraftId) -> AppResult<()> {
    scope.require_write()?;
    let d = load(st, scope, id).await?;
    editable(st, &d).await?;
    let values = values(st, scope, OrgId(d.org_id), d.year).await?;
    let paragraphs = st.registry.summary_paragraphs();
    let mut tx = st.db.begin_write().await?;
    let secs = sections(&mut tx, &d.org_path).await?;
    let body = compose(&secs, &paragraphs, &values, Some(&d.body));
    let now = time::now_rfc3339();
    sqlx::query(
        "UPDATE summary_drafts SET body = $1, figures = $2, figures_before = $3, generated_at = $4, updated_at = $4 \
         WHERE id = $5 AND status <> 'final'",
    )
    .bind(json(&body)?)
    .bind(json(&values)?)
    .bind(json(&d.figures)?)
    .bind(&now)
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.refresh", "summary_draft", id.0).org(OrgId(d.org_id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces one paragraph's prose (both languages). The text must parse;
/// an unknown figure token is refused, a hand-typed number is allowed and
/// flagged wherever the draft is shown.
pub async fn edit(
    st: &AppState,
    scope: &Scope,
    id: DraftId,
    key: &str,
    zh: &str,
    en: &str,
) -> AppResult<()> {
    scope.require_write()?;
    let mut d = load(st, scope, id).await?;
    editable(st, &d).await?;
    let cat = st.db.catalogue();
    for text in [zh, en] {
        let pieces = summary::parse(text).map_err(|e| {
            AppError::invalid(
                format!("段落格式有误(花括号或方括号不成对):{e}"),
                format!("The paragraph is malformed (unpaired braces or brackets): {e}"),
            )
        })?;
        for (code, ..) in summary::figures(&pieces) {
            if !code.starts_with('@') && !cat.iter().any(|i| i.code == code) {
                return Err(AppError::invalid(
                    format!("没有指标“{code}”,数字请写成{{指标代码}}以便追溯"),
                    format!("There is no indicator “{code}”; write figures as {{indicator code}} so they stay traceable"),
                ));
            }
        }
    }
    let para = d
        .body
        .sections
        .iter_mut()
        .flat_map(|s| s.paragraphs.iter_mut())
        .find(|p| p.key == key)
        .ok_or_else(|| {
            AppError::invalid(
                format!("草稿中没有段落“{key}”"),
                format!("The draft has no paragraph “{key}”"),
            )
        })?;
    para.zh = zh.trim().to_string();
    para.en = en.trim().to_string();
    para.edited = true;
    let mut tx = st.db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE summary_drafts SET body = $1, updated_at = $2 WHERE id = $3 AND status <> 'final'",
    )
    .bind(json(&d.body)?)
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(final_refused());
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.edit", "summary_draft", id.0)
            .org(OrgId(d.org_id))
            .detail(serde_json::json!({"paragraph": key})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A new version from any version (a final one included): its prose, the
/// figures refreshed from the records.
pub async fn new_version(st: &AppState, scope: &Scope, id: DraftId) -> AppResult<DraftId> {
    scope.require_write()?;
    let d = load(st, scope, id).await?;
    let new = generate_from(st, scope, &d).await?;
    Ok(new)
}

async fn generate_from(st: &AppState, scope: &Scope, d: &Draft) -> AppResult<DraftId> {
    let values = values(st, scope, OrgId(d.org_id), d.year).await?;
    let paragraphs = st.registry.summary_paragraphs();
    let mut tx = st.db.begin_write().await?;
    let secs = sections(&mut tx, &d.org_path).await?;
    let body = compose(&secs, &paragraphs, &values, Some(&d.body));
    let (id, version) = insert_version(
        &mut tx,
        scope,
        NewVersion {
            org: OrgId(d.org_id),
            path: &d.org_path,
            year: d.year,
            body: &body,
            values: &values,
            before: &d.figures,
        },
    )
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.version", "summary_draft", id)
            .org(OrgId(d.org_id))
            .detail(serde_json::json!({"from": d.id.0, "version": version})),
    )
    .await?;
    tx.commit().await?;
    Ok(DraftId(id))
}

/// Adds a paragraph of a person's own prose to a section of the draft
/// (a section the federation added has no module paragraphs).
pub async fn add_paragraph(
    st: &AppState,
    scope: &Scope,
    id: DraftId,
    section: &str,
    zh: &str,
    en: &str,
) -> AppResult<()> {
    scope.require_write()?;
    let mut d = load(st, scope, id).await?;
    editable(st, &d).await?;
    if zh.trim().is_empty() {
        return Err(AppError::invalid(
            "段落内容不能为空",
            "The paragraph must not be empty",
        ));
    }
    let mut tx = st.db.begin_write().await?;
    let secs = sections(&mut tx, &d.org_path).await?;
    let Some((key, szh, sen)) = secs.iter().find(|(k, ..)| k == section).cloned() else {
        return Err(AppError::invalid(
            format!("没有章节“{section}”"),
            format!("There is no section “{section}”"),
        ));
    };
    let n = d
        .body
        .sections
        .iter()
        .flat_map(|s| s.paragraphs.iter())
        .filter(|p| p.key.starts_with("custom."))
        .count()
        + 1;
    let para = ParaDraft {
        key: format!("custom.{n}"),
        zh: zh.trim().to_string(),
        en: en.trim().to_string(),
        edited: true,
    };
    summary::parse(&para.zh)
        .and_then(|_| summary::parse(&para.en))
        .map_err(|e| {
            AppError::invalid(
                format!("段落格式有误(花括号或方括号不成对):{e}"),
                format!("The paragraph is malformed (unpaired braces or brackets): {e}"),
            )
        })?;
    match d.body.sections.iter_mut().find(|s| s.key == key) {
        Some(s) => s.paragraphs.push(para),
        None => {
            d.body.sections.push(SectionDraft {
                key: key.clone(),
                zh: szh,
                en: sen,
                paragraphs: vec![para],
            });
            // Keep the federation's order.
            d.body
                .sections
                .sort_by_key(|s| secs.iter().position(|(k, ..)| *k == s.key));
        }
    }
    sqlx::query(
        "UPDATE summary_drafts SET body = $1, updated_at = $2 WHERE id = $3 AND status <> 'final'",
    )
    .bind(json(&d.body)?)
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.edit", "summary_draft", id.0)
            .org(OrgId(d.org_id))
            .detail(serde_json::json!({"added": section})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One section as a federation configures it.
#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SectionConfig {
    /// Stable key: a default theme's, or a new one (letters, digits, `_`).
    pub key: String,
    pub zh: String,
    pub en: String,
}

/// Saves the caller's org's sections, in order: renamed, reordered, added.
/// Leaving out a default theme does not drop it (its module paragraphs
/// still need a home); it goes last.
pub async fn save_sections(st: &AppState, scope: &Scope, list: &[SectionConfig]) -> AppResult<()> {
    scope.require_write()?;
    if scope.role != platform::scope::Role::Admin {
        return Err(AppError::Forbidden(platform::i18n::Msg::new(
            "只有管理员可以调整综述章节",
            "Only an administrator may change the summary's sections",
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for c in list {
        let ok_key = !c.key.is_empty()
            && c.key.len() <= 40
            && c.key
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !ok_key {
            return Err(AppError::invalid(
                format!("章节代码“{}”只能用字母、数字和下划线", c.key),
                format!(
                    "The section key “{}” may hold letters, digits and _ only",
                    c.key
                ),
            ));
        }
        if c.zh.trim().is_empty() || c.zh.chars().count() > 60 || c.en.chars().count() > 120 {
            return Err(AppError::invalid(
                format!("章节“{}”的名称不能为空且不超过60字", c.key),
                format!(
                    "The section “{}” needs a name of at most 60 characters",
                    c.key
                ),
            ));
        }
        if !seen.insert(c.key.as_str()) {
            return Err(AppError::invalid(
                format!("章节代码“{}”重复", c.key),
                format!("The section key “{}” appears twice", c.key),
            ));
        }
    }
    let mut tx = st.db.begin_write().await?;
    sqlx::query("DELETE FROM summary_sections WHERE org_id = $1")
        .bind(scope.org_id.0)
        .execute(&mut *tx)
        .await?;
    for (i, c) in list.iter().enumerate() {
        sqlx::query(
            "INSERT INTO summary_sections (org_id, key, title_zh, title_en, position) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(scope.org_id.0)
        .bind(&c.key)
        .bind(c.zh.trim())
        .bind(c.en.trim())
        .bind(i as i64)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("summary.sections", "org", scope.org_id.0).org(scope.org_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The review kind of a draft: approved by its own org's level (the
/// federation's leadership signs off its own report).
pub const KIND: &str = "summary_draft";

pub struct DraftReview;

impl ReviewKind for DraftReview {
    fn key(&self) -> &'static str {
        KIND
    }
    fn chain(&self) -> &'static [&'static str] {
        &["city"]
    }
    fn label(&self) -> platform::i18n::Msg {
        platform::i18n::Msg::new("工作综述定稿", "Annual summary sign-off")
    }
    fn on_decided<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        outcome: Outcome,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let (status, finalised) = match outcome {
                Outcome::Approved => ("final", Some(time::now_rfc3339())),
                Outcome::Rejected => ("draft", None),
            };
            sqlx::query(
                "UPDATE summary_drafts SET status = $1, finalised_at = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(status)
            .bind(finalised)
            .bind(time::now_rfc3339())
            .bind(item.record_id)
            .execute(&mut *tx)
            .await?;
            Ok(())
        })
    }
}

/// Sends a draft for sign-off, with its figures refreshed first (what is
/// approved is what the records say now).
pub async fn submit(st: &AppState, scope: &Scope, id: DraftId) -> AppResult<()> {
    scope.require_write()?;
    let d = load(st, scope, id).await?;
    if d.status != DraftStatus::Draft {
        return Err(AppError::conflict(
            "只有草稿可以提交审批",
            "Only a draft can be sent for sign-off",
        ));
    }
    refresh(st, scope, id).await?;
    let level: String = sqlx::query_scalar("SELECT level FROM orgs WHERE id = $1")
        .bind(d.org_id)
        .fetch_one(st.db.pool())
        .await?;
    let chain: &[&str] = match level.as_str() {
        "city" => &["city"],
        "county" => &["county"],
        "industry" => &["industry"],
        "street" => &["street"],
        _ => &["grassroots"],
    };
    let title = format!("{} {}年工作综述 第{}版", d.org_name, d.year, d.version);
    review::submit_with_chain(
        &st.db,
        scope,
        &DraftReview,
        OrgId(d.org_id),
        id.0,
        &title,
        chain,
    )
    .await?;
    sqlx::query("UPDATE summary_drafts SET status = 'in_review', updated_at = $1 WHERE id = $2")
        .bind(time::now_rfc3339())
        .bind(id.0)
        .execute(st.db.pool())
        .await?;
    Ok(())
}

/// A stored version as people read it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Written {
    pub title: String,
    pub sections: Vec<WrittenSection>,
    /// Hand-typed numbers in the prose (not traceable to records).
    pub untraceable: Vec<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WrittenSection {
    pub key: String,
    pub title: String,
    pub paragraphs: Vec<WrittenParagraph>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WrittenParagraph {
    pub key: String,
    pub edited: bool,
    #[schema(value_type = Vec<Object>)]
    pub spans: Vec<Span>,
}

/// Writes a version: its stored figures (frozen when final), the changes
/// since the generation before marked, drill-down links for the org's
/// subtree and year (the reader's own scope holds it, or it would not have
/// loaded).
pub fn write(d: &Draft, lang: Lang, links: bool) -> AppResult<Written> {
    let (whole_zh, whole_en) = render::whole_of(&d.org_name, d.org_is_root);
    let ctx = render::Context {
        whole_zh,
        whole_en,
        org_name: d.org_name.clone(),
        year: d.year,
        drill: links.then(|| {
            format!(
                "/reports/drill?org={}&period={}&code={{code}}",
                d.org_id, d.year
            )
        }),
    };
    let shown = (d.status != DraftStatus::Final && !d.figures_before.is_empty())
        .then_some(&d.figures_before);
    let mut sections = Vec::new();
    let mut untraceable = Vec::new();
    for s in &d.body.sections {
        let mut paragraphs = Vec::new();
        for p in &s.paragraphs {
            let text = match lang {
                Lang::Zh => &p.zh,
                Lang::En => &p.en,
            };
            let mut spans = render::write(text, &d.figures, &ctx, lang, shown).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("stored paragraph {}: {e}", p.key))
            })?;
            if !p.edited {
                // A module's own words ("15分钟服务圈") are part of its
                // checked pattern, not numbers typed by hand.
                for sp in &mut spans {
                    if let Span::Untraceable { text } = sp {
                        *sp = Span::Text {
                            text: std::mem::take(text),
                        };
                    }
                }
            }
            for sp in &spans {
                if let Span::Untraceable { text } = sp {
                    untraceable.push(text.clone());
                }
            }
            paragraphs.push(WrittenParagraph {
                key: p.key.clone(),
                edited: p.edited,
                spans,
            });
        }
        sections.push(WrittenSection {
            key: s.key.clone(),
            title: match lang {
                Lang::Zh => s.zh.clone(),
                Lang::En => s.en.clone(),
            },
            paragraphs,
        });
    }
    let title = match lang {
        Lang::Zh => format!("{}{}年工作综述", d.org_name, d.year),
        Lang::En => format!("{}: annual work summary {}", d.org_name, d.year),
    };
    Ok(Written {
        title,
        sections,
        untraceable,
    })
}

/// A row of the drafts list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DraftRow {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    pub year: i64,
    pub version: i64,
    pub status: String,
    pub author: String,
    pub updated_at: String,
}

/// The versions within the caller's subtree, newest first.
pub async fn list(st: &AppState, scope: &Scope) -> AppResult<Vec<DraftRow>> {
    let rows = sqlx::query(
        "SELECT d.id, d.org_id, o.name AS org_name, d.year, d.version, d.status, d.author, d.updated_at \
         FROM summary_drafts d JOIN orgs o ON o.id = d.org_id WHERE d.org_path LIKE $1 \
         ORDER BY d.year DESC, o.path, d.version DESC LIMIT 500",
    )
    .bind(scope.like())
    .fetch_all(st.db.pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(DraftRow {
            id: r.try_get("id")?,
            org_id: r.try_get("org_id")?,
            org_name: r.try_get("org_name")?,
            year: r
                .try_get::<i64, _>("year")
                .or_else(|_| r.try_get::<i32, _>("year").map(i64::from))?,
            version: r
                .try_get::<i64, _>("version")
                .or_else(|_| r.try_get::<i32, _>("version").map(i64::from))?,
            status: r.try_get("status")?,
            author: r.try_get("author")?,
            updated_at: r.try_get("updated_at")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(n: i64) -> Value {
        Value {
            value: n,
            of: None,
            previous: None,
            previous_of: None,
            unit: "Person".into(),
        }
    }

    const P: &[Paragraph] = &[
        Paragraph {
            key: "a.one",
            section: "organisation",
            indicators: &["x"],
            zh: "共有{x}。",
            en: "{x}.",
        },
        Paragraph {
            key: "a.two",
            section: "assistance",
            indicators: &["y"],
            zh: "帮扶{y}。",
            en: "{y}.",
        },
    ];

    fn secs() -> Vec<(String, String, String)> {
        summary::SECTIONS
            .iter()
            .map(|(k, zh, en)| (k.to_string(), zh.to_string(), en.to_string()))
            .collect()
    }

    #[test]
    fn only_paragraphs_with_records_are_written_and_edits_survive_a_refresh() {
        let mut v = Values::new();
        v.insert("x".into(), val(5));
        v.insert("y".into(), val(0));
        let body = compose(&secs(), P, &v, None);
        assert_eq!(body.sections.len(), 1);
        assert_eq!(body.sections[0].key, "organisation");
        let mut edited = body.clone();
        edited.sections[0].paragraphs[0].zh = "我们共有{x},成绩显著。".into();
        edited.sections[0].paragraphs[0].edited = true;
        v.insert("y".into(), val(3));
        let again = compose(&secs(), P, &v, Some(&edited));
        assert_eq!(
            again.sections.len(),
            2,
            "the paragraph that now has records joins"
        );
        let org = again
            .sections
            .iter()
            .find(|s| s.key == "organisation")
            .unwrap();
        assert_eq!(org.paragraphs[0].zh, "我们共有{x},成绩显著。");
    }
}
