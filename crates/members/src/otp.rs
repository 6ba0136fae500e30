//! One-time codes of the public join pages: applying, and reading the
//! status page, need a 6-digit code texted to the phone given, so nobody
//! applies in a stranger's name or reads a stranger's application with
//! their own phone number.
//!
//! A code is valid [`VALID_MINUTES`], allows [`MAX_TRIES`] wrong tries and
//! is used once. Only a keyed hash (HMAC, `Keys::lookup_hash`) of the phone
//! and of the code is kept, in memory: a code lives ten minutes, so a
//! restart costs the applicant one more "get a code", and a public page
//! that anyone can hit does not write to the database for each send.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use platform::{
    crypto::Keys,
    error::{AppError, AppResult},
    web::AppState,
};
use rand::Rng;

pub const VALID_MINUTES: u64 = 10;
pub const MAX_TRIES: u32 = 5;
/// Pending codes kept before expired ones are swept.
const SWEEP_ABOVE: usize = 10_000;

struct Pending {
    code_hash: String,
    expires: Instant,
    tries_left: u32,
}

#[derive(Default)]
pub struct Codes {
    pending: Mutex<HashMap<String, Pending>>,
}

fn phone_key(keys: &Keys, phone: &str) -> String {
    keys.lookup_hash("otp-phone", phone)
}

fn code_hash(keys: &Keys, phone: &str, code: &str) -> String {
    keys.lookup_hash("otp-code", &format!("{phone}\0{code}"))
}

/// The refusal of a missing, wrong, expired or used code: one message, so
/// the answer says nothing about which.
pub fn refused() -> AppError {
    AppError::invalid(
        "验证码不正确或已过期,请重新获取验证码",
        "The code is wrong or has expired; get a new code",
    )
}

impl Codes {
    /// A fresh code for `phone` (normalised), replacing any pending one.
    pub fn issue(&self, keys: &Keys, phone: &str) -> String {
        let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000u32));
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() > SWEEP_ABOVE {
            let now = Instant::now();
            p.retain(|_, v| v.expires > now);
        }
        p.insert(
            phone_key(keys, phone),
            Pending {
                code_hash: code_hash(keys, phone, &code),
                expires: Instant::now() + Duration::from_secs(VALID_MINUTES * 60),
                tries_left: MAX_TRIES,
            },
        );
        code
    }

    /// Checks `code` for `phone` and uses it up: Ok once per code. A wrong
    /// code costs a try; after the last try, or once expired, it is gone.
    pub fn take(&self, keys: &Keys, phone: &str, code: &str) -> AppResult<()> {
        let key = phone_key(keys, phone);
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = p.get_mut(&key) else {
            return Err(refused());
        };
        if entry.expires <= Instant::now() {
            p.remove(&key);
            return Err(refused());
        }
        let code = code.trim();
        if code.len() == 6 && entry.code_hash == code_hash(keys, phone, code) {
            p.remove(&key);
            return Ok(());
        }
        entry.tries_left = entry.tries_left.saturating_sub(1);
        if entry.tries_left == 0 {
            p.remove(&key);
        }
        Err(refused())
    }

    /// For tests: makes every pending code older by `by`.
    #[doc(hidden)]
    pub fn age_all(&self, by: Duration) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for v in p.values_mut() {
            v.expires = v.expires.checked_sub(by).unwrap_or_else(Instant::now);
        }
    }
}

/// The pending codes of this instance.
pub fn of(st: &AppState) -> Arc<Codes> {
    st.instance.get_or_init(Codes::default)
}

/// The text of the message.
pub fn message(code: &str) -> String {
    format!(
        "【智慧工会】网上入会验证码 {code},{VALID_MINUTES} 分钟内有效,请勿告诉他人。\
         Your union join code is {code}, valid {VALID_MINUTES} minutes."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_one_time_limited_and_expire() {
        let k = Keys::from_master(&[7u8; 32]);
        let c = Codes::default();
        let code = c.issue(&k, "13800000000");
        assert_eq!(code.len(), 6);
        assert!(c.take(&k, "13900000000", &code).is_err());
        c.take(&k, "13800000000", &code).unwrap();
        assert!(c.take(&k, "13800000000", &code).is_err(), "used once");
        // Five wrong tries and the right code is gone too.
        let code = c.issue(&k, "13800000000");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..MAX_TRIES {
            assert!(c.take(&k, "13800000000", wrong).is_err());
        }
        assert!(c.take(&k, "13800000000", &code).is_err());
        // Expired.
        let code = c.issue(&k, "13800000000");
        c.age_all(Duration::from_secs(VALID_MINUTES * 60 + 1));
        assert!(c.take(&k, "13800000000", &code).is_err());
        // Nothing of the phone or code is kept in clear.
        let code = c.issue(&k, "13800000000");
        let p = c.pending.lock().unwrap();
        assert!(p.keys().all(|key| !key.contains("13800000000")));
        assert!(p.values().all(|v| !v.code_hash.contains(&code)));
    }
}
