//! What both platforms' payloads become, and how each DM is filed.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Channel;
use redress_engine::{EngineError, Filing, IncomingAppeal};
use serde::Serialize;

use super::SocialState;

/// One entry of a webhook delivery, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A direct message someone sent to us.
    Message(ReceivedDm),
    /// A message we sent, reported back.
    Echo,
    /// Deliveries, reads and other activity that is not a message.
    Ignored,
    /// A message we cannot read; logged and skipped, the rest of the delivery still counts.
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedDm {
    pub channel: Channel,
    pub event_id: String,
    pub sender_id: String,
    pub sent_at: DateTime<Utc>,
    pub text: String,
    pub metadata: serde_json::Value,
}

/// What a webhook delivery did, returned to the platform (and read by tests).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub filed: u32,
    pub appended: u32,
    pub duplicates: u32,
    pub echoes: u32,
    pub ignored: u32,
    pub stale: u32,
    pub malformed: u32,
    /// New appeals of throttled accounts: on record, answered with the reason, no case.
    pub refused: u32,
    /// Messages Redress can never take as they are (a sender id too long to answer, a
    /// value the database refuses); logged, and acknowledged so the platform does not
    /// send them again and again.
    pub rejected: u32,
}

/// Files each message of a delivery in order. A failure that may pass (the database is
/// unreachable, a race was lost) stops here and is returned, so the platform retries the
/// delivery; what was filed before is recognised by its event id then. A message refused
/// for good is counted and skipped: resending it would fail the same way for ever.
pub async fn ingest(state: &SocialState, entries: Vec<Inbound>) -> Result<Summary, EngineError> {
    let mut summary = Summary::default();
    let now = state.engine.clock().now();
    for entry in entries {
        match entry {
            Inbound::Echo => summary.echoes += 1,
            Inbound::Ignored => summary.ignored += 1,
            Inbound::Malformed(reason) => {
                tracing::warn!(%reason, "skipping an unreadable DM event");
                summary.malformed += 1;
            }
            Inbound::Message(dm) if is_stale(dm.sent_at, now, state.settings.max_event_age) => {
                tracing::warn!(channel = %dm.channel, event_id = %loggable(&dm.event_id), sent_at = %dm.sent_at, "refusing a DM event outside the replay window");
                summary.stale += 1;
            }
            Inbound::Message(dm) => {
                let (channel, event_id) = (dm.channel, dm.event_id.clone());
                let receipt = match state
                    .engine
                    .receive_direct_message(incoming(dm), &state.settings.confirmation)
                    .await
                {
                    Ok(receipt) => receipt,
                    Err(err) if err.is_temporary() => return Err(err),
                    Err(err) => {
                        tracing::warn!(%channel, event_id = %loggable(&event_id), error = %err, "rejecting a DM for good");
                        summary.rejected += 1;
                        continue;
                    }
                };
                match receipt.filing {
                    Filing::Created(_) => summary.filed += 1,
                    Filing::Appended(_) => summary.appended += 1,
                    Filing::Duplicate { .. } => summary.duplicates += 1,
                    Filing::Refused { .. } => summary.refused += 1,
                }
            }
        }
    }
    Ok(summary)
}

/// An id from outside as a log line can take it: at most 128 characters, no NULs.
pub(crate) fn loggable(id: &str) -> String {
    let short: String = id.chars().take(128).collect();
    redress_engine::text::without_nul(&short).into_owned()
}

fn is_stale(sent_at: DateTime<Utc>, now: DateTime<Utc>, window: TimeDelta) -> bool {
    (now - sent_at).abs() > window
}

fn incoming(dm: ReceivedDm) -> IncomingAppeal {
    IncomingAppeal {
        channel: dm.channel,
        channel_message_id: Some(dm.event_id),
        sender: dm.sender_id.clone(),
        contact: Some(dm.sender_id),
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: dm.text,
        in_reply_to: None,
        metadata: dm.metadata,
    }
}
