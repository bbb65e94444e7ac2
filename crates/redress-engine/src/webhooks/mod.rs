//! The platform's webhook endpoints: where the platform hears what happened to appeals,
//! incidents and bulk restorations, signed per the Standard Webhooks specification.
//!
//! The write path queues one `platform_event` outbox row per event, in the transaction of
//! the change and whatever the endpoints ([`crate::outbox::PlatformEvent`]); its
//! deliverer here ([`WebhookFanOut`]) turns it into one `webhook` row per enabled endpoint
//! subscribed to the event's kind, each with the body that endpoint may receive. Those
//! rows are delivered, retried and dead-lettered one by one by the outbox dispatcher; the
//! HTTP deliverer that signs and posts them is a channel out (`redress-notify`).
//!
//! Endpoints are edited by administrators, every change audited. A secret is shown once,
//! when it is made; the API never returns it again.

mod fan_out;
mod store;

use std::str::FromStr;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use fan_out::WebhookFanOut;

use crate::error::EngineError;
use crate::outbox::PlatformEventKind;

/// The prefix of a Standard Webhooks secret; the rest is the key, base64.
pub const SECRET_PREFIX: &str = "whsec_";
/// Bytes of key in a secret Redress makes.
const SECRET_BYTES: usize = 32;
/// The longest URL an endpoint may have.
pub const MAX_URL_LENGTH: usize = 2048;
/// The longest description.
pub const MAX_DESCRIPTION_LENGTH: usize = 500;
/// How long the secrets a rotation replaces keep signing, at most.
pub const MAX_ROTATION_OVERLAP_HOURS: i64 = 24 * 30;

/// Audit actions of endpoint changes.
pub const AUDIT_CREATED: &str = "webhook_endpoint_created";
pub const AUDIT_UPDATED: &str = "webhook_endpoint_updated";
pub const AUDIT_SECRET_ROTATED: &str = "webhook_endpoint_secret_rotated";
pub const AUDIT_DELETED: &str = "webhook_endpoint_deleted";

/// An endpoint as administrators see it: never its secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Vec<PlatformEventKind>,
    /// Whether payloads carry the account id; otherwise only Redress's ids and states.
    pub include_account: bool,
    pub enabled: bool,
    /// Secrets that sign deliveries now (more than one while a rotation overlaps).
    pub active_secrets: usize,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// What an administrator gives to add an endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookEndpoint {
    pub url: String,
    pub description: String,
    pub events: Vec<PlatformEventKind>,
    pub include_account: bool,
}

/// A change to an endpoint; what is `None` stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookEndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<PlatformEventKind>>,
    pub include_account: Option<bool>,
    pub enabled: Option<bool>,
}

/// An endpoint with the secret just made for it, which is shown this once.
#[derive(Debug, Clone, PartialEq)]
pub struct WithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// Where a delivery goes and what signs it, for the deliverer alone.
#[derive(Clone, PartialEq)]
pub struct WebhookTarget {
    pub url: String,
    pub enabled: bool,
    /// `whsec_...`, each of which signs every delivery.
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("url", &self.url)
            .field("enabled", &self.enabled)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// A signing secret as stored.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSecret {
    pub secret: String,
    pub created_at: DateTime<Utc>,
    /// When a rotation retires it; none while it is the newest.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSecret")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl StoredSecret {
    fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|expires| expires > now)
    }
}

/// Why an endpoint change was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid webhook endpoint: {0}")]
    Invalid(String),
    #[error("webhook endpoint {0} not found")]
    NotFound(Uuid),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl crate::transact::TransactionError for WebhookError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            WebhookError::Engine(err) => Some(err),
            _ => None,
        }
    }
}

/// A fresh secret: `whsec_` and 32 random bytes, base64.
pub(crate) fn new_secret() -> String {
    let key: [u8; SECRET_BYTES] = rand::random();
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Checks an endpoint URL: http or https, a host, no credentials, no spaces or control
/// characters, bounded length. Whether plain http is acceptable is the deliverer's
/// configuration.
pub fn check_url(url: &str) -> Result<(), WebhookError> {
    let invalid = |why: &str| Err(WebhookError::Invalid(format!("url {why}")));
    if url.len() > MAX_URL_LENGTH {
        return invalid(&format!("is longer than {MAX_URL_LENGTH} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("contains whitespace or control characters");
    }
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return invalid("must start with https:// or http://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return invalid("must not carry credentials");
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty())
        .map_or(authority, |(host, _)| host);
    if host.is_empty() {
        return invalid("has no host");
    }
    Ok(())
}

fn check_events(events: &[PlatformEventKind]) -> Result<(), WebhookError> {
    if events.is_empty() {
        return Err(WebhookError::Invalid(
            "an endpoint must subscribe to at least one event type".to_owned(),
        ));
    }
    Ok(())
}

fn check_description(description: &str) -> Result<(), WebhookError> {
    if description.chars().count() > MAX_DESCRIPTION_LENGTH {
        return Err(WebhookError::Invalid(format!(
            "description is longer than {MAX_DESCRIPTION_LENGTH} characters"
        )));
    }
    Ok(())
}

/// Event types by their wire names (`appeal.decided`), refusing an unknown one by name.
pub fn parse_events(names: &[String]) -> Result<Vec<PlatformEventKind>, WebhookError> {
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let kind = PlatformEventKind::from_str(name).map_err(WebhookError::Invalid)?;
        if !events.contains(&kind) {
            events.push(kind);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        for good in [
            "https://platform.example/hooks",
            "http://127.0.0.1:8080/in",
            "https://h.example:443",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "ftp://platform.example/",
            "file:///etc/passwd",
            "https://",
            "https://:80/x",
            "https://user:pw@platform.example/",
            "https://platform.example/a b",
            "javascript:alert(1)",
            &format!("https://h.example/{}", "a".repeat(MAX_URL_LENGTH)),
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_standard_webhooks_secrets() {
        let secret = new_secret();
        let key = secret.strip_prefix(SECRET_PREFIX).expect("prefix");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .expect("base64");
        assert_eq!(bytes.len(), SECRET_BYTES);
        assert_ne!(secret, new_secret());
    }

    #[test]
    fn event_names_parse_and_unknown_ones_are_named() {
        let parsed =
            parse_events(&["appeal.filed".to_owned(), "appeal.filed".to_owned()]).expect("known");
        assert_eq!(parsed, vec![PlatformEventKind::AppealFiled]);
        let err = parse_events(&["appeal.eaten".to_owned()]).expect_err("unknown");
        assert!(err.to_string().contains("appeal.eaten"), "{err}");
    }
}
