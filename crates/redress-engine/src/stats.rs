//! Counts for the service's metrics, read from the database at scrape time so that every
//! replica reports the same numbers.

pub use crate::repo::outbox_delivery::OutboxCounts;
pub use crate::repo::stats::Stats;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::repo::stats;

impl Engine {
    /// The counts as of now.
    pub async fn stats(&self) -> Result<Stats, EngineError> {
        stats::read(self.db(), self.clock().now()).await
    }

    /// Whether the database holds no accounts, enforcements, appeals or messages yet:
    /// what a command that fills a fresh database (`redress demo`) checks first.
    pub async fn is_empty(&self) -> Result<bool, EngineError> {
        stats::records_nothing(self.db()).await
    }
}
