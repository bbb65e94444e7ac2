//! The Redress service: configuration, HTTP wiring and the command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod dead_letters;
pub mod deliverers;
pub mod http;
pub mod metrics;
pub mod telemetry;
pub mod token;
pub mod transparency;
pub mod workers;
