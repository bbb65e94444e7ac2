//! Staff alerts by mail: SLA warnings and escalations to a queue's leads, and faulty-
//! enforcement incidents to admins. An alert names the case by its reference only, never the
//! appellant, and says where to act: the console and the command line.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;
use redress_core::{Deadline, EventKind};
use redress_engine::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use redress_engine::outbox::{QueueAlert, Topic};
use redress_engine::restoration::Selector;
use redress_engine::transparency::IncidentNotice;
use redress_engine::Engine;
use uuid::Uuid;

use super::deliverer::{engine_error, permanent, Signer, SigningKey, AUTO_SUBMITTED};
use super::transport::MailTransport;

/// Who is alerted: the leads of each queue (or the default list for a queue without its
/// own), and the admins for incidents.
#[derive(Debug, Clone)]
pub struct AlertRecipients {
    pub queues: HashMap<String, Vec<Mailbox>>,
    pub default: Vec<Mailbox>,
    pub admins: Vec<Mailbox>,
}

impl AlertRecipients {
    pub fn for_queue(&self, queue: &str) -> &[Mailbox] {
        self.queues
            .get(queue)
            .filter(|leads| !leads.is_empty())
            .unwrap_or(&self.default)
    }
}

#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub from: Mailbox,
    /// The domain part of outgoing Message-IDs.
    pub message_id_domain: String,
    /// Where the reviewer console is served, e.g. `https://appeals.example.org/console/`.
    pub console_url: String,
    pub recipients: AlertRecipients,
}

/// A staff alert ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAlertText {
    pub subject: String,
    pub body: String,
}

/// Delivers the `alert_queue` and `enforcement_incident` topics.
#[derive(Debug, Clone)]
pub struct StaffAlertDeliverer {
    engine: Engine,
    transport: MailTransport,
    signer: Signer,
    settings: AlertSettings,
}

impl StaffAlertDeliverer {
    pub fn new(
        engine: Engine,
        transport: MailTransport,
        key: SigningKey,
        settings: AlertSettings,
    ) -> Self {
        Self {
            engine,
            transport,
            signer: Signer::new(key),
            settings,
        }
    }

    /// The mail for `item`. The Message-ID is signed over the item's idempotency key, so a
    /// retried item yields the same Message-ID and a duplicate is recognisable.
    pub async fn compose(&self, item: &OutboxMessage) -> Result<Message, DeliveryError> {
        let (text, to) = match item.topic.as_str() {
            QueueAlert::NAME => {
                let alert = Delivery::<QueueAlert>::read(item)?;
                let text = self.queue_alert(&alert).await?;
                (
                    text,
                    self.settings.recipients.for_queue(alert.payload.queue()),
                )
            }
            IncidentNotice::NAME => (
                incident_alert(
                    &Delivery::<IncidentNotice>::read(item)?.payload,
                    &self.settings.console_url,
                ),
                self.settings.recipients.admins.as_slice(),
            ),
            other => return Err(permanent(format!("no staff alert for topic {other}"))),
        };
        if to.is_empty() {
            return Err(permanent("no recipients are configured for this alert"));
        }
        let message_id = self.signer.get(&self.engine).await?.sign(
            item.appeal_id.unwrap_or(Uuid::nil()),
            &item.idempotency_key,
            &self.settings.message_id_domain,
        );
        let mut builder = Message::builder()
            .from(self.settings.from.clone())
            .subject(text.subject)
            .message_id(Some(message_id))
            .header(ContentType::TEXT_PLAIN)
            .raw_header(HeaderValue::new(
                AUTO_SUBMITTED,
                "auto-generated".to_owned(),
            ));
        for recipient in to {
            builder = builder.to(recipient.clone());
        }
        builder
            .body(text.body)
            .map_err(|err| permanent(format!("building the mail: {err}")))
    }

    /// The text of an SLA warning or an escalation, from the event the item was written
    /// for and the case's current deadlines.
    async fn queue_alert(
        &self,
        item: &Delivery<QueueAlert>,
    ) -> Result<StaffAlertText, DeliveryError> {
        let appeal_id = item.payload.appeal.appeal_id;
        let version = item.payload.appeal.version;
        let reference = item.payload.appeal.reference.as_str();
        let queue = item.payload.queue();
        let history = self.engine.history(appeal_id).await.map_err(engine_error)?;
        let event = history
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, event)| &event.kind)
            .ok_or_else(|| permanent(format!("appeal {appeal_id} has no version {version}")))?;
        let stored = self.engine.appeal(appeal_id).await.map_err(engine_error)?;
        let schedule = self.engine.settings().sla_schedule(&stored.appeal);
        let due = |deadline: Deadline| match deadline {
            Deadline::Triage => schedule.triage_due_at,
            Deadline::Decision => schedule.decision_due_at,
        };
        let case = CaseLink {
            reference,
            queue,
            url: format!("{}#/case/{appeal_id}", self.settings.console_url),
        };
        match event {
            EventKind::SlaWarned { deadline } => Ok(case.sla_warning(*deadline, due(*deadline))),
            EventKind::Escalated {
                level,
                reason,
                breached,
                ..
            } => Ok(case.escalation(*level, reason, *breached)),
            other => Err(permanent(format!(
                "version {version} of appeal {appeal_id} is {}, not an alert",
                other.name()
            ))),
        }
    }
}

/// The case an alert is about, as staff see it: reference, queue and console link.
struct CaseLink<'a> {
    reference: &'a str,
    queue: &'a str,
    url: String,
}

impl CaseLink<'_> {
    fn sla_warning(&self, deadline: Deadline, due: Option<DateTime<Utc>>) -> StaffAlertText {
        let when = due.map_or_else(|| "soon".to_owned(), |at| format!("{}", at_minute(at)));
        StaffAlertText {
            subject: format!(
                "[{}] SLA warning: {deadline} due {when} (queue {})",
                self.reference, self.queue
            ),
            body: format!(
                "Appeal {} in queue {} is close to its {deadline} deadline, due {when}.\n\
                 Claim it or hand it on before the deadline passes; it escalates when it does.\n\n\
                 Open the case: {}\n",
                self.reference, self.queue, self.url
            ),
        }
    }

    fn escalation(&self, level: u32, reason: &str, breached: Option<Deadline>) -> StaffAlertText {
        let missed = breached.map_or_else(String::new, |deadline| {
            format!(" after missing its {deadline} deadline")
        });
        StaffAlertText {
            subject: format!(
                "[{}] Escalated to level {level} (queue {})",
                self.reference, self.queue
            ),
            body: format!(
                "Appeal {} was escalated to level {level} and moved to queue {}{missed}.\n\
                 Reason: {reason}\n\n\
                 Open the case: {}\n",
                self.reference, self.queue, self.url
            ),
        }
    }
}

/// The text of an incident notice: the source, how often its enforcements were overturned,
/// the dry run of the bulk restore that would undo them and how to start it.
pub fn incident_alert(incident: &IncidentNotice, console_url: &str) -> StaffAlertText {
    let kind = &incident.source.kind;
    let source_id = &incident.source.id;
    let decided = incident.decided;
    let overturned = incident.overturned;
    let lower_bound = incident.lower_bound;
    let threshold = incident.threshold;
    let rate = if decided > 0 {
        overturned as f64 / decided as f64
    } else {
        0.0
    };
    let accounts = incident.bulk_restore.dry_run_accounts;
    let (cli, console_path) = match &incident.bulk_restore.selector {
        Selector::Batch { batch_id: batch } => (
            format!("redress bulk-restore --batch {batch}"),
            format!("#/bulk/source={source_id}"),
        ),
        _ => (
            format!("redress bulk-restore --source {source_id}"),
            format!("#/bulk/source={source_id}"),
        ),
    };
    let batch = incident
        .source
        .batch_id
        .as_deref()
        .map_or_else(String::new, |batch| format!(" (batch {batch})"));
    StaffAlertText {
        subject: format!(
            "Incident: {kind} {source_id} overturn rate {} (lower bound {})",
            percent(rate),
            percent(lower_bound)
        ),
        body: format!(
            "Appeals against {kind} {source_id}{batch} were won {overturned} times out of \
             {decided} decided: {}, with a lower confidence bound of {} against a threshold \
             of {}.\n\n\
             A bulk restore would reactivate {accounts} accounts (dry run).\n\n\
             Review the incident: {console_url}#/transparency\n\
             Prepare the bulk restore: {console_url}{console_path}\n\
             Or from the command line:\n  {cli} --dry-run\n  {cli} --reason \"...\" --actor <you>\n\
             Resolve the incident when done, or when the source is found sound.\n",
            percent(rate),
            percent(lower_bound),
            percent(threshold),
        ),
    }
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

fn at_minute(at: DateTime<Utc>) -> impl std::fmt::Display {
    at.format("%Y-%m-%d %H:%M UTC")
}

#[async_trait::async_trait]
impl Deliverer for StaffAlertDeliverer {
    #[tracing::instrument(skip_all, fields(item = %item.id, topic = %item.topic))]
    async fn deliver(&self, item: &OutboxMessage) -> Result<(), DeliveryError> {
        let message = self.compose(item).await?;
        self.transport.send(message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(selector: serde_json::Value) -> IncidentNotice {
        serde_json::from_value(serde_json::json!({
            "incident_id": Uuid::nil(),
            "source": { "kind": "model", "id": "classifier-v7", "batch_id": "run-1" },
            "decided": 40, "overturned": 36, "lower_bound": 0.77, "threshold": 0.5,
            "bulk_restore": { "selector": selector, "dry_run_accounts": 38 },
        }))
        .expect("an incident notice")
    }

    #[test]
    fn an_incident_names_the_rate_the_dry_run_and_how_to_act() {
        let text = incident_alert(
            &incident(serde_json::json!({ "by": "batch", "batch_id": "run-1" })),
            "https://appeals.example.org/console/",
        );
        assert_eq!(
            text.subject,
            "Incident: model classifier-v7 overturn rate 90% (lower bound 77%)"
        );
        for part in [
            "won 36 times out of 40",
            "threshold of 50%",
            "reactivate 38 accounts",
            "https://appeals.example.org/console/#/transparency",
            "https://appeals.example.org/console/#/bulk/source=classifier-v7",
            "redress bulk-restore --batch run-1 --dry-run",
        ] {
            assert!(
                text.body.contains(part),
                "{part} missing from\n{}",
                text.body
            );
        }
        let by_source = incident_alert(
            &incident(serde_json::json!({ "by": "source", "source_id": "classifier-v7" })),
            "/console/",
        );
        assert!(by_source
            .body
            .contains("redress bulk-restore --source classifier-v7 --dry-run"));
    }

    #[test]
    fn an_incident_without_its_numbers_is_a_permanent_failure() {
        let item = OutboxMessage {
            id: Uuid::nil(),
            topic: IncidentNotice::NAME.to_owned(),
            appeal_id: None,
            idempotency_key: "incident:1".to_owned(),
            payload: serde_json::json!({ "source": { "kind": "model" } }),
            attempts: 0,
        };
        let outcome = Delivery::<IncidentNotice>::read(&item);
        assert!(matches!(outcome, Err(DeliveryError::Permanent(_))));
    }

    #[test]
    fn queues_without_their_own_leads_fall_back_to_the_default() {
        let mailbox = |a: &str| a.parse::<Mailbox>().expect("address");
        let recipients = AlertRecipients {
            queues: HashMap::from([
                ("senior".to_owned(), vec![mailbox("leads@example.org")]),
                ("empty".to_owned(), Vec::new()),
            ]),
            default: vec![mailbox("all@example.org")],
            admins: Vec::new(),
        };
        assert_eq!(
            recipients.for_queue("senior"),
            &[mailbox("leads@example.org")]
        );
        assert_eq!(
            recipients.for_queue("general"),
            &[mailbox("all@example.org")]
        );
        assert_eq!(recipients.for_queue("empty"), &[mailbox("all@example.org")]);
    }
}
