//! Social direct messages in: the X Account Activity webhook and the Meta (Instagram,
//! Messenger) webhook, and the page that confirms a handle by email.

mod confirm;
pub mod inbound;
pub mod meta;
mod routes;
pub mod settings;
pub mod signature;
pub mod x;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use redress_engine::Engine;

pub use inbound::Summary;
pub use routes::{META_SIGNATURE_HEADER, X_SIGNATURE_HEADER};
pub use settings::{MetaWebhook, SocialSettings, XWebhook};

pub const X_WEBHOOK_PATH: &str = "/webhooks/x";
pub const META_WEBHOOK_PATH: &str = "/webhooks/meta";
pub const CONFIRM_PATH: &str = "/social/confirm";

#[derive(Debug, Clone)]
pub struct SocialState {
    pub engine: Engine,
    pub settings: Arc<SocialSettings>,
}

/// The social routes, ready to merge into any router.
pub fn routes<S: Clone + Send + Sync + 'static>(
    engine: Engine,
    settings: SocialSettings,
) -> Router<S> {
    Router::new()
        .route(X_WEBHOOK_PATH, get(routes::x_crc).post(routes::x_events))
        .route(
            META_WEBHOOK_PATH,
            get(routes::meta_verify).post(routes::meta_events),
        )
        .route(CONFIRM_PATH, get(confirm::page).post(confirm::submit))
        .with_state(SocialState {
            engine,
            settings: Arc::new(settings),
        })
}
