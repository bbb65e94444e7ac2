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

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub id: Uuid,
    pub appeal_id: Option<Uuid>,
    pub direction: Direction,
    pub channel: Channel,
    pub channel_message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub sender: String,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    /// `appeal` for correspondence on a case; intake channels record other kinds
    /// (auto-reply, bounce, loop) without opening a case.
    pub classification: String,
    pub metadata: serde_json::Value,
    pub received_at: DateTime<Utc>,
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
pub async fn insert<C: ConnectionTrait>(conn: &C, msg: NewMessage) -> Result<(), EngineError> {
    conn.execute_raw(insert_statement(conn.get_database_backend(), msg))
        .await?;
    Ok(())
}

/// The insert [`insert`] runs.
pub fn insert_statement(backend: DbBackend, msg: NewMessage) -> Statement {
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
