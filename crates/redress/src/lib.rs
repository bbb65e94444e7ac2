//! The Redress service: configuration, HTTP wiring and the command line.

pub mod alerts;
pub mod app;
pub mod bulk_decisions;
pub mod bulk_restore_cli;
pub mod cli;
pub mod config;
pub mod console;
pub mod dead_letters;
pub mod deliverers;
pub mod demo;
pub mod email;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod notice_preview;
pub mod oidc;
pub mod privacy;
pub mod quality;
pub mod restoration;
pub mod routing;
pub mod social;
pub mod telemetry;
pub mod token;
pub mod transparency;
pub mod webhooks;
pub mod workers;
