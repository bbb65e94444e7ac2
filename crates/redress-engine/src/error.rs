//! Error policy: the engine returns [`EngineError`], specific enough for the API edge to
//! map each variant to a stable code (conflict, not found, invalid transition, bad input)
//! without parsing messages. Database errors stay opaque to callers outside the service.

use redress_core::TransitionError;
use sea_orm::DbErr;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("appeal {0} not found")]
    AppealNotFound(Uuid),
    #[error("no appeal has reference {0}")]
    ReferenceNotFound(String),
    #[error("appeal {appeal} was changed by someone else: expected version {expected}, it is at {actual}")]
    Conflict {
        appeal: Uuid,
        expected: i64,
        actual: i64,
    },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    InvalidInput(String),
    #[error("the time to appeal enforcement {enforcement} ended on {closed_at}: appeals are accepted for {months} months after the notice")]
    AppealWindowClosed {
        enforcement: Uuid,
        closed_at: chrono::DateTime<chrono::Utc>,
        months: u32,
    },
    #[error("{}", crate::transparency::throttle::refusal_text(*until))]
    AppealsThrottled {
        account: String,
        until: chrono::DateTime<chrono::Utc>,
    },
    #[error("stored data of {entity} {id} is unreadable: {reason}")]
    Corrupt {
        entity: &'static str,
        id: String,
        reason: String,
    },
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

impl EngineError {
    pub(crate) fn corrupt(entity: &'static str, id: impl ToString, reason: impl ToString) -> Self {
        EngineError::Corrupt {
            entity,
            id: id.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Whether retrying the whole transaction may succeed: a concurrent writer won a unique
    /// index race, or SQLite/PostgreSQL reported a serialization conflict.
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Database(err) => is_unique_violation(err) || is_busy(err),
            _ => false,
        }
    }
}

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

fn is_busy(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("database is locked") || text.contains("could not serialize access")
}
