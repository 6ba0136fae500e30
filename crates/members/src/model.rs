//! One roster row: the raw cells a union clerk types or imports, and the
//! validated record they become. The same parser serves the Excel import,
//! the single-member form and the online join form, so a rule is enforced
//! identically everywhere.

use chrono::NaiveDate;
use pinyin::ToPinyin;
use serde::{Deserialize, Serialize};

use crate::vocab::RetirementRule;
use ident::{self, Gender, IdKind, IdNumber, ParsedId};
use platform::{crypto::Keys, i18n::Msg, time};

/// Raw text of one roster row, keyed like the import template.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RawMember {
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub nation: String,
    pub id_kind: String,
    pub id_number: String,
    pub education: String,
    pub skill_level: String,
    pub phone: String,
    pub hukou_type: String,
    pub hukou_place: String,
    pub political: String,
    pub workplace: String,
    pub migrant: String,
    pub new_employment_group: String,
    pub change_kind: String,
    pub change_date: String,
    pub org_code: String,
}

/// Template columns: (field key, header spellings accepted, required).
/// The first spelling is the template's header.
pub const COLUMNS: &[(&str, &[&str], bool)] = &[
    ("name", &["姓名", "会员姓名", "name"], true),
    ("gender", &["性别", "gender"], false),
    ("birth_date", &["出生日期", "出生年月", "birth_date"], false),
    ("nation", &["民族", "nation"], false),
    ("id_kind", &["证件类型", "id_kind"], false),
    (
        "id_number",
        &[
            "证件号码",
            "身份证号码",
            "身份证号",
            "公民身份号码",
            "id_number",
        ],
        true,
    ),
    ("education", &["学历", "文化程度", "education"], false),
    (
        "skill_level",
        &["技术等级", "技能等级", "skill_level"],
        false,
    ),
    (
        "phone",
        &["移动电话", "手机号码", "手机号", "联系电话", "phone"],
        false,
    ),
    ("hukou_type", &["户籍类型", "户口类型", "hukou_type"], false),
    (
        "hukou_place",
        &["户籍所在地", "户口所在地", "hukou_place"],
        false,
    ),
    ("political", &["政治面貌", "political"], false),
    ("workplace", &["工作单位", "workplace"], false),
    ("migrant", &["是否农民工", "农民工", "migrant"], false),
    (
        "new_employment_group",
        &[
            "新就业形态群体",
            "新就业形态",
            "八大群体",
            "new_employment_group",
        ],
        false,
    ),
    (
        "change_kind",
        &["会籍变化类型", "会籍变化", "change_kind"],
        false,
    ),
    (
        "change_date",
        &["会籍变化日期", "入会日期", "change_date"],
        false,
    ),
    ("org_code", &["所属工会编码", "工会编码", "org_code"], false),
];

impl RawMember {
    /// Builds a row from (key, value) pairs such as a header-mapped sheet row.
    pub fn set(&mut self, key: &str, v: &str) {
        let v = v.trim().to_string();
        match key {
            "name" => self.name = v,
            "gender" => self.gender = v,
            "birth_date" => self.birth_date = v,
            "nation" => self.nation = v,
            "id_kind" => self.id_kind = v,
            "id_number" => self.id_number = v,
            "education" => self.education = v,
            "skill_level" => self.skill_level = v,
            "phone" => self.phone = v,
            "hukou_type" => self.hukou_type = v,
            "hukou_place" => self.hukou_place = v,
            "political" => self.political = v,
            "workplace" => self.workplace = v,
            "migrant" => self.migrant = v,
            "new_employment_group" => self.new_employment_group = v,
            "change_kind" => self.change_kind = v,
            "change_date" => self.change_date = v,
            "org_code" => self.org_code = v,
            _ => {}
        }
    }

    /// The cells in template column order (for the rejects file).
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.gender.clone(),
            self.birth_date.clone(),
            self.nation.clone(),
            self.id_kind.clone(),
            self.id_number.clone(),
            self.education.clone(),
            self.skill_level.clone(),
            self.phone.clone(),
            self.hukou_type.clone(),
            self.hukou_place.clone(),
            self.political.clone(),
            self.workplace.clone(),
            self.migrant.clone(),
            self.new_employment_group.clone(),
            self.change_kind.clone(),
            self.change_date.clone(),
            self.org_code.clone(),
        ]
    }
}

/// 会籍变化 a row asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    /// 入会
    Join,
    /// 转入 (from outside this instance)
    TransferIn,
    /// 退会
    Leave,
    /// 保留会籍
    Retain,
}

impl ChangeKind {
    pub fn parse(raw: &str) -> Option<ChangeKind> {
        Some(match raw.trim() {
            "" | "入会" | "新入会" | "join" => ChangeKind::Join,
            "转入" | "transfer_in" => ChangeKind::TransferIn,
            "退会" | "leave" => ChangeKind::Leave,
            "保留会籍" | "retain" => ChangeKind::Retain,
            _ => return None,
        })
    }
    pub fn event(self) -> &'static str {
        match self {
            ChangeKind::Join => "join",
            ChangeKind::TransferIn => "transfer_in",
            ChangeKind::Leave => "leave",
            ChangeKind::Retain => "retain",
        }
    }
}

pub fn event_label(kind: &str) -> Msg {
    match kind {
        "join" => Msg::new("入会", "Joined"),
        "transfer_in" => Msg::new("转入", "Transferred in"),
        "transfer_out" => Msg::new("转出", "Transferred out"),
        "leave" => Msg::new("退会", "Left"),
        "retain" => Msg::new("保留会籍", "Membership retained"),
        other => Msg::new(other, other),
    }
}

pub fn status_label(status: &str) -> Msg {
    match status {
        "active" => Msg::new("在籍", "Active"),
        "retained" => Msg::new("保留会籍", "Retained"),
        "ended" => Msg::new("已离会", "Ended"),
        other => Msg::new(other, other),
    }
}

/// A validated person, ready to store.
#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub id: ParsedId,
    pub gender: Gender,
    pub birth: Option<NaiveDate>,
    pub phone: Option<String>,
    pub nation: String,
    pub education: String,
    pub political: String,
    pub hukou_type: String,
    pub hukou_place: String,
    pub migrant: bool,
    pub skill_level: String,
    pub workplace: String,
    pub group: String,
}

/// A validated roster row.
#[derive(Clone, Debug)]
pub struct MemberRow {
    pub person: Person,
    pub change: ChangeKind,
    pub on: NaiveDate,
    pub org_code: String,
}

fn enum_field(
    raw: &str,
    norm: fn(&str) -> Option<&'static str>,
    zh: &str,
    en: &str,
    list: &[&str],
) -> Result<String, Msg> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    norm(raw).map(str::to_string).ok_or_else(|| {
        let sample: Vec<&str> = list.iter().take(8).copied().collect();
        Msg::new(
            format!(
                "{zh}“{}”无法识别,请填写如:{}",
                raw.trim(),
                sample.join("、")
            ),
            format!(
                "{en} “{}” is not recognised; use one of: {}",
                raw.trim(),
                sample.join(", ")
            ),
        )
    })
}

fn id_msg(e: &ident::IdError) -> Msg {
    let (zh, en) = e.message();
    Msg::new(zh, en)
}

impl RawMember {
    /// Validates the row. `today` anchors birth-date checks; `rule` is the
    /// retirement-age rule applied to new enrolments.
    pub fn parse(&self, today: NaiveDate, rule: &RetirementRule) -> Result<MemberRow, Msg> {
        let name: String = self.name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(Msg::new("姓名不能为空", "The name is empty"));
        }
        if name.chars().count() > 50 {
            return Err(Msg::new(
                "姓名过长(最多50字)",
                "The name is too long (50 characters at most)",
            ));
        }
        let kind = match self.id_kind.trim() {
            "" => IdKind::ResidentId,
            s => IdKind::from_label(s).ok_or_else(|| {
                Msg::new(
                    format!("证件类型“{s}”无法识别,请填写居民身份证、港澳台居民居住证、护照或其他"),
                    format!("Document type “{s}” is not recognised; use 居民身份证, 港澳台居民居住证, 护照 or 其他"),
                )
            })?,
        };
        if self.id_number.trim().is_empty() {
            return Err(Msg::new("证件号码不能为空", "The ID number is empty"));
        }
        let id = IdNumber::parse_on(kind, &self.id_number, today).map_err(|e| id_msg(&e))?;
        let typed_gender = match self.gender.trim() {
            "" => None,
            g => Some(Gender::from_label(g).ok_or_else(|| {
                Msg::new(
                    format!("性别“{g}”无法识别,请填写男或女"),
                    format!("Sex “{g}” is not recognised; use 男 or 女"),
                )
            })?),
        };
        let typed_birth = match self.birth_date.trim() {
            "" => None,
            b => Some(time::parse_date(b).ok_or_else(|| {
                Msg::new(
                    format!("出生日期“{b}”不是有效日期,请按1990-01-31格式填写"),
                    format!("Birth date “{b}” is not a valid date; use the form 1990-01-31"),
                )
            })?),
        };
        ident::check_consistency(&id, typed_gender, typed_birth).map_err(|e| id_msg(&e))?;
        let gender = id.gender.or(typed_gender).ok_or_else(|| {
            Msg::new(
                "此证件类型无法推算性别,请填写性别",
                "Sex cannot be derived from this document; fill in 性别",
            )
        })?;
        let birth = id.birth.or(typed_birth);
        let phone = match self.phone.trim() {
            "" => None,
            p => Some(ident::parse_mobile(p).map_err(|e| id_msg(&e))?),
        };
        let migrant = match self.migrant.trim() {
            "" | "否" | "N" | "n" | "no" | "0" | "false" => false,
            "是" | "Y" | "y" | "yes" | "1" | "true" => true,
            m => {
                return Err(Msg::new(
                    format!("是否农民工“{m}”无法识别,请填写是或否"),
                    format!("农民工 flag “{m}” is not recognised; use 是 or 否"),
                ))
            }
        };
        let change = ChangeKind::parse(&self.change_kind).ok_or_else(|| {
            Msg::new(
                format!(
                    "会籍变化类型“{}”无法识别,请填写入会、转入、退会或保留会籍",
                    self.change_kind.trim()
                ),
                format!(
                    "Membership change “{}” is not recognised; use 入会, 转入, 退会 or 保留会籍",
                    self.change_kind.trim()
                ),
            )
        })?;
        let on = match self.change_date.trim() {
            "" => today,
            d => time::parse_date(d).ok_or_else(|| {
                Msg::new(
                    format!("会籍变化日期“{d}”不是有效日期,请按2024-03-01格式填写"),
                    format!(
                        "Membership change date “{d}” is not a valid date; use the form 2024-03-01"
                    ),
                )
            })?,
        };
        if on > today {
            return Err(Msg::new(
                "会籍变化日期不能晚于今天",
                "The membership change date cannot be in the future",
            ));
        }
        if let Some(b) = birth {
            if on < b {
                return Err(Msg::new(
                    "会籍变化日期早于出生日期,请核对",
                    "The membership change date is before the birth date",
                ));
            }
            if matches!(change, ChangeKind::Join | ChangeKind::TransferIn) {
                if ident::age_on(b, on) < 16 {
                    return Err(Msg::new(
                        "未满16周岁,不能入会",
                        "Under 16 years of age at the date of joining; cannot join",
                    ));
                }
                if rule.is_past_retirement(b, gender, on) {
                    let age = if gender == Gender::Male {
                        rule.male_age
                    } else {
                        rule.female_age
                    };
                    return Err(Msg::new(
                        format!("入会时已达退休年龄({age}周岁),不能新入会"),
                        format!("Already past the retirement age ({age}) at the date of joining"),
                    ));
                }
            }
        }
        Ok(MemberRow {
            person: Person {
                name,
                id,
                gender,
                birth,
                phone,
                nation: enum_field(
                    &self.nation,
                    crate::vocab::normalize_nation,
                    "民族",
                    "Ethnic group",
                    crate::vocab::NATIONS,
                )?,
                education: enum_field(
                    &self.education,
                    crate::vocab::normalize_education,
                    "学历",
                    "Education",
                    crate::vocab::EDUCATION,
                )?,
                political: enum_field(
                    &self.political,
                    crate::vocab::normalize_political,
                    "政治面貌",
                    "Political status",
                    crate::vocab::POLITICAL,
                )?,
                hukou_type: enum_field(
                    &self.hukou_type,
                    crate::vocab::normalize_hukou,
                    "户籍类型",
                    "Hukou type",
                    crate::vocab::HUKOU,
                )?,
                hukou_place: self.hukou_place.trim().to_string(),
                migrant,
                skill_level: enum_field(
                    &self.skill_level,
                    crate::vocab::normalize_skill_level,
                    "技术等级",
                    "Skill level",
                    crate::vocab::SKILL_LEVELS,
                )?,
                workplace: self.workplace.trim().to_string(),
                group: enum_field(
                    &self.new_employment_group,
                    crate::vocab::normalize_new_employment_group,
                    "新就业形态群体",
                    "New-employment group",
                    crate::vocab::NEW_EMPLOYMENT_GROUPS,
                )?,
            },
            change,
            on,
            org_code: self.org_code.trim().to_ascii_uppercase(),
        })
    }
}

/// Full pinyin ("zhangsan") and initials ("zs") of a name, for search.
pub fn pinyin_of(name: &str) -> (String, String) {
    let mut full = String::with_capacity(name.len() * 2);
    let mut initials = String::new();
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                full.push(l);
                initials.push(l);
            }
            None => {}
        }
    }
    (full, initials)
}

/// What is stored for a person: the sealed and hashed forms of the
/// personal numbers, and the hash of every field for change detection.
pub struct Sealed {
    pub id_hash: String,
    pub id_enc: String,
    pub id_masked: String,
    pub phone_hash: Option<String>,
    pub phone_enc: Option<String>,
    pub phone_masked: Option<String>,
    pub pinyin: String,
    pub initials: String,
    pub row_hash: String,
}

/// The platform's derivation, shared with person references
/// (`platform::person`), so both find a person by the same hash.
pub fn id_lookup_hash(keys: &Keys, id: &str) -> String {
    platform::person::id_lookup_hash(keys, id)
}

pub fn phone_lookup_hash(keys: &Keys, phone: &str) -> String {
    platform::person::phone_lookup_hash(keys, phone)
}

impl Person {
    pub fn gender_code(&self) -> &'static str {
        match self.gender {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    pub fn seal(&self, keys: &Keys) -> Sealed {
        let canonical = serde_json::json!([
            self.name,
            self.id.as_str(),
            self.id.kind.code(),
            self.gender_code(),
            self.birth,
            self.phone,
            self.nation,
            self.education,
            self.political,
            self.hukou_type,
            self.hukou_place,
            self.migrant,
            self.skill_level,
            self.workplace,
            self.group
        ]);
        let (pinyin, initials) = pinyin_of(&self.name);
        Sealed {
            id_hash: id_lookup_hash(keys, self.id.as_str()),
            id_enc: keys.encrypt(self.id.as_str()),
            id_masked: self.id.masked(),
            phone_hash: self.phone.as_deref().map(|p| phone_lookup_hash(keys, p)),
            phone_enc: self.phone.as_deref().map(|p| keys.encrypt(p)),
            phone_masked: self.phone.as_deref().map(ident::mask_phone),
            pinyin,
            initials,
            row_hash: row_hash(keys, &canonical),
        }
    }
}

/// The change-detection hash of a person's stored fields (a re-import of
/// the same row is "unchanged"). Keyed, so that the database alone cannot
/// test guesses of an ID or phone number against it: the masked phone
/// leaves 10⁴ candidates, which an unkeyed hash would check in a blink.
pub fn row_hash(keys: &Keys, canonical: &serde_json::Value) -> String {
    keys.lookup_hash("row", &canonical.to_string())[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> RawMember {
        RawMember {
            name: "张三".into(),
            id_number: id.into(),
            phone: "13800138000".into(),
            change_date: "2024-03-01".into(),
            ..Default::default()
        }
    }
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn parses_a_good_row_and_derives_sex_and_birth() {
        let r = row("11010219840406970X")
            .parse(today(), &RetirementRule::default())
            .unwrap();
        assert_eq!(r.person.gender, Gender::Female);
        assert_eq!(r.person.birth, NaiveDate::from_ymd_opt(1984, 4, 6));
        assert_eq!(r.change, ChangeKind::Join);
    }

    #[test]
    fn refuses_bad_rows_with_one_clear_reason() {
        let rule = RetirementRule::default();
        let e = row("11010219840506970X").parse(today(), &rule).unwrap_err();
        assert!(e.zh.contains("校验"), "{e}");
        let mut r = row("11010219840406970X");
        r.gender = "男".into();
        assert!(r.parse(today(), &rule).unwrap_err().zh.contains("性别"));
        let mut r = row("11010219840406970X");
        r.phone = "12345".into();
        assert!(r.parse(today(), &rule).is_err());
        let mut r = row("11010219840406970X");
        r.name = " ".into();
        assert!(r.parse(today(), &rule).unwrap_err().zh.contains("姓名"));
        // Born 1949: past retirement when joining in 2024.
        let e = row("11010519491231002X").parse(today(), &rule).unwrap_err();
        assert!(e.zh.contains("退休"), "{e}");
        let mut r = row("11010219840406970X");
        r.nation = "火星族".into();
        assert!(r.parse(today(), &rule).unwrap_err().zh.contains("民族"));
    }

    #[test]
    fn pinyin_and_initials() {
        assert_eq!(pinyin_of("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(pinyin_of("李A"), ("lia".into(), "la".into()));
    }
}
