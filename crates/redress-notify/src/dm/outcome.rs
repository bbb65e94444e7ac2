//! How a send API's answer maps to the outbox: 2xx delivered, 429 and 5xx (and no answer)
//! retried later, any other status never succeeds as sent and is dead-lettered.

use redress_engine::delivery::DeliveryError;

pub async fn classify(
    platform: &str,
    result: Result<reqwest::Response, reqwest::Error>,
) -> Result<(), DeliveryError> {
    let response = result.map_err(|err| {
        DeliveryError::Retryable(format!("{platform} send API unreachable: {err}"))
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let detail = format!(
        "{platform} send API answered {status}: {}",
        body.chars().take(300).collect::<String>()
    );
    if status.as_u16() == 429 || status.is_server_error() {
        Err(DeliveryError::Retryable(detail))
    } else {
        Err(DeliveryError::Permanent(detail))
    }
}
