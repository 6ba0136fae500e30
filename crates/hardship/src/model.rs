//! The rules of 《困难职工档案管理办法》 as pure functions: categories, causes,
//! the income test, campaign kinds and who sees what of a file.

use platform::{
    error::{AppError, AppResult},
    i18n::Msg,
    money::Fen,
    scope::{Perm, Role, Scope},
};
use serde::Serialize;

/// 困难类别.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// 深度困难
    Deep,
    /// 相对困难
    Relative,
    /// 意外致困
    Sudden,
}

pub const CATEGORIES: &[(Category, &str, &str, &str)] = &[
    (Category::Deep, "deep", "深度困难", "Deep hardship"),
    (
        Category::Relative,
        "relative",
        "相对困难",
        "Relative hardship",
    ),
    (Category::Sudden, "sudden", "意外致困", "Sudden hardship"),
];

impl Category {
    pub fn as_str(self) -> &'static str {
        CATEGORIES.iter().find(|c| c.0 == self).map_or("", |c| c.1)
    }
    /// Accepts the key or the Chinese name.
    pub fn parse(s: &str) -> AppResult<Category> {
        let s = s.trim();
        CATEGORIES
            .iter()
            .find(|c| c.1 == s || c.2 == s)
            .map(|c| c.0)
            .ok_or_else(|| {
                AppError::invalid(
                    format!("困难类别“{s}”无效,应为 深度困难、相对困难 或 意外致困"),
                    format!("Unknown category “{s}”: use deep, relative or sudden"),
                )
            })
    }
    pub fn label(self) -> Msg {
        let c = CATEGORIES.iter().find(|c| c.0 == self).expect("listed");
        Msg::new(c.2, c.3)
    }
}

/// 致困原因, the fixed list: (key, 中文, English).
pub const CAUSES: &[(&str, &str, &str)] = &[
    ("no_capacity", "无劳动能力", "Unable to work"),
    (
        "unemployed",
        "有劳动能力未就业",
        "Able to work, not employed",
    ),
    ("laid_off", "下岗失业", "Laid off"),
    ("uninsured", "未参保", "Not insured"),
    (
        "benefits_unpaid",
        "社保待遇未落实",
        "Social-insurance benefits not paid",
    ),
    ("illness", "重特大疾病", "Serious illness"),
    ("disaster", "自然灾害", "Natural disaster"),
    ("accident", "意外事故", "Accident"),
    ("schooling", "子女上学", "Children's schooling"),
    ("other", "其他", "Other"),
];

/// Causes that make a household 意外致困 whatever its income was before.
pub const SUDDEN_CAUSES: &[&str] = &["illness", "disaster", "accident"];

/// A cause's key from its key or Chinese name.
pub fn cause(s: &str) -> AppResult<&'static str> {
    let s = s.trim();
    CAUSES
        .iter()
        .find(|c| c.0 == s || c.1 == s)
        .map(|c| c.0)
        .ok_or_else(|| {
            AppError::invalid(
                format!("致困原因“{s}”不在规定的原因中"),
                format!("“{s}” is not one of the listed causes of hardship"),
            )
        })
}

pub fn cause_label(key: &str) -> Msg {
    CAUSES
        .iter()
        .find(|c| c.0 == key)
        .map_or_else(|| Msg::new(key, key), |c| Msg::new(c.1, c.2))
}

/// The primary cause and up to three secondary ones, distinct.
pub fn causes(primary: &str, secondary: &[String]) -> AppResult<(&'static str, Vec<&'static str>)> {
    if primary.trim().is_empty() {
        return Err(AppError::invalid(
            "请填写主要致困原因",
            "Give the main cause of hardship",
        ));
    }
    let p = cause(primary)?;
    let mut out: Vec<&'static str> = Vec::new();
    for s in secondary.iter().filter(|s| !s.trim().is_empty()) {
        let c = cause(s)?;
        if c != p && !out.contains(&c) {
            out.push(c);
        }
    }
    if out.len() > 3 {
        return Err(AppError::invalid(
            "次要致困原因最多填写3项",
            "At most three secondary causes",
        ));
    }
    Ok((p, out))
}

/// The 低保 line and its multiples for a region and year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Line {
    /// The monthly 低保 line per person, fen.
    pub line_fen: i64,
    /// Per-capita income at or under line × deep_pct% is 深度困难.
    pub deep_pct: i64,
    /// … at or under line × relative_pct% is 相对困难.
    pub relative_pct: i64,
}

/// What the income test finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomeTest {
    pub per_capita: Fen,
    /// None: the household does not qualify.
    pub offered: Option<Category>,
}

/// The category the income and the causes offer: under the deep multiple
/// 深度困难, under the relative one 相对困难; above both only a sudden cause
/// (重特大疾病, 自然灾害, 意外事故) makes a household 意外致困.
pub fn income_test(
    line: Line,
    household_income: Fen,
    size: i64,
    causes: &[&str],
) -> AppResult<IncomeTest> {
    if size < 1 {
        return Err(AppError::invalid(
            "家庭成员至少1人(含户主本人)",
            "A household has at least one member (the head included)",
        ));
    }
    let per_capita = Fen::from_fen(household_income.fen() / size);
    let pc = per_capita.fen() as i128 * 100;
    let offered = if pc <= line.line_fen as i128 * line.deep_pct as i128 {
        Some(Category::Deep)
    } else if pc <= line.line_fen as i128 * line.relative_pct as i128 {
        Some(Category::Relative)
    } else if causes.iter().any(|c| SUDDEN_CAUSES.contains(c)) {
        Some(Category::Sudden)
    } else {
        None
    };
    Ok(IncomeTest {
        per_capita,
        offered,
    })
}

/// The category filed: the one offered, or another with a reason. Income
/// that contradicts the category without a reason is refused, saying what
/// the test found.
pub fn decide_category(
    chosen: Category,
    test: IncomeTest,
    line: Line,
    reason: &str,
) -> AppResult<()> {
    if Some(chosen) == test.offered || !reason.trim().is_empty() {
        return Ok(());
    }
    let (zh, en) = match test.offered {
        Some(o) => (o.label().zh, o.label().en),
        None => ("不符合建档条件".to_string(), "not eligible".to_string()),
    };
    Err(AppError::invalid(
        format!(
            "收入与困难类别不符:家庭人均月收入{},当地低保标准{},按收入和致困原因应为“{zh}”;如确需认定为“{}”,请填写理由",
            per_capita_text(test.per_capita),
            per_capita_text(Fen::from_fen(line.line_fen)),
            chosen.label().zh
        ),
        format!(
            "The income contradicts the category: per-capita monthly income {}, local 低保 line {}, which gives “{en}”; to file it as “{}” give a reason",
            test.per_capita.yuan_text(),
            Fen::from_fen(line.line_fen).yuan_text(),
            chosen.label().en
        ),
    ))
}

fn per_capita_text(f: Fen) -> String {
    format!("{}元", f.yuan_text())
}

/// Campaign kinds: (key, 中文, English).
pub const KINDS: &[(&str, &str, &str)] = &[
    ("warmth", "送温暖", "Winter warmth visits"),
    ("education", "金秋助学", "Autumn study grants"),
    ("summer", "夏送清凉", "Summer cooling visits"),
    ("jobs", "春送岗位", "Spring job help"),
    ("daily", "日常救助", "Everyday relief"),
    ("special", "专项救助", "Special relief"),
];

pub fn kind(s: &str) -> AppResult<&'static str> {
    let s = s.trim();
    KINDS
        .iter()
        .find(|k| k.0 == s || k.1 == s)
        .map(|k| k.0)
        .ok_or_else(|| {
            AppError::invalid(
                format!("活动类型“{s}”无效"),
                format!("Unknown campaign kind “{s}”"),
            )
        })
}

pub fn kind_label(key: &str) -> Msg {
    KINDS
        .iter()
        .find(|k| k.0 == key)
        .map_or_else(|| Msg::new(key, key), |k| Msg::new(k.1, k.2))
}

/// Who sees what of a file. Case workers (administrators and staff, who
/// file, review and pay) see health, disability, incomes and the masked
/// bank account; auditors (经审), who check that money went to households
/// that qualified, see incomes and the masked account but not health or
/// disability. The full account number needs the unmask permission and is
/// audited. Every view of a file is audited whatever it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Access {
    pub health: bool,
    pub income: bool,
    pub bank: bool,
    pub unmask_bank: bool,
}

impl Access {
    pub fn of(scope: &Scope) -> Access {
        let case_worker = matches!(scope.role, Role::Admin | Role::Staff);
        let auditor = scope.role == Role::Auditor;
        Access {
            health: case_worker,
            income: case_worker || auditor,
            bank: case_worker || auditor,
            unmask_bank: (case_worker || auditor) && scope.has(Perm::Unmask),
        }
    }
}

/// A bank account number as typed: digits (spaces allowed), 8 to 30 of them.
pub fn bank_account(raw: &str) -> AppResult<Option<String>> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    if !(8..=30).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::invalid(
            "银行账号应为8到30位数字",
            "A bank account number is 8 to 30 digits",
        ));
    }
    Ok(Some(digits))
}

/// The masked account: the last four digits only.
pub fn mask_account(digits: &str) -> String {
    let n = digits.chars().count();
    let tail: String = digits.chars().skip(n.saturating_sub(4)).collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: Line = Line {
        line_fen: 70_000,
        deep_pct: 100,
        relative_pct: 150,
    };

    #[test]
    fn the_income_test_offers_the_category() {
        let t = |income: i64, size: i64, causes: &[&str]| {
            income_test(LINE, Fen::from_fen(income), size, causes)
                .unwrap()
                .offered
        };
        assert_eq!(t(210_000, 3, &["laid_off"]), Some(Category::Deep));
        assert_eq!(t(210_003, 3, &["laid_off"]), Some(Category::Relative));
        assert_eq!(t(315_000, 3, &["laid_off"]), Some(Category::Relative));
        assert_eq!(t(316_000, 3, &["laid_off"]), None);
        assert_eq!(t(900_000, 3, &["accident"]), Some(Category::Sudden));
        assert!(income_test(LINE, Fen::from_fen(1), 0, &[]).is_err());
    }

    #[test]
    fn a_contradicting_category_needs_a_reason() {
        let test = income_test(LINE, Fen::from_fen(300_000), 2, &["laid_off"]).unwrap();
        assert_eq!(test.offered, None);
        let e = decide_category(Category::Deep, test, LINE, "").unwrap_err();
        let m = e.user_message();
        assert!(
            m.zh.contains("收入与困难类别不符") && m.zh.contains("1500.00元"),
            "{}",
            m.zh
        );
        assert!(m.en.contains("contradicts"));
        assert!(decide_category(Category::Deep, test, LINE, "患病支出大").is_ok());
        let ok = income_test(LINE, Fen::from_fen(100_000), 2, &["laid_off"]).unwrap();
        assert!(decide_category(Category::Deep, ok, LINE, "").is_ok());
    }

    #[test]
    fn causes_are_from_the_list_and_at_most_three_secondary() {
        assert_eq!(causes("下岗失业", &[]).unwrap().0, "laid_off");
        assert!(causes("", &[]).is_err());
        assert!(causes("穷", &[]).is_err());
        let four: Vec<String> = ["无劳动能力", "未参保", "子女上学", "其他"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(causes("下岗失业", &four).is_err());
        assert_eq!(causes("下岗失业", &four[..3]).unwrap().1.len(), 3);
    }

    #[test]
    fn bank_accounts_are_digits_and_masked_to_four() {
        assert_eq!(
            bank_account("6222 0212 3456 7890").unwrap().as_deref(),
            Some("6222021234567890")
        );
        assert!(bank_account("12ab5678").is_err());
        assert_eq!(bank_account(" ").unwrap(), None);
        assert_eq!(mask_account("6222021234567890"), "****7890");
    }
}
