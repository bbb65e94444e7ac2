//! The port through which outbox items leave Redress. Channels out (mail, DMs, the
//! platform's account service) implement [`Deliverer`]; the outbox dispatcher calls the one
//! registered for an item's topic and records the outcome.

use std::fmt::Debug;

use uuid::Uuid;

/// Topics written by the core's effects (see `redress_core::Effect::topic`).
pub mod topics {
    pub const NOTIFY_APPELLANT: &str = "notify_appellant";
    pub const ALERT_QUEUE: &str = "alert_queue";
    pub const REQUEST_RESTORATION: &str = "request_restoration";
}

/// One outbox item handed to a deliverer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub topic: String,
    pub appeal_id: Option<Uuid>,
    /// Stable across retries: receivers use it to recognise a repeated delivery.
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    /// Attempts made before this one.
    pub attempts: i32,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Worth trying again later (timeouts, 5xx, 429, a relay that is down).
    #[error("temporary delivery failure: {0}")]
    Retryable(String),
    /// Will never succeed as is (invalid address, 4xx other than 429); dead-lettered at once.
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

#[async_trait::async_trait]
pub trait Deliverer: Send + Sync + Debug {
    /// Delivers one item. Must be idempotent on `message.idempotency_key`: the outbox
    /// guarantees at-least-once, so the same item can arrive again after a crash.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError>;
}
