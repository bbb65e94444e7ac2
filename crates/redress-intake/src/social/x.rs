//! X Account Activity API payloads: direct message events.

use chrono::{DateTime, Utc};
use redress_core::Channel;
use serde::Deserialize;
use serde_json::{json, Value};

use super::inbound::{loggable, Inbound, ReceivedDm};

/// One Account Activity delivery. Other activity types (tweets, follows, typing and read
/// indicators) arrive in other fields and are ignored. Each event is read on its own, so
/// one event of an unexpected shape is skipped as malformed without losing the others.
#[derive(Debug, Deserialize)]
pub struct Activity {
    pub for_user_id: String,
    #[serde(default)]
    pub direct_message_events: Vec<Value>,
    /// The users named in the events, by id; only looked into, never relied on.
    #[serde(default)]
    pub users: Value,
}

#[derive(Debug, Deserialize)]
pub struct DirectMessageEvent {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    /// Milliseconds since the epoch, as a string.
    pub created_timestamp: String,
    pub message_create: Option<MessageCreate>,
}

#[derive(Debug, Deserialize)]
pub struct MessageCreate {
    pub sender_id: String,
    pub target: Target,
    #[serde(default)]
    pub message_data: MessageData,
}

#[derive(Debug, Deserialize)]
pub struct Target {
    pub recipient_id: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct MessageData {
    #[serde(default)]
    pub text: String,
    pub attachment: Option<Value>,
    pub attachments: Option<Value>,
}

impl Activity {
    /// Each direct message event, classified. Our own account sending (`sender_id` is the
    /// subscribed user) is an echo of a reply Redress sent.
    pub fn into_inbound(self) -> Vec<Inbound> {
        let Activity {
            for_user_id,
            direct_message_events,
            users,
        } = self;
        direct_message_events
            .into_iter()
            .map(
                |event| match serde_json::from_value::<DirectMessageEvent>(event) {
                    Ok(event) => classify(event, &for_user_id, &users),
                    Err(err) => Inbound::Malformed(format!(
                        "a direct message event is unreadable: {}",
                        loggable(&err.to_string())
                    )),
                },
            )
            .collect()
    }
}

fn classify(event: DirectMessageEvent, for_user_id: &str, users: &Value) -> Inbound {
    let Some(create) = event
        .message_create
        .filter(|_| event.kind == "message_create")
    else {
        return Inbound::Ignored;
    };
    if create.sender_id == for_user_id {
        return Inbound::Echo;
    }
    let Some(sent_at) = event
        .created_timestamp
        .parse::<i64>()
        .ok()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
    else {
        return Inbound::Malformed(format!(
            "event {} has an unreadable created_timestamp",
            loggable(&event.id)
        ));
    };
    let attachments = create
        .message_data
        .attachments
        .or(create.message_data.attachment);
    Inbound::Message(ReceivedDm {
        channel: Channel::X,
        event_id: event.id,
        sender_id: create.sender_id.clone(),
        sent_at,
        text: create.message_data.text,
        metadata: json!({
            "platform": "x",
            "recipient_id": create.target.recipient_id,
            "sender": users.get(&create.sender_id),
            "attachments": attachments,
        }),
    })
}
