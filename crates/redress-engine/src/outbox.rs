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
