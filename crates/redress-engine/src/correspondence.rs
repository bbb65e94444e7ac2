//! Correspondence that does not open a case: a message threaded to a known appeal,
//! messages recorded without one (auto-replies, bounces, mail loops), what Redress sent
//! on a case, and a case's messages as its readers see them.

use chrono::{DateTime, Utc};
use redress_core::{transition, Actor, AppealState, Channel, Command};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::commands::record;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::filing::{store_message, Filing, IncomingAppeal};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::messages;
use crate::settings::EngineSettings;
use crate::transact::Retry;

pub use crate::repo::messages::{Direction, Message};

/// A message Redress sent on a case, to put on its record.
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub appeal_id: Uuid,
    pub channel: Channel,
    pub channel_message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub sender: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    /// What was sent, e.g. the notice's name.
    pub classification: String,
    pub metadata: serde_json::Value,
}

/// What recording a message without a case did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(Uuid),
    /// The same channel message was received before; nothing was written.
    Duplicate,
}

/// Adds `incoming` to the appeal `open`: the message, a `message_received` event, and, when
/// the appeal was waiting for the appellant, the `user_replied` event that resumes it.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    mut open: StoredAppeal,
    incoming: &IncomingAppeal,
    now: DateTime<Utc>,
) -> Result<StoredAppeal, EngineError> {
    let message_id = store_message(conn, incoming, open.id, now).await?;
    let intake = Actor::system("intake");
    let mut events = transition::decide(
        &open.appeal,
        &Command::MessageReceived { message_id },
        &intake,
        now,
    )?;
    if open.appeal.state == AppealState::AwaitingUser {
        let mut after = open.appeal.clone();
        for event in &events {
            after.apply(event);
        }
        events.extend(transition::decide(
            &after,
            &Command::UserReplied,
            &intake,
            now,
        )?);
    }
    record(conn, settings, &mut open, &events, now).await?;
    Ok(open)
}

/// Adds `incoming` to the appeal `appeal_id` (a reply threaded by its headers or its
/// reference), whatever its state. A message received before changes nothing.
pub async fn append_to_appeal<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    appeal_id: Uuid,
    incoming: &IncomingAppeal,
    now: DateTime<Utc>,
) -> Result<Filing, EngineError> {
    let incoming = &incoming.clone().into_storable()?;
    if let Some(existing) = find_duplicate(conn, incoming).await? {
        return Ok(Filing::Duplicate {
            appeal_id: existing,
        });
    }
    let open = appeals::find(conn, appeal_id).await?;
    let appended = append(conn, settings, open, incoming, now).await?;
    Ok(Filing::Appended(appended))
}

/// Stores `incoming` without a case, labelled `classification` (`auto_reply`, `bounce`,
/// `loop`, ...), so that what arrived is on record although nobody answers it.
pub async fn record_unfiled<C: ConnectionTrait>(
    conn: &C,
    incoming: &IncomingAppeal,
    classification: &str,
    now: DateTime<Utc>,
) -> Result<Recorded, EngineError> {
    let incoming = &incoming.clone().into_storable()?;
    let classification = crate::text::without_nul(classification);
    if find_duplicate(conn, incoming).await?.is_some() {
        return Ok(Recorded::Duplicate);
    }
    let id = Uuid::now_v7();
    messages::insert(
        conn,
        incoming.message(id, None, classification.into_owned(), now),
    )
    .await?;
    Ok(Recorded::New(id))
}

/// `Some(appeal id or None)` when this channel message is already stored.
async fn find_duplicate<C: ConnectionTrait>(
    conn: &C,
    incoming: &IncomingAppeal,
) -> Result<Option<Option<Uuid>>, EngineError> {
    let Some(channel_id) = &incoming.channel_message_id else {
        return Ok(None);
    };
    Ok(
        messages::find_by_channel_id(conn, incoming.channel, channel_id)
            .await?
            .map(|message| message.appeal_id),
    )
}

impl Engine {
    /// Threads `incoming` into the appeal `appeal_id`. A concurrent change of the same
    /// appeal, or a concurrent delivery of the same message, is retried.
    pub async fn append_to_appeal(
        &self,
        appeal_id: Uuid,
        incoming: IncomingAppeal,
    ) -> Result<Filing, EngineError> {
        self.transact(Retry::LostRacesAndConflicts, async |txn| {
            append_to_appeal(
                txn,
                self.settings(),
                appeal_id,
                &incoming,
                self.clock().now(),
            )
            .await
        })
        .await
    }

    /// Records `incoming` without opening a case.
    pub async fn record_unfiled(
        &self,
        incoming: IncomingAppeal,
        classification: &str,
    ) -> Result<Recorded, EngineError> {
        self.transact(Retry::LostRacesAndConflicts, async |txn| {
            record_unfiled(txn, &incoming, classification, self.clock().now()).await
        })
        .await
    }

    /// A case's messages, in and out, oldest first.
    pub async fn messages(&self, appeal_id: Uuid) -> Result<Vec<Message>, EngineError> {
        messages::for_appeal(self.db(), appeal_id)
            .await?
            .into_iter()
            .map(Message::try_from)
            .collect()
    }

    /// Puts a message that was sent on its case's record, stamped now.
    pub async fn record_sent(&self, sent: SentMessage) -> Result<Uuid, EngineError> {
        let id = Uuid::now_v7();
        messages::insert(
            self.db(),
            Message {
                id,
                appeal_id: Some(sent.appeal_id),
                direction: Direction::Outbound,
                channel: sent.channel,
                channel_message_id: sent.channel_message_id,
                in_reply_to: sent.in_reply_to,
                sender: sent.sender,
                recipient: Some(sent.recipient),
                subject: sent.subject,
                body: sent.body,
                classification: sent.classification,
                metadata: sent.metadata,
                received_at: self.clock().now(),
            },
        )
        .await?;
        Ok(id)
    }
}
