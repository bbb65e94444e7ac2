//! The one way a use case writes: [`Engine::transact`] begins a transaction, runs the work,
//! commits or rolls back, retries by a named [`Retry`] policy, and after the commit
//! announces what the work recorded (appeal changes for live views, new outbox rows for
//! dispatchers) on both backends.
//!
//! Every transaction of the engine begins in this module; `clippy.toml` forbids sea-orm's
//! `begin` and its kin everywhere else. Besides the engine's write path there is one
//! exception, [`in_transaction`], for the few transactions that have no engine to go
//! through (see there), and [`savepoint`] for a unit of work inside one.

use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

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

/// When a transaction takes the database's write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Begin {
    /// At its first write, as the database does by default.
    Deferred,
    /// On SQLite at once (`BEGIN IMMEDIATE`), so a writer in another process (the command
    /// line beside the service) waits for the transaction in flight and then reads what it
    /// left, instead of failing to upgrade a read transaction that the other writer
    /// overtook. PostgreSQL takes row locks and begins as usual.
    WriteLockFirst,
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
        self.transact_with(retry, Begin::Deferred, work).await
    }

    /// [`Engine::transact`], each attempt beginning as `begin` says.
    pub(crate) async fn transact_with<T, E: TransactionError>(
        &self,
        retry: Retry,
        begin: Begin,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E> + Clone,
    ) -> Result<T, E> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.transact_once_with(begin, work.clone()).await {
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
        self.transact_once_with(Begin::Deferred, work).await
    }

    /// [`Engine::transact_once`], beginning as `begin` says.
    pub(crate) async fn transact_once_with<T, E: From<EngineError>>(
        &self,
        begin: Begin,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
    ) -> Result<T, E> {
        let (result, announcements) =
            Box::pin(announce::collecting(run(self.db(), begin, work))).await;
        let result = result.map_err(|err| E::from(EngineError::from(err)))?;
        if result.is_ok() {
            self.announce_committed(announcements);
        }
        result
    }
}

/// Runs `work` in a transaction of its own on `conn`, outside the engine: no retry, and
/// what the work notifies goes out with its commit (`announce` collects nothing here).
///
/// This is the exception to [`Engine::transact`], for transactions that have no engine to
/// go through: the migrations, which run before an engine exists; the announcer's own
/// notifications, which are what an engine transaction announces with; and the outbox
/// dispatcher's claim and its record of an outcome that settles a row (on PostgreSQL),
/// which run on the dispatcher's connection. Everything else writes through the engine.
pub(crate) async fn in_transaction<C, T, E>(
    conn: &C,
    begin: Begin,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
) -> Result<T, E>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
    E: From<DbErr>,
{
    run(conn, begin, work).await?
}

/// Runs `work` in a savepoint of `txn`: its writes stay with the transaction when it
/// succeeds and are undone when it fails, and what it collected to announce goes with
/// them, while the transaction itself goes on either way. The outer result is the
/// savepoint's own failure; the inner one is the work's.
pub(crate) async fn savepoint<T, E>(
    txn: &DatabaseTransaction,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
) -> Result<Result<T, E>, DbErr> {
    let announced = announce::mark();
    let result = run(txn, Begin::Deferred, work).await?;
    if result.is_err() {
        announce::discard_since(announced);
    }
    Ok(result)
}

/// Begins a transaction (a savepoint when `conn` is one), runs `work`, then commits its
/// success or rolls back its failure. The outer result is the transaction's own failure to
/// begin, commit or roll back; the inner one is the work's.
async fn run<C, T, E>(
    conn: &C,
    begin: Begin,
    work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, E>,
) -> Result<Result<T, E>, DbErr>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    let txn = open(conn, begin).await?;
    let result = work(&txn).await;
    match result {
        Ok(_) => txn.commit().await?,
        Err(_) => txn.rollback().await?,
    }
    Ok(result)
}

/// The one place a transaction begins.
#[allow(
    clippy::disallowed_methods,
    reason = "the transactions of the engine begin here and only here"
)]
async fn open<C>(conn: &C, begin: Begin) -> Result<DatabaseTransaction, DbErr>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    if begin == Begin::WriteLockFirst && conn.get_database_backend() == DbBackend::Sqlite {
        conn.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
    } else {
        conn.begin().await
    }
}
