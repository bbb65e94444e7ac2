//! Restorations: putting an account right after an appeal is won or a bulk job covers it.
//!
//! A restoration is recorded before anything is undone, so its id is stable and doubles as
//! the idempotency key sent to the account service. It is confirmed (with what was undone,
//! item by item, and what could not be) only when the backend says so; only then does the
//! appeal reach `restored`.

pub(crate) mod account_locks;
pub mod bulk;
pub mod confirm;
pub mod deliverer;
pub mod error;
pub mod notice;
pub mod plan;
pub mod records;
pub mod registry_writes;
pub mod selector;
pub mod service;

pub use bulk::{
    BulkJob, BulkJobStatus, BulkOutcome, BulkReport, BulkRestorer, ChunkOutcome, DryRun, SliceLeft,
};
pub use deliverer::RestorationDeliverer;
pub use error::RestorationError;
pub use plan::{
    ItemKind, ItemOutcome, ItemResult, PlannedItem, RestorationReport, RestorationRequest,
};
pub use records::RestorationStatus;
pub use selector::Selector;
pub use service::{AccountService, AccountServiceError, RestorationBackend};
