//! The one path every email takes, from SMTP or the webhook: parse, classify, find the
//! sender's identity and the case, then one engine call. The caller answers its sender
//! only after this returns `Ok`, which is after the commit.

use std::sync::Arc;

use redress_core::{Actor, Channel};
use redress_engine::routing::facts::LANGUAGE_KEY;
use redress_engine::{Engine, EngineError, Filing, IncomingAppeal, Recorded};
use serde_json::json;
use uuid::Uuid;

use super::auth_results::{self, Identity};
use super::classify::{classify, Classification};
use super::mime::{self, without_nul, MimeError, ParsedEmail, SenderSource};
use super::settings::EmailIntakeSettings;
use super::threading::{self, Thread};

/// What the transport knew besides the message itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `MAIL FROM`; `Some("")` for the null sender of bounces, `None` when unknown (webhook).
    pub mail_from: Option<String>,
    pub rcpt_to: Vec<String>,
}

/// What became of a message; every variant means it is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Filed { appeal_id: Uuid, reference: String },
    Threaded { appeal_id: Uuid, reference: String },
    Duplicate { appeal_id: Option<Uuid> },
    Recorded { classification: Classification },
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The message can never be accepted as it is.
    #[error("malformed message: {0}")]
    Malformed(#[from] MimeError),
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Nothing was stored; the sender should try again later.
    #[error("temporarily unable to store the message: {0}")]
    Unavailable(EngineError),
    /// The engine refused the message; nothing was stored.
    #[error("message refused: {0}")]
    Refused(EngineError),
}

impl From<EngineError> for IntakeError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::Database(_) | EngineError::Conflict { .. } => {
                IntakeError::Unavailable(err)
            }
            other => IntakeError::Refused(other),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EmailIntake {
    engine: Engine,
    settings: Arc<EmailIntakeSettings>,
}

impl EmailIntake {
    pub fn new(engine: Engine, settings: EmailIntakeSettings) -> Self {
        Self {
            engine,
            settings: Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &EmailIntakeSettings {
        &self.settings
    }

    #[tracing::instrument(skip_all, fields(bytes = raw.len()))]
    pub async fn receive(&self, raw: &[u8], envelope: &Envelope) -> Result<Delivered, IntakeError> {
        let limit = self.settings.max_message_bytes;
        if raw.len() > limit {
            return Err(IntakeError::TooLarge {
                size: raw.len(),
                limit,
            });
        }
        let email = mime::parse_with_envelope(
            raw,
            self.settings.max_attachments,
            envelope.mail_from.as_deref(),
        )?;
        let classification = classify(
            &email,
            envelope.mail_from.as_deref(),
            &self.settings.own_addresses,
            &self.settings.signer,
        );
        if classification != Classification::Appeal {
            let incoming = Self::incoming(
                &email,
                envelope,
                &Identity::Unverified,
                None,
                None,
                classification,
            );
            let recorded = self
                .engine
                .record_unfiled(incoming, classification.as_str())
                .await?;
            tracing::info!(classification = classification.as_str(), message_id = %email.message_id, "recorded, not answered");
            return Ok(match recorded {
                Recorded::New(_) => Delivered::Recorded { classification },
                Recorded::Duplicate => Delivered::Duplicate { appeal_id: None },
            });
        }
        // Authentication-Results judge the From header's address; an address found anywhere
        // else was never checked by anyone.
        let identity = if email.from_source == SenderSource::Header {
            auth_results::identity(
                email.header_values("Authentication-Results"),
                &self.settings.trusted_authserv_ids,
                email.from_domain(),
            )
        } else {
            Identity::Unverified
        };
        let account = self.engine.account_by_email(&email.from).await?;
        let thread = threading::thread(&self.engine, &email, &self.settings.signer).await?;
        let account_id = account.map(|a| a.id);
        let incoming = Self::incoming(
            &email,
            envelope,
            &identity,
            account_id,
            Some(&thread),
            classification,
        );
        let actor = Actor::appellant(email.from.clone());
        let filing = match thread.appeal_id() {
            Some(appeal_id) => self.engine.append_to_appeal(appeal_id, incoming).await?,
            None => self.engine.file(&actor, incoming).await?,
        };
        Ok(match filing {
            Filing::Created(appeal) => Delivered::Filed {
                appeal_id: appeal.id,
                reference: appeal.reference.to_string(),
            },
            Filing::Appended(appeal) => Delivered::Threaded {
                appeal_id: appeal.id,
                reference: appeal.reference.to_string(),
            },
            Filing::Duplicate { appeal_id } => Delivered::Duplicate { appeal_id },
            Filing::Refused { until } => {
                return Err(IntakeError::Refused(EngineError::InvalidInput(
                    redress_engine::transparency::throttle::refusal_text(until),
                )));
            }
        })
    }

    /// The engine's view of the message. The account is linked only when a trusted server
    /// vouched for the sender; otherwise the match is kept as a hint for triage.
    fn incoming(
        email: &ParsedEmail,
        envelope: &Envelope,
        identity: &Identity,
        matched_account: Option<String>,
        thread: Option<&Thread>,
        classification: Classification,
    ) -> IncomingAppeal {
        let verified = identity.is_verified();
        let (account_id, claimed_account) = if verified {
            (matched_account, None)
        } else {
            (None, matched_account)
        };
        IncomingAppeal {
            channel: Channel::Email,
            channel_message_id: Some(email.message_id.clone()),
            sender: email.from.clone(),
            contact: None,
            account_id,
            enforcement_id: None,
            identity_verified: verified,
            subject: email.subject.clone(),
            body: email.text.clone(),
            in_reply_to: email.in_reply_to.first().cloned(),
            metadata: json!({
                "classification": classification.as_str(),
                (LANGUAGE_KEY): email.content_language(),
                "from_name": email.from_name,
                "from_source": email.from_source,
                "envelope_from": envelope.mail_from.as_deref().map(without_nul),
                "recipients": envelope.rcpt_to.iter().map(|to| without_nul(to)).collect::<Vec<_>>(),
                "references": email.references,
                "has_message_id": email.has_message_id,
                "identity": identity,
                "claimed_account": claimed_account,
                "thread": thread,
                "attachments": email.attachments,
                "attachments_omitted": email.attachments_omitted,
            }),
        }
    }
}
