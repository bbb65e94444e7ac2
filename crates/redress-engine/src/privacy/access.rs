//! Everything held about a person (GDPR Art. 15) as one JSON document: their account,
//! linked handles, and for each of their appeals the case, the enforcement with its
//! statement of reasons, the messages both ways, the history with the decisions, the
//! notices queued for them and the audit entries about it.

use redress_core::Actor;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{json, Value};
use uuid::Uuid;

use super::subject::{holdings, Holdings};
use super::{actions, PrivacyError, Subject};
use crate::engine::Engine;
use crate::entity::account::Entity as Accounts;
use crate::entity::appeal::Entity as Appeals;
use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::audit_entry::{self, Entity as AuditLog};
use crate::entity::enforcement::Entity as Enforcements;
use crate::entity::linked_handle::{self, Entity as LinkedHandles};
use crate::entity::message::{self, Entity as Messages};
use crate::entity::outbox::{self, Entity as Outbox};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::Retry;

/// The document, and the number of appeals it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalDataDocument {
    pub appeals: usize,
    pub document: Value,
}

impl Engine {
    /// Everything held about `subject`, audited as produced (the audit entry names the
    /// kind of subject and the count, not the person).
    pub async fn personal_data(
        &self,
        actor: &Actor,
        subject: Subject,
    ) -> Result<PersonalDataDocument, PrivacyError> {
        let subject = subject.checked()?;
        let now = self.clock().now();
        self.transact(Retry::LostRaces, async |txn| {
            let held = holdings(txn, &subject).await?;
            let document = document(txn, &subject, &held, now).await?;
            audit::record(
                txn,
                NewAuditEntry {
                    actor: actor.clone(),
                    action: actions::ACCESS_PRODUCED,
                    account_id: match &subject {
                        Subject::Account(id) => Some(id.clone()),
                        _ => None,
                    },
                    appeal_id: None,
                    details: json!({
                        "subject_kind": subject.kind(),
                        "appeals": held.appeals.len(),
                    }),
                },
                now,
            )
            .await?;
            Ok::<_, PrivacyError>(PersonalDataDocument {
                appeals: held.appeals.len(),
                document,
            })
        })
        .await
    }
}

async fn document<C: ConnectionTrait>(
    conn: &C,
    subject: &Subject,
    held: &Holdings,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, EngineError> {
    let mut accounts = Vec::new();
    for id in &held.accounts {
        if let Some(account) = Accounts::find_by_id(id.clone()).one(conn).await? {
            let handles = LinkedHandles::find()
                .filter(linked_handle::Column::AccountId.eq(id.as_str()))
                .all(conn)
                .await?;
            let entries = AuditLog::find()
                .filter(audit_entry::Column::AccountId.eq(id.as_str()))
                .order_by_asc(audit_entry::Column::OccurredAt)
                .all(conn)
                .await?;
            accounts.push(json!({
                "id": account.id,
                "email": account.email,
                "status": account.status.to_string(),
                "locale": account.locale,
                "created_at": account.created_at,
                "updated_at": account.updated_at,
                "linked_handles": handles.iter().map(|h| json!({
                    "channel": h.channel, "social_id": h.social_id, "linked_at": h.linked_at,
                })).collect::<Vec<_>>(),
                "audit_entries": entries.iter().map(audit_json).collect::<Vec<_>>(),
            }));
        }
    }
    let mut appeals = Vec::new();
    for id in &held.appeals {
        appeals.push(appeal_document(conn, *id).await?);
    }
    // In other people's appeals only what the person sent is theirs.
    let mut written = Vec::new();
    for chunk in held.written_into.chunks(super::scrub::CHUNK) {
        let messages = Messages::find()
            .filter(message::Column::AppealId.is_in(chunk.iter().copied()))
            .filter(message::Column::Direction.eq(message::Direction::Inbound))
            .order_by_asc(message::Column::ReceivedAt)
            .all(conn)
            .await?;
        written.extend(
            messages
                .iter()
                .filter(|m| {
                    held.identifiers
                        .iter()
                        .any(|i| i.eq_ignore_ascii_case(&m.sender))
                })
                .map(message_json),
        );
    }
    Ok(json!({
        "subject": { "kind": subject.kind(), "value": subject.value() },
        "produced_at": now,
        "accounts": accounts,
        "appeals": appeals,
        "messages_in_other_appeals": written,
    }))
}

async fn appeal_document<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Value, EngineError> {
    let Some(appeal) = Appeals::find_by_id(id).one(conn).await? else {
        return Ok(Value::Null);
    };
    let enforcement = match appeal.enforcement_id {
        Some(enforcement_id) => Enforcements::find_by_id(enforcement_id).one(conn).await?,
        None => None,
    };
    let messages = Messages::find()
        .filter(message::Column::AppealId.eq(id))
        .order_by_asc(message::Column::ReceivedAt)
        .all(conn)
        .await?;
    let events = AppealEvents::find()
        .filter(appeal_event::Column::AppealId.eq(id))
        .order_by_asc(appeal_event::Column::Version)
        .all(conn)
        .await?;
    let notices = Outbox::find()
        .filter(outbox::Column::AppealId.eq(id))
        .order_by_asc(outbox::Column::CreatedAt)
        .all(conn)
        .await?;
    let entries = AuditLog::find()
        .filter(audit_entry::Column::AppealId.eq(id))
        .order_by_asc(audit_entry::Column::OccurredAt)
        .all(conn)
        .await?;
    Ok(json!({
        "id": appeal.id,
        "reference": appeal.reference,
        "account_id": appeal.account_id,
        "channel": appeal.channel,
        "contact": appeal.contact,
        "state": appeal.state,
        "queue": appeal.queue,
        "tags": appeal.tags,
        "decision": appeal.decision,
        "filed_at": appeal.filed_at,
        "updated_at": appeal.updated_at,
        "legal_hold": appeal.legal_hold,
        "enforcement": enforcement.map(|e| json!({
            "id": e.id,
            "kind": e.kind,
            "policy": e.policy,
            "content_id": e.content_id,
            "facts": e.facts,
            "statement_of_reasons": e.statement,
            "enforced_at": e.enforced_at,
        })),
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
        "history": events.iter().map(|e| json!({
            "version": e.version,
            "kind": e.kind,
            "actor_kind": e.actor_kind,
            "actor_id": e.actor_id,
            "event": e.payload,
            "occurred_at": e.occurred_at,
        })).collect::<Vec<_>>(),
        "notices": notices.iter().map(|n| json!({
            "topic": n.topic,
            "status": n.status.to_string(),
            "payload": n.payload,
            "created_at": n.created_at,
            "delivered_at": n.delivered_at,
        })).collect::<Vec<_>>(),
        "audit_entries": entries.iter().map(audit_json).collect::<Vec<_>>(),
    }))
}

fn message_json(m: &crate::entity::message::Model) -> Value {
    json!({
        "id": m.id,
        "appeal_id": m.appeal_id,
        "direction": m.direction.to_string(),
        "channel": m.channel,
        "sender": m.sender,
        "recipient": m.recipient,
        "subject": m.subject,
        "body": m.body,
        "metadata": m.metadata,
        "received_at": m.received_at,
    })
}

fn audit_json(entry: &crate::entity::audit_entry::Model) -> Value {
    json!({
        "action": entry.action,
        "actor": serde_json::from_str::<Value>(&entry.actor).unwrap_or(Value::Null),
        "occurred_at": entry.occurred_at,
        "details": entry.details,
    })
}
