//! The engine facade: each use case in its own transaction (`Engine::transact`), retried
//! where a concurrent writer won a race that a second attempt resolves.

use std::sync::Arc;

use redress_core::{Actor, AppealReference, Command, Event};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::announce::{Announcement, Announcer};
use crate::changes::{self, ChangeFeed};
use crate::clock::Clock;
use crate::commands::{self, Applied};
use crate::error::EngineError;
use crate::filing::{self, Filing, IncomingAppeal};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::settings::EngineSettings;
use crate::transact::Retry;

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

    /// The connection, for tests that arrange or inspect rows; other crates' code goes
    /// through the use cases.
    #[cfg(feature = "testing")]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    #[cfg(not(feature = "testing"))]
    pub(crate) fn db(&self) -> &DatabaseConnection {
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

    /// After a commit: what the transaction recorded reaches live views and dispatchers;
    /// in process on SQLite, through PostgreSQL's notifications (which every replica's
    /// listener turns into its own feed) otherwise.
    pub(crate) fn announce_committed(&self, announcements: Vec<Announcement>) {
        if changes::announced_by_database(&self.db) {
            self.announcer.announce(&self.db, announcements);
            return;
        }
        for announcement in announcements {
            if let Announcement::AppealChange(change) = announcement {
                self.changes.publish(change);
            }
        }
    }

    /// Files an appeal. Concurrent deliveries of the same message, or two filings for the
    /// same enforcement, race on unique indexes; the loser retries and sees the winner's row.
    pub async fn file(
        &self,
        actor: &Actor,
        incoming: IncomingAppeal,
    ) -> Result<Filing, EngineError> {
        let result = self
            .transact(Retry::LostRaces, async |txn| {
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
        if let Err(EngineError::AppealsThrottled { account, until }) = &result {
            self.audit_refusal(account, &incoming, *until).await?;
        }
        result
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
        self.transact_once(async |txn| {
            commands::apply_command(
                txn,
                &self.settings,
                appeal_id,
                expected_version,
                command,
                actor,
                self.clock.now(),
            )
            .await
        })
        .await
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
