//! Replies by direct message: appellant notices and identity prompts go out on the channel
//! the appeal came in on. The platforms' send APIs have no idempotency keys, so a crash
//! between sending and recording can repeat a DM; the outbox never loses one.

mod meta;
mod outcome;
pub mod text;
mod x;

use std::sync::Arc;

use redress_core::Channel;
use redress_engine::delivery::{topics, Deliverer, DelivererRegistry};
use redress_engine::direct_messages::topics as identity_topics;

pub use meta::MetaSender;
pub use x::XSender;

/// The outbox topics a DM sender takes.
pub const DM_TOPICS: [&str; 2] = [topics::NOTIFY_APPELLANT, identity_topics::IDENTITY_PROMPT];

/// Registers `sender` for every DM topic on `channel`.
pub fn register(registry: &mut DelivererRegistry, channel: Channel, sender: Arc<dyn Deliverer>) {
    for topic in DM_TOPICS {
        registry.register_for_channel(topic, channel, sender.clone());
    }
}
