//! Which deliverer takes each outbox topic in this deployment. Channels out (mail, social
//! DMs, the platform's account service) register here from their configuration; the
//! dispatcher retries and then dead-letters items of a topic nobody has registered, so a
//! missing registration is visible to an admin rather than silently dropped.

use redress_engine::delivery::DelivererRegistry;

use crate::app::AppState;

/// The registry the outbox dispatcher delivers through.
pub fn registry(_state: &AppState) -> anyhow::Result<DelivererRegistry> {
    let registry = DelivererRegistry::new();
    Ok(registry)
}
