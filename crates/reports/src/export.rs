//! The figures table as an xlsx workbook: a summary sheet with every figure,
//! one sheet per section, and the breakdown by child org. The numbers are the
//! JSON's numbers (counts as integers, ratios as percentages with one
//! decimal), so a test can read the file back and compare — except money
//! counted in fen, which the sheet shows in 元 with its fen digits.

use super::figures::{Amount, Figure, FigureTable};
use platform::error::{AppError, AppResult};
use sheet::{self, CellOut, SheetOut};

pub const HEADERS: [&str; 10] = [
    "指标代码",
    "指标名称",
    "单位",
    "本期",
    "上年同期",
    "同比增减",
    "分子",
    "分母",
    "数据来源",
    "统计期",
];

fn amount_cell(a: Amount, unit: Option<numfmt::Unit>) -> CellOut {
    match a {
        Amount::Count(n) if unit == Some(numfmt::Unit::Fen) => CellOut::Num(n as f64 / 100.0),
        Amount::Count(n) => CellOut::Int(n),
        Amount::Ratio(n, d) => {
            super::figures::percent_1dp(n, d).map_or(CellOut::Empty, CellOut::Num)
        }
        Amount::NotEntered => CellOut::Empty,
    }
}

fn figure_row(f: &Figure, period: &str) -> Vec<CellOut> {
    vec![
        f.code.into(),
        f.name.into(),
        f.unit.into(),
        amount_cell(f.amount, f.unit_kind),
        amount_cell(f.previous_amount, f.unit_kind),
        f.change.clone().into(),
        f.numerator.into(),
        f.denominator.into(),
        if f.manual {
            "手工填报"
        } else {
            "系统统计"
        }
        .into(),
        period.into(),
    ]
}

fn safe_sheet_name(s: &str) -> String {
    s.chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect()
}

pub fn sheets(t: &FigureTable) -> Vec<SheetOut> {
    let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let period = t.period.label.clone();
    let mut out = vec![SheetOut {
        name: "指标汇总".into(),
        headers: headers.clone(),
        rows: t.figures().map(|f| figure_row(f, &period)).collect(),
        col_widths: None,
    }];
    for s in &t.sections {
        out.push(SheetOut {
            name: safe_sheet_name(s.name),
            headers: headers.clone(),
            rows: s.figures.iter().map(|f| figure_row(f, &period)).collect(),
            col_widths: None,
        });
    }
    let mut bh = vec![
        "指标代码".to_string(),
        "指标名称".into(),
        format!("本级({})", t.org.name),
    ];
    bh.extend(t.children.iter().map(|c| format!("{}({})", c.name, c.code)));
    out.push(SheetOut {
        name: "按下级组织".into(),
        headers: bh,
        rows: t
            .figures()
            .map(|f| {
                let mut r: Vec<CellOut> = vec![f.code.into(), f.name.into()];
                r.extend(
                    f.breakdown
                        .iter()
                        .map(|c| amount_cell(c.amount, f.unit_kind)),
                );
                r
            })
            .collect(),
        col_widths: None,
    });
    out
}

pub fn xlsx(t: &FigureTable) -> AppResult<Vec<u8>> {
    sheet::write_xlsx(&sheets(t)).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

/// File name for downloads: 统计指标_SF-01_2026.xlsx
pub fn file_name(t: &FigureTable) -> String {
    format!(
        "统计指标_{}_{}.xlsx",
        t.org.code,
        t.period.spec.replace("..", "_")
    )
}
