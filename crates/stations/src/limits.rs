//! The rate limit of the public page "附近的驿站" and its API, which anyone
//! can reach without signing in: requests a minute from one IP, the same
//! setting as the public join pages (`public_per_minute`; 0 = no limit).
//! Over the limit the answer is 429 with a Chinese/English message.

use std::{num::NonZeroU32, sync::Arc};

use governor::{clock::DefaultClock, state::keyed::HashMapStateStore, Quota, RateLimiter};
use platform::{error::AppError, error::AppResult, i18n::Msg, web::AppState};

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// Keys kept before the limiter forgets those back at full allowance.
const SHRINK_ABOVE: usize = 10_000;

pub struct NearLimits {
    per_ip: Option<Keyed>,
}

impl NearLimits {
    fn new(per_minute: u32) -> NearLimits {
        NearLimits {
            per_ip: NonZeroU32::new(per_minute).map(|v| RateLimiter::hashmap(Quota::per_minute(v))),
        }
    }

    /// One request from `ip`.
    pub fn ip(&self, ip: &str) -> AppResult<()> {
        let Some(l) = &self.per_ip else {
            return Ok(());
        };
        if l.len() > SHRINK_ABOVE {
            l.retain_recent();
        }
        l.check_key(&ip.to_string()).map_err(|_| {
            AppError::Throttled(Msg::new(
                "操作过于频繁,请稍后再试",
                "Too many requests; please try again later",
            ))
        })
    }
}

/// The limits of this instance (its own, apart from the join pages').
pub fn of(st: &AppState) -> Arc<NearLimits> {
    st.instance
        .get_or_init(|| NearLimits::new(st.cfg.public_per_minute))
}
