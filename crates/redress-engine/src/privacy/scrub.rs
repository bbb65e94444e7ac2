//! Where each kind of personal data lives, and its removal from a set of appeals. Rows stay
//! with their ids and times; text becomes [`MARKER`], optional text becomes null, and the
//! JSON documents keep their shape so histories still replay.
//!
//! On PostgreSQL the rewritten JSON of a batch goes in one statement per table
//! (`json_rows`); SQLite writes it row by row, in the same transaction.
//!
//! The full-text indexes follow: PostgreSQL's are computed from the rows (a generated
//! column, an expression index), SQLite's FTS tables by triggers on the rewritten columns.

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{DataKind, MARKER};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::appeal_status_token::{self, Entity as StatusTokens};
use crate::entity::audit_entry::{self, Entity as AuditLog};
use crate::entity::handle_confirmation::{self, Entity as Confirmations};
use crate::entity::message::{self, Entity as Messages};
use crate::entity::outbox::{self, Entity as Outbox, OutboxStatus};
use crate::error::EngineError;
use crate::outbox::{
    AppellantNotice, HandleConfirmation as HandleConfirmationNotice, IdentityPrompt,
    RequestRestoration, Topic,
};
use crate::repo::json_rows;

/// Appeals per `IN (...)` list, well under every backend's bind-parameter limit.
pub(crate) const CHUNK: usize = 500;

/// Metadata a message keeps once its contacts are removed: how it was classified and its
/// language, nothing about who sent it.
const METADATA_WITHOUT_CONTACTS: &[&str] = &[
    "classification",
    "language",
    "language_source",
    "has_message_id",
    "attachments",
    "attachments_omitted",
];

/// Metadata keys about attachments.
const ATTACHMENT_KEYS: &[&str] = &["attachments", "attachments_omitted"];

/// Event kinds that carry what staff wrote, and the field it is in. A new one of these
/// re-arms the purge of notes: the schema's trigger names the same kinds.
const STAFF_TEXT: &[(&str, &str)] = &[
    ("note_added", "text"),
    ("info_requested", "message"),
    ("decision_approved", "note"),
    ("decision_rejected", "note"),
    ("reopened", "reason"),
    ("withdrawn", "reason"),
    ("escalated", "reason"),
];

/// What to do with the outbox rows of the appeals. A restoration request never goes: the
/// platform still owes the person the restoration (DSA Art. 20(4)), and a dead one waits
/// for an administrator's retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutboxRows {
    /// Delivered and dead rows go; pending ones are still on their way and stay.
    Settled,
    /// Settled rows go, and so do notices to the person not yet sent: they would go to
    /// an erased address. Pending rows for the platform or the queue stay.
    SettledAndAppellantNotices,
}

/// Outbox topics that write to the appellant, at the address or handle an erasure removes.
const APPELLANT_TOPICS: &[&str] = &[
    AppellantNotice::NAME,
    IdentityPrompt::NAME,
    HandleConfirmationNotice::NAME,
];

/// The marker in place of an optional text column's value; a null stays null.
fn marker_unless_null(column: message::Column) -> SimpleExpr {
    Expr::case(column.is_null(), Expr::value(Option::<String>::None))
        .finally(Expr::value(MARKER))
        .into()
}

/// Removes `kinds` of personal data from the appeals; returns the rows changed.
pub(crate) async fn scrub<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kinds: &[DataKind],
    outbox_rows: OutboxRows,
) -> Result<u64, EngineError> {
    let mut changed = 0;
    for chunk in appeals.chunks(CHUNK) {
        for kind in kinds {
            changed += scrub_kind(conn, chunk, *kind, outbox_rows).await?;
        }
        if kinds.contains(&DataKind::Contacts) || kinds.contains(&DataKind::Attachments) {
            changed += scrub_metadata(conn, chunk, kinds).await?;
        }
        if kinds.contains(&DataKind::Contacts) || kinds.contains(&DataKind::Notes) {
            changed += scrub_events(conn, chunk, kinds).await?;
        }
    }
    Ok(changed)
}

async fn scrub_kind<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kind: DataKind,
    outbox_rows: OutboxRows,
) -> Result<u64, EngineError> {
    let ids = || appeals.iter().copied();
    let changed = match kind {
        DataKind::MessageText => {
            Messages::update_many()
                .col_expr(message::Column::Body, Expr::value(MARKER))
                .col_expr(
                    message::Column::Subject,
                    marker_unless_null(message::Column::Subject),
                )
                .filter(message::Column::AppealId.is_in(ids()))
                .filter(
                    message::Column::Body
                        .ne(MARKER)
                        .or(message::Column::Subject.ne(MARKER)),
                )
                .exec(conn)
                .await?
                .rows_affected
        }
        DataKind::Contacts => {
            let messages = Messages::update_many()
                .col_expr(message::Column::Sender, Expr::value(MARKER))
                .col_expr(
                    message::Column::Recipient,
                    marker_unless_null(message::Column::Recipient),
                )
                .col_expr(
                    message::Column::InReplyTo,
                    Expr::value(Option::<String>::None),
                )
                .filter(message::Column::AppealId.is_in(ids()))
                .exec(conn)
                .await?
                .rows_affected;
            let contacts = Appeals::update_many()
                .col_expr(appeal::Column::Contact, Expr::value(Option::<String>::None))
                .filter(appeal::Column::Id.is_in(ids()))
                .filter(appeal::Column::Contact.is_not_null())
                .exec(conn)
                .await?
                .rows_affected;
            let confirmations = Confirmations::delete_many()
                .filter(handle_confirmation::Column::AppealId.is_in(ids()))
                .exec(conn)
                .await?
                .rows_affected;
            let settled = outbox::Column::Status.ne(OutboxStatus::Pending);
            let outbox = Outbox::delete_many()
                .filter(outbox::Column::AppealId.is_in(ids()))
                .filter(outbox::Column::Topic.ne(RequestRestoration::NAME))
                .filter(match outbox_rows {
                    OutboxRows::Settled => settled,
                    OutboxRows::SettledAndAppellantNotices => {
                        settled.or(outbox::Column::Topic.is_in(APPELLANT_TOPICS.iter().copied()))
                    }
                });
            let outbox = outbox.exec(conn).await?.rows_affected;
            messages + contacts + confirmations + outbox
        }
        DataKind::StatusTokens => {
            StatusTokens::delete_many()
                .filter(appeal_status_token::Column::AppealId.is_in(ids()))
                .exec(conn)
                .await?
                .rows_affected
        }
        DataKind::AuditDetails => {
            AuditLog::update_many()
                .col_expr(
                    audit_entry::Column::Details,
                    Expr::value(json!({ "removed": MARKER })),
                )
                .filter(audit_entry::Column::AppealId.is_in(ids()))
                .exec(conn)
                .await?
                .rows_affected
        }
        // Rewritten row by row with the metadata and the events.
        DataKind::Attachments | DataKind::Notes => 0,
    };
    Ok(changed)
}

/// Removes the messages `senders` sent into `appeals` (other people's appeals the person
/// wrote into): their text, contacts and attachments, as an erasure of the person's own
/// appeal would. The rest of those appeals is not the person's and stays.
pub(crate) async fn scrub_messages_from<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    senders: &std::collections::BTreeSet<String>,
) -> Result<u64, EngineError> {
    let senders: Vec<String> = senders.iter().map(|s| s.to_lowercase()).collect();
    if senders.is_empty() {
        return Ok(0);
    }
    let mut changed = 0;
    for chunk in appeals.chunks(CHUNK) {
        let rows: Vec<(Uuid, Value)> = Messages::find()
            .select_only()
            .column(message::Column::Id)
            .column(message::Column::Metadata)
            .filter(message::Column::AppealId.is_in(chunk.iter().copied()))
            .filter(message::Column::Direction.eq(message::Direction::Inbound))
            .filter(
                Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                    message::Column::Sender,
                )))
                .is_in(senders.clone()),
            )
            .into_tuple()
            .all(conn)
            .await?;
        for (id, metadata) in rows {
            changed += Messages::update_many()
                .col_expr(message::Column::Body, Expr::value(MARKER))
                .col_expr(message::Column::Sender, Expr::value(MARKER))
                .col_expr(
                    message::Column::Subject,
                    marker_unless_null(message::Column::Subject),
                )
                .col_expr(
                    message::Column::Recipient,
                    marker_unless_null(message::Column::Recipient),
                )
                .col_expr(
                    message::Column::InReplyTo,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    message::Column::Metadata,
                    Expr::value(without_personal_metadata(&metadata, &DataKind::ALL)),
                )
                .filter(message::Column::Id.eq(id))
                .exec(conn)
                .await?
                .rows_affected;
        }
    }
    Ok(changed)
}

/// The message metadata without what `kinds` removes.
async fn scrub_metadata<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kinds: &[DataKind],
) -> Result<u64, EngineError> {
    let rows: Vec<(Uuid, Value)> = Messages::find()
        .select_only()
        .column(message::Column::Id)
        .column(message::Column::Metadata)
        .filter(message::Column::AppealId.is_in(appeals.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let changed: Vec<MetadataRow> = rows
        .into_iter()
        .filter_map(|(id, metadata)| {
            let scrubbed = without_personal_metadata(&metadata, kinds);
            (scrubbed != metadata).then_some(MetadataRow {
                id,
                metadata: scrubbed,
            })
        })
        .collect();
    if changed.is_empty() {
        return Ok(0);
    }
    if json_rows::applies(conn) {
        let sql = format!(
            "UPDATE messages m SET metadata = r.metadata FROM {} WHERE m.id = r.id",
            json_rows::recordset(1, &[("id", "uuid"), ("metadata", "jsonb")])
        );
        json_rows::execute(conn, &sql, &changed, []).await?;
    } else {
        for row in &changed {
            Messages::update_many()
                .col_expr(message::Column::Metadata, Expr::value(row.metadata.clone()))
                .filter(message::Column::Id.eq(row.id))
                .exec(conn)
                .await?;
        }
    }
    Ok(changed.len() as u64)
}

/// A message's new metadata, as a row of a batch document.
#[derive(serde::Serialize)]
struct MetadataRow {
    id: Uuid,
    metadata: Value,
}

/// An event's new actor id and payload, as a row of a batch document.
#[derive(serde::Serialize)]
struct EventRow {
    appeal_id: Uuid,
    version: i64,
    actor_id: String,
    payload: Value,
}

fn without_personal_metadata(metadata: &Value, kinds: &[DataKind]) -> Value {
    let Value::Object(fields) = metadata else {
        return json!({});
    };
    let mut kept = fields.clone();
    if kinds.contains(&DataKind::Contacts) {
        kept.retain(|key, _| METADATA_WITHOUT_CONTACTS.contains(&key.as_str()));
    }
    if kinds.contains(&DataKind::Attachments) {
        kept.retain(|key, _| !ATTACHMENT_KEYS.contains(&key.as_str()));
    }
    Value::Object(kept)
}

/// The events with staff text replaced (notes) and the appellant's identity replaced
/// (contacts); their kind, actor kind, version and time stay.
async fn scrub_events<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kinds: &[DataKind],
) -> Result<u64, EngineError> {
    let notes = kinds.contains(&DataKind::Notes);
    let contacts = kinds.contains(&DataKind::Contacts);
    let mut select =
        AppealEvents::find().filter(appeal_event::Column::AppealId.is_in(appeals.iter().copied()));
    let note_kinds = STAFF_TEXT.iter().map(|(kind, _)| *kind);
    select = match (notes, contacts) {
        (true, true) => select.filter(
            appeal_event::Column::Kind
                .is_in(note_kinds)
                .or(appeal_event::Column::ActorKind.eq("appellant")),
        ),
        (true, false) => select.filter(appeal_event::Column::Kind.is_in(note_kinds)),
        _ => select.filter(appeal_event::Column::ActorKind.eq("appellant")),
    };
    let rows = select.all(conn).await?;
    let mut changed = Vec::new();
    for row in rows {
        let mut payload = row.payload.clone();
        let mut actor_id = row.actor_id.clone();
        if notes {
            if let Some((_, field)) = STAFF_TEXT.iter().find(|(kind, _)| *kind == row.kind) {
                replace_string(&mut payload, &["kind", field]);
            }
        }
        if contacts && row.actor_kind == "appellant" {
            MARKER.clone_into(&mut actor_id);
            replace_string(&mut payload, &["actor", "identity"]);
        }
        if payload == row.payload && actor_id == row.actor_id {
            continue;
        }
        changed.push(EventRow {
            appeal_id: row.appeal_id,
            version: row.version,
            actor_id,
            payload,
        });
    }
    if changed.is_empty() {
        return Ok(0);
    }
    if json_rows::applies(conn) {
        let sql = format!(
            "UPDATE appeal_events e SET payload = r.payload, actor_id = r.actor_id FROM {} \
             WHERE e.appeal_id = r.appeal_id AND e.version = r.version",
            json_rows::recordset(
                1,
                &[
                    ("appeal_id", "uuid"),
                    ("version", "bigint"),
                    ("actor_id", "text"),
                    ("payload", "jsonb")
                ]
            )
        );
        json_rows::execute(conn, &sql, &changed, []).await?;
    } else {
        for row in &changed {
            AppealEvents::update_many()
                .col_expr(
                    appeal_event::Column::Payload,
                    Expr::value(row.payload.clone()),
                )
                .col_expr(
                    appeal_event::Column::ActorId,
                    Expr::value(row.actor_id.clone()),
                )
                .filter(appeal_event::Column::AppealId.eq(row.appeal_id))
                .filter(appeal_event::Column::Version.eq(row.version))
                .exec(conn)
                .await?;
        }
    }
    Ok(changed.len() as u64)
}

/// Replaces the string at `path` with the marker; a null or absent value stays.
fn replace_string(value: &mut Value, path: &[&str]) {
    let mut at = value;
    for key in path {
        match at.get_mut(*key) {
            Some(next) => at = next,
            None => return,
        }
    }
    if at.is_string() {
        *at = Value::String(MARKER.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_leave_the_classification_and_language_only() {
        let metadata = json!({
            "classification": "appeal", "language": "de", "from_name": "Jo Example",
            "envelope_from": "jo@example.org", "attachments": [{"name": "a.png"}],
        });
        assert_eq!(
            without_personal_metadata(&metadata, &[DataKind::Contacts]),
            json!({"classification": "appeal", "language": "de", "attachments": [{"name": "a.png"}]})
        );
        assert_eq!(
            without_personal_metadata(&metadata, &[DataKind::Contacts, DataKind::Attachments]),
            json!({"classification": "appeal", "language": "de"})
        );
    }

    #[test]
    fn the_schema_rearms_notes_for_the_events_that_carry_them() {
        let scrubbed: Vec<&str> = STAFF_TEXT.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(scrubbed, redress_migrations::STAFF_TEXT_EVENTS);
    }

    #[test]
    fn an_escalations_reason_is_staff_text() {
        let escalated = redress_core::EventKind::Escalated {
            level: 1,
            queue: "trust".into(),
            reason: "Jo rang twice from 0207 946 0000".into(),
            breached: None,
        };
        let (_, field) = STAFF_TEXT
            .iter()
            .find(|(kind, _)| *kind == escalated.name())
            .expect("escalated is staff text");
        let mut payload = json!({ "kind": escalated });
        replace_string(&mut payload, &["kind", field]);
        assert!(!payload.to_string().contains("0207"), "{payload}");
    }

    #[test]
    fn staff_text_is_replaced_in_place_and_nulls_stay() {
        let mut payload = json!({"kind": {"type": "decision_approved", "note": "call Jo"}});
        replace_string(&mut payload, &["kind", "note"]);
        assert_eq!(payload["kind"]["note"], MARKER);
        let mut none = json!({"kind": {"type": "decision_approved", "note": null}});
        replace_string(&mut none, &["kind", "note"]);
        assert!(Value::is_null(&none["kind"]["note"]));
    }
}
