//! Enrolment from an Excel list (xlsx, xls or CSV): a union uploads 姓名 and
//! 身份证号 (证件类型 optional) for a plan. The ID number is the key: each
//! row is matched to an active member of the caller's subtree (and of the
//! plan's) by the roster's keyed ID hash, and the name is checked against
//! the roster. All or nothing: every bad row — a bad ID (check digit …), a
//! person who is not a member in scope (said the same way as "not a
//! member"), a name that differs from the roster, a row listed twice, a
//! person already enrolled in the plan — is listed with its row number and
//! the file is refused whole, nothing written.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use crate::store::{self, Enrolled, Plan};
use platform::{
    error::{AppError, AppResult},
    i18n::Msg,
    scope::Scope,
    sqlx_util::{bind_all, placeholders, V},
    time,
    web::AppState,
};

/// One refused row: its number as Excel shows it, and why.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MutualAidRowProblem {
    pub row: usize,
    pub zh: String,
    pub en: String,
}

/// What checking an upload gave.
#[derive(Debug)]
pub enum Outcome {
    /// Written (or, for a check only, what would be written: `persons`
    /// and `contributions_fen` of the list, the plan's totals unchanged).
    Enrolled(Enrolled),
    /// Refused whole: each bad row and why; nothing written.
    Refused(Vec<MutualAidRowProblem>),
}

/// How many row problems a refusal lists (the count says how many more).
pub const MAX_PROBLEMS: usize = 200;

/// IDs looked up per query.
const CHUNK: usize = 500;

struct Line {
    row: usize,
    name: String,
    hash: String,
}

fn problem(row: usize, zh: impl Into<String>, en: impl Into<String>) -> MutualAidRowProblem {
    MutualAidRowProblem {
        row,
        zh: zh.into(),
        en: en.into(),
    }
}

/// The refusal as one message (for the API's `error` and the page).
pub fn refusal_message(problems: &[MutualAidRowProblem]) -> Msg {
    let shown = problems.iter().take(20);
    let zh: Vec<String> = shown
        .clone()
        .map(|p| format!("第{}行:{}", p.row, p.zh))
        .collect();
    let en: Vec<String> = shown.map(|p| format!("row {}: {}", p.row, p.en)).collect();
    let more = problems.len().saturating_sub(20);
    Msg::new(
        format!(
            "名单中有{}处错误,整份名单未登记任何人:{}{}",
            problems.len(),
            zh.join(";"),
            if more > 0 {
                format!(";另有{more}处")
            } else {
                String::new()
            }
        ),
        format!(
            "The list has {} problems; nobody was enrolled: {}{}",
            problems.len(),
            en.join("; "),
            if more > 0 {
                format!("; {more} more")
            } else {
                String::new()
            }
        ),
    )
}

/// Checks an uploaded list for `plan_id` and, unless `check_only`,
/// enrols it (one transaction). File-level faults (not a spreadsheet, too
/// large, columns missing, empty) are errors; row faults are `Refused`.
pub async fn enrol_from_sheet(
    st: &AppState,
    scope: &Scope,
    plan_id: i64,
    bytes: &[u8],
    enrolled_on: &str,
    check_only: bool,
) -> AppResult<Outcome> {
    scope.require_write()?;
    let db = &st.db;
    let plan = store::get_plan(db, scope, plan_id).await?;
    let on = store::enrolment_date(enrolled_on, &plan)?;
    let sheet_err = |e: sheet::SheetError| {
        let (zh, en) = e.message();
        AppError::invalid(zh, en)
    };
    let table = sheet::read_table(bytes, store::MAX_ENROL).map_err(sheet_err)?;
    let map = sheet::HeaderMap::new(
        &table.headers,
        &[
            ("name", &["姓名"], true),
            ("id", &["身份证号", "证件号码", "身份证号码"], true),
            ("kind", &["证件类型"], false),
        ],
    )
    .map_err(sheet_err)?;
    if table.rows.is_empty() {
        return Err(AppError::invalid(
            "名单为空:请在表头下逐行填写姓名和身份证号",
            "The list is empty: give a name and an ID number per row under the header",
        ));
    }
    let today = time::today();
    let mut problems = Vec::new();
    let mut lines: Vec<Line> = Vec::with_capacity(table.rows.len());
    let mut first_row: HashMap<String, usize> = HashMap::new();
    for r in &table.rows {
        let name: String = map
            .get(r, "name")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() || name.chars().count() > 50 {
            problems.push(problem(
                r.line,
                "请填写姓名(最多50字)",
                "give the name (at most 50 characters)",
            ));
            continue;
        }
        let kind = match map.get(r, "kind") {
            "" => ident::IdKind::ResidentId,
            s => match ident::IdKind::from_label(s) {
                Some(k) => k,
                None => {
                    problems.push(problem(
                        r.line,
                        format!("证件类型“{s}”无法识别"),
                        format!("unknown document type “{s}”"),
                    ));
                    continue;
                }
            },
        };
        let id = match ident::IdNumber::parse_on(kind, map.get(r, "id"), today) {
            Ok(id) => id,
            Err(e) => {
                let (zh, en) = e.message();
                problems.push(problem(
                    r.line,
                    format!("身份证号有误:{zh}"),
                    format!("bad ID number: {en}"),
                ));
                continue;
            }
        };
        let hash = platform::person::id_lookup_hash(&st.keys, id.as_str());
        if let Some(first) = first_row.get(&hash) {
            problems.push(problem(
                r.line,
                format!("与第{first}行是同一人(身份证号重复)"),
                format!("the same person as row {first} (ID number listed twice)"),
            ));
            continue;
        }
        first_row.insert(hash.clone(), r.line);
        lines.push(Line {
            row: r.line,
            name,
            hash,
        });
    }
    // The roster: active members of the caller's subtree inside the
    // plan's, by keyed ID hash. Anyone else — absent from the roster, in
    // another union's subtree, membership ended — reads the same.
    let within_prefix = if plan.org_path.len() > scope.path().len() {
        plan.org_path.as_str()
    } else {
        scope.path()
    };
    let mut found: HashMap<String, (i64, String, i64, i64)> = HashMap::new();
    let mut enrolled: std::collections::HashSet<i64> = std::collections::HashSet::new();
    for chunk in lines.chunks(CHUNK) {
        // By the unique ID hash alone (an index lookup per ID, whatever the
        // union's size); the subtree is checked here.
        let vals: Vec<V> = chunk.iter().map(|l| V::from(l.hash.clone())).collect();
        let sql = format!(
            "SELECT p.id_hash, p.id, p.name, m.id, m.org_id, o.path FROM persons p \
             JOIN memberships m ON m.person_id = p.id AND m.status = 'active' \
             JOIN orgs o ON o.id = m.org_id WHERE p.id_hash IN ({}) ORDER BY m.id",
            placeholders(0, chunk.len())
        );
        for r in bind_all(sqlx::query(&sql), &vals)
            .fetch_all(db.pool())
            .await?
        {
            let path: String = r.try_get(5)?;
            if !path.starts_with(within_prefix) {
                continue;
            }
            let h: String = r.try_get(0)?;
            found
                .entry(h)
                .or_insert((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?));
        }
        let persons: Vec<i64> = chunk
            .iter()
            .filter_map(|l| found.get(&l.hash).map(|f| f.0))
            .collect();
        if !persons.is_empty() {
            let mut vals: Vec<V> = vec![V::from(plan.id)];
            vals.extend(persons.iter().map(|p| V::from(*p)));
            let sql = format!(
                "SELECT person_id FROM aid_enrolments WHERE plan_id = $1 AND person_id IN ({})",
                placeholders(1, persons.len())
            );
            for r in bind_all(sqlx::query(&sql), &vals)
                .fetch_all(db.pool())
                .await?
            {
                enrolled.insert(r.try_get(0)?);
            }
        }
    }
    let mut picked = Vec::with_capacity(lines.len());
    for l in &lines {
        match found.get(&l.hash) {
            None => problems.push(problem(
                l.row,
                "该身份证号不是本单位(含下级)的在籍会员,请先在会员名册中登记",
                "this ID number is not an active member of your union (or the unions under it); add them to the roster first",
            )),
            Some((_, roster_name, ..)) if *roster_name != l.name => problems.push(problem(
                l.row,
                format!("姓名“{}”与会员名册不符,请核对", l.name),
                format!("the name “{}” does not match the roster; check it", l.name),
            )),
            Some((pid, ..)) if enrolled.contains(pid) => problems.push(problem(
                l.row,
                format!("{}已参加该计划本期保障,不能重复参保", l.name),
                format!("{} is already enrolled in this plan's period", l.name),
            )),
            Some(&(pid, _, mid, oid)) => picked.push((mid, pid, oid)),
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.row);
        return Ok(Outcome::Refused(problems));
    }
    if check_only {
        let (pp, pc) = store::plan_totals(db, scope, plan.id).await?;
        let total = list_total(&plan, picked.len())?;
        return Ok(Outcome::Enrolled(Enrolled {
            plan_id: plan.id,
            before_persons: pp,
            before_contributions_fen: pc,
            persons: picked.len() as i64,
            contributions_fen: total,
            plan_persons: pp,
            plan_contributions_fen: pc,
        }));
    }
    Ok(Outcome::Enrolled(
        store::write_enrolments(db, scope, &plan, on, &picked).await?,
    ))
}

fn list_total(plan: &Plan, n: usize) -> AppResult<i64> {
    platform::money::Fen::from_fen(plan.contribution_fen)
        .checked_mul(n as i64)
        .map(|f| f.fen())
        .ok_or_else(|| AppError::invalid("金额过大", "Amount too large"))
}
