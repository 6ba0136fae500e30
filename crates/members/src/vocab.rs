//! The roster's vocabularies (民族, 学历, 政治面貌, 户口, 技能等级, 新就业形态群体) and the
//! retirement rule.
//!
//! Vocabulary lists are `&[&str]` constants in the official order so that drop-downs, import
//! templates and reports all agree; `normalize_*` maps the variants people actually type onto
//! those canonical labels and returns `None` rather than guessing when an input is ambiguous.

use chrono::NaiveDate;
use ident::{age_on, squash, Gender};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Roster vocabularies
// ---------------------------------------------------------------------------------------------

/// The 56 民族 in the order of GB/T 3304.
pub const NATIONS: &[&str] = &[
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// 学历, highest first, as in the federation's roster template.
pub const EDUCATION: &[&str] = &[
    "研究生(博士)",
    "研究生(硕士)",
    "大学本科",
    "大学专科",
    "中等专科",
    "职业高中",
    "技工学校",
    "普通高中",
    "初中",
    "小学",
    "其他",
];

/// 政治面貌 (GB/T 4762).
pub const POLITICAL: &[&str] = &[
    "中共党员",
    "中共预备党员",
    "共青团员",
    "民革会员",
    "民盟盟员",
    "民建会员",
    "民进会员",
    "农工党党员",
    "致公党党员",
    "九三学社社员",
    "台盟盟员",
    "无党派人士",
    "群众",
];

/// 户籍类型.
pub const HUKOU: &[&str] = &["农业户口", "非农业户口", "居民户口"];

/// 技能等级 / 职称.
pub const SKILL_LEVELS: &[&str] = &[
    "无",
    "初级工",
    "中级工",
    "高级工",
    "技师",
    "高级技师",
    "初级职称",
    "中级职称",
    "高级职称",
];

/// 新就业形态劳动者 groups the federation reports on.
pub const NEW_EMPLOYMENT_GROUPS: &[&str] = &[
    "快递员",
    "外卖送餐员",
    "货车司机",
    "网约车司机",
    "家政服务员",
    "护工护理员",
    "保安员",
    "商场信息员",
    "其他新就业形态",
];

/// Shared tolerant lookup: exact match on the squashed input, then the alias table. Parentheses
/// are compared in half-width form so 研究生（博士） matches 研究生(博士).
fn normalize_in(
    list: &'static [&'static str],
    aliases: &[(&str, &'static str)],
    raw: &str,
) -> Option<&'static str> {
    let key = squash(raw);
    if key.is_empty() {
        return None;
    }
    list.iter()
        .copied()
        .find(|v| *v == key)
        .or_else(|| aliases.iter().find(|(a, _)| *a == key).map(|(_, v)| *v))
}

/// Canonical 民族, accepting the name with or without 族 ("汉" → "汉族") and the common short
/// forms 蒙族/维族.
pub fn normalize_nation(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[("蒙族", "蒙古族"), ("维族", "维吾尔族")];
    normalize_in(NATIONS, ALIASES, raw).or_else(|| {
        let key = format!("{}族", squash(raw));
        NATIONS.iter().copied().find(|v| *v == key)
    })
}

/// Canonical 学历. Bare 研究生 is deliberately not mapped: it could be either degree.
pub fn normalize_education(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("博士", "研究生(博士)"),
        ("博士研究生", "研究生(博士)"),
        ("研究生博士", "研究生(博士)"),
        ("硕士", "研究生(硕士)"),
        ("硕士研究生", "研究生(硕士)"),
        ("研究生硕士", "研究生(硕士)"),
        ("本科", "大学本科"),
        ("大本", "大学本科"),
        ("学士", "大学本科"),
        ("大专", "大学专科"),
        ("专科", "大学专科"),
        ("高职", "大学专科"),
        ("中专", "中等专科"),
        ("中等专业学校", "中等专科"),
        ("职高", "职业高中"),
        ("技校", "技工学校"),
        ("高中", "普通高中"),
        ("初级中学", "初中"),
        ("其它", "其他"),
    ];
    normalize_in(EDUCATION, ALIASES, raw)
}

/// Canonical 政治面貌.
pub fn normalize_political(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("党员", "中共党员"),
        ("共产党员", "中共党员"),
        ("中国共产党党员", "中共党员"),
        ("预备党员", "中共预备党员"),
        ("团员", "共青团员"),
        ("共青团", "共青团员"),
        ("中国共产主义青年团团员", "共青团员"),
        ("民革", "民革会员"),
        ("民盟", "民盟盟员"),
        ("民建", "民建会员"),
        ("民进", "民进会员"),
        ("农工党", "农工党党员"),
        ("致公党", "致公党党员"),
        ("九三学社", "九三学社社员"),
        ("台盟", "台盟盟员"),
        ("无党派", "无党派人士"),
        ("普通群众", "群众"),
    ];
    normalize_in(POLITICAL, ALIASES, raw)
}

/// Canonical 户籍类型; 城镇 counts as 非农业户口.
pub fn normalize_hukou(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("农业", "农业户口"),
        ("农村", "农业户口"),
        ("农村户口", "农业户口"),
        ("非农业", "非农业户口"),
        ("非农", "非农业户口"),
        ("城镇", "非农业户口"),
        ("城镇户口", "非农业户口"),
        ("居民", "居民户口"),
        ("统一居民户口", "居民户口"),
    ];
    normalize_in(HUKOU, ALIASES, raw)
}

/// Canonical 技能等级 / 职称, also accepting the 一级…五级 vocational grades. Bare 初级/中级/高级
/// are not mapped: they could be a worker grade or a professional title.
pub fn normalize_skill_level(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("暂无", "无"),
        ("五级", "初级工"),
        ("四级", "中级工"),
        ("三级", "高级工"),
        ("二级", "技师"),
        ("一级", "高级技师"),
        ("副高", "高级职称"),
        ("正高", "高级职称"),
        ("副高级职称", "高级职称"),
        ("正高级职称", "高级职称"),
    ];
    normalize_in(SKILL_LEVELS, ALIASES, raw)
}

/// Canonical 新就业形态 group, accepting the everyday names (外卖骑手, 快递小哥, 网约车 …).
pub fn normalize_new_employment_group(raw: &str) -> Option<&'static str> {
    const ALIASES: &[(&str, &str)] = &[
        ("快递小哥", "快递员"),
        ("快递", "快递员"),
        ("快递配送员", "快递员"),
        ("外卖骑手", "外卖送餐员"),
        ("外卖员", "外卖送餐员"),
        ("骑手", "外卖送餐员"),
        ("送餐员", "外卖送餐员"),
        ("外卖", "外卖送餐员"),
        ("货车", "货车司机"),
        ("卡车司机", "货车司机"),
        ("货运司机", "货车司机"),
        ("网约车", "网约车司机"),
        ("网约车驾驶员", "网约车司机"),
        ("家政", "家政服务员"),
        ("家政工", "家政服务员"),
        ("护工", "护工护理员"),
        ("护理员", "护工护理员"),
        ("保安", "保安员"),
        ("其他", "其他新就业形态"),
        ("其它", "其他新就业形态"),
    ];
    normalize_in(NEW_EMPLOYMENT_GROUPS, ALIASES, raw)
}

/// Statutory retirement ages. Kept as data rather than constants because they differ by job
/// category (female cadres at 55, female workers at 50) and are being raised gradually from 2025;
/// each union configures the rule that applies to its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetirementRule {
    pub male_age: u32,
    pub female_age: u32,
}

impl Default for RetirementRule {
    fn default() -> Self {
        RetirementRule {
            male_age: 60,
            female_age: 55,
        }
    }
}

impl RetirementRule {
    /// Whether the member has reached retirement age on `on` (the birthday itself counts).
    pub fn is_past_retirement(&self, birth: NaiveDate, gender: Gender, on: NaiveDate) -> bool {
        let limit = match gender {
            Gender::Male => self.male_age,
            Gender::Female => self.female_age,
        };
        age_on(birth, on) >= limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn vocabularies() {
        assert_eq!(NATIONS.len(), 56);
        assert_eq!(normalize_nation("汉"), Some("汉族"));
        assert_eq!(normalize_nation(" 汉族 "), Some("汉族"));
        assert_eq!(normalize_nation("维族"), Some("维吾尔族"));
        assert_eq!(normalize_nation("基诺"), Some("基诺族"));
        assert_eq!(normalize_nation("火星族"), None);
        assert_eq!(normalize_nation(""), None);

        assert_eq!(normalize_education("本科"), Some("大学本科"));
        assert_eq!(normalize_education("大专"), Some("大学专科"));
        assert_eq!(normalize_education("硕士"), Some("研究生(硕士)"));
        assert_eq!(normalize_education("博士"), Some("研究生(博士)"));
        assert_eq!(normalize_education("研究生（博士）"), Some("研究生(博士)"));
        assert_eq!(normalize_education("高中"), Some("普通高中"));
        assert_eq!(normalize_education("中专"), Some("中等专科"));
        assert_eq!(normalize_education("研究生"), None);

        assert_eq!(POLITICAL.len(), 13);
        assert_eq!(normalize_political("党员"), Some("中共党员"));
        assert_eq!(normalize_political("团员"), Some("共青团员"));
        assert_eq!(normalize_political("群众"), Some("群众"));
        assert_eq!(normalize_political("民盟"), Some("民盟盟员"));
        assert_eq!(normalize_political("会员"), None);

        assert_eq!(normalize_hukou("农业"), Some("农业户口"));
        assert_eq!(normalize_hukou("非农业"), Some("非农业户口"));
        assert_eq!(normalize_hukou("城镇"), Some("非农业户口"));
        assert_eq!(normalize_hukou("居民户口"), Some("居民户口"));
        assert_eq!(normalize_hukou("集体"), None);

        assert_eq!(normalize_skill_level("技师"), Some("技师"));
        assert_eq!(normalize_skill_level("三级"), Some("高级工"));
        assert_eq!(normalize_skill_level("初级"), None);

        assert_eq!(
            normalize_new_employment_group("外卖骑手"),
            Some("外卖送餐员")
        );
        assert_eq!(normalize_new_employment_group("快递小哥"), Some("快递员"));
        assert_eq!(normalize_new_employment_group("网约车"), Some("网约车司机"));
        assert_eq!(normalize_new_employment_group(" 保安员 "), Some("保安员"));
        assert_eq!(normalize_new_employment_group("主播"), None);

        // Every canonical value normalises to itself.
        for list in [
            NATIONS,
            EDUCATION,
            POLITICAL,
            HUKOU,
            SKILL_LEVELS,
            NEW_EMPLOYMENT_GROUPS,
        ] {
            for v in list {
                let got = [
                    normalize_nation(v),
                    normalize_education(v),
                    normalize_political(v),
                    normalize_hukou(v),
                    normalize_skill_level(v),
                    normalize_new_employment_group(v),
                ];
                assert!(got.contains(&Some(*v)), "{v}");
            }
        }
    }
    #[test]
    fn ages_and_retirement() {
        assert_eq!(age_on(d(1990, 6, 15), d(2024, 6, 14)), 33);
        assert_eq!(age_on(d(1990, 6, 15), d(2024, 6, 15)), 34);
        assert_eq!(age_on(d(2000, 2, 29), d(2023, 2, 28)), 22);
        assert_eq!(age_on(d(2000, 2, 29), d(2023, 3, 1)), 23);
        assert_eq!(age_on(d(2024, 1, 1), d(2020, 1, 1)), 0);

        let rule = RetirementRule::default();
        assert_eq!(rule.male_age, 60);
        assert_eq!(rule.female_age, 55);
        let birth = d(1969, 7, 1);
        assert!(!rule.is_past_retirement(birth, Gender::Male, d(2029, 6, 30)));
        assert!(rule.is_past_retirement(birth, Gender::Male, d(2029, 7, 1)));
        assert!(rule.is_past_retirement(birth, Gender::Female, d(2024, 7, 1)));
        assert!(!rule.is_past_retirement(birth, Gender::Female, d(2024, 6, 30)));
    }
}
