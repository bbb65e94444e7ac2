//! What the social webhooks need to know. Secrets never print.

use std::fmt;

use chrono::TimeDelta;
use redress_engine::direct_messages::ConfirmationSettings;

#[derive(Clone)]
pub struct XWebhook {
    /// The app's consumer secret: the key of the CRC response and of every signature.
    pub consumer_secret: String,
}

impl fmt::Debug for XWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XWebhook")
            .field("consumer_secret", &"***")
            .finish()
    }
}

#[derive(Clone)]
pub struct MetaWebhook {
    /// The app secret: the key of `X-Hub-Signature-256`.
    pub app_secret: String,
    /// Chosen by the operator and entered in the app dashboard; the handshake echoes the
    /// challenge only when Meta presents it.
    pub verify_token: String,
}

impl fmt::Debug for MetaWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaWebhook")
            .field("app_secret", &"***")
            .field("verify_token", &"***")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct SocialSettings {
    /// `None`: the X webhook answers 404.
    pub x: Option<XWebhook>,
    /// `None`: the Meta webhook answers 404.
    pub meta: Option<MetaWebhook>,
    /// Events whose platform timestamp is further than this from now are refused, so a
    /// captured delivery cannot be replayed later.
    pub max_event_age: TimeDelta,
    pub confirmation: ConfirmationSettings,
}
