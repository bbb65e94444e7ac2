//! The page a confirmation link opens. Opening it (GET) only shows a button, because mail
//! scanners open links by themselves; pressing it (POST) links the handle.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use redress_engine::EngineError;

use super::SocialState;

pub async fn page(Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(token) = query.get("token").filter(|t| is_token(t)) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(document("This link is incomplete.")),
        )
            .into_response();
    };
    Html(document(&format!(
        "<p>Link this social account to your appeal?</p>\
         <form method=\"post\" action=\"?token={token}\"><button type=\"submit\">Confirm</button></form>"
    )))
    .into_response()
}

pub async fn submit(
    State(state): State<SocialState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(token) = query.get("token").filter(|t| is_token(t)) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(document("This link is incomplete.")),
        )
            .into_response();
    };
    match state.engine.confirm_handle(token).await {
        Ok(_) => Html(document(
            "<p>Thank you. Your social account is now linked to your appeal.</p>",
        ))
        .into_response(),
        Err(EngineError::InvalidInput(reason)) => (
            StatusCode::BAD_REQUEST,
            Html(document(&format!("<p>{}.</p>", capitalise(&reason)))),
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "confirming a social handle failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(document("<p>Please try again in a few minutes.</p>")),
            )
                .into_response()
        }
    }
}

/// Tokens are 64 hex digits; anything else is refused before it reaches HTML or the database.
fn is_token(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn document(body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Redress</title></head><body>{body}</body></html>"
    )
}
