//! Channels out. Every type here implements [`redress_engine::delivery::Deliverer`] and is
//! driven by the outbox dispatcher; nothing is sent outside the outbox.

pub mod account_service;
pub mod case_details;
pub mod dm;
pub mod mail;
pub mod preview;
pub mod signature;
pub mod status_page;
pub mod wave;
pub mod webhook;
