//! The yearly statistical return (统计年报): the survey's lines that the
//! modules declare (`platform::survey`, `Registry::yearly_return`), for an
//! org subtree and a reference period (1 October – 30 September by default),
//! in the hierarchical layout federations consolidate upward — the org's own
//! records (本级), one column per child org, and the total — with the
//! 逻辑检查 of the ACFTU's offline tool: every rule checked for every column,
//! each failure naming the org and the rule.
//!
//! Values come from the figures engine in one pass (`figures::table`: one
//! query per record source, grouped by org, rolled up to the child orgs in
//! memory), so every value of the return equals the figure, and the
//! drill-down, of its indicator.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{
    figures::{self, Amount, FigureTable, OrgRef},
    period::Period,
};
use platform::{
    db::Db,
    error::{AppError, AppResult},
    ids::OrgId,
    scope::Scope,
    survey::{Answer, Area, Check, Contribution, Item, Relation},
    time,
};
use sheet::{CellOut, SheetOut};

/// The default reference period: 1 October of last year to 30 September of
/// this year (the survey's 统计年度).
pub fn default_period(today: NaiveDate) -> Period {
    let y = today.year();
    Period {
        start: NaiveDate::from_ymd_opt(y - 1, 10, 1).expect("valid"),
        end: NaiveDate::from_ymd_opt(y, 9, 30).expect("valid"),
    }
}

/// The reference period from optional text dates: both or neither (the default).
pub fn period_from(from: Option<&str>, to: Option<&str>) -> AppResult<Period> {
    fn nonempty(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    match (nonempty(from), nonempty(to)) {
        (None, None) => Ok(default_period(time::today())),
        (from, to) => Period::from_params(None, None, from.or(Some("")), to.or(Some(""))),
    }
}

/// A column of the return.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Column {
    /// The child org; None for the org's own records (本级) and the total.
    pub org: Option<OrgRef>,
    pub label: String,
    pub label_en: String,
    pub total: bool,
}

/// A value cell: a count, a rate (percent, one decimal, with its parts),
/// not recorded by Gonghui, or a manual figure not entered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Count(i64),
    Rate { num: i64, den: i64 },
    NotRecorded,
    NotEntered,
}

impl Value {
    fn of(a: Amount) -> Value {
        match a {
            Amount::Count(n) => Value::Count(n),
            Amount::Ratio(num, den) => Value::Rate { num, den },
            Amount::NotEntered => Value::NotEntered,
        }
    }
    pub fn count(self) -> Option<i64> {
        match self {
            Value::Count(n) => Some(n),
            _ => None,
        }
    }
    pub fn text(self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Rate { num, den } => figures::percent_1dp(num, den)
                .map(|p| format!("{p:.1}%"))
                .unwrap_or_else(|| "—".into()),
            Value::NotRecorded => NOT_RECORDED.into(),
            Value::NotEntered => "未填报".into(),
        }
    }
    fn cell(self) -> CellOut {
        match self {
            Value::Count(n) => CellOut::Int(n),
            Value::Rate { num, den } => {
                figures::percent_1dp(num, den).map_or(CellOut::Text("—".into()), CellOut::Num)
            }
            Value::NotRecorded => NOT_RECORDED.into(),
            Value::NotEntered => "未填报".into(),
        }
    }
}

pub const NOT_RECORDED: &str = "未统计";

/// One line of the return: the item and a value per column.
#[derive(Clone, Debug)]
pub struct Line {
    pub item: Item,
    pub values: Vec<Value>,
}

/// One area (sheet) of the return.
#[derive(Clone, Debug)]
pub struct AreaOut {
    pub area: Area,
    pub lines: Vec<Line>,
}

/// A failed rule of the 逻辑检查, in one column.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Failure {
    /// The column's org code (the total: the asked org's code).
    pub org_code: String,
    pub org_name: String,
    /// 本级记录 (the org's own records), 下级汇总 (a child org's subtree) or 合计.
    pub level: String,
    pub rule: String,
    pub rule_en: String,
    /// "H05 女会员 = 130 > H04 会员人数 = 120"
    pub detail: String,
}

/// The return for one org subtree and reference period.
pub struct Return {
    pub org: OrgRef,
    pub period: Period,
    pub columns: Vec<Column>,
    pub areas: Vec<AreaOut>,
    pub failures: Vec<Failure>,
    /// (rate, numerator, denominator) names: how each rate is computed.
    pub rates: Vec<(String, String, String)>,
}

impl Return {
    /// The value of an item by code in a column.
    pub fn value(&self, code: &str, column: usize) -> Option<Value> {
        self.areas
            .iter()
            .flat_map(|a| a.lines.iter())
            .find(|l| l.item.code == code)
            .map(|l| l.values[column])
    }
    /// The index of the total column.
    pub fn total_column(&self) -> usize {
        self.columns.len() - 1
    }
}

/// The return's lines grouped by area (sheet order), each area's lines by code.
fn areas_of(c: &Contribution) -> Vec<(Area, Vec<Item>)> {
    let mut areas: Vec<(Area, Vec<Item>)> = Vec::new();
    for item in &c.items {
        match areas.iter_mut().find(|(a, _)| a.key == item.area.key) {
            Some((_, items)) => items.push(*item),
            None => areas.push((item.area, vec![*item])),
        }
    }
    areas.sort_by_key(|(a, _)| a.order);
    for (_, items) in &mut areas {
        items.sort_by(|a, b| a.code.cmp(b.code));
    }
    areas
}

/// Builds the return from the figures engine's one pass: the columns from
/// the rolled-up table, and the 逻辑检查 of every org's own records in the
/// subtree (a grassroots union's form) as well as of every column.
pub async fn build(
    db: &Db,
    scope: &Scope,
    contribution: &Contribution,
    org_id: OrgId,
    period: Period,
) -> AppResult<Return> {
    let (t, per_org) = figures::table_and_orgs(db, scope, org_id, period).await?;
    let org = ::orgs::store::get(db, scope, org_id).await?;
    let subtree = ::orgs::store::list_subtree(db, &scope.narrow(org.id, &org.path)?).await?;
    let counted: std::collections::HashSet<&str> = db
        .catalogue()
        .iter()
        .filter(|i| i.source().is_some())
        .map(|i| i.code)
        .collect();
    let mut r = assemble(&t, contribution, period);
    // Every org's own records, in code order.
    let mut own = Vec::new();
    let mut orgs: Vec<&::orgs::store::Org> = subtree.iter().collect();
    orgs.sort_by(|a, b| a.code.cmp(&b.code));
    for o in orgs {
        let Some(values) = per_org.get(&o.id.0) else {
            continue;
        };
        let value = |code: &str| -> Option<i64> {
            match item_of(contribution, code)?.answer {
                Answer::Indicator(ind) if counted.contains(ind) => {
                    Some(values.get(ind).copied().unwrap_or(0))
                }
                _ => None,
            }
        };
        for (rule, detail) in
            failed_rules(&contribution.checks, value, |c| name_in(contribution, c))
        {
            own.push(Failure {
                org_code: o.code.clone(),
                org_name: o.name.clone(),
                level: OWN.into(),
                rule: rule.zh.into(),
                rule_en: rule.en.into(),
                detail,
            });
        }
    }
    // Then the columns that add several orgs up: children with orgs under
    // them, and the total (the 本级 column and a leaf child are their own records).
    let has_children = |path: &str| {
        subtree
            .iter()
            .any(|o| o.path.len() > path.len() && o.path.starts_with(path))
    };
    let mut columns = Vec::new();
    for f in std::mem::take(&mut r.failures) {
        let keep = match r
            .columns
            .iter()
            .find(|c| c.org.as_ref().map(|o| &o.code) == Some(&f.org_code) && !c.total)
        {
            Some(c) => {
                let id = c.org.as_ref().map(|o| o.id).unwrap_or_default();
                subtree
                    .iter()
                    .any(|o| o.id.0 == id && has_children(&o.path))
            }
            None => f.level == TOTAL,
        };
        if keep {
            columns.push(f);
        }
    }
    own.extend(columns);
    r.failures = own;
    Ok(r)
}

const OWN: &str = "本级记录";
const SUBTREE: &str = "下级汇总";
const TOTAL: &str = "合计";

fn item_of<'a>(c: &'a Contribution, code: &str) -> Option<&'a Item> {
    c.items.iter().find(|i| i.code == code)
}

fn name_in(c: &Contribution, code: &str) -> String {
    item_of(c, code).map_or_else(String::new, |i| i.zh.trim_start_matches('#').to_string())
}

/// The rules that fail for one set of values (`value`: an item's count, None
/// when it has none — not recorded, a rate, not entered — which makes a rule
/// not applicable), each with its detail ("H05 女会员 = 130 > H04 会员人数 = 120").
pub fn failed_rules(
    checks: &[Check],
    value: impl Fn(&str) -> Option<i64>,
    name_of: impl Fn(&str) -> String,
) -> Vec<(&Check, String)> {
    let mut out = Vec::new();
    for rule in checks {
        let left: Option<Vec<i64>> = rule.left.iter().map(|c| value(c)).collect();
        let (Some(left), Some(right)) = (left, value(rule.right)) else {
            continue;
        };
        let sum: i64 = left.iter().sum();
        let ok = match rule.relation {
            Relation::AtMost => sum <= right,
            Relation::Equals => sum == right,
        };
        if ok {
            continue;
        }
        let lhs = if rule.left.len() == 1 {
            format!("{} {} = {sum}", rule.left[0], name_of(rule.left[0]))
        } else {
            format!("{} = {sum}", rule.left.join("+"))
        };
        let op = match rule.relation {
            Relation::AtMost => ">",
            Relation::Equals => "≠",
        };
        out.push((
            rule,
            format!(
                "{lhs} {op} {} {} = {right}",
                rule.right,
                name_of(rule.right)
            ),
        ));
    }
    out
}

/// The return from a computed figures table (pure: tests inject values).
pub fn assemble(t: &FigureTable, contribution: &Contribution, period: Period) -> Return {
    let mut columns = vec![Column {
        org: None,
        label: format!("本级({})", t.org.name),
        label_en: format!("Own records ({})", t.org.code),
        total: false,
    }];
    columns.extend(t.children.iter().map(|c| Column {
        org: Some(c.clone()),
        label: format!("{}({})", c.name, c.code),
        label_en: c.code.clone(),
        total: false,
    }));
    columns.push(Column {
        org: None,
        label: "合计".into(),
        label_en: "Total".into(),
        total: true,
    });
    let n = columns.len();
    let mut rates = Vec::new();
    let areas: Vec<AreaOut> = areas_of(contribution)
        .into_iter()
        .map(|(area, items)| AreaOut {
            area,
            lines: items
                .into_iter()
                .map(|item| {
                    let values = match item.answer {
                        Answer::NotRecorded => vec![Value::NotRecorded; n],
                        Answer::Indicator(code) => match t.get(code) {
                            Some(f) => {
                                if let (Some(num), Some(den)) =
                                    (f.numerator_code, f.denominator_code)
                                {
                                    let name = |c: &str| {
                                        t.get(c).map_or_else(|| c.to_string(), |f| f.name.into())
                                    };
                                    rates.push((item.zh.to_string(), name(num), name(den)));
                                }
                                let mut v: Vec<Value> =
                                    f.breakdown.iter().map(|c| Value::of(c.amount)).collect();
                                v.push(Value::of(f.amount));
                                v
                            }
                            // A module's indicator missing from the catalogue
                            // cannot register (survey::check); keep the line.
                            None => vec![Value::NotRecorded; n],
                        },
                    };
                    Line { item, values }
                })
                .collect(),
        })
        .collect();
    let mut out = Return {
        org: t.org.clone(),
        period,
        columns,
        areas,
        failures: Vec::new(),
        rates,
    };
    out.failures = check(&out, &contribution.checks);
    out
}

/// Runs every rule on every column (本级, each child org, the total); a
/// rule whose items are not all counts in that column is not applicable.
pub fn check(r: &Return, checks: &[Check]) -> Vec<Failure> {
    let name_of = |code: &str| -> String {
        r.areas
            .iter()
            .flat_map(|a| a.lines.iter())
            .find(|l| l.item.code == code)
            .map_or_else(String::new, |l| {
                l.item.zh.trim_start_matches('#').to_string()
            })
    };
    let mut out = Vec::new();
    for (col, column) in r.columns.iter().enumerate() {
        let (org_code, org_name, level) = match (&column.org, column.total) {
            (Some(o), _) => (o.code.clone(), o.name.clone(), SUBTREE),
            (None, true) => (r.org.code.clone(), format!("{}(合计)", r.org.name), TOTAL),
            (None, false) => (r.org.code.clone(), format!("{}(本级)", r.org.name), OWN),
        };
        let value = |code: &str| r.value(code, col).and_then(Value::count);
        for (rule, detail) in failed_rules(checks, value, name_of) {
            out.push(Failure {
                org_code: org_code.clone(),
                org_name: org_name.clone(),
                level: level.into(),
                rule: rule.zh.to_string(),
                rule_en: rule.en.to_string(),
                detail,
            });
        }
    }
    out
}

fn safe_sheet_name(s: &str) -> String {
    s.chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect()
}

/// The sheet holding the 逻辑检查.
pub const CHECK_SHEET: &str = "逻辑检查";

/// The workbook: a cover sheet, one sheet per area (代码, 指标名称, 计量单位,
/// then one column per child org and the total), and the 逻辑检查 sheet.
pub fn sheets(r: &Return) -> Vec<SheetOut> {
    let mut cover = vec![
        vec!["填报单位".into(), CellOut::Text(format!("{}({})", r.org.name, r.org.code))],
        vec![
            "统计期".into(),
            CellOut::Text(format!("{} 至 {}", r.period.start, r.period.end)),
        ],
        vec!["生成时间".into(), CellOut::Text(time::display(&time::now_rfc3339()))],
        vec![
            "逻辑检查".into(),
            CellOut::Text(if r.failures.is_empty() {
                "通过".into()
            } else {
                format!("{}处不通过,见“逻辑检查”表", r.failures.len())
            }),
        ],
        vec![
            "说明".into(),
            "“未统计”为本系统尚未记录的调查项目,须另行填报;数值均由系统记录实时统计,可在统计页面逐项下钻核对".into(),
        ],
    ];
    for (rate, num, den) in &r.rates {
        cover.push(vec![
            "比率口径".into(),
            CellOut::Text(format!("{rate} = {num} ÷ {den}(%)")),
        ]);
    }
    let mut out = vec![SheetOut {
        name: "封面".into(),
        headers: vec!["项目".into(), "内容".into()],
        rows: cover,
        col_widths: None,
    }];
    let mut headers = vec!["代码".to_string(), "指标名称".into(), "计量单位".into()];
    headers.extend(r.columns.iter().map(|c| c.label.clone()));
    for a in &r.areas {
        out.push(SheetOut {
            name: safe_sheet_name(a.area.zh),
            headers: headers.clone(),
            rows: a
                .lines
                .iter()
                .map(|l| {
                    let mut row: Vec<CellOut> =
                        vec![l.item.code.into(), l.item.zh.into(), l.item.unit.into()];
                    row.extend(l.values.iter().map(|v| v.cell()));
                    row
                })
                .collect(),
            col_widths: None,
        });
    }
    let rows = if r.failures.is_empty() {
        vec![vec![
            CellOut::Empty,
            CellOut::Empty,
            CellOut::Empty,
            CellOut::Empty,
            "通过".into(),
            "全部逻辑检查通过 / all checks passed".into(),
        ]]
    } else {
        r.failures
            .iter()
            .enumerate()
            .map(|(i, f)| {
                vec![
                    CellOut::Int(i as i64 + 1),
                    f.org_code.clone().into(),
                    f.org_name.clone().into(),
                    f.level.clone().into(),
                    f.rule.clone().into(),
                    f.detail.clone().into(),
                ]
            })
            .collect()
    };
    out.push(SheetOut {
        name: CHECK_SHEET.into(),
        headers: vec![
            "序号".into(),
            "组织代码".into(),
            "组织名称".into(),
            "口径".into(),
            "规则".into(),
            "说明".into(),
        ],
        rows,
        col_widths: None,
    });
    out
}

pub fn xlsx(r: &Return) -> AppResult<Vec<u8>> {
    sheet::write_xlsx(&sheets(r)).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

/// File name for downloads: 统计年报_SF_2025-10-01_2026-09-30.xlsx
pub fn file_name(r: &Return) -> String {
    format!(
        "统计年报_{}_{}_{}.xlsx",
        r.org.code, r.period.start, r.period.end
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::survey::{Answer, MEMBERS};

    fn item(code: &'static str, zh: &'static str) -> Item {
        Item {
            area: MEMBERS,
            code,
            zh,
            en: "",
            unit: "人",
            answer: Answer::Indicator("x"),
        }
    }

    /// Women members injected above the members in one child org: the
    /// failure names that org, its column's level and the rule; the other
    /// columns pass; a not-recorded item makes a rule not applicable.
    #[test]
    fn the_check_names_the_org_and_the_rule() {
        let org = |id: i64, code: &str, name: &str| OrgRef {
            id,
            code: code.into(),
            name: name.into(),
        };
        let col = |o: Option<OrgRef>, total: bool| Column {
            org: o,
            label: String::new(),
            label_en: String::new(),
            total,
        };
        let r = Return {
            org: org(1, "SF", "示范市总工会"),
            period: default_period(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()),
            columns: vec![
                col(None, false),
                col(Some(org(2, "SF-01", "秦川区总工会")), false),
                col(Some(org(3, "SF-02", "渭水区总工会")), false),
                col(None, true),
            ],
            areas: vec![AreaOut {
                area: MEMBERS,
                lines: vec![
                    Line {
                        item: item("H04", "会员人数"),
                        values: vec![
                            Value::Count(0),
                            Value::Count(100),
                            Value::Count(50),
                            Value::Count(150),
                        ],
                    },
                    Line {
                        item: item("H05", "#女会员"),
                        values: vec![
                            Value::Count(0),
                            Value::Count(40),
                            Value::Count(60),
                            Value::Count(100),
                        ],
                    },
                    Line {
                        item: item("H12", "离退休会员"),
                        values: vec![Value::NotRecorded; 4],
                    },
                ],
            }],
            failures: vec![],
            rates: vec![],
        };
        let checks = [
            Check {
                left: &["H05"],
                relation: Relation::AtMost,
                right: "H04",
                zh: "女会员不应多于会员人数",
                en: "Women members cannot exceed the members",
            },
            Check {
                left: &["H12"],
                relation: Relation::AtMost,
                right: "H04",
                zh: "离退休会员不应多于会员人数",
                en: "",
            },
        ];
        let f = check(&r, &checks);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].org_code, "SF-02");
        assert_eq!(f[0].level, SUBTREE);
        assert_eq!(f[0].rule, "女会员不应多于会员人数");
        assert_eq!(f[0].detail, "H05 女会员 = 60 > H04 会员人数 = 50");
        let sheets = sheets(&Return { failures: f, ..r });
        let last = sheets.last().unwrap();
        assert_eq!(last.name, CHECK_SHEET);
        assert_eq!(last.rows.len(), 1);
        assert_eq!(last.rows[0][1], CellOut::Text("SF-02".into()));
    }

    #[test]
    fn the_default_period_runs_october_to_september() {
        let p = default_period(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(p.start.to_string(), "2025-10-01");
        assert_eq!(p.end.to_string(), "2026-09-30");
        assert_eq!(
            period_from(Some(""), None).unwrap(),
            default_period(time::today())
        );
        let e = period_from(Some("2026-09-30"), Some("2025-10-01")).unwrap_err();
        let m = e.user_message();
        assert!(m.zh.contains("早于"), "{m:?}");
        assert!(m.en.contains("before"), "{m:?}");
        assert!(period_from(Some("2025-10-01"), None).is_err());
    }
}
