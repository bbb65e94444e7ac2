//! Redress use cases over the database.
//!
//! Data flows one way: a channel hands an [`IncomingAppeal`] to [`Engine::file`], staff
//! and workers issue core commands through [`Engine::apply`], and each of those writes the
//! appeal row, its events and its outbox items in one transaction.
//!
//! Storage is the engine's alone: the connection, the rows (`entity`) and the queries over
//! them (`repo`, `db`) are private to this crate, and other crates reach the data only
//! through [`Engine`]'s use cases and the plain types they return. Tests, which arrange
//! and inspect rows directly, get those modules and `Engine::db` with the `testing`
//! feature.
//!
//! Rules beyond the core's plug into that path through [`hooks`], registered when the
//! engine is built; [`quality`], [`restoration`], [`routing`] and [`transparency`] depend on
//! the core, never the other way round, and [`standard`] composes the rules every
//! deployment runs.

mod announce;
pub mod appeal_window;
pub mod bulk_decisions;
pub mod catalog;
pub mod changes;
pub mod clock;
pub mod commands;
pub mod correspondence;
#[cfg(feature = "testing")]
pub mod db;
#[cfg(not(feature = "testing"))]
mod db;
pub mod dead_letters;
pub mod delivery;
pub mod direct_messages;
pub mod engine;
#[cfg(feature = "testing")]
pub mod entity;
#[cfg(not(feature = "testing"))]
mod entity;
pub mod error;
pub mod filing;
pub mod hooks;
pub mod language;
pub mod link_keys;
pub mod mail_id;
pub mod outbox;
pub mod policies;
pub mod privacy;
pub mod quality;
pub mod query;
pub mod queue;
pub mod registry;
#[cfg(feature = "testing")]
pub mod repo;
#[cfg(not(feature = "testing"))]
mod repo;
pub mod restoration;
pub mod review_sampling;
pub mod routing;
pub mod search;
pub mod settings;
pub mod staff_sessions;
pub mod standard;
pub mod stats;
pub mod storage;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;
mod transact;
pub mod transparency;
pub mod triage;
pub mod webhooks;
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
