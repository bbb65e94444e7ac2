//! Admin use cases over the outbox's dead letters: list them, put one back in the queue.
//! Role checks belong to the API edge; these functions trust their caller.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::engine::Engine;
use crate::entity::outbox;
use crate::error::EngineError;
use crate::repo::outbox_delivery;

/// An outbox item that was given up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub id: Uuid,
    pub topic: String,
    pub appeal_id: Option<Uuid>,
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the last attempt failed.
    pub failed_at: DateTime<Utc>,
}

impl From<outbox::Model> for DeadLetter {
    fn from(row: outbox::Model) -> Self {
        Self {
            id: row.id,
            topic: row.topic,
            appeal_id: row.appeal_id,
            idempotency_key: row.idempotency_key,
            payload: row.payload,
            attempts: row.attempts,
            last_error: row.last_error,
            created_at: row.created_at,
            failed_at: row.available_at,
        }
    }
}

impl Engine {
    /// Dead letters, newest first; pass the last id of a page as `before` for the next.
    pub async fn dead_letters(
        &self,
        limit: u64,
        before: Option<Uuid>,
    ) -> Result<Vec<DeadLetter>, EngineError> {
        Ok(outbox_delivery::dead_letters(self.db(), limit, before)
            .await?
            .into_iter()
            .map(DeadLetter::from)
            .collect())
    }

    /// Queues a dead letter again with a fresh attempt budget, due at once. Retrying an id
    /// that is not (or no longer) a dead letter is an error and changes nothing.
    pub async fn retry_dead_letter(&self, id: Uuid) -> Result<(), EngineError> {
        if outbox_delivery::retry_dead(self.db(), id, self.clock().now()).await? {
            tracing::info!(%id, "dead letter queued again");
            Ok(())
        } else {
            Err(EngineError::InvalidInput(format!(
                "outbox item {id} is not a dead letter"
            )))
        }
    }
}
