//! Writing side effects to the outbox, in the caller's transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QueryTrait, Statement,
};
use uuid::Uuid;

pub use crate::entity::outbox::OutboxStatus;

use crate::entity::outbox::{self, Entity as Outbox};
use crate::error::EngineError;
use crate::repo::json_rows;

/// The PostgreSQL notification channel of a schema's outbox. Per schema, so replicas of
/// one deployment wake each other and tenants in other schemas are left alone.
pub const NOTIFY_CHANNEL_PREFIX: &str = "redress_outbox_";

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub topic: String,
    pub appeal_id: Option<Uuid>,
    /// Unique per effect: delivering the same effect twice is recognised downstream, and
    /// writing it twice is a no-op here.
    pub idempotency_key: String,
    pub payload: serde_json::Value,
}

/// Queues items for delivery; an item whose key is already queued is skipped. Returns how
/// many were new.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    items: Vec<OutboxItem>,
    now: DateTime<Utc>,
) -> Result<u64, EngineError> {
    if items.is_empty() {
        return Ok(0);
    }
    let inserted = if json_rows::applies(conn) {
        insert_in_one_statement(conn, &items, now).await?
    } else {
        insert_many(conn, items, now).await?
    };
    if inserted > 0 {
        notify_dispatchers(conn).await?;
    }
    Ok(inserted)
}

/// One item as a row of the batch document, borrowed from the item.
#[derive(serde::Serialize)]
struct OutboxRow<'a> {
    id: Uuid,
    topic: &'a str,
    appeal_id: Option<Uuid>,
    idempotency_key: &'a str,
    payload: &'a serde_json::Value,
}

async fn insert_in_one_statement<C: ConnectionTrait>(
    conn: &C,
    items: &[OutboxItem],
    now: DateTime<Utc>,
) -> Result<u64, EngineError> {
    let documents: Vec<OutboxRow<'_>> = items
        .iter()
        .map(|item| OutboxRow {
            id: Uuid::now_v7(),
            topic: &item.topic,
            appeal_id: item.appeal_id,
            idempotency_key: &item.idempotency_key,
            payload: &item.payload,
        })
        .collect();
    let sql = format!(
        "INSERT INTO outbox (id, topic, appeal_id, idempotency_key, payload, status, attempts, \
         available_at, created_at) \
         SELECT r.id, r.topic, r.appeal_id, r.idempotency_key, r.payload, $2, 0, $3, $3 FROM {} \
         ON CONFLICT (idempotency_key) DO NOTHING",
        json_rows::recordset(
            1,
            &[
                ("id", "uuid"),
                ("topic", "text"),
                ("appeal_id", "uuid"),
                ("idempotency_key", "text"),
                ("payload", "jsonb"),
            ],
        )
    );
    Ok(json_rows::execute(
        conn,
        &sql,
        &documents,
        [OutboxStatus::Pending.into(), now.into()],
    )
    .await?)
}

async fn insert_many<C: ConnectionTrait>(
    conn: &C,
    items: Vec<OutboxItem>,
    now: DateTime<Utc>,
) -> Result<u64, EngineError> {
    let mut inserted = 0;
    for chunk in items.chunks(INSERT_CHUNK) {
        let statement = insert_statement(conn.get_database_backend(), chunk, now);
        inserted += conn.execute_raw(statement).await?.rows_affected();
    }
    Ok(inserted)
}

/// Keeps each statement well under the bind-parameter limit of SQLite.
const INSERT_CHUNK: usize = 1000;

/// One insert of `items` (at most [`INSERT_CHUNK`] of them), skipping keys already queued.
/// The caller wakes the dispatchers once it has run ([`notify_dispatchers`]).
pub(crate) fn insert_statement(
    backend: DbBackend,
    items: &[OutboxItem],
    now: DateTime<Utc>,
) -> Statement {
    let rows = items.iter().cloned().map(|item| outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        topic: Set(item.topic),
        appeal_id: Set(item.appeal_id),
        idempotency_key: Set(item.idempotency_key),
        payload: Set(item.payload),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        available_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    });
    Outbox::insert_many(rows)
        .on_conflict_do_nothing_on([outbox::Column::IdempotencyKey])
        .build(backend)
}

/// Wakes the dispatchers listening on PostgreSQL. A notification sent inside a transaction
/// is delivered at commit and dropped on rollback, so nobody wakes for rows that never
/// existed; the intake's hot path sends it right after its commit instead
/// (`crate::announce`). SQLite has no such signal; its dispatcher polls.
pub async fn notify_dispatchers<C: ConnectionTrait>(conn: &C) -> Result<(), EngineError> {
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres
        && !crate::announce::defer(crate::announce::Announcement::OutboxRows)
    {
        conn.execute_unprepared(&format!(
            "SELECT pg_notify('{NOTIFY_CHANNEL_PREFIX}' || coalesce(current_schema(), 'public'), '')"
        ))
        .await?;
    }
    Ok(())
}

/// A case's outbox items, for tests that check what was queued.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub async fn for_appeal<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
) -> Result<Vec<outbox::Model>, EngineError> {
    Ok(Outbox::find()
        .filter(outbox::Column::AppealId.eq(appeal_id))
        .order_by_asc(outbox::Column::CreatedAt)
        .order_by_asc(outbox::Column::Id)
        .all(conn)
        .await?)
}
