//! sea-orm entities, one module per table. Columns mirror the migrations; enums are stored
//! as their wire names (see `redress_core::state`) and converted at the repository edge.

pub mod account;
pub mod appeal;
pub mod appeal_event;
pub mod appeal_status_token;
pub mod audit_entry;
pub mod bulk_restore_job;
pub mod bulk_restore_outcome;
pub mod bulk_restore_slice;
pub mod bulk_restore_target;
pub mod enforcement;
pub mod enforcement_incident;
pub mod handle_confirmation;
pub mod linked_handle;
pub mod mail_signing_key;
pub mod message;
pub mod out_of_court_dispute;
pub mod outbox;
pub mod restoration;
pub mod restoration_item;
