//! Replies by direct message: appellant notices and identity prompts go out on the channel
//! the appeal came in on. The platforms' send APIs have no idempotency keys, so a crash
//! between sending and recording can repeat a DM; the outbox never loses one.

mod meta;
mod outcome;
pub mod text;
mod texts;
mod x;

use std::sync::Arc;

use redress_core::Channel;
use redress_engine::delivery::{Deliverer, DelivererRegistry};
use redress_engine::outbox::{AppellantNotice, IdentityPrompt};

pub use meta::MetaSender;
pub use text::DmNotices;
pub use x::XSender;

/// Registers `sender` for every topic a DM carries (appellant notices, identity prompts) on
/// `channel`.
pub fn register(registry: &mut DelivererRegistry, channel: Channel, sender: Arc<dyn Deliverer>) {
    registry.register_topic_for_channel::<AppellantNotice>(channel, sender.clone());
    registry.register_topic_for_channel::<IdentityPrompt>(channel, sender);
}
