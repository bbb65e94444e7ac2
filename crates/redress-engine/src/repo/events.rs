//! The append-only event log.

use std::collections::HashMap;

use redress_core::{Actor, Event};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QueryTrait, Statement,
};
use uuid::Uuid;

use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::error::EngineError;

fn actor_columns(actor: &Actor) -> (&'static str, String) {
    match actor {
        Actor::Staff { subject, .. } => ("staff", subject.clone()),
        Actor::Appellant { identity } => ("appellant", identity.clone()),
        Actor::System { component } => ("system", component.clone()),
    }
}

/// One event as a row of the batch document, its payload serialised in place.
#[derive(serde::Serialize)]
struct EventRow<'a> {
    appeal_id: Uuid,
    version: i64,
    kind: &'a str,
    actor_kind: &'static str,
    actor_id: String,
    payload: &'a Event,
    occurred_at: chrono::DateTime<chrono::Utc>,
}

/// Appends events numbered from `first_version`. The `(appeal_id, version)` key makes a
/// second writer of the same version fail instead of forking the history.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
    first_version: i64,
    events: &[Event],
) -> Result<(), EngineError> {
    if let Some(statement) = append_statement(
        conn.get_database_backend(),
        appeal_id,
        first_version,
        events,
    )? {
        conn.execute_raw(statement).await?;
    }
    Ok(())
}

/// The insert [`append`] runs; `None` when there is nothing to append.
pub fn append_statement(
    backend: DbBackend,
    appeal_id: Uuid,
    first_version: i64,
    events: &[Event],
) -> Result<Option<Statement>, EngineError> {
    if events.is_empty() {
        return Ok(None);
    }
    let mut rows = Vec::with_capacity(events.len());
    for (offset, event) in events.iter().enumerate() {
        let (actor_kind, actor_id) = actor_columns(&event.actor);
        let payload =
            serde_json::to_value(event).map_err(|e| EngineError::corrupt("event", appeal_id, e))?;
        rows.push(appeal_event::ActiveModel {
            appeal_id: Set(appeal_id),
            version: Set(first_version + offset as i64),
            kind: Set(event.kind.name().to_owned()),
            actor_kind: Set(actor_kind.to_owned()),
            actor_id: Set(actor_id),
            payload: Set(payload),
            occurred_at: Set(event.at),
        });
    }
    Ok(Some(AppealEvents::insert_many(rows).build(backend)))
}

/// The whole history of an appeal, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    appeal_id: Uuid,
) -> Result<Vec<(i64, Event)>, EngineError> {
    let rows = AppealEvents::find()
        .filter(appeal_event::Column::AppealId.eq(appeal_id))
        .order_by_asc(appeal_event::Column::Version)
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            let event: Event = serde_json::from_value(row.payload)
                .map_err(|e| EngineError::corrupt("event", appeal_id, e))?;
            Ok((row.version, event))
        })
        .collect()
}

/// The histories of the given appeals, each oldest first, read a thousand appeals at a
/// time (well under PostgreSQL's bind-parameter limit).
pub async fn histories_of<C: ConnectionTrait>(
    conn: &C,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, Vec<(i64, Event)>>, EngineError> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut histories: HashMap<Uuid, Vec<(i64, Event)>> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        for row in AppealEvents::find()
            .filter(appeal_event::Column::AppealId.is_in(chunk.iter().copied()))
            .order_by_asc(appeal_event::Column::AppealId)
            .order_by_asc(appeal_event::Column::Version)
            .all(conn)
            .await?
        {
            let event: Event = serde_json::from_value(row.payload)
                .map_err(|e| EngineError::corrupt("event", row.appeal_id, e))?;
            histories
                .entry(row.appeal_id)
                .or_default()
                .push((row.version, event));
        }
    }
    Ok(histories)
}

/// Appends the events of many appeals, each numbered from its own first version: one
/// statement on PostgreSQL (the rows as one JSON document), multi-row inserts on SQLite.
pub async fn append_many<C: ConnectionTrait>(
    conn: &C,
    histories: &[(Uuid, i64, &[Event])],
) -> Result<(), EngineError> {
    if histories.iter().all(|(_, _, events)| events.is_empty()) {
        return Ok(());
    }
    if crate::repo::json_rows::applies(conn) {
        let documents: Vec<EventRow<'_>> = histories
            .iter()
            .flat_map(|(appeal_id, first_version, events)| {
                events.iter().enumerate().map(move |(offset, event)| {
                    let (actor_kind, actor_id) = actor_columns(&event.actor);
                    EventRow {
                        appeal_id: *appeal_id,
                        version: first_version + offset as i64,
                        kind: event.kind.name(),
                        actor_kind,
                        actor_id,
                        payload: event,
                        occurred_at: event.at,
                    }
                })
            })
            .collect();
        let sql = format!(
            "INSERT INTO appeal_events (appeal_id, version, kind, actor_kind, actor_id, payload, \
             occurred_at) SELECT r.appeal_id, r.version, r.kind, r.actor_kind, r.actor_id, \
             r.payload, r.occurred_at FROM {}",
            crate::repo::json_rows::recordset(
                1,
                &[
                    ("appeal_id", "uuid"),
                    ("version", "bigint"),
                    ("kind", "text"),
                    ("actor_kind", "text"),
                    ("actor_id", "text"),
                    ("payload", "jsonb"),
                    ("occurred_at", "timestamptz"),
                ],
            )
        );
        crate::repo::json_rows::execute(conn, &sql, &documents, []).await?;
        return Ok(());
    }
    let mut rows = Vec::new();
    for (appeal_id, first_version, events) in histories {
        for (offset, event) in events.iter().enumerate() {
            let (actor_kind, actor_id) = actor_columns(&event.actor);
            let payload = serde_json::to_value(event)
                .map_err(|e| EngineError::corrupt("event", appeal_id, e))?;
            rows.push(appeal_event::Model {
                appeal_id: *appeal_id,
                version: first_version + offset as i64,
                kind: event.kind.name().to_owned(),
                actor_kind: actor_kind.to_owned(),
                actor_id,
                payload,
                occurred_at: event.at,
            });
        }
    }
    // Seven values a row: a thousand rows keep each statement under SQLite's bind limit.
    for chunk in rows.chunks(1000) {
        AppealEvents::insert_many(chunk.iter().cloned().map(appeal_event::ActiveModel::from))
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
