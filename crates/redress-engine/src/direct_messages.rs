//! Social direct messages: the same queue as every channel, plus what a DM cannot tell by
//! itself, namely who the sender is. A social id becomes an account only through a linked
//! handle, and a handle is linked only by following a one-time link mailed to the
//! account's own address.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Actor, AppealState, Channel, Command};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Statement,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::commands;
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::filing::{self, enforcement_for_account, needs_four_eyes, Filing, IncomingAppeal};
use crate::outbox::{HandleConfirmation, IdentityPrompt};
use crate::repo::appeals::{self as appeal_repo, StoredAppeal};
use crate::repo::handles::{self, NewConfirmation};
use crate::repo::messages;
use crate::repo::outbox::{self, OutboxItem};
use crate::repo::registry;
use crate::transact::Retry;

/// Confirmation mails one appeal may have outstanding. Without a cap, a sender could have
/// Redress mail any account holder again and again by naming their address.
pub const MAX_LIVE_CONFIRMATIONS: u64 = 3;

/// Outbox topics of the identity flow.
pub mod topics {
    use crate::outbox::{HandleConfirmation, IdentityPrompt, Topic};

    /// A DM to the sender about linking their handle; payload `prompt` says which.
    pub const IDENTITY_PROMPT: &str = IdentityPrompt::NAME;
    /// The confirmation link, mailed to the account's address.
    pub const HANDLE_CONFIRMATION: &str = HandleConfirmation::NAME;
}

/// What the sender is told by DM about linking their handle.
pub mod prompts {
    /// Reply with the email address of your account.
    pub const ASK_FOR_EMAIL: &str = "ask_for_email";
    /// If that address belongs to an account, a link was mailed to it.
    pub const CONFIRMATION_SENT: &str = "confirmation_sent";
    /// The handle is now linked to the account.
    pub const IDENTITY_LINKED: &str = "identity_linked";
}

/// How confirmation links are made.
#[derive(Debug, Clone)]
pub struct ConfirmationSettings {
    /// The public URL of the confirmation page; the token is appended as `?token=`.
    pub url: String,
    pub valid_for: TimeDelta,
}

/// Why a confirmation link linked nothing; the page that opened it says so in the
/// person's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    #[error("this confirmation link is not valid")]
    NotValid,
    #[error("this confirmation link was already used")]
    Used,
    #[error("this confirmation link has expired")]
    Expired,
}

/// What receiving one DM did.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectMessageReceipt {
    pub filing: Filing,
    /// Whether the sender's account is known (a linked handle).
    pub identity_verified: bool,
}

/// A followed confirmation link.
#[derive(Debug, Clone, PartialEq)]
pub struct HandleLinked {
    pub channel: Channel,
    pub social_id: String,
    pub account_id: String,
    pub appeal_id: Uuid,
}

impl Engine {
    /// Files a DM: a duplicate of a stored one changes nothing; a sender with an open case on
    /// this channel adds to it; otherwise a case is opened, for the linked account if the
    /// handle is linked, or unverified with a DM asking for the account's email.
    pub async fn receive_direct_message(
        &self,
        incoming: IncomingAppeal,
        confirmation: &ConfirmationSettings,
    ) -> Result<DirectMessageReceipt, EngineError> {
        self.transact(Retry::LostRaces, async |txn| {
            receive(self, txn, incoming.clone(), confirmation).await
        })
        .await
    }

    /// Follows a confirmation link: links the handle and verifies the appeal's identity.
    /// A token works once and only before it expires.
    pub async fn confirm_handle(&self, token: &str) -> Result<HandleLinked, EngineError> {
        self.transact_once(async |txn| confirm(self, txn, token).await)
            .await
    }
}

async fn receive(
    engine: &Engine,
    txn: &DatabaseTransaction,
    mut incoming: IncomingAppeal,
    confirmation: &ConfirmationSettings,
) -> Result<DirectMessageReceipt, EngineError> {
    // Before the sender names a lock or a row: PostgreSQL refuses a NUL in either.
    incoming = incoming.into_storable()?;
    let now = engine.clock().now();
    let settings = engine.settings();
    let channel = incoming.channel;
    let sender = incoming.sender.clone();
    serialise_sender(txn, channel, &sender).await?;
    if let Some(id) = &incoming.channel_message_id {
        if let Some(existing) = messages::find_by_channel_id(txn, channel, id).await? {
            return Ok(DirectMessageReceipt {
                filing: Filing::Duplicate {
                    appeal_id: existing.appeal_id,
                },
                identity_verified: false,
            });
        }
    }
    incoming.contact = Some(sender.clone());
    if let Some(open) = find_open_by_contact(txn, channel, &sender).await? {
        let verified = open.appeal.identity_verified;
        let filing = Filing::Appended(
            crate::correspondence::append(txn, settings, open, &incoming, now).await?,
        );
        if let Filing::Appended(appeal) = &filing {
            if !verified {
                offer_confirmation(txn, appeal, &incoming, confirmation, now).await?;
            }
        }
        return Ok(DirectMessageReceipt {
            filing,
            identity_verified: verified,
        });
    }
    let linked = handles::linked_account(txn, channel, &sender).await?;
    incoming.identity_verified = linked.is_some();
    incoming.account_id = linked;
    let cx = engine.in_transaction(txn, now);
    let filing = match filing::file_appeal(
        &cx,
        &Actor::system("intake"),
        incoming.clone(),
        rand::random(),
    )
    .await
    {
        // A webhook cannot refuse the message: a refusal that ends keeps it on record
        // without a case and answers the sender by DM (the refusal knows how).
        Err(EngineError::Refused(refusal)) => match refusal.until() {
            Some(until) if refusal.answer_unfiled(&cx, &incoming).await? => {
                return Ok(DirectMessageReceipt {
                    filing: Filing::Refused { until },
                    identity_verified: incoming.identity_verified,
                });
            }
            _ => return Err(EngineError::Refused(refusal)),
        },
        other => other?,
    };
    let verified = incoming.identity_verified;
    if let Filing::Created(appeal) = &filing {
        if !verified {
            prompt(txn, appeal, prompts::ASK_FOR_EMAIL, "filed", now).await?;
            offer_confirmation(txn, appeal, &incoming, confirmation, now).await?;
        }
    }
    Ok(DirectMessageReceipt {
        filing,
        identity_verified: verified,
    })
}

/// On PostgreSQL, DMs of one sender are filed one at a time, so two first messages sent
/// together open one case, not two. SQLite runs one writer at a time anyway.
async fn serialise_sender(
    txn: &DatabaseTransaction,
    channel: Channel,
    sender: &str,
) -> Result<(), EngineError> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [format!("{}:{sender}", channel.as_str()).into()],
        ))
        .await?;
    }
    Ok(())
}

/// The sender's open case on this channel, newest first.
pub async fn find_open_by_contact<C: ConnectionTrait>(
    conn: &C,
    channel: Channel,
    contact: &str,
) -> Result<Option<StoredAppeal>, EngineError> {
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    Appeals::find()
        .filter(appeal::Column::Channel.eq(channel.as_str()))
        .filter(appeal::Column::Contact.eq(contact))
        .filter(appeal::Column::State.is_in(open))
        .order_by_desc(appeal::Column::FiledAt)
        .one(conn)
        .await?
        .map(appeal_repo::from_model)
        .transpose()
}

/// When an unverified sender's DM names an email address, mails a one-time link to it if it
/// is an account's address. The DM answer is the same either way, so nobody learns which
/// addresses have accounts.
async fn offer_confirmation(
    txn: &DatabaseTransaction,
    appeal: &StoredAppeal,
    incoming: &IncomingAppeal,
    settings: &ConfirmationSettings,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let Some(email) = email_address_in(&incoming.body) else {
        return Ok(());
    };
    let message_key = incoming.channel_message_id.as_deref().unwrap_or("dm");
    prompt(txn, appeal, prompts::CONFIRMATION_SENT, message_key, now).await?;
    let Some(account) = registry::find_account_by_email(txn, &email).await? else {
        return Ok(());
    };
    if handles::live_confirmations(txn, appeal.id, now).await? >= MAX_LIVE_CONFIRMATIONS {
        tracing::warn!(appeal = %appeal.id, "not mailing another confirmation link: too many outstanding");
        return Ok(());
    }
    let token = hex::encode(rand::random::<[u8; 32]>());
    let token_hash = hash_token(&token);
    handles::insert_confirmation(
        txn,
        NewConfirmation {
            token_hash: token_hash.clone(),
            channel: incoming.channel,
            social_id: incoming.sender.clone(),
            appeal_id: appeal.id,
            account_id: account.id,
            expires_at: now + settings.valid_for,
        },
        now,
    )
    .await?;
    let link = format!("{}?token={token}", settings.url);
    outbox::enqueue(
        txn,
        vec![OutboxItem::of(
            &HandleConfirmation {
                appeal_id: appeal.id,
                reference: appeal.reference.to_string(),
                channel: Channel::Email,
                contact: email.clone(),
                social_channel: incoming.channel,
                subject: format!("Confirm your {} account for appeal {}", incoming.channel.as_str(), appeal.reference),
                body: format!(
                    "Someone asked to link a {} account to your appeal {}.\n\nIf it was you, open this link within {} hours to confirm:\n{link}\n\nIf it was not you, ignore this message.",
                    incoming.channel.as_str(),
                    appeal.reference,
                    settings.valid_for.num_hours(),
                ),
                link,
                language: crate::policies::appellant_language(&appeal.appeal.tags),
                valid_for_hours: Some(settings.valid_for.num_hours()),
            },
            Some(appeal.id),
            format!("{}:confirm:{token_hash}", appeal.id),
        )],
        now,
    )
    .await?;
    Ok(())
}

async fn prompt(
    txn: &DatabaseTransaction,
    appeal: &StoredAppeal,
    kind: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    outbox::enqueue(
        txn,
        vec![OutboxItem::of(
            &IdentityPrompt {
                appeal_id: appeal.id,
                reference: appeal.reference.to_string(),
                channel: appeal.appeal.channel,
                contact: appeal.contact.clone(),
                prompt: kind.to_owned(),
                language: crate::policies::appellant_language(&appeal.appeal.tags),
            },
            Some(appeal.id),
            format!("{}:{kind}:{key}", appeal.id),
        )],
        now,
    )
    .await?;
    Ok(())
}

async fn confirm(
    engine: &Engine,
    txn: &DatabaseTransaction,
    token: &str,
) -> Result<HandleLinked, EngineError> {
    let now = engine.clock().now();
    let settings = engine.settings();
    let token_hash = hash_token(token.trim());
    let pending = handles::find_confirmation(txn, &token_hash)
        .await?
        .ok_or(LinkProblem::NotValid)?;
    if pending.used_at.is_some() {
        return Err(LinkProblem::Used.into());
    }
    if pending.expires_at <= now {
        return Err(LinkProblem::Expired.into());
    }
    if !handles::consume_confirmation(txn, &token_hash, now).await? {
        return Err(LinkProblem::Used.into());
    }
    let channel: Channel = pending
        .channel
        .parse()
        .map_err(|e| EngineError::corrupt("handle_confirmation", &token_hash, e))?;
    handles::link(txn, channel, &pending.social_id, &pending.account_id, now).await?;
    let appeal = appeal_repo::find(txn, pending.appeal_id).await?;
    if appeal.appeal.state.is_open() && !appeal.appeal.identity_verified {
        let enforcement = enforcement_for_account(txn, &pending.account_id).await?;
        // The account may already have an open case about that enforcement (by email, say);
        // the link then names the account only, and triage merges the two.
        let enforcement = match enforcement {
            Some(e)
                if appeal_repo::find_open(txn, &pending.account_id, e.id)
                    .await?
                    .is_none() =>
            {
                Some(e)
            }
            _ => None,
        };
        let four_eyes = needs_four_eyes(settings, enforcement.as_ref());
        let applied = commands::apply_command(
            &engine.in_transaction(txn, now),
            appeal.id,
            None,
            &Command::LinkIdentity {
                account_id: pending.account_id.clone(),
                enforcement_id: enforcement.map(|e| e.id),
                four_eyes,
            },
            &Actor::system("social"),
        )
        .await?;
        // A bulk restore that already reversed the enforcement closes the case as the
        // job's on this link (its notice says so); "we will answer here" would then be
        // wrong, so the prompt follows the case as it stands after the link.
        let linked = appeal_repo::find(txn, applied.appeal.id).await?;
        if linked.appeal.state.is_open() {
            prompt(txn, &linked, prompts::IDENTITY_LINKED, &token_hash, now).await?;
        }
    }
    Ok(HandleLinked {
        channel,
        social_id: pending.social_id,
        account_id: pending.account_id,
        appeal_id: pending.appeal_id,
    })
}

fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The first word of `text` shaped like an email address, lower-cased.
pub fn email_address_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| {
                matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '"' | '\'' | '.'
                )
            })
        })
        .find(|word| {
            let mut parts = word.split('@');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(local), Some(domain), None) => {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                _ => false,
            }
        })
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::email_address_in;

    #[test]
    fn finds_the_address_in_a_sentence() {
        assert_eq!(
            email_address_in("Sure, it's <Ana.B@Example.org>. Thanks!").as_deref(),
            Some("ana.b@example.org")
        );
        assert_eq!(email_address_in("my handle is @ana"), None);
        assert_eq!(email_address_in("a@b@c.org or x@localhost"), None);
    }
}
