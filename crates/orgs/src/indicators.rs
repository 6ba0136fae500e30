//! The org tree's indicators (组织建设): grassroots unions by type, legal-person
//! certificates. Declared here, computed and drilled into by `reports`.

use numfmt::Unit;
use platform::indicator::{
    Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Show, ORGS,
};

use crate::model::{CERT_LABELS, LEVEL_LABELS};

/// An org's row in a drill-down.
const ORG_COLUMNS: &[DrillColumn] = &[
    DrillColumn::new("id", "o.id", "编号", "Id", Show::Hidden),
    DrillColumn::new("code", "o.code", "组织代码", "Code", Show::Text),
    DrillColumn::new(
        "name",
        "o.name",
        "组织名称",
        "Name",
        Show::Link {
            href: "/orgs/{}",
            id_key: "id",
        },
    ),
    DrillColumn::new(
        "level",
        "o.level",
        "层级",
        "Level",
        Show::Label(LEVEL_LABELS),
    ),
    DrillColumn::new("org_type", "o.org_type", "组织类型", "Type", Show::Text),
    DrillColumn::new(
        "founded_on",
        "o.founded_on",
        "成立日期",
        "Founded",
        Show::Text,
    ),
    DrillColumn::new(
        "legal_cert_status",
        "o.legal_cert_status",
        "法人资格",
        "Legal person",
        Show::Label(CERT_LABELS),
    ),
    DrillColumn::new(
        "legal_cert_no",
        "o.legal_cert_no",
        "证书编号",
        "Certificate no.",
        Show::Text,
    ),
    DrillColumn::new(
        "status",
        "o.status",
        "状态",
        "Status",
        Show::Label(&[("active", "存续", "Active"), ("closed", "已撤销", "Closed")]),
    ),
];

/// The orgs themselves: one row per org, a few hundred per city, so read
/// every time rather than cached.
pub static ORG_RECORDS: RecordSource = RecordSource {
    key: "orgs",
    from: "orgs o",
    scan: None,
    org_column: "o.id",
    window: None,
    cached: false,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "orgs",
    personal: false,
    drill_columns: ORG_COLUMNS,
    drill_order: "o.code",
    drill_group: None,
};

/// The orgs' history (certificate events): each org counted once per
/// period, however many events it has; the drill-down lists the orgs.
pub static ORG_HISTORY: RecordSource = RecordSource {
    key: "org_history",
    from: "org_history h JOIN orgs o ON o.id = h.org_id",
    scan: None,
    org_column: "h.org_id",
    window: Some("h.effective_on"),
    cached: false,
    measure: Measure::Distinct("h.org_id"),
    aggregation: Aggregation::DistinctOrgs,
    subject: "orgs",
    personal: false,
    drill_columns: ORG_COLUMNS,
    drill_order: "o.code",
    drill_group: Some("o.id"),
};

/// A workforce value's row in a drill-down: the union and the value it
/// recorded, as of which date.
const WORKFORCE_COLUMNS: &[DrillColumn] = &[
    DrillColumn::new("id", "o.id", "编号", "Id", Show::Hidden),
    DrillColumn::new("code", "o.code", "组织代码", "Code", Show::Text),
    DrillColumn::new(
        "name",
        "o.name",
        "组织名称",
        "Name",
        Show::Link {
            href: "/orgs/{}",
            id_key: "id",
        },
    ),
    DrillColumn::new("org_type", "o.org_type", "组织类型", "Type", Show::Text),
    DrillColumn::new("as_of", "w.as_of", "截至日期", "As of", Show::Text),
    DrillColumn::new(
        "workforce",
        "w.workforce",
        "职工人数",
        "Workforce",
        Show::Number,
    ),
    DrillColumn::new(
        "women",
        "w.women",
        "女职工人数",
        "Women workers",
        Show::Number,
    ),
    DrillColumn::new(
        "migrant",
        "w.migrant",
        "农民工人数",
        "Migrant workers",
        Show::Number,
    ),
];

/// 职工人数 recorded by the grassroots unions as of dates
/// (`crate::workforce`): each union's latest value as of the period's end,
/// summed. A few hundred rows per city, read every time.
pub static WORKFORCE: RecordSource = RecordSource {
    key: "org_workforce",
    from: "org_workforce w JOIN orgs o ON o.id = w.org_id",
    scan: None,
    org_column: "w.org_id",
    window: None,
    cached: false,
    measure: Measure::Sum("w.workforce"),
    aggregation: Aggregation::SumOfValues,
    subject: "orgs",
    personal: false,
    drill_columns: WORKFORCE_COLUMNS,
    drill_order: "o.code",
    drill_group: None,
};

/// A union's latest workforce value as of the period's end, the union
/// existing then.
macro_rules! workforce_at_end {
    () => {
        concat!(
            "w.as_of <= {end} AND NOT EXISTS (SELECT 1 FROM org_workforce w2 WHERE w2.org_id = w.org_id AND w2.as_of > w.as_of AND w2.as_of <= {end}) AND ",
            org_at_end!()
        )
    };
}

/// An org that exists at the end of the period: founded by then (or, without
/// a founding date, recorded by then) and not closed by then.
macro_rules! org_at_end {
    () => {
        "COALESCE(o.founded_on, substr(o.created_at, 1, 10)) <= {end} AND (o.status <> 'closed' OR o.closed_on > {end})"
    };
}

macro_rules! grassroots_at_end {
    () => {
        concat!(org_at_end!(), " AND o.level = 'grassroots'")
    };
}

macro_rules! by_type {
    ($code:literal, $zh:literal, $en:literal, $ty:literal) => {
        Indicator::records(
            $code,
            concat!("基层工会(", $zh, ")"),
            concat!("Grassroots unions (", $en, ")"),
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            concat!(grassroots_at_end!(), " AND o.org_type = '", $ty, "'"),
        )
        .group("org_type")
        .about(
            concat!("期末存续的基层工会中组织类型为“", $ty, "”的个数"),
            concat!(
                "Grassroots unions of type ",
                $en,
                " existing at the end of the period"
            ),
        )
    };
}

/// The workforce indicators' codes (the members module's 入会率 divides by it).
pub const WORKFORCE_TOTAL: &str = "orgs_workforce";
pub const WORKFORCE_WOMEN: &str = "orgs_workforce_women";
pub const WORKFORCE_MIGRANT: &str = "orgs_workforce_migrant";

pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "orgs_unions_all",
            "工会组织(各级)",
            "Unions at every level",
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            org_at_end!(),
        )
        .about(
            "期末存续的各级工会组织个数(含本级及以下各级:总工会、产业工会、乡镇(街道)工会、基层工会)",
            "Unions of every level existing at the end of the period (the org itself and every union under it)",
        ),
        Indicator::records(
            "orgs_grassroots",
            "基层工会组织",
            "Grassroots unions",
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            grassroots_at_end!(),
        )
        .about(
            "期末存续的基层工会个数(成立日期不晚于期末、期末未撤销)",
            "Grassroots unions existing at the end of the period (founded by then, not closed by then)",
        )
        .headline(),
        Indicator::records(
            "orgs_grassroots_new",
            "新建基层工会",
            "Grassroots unions founded",
            Unit::Ge,
            Kind::Flow,
            ORGS,
            &ORG_RECORDS,
            "o.level = 'grassroots' AND o.founded_on >= {start} AND o.founded_on <= {end}",
        )
        .about(
            "成立日期在统计期内的基层工会个数",
            "Grassroots unions whose founding date falls in the period",
        ),
        by_type!("orgs_type_enterprise", "企业", "enterprise", "企业"),
        by_type!("orgs_type_institution", "事业", "public institution", "事业"),
        by_type!("orgs_type_government", "机关", "government body", "机关"),
        by_type!("orgs_type_joint", "联合工会", "joint union", "联合工会"),
        by_type!("orgs_type_new_forms", "新业态", "new forms of employment", "新业态"),
        by_type!("orgs_type_social", "社会组织", "social organisation", "社会组织"),
        Indicator::records(
            "orgs_type_other",
            "基层工会(其他)",
            "Grassroots unions (other)",
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            concat!(
                grassroots_at_end!(),
                " AND o.org_type NOT IN ('企业', '事业', '机关', '联合工会', '新业态', '社会组织')"
            ),
        )
        .group("org_type")
        .about(
            "期末存续的基层工会中组织类型为“其他”或未填的个数",
            "Grassroots unions of type other (or not recorded) existing at the end of the period",
        ),
        Indicator::records(
            "orgs_legal_person",
            "取得法人资格的工会",
            "Unions with legal-person certificates",
            Unit::Enterprise,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            concat!(
                org_at_end!(),
                " AND o.legal_cert_status IN ('valid', 'changed') AND COALESCE(o.legal_cert_on, '') <= {end}"
            ),
        )
        .about(
            "期末存续、持有效工会法人资格证书(含已变更)的各级工会个数",
            "Unions at any level holding a valid (or amended) legal-person certificate at the end of the period",
        )
        .headline(),
        Indicator::records(
            "orgs_grassroots_legal_person",
            "取得法人资格的基层工会",
            "Grassroots unions with legal-person certificates",
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &ORG_RECORDS,
            concat!(
                grassroots_at_end!(),
                " AND o.legal_cert_status IN ('valid', 'changed') AND COALESCE(o.legal_cert_on, '') <= {end}"
            ),
        )
        .about(
            "期末存续、持有效工会法人资格证书(含已变更)的基层工会个数",
            "Grassroots unions holding a valid (or amended) legal-person certificate at the end of the period",
        ),
        Indicator::records(
            WORKFORCE_TOTAL,
            "职工人数",
            "Workforce",
            Unit::Person,
            Kind::PointInTime,
            ORGS,
            &WORKFORCE,
            workforce_at_end!(),
        )
        .about(
            "已建工会组织的基层单位职工人数:各基层工会截至期末最近一次填报的职工人数之和",
            "Workers of the units with a grassroots union: each union's latest recorded workforce as of the end of the period, summed",
        ),
        Indicator::records(
            WORKFORCE_WOMEN,
            "女职工人数",
            "Women workers",
            Unit::Person,
            Kind::PointInTime,
            ORGS,
            &WORKFORCE,
            workforce_at_end!(),
        )
        .measure(Measure::Sum("w.women"), Aggregation::SumOfValues)
        .about(
            "各基层工会截至期末最近一次填报的女职工人数之和",
            "Each grassroots union's latest recorded number of women workers as of the end of the period, summed",
        ),
        Indicator::records(
            WORKFORCE_MIGRANT,
            "农民工人数",
            "Migrant workers",
            Unit::Person,
            Kind::PointInTime,
            ORGS,
            &WORKFORCE,
            workforce_at_end!(),
        )
        .measure(Measure::Sum("w.migrant"), Aggregation::SumOfValues)
        .about(
            "各基层工会截至期末最近一次填报的农民工人数之和",
            "Each grassroots union's latest recorded number of migrant workers as of the end of the period, summed",
        ),
        Indicator::records(
            "orgs_workforce_reported",
            "填报职工人数的基层工会",
            "Grassroots unions with a recorded workforce",
            Unit::Ge,
            Kind::PointInTime,
            ORGS,
            &WORKFORCE,
            workforce_at_end!(),
        )
        .measure(Measure::Count, Aggregation::Sum)
        .about(
            "截至期末填报过职工人数的基层工会个数(职工人数的数据覆盖面)",
            "Grassroots unions that have recorded their workforce by the end of the period (how far the workforce figure reaches)",
        ),
        Indicator::records(
            "orgs_legal_cert_new",
            "新办法人资格证",
            "Legal-person certificates issued",
            Unit::Enterprise,
            Kind::Flow,
            ORGS,
            &ORG_HISTORY,
            "h.kind = 'cert_new' AND h.effective_on >= {start} AND h.effective_on <= {end}",
        )
        .about(
            "统计期内新取得工会法人资格证书的工会个数(按证书日期)",
            "Unions newly certified as legal persons in the period (by certificate date)",
        ),
        Indicator::records(
            "orgs_legal_cert_changed",
            "变更法人资格证",
            "Legal-person certificates amended",
            Unit::Enterprise,
            Kind::Flow,
            ORGS,
            &ORG_HISTORY,
            "h.kind = 'cert_changed' AND h.effective_on >= {start} AND h.effective_on <= {end}",
        )
        .about(
            "统计期内办理法人资格证书变更的工会个数(按变更日期)",
            "Unions whose legal-person certificate was amended in the period (by date of change)",
        ),
    ]
}

/// The org tree's paragraphs of the annual work summary, in the seeds' words.
pub fn summary() -> Vec<platform::summary::Paragraph> {
    use platform::summary::Paragraph;
    vec![
        Paragraph {
            key: "orgs.count",
            section: "organisation",
            indicators: &["orgs_unions_all", "orgs_grassroots"],
            zh: "截至{@year}底,{@whole}共有工会组织{orgs_unions_all}{orgs_unions_all:yoy},其中基层工会{orgs_grassroots}[,本年新建{orgs_grassroots_new}][;企业工会{orgs_type_enterprise}][、联合工会{orgs_type_joint}][、新业态工会{orgs_type_new_forms}][、社会组织工会{orgs_type_social}]。",
            en: "At the end of {@year} there were {orgs_unions_all} unions{orgs_unions_all:yoy}, {orgs_grassroots} of them grassroots unions[, {orgs_grassroots_new} founded this year][; {orgs_type_enterprise} in enterprises][, {orgs_type_joint} joint unions][, {orgs_type_new_forms} for new forms of employment][, {orgs_type_social} in social organisations].",
        },
        Paragraph {
            key: "orgs.legal_person",
            section: "organisation",
            indicators: &["orgs_legal_person"],
            zh: "规范工会法人资格登记,取得法人资格的工会{orgs_legal_person}[,本年办理工会法人资格证{orgs_legal_cert_new}][,变更{orgs_legal_cert_changed}]。",
            en: "{orgs_legal_person} unions hold legal-person status[; {orgs_legal_cert_new} certificates were issued this year][ and {orgs_legal_cert_changed} changed].",
        },
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_indicator_per_org_type() {
        let all = super::indicators();
        for (zh, _) in crate::model::ORG_TYPES {
            if *zh == "其他" {
                continue;
            }
            assert!(
                all.iter().any(|i| i.group == Some("org_type")
                    && matches!(i.definition, platform::indicator::Definition::Records { when, .. } if when.contains(&format!("'{zh}'")))),
                "{zh}"
            );
        }
    }
}
