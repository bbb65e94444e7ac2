//! Redress use cases over the database.
//!
//! Data flows one way: a channel hands an [`IncomingAppeal`] to [`Engine::file`], staff
//! and workers issue core commands through [`Engine::apply`], and each of those writes the
//! appeal row, its events and its outbox items in one transaction. Repository functions in
//! [`repo`] take the connection, so a caller that needs a wider transaction owns it.
//!
//! Rules beyond the core's plug into that path through [`hooks`], registered when the
//! engine is built; [`restoration`] and [`transparency`] depend on the core, never the other
//! way round, and [`standard`] composes the rules every deployment runs.

mod announce;
pub mod appeal_window;
pub mod changes;
pub mod clock;
pub mod commands;
pub mod correspondence;
pub mod db;
pub mod dead_letters;
pub mod delivery;
pub mod direct_messages;
pub mod engine;
pub mod entity;
pub mod error;
pub mod filing;
pub mod hooks;
pub mod mail_id;
pub mod outbox;
pub mod query;
pub mod queue;
pub mod repo;
pub mod restoration;
pub mod settings;
pub mod standard;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod transact;
pub mod transparency;
pub mod worker;

pub use changes::{AppealChange, ChangeFeed};
pub use clock::{Clock, ManualClock, SystemClock};
pub use commands::Applied;
pub use correspondence::Recorded;
pub use engine::Engine;
pub use error::EngineError;
pub use filing::{Filing, IncomingAppeal};
pub use hooks::{Hooks, InTransaction};
pub use mail_id::MessageIdSigner;
pub use repo::appeals::StoredAppeal;
pub use settings::EngineSettings;
