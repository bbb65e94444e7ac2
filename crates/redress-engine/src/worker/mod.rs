//! Background workers: the outbox dispatcher, SLA timers, claim-lease reaping and the
//! closing of appeals whose appellant never answered. Every worker is safe to run in many
//! replicas at once: work is claimed by row locks (`FOR UPDATE SKIP LOCKED` on PostgreSQL)
//! and each change is one transaction.

pub mod awaiting;
pub mod backoff;
pub(crate) mod batch;
pub mod dispatcher;
pub mod leases;
mod outbox_lease;
pub mod runner;
pub mod sla;
pub mod wakeup;

pub use backoff::Backoff;
pub use batch::RoundReport;
pub use dispatcher::{DispatchReport, DispatchSettings, Dispatcher};

impl Dispatcher {
    /// A dispatcher over the engine's database and clock.
    pub fn for_engine(
        engine: &crate::Engine,
        registry: std::sync::Arc<crate::delivery::DelivererRegistry>,
        settings: DispatchSettings,
    ) -> Self {
        Dispatcher::new(
            engine.db().clone(),
            engine.clock().clone(),
            registry,
            settings,
        )
    }
}
