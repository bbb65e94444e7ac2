//! Named points where rules plug into the write path, so the core carries a feature's rules
//! out without knowing them. Each kind runs inside the transaction of the write it belongs
//! to, in the order the hooks were registered:
//!
//! - [`FilingGate`]: before a new case opens, after duplicates and open cases were ruled
//!   out; may refuse it with a typed [`FilingRefusal`] of its own (the appeal window, the
//!   appeals throttle).
//! - [`NewCaseContributor`]: adds independent writes to the new case's one batch and amends
//!   the notices it queues (the status-page token). It cannot wait on the database, so a
//!   filing stays one round trip whatever is registered.
//! - [`CaseRouter`]: after the gates and before the first write; may triage the new case at
//!   once (routing rules), so that it is written already triaged, in the same one batch.
//! - [`AfterFiling`]: once the new case is recorded; may read, write and apply core
//!   commands to it; each write here costs a round trip of its own.
//! - [`DecisionObserver`]: after a command's events are recorded (the throttle counting
//!   upheld decisions).
//!
//! Hooks are registered when the engine is built ([`crate::Engine::with_hooks`]); a hook that
//! fails fails the write it runs in, which rolls back.

mod decisions;
mod filing;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use redress_core::{Actor, Command};
use sea_orm::DatabaseTransaction;

use crate::commands::{self, Applied};
use crate::error::EngineError;
use crate::repo::appeals::StoredAppeal;
use crate::settings::EngineSettings;

pub use decisions::{DecisionObserver, RecordedCommand};
pub use filing::{
    AfterFiling, CaseRouter, FiledCase, FilingGate, FilingRefusal, NewCase, NewCaseContributor,
    ProposedCase, Refusal,
};

/// The hooks an engine runs, by kind, each kind in registration order.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// State a unit shares between its hooks and its use cases on the engine (the routing
    /// rules in force), one value per type.
    shared: Shared,
    filing_gates: Vec<Arc<dyn FilingGate>>,
    new_case_contributors: Vec<Arc<dyn NewCaseContributor>>,
    case_routers: Vec<Arc<dyn CaseRouter>>,
    after_filing: Vec<Arc<dyn AfterFiling>>,
    decision_observers: Vec<Arc<dyn DecisionObserver>>,
}

impl Hooks {
    /// No hooks: the core's write path alone.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register_filing_gate(&mut self, gate: impl FilingGate + 'static) -> &mut Self {
        self.filing_gates.push(Arc::new(gate));
        self
    }

    pub fn register_new_case_contributor(
        &mut self,
        contributor: impl NewCaseContributor + 'static,
    ) -> &mut Self {
        self.new_case_contributors.push(Arc::new(contributor));
        self
    }

    pub fn register_case_router(&mut self, router: impl CaseRouter + 'static) -> &mut Self {
        self.case_routers.push(Arc::new(router));
        self
    }

    pub fn register_after_filing(&mut self, hook: impl AfterFiling + 'static) -> &mut Self {
        self.after_filing.push(Arc::new(hook));
        self
    }

    pub fn register_decision_observer(
        &mut self,
        observer: impl DecisionObserver + 'static,
    ) -> &mut Self {
        self.decision_observers.push(Arc::new(observer));
        self
    }

    /// Keeps `value` for the unit's use cases to find with [`Hooks::shared`]; one per type.
    pub fn share<T: Any + Send + Sync>(&mut self, value: Arc<T>) -> &mut Self {
        self.shared.0.insert(TypeId::of::<T>(), value);
        self
    }

    /// What a unit registered with [`Hooks::share`], if it did.
    pub fn shared<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.shared
            .0
            .get(&TypeId::of::<T>())
            .and_then(|value| value.clone().downcast().ok())
    }

    pub(crate) fn filing_gates(&self) -> &[Arc<dyn FilingGate>] {
        &self.filing_gates
    }

    pub(crate) fn new_case_contributors(&self) -> &[Arc<dyn NewCaseContributor>] {
        &self.new_case_contributors
    }

    pub(crate) fn case_routers(&self) -> &[Arc<dyn CaseRouter>] {
        &self.case_routers
    }

    pub(crate) fn after_filing(&self) -> &[Arc<dyn AfterFiling>] {
        &self.after_filing
    }

    pub(crate) fn decision_observers(&self) -> &[Arc<dyn DecisionObserver>] {
        &self.decision_observers
    }
}

#[derive(Clone, Default)]
struct Shared(HashMap<TypeId, Arc<dyn Any + Send + Sync>>);

impl Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shared({} values)", self.0.len())
    }
}

/// A write's transaction with what the engine's rules need in it: the settings, the hooks
/// (so a command applied here runs the observers like any other) and the time the write
/// happens at. Hooks receive one, and the core's use cases pass one down.
#[derive(Debug, Clone, Copy)]
pub struct InTransaction<'a> {
    pub txn: &'a DatabaseTransaction,
    pub settings: &'a EngineSettings,
    pub hooks: &'a Hooks,
    pub now: DateTime<Utc>,
}

impl InTransaction<'_> {
    /// Applies `command` to `appeal`, as read in this transaction, through the path every
    /// state change takes (the transition, the row, the events, the outbox, the observers).
    pub async fn apply(
        &self,
        appeal: StoredAppeal,
        command: &Command,
        actor: &Actor,
    ) -> Result<Applied, EngineError> {
        commands::apply_to_loaded(self, appeal, None, command, actor).await
    }
}
