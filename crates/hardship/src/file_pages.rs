//! The page form of a hardship file: filing a new household (`/hardship/files/new`)
//! and editing one the review chain returned (`/hardship/files/{id}/edit`).
//! One form for both: the head by ID number (a roster member or a worker
//! outside the roster, through `platform::person`), category, causes, a
//! fixed number of household rows (empty rows are skipped; no script), the
//! income test shown on request and with every refusal, which re-shows the
//! form with the message and writes nothing.

use askama::Template;
use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    Form,
};

use crate::{
    files::{self, FileId, FileInput, IncomeTestView, MemberInput},
    model::{self, Category},
};
use platform::{
    error::{AppError, AppResult},
    money::Fen,
    person::PersonInput,
    web::{ctx::Staff, html, pages::Chrome, AppState},
};

/// Household rows a new form shows; an edit shows its members and two more.
pub const MEMBER_ROWS: usize = 8;
/// The most rows a form takes (the filing's own limit is 20 members).
const MAX_ROWS: usize = 20;

/// One household row as typed (the income in yuan).
#[derive(Clone, Debug, Default)]
pub struct MemberRow {
    pub name: String,
    pub relation: String,
    pub income: String,
    pub health: String,
    pub disability: String,
    pub insurance: String,
    pub schooling: String,
}

impl MemberRow {
    fn is_empty(&self) -> bool {
        [
            &self.name,
            &self.relation,
            &self.income,
            &self.health,
            &self.disability,
            &self.insurance,
            &self.schooling,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// The form as typed, shown again on a refusal.
#[derive(Clone, Debug, Default)]
pub struct FormValues {
    pub head_name: String,
    pub head_id_kind: String,
    pub head_id_number: String,
    pub head_phone: String,
    pub category: String,
    pub override_reason: String,
    pub primary_cause: String,
    pub secondary: [String; 3],
    pub members: Vec<MemberRow>,
    pub housing: String,
    pub employer_status: String,
    pub zero_employment: bool,
    pub single_parent: bool,
    pub bank_name: String,
    pub bank_account: String,
    pub comment: String,
    /// "test" runs the income test only; anything else files (or saves).
    pub action: String,
}

impl FormValues {
    /// Reads the posted pairs (`m3_income` is row 3's income …).
    pub fn from_pairs(pairs: &[(String, String)]) -> FormValues {
        let mut f = FormValues::default();
        for (k, v) in pairs {
            let v = v.clone();
            match k.as_str() {
                "head_name" => f.head_name = v,
                "head_id_kind" => f.head_id_kind = v,
                "head_id_number" => f.head_id_number = v,
                "head_phone" => f.head_phone = v,
                "category" => f.category = v,
                "override_reason" => f.override_reason = v,
                "primary_cause" => f.primary_cause = v,
                "secondary_1" => f.secondary[0] = v,
                "secondary_2" => f.secondary[1] = v,
                "secondary_3" => f.secondary[2] = v,
                "housing" => f.housing = v,
                "employer_status" => f.employer_status = v,
                "zero_employment" => f.zero_employment = !v.is_empty(),
                "single_parent" => f.single_parent = !v.is_empty(),
                "bank_name" => f.bank_name = v,
                "bank_account" => f.bank_account = v,
                "comment" => f.comment = v,
                "action" => f.action = v,
                _ => {
                    let Some((row, field)) = k
                        .strip_prefix('m')
                        .and_then(|r| r.split_once('_'))
                        .and_then(|(n, field)| Some((n.parse::<usize>().ok()?, field)))
                    else {
                        continue;
                    };
                    if row >= MAX_ROWS {
                        continue;
                    }
                    if f.members.len() <= row {
                        f.members.resize(row + 1, MemberRow::default());
                    }
                    let m = &mut f.members[row];
                    match field {
                        "name" => m.name = v,
                        "relation" => m.relation = v,
                        "income" => m.income = v,
                        "health" => m.health = v,
                        "disability" => m.disability = v,
                        "insurance" => m.insurance = v,
                        "schooling" => m.schooling = v,
                        _ => {}
                    }
                }
            }
        }
        f
    }

    /// The filing's input; a row's income that is not an amount is refused
    /// naming the row. Empty rows are skipped.
    pub fn to_input(&self) -> AppResult<FileInput> {
        let mut members = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            if m.is_empty() {
                continue;
            }
            let income = match m.income.trim() {
                "" => Fen::default(),
                s => Fen::parse(s).map_err(|e| {
                    AppError::invalid(
                        format!("第{}行家庭成员的月收入“{s}”无效:{}", i + 1, e.zh),
                        format!(
                            "Household row {}: the monthly income “{s}” is not valid: {}",
                            i + 1,
                            e.en
                        ),
                    )
                })?,
            };
            members.push(MemberInput {
                name: m.name.clone(),
                relation: m.relation.clone(),
                income_fen: income.fen(),
                health: m.health.clone(),
                disability: m.disability.clone(),
                insurance: m.insurance.clone(),
                schooling: m.schooling.clone(),
            });
        }
        Ok(FileInput {
            org_id: None,
            head: PersonInput {
                name: self.head_name.clone(),
                id_kind: self.head_id_kind.clone(),
                id_number: self.head_id_number.clone(),
                phone: self.head_phone.clone(),
            },
            category: self.category.clone(),
            override_reason: self.override_reason.clone(),
            primary_cause: self.primary_cause.clone(),
            secondary_causes: self.secondary.to_vec(),
            members,
            housing: self.housing.clone(),
            employer_status: self.employer_status.clone(),
            zero_employment: self.zero_employment,
            single_parent: self.single_parent,
            bank_name: self.bank_name.clone(),
            bank_account: self.bank_account.clone(),
        })
    }

    /// The form of a stored file (an edit): the bank account is left empty
    /// (kept unless typed again).
    fn from_detail(d: &files::FileDetail) -> FormValues {
        let mut secondary: [String; 3] = Default::default();
        for (i, s) in d.secondary_causes.iter().take(3).enumerate() {
            secondary[i] = s.clone();
        }
        FormValues {
            head_name: d.head.name.clone(),
            category: d.row.category.as_str().to_string(),
            override_reason: d.override_reason.clone(),
            primary_cause: d.row.primary_cause.clone(),
            secondary,
            members: d
                .members
                .iter()
                .map(|m| MemberRow {
                    name: m.name.clone(),
                    relation: m.relation.clone(),
                    income: m
                        .income_fen
                        .map(|f| Fen::from_fen(f).yuan_text())
                        .unwrap_or_default(),
                    health: m.health.clone().unwrap_or_default(),
                    disability: m.disability.clone().unwrap_or_default(),
                    insurance: m.insurance.clone(),
                    schooling: m.schooling.clone(),
                })
                .collect(),
            housing: d.housing.clone(),
            employer_status: d.employer_status.clone(),
            zero_employment: d.zero_employment,
            single_parent: d.single_parent,
            bank_name: d.bank_name.clone().unwrap_or_default(),
            ..FormValues::default()
        }
    }

    /// The rows to show: what was typed, padded with empty rows.
    fn padded(mut self) -> FormValues {
        let want = (self.members.len() + 2).clamp(MEMBER_ROWS, MAX_ROWS);
        self.members
            .resize(want.max(self.members.len()), MemberRow::default());
        self
    }
}

/// An edit's head and account, which the form shows but does not change.
pub struct Fixed {
    pub file_id: i64,
    pub org_id: i64,
    pub head: String,
    pub head_id_masked: String,
    pub bank_masked: String,
}

#[derive(Template)]
#[template(path = "hardship/file_form.html")]
struct FormPage {
    c: Chrome,
    v: FormValues,
    /// Some: an edit of this file.
    fixed: Option<Fixed>,
    test: Option<IncomeTestView>,
    error: Option<String>,
}

impl FormPage {
    fn categories(&self) -> Vec<(&'static str, &'static str)> {
        model::CATEGORIES
            .iter()
            .map(|c| (c.1, if self.c.tr.is_en() { c.3 } else { c.2 }))
            .collect()
    }
    fn causes(&self) -> Vec<(&'static str, &'static str)> {
        model::CAUSES
            .iter()
            .map(|c| (c.0, if self.c.tr.is_en() { c.2 } else { c.1 }))
            .collect()
    }
    fn money(&self, fen: &i64) -> String {
        format!("{}元", Fen::from_fen(*fen).yuan_text())
    }
    fn offered(&self, o: &Option<Category>) -> String {
        match o {
            Some(c) => c.label().get(self.c.tr.0).to_string(),
            None => self.c.t("hardship.not_eligible").to_string(),
        }
    }
    /// Whether the chosen category differs from the one the test offers.
    fn differs(&self, o: &Option<Category>) -> bool {
        match Category::parse(&self.v.category) {
            Ok(c) => Some(c) != *o,
            Err(_) => false,
        }
    }
    fn action(&self) -> String {
        match &self.fixed {
            Some(f) => format!("/hardship/files/{}/edit", f.file_id),
            None => "/hardship/files/new".to_string(),
        }
    }
}

fn render(
    staff: &Staff,
    v: FormValues,
    fixed: Option<Fixed>,
    test: Option<IncomeTestView>,
    error: Option<AppError>,
) -> Response {
    let status = error
        .as_ref()
        .and_then(|e| StatusCode::from_u16(e.status()).ok())
        .unwrap_or(StatusCode::OK);
    let error = error.map(|e| e.user_message().get(staff.ctx.lang).to_string());
    let page = html(&FormPage {
        c: Chrome::new(staff, "hardship"),
        v: v.padded(),
        fixed,
        test,
        error,
    });
    (status, page).into_response()
}

/// The income test of a form when it can be run (causes and incomes valid).
async fn try_test(st: &AppState, staff: &Staff, input: &FileInput) -> Option<IncomeTestView> {
    files::test_income(&st.db, staff.scope(), input).await.ok()
}

/// The empty form of a new file.
pub async fn new_page(staff: Staff) -> AppResult<Response> {
    staff.scope().require_write()?;
    Ok(render(&staff, FormValues::default(), None, None, None))
}

/// Files the household, or runs the income test (`action=test`); a refusal
/// shows the form again with the message, nothing written.
pub async fn new_submit(
    State(st): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let v = FormValues::from_pairs(&pairs);
    let input = match v.to_input() {
        Ok(i) => i,
        Err(e) => return Ok(render(&staff, v, None, None, Some(e))),
    };
    if v.action == "test" {
        return Ok(
            match files::test_income(&st.db, staff.scope(), &input).await {
                Ok(t) => render(&staff, v, None, Some(t), None),
                Err(e) => render(&staff, v, None, None, Some(e)),
            },
        );
    }
    match files::create(&st, staff.scope(), &input).await {
        Ok(id) => Ok(Redirect::to(&format!("/hardship/files/{}", id.0)).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => {
            let test = try_test(&st, &staff, &input).await;
            Ok(render(&staff, v, None, test, Some(e)))
        }
    }
}

async fn fixed_of(st: &AppState, staff: &Staff, id: FileId) -> AppResult<(Fixed, FormValues)> {
    files::editable(&st.db, staff.scope(), id).await?;
    let d = files::get(&st.db, staff.scope(), id).await?;
    let v = FormValues::from_detail(&d);
    Ok((
        Fixed {
            file_id: id.0,
            org_id: d.row.org_id,
            head: d.head.name.clone(),
            head_id_masked: d.head.id_masked.clone(),
            bank_masked: d.bank_account_masked.clone().unwrap_or_default(),
        },
        v,
    ))
}

/// The form of a returned file, filled with what is stored (the bank
/// account kept unless typed again). A file under review, on notice,
/// confirmed, rejected or closed is refused with why.
pub async fn edit_page(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let (fixed, v) = fixed_of(&st, &staff, FileId(id)).await?;
    let input = v.to_input().ok();
    let test = match &input {
        Some(i) => {
            let mut i = i.clone();
            i.org_id = Some(fixed.org_id);
            try_test(&st, &staff, &i).await
        }
        None => None,
    };
    Ok(render(&staff, v, Some(fixed), test, None))
}

/// Saves the edit and resubmits the file up the review chain; a refusal
/// shows the form again, nothing written.
pub async fn edit_submit(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    staff.scope().require_write()?;
    let (fixed, _) = fixed_of(&st, &staff, FileId(id)).await?;
    let mut v = FormValues::from_pairs(&pairs);
    v.head_name = fixed.head.clone();
    let input = match v.to_input() {
        Ok(mut i) => {
            i.org_id = Some(fixed.org_id);
            i
        }
        Err(e) => return Ok(render(&staff, v, Some(fixed), None, Some(e))),
    };
    if v.action == "test" {
        return Ok(
            match files::test_income(&st.db, staff.scope(), &input).await {
                Ok(t) => render(&staff, v, Some(fixed), Some(t), None),
                Err(e) => render(&staff, v, Some(fixed), None, Some(e)),
            },
        );
    }
    match files::edit(&st, staff.scope(), FileId(id), &input, &v.comment).await {
        Ok(()) => Ok(Redirect::to(&format!("/hardship/files/{id}")).into_response()),
        Err(AppError::NotFound) => Err(AppError::NotFound),
        Err(e) => {
            let test = try_test(&st, &staff, &input).await;
            Ok(render(&staff, v, Some(fixed), test, Some(e)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_form_reads_rows_and_skips_empty_ones() {
        let v = FormValues::from_pairs(&pairs(&[
            ("head_name", "柳青山"),
            ("m0_name", "柳青山"),
            ("m0_relation", "本人"),
            ("m0_income", "1,200.50"),
            ("m1_name", ""),
            ("m2_name", "柳小"),
            ("m2_relation", "子女"),
            ("m99_name", "ignored"),
            ("secondary_2", "未参保"),
            ("zero_employment", "1"),
        ]));
        let i = v.to_input().unwrap();
        assert_eq!(i.members.len(), 2);
        assert_eq!(i.members[0].income_fen, 120_050);
        assert_eq!(i.members[1].income_fen, 0);
        assert!(i.zero_employment && !i.single_parent);
        assert_eq!(i.secondary_causes[1], "未参保");
        let bad = FormValues::from_pairs(&pairs(&[("m1_name", "甲"), ("m1_income", "很多")]));
        let e = bad.to_input().unwrap_err().user_message();
        assert!(e.zh.contains("第2行") && e.en.contains("row 2"), "{}", e.zh);
    }
}
