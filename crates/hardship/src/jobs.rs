//! 春送岗位: job fairs a union holds (on a date, at a place, of a kind —
//! 春风行动, 线上, 现场, 专场), the employers attending with the posts each
//! offers (a credit code, when given, checked per GB 32100), and the people
//! who found work through the fair (就业人数), per fair and optionally per
//! employer.
//!
//! Rules (each refusal says what to fix, nothing is written):
//! - posts and placements are whole numbers, never negative;
//! - an employer places at most the posts it offered;
//! - the fair's placements are at least the employers' placements added
//!   up, and at most the posts offered at the fair (people placed beyond
//!   the posts would be placements the fair did not offer);
//! - one employer once per fair (by credit code, or by name).
//!
//! Figures: fairs held (招聘会N场), employers (distinct per union, by credit
//! code or name), posts offered, people placed (帮助X人实现就业).

use std::collections::HashSet;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{grants, model};
use platform::{
    audit::{self, Event},
    db::Db,
    error::{AppError, AppResult},
    i18n::Msg,
    ids::OrgId,
    indicator::{Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Show},
    scope::Scope,
    summary::Paragraph,
    time, tree,
};

platform::id_type!(FairId);

/// Fair kinds: (key, 中文, English).
pub const FAIR_KINDS: &[(&str, &str, &str)] = &[
    ("spring", "春风行动", "Spring Breeze campaign"),
    ("onsite", "现场招聘会", "On-site fair"),
    ("online", "线上招聘会", "Online fair"),
    ("special", "专场招聘会", "Special fair"),
];

/// The most employers at one fair, and posts or placements one number may say.
pub const MAX_EMPLOYERS: usize = 2_000;
pub const MAX_POSTS: i64 = 1_000_000;

pub fn kind_label(key: &str) -> Msg {
    crate::visits::label(FAIR_KINDS, key)
}

/// An employer attending, as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct JobFairEmployerInput {
    pub name: String,
    /// 统一社会信用代码 (optional; checked when given).
    pub credit_code: String,
    /// Posts offered.
    pub posts: i64,
    /// People placed with this employer, when known.
    pub placed: Option<i64>,
}

/// A job fair to record.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct JobFairInput {
    /// The organising union; the caller's own org when absent.
    pub org_id: Option<i64>,
    pub held_on: String,
    pub name: String,
    pub place: String,
    /// spring | onsite | online | special (or 春风行动 …).
    pub kind: String,
    /// A 春送岗位 campaign the fair belongs to, if any.
    pub campaign_id: Option<i64>,
    pub employers: Vec<JobFairEmployerInput>,
    /// People who found work through the fair.
    pub placed: i64,
}

/// A checked employer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Employer {
    pub name: String,
    pub credit_code: String,
    pub key: String,
    pub posts: i64,
    pub placed: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedFair {
    pub held_on: chrono::NaiveDate,
    pub name: String,
    pub place: String,
    pub kind: &'static str,
    pub employers: Vec<Employer>,
    pub posts: i64,
    pub placed: i64,
}

fn text(raw: &str, zh: &str, en: &str, max: usize) -> AppResult<String> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err(AppError::invalid(
            format!("请填写{zh}"),
            format!("Give {en}"),
        ));
    }
    if t.chars().count() > max {
        return Err(AppError::invalid(
            format!("{zh}过长(最多{max}字)"),
            format!("{en} is too long ({max} characters at most)"),
        ));
    }
    Ok(t)
}

fn count(n: i64, zh: &str, en: &str) -> AppResult<i64> {
    if n < 0 {
        return Err(AppError::invalid(
            format!("{zh}不能为负数"),
            format!("{en} cannot be negative"),
        ));
    }
    if n > MAX_POSTS {
        return Err(AppError::invalid(
            format!("{zh}{n}过大,请核对"),
            format!("{en} {n} is too large; please check it"),
        ));
    }
    Ok(n)
}

/// Checks a fair as typed against `today` (a fair is recorded once held).
pub fn check(input: &JobFairInput, today: chrono::NaiveDate) -> AppResult<CheckedFair> {
    let held_on = time::parse_date(input.held_on.trim()).ok_or_else(|| {
        AppError::invalid(
            "招聘会日期无效,请按 2026-03-01 格式填写",
            "The fair's date is not valid; use 2026-03-01",
        )
    })?;
    if held_on > today {
        return Err(AppError::invalid(
            "招聘会日期不能晚于今天,请在招聘会举办后登记",
            "The fair's date is in the future; record a fair once it has been held",
        ));
    }
    if held_on.year() < 2000 {
        return Err(AppError::invalid(
            "招聘会日期过早,请核对",
            "The fair's date is too early; please check it",
        ));
    }
    let name = text(&input.name, "招聘会名称", "the fair's name", 100)?;
    let place = text(&input.place, "举办地点", "the place", 200)?;
    let kind = FAIR_KINDS
        .iter()
        .find(|k| k.0 == input.kind.trim() || k.1 == input.kind.trim())
        .map(|k| k.0)
        .ok_or_else(|| {
            AppError::invalid(
                "请选择招聘会类型:春风行动、现场招聘会、线上招聘会或专场招聘会",
                "Choose the fair's kind: spring, onsite, online or special",
            )
        })?;
    if input.employers.len() > MAX_EMPLOYERS {
        return Err(AppError::invalid(
            format!("一场招聘会最多登记{MAX_EMPLOYERS}家用人单位"),
            format!("At most {MAX_EMPLOYERS} employers per fair"),
        ));
    }
    let mut employers = Vec::new();
    let mut keys = HashSet::new();
    for (i, e) in input.employers.iter().enumerate() {
        let n = i + 1;
        let at = |m: AppError| {
            let u = m.user_message();
            AppError::invalid(
                format!("第{n}家用人单位:{}", u.zh),
                format!("Employer {n}: {}", u.en),
            )
        };
        let name = text(&e.name, "单位名称", "the employer's name", 100).map_err(at)?;
        let credit_code = match e.credit_code.trim() {
            "" => String::new(),
            c => ident::credit_code::CreditCode::parse(c)
                .map_err(|err| at(AppError::invalid(err.zh, err.en)))?
                .as_str()
                .to_string(),
        };
        let posts = count(e.posts, "提供岗位数", "The posts offered").map_err(at)?;
        let placed = match e.placed {
            None => None,
            Some(p) => Some(count(p, "就业人数", "The people placed").map_err(at)?),
        };
        if placed.is_some_and(|p| p > posts) {
            return Err(at(AppError::invalid(
                "就业人数不能超过该单位提供的岗位数",
                "People placed cannot exceed the posts this employer offered",
            )));
        }
        let key = if credit_code.is_empty() {
            format!("name:{}", ident::squash(&name).to_lowercase())
        } else {
            format!("code:{credit_code}")
        };
        if !keys.insert(key.clone()) {
            return Err(at(AppError::invalid(
                "该单位在本场招聘会已登记",
                "This employer is already listed for the fair",
            )));
        }
        employers.push(Employer {
            name,
            credit_code,
            key,
            posts,
            placed,
        });
    }
    let posts: i64 = employers.iter().map(|e| e.posts).sum();
    let placed = count(input.placed, "就业人数", "The people placed")?;
    let by_employers: i64 = employers.iter().filter_map(|e| e.placed).sum();
    if placed < by_employers {
        return Err(AppError::invalid(
            format!("招聘会就业人数{placed}少于各用人单位就业人数之和{by_employers}"),
            format!(
                "The fair's placements ({placed}) are fewer than its employers' ({by_employers})"
            ),
        ));
    }
    if placed > posts {
        return Err(AppError::invalid(
            format!("就业人数{placed}超过招聘会提供的岗位数{posts},请核对或补充用人单位"),
            format!("{placed} people placed is more than the {posts} posts offered; check it or add the employers"),
        ));
    }
    Ok(CheckedFair {
        held_on,
        name,
        place,
        kind,
        employers,
        posts,
        placed,
    })
}

/// Records a fair with its employers, whole or not at all.
pub async fn create(db: &Db, scope: &Scope, input: &JobFairInput) -> AppResult<FairId> {
    scope.require_write()?;
    let org = tree::node(db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    let f = check(input, time::today())?;
    let mut campaign_id = None;
    if let Some(cid) = input.campaign_id {
        let c = grants::campaign(db, scope, grants::CampaignId(cid)).await?;
        if !(org.path.starts_with(&c.org_path) || c.org_path.starts_with(&org.path)) {
            return Err(AppError::invalid(
                "举办工会不在该活动的范围内",
                "The organising union is outside the campaign",
            ));
        }
        if model::kind(&c.kind)? != "jobs" {
            return Err(AppError::invalid(
                "只能关联春送岗位活动",
                "A fair belongs to a spring job-help (春送岗位) campaign only",
            ));
        }
        campaign_id = Some(c.id.0);
    }
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(db.pool())
        .await?;
    let mut tx = db.begin_write().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hardship_fairs (region_root, org_id, held_on, name, place, kind, campaign_id, posts, placed, \
         created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(f.held_on.to_string())
    .bind(&f.name)
    .bind(&f.place)
    .bind(f.kind)
    .bind(campaign_id)
    .bind(f.posts)
    .bind(f.placed)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .fetch_one(&mut *tx.tx)
    .await?;
    for e in &f.employers {
        sqlx::query(
            "INSERT INTO hardship_fair_employers (region_root, fair_id, name, credit_code, employer_key, posts, placed) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(region_root)
        .bind(id)
        .bind(&e.name)
        .bind(&e.credit_code)
        .bind(&e.key)
        .bind(e.posts)
        .bind(e.placed)
        .execute(&mut *tx.tx)
        .await?;
    }
    platform::dataver::touch(&mut tx.tx, [org.id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.fair_create", "hardship_fair", id)
            .org(org.id)
            .detail(serde_json::json!({
                "name": f.name, "on": f.held_on.to_string(), "employers": f.employers.len(),
                "posts": f.posts, "placed": f.placed,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(FairId(id))
}

/// A fair as lists show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JobFairRow {
    #[schema(value_type = i64)]
    pub id: FairId,
    pub org_id: i64,
    pub org_name: String,
    pub held_on: String,
    pub name: String,
    pub place: String,
    pub kind: String,
    pub campaign_id: Option<i64>,
    pub employers: i64,
    pub posts: i64,
    pub placed: i64,
    #[serde(skip)]
    pub org_path: String,
}

/// An employer of a fair.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JobFairEmployer {
    pub name: String,
    pub credit_code: String,
    pub posts: i64,
    pub placed: Option<i64>,
}

const SELECT: &str = "SELECT j.id, j.org_id, o.name AS org_name, o.path AS org_path, j.held_on, j.name, \
     j.place, j.kind, j.campaign_id, j.posts, j.placed, \
     (SELECT CAST(COUNT(*) AS BIGINT) FROM hardship_fair_employers e WHERE e.fair_id = j.id) AS employers \
     FROM hardship_fairs j JOIN orgs o ON o.id = j.org_id";

fn row_from(r: &sqlx::any::AnyRow) -> AppResult<JobFairRow> {
    Ok(JobFairRow {
        id: FairId(r.try_get("id")?),
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        held_on: r.try_get("held_on")?,
        name: r.try_get("name")?,
        place: r.try_get("place")?,
        kind: r.try_get("kind")?,
        campaign_id: r.try_get("campaign_id")?,
        employers: r.try_get("employers")?,
        posts: r.try_get("posts")?,
        placed: r.try_get("placed")?,
    })
}

/// Filters of the fair list.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct JobFairFilter {
    pub from: String,
    pub to: String,
    /// spring | onsite | online | special
    pub kind: String,
    /// Only this union's subtree (inside the caller's): its id.
    pub org_id: String,
}

/// The fairs of the caller's subtree, newest first.
pub async fn list(db: &Db, scope: &Scope, f: &JobFairFilter) -> AppResult<Vec<JobFairRow>> {
    let like = match crate::visits::opt_id(&f.org_id)? {
        Some(o) => format!("{}%", tree::node(db, scope, OrgId(o)).await?.path),
        None => scope.like(),
    };
    let mut sql = format!("{SELECT} WHERE o.path LIKE $1");
    let mut binds = vec![like];
    for (raw, cond, zh, en) in [
        (&f.from, "j.held_on >=", "开始日期", "The start date"),
        (&f.to, "j.held_on <=", "结束日期", "The end date"),
    ] {
        if raw.trim().is_empty() {
            continue;
        }
        let d = time::parse_date(raw.trim()).ok_or_else(|| {
            AppError::invalid(
                format!("{zh}无效,请按 2026-03-01 格式填写"),
                format!("{en} is not a valid date; use 2026-03-01"),
            )
        })?;
        binds.push(d.to_string());
        sql.push_str(&format!(" AND {cond} ${}", binds.len()));
    }
    if !f.kind.trim().is_empty() {
        let k = FAIR_KINDS
            .iter()
            .find(|k| k.0 == f.kind.trim() || k.1 == f.kind.trim())
            .ok_or_else(|| AppError::invalid("招聘会类型无效", "Unknown fair kind"))?;
        binds.push(k.0.to_string());
        sql.push_str(&format!(" AND j.kind = ${}", binds.len()));
    }
    sql.push_str(" ORDER BY j.held_on DESC, j.id DESC LIMIT 5000");
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.pool()).await?;
    rows.iter().map(row_from).collect()
}

/// One fair with its employers (404 + audit outside the subtree).
pub async fn get(
    db: &Db,
    scope: &Scope,
    id: FairId,
) -> AppResult<(JobFairRow, Vec<JobFairEmployer>)> {
    let row = sqlx::query(&format!("{SELECT} WHERE j.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let fair = row_from(&row)?;
    scope.admit(db, &fair.org_path, "hardship_fair", id).await?;
    let rows = sqlx::query(
        "SELECT name, credit_code, posts, placed FROM hardship_fair_employers WHERE fair_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?;
    let employers = rows
        .iter()
        .map(|r| {
            Ok(JobFairEmployer {
                name: r.try_get("name")?,
                credit_code: r.try_get("credit_code")?,
                posts: r.try_get("posts")?,
                placed: r.try_get("placed")?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((fair, employers))
}

/// The fairs as an xlsx workbook, one sheet of fairs (no personal data).
pub fn workbook(rows: &[JobFairRow], en: bool) -> AppResult<Vec<u8>> {
    let h = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
    let sheet = sheet::SheetOut {
        name: h("招聘会", "Job fairs"),
        headers: vec![
            h("编号", "No."),
            h("日期", "Date"),
            h("名称", "Name"),
            h("类型", "Kind"),
            h("举办工会", "Organiser"),
            h("地点", "Place"),
            h("参会单位", "Employers"),
            h("提供岗位", "Posts offered"),
            h("就业人数", "People placed"),
        ],
        rows: rows
            .iter()
            .map(|f| {
                let k = kind_label(&f.kind);
                vec![
                    sheet::CellOut::from(f.id.0),
                    f.held_on.clone().into(),
                    f.name.clone().into(),
                    if en { k.en } else { k.zh }.into(),
                    f.org_name.clone().into(),
                    f.place.clone().into(),
                    f.employers.into(),
                    f.posts.into(),
                    f.placed.into(),
                ]
            })
            .collect(),
        col_widths: None,
    };
    sheet::write_xlsx(&[sheet]).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

/// Parses the page form's employer lines: 单位名称,统一社会信用代码,岗位数[,就业人数]
/// (commas or tabs; the code may be empty).
pub fn employers_from_lines(text: &str) -> AppResult<Vec<JobFairEmployerInput>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split([',', ',', '\t']).map(str::trim).collect();
        let num = |s: Option<&&str>, zh: &str, en: &str| -> AppResult<Option<i64>> {
            match s.map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
                    AppError::invalid(
                        format!("第{}行:{zh}“{s}”不是整数", i + 1),
                        format!("Line {}: {en} “{s}” is not a whole number", i + 1),
                    )
                }),
            }
        };
        out.push(JobFairEmployerInput {
            name: parts.first().copied().unwrap_or_default().to_string(),
            credit_code: parts.get(1).copied().unwrap_or_default().to_string(),
            posts: num(parts.get(2), "岗位数", "the posts")?.unwrap_or(0),
            placed: num(parts.get(3), "就业人数", "the people placed")?,
        });
    }
    Ok(out)
}

// ───────────────────────────── figures ─────────────────────────────

const FAIR_LABELS: &[(&str, &str, &str)] = FAIR_KINDS;

/// Fairs, one row each. Every writer bumps the org's data version.
pub static FAIRS: RecordSource = RecordSource {
    key: "hardship_fairs",
    from: "hardship_fairs j JOIN orgs o ON o.id = j.org_id",
    scan: None,
    org_column: "j.org_id",
    window: Some("j.held_on"),
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "hardship_fairs",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "举办工会", "Organiser", Show::Text),
        DrillColumn::new("held_on", "j.held_on", "日期", "Date", Show::Text),
        DrillColumn::new("name", "j.name", "招聘会", "Fair", Show::Text),
        DrillColumn::new("kind", "j.kind", "类型", "Kind", Show::Label(FAIR_LABELS)),
        DrillColumn::new("place", "j.place", "地点", "Place", Show::Text),
        DrillColumn::new("posts", "j.posts", "提供岗位", "Posts", Show::Number),
        DrillColumn::new("placed", "j.placed", "就业人数", "Placed", Show::Number),
    ],
    drill_order: "o.code, j.held_on, j.id",
    drill_group: None,
};

/// Employers attending: each once per organising union (by credit code,
/// or by name when none was given), however many fairs.
pub static FAIR_EMPLOYERS: RecordSource = RecordSource {
    key: "hardship_fair_employers",
    from: "hardship_fair_employers e JOIN hardship_fairs j ON j.id = e.fair_id JOIN orgs o ON o.id = j.org_id",
    scan: None,
    org_column: "j.org_id",
    window: Some("j.held_on"),
    cached: true,
    measure: Measure::Distinct("e.employer_key"),
    aggregation: Aggregation::Distinct,
    subject: "hardship_fair_employers",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "举办工会", "Organiser", Show::Text),
        DrillColumn::new("name", "MIN(e.name)", "用人单位", "Employer", Show::Text),
        DrillColumn::new("credit_code", "MIN(e.credit_code)", "统一社会信用代码", "Credit code", Show::Text),
        DrillColumn::new("fairs", "COUNT(*)", "参会场次", "Fairs", Show::Number),
        DrillColumn::new("posts", "SUM(e.posts)", "提供岗位", "Posts", Show::Number),
    ],
    drill_order: "o.code, MIN(e.name)",
    drill_group: Some("o.id, e.employer_key"),
};

const HELD: &str = "j.held_on >= {start} AND j.held_on <= {end}";

pub fn indicators() -> Vec<Indicator> {
    use crate::indicators::ASSISTANCE;
    use numfmt::Unit;
    vec![
        Indicator::records(
            "hardship_job_fairs",
            "举办招聘会",
            "Job fairs held",
            Unit::Session,
            Kind::Flow,
            ASSISTANCE,
            &FAIRS,
            HELD,
        )
        .about(
            "统计期内各级工会举办的招聘会场次(春送岗位、春风行动、线上招聘等)",
            "Job fairs held by unions in the period",
        ),
        Indicator::records(
            "hardship_job_employers",
            "参会用人单位",
            "Employers at job fairs",
            Unit::Enterprise,
            Kind::Flow,
            ASSISTANCE,
            &FAIR_EMPLOYERS,
            HELD,
        )
        .about(
            "统计期内参加招聘会的用人单位(同一工会举办的多场招聘会中同一单位计一家)",
            "Employers attending the fairs in the period (once per organising union)",
        ),
        Indicator::records(
            "hardship_job_posts",
            "提供就业岗位",
            "Posts offered at job fairs",
            Unit::Ge,
            Kind::Flow,
            ASSISTANCE,
            &FAIRS,
            HELD,
        )
        .measure(Measure::Sum("j.posts"), Aggregation::SumOfValues)
        .about(
            "统计期内招聘会上用人单位提供的岗位数",
            "Posts the employers offered at the fairs in the period",
        ),
        Indicator::records(
            "hardship_job_placed",
            "帮助实现就业",
            "People placed in work",
            Unit::Person,
            Kind::Flow,
            ASSISTANCE,
            &FAIRS,
            HELD,
        )
        .measure(Measure::Sum("j.placed"), Aggregation::SumOfValues)
        .about(
            "统计期内通过工会招聘会实现就业的人数",
            "People who found work through the unions' fairs in the period",
        ),
    ]
}

pub fn summary() -> Vec<Paragraph> {
    vec![Paragraph {
        key: "hardship.jobs",
        section: "assistance",
        indicators: &["hardship_job_fairs", "hardship_job_placed"],
        zh: "开展“春送岗位”活动,举办招聘会{hardship_job_fairs}[,组织{hardship_job_employers}用人单位提供岗位{hardship_job_posts:wan}],帮助{hardship_job_placed:wan}实现就业。",
        en: "Unions held {hardship_job_fairs} job fairs[ where {hardship_job_employers} employers offered {hardship_job_posts:wan} posts], helping {hardship_job_placed:wan} people into work.",
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()
    }

    fn fair() -> JobFairInput {
        JobFairInput {
            held_on: "2026-03-01".into(),
            name: "春风行动专场招聘会".into(),
            place: "示范市人力资源市场".into(),
            kind: "春风行动".into(),
            employers: vec![
                JobFairEmployerInput {
                    name: "示范市建工集团".into(),
                    credit_code: "91350100M000100Y43".into(),
                    posts: 80,
                    placed: Some(12),
                },
                JobFairEmployerInput {
                    name: "示范市家政服务中心".into(),
                    credit_code: String::new(),
                    posts: 40,
                    placed: None,
                },
            ],
            placed: 30,
            ..Default::default()
        }
    }

    fn err(f: &JobFairInput) -> String {
        check(f, today()).unwrap_err().user_message().zh
    }

    #[test]
    fn a_fair_adds_up() {
        let c = check(&fair(), today()).unwrap();
        assert_eq!((c.posts, c.placed, c.kind), (120, 30, "spring"));
        let mut f = fair();
        f.placed = 121;
        assert!(err(&f).contains("超过招聘会提供的岗位数"));
        f.placed = 10;
        assert!(err(&f).contains("少于各用人单位"));
        f.placed = -1;
        assert!(err(&f).contains("不能为负数"));
        let mut f = fair();
        f.employers[0].credit_code = "91350100M000100Y4A".into();
        let e = err(&f);
        assert!(e.contains("第1家用人单位") && e.contains("校验位"), "{e}");
        let mut f = fair();
        f.employers[1].posts = -5;
        assert!(err(&f).contains("第2家用人单位"));
        let mut f = fair();
        f.employers[0].placed = Some(81);
        assert!(err(&f).contains("不能超过该单位提供的岗位数"));
        let mut f = fair();
        f.held_on = "2026-04-02".into();
        assert!(err(&f).contains("不能晚于今天"));
        let mut f = fair();
        f.employers[1].name = "示范市建工集团".into();
        f.employers[1].credit_code = "91350100M000100Y43".into();
        assert!(err(&f).contains("已登记"));
    }

    #[test]
    fn employer_lines_parse() {
        let e = employers_from_lines("甲公司,91350100M000100Y43,50,5\n\n乙公司,,20\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].posts, e[0].placed), (50, Some(5)));
        assert_eq!((e[1].credit_code.as_str(), e[1].placed), ("", None));
        assert!(employers_from_lines("丙,,很多").is_err());
    }
}
