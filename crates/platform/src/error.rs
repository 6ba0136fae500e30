//! The service-layer error. Store and service functions return it; the web
//! layer maps it to an HTTP status and a page or JSON body in exactly one
//! place (`platform::web::errors`).

use crate::i18n::Msg;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Absent, or outside the caller's scope: the two are indistinguishable
    /// on purpose, so a scope probe learns nothing.
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    #[error("invalid: {0}")]
    Invalid(Msg),
    #[error("conflict: {0}")]
    Conflict(Msg),
    #[error("csrf token missing or wrong")]
    Csrf,
    #[error("too many attempts: {0}")]
    Throttled(Msg),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl AppError {
    pub fn invalid(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Invalid(Msg::new(zh, en))
    }
    pub fn conflict(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Conflict(Msg::new(zh, en))
    }
    pub fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Forbidden(Msg::new(zh, en))
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::Unauthenticated => 401,
            AppError::Forbidden(_) | AppError::Csrf => 403,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::Throttled(_) => 429,
            AppError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf => "csrf",
            AppError::Invalid(_) => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Throttled(_) => "throttled",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the user is told. Internal details stay in the log.
    pub fn user_message(&self) -> Msg {
        match self {
            AppError::NotFound => Msg::new(
                "找不到该对象,或它不在您的管辖范围内",
                "Not found, or not within your organisation's scope",
            ),
            AppError::Unauthenticated => Msg::new("请先登录", "Please sign in first"),
            AppError::Csrf => Msg::new(
                "表单已过期或来源不明(CSRF 校验失败),请刷新页面后重试",
                "The form expired or came from elsewhere (CSRF check failed); reload the page and try again",
            ),
            AppError::Forbidden(m) | AppError::Invalid(m) | AppError::Conflict(m) | AppError::Throttled(m) => {
                m.clone()
            }
            AppError::Internal(_) => Msg::new(
                "服务器内部错误,已记录,请稍后重试或联系管理员",
                "Internal error; it has been logged. Try again later or contact the administrator",
            ),
        }
    }
}

/// True when a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}
