//! Throttling repeated manifestly unfounded appeals (DSA Art. 23): the warning after an
//! appeal upheld as manifestly unfounded, and the refusal of new appeals while the account's
//! throttle period runs. The rule is `redress_core::throttle`; this keeps its records.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redress_core::{Actor, AppealState, Channel, Decision, Notice};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::error::EngineError;
use crate::outbox::{AppealAtVersion, AppellantNotice};
use crate::repo::appeals::StoredAppeal;
use crate::repo::audit::{self, NewAuditEntry};
use crate::repo::outbox::{self, OutboxItem};
use crate::settings::EngineSettings;

/// The actor of warnings and refusals in the audit log.
pub const COMPONENT: &str = "appeals-throttle";

/// When the account's appeals upheld as manifestly unfounded were decided.
async fn unfounded_decisions<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<DateTime<Utc>>, EngineError> {
    let upheld = Appeals::find()
        .filter(appeal::Column::AccountId.eq(account_id))
        .filter(appeal::Column::State.eq(AppealState::Upheld.as_str()))
        .all(conn)
        .await?;
    let unfounded: Vec<Uuid> = upheld
        .into_iter()
        .filter(|row| {
            row.decision
                .clone()
                .and_then(|d| serde_json::from_value::<Decision>(d).ok())
                .is_some_and(|d| d.manifestly_unfounded)
        })
        .map(|row| row.id)
        .collect();
    if unfounded.is_empty() {
        return Ok(Vec::new());
    }
    let mut decided: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for event in AppealEvents::find()
        .filter(appeal_event::Column::AppealId.is_in(unfounded))
        .filter(appeal_event::Column::Kind.eq("upheld"))
        .all(conn)
        .await?
    {
        let latest = decided.entry(event.appeal_id).or_insert(event.occurred_at);
        *latest = (*latest).max(event.occurred_at);
    }
    Ok(decided.into_values().collect())
}

async fn last_warning<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Option<DateTime<Utc>>, EngineError> {
    Ok(
        audit::entries(conn, audit::THROTTLE_WARNING, Some(account_id))
            .await?
            .last()
            .map(|entry| entry.occurred_at),
    )
}

/// After `stored` was upheld: if it was manifestly unfounded and that earns its account
/// the warning, audits the warning and tells the appellant through the outbox. Returns
/// when refusals end, if a warning was given.
pub async fn after_upheld<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &StoredAppeal,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, EngineError> {
    let rule = settings.appeal_throttle;
    let unfounded = stored
        .appeal
        .decision
        .as_ref()
        .is_some_and(|d| d.manifestly_unfounded);
    let (true, true, Some(account_id)) = (rule.is_on(), unfounded, &stored.appeal.account_id)
    else {
        return Ok(None);
    };
    let decisions = unfounded_decisions(conn, account_id).await?;
    if !rule.warning_due(&decisions, last_warning(conn, account_id).await?, now) {
        return Ok(None);
    }
    let until = now + rule.period;
    audit::record(
        conn,
        NewAuditEntry {
            actor: Actor::system(COMPONENT),
            action: audit::THROTTLE_WARNING,
            account_id: Some(account_id.clone()),
            appeal_id: Some(stored.id),
            details: json!({
                "reference": stored.reference,
                "unfounded_appeals": decisions.len(),
                "refused_until": until,
            }),
        },
        now,
    )
    .await?;
    outbox::enqueue(
        conn,
        vec![OutboxItem::of(
            &AppellantNotice {
                reason: Some(refusal_text(until)),
                refused_until: Some(until),
                language: crate::policies::appellant_language(&stored.appeal.tags),
                ..AppellantNotice::about(
                    AppealAtVersion::of(stored, "throttle_warning"),
                    Notice::ThrottleWarning,
                )
            },
            Some(stored.id),
            format!("{}:throttle_warning", stored.id),
        )],
        now,
    )
    .await?;
    tracing::info!(account = %account_id, appeal = %stored.id, %until, "account warned: further appeals will be refused");
    Ok(Some(until))
}

/// The explanation the appellant reads, in the warning and in every refusal.
pub fn refusal_text(until: DateTime<Utc>) -> String {
    format!(
        "Several of your appeals were found manifestly unfounded. New appeals from your \
         account will not be accepted until {}. Messages about appeals already open are \
         still read.",
        until.format("%Y-%m-%d %H:%M UTC")
    )
}

/// Until when a new appeal of `account_id` is refused, if it is at `now`.
pub async fn refused_until<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    account_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, EngineError> {
    if !settings.appeal_throttle.is_on() {
        return Ok(None);
    }
    let warned = last_warning(conn, account_id).await?;
    Ok(settings.appeal_throttle.refuses_until(warned, now))
}

/// What was refused, for the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal<'a> {
    pub account_id: &'a str,
    pub channel: Channel,
    pub sender: &'a str,
    pub until: DateTime<Utc>,
}

pub async fn audit_refusal<C: ConnectionTrait>(
    conn: &C,
    refusal: Refusal<'_>,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    audit::record(
        conn,
        NewAuditEntry {
            actor: Actor::system(COMPONENT),
            action: audit::THROTTLE_REFUSAL,
            account_id: Some(refusal.account_id.to_owned()),
            appeal_id: None,
            details: json!({
                "channel": refusal.channel,
                "sender": crate::text::without_nul(refusal.sender),
                "refused_until": refusal.until,
            }),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Tells a sender whose appeal was refused why, on their own channel (a DM has no other
/// way to answer).
pub async fn notify_refusal<C: ConnectionTrait>(
    conn: &C,
    channel: Channel,
    contact: &str,
    message_id: Uuid,
    until: DateTime<Utc>,
    language: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    outbox::enqueue(
        conn,
        vec![OutboxItem::of(
            &AppellantNotice {
                appeal_id: None,
                reference: None,
                version: None,
                channel,
                contact: Some(contact.to_owned()),
                event: "appeal_refused".to_owned(),
                notice: Notice::AppealRefused,
                reason: Some(refusal_text(until)),
                language,
                account_id: None,
                job_id: None,
                refused_until: Some(until),
            },
            None,
            format!("{message_id}:appeal_refused"),
        )],
        now,
    )
    .await?;
    Ok(())
}
