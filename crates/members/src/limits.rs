//! Rate limits of the public join pages, which anyone can reach without
//! signing in: per client IP (a flood from one place) and per identity (many
//! tries at one ID number from many places). Over the limit the answer is
//! 429 with a Chinese/English message; it says nothing about the person.

use std::{num::NonZeroU32, sync::Arc};

use governor::{clock::DefaultClock, state::keyed::HashMapStateStore, Quota, RateLimiter};
use platform::{error::AppError, error::AppResult, i18n::Msg, web::AppState};

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// Applications and status checks per hour for one ID number.
const PER_IDENTITY_PER_HOUR: u32 = 10;
/// One-time codes texted per hour to one phone.
const CODES_PER_PHONE_PER_HOUR: u32 = 5;
/// One-time codes sent per hour at the request of one IP (texts cost money
/// and must not become a way to flood strangers' phones).
const CODES_PER_IP_PER_HOUR: u32 = 20;
/// Keys kept before the limiter forgets those back at full allowance.
const SHRINK_ABOVE: usize = 10_000;

pub struct PublicLimits {
    /// Requests a minute from one IP to the public pages (searching unions,
    /// applying, checking an application; a person needs a handful):
    /// config `public_per_minute`, 30 by default; None = no limit.
    per_ip: Option<Keyed>,
    per_identity: Keyed,
    /// Codes sent per phone (keyed hash of the number).
    codes_per_phone: Keyed,
    /// Codes sent per IP; None when the per-IP limit is off.
    codes_per_ip: Option<Keyed>,
}

impl PublicLimits {
    fn new(per_minute: u32) -> PublicLimits {
        let n = |v: u32| NonZeroU32::new(v).expect("non-zero quota");
        PublicLimits {
            per_ip: NonZeroU32::new(per_minute).map(|v| RateLimiter::hashmap(Quota::per_minute(v))),
            per_identity: RateLimiter::hashmap(Quota::per_hour(n(PER_IDENTITY_PER_HOUR))),
            codes_per_phone: RateLimiter::hashmap(Quota::per_hour(n(CODES_PER_PHONE_PER_HOUR))),
            codes_per_ip: (per_minute > 0)
                .then(|| RateLimiter::hashmap(Quota::per_hour(n(CODES_PER_IP_PER_HOUR)))),
        }
    }

    /// One request from `ip`.
    pub fn ip(&self, ip: &str) -> AppResult<()> {
        match &self.per_ip {
            Some(l) => check(l, ip),
            None => Ok(()),
        }
    }

    /// One try at the identity behind `key` (the keyed hash of an ID number).
    pub fn identity(&self, key: &str) -> AppResult<()> {
        check(&self.per_identity, key)
    }

    /// One code to be sent to the phone behind `phone_key` (its keyed
    /// hash) at the request of `ip`.
    pub fn code(&self, ip: &str, phone_key: &str) -> AppResult<()> {
        if let Some(l) = &self.codes_per_ip {
            check(l, ip)?;
        }
        check(&self.codes_per_phone, phone_key)
    }
}

fn check(limiter: &Keyed, key: &str) -> AppResult<()> {
    if limiter.len() > SHRINK_ABOVE {
        limiter.retain_recent();
    }
    limiter.check_key(&key.to_string()).map_err(|_| {
        AppError::Throttled(Msg::new(
            "操作过于频繁,请稍后再试",
            "Too many requests; please try again later",
        ))
    })
}

/// The limits of this instance.
pub fn of(st: &AppState) -> Arc<PublicLimits> {
    st.instance
        .get_or_init(|| PublicLimits::new(st.cfg.public_per_minute))
}
