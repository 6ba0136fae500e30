//! Guessing at the counter. A typed card number with the phone's last 4
//! digits is a weaker proof than the signed QR: card numbers are sequential
//! and the digits are one in 10⁴. Wrong typed entries are counted per card
//! and per clerk account; past the limit, typing is refused for that card
//! (or that clerk) for the rest of the window, and the QR code still works.
//! Kept in the instance's memory (`platform::instance`): behind several
//! servers each counts its own, which bounds guessing per server.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use platform::{error::AppError, i18n::Msg, web::AppState};

/// Wrong phone digits tolerated for one card number per window.
pub const PER_CARD: u32 = 5;
/// Wrong typed entries tolerated from one clerk account per window.
pub const PER_CLERK: u32 = 20;
const WINDOW: Duration = Duration::from_secs(3600);
/// Entries kept before the expired ones are dropped.
const SHRINK_ABOVE: usize = 10_000;

/// Failures per key within a fixed window from the first one.
struct Strikes {
    max: u32,
    map: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Strikes {
    fn new(max: u32) -> Strikes {
        Strikes {
            max,
            map: Mutex::new(HashMap::new()),
        }
    }

    #[cfg(test)]
    fn blocked(&self, key: &str, now: Instant) -> bool {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .is_some_and(|(n, since)| *n >= self.max && now.duration_since(*since) < WINDOW)
    }

    /// Counts one try against `key`, in one critical section with the
    /// check: false (nothing counted) when the key has used up its tries,
    /// so parallel guesses cannot all pass a check before any is counted.
    fn try_strike(&self, key: &str, now: Instant) -> bool {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SHRINK_ABOVE {
            map.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let e = map.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(e.1) >= WINDOW {
            *e = (0, now);
        }
        if e.0 >= self.max {
            return false;
        }
        e.0 += 1;
        true
    }

    /// Gives a counted try back (it was not a wrong guess).
    fn forgive(&self, key: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get_mut(key) {
            e.0 = e.0.saturating_sub(1);
        }
    }

    #[cfg(test)]
    fn strike(&self, key: &str, now: Instant) {
        self.try_strike(key, now);
    }
}

pub struct CounterLimits {
    per_card: Strikes,
    per_clerk: Strikes,
}

impl CounterLimits {
    fn new() -> CounterLimits {
        CounterLimits {
            per_card: Strikes::new(PER_CARD),
            per_clerk: Strikes::new(PER_CLERK),
        }
    }

    /// Before a typed entry: counts it as a try of the card and of the
    /// clerk, refused when either has used up its wrong entries. Every typed
    /// entry is counted up front; [`CounterLimits::right_typed`] gives the
    /// try back when it was not a wrong card or wrong digits.
    pub fn begin_typed(&self, card_no: &str, clerk_user: i64) -> Result<(), AppError> {
        let now = Instant::now();
        if !self.per_card.try_strike(card_no, now) {
            return Err(AppError::Throttled(Msg::new(
                "该卡号的手机号后四位输错次数过多,请改为扫描会员卡二维码,或一小时后再试",
                "Too many wrong phone digits for this card number: scan the card's QR code instead, or try again in an hour",
            )));
        }
        if !self.per_clerk.try_strike(&clerk_user.to_string(), now) {
            self.per_card.forgive(card_no);
            return Err(AppError::Throttled(Msg::new(
                "本账号输错卡号或手机号的次数过多,请改为扫描会员卡二维码,或一小时后再试",
                "Too many wrong card numbers or phone digits from this account: scan the QR code instead, or try again in an hour",
            )));
        }
        Ok(())
    }

    /// A typed entry that named the card with the right digits (served, or
    /// refused for another reason): its try is given back.
    pub fn right_typed(&self, card_no: &str, clerk_user: i64) {
        self.per_card.forgive(card_no);
        self.per_clerk.forgive(&clerk_user.to_string());
    }
}

/// The counter limits of this instance.
pub fn of(st: &AppState) -> Arc<CounterLimits> {
    st.instance.get_or_init(CounterLimits::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_strikes_until_the_window_passes() {
        let s = Strikes::new(3);
        let t0 = Instant::now();
        for _ in 0..2 {
            s.strike("GH000000000001", t0);
        }
        assert!(!s.blocked("GH000000000001", t0));
        s.strike("GH000000000001", t0);
        assert!(s.blocked("GH000000000001", t0));
        assert!(!s.blocked("GH000000000002", t0), "per key");
        let later = t0 + WINDOW + Duration::from_secs(1);
        assert!(!s.blocked("GH000000000001", later), "the window passes");
        s.strike("GH000000000001", later);
        assert!(!s.blocked("GH000000000001", later), "counted afresh");
    }
}
