//! The xlsx exports of the caller's subtree (enrolments, claims, the payout
//! ledger), as filtered on their pages: names with masked ID numbers only,
//! written with gonghui-sheet's writer; each export is audited.

use platform::{
    audit::{self, Event},
    error::{AppError, AppResult},
    money::Fen,
    scope::Scope,
    web::AppState,
};
use sheet::{CellOut, SheetOut};

use crate::lists::{self, ClaimFilter, EnrolmentFilter, LedgerFilter};

fn h(en: bool, zh: &str, e: &str) -> String {
    if en { e } else { zh }.to_string()
}

fn yuan(fen: i64) -> CellOut {
    // Yuan as a number (two decimals), so sums work in Excel.
    CellOut::Num(fen as f64 / 100.0)
}

fn write(sheet: SheetOut) -> AppResult<Vec<u8>> {
    sheet::write_xlsx(&[sheet]).map_err(|e| {
        let (zh, en) = e.message();
        AppError::Internal(anyhow::anyhow!("{zh} / {en}"))
    })
}

async fn audited(st: &AppState, scope: &Scope, what: &str, rows: usize) -> AppResult<()> {
    audit::record(
        &st.db,
        &scope.actor,
        Event::new("aid.export", "aid_export", what)
            .org(scope.org_id)
            .detail(serde_json::json!({"rows": rows})),
    )
    .await?;
    Ok(())
}

pub async fn enrolments(
    st: &AppState,
    scope: &Scope,
    f: &EnrolmentFilter,
    en: bool,
) -> AppResult<Vec<u8>> {
    let rows = lists::enrolments(&st.db, scope, f).await?;
    let sheet = SheetOut {
        name: h(en, "参保名单", "Enrolments"),
        headers: vec![
            h(en, "编号", "No."),
            h(en, "互助计划", "Plan"),
            h(en, "组织代码", "Org code"),
            h(en, "参保工会", "Union"),
            h(en, "姓名", "Name"),
            h(en, "证件号码", "ID number"),
            h(en, "缴费(元)", "Contribution (yuan)"),
            h(en, "参保日期", "Enrolled on"),
            h(en, "保障期", "Period"),
            h(en, "状态", "Status"),
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    CellOut::from(r.id),
                    r.plan_name.clone().into(),
                    r.org_code.clone().into(),
                    r.org_name.clone().into(),
                    r.name.clone().into(),
                    r.id_masked.clone().into(),
                    yuan(r.contribution_fen),
                    r.enrolled_on.clone().into(),
                    format!("{} — {}", r.period_start, r.period_end).into(),
                    lists::label(lists::ENROLMENT_STATUSES, &r.status, en).into(),
                ]
            })
            .collect(),
        col_widths: None,
    };
    audited(st, scope, "enrolments", rows.len()).await?;
    write(sheet)
}

pub async fn claims(st: &AppState, scope: &Scope, f: &ClaimFilter, en: bool) -> AppResult<Vec<u8>> {
    let rows = lists::claims(&st.db, scope, f).await?;
    let sheet = SheetOut {
        name: h(en, "赔付申请", "Claims"),
        headers: vec![
            h(en, "编号", "No."),
            h(en, "互助计划", "Plan"),
            h(en, "工会", "Union"),
            h(en, "姓名", "Name"),
            h(en, "证件号码", "ID number"),
            h(en, "发生日期", "Event date"),
            h(en, "事由", "What happened"),
            h(en, "申请金额(元)", "Claimed (yuan)"),
            h(en, "住院天数", "Days"),
            h(en, "状态", "Status"),
            h(en, "赔付金额(元)", "Paid (yuan)"),
        ],
        rows: rows
            .iter()
            .map(|c| {
                vec![
                    CellOut::from(c.id),
                    c.plan_name.clone().into(),
                    c.org_name.clone().into(),
                    c.name.clone().into(),
                    c.id_masked.clone().into(),
                    c.event_date.clone().into(),
                    c.category.clone().into(),
                    yuan(c.amount_fen),
                    CellOut::from(c.days),
                    lists::label(lists::CLAIM_STATUSES, &c.status, en).into(),
                    c.payout_fen.map_or(CellOut::Empty, yuan),
                ]
            })
            .collect(),
        col_widths: None,
    };
    audited(st, scope, "claims", rows.len()).await?;
    write(sheet)
}

pub async fn ledger(
    st: &AppState,
    scope: &Scope,
    f: &LedgerFilter,
    en: bool,
) -> AppResult<Vec<u8>> {
    let rows = lists::ledger(&st.db, scope, f).await?;
    let total = Fen::checked_sum(rows.iter().map(|r| Fen::from_fen(r.amount_fen)))
        .ok_or_else(|| AppError::invalid("金额过大", "Amount too large"))?;
    let mut out: Vec<Vec<CellOut>> = rows
        .iter()
        .map(|r| {
            vec![
                CellOut::from(r.id),
                CellOut::from(r.claim_id),
                r.plan_name.clone().into(),
                r.org_code.clone().into(),
                r.org_name.clone().into(),
                r.name.clone().into(),
                r.id_masked.clone().into(),
                yuan(r.amount_fen),
                r.paid_on.clone().into(),
            ]
        })
        .collect();
    out.push(vec![
        h(en, "合计", "Total").into(),
        CellOut::Empty,
        CellOut::Empty,
        CellOut::Empty,
        CellOut::Empty,
        CellOut::Empty,
        CellOut::Empty,
        yuan(total.fen()),
        CellOut::Empty,
    ]);
    let sheet = SheetOut {
        name: h(en, "赔付台账", "Payout ledger"),
        headers: vec![
            h(en, "台账号", "Entry"),
            h(en, "申请编号", "Claim"),
            h(en, "互助计划", "Plan"),
            h(en, "组织代码", "Org code"),
            h(en, "工会", "Union"),
            h(en, "姓名", "Name"),
            h(en, "证件号码", "ID number"),
            h(en, "赔付金额(元)", "Paid (yuan)"),
            h(en, "赔付日期", "Paid on"),
        ],
        rows: out,
        col_widths: None,
    };
    audited(st, scope, "ledger", rows.len()).await?;
    write(sheet)
}
