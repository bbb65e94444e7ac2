//! The webhook endpoints. Signatures are checked on the raw body before anything is parsed;
//! a delivery is answered 200 only after everything in it is committed or refused for good,
//! and 503 (the platform retries) only when the failure may pass.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::inbound::{ingest, loggable, Inbound};
use super::signature;
use super::{meta, x, SocialState};

pub const X_SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";
pub const META_SIGNATURE_HEADER: &str = "x-hub-signature-256";

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn not_configured(platform: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("the {platform} webhook is not configured"),
    )
}

/// X's challenge-response check, sent when the webhook is registered and hourly after.
pub async fn x_crc(
    State(state): State<SocialState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(x) = &state.settings.x else {
        return not_configured("X");
    };
    let Some(crc_token) = query.get("crc_token") else {
        return error(StatusCode::BAD_REQUEST, "crc_token is missing");
    };
    let response_token = signature::x_signature(x.consumer_secret.as_bytes(), crc_token.as_bytes());
    Json(json!({ "response_token": response_token })).into_response()
}

pub async fn x_events(
    State(state): State<SocialState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(x) = &state.settings.x else {
        return not_configured("X");
    };
    if !signed(&headers, X_SIGNATURE_HEADER, |h| {
        signature::verify_x(x.consumer_secret.as_bytes(), &body, h)
    }) {
        return unauthorized("X");
    }
    let activity: x::Activity = match serde_json::from_slice(&body) {
        Ok(activity) => activity,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("unreadable payload: {}", loggable(&err.to_string())),
            )
        }
    };
    file(&state, activity.into_inbound()).await
}

/// Meta's subscription handshake: echo `hub.challenge` only for our verify token.
pub async fn meta_verify(
    State(state): State<SocialState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(meta) = &state.settings.meta else {
        return not_configured("Meta");
    };
    let mode = query.get("hub.mode").map(String::as_str);
    let token = query.get("hub.verify_token").map(String::as_str);
    match (mode, token, query.get("hub.challenge")) {
        (Some("subscribe"), Some(token), Some(challenge)) if token == meta.verify_token => {
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => error(StatusCode::FORBIDDEN, "verification failed"),
    }
}

pub async fn meta_events(
    State(state): State<SocialState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(meta) = &state.settings.meta else {
        return not_configured("Meta");
    };
    if !signed(&headers, META_SIGNATURE_HEADER, |h| {
        signature::verify_meta(meta.app_secret.as_bytes(), &body, h)
    }) {
        return unauthorized("Meta");
    }
    let notification: meta::Notification = match serde_json::from_slice(&body) {
        Ok(notification) => notification,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("unreadable payload: {}", loggable(&err.to_string())),
            )
        }
    };
    let Some(channel) = notification.channel() else {
        tracing::info!(object = %notification.object, "ignoring a Meta notification about another product");
        return (
            StatusCode::OK,
            Json(json!({ "ignored": notification.entry.len() })),
        )
            .into_response();
    };
    file(&state, notification.into_inbound(channel)).await
}

fn signed(headers: &HeaderMap, name: &str, verify: impl Fn(&str) -> bool) -> bool {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .is_some_and(verify)
}

fn unauthorized(platform: &str) -> Response {
    tracing::warn!(
        platform,
        "refusing a webhook delivery with a missing or bad signature"
    );
    error(StatusCode::UNAUTHORIZED, "missing or invalid signature")
}

async fn file(state: &SocialState, entries: Vec<Inbound>) -> Response {
    match ingest(state, entries).await {
        Ok(summary) => (StatusCode::OK, Json(summary)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "filing a DM failed; the platform will retry");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unable to store the delivery",
            )
        }
    }
}
