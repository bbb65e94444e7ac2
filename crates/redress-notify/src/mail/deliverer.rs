//! Appellant notices by mail: rendered from templates, threaded to the appellant's own
//! mail, with a signed Message-ID so that replies find their case.

use std::collections::HashMap;
use std::sync::Arc;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use redress_core::{Channel, EventKind, Notice};
use redress_engine::correspondence::{Direction, SentMessage};
use redress_engine::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use redress_engine::outbox::AppellantNotice;
use redress_engine::{Engine, EngineError, MessageIdSigner};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::statement;
use super::templates::Templates;
use super::transport::MailTransport;
use crate::case_details::{case_details, CaseDetails, NoticeSettings};

pub(super) const AUTO_SUBMITTED: HeaderName = HeaderName::new_from_ascii_str("Auto-Submitted");
const AUTO_RESPONSE_SUPPRESS: HeaderName =
    HeaderName::new_from_ascii_str("X-Auto-Response-Suppress");

#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: Mailbox,
    /// The domain part of outgoing Message-IDs.
    pub message_id_domain: String,
    pub default_language: String,
    /// The status link's base and the redress bodies every notice names.
    pub notices: NoticeSettings,
}

/// Which key signs outgoing Message-IDs.
#[derive(Debug, Clone)]
pub enum SigningKey {
    Configured(MessageIdSigner),
    /// The key in the database (generated on first use), read at the first delivery.
    Stored,
}

/// The signer a [`SigningKey`] names, resolved at the first send (a stored key is read from
/// the database then) and shared by clones of the deliverer that holds it.
#[derive(Debug, Clone)]
pub(crate) struct Signer(Arc<OnceCell<MessageIdSigner>>);

impl Signer {
    pub(crate) fn new(key: SigningKey) -> Self {
        Self(Arc::new(match key {
            SigningKey::Configured(signer) => OnceCell::new_with(Some(signer)),
            SigningKey::Stored => OnceCell::new(),
        }))
    }

    pub(crate) async fn get(&self, engine: &Engine) -> Result<&MessageIdSigner, DeliveryError> {
        self.0
            .get_or_try_init(|| engine.stored_message_signer())
            .await
            .map_err(engine_error)
    }
}

#[derive(Debug, Clone)]
pub struct MailDeliverer {
    engine: Engine,
    templates: Templates,
    transport: MailTransport,
    signer: Signer,
    settings: MailSettings,
}

impl MailDeliverer {
    pub fn new(
        engine: Engine,
        templates: Templates,
        transport: MailTransport,
        key: SigningKey,
        settings: MailSettings,
    ) -> Self {
        Self {
            engine,
            templates,
            transport,
            signer: Signer::new(key),
            settings,
        }
    }

    /// The mail for `item`.
    pub async fn compose(&self, item: &OutboxMessage) -> Result<Composed, DeliveryError> {
        let notice = Delivery::<AppellantNotice>::read(item)?.payload;
        // A bulk restoration also tells people who never appealed; their mail belongs to
        // no case and is signed for the nil appeal, which threads nowhere.
        let appeal_id = item.appeal_id.or(notice.appeal_id);
        let contact = notice
            .contact
            .as_deref()
            .ok_or_else(|| permanent("the appeal has no contact address"))?;
        let to: Mailbox = contact.parse().map_err(|err| {
            permanent(format!("contact {contact:?} is not a mail address: {err}"))
        })?;
        let version = notice.version.unwrap_or(i64::MAX);
        let language = self.templates.language_for(
            notice.notice,
            notice
                .language
                .as_deref()
                .unwrap_or(&self.settings.default_language),
        );

        let mut values =
            HashMap::from([("reference", notice.reference.clone().unwrap_or_default())]);
        match (notice.refused_until, &notice.reason) {
            (Some(until), _) => {
                values.insert(
                    "reasons",
                    crate::dm::text::refused_until_text(until, language),
                );
            }
            (None, Some(reason)) => {
                values.insert("reasons", reason.clone());
            }
            (None, None) => {}
        }
        let kind = notice.notice;
        if let Some(appeal_id) = appeal_id {
            values.extend(self.explanation(appeal_id, version, kind, language).await?);
        }
        let details = case_details(&self.engine, &self.settings.notices, notice.appeal_id).await?;
        if let Some(details) = &details {
            for (name, value) in case_values(details, language) {
                // The decision's own statement wins over the enforcement's.
                values.entry(name).or_insert(value);
            }
        }
        let rendered = self
            .templates
            .render(kind, language, &values)
            .map_err(|err| permanent(err.to_string()))?;
        let message_id = self.signer.get(&self.engine).await?.sign(
            appeal_id.unwrap_or(Uuid::nil()),
            &item.idempotency_key,
            &self.settings.message_id_domain,
        );
        let mut builder = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(message_id.clone()))
            .raw_header(HeaderValue::new(AUTO_RESPONSE_SUPPRESS, "All".to_owned()));
        if let Some(kind) = auto_submitted(kind) {
            builder = builder.raw_header(HeaderValue::new(AUTO_SUBMITTED, kind.to_owned()));
        }
        let thread = match appeal_id {
            Some(appeal_id) => self.appellant_thread(appeal_id).await?,
            None => Vec::new(),
        };
        if let Some(last) = thread.last() {
            builder = builder
                .in_reply_to(last.clone())
                .references(thread.join(" "));
        }
        let in_reply_to = thread.last().cloned();
        // The case's record is read by staff; with the status token they could act on the
        // status page as the appellant.
        let text_on_record = match details
            .as_ref()
            .and_then(|d| d.case.status_token.as_deref())
        {
            Some(token) => rendered.text.replace(token, TOKEN_OFF_THE_RECORD),
            None => rendered.text.clone(),
        };
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html,
            ))
            .map_err(|err| permanent(format!("building the mail: {err}")))?;
        Ok(Composed {
            message,
            message_id,
            in_reply_to,
            subject: rendered.subject,
            text: rendered.text,
            text_on_record,
            recipient: contact.to_owned(),
            notice: kind,
        })
    }

    /// The values that explain the notice: the question asked, or the reasons given with
    /// the statement of reasons and the redress open to the appellant.
    async fn explanation(
        &self,
        appeal_id: Uuid,
        version: i64,
        notice: Notice,
        language: &str,
    ) -> Result<Vec<(&'static str, String)>, DeliveryError> {
        let history = self.engine.history(appeal_id).await.map_err(engine_error)?;
        let upto = history.iter().rev().filter(|(v, _)| *v <= version);
        let bodies = &self.settings.notices.dispute_settlement_bodies;
        let mut values = vec![(
            "redress",
            statement::redress_options(statement::DEFAULT_REDRESS, bodies, language),
        )];
        for (_, event) in upto {
            match (&event.kind, notice) {
                (EventKind::InfoRequested { message }, Notice::InformationRequest) => {
                    values.push(("message", message.clone()));
                }
                (
                    EventKind::Decided {
                        reasons, statement, ..
                    },
                    Notice::DecisionUpheld | Notice::DecisionRestored,
                ) => {
                    // The same values the decision's preview shows.
                    values.extend(crate::preview::decision_values(
                        reasons,
                        statement.as_ref(),
                        bodies,
                        language,
                    ));
                }
                (
                    EventKind::BulkRestored {
                        reason: reasons, ..
                    },
                    Notice::DecisionRestored,
                )
                | (EventKind::Reopened { reason: reasons }, Notice::Reopened) => {
                    values.push(("reasons", reasons.clone()));
                }
                _ => continue,
            }
            break;
        }
        Ok(values)
    }

    /// Message-IDs of the appellant's mail on this case, oldest first.
    async fn appellant_thread(&self, appeal_id: Uuid) -> Result<Vec<String>, DeliveryError> {
        let stored = self
            .engine
            .messages(appeal_id)
            .await
            .map_err(engine_error)?;
        Ok(stored
            .into_iter()
            .filter(|m| m.direction == Direction::Inbound && m.channel == Channel::Email)
            .filter_map(|m| m.channel_message_id)
            .filter(|id| id.starts_with('<') && !id.ends_with("@no-message-id.invalid>"))
            .collect())
    }

    /// Puts the sent mail on the case's record. The mail is out already, so a failure here
    /// is logged, not retried: a retry would send it again.
    async fn record(&self, item: &OutboxMessage, mail: Composed) {
        let Some(appeal_id) = item.appeal_id else {
            return;
        };
        let sent = SentMessage {
            appeal_id,
            channel: Channel::Email,
            channel_message_id: Some(mail.message_id),
            in_reply_to: mail.in_reply_to,
            sender: self.settings.from.email.to_string(),
            recipient: mail.recipient,
            subject: Some(mail.subject),
            body: mail.text_on_record,
            classification: mail.notice.as_str().to_owned(),
            metadata: serde_json::json!({ "outbox_item": item.id }),
        };
        if let Err(err) = self.engine.record_sent(sent).await {
            tracing::warn!(error = %err, outbox_item = %item.id, "mail sent but not recorded on the case");
        }
    }
}

/// The values every notice about a case may use: its status link, the enforcement it
/// concerns, when a decision is due and the wave of faulty enforcements it belongs to.
pub(crate) fn case_values(details: &CaseDetails, language: &str) -> Vec<(&'static str, String)> {
    let mut values = Vec::new();
    if let Some(link) = &details.status_link {
        values.push(("status_link", link.clone()));
    }
    match &details.case.enforcement {
        Some(enforcement) => {
            values.push((
                "enforcement",
                statement::describe_enforcement(enforcement, language),
            ));
            if let Some(original) = &enforcement.statement {
                values.push(("statement", statement::describe(original, language)));
            }
        }
        None => values.push(("enforcement", statement::unknown_enforcement(language))),
    }
    if let Some(due) = details.case.decision_due_at {
        values.push(("decision_due", due.format("%Y-%m-%d %H:%M UTC").to_string()));
    }
    if let Some(wave) = details.case.wave {
        values.push(("wave", crate::wave::wave_text(wave, language).to_owned()));
    }
    values
}

/// Stands for the status token in the text of a sent mail as the case's record keeps it.
pub const TOKEN_OFF_THE_RECORD: &str = "withheld-from-the-record";

/// A rendered notice ready to send.
#[derive(Debug, Clone)]
pub struct Composed {
    pub message: Message,
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub subject: String,
    /// The text as the appellant reads it.
    pub text: String,
    /// The text as the case's record keeps it: the status token withheld.
    pub text_on_record: String,
    /// The appellant's address and the notice, for the case's record.
    pub recipient: String,
    pub notice: Notice,
}

#[async_trait::async_trait]
impl Deliverer for MailDeliverer {
    #[tracing::instrument(skip_all, fields(item = %item.id, attempts = item.attempts))]
    async fn deliver(&self, item: &OutboxMessage) -> Result<(), DeliveryError> {
        let mail = self.compose(item).await?;
        self.transport.send(mail.message.clone()).await?;
        self.record(item, mail).await;
        Ok(())
    }
}

/// RFC 3834: the acknowledgement answers the appellant's mail automatically; the closing
/// notice is generated by a timer and the restoration notice by a bulk job. Requests and decisions are written by a reviewer.
fn auto_submitted(notice: Notice) -> Option<&'static str> {
    match notice {
        Notice::Acknowledgement => Some("auto-replied"),
        Notice::ClosedNoResponse
        | Notice::Reopened
        | Notice::AccountRestored
        | Notice::ThrottleWarning
        | Notice::AppealRefused => Some("auto-generated"),
        Notice::InformationRequest | Notice::DecisionUpheld | Notice::DecisionRestored => None,
    }
}

pub(crate) fn permanent(reason: impl Into<String>) -> DeliveryError {
    DeliveryError::Permanent(reason.into())
}

/// An engine failure while composing: a missing appeal never comes back, the rest may.
pub(crate) fn engine_error(err: EngineError) -> DeliveryError {
    match err {
        EngineError::AppealNotFound(id) => permanent(format!("appeal {id} does not exist")),
        other => DeliveryError::Retryable(other.to_string()),
    }
}
