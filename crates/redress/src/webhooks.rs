//! Webhooks to the platform (`[webhooks]`): how they are sent, and the deliverers of the
//! two outbox topics they travel as (the fan-out of each platform event to the endpoints,
//! then one signed POST per endpoint). Endpoints themselves are edited over GraphQL.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::outbox::{PlatformEvent, WebhookDelivery};
use redress_engine::webhooks::WebhookFanOut;
use redress_engine::{Engine, SystemClock};
use redress_notify::webhook::{WebhookDeliverer, WebhookSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhooksConfig {
    /// Deadline of one delivery, connection included; longer counts as a failure and is
    /// retried.
    pub timeout_seconds: u64,
    /// Deliver only to https endpoints; deliveries to an http endpoint are dead-lettered.
    pub require_https: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            timeout_seconds: 10,
            require_https: true,
        }
    }
}

impl WebhooksConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout_seconds == 0 || self.timeout_seconds > 300 {
            return Err("webhooks.timeout_seconds must be between 1 and 300".to_owned());
        }
        Ok(())
    }

    pub fn settings(&self) -> WebhookSettings {
        WebhookSettings {
            timeout: Duration::from_secs(self.timeout_seconds),
            require_https: self.require_https,
        }
    }
}

/// Registers the fan-out and the HTTP deliverer.
pub fn register(
    registry: &mut DelivererRegistry,
    engine: &Engine,
    config: &WebhooksConfig,
) -> anyhow::Result<()> {
    registry.register_topic::<PlatformEvent>(Arc::new(WebhookFanOut::new(engine.clone())));
    let deliverer = WebhookDeliverer::new(engine.clone(), config.settings(), Arc::new(SystemClock))
        .context("building the webhook HTTP client")?;
    registry.register_topic::<WebhookDelivery>(Arc::new(deliverer));
    Ok(())
}
