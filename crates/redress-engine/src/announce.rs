//! What a transaction owes others after its commit: live views hear of appeal changes,
//! dispatchers of new outbox rows.
//!
//! On SQLite (one process) the engine publishes appeal changes to its in-process feed once
//! the transaction has committed. On PostgreSQL they are sent as notifications after the
//! commit instead of inside the transaction:
//! A transaction that calls `pg_notify` takes a database-wide lock at commit and holds it
//! through its WAL flush, so every notifying transaction commits one after the other and
//! group commit is lost. Filings (a wave of appeals), claims and reviewers' actions (many
//! reviewers at once) collect their notifications instead ([`collecting`]); after the commit the engine
//! hands them to one task per engine that sends each batch in a small transaction of its
//! own, without waiting for its flush. The notifications are wake-up hints: a crash between
//! the commit and the hint costs a live view one update and the outbox dispatcher one poll
//! interval, never a row.

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::mpsc;

use crate::changes::AppealChange;
use crate::transact::{self, Begin};

/// Most notifications sent in one transaction.
const BATCH: usize = 256;

/// A notification owed after a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Announcement {
    /// An appeal change: in process on SQLite, on `redress_appeals_<schema>` on PostgreSQL.
    AppealChange(AppealChange),
    /// New outbox rows, on `redress_outbox_<schema>`.
    OutboxRows,
}

tokio::task_local! {
    static COLLECTED: RefCell<Vec<Announcement>>;
}

/// Runs `work` with notifications collected rather than sent; returns them with its result.
/// Collected notifications of work that ends in a rollback are simply dropped.
pub(crate) async fn collecting<T>(work: impl Future<Output = T>) -> (T, Vec<Announcement>) {
    COLLECTED
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let collected = COLLECTED.with(RefCell::take);
            (out, collected)
        })
        .await
}

/// Inside [`collecting`], keeps `announcement` for after the commit and returns true;
/// elsewhere returns false and the caller notifies inside its transaction.
pub(crate) fn defer(announcement: Announcement) -> bool {
    COLLECTED
        .try_with(|collected| collected.borrow_mut().push(announcement))
        .is_ok()
}

/// How many announcements the work has collected so far, to [`discard_since`] when a
/// savepoint after this mark rolls back.
pub(crate) fn mark() -> usize {
    COLLECTED
        .try_with(|collected| collected.borrow().len())
        .unwrap_or(0)
}

/// Forgets what was collected after `mark`: the savepoint that wrote it rolled back.
pub(crate) fn discard_since(mark: usize) {
    let _ = COLLECTED.try_with(|collected| collected.borrow_mut().truncate(mark));
}

/// Sends collected notifications after their commit, batched, from one task per engine.
#[derive(Debug, Clone, Default)]
pub(crate) struct Announcer {
    sender: Arc<OnceLock<mpsc::UnboundedSender<Announcement>>>,
}

impl Announcer {
    pub(crate) fn announce(&self, db: &DatabaseConnection, announcements: Vec<Announcement>) {
        if announcements.is_empty() || db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(send_batches(db.clone(), receiver));
            sender
        });
        for announcement in announcements {
            // The task ends only when every sender is gone, so this cannot fail while
            // `self` is alive.
            let _ = sender.send(announcement);
        }
    }
}

async fn send_batches(db: DatabaseConnection, mut receiver: mpsc::UnboundedReceiver<Announcement>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        batch.dedup();
        if let Err(err) = send(&db, &batch).await {
            tracing::warn!(error = %err, notifications = batch.len(), "could not send post-commit notifications; listeners fall back to polling");
        }
        batch.clear();
    }
}

async fn send(db: &DatabaseConnection, batch: &[Announcement]) -> Result<(), sea_orm::DbErr> {
    let mut rows = Vec::with_capacity(batch.len());
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(batch.len() * 2);
    for (i, announcement) in batch.iter().enumerate() {
        let (channel, payload) = match announcement {
            Announcement::AppealChange(change) => {
                (crate::changes::CHANNEL_PREFIX, change.to_payload())
            }
            Announcement::OutboxRows => (crate::repo::outbox::NOTIFY_CHANNEL_PREFIX, String::new()),
        };
        rows.push(format!("(${}, ${})", i * 2 + 1, i * 2 + 2));
        values.push(channel.into());
        values.push(payload.into());
    }
    let notify = Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "SELECT pg_notify(n.prefix || coalesce(current_schema(), 'public'), n.payload) FROM (VALUES {}) AS n(prefix, payload)",
            rows.join(", ")
        ),
        values,
    );
    transact::in_transaction(db, Begin::Deferred, async |txn| {
        // A hint lost in a crash is harmless (see the module comment); not waiting for the
        // flush keeps this transaction from holding the notification lock through one.
        txn.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
        txn.execute_raw(notify).await?;
        Ok(())
    })
    .await
}
