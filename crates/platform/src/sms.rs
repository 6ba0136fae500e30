//! Text messages to a mobile phone (one-time codes of the public join
//! pages). The sender is a trait so a real SMS gateway plugs in later; the
//! demo and the tests use [`LogSender`], which logs the text and keeps the
//! last code per phone in memory.

use std::{any::Any, collections::HashMap, sync::Mutex};

use crate::{error::AppResult, module::BoxFuture};

pub trait SmsSender: Send + Sync {
    /// Sends `text` to `phone` (a normalised mainland mobile number).
    fn send(&self, phone: &str, text: &str) -> BoxFuture<'_, AppResult<()>>;
    /// For tests: the concrete sender behind the trait object.
    fn as_any(&self) -> &dyn Any;
}

/// The demo/test sender: logs every message at info and remembers the last
/// 6-digit code sent to each phone.
#[derive(Default)]
pub struct LogSender {
    last: Mutex<HashMap<String, String>>,
}

impl LogSender {
    /// The last 6-digit code texted to `phone`, if any.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(phone)
            .cloned()
    }
}

/// The first run of 6 digits in `text`.
fn code_in(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(5)).find_map(|i| {
        let w = &b[i..i + 6];
        let before = i == 0 || !b[i - 1].is_ascii_digit();
        let after = b.get(i + 6).is_none_or(|c| !c.is_ascii_digit());
        (before && after && w.iter().all(u8::is_ascii_digit))
            .then(|| String::from_utf8_lossy(w).into_owned())
    })
}

impl SmsSender for LogSender {
    fn send(&self, phone: &str, text: &str) -> BoxFuture<'_, AppResult<()>> {
        tracing::info!(phone, text, "SMS (log sender, not delivered)");
        if let Some(code) = code_in(text) {
            self.last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(phone.to_string(), code);
        }
        Box::pin(async { Ok(()) })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn log_sender_keeps_the_last_code() {
        let s = LogSender::default();
        s.send("13800000000", "验证码 123456,10 分钟内有效 / code 123456")
            .await
            .unwrap();
        s.send("13800000000", "验证码 654321").await.unwrap();
        assert_eq!(s.last_code("13800000000").as_deref(), Some("654321"));
        assert_eq!(s.last_code("13900000000"), None);
        assert_eq!(code_in("1234567 and 12345"), None);
    }
}
