//! Meta webhook payloads (Instagram and Messenger): `entry[].messaging[]`.

use chrono::{DateTime, Utc};
use redress_core::Channel;
use serde::Deserialize;
use serde_json::{json, Value};

use super::inbound::{loggable, Inbound, ReceivedDm};

#[derive(Debug, Deserialize)]
pub struct Notification {
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// Each messaging item is read on its own, so one of an unexpected shape is skipped as
/// malformed without losing the others of the delivery.
#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub messaging: Vec<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Messaging {
    pub sender: Party,
    pub recipient: Party,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    /// Absent on deliveries, reads, reactions and postbacks.
    pub message: Option<Message>,
}

#[derive(Debug, Deserialize)]
pub struct Party {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub mid: String,
    #[serde(default)]
    pub text: String,
    pub attachments: Option<serde_json::Value>,
    #[serde(default)]
    pub is_echo: bool,
}

impl Notification {
    /// The channel the notification is about: `instagram` or `page` (Messenger).
    pub fn channel(&self) -> Option<Channel> {
        match self.object.as_str() {
            "instagram" => Some(Channel::Instagram),
            "page" => Some(Channel::Messenger),
            _ => None,
        }
    }

    pub fn into_inbound(self, channel: Channel) -> Vec<Inbound> {
        self.entry
            .into_iter()
            .flat_map(|entry| entry.messaging)
            .map(|messaging| {
                let messaging = match serde_json::from_value::<Messaging>(messaging) {
                    Ok(messaging) => messaging,
                    Err(err) => {
                        return Inbound::Malformed(format!(
                            "a messaging item is unreadable: {}",
                            loggable(&err.to_string())
                        ))
                    }
                };
                let Some(message) = messaging.message else {
                    return Inbound::Ignored;
                };
                if message.is_echo {
                    return Inbound::Echo;
                }
                let Some(sent_at) = DateTime::<Utc>::from_timestamp_millis(messaging.timestamp)
                else {
                    return Inbound::Malformed(format!(
                        "message {} has an unreadable timestamp",
                        loggable(&message.mid)
                    ));
                };
                Inbound::Message(ReceivedDm {
                    channel,
                    event_id: message.mid,
                    sender_id: messaging.sender.id,
                    sent_at,
                    text: message.text,
                    metadata: json!({
                        "platform": channel.as_str(),
                        "recipient_id": messaging.recipient.id,
                        "attachments": message.attachments,
                    }),
                })
            })
            .collect()
    }
}
