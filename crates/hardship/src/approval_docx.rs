//! The 审批表 of an application as .docx, to sign on paper: the application,
//! each person (masked ID) with the amount and any exception's reason, a
//! signature column, and the review chain's opinions with a blank row for
//! the applicant's own. The same content as the print view.

use docx_rs::{
    AlignmentType, Docx, Paragraph, Run, RunFonts, Table, TableCell, TableRow, WidthType,
};

use crate::grants::{Batch, GrantRow};
use platform::review::StepRow;

fn run(text: &str) -> Run {
    Run::new()
        .add_text(text)
        .fonts(RunFonts::new().east_asia("SimSun").ascii("Times New Roman"))
}

fn cell(text: &str) -> TableCell {
    TableCell::new().add_paragraph(Paragraph::new().add_run(run(text)))
}

fn row(cells: &[&str]) -> TableRow {
    TableRow::new(cells.iter().map(|c| cell(c)).collect())
}

/// The form; `money` writes fen as the pages do, `action` a step's label.
pub fn build(
    b: &Batch,
    rows: &[GrantRow],
    steps: &[StepRow],
    today: &str,
    money: impl Fn(i64) -> String,
    action: impl Fn(&StepRow) -> String,
) -> anyhow::Result<Vec<u8>> {
    let title = format!("{} 审批表", b.campaign_name);
    let mut people = vec![row(&[
        "序号",
        "姓名",
        "身份证号",
        "金额",
        "超标准理由",
        "本人签字",
    ])];
    for (i, g) in rows.iter().enumerate() {
        people.push(row(&[
            &(i + 1).to_string(),
            &g.name,
            &g.id_masked,
            &money(g.amount_fen),
            &g.exception_reason,
            "",
        ]));
    }
    let mut opinions = vec![row(&["单位", "意见", "签字", "日期"])];
    for s in steps {
        opinions.push(row(&[
            &s.org_name,
            format!("{} {}", action(s), s.comment).trim(),
            &s.actor,
            &s.at,
        ]));
    }
    opinions.push(row(&[&b.org_name, "", "", ""]));
    let doc = Docx::new()
        .add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(run(&title).size(36).bold()),
        )
        .add_paragraph(Paragraph::new().add_run(run(&format!(
            "申请单位:{}    人数:{}    金额合计:{}    申请:{}",
            b.org_name,
            b.people,
            money(b.total_fen),
            b.title
        ))))
        .add_table(Table::new(people).width(9000, WidthType::Dxa))
        .add_paragraph(Paragraph::new().add_run(run("审批意见").bold()))
        .add_table(Table::new(opinions).width(9000, WidthType::Dxa))
        .add_paragraph(Paragraph::new().add_run(run(&format!("打印日期:{today}"))));
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut buf)?;
    Ok(buf.into_inner())
}
