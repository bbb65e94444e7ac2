//! Direct messages through Meta's Send API (Messenger and Instagram):
//! `POST /{version}/me/messages` with `recipient.id` and `message.text`.

use std::fmt;
use std::time::Duration;

use redress_engine::delivery::{Deliverer, DeliveryError, OutboxMessage};
use serde_json::json;

use super::text::DmNotices;
use super::{outcome, text};

#[derive(Clone)]
pub struct MetaSender {
    notices: DmNotices,
    client: reqwest::Client,
    /// e.g. `https://graph.facebook.com/v21.0`.
    endpoint: String,
    /// The page (or Instagram professional account) access token.
    access_token: String,
    /// Send with the `HUMAN_AGENT` tag, which the platform allows for seven days after the
    /// user's last message (instead of 24 hours) once the app is approved for it.
    human_agent_tag: bool,
}

impl fmt::Debug for MetaSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaSender")
            .field("endpoint", &self.endpoint)
            .field("human_agent_tag", &self.human_agent_tag)
            .finish_non_exhaustive()
    }
}

impl MetaSender {
    pub fn new(
        base_url: &str,
        api_version: &str,
        access_token: &str,
        human_agent_tag: bool,
        timeout: Duration,
        notices: DmNotices,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            notices,
            client: reqwest::Client::builder().timeout(timeout).build()?,
            endpoint: format!("{}/{}", base_url.trim_end_matches('/'), api_version),
            access_token: access_token.to_owned(),
            human_agent_tag,
        })
    }
}

#[async_trait::async_trait]
impl Deliverer for MetaSender {
    #[tracing::instrument(skip_all, fields(outbox_id = %message.id))]
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let text::DirectMessage { recipient, text } =
            text::for_message(message, &self.notices).await?;
        let mut body = json!({
            "recipient": { "id": recipient },
            "messaging_type": "RESPONSE",
            "message": { "text": text },
        });
        if self.human_agent_tag {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
        let result = self
            .client
            .post(format!("{}/me/messages", self.endpoint))
            .bearer_auth(&self.access_token)
            .json(&body)
            .send()
            .await;
        outcome::classify("Meta", result).await
    }
}
