//! The figures of 帮扶救助, over paid grants and hardship files: households
//! helped (each once per union), 人次, amounts in fen, 金秋助学 students and
//! their grants, 日常救助, files open at the end of the period by category.
//! Their summary paragraphs and their lines of the yearly return.

use numfmt::Unit;
use platform::{
    indicator::{Aggregation, DrillColumn, Indicator, Kind, Measure, RecordSource, Section, Show},
    summary::Paragraph,
    survey::{self, Answer, Check, Contribution, Item, Relation},
};

pub const ASSISTANCE: Section = Section {
    key: "assistance",
    zh: "帮扶救助",
    en: "Hardship assistance",
    order: 50,
};

const CATEGORY_LABELS: &[(&str, &str, &str)] = &[
    ("deep", "深度困难", "Deep hardship"),
    ("relative", "相对困难", "Relative hardship"),
    ("sudden", "意外致困", "Sudden hardship"),
];

const KIND_LABELS: &[(&str, &str, &str)] = crate::model::KINDS;

/// Paid grants: one row per person helped per campaign. Every writer of a
/// paid grant (the payment) bumps the org's data version.
pub static GRANTS: RecordSource = RecordSource {
    key: "hardship_grants",
    from: "hardship_grants g JOIN orgs o ON o.id = g.org_id JOIN hardship_campaigns c ON c.id = g.campaign_id",
    scan: None,
    org_column: "g.org_id",
    window: Some("g.paid_on"),
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "hardship_grants",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "申请工会", "Union", Show::Text),
        DrillColumn::new("campaign", "c.name", "活动", "Campaign", Show::Text),
        DrillColumn::new("kind", "c.kind", "类型", "Kind", Show::Label(KIND_LABELS)),
        DrillColumn::new("name", "g.name", "姓名", "Name", Show::Text),
        DrillColumn::new("id_masked", "g.id_masked", "证件号码", "ID number", Show::Text),
        DrillColumn::new("amount_fen", "g.amount_fen", "金额", "Amount", Show::Money),
        DrillColumn::new("paid_on", "g.paid_on", "发放日期", "Paid on", Show::Text),
    ],
    drill_order: "o.code, g.paid_on, g.id",
    drill_group: None,
};

/// The households helped: each person once per union, however many grants.
pub static HOUSEHOLDS: RecordSource = RecordSource {
    key: "hardship_households",
    measure: Measure::Distinct("g.id_hash"),
    aggregation: Aggregation::Distinct,
    subject: "hardship_households",
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "申请工会", "Union", Show::Text),
        DrillColumn::new("name", "MIN(g.name)", "户主姓名", "Head", Show::Text),
        DrillColumn::new(
            "id_masked",
            "MIN(g.id_masked)",
            "证件号码",
            "ID number",
            Show::Text,
        ),
        DrillColumn::new("grants", "COUNT(*)", "慰问次数", "Grants", Show::Number),
        DrillColumn::new(
            "amount_fen",
            "SUM(g.amount_fen)",
            "金额",
            "Amount",
            Show::Money,
        ),
    ],
    drill_order: "o.code, MIN(g.name)",
    drill_group: Some("o.id, g.id_hash"),
    ..GRANTS
};

/// Hardship files, for the stock of open files at the end of the period.
/// Every writer of a file's status bumps the org's data version.
pub static FILES: RecordSource = RecordSource {
    key: "hardship_files",
    from: "hardship_files f JOIN orgs o ON o.id = f.org_id JOIN person_refs r ON r.id = f.person_ref_id",
    scan: None,
    org_column: "f.org_id",
    window: None,
    cached: true,
    measure: Measure::Count,
    aggregation: Aggregation::Sum,
    subject: "hardship_files",
    personal: true,
    drill_columns: &[
        DrillColumn::new("org_name", "o.name", "建档工会", "Union", Show::Text),
        DrillColumn::new(
            "head_name",
            "f.head_name",
            "户主姓名",
            "Head",
            Show::Link {
                href: "/hardship/files/{}",
                id_key: "id",
            },
        ),
        DrillColumn::new("id", "f.id", "档案号", "File", Show::Hidden),
        // A purged file (purge.rs) shows no ID.
        DrillColumn::new("id_masked", "CASE WHEN f.purged_on IS NULL THEN r.id_masked ELSE '' END", "证件号码", "ID number", Show::Text),
        DrillColumn::new("category", "f.category", "困难类别", "Category", Show::Label(CATEGORY_LABELS)),
        DrillColumn::new("confirmed_on", "f.confirmed_on", "建档日期", "Filed on", Show::Text),
    ],
    drill_order: "o.code, f.id",
    drill_group: None,
};

const PAID: &str = "g.status = 'paid' AND g.paid_on >= {start} AND g.paid_on <= {end}";
const WARMTH: &str =
    "g.status = 'paid' AND g.paid_on >= {start} AND g.paid_on <= {end} AND c.kind = 'warmth'";
const EDUCATION: &str =
    "g.status = 'paid' AND g.paid_on >= {start} AND g.paid_on <= {end} AND c.kind = 'education'";
const DAILY: &str =
    "g.status = 'paid' AND g.paid_on >= {start} AND g.paid_on <= {end} AND c.kind = 'daily'";
const OPEN: &str = "f.confirmed_on IS NOT NULL AND f.confirmed_on <= {end} \
     AND (f.closed_on IS NULL OR f.closed_on > {end})";
const OPEN_DEEP: &str = "f.confirmed_on IS NOT NULL AND f.confirmed_on <= {end} \
     AND (f.closed_on IS NULL OR f.closed_on > {end}) AND f.category = 'deep'";
const OPEN_RELATIVE: &str = "f.confirmed_on IS NOT NULL AND f.confirmed_on <= {end} \
     AND (f.closed_on IS NULL OR f.closed_on > {end}) AND f.category = 'relative'";
const OPEN_SUDDEN: &str = "f.confirmed_on IS NOT NULL AND f.confirmed_on <= {end} \
     AND (f.closed_on IS NULL OR f.closed_on > {end}) AND f.category = 'sudden'";

const SUM: Measure = Measure::Sum("g.amount_fen");

pub fn indicators() -> Vec<Indicator> {
    vec![
        Indicator::records(
            "hardship_warmth_households",
            "送温暖慰问困难家庭",
            "Households helped (winter warmth)",
            Unit::Household,
            Kind::Flow,
            ASSISTANCE,
            &HOUSEHOLDS,
            WARMTH,
        )
        .about(
            "统计期内送温暖活动中慰问的困难家庭户数(每工会每户计一次,已发放)",
            "Households helped in winter-warmth campaigns in the period (once per union, paid)",
        )
        .headline(),
        Indicator::records(
            "hardship_warmth_visits",
            "送温暖慰问困难职工人次",
            "Workers helped in winter warmth (person-times)",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            WARMTH,
        )
        .about(
            "统计期内送温暖活动中已发放的慰问人次",
            "Winter-warmth grants paid in the period",
        ),
        Indicator::records(
            "hardship_warmth_amount",
            "送温暖慰问金额",
            "Winter-warmth amount",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            WARMTH,
        )
        .measure(SUM, Aggregation::SumOfValues)
        .about(
            "统计期内送温暖活动已发放金额",
            "Winter-warmth money paid in the period",
        ),
        Indicator::records(
            "hardship_education_students",
            "金秋助学资助学生",
            "Students given study grants",
            Unit::Headcount,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            EDUCATION,
        )
        .about(
            "统计期内金秋助学已发放助学金的困难职工子女人数",
            "Children of workers in hardship given an autumn study grant in the period",
        ),
        Indicator::records(
            "hardship_education_amount",
            "金秋助学发放金额",
            "Study grants paid",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            EDUCATION,
        )
        .measure(SUM, Aggregation::SumOfValues)
        .about(
            "统计期内金秋助学已发放金额",
            "Autumn study grants paid in the period",
        ),
        Indicator::records(
            "hardship_daily_times",
            "日常救助人次",
            "Everyday relief (person-times)",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            DAILY,
        )
        .about(
            "统计期内日常救助已发放人次",
            "Everyday relief grants paid in the period",
        ),
        Indicator::records(
            "hardship_daily_amount",
            "日常救助金额",
            "Everyday relief paid",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            DAILY,
        )
        .measure(SUM, Aggregation::SumOfValues)
        .about(
            "统计期内日常救助已发放金额",
            "Everyday relief paid in the period",
        ),
        Indicator::records(
            "hardship_grants",
            "帮扶救助人次",
            "Assistance (person-times)",
            Unit::PersonTime,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            PAID,
        )
        .about(
            "统计期内各类帮扶活动已发放人次",
            "Grants of every campaign paid in the period",
        ),
        Indicator::records(
            "hardship_amount",
            "帮扶救助金额",
            "Assistance paid",
            Unit::Fen,
            Kind::Flow,
            ASSISTANCE,
            &GRANTS,
            PAID,
        )
        .measure(SUM, Aggregation::SumOfValues)
        .about(
            "统计期内各类帮扶活动已发放金额",
            "Money of every campaign paid in the period",
        )
        .headline(),
        Indicator::records(
            "hardship_files_open",
            "在档困难职工",
            "Open hardship files",
            Unit::Household,
            Kind::PointInTime,
            ASSISTANCE,
            &FILES,
            OPEN,
        )
        .about(
            "期末已建档且未解困脱困的困难职工家庭",
            "Households on file at the end of the period",
        ),
        Indicator::records(
            "hardship_files_deep",
            "深度困难",
            "Deep hardship",
            Unit::Household,
            Kind::PointInTime,
            ASSISTANCE,
            &FILES,
            OPEN_DEEP,
        )
        .group("hardship_category")
        .about(
            "期末在档的深度困难职工家庭",
            "Deep-hardship households on file at the end of the period",
        ),
        Indicator::records(
            "hardship_files_relative",
            "相对困难",
            "Relative hardship",
            Unit::Household,
            Kind::PointInTime,
            ASSISTANCE,
            &FILES,
            OPEN_RELATIVE,
        )
        .group("hardship_category")
        .about(
            "期末在档的相对困难职工家庭",
            "Relative-hardship households on file at the end of the period",
        ),
        Indicator::records(
            "hardship_files_sudden",
            "意外致困",
            "Sudden hardship",
            Unit::Household,
            Kind::PointInTime,
            ASSISTANCE,
            &FILES,
            OPEN_SUDDEN,
        )
        .group("hardship_category")
        .about(
            "期末在档的意外致困职工家庭",
            "Sudden-hardship households on file at the end of the period",
        ),
    ]
}

/// The 帮扶救助 paragraphs, in the seeds' words.
pub fn summary() -> Vec<Paragraph> {
    vec![
        Paragraph {
            key: "hardship.warmth",
            section: "assistance",
            indicators: &["hardship_warmth_households", "hardship_warmth_visits"],
            // The visits themselves are records of their own (visits.rs,
            // "hardship.visits"); this is what the campaign paid.
            zh: "送温暖活动慰问困难家庭{hardship_warmth_households},慰问困难职工{hardship_warmth_visits}[,发放慰问金{hardship_warmth_amount:wan}]。",
            en: "Winter-warmth campaigns helped {hardship_warmth_households} households in hardship and {hardship_warmth_visits} workers[, giving {hardship_warmth_amount:wan}].",
        },
        Paragraph {
            key: "hardship.education",
            section: "assistance",
            indicators: &["hardship_education_students", "hardship_education_amount"],
            zh: "为{hardship_education_students:yu}困难职工子女发放助学金{hardship_education_amount:wan}。",
            en: "Study grants of {hardship_education_amount:wan} went to {hardship_education_students:yu} children of workers in hardship.",
        },
        Paragraph {
            key: "hardship.relief",
            section: "assistance",
            indicators: &["hardship_daily_times", "hardship_daily_amount"],
            zh: "共救助困难职工{hardship_daily_times},发放救助金{hardship_daily_amount:duo}。",
            en: "Everyday relief reached workers {hardship_daily_times} times, paying {hardship_daily_amount:duo}.",
        },
        Paragraph {
            key: "hardship.files",
            section: "assistance",
            indicators: &["hardship_files_open"],
            zh: "全市在档困难职工家庭{hardship_files_open}[,其中深度困难{hardship_files_deep}][、相对困难{hardship_files_relative}][、意外致困{hardship_files_sudden}]。",
            en: "{hardship_files_open} households in hardship are on file[, {hardship_files_deep} in deep hardship][, {hardship_files_relative} relative][, {hardship_files_sudden} sudden].",
        },
    ]
}

/// The 帮扶 lines of the yearly return (基层以上工会调查表).
pub fn yearly_return() -> Contribution {
    let item = |code, zh, en, unit, answer| Item {
        area: survey::ASSISTANCE,
        code,
        zh,
        en,
        unit,
        answer,
    };
    Contribution {
        items: vec![
            item(
                "BF01",
                "建档困难职工户数",
                "Households on file",
                "户",
                Answer::Indicator("hardship_files_open"),
            ),
            item(
                "BF02",
                "其中:深度困难",
                "of which deep hardship",
                "户",
                Answer::Indicator("hardship_files_deep"),
            ),
            item(
                "BF03",
                "相对困难",
                "relative hardship",
                "户",
                Answer::Indicator("hardship_files_relative"),
            ),
            item(
                "BF04",
                "意外致困",
                "sudden hardship",
                "户",
                Answer::Indicator("hardship_files_sudden"),
            ),
            item(
                "BF05",
                "帮扶救助人次",
                "Assistance (person-times)",
                "人次",
                Answer::Indicator("hardship_grants"),
            ),
            item(
                "BF06",
                "帮扶救助金额",
                "Assistance paid",
                "元",
                Answer::Indicator("hardship_amount"),
            ),
            item(
                "BF07",
                "送温暖慰问困难职工人次",
                "Winter-warmth visits",
                "人次",
                Answer::Indicator("hardship_warmth_visits"),
            ),
            item(
                "BF08",
                "送温暖慰问金额",
                "Winter-warmth amount",
                "元",
                Answer::Indicator("hardship_warmth_amount"),
            ),
            item(
                "BF09",
                "金秋助学资助学生数",
                "Students given study grants",
                "人",
                Answer::Indicator("hardship_education_students"),
            ),
            item(
                "BF10",
                "金秋助学金额",
                "Study grants paid",
                "元",
                Answer::Indicator("hardship_education_amount"),
            ),
            item(
                "BF11",
                "帮扶中心(站点)数",
                "Assistance centres",
                "个",
                Answer::NotRecorded,
            ),
            item(
                "BF12",
                "职业介绍成功人数",
                "Job placements",
                "人",
                // Placed through the unions' job fairs (jobs.rs).
                Answer::Indicator("hardship_job_placed"),
            ),
        ],
        checks: vec![
            Check {
                left: &["BF02", "BF03", "BF04"],
                relation: Relation::Equals,
                right: "BF01",
                zh: "深度困难、相对困难、意外致困户数之和应等于建档户数",
                en: "Deep, relative and sudden households add up to the households on file",
            },
            Check {
                left: &["BF07"],
                relation: Relation::AtMost,
                right: "BF05",
                zh: "送温暖人次不应超过帮扶救助总人次",
                en: "Winter-warmth visits are within all assistance",
            },
            Check {
                left: &["BF08", "BF10"],
                relation: Relation::AtMost,
                right: "BF06",
                zh: "送温暖与金秋助学金额之和不应超过帮扶救助总金额",
                en: "Winter-warmth and study grants are within all assistance paid",
            },
        ],
    }
}
