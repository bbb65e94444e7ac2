//! Correspondence in and out.

use chrono::{DateTime, Utc};
use redress_core::Channel;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QueryTrait, Statement,
};
use uuid::Uuid;

pub use crate::entity::message::Direction;

use crate::entity::message::{self, Entity as Messages};
use crate::error::EngineError;

/// A message on record: received from, or sent to, an appellant. What is written and
/// what is read back are the same record.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: Uuid,
    /// The case it belongs to; none for mail recorded without one.
    pub appeal_id: Option<Uuid>,
    pub direction: Direction,
    pub channel: Channel,
    /// The channel's own id of the message (a Message-ID, a DM id), for threading and
    /// for recognising a second delivery.
    pub channel_message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Personal data from here to `body`.
    pub sender: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// `appeal` for correspondence on a case; what else an intake channel recorded
    /// (`auto_reply`, `bounce`, `loop`, ...) or, for what was sent, the notice.
    pub classification: String,
    pub metadata: serde_json::Value,
    pub received_at: DateTime<Utc>,
}

impl TryFrom<message::Model> for Message {
    type Error = EngineError;

    fn try_from(row: message::Model) -> Result<Self, Self::Error> {
        let channel = row
            .channel
            .parse()
            .map_err(|err| EngineError::corrupt("message", row.id, err))?;
        Ok(Message {
            id: row.id,
            appeal_id: row.appeal_id,
            direction: row.direction,
            channel,
            channel_message_id: row.channel_message_id,
            in_reply_to: row.in_reply_to,
            sender: row.sender,
            recipient: row.recipient,
            subject: row.subject,
            body: row.body,
            classification: row.classification,
            metadata: row.metadata,
            received_at: row.received_at,
        })
    }
}

pub async fn find_by_channel_id<C: ConnectionTrait>(
    conn: &C,
    channel: Channel,
    channel_message_id: &str,
) -> Result<Option<message::Model>, EngineError> {
    Ok(Messages::find()
        .filter(message::Column::Channel.eq(channel.as_str()))
        .filter(message::Column::ChannelMessageId.eq(channel_message_id))
        .one(conn)
        .await?)
}

/// Stores a message. A second message with the same channel id fails with a unique
/// violation, which the caller treats as "already received".
pub async fn insert<C: ConnectionTrait>(conn: &C, msg: Message) -> Result<(), EngineError> {
    conn.execute_raw(insert_statement(conn.get_database_backend(), msg))
        .await?;
    Ok(())
}

/// The insert [`insert`] runs.
pub fn insert_statement(backend: DbBackend, msg: Message) -> Statement {
    let row = message::ActiveModel {
        id: Set(msg.id),
        appeal_id: Set(msg.appeal_id),
        direction: Set(msg.direction),
        channel: Set(msg.channel.as_str().to_owned()),
        channel_message_id: Set(msg.channel_message_id),
        in_reply_to: Set(msg.in_reply_to),
        sender: Set(msg.sender),
        recipient: Set(msg.recipient),
        subject: Set(msg.subject),
        body: Set(msg.body),
        classification: Set(msg.classification),
        metadata: Set(msg.metadata),
        received_at: Set(msg.received_at),
    };
    Messages::insert(row).build(backend)
}

pub async fn for_appeal<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
) -> Result<Vec<message::Model>, EngineError> {
    Ok(Messages::find()
        .filter(message::Column::AppealId.eq(appeal_id))
        .order_by_asc(message::Column::ReceivedAt)
        .all(conn)
        .await?)
}
