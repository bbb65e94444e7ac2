//! Hooks that watch commands being applied.

use std::fmt::Debug;

use async_trait::async_trait;
use redress_core::{Actor, Command, Event};

use super::InTransaction;
use crate::error::EngineError;
use crate::repo::appeals::StoredAppeal;

/// A command whose events were just recorded.
#[derive(Debug, Clone, Copy)]
pub struct RecordedCommand<'a> {
    /// The appeal after the events.
    pub appeal: &'a StoredAppeal,
    pub events: &'a [Event],
    pub command: &'a Command,
    pub actor: &'a Actor,
}

/// Runs after every command applied through the engine (staff, workers, restorations,
/// hooks), in the command's transaction, once its row, events and outbox items are
/// written. An error rolls the command back.
#[async_trait]
pub trait DecisionObserver: Debug + Send + Sync {
    async fn observe(
        &self,
        cx: &InTransaction<'_>,
        recorded: &RecordedCommand<'_>,
    ) -> Result<(), EngineError>;
}
