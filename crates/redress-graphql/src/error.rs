//! Error policy at the API edge: every resolver error is an [`ApiError`], sent with a stable
//! `extensions.code`. Engine errors map by variant, never by message; database and data
//! errors are logged and reach the caller only as `INTERNAL` with no detail.

use async_graphql::{ErrorExtensions, Value};
use redress_core::TransitionError;
use redress_engine::EngineError;

/// The codes clients can rely on.
pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The identity provider's keys cannot be fetched and none are held: the token could
    /// not be checked. A retry may succeed (HTTP 503).
    pub const AUTHENTICATION_UNAVAILABLE: &str = "AUTHENTICATION_UNAVAILABLE";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const INTERNAL: &str = "INTERNAL";
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("the token cannot be checked now: the identity provider's keys are unavailable")]
    AuthenticationUnavailable,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict {
        message: String,
        actual_version: i64,
    },
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    BadUserInput(String),
    /// Bad input in one field; `field` is its name in the API (e.g. `queue`, `tags`).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => codes::UNAUTHENTICATED,
            ApiError::AuthenticationUnavailable => codes::AUTHENTICATION_UNAVAILABLE,
            ApiError::Forbidden(_) => codes::FORBIDDEN,
            ApiError::NotFound(_) => codes::NOT_FOUND,
            ApiError::Conflict { .. } => codes::CONFLICT,
            ApiError::InvalidTransition(_) => codes::INVALID_TRANSITION,
            ApiError::BadUserInput(_) | ApiError::InvalidField { .. } => codes::BAD_USER_INPUT,
            ApiError::Internal => codes::INTERNAL,
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::BadUserInput(message.into())
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// `account_id` → `accountId`: the core names fields as Rust does, the API as GraphQL does.
fn api_field_name(core_name: &str) -> String {
    // The one field whose argument has another name than the core's.
    if core_name == "statement" {
        return "statementOfReasons".to_owned();
    }
    let mut words = core_name.split('_');
    let mut name = words.next().unwrap_or_default().to_owned();
    for word in words {
        let mut letters = word.chars();
        if let Some(first) = letters.next() {
            name.extend(first.to_uppercase());
            name.push_str(letters.as_str());
        }
    }
    name
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::AppealNotFound(_) | EngineError::ReferenceNotFound(_) => {
                ApiError::NotFound(err.to_string())
            }
            EngineError::Conflict { actual, .. } => ApiError::Conflict {
                message: err.to_string(),
                actual_version: actual,
            },
            EngineError::Transition(transition) => transition.into(),
            EngineError::InvalidInput(message) => ApiError::BadUserInput(message),
            EngineError::Refused(_) => ApiError::BadUserInput(err.to_string()),
            EngineError::ClaimedAccountLink(_) => {
                ApiError::invalid_field("linkClaimedAccount", err.to_string())
            }
            other => {
                tracing::error!(error = %other, "request failed inside the engine");
                ApiError::Internal
            }
        }
    }
}

impl From<TransitionError> for ApiError {
    fn from(err: TransitionError) -> Self {
        match err {
            TransitionError::NotPermitted { .. } | TransitionError::SameReviewer { .. } => {
                ApiError::Forbidden(err.to_string())
            }
            TransitionError::InvalidInput { field, .. } => {
                ApiError::invalid_field(&api_field_name(field), err.to_string())
            }
            TransitionError::InvalidStatement(ref statement) => ApiError::invalid_field(
                &format!("statementOfReasons.{}", statement.field),
                err.to_string(),
            ),
            TransitionError::UnfilledPlaceholder { field, .. } => {
                let field = match field.strip_prefix("statement.") {
                    Some(inner) => format!("statementOfReasons.{inner}"),
                    None => api_field_name(field),
                };
                ApiError::invalid_field(&field, err.to_string())
            }
            TransitionError::NoHumanReviewer { .. } => ApiError::BadUserInput(err.to_string()),
            TransitionError::LinkedToNoAccount => {
                ApiError::invalid_field("outcome", err.to_string())
            }
            _ => ApiError::InvalidTransition(err.to_string()),
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            match self {
                ApiError::Conflict { actual_version, .. } => {
                    extensions.set("actualVersion", Value::from(*actual_version));
                }
                ApiError::InvalidField { field, .. } => {
                    extensions.set("field", field.as_str());
                }
                _ => {}
            }
        })
    }
}

/// `?` for resolvers: converts any error the API knows into a coded GraphQL error.
pub trait OrApiError<T> {
    fn or_api(self) -> async_graphql::Result<T>;
}

impl<T, E: Into<ApiError>> OrApiError<T> for Result<T, E> {
    fn or_api(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.into().extend())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_is_named_as_the_api_names_it() {
        let refused = TransitionError::InvalidInput {
            field: "account_id",
            reason: "must not be empty",
        };
        let error = ApiError::from(refused).extend();
        let extensions = error.extensions.expect("extensions");
        assert_eq!(extensions.get("code"), Some(&Value::from("BAD_USER_INPUT")));
        assert_eq!(extensions.get("field"), Some(&Value::from("accountId")));
        assert_eq!(error.message, "invalid account_id: must not be empty");
    }
}
