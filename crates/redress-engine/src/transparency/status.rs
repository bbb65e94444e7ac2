//! The appellant's status page: a secret token issued at filing opens one appeal. Only the
//! token's SHA-256 is stored, and it is compared in constant time, so neither the database
//! nor response timings give a token away.

use chrono::{DateTime, Utc};
use redress_core::{
    transition, Actor, AppealReference, AppealState, Channel, Command, Decision, EventKind,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Statement};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::commands::record;
use crate::entity::appeal_status_token::{self, Entity as StatusTokens};
use crate::error::EngineError;
use crate::hooks::{NewCase, NewCaseContributor};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::repo::messages::{self, Direction, NewMessage};
use crate::settings::EngineSettings;
use crate::transact::TransactionError;

/// Longest text the status page accepts in one go.
pub const MAX_INFORMATION_LEN: usize = 10_000;

/// A new random token: 32 bytes, hex encoded.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Issues every new case its token: the acknowledgement carries it in clear, and the
/// filing's batch stores its hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct IssueStatusTokens;

impl NewCaseContributor for IssueStatusTokens {
    fn contribute(&self, case: &mut NewCase<'_>) {
        let token = new_token();
        let Some(acknowledgement) = case.acknowledgement_mut() else {
            return;
        };
        acknowledgement.status_token = Some(token.clone());
        let stored = store_token_statement(case.backend(), case.appeal().id, &token, case.now());
        case.write(stored);
    }
}

/// Stores the hash of the appeal's token, in the filing's transaction.
fn store_token_statement(
    backend: DbBackend,
    appeal_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Statement {
    StatusTokens::insert(appeal_status_token::ActiveModel {
        appeal_id: Set(appeal_id),
        token_hash: Set(hex(&digest(token))),
        created_at: Set(now),
    })
    .build(backend)
}

/// Why the status page refused. The appellant sees the same answer whether the reference
/// or the token was wrong, so the page cannot be used to find references.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error("no appeal matches this reference and token")]
    NotFound,
    #[error("{0}")]
    InvalidInput(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl TransactionError for StatusError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            StatusError::Engine(err) => Some(err),
            _ => None,
        }
    }
}

/// The appeal behind `reference` if `token` is its token.
pub async fn open<C: ConnectionTrait>(
    conn: &C,
    reference: &str,
    token: &str,
) -> Result<StoredAppeal, StatusError> {
    let presented = digest(token);
    let Ok(reference) = reference.parse::<AppealReference>() else {
        return Err(StatusError::NotFound);
    };
    let stored = match appeals::find_by_reference(conn, &reference).await {
        Ok(stored) => stored,
        Err(EngineError::ReferenceNotFound(_)) => return Err(StatusError::NotFound),
        Err(err) => return Err(err.into()),
    };
    let Some(row) = StatusTokens::find_by_id(stored.id)
        .one(conn)
        .await
        .map_err(EngineError::from)?
    else {
        return Err(StatusError::NotFound);
    };
    let expected = hex(&presented);
    if bool::from(expected.as_bytes().ct_eq(row.token_hash.as_bytes())) {
        Ok(stored)
    } else {
        Err(StatusError::NotFound)
    }
}

/// What the appellant sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusView {
    pub reference: String,
    pub state: AppealState,
    pub filed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What happens next, or what is asked of the appellant.
    pub expected: String,
    /// The question of an open information request.
    pub information_requested: Option<String>,
    pub decision: Option<Decision>,
    /// Whether the page accepts more information now.
    pub accepts_information: bool,
}

/// Builds the view of an opened appeal.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
) -> Result<StatusView, EngineError> {
    let appeal = &stored.appeal;
    let information_requested = if appeal.state == AppealState::AwaitingUser {
        events::history(conn, stored.id)
            .await?
            .into_iter()
            .rev()
            .find_map(|(_, event)| match event.kind {
                EventKind::InfoRequested { message } => Some(message),
                _ => None,
            })
    } else {
        None
    };
    let expected = match appeal.state {
        AppealState::Filed | AppealState::Triaged => {
            "A reviewer will look at your appeal. You can add information below at any time."
        }
        AppealState::AwaitingUser => {
            "We need information from you to continue: please answer the question below."
        }
        AppealState::Reviewed => "A decision was taken and is being confirmed.",
        AppealState::Restored => "Your account or content was restored. Nothing more is needed.",
        AppealState::Upheld => {
            "The decision was upheld. The statement of reasons says how you can take this further."
        }
        AppealState::Withdrawn => "This appeal is closed.",
    }
    .to_owned();
    Ok(StatusView {
        reference: stored.reference.to_string(),
        state: appeal.state,
        filed_at: appeal.filed_at,
        updated_at: appeal.updated_at,
        expected,
        information_requested,
        decision: appeal
            .decision
            .clone()
            .filter(|_| appeal.state.is_terminal() || appeal.state == AppealState::Reviewed),
        accepts_information: appeal.state.is_open(),
    })
}

/// Files what the appellant added as a message on the case; an answer to an information
/// request resumes the case. The caller owns the transaction.
pub async fn add_information<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &mut StoredAppeal,
    text: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, StatusError> {
    let text = crate::text::without_nul(text);
    let text = text.trim();
    if text.is_empty() {
        return Err(StatusError::InvalidInput(
            "the information must not be empty".to_owned(),
        ));
    }
    if text.len() > MAX_INFORMATION_LEN {
        return Err(StatusError::InvalidInput(format!(
            "the information is longer than {MAX_INFORMATION_LEN} bytes"
        )));
    }
    if !stored.appeal.state.is_open() {
        return Err(StatusError::InvalidInput(format!(
            "this appeal is {} and takes no more information",
            stored.appeal.state
        )));
    }
    let message_id = Uuid::now_v7();
    let sender = stored
        .contact
        .clone()
        .unwrap_or_else(|| stored.reference.to_string());
    messages::insert(
        conn,
        NewMessage {
            id: message_id,
            appeal_id: Some(stored.id),
            direction: Direction::Inbound,
            channel: Channel::Api,
            channel_message_id: None,
            in_reply_to: None,
            sender: sender.clone(),
            recipient: None,
            subject: Some("Added on the status page".to_owned()),
            body: text.to_owned(),
            classification: "appeal".to_owned(),
            metadata: serde_json::json!({ "via": "status_page" }),
            received_at: now,
        },
    )
    .await?;
    let appellant = Actor::appellant(sender);
    let intake = Actor::system("status_page");
    let mut events = transition::decide(
        &stored.appeal,
        &Command::MessageReceived { message_id },
        &appellant,
        now,
    )
    .map_err(EngineError::from)?;
    if stored.appeal.state == AppealState::AwaitingUser {
        let mut after = stored.appeal.clone();
        for event in &events {
            after.apply(event);
        }
        events.extend(
            transition::decide(&after, &Command::UserReplied, &intake, now)
                .map_err(EngineError::from)?,
        );
    }
    record(conn, settings, stored, &events, now).await?;
    Ok(message_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hex() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_sha256() {
        assert_eq!(
            hex(&digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
