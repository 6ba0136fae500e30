//! 统一社会信用代码: the unified social credit code of GB 32100-2015 — 18
//! characters from a 31-symbol alphabet (no I, O, S, V, Z), the last a
//! weighted mod-31 check character.

const CREDIT_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// 统一社会信用代码, checked per GB 32100-2015.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CreditCode(String);

impl CreditCode {
    pub fn parse(raw: &str) -> Result<CreditCode, CreditCodeError> {
        let s: String = raw.trim().to_ascii_uppercase();
        let bad = |zh: String, en: String| Err(CreditCodeError { zh, en });
        if s.chars().count() != 18 {
            return bad(
                format!(
                    "统一社会信用代码应为18位,现为{}位,请核对",
                    s.chars().count()
                ),
                format!(
                    "A unified social credit code has 18 characters, this one has {}",
                    s.chars().count()
                ),
            );
        }
        let mut values = Vec::with_capacity(18);
        for (i, c) in s.chars().enumerate() {
            match CREDIT_CHARS.find(c) {
                Some(v) => values.push(v as u32),
                None => {
                    return bad(
                        format!("统一社会信用代码第{}位“{c}”不是允许的字符(不使用I、O、S、V、Z)", i + 1),
                        format!("Character {} “{c}” is not allowed in a credit code (I, O, S, V, Z are never used)", i + 1),
                    )
                }
            }
        }
        let sum: u32 = values[..17]
            .iter()
            .zip(CREDIT_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            let expected = CREDIT_CHARS.as_bytes()[check as usize] as char;
            return bad(
                format!("统一社会信用代码校验位错误:最后一位应为“{expected}”,请核对后重新输入"),
                format!("The credit code's check character is wrong: it should be “{expected}”; please check the code"),
            );
        }
        Ok(CreditCode(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a credit code was refused, in Chinese and English, saying what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditCodeError {
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}

impl std::error::Error for CreditCodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_codes_per_gb32100() {
        for ok in [
            "91350100M000100Y43",
            "91110108551385082Q",
            "91110000101623741K",
            " 91110000101623741k ",
        ] {
            assert!(CreditCode::parse(ok).is_ok(), "{ok}");
        }
        let e = CreditCode::parse("91350100M000100Y4A").unwrap_err();
        assert!(e.zh.contains("“3”"), "{e:?}");
        assert!(CreditCode::parse("91350100M000100Y4").is_err(), "17 chars");
        assert!(
            CreditCode::parse("91350100M0001O0Y43").is_err(),
            "O not allowed"
        );
    }
}
