//! Errors of restorations and bulk jobs, each specific enough for the API edge to map to a
//! stable code.

use uuid::Uuid;

use crate::entity::bulk_restore_job::BulkJobStatus;
use crate::error::EngineError;
use crate::transact::TransactionError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RestorationError {
    #[error("bulk restore job {0} not found")]
    JobNotFound(Uuid),
    #[error("bulk restore job {job} has no slice {slice}")]
    SliceNotFound { job: Uuid, slice: i32 },
    #[error("restoration {0} not found")]
    RestorationNotFound(Uuid),
    #[error("a bulk restore job ({job}) is already running for selector {selector}")]
    SelectorBusy { selector: String, job: Uuid },
    #[error("{actor} may not {action}: it needs the support or admin role")]
    NotPermitted { actor: String, action: &'static str },
    #[error("invalid selector: {0}")]
    InvalidSelector(String),
    #[error("bulk restore job {job} is {status}, not running")]
    NotRunning { job: Uuid, status: BulkJobStatus },
    #[error("account service unavailable: {0}")]
    Unavailable(String),
    #[error("account service refused the restoration: {0}")]
    Refused(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<sea_orm::DbErr> for RestorationError {
    fn from(err: sea_orm::DbErr) -> Self {
        RestorationError::Engine(EngineError::from(err))
    }
}

impl TransactionError for RestorationError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            RestorationError::Engine(err) => Some(err),
            _ => None,
        }
    }
}
