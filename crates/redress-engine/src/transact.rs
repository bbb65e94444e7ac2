//! The one way a use case writes: [`Engine::transact`] begins a transaction, runs the work,
//! commits or rolls back, retries by a named [`Retry`] policy, and after the commit
//! announces what the work recorded (appeal changes for live views, new outbox rows for
//! dispatchers) on both backends.

use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::announce;
use crate::engine::Engine;
use crate::error::EngineError;

/// When a failed transaction is worth running again from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// A concurrent writer won a unique-index race or the database reported a
    /// serialization conflict; a second attempt sees the winner's rows.
    LostRaces,
    /// As [`Retry::LostRaces`], and also a stale appeal version: the work reads the appeal
    /// afresh, so the next attempt starts from the other writer's result.
    LostRacesAndConflicts,
}

impl Retry {
    /// Attempts in all; a race lost this many times in a row is a fault worth reporting.
    const ATTEMPTS: usize = 5;

    fn covers(self, err: &EngineError, attempt: usize) -> bool {
        attempt < Self::ATTEMPTS
            && match self {
                Retry::LostRaces => err.is_retryable(),
                Retry::LostRacesAndConflicts => {
                    err.is_retryable() || matches!(err, EngineError::Conflict { .. })
                }
            }
    }
}

/// An error a transaction's work may end in: the engine's own, or a unit's that wraps it
/// (each unit implements this for its error, next to it).
pub(crate) trait TransactionError: From<EngineError> {
    /// The engine error inside, which decides whether a retry may help.
    fn engine_error(&self) -> Option<&EngineError>;
}

impl TransactionError for EngineError {
    fn engine_error(&self) -> Option<&EngineError> {
        Some(self)
    }
}

impl Engine {
    /// Runs `work` in a transaction of its own: commits its result, rolls back its error,
    /// and runs it again from the start while `retry` says a lost race may resolve. What the
    /// work recorded for live views and dispatchers is announced after the commit only, so
    /// a rolled-back attempt announces nothing and concurrent writers keep committing
    /// together (see `announce`).
    ///
    /// Each attempt runs a fresh copy of `work` (closures that borrow what they use are
    /// `Clone`); a closure that cannot be copied runs once through [`Engine::transact_once`].
    pub(crate) async fn transact<T, E: TransactionError>(
        &self,
        retry: Retry,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E> + Clone,
    ) -> Result<T, E> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.transact_once(work.clone()).await {
                Err(err)
                    if err
                        .engine_error()
                        .is_some_and(|engine| retry.covers(engine, attempt)) =>
                {
                    tracing::debug!(attempt, error = ?err.engine_error(), "transaction lost a race; retrying");
                }
                result => return result,
            }
        }
    }

    /// [`Engine::transact`] without retries.
    pub(crate) async fn transact_once<T, E: From<EngineError>>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let (result, announcements) = Box::pin(announce::collecting(async {
            let txn = self.db().begin().await.map_err(EngineError::from)?;
            let result = work(&txn).await;
            finish(txn, result).await
        }))
        .await;
        if result.is_ok() {
            self.announce_committed(announcements);
        }
        result
    }
}

/// Commits on success, rolls back on failure; a failed commit is the result.
async fn finish<T, E: From<EngineError>>(
    txn: DatabaseTransaction,
    result: Result<T, E>,
) -> Result<T, E> {
    match result {
        Ok(value) => {
            txn.commit().await.map_err(EngineError::from)?;
            Ok(value)
        }
        Err(err) => {
            txn.rollback().await.map_err(EngineError::from)?;
            Err(err)
        }
    }
}
