//! The org tree's lines of the yearly statistical return (统计年报,
//! `platform::survey`): 组织建设 — unions at every level, grassroots unions
//! by unit type, legal-person certificates — and the workforce lines of the
//! 会员 area (已建工会组织的基层单位职工人数, #女职工, #农民工). What the
//! survey asks that the org record does not hold is listed as not recorded.

use platform::survey::{
    Answer::{Indicator as Ind, NotRecorded},
    Check, Contribution, Item, Relation, MEMBERS, ORGANISATION,
};

use crate::indicators::{WORKFORCE_MIGRANT, WORKFORCE_TOTAL, WORKFORCE_WOMEN};

const fn org(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    unit: &'static str,
    answer: platform::survey::Answer,
) -> Item {
    Item {
        area: ORGANISATION,
        code,
        zh,
        en,
        unit,
        answer,
    }
}

const fn members(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    answer: platform::survey::Answer,
) -> Item {
    Item {
        area: MEMBERS,
        code,
        zh,
        en,
        unit: "人",
        answer,
    }
}

const fn at_most(
    left: &'static [&'static str],
    right: &'static str,
    zh: &'static str,
    en: &'static str,
) -> Check {
    Check {
        left,
        relation: Relation::AtMost,
        right,
        zh,
        en,
    }
}

pub fn contribution() -> Contribution {
    Contribution {
        items: vec![
            org(
                "Z01",
                "工会组织总数(各级)",
                "Unions at every level",
                "个",
                Ind("orgs_unions_all"),
            ),
            org(
                "Z02",
                "工会基层组织数",
                "Grassroots unions",
                "个",
                Ind("orgs_grassroots"),
            ),
            org(
                "Z03",
                "#企业",
                "of which: enterprises",
                "个",
                Ind("orgs_type_enterprise"),
            ),
            org(
                "Z04",
                "#事业单位",
                "of which: public institutions",
                "个",
                Ind("orgs_type_institution"),
            ),
            org(
                "Z05",
                "#机关",
                "of which: government bodies",
                "个",
                Ind("orgs_type_government"),
            ),
            org(
                "Z06",
                "#社会组织",
                "of which: social organisations",
                "个",
                Ind("orgs_type_social"),
            ),
            org(
                "Z07",
                "#新就业形态(新业态)",
                "of which: new forms of employment",
                "个",
                Ind("orgs_type_new_forms"),
            ),
            org(
                "Z08",
                "#联合基层工会",
                "of which: joint grassroots unions",
                "个",
                Ind("orgs_type_joint"),
            ),
            org(
                "Z09",
                "#其他",
                "of which: other",
                "个",
                Ind("orgs_type_other"),
            ),
            org(
                "Z10",
                "企业工会中:内资企业",
                "Enterprise unions: domestic capital",
                "个",
                NotRecorded,
            ),
            org(
                "Z11",
                "企业工会中:港澳台商投资企业",
                "Enterprise unions: Hong Kong, Macao, Taiwan capital",
                "个",
                NotRecorded,
            ),
            org(
                "Z12",
                "企业工会中:外商投资企业",
                "Enterprise unions: foreign capital",
                "个",
                NotRecorded,
            ),
            org(
                "Z13",
                "个体经济组织工会",
                "Unions of individual businesses",
                "个",
                NotRecorded,
            ),
            org(
                "Z14",
                "联合基层工会涵盖单位数",
                "Units covered by joint grassroots unions",
                "个",
                NotRecorded,
            ),
            // Members of joint unions would read the org's type in a member
            // condition, which the per-org cache cannot follow (an org edit
            // does not bump the data version): not recorded for now.
            org(
                "Z15",
                "联合基层工会会员人数",
                "Members of joint grassroots unions",
                "人",
                NotRecorded,
            ),
            org(
                "Z16",
                "新建工会基层组织",
                "Grassroots unions founded in the period",
                "个",
                Ind("orgs_grassroots_new"),
            ),
            org(
                "Z17",
                "取得法人资格的工会",
                "Unions with legal-person status",
                "个",
                Ind("orgs_legal_person"),
            ),
            org(
                "Z18",
                "#基层工会",
                "of which: grassroots unions",
                "个",
                Ind("orgs_grassroots_legal_person"),
            ),
            org(
                "Z19",
                "新办法人资格证",
                "Legal-person certificates issued",
                "个",
                Ind("orgs_legal_cert_new"),
            ),
            org(
                "Z20",
                "变更法人资格证",
                "Legal-person certificates amended",
                "个",
                Ind("orgs_legal_cert_changed"),
            ),
            org(
                "Z21",
                "女职工委员会",
                "Women workers' committees",
                "个",
                NotRecorded,
            ),
            org(
                "Z22",
                "经费审查委员会",
                "Funds audit committees",
                "个",
                NotRecorded,
            ),
            org(
                "Z23",
                "工会覆盖率(建会率)",
                "Union coverage of units",
                "%",
                NotRecorded,
            ),
            members(
                "H01",
                "已建工会组织的基层单位职工人数",
                "Workers of units with a grassroots union",
                Ind(WORKFORCE_TOTAL),
            ),
            members("H02", "#女职工", "of which: women", Ind(WORKFORCE_WOMEN)),
            members(
                "H03",
                "#农民工",
                "of which: migrant workers",
                Ind(WORKFORCE_MIGRANT),
            ),
        ],
        checks: vec![
            Check {
                left: &["Z03", "Z04", "Z05", "Z06", "Z07", "Z08", "Z09"],
                relation: Relation::Equals,
                right: "Z02",
                zh: "按单位类型分的基层工会之和应等于工会基层组织数",
                en: "Grassroots unions by unit type add up to the grassroots unions",
            },
            at_most(
                &["Z02"],
                "Z01",
                "工会基层组织数不应多于工会组织总数",
                "Grassroots unions cannot exceed all unions",
            ),
            at_most(
                &["Z16"],
                "Z02",
                "新建工会基层组织不应多于工会基层组织数",
                "Unions founded cannot exceed the grassroots unions",
            ),
            at_most(
                &["Z17"],
                "Z01",
                "取得法人资格的工会不应多于工会组织总数",
                "Unions with legal-person status cannot exceed all unions",
            ),
            at_most(
                &["Z18"],
                "Z17",
                "取得法人资格的基层工会不应多于取得法人资格的工会",
                "Grassroots legal persons cannot exceed all legal persons",
            ),
            at_most(
                &["Z18"],
                "Z02",
                "取得法人资格的基层工会不应多于工会基层组织数",
                "Grassroots legal persons cannot exceed the grassroots unions",
            ),
            at_most(
                &["H02"],
                "H01",
                "女职工人数不应多于职工人数",
                "Women workers cannot exceed the workforce",
            ),
            at_most(
                &["H03"],
                "H01",
                "农民工人数不应多于职工人数",
                "Migrant workers cannot exceed the workforce",
            ),
        ],
    }
}
