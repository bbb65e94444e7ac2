//! The Redress service: configuration, HTTP wiring and the command line.

pub mod app;
pub mod bulk_restore_cli;
pub mod cli;
pub mod config;
pub mod deliverers;
pub mod http;
pub mod restoration;
pub mod telemetry;
pub mod token;
