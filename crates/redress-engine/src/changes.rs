//! Appeal changes announced after they commit, for live views (API subscriptions).
//!
//! Every replica keeps an in-process broadcast. Every write of an appeal records its change
//! ([`notify_in_transaction`]); the engine's transactions (`Engine::transact`) announce what
//! they recorded once they have committed: on SQLite (one process) straight into the
//! broadcast, on PostgreSQL as a notification to every replica listening, whose
//! [`Engine::relay_changes`] task feeds its own broadcast, its own writes included.

use std::fmt;

use redress_core::AppealState;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::repo::appeals::StoredAppeal;

/// Broadcast slots per subscriber; a subscriber that falls further behind skips ahead.
const FEED_CAPACITY: usize = 1024;
/// PostgreSQL notification channel, suffixed with the schema so tenants sharing a server
/// (and tests sharing one database) do not hear each other.
pub(crate) const CHANNEL_PREFIX: &str = "redress_appeals_";

/// What changed: enough for a subscriber to decide whether to reload the appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealChange {
    pub appeal_id: Uuid,
    pub version: i64,
    pub state: AppealState,
    pub queue: String,
    /// The queue the appeal left, when the change moved it.
    pub previous_queue: Option<String>,
}

impl AppealChange {
    pub fn of(stored: &StoredAppeal, previous_queue: Option<&str>) -> Self {
        Self {
            appeal_id: stored.id,
            version: stored.version(),
            state: stored.appeal.state,
            queue: stored.appeal.queue.clone(),
            previous_queue: previous_queue
                .filter(|q| *q != stored.appeal.queue)
                .map(str::to_owned),
        }
    }

    /// The change as a PostgreSQL notification's payload.
    pub(crate) fn to_payload(&self) -> String {
        // A struct of ids, numbers and strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a view of `queue` should refresh.
    pub fn touches_queue(&self, queue: &str) -> bool {
        self.queue == queue || self.previous_queue.as_deref() == Some(queue)
    }
}

/// The in-process broadcast of committed changes.
#[derive(Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<AppealChange>,
}

impl fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("subscribers", &self.sender.receiver_count())
            .finish()
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(FEED_CAPACITY);
        Self { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<AppealChange> {
        self.sender.subscribe()
    }

    /// Publishes to this process's subscribers; nobody listening is not an error.
    pub fn publish(&self, change: AppealChange) {
        let _ = self.sender.send(change);
    }
}

/// Inside the writing transaction: records `change` for after the commit of the engine's
/// transaction (`Engine::transact`), which announces it on either backend. Outside one (a
/// caller that owns its transaction), PostgreSQL still delivers it at commit through a
/// notification queued here; SQLite has no one to tell.
pub(crate) async fn notify_in_transaction<C: ConnectionTrait>(
    conn: &C,
    change: &AppealChange,
) -> Result<(), EngineError> {
    if crate::announce::defer(crate::announce::Announcement::AppealChange(change.clone()))
        || conn.get_database_backend() != DbBackend::Postgres
    {
        return Ok(());
    }
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("SELECT pg_notify('{CHANNEL_PREFIX}' || current_schema(), $1)"),
        [change.to_payload().into()],
    ))
    .await?;
    Ok(())
}

/// Whether changes reach the feed through PostgreSQL notifications rather than directly.
pub(crate) fn announced_by_database(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

impl Engine {
    /// Forwards every replica's committed changes into this engine's feed until `shutdown`
    /// flips. Does nothing (returns at once) on SQLite, where the engine feeds it directly.
    pub async fn relay_changes(&self, shutdown: watch::Receiver<bool>) -> Result<(), EngineError> {
        listen_postgres(self.db().clone(), self.changes().clone(), shutdown).await
    }
}

/// Forwards PostgreSQL notifications of this schema into `feed` until `shutdown` flips.
/// Does nothing (returns at once) on SQLite.
async fn listen_postgres(
    db: DatabaseConnection,
    feed: ChangeFeed,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), EngineError> {
    if !announced_by_database(&db) {
        return Ok(());
    }
    let schema: String = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_schema() AS schema",
        ))
        .await?
        .ok_or_else(|| EngineError::InvalidInput("no current schema".into()))?
        .try_get("", "schema")?;
    let pool = db.get_postgres_connection_pool();
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool)
        .await
        .map_err(listener_error)?;
    listener
        .listen(&format!("{CHANNEL_PREFIX}{schema}"))
        .await
        .map_err(listener_error)?;
    loop {
        tokio::select! {
            _ = async { shutdown.wait_for(|stop| *stop).await.map(|_| ()) } => return Ok(()),
            received = listener.try_recv() => match received {
                Ok(Some(notification)) => match serde_json::from_str::<AppealChange>(notification.payload()) {
                    Ok(change) => feed.publish(change),
                    Err(err) => tracing::warn!(error = %err, "ignoring an unreadable appeal change notification"),
                },
                // The connection dropped; PgListener reconnects on the next call. Changes in
                // between are lost to live views only, which reload on their next event.
                Ok(None) => tracing::warn!("appeal change listener reconnecting"),
                Err(err) => {
                    tracing::warn!(error = %err, "appeal change listener failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}

fn listener_error(err: sea_orm::sqlx::Error) -> EngineError {
    EngineError::Database(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
        std::sync::Arc::new(err),
    )))
}
