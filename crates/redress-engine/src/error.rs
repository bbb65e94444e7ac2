//! Error policy: the engine returns [`EngineError`], specific enough for the API edge to
//! map each variant to a stable code (conflict, not found, invalid transition, bad input)
//! without parsing messages. Database errors stay opaque to callers outside the service.
//!
//! A database error about the values handed to it (text it cannot store, a value too long
//! to index, a number or date out of its range) is the same on every retry, so it becomes
//! [`EngineError::InvalidInput`], which every channel answers as a permanent refusal (SMTP
//! 5xx, `BAD_USER_INPUT`, a webhook's 200 with the message counted as rejected), never
//! as "try again later".

use redress_core::TransitionError;
use sea_orm::DbErr;
use uuid::Uuid;

use crate::hooks::Refusal;

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
    /// A handle-confirmation link that links nothing.
    #[error(transparent)]
    ConfirmationLink(#[from] crate::direct_messages::LinkProblem),
    /// Triage could not link the account the appellant claims.
    #[error(transparent)]
    ClaimedAccountLink(#[from] crate::triage::ClaimedAccountLinkError),
    /// A filing gate refused to open the case (the appeal window closed, the account's
    /// appeals throttled); the message is the gate's, and the gate's type is inside.
    #[error("{0}")]
    Refused(Refusal),
    #[error("stored data of {entity} {id} is unreadable: {reason}")]
    Corrupt {
        entity: &'static str,
        id: String,
        reason: String,
    },
    /// A database failure that may pass: the connection, the pool, a lost race. Errors
    /// about the input itself never land here (see `From<DbErr>`).
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for EngineError {
    fn from(err: DbErr) -> Self {
        // A stored value no type of the engine's reads (an enum's unknown string) will be
        // unreadable on every retry: it is corrupt data, never a passing fault.
        if let DbErr::Type(reason) = err {
            return EngineError::corrupt("stored row", "", reason);
        }
        match refused_input(&err) {
            Some(refusal) => {
                tracing::warn!(error = %err, "the database refused a value as it was given");
                EngineError::InvalidInput(refusal.to_owned())
            }
            None => EngineError::Database(err),
        }
    }
}

/// What is wrong with the input when the database refused a value for good, by SQLSTATE
/// (PostgreSQL) or result code (SQLite). Only codes about the values handed over are
/// here; a data exception raised by the engine's own arithmetic (division by zero, say)
/// is a fault of the service and stays a database error.
fn refused_input(err: &DbErr) -> Option<&'static str> {
    let code = database_code(err)?;
    Some(match code.as_str() {
        // character_not_in_repertoire (U+0000 in text), untranslatable_character (in jsonb)
        "22021" | "22P05" => "the text contains a character that cannot be stored",
        // string_data_right_truncation, program_limit_exceeded (index row or value too
        // large), SQLITE_TOOBIG
        "22001" | "54000" | "18" => "a value is too long to be stored",
        // numeric_value_out_of_range, datetime_field_overflow
        "22003" | "22008" => "a number or date is out of the range that can be stored",
        // invalid_text_representation, invalid_datetime_format
        "22P02" | "22007" => "a value is not in a form that can be stored",
        _ => return None,
    })
}

fn database_code(err: &DbErr) -> Option<String> {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(sqlx))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(sqlx))) = err
    else {
        return None;
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(database) => {
            database.code().map(std::borrow::Cow::into_owned)
        }
        _ => None,
    }
}

impl EngineError {
    pub(crate) fn corrupt(entity: &'static str, id: impl ToString, reason: impl ToString) -> Self {
        EngineError::Corrupt {
            entity,
            id: id.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Whether the same request may succeed later, so a channel should ask its sender to
    /// retry (SMTP 451, HTTP 503) rather than refuse it for good.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            EngineError::Database(_) | EngineError::Conflict { .. }
        )
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
    text.contains("database is locked")
        || text.contains("could not serialize access")
        || text.contains("deadlock detected")
}
