//! Repository functions. Each takes the connection (`C: ConnectionTrait`), so the caller
//! decides the transaction they run in.

pub mod appeals;
pub mod audit;
pub mod events;
pub mod handles;
pub(crate) mod json_rows;
pub mod mail_signing_keys;
pub mod messages;
pub mod outbox;
pub mod outbox_delivery;
pub mod registry;
pub mod stats;
pub(crate) mod write_batch;
