//! Filing an appeal from any channel, idempotently.

use chrono::{DateTime, Utc};
use redress_core::{
    transition, Actor, Appeal, AppealReference, Channel, Command, Event, FileAppeal, Priority,
};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands::record_new;
use crate::correspondence;
use crate::error::EngineError;
use crate::hooks::{FiledCase, InTransaction, ProposedCase, RecordedCommand};
use crate::language::{self, AppellantLanguage, LANGUAGE_KEY, LANGUAGE_SOURCE_KEY};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::messages::{self, Direction, Message};
use crate::repo::registry;
use crate::text::WithoutNul;

/// Longest sender or contact a message may have, in bytes: beyond any platform's ids and
/// any deliverable address (RFC 5321 allows 256), and well inside what PostgreSQL can index.
pub const MAX_CONTACT_BYTES: usize = 512;

/// Longest channel message id stored as sent; a longer one is stored as its SHA-256
/// (`sha256:<hex>`), which still recognises a second delivery and fits the unique index.
pub const MAX_CHANNEL_MESSAGE_ID_BYTES: usize = 512;

/// What a channel hands over: one message that may open a case.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingAppeal {
    pub channel: Channel,
    /// The channel's own id (Message-ID, DM event id): the same one twice files once.
    pub channel_message_id: Option<String>,
    pub sender: String,
    /// Where answers go (address or handle); usually the sender.
    pub contact: Option<String>,
    pub account_id: Option<String>,
    pub enforcement_id: Option<Uuid>,
    pub identity_verified: bool,
    pub subject: Option<String>,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub metadata: serde_json::Value,
}

impl IncomingAppeal {
    /// This message as received, to put on record.
    pub(crate) fn message(
        &self,
        id: Uuid,
        appeal_id: Option<Uuid>,
        classification: String,
        received_at: DateTime<Utc>,
    ) -> Message {
        Message {
            id,
            appeal_id,
            direction: Direction::Inbound,
            channel: self.channel,
            channel_message_id: self.channel_message_id.clone(),
            in_reply_to: self.in_reply_to.clone(),
            sender: self.sender.clone(),
            recipient: None,
            subject: self.subject.clone(),
            body: self.body.clone(),
            classification,
            metadata: self.metadata.clone(),
            received_at,
        }
    }

    /// The message as every backend can store it: NULs replaced (`text`), an over-long
    /// channel message id digested. A sender or contact too long to answer or index is
    /// refused, the same on SQLite and PostgreSQL.
    pub fn into_storable(self) -> Result<Self, EngineError> {
        let IncomingAppeal {
            channel,
            channel_message_id,
            sender,
            contact,
            account_id,
            enforcement_id,
            identity_verified,
            subject,
            body,
            in_reply_to,
            metadata,
        } = self;
        for (what, value) in [("sender", Some(&sender)), ("contact", contact.as_ref())] {
            if value.is_some_and(|v| v.len() > MAX_CONTACT_BYTES) {
                return Err(EngineError::InvalidInput(format!(
                    "the {what} is longer than {MAX_CONTACT_BYTES} bytes"
                )));
            }
        }
        Ok(IncomingAppeal {
            channel,
            channel_message_id: channel_message_id
                .without_nul()
                .map(bounded_channel_message_id),
            sender: sender.without_nul(),
            contact: contact.without_nul(),
            account_id: account_id.without_nul(),
            enforcement_id,
            identity_verified,
            subject: subject.without_nul(),
            body: body.without_nul(),
            in_reply_to: in_reply_to.without_nul(),
            metadata: metadata.without_nul(),
        })
    }
}

fn bounded_channel_message_id(id: String) -> String {
    if id.len() <= MAX_CHANNEL_MESSAGE_ID_BYTES {
        return id;
    }
    format!("sha256:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

/// What filing did.
#[derive(Debug, Clone, PartialEq)]
pub enum Filing {
    /// A new case was opened (and acknowledged through the outbox).
    Created(StoredAppeal),
    /// The account already had an open case about this enforcement: the message joined it.
    Appended(StoredAppeal),
    /// This exact message was received before; nothing new was written.
    Duplicate { appeal_id: Option<Uuid> },
    /// A filing gate refused a new case until `until` (the account's appeals are
    /// throttled): the message is on record without a case and the sender is told why. Only
    /// channels that cannot answer a refusal themselves (DMs) get this; the others get
    /// `EngineError::Refused`.
    Refused { until: DateTime<Utc> },
}

impl Filing {
    pub fn appeal_id(&self) -> Option<Uuid> {
        match self {
            Filing::Created(a) | Filing::Appended(a) => Some(a.id),
            Filing::Duplicate { appeal_id } => *appeal_id,
            Filing::Refused { .. } => None,
        }
    }
}

/// Files `incoming` in `cx`'s transaction; the caller commits. A new case passes the filing
/// gates before anything is written, and the after-filing hooks once it is recorded.
/// `reference_seed` supplies the randomness of a new reference.
#[tracing::instrument(skip_all, fields(channel = %incoming.channel))]
pub async fn file_appeal(
    cx: &InTransaction<'_>,
    actor: &Actor,
    incoming: IncomingAppeal,
    reference_seed: u64,
) -> Result<Filing, EngineError> {
    let (conn, settings, now) = (cx.txn, cx.settings, cx.now);
    let mut incoming = incoming.into_storable()?;
    let actor = &actor.clone().without_nul();
    if let Some(channel_id) = &incoming.channel_message_id {
        if let Some(existing) =
            messages::find_by_channel_id(conn, incoming.channel, channel_id).await?
        {
            return Ok(Filing::Duplicate {
                appeal_id: existing.appeal_id,
            });
        }
    }

    let (account_id, enforcement) = resolve_subject(conn, &incoming).await?;
    let four_eyes = needs_four_eyes(settings, enforcement.as_ref());
    let enforcement_id = enforcement.as_ref().map(|e| e.id);

    if let (Some(account), Some(enforcement)) = (&account_id, enforcement_id) {
        if let Some(open) = appeals::find_open(conn, account, enforcement).await? {
            let appended = correspondence::append(conn, settings, open, &incoming, now).await?;
            return Ok(Filing::Appended(appended));
        }
    }

    let language = decide_language(conn, account_id.as_deref(), &incoming).await?;
    if let Some(decided) = &language {
        record_language(&mut incoming.metadata, decided);
    }

    let proposed = ProposedCase {
        incoming: &incoming,
        account_id: account_id.as_deref(),
        enforcement: enforcement.as_ref(),
    };
    for gate in cx.hooks.filing_gates() {
        if let Some(refusal) = gate.check(cx, &proposed).await? {
            return Err(EngineError::Refused(refusal));
        }
    }

    let filed = transition::file(
        FileAppeal {
            channel: incoming.channel,
            account_id: account_id.clone(),
            enforcement_id,
            identity_verified: incoming.identity_verified,
            four_eyes,
            priority: Priority::Normal,
            queue: settings.default_queue.clone(),
            language: language.map(|decided| decided.language),
        },
        actor,
        now,
    )?;
    let appeal = Appeal::from_filed(&filed)
        .ok_or_else(|| EngineError::InvalidInput("filing produced no Filed event".into()))?;
    let stored = StoredAppeal {
        id: Uuid::now_v7(),
        reference: AppealReference::from_seed(reference_seed),
        contact: incoming
            .contact
            .clone()
            .or_else(|| Some(incoming.sender.clone())),
        appeal,
    };
    let (stored, events, routed) = route(cx, &proposed, stored, filed).await?;
    let message = incoming.message(Uuid::now_v7(), Some(stored.id), "appeal".to_owned(), now);
    record_new(cx, &stored, &events, message).await?;
    if let Some((command, actor)) = &routed {
        let recorded = RecordedCommand {
            appeal: &stored,
            events: &events[1..],
            command,
            actor,
        };
        for observer in cx.hooks.decision_observers() {
            observer.observe(cx, &recorded).await?;
        }
    }
    let mut case = FiledCase::new(stored, enforcement.as_ref(), &incoming, actor);
    for hook in cx.hooks.after_filing() {
        hook.after_filing(cx, &mut case).await?;
    }
    Ok(Filing::Created(case.into_appeal()))
}

/// Who routes a case: Redress itself, by a rule.
pub const ROUTING_ACTOR: &str = "routing";

/// Asks the case routers, in order, whether the new case is triaged at once; the first
/// that answers decides. Returns the case as it will be written, its events from `filed`
/// on, and the routing command with its actor when one applied.
async fn route(
    cx: &InTransaction<'_>,
    proposed: &ProposedCase<'_>,
    mut stored: StoredAppeal,
    filed: Event,
) -> Result<(StoredAppeal, Vec<Event>, Option<(Command, Actor)>), EngineError> {
    let mut events = vec![filed];
    for router in cx.hooks.case_routers() {
        let Some(command) = router.route(cx, proposed).await? else {
            continue;
        };
        let actor = Actor::system(ROUTING_ACTOR);
        let routed = transition::decide(&stored.appeal, &command, &actor, cx.now)?;
        for event in &routed {
            stored.appeal.apply(event);
        }
        events.extend(routed);
        return Ok((stored, events, Some((command, actor))));
    }
    Ok((stored, events, None))
}

/// The new case's language: the account's locale, the channel's declaration, the text.
async fn decide_language<C: ConnectionTrait>(
    conn: &C,
    account_id: Option<&str>,
    incoming: &IncomingAppeal,
) -> Result<Option<AppellantLanguage>, EngineError> {
    let locale = match account_id {
        Some(account) => registry::find_account(conn, account)
            .await?
            .and_then(|row| row.locale),
        None => None,
    };
    let declared = incoming
        .metadata
        .get(LANGUAGE_KEY)
        .and_then(serde_json::Value::as_str);
    let text = match &incoming.subject {
        Some(subject) => format!("{subject}\n{}", incoming.body),
        None => incoming.body.clone(),
    };
    Ok(language::decide(locale.as_deref(), declared, &text))
}

/// Puts the decided language where routing rules and the dry run read it: the opening
/// message's metadata, with where it came from.
fn record_language(metadata: &mut serde_json::Value, decided: &AppellantLanguage) {
    if metadata.is_null() {
        *metadata = serde_json::json!({});
    }
    if let Some(fields) = metadata.as_object_mut() {
        fields.insert(LANGUAGE_KEY.to_owned(), decided.language.clone().into());
        fields.insert(
            LANGUAGE_SOURCE_KEY.to_owned(),
            decided.source.as_str().into(),
        );
    }
}

/// Links the appeal to an account and an enforcement where the channel could tell.
async fn resolve_subject<C: ConnectionTrait>(
    conn: &C,
    incoming: &IncomingAppeal,
) -> Result<(Option<String>, Option<crate::entity::enforcement::Model>), EngineError> {
    if let Some(enforcement_id) = incoming.enforcement_id {
        let enforcement = registry::find_enforcement(conn, enforcement_id)
            .await?
            .ok_or_else(|| {
                EngineError::InvalidInput(format!("unknown enforcement {enforcement_id}"))
            })?;
        if let Some(account) = &incoming.account_id {
            if *account != enforcement.account_id {
                return Err(EngineError::InvalidInput(format!(
                    "enforcement {enforcement_id} is not against account {account}"
                )));
            }
        }
        return Ok((Some(enforcement.account_id.clone()), Some(enforcement)));
    }
    let Some(account_id) = &incoming.account_id else {
        return Ok((None, None));
    };
    if registry::find_account(conn, account_id).await?.is_none() {
        return Err(EngineError::InvalidInput(format!(
            "unknown account {account_id}"
        )));
    }
    let enforcement = enforcement_for_account(conn, account_id).await?;
    Ok((Some(account_id.clone()), enforcement))
}

/// The enforcement a case about `account_id` concerns when the appellant names none: the
/// account's latest. A case linked to its account later (a confirmed handle, triage) gets
/// the same one.
pub(crate) async fn enforcement_for_account<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Option<crate::entity::enforcement::Model>, EngineError> {
    registry::latest_enforcement(conn, account_id).await
}

/// Whether a case about `enforcement` needs four-eyes review: its policy or kind is
/// configured so.
pub(crate) fn needs_four_eyes(
    settings: &crate::settings::EngineSettings,
    enforcement: Option<&crate::entity::enforcement::Model>,
) -> bool {
    enforcement.is_some_and(|e| settings.needs_four_eyes(&e.policy, &e.kind))
}

pub(crate) async fn store_message<C: ConnectionTrait>(
    conn: &C,
    incoming: &IncomingAppeal,
    appeal_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid, EngineError> {
    let id = Uuid::now_v7();
    messages::insert(
        conn,
        incoming.message(id, Some(appeal_id), "appeal".to_owned(), now),
    )
    .await?;
    Ok(id)
}
