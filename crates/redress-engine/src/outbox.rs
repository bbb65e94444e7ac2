//! What the outbox carries: one payload type per topic, written by the use case that owes the
//! effect and read back, typed, by the deliverer registered for it
//! (`DelivererRegistry::register_topic`). The stored form is the payload's JSON; the names of
//! its fields are the wire format of rows already queued, so they change only with a
//! migration of those rows.

use std::fmt::Debug;

use chrono::{DateTime, Utc};

use redress_core::{Channel, Effect, Notice, StaffAlert};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::repo::appeals::StoredAppeal;
use crate::repo::outbox::OutboxItem;

/// A payload and the topic it is queued under.
pub trait Topic: Serialize + DeserializeOwned + Debug + Send + Sync + 'static {
    /// The outbox row's topic.
    const NAME: &'static str;
}

impl OutboxItem {
    /// The item that queues `payload` under its topic.
    pub fn of<T: Topic>(payload: &T, appeal_id: Option<Uuid>, idempotency_key: String) -> Self {
        Self {
            topic: T::NAME.to_owned(),
            appeal_id,
            idempotency_key,
            // Every payload is a struct of plain fields, which always serializes.
            payload: serde_json::to_value(payload).unwrap_or_default(),
        }
    }
}

/// The appeal an item was written for, as the effect found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppealAtVersion {
    pub appeal_id: Uuid,
    pub reference: String,
    pub version: i64,
    pub channel: Channel,
    pub contact: Option<String>,
    /// The event that called for the effect.
    pub event: String,
}

impl AppealAtVersion {
    pub fn of(stored: &StoredAppeal, event: &str) -> Self {
        Self {
            appeal_id: stored.id,
            reference: stored.reference.to_string(),
            version: stored.version(),
            channel: stored.appeal.channel,
            contact: stored.contact.clone(),
            event: event.to_owned(),
        }
    }
}

/// `notify_appellant`: a notice to the person, on the channel they wrote on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppellantNotice {
    /// The case, where there is one: a bulk restoration also tells people who never
    /// appealed, and a refused appeal has no case.
    #[serde(default)]
    pub appeal_id: Option<Uuid>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
    pub channel: Channel,
    /// The address or platform id the notice goes to.
    #[serde(default)]
    pub contact: Option<String>,
    pub event: String,
    #[serde(rename = "effect", with = "notice_effect")]
    pub notice: Notice,
    /// Why, in words the person reads (throttling, a bulk restoration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The account and bulk job of a bulk restoration's notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// Until when the account's new appeals are refused (a throttle warning or refusal), so
    /// the notice says it in the appellant's language; `reason` has it in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_until: Option<DateTime<Utc>>,
}

impl Topic for AppellantNotice {
    const NAME: &'static str = "notify_appellant";
}

impl AppellantNotice {
    /// The notice `event` calls for on the appeal.
    pub fn about(appeal: AppealAtVersion, notice: Notice) -> Self {
        Self {
            appeal_id: Some(appeal.appeal_id),
            reference: Some(appeal.reference),
            version: Some(appeal.version),
            channel: appeal.channel,
            contact: appeal.contact,
            event: appeal.event,
            notice,
            reason: None,
            language: None,
            account_id: None,
            job_id: None,
            refused_until: None,
        }
    }
}

/// `alert_queue`: a queue's leads hear of a case about to miss, or missing, its deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueAlert {
    #[serde(flatten)]
    pub appeal: AppealAtVersion,
    #[serde(rename = "effect", with = "alert_effect")]
    pub alert: (StaffAlert, String),
}

impl Topic for QueueAlert {
    const NAME: &'static str = "alert_queue";
}

impl QueueAlert {
    pub fn kind(&self) -> StaffAlert {
        self.alert.0
    }

    pub fn queue(&self) -> &str {
        &self.alert.1
    }
}

/// `request_restoration`: the account service restores an account. Named by the appeal
/// decided for restoration, or by the restoration a bulk job recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRestoration {
    #[serde(default)]
    pub appeal_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoration_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl Topic for RequestRestoration {
    const NAME: &'static str = "request_restoration";
}

/// `identity_prompt`: a DM asking an unverified sender for the account's address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityPrompt {
    pub appeal_id: Uuid,
    pub reference: String,
    pub channel: Channel,
    pub contact: Option<String>,
    /// Which prompt (`crate::direct_messages::prompts`).
    pub prompt: String,
    /// The appellant's language, as the case had it when the prompt was queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl Topic for IdentityPrompt {
    const NAME: &'static str = "identity_prompt";
}

/// `handle_confirmation`: the one-time link that links a social handle to an account, mailed
/// to the account's address. Its text is written when the link is issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandleConfirmation {
    pub appeal_id: Uuid,
    pub reference: String,
    pub channel: Channel,
    pub contact: String,
    pub social_channel: Channel,
    pub link: String,
    /// The mail in English, as written when the link was issued; the deliverer writes it
    /// in `language` instead when it knows `valid_for_hours`.
    pub subject: String,
    pub body: String,
    /// The appellant's language (the case's `language:xx` tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// How long the link works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for_hours: Option<i64>,
}

impl Topic for HandleConfirmation {
    const NAME: &'static str = "handle_confirmation";
}

/// What the platform can hear of through its webhook endpoints, each endpoint choosing
/// which. The wire names are the Standard Webhooks `type` of the messages sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlatformEventKind {
    /// A case was opened.
    #[serde(rename = "appeal.filed")]
    AppealFiled,
    /// A reviewer decided (restore or uphold); with four-eyes the decision still awaits
    /// its approval.
    #[serde(rename = "appeal.decided")]
    AppealDecided,
    /// The account was restored, for this appeal or by a bulk restoration.
    #[serde(rename = "appeal.restored")]
    AppealRestored,
    /// The case ended without a restoration: upheld or withdrawn.
    #[serde(rename = "appeal.closed")]
    AppealClosed,
    /// A faulty-enforcement incident was raised against an enforcement source.
    #[serde(rename = "incident.raised")]
    IncidentRaised,
    /// A bulk restoration job finished every account it selected.
    #[serde(rename = "bulk_restore.completed")]
    BulkRestoreCompleted,
}

impl PlatformEventKind {
    pub const ALL: [PlatformEventKind; 6] = [
        PlatformEventKind::AppealFiled,
        PlatformEventKind::AppealDecided,
        PlatformEventKind::AppealRestored,
        PlatformEventKind::AppealClosed,
        PlatformEventKind::IncidentRaised,
        PlatformEventKind::BulkRestoreCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformEventKind::AppealFiled => "appeal.filed",
            PlatformEventKind::AppealDecided => "appeal.decided",
            PlatformEventKind::AppealRestored => "appeal.restored",
            PlatformEventKind::AppealClosed => "appeal.closed",
            PlatformEventKind::IncidentRaised => "incident.raised",
            PlatformEventKind::BulkRestoreCompleted => "bulk_restore.completed",
        }
    }

    /// The event an appeal's event is for the platform, if any.
    pub fn of_appeal_event(event: &redress_core::EventKind) -> Option<Self> {
        use redress_core::EventKind;
        match event {
            EventKind::Filed(_) => Some(PlatformEventKind::AppealFiled),
            EventKind::Decided { .. } => Some(PlatformEventKind::AppealDecided),
            EventKind::Restored { .. } | EventKind::BulkRestored { .. } => {
                Some(PlatformEventKind::AppealRestored)
            }
            EventKind::Upheld | EventKind::Withdrawn { .. } => {
                Some(PlatformEventKind::AppealClosed)
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for PlatformEventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PlatformEventKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == value)
            .ok_or_else(|| {
                format!(
                    "unknown event type {value:?}; known: {}",
                    Self::ALL.map(PlatformEventKind::as_str).join(", ")
                )
            })
    }
}

/// An appeal as a platform event reports it: ids and states only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformAppeal {
    pub appeal_id: Uuid,
    pub reference: String,
    pub state: redress_core::AppealState,
    /// The version of the appeal's event this one reports: increases with every event of
    /// the appeal, so a receiver can order what it hears of one appeal.
    pub sequence: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<redress_core::Outcome>,
    /// Sent only to endpoints allowed to receive it (`include_account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The bulk job that restored the account, for a bulk restoration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk_restore_job_id: Option<Uuid>,
}

/// An incident as a platform event reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformIncident {
    pub incident_id: Uuid,
    pub source_kind: String,
    pub source_id: String,
    pub decided: u64,
    pub overturned: u64,
}

/// A finished bulk restoration as a platform event reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformBulkRestore {
    pub job_id: Uuid,
    pub requested: i64,
    pub restored: i64,
    pub already_active: i64,
    pub failed: i64,
}

/// What a platform event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformSubject {
    Appeal(PlatformAppeal),
    Incident(PlatformIncident),
    BulkRestore(PlatformBulkRestore),
}

/// `platform_event`: something happened that the platform may hear of. Written in the
/// transaction of the change, one row per event whatever the endpoints; its deliverer
/// fans it out into one [`WebhookDelivery`] per endpoint subscribed to its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformEvent {
    /// The Standard Webhooks message id (`webhook-id`): the same for every endpoint and
    /// every attempt.
    pub event_id: Uuid,
    pub kind: PlatformEventKind,
    pub occurred_at: DateTime<Utc>,
    pub subject: PlatformSubject,
}

impl Topic for PlatformEvent {
    const NAME: &'static str = "platform_event";
}

impl PlatformEvent {
    /// The row that queues this event, unique per what it reports.
    pub fn into_item(self, key: &str) -> OutboxItem {
        let appeal_id = match &self.subject {
            PlatformSubject::Appeal(appeal) => Some(appeal.appeal_id),
            _ => None,
        };
        OutboxItem::of(&self, appeal_id, format!("{key}:{}", Self::NAME))
    }

    /// The platform event `event` is, on the appeal as `event` left it.
    pub fn of_appeal(stored: &StoredAppeal, event: &redress_core::Event) -> Option<Self> {
        use redress_core::EventKind;
        let kind = PlatformEventKind::of_appeal_event(&event.kind)?;
        let (outcome, bulk_restore_job_id) = match &event.kind {
            EventKind::Decided { outcome, .. } => (Some(*outcome), None),
            EventKind::BulkRestored { job_id, .. } => (None, Some(*job_id)),
            _ => (None, None),
        };
        Some(Self {
            event_id: Uuid::now_v7(),
            kind,
            occurred_at: event.at,
            subject: PlatformSubject::Appeal(PlatformAppeal {
                appeal_id: stored.id,
                reference: stored.reference.to_string(),
                state: stored.appeal.state,
                sequence: stored.version(),
                outcome,
                account_id: stored.appeal.account_id.clone(),
                bulk_restore_job_id,
            }),
        })
    }
}

/// The outbox row of the platform event `event` is on the appeal as it left it, if any.
pub fn platform_item_for_event(
    stored: &StoredAppeal,
    event: &redress_core::Event,
) -> Option<OutboxItem> {
    PlatformEvent::of_appeal(stored, event)
        .map(|platform| platform.into_item(&format!("{}:{}", stored.id, stored.appeal.version)))
}

/// `webhook`: one platform event for one endpoint, the body as it will be signed and sent
/// (what the endpoint may receive, nothing more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub endpoint_id: Uuid,
    /// `webhook-id`.
    pub message_id: Uuid,
    pub kind: PlatformEventKind,
    /// The JSON body, `{type, timestamp, data}` as the Standard Webhooks specification
    /// lays it out.
    pub body: serde_json::Value,
}

impl Topic for WebhookDelivery {
    const NAME: &'static str = "webhook";
}

/// The payload an effect of the core calls for, typed until it is queued, so a hook can
/// amend it (the status-page token of an acknowledgement).
#[derive(Debug, Clone, PartialEq)]
pub enum EffectPayload {
    Notice(AppellantNotice),
    Alert(QueueAlert),
    Restoration(RequestRestoration),
}

/// What an effect queues, before it is queued.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectItem {
    pub appeal_id: Option<Uuid>,
    pub idempotency_key: String,
    pub payload: EffectPayload,
}

impl EffectItem {
    /// The item an effect of the core calls for, on the appeal as the event left it.
    pub fn for_effect(stored: &StoredAppeal, event: &str, effect: &Effect) -> Self {
        let appeal = AppealAtVersion::of(stored, event);
        let idempotency_key = format!("{}:{}:{}", stored.id, stored.appeal.version, effect.topic());
        let appeal_id = Some(stored.id);
        let payload = match effect {
            Effect::NotifyAppellant { notice } => {
                let mut notice = AppellantNotice::about(appeal, *notice);
                notice.language = crate::policies::appellant_language(&stored.appeal.tags);
                EffectPayload::Notice(notice)
            }
            Effect::AlertQueue { alert, queue } => EffectPayload::Alert(QueueAlert {
                appeal,
                alert: (*alert, queue.clone()),
            }),
            Effect::RequestRestoration => EffectPayload::Restoration(RequestRestoration {
                appeal_id,
                restoration_id: None,
                job_id: None,
                account_id: None,
                reference: Some(appeal.reference),
                version: Some(appeal.version),
            }),
        };
        Self {
            appeal_id,
            idempotency_key,
            payload,
        }
    }

    pub fn into_item(self) -> OutboxItem {
        let (appeal_id, key) = (self.appeal_id, self.idempotency_key);
        match &self.payload {
            EffectPayload::Notice(notice) => OutboxItem::of(notice, appeal_id, key),
            EffectPayload::Alert(alert) => OutboxItem::of(alert, appeal_id, key),
            EffectPayload::Restoration(request) => OutboxItem::of(request, appeal_id, key),
        }
    }
}

/// The item an effect of the core calls for, on the appeal as the event left it.
pub fn item_for_effect(stored: &StoredAppeal, event: &str, effect: &Effect) -> OutboxItem {
    EffectItem::for_effect(stored, event, effect).into_item()
}

/// Stores a notice as the core's `Effect::NotifyAppellant`, as rows written before the
/// payload had its own type did.
mod notice_effect {
    use redress_core::{Effect, Notice};
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    // serde's `with` hands the field by reference.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub fn serialize<S: Serializer>(notice: &Notice, serializer: S) -> Result<S::Ok, S::Error> {
        Effect::NotifyAppellant { notice: *notice }.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Notice, D::Error> {
        match Effect::deserialize(deserializer)? {
            Effect::NotifyAppellant { notice } => Ok(notice),
            other => Err(D::Error::custom(format!(
                "a {} effect is no appellant notice",
                other.topic()
            ))),
        }
    }
}

/// Stores a queue alert as the core's `Effect::AlertQueue`.
mod alert_effect {
    use redress_core::{Effect, StaffAlert};
    use serde::{de::Error, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        (alert, queue): &(StaffAlert, String),
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        Effect::AlertQueue {
            alert: *alert,
            queue: queue.clone(),
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<(StaffAlert, String), D::Error> {
        match Effect::deserialize(deserializer)? {
            Effect::AlertQueue { alert, queue } => Ok((alert, queue)),
            other => Err(D::Error::custom(format!(
                "a {} effect is no queue alert",
                other.topic()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Rows queued before the payloads had types must still be read.
    #[test]
    fn payloads_read_rows_written_before_they_had_types() {
        let id = Uuid::now_v7();
        let notice: AppellantNotice = serde_json::from_value(json!({
            "appeal_id": id, "reference": "RDR-7K3Q-9M2X", "version": 1, "channel": "email",
            "contact": "a@example.org", "event": "filed",
            "effect": {"effect": "notify_appellant", "notice": "acknowledgement"},
            "status_token": "tok"
        }))
        .expect("notice");
        assert_eq!(notice.notice, Notice::Acknowledgement);
        // Acknowledgements once carried the status token in clear; the deliverer now
        // derives it, and the old field is ignored.
        assert!(!serde_json::to_string(&notice)
            .expect("json")
            .contains("tok"));

        let alert: QueueAlert = serde_json::from_value(json!({
            "appeal_id": id, "reference": "RDR-7K3Q-9M2X", "version": 3, "channel": "api",
            "contact": null, "event": "sla_escalated",
            "effect": {"effect": "alert_queue", "alert": "escalation", "queue": "senior"}
        }))
        .expect("alert");
        assert_eq!(
            (alert.kind(), alert.queue()),
            (StaffAlert::Escalation, "senior")
        );

        let refused = serde_json::from_value::<AppellantNotice>(json!({
            "channel": "email", "event": "filed",
            "effect": {"effect": "alert_queue", "alert": "escalation", "queue": "senior"}
        }));
        assert!(refused.is_err(), "an alert is no notice");
    }

    #[test]
    fn a_payload_reads_back_as_written() {
        let notice = AppellantNotice {
            reason: Some("because".to_owned()),
            ..AppellantNotice::about(
                AppealAtVersion {
                    appeal_id: Uuid::now_v7(),
                    reference: "RDR-7K3Q-9M2X".to_owned(),
                    version: 2,
                    channel: Channel::X,
                    contact: Some("99001".to_owned()),
                    event: "upheld".to_owned(),
                },
                Notice::DecisionUpheld,
            )
        };
        let item = OutboxItem::of(&notice, notice.appeal_id, "k".to_owned());
        assert_eq!(item.topic, "notify_appellant");
        assert_eq!(item.payload["effect"]["notice"], "decision_upheld");
        assert_eq!(
            serde_json::from_value::<AppellantNotice>(item.payload).expect("read back"),
            notice
        );
    }
}
