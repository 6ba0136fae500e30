//! 困难职工档案: one file per household, its head a person reference, the
//! income test against the county's 低保 line, filing up the review chain
//! (基层 submits → 县区 初审 → 市总 终审), the public notice (公示) with its
//! objections, confirmation, and closing (解困脱困), after which the file
//! is read-only. Every view of a file is audited; health, income and bank
//! data are shown by [`Access`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::model::{self, Access, Category, Line};
use platform::{
    attachments::{AttachmentOwner, OwnerOrg},
    audit::{self, Event},
    db::Db,
    error::{is_unique_violation, AppError, AppResult},
    ids::OrgId,
    module::BoxFuture,
    money::Fen,
    person::{self, PersonInput, PersonRefId},
    review::{self, Outcome, ReviewItem, ReviewKind},
    scope::Scope,
    time, tree,
    web::AppState,
};

platform::id_type!(FileId);

/// Days a confirmed-by-review file stays on public notice (公示).
pub const NOTICE_DAYS: i64 = 7;
/// Years a closed file is kept (read-only).
pub const KEEP_YEARS: i64 = 10;

/// Measures that lifted a household out of hardship (解困脱困).
pub const MEASURES: &[(&str, &str, &str)] = &[
    ("employment", "就业创业", "Employment or business"),
    ("insurance", "纳入社保", "Covered by social insurance"),
    ("medical", "医疗救助", "Medical relief"),
    ("education", "子女完成学业", "Children finished school"),
    ("income", "家庭收入提高", "Household income rose"),
    ("other", "其他", "Other"),
];

// ───────────────────────────── input ─────────────────────────────

/// One household member as typed (the head included, relation 本人).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MemberInput {
    pub name: String,
    /// 本人, 配偶, 子女, 父母 …
    pub relation: String,
    /// Monthly income, fen.
    pub income_fen: i64,
    pub health: String,
    pub disability: String,
    pub insurance: String,
    pub schooling: String,
}

/// A new hardship file.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct FileInput {
    /// The filing union; the caller's own org when absent.
    #[serde(default)]
    pub org_id: Option<i64>,
    /// The household head.
    #[serde(default)]
    pub head: PersonInput,
    /// deep | relative | sudden (or 深度困难 / 相对困难 / 意外致困).
    #[serde(default)]
    pub category: String,
    /// Needed when the category is not the one the income test offers.
    #[serde(default)]
    pub override_reason: String,
    #[serde(default)]
    pub primary_cause: String,
    #[serde(default)]
    pub secondary_causes: Vec<String>,
    /// Everyone in the household, the head included.
    #[serde(default)]
    pub members: Vec<MemberInput>,
    #[serde(default)]
    pub housing: String,
    #[serde(default)]
    pub employer_status: String,
    #[serde(default)]
    pub zero_employment: bool,
    #[serde(default)]
    pub single_parent: bool,
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub bank_account: String,
}

fn text(field: &str, zh: &str, en: &str, max: usize) -> AppResult<String> {
    let t = field.trim();
    if t.chars().count() > max {
        return Err(AppError::invalid(
            format!("{zh}过长(最多{max}字)"),
            format!("{en} is too long ({max} characters at most)"),
        ));
    }
    Ok(t.to_string())
}

/// What is checked before anything is written.
struct Valid {
    category: Category,
    test: model::IncomeTest,
    primary: &'static str,
    secondary: Vec<&'static str>,
    income: Fen,
    members: Vec<MemberInput>,
    bank: Option<String>,
    override_reason: String,
}

fn validate(input: &FileInput, line: Line) -> AppResult<Valid> {
    let category = Category::parse(&input.category)?;
    let (primary, secondary) = model::causes(&input.primary_cause, &input.secondary_causes)?;
    if input.members.is_empty() {
        return Err(AppError::invalid(
            "请填写家庭成员(含户主本人)",
            "List the household's members, the head included",
        ));
    }
    if input.members.len() > 20 {
        return Err(AppError::invalid(
            "家庭成员最多20人",
            "At most 20 household members",
        ));
    }
    let mut members = Vec::new();
    let mut total = Fen::default();
    for (i, m) in input.members.iter().enumerate() {
        let n = i + 1;
        let name = text(&m.name, "成员姓名", "A member's name", 50)?;
        let relation = text(&m.relation, "与户主关系", "The relation", 20)?;
        if name.is_empty() || relation.is_empty() {
            return Err(AppError::invalid(
                format!("第{n}位家庭成员缺少姓名或与户主关系"),
                format!("Household member {n} needs a name and a relation"),
            ));
        }
        if m.income_fen < 0 || m.income_fen > 100_000_000 {
            return Err(AppError::invalid(
                format!("第{n}位家庭成员的月收入无效"),
                format!("Household member {n}: the monthly income is not valid"),
            ));
        }
        total = total
            .checked_add(Fen::from_fen(m.income_fen))
            .ok_or_else(|| AppError::invalid("收入合计过大", "The incomes add up too high"))?;
        members.push(MemberInput {
            name,
            relation,
            income_fen: m.income_fen,
            health: text(&m.health, "健康状况", "Health", 100)?,
            disability: text(&m.disability, "残疾情况", "Disability", 100)?,
            insurance: text(&m.insurance, "参保情况", "Insurance", 100)?,
            schooling: text(&m.schooling, "就学情况", "Schooling", 100)?,
        });
    }
    let mut all_causes = vec![primary];
    all_causes.extend(&secondary);
    let test = model::income_test(line, total, members.len() as i64, &all_causes)?;
    let override_reason = text(&input.override_reason, "认定理由", "The reason", 500)?;
    model::decide_category(category, test, line, &override_reason)?;
    let bank = model::bank_account(&input.bank_account)?;
    Ok(Valid {
        category,
        test,
        primary,
        secondary,
        income: total,
        members,
        bank,
        override_reason,
    })
}

// ───────────────────────────── lines ─────────────────────────────

/// The org's region root (its county or industry union) and the tree's root.
async fn region_of(conn: &mut AnyConnection, org: i64) -> AppResult<(Option<i64>, i64)> {
    let region: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    let root: i64 =
        sqlx::query_scalar("SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1")
            .fetch_one(&mut *conn)
            .await?;
    Ok((region, root))
}

/// The 低保 line for the org's region and year: the region's own, else the
/// city's default; none set is refused with what to do.
pub async fn line_for(conn: &mut AnyConnection, org: i64, year: i64) -> AppResult<Line> {
    let (region, root) = region_of(conn, org).await?;
    for r in region.into_iter().chain(std::iter::once(root)) {
        let row = sqlx::query(
            "SELECT line_fen, deep_pct, relative_pct FROM hardship_lines WHERE region_org_id = $1 AND year = $2",
        )
        .bind(r)
        .bind(year)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return Ok(Line {
                line_fen: row.try_get("line_fen")?,
                deep_pct: row.try_get("deep_pct")?,
                relative_pct: row.try_get("relative_pct")?,
            });
        }
    }
    Err(AppError::invalid(
        format!("尚未设置本县区{year}年的低保标准,请县区或市总工会先设置"),
        format!("No 低保 line is set for this region for {year}; the county or city federation sets it first"),
    ))
}

/// Sets a region's line for a year (the county's own, or the city's default
/// when `region` is the root). County or city staff only.
pub async fn set_line(
    db: &Db,
    scope: &Scope,
    region: OrgId,
    year: i64,
    line: Line,
) -> AppResult<()> {
    scope.require_write()?;
    let org = tree::node(db, scope, region).await?;
    let level: String = sqlx::query_scalar("SELECT level FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(db.pool())
        .await?;
    if !matches!(level.as_str(), "city" | "county" | "industry") {
        return Err(AppError::invalid(
            "低保标准按县区(或产业)设置,请选择县区总工会或市总工会",
            "The line is set per county (or industry union) or for the whole city",
        ));
    }
    if !(2000..=2100).contains(&year)
        || line.line_fen <= 0
        || line.deep_pct <= 0
        || line.relative_pct < line.deep_pct
        || line.relative_pct > 1000
    {
        return Err(AppError::invalid(
            "低保标准无效:金额须大于0,相对困难倍数不得低于深度困难倍数",
            "Invalid line: the amount must be positive and the relative multiple at least the deep one",
        ));
    }
    let mut tx = db.begin_write().await?;
    let now = time::now_rfc3339();
    sqlx::query(
        "INSERT INTO hardship_lines (region_org_id, year, line_fen, deep_pct, relative_pct, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (region_org_id, year) DO UPDATE SET \
         line_fen = excluded.line_fen, deep_pct = excluded.deep_pct, relative_pct = excluded.relative_pct, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(org.id.0)
    .bind(year)
    .bind(line.line_fen)
    .bind(line.deep_pct)
    .bind(line.relative_pct)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&now)
    .execute(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.line_set", "org", org.id)
            .org(org.id)
            .detail(serde_json::json!({"year": year, "line_fen": line.line_fen,
                "deep_pct": line.deep_pct, "relative_pct": line.relative_pct})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ───────────────────────────── views ─────────────────────────────

/// A file in a list: no health, income or bank data.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FileRow {
    #[schema(value_type = i64)]
    pub id: FileId,
    pub org_id: i64,
    pub org_name: String,
    pub head_name: String,
    pub head_id_masked: String,
    pub category: Category,
    pub primary_cause: String,
    pub status: String,
    pub year: i64,
    pub created_at: String,
}

/// One household member as the caller may see them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub name: String,
    pub relation: String,
    /// Shown to roles that see incomes.
    pub income_fen: Option<i64>,
    /// Shown to case workers only.
    pub health: Option<String>,
    pub disability: Option<String>,
    pub insurance: String,
    pub schooling: String,
}

/// An objection raised during the notice.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Objection {
    pub id: i64,
    pub content: String,
    pub resolution: String,
    pub created_at: String,
}

/// A whole file as the caller may see it ([`Access`]).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FileDetail {
    #[serde(flatten)]
    pub row: FileRow,
    pub access: Access,
    pub head: person::PersonRef,
    pub offered_category: Option<Category>,
    pub override_reason: String,
    pub secondary_causes: Vec<String>,
    pub household_size: i64,
    pub income_fen: Option<i64>,
    pub per_capita_fen: Option<i64>,
    pub line_fen: Option<i64>,
    pub housing: String,
    pub employer_status: String,
    pub zero_employment: bool,
    pub single_parent: bool,
    pub bank_name: Option<String>,
    pub bank_account_masked: Option<String>,
    pub members: Vec<MemberView>,
    pub objections: Vec<Objection>,
    pub review_id: Option<i64>,
    pub notice_until: Option<String>,
    pub confirmed_on: Option<String>,
    pub last_checked_on: Option<String>,
    pub closed_on: Option<String>,
    pub close_reason: String,
    pub close_measure: String,
    /// Until when a closed file is kept.
    pub keep_until: Option<String>,
}

const ROW_SELECT: &str = "SELECT f.id, f.org_id, o.name AS org_name, o.path AS org_path, f.head_name, \
     r.id_masked AS head_id_masked, f.category, f.primary_cause, f.status, f.year, f.created_at \
     FROM hardship_files f JOIN orgs o ON o.id = f.org_id JOIN person_refs r ON r.id = f.person_ref_id";

fn row_from(r: &sqlx::any::AnyRow) -> AppResult<FileRow> {
    Ok(FileRow {
        id: FileId(r.try_get("id")?),
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        head_name: r.try_get("head_name")?,
        head_id_masked: r.try_get("head_id_masked")?,
        category: Category::parse(&r.try_get::<String, _>("category")?)?,
        primary_cause: r.try_get("primary_cause")?,
        status: r.try_get("status")?,
        year: r.try_get("year")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Filters of the file list.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ListFilter {
    /// reviewing | notice | open | rejected | closed
    pub status: String,
    /// deep | relative | sudden
    pub category: String,
    /// Name prefix of the head.
    pub name: String,
}

/// The files of the caller's subtree (no health, income or bank data); the
/// view is audited.
pub async fn list(db: &Db, scope: &Scope, f: &ListFilter) -> AppResult<Vec<FileRow>> {
    list_up_to(db, scope, f, 2000).await
}

/// [`list`] with the caller's row limit (the export takes every file).
pub async fn list_up_to(
    db: &Db,
    scope: &Scope,
    f: &ListFilter,
    limit: usize,
) -> AppResult<Vec<FileRow>> {
    let mut sql = format!("{ROW_SELECT} WHERE o.path LIKE $1 AND f.purged_on IS NULL");
    let mut binds: Vec<String> = vec![scope.like()];
    if !f.status.trim().is_empty() {
        binds.push(f.status.trim().to_string());
        sql.push_str(&format!(" AND f.status = ${}", binds.len()));
    }
    if !f.category.trim().is_empty() {
        binds.push(Category::parse(&f.category)?.as_str().to_string());
        sql.push_str(&format!(" AND f.category = ${}", binds.len()));
    }
    if !f.name.trim().is_empty() {
        binds.push(format!("{}%", f.name.trim().replace(['%', '_'], "")));
        sql.push_str(&format!(" AND f.head_name LIKE ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY o.path, f.id LIMIT {limit}"));
    let mut q = sqlx::query(&sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(db.pool()).await?;
    let out: Vec<FileRow> = rows.iter().map(row_from).collect::<AppResult<_>>()?;
    audit::record(
        db,
        &scope.actor,
        Event::new("hardship.file_list", "hardship_file", "")
            .org(scope.org_id)
            .detail(
                serde_json::json!({"status": f.status, "category": f.category, "rows": out.len()}),
            ),
    )
    .await?;
    Ok(out)
}

/// The file's org path, admitted through the scope (404 + audit outside).
async fn admit(db: &Db, scope: &Scope, id: FileId) -> AppResult<(String, String, i64)> {
    let row = sqlx::query(
        "SELECT o.path, f.status, f.org_id, f.purged_on FROM hardship_files f JOIN orgs o ON o.id = f.org_id WHERE f.id = $1",
    )
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    // Purged after its keeping period: gone, whoever asks.
    if crate::purge::is_purged(&row) {
        return Err(AppError::NotFound);
    }
    let path: String = row.try_get("path")?;
    scope.admit(db, &path, "hardship_file", id).await?;
    Ok((path, row.try_get("status")?, row.try_get("org_id")?))
}

/// One file as the caller may see it; every view is audited, with what it showed.
pub async fn get(db: &Db, scope: &Scope, id: FileId) -> AppResult<FileDetail> {
    admit(db, scope, id).await?;
    let detail = load(db, scope, id).await?;
    audit::record(
        db,
        &scope.actor,
        Event::new("hardship.file_view", "hardship_file", id)
            .org(OrgId(detail.row.org_id))
            .detail(serde_json::json!({
                "head": detail.row.head_name,
                "health": detail.access.health,
                "income": detail.access.income,
                "bank": detail.access.bank,
            })),
    )
    .await?;
    Ok(detail)
}

async fn load(db: &Db, scope: &Scope, id: FileId) -> AppResult<FileDetail> {
    let access = Access::of(scope);
    let r = sqlx::query(&format!(
        "{} , f.person_ref_id, f.offered_category, f.override_reason, f.secondary_causes, f.household_size, \
         f.income_fen, f.per_capita_fen, f.line_fen, f.housing, f.employer_status, f.zero_employment, \
         f.single_parent, f.bank_name, f.bank_account_masked, f.review_id, f.notice_until, f.confirmed_on, \
         f.last_checked_on, f.closed_on, f.close_reason, f.close_measure {} WHERE f.id = $1",
        &ROW_SELECT[..ROW_SELECT.find(" FROM ").expect("select")],
        &ROW_SELECT[ROW_SELECT.find(" FROM ").expect("select")..],
    ))
    .bind(id.0)
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let row = row_from(&r)?;
    let head = person::get(db, scope, PersonRefId(r.try_get("person_ref_id")?)).await?;
    let members = sqlx::query(
        "SELECT name, relation, income_fen, health, disability, insurance, schooling \
         FROM hardship_members WHERE file_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|m| {
        Ok(MemberView {
            name: m.try_get("name")?,
            relation: m.try_get("relation")?,
            income_fen: if access.income {
                Some(m.try_get("income_fen")?)
            } else {
                None
            },
            health: if access.health {
                Some(m.try_get("health")?)
            } else {
                None
            },
            disability: if access.health {
                Some(m.try_get("disability")?)
            } else {
                None
            },
            insurance: m.try_get("insurance")?,
            schooling: m.try_get("schooling")?,
        })
    })
    .collect::<AppResult<Vec<_>>>()?;
    let objections = sqlx::query(
        "SELECT id, content, resolution, created_at FROM hardship_objections WHERE file_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|o| {
        Ok(Objection {
            id: o.try_get("id")?,
            content: o.try_get("content")?,
            resolution: o.try_get("resolution")?,
            created_at: o.try_get("created_at")?,
        })
    })
    .collect::<AppResult<Vec<_>>>()?;
    let gate = |ok: bool, v: Option<i64>| if ok { v } else { None };
    let secondary: String = r.try_get("secondary_causes")?;
    let closed_on: Option<String> = r.try_get("closed_on")?;
    // The same date the purge goes by (purge::cutoff).
    let keep_until = closed_on.as_deref().and_then(time::parse_date).map(|d| {
        d.checked_add_months(chrono::Months::new(12 * KEEP_YEARS as u32))
            .unwrap_or(d)
            .to_string()
    });
    let offered: Option<String> = r.try_get("offered_category")?;
    Ok(FileDetail {
        access,
        head,
        offered_category: offered.as_deref().map(Category::parse).transpose()?,
        override_reason: r.try_get("override_reason")?,
        secondary_causes: secondary
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        household_size: r.try_get("household_size")?,
        income_fen: gate(access.income, r.try_get("income_fen")?),
        per_capita_fen: gate(access.income, r.try_get("per_capita_fen")?),
        line_fen: gate(access.income, r.try_get("line_fen")?),
        housing: r.try_get("housing")?,
        employer_status: r.try_get("employer_status")?,
        zero_employment: r.try_get::<i64, _>("zero_employment")? == 1,
        single_parent: r.try_get::<i64, _>("single_parent")? == 1,
        bank_name: if access.bank {
            Some(r.try_get("bank_name")?)
        } else {
            None
        },
        bank_account_masked: if access.bank {
            Some(r.try_get("bank_account_masked")?)
        } else {
            None
        },
        members,
        objections,
        review_id: r.try_get("review_id")?,
        notice_until: r.try_get("notice_until")?,
        confirmed_on: r.try_get("confirmed_on")?,
        last_checked_on: r.try_get("last_checked_on")?,
        closed_on,
        close_reason: r.try_get("close_reason")?,
        close_measure: r.try_get("close_measure")?,
        keep_until,
        row,
    })
}

/// The full bank account: needs the unmask permission on top of a role that
/// sees bank data; always audited.
pub async fn unmask_bank(st: &AppState, scope: &Scope, id: FileId) -> AppResult<String> {
    admit(&st.db, scope, id).await?;
    if !Access::of(scope).unmask_bank {
        return Err(AppError::forbidden(
            "您没有查看完整银行账号的权限",
            "You are not allowed to see full bank account numbers",
        ));
    }
    let (enc, org): (Option<String>, i64) =
        sqlx::query_as("SELECT bank_account_enc, org_id FROM hardship_files WHERE id = $1")
            .bind(id.0)
            .fetch_one(st.db.pool())
            .await?;
    let plain = match enc {
        Some(e) => st.keys.decrypt(&e)?,
        None => String::new(),
    };
    audit::record(
        &st.db,
        &scope.actor,
        Event::new("hardship.bank_unmask", "hardship_file", id).org(OrgId(org)),
    )
    .await?;
    Ok(plain)
}

// ───────────────────────────── filing ─────────────────────────────

fn already_open() -> AppError {
    AppError::conflict(
        "此人已有未关闭的困难职工档案,同一户不能重复建档",
        "This person already has an open hardship file; a household is filed once",
    )
}

/// The head's keyed ID hash, from the number as typed (checked as the
/// person reference will check it).
fn head_hash(st: &AppState, head: &PersonInput) -> AppResult<String> {
    let kind = match head.id_kind.trim() {
        "" => ident::IdKind::ResidentId,
        s => ident::IdKind::from_label(s).ok_or_else(|| {
            AppError::invalid(
                format!("证件类型“{s}”无法识别"),
                format!("Document type “{s}” is not recognised"),
            )
        })?,
    };
    let id = ident::IdNumber::parse_on(kind, &head.id_number, time::today()).map_err(|e| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    })?;
    Ok(person::id_lookup_hash(&st.keys, id.as_str()))
}

/// Files a household and sends it up the review chain. Everything is
/// checked before anything is written: the causes, the members, the income
/// test against the county's line (a category it does not offer needs a
/// reason), the bank account, one open file per person.
pub async fn create(st: &AppState, scope: &Scope, input: &FileInput) -> AppResult<FileId> {
    scope.require_write()?;
    let org = tree::node(&st.db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    let year = chrono::Datelike::year(&time::today()) as i64;
    let line = {
        let mut conn = st.db.pool().acquire().await?;
        line_for(&mut conn, org.id.0, year).await?
    };
    let v = validate(input, line)?;
    let housing = text(&input.housing, "住房情况", "Housing", 100)?;
    let employer_status = text(&input.employer_status, "单位状况", "Employer status", 100)?;
    let bank_name = text(&input.bank_name, "开户银行", "The bank", 100)?;
    let hash = head_hash(st, &input.head)?;
    let open: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM hardship_files WHERE id_hash = $1 AND status <> 'closed' AND status <> 'rejected'",
    )
    .bind(&hash)
    .fetch_optional(st.db.pool())
    .await?;
    if open.is_some() {
        return Err(already_open());
    }
    let head = person::refer(st, scope, org.id, &input.head).await?;
    let region_root: Option<i64> = sqlx::query_scalar("SELECT region_root FROM orgs WHERE id = $1")
        .bind(org.id.0)
        .fetch_one(st.db.pool())
        .await?;
    let now = time::now_rfc3339();
    let mut tx = st.db.begin_write().await?;
    let inserted = sqlx::query_scalar::<_, i64>(
        "INSERT INTO hardship_files (region_root, org_id, person_ref_id, id_hash, head_name, category, \
         offered_category, override_reason, primary_cause, secondary_causes, year, household_size, income_fen, \
         per_capita_fen, line_fen, housing, employer_status, zero_employment, single_parent, bank_name, \
         bank_account_enc, bank_account_masked, status, created_by, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,'reviewing',$23,$24,$24) \
         RETURNING id",
    )
    .bind(region_root)
    .bind(org.id.0)
    .bind(head.id.0)
    .bind(&hash)
    .bind(&head.name)
    .bind(v.category.as_str())
    .bind(v.test.offered.map(Category::as_str))
    .bind(&v.override_reason)
    .bind(v.primary)
    .bind(v.secondary.join(","))
    .bind(year)
    .bind(v.members.len() as i64)
    .bind(v.income.fen())
    .bind(v.test.per_capita.fen())
    .bind(line.line_fen)
    .bind(&housing)
    .bind(&employer_status)
    .bind(i64::from(input.zero_employment))
    .bind(i64::from(input.single_parent))
    .bind(&bank_name)
    .bind(v.bank.as_deref().map(|b| st.keys.encrypt(b)))
    .bind(v.bank.as_deref().map(model::mask_account).unwrap_or_default())
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(&now)
    .fetch_one(&mut *tx.tx)
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => return Err(already_open()),
        Err(e) => return Err(e.into()),
    };
    for m in &v.members {
        sqlx::query(
            "INSERT INTO hardship_members (region_root, file_id, name, relation, income_fen, health, disability, insurance, schooling) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        )
        .bind(region_root)
        .bind(id)
        .bind(&m.name)
        .bind(&m.relation)
        .bind(m.income_fen)
        .bind(&m.health)
        .bind(&m.disability)
        .bind(&m.insurance)
        .bind(&m.schooling)
        .execute(&mut *tx.tx)
        .await?;
    }
    platform::dataver::touch(&mut tx.tx, [org.id.0]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.file_create", "hardship_file", id)
            .org(org.id)
            .detail(serde_json::json!({
                "head": head.name, "id": head.id_masked, "category": v.category.as_str(),
                "offered": v.test.offered.map(Category::as_str), "override": !v.override_reason.is_empty(),
            })),
    )
    .await?;
    tx.commit().await?;
    // Up the chain; if the chain cannot take it, the file goes too.
    let title = format!("困难职工建档:{}({})", head.name, v.category.label().zh);
    match review::submit(&st.db, scope, &FileReview, org.id, id, &title).await {
        Ok(rid) => {
            sqlx::query("UPDATE hardship_files SET review_id = $1 WHERE id = $2")
                .bind(rid.0)
                .bind(id)
                .execute(st.db.pool())
                .await?;
            Ok(FileId(id))
        }
        Err(e) => {
            let mut tx = st.db.begin_write().await?;
            sqlx::query("DELETE FROM hardship_members WHERE file_id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query("DELETE FROM hardship_files WHERE id = $1")
                .bind(id)
                .execute(&mut *tx.tx)
                .await?;
            audit::append(
                &mut tx,
                &scope.actor,
                Event::new("hardship.file_withdrawn", "hardship_file", id).org(org.id),
            )
            .await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

/// The review of a file: on the final approval it goes on public notice
/// (公示) for [`NOTICE_DAYS`]; a rejection closes it as rejected.
pub struct FileReview;

impl ReviewKind for FileReview {
    fn key(&self) -> &'static str {
        "hardship_file"
    }
    fn chain(&self) -> &'static [&'static str] {
        &["county", "city"]
    }
    fn label(&self) -> platform::i18n::Msg {
        platform::i18n::Msg::new("困难职工建档", "Hardship file")
    }
    fn on_decided<'a>(
        &'a self,
        tx: &'a mut AnyConnection,
        item: &'a ReviewItem,
        outcome: Outcome,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let now = time::now_rfc3339();
            let (status, until) = match outcome {
                Outcome::Approved => (
                    "notice",
                    Some((time::today() + chrono::Duration::days(NOTICE_DAYS)).to_string()),
                ),
                Outcome::Rejected => ("rejected", None),
            };
            let n = sqlx::query(
                "UPDATE hardship_files SET status = $1, notice_until = $2, updated_at = $3 \
                 WHERE id = $4 AND status = 'reviewing'",
            )
            .bind(status)
            .bind(until)
            .bind(&now)
            .bind(item.record_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                return Err(AppError::conflict(
                    "该档案已不在审批中",
                    "This file is no longer under review",
                ));
            }
            platform::dataver::touch(tx, [item.org_id.0]).await?;
            Ok(())
        })
    }
}

/// Files may carry documents (申请表, 收入证明, 诊断证明, 录取通知书 …).
pub struct FileAttachments;

impl AttachmentOwner for FileAttachments {
    fn kind(&self) -> &'static str {
        "hardship_file"
    }
    fn resolve<'a>(
        &'a self,
        db: &'a Db,
        owner_id: i64,
    ) -> BoxFuture<'a, AppResult<Option<OwnerOrg>>> {
        Box::pin(async move {
            let row: Option<(i64, String)> = sqlx::query_as(
                "SELECT o.id, o.path FROM hardship_files f JOIN orgs o ON o.id = f.org_id WHERE f.id = $1 AND f.purged_on IS NULL",
            )
            .bind(owner_id)
            .fetch_optional(db.pool())
            .await?;
            Ok(row.map(|(id, path)| OwnerOrg {
                org_id: OrgId(id),
                org_path: path,
            }))
        })
    }
}

pub fn review_kinds() -> Vec<Arc<dyn ReviewKind>> {
    vec![
        Arc::new(FileReview) as Arc<dyn ReviewKind>,
        Arc::new(crate::grants::BatchReview) as Arc<dyn ReviewKind>,
    ]
}

// ───────────────────────────── after the review ─────────────────────────────

fn read_only() -> AppError {
    AppError::conflict(
        format!("该档案已解困脱困,只读保存{KEEP_YEARS}年,不能再修改"),
        format!("This file is closed and kept read-only for {KEEP_YEARS} years"),
    )
}

async fn level_of(db: &Db, org: OrgId) -> AppResult<String> {
    Ok(sqlx::query_scalar("SELECT level FROM orgs WHERE id = $1")
        .bind(org.0)
        .fetch_one(db.pool())
        .await?)
}

/// Records an objection raised during the notice (公示).
pub async fn object(db: &Db, scope: &Scope, id: FileId, content: &str) -> AppResult<()> {
    scope.require_write()?;
    let (_, status, org) = admit(db, scope, id).await?;
    let content = text(content, "异议内容", "The objection", 1000)?;
    if content.is_empty() {
        return Err(AppError::invalid("请填写异议内容", "Write the objection"));
    }
    if status != "notice" {
        return Err(AppError::conflict(
            "档案不在公示期,不能登记异议",
            "The file is not on public notice; objections are recorded during the notice",
        ));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO hardship_objections (region_root, file_id, org_id, content, created_by, created_at) \
         SELECT region_root, id, org_id, $1, $2, $3 FROM hardship_files WHERE id = $4",
    )
    .bind(&content)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx.tx)
    .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.objection", "hardship_file", id).org(OrgId(org)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms a file after its notice: by the county or the city, once the
/// notice period is over; objections must each carry a resolution (given
/// here, one text for all open ones).
pub async fn confirm(db: &Db, scope: &Scope, id: FileId, resolution: &str) -> AppResult<()> {
    scope.require_write()?;
    let (_, status, org) = admit(db, scope, id).await?;
    if !matches!(
        level_of(db, scope.org_id).await?.as_str(),
        "county" | "city"
    ) {
        return Err(AppError::forbidden(
            "公示结束后由县区或市总工会确认建档",
            "The county or city federation confirms a file after its notice",
        ));
    }
    if status != "notice" {
        return Err(AppError::conflict(
            "档案不在公示期,无需确认",
            "The file is not on public notice",
        ));
    }
    let until: Option<String> =
        sqlx::query_scalar("SELECT notice_until FROM hardship_files WHERE id = $1")
            .bind(id.0)
            .fetch_one(db.pool())
            .await?;
    let today = time::today().to_string();
    if let Some(u) = until.filter(|u| u.as_str() > today.as_str()) {
        return Err(AppError::conflict(
            format!("公示期至{u}结束,结束后才能确认"),
            format!("The notice runs until {u}; confirm after it"),
        ));
    }
    let resolution = text(resolution, "异议处理意见", "The resolution", 1000)?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hardship_objections WHERE file_id = $1 AND resolution = ''",
    )
    .bind(id.0)
    .fetch_one(db.pool())
    .await?;
    if open > 0 && resolution.is_empty() {
        return Err(AppError::invalid(
            format!("公示期间有{open}条异议,请填写处理意见后再确认"),
            format!("{open} objections were raised during the notice; give their resolution first"),
        ));
    }
    let mut tx = db.begin_write().await?;
    if open > 0 {
        sqlx::query(
            "UPDATE hardship_objections SET resolution = $1 WHERE file_id = $2 AND resolution = ''",
        )
        .bind(&resolution)
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    }
    let n = sqlx::query(
        "UPDATE hardship_files SET status = 'open', confirmed_on = $1, updated_at = $2 WHERE id = $3 AND status = 'notice'",
    )
    .bind(&today)
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::conflict(
            "档案状态已变化",
            "The file changed meanwhile",
        ));
    }
    platform::dataver::touch(&mut tx.tx, [org]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.file_confirm", "hardship_file", id).org(OrgId(org)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What closing a file says.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CloseInput {
    /// YYYY-MM-DD; today when empty.
    pub closed_on: String,
    pub reason: String,
    /// employment | insurance | medical | education | income | other (or its Chinese name).
    pub measure: String,
}

/// A checked closing: reason, measure and date.
struct Closing {
    reason: String,
    measure: &'static str,
    on: chrono::NaiveDate,
}

fn check_close(input: &CloseInput) -> AppResult<Closing> {
    let reason = text(&input.reason, "脱困原因", "The reason", 500)?;
    if reason.is_empty() {
        return Err(AppError::invalid(
            "请填写解困脱困(撤档)的原因",
            "Give the reason for closing the file",
        ));
    }
    let m = input.measure.trim();
    let measure = MEASURES
        .iter()
        .find(|x| x.0 == m || x.1 == m)
        .map(|x| x.0)
        .ok_or_else(|| {
            AppError::invalid(
                "请选择帮助脱困的措施(就业创业、纳入社保、医疗救助、子女完成学业、家庭收入提高、其他)",
                "Choose the measure that lifted the household (employment, insurance, medical, education, income, other)",
            )
        })?;
    let on = match input.closed_on.trim() {
        "" => time::today(),
        s => time::parse_date(s).ok_or_else(|| {
            AppError::invalid(
                "脱困日期无效,请按 2026-03-01 格式填写",
                "Invalid date; use 2026-03-01",
            )
        })?,
    };
    Ok(Closing {
        reason,
        measure,
        on,
    })
}

/// Writes a closing inside the caller's transaction: the file moves from
/// `status` to closed (conditionally: a file changed meanwhile is a
/// conflict), the org's data version, the audit entry.
async fn close_in(
    tx: &mut platform::db::WriteTx,
    scope: &Scope,
    id: FileId,
    org: i64,
    status: &str,
    c: &Closing,
) -> AppResult<()> {
    let n = sqlx::query(
        "UPDATE hardship_files SET status = 'closed', closed_on = $1, close_reason = $2, close_measure = $3, \
         updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(c.on.to_string())
    .bind(&c.reason)
    .bind(c.measure)
    .bind(time::now_rfc3339())
    .bind(id.0)
    .bind(status)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::conflict(
            "档案状态已变化",
            "The file changed meanwhile",
        ));
    }
    platform::dataver::touch(&mut tx.tx, [org]).await?;
    audit::append(
        tx,
        &scope.actor,
        Event::new("hardship.file_close", "hardship_file", id)
            .org(OrgId(org))
            .detail(
                serde_json::json!({"reason": c.reason, "measure": c.measure, "on": c.on.to_string()}),
            ),
    )
    .await?;
    Ok(())
}

/// Closes a file (解困脱困 / 撤档): a reason is required, the measure from the
/// list; the file is read-only from then on.
pub async fn close(db: &Db, scope: &Scope, id: FileId, input: &CloseInput) -> AppResult<()> {
    scope.require_write()?;
    let (_, status, org) = admit(db, scope, id).await?;
    if status == "closed" {
        return Err(read_only());
    }
    if status != "open" && status != "notice" {
        return Err(AppError::conflict(
            "只有已建档的档案才能办理解困脱困",
            "Only a filed household can be closed",
        ));
    }
    let c = check_close(input)?;
    let mut tx = db.begin_write().await?;
    close_in(&mut tx, scope, id, org, &status, &c).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses a change to a closed file (used by every writer of a file).
pub async fn ensure_writable(db: &Db, scope: &Scope, id: FileId) -> AppResult<()> {
    let (_, status, _) = admit(db, scope, id).await?;
    if status == "closed" {
        return Err(read_only());
    }
    Ok(())
}

// ───────────────────────────── 年审 ─────────────────────────────

/// One file due for the yearly re-check, and whether the draw picked it
/// for a home visit (抽查).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckRow {
    pub file_id: i64,
    pub org_name: String,
    pub head_name: String,
    pub category: Category,
    pub year: i64,
    pub sampled: bool,
    /// pending | qualifies | closed
    pub outcome: String,
    pub note: String,
}

/// The draw of a year's re-check.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DrawInput {
    pub year: i64,
    /// The share of due files drawn for a home visit, in percent (e.g. 30).
    pub share_pct: i64,
}

/// The re-check list of a year in the caller's subtree.
pub async fn rechecks(db: &Db, scope: &Scope, year: i64) -> AppResult<Vec<CheckRow>> {
    let rows = sqlx::query(
        "SELECT k.file_id, o.name AS org_name, f.head_name, f.category, k.year, k.sampled, k.outcome, k.note \
         FROM hardship_checks k JOIN hardship_files f ON f.id = k.file_id JOIN orgs o ON o.id = f.org_id \
         WHERE k.year = $1 AND o.path LIKE $2 ORDER BY o.path, k.file_id",
    )
    .bind(year)
    .bind(scope.like())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CheckRow {
                file_id: r.try_get("file_id")?,
                org_name: r.try_get("org_name")?,
                head_name: r.try_get("head_name")?,
                category: Category::parse(&r.try_get::<String, _>("category")?)?,
                year: r.try_get("year")?,
                sampled: r.try_get::<i64, _>("sampled")? == 1,
                outcome: r.try_get("outcome")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// Draws the year's re-check: every open file of the caller's subtree
/// confirmed before the year is due; `share_pct` of them (rounded up) are
/// drawn for a home visit. A file already on the year's list keeps its
/// draw (drawing again cannot pick other households), so the draw is made
/// once per file and year; it is audited with its seed.
pub async fn draw_rechecks(db: &Db, scope: &Scope, input: &DrawInput) -> AppResult<Vec<CheckRow>> {
    use rand::{seq::SliceRandom, SeedableRng};
    scope.require_write()?;
    if !(2000..=2100).contains(&input.year) || !(1..=100).contains(&input.share_pct) {
        return Err(AppError::invalid(
            "年审年度或抽查比例无效(比例应为1到100)",
            "Invalid year or share (the share is 1 to 100 percent)",
        ));
    }
    let start = format!("{}-01-01", input.year);
    let due: Vec<(i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT f.id, f.region_root, f.org_id FROM hardship_files f JOIN orgs o ON o.id = f.org_id \
         WHERE o.path LIKE $1 AND f.status = 'open' AND f.confirmed_on < $2 \
         AND NOT EXISTS (SELECT 1 FROM hardship_checks k WHERE k.file_id = f.id AND k.year = $3) ORDER BY f.id",
    )
    .bind(scope.like())
    .bind(&start)
    .bind(input.year)
    .fetch_all(db.pool())
    .await?;
    let seed = rand::random::<u64>();
    let mut order: Vec<usize> = (0..due.len()).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let drawn = (due.len() * input.share_pct as usize).div_ceil(100);
    let picked: std::collections::HashSet<usize> = order.into_iter().take(drawn).collect();
    let mut tx = db.begin_write().await?;
    for (i, (file, region, org)) in due.iter().enumerate() {
        let inserted = sqlx::query(
            "INSERT INTO hardship_checks (region_root, file_id, org_id, year, sampled, outcome) VALUES ($1,$2,$3,$4,$5,'pending')",
        )
        .bind(region)
        .bind(file)
        .bind(org)
        .bind(input.year)
        .bind(i64::from(picked.contains(&i)))
        .execute(&mut *tx.tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::conflict(
                    "另一次抽取正在进行,请稍后刷新",
                    "Another draw is running; reload shortly",
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.recheck_draw", "org", scope.org_id)
            .org(scope.org_id)
            .detail(
                serde_json::json!({"year": input.year, "share_pct": input.share_pct,
                "due": due.len(), "drawn": drawn, "seed": seed.to_string()}),
            ),
    )
    .await?;
    tx.commit().await?;
    rechecks(db, scope, input.year).await
}

/// What the re-check of one file found.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CheckInput {
    pub year: i64,
    /// Whether the household still qualifies; if not, the file is closed
    /// with `note` as the reason and `measure`.
    pub qualifies: bool,
    pub note: String,
    pub measure: String,
}

/// Records a file's re-check: it stays open while the household qualifies;
/// otherwise it is closed (解困脱困) in the same step, a reason required.
pub async fn record_check(db: &Db, scope: &Scope, id: FileId, input: &CheckInput) -> AppResult<()> {
    scope.require_write()?;
    let (_, status, org) = admit(db, scope, id).await?;
    let pending: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM hardship_checks WHERE file_id = $1 AND year = $2")
            .bind(id.0)
            .bind(input.year)
            .fetch_optional(db.pool())
            .await?;
    match pending.as_deref() {
        None => {
            return Err(AppError::invalid(
                "该档案不在本年度年审名单中,请先抽取年审名单",
                "This file is not on the year's re-check list; draw the list first",
            ))
        }
        Some("pending") => {}
        Some(_) => {
            return Err(AppError::conflict(
                "该档案本年度已完成年审",
                "This file has been re-checked this year",
            ))
        }
    }
    if status != "open" {
        return Err(read_only());
    }
    let note = text(&input.note, "年审意见", "The note", 500)?;
    // Closing checks the reason and the measure before anything is written.
    let closing = if input.qualifies {
        None
    } else {
        Some(check_close(&CloseInput {
            closed_on: String::new(),
            reason: note.clone(),
            measure: input.measure.clone(),
        })?)
    };
    let mut tx = db.begin_write().await?;
    let n = sqlx::query(
        "UPDATE hardship_checks SET outcome = $1, note = $2, checked_by = $3, checked_at = $4 \
         WHERE file_id = $5 AND year = $6 AND outcome = 'pending'",
    )
    .bind(if input.qualifies {
        "qualifies"
    } else {
        "closed"
    })
    .bind(&note)
    .bind(scope.actor.user_id.map(|u| u.0))
    .bind(time::now_rfc3339())
    .bind(id.0)
    .bind(input.year)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(AppError::conflict(
            "该档案本年度已完成年审",
            "This file has been re-checked this year",
        ));
    }
    // The close and the re-check commit together or not at all.
    if let Some(c) = &closing {
        close_in(&mut tx, scope, id, org, "open", c).await?;
    }
    sqlx::query("UPDATE hardship_files SET last_checked_on = $1 WHERE id = $2")
        .bind(time::today().to_string())
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.recheck", "hardship_file", id)
            .org(OrgId(org))
            .detail(serde_json::json!({"year": input.year, "qualifies": input.qualifies})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ───────────────────────────── 退回修改 ─────────────────────────────

/// Whether the caller may edit a file now: only while the review chain has
/// returned it (退回修改), and only the union that submitted it. Answers
/// the review item's id, or says why not.
pub async fn editable(db: &Db, scope: &Scope, id: FileId) -> AppResult<i64> {
    let (_, status, _) = admit(db, scope, id).await?;
    match status.as_str() {
        "reviewing" => {}
        "closed" => return Err(read_only()),
        "notice" | "open" => {
            return Err(AppError::conflict(
                "该档案已通过审批(公示中或已确认建档),不能再修改;情况变化请在年审时处理或办理解困脱困",
                "This file has passed its review (on notice or confirmed) and can no longer be edited; record changes at the yearly re-check or close it",
            ))
        }
        "rejected" => {
            return Err(AppError::conflict(
                "该档案未通过审批,不能修改;如情况属实请重新建档",
                "This file was rejected and cannot be edited; file the household again if it qualifies",
            ))
        }
        _ => return Err(AppError::conflict("档案状态已变化", "The file changed meanwhile")),
    }
    let review: Option<i64> =
        sqlx::query_scalar("SELECT review_id FROM hardship_files WHERE id = $1")
            .bind(id.0)
            .fetch_one(db.pool())
            .await?;
    let row: Option<(String, i64)> = match review {
        Some(r) => {
            sqlx::query_as("SELECT status, submitter_org_id FROM review_items WHERE id = $1")
                .bind(r)
                .fetch_optional(db.pool())
                .await?
        }
        None => None,
    };
    let Some((rstatus, submitter)) = row else {
        return Err(AppError::conflict(
            "该档案正在审批中,不能修改",
            "This file is under review and cannot be edited",
        ));
    };
    if rstatus != "returned" {
        return Err(AppError::conflict(
            "该档案正在审批中,不能修改;审批退回修改后才能编辑",
            "This file is under review and cannot be edited; it can be edited once the review returns it for changes",
        ));
    }
    if submitter != scope.org_id.0 {
        return Err(AppError::forbidden(
            "只有提交建档的工会可以修改退回的档案",
            "Only the union that submitted the file can edit it after a return",
        ));
    }
    Ok(review.unwrap_or_default())
}

/// The changes of an edit, for the audit entry: the names of the fields
/// that changed (no values of personal data).
fn changed_fields(before: &sqlx::any::AnyRow, after: &[(&str, String)]) -> Vec<String> {
    after
        .iter()
        .filter(|(k, v)| before.try_get::<String, _>(*k).ok().as_deref() != Some(v.as_str()))
        .map(|(k, _)| k.to_string())
        .collect()
}

/// Edits a file the review chain returned (退回修改) and sends it up the
/// chain again (`review::resubmit`, from the first step). The head stays
/// (a household is filed under its head's ID: another head is another
/// file); everything else is checked as at filing — the income test against
/// the line of the file's year, a category it does not offer needs a reason.
/// An empty bank account keeps the stored one. The edit and its audit entry
/// (the fields changed) commit together; if the resubmission is then
/// refused (someone acted on the item meanwhile), the edit stays and the
/// file waits, returned, for its resubmission.
pub async fn edit(
    st: &AppState,
    scope: &Scope,
    id: FileId,
    input: &FileInput,
    comment: &str,
) -> AppResult<()> {
    scope.require_write()?;
    let review_id = editable(&st.db, scope, id).await?;
    let (org, year): (i64, i64) =
        sqlx::query_as("SELECT org_id, year FROM hardship_files WHERE id = $1")
            .bind(id.0)
            .fetch_one(st.db.pool())
            .await?;
    let line = {
        let mut conn = st.db.pool().acquire().await?;
        line_for(&mut conn, org, year).await?
    };
    let v = validate(input, line)?;
    let housing = text(&input.housing, "住房情况", "Housing", 100)?;
    let employer_status = text(&input.employer_status, "单位状况", "Employer status", 100)?;
    let bank_name = text(&input.bank_name, "开户银行", "The bank", 100)?;
    let comment = text(comment, "修改说明", "The comment", 2000)?;
    let mut tx = st.db.begin_write().await?;
    let before = sqlx::query(
        "SELECT category, override_reason, primary_cause, secondary_causes, housing, employer_status, \
         bank_name, bank_account_masked, status, CAST(zero_employment AS TEXT) AS zero_employment, \
         CAST(single_parent AS TEXT) AS single_parent, CAST(income_fen AS TEXT) AS income_fen, \
         CAST(household_size AS TEXT) AS household_size FROM hardship_files WHERE id = $1",
    )
    .bind(id.0)
    .fetch_one(&mut *tx.tx)
    .await?;
    let masked = v.bank.as_deref().map(model::mask_account);
    let mut changed = changed_fields(
        &before,
        &[
            ("category", v.category.as_str().to_string()),
            ("override_reason", v.override_reason.clone()),
            ("primary_cause", v.primary.to_string()),
            ("secondary_causes", v.secondary.join(",")),
            ("housing", housing.clone()),
            ("employer_status", employer_status.clone()),
            ("bank_name", bank_name.clone()),
            (
                "zero_employment",
                i64::from(input.zero_employment).to_string(),
            ),
            ("single_parent", i64::from(input.single_parent).to_string()),
            ("income_fen", v.income.fen().to_string()),
            ("household_size", (v.members.len() as i64).to_string()),
        ],
    );
    if v.bank.is_some() {
        changed.push("bank_account".into());
    }
    let n = sqlx::query(
        "UPDATE hardship_files SET category = $1, offered_category = $2, override_reason = $3, primary_cause = $4, \
         secondary_causes = $5, household_size = $6, income_fen = $7, per_capita_fen = $8, line_fen = $9, \
         housing = $10, employer_status = $11, zero_employment = $12, single_parent = $13, bank_name = $14, \
         bank_account_enc = COALESCE($15, bank_account_enc), \
         bank_account_masked = COALESCE($16, bank_account_masked), updated_at = $17 \
         WHERE id = $18 AND status = 'reviewing'",
    )
    .bind(v.category.as_str())
    .bind(v.test.offered.map(Category::as_str))
    .bind(&v.override_reason)
    .bind(v.primary)
    .bind(v.secondary.join(","))
    .bind(v.members.len() as i64)
    .bind(v.income.fen())
    .bind(v.test.per_capita.fen())
    .bind(line.line_fen)
    .bind(&housing)
    .bind(&employer_status)
    .bind(i64::from(input.zero_employment))
    .bind(i64::from(input.single_parent))
    .bind(&bank_name)
    .bind(v.bank.as_deref().map(|b| st.keys.encrypt(b)))
    .bind(masked)
    .bind(time::now_rfc3339())
    .bind(id.0)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    // The item must still be returned when the edit commits: a no-op
    // conditional UPDATE, which on PostgreSQL also locks the item's row
    // until this commits, so a resubmission racing the edit waits for it
    // (a plain read would let the edit land on a file back in review).
    let still = sqlx::query(
        "UPDATE review_items SET status = status WHERE id = $1 AND status = 'returned'",
    )
    .bind(review_id)
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if n != 1 || still != 1 {
        return Err(AppError::conflict(
            "档案状态已变化,请刷新后查看",
            "The file changed meanwhile; reload to see where it stands",
        ));
    }
    let members_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hardship_members WHERE file_id = $1")
            .bind(id.0)
            .fetch_one(&mut *tx.tx)
            .await?;
    sqlx::query("DELETE FROM hardship_members WHERE file_id = $1")
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    for m in &v.members {
        sqlx::query(
            "INSERT INTO hardship_members (region_root, file_id, name, relation, income_fen, health, disability, insurance, schooling) \
             SELECT region_root, id, $1, $2, $3, $4, $5, $6, $7 FROM hardship_files WHERE id = $8",
        )
        .bind(&m.name)
        .bind(&m.relation)
        .bind(m.income_fen)
        .bind(&m.health)
        .bind(&m.disability)
        .bind(&m.insurance)
        .bind(&m.schooling)
        .bind(id.0)
        .execute(&mut *tx.tx)
        .await?;
    }
    platform::dataver::touch(&mut tx.tx, [org]).await?;
    audit::append(
        &mut tx,
        &scope.actor,
        Event::new("hardship.file_edit", "hardship_file", id)
            .org(OrgId(org))
            .detail(serde_json::json!({
                "changed": changed,
                "category": v.category.as_str(),
                "offered": v.test.offered.map(Category::as_str),
                "override": !v.override_reason.is_empty(),
                "members_before": members_before,
                "members_after": v.members.len(),
                "review_id": review_id,
            })),
    )
    .await?;
    tx.commit().await?;
    let comment = if comment.is_empty() {
        "已按退回意见修改".to_string()
    } else {
        comment
    };
    review::resubmit(
        &st.db,
        scope,
        &FileReview,
        review::ReviewId(review_id),
        &comment,
    )
    .await?;
    Ok(())
}

/// What the income test gives for a form, shown before filing: the
/// per-capita monthly income, the county's line and its multiples, and the
/// category the rules offer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = HardshipIncomeTest)]
pub struct IncomeTestView {
    pub per_capita_fen: i64,
    pub line_fen: i64,
    pub deep_pct: i64,
    pub relative_pct: i64,
    /// The per-capita income under which a household is 深度困难 / 相对困难.
    pub deep_limit_fen: i64,
    pub relative_limit_fen: i64,
    pub offered: Option<Category>,
}

/// Runs the income test of an input for the org's line of this year; the
/// refusals are the filing's own (causes, members, incomes).
pub async fn test_income(db: &Db, scope: &Scope, input: &FileInput) -> AppResult<IncomeTestView> {
    let org = tree::node(db, scope, OrgId(input.org_id.unwrap_or(scope.org_id.0))).await?;
    let year = chrono::Datelike::year(&time::today()) as i64;
    let line = {
        let mut conn = db.pool().acquire().await?;
        line_for(&mut conn, org.id.0, year).await?
    };
    let (primary, secondary) = model::causes(&input.primary_cause, &input.secondary_causes)?;
    let mut total = Fen::default();
    for m in &input.members {
        if m.income_fen < 0 || m.income_fen > 100_000_000 {
            return Err(AppError::invalid(
                "家庭成员的月收入无效",
                "A household member's monthly income is not valid",
            ));
        }
        total = total
            .checked_add(Fen::from_fen(m.income_fen))
            .ok_or_else(|| AppError::invalid("收入合计过大", "The incomes add up too high"))?;
    }
    let mut all = vec![primary];
    all.extend(&secondary);
    let t = model::income_test(line, total, input.members.len() as i64, &all)?;
    Ok(IncomeTestView {
        per_capita_fen: t.per_capita.fen(),
        line_fen: line.line_fen,
        deep_pct: line.deep_pct,
        relative_pct: line.relative_pct,
        deep_limit_fen: line.line_fen * line.deep_pct / 100,
        relative_limit_fen: line.line_fen * line.relative_pct / 100,
        offered: t.offered,
    })
}
