//! Which deliverer takes each outbox topic in this deployment. Channels out (mail, social
//! DMs, staff alerts, the platform's account service and webhooks) register here from their configuration; the
//! dispatcher retries and then dead-letters items of a topic nobody has registered, so a
//! missing registration is visible to an admin rather than silently dropped.

use redress_core::Channel;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::outbox::{AppellantNotice, HandleConfirmation};

use crate::app::AppState;

/// The registry the outbox dispatcher delivers through.
pub fn registry(state: &AppState) -> anyhow::Result<DelivererRegistry> {
    let mut registry = DelivererRegistry::new();
    let mail = crate::email::mail_deliverer(state)?;
    registry.register_topic_for_channel::<AppellantNotice>(Channel::Email, mail.clone());
    registry.register_topic_for_channel::<AppellantNotice>(Channel::Api, mail);
    crate::social::register_deliverers(&mut registry, &state.engine, &state.config)?;
    registry.register_topic::<HandleConfirmation>(crate::email::confirmation_deliverer(state)?);
    crate::restoration::register(&mut registry, &state.engine, &state.config.restoration)?;
    crate::alerts::register(&mut registry, state)?;
    crate::webhooks::register(&mut registry, &state.engine, &state.config.webhooks)?;
    Ok(registry)
}
