//! The platform's account service over HTTP: each restoration is POSTed as JSON, signed
//! with HMAC-SHA256 of the body, with the restoration id as the idempotency key.

use std::time::Duration;

use redress_engine::restoration::{
    AccountService, AccountServiceError, RestorationReport, RestorationRequest,
};
use reqwest::StatusCode;

use crate::signature::{sign, IDEMPOTENCY_HEADER, SIGNATURE_HEADER};

/// Where the account service is and how to sign for it.
#[derive(Clone)]
pub struct HttpAccountService {
    client: reqwest::Client,
    endpoint: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for HttpAccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAccountService")
            .field("endpoint", &self.endpoint)
            .field("secret", &"***")
            .finish()
    }
}

impl HttpAccountService {
    /// `base_url` without a trailing slash; restorations go to `{base_url}/restorations`.
    pub fn new(
        base_url: &str,
        secret: impl Into<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            endpoint: format!("{}/restorations", base_url.trim_end_matches('/')),
            secret: secret.into(),
        })
    }
}

/// 408, 429 and 5xx are worth retrying with the same key; every other refusal is final.
fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

#[async_trait::async_trait]
impl AccountService for HttpAccountService {
    async fn restore(
        &self,
        request: &RestorationRequest,
    ) -> Result<RestorationReport, AccountServiceError> {
        let body = serde_json::to_vec(request)
            .map_err(|e| AccountServiceError::Refused(format!("unencodable request: {e}")))?;
        let response = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, request.restoration_id.to_string())
            .header(SIGNATURE_HEADER, sign(&self.secret, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| AccountServiceError::Retryable(format!("{}: {e}", self.endpoint)))?;
        let status = response.status();
        if status.is_success() {
            return response.json::<RestorationReport>().await.map_err(|e| {
                AccountServiceError::Retryable(format!("unreadable confirmation: {e}"))
            });
        }
        let text = response.text().await.unwrap_or_default();
        let reason = format!("{status}: {}", text.chars().take(500).collect::<String>());
        tracing::warn!(restoration = %request.restoration_id, %status, "account service did not confirm");
        if is_retryable(status) {
            Err(AccountServiceError::Retryable(reason))
        } else {
            Err(AccountServiceError::Refused(reason))
        }
    }
}
