//! Direct messages through the X API v2:
//! `POST /2/dm_conversations/with/{participant_id}/messages` with `{"text": ...}`.

use std::fmt;
use std::time::Duration;

use redress_engine::delivery::{Deliverer, DeliveryError, OutboxMessage};

use super::text::DmNotices;
use super::{outcome, text};

#[derive(Clone)]
pub struct XSender {
    notices: DmNotices,
    client: reqwest::Client,
    base_url: String,
    /// An OAuth 2.0 user-context token of the account that answers appeals.
    bearer_token: String,
}

impl fmt::Debug for XSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XSender")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl XSender {
    pub fn new(
        base_url: &str,
        bearer_token: &str,
        timeout: Duration,
        notices: DmNotices,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            notices,
            client: reqwest::Client::builder().timeout(timeout).build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            bearer_token: bearer_token.to_owned(),
        })
    }
}

#[async_trait::async_trait]
impl Deliverer for XSender {
    #[tracing::instrument(skip_all, fields(outbox_id = %message.id))]
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let text::DirectMessage { recipient, text } =
            text::for_message(message, &self.notices).await?;
        let url = format!(
            "{}/2/dm_conversations/with/{recipient}/messages",
            self.base_url
        );
        let result = self
            .client
            .post(url)
            .bearer_auth(&self.bearer_token)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await;
        outcome::classify("X", result).await
    }
}
