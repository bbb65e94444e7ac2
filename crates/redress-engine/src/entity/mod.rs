//! sea-orm entities, one module per table. Columns mirror the migrations; enums are stored
//! as their wire names (see `redress_core::state`) and converted at the repository edge.

pub mod account;
pub mod appeal;
pub mod appeal_event;
pub mod appeal_status_token;
pub mod enforcement;
pub mod enforcement_incident;
pub mod message;
pub mod out_of_court_dispute;
pub mod outbox;
