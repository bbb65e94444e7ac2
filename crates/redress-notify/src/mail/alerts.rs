//! Staff alerts by mail: SLA warnings and escalations to a queue's leads, and faulty-
//! enforcement incidents to admins. An alert names the case by its reference only, never the
//! appellant, and says where to act: the console and the command line.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;
use redress_core::{Deadline, EventKind};
use redress_engine::delivery::{topics, Deliverer, DeliveryError, OutboxMessage};
use redress_engine::transparency::incidents;
use redress_engine::Engine;
use serde_json::Value;
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
            topics::ALERT_QUEUE => {
                let queue = field(&item.payload["effect"], "queue")?;
                let text = self.queue_alert(item).await?;
                (text, self.settings.recipients.for_queue(queue))
            }
            incidents::TOPIC => (
                incident_alert(&item.payload, &self.settings.console_url)?,
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
    async fn queue_alert(&self, item: &OutboxMessage) -> Result<StaffAlertText, DeliveryError> {
        let payload = &item.payload;
        let appeal_id = item
            .appeal_id
            .or_else(|| payload["appeal_id"].as_str().and_then(|id| id.parse().ok()))
            .ok_or_else(|| permanent("the item names no appeal"))?;
        let version = payload["version"]
            .as_i64()
            .ok_or_else(|| permanent("the item has no version"))?;
        let reference = field(payload, "reference")?;
        let queue = field(&payload["effect"], "queue")?;
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
pub fn incident_alert(payload: &Value, console_url: &str) -> Result<StaffAlertText, DeliveryError> {
    let source = &payload["source"];
    let kind = field(source, "kind")?;
    let source_id = field(source, "id")?;
    let number = |name: &str| {
        payload[name]
            .as_f64()
            .ok_or_else(|| permanent(format!("the item has no {name}")))
    };
    let decided = number("decided")?;
    let overturned = number("overturned")?;
    let lower_bound = number("lower_bound")?;
    let threshold = number("threshold")?;
    let rate = if decided > 0.0 {
        overturned / decided
    } else {
        0.0
    };
    let accounts = payload["bulk_restore"]["dry_run_accounts"]
        .as_u64()
        .unwrap_or(0);
    let selector = &payload["bulk_restore"]["selector"];
    let (cli, console_path) = match (selector["by"].as_str(), selector["batch_id"].as_str()) {
        (Some("batch"), Some(batch)) => (
            format!("redress bulk-restore --batch {batch}"),
            format!("#/bulk/source={source_id}"),
        ),
        _ => (
            format!("redress bulk-restore --source {source_id}"),
            format!("#/bulk/source={source_id}"),
        ),
    };
    let batch = source["batch_id"]
        .as_str()
        .map_or_else(String::new, |batch| format!(" (batch {batch})"));
    Ok(StaffAlertText {
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
    })
}

fn percent(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

fn at_minute(at: DateTime<Utc>) -> impl std::fmt::Display {
    at.format("%Y-%m-%d %H:%M UTC")
}

fn field<'a>(value: &'a Value, name: &str) -> Result<&'a str, DeliveryError> {
    value[name]
        .as_str()
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| permanent(format!("the item has no {name}")))
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

    fn incident(selector: Value) -> Value {
        serde_json::json!({
            "incident_id": Uuid::nil(),
            "source": { "kind": "model", "id": "classifier-v7", "batch_id": "run-1" },
            "decided": 40, "overturned": 36, "lower_bound": 0.77, "threshold": 0.5,
            "bulk_restore": { "selector": selector, "dry_run_accounts": 38 },
        })
    }

    #[test]
    fn an_incident_names_the_rate_the_dry_run_and_how_to_act() {
        let text = incident_alert(
            &incident(serde_json::json!({ "by": "batch", "batch_id": "run-1" })),
            "https://appeals.example.org/console/",
        )
        .expect("text");
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
        )
        .expect("text");
        assert!(by_source
            .body
            .contains("redress bulk-restore --source classifier-v7 --dry-run"));
    }

    #[test]
    fn an_incident_without_its_numbers_is_a_permanent_failure() {
        let outcome = incident_alert(&serde_json::json!({ "source": { "kind": "model" } }), "/");
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
