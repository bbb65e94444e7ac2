//! Where the wave's people and the demo's staff receive what Redress sends them during the
//! demo: in memory, so nothing leaves the machine. The confirmation links mailed to
//! account holders are kept for the people who open them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redress_engine::delivery::{
    Deliverer, DelivererRegistry, Delivery, DeliveryError, OutboxMessage,
};
use redress_engine::outbox::{
    AppellantNotice, HandleConfirmation, IdentityPrompt, PlatformEvent, QueueAlert,
    RequestRestoration, Topic,
};
use redress_engine::restoration::{RestorationBackend, RestorationDeliverer};
use redress_engine::transparency::IncidentNotice;
use redress_engine::webhooks::WebhookFanOut;
use redress_engine::Engine;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Mailbox {
    /// The token of the last confirmation link mailed about each appeal.
    links: Mutex<HashMap<Uuid, String>>,
    received: AtomicUsize,
}

impl Mailbox {
    /// The confirmation token mailed about `appeal`, once.
    pub fn take_link(&self, appeal: Uuid) -> Option<String> {
        self.links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&appeal)
    }

    /// Notices, prompts, links and alerts received so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Clone)]
struct Inboxes(Arc<Mailbox>);

#[async_trait::async_trait]
impl Deliverer for Inboxes {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        if message.topic == HandleConfirmation::NAME {
            let item = Delivery::<HandleConfirmation>::read(message)?;
            let token = item
                .payload
                .link
                .split_once("token=")
                .map(|(_, token)| token.to_owned())
                .ok_or_else(|| DeliveryError::Permanent("a link without a token".to_owned()))?;
            self.0
                .links
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(item.payload.appeal_id, token);
        }
        self.0.received.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Every topic the demo raises: what goes to people and staff into `mailbox`,
/// restorations to the embedded account registry, platform events to the webhook fan-out,
/// as `redress serve` would by default.
pub fn registry(engine: &Engine, mailbox: &Arc<Mailbox>) -> DelivererRegistry {
    let inboxes: Arc<dyn Deliverer> = Arc::new(Inboxes(mailbox.clone()));
    let mut registry = DelivererRegistry::new();
    registry.register_topic::<AppellantNotice>(inboxes.clone());
    registry.register_topic::<IdentityPrompt>(inboxes.clone());
    registry.register_topic::<HandleConfirmation>(inboxes.clone());
    registry.register_topic::<QueueAlert>(inboxes.clone());
    registry.register_topic::<IncidentNotice>(inboxes);
    // The demo configures no webhook endpoint: platform events fan out to nobody.
    registry.register_topic::<PlatformEvent>(Arc::new(WebhookFanOut::new(engine.clone())));
    registry.register_topic::<RequestRestoration>(Arc::new(RestorationDeliverer::new(
        engine.clone(),
        RestorationBackend::Embedded,
    )));
    registry
}
