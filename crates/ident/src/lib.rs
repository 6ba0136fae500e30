//! Chinese identifiers: GB 11643 citizen ID numbers (and the other documents people register
//! with), GB/T 2260 region codes, GB 32100 unified social credit codes, mobile numbers, masking.
//! It knows nothing of unions.
//!
//! Rosters and registers arrive as hand-typed spreadsheets, so this crate is the single place
//! where those identifiers are turned into trusted values. It follows "parse,
//! don't validate": once an [`IdNumber`] exists it is known to be well-formed, and the facts it
//! encodes (birth date, gender, address code) are extracted once, here, instead of being re-sliced
//! out of strings all over the code base.
//!
//! Design choices worth knowing:
//! - Every error carries a bilingual, actionable message ([`IdError::message`]) because the people
//!   reading them are union clerks fixing a spreadsheet row, not developers.
//! - Address codes are checked in two tiers. The province is checked strictly (a wrong province is
//!   almost always a typo), but the full six-digit code only produces a warning when unknown: an ID
//!   keeps the code in force when it was issued, and counties are merged and renamed all the time
//!   (440524 潮阳县 no longer exists, yet people carry it). Rejecting those would lock real members
//!   out. The embedded table (`region_codes.rs`) holds current *and* historical codes.
//! - All functions are pure; "today" is a parameter wherever it matters ([`IdNumber::parse_on`])
//!   so tests and batch imports are reproducible. [`IdNumber::parse`] is the convenience wrapper
//!   that reads the local clock.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod credit_code;
// The generated GB/T 2260 table (current and historical codes).
mod region_codes;

// ---------------------------------------------------------------------------------------------
// Document kinds and genders
// ---------------------------------------------------------------------------------------------

/// Kind of identity document a member registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// 居民身份证 (GB 11643-1999).
    ResidentId,
    /// 港澳台居民居住证: same layout and check as the resident ID, address code 810000/820000/830000.
    HkMacaoTwResidence,
    /// 护照.
    Passport,
    /// Any other document (军官证, 外国人永久居留证 …); only lightly checked.
    Other,
}

impl IdKind {
    /// All kinds, in the order a form should offer them.
    pub const ALL: [IdKind; 4] = [
        IdKind::ResidentId,
        IdKind::HkMacaoTwResidence,
        IdKind::Passport,
        IdKind::Other,
    ];

    /// Chinese label as shown to members.
    pub fn label_zh(self) -> &'static str {
        match self {
            IdKind::ResidentId => "居民身份证",
            IdKind::HkMacaoTwResidence => "港澳台居民居住证",
            IdKind::Passport => "护照",
            IdKind::Other => "其他",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            IdKind::ResidentId => "Resident ID card",
            IdKind::HkMacaoTwResidence => {
                "Residence permit for Hong Kong, Macao and Taiwan residents"
            }
            IdKind::Passport => "Passport",
            IdKind::Other => "Other",
        }
    }

    /// Stable machine code (matches the serde representation).
    pub fn code(self) -> &'static str {
        match self {
            IdKind::ResidentId => "resident_id",
            IdKind::HkMacaoTwResidence => "hk_macao_tw_residence",
            IdKind::Passport => "passport",
            IdKind::Other => "other",
        }
    }

    /// Reads a kind from a Chinese label, an English label or a machine code, as found in
    /// spreadsheets. Case and surrounding spaces are ignored.
    pub fn from_label(raw: &str) -> Option<IdKind> {
        let key = squash(raw).to_ascii_lowercase();
        let kind = match key.as_str() {
            "居民身份证"
            | "身份证"
            | "二代身份证"
            | "第二代居民身份证"
            | "身份证号"
            | "身份证号码"
            | "resident_id"
            | "residentid"
            | "id_card"
            | "idcard"
            | "id"
            | "residentidcard"
            | "resident_id_card" => IdKind::ResidentId,
            "港澳台居民居住证"
            | "港澳居民居住证"
            | "台湾居民居住证"
            | "港澳台居住证"
            | "hk_macao_tw_residence"
            | "hmt_residence"
            | "hmt"
            | "residence_permit" => IdKind::HkMacaoTwResidence,
            "护照" | "passport" => IdKind::Passport,
            "其他" | "其它" | "其他证件" | "other" => IdKind::Other,
            _ => {
                return IdKind::ALL
                    .into_iter()
                    .find(|k| squash(k.label_en()).eq_ignore_ascii_case(&key));
            }
        };
        Some(kind)
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

/// Gender as recorded on the roster and encoded in the ID sequence digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// Reads 男/女, M/F, male/female (any case, surrounding spaces ignored).
    pub fn from_label(raw: &str) -> Option<Gender> {
        match squash(raw).to_ascii_lowercase().as_str() {
            "男" | "男性" | "m" | "male" | "man" => Some(Gender::Male),
            "女" | "女性" | "f" | "female" | "woman" => Some(Gender::Female),
            _ => None,
        }
    }

    /// 男 / 女.
    pub fn label_zh(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }

    /// Male / Female.
    pub fn label_en(self) -> &'static str {
        match self {
            Gender::Male => "Male",
            Gender::Female => "Female",
        }
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_zh())
    }
}

// ---------------------------------------------------------------------------------------------
// Errors and warnings
// ---------------------------------------------------------------------------------------------

/// Why an identifier (ID number, mobile number) was refused, or why it disagrees with the rest
/// of the member record. Each variant maps to one thing the user can fix; see [`IdError::message`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("ID number is empty")]
    Empty,
    #[error("ID number has {len} characters; expected {expected}")]
    BadLength { len: usize, expected: &'static str },
    #[error("ID number has an invalid character {ch:?} at position {position}")]
    BadCharacter { position: usize, ch: char },
    #[error("ID check character is {found}, expected {expected}")]
    BadCheckChar { expected: char, found: char },
    #[error("ID birth date {raw} is not a real date")]
    ImpossibleBirthDate { raw: String },
    #[error("ID birth date {date} is in the future")]
    FutureBirthDate { date: NaiveDate },
    #[error("ID birth date {date} is implausibly early")]
    BirthDateTooEarly { date: NaiveDate },
    #[error("ID province code {code} does not exist")]
    UnknownProvince { code: String },
    #[error("residence permit number must start with 810000, 820000 or 830000, got {prefix}")]
    NotResidencePermit { prefix: String },
    #[error("passport number must be 5-17 letters or digits")]
    BadPassport,
    #[error("document number is too long ({len} characters)")]
    TooLong { len: usize },
    #[error("gender {typed:?} does not match the ID number ({from_id:?})")]
    GenderMismatch { from_id: Gender, typed: Gender },
    #[error("birth date {typed} does not match the ID number ({from_id})")]
    BirthMismatch {
        from_id: NaiveDate,
        typed: NaiveDate,
    },
    #[error("mobile number is empty")]
    MobileEmpty,
    #[error("mobile number has an invalid character {ch:?}")]
    MobileBadCharacter { ch: char },
    #[error("mobile number has {len} digits; expected 11")]
    MobileBadLength { len: usize },
    #[error("mobile number must start with 13-19, got {prefix}")]
    MobileBadPrefix { prefix: String },
}

impl IdError {
    /// User-facing `(Chinese, English)` messages saying what is wrong and how to fix it.
    pub fn message(&self) -> (String, String) {
        match self {
            IdError::Empty => (
                "证件号码为空,请填写证件号码".into(),
                "The ID number is empty; please enter it".into(),
            ),
            IdError::BadLength { len, expected } => (
                format!("证件号码长度为{len}位,应为{expected}位,请检查是否多输或漏输"),
                format!(
                    "The ID number has {len} characters but should have {expected}; \
                     please check for missing or extra characters"
                ),
            ),
            IdError::BadCharacter { position, ch } => (
                format!(
                    "证件号码第{position}位“{ch}”不是有效字符(身份证号码只能由数字和末位X组成),\
                     请删除或更正"
                ),
                format!(
                    "Character {position} of the ID number ('{ch}') is not allowed \
                     (an ID number has only digits, and X as the last character); \
                     please remove or correct it"
                ),
            ),
            IdError::BadCheckChar { expected, .. } => (
                format!("身份证号码校验位错误:最后一位应为{expected},请核对号码"),
                format!(
                    "The ID number's check character is wrong: it should be {expected}; \
                     please check the number"
                ),
            ),
            IdError::ImpossibleBirthDate { raw } => (
                format!("身份证号码中的出生日期{raw}不存在,请核对第7至14位"),
                format!(
                    "The birth date {raw} in the ID number does not exist; \
                     please check digits 7 to 14"
                ),
            ),
            IdError::FutureBirthDate { date } => (
                format!("身份证号码中的出生日期{date}晚于今天,请核对第7至14位"),
                format!(
                    "The birth date {date} in the ID number is in the future; \
                     please check digits 7 to 14"
                ),
            ),
            IdError::BirthDateTooEarly { date } => (
                format!("身份证号码中的出生日期{date}过早,请核对第7至14位"),
                format!(
                    "The birth date {date} in the ID number is implausibly early; \
                     please check digits 7 to 14"
                ),
            ),
            IdError::UnknownProvince { code } => (
                format!("身份证号码前两位“{code}”不是有效的省级行政区代码,请核对号码"),
                format!(
                    "The first two digits of the ID number ('{code}') are not a valid province \
                     code; please check the number"
                ),
            ),
            IdError::NotResidencePermit { prefix } => (
                format!(
                    "港澳台居民居住证号码应以810000(香港)、820000(澳门)或830000(台湾)开头,\
                     当前为{prefix};如为内地居民请选择“居民身份证”"
                ),
                format!(
                    "A Hong Kong/Macao/Taiwan residence permit number starts with 810000, 820000 \
                     or 830000, not {prefix}; please check the number, or choose \"Resident ID card\" for \
                     mainland residents"
                ),
            ),
            IdError::BadPassport => (
                "护照号码应为5至17位字母或数字,请核对护照资料页".into(),
                "A passport number has 5 to 17 letters or digits; please check the passport's \
                 data page"
                    .into(),
            ),
            IdError::TooLong { len } => (
                format!("证件号码过长({len}个字符),请只填写号码本身"),
                format!(
                    "The document number is too long ({len} characters); \
                     please enter only the number itself"
                ),
            ),
            IdError::GenderMismatch { from_id, typed } => (
                format!(
                    "性别与身份证号码不符:号码显示为{},填写的是{},请核对性别或号码",
                    from_id.label_zh(),
                    typed.label_zh()
                ),
                format!(
                    "The gender does not match the ID number: the number says {}, the form \
                     says {}; please check the gender or the number",
                    from_id.label_en(),
                    typed.label_en()
                ),
            ),
            IdError::BirthMismatch { from_id, typed } => (
                format!(
                    "出生日期与身份证号码不符:号码显示为{from_id},填写的是{typed},\
                     请核对出生日期或号码"
                ),
                format!(
                    "The birth date does not match the ID number: the number says {from_id}, \
                     the form says {typed}; please check the birth date or the number"
                ),
            ),
            IdError::MobileEmpty => (
                "手机号码为空,请填写11位手机号码".into(),
                "The mobile number is empty; please enter the 11-digit number".into(),
            ),
            IdError::MobileBadCharacter { ch } => (
                format!("手机号码含有无效字符“{ch}”,请只填写数字"),
                format!("The mobile number contains '{ch}'; please enter digits only"),
            ),
            IdError::MobileBadLength { len } => (
                format!("手机号码为{len}位,应为11位,请检查是否多输或漏输"),
                format!(
                    "The mobile number has {len} digits but should have 11; \
                     please check for missing or extra digits"
                ),
            ),
            IdError::MobileBadPrefix { prefix } => (
                format!("手机号码应以13至19开头,当前为“{prefix}”,请核对号码(座机号码请填在其他栏)"),
                format!(
                    "A mobile number starts with 13 to 19, not '{prefix}'; please check it \
                     (put landline numbers in another field)"
                ),
            ),
        }
    }
}

/// Something about an accepted ID number that a person should confirm, but that must not block
/// registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum IdWarning {
    /// The six-digit address code is in neither the current nor the historical table.
    RegionUnknown { code: u32 },
    /// The birth year is before 1900: the number is well-formed, but the member would be very old.
    BirthBefore1900 { year: i32 },
    /// A residence-permit number was entered as a resident ID; it was accepted as the permit.
    KindCorrected { from: IdKind, to: IdKind },
}

impl IdWarning {
    /// User-facing `(Chinese, English)` messages asking for confirmation.
    pub fn message(&self) -> (String, String) {
        match self {
            IdWarning::RegionUnknown { code } => (
                format!(
                    "身份证号码前六位地址码{code}未在现行或历史行政区划代码中找到,请确认号码无误"
                ),
                format!(
                    "The address code {code} in the ID number is not a known current or former \
                     region code; please confirm the number"
                ),
            ),
            IdWarning::BirthBefore1900 { year } => (
                format!("身份证号码显示出生于{year}年,请确认号码无误"),
                format!("The ID number says the member was born in {year}; please confirm it"),
            ),
            IdWarning::KindCorrected { to, .. } => (
                format!("该号码为{},已按此证件类型登记", to.label_zh()),
                format!(
                    "This number is a {}; it was recorded as such",
                    to.label_en()
                ),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ID numbers
// ---------------------------------------------------------------------------------------------

/// A document number that has passed the checks for its [`IdKind`]. The only way to obtain one is
/// [`IdNumber::parse`] / [`IdNumber::parse_on`], so holding one is proof of validity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct IdNumber(String);

/// Everything learned from parsing a document number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedId {
    /// The normalised number (18-character upper-case form for resident IDs and permits).
    pub number: IdNumber,
    /// The kind actually parsed (may differ from the requested one, see [`IdWarning::KindCorrected`]).
    pub kind: IdKind,
    /// Birth date; `None` for passports and other documents.
    pub birth: Option<NaiveDate>,
    /// Gender; `None` for passports and other documents.
    pub gender: Option<Gender>,
    /// Six-digit address code; `None` for passports and other documents.
    pub region_code: Option<u32>,
    /// Whether `region_code` is a known current or historical GB/T 2260 code. `true` when there
    /// is no region code to check.
    pub region_known: bool,
    /// Whether the input was an old 15-digit number upgraded to 18 digits.
    pub upgraded_from_15: bool,
    /// Things to confirm with the member; never a reason to reject.
    pub warnings: Vec<IdWarning>,
}

impl ParsedId {
    /// The normalised number.
    pub fn as_str(&self) -> &str {
        self.number.as_str()
    }

    /// Name of the region behind the address code, when known.
    pub fn region_name(&self) -> Option<&'static str> {
        self.region_code.and_then(region_name)
    }

    /// The number masked for display (see [`mask_id`]).
    pub fn masked(&self) -> String {
        mask_id(self.number.as_str())
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";
const OTHER_MAX_CHARS: usize = 40;

/// GB 11643 check character for the first 17 digits. `digits17` must be 17 ASCII digits.
fn check_char(digits17: &[u8]) -> char {
    let sum: u32 = digits17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

/// Province-level codes of GB/T 2260 that may appear on a resident ID (71 Taiwan, 81 Hong Kong
/// and 82 Macao are listed in the standard). 83 exists only on residence permits.
fn province_valid(code: u32) -> bool {
    matches!(
        code,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82
    )
}

/// Name of a six-digit GB/T 2260 code (current or historical; the latest name is kept).
pub fn region_name(code: u32) -> Option<&'static str> {
    let table = region_codes::REGION_CODES;
    table
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .map(|i| table[i].1)
}

/// Number of codes in the embedded region table.
pub fn region_table_len() -> usize {
    region_codes::REGION_CODES.len()
}

/// Full-width ASCII variants (from Chinese input methods) to ASCII; ideographic space to space.
fn halfwidth(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Half-width, whitespace removed: the shape every tolerant comparison starts from.
pub fn squash(raw: &str) -> String {
    raw.chars()
        .map(halfwidth)
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl IdNumber {
    /// Parses `raw` as a document of `kind`, judging birth dates against the local date.
    pub fn parse(kind: IdKind, raw: &str) -> Result<ParsedId, IdError> {
        Self::parse_on(kind, raw, chrono::Local::now().date_naive())
    }

    /// Parses `raw` as a document of `kind`, judging birth dates against `today`.
    pub fn parse_on(kind: IdKind, raw: &str, today: NaiveDate) -> Result<ParsedId, IdError> {
        let s = squash(raw).to_ascii_uppercase();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        match kind {
            IdKind::ResidentId | IdKind::HkMacaoTwResidence => parse_gb11643(kind, &s, today),
            IdKind::Passport => {
                let len = s.chars().count();
                if !(5..=17).contains(&len) || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(IdError::BadPassport);
                }
                Ok(ParsedId::plain(kind, s))
            }
            IdKind::Other => {
                // Keep inner spaces out but otherwise take the number as written.
                let len = s.chars().count();
                if len > OTHER_MAX_CHARS {
                    return Err(IdError::TooLong { len });
                }
                if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| c.is_control()) {
                    return Err(IdError::BadCharacter {
                        position: i + 1,
                        ch,
                    });
                }
                Ok(ParsedId::plain(kind, s))
            }
        }
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the number, returning the normalised string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for IdNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ParsedId {
    fn plain(kind: IdKind, number: String) -> ParsedId {
        ParsedId {
            number: IdNumber(number),
            kind,
            birth: None,
            gender: None,
            region_code: None,
            region_known: true,
            upgraded_from_15: false,
            warnings: Vec::new(),
        }
    }
}

const PERMIT_PREFIXES: [&str; 3] = ["810000", "820000", "830000"];

/// Resident IDs and HK/Macao/Taiwan residence permits share GB 11643's layout and check.
/// `s` is already squashed and upper-cased.
fn parse_gb11643(kind: IdKind, s: &str, today: NaiveDate) -> Result<ParsedId, IdError> {
    let len = s.chars().count();
    let expected = match kind {
        IdKind::ResidentId => "15或18",
        _ => "18",
    };
    let upgrade = kind == IdKind::ResidentId && len == 15;
    if len != 18 && !upgrade {
        return Err(IdError::BadLength { len, expected });
    }
    // Digits everywhere, except an X in the last place of an 18-character number.
    for (i, ch) in s.chars().enumerate() {
        let last = i == 17;
        if !(ch.is_ascii_digit() || (last && ch == 'X')) {
            return Err(IdError::BadCharacter {
                position: i + 1,
                ch,
            });
        }
    }
    let (body17, found_check): (String, Option<char>) = if upgrade {
        (format!("{}19{}", &s[..6], &s[6..]), None)
    } else {
        (s[..17].to_string(), s[17..].chars().next())
    };
    let bytes = body17.as_bytes();

    let mut warnings = Vec::new();
    let mut kind = kind;
    let prefix = &body17[..6];
    let is_permit_prefix = PERMIT_PREFIXES.contains(&prefix);
    match kind {
        IdKind::HkMacaoTwResidence if !is_permit_prefix => {
            return Err(IdError::NotResidencePermit {
                prefix: prefix.to_string(),
            });
        }
        IdKind::ResidentId if is_permit_prefix && !upgrade => {
            warnings.push(IdWarning::KindCorrected {
                from: IdKind::ResidentId,
                to: IdKind::HkMacaoTwResidence,
            });
            kind = IdKind::HkMacaoTwResidence;
        }
        _ => {}
    }

    let province: u32 = body17[..2].parse().unwrap_or(0);
    if kind == IdKind::ResidentId && !province_valid(province) {
        return Err(IdError::UnknownProvince {
            code: body17[..2].to_string(),
        });
    }

    let date_raw = &body17[6..14];
    let year: i32 = date_raw[..4].parse().unwrap_or(0);
    let month: u32 = date_raw[4..6].parse().unwrap_or(0);
    let day: u32 = date_raw[6..].parse().unwrap_or(0);
    let birth =
        NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| IdError::ImpossibleBirthDate {
            raw: date_raw.to_string(),
        })?;
    if birth > today {
        return Err(IdError::FutureBirthDate { date: birth });
    }
    // identifiers.md lists 440524188001010014 (born 1880) as valid, so years before 1900 are
    // only flagged; before 1800 they cannot be a living member.
    if year < 1800 {
        return Err(IdError::BirthDateTooEarly { date: birth });
    }
    if year < 1900 {
        warnings.push(IdWarning::BirthBefore1900 { year });
    }

    let expected_check = check_char(bytes);
    if let Some(found) = found_check {
        if found != expected_check {
            return Err(IdError::BadCheckChar {
                expected: expected_check,
                found,
            });
        }
    }

    let region_code: u32 = prefix.parse().unwrap_or(0);
    let region_known = kind == IdKind::HkMacaoTwResidence || region_name(region_code).is_some();
    if !region_known {
        warnings.push(IdWarning::RegionUnknown { code: region_code });
    }
    let gender = if (bytes[16] - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };

    let mut number = body17;
    number.push(expected_check);
    Ok(ParsedId {
        number: IdNumber(number),
        kind,
        birth: Some(birth),
        gender: Some(gender),
        region_code: Some(region_code),
        region_known,
        upgraded_from_15: upgrade,
        warnings,
    })
}

/// Checks the gender and birth date typed on a form against those encoded in the ID number.
/// Anything not typed, or not encoded (passports), is not compared. Gender is reported first.
pub fn check_consistency(
    parsed: &ParsedId,
    typed_gender: Option<Gender>,
    typed_birth: Option<NaiveDate>,
) -> Result<(), IdError> {
    if let (Some(from_id), Some(typed)) = (parsed.gender, typed_gender) {
        if from_id != typed {
            return Err(IdError::GenderMismatch { from_id, typed });
        }
    }
    if let (Some(from_id), Some(typed)) = (parsed.birth, typed_birth) {
        if from_id != typed {
            return Err(IdError::BirthMismatch { from_id, typed });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Mobile numbers
// ---------------------------------------------------------------------------------------------

/// Parses a mainland mobile number into its bare 11 digits. Spaces, dashes and a leading
/// +86 / 0086 / 86 country code are tolerated because that is how numbers get pasted.
pub fn parse_mobile(raw: &str) -> Result<String, IdError> {
    let s: String = squash(raw)
        .chars()
        .filter(|c| !matches!(c, '-' | '(' | ')' | '\u{2014}' | '\u{2013}'))
        .collect();
    if s.is_empty() {
        return Err(IdError::MobileEmpty);
    }
    let rest = if let Some(r) = s.strip_prefix("+86") {
        r
    } else if let Some(r) = s.strip_prefix("0086") {
        r
    } else if s.len() == 13 && s.starts_with("86") {
        &s[2..]
    } else {
        &s
    };
    if let Some(ch) = rest.chars().find(|c| !c.is_ascii_digit()) {
        return Err(IdError::MobileBadCharacter { ch });
    }
    if rest.len() != 11 {
        return Err(IdError::MobileBadLength { len: rest.len() });
    }
    let b = rest.as_bytes();
    if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
        return Err(IdError::MobileBadPrefix {
            prefix: rest[..2].to_string(),
        });
    }
    Ok(rest.to_string())
}

// ---------------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------------

fn mask_keep(chars: &[char], head: usize, tail: usize) -> String {
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

/// Masks a document number for display: only the last 4 kept (**************002X, "尾号002X").
///
/// Why not the usual first 6 and last 4: a citizen ID is region (6) + birth date (8) +
/// sequence (3) + check digit, so 前6后4 beside a birth date — which every roster shows, and
/// which the database keeps for the statistics — gives the whole number back. With the last 4
/// only, the region and the birth date stay unknown to anyone who sees the masked form with an
/// age, and the region to anyone who sees it with the birth date: hundreds of candidates at the
/// least, and no 18-digit number. Short numbers (passports) keep the last 2.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    match chars.len() {
        n if n > 8 => mask_keep(&chars, 0, 4),
        n if n > 4 => mask_keep(&chars, 0, 2),
        n => "*".repeat(n),
    }
}

/// Masks a phone number for display: first 3 and last 4 kept (138****8000).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    match chars.len() {
        n if n >= 8 => mask_keep(&chars, 3, 4),
        n if n > 2 => mask_keep(&chars, 0, 2),
        n => "*".repeat(n),
    }
}

// ---------------------------------------------------------------------------------------------
// Ages and retirement
// ---------------------------------------------------------------------------------------------

/// Age in completed years on `on`; 0 if `on` is before `birth`. Someone born on 29 February
/// turns a year older on 1 March in common years.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on <= birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2024, 6, 1)
    }

    fn rid(raw: &str) -> Result<ParsedId, IdError> {
        IdNumber::parse_on(IdKind::ResidentId, raw, today())
    }

    #[test]
    fn public_valid_resident_ids() {
        for raw in [
            "11010519491231002X",
            "440524188001010014",
            "11010219840406970X",
            "110101202311012176",
        ] {
            let p = rid(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(p.as_str(), raw);
            assert_eq!(p.kind, IdKind::ResidentId);
            assert!(!p.upgraded_from_15);
        }
        let p = rid("11010519491231002X").unwrap();
        assert_eq!(p.birth, Some(d(1949, 12, 31)));
        assert_eq!(p.gender, Some(Gender::Female));
        assert_eq!(p.region_code, Some(110105));
        assert!(p.region_known);
        assert_eq!(p.region_name(), Some("朝阳区"));
        assert!(p.warnings.is_empty());
        let p = rid("110101202311012176").unwrap();
        assert_eq!(p.gender, Some(Gender::Male));
        assert_eq!(p.birth, Some(d(2023, 11, 1)));
    }

    #[test]
    fn historical_region_code_is_known() {
        let p = rid("440524188001010014").unwrap();
        assert!(p.region_known);
        assert_eq!(region_name(440524), Some("潮阳县"));
        assert_eq!(p.gender, Some(Gender::Male));
        // Born 1880: accepted, but flagged for confirmation.
        assert_eq!(p.warnings, vec![IdWarning::BirthBefore1900 { year: 1880 }]);
    }

    #[test]
    fn public_invalid_resident_ids_fail_the_check() {
        assert_eq!(
            rid("11010219840506970X"),
            Err(IdError::BadCheckChar {
                expected: '1',
                found: 'X'
            })
        );
        assert_eq!(
            rid("11020519491231002X"),
            Err(IdError::BadCheckChar {
                expected: '5',
                found: 'X'
            })
        );
        assert_eq!(
            rid("110105194912310021"),
            Err(IdError::BadCheckChar {
                expected: 'X',
                found: '1'
            })
        );
        let (zh, en) = rid("11010219840506970X").unwrap_err().message();
        assert_eq!(zh, "身份证号码校验位错误:最后一位应为1,请核对号码");
        assert!(en.contains("it should be 1"));
    }

    #[test]
    fn normalises_case_spaces_and_fullwidth() {
        let p = rid("  11010519491231002x ").unwrap();
        assert_eq!(p.as_str(), "11010519491231002X");
        let p = rid("110105 19491231 002X").unwrap();
        assert_eq!(p.as_str(), "11010519491231002X");
        let p = rid("１１０１０５１９４９１２３１００２ｘ").unwrap();
        assert_eq!(p.as_str(), "11010519491231002X");
    }

    #[test]
    fn upgrades_15_digit_numbers() {
        let p = rid("110105491231002").unwrap();
        assert_eq!(p.as_str(), "11010519491231002X");
        assert!(p.upgraded_from_15);
        assert_eq!(p.birth, Some(d(1949, 12, 31)));
        assert_eq!(p.gender, Some(Gender::Female));
        let p = rid("440524800101001").unwrap();
        assert_eq!(p.as_str(), "440524198001010013");
        // 15-digit numbers are not accepted for permits.
        assert!(matches!(
            IdNumber::parse_on(IdKind::HkMacaoTwResidence, "810000491231002", today()),
            Err(IdError::BadLength { len: 15, .. })
        ));
    }

    #[test]
    fn rejects_malformed_resident_ids() {
        assert_eq!(rid("   "), Err(IdError::Empty));
        assert!(matches!(
            rid("1101051949123100"),
            Err(IdError::BadLength { len: 16, .. })
        ));
        assert_eq!(
            rid("1101051949123100XX"),
            Err(IdError::BadCharacter {
                position: 17,
                ch: 'X'
            })
        );
        assert_eq!(
            rid("11010519491231002Y"),
            Err(IdError::BadCharacter {
                position: 18,
                ch: 'Y'
            })
        );
        assert!(matches!(
            rid("11010519490231002X"),
            Err(IdError::ImpossibleBirthDate { .. })
        ));
        assert!(matches!(
            rid("110105203001010010"),
            Err(IdError::FutureBirthDate { .. })
        ));
        assert!(matches!(
            rid("110105170001010010"),
            Err(IdError::BirthDateTooEarly { .. })
        ));
        assert_eq!(
            rid("99010519491231002X"),
            Err(IdError::UnknownProvince { code: "99".into() })
        );
        assert_eq!(
            rid("83010119491231002X"),
            Err(IdError::UnknownProvince { code: "83".into() })
        );
    }

    #[test]
    fn unknown_full_region_code_is_a_warning() {
        // 110199 is not a real county code, but 11 is a real province: build a valid number.
        let body = b"11019919491231002";
        let raw = format!("{}{}", std::str::from_utf8(body).unwrap(), check_char(body));
        let p = rid(&raw).unwrap();
        assert!(!p.region_known);
        assert_eq!(p.warnings, vec![IdWarning::RegionUnknown { code: 110199 }]);
        assert!(p.warnings[0].message().0.contains("110199"));
    }

    #[test]
    fn residence_permits() {
        let body = b"81000019900101001";
        let raw = format!("{}{}", std::str::from_utf8(body).unwrap(), check_char(body));
        let p = IdNumber::parse_on(IdKind::HkMacaoTwResidence, &raw, today()).unwrap();
        assert_eq!(p.kind, IdKind::HkMacaoTwResidence);
        assert!(p.region_known);
        assert_eq!(p.gender, Some(Gender::Male));
        // Entered as a resident ID: accepted as a permit, with a warning.
        let p = rid(&raw).unwrap();
        assert_eq!(p.kind, IdKind::HkMacaoTwResidence);
        assert!(matches!(p.warnings[0], IdWarning::KindCorrected { .. }));
        // A mainland number is not a permit.
        assert_eq!(
            IdNumber::parse_on(IdKind::HkMacaoTwResidence, "11010519491231002X", today()),
            Err(IdError::NotResidencePermit {
                prefix: "110105".into()
            })
        );
        // Same check character rule.
        let mut bad = raw.clone();
        bad.replace_range(17..18, if raw.ends_with('0') { "1" } else { "0" });
        assert!(matches!(
            IdNumber::parse_on(IdKind::HkMacaoTwResidence, &bad, today()),
            Err(IdError::BadCheckChar { .. })
        ));
    }

    #[test]
    fn taiwan_permit_prefix_not_valid_for_resident_province() {
        assert!(!province_valid(83));
        assert!(province_valid(71) && province_valid(81) && province_valid(82));
        assert!(!province_valid(16) && !province_valid(47) && !province_valid(66));
    }

    #[test]
    fn passports_and_other_documents() {
        let p = IdNumber::parse_on(IdKind::Passport, " e1234 5678 ", today()).unwrap();
        assert_eq!(p.as_str(), "E12345678");
        assert_eq!(p.birth, None);
        assert!(p.region_known);
        for bad in ["E12", "E1234567890123456789", "E1234-5678", "护照12345"] {
            assert_eq!(
                IdNumber::parse_on(IdKind::Passport, bad, today()),
                Err(IdError::BadPassport),
                "{bad}"
            );
        }
        assert_eq!(
            IdNumber::parse_on(IdKind::Passport, "", today()),
            Err(IdError::Empty)
        );
        let p = IdNumber::parse_on(IdKind::Other, "军字第 123 号", today()).unwrap();
        assert_eq!(p.as_str(), "军字第123号");
        assert!(matches!(
            IdNumber::parse_on(IdKind::Other, &"1".repeat(41), today()),
            Err(IdError::TooLong { len: 41 })
        ));
    }

    #[test]
    fn parse_uses_the_clock() {
        assert!(IdNumber::parse(IdKind::ResidentId, "11010519491231002X").is_ok());
        assert!(matches!(
            IdNumber::parse(IdKind::ResidentId, "110105290001010010"),
            Err(IdError::FutureBirthDate { .. })
        ));
    }

    #[test]
    fn kind_labels_round_trip() {
        for k in IdKind::ALL {
            assert_eq!(IdKind::from_label(k.label_zh()), Some(k));
            assert_eq!(IdKind::from_label(k.label_en()), Some(k));
            assert_eq!(IdKind::from_label(k.code()), Some(k));
        }
        assert_eq!(IdKind::from_label(" 身份证 "), Some(IdKind::ResidentId));
        assert_eq!(IdKind::from_label("PASSPORT"), Some(IdKind::Passport));
        assert_eq!(IdKind::from_label("驾驶证"), None);
    }

    #[test]
    fn gender_labels_and_consistency() {
        for (raw, g) in [
            ("男", Gender::Male),
            (" 女 ", Gender::Female),
            ("M", Gender::Male),
            ("f", Gender::Female),
            ("Male", Gender::Male),
            ("FEMALE", Gender::Female),
        ] {
            assert_eq!(Gender::from_label(raw), Some(g), "{raw}");
        }
        assert_eq!(Gender::from_label("x"), None);
        assert_eq!(Gender::Female.label_zh(), "女");
        assert_eq!(Gender::Male.label_en(), "Male");

        let p = rid("11010519491231002X").unwrap();
        assert_eq!(
            check_consistency(&p, Some(Gender::Female), Some(d(1949, 12, 31))),
            Ok(())
        );
        assert_eq!(check_consistency(&p, None, None), Ok(()));
        let e = check_consistency(&p, Some(Gender::Male), None).unwrap_err();
        assert_eq!(
            e,
            IdError::GenderMismatch {
                from_id: Gender::Female,
                typed: Gender::Male
            }
        );
        assert!(e.message().0.starts_with("性别与身份证号码不符"));
        let e = check_consistency(&p, None, Some(d(1949, 12, 30))).unwrap_err();
        assert!(matches!(e, IdError::BirthMismatch { .. }));
        assert!(e.message().0.starts_with("出生日期与身份证号码不符"));
        let passport = IdNumber::parse_on(IdKind::Passport, "E12345678", today()).unwrap();
        assert_eq!(
            check_consistency(&passport, Some(Gender::Male), Some(d(1990, 1, 1))),
            Ok(())
        );
    }

    #[test]
    fn mobile_numbers() {
        for raw in [
            "13800138000",
            " 138 0013 8000 ",
            "138-0013-8000",
            "+8613800138000",
            "+86 138 0013 8000",
            "8613800138000",
            "008613800138000",
        ] {
            assert_eq!(parse_mobile(raw).as_deref(), Ok("13800138000"), "{raw}");
        }
        assert_eq!(parse_mobile(" "), Err(IdError::MobileEmpty));
        assert_eq!(
            parse_mobile("1380013800"),
            Err(IdError::MobileBadLength { len: 10 })
        );
        assert_eq!(
            parse_mobile("12800138000"),
            Err(IdError::MobileBadPrefix {
                prefix: "12".into()
            })
        );
        assert_eq!(
            parse_mobile("23800138000"),
            Err(IdError::MobileBadPrefix {
                prefix: "23".into()
            })
        );
        assert_eq!(
            parse_mobile("1380013800a"),
            Err(IdError::MobileBadCharacter { ch: 'a' })
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask_id("11010519491231002X"), "**************002X");
        assert_eq!(mask_id("E12345678"), "*****5678");
        assert_eq!(mask_id("E1234"), "***34");
        assert_eq!(mask_id("abc"), "***");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("12"), "**");
        assert_eq!(
            rid("11010519491231002X").unwrap().masked(),
            "**************002X"
        );
    }

    #[test]
    fn every_error_has_bilingual_messages() {
        let errors = [
            IdError::Empty,
            IdError::BadLength {
                len: 16,
                expected: "18",
            },
            IdError::BadCharacter {
                position: 3,
                ch: 'A',
            },
            IdError::BadCheckChar {
                expected: 'X',
                found: '1',
            },
            IdError::ImpossibleBirthDate {
                raw: "19490231".into(),
            },
            IdError::FutureBirthDate {
                date: d(2030, 1, 1),
            },
            IdError::BirthDateTooEarly {
                date: d(1700, 1, 1),
            },
            IdError::UnknownProvince { code: "99".into() },
            IdError::NotResidencePermit {
                prefix: "110105".into(),
            },
            IdError::BadPassport,
            IdError::TooLong { len: 50 },
            IdError::GenderMismatch {
                from_id: Gender::Male,
                typed: Gender::Female,
            },
            IdError::BirthMismatch {
                from_id: d(1990, 1, 1),
                typed: d(1990, 1, 2),
            },
            IdError::MobileEmpty,
            IdError::MobileBadCharacter { ch: 'a' },
            IdError::MobileBadLength { len: 10 },
            IdError::MobileBadPrefix {
                prefix: "12".into(),
            },
        ];
        for e in errors {
            let (zh, en) = e.message();
            assert!(zh.contains('请'), "{zh}");
            assert!(en.contains("please"), "{en}");
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn region_table_is_sorted_and_sizable() {
        let t = region_codes::REGION_CODES;
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(region_table_len() > 6000);
        assert_eq!(region_name(110000), Some("北京市"));
        assert_eq!(region_name(999999), None);
    }
}
