//! 互助保障's indicators: persons insured in plans covering the period
//! (参保人数), contributions enrolled in the period (参保额), payouts in the
//! period (赔付额) and the payouts' count (受益人次). Declared here, computed
//! by `reports`; each figure equals its drill-down.

use numfmt::Unit;
use platform::indicator::{
    Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Section, Show,
};

pub const SECTION: Section = Section {
    key: "mutual_aid",
    zh: "互助保障",
    en: "Mutual aid",
    order: 65,
};

/// Enrolments with their plan and person (names and masked IDs: personal,
/// each drill-down audited). Every writer bumps the org's data version.
pub static ENROLMENTS: RecordSource = RecordSource {
    key: "aid_enrolments",
    from: "aid_enrolments e JOIN orgs o ON o.id = e.org_id JOIN aid_plans pl ON pl.id = e.plan_id \
           JOIN persons p ON p.id = e.person_id",
    scan: None,
    org_column: "e.org_id",
    window: Some("e.enrolled_on"),
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "aid_enrolments",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "参保工会", "Union", Show::Text),
        DrillColumn::new("plan", "pl.name", "互助计划", "Plan", Show::Text),
        DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
        DrillColumn::new(
            "id_masked",
            "p.id_masked",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new(
            "contribution_fen",
            "e.contribution_fen",
            "缴费",
            "Contribution",
            Show::Money,
        ),
        DrillColumn::new(
            "enrolled_on",
            "e.enrolled_on",
            "参保日期",
            "Enrolled on",
            Show::Text,
        ),
    ],
    drill_order: "o.code, e.id",
    drill_group: None,
};

/// The persons insured: each once per union, however many plans.
pub static INSURED: RecordSource = RecordSource {
    key: "aid_insured",
    measure: Measure::Distinct("e.person_id"),
    aggregation: Aggregation::DistinctPersons,
    subject: "aid_insured",
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "参保工会", "Union", Show::Text),
        DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
        DrillColumn::new(
            "id_masked",
            "p.id_masked",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new("plans", "COUNT(*)", "参保计划数", "Plans", Show::Number),
        DrillColumn::new(
            "contribution_fen",
            "SUM(e.contribution_fen)",
            "缴费",
            "Contribution",
            Show::Money,
        ),
    ],
    drill_order: "o.code, p.name, p.id",
    drill_group: Some("o.id, o.code, o.name, p.id, p.name, p.id_masked"),
    ..ENROLMENTS
};

/// The payout ledger, written with each final approval.
pub static PAYOUTS: RecordSource = RecordSource {
    key: "aid_payouts",
    from: "aid_payouts y JOIN orgs o ON o.id = y.org_id JOIN aid_plans pl ON pl.id = y.plan_id \
           JOIN persons p ON p.id = y.person_id",
    org_column: "y.org_id",
    window: Some("y.paid_on"),
    subject: "aid_payouts",
    drill_columns: &[
        DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
        DrillColumn::new("org_name", "o.name", "工会", "Union", Show::Text),
        DrillColumn::new("plan", "pl.name", "互助计划", "Plan", Show::Text),
        DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
        DrillColumn::new(
            "id_masked",
            "p.id_masked",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new(
            "amount_fen",
            "y.amount_fen",
            "赔付金额",
            "Paid",
            Show::Money,
        ),
        DrillColumn::new("paid_on", "y.paid_on", "赔付日期", "Paid on", Show::Text),
    ],
    drill_order: "o.code, y.paid_on, y.id",
    ..ENROLMENTS
};

pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "aid_insured",
            "互助保障参保人数",
            "Persons insured",
            Unit::Person,
            Kind::Flow,
            SECTION,
            &INSURED,
            "pl.period_start <= {end} AND pl.period_end >= {start} AND e.enrolled_on <= {end}",
        )
        .about(
            "保障期与统计期相交的互助计划的参保职工(每工会每人计一次)",
            "Workers enrolled in plans whose period meets the statistics period (once per union)",
        )
        .headline(),
        Indicator::records(
            "aid_contributions",
            "互助保障参保额",
            "Contributions",
            Unit::Fen,
            Kind::Flow,
            SECTION,
            &ENROLMENTS,
            "e.enrolled_on >= {start} AND e.enrolled_on <= {end}",
        )
        .measure(Measure::Sum("e.contribution_fen"), Aggregation::SumOfValues)
        .about(
            "统计期内参保登记的缴费合计",
            "Contributions of the enrolments made in the period",
        ),
        Indicator::records(
            "aid_payouts",
            "互助保障赔付额",
            "Payouts",
            Unit::Fen,
            Kind::Flow,
            SECTION,
            &PAYOUTS,
            "y.paid_on >= {start} AND y.paid_on <= {end}",
        )
        .measure(Measure::Sum("y.amount_fen"), Aggregation::SumOfValues)
        .about(
            "统计期内经市总终审批准的赔付合计",
            "Payouts approved by the city federation in the period",
        )
        .headline(),
        Indicator::records(
            "aid_beneficiaries",
            "互助保障受益人次",
            "Payouts made (person-times)",
            Unit::PersonTime,
            Kind::Flow,
            SECTION,
            &PAYOUTS,
            "y.paid_on >= {start} AND y.paid_on <= {end}",
        )
        .about(
            "统计期内获得赔付的人次",
            "Payouts made in the period, one per approved claim",
        ),
    ]
}
