//! Hooks of filing: gates before a new case opens, contributions to its one batch of
//! writes, and hooks that run once it is recorded.

use std::any::Any;
use std::fmt::{self, Debug, Display};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redress_core::{Actor, Command, Event, Notice};
use sea_orm::{DbBackend, Statement};

use super::InTransaction;
use crate::entity::enforcement;
use crate::error::EngineError;
use crate::filing::IncomingAppeal;
use crate::outbox::{AppellantNotice, EffectItem, EffectPayload};
use crate::repo::appeals::StoredAppeal;
use crate::repo::outbox::OutboxItem;
use crate::settings::EngineSettings;

/// A case about to open: the message, and the account and enforcement filing linked it to.
#[derive(Debug, Clone, Copy)]
pub struct ProposedCase<'a> {
    /// As it will be stored (NULs replaced, an over-long channel message id digested).
    pub incoming: &'a IncomingAppeal,
    pub account_id: Option<&'a str>,
    pub enforcement: Option<&'a enforcement::Model>,
}

/// Decides whether a new case may open.
#[async_trait]
pub trait FilingGate: Debug + Send + Sync {
    /// Runs in the filing's transaction once the message was found to open a new case (no
    /// duplicate, no open case to join it to) and before anything is written. A refusal
    /// ends the filing in [`EngineError::Refused`]; the transaction then rolls back, unless
    /// the channel keeps and answers the message ([`FilingRefusal::answer_unfiled`]).
    async fn check(
        &self,
        cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Refusal>, EngineError>;
}

/// Decides, before a new case's first write, whether it is triaged at once (routing
/// rules). The first router to answer decides; the case is then written already triaged,
/// its `triaged` event in the same batch as its `filed` event.
#[async_trait]
pub trait CaseRouter: Debug + Send + Sync {
    /// Runs in the filing's transaction after the gates let the case open. Returns the
    /// command the system applies to the filed case (`Command::Route`), or `None` to leave
    /// it for the next router and, after the last, for a person.
    async fn route(
        &self,
        cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Command>, EngineError>;
}

/// Why a gate refused a new case: the gate's own type. Its `Display` is what the sender
/// reads (SMTP 554, the API's `BAD_USER_INPUT` message); the methods say what the refusal
/// leaves behind.
#[async_trait]
pub trait FilingRefusal: Display + Debug + Send + Sync + 'static {
    /// When the sender may file again, if the refusal ends by itself.
    fn until(&self) -> Option<DateTime<Utc>> {
        None
    }

    /// After the refused filing rolled back: what the refusal leaves on record (an audit
    /// entry), in a transaction of its own. Nothing by default.
    async fn record(
        &self,
        _cx: &InTransaction<'_>,
        _incoming: &IncomingAppeal,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    /// For a channel that must accept every message (a DM webhook cannot refuse one): keeps
    /// the message without a case and answers the sender on their channel, in the channel's
    /// transaction. Asked only of a refusal with an [`until`](FilingRefusal::until), which the
    /// channel reports as `Filing::Refused`. Returns whether it did; by default it does not,
    /// and the refusal stays the filing's error.
    async fn answer_unfiled(
        &self,
        _cx: &InTransaction<'_>,
        _incoming: &IncomingAppeal,
    ) -> Result<bool, EngineError> {
        Ok(false)
    }
}

/// A gate's refusal as the engine carries it. Callers that need the gate's type read it
/// back with [`Refusal::downcast_ref`].
#[derive(Clone)]
pub struct Refusal {
    refusal: Arc<dyn FilingRefusal>,
    typed: Arc<dyn Any + Send + Sync>,
}

impl Refusal {
    pub fn new<R: FilingRefusal>(refusal: R) -> Self {
        let refusal = Arc::new(refusal);
        Self {
            typed: refusal.clone(),
            refusal,
        }
    }

    /// The gate's refusal, if it is an `R`.
    pub fn downcast_ref<R: FilingRefusal>(&self) -> Option<&R> {
        self.typed.downcast_ref()
    }
}

impl std::ops::Deref for Refusal {
    type Target = dyn FilingRefusal;

    fn deref(&self) -> &Self::Target {
        &*self.refusal
    }
}

impl Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(&*self.refusal, f)
    }
}

impl Debug for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&*self.refusal, f)
    }
}

/// A new case's writes before they are sent. They go to the database as one batch, in one
/// round trip, so they must not depend on each other (see `repo::write_batch`).
#[derive(Debug)]
pub struct NewCase<'a> {
    appeal: &'a StoredAppeal,
    settings: &'a EngineSettings,
    backend: DbBackend,
    now: DateTime<Utc>,
    effects: Vec<EffectItem>,
    /// The platform events of the case's events (`appeal.filed`).
    platform_events: Vec<OutboxItem>,
    writes: Vec<Statement>,
}

impl<'a> NewCase<'a> {
    /// `appeal` as it stands after `events`, the first of which is its `filed` event; each
    /// event's effects are those of the case as that event left it.
    pub(crate) fn new(
        appeal: &'a StoredAppeal,
        settings: &'a EngineSettings,
        events: &[Event],
        backend: DbBackend,
        now: DateTime<Utc>,
    ) -> Self {
        let mut effects = Vec::new();
        let mut platform_events = Vec::new();
        let mut so_far: Option<StoredAppeal> = None;
        for event in events {
            match &mut so_far {
                Some(stored) => stored.appeal.apply(event),
                None => {
                    so_far = redress_core::Appeal::from_filed(event).map(|filed| StoredAppeal {
                        appeal: filed,
                        ..appeal.clone()
                    });
                }
            }
            if let Some(stored) = &so_far {
                effects.extend(
                    redress_core::effects_of(&stored.appeal, event)
                        .iter()
                        .map(|effect| EffectItem::for_effect(stored, event.kind.name(), effect)),
                );
                platform_events.extend(crate::outbox::platform_item_for_event(stored, event));
            }
        }
        Self {
            appeal,
            settings,
            backend,
            now,
            effects,
            platform_events,
            writes: Vec::new(),
        }
    }

    pub fn appeal(&self) -> &StoredAppeal {
        self.appeal
    }

    pub fn settings(&self) -> &EngineSettings {
        self.settings
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The acknowledgement the new case sends its appellant.
    pub fn acknowledgement_mut(&mut self) -> Option<&mut AppellantNotice> {
        self.effects
            .iter_mut()
            .find_map(|item| match &mut item.payload {
                EffectPayload::Notice(notice) if notice.notice == Notice::Acknowledgement => {
                    Some(notice)
                }
                _ => None,
            })
    }

    /// Adds a write to the batch. A plain INSERT, UPDATE or DELETE keeps the batch one
    /// statement on PostgreSQL; it cannot see the batch's other rows.
    pub fn write(&mut self, statement: Statement) {
        self.writes.push(statement);
    }

    /// The outbox items and the contributed writes.
    pub(crate) fn into_writes(self) -> (Vec<OutboxItem>, Vec<Statement>) {
        let items = self
            .effects
            .into_iter()
            .map(EffectItem::into_item)
            .chain(self.platform_events)
            .collect();
        (items, self.writes)
    }
}

/// Contributes to a new case's batch of writes.
pub trait NewCaseContributor: Debug + Send + Sync {
    fn contribute(&self, case: &mut NewCase<'_>);
}

/// A case just recorded, as the hooks after filing see it.
#[derive(Debug)]
pub struct FiledCase<'a> {
    appeal: StoredAppeal,
    pub enforcement: Option<&'a enforcement::Model>,
    /// The message that opened it, as stored.
    pub incoming: &'a IncomingAppeal,
    /// Who filed it.
    pub actor: &'a Actor,
}

impl<'a> FiledCase<'a> {
    pub(crate) fn new(
        appeal: StoredAppeal,
        enforcement: Option<&'a enforcement::Model>,
        incoming: &'a IncomingAppeal,
        actor: &'a Actor,
    ) -> Self {
        Self {
            appeal,
            enforcement,
            incoming,
            actor,
        }
    }

    /// The case as it stands, after whatever the hooks before applied to it.
    pub fn appeal(&self) -> &StoredAppeal {
        &self.appeal
    }

    /// Applies `command` to the case in the filing's transaction, as `actor`; the next hook
    /// and the channel see the result. Returns the events it recorded.
    pub async fn apply(
        &mut self,
        cx: &InTransaction<'_>,
        command: &Command,
        actor: &Actor,
    ) -> Result<Vec<Event>, EngineError> {
        let applied = cx.apply(self.appeal.clone(), command, actor).await?;
        self.appeal = applied.appeal;
        Ok(applied.events)
    }

    /// The case as a hook recorded it by other means than [`FiledCase::apply`].
    pub(crate) fn replace_appeal(&mut self, appeal: StoredAppeal) {
        self.appeal = appeal;
    }

    pub(crate) fn into_appeal(self) -> StoredAppeal {
        self.appeal
    }
}

/// Runs once a new case is recorded, in the filing's transaction.
#[async_trait]
pub trait AfterFiling: Debug + Send + Sync {
    /// An error rolls the whole filing back. Writes here cost round trips of their own,
    /// beyond the filing's one batch.
    async fn after_filing(
        &self,
        cx: &InTransaction<'_>,
        case: &mut FiledCase<'_>,
    ) -> Result<(), EngineError>;
}
