//! Email intake: the SMTP listener and the raw-MIME pipeline behind it (shared with the
//! HTTP webhook), and the rules that decide what a message is, who sent it and which case
//! it belongs to.

pub mod auth_results;
pub mod classify;
pub mod mime;
pub mod pipeline;
pub mod settings;
pub mod smtp;
pub mod structure;
pub mod threading;

pub use classify::Classification;
pub use pipeline::{Delivered, EmailIntake, Envelope, IntakeError};
pub use settings::EmailIntakeSettings;
