//! The member registry's indicators (会员发展, 会员构成): members at the end of
//! the period, 会籍变化 in the period, 农民工, 新就业形态 groups, women, age and
//! education bands, and 实名制上网率. Declared here, computed by `reports`.

use numfmt::Unit;
use platform::indicator::{
    Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Show, MEMBERS, MEMBER_PROFILE,
};

const GENDERS: &[(&str, &str, &str)] = &[("male", "男", "Male"), ("female", "女", "Female")];

/// A member's row in a drill-down: ID and phone only masked (the source is
/// personal: every drill-down is audited).
macro_rules! member_columns {
    ($($extra:expr),* ; $date:expr, $date_zh:expr, $date_en:expr) => {
        &[
            DrillColumn::new("org_code", "o.code", "组织代码", "Org code", Show::Hidden),
            DrillColumn::new("org_name", "o.name", "所在工会", "Union", Show::Text),
            $($extra,)*
            DrillColumn::new("name", "p.name", "姓名", "Name", Show::Text),
            DrillColumn::new("gender", "p.gender", "性别", "Gender", Show::Label(GENDERS)),
            DrillColumn::new("age", "p.birth_date", "年龄", "Age", Show::AgeAtEnd),
            DrillColumn::new("id_masked", "p.id_masked", "证件号码", "ID number", Show::Text),
            DrillColumn::new("phone_masked", "p.phone_masked", "手机号码", "Mobile", Show::Text),
            DrillColumn::new("education", "p.education", "学历", "Education", Show::Text),
            DrillColumn::new(
                "new_employment_group",
                "p.new_employment_group",
                "新就业形态群体",
                "New-employment group",
                Show::Text,
            ),
            DrillColumn::new("migrant", "p.migrant", "农民工", "Migrant worker", Show::Flag("农民工", "migrant")),
            DrillColumn::new("date", $date, $date_zh, $date_en, Show::Text),
        ]
    };
}

/// Memberships with their person: one per person at any date (a transfer
/// ends the old membership the day the new one starts), so a count is a
/// person count. Every roster writer bumps the org's data version.
pub static MEMBERSHIPS: RecordSource = RecordSource {
    key: "memberships",
    from: "memberships m JOIN orgs o ON o.id = m.org_id JOIN persons p ON p.id = m.person_id",
    scan: Some((
        "memberships m CROSS JOIN orgs o CROSS JOIN persons p",
        "o.id = m.org_id AND p.id = m.person_id AND ",
    )),
    org_column: "m.org_id",
    window: None,
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::DistinctPersons,
    subject: "members",
    personal: true,
    drill_columns: member_columns!(
        DrillColumn::new("member_no", "m.member_no", "会员编号", "Member no.", Show::Text);
        "m.joined_on", "入会日期", "Joined on"
    ),
    drill_order: "o.code, m.member_no",
    drill_group: None,
};

/// 会籍变化 events with their person: each person counted once per union
/// and period, however many events they have there.
pub static MEMBER_EVENTS: RecordSource = RecordSource {
    key: "membership_events",
    from: "membership_events e JOIN orgs o ON o.id = e.org_id JOIN persons p ON p.id = e.person_id",
    scan: Some((
        "membership_events e CROSS JOIN orgs o CROSS JOIN persons p",
        "o.id = e.org_id AND p.id = e.person_id AND ",
    )),
    org_column: "e.org_id",
    window: Some("e.on_date"),
    cached: true,
    measure: Measure::Distinct("e.person_id"),
    aggregation: Aggregation::DistinctPersons,
    subject: "members",
    personal: true,
    drill_columns: member_columns!(; "MIN(e.on_date)", "变动日期", "Date"),
    drill_order: "o.code, MIN(e.on_date), p.name",
    drill_group: Some("o.id, p.id"),
};

/// A membership current at the end of the period: joined by then and not
/// ended by then. Transfers end the old membership the day the new one
/// starts, so each person has at most one current membership.
macro_rules! member_at_end {
    () => {
        "m.joined_on <= {end} AND ((m.ended_on IS NULL AND m.status <> 'ended') OR m.ended_on > {end})"
    };
}

macro_rules! stock {
    ($code:literal, $zh:literal, $en:literal, $section:expr, $cond:expr, $about_zh:expr, $about_en:expr) => {
        Indicator::records(
            $code,
            $zh,
            $en,
            Unit::Person,
            Kind::PointInTime,
            $section,
            &MEMBERSHIPS,
            concat!(member_at_end!(), " AND ", $cond),
        )
        .about($about_zh, $about_en)
    };
}

macro_rules! event {
    ($code:literal, $zh:literal, $en:literal, $cond:expr, $about_zh:expr, $about_en:expr) => {
        Indicator::records(
            $code,
            $zh,
            $en,
            Unit::Person,
            Kind::Flow,
            MEMBERS,
            &MEMBER_EVENTS,
            concat!("e.on_date >= {start} AND e.on_date <= {end} AND ", $cond),
        )
        .about($about_zh, $about_en)
    };
}

macro_rules! neg {
    ($code:literal, $group:literal, $en:literal) => {
        stock!(
            $code,
            $group,
            $en,
            MEMBER_PROFILE,
            concat!("p.new_employment_group = '", $group, "'"),
            concat!("期末在册会员中新就业形态群体为“", $group, "”的人数"),
            concat!(
                "Members at the end of the period in the new-employment group ",
                $en
            )
        )
        .group("new_employment")
    };
}

macro_rules! edu {
    ($code:literal, $zh:literal, $en:literal, $cond:expr) => {
        stock!(
            $code,
            $zh,
            $en,
            MEMBER_PROFILE,
            $cond,
            concat!("期末在册会员中学历为", $zh, "的人数"),
            concat!("Members at the end of the period with education: ", $en)
        )
        .group("education")
    };
}

/// Education labels grouped into the bands reported (see `crate::vocab::EDUCATION`).
pub const EDUCATION_BANDS: &[(&str, &[&str])] = &[
    (
        "members_edu_postgraduate",
        &["研究生(博士)", "研究生(硕士)"],
    ),
    ("members_edu_bachelor", &["大学本科"]),
    ("members_edu_college", &["大学专科"]),
    (
        "members_edu_secondary",
        &["中等专科", "职业高中", "技工学校", "普通高中"],
    ),
    ("members_edu_junior", &["初中", "小学"]),
];

/// 职工入会率: members ÷ the orgs module's workforce.
pub const JOIN_RATE: &str = "members_join_rate";

pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "members_total",
            "会员总数",
            "Members",
            Unit::Person,
            Kind::PointInTime,
            MEMBERS,
            &MEMBERSHIPS,
            member_at_end!(),
        )
        .about(
            "期末在册会员人数(入会日期不晚于期末、期末未退会或转出;保留会籍者计入)",
            "Members on the roll at the end of the period (joined by then, not left or transferred out by then; retained memberships count)",
        )
        .headline(),
        event!(
            "members_joined",
            "新入会会员",
            "Members joined",
            "e.kind = 'join'",
            "统计期内办理入会的人数(会籍变化“入会”)",
            "People who joined a union in the period (join events)"
        )
        .headline(),
        event!(
            "members_transfer_in",
            "转入会员",
            "Members transferred in",
            "e.kind = 'transfer_in'",
            "统计期内转入的人数(会籍变化“转入”)",
            "People transferred in during the period"
        ),
        event!(
            "members_transfer_out",
            "转出会员",
            "Members transferred out",
            "e.kind = 'transfer_out'",
            "统计期内转出的人数(会籍变化“转出”)",
            "People transferred out during the period"
        ),
        event!(
            "members_left",
            "退会会员",
            "Members left",
            "e.kind = 'leave'",
            "统计期内退会的人数(会籍变化“退会”)",
            "People who left the union in the period"
        ),
        event!(
            "members_joined_migrant",
            "新发展农民工会员",
            "Migrant workers joined",
            "e.kind = 'join' AND p.migrant = 1",
            "统计期内入会的农民工人数",
            "Migrant workers who joined in the period"
        ),
        event!(
            "members_joined_new_employment",
            "新发展新就业形态会员",
            "New-employment workers joined",
            "e.kind = 'join' AND p.new_employment_group <> ''",
            "统计期内入会的新就业形态劳动者人数(快递员、外卖送餐员、货车司机等)",
            "New-employment workers (couriers, riders, truck drivers …) who joined in the period"
        ),
        stock!(
            "members_migrant",
            "农民工会员",
            "Migrant-worker members",
            MEMBERS,
            "p.migrant = 1",
            "期末在册会员中农民工人数",
            "Members at the end of the period who are migrant workers"
        )
        .headline(),
        stock!(
            "members_women",
            "女会员",
            "Women members",
            MEMBERS,
            "p.gender = 'female'",
            "期末在册会员中女性人数",
            "Women among the members at the end of the period"
        )
        .headline(),
        stock!(
            "members_new_employment",
            "新就业形态会员",
            "New-employment members",
            MEMBERS,
            "p.new_employment_group <> ''",
            "期末在册会员中新就业形态劳动者人数",
            "Members at the end of the period who are new-employment workers"
        )
        .headline(),
        stock!(
            "members_activated",
            "实名制上网会员",
            "Members activated online",
            MEMBERS,
            "m.activated_at IS NOT NULL AND m.activated_at < {end_at}",
            "期末在册会员中已在会员端首次登录(实名上网)的人数;会员端上线前为0",
            "Members at the end of the period who have signed in to the member portal (0 until the portal exists)"
        ),
        Indicator::ratio(
            "members_online_rate",
            "实名制上网率",
            "Online activation rate",
            MEMBERS,
            "members_activated",
            "members_total",
        )
        .about(
            "实名制上网会员 ÷ 会员总数",
            "Members activated online ÷ members",
        )
        .headline(),
        Indicator::ratio(
            JOIN_RATE,
            "职工入会率",
            "Union density (members ÷ workforce)",
            MEMBERS,
            "members_total",
            orgs::indicators::WORKFORCE_TOTAL,
        )
        .about(
            "会员总数 ÷ 已建工会组织的基层单位职工人数(职工人数为各基层工会截至期末最近一次填报之和;未填报职工人数的工会,其会员仍计入分子,逻辑检查会指出)",
            "Members ÷ the workforce of the units with a grassroots union (each union's latest recorded workforce as of the end of the period; members of unions that recorded none still count above the line, which the return's logic check points out)",
        ),
        neg!("members_neg_courier", "快递员", "couriers"),
        neg!("members_neg_food_delivery", "外卖送餐员", "food-delivery riders"),
        neg!("members_neg_truck_driver", "货车司机", "truck drivers"),
        neg!("members_neg_ride_hailing", "网约车司机", "ride-hailing drivers"),
        neg!("members_neg_domestic", "家政服务员", "domestic workers"),
        neg!("members_neg_carer", "护工护理员", "carers"),
        neg!("members_neg_security", "保安员", "security guards"),
        neg!("members_neg_mall", "商场信息员", "mall information staff"),
        neg!("members_neg_other", "其他新就业形态", "other new forms"),
        stock!(
            "members_age_35",
            "35岁及以下",
            "Aged 35 or under",
            MEMBER_PROFILE,
            "p.birth_date > {born36}",
            "期末在册会员中期末年龄35周岁及以下的人数",
            "Members aged 35 or under at the end of the period"
        )
        .group("age"),
        stock!(
            "members_age_36_45",
            "36至45岁",
            "Aged 36–45",
            MEMBER_PROFILE,
            "p.birth_date <= {born36} AND p.birth_date > {born46}",
            "期末在册会员中期末年龄36至45周岁的人数",
            "Members aged 36 to 45 at the end of the period"
        )
        .group("age"),
        stock!(
            "members_age_46_54",
            "46至54岁",
            "Aged 46–54",
            MEMBER_PROFILE,
            "p.birth_date <= {born46} AND p.birth_date > {born55}",
            "期末在册会员中期末年龄46至54周岁的人数",
            "Members aged 46 to 54 at the end of the period"
        )
        .group("age"),
        stock!(
            "members_age_55",
            "55岁及以上",
            "Aged 55 or over",
            MEMBER_PROFILE,
            "p.birth_date <= {born55} AND p.birth_date <> ''",
            "期末在册会员中期末年龄55周岁及以上的人数",
            "Members aged 55 or over at the end of the period"
        )
        .group("age"),
        stock!(
            "members_age_unknown",
            "年龄不详",
            "Age not recorded",
            MEMBER_PROFILE,
            "(p.birth_date IS NULL OR p.birth_date = '')",
            "期末在册会员中未登记出生日期的人数",
            "Members at the end of the period without a birth date"
        )
        .group("age"),
        edu!(
            "members_edu_postgraduate",
            "研究生",
            "postgraduate",
            "p.education IN ('研究生(博士)', '研究生(硕士)')"
        ),
        edu!(
            "members_edu_bachelor",
            "大学本科",
            "bachelor",
            "p.education = '大学本科'"
        ),
        edu!(
            "members_edu_college",
            "大学专科",
            "college",
            "p.education = '大学专科'"
        ),
        edu!(
            "members_edu_secondary",
            "中专及高中",
            "secondary",
            "p.education IN ('中等专科', '职业高中', '技工学校', '普通高中')"
        ),
        edu!(
            "members_edu_junior",
            "初中及以下",
            "junior secondary or less",
            "p.education IN ('初中', '小学')"
        ),
        edu!(
            "members_edu_other",
            "其他或未填学历",
            "other or not recorded",
            "p.education NOT IN ('研究生(博士)', '研究生(硕士)', '大学本科', '大学专科', '中等专科', '职业高中', '技工学校', '普通高中', '初中', '小学')"
        ),
    ]
}

/// The roster's paragraphs of the annual work summary, in the seeds' words.
pub fn summary() -> Vec<platform::summary::Paragraph> {
    use platform::summary::Paragraph;
    vec![
        Paragraph {
            key: "members.total",
            section: "organisation",
            indicators: &["members_total"],
            zh: "截至{@year}底,{@whole}工会会员总数达{members_total}{members_total:yoy}[,其中女性会员{members_women}][,农民工会员{members_migrant}][,职工入会率{members_join_rate}]。[全年新增会员{members_joined}][,其中农民工{members_joined_migrant}][,转入{members_transfer_in}]。",
            en: "At the end of {@year} the unions had {members_total} members{members_total:yoy}[, {members_women} of them women][ and {members_migrant} migrant workers][; {members_join_rate} of the workforce are members]. [{members_joined} members joined in the year][, {members_joined_migrant} of them migrant workers][; {members_transfer_in} transferred in].",
        },
        Paragraph {
            key: "members.new_employment",
            section: "organisation",
            indicators: &["members_new_employment"],
            zh: "深入推进新就业形态劳动者入会,新就业形态劳动者会员达{members_new_employment}{members_new_employment:yoy}[,其中货车司机{members_neg_truck_driver}][、快递员{members_neg_courier}][、外卖送餐员{members_neg_food_delivery}][、网约车司机{members_neg_ride_hailing}][、家政服务员{members_neg_domestic}][、护工护理员{members_neg_carer}][、保安员{members_neg_security}][、商场信息员{members_neg_mall}]。",
            en: "Workers in new forms of employment kept joining: {members_new_employment} are members{members_new_employment:yoy}[, among them {members_neg_truck_driver} truck drivers][, {members_neg_courier} couriers][, {members_neg_food_delivery} food-delivery riders][, {members_neg_ride_hailing} ride-hailing drivers][, {members_neg_domestic} domestic workers][, {members_neg_carer} carers][, {members_neg_security} security guards][, {members_neg_mall} mall information staff].",
        },
        Paragraph {
            key: "members.online",
            section: "digital",
            indicators: &["members_online_rate"],
            zh: "推进职工实名制入会和线上服务,职工实名制上网率达{members_online_rate}{members_online_rate:yoy}。",
            en: "Real-name membership went online: {members_online_rate} of members have activated their account{members_online_rate:yoy}.",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::indicator::Definition;

    fn when(code: &str) -> &'static str {
        match indicators()
            .into_iter()
            .find(|i| i.code == code)
            .unwrap()
            .definition
        {
            Definition::Records { when, .. } => when,
            _ => panic!(),
        }
    }

    #[test]
    fn every_new_employment_group_has_an_indicator() {
        let all = indicators();
        let groups: Vec<_> = all
            .iter()
            .filter(|i| i.group == Some("new_employment"))
            .collect();
        assert_eq!(groups.len(), crate::vocab::NEW_EMPLOYMENT_GROUPS.len());
        for g in crate::vocab::NEW_EMPLOYMENT_GROUPS {
            assert!(groups.iter().any(|i| i.name_zh == *g), "{g}");
        }
    }

    #[test]
    fn education_bands_cover_every_label_once() {
        let mut seen = Vec::new();
        for (code, labels) in EDUCATION_BANDS {
            let w = when(code);
            for l in *labels {
                assert!(w.contains(&format!("'{l}'")), "{code} {l}");
                seen.push(*l);
            }
        }
        for e in crate::vocab::EDUCATION {
            if *e != "其他" {
                assert!(seen.contains(e), "{e} has a band");
                assert!(when("members_edu_other").contains(&format!("'{e}'")));
            }
        }
    }
}
