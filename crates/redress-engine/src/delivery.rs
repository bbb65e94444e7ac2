//! The port through which outbox items leave Redress. Channels out (mail, DMs, the
//! platform's account service) implement [`Deliverer`], read each item's payload as the type
//! of its topic (`crate::outbox`, [`Delivery::read`]) and register by that type; the outbox
//! dispatcher calls the one registered for an item's topic and records the outcome.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use redress_core::Channel;
use uuid::Uuid;

use crate::outbox::Topic;

/// Topics written by the core's effects (see `redress_core::Effect::topic`).
pub mod topics {
    use crate::outbox::{AppellantNotice, QueueAlert, RequestRestoration, Topic};

    pub const NOTIFY_APPELLANT: &str = AppellantNotice::NAME;
    pub const ALERT_QUEUE: &str = QueueAlert::NAME;
    pub const REQUEST_RESTORATION: &str = RequestRestoration::NAME;
}

/// One outbox item of a known topic, its payload read.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<T> {
    pub id: Uuid,
    pub appeal_id: Option<Uuid>,
    /// Stable across retries: receivers use it to recognise a repeated delivery.
    pub idempotency_key: String,
    /// Attempts made before this one.
    pub attempts: i32,
    pub payload: T,
}

impl<T: Topic> Delivery<T> {
    /// Reads `message`'s payload as `T`; a payload that is not one can never be delivered.
    pub fn read(message: &OutboxMessage) -> Result<Self, DeliveryError> {
        let payload = serde_json::from_value(message.payload.clone()).map_err(|err| {
            DeliveryError::Permanent(format!("unreadable {} item: {err}", T::NAME))
        })?;
        Ok(Self {
            id: message.id,
            appeal_id: message.appeal_id,
            idempotency_key: message.idempotency_key.clone(),
            attempts: message.attempts,
            payload,
        })
    }
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

impl From<crate::entity::outbox::Model> for OutboxMessage {
    fn from(row: crate::entity::outbox::Model) -> Self {
        Self {
            id: row.id,
            topic: row.topic,
            appeal_id: row.appeal_id,
            idempotency_key: row.idempotency_key,
            payload: row.payload,
            attempts: row.attempts,
        }
    }
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

/// Which deliverer takes an outbox item. Appellant notices go out on the channel the
/// appeal came in on (mail, X, Meta), so a topic may have one deliverer per channel
/// plus a fallback for the rest.
#[derive(Debug, Default, Clone)]
pub struct DelivererRegistry {
    by_topic: HashMap<String, Arc<dyn Deliverer>>,
    by_topic_and_channel: HashMap<(String, Channel), Arc<dyn Deliverer>>,
}

impl DelivererRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `deliverer` for every item of `T`'s topic that no channel-specific one
    /// takes; it reads their payloads as `T` ([`Delivery::read`]).
    pub fn register_topic<T: Topic>(&mut self, deliverer: Arc<dyn Deliverer>) {
        self.register(T::NAME, deliverer);
    }

    /// Registers `deliverer` for the items of `T`'s topic whose payload names `channel`.
    pub fn register_topic_for_channel<T: Topic>(
        &mut self,
        channel: Channel,
        deliverer: Arc<dyn Deliverer>,
    ) {
        self.register_for_channel(T::NAME, channel, deliverer);
    }

    /// Registers the deliverer for every item of `topic` that no channel-specific one takes.
    pub fn register(&mut self, topic: &str, deliverer: Arc<dyn Deliverer>) {
        self.by_topic.insert(topic.to_owned(), deliverer);
    }

    /// Registers the deliverer for items of `topic` whose payload names `channel`.
    pub fn register_for_channel(
        &mut self,
        topic: &str,
        channel: Channel,
        deliverer: Arc<dyn Deliverer>,
    ) {
        self.by_topic_and_channel
            .insert((topic.to_owned(), channel), deliverer);
    }

    /// The deliverer for `message`, looked up by topic and the payload's `channel` field.
    pub fn deliverer_for(&self, message: &OutboxMessage) -> Option<Arc<dyn Deliverer>> {
        let channel = message
            .payload
            .get("channel")
            .and_then(serde_json::Value::as_str)
            .and_then(|name| name.parse::<Channel>().ok());
        channel
            .and_then(|channel| {
                self.by_topic_and_channel
                    .get(&(message.topic.clone(), channel))
                    .cloned()
            })
            .or_else(|| self.by_topic.get(&message.topic).cloned())
    }

    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.by_topic
            .keys()
            .chain(self.by_topic_and_channel.keys().map(|(topic, _)| topic))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Named(&'static str);

    #[async_trait::async_trait]
    impl Deliverer for Named {
        async fn deliver(&self, _message: &OutboxMessage) -> Result<(), DeliveryError> {
            Err(DeliveryError::Permanent(self.0.to_owned()))
        }
    }

    fn message(topic: &str, channel: &str) -> OutboxMessage {
        OutboxMessage {
            id: Uuid::nil(),
            topic: topic.to_owned(),
            appeal_id: None,
            idempotency_key: "k".to_owned(),
            payload: serde_json::json!({ "channel": channel }),
            attempts: 0,
        }
    }

    async fn name_of(registry: &DelivererRegistry, message: &OutboxMessage) -> Option<String> {
        match registry.deliverer_for(message)?.deliver(message).await {
            Err(DeliveryError::Permanent(name)) => Some(name),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn channel_specific_deliverer_wins_over_the_topic_fallback() {
        let mut registry = DelivererRegistry::new();
        registry.register(topics::NOTIFY_APPELLANT, Arc::new(Named("fallback")));
        registry.register_for_channel(
            topics::NOTIFY_APPELLANT,
            redress_core::Channel::Email,
            Arc::new(Named("mail")),
        );
        let by_mail = message(topics::NOTIFY_APPELLANT, "email");
        let by_api = message(topics::NOTIFY_APPELLANT, "api");
        assert_eq!(name_of(&registry, &by_mail).await.as_deref(), Some("mail"));
        assert_eq!(
            name_of(&registry, &by_api).await.as_deref(),
            Some("fallback")
        );
        assert!(registry
            .deliverer_for(&message(topics::ALERT_QUEUE, "email"))
            .is_none());
    }
}
