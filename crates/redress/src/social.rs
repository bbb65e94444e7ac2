//! Social DM settings and wiring: the webhooks on the HTTP router, the DM senders in the
//! deliverer registry. Absent platform sections leave that platform off (its webhook
//! answers 404), so the first run needs none of this.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use redress_core::Channel;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::Engine;
use redress_intake::social::{MetaWebhook, SocialSettings, XWebhook, CONFIRM_PATH};
use redress_notify::dm::{DmNotices, MetaSender, XSender};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::config::{Config, Secret};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SocialConfig {
    /// The address people reach Redress at; confirmation links start with it.
    pub public_url: String,
    /// Webhook events timestamped further than this from now are refused (replays).
    pub max_event_age_seconds: u64,
    pub confirmation_valid_hours: u32,
    /// Timeout of one call to a send API.
    pub send_timeout_seconds: u64,
    pub x: Option<XConfig>,
    pub meta: Option<MetaConfig>,
}

impl Default for SocialConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            max_event_age_seconds: 24 * 60 * 60,
            confirmation_valid_hours: 24,
            send_timeout_seconds: 10,
            x: None,
            meta: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct XConfig {
    /// The app's consumer (API) secret: signs the CRC response and every webhook delivery.
    pub consumer_secret: Secret,
    /// OAuth 2.0 user-context token of the answering account; replies are not sent without it.
    #[serde(default)]
    pub bearer_token: Secret,
    #[serde(default = "default_x_api")]
    pub api_base_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaConfig {
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// Page access token for Messenger replies; replies are not sent without it.
    #[serde(default)]
    pub messenger_access_token: Secret,
    /// Access token of the Instagram professional account; replies are not sent without it.
    #[serde(default)]
    pub instagram_access_token: Secret,
    #[serde(default = "default_graph_api")]
    pub graph_base_url: String,
    #[serde(default = "default_graph_version")]
    pub api_version: String,
    /// Reply with the HUMAN_AGENT tag (7-day window instead of 24 hours; needs app review).
    #[serde(default)]
    pub human_agent_tag: bool,
}

fn default_x_api() -> String {
    "https://api.x.com".to_owned()
}

fn default_graph_api() -> String {
    "https://graph.facebook.com".to_owned()
}

fn default_graph_version() -> String {
    "v21.0".to_owned()
}

impl SocialConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_event_age_seconds == 0 || self.confirmation_valid_hours == 0 {
            return Err(
                "social.max_event_age_seconds and social.confirmation_valid_hours must be positive"
                    .to_owned(),
            );
        }
        if self
            .x
            .as_ref()
            .is_some_and(|x| x.consumer_secret.is_empty())
        {
            return Err("social.x.consumer_secret must not be empty".to_owned());
        }
        if self
            .meta
            .as_ref()
            .is_some_and(|m| m.app_secret.is_empty() || m.verify_token.is_empty())
        {
            return Err("social.meta.app_secret and verify_token must not be empty".to_owned());
        }
        Ok(())
    }

    pub fn intake_settings(&self) -> SocialSettings {
        SocialSettings {
            x: self.x.as_ref().map(|x| XWebhook {
                consumer_secret: x.consumer_secret.expose().to_owned(),
            }),
            meta: self.meta.as_ref().map(|m| MetaWebhook {
                app_secret: m.app_secret.expose().to_owned(),
                verify_token: m.verify_token.expose().to_owned(),
            }),
            max_event_age: chrono::TimeDelta::seconds(
                i64::try_from(self.max_event_age_seconds).unwrap_or(i64::MAX / 1000),
            ),
            confirmation: ConfirmationSettings {
                url: format!("{}{CONFIRM_PATH}", self.public_url.trim_end_matches('/')),
                valid_for: chrono::TimeDelta::hours(i64::from(self.confirmation_valid_hours)),
            },
        }
    }
}

/// The webhook and confirmation routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    redress_intake::social::routes(state.engine.clone(), state.config.social.intake_settings())
}

/// Registers a DM sender for each platform that has a token to send with.
pub fn register_deliverers(
    registry: &mut DelivererRegistry,
    engine: &Engine,
    config: &Config,
) -> anyhow::Result<()> {
    let social = &config.social;
    let notices = DmNotices {
        engine: engine.clone(),
        settings: config.transparency.notice_settings(),
        default_language: config.email.default_language.clone(),
    };
    let timeout = Duration::from_secs(social.send_timeout_seconds);
    if let Some(x) = social.x.as_ref().filter(|x| !x.bearer_token.is_empty()) {
        let sender = XSender::new(
            &x.api_base_url,
            x.bearer_token.expose(),
            timeout,
            notices.clone(),
        )
        .context("building the X DM client")?;
        redress_notify::dm::register(registry, Channel::X, Arc::new(sender));
    }
    if let Some(meta) = &social.meta {
        for (channel, token) in [
            (Channel::Messenger, &meta.messenger_access_token),
            (Channel::Instagram, &meta.instagram_access_token),
        ] {
            if token.is_empty() {
                continue;
            }
            let sender = MetaSender::new(
                &meta.graph_base_url,
                &meta.api_version,
                token.expose(),
                meta.human_agent_tag,
                timeout,
                notices.clone(),
            )
            .context("building the Meta DM client")?;
            redress_notify::dm::register(registry, channel, Arc::new(sender));
        }
    }
    Ok(())
}
