//! Webhooks to the platform over HTTP, per the Standard Webhooks specification: each
//! `webhook` outbox item is POSTed as JSON to its endpoint with `webhook-id` (the event's
//! id, the same on every attempt and for every endpoint), `webhook-timestamp` (seconds,
//! at the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` for each of the
//! endpoint's active secrets, space-separated, so a receiver keeps verifying through a
//! secret rotation).
//!
//! The endpoint's URL is an administrator's input and its answers are the receiver's:
//! redirects are not followed, only the first bytes of an answer are read, and every
//! request has a deadline.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use redress_engine::delivery::{Deliverer, Delivery, DeliveryError, OutboxMessage};
use redress_engine::outbox::WebhookDelivery;
use redress_engine::webhooks::SECRET_PREFIX;
use redress_engine::{Clock, Engine};
use reqwest::StatusCode;
use sha2::Sha256;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// How much of an answer is read, for the error a failed delivery records.
const MAX_ANSWER_BYTES: usize = 1024;

/// A secret that is not `whsec_` and base64.
#[derive(Debug, thiserror::Error)]
#[error("a webhook secret must be whsec_ followed by base64")]
pub struct MalformedSecret;

/// `v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`, the key being the
/// base64 after `whsec_`.
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, MalformedSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or(MalformedSecret)?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| MalformedSecret)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|_| MalformedSecret)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret.
pub fn signatures(
    secrets: &[String],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, MalformedSecret> {
    let signed: Result<Vec<String>, MalformedSecret> = secrets
        .iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect();
    Ok(signed?.join(" "))
}

/// How webhooks are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Deadline of one request, connection included.
    pub timeout: Duration,
    /// Refuse endpoints on plain http (their deliveries are dead-lettered).
    pub require_https: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            require_https: true,
        }
    }
}

/// The deliverer of `webhook` items.
#[derive(Debug, Clone)]
pub struct WebhookDeliverer {
    engine: Engine,
    client: reqwest::Client,
    settings: WebhookSettings,
    /// The receiver compares `webhook-timestamp` with its own clock, so this is the wall
    /// clock whatever clock the engine runs on.
    wall_clock: Arc<dyn Clock>,
}

impl WebhookDeliverer {
    pub fn new(
        engine: Engine,
        settings: WebhookSettings,
        wall_clock: Arc<dyn Clock>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Redress-Webhooks/1")
            .build()?;
        Ok(Self {
            engine,
            client,
            settings,
            wall_clock,
        })
    }
}

/// 408, 429 and 5xx are worth retrying; a redirect or any other 4xx will not change by
/// itself (the endpoint must be corrected), so it is dead-lettered at once.
fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// Up to [`MAX_ANSWER_BYTES`] of the answer, as text.
async fn first_bytes(mut response: reqwest::Response) -> String {
    let mut read = Vec::new();
    while read.len() < MAX_ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => read.extend_from_slice(&chunk),
            _ => break,
        }
    }
    read.truncate(MAX_ANSWER_BYTES);
    String::from_utf8_lossy(&read).into_owned()
}

#[async_trait::async_trait]
impl Deliverer for WebhookDeliverer {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        let item = Delivery::<WebhookDelivery>::read(message)?.payload;
        let target = self
            .engine
            .webhook_target(item.endpoint_id)
            .await
            .map_err(|err| DeliveryError::Retryable(err.to_string()))?
            .ok_or_else(|| {
                DeliveryError::Permanent(format!(
                    "webhook endpoint {} no longer exists",
                    item.endpoint_id
                ))
            })?;
        if !target.enabled {
            return Err(DeliveryError::Permanent(format!(
                "webhook endpoint {} is disabled",
                item.endpoint_id
            )));
        }
        if self.settings.require_https && !target.url.to_ascii_lowercase().starts_with("https://") {
            return Err(DeliveryError::Permanent(format!(
                "webhook endpoint {} is not https and webhooks.require_https is set",
                item.endpoint_id
            )));
        }
        let body = serde_json::to_vec(&item.body)
            .map_err(|err| DeliveryError::Permanent(format!("unencodable body: {err}")))?;
        let id = item.message_id.to_string();
        let timestamp = self.wall_clock.now().timestamp();
        let signature = signatures(&target.secrets, &id, timestamp, &body)
            .map_err(|err| DeliveryError::Permanent(err.to_string()))?;
        let response = self
            .client
            .post(&target.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|err| {
                // The URL is in the error already; the body of a hostile answer is not.
                if err.is_builder() {
                    DeliveryError::Permanent(format!("unusable webhook url: {err}"))
                } else {
                    DeliveryError::Retryable(format!("webhook {}: {err}", item.endpoint_id))
                }
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!(
            "webhook endpoint {} answered {status}: {}",
            item.endpoint_id,
            first_bytes(response).await
        );
        if is_retryable(status) {
            Err(DeliveryError::Retryable(reason))
        } else {
            Err(DeliveryError::Permanent(reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference implementations.
    #[test]
    fn signs_like_the_reference_implementations() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .expect("sign");
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_secret_signs_and_a_malformed_one_is_refused() {
        let secrets = [
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            "whsec_c2Vjb25k".to_owned(),
        ];
        let header = signatures(&secrets, "m", 1, b"{}").expect("sign");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.split(' ').all(|part| part.starts_with("v1,")));
        assert!(sign("MfKQ9r8G", "m", 1, b"{}").is_err());
        assert!(sign("whsec_!!!", "m", 1, b"{}").is_err());
    }

    #[test]
    fn only_timeouts_throttling_and_server_errors_are_retried() {
        for status in [408, 429, 500, 502, 503] {
            assert!(
                is_retryable(StatusCode::from_u16(status).expect("status")),
                "{status}"
            );
        }
        for status in [301, 400, 401, 403, 404, 410, 413] {
            assert!(
                !is_retryable(StatusCode::from_u16(status).expect("status")),
                "{status}"
            );
        }
    }
}
