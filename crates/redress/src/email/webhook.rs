//! `POST /intake/email`: raw MIME from a provider's inbound webhook, through the same
//! pipeline as SMTP. 200 only after the commit; 503 (retry) when the database failed.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use redress_intake::email::{Delivered, EmailIntake, Envelope, IntakeError};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::Secret;

#[derive(Debug, Clone)]
struct WebhookState {
    intake: EmailIntake,
    secret_digest: [u8; 32],
}

/// The envelope, when the provider passes it along.
#[derive(Debug, Default, Deserialize)]
struct EnvelopeQuery {
    mail_from: Option<String>,
    rcpt_to: Option<String>,
}

pub fn routes(intake: EmailIntake, secret: Secret, max_message_bytes: usize) -> Router {
    let state = WebhookState {
        intake,
        secret_digest: Sha256::digest(secret.expose().as_bytes()).into(),
    };
    Router::new()
        .route("/intake/email", post(receive))
        .layer(DefaultBodyLimit::max(max_message_bytes.saturating_add(1)))
        .with_state(state)
}

async fn receive(
    State(state): State<WebhookState>,
    Query(query): Query<EnvelopeQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&headers, &state.secret_digest) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "unauthorized" })),
        )
            .into_response();
    }
    let envelope = Envelope {
        mail_from: query.mail_from,
        rcpt_to: query.rcpt_to.into_iter().collect(),
    };
    match state.intake.receive(&body, &envelope).await {
        Ok(delivered) => (StatusCode::OK, Json(outcome(&delivered))).into_response(),
        Err(IntakeError::Unavailable(err)) => {
            tracing::warn!(error = %err, "webhook message not stored");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "30")],
                Json(json!({ "error": "temporarily_unavailable" })),
            )
                .into_response()
        }
        Err(IntakeError::TooLarge { limit, .. }) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({ "error": "too_large", "limit": limit })),
        )
            .into_response(),
        Err(err) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "rejected", "reason": err.to_string() })),
        )
            .into_response(),
    }
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn authorised(headers: &HeaderMap, secret_digest: &[u8; 32]) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
    else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(token.trim().as_bytes()).into();
    digest
        .iter()
        .zip(secret_digest)
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

fn outcome(delivered: &Delivered) -> serde_json::Value {
    match delivered {
        Delivered::Filed {
            appeal_id,
            reference,
        } => json!({ "outcome": "filed", "appeal_id": appeal_id, "reference": reference }),
        Delivered::Threaded {
            appeal_id,
            reference,
        } => json!({ "outcome": "threaded", "appeal_id": appeal_id, "reference": reference }),
        Delivered::Duplicate { appeal_id } => {
            json!({ "outcome": "duplicate", "appeal_id": appeal_id })
        }
        Delivered::Recorded { classification } => {
            json!({ "outcome": "recorded", "classification": classification.as_str() })
        }
    }
}
