//! Errors of bulk decisions, each specific enough for the API edge to map to a stable code.

use uuid::Uuid;

use super::job::BulkDecisionStatus;
use crate::error::EngineError;
use crate::policies::FillError;
use crate::transact::TransactionError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BulkDecisionError {
    #[error("bulk decision job {0} not found")]
    JobNotFound(Uuid),
    #[error("{actor} may not {action}: it needs the senior reviewer role")]
    NotPermitted { actor: String, action: &'static str },
    #[error("template: no decision template {0:?} is configured")]
    UnknownTemplate(String),
    #[error("filter: it selects no appeals")]
    NothingSelected,
    #[error("filter: it selects {selected} appeals; a bulk decision takes at most {max}")]
    TooMany { selected: u64, max: u64 },
    #[error("bulk decision job {job} is {status}, not running")]
    NotRunning {
        job: Uuid,
        status: BulkDecisionStatus,
    },
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<sea_orm::DbErr> for BulkDecisionError {
    fn from(err: sea_orm::DbErr) -> Self {
        BulkDecisionError::Engine(EngineError::from(err))
    }
}

impl From<FillError> for BulkDecisionError {
    fn from(err: FillError) -> Self {
        match err {
            FillError::Engine(engine) => BulkDecisionError::Engine(engine),
            FillError::UnknownTemplate(id) => BulkDecisionError::UnknownTemplate(id),
            other => BulkDecisionError::InvalidInput(other.to_string()),
        }
    }
}

impl TransactionError for BulkDecisionError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            BulkDecisionError::Engine(err) => Some(err),
            _ => None,
        }
    }
}
