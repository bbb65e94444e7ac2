//! The engine facade: each use case in its own transaction, retried where a concurrent
//! writer won a race that a second attempt resolves.

use std::sync::Arc;

use redress_core::{Actor, AppealReference, Command, Event};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use crate::announce::{self, Announcer};
use crate::changes::{self, AppealChange, ChangeFeed};
use crate::clock::Clock;
use crate::commands::{self, Applied};
use crate::error::EngineError;
use crate::filing::{self, Filing, IncomingAppeal};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::settings::EngineSettings;

const FILING_ATTEMPTS: usize = 4;

#[derive(Debug, Clone)]
pub struct Engine {
    db: DatabaseConnection,
    settings: Arc<EngineSettings>,
    clock: Arc<dyn Clock>,
    changes: ChangeFeed,
    announcer: Announcer,
}

impl Engine {
    pub fn new(db: DatabaseConnection, settings: EngineSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            settings: Arc::new(settings),
            clock,
            changes: ChangeFeed::new(),
            announcer: Announcer::default(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Committed appeal changes, for live views.
    pub fn changes(&self) -> &ChangeFeed {
        &self.changes
    }

    /// After a commit: publishes in process, unless the database delivers the notification
    /// that every write queues inside its transaction (PostgreSQL).
    pub(crate) fn published(&self, change: AppealChange) {
        if !changes::announced_by_database(&self.db) {
            self.changes.publish(change);
        }
    }

    /// Sends the notifications a committed transaction collected (`announce::collecting`).
    pub(crate) fn announce_committed(&self, announcements: Vec<crate::announce::Announcement>) {
        self.announcer.announce(&self.db, announcements);
    }

    /// Runs `work` in a transaction of its own and commits it (rolls back on error); the
    /// PostgreSQL notifications it queues go out right after the commit, batched, instead
    /// of inside it, so that concurrent writers keep committing together (`announce`).
    pub(crate) async fn in_transaction_announced_after_commit<T>(
        &self,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let (result, announcements) = Box::pin(announce::collecting(async {
            let txn = self.db.begin().await?;
            let result = work(&txn).await;
            finish(txn, result).await
        }))
        .await;
        if result.is_ok() {
            self.announcer.announce(&self.db, announcements);
        }
        result
    }

    /// Files an appeal. Concurrent deliveries of the same message, or two filings for the
    /// same enforcement, race on unique indexes; the loser retries and sees the winner's row.
    pub async fn file(
        &self,
        actor: &Actor,
        incoming: IncomingAppeal,
    ) -> Result<Filing, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Filing is the hot path of an appeal wave.
            let result = self
                .in_transaction_announced_after_commit(async |txn| {
                    filing::file_appeal(
                        txn,
                        &self.settings,
                        actor,
                        incoming.clone(),
                        self.clock.now(),
                        rand::random(),
                    )
                    .await
                })
                .await;
            match result {
                Err(err) if err.is_retryable() && attempt < FILING_ATTEMPTS => {
                    tracing::debug!(attempt, error = %err, "filing raced another writer; retrying");
                }
                Err(EngineError::AppealsThrottled { account, until }) => {
                    self.audit_refusal(&account, &incoming, until).await?;
                    return Err(EngineError::AppealsThrottled { account, until });
                }
                Err(err) => return Err(err),
                Ok(filing) => {
                    if let Some(change) = filing_change(&filing) {
                        self.published(change);
                    }
                    return Ok(filing);
                }
            }
        }
    }

    /// Applies a command with optimistic concurrency: a stale `expected_version` is a
    /// conflict and nothing is written.
    pub async fn apply(
        &self,
        appeal_id: Uuid,
        expected_version: Option<i64>,
        command: &Command,
        actor: &Actor,
    ) -> Result<Applied, EngineError> {
        // Many reviewers act at once.
        let (applied, change) = self
            .in_transaction_announced_after_commit(async |txn| {
                let applied = commands::apply_command(
                    txn,
                    &self.settings,
                    appeal_id,
                    expected_version,
                    command,
                    actor,
                    self.clock.now(),
                )
                .await?;
                let change = AppealChange::of(&applied.appeal, Some(&applied.queue_before));
                Ok((applied, change))
            })
            .await?;
        self.published(change);
        Ok(applied)
    }

    /// Audits a throttled filing in its own transaction: the filing's rolled back.
    async fn audit_refusal(
        &self,
        account: &str,
        incoming: &IncomingAppeal,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), EngineError> {
        let refusal = crate::transparency::throttle::Refusal {
            account_id: account,
            channel: incoming.channel,
            sender: &incoming.sender,
            until,
        };
        crate::transparency::throttle::audit_refusal(&self.db, refusal, self.clock.now()).await
    }

    pub async fn appeal(&self, id: Uuid) -> Result<StoredAppeal, EngineError> {
        appeals::find(&self.db, id).await
    }

    pub async fn appeal_by_reference(
        &self,
        reference: &AppealReference,
    ) -> Result<StoredAppeal, EngineError> {
        appeals::find_by_reference(&self.db, reference).await
    }

    pub async fn history(&self, id: Uuid) -> Result<Vec<(i64, Event)>, EngineError> {
        events::history(&self.db, id).await
    }
}

fn filing_change(filing: &Filing) -> Option<AppealChange> {
    match filing {
        Filing::Created(stored) | Filing::Appended(stored) => Some(AppealChange::of(stored, None)),
        Filing::Duplicate { .. } | Filing::Refused { .. } => None,
    }
}

/// Commits on success, rolls back on failure; a failed commit is the result.
pub(crate) async fn finish<T>(
    txn: DatabaseTransaction,
    result: Result<T, EngineError>,
) -> Result<T, EngineError> {
    match result {
        Ok(value) => {
            txn.commit().await?;
            Ok(value)
        }
        Err(err) => {
            txn.rollback().await?;
            Err(err)
        }
    }
}
