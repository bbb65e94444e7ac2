//! Applying a command to a stored appeal: the one path every state change takes.

use chrono::{DateTime, Utc};
use redress_core::{effects_of, transition, Actor, Command, Event};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::changes::{self, AppealChange};
use crate::error::EngineError;
use crate::hooks::{InTransaction, NewCase, RecordedCommand};
use crate::repo::appeals::{self, StoredAppeal};
use crate::repo::events;
use crate::repo::messages::{self, Message};
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
/// writes row + events + outbox items in `cx`'s transaction, then runs the decision
/// observers. The caller commits.
#[tracing::instrument(skip(cx, command, actor), fields(command = command.name()))]
pub async fn apply_command(
    cx: &InTransaction<'_>,
    appeal_id: Uuid,
    expected_version: Option<i64>,
    command: &Command,
    actor: &Actor,
) -> Result<Applied, EngineError> {
    let stored = appeals::find(cx.txn, appeal_id).await?;
    apply_to_loaded(cx, stored, expected_version, command, actor).await
}

/// [`apply_command`] on an appeal the caller has just read in this transaction (a claim
/// reads and locks its row in one statement).
pub(crate) async fn apply_to_loaded(
    cx: &InTransaction<'_>,
    mut stored: StoredAppeal,
    expected_version: Option<i64>,
    command: &Command,
    actor: &Actor,
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
    let events = transition::decide(&stored.appeal, &command, &actor, cx.now)?;
    let queue_before = stored.appeal.queue.clone();
    record(cx.txn, cx.settings, &mut stored, &events, cx.now).await?;
    let recorded = RecordedCommand {
        appeal: &stored,
        events: &events,
        command: &command,
        actor: &actor,
    };
    for observer in cx.hooks.decision_observers() {
        observer.observe(cx, &recorded).await?;
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
            outbox_items(stored, event)
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

/// Writes a new appeal from its events (`Filed`, and `Triaged` when a rule routed it), with
/// the message that opened it, its outbox items and what the new-case contributors add, all
/// in one batch: one round trip, since filing is the hot path of an appeal wave.
pub(crate) async fn record_new(
    cx: &InTransaction<'_>,
    stored: &StoredAppeal,
    events: &[Event],
    opening_message: Message,
) -> Result<(), EngineError> {
    let backend = cx.txn.get_database_backend();
    let mut new_case = NewCase::new(stored, cx.settings, events, backend, cx.now);
    for contributor in cx.hooks.new_case_contributors() {
        contributor.contribute(&mut new_case);
    }
    let (items, contributed) = new_case.into_writes();
    let mut batch = WriteBatch::default();
    batch.push(appeals::insert_statement(backend, stored, cx.settings));
    if let Some(event) = events::append_statement(backend, stored.id, 1, events)? {
        batch.push(event);
    }
    if !items.is_empty() {
        batch.push(outbox::insert_statement(backend, &items, cx.now));
    }
    for write in contributed {
        batch.push(write);
    }
    batch.push(messages::insert_statement(backend, opening_message));
    batch.execute(cx.txn).await?;
    if !items.is_empty() {
        outbox::notify_dispatchers(cx.txn).await?;
    }
    changes::notify_in_transaction(cx.txn, &AppealChange::of(stored, None)).await?;
    Ok(())
}

/// What `event` queues: its effects, and the platform event it is, if any.
fn outbox_items(stored: &StoredAppeal, event: &Event) -> Vec<OutboxItem> {
    effects_of(&stored.appeal, event)
        .iter()
        .map(|effect| crate::outbox::item_for_effect(stored, event.kind.name(), effect))
        .chain(crate::outbox::platform_item_for_event(stored, event))
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

/// One appeal of a batch, with the command it was given and the events the core decided.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub stored: StoredAppeal,
    pub command: Command,
    pub events: Vec<Event>,
}

/// [`apply_to_loaded`] for many appeals decided at once (`decided` and `upheld` events),
/// whose events the caller has had the core decide: folds each appeal's events, writes the
/// rows (each guarded by its version), the events and the outbox items of all of them in a
/// few statements, then runs the decision observers for each appeal as a single command
/// would. The caller commits.
pub(crate) async fn record_decisions(
    cx: &InTransaction<'_>,
    actor: &Actor,
    mut batch: Vec<Decided>,
) -> Result<Vec<Decided>, EngineError> {
    let mut before = Vec::with_capacity(batch.len());
    let mut items = Vec::new();
    for decided in &mut batch {
        before.push(decided.stored.version());
        let queue_before = decided.stored.appeal.queue.clone();
        for event in &decided.events {
            decided.stored.appeal.apply(event);
            items.extend(outbox_items(&decided.stored, event));
        }
        changes::notify_in_transaction(
            cx.txn,
            &AppealChange::of(&decided.stored, Some(&queue_before)),
        )
        .await?;
    }
    let rows: Vec<(&StoredAppeal, i64)> = batch
        .iter()
        .zip(&before)
        .map(|(decided, before)| (&decided.stored, *before))
        .collect();
    appeals::update_decided_if_version(cx.txn, &rows, cx.settings).await?;
    let histories: Vec<(Uuid, i64, &[Event])> = batch
        .iter()
        .zip(&before)
        .map(|(decided, before)| (decided.stored.id, before + 1, decided.events.as_slice()))
        .collect();
    events::append_many(cx.txn, &histories)
        .await
        .map_err(|err| match batch.first() {
            Some(first) => {
                conflict_on_duplicate_version(err, first.stored.id, first.stored.version())
            }
            None => err,
        })?;
    outbox::enqueue(cx.txn, items, cx.now).await?;
    for decided in &batch {
        let recorded = RecordedCommand {
            appeal: &decided.stored,
            events: &decided.events,
            command: &decided.command,
            actor,
        };
        for observer in cx.hooks.decision_observers() {
            observer.observe(cx, &recorded).await?;
        }
    }
    Ok(batch)
}
