//! The roster's lines of the yearly statistical return (统计年报,
//! `platform::survey`): 会员 — members, women, 农民工, new members, 入会率 —
//! with the 逻辑检查 rules between them and the workforce lines the orgs
//! module declares (H01–H03).

use platform::survey::{
    Answer::{Indicator as Ind, NotRecorded},
    Check, Contribution, Item, Relation, MEMBERS,
};

const fn member(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    unit: &'static str,
    answer: platform::survey::Answer,
) -> Item {
    Item {
        area: MEMBERS,
        code,
        zh,
        en,
        unit,
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
            member("H04", "会员人数", "Members", "人", Ind("members_total")),
            member(
                "H05",
                "#女会员",
                "of which: women",
                "人",
                Ind("members_women"),
            ),
            member(
                "H06",
                "#农民工会员",
                "of which: migrant workers",
                "人",
                Ind("members_migrant"),
            ),
            member(
                "H07",
                "#新就业形态劳动者会员",
                "of which: new-employment workers",
                "人",
                Ind("members_new_employment"),
            ),
            member(
                "H08",
                "新发展会员",
                "Members joined in the period",
                "人",
                Ind("members_joined"),
            ),
            member(
                "H09",
                "#新发展农民工会员",
                "of which: migrant workers",
                "人",
                Ind("members_joined_migrant"),
            ),
            member(
                "H10",
                "职工入会率",
                "Union density (members ÷ workforce)",
                "%",
                Ind(crate::indicators::JOIN_RATE),
            ),
            member(
                "H11",
                "实名制上网率",
                "Online activation rate",
                "%",
                Ind("members_online_rate"),
            ),
            member("H12", "离退休会员", "Retired members", "人", NotRecorded),
        ],
        checks: vec![
            at_most(
                &["H05"],
                "H04",
                "女会员不应多于会员人数",
                "Women members cannot exceed the members",
            ),
            at_most(
                &["H06"],
                "H04",
                "农民工会员不应多于会员人数",
                "Migrant-worker members cannot exceed the members",
            ),
            at_most(
                &["H07"],
                "H04",
                "新就业形态劳动者会员不应多于会员人数",
                "New-employment members cannot exceed the members",
            ),
            at_most(
                &["H09"],
                "H08",
                "新发展农民工会员不应多于新发展会员",
                "Migrant workers joined cannot exceed the members joined",
            ),
            at_most(
                &["H04"],
                "H01",
                "会员人数不应多于已建工会组织的基层单位职工人数",
                "Members cannot exceed the workforce of the units with a union",
            ),
            at_most(
                &["H05"],
                "H02",
                "女会员不应多于女职工人数",
                "Women members cannot exceed the women workers",
            ),
            at_most(
                &["H06"],
                "H03",
                "农民工会员不应多于农民工人数",
                "Migrant-worker members cannot exceed the migrant workers",
            ),
        ],
    }
}
