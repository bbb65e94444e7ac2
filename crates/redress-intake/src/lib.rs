//! Channels in. Each channel turns what arrives into one
//! [`redress_engine::IncomingAppeal`] and hands it to the engine; nothing is acknowledged to
//! the sender before the engine has committed it.

pub mod email;
