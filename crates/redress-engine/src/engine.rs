//! The engine facade: each use case in its own transaction (`Engine::transact`), retried
//! where a concurrent writer won a race that a second attempt resolves.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use redress_core::{Actor, AppealReference, Command, Event};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use uuid::Uuid;

use crate::announce::{Announcement, Announcer};
use crate::bulk_decisions::NotedRoles;
use crate::catalog::CatalogBook;
use crate::changes::{self, ChangeFeed};
use crate::clock::Clock;
use crate::commands::{self, Applied};
use crate::error::EngineError;
use crate::filing::{self, Filing, IncomingAppeal};
use crate::hooks::{Hooks, InTransaction};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::settings::EngineSettings;
use crate::transact::Retry;

/// The use cases over one database. Built with the hooks it runs ([`Engine::with_hooks`]);
/// `Engine::new` (module `standard`) registers the rules every deployment runs.
#[derive(Debug, Clone)]
pub struct Engine {
    db: DatabaseConnection,
    settings: Arc<EngineSettings>,
    hooks: Arc<Hooks>,
    clock: Arc<dyn Clock>,
    changes: ChangeFeed,
    announcer: Announcer,
    catalog: Arc<CatalogBook>,
    noted_roles: Arc<NotedRoles>,
    outside_copies: crate::privacy::OutsideCopiesSlot,
}

impl Engine {
    pub fn with_hooks(
        db: DatabaseConnection,
        settings: EngineSettings,
        clock: Arc<dyn Clock>,
        hooks: Hooks,
    ) -> Self {
        Self {
            db,
            catalog: Arc::new(CatalogBook::new(settings.policies.clone())),
            noted_roles: Arc::default(),
            outside_copies: crate::privacy::OutsideCopiesSlot::default(),
            settings: Arc::new(settings),
            hooks: Arc::new(hooks),
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

    pub(crate) fn noted_roles(&self) -> &NotedRoles {
        &self.noted_roles
    }

    pub(crate) fn outside_copies(&self) -> &crate::privacy::OutsideCopiesSlot {
        &self.outside_copies
    }

    pub(crate) fn catalog_book(&self) -> &CatalogBook {
        &self.catalog
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    /// `txn` with this engine's settings and hooks, at `now`: what the write-path functions
    /// and the hooks take.
    pub fn in_transaction<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> InTransaction<'a> {
        InTransaction {
            txn,
            settings: &self.settings,
            hooks: &self.hooks,
            now,
        }
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
    /// A refused filing is rolled back, so what the refusal leaves on record is written in a
    /// transaction of its own.
    pub async fn file(
        &self,
        actor: &Actor,
        incoming: IncomingAppeal,
    ) -> Result<Filing, EngineError> {
        let result = self
            .transact(Retry::LostRaces, async |txn| {
                let cx = self.in_transaction(txn, self.clock.now());
                filing::file_appeal(&cx, actor, incoming.clone(), rand::random()).await
            })
            .await;
        if let Err(EngineError::Refused(refusal)) = &result {
            self.transact_once(async |txn| {
                let cx = self.in_transaction(txn, self.clock.now());
                refusal.record(&cx, &incoming).await
            })
            .await?;
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
            let cx = self.in_transaction(txn, self.clock.now());
            commands::apply_command(&cx, appeal_id, expected_version, command, actor).await
        })
        .await
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
