//! Errors of the quality checks, each specific enough for the API edge to map to a stable
//! code.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::EngineError;
use crate::transact::TransactionError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QualityError {
    #[error("second review {0} not found")]
    NotFound(Uuid),
    #[error("{actor} may not do second reviews: it needs the reviewer or senior reviewer role")]
    NotPermitted { actor: String },
    #[error(
        "{reviewer} made the decision under review; a second review must be another reviewer's"
    )]
    FirstReviewer { reviewer: String },
    #[error("second review {0} is already recorded")]
    AlreadyReviewed(Uuid),
    #[error("{holder} holds this second review until {until}")]
    HeldByOther {
        holder: String,
        until: DateTime<Utc>,
    },
    /// Another reviewer took the same second review at the same moment; retried.
    #[error("another reviewer took this second review first")]
    LostRace,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<sea_orm::DbErr> for QualityError {
    fn from(err: sea_orm::DbErr) -> Self {
        QualityError::Engine(EngineError::from(err))
    }
}

impl TransactionError for QualityError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            QualityError::Engine(err) => Some(err),
            _ => None,
        }
    }
}
