//! Applying a command to a stored appeal: the one path every state change takes.

use chrono::{DateTime, Utc};
use redress_core::{effects_of, transition, Actor, Command, Event, EventKind};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::changes::{self, AppealChange};
use crate::error::EngineError;
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::repo::messages::{self, NewMessage};
use crate::repo::outbox::{self, OutboxItem};
use crate::repo::write_batch::WriteBatch;
use crate::settings::EngineSettings;
use crate::text::WithoutNul;

/// The appeal after a command, and the events the command produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub appeal: StoredAppeal,
    pub events: Vec<Event>,
    /// The queue before the command, so views of a queue the appeal left can refresh.
    pub queue_before: String,
}

/// Loads the appeal, checks the caller's expected version, runs the core transition, and
/// writes row + events + outbox items through `conn`. The caller commits.
#[tracing::instrument(skip(conn, settings, command, actor), fields(command = command.name()))]
pub async fn apply_command<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    appeal_id: Uuid,
    expected_version: Option<i64>,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Applied, EngineError> {
    let stored = appeals::find(conn, appeal_id).await?;
    apply_to_loaded(
        conn,
        settings,
        stored,
        expected_version,
        command,
        actor,
        now,
    )
    .await
}

/// [`apply_command`] on an appeal the caller has just read in this transaction (a claim
/// reads and locks its row in one statement).
pub(crate) async fn apply_to_loaded<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    mut stored: StoredAppeal,
    expected_version: Option<i64>,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Applied, EngineError> {
    let appeal_id = stored.id;
    if let Some(expected) = expected_version {
        if expected != stored.version() {
            return Err(EngineError::Conflict {
                appeal: appeal_id,
                expected,
                actual: stored.version(),
            });
        }
    }
    let command = command.clone().without_nul();
    let actor = actor.clone().without_nul();
    let events = transition::decide(&stored.appeal, &command, &actor, now)?;
    let queue_before = stored.appeal.queue.clone();
    record(conn, settings, &mut stored, &events, now).await?;
    if events.iter().any(|e| matches!(e.kind, EventKind::Upheld)) {
        crate::transparency::throttle::after_upheld(conn, settings, &stored, now).await?;
    }
    Ok(Applied {
        appeal: stored,
        events,
        queue_before,
    })
}

/// Folds `events` into `stored` and writes the new row (guarded by the old version), the
/// events and their outbox items.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &mut StoredAppeal,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    record_keeping(conn, settings, stored, events, now, |_| true).await
}

/// [`record`], writing only the outbox items `keep` accepts: a bulk restoration sends one
/// notice per person itself instead of one per appeal.
pub(crate) async fn record_keeping<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &mut StoredAppeal,
    events: &[Event],
    now: DateTime<Utc>,
    keep: impl Fn(&OutboxItem) -> bool,
) -> Result<(), EngineError> {
    let before = stored.version();
    let queue_before = stored.appeal.queue.clone();
    let mut items = Vec::new();
    for event in events {
        stored.appeal.apply(event);
        items.extend(
            outbox_items(stored, event, None)
                .into_iter()
                .filter(|item| keep(item)),
        );
    }
    appeals::update_if_version(conn, stored, before, settings).await?;
    events::append(conn, stored.id, before + 1, events)
        .await
        .map_err(|e| conflict_on_duplicate_version(e, stored.id, before))?;
    outbox::enqueue(conn, items, now).await?;
    // Every writer (API, intake, workers) passes here, so on PostgreSQL every committed
    // change reaches live views on every replica.
    changes::notify_in_transaction(conn, &AppealChange::of(stored, Some(&queue_before))).await?;
    Ok(())
}

/// Writes a new appeal from its `Filed` event, with the message that opened it, the event
/// and its outbox items, all in one batch: one round trip, since filing is the hot path of
/// an appeal wave. The acknowledgement carries the status-page token, the only
/// place the token is ever written.
pub(crate) async fn record_new<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    stored: &StoredAppeal,
    filed: &Event,
    opening_message: NewMessage,
    status_token: &str,
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    let backend = conn.get_database_backend();
    let items = outbox_items(stored, filed, Some(status_token));
    let mut batch = WriteBatch::default();
    batch.push(appeals::insert_statement(backend, stored, settings));
    if let Some(event) =
        events::append_statement(backend, stored.id, 1, std::slice::from_ref(filed))?
    {
        batch.push(event);
    }
    if !items.is_empty() {
        batch.push(outbox::insert_statement(backend, &items, now));
    }
    batch.push(crate::transparency::status::store_token_statement(
        backend,
        stored.id,
        status_token,
        now,
    ));
    batch.push(messages::insert_statement(backend, opening_message));
    batch.execute(conn).await?;
    if !items.is_empty() {
        outbox::notify_dispatchers(conn).await?;
    }
    changes::notify_in_transaction(conn, &AppealChange::of(stored, None)).await?;
    Ok(())
}

fn outbox_items(
    stored: &StoredAppeal,
    event: &Event,
    status_token: Option<&str>,
) -> Vec<OutboxItem> {
    effects_of(&stored.appeal, event)
        .iter()
        .map(|effect| {
            crate::outbox::item_for_effect(stored, event.kind.name(), effect, status_token)
        })
        .collect()
}

fn conflict_on_duplicate_version(err: EngineError, appeal: Uuid, before: i64) -> EngineError {
    match &err {
        EngineError::Database(db) if crate::error::is_unique_violation(db) => {
            EngineError::Conflict {
                appeal,
                expected: before,
                actual: before + 1,
            }
        }
        _ => err,
    }
}
