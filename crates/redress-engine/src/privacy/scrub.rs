//! Where each kind of personal data lives, and its removal from a set of appeals. Rows stay
//! with their ids and times; text becomes [`MARKER`], optional text becomes null, and the
//! JSON documents keep their shape so histories still replay.
//!
//! Each table is written by one statement per chunk of appeals, and the JSON documents
//! (message metadata, event payloads) are edited by the database itself: PostgreSQL's
//! `jsonb` operators, SQLite's JSON1 functions, to the same result.
//!
//! The full-text indexes follow: PostgreSQL's are computed from the rows (a generated
//! column, an expression index), SQLite's FTS tables by triggers on the rewritten columns.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
};
use std::fmt::Write as _;

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
    /// Delivered and dead rows go; pending ones are still on their way and stay. The
    /// kind is marked purged all the same: a kept row that settles later re-arms it
    /// (a trigger of the schema, migration `m20261208_000210_purge_rearm_settled_outbox`),
    /// so the next purge takes it then.
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

/// Removes `kinds` of personal data from the appeals and marks them purged of `kinds`;
/// returns the rows changed. Per chunk of appeals each table is written by one statement,
/// JSON documents edited in place by the database, so nothing is read back into Rust.
pub(crate) async fn scrub<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kinds: &[DataKind],
    outbox_rows: OutboxRows,
) -> Result<u64, EngineError> {
    let backend = conn.get_database_backend();
    let mut changed = 0;
    for chunk in appeals.chunks(CHUNK) {
        changed += scrub_messages(conn, backend, chunk, kinds).await?;
        changed += mark_appeals(conn, chunk, kinds).await?;
        for kind in kinds {
            changed += scrub_kind(conn, chunk, *kind, outbox_rows).await?;
        }
        changed += scrub_events(conn, backend, chunk, kinds).await?;
    }
    Ok(changed)
}

/// The marker in place of an optional text column's value; a null stays null.
fn marker_unless_null(column: message::Column) -> Expr {
    Expr::case(column.is_null(), Expr::value(Option::<String>::None))
        .finally(Expr::value(MARKER))
        .into()
}

/// The messages of the appeals: text, contacts and the metadata's personal keys in one
/// statement, so each message is rewritten once whatever the kinds.
async fn scrub_messages<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    appeals: &[Uuid],
    kinds: &[DataKind],
) -> Result<u64, EngineError> {
    let text = kinds.contains(&DataKind::MessageText);
    let contacts = kinds.contains(&DataKind::Contacts);
    let attachments = kinds.contains(&DataKind::Attachments);
    if !(text || contacts || attachments) {
        return Ok(0);
    }
    let mut update =
        Messages::update_many().filter(message::Column::AppealId.is_in(appeals.iter().copied()));
    if text {
        update = update
            .col_expr(message::Column::Body, Expr::value(MARKER))
            .col_expr(
                message::Column::Subject,
                marker_unless_null(message::Column::Subject),
            );
    }
    if contacts {
        update = update
            .col_expr(message::Column::Sender, Expr::value(MARKER))
            .col_expr(
                message::Column::Recipient,
                marker_unless_null(message::Column::Recipient),
            )
            .col_expr(
                message::Column::InReplyTo,
                Expr::value(Option::<String>::None),
            );
    }
    if contacts || attachments {
        update = update.col_expr(
            message::Column::Metadata,
            Expr::cust(metadata_without_personal_keys(backend, kinds)),
        );
    }
    // Without contacts, which every message has, only the messages with something left
    // to remove are written.
    if !contacts {
        let mut due = Condition::any();
        if text {
            due = due.add(
                message::Column::Body
                    .ne(MARKER)
                    .or(message::Column::Subject.ne(MARKER)),
            );
        }
        if attachments {
            due = due.add(Expr::cust(has_attachment_keys(backend)));
        }
        update = update.filter(due);
    }
    Ok(update.exec(conn).await?.rows_affected)
}

/// Sets the appeals' bits of `kinds` in `purged_kinds`, and clears their contact with
/// contacts: one write of each appeal.
async fn mark_appeals<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kinds: &[DataKind],
) -> Result<u64, EngineError> {
    let mut update = Appeals::update_many()
        .col_expr(
            appeal::Column::PurgedKinds,
            Expr::cust(format!("purged_kinds | {}", DataKind::bits(kinds))),
        )
        .filter(appeal::Column::Id.is_in(appeals.iter().copied()));
    let contacts = kinds.contains(&DataKind::Contacts);
    if contacts {
        update = update.col_expr(appeal::Column::Contact, Expr::value(Option::<String>::None));
    }
    let marked = update.exec(conn).await?.rows_affected;
    Ok(if contacts { marked } else { 0 })
}

/// What is left of each kind outside the messages and the events.
async fn scrub_kind<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    kind: DataKind,
    outbox_rows: OutboxRows,
) -> Result<u64, EngineError> {
    let ids = || appeals.iter().copied();
    let changed = match kind {
        DataKind::Contacts => {
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
            confirmations + outbox
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
        // In the messages and the events, written once for all kinds.
        DataKind::MessageText | DataKind::Attachments | DataKind::Notes => 0,
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
/// (contacts); their kind, actor kind, version and time stay. Only the events with
/// something left to replace are written.
async fn scrub_events<C: ConnectionTrait>(
    conn: &C,
    backend: DbBackend,
    appeals: &[Uuid],
    kinds: &[DataKind],
) -> Result<u64, EngineError> {
    let notes = kinds.contains(&DataKind::Notes);
    let contacts = kinds.contains(&DataKind::Contacts);
    if !(notes || contacts) {
        return Ok(0);
    }
    let json = JsonDialect::of(backend);
    let staff_field = staff_text_field();
    let staff_path = json.path_under("kind", &staff_field);
    let identity_path = json.path_under("actor", "'identity'");
    let marker = quoted(MARKER);
    let staff_text_due = format!(
        "kind IN ({}) AND {}",
        STAFF_TEXT
            .iter()
            .map(|(kind, _)| quoted(kind))
            .collect::<Vec<_>>()
            .join(", "),
        json.is_string(&staff_path)
    );
    let identity_due = format!(
        "actor_kind = 'appellant' AND {}",
        json.is_string(&identity_path)
    );
    let mut payload = "payload".to_owned();
    let mut due = Condition::any();
    if notes {
        payload = format!(
            "CASE WHEN {staff_text_due} THEN {} ELSE {payload} END",
            json.set_marker(&payload, &staff_path)
        );
        due = due.add(Expr::cust(format!(
            "{staff_text_due} AND {} <> {marker}",
            json.text_at(&staff_path)
        )));
    }
    let mut update = AppealEvents::update_many()
        .filter(appeal_event::Column::AppealId.is_in(appeals.iter().copied()));
    if contacts {
        payload = format!(
            "CASE WHEN {identity_due} THEN {} ELSE {payload} END",
            json.set_marker(&payload, &identity_path)
        );
        due = due.add(Expr::cust(format!(
            "actor_kind = 'appellant' AND (actor_id <> {marker} OR ({identity_due} AND {} <> {marker}))",
            json.text_at(&identity_path)
        )));
        update = update.col_expr(
            appeal_event::Column::ActorId,
            Expr::cust(format!(
                "CASE WHEN actor_kind = 'appellant' THEN {marker} ELSE actor_id END"
            )),
        );
    }
    let update = update
        .col_expr(appeal_event::Column::Payload, Expr::cust(payload))
        .filter(due);
    Ok(update.exec(conn).await?.rows_affected)
}

/// The field of an event's `kind` that holds staff text, by the event's kind; null for
/// the other kinds.
fn staff_text_field() -> String {
    let mut sql = "(CASE kind".to_owned();
    for (kind, field) in STAFF_TEXT {
        let _ = write!(sql, " WHEN {} THEN {}", quoted(kind), quoted(field));
    }
    sql.push_str(" END)");
    sql
}

/// The message metadata without what `kinds` removes: with contacts only
/// [`METADATA_WITHOUT_CONTACTS`] stays, with attachments [`ATTACHMENT_KEYS`] go. Metadata
/// that is not an object becomes an empty one.
fn metadata_without_personal_keys(backend: DbBackend, kinds: &[DataKind]) -> String {
    let json = JsonDialect::of(backend);
    let removed: Vec<&str> = if kinds.contains(&DataKind::Attachments) {
        ATTACHMENT_KEYS.to_vec()
    } else {
        Vec::new()
    };
    let edited = if kinds.contains(&DataKind::Contacts) {
        let kept: Vec<&str> = METADATA_WITHOUT_CONTACTS
            .iter()
            .copied()
            .filter(|key| !removed.contains(key))
            .collect();
        json.keep_only("metadata", &kept)
    } else {
        json.remove_keys("metadata", &removed)
    };
    format!(
        "CASE WHEN {} THEN {edited} ELSE {} END",
        json.is_object("metadata"),
        json.empty_object()
    )
}

/// Whether a message's metadata names attachments.
fn has_attachment_keys(backend: DbBackend) -> String {
    let json = JsonDialect::of(backend);
    ATTACHMENT_KEYS
        .iter()
        .map(|key| json.has_key("metadata", key))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// A string as an SQL literal.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The JSON functions of a backend, for the edits above: PostgreSQL's `jsonb` operators,
/// SQLite's JSON1 functions on the documents stored as text. Paths and keys are the
/// constants of this file, never outside input.
#[derive(Debug, Clone, Copy)]
enum JsonDialect {
    Postgres,
    Sqlite,
}

impl JsonDialect {
    fn of(backend: DbBackend) -> Self {
        match backend {
            DbBackend::Postgres => JsonDialect::Postgres,
            _ => JsonDialect::Sqlite,
        }
    }

    /// The path to `field` (an SQL text expression) under the top-level key `object`.
    fn path_under(self, object: &str, field: &str) -> String {
        match self {
            JsonDialect::Postgres => format!("ARRAY[{}, {field}]", quoted(object)),
            JsonDialect::Sqlite => format!("('$.{object}.' || {field})"),
        }
    }

    fn is_string(self, path: &str) -> String {
        match self {
            JsonDialect::Postgres => format!("jsonb_typeof(payload #> {path}) = 'string'"),
            JsonDialect::Sqlite => format!("json_type(payload, {path}) = 'text'"),
        }
    }

    fn text_at(self, path: &str) -> String {
        match self {
            JsonDialect::Postgres => format!("(payload #>> {path})"),
            JsonDialect::Sqlite => format!("json_extract(payload, {path})"),
        }
    }

    fn set_marker(self, document: &str, path: &str) -> String {
        match self {
            JsonDialect::Postgres => {
                format!(
                    "jsonb_set({document}, {path}, to_jsonb({}::text))",
                    quoted(MARKER)
                )
            }
            JsonDialect::Sqlite => format!("json_set({document}, {path}, {})", quoted(MARKER)),
        }
    }

    fn is_object(self, column: &str) -> String {
        match self {
            JsonDialect::Postgres => format!("jsonb_typeof({column}) = 'object'"),
            JsonDialect::Sqlite => format!("json_type({column}) = 'object'"),
        }
    }

    fn empty_object(self) -> &'static str {
        match self {
            JsonDialect::Postgres => "'{}'::jsonb",
            JsonDialect::Sqlite => "'{}'",
        }
    }

    fn has_key(self, column: &str, key: &str) -> String {
        match self {
            JsonDialect::Postgres => format!("({column} -> {}) IS NOT NULL", quoted(key)),
            JsonDialect::Sqlite => {
                format!(
                    "json_type({column}, {}) IS NOT NULL",
                    quoted(&format!("$.{key}"))
                )
            }
        }
    }

    fn remove_keys(self, column: &str, keys: &[&str]) -> String {
        if keys.is_empty() {
            return column.to_owned();
        }
        match self {
            JsonDialect::Postgres => format!(
                "({column} - ARRAY[{}]::text[])",
                keys.iter()
                    .map(|key| quoted(key))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            JsonDialect::Sqlite => format!(
                "json_remove({column}, {})",
                keys.iter()
                    .map(|key| quoted(&format!("$.{key}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The object with every key but `kept` removed.
    fn keep_only(self, column: &str, kept: &[&str]) -> String {
        let kept = kept
            .iter()
            .map(|key| quoted(key))
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            JsonDialect::Postgres => format!(
                "({column} - ARRAY(SELECT key FROM jsonb_object_keys({column}) AS key \
                 WHERE key NOT IN ({kept})))"
            ),
            // A merge patch removes the keys it sets to null.
            JsonDialect::Sqlite => format!(
                "json_patch({column}, (SELECT json_group_object(key, NULL) FROM json_each({column}) \
                 WHERE key NOT IN ({kept})))"
            ),
        }
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
    fn the_schema_rearms_contacts_when_an_outbox_row_the_purge_kept_settles() {
        assert_eq!(
            redress_migrations::UNSETTLED_OUTBOX_STATUS,
            OutboxStatus::Pending.as_str()
        );
        assert_eq!(
            redress_migrations::NEVER_PURGED_OUTBOX_TOPIC,
            RequestRestoration::NAME
        );
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
        let payload = json!({ "kind": escalated });
        assert!(payload["kind"][field]
            .as_str()
            .is_some_and(|text| text.contains("0207")));
    }

    #[test]
    fn the_staff_text_field_is_named_for_each_kind() {
        assert_eq!(
            staff_text_field(),
            "(CASE kind WHEN 'note_added' THEN 'text' WHEN 'info_requested' THEN 'message' \
             WHEN 'decision_approved' THEN 'note' WHEN 'decision_rejected' THEN 'note' \
             WHEN 'reopened' THEN 'reason' WHEN 'withdrawn' THEN 'reason' WHEN 'escalated' THEN 'reason' END)"
        );
    }
}
