//! The rules every deployment runs. The core's write path names no feature; each unit
//! registers its hooks here instead, in the order they run: the appeal window before the
//! throttle, as a closed window is the answer whatever the account did; routing after both,
//! since only a case that opens is routed.
//!
//! When the units move into crates of their own, this composition moves with them into the
//! crate that depends on all of them.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::appeal_window::AppealWindow;
use crate::clock::Clock;
use crate::engine::Engine;
use crate::hooks::Hooks;
use crate::quality;
use crate::restoration::bulk::late_appeals::CloseAppealsABulkRestoreAnswered;
use crate::routing;
use crate::settings::EngineSettings;
use crate::transparency;

/// The hooks of the standard rules.
pub fn hooks() -> Hooks {
    let mut hooks = Hooks::new();
    hooks.register_filing_gate(AppealWindow);
    transparency::register(&mut hooks);
    routing::register(&mut hooks);
    quality::register(&mut hooks);
    hooks
        .register_after_filing(CloseAppealsABulkRestoreAnswered)
        .register_decision_observer(CloseAppealsABulkRestoreAnswered);
    hooks
}

impl Engine {
    /// An engine with the standard rules ([`hooks`]).
    pub fn new(db: DatabaseConnection, settings: EngineSettings, clock: Arc<dyn Clock>) -> Self {
        Self::with_hooks(db, settings, clock, hooks())
    }
}
