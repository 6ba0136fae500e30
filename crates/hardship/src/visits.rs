//! 走访慰问: visits as records of their own. A union (the visiting org)
//! visits, on a date, perhaps within a campaign (送温暖, 夏送清凉 …), exactly
//! one target — a household (a hardship file of the caller's subtree, with
//! the persons met), a person (a person reference: a 困难职工 or 劳模 without
//! a file) or a worksite (建筑工地, 企业, 事业单位 …, with the workers greeted)
//! — bringing money (fen) and goods (a description and their value).
//!
//! What the figures count, from these records (per visiting union, then
//! summed over the subtree as every figure is):
//! - 走访慰问困难家庭X户: distinct households visited in the period — a
//!   household visited three times by one union counts once for it;
//! - 慰问困难职工Y人次: every person-visit — a household visit counts the
//!   persons met (at least 1: the household itself), a person visit 1, a
//!   worksite visit 0 (its workers are counted apart);
//! - 走访企事业单位和建筑工地N个: distinct worksites visited (one worksite per
//!   union and name, spaces and case ignored);
//! - 慰问职工M人次: the workers greeted at worksites, summed.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{grants, model};
use platform::{
    audit::{self, Event},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    i18n::Msg,
    ids::OrgId,
    indicator::{Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Show},
    money::Fen,
    person::{self, PersonInput},
    scope::Scope,
    summary::Paragraph,
    time, tree,
    web::AppState,
};

platform::id_type!(VisitId);

/// Visit targets: (key, 中文, English).
pub const TARGETS: &[(&str, &str, &str)] = &[
    ("household", "困难家庭", "Household"),
    ("person", "职工个人", "Person"),
    ("worksite", "企事业单位/工地", "Worksite"),
];

/// Worksite kinds: (key, 中文, English).
pub const WORKSITE_KINDS: &[(&str, &str, &str)] = &[
    ("site", "建筑工地", "Construction site"),
    ("enterprise", "企业", "Enterprise"),
    ("institution", "事业单位", "Public institution"),
    ("other", "其他", "Other"),
];

/// The most workers one worksite visit may record as greeted.
pub const MAX_WORKERS: i64 = 20_000;
/// The most money or goods value one visit may record: 100万元.
pub const MAX_FEN: i64 = 100_000_000;
/// The most persons met one household visit may list.
pub const MAX_MET: usize = 20;

pub fn label(list: &[(&str, &'static str, &'static str)], key: &str) -> Msg {
    list.iter()
        .find(|k| k.0 == key)
        .map_or_else(|| Msg::new("—", "—"), |k| Msg::new(k.1, k.2))
}

fn pick(
    list: &'static [(&'static str, &'static str, &'static str)],
    s: &str,
) -> Option<&'static str> {
    let s = s.trim();
    list.iter().find(|k| k.0 == s || k.1 == s).map(|k| k.0)
}

// ───────────────────────────── input ─────────────────────────────

/// A worksite as typed.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct VisitWorksiteInput {
    pub name: String,
    /// site | enterprise | institution | other (or 建筑工地 …).
    pub kind: String,
    pub address: String,
}

/// A visit to record: exactly one of `file_id`, `person`, `worksite`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct VisitInput {
    /// The visiting union; the caller's own org when absent.
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The date of the visit (not in the future).
    #[serde(default)]
    pub visited_on: String,
    /// Who visited (names, titles).
    #[serde(default)]
    pub visitors: String,
    /// The campaign the visit belongs to, if any.
    #[serde(default)]
    pub campaign_id: Option<i64>,
    /// warmth | summer | … (a campaign kind) or empty; the campaign's kind
    /// when a campaign is given.
    #[serde(default)]
    pub occasion: String,
    /// A household: its hardship file.
    #[serde(default)]
    pub file_id: Option<i64>,
    /// The persons met in the household (names); the household counts at
    /// least one person-visit.
    #[serde(default)]
    pub persons_met: Vec<String>,
    /// A person without a file.
    #[serde(default)]
    pub person: Option<PersonInput>,
    /// A worksite.
    #[serde(default)]
    pub worksite: Option<VisitWorksiteInput>,
    /// Workers greeted at the worksite (1 to 20000).
    #[serde(default)]
    pub workers: i64,
    /// Money given, fen.
    #[serde(default)]
    pub money_fen: i64,
    /// Goods given (描述).
    #[serde(default)]
    pub goods: String,
    /// The goods' value, fen.
    #[serde(default)]
    pub goods_fen: i64,
    #[serde(default)]
    pub note: String,
}

/// The target, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Household {
        file_id: i64,
        met: Vec<String>,
    },
    Person,
    Worksite {
        name: String,
        kind: &'static str,
        address: String,
        workers: i64,
    },
}

/// A checked visit (everything but what needs the database).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub visited_on: chrono::NaiveDate,
    pub visitors: String,
    pub occasion: &'static str,
    pub target: Target,
    pub money_fen: i64,
    pub goods: String,
    pub goods_fen: i64,
    pub note: String,
}

impl Checked {
    pub fn target_key(&self) -> &'static str {
        match self.target {
            Target::Household { .. } => "household",
            Target::Person => "person",
            Target::Worksite { .. } => "worksite",
        }
    }
    /// What the visit adds to 慰问困难职工人次.
    pub fn people(&self) -> i64 {
        match &self.target {
            Target::Household { met, .. } => met.len().max(1) as i64,
            Target::Person => 1,
            Target::Worksite { .. } => 0,
        }
    }
}

fn text(raw: &str, zh: &str, en: &str, max: usize) -> AppResult<String> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > max {
        return Err(AppError::invalid(
            format!("{zh}过长(最多{max}字)"),
            format!("{en} is too long ({max} characters at most)"),
        ));
    }
    Ok(t)
}

fn amount(fen: i64, zh: &str, en: &str) -> AppResult<i64> {
    if fen < 0 {
        return Err(AppError::invalid(
            format!("{zh}不能为负数"),
            format!("{en} cannot be negative"),
        ));
    }
    if fen > MAX_FEN {
        return Err(AppError::invalid(
            format!("{zh}超过100万元,请核对"),
            format!("{en} is above 1,000,000 yuan; please check it"),
        ));
    }
    Ok(fen)
}

/// Checks a visit as typed against `today`: one target, a date not in the
/// future, amounts not negative, workers greeted 1–20000 at a worksite only.
pub fn check(input: &VisitInput, today: chrono::NaiveDate) -> AppResult<Checked> {
    let has_person = input
        .person
        .as_ref()
        .is_some_and(|p| !p.name.trim().is_empty() || !p.id_number.trim().is_empty());
    let has_site = input
        .worksite
        .as_ref()
        .is_some_and(|w| !w.name.trim().is_empty());
    let targets =
        usize::from(input.file_id.is_some()) + usize::from(has_person) + usize::from(has_site);
    if targets == 0 {
        return Err(AppError::invalid(
            "请选择走访对象:困难家庭、职工个人或企事业单位/建筑工地(三者选一)",
            "Choose whom the visit was to: a household, a person or a worksite (one of the three)",
        ));
    }
    if targets > 1 {
        return Err(AppError::invalid(
            "一次走访只能登记一个对象:困难家庭、职工个人或企事业单位/建筑工地,请分别登记",
            "A visit has one target: a household, a person or a worksite; record each separately",
        ));
    }
    let visited_on = time::parse_date(input.visited_on.trim()).ok_or_else(|| {
        AppError::invalid(
            "走访日期无效,请按 2026-03-01 格式填写",
            "The date of the visit is not valid; use 2026-03-01",
        )
    })?;
    if visited_on > today {
        return Err(AppError::invalid(
            "走访日期不能晚于今天,请登记已经完成的走访",
            "The date of the visit is in the future; record visits that took place",
        ));
    }
    if visited_on.year() < 2000 {
        return Err(AppError::invalid(
            "走访日期过早,请核对",
            "The date of the visit is too early; please check it",
        ));
    }
    let visitors = text(&input.visitors, "走访人员", "The visitors", 200)?;
    if visitors.is_empty() {
        return Err(AppError::invalid(
            "请填写走访人员",
            "Give who made the visit",
        ));
    }
    let occasion = match input.occasion.trim() {
        "" => "",
        s => model::kind(s)?,
    };
    let money_fen = amount(input.money_fen, "慰问金额", "The money given")?;
    let goods_fen = amount(input.goods_fen, "慰问物资价值", "The goods' value")?;
    let goods = text(&input.goods, "慰问物资", "The goods", 200)?;
    if goods_fen > 0 && goods.is_empty() {
        return Err(AppError::invalid(
            "填写了物资价值,请同时说明慰问物资",
            "Describe the goods whose value is given",
        ));
    }
    let note = text(&input.note, "备注", "The note", 500)?;
    let target = if let Some(file_id) = input.file_id {
        let mut met = Vec::new();
        for n in &input.persons_met {
            let n = text(n, "见到的家庭成员姓名", "A name of a person met", 50)?;
            // Names are kept as one list with these separators.
            if n.contains([',', ',', '、', ';', ';']) {
                return Err(AppError::invalid(
                    "每个见到的家庭成员姓名请分开填写,姓名中不能含逗号、顿号或分号",
                    "Give each person met separately: a name cannot contain commas or semicolons",
                ));
            }
            if !n.is_empty() && !met.contains(&n) {
                met.push(n);
            }
        }
        if met.len() > MAX_MET {
            return Err(AppError::invalid(
                format!("一户最多登记{MAX_MET}名见到的家庭成员"),
                format!("At most {MAX_MET} persons met per household"),
            ));
        }
        Target::Household { file_id, met }
    } else if has_person {
        Target::Person
    } else {
        let w = input.worksite.clone().unwrap_or_default();
        let name = text(&w.name, "单位或工地名称", "The worksite's name", 100)?;
        let kind = pick(WORKSITE_KINDS, &w.kind).ok_or_else(|| {
            AppError::invalid(
                "请选择单位类型:建筑工地、企业、事业单位或其他",
                "Choose the worksite's kind: construction site, enterprise, public institution or other",
            )
        })?;
        let address = text(&w.address, "地址", "The address", 200)?;
        Target::Worksite {
            name,
            kind,
            address,
            workers: input.workers,
        }
    };
    match &target {
        Target::Worksite { workers, .. } if *workers < 1 => {
            return Err(AppError::invalid(
                "请填写慰问职工人数(至少1人)",
                "Give the number of workers greeted (at least 1)",
            ))
        }
        Target::Worksite { workers, .. } if *workers > MAX_WORKERS => {
            return Err(AppError::invalid(
                format!("慰问职工人数{workers}过大(一次走访最多{MAX_WORKERS}人),请核对"),
                format!("{workers} workers greeted is too many for one visit (at most {MAX_WORKERS}); please check"),
            ))
        }
        Target::Worksite { .. } => {}
        _ if input.workers != 0 => {
            return Err(AppError::invalid(
                "慰问职工人数只用于企事业单位和建筑工地走访",
                "Workers greeted are recorded for worksite visits only",
            ))
        }
        _ => {}
    }
    Ok(Checked {
        visited_on,
        visitors,
        occasion,
        target,
        money_fen,
        goods,
        goods_fen,
        note,
    })
}

// ───────────────────────────── writing ─────────────────────────────

/// Records a visit. Everything is checked before anything is written; a
/// household outside the caller's subtree is "not found" (audited), as is
/// a campaign the caller does not work in.
pub async fn create(st: &AppState, scope: &Scope, input: &VisitInput) -> AppResult<VisitId> {
    scope.require_write()?;
    let db = &st.db;
    let org = tree::node(db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    let mut v = check(input, time::today())?;
    let mut campaign_id = None;
    if let Some(cid) = input.campaign_id {
        let c = grants::campaign(db, scope, grants::CampaignId(cid)).await?;
        if !(org.path.starts_with(&c.org_path) || c.org_path.starts_with(&org.path)) {
            return Err(AppError::invalid(
                "走访工会不在该活动的范围内",
                "The visiting union is outside the campaign",
            ));
        }
        let kind = model::kind(&c.kind)?;
        if !v.occasion.is_empty() && v.occasion != kind {
            return Err(AppError::invalid(
                "走访类型与所选活动的类型不一致",
                "The visit's occasion differs from the campaign's kind",
            ));
        }
        v.occasion = kind;
        campaign_id = Some(c.id.0);
    }
    if let Target::Household { file_id, .. } = &v.target {
        let row = sqlx::query(
            "SELECT o.path, f.status FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
             WHERE f.id = $1 AND f.purged_on IS NULL",
        )
        .bind(*file_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
        let path: String = row.try_get("path")?;
        scope.admit(db, &path, "hardship_file", *file_id).await?;
        if !path.starts_with(&org.path) {
            return Err(AppError::invalid(
                "该困难家庭不在走访工会的范围内,请选择走访工会或其下级工会建档的家庭",
                "This household is not filed within the visiting union; choose one of its subtree",
            ));
        }
        // A household in hardship is one on file (open) or on public
        // notice; the form offers only those, and the API takes no other.
        match row.try_get::<String, _>("status")?.as_str() {
            "open" | "notice" => {}
            "closed" => {
                return Err(AppError::invalid(
                    "该家庭已解困脱困(档案已关闭),不能再登记为困难家庭走访;如仍需慰问,请按个人登记",
                    "This household has left hardship (its file is closed): record the visit as one to a person",
                ))
            }
            _ => {
                return Err(AppError::invalid(
                    "该档案尚未通过困难职工认定,不能登记为困难家庭走访",
                    "This file is not (yet) accepted as a household in hardship",
                ))
            }
        }
    }
    // The person reference (its own transaction, as every module's): the
    // visit's checks are done, so only the database can fail after it.
    let person_ref = match (&v.target, &input.person) {
        (Target::Person, Some(p)) => Some(person::refer(st, scope, org.id, p).await?.id.0),
        _ => None,
    };
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(db.pool())
        .await?;
    let now = time::now_rfc3339();
    let mut tx = db.begin_write().await?;
    let (file_id, met, worksite_id, workers) = match &v.target {
        Target::Household { file_id, met } => (Some(*file_id), met.join(","), None, 0),
        Target::Person => (None, String::new(), None, 0),
        Target::Worksite {
            name,
            kind,
            address,
            workers,
        } => {
            let key = ident::squash(name).to_lowercase();
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM hardship_worksites WHERE org_id = $1 AND name_key = $2",
            )
            .bind(org.id.0)
            .bind(&key)
            .fetch_optional(&mut *tx.tx)
            .await?;
            let id = match found {
                Some(id) => id,
                None => sqlx::query_scalar::<_, i64>(
                    "INSERT INTO hardship_worksites (region_root, org_id, name, name_key, kind, address, created_at) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
                )
                .bind(region_root)
                .bind(org.id.0)
                .bind(name)
                .bind(&key)
                .bind(*kind)
                .bind(address)
                .bind(&now)
                .fetch_one(&mut *tx.tx)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        AppError::conflict(
                            "同一单位正被同时登记,请重试",
                            "The same worksite is being recorded at once; try again",
                        )
                    } else {
                        e.into()
                    }
                })?,
            };
            (None, String::new(), Some(id), *workers)
        }
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hardship_visits (region_root, org_id, visited_on, visitors, campaign_id, occasion, target, \
         file_id, person_ref_id, worksite_id, persons_met, people, workers, money_fen, goods, goods_fen, note, \
         created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) RETURNING id",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(v.visited_on.to_string())
    .bind(&v.visitors)
    .bind(campaign_id)
    .bind(v.occasion)
    .bind(v.target_key())
    .bind(file_id)
    .bind(person_ref)
    .bind(worksite_id)
    .bind(&met)
    .bind(v.people())
    .bind(workers)
    .bind(v.money_fen)
    .bind(&v.goods)
    .bind(v.goods_fen)
    .bind(&v.note)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await?;
    platform::dataver::touch(&mut tx.tx, [org.id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.visit_create", "hardship_visit", id)
            .org(org.id)
            .detail(serde_json::json!({
                "target": v.target_key(), "file": file_id, "person_ref": person_ref,
                "worksite": worksite_id, "people": v.people(), "workers": workers,
                "money_fen": v.money_fen, "goods_fen": v.goods_fen, "on": v.visited_on.to_string(),
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(VisitId(id))
}

// ───────────────────────────── reading ─────────────────────────────

/// A visit as lists show it: names with masked ID numbers.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VisitRow {
    #[schema(value_type = i64)]
    pub id: VisitId,
    pub org_id: i64,
    pub org_name: String,
    pub visited_on: String,
    pub visitors: String,
    pub campaign_id: Option<i64>,
    pub campaign_name: Option<String>,
    pub occasion: String,
    /// household | person | worksite
    pub target: String,
    pub file_id: Option<i64>,
    pub worksite_id: Option<i64>,
    /// The head of the household, the person, or the worksite.
    pub target_name: String,
    /// Masked (first 6 and last 4 kept); empty for a worksite.
    pub id_masked: String,
    pub worksite_kind: String,
    pub worksite_address: String,
    pub persons_met: Vec<String>,
    /// Person-visits it counts (慰问困难职工人次).
    pub people: i64,
    /// Workers greeted at a worksite (慰问职工人次).
    pub workers: i64,
    pub money_fen: i64,
    pub goods: String,
    pub goods_fen: i64,
    pub note: String,
    #[serde(skip)]
    pub org_path: String,
}

const SELECT: &str = "SELECT v.id, v.org_id, o.name AS org_name, o.path AS org_path, v.visited_on, v.visitors, \
     v.campaign_id, c.name AS campaign_name, v.occasion, v.target, v.file_id, v.worksite_id, \
     COALESCE(f.head_name, r.name, w.name, '') AS target_name, COALESCE(r.id_masked, '') AS id_masked, \
     COALESCE(w.kind, '') AS worksite_kind, COALESCE(w.address, '') AS worksite_address, v.persons_met, \
     v.people, v.workers, v.money_fen, v.goods, v.goods_fen, v.note \
     FROM hardship_visits v JOIN orgs o ON o.id = v.org_id \
     LEFT JOIN hardship_campaigns c ON c.id = v.campaign_id \
     LEFT JOIN hardship_files f ON f.id = v.file_id \
     LEFT JOIN person_refs r ON r.id = COALESCE(f.person_ref_id, v.person_ref_id) \
     LEFT JOIN hardship_worksites w ON w.id = v.worksite_id";

fn row_from(r: &sqlx::any::AnyRow) -> AppResult<VisitRow> {
    let met: String = r.try_get("persons_met")?;
    Ok(VisitRow {
        id: VisitId(r.try_get("id")?),
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        org_path: r.try_get("org_path")?,
        visited_on: r.try_get("visited_on")?,
        visitors: r.try_get("visitors")?,
        campaign_id: r.try_get("campaign_id")?,
        campaign_name: r.try_get("campaign_name")?,
        occasion: r.try_get("occasion")?,
        target: r.try_get("target")?,
        file_id: r.try_get("file_id")?,
        worksite_id: r.try_get("worksite_id")?,
        target_name: r.try_get("target_name")?,
        id_masked: r.try_get("id_masked")?,
        worksite_kind: r.try_get("worksite_kind")?,
        worksite_address: r.try_get("worksite_address")?,
        persons_met: met
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        people: r.try_get("people")?,
        workers: r.try_get("workers")?,
        money_fen: r.try_get("money_fen")?,
        goods: r.try_get("goods")?,
        goods_fen: r.try_get("goods_fen")?,
        note: r.try_get("note")?,
    })
}

/// Filters of the visit list.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct VisitFilter {
    /// From this date (inclusive), 2026-01-01.
    pub from: String,
    /// To this date (inclusive).
    pub to: String,
    /// household | person | worksite
    pub target: String,
    /// A campaign kind (warmth, summer …).
    pub occasion: String,
    /// A campaign's id.
    pub campaign_id: String,
    /// Only this union's subtree (inside the caller's): its id.
    pub org_id: String,
}

/// An optional id typed in a filter.
pub fn opt_id(raw: &str) -> AppResult<Option<i64>> {
    match raw.trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| {
            AppError::invalid(
                format!("编号“{s}”不是数字"),
                format!("The id “{s}” is not a number"),
            )
        }),
    }
}

fn filter_date(raw: &str, zh: &str, en: &str) -> AppResult<Option<String>> {
    match raw.trim() {
        "" => Ok(None),
        s => time::parse_date(s)
            .map(|d| Some(d.to_string()))
            .ok_or_else(|| {
                AppError::invalid(
                    format!("{zh}无效,请按 2026-03-01 格式填写"),
                    format!("{en} is not a valid date; use 2026-03-01"),
                )
            }),
    }
}

/// The visits of the caller's subtree (or of an org inside it), newest
/// first, at most `limit`; the view is audited.
pub async fn list(db: &Db, scope: &Scope, f: &VisitFilter, limit: i64) -> AppResult<Vec<VisitRow>> {
    let like = match opt_id(&f.org_id)? {
        Some(o) => format!("{}%", tree::node(db, scope, OrgId(o)).await?.path),
        None => scope.like(),
    };
    let mut sql = format!("{SELECT} WHERE o.path LIKE $1");
    let mut binds: Vec<String> = vec![like];
    let mut push = |sql: &mut String, cond: &str, v: String| {
        binds.push(v);
        sql.push_str(&format!(" AND {cond} ${}", binds.len()));
    };
    if let Some(d) = filter_date(&f.from, "开始日期", "The start date")? {
        push(&mut sql, "v.visited_on >=", d);
    }
    if let Some(d) = filter_date(&f.to, "结束日期", "The end date")? {
        push(&mut sql, "v.visited_on <=", d);
    }
    if !f.target.trim().is_empty() {
        let t = pick(TARGETS, &f.target).ok_or_else(|| {
            AppError::invalid(
                "走访对象类型无效",
                "Unknown target kind: use household, person or worksite",
            )
        })?;
        push(&mut sql, "v.target =", t.to_string());
    }
    if !f.occasion.trim().is_empty() {
        push(
            &mut sql,
            "v.occasion =",
            model::kind(&f.occasion)?.to_string(),
        );
    }
    if let Some(c) = opt_id(&f.campaign_id)? {
        // An integer: written into the statement.
        sql.push_str(&format!(" AND v.campaign_id = {c}"));
    }
    sql.push_str(&format!(
        " ORDER BY v.visited_on DESC, v.id DESC LIMIT {}",
        limit.clamp(1, 100_000)
    ));
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let out: Vec<VisitRow> = rows.iter().map(row_from).collect::<AppResult<_>>()?;
    audit::record(
        db,
        &scope.actor,
        Event::new("hardship.visit_list", "hardship_visit", "")
            .org(scope.org_id)
            .detail(serde_json::json!({"filter": f, "rows": out.len()})),
    )
    .await?;
    Ok(out)
}

/// One visit in the caller's subtree (404 + audit otherwise).
pub async fn get(db: &Db, scope: &Scope, id: VisitId) -> AppResult<VisitRow> {
    let row = sqlx::query(&format!("{SELECT} WHERE v.id = $1"))
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let v = row_from(&row)?;
    scope.admit(db, &v.org_path, "hardship_visit", id).await?;
    audit::record(
        db,
        &scope.actor,
        Event::new("hardship.visit_view", "hardship_visit", id).org(OrgId(v.org_id)),
    )
    .await?;
    Ok(v)
}

/// A household the form may pick: open (or on notice) files of the subtree.
#[derive(Clone, Debug, Serialize)]
pub struct HouseholdChoice {
    pub file_id: i64,
    pub head_name: String,
    pub id_masked: String,
    pub org_name: String,
}

pub async fn household_choices(db: &Db, scope: &Scope) -> AppResult<Vec<HouseholdChoice>> {
    let rows = sqlx::query(
        "SELECT f.id, f.head_name, r.id_masked, o.name FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         JOIN person_refs r ON r.id = f.person_ref_id \
         WHERE o.path LIKE $1 AND f.status IN ('open', 'notice') ORDER BY o.path, f.head_name, f.id LIMIT 1000",
    )
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HouseholdChoice {
                file_id: r.try_get(0)?,
                head_name: r.try_get(1)?,
                id_masked: r.try_get(2)?,
                org_name: r.try_get(3)?,
            })
        })
        .collect()
}

/// The visits as an xlsx workbook (masked; audited).
pub fn workbook(rows: &[VisitRow], en: bool) -> AppResult<Vec<u8>> {
    let h = |zh: &str, e: &str| if en { e.to_string() } else { zh.to_string() };
    let l = |m: Msg| if en { m.en } else { m.zh };
    let sheet = sheet::SheetOut {
        name: h("走访慰问", "Visits"),
        headers: vec![
            h("编号", "No."),
            h("走访日期", "Date"),
            h("走访工会", "Union"),
            h("走访人员", "Visitors"),
            h("活动", "Campaign"),
            h("走访类型", "Occasion"),
            h("走访对象", "Target"),
            h("名称/姓名", "Name"),
            h("证件号码", "ID number"),
            h("单位类型", "Worksite kind"),
            h("见到的家庭成员", "Persons met"),
            h("慰问困难职工人次", "Person-visits"),
            h("慰问职工人数", "Workers greeted"),
            h("慰问金(元)", "Money (yuan)"),
            h("慰问物资", "Goods"),
            h("物资价值(元)", "Goods value (yuan)"),
        ],
        rows: rows
            .iter()
            .map(|v| {
                vec![
                    sheet::CellOut::from(v.id.0),
                    v.visited_on.clone().into(),
                    v.org_name.clone().into(),
                    v.visitors.clone().into(),
                    v.campaign_name.clone().unwrap_or_default().into(),
                    if v.occasion.is_empty() {
                        h("日常走访", "Everyday").into()
                    } else {
                        l(model::kind_label(&v.occasion)).into()
                    },
                    l(label(TARGETS, &v.target)).into(),
                    v.target_name.clone().into(),
                    v.id_masked.clone().into(),
                    if v.worksite_kind.is_empty() {
                        String::new().into()
                    } else {
                        l(label(WORKSITE_KINDS, &v.worksite_kind)).into()
                    },
                    v.persons_met.join("、").into(),
                    v.people.into(),
                    v.workers.into(),
                    Fen::from_fen(v.money_fen).yuan_text().into(),
                    v.goods.clone().into(),
                    Fen::from_fen(v.goods_fen).yuan_text().into(),
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

// ───────────────────────────── figures ─────────────────────────────

const TARGET_LABELS: &[(&str, &str, &str)] = TARGETS;
const WORKSITE_LABELS: &[(&str, &str, &str)] = WORKSITE_KINDS;

/// Every visit, one row each. Every writer (recording a visit) bumps the
/// org's data version.
pub static VISITS: RecordSource = RecordSource {
    key: "hardship_visits",
    from: "hardship_visits v JOIN orgs o ON o.id = v.org_id \
           LEFT JOIN hardship_files f ON f.id = v.file_id \
           LEFT JOIN person_refs r ON r.id = COALESCE(f.person_ref_id, v.person_ref_id) \
           LEFT JOIN hardship_worksites w ON w.id = v.worksite_id",
    scan: None,
    org_column: "v.org_id",
    window: Some("v.visited_on"),
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "hardship_visits",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "走访工会", "Union", Show::Text),
        DrillColumn::new("visited_on", "v.visited_on", "走访日期", "Date", Show::Text),
        DrillColumn::new(
            "target",
            "v.target",
            "走访对象",
            "Target",
            Show::Label(TARGET_LABELS),
        ),
        DrillColumn::new(
            "name",
            "COALESCE(f.head_name, r.name, w.name, '')",
            "名称/姓名",
            "Name",
            Show::Text,
        ),
        DrillColumn::new(
            "id_masked",
            "COALESCE(r.id_masked, '')",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new(
            "people",
            "v.people",
            "慰问困难职工人次",
            "Person-visits",
            Show::Number,
        ),
        DrillColumn::new(
            "workers",
            "v.workers",
            "慰问职工人数",
            "Workers greeted",
            Show::Number,
        ),
        DrillColumn::new("money_fen", "v.money_fen", "慰问金", "Money", Show::Money),
        DrillColumn::new(
            "goods_fen",
            "v.goods_fen",
            "物资价值",
            "Goods value",
            Show::Money,
        ),
    ],
    drill_order: "o.code, v.visited_on, v.id",
    drill_group: None,
};

/// The households visited: each once per visiting union, however many visits.
pub static VISIT_HOUSEHOLDS: RecordSource = RecordSource {
    key: "hardship_visit_households",
    measure: Measure::Distinct("v.file_id"),
    aggregation: Aggregation::Distinct,
    subject: "hardship_visit_households",
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "走访工会", "Union", Show::Text),
        DrillColumn::new("name", "MIN(f.head_name)", "户主姓名", "Head", Show::Text),
        DrillColumn::new(
            "id_masked",
            "MIN(r.id_masked)",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new("visits", "COUNT(*)", "走访次数", "Visits", Show::Number),
        DrillColumn::new(
            "people",
            "SUM(v.people)",
            "慰问人次",
            "Person-visits",
            Show::Number,
        ),
        DrillColumn::new(
            "money_fen",
            "SUM(v.money_fen)",
            "慰问金",
            "Money",
            Show::Money,
        ),
    ],
    drill_order: "o.code, MIN(f.head_name)",
    drill_group: Some("o.id, v.file_id"),
    ..VISITS
};

/// The worksites visited: each once per visiting union.
pub static VISIT_WORKSITES: RecordSource = RecordSource {
    key: "hardship_visit_worksites",
    measure: Measure::Distinct("v.worksite_id"),
    aggregation: Aggregation::Distinct,
    subject: "hardship_visit_worksites",
    personal: false,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "走访工会", "Union", Show::Text),
        DrillColumn::new("name", "MIN(w.name)", "单位/工地", "Worksite", Show::Text),
        DrillColumn::new(
            "kind",
            "MIN(w.kind)",
            "类型",
            "Kind",
            Show::Label(WORKSITE_LABELS),
        ),
        DrillColumn::new("visits", "COUNT(*)", "走访次数", "Visits", Show::Number),
        DrillColumn::new(
            "workers",
            "SUM(v.workers)",
            "慰问职工人次",
            "Workers greeted",
            Show::Number,
        ),
    ],
    drill_order: "o.code, MIN(w.name)",
    drill_group: Some("o.id, v.worksite_id"),
    ..VISITS
};

const HOUSEHOLD: &str =
    "v.target = 'household' AND v.visited_on >= {start} AND v.visited_on <= {end}";
const PEOPLE: &str = "v.target <> 'worksite' AND v.visited_on >= {start} AND v.visited_on <= {end}";
const WORKSITE: &str =
    "v.target = 'worksite' AND v.visited_on >= {start} AND v.visited_on <= {end}";
const SUMMER_WORKSITE: &str = "v.target = 'worksite' AND v.occasion = 'summer' \
     AND v.visited_on >= {start} AND v.visited_on <= {end}";
const ALL: &str = "v.visited_on >= {start} AND v.visited_on <= {end}";

pub fn indicators() -> Vec<Indicator> {
    use crate::indicators::ASSISTANCE;
    use numfmt::Unit;
    vec![
        Indicator::records(
            "hardship_visit_households",
            "走访慰问困难家庭",
            "Households in hardship visited",
            Unit::Household,
            Kind::Flow,
            ASSISTANCE,
            &VISIT_HOUSEHOLDS,
            HOUSEHOLD,
        )
        .about(
            "统计期内走访慰问的困难家庭户数(同一工会多次走访同一户计一户)",
            "Households in hardship visited in the period (a household visited again by one union counts once)",
        ),
        Indicator::records(
            "hardship_visit_people",
            "慰问困难职工",
            "Workers in hardship visited (person-times)",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &VISITS,
            PEOPLE,
        )
        .measure(Measure::Sum("v.people"), Aggregation::SumOfValues)
        .about(
            "统计期内走访慰问困难职工人次:走访家庭计见到的家庭成员人数(至少1人次),走访个人计1人次",
            "Person-visits in the period: a household visit counts the persons met (at least 1), a person visit 1",
        ),
        Indicator::records(
            "hardship_visit_money",
            "走访慰问金额",
            "Money given on visits",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &VISITS,
            ALL,
        )
        .measure(Measure::Sum("v.money_fen"), Aggregation::SumOfValues)
        .about("统计期内走访慰问送去的慰问金", "Money given on visits in the period"),
        Indicator::records(
            "hardship_visit_goods",
            "慰问物资折价",
            "Goods given on visits (value)",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &VISITS,
            ALL,
        )
        .measure(Measure::Sum("v.goods_fen"), Aggregation::SumOfValues)
        .about(
            "统计期内走访慰问送去物资的价值",
            "The value of goods given on visits in the period",
        ),
        Indicator::records(
            "hardship_visit_worksites",
            "走访企事业单位和建筑工地",
            "Worksites visited",
            Unit::Ge,
            Kind::Flow,
            ASSISTANCE,
            &VISIT_WORKSITES,
            WORKSITE,
        )
        .about(
            "统计期内走访的企事业单位和建筑工地(同一工会多次走访同一单位计一个)",
            "Enterprises, institutions and construction sites visited in the period (once per union)",
        ),
        Indicator::records(
            "hardship_visit_workers",
            "慰问职工",
            "Workers greeted at worksites",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &VISITS,
            WORKSITE,
        )
        .measure(Measure::Sum("v.workers"), Aggregation::SumOfValues)
        .about(
            "统计期内走访企事业单位和建筑工地慰问的职工人次",
            "Workers greeted on worksite visits in the period",
        ),
        Indicator::records(
            "hardship_summer_worksites",
            "夏送清凉走访单位和工地",
            "Worksites visited in summer cooling",
            Unit::Ge,
            Kind::Flow,
            ASSISTANCE,
            &VISIT_WORKSITES,
            SUMMER_WORKSITE,
        )
        .about(
            "统计期内夏送清凉走访的企事业单位和建筑工地",
            "Worksites visited in summer-cooling campaigns in the period",
        ),
        Indicator::records(
            "hardship_summer_workers",
            "夏送清凉慰问职工",
            "Workers greeted in summer cooling",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &VISITS,
            SUMMER_WORKSITE,
        )
        .measure(Measure::Sum("v.workers"), Aggregation::SumOfValues)
        .about(
            "统计期内夏送清凉走访单位和工地慰问的职工人次",
            "Workers greeted on summer-cooling worksite visits in the period",
        ),
    ]
}

pub fn summary() -> Vec<Paragraph> {
    vec![
        Paragraph {
            key: "hardship.visits",
            section: "assistance",
            indicators: &["hardship_visit_households", "hardship_visit_people"],
            zh: "{@whole}各级工会共走访慰问困难家庭{hardship_visit_households},慰问困难职工{hardship_visit_people}[,送去慰问金{hardship_visit_money:wan}][,慰问物资折合{hardship_visit_goods:wan}]。",
            en: "Unions across {@whole} visited {hardship_visit_households} households in hardship and workers in hardship {hardship_visit_people}[, bringing {hardship_visit_money:wan}][ and goods worth {hardship_visit_goods:wan}].",
        },
        Paragraph {
            key: "hardship.summer_visits",
            section: "rights",
            indicators: &["hardship_summer_worksites", "hardship_summer_workers"],
            zh: "在高温季节走访企事业单位和建筑工地{hardship_summer_worksites},慰问职工{hardship_summer_workers:wan}。",
            en: "In the hot season unions visited {hardship_summer_worksites} enterprises, institutions and construction sites, greeting workers {hardship_summer_workers:wan}.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    fn base() -> VisitInput {
        VisitInput {
            visited_on: "2026-06-30".into(),
            visitors: "王主席、李部长".into(),
            ..Default::default()
        }
    }

    fn err(i: &VisitInput) -> String {
        check(i, today()).unwrap_err().user_message().zh
    }

    #[test]
    fn a_visit_has_exactly_one_target() {
        assert!(err(&base()).contains("三者选一"));
        let mut two = base();
        two.file_id = Some(1);
        two.worksite = Some(VisitWorksiteInput {
            name: "某工地".into(),
            kind: "site".into(),
            address: String::new(),
        });
        two.workers = 10;
        assert!(err(&two).contains("只能登记一个对象"));
        let mut one = base();
        one.file_id = Some(1);
        one.persons_met = vec!["张三".into(), "李四".into(), "张三".into()];
        let c = check(&one, today()).unwrap();
        assert_eq!(c.people(), 2, "distinct persons met");
        one.persons_met.clear();
        assert_eq!(check(&one, today()).unwrap().people(), 1, "at least 1");
    }

    #[test]
    fn dates_amounts_and_workers_are_checked() {
        let mut v = base();
        v.file_id = Some(1);
        v.visited_on = "2026-07-02".into();
        assert!(err(&v).contains("不能晚于今天"));
        v.visited_on = "2026-07-01".into();
        v.money_fen = -1;
        assert!(err(&v).contains("不能为负数"));
        v.money_fen = 50_000;
        v.workers = 3;
        assert!(err(&v).contains("只用于企事业单位"));
        let mut w = base();
        w.worksite = Some(VisitWorksiteInput {
            name: "示范市地铁5号线工地".into(),
            kind: "建筑工地".into(),
            address: String::new(),
        });
        assert!(err(&w).contains("至少1人"));
        w.workers = MAX_WORKERS + 1;
        assert!(err(&w).contains("过大"));
        w.workers = 120;
        let c = check(&w, today()).unwrap();
        assert_eq!((c.target_key(), c.people()), ("worksite", 0));
        w.goods_fen = 100;
        assert!(err(&w).contains("说明慰问物资"));
    }
}
