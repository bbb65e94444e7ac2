//! The Redress service: configuration, HTTP wiring and the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod deliverers;
pub mod http;
pub mod telemetry;
pub mod token;
