//! The appellant's status page. A reference plus the secret token from the
//! acknowledgement opens it; a wrong reference and a wrong token get the same answer, and
//! every attempt on a reference counts against that reference's rate limit, so tokens
//! cannot be guessed one request at a time. A string that is no reference at all is
//! answered the same way at once: it cannot open a page, so it is not worth a limiter slot.

use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use governor::Quota;
use redress_core::AppealReference;
use redress_engine::transparency::{StatusError, StatusView};
use redress_engine::{Engine, EngineError};
use serde::Deserialize;

use super::attempts::ReferenceAttempts;
use super::StatusPageConfig;
use crate::app::AppState;

#[derive(Debug, Clone)]
struct StatusPage {
    engine: Engine,
    attempts: Arc<ReferenceAttempts>,
}

fn quota(config: &StatusPageConfig) -> Quota {
    let per_minute = NonZeroU32::new(config.attempts_per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

pub fn routes(state: AppState) -> Router {
    let page = StatusPage {
        engine: state.engine.clone(),
        attempts: Arc::new(ReferenceAttempts::new(quota(
            &state.config.transparency.status_page,
        ))),
    };
    Router::new()
        .route("/status", get(lookup_form).post(lookup))
        .route("/status/{reference}", get(token_form).post(add_information))
        .with_state(page)
}

#[derive(Debug, Deserialize)]
struct Lookup {
    reference: String,
    token: String,
}

#[derive(Debug, Deserialize)]
struct AddInformation {
    token: String,
    information: String,
}

async fn lookup_form() -> Html<String> {
    Html(page("Your appeal", &lookup_form_html("")))
}

async fn token_form(Path(reference): Path<String>) -> Html<String> {
    Html(page("Your appeal", &lookup_form_html(&reference)))
}

async fn lookup(
    State(page): State<StatusPage>,
    headers: HeaderMap,
    Form(form): Form<Lookup>,
) -> Response {
    let reference = match counted(&page, &form.reference) {
        Ok(reference) => reference,
        Err(refusal) => return refusal.response(&headers, &form.token),
    };
    let result = page
        .engine
        .appeal_status(reference.as_str(), form.token.trim())
        .await;
    respond(&headers, &form.token, result)
}

async fn add_information(
    State(page): State<StatusPage>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AddInformation>,
) -> Response {
    let reference = match counted(&page, &reference) {
        Ok(reference) => reference,
        Err(refusal) => return refusal.response(&headers, &form.token),
    };
    let result = page
        .engine
        .add_status_information(reference.as_str(), form.token.trim(), &form.information)
        .await;
    respond(&headers, &form.token, result)
}

/// Why an attempt never reached the engine.
enum Refusal {
    NotAReference,
    TooManyAttempts,
}

impl Refusal {
    fn response(self, headers: &HeaderMap, token: &str) -> Response {
        match self {
            Refusal::NotAReference => respond(headers, token, Err(StatusError::NotFound)),
            Refusal::TooManyAttempts => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "60")],
                Html(page_html_error(
                    "Too many attempts on this reference. Try again in a minute.",
                )),
            )
                .into_response(),
        }
    }
}

/// The reference `text` names, with the attempt counted against it. What is no reference
/// is answered like a wrong one; a reference whose quota is spent is refused for a minute.
fn counted(page: &StatusPage, text: &str) -> Result<AppealReference, Refusal> {
    let reference = text
        .trim()
        .parse::<AppealReference>()
        .map_err(|_| Refusal::NotAReference)?;
    if page.attempts.allow(&reference) {
        Ok(reference)
    } else {
        Err(Refusal::TooManyAttempts)
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn respond(headers: &HeaderMap, token: &str, result: Result<StatusView, StatusError>) -> Response {
    let json = wants_json(headers);
    match result {
        Ok(view) if json => Json(view).into_response(),
        Ok(view) => Html(page("Your appeal", &view_html(&view, token))).into_response(),
        Err(err) => {
            let status = match &err {
                StatusError::NotFound => StatusCode::NOT_FOUND,
                StatusError::InvalidInput(_)
                | StatusError::Engine(EngineError::InvalidInput(_)) => StatusCode::BAD_REQUEST,
                StatusError::Engine(inner) if inner.is_temporary() => {
                    tracing::warn!(error = %inner, "status page unavailable");
                    StatusCode::SERVICE_UNAVAILABLE
                }
                StatusError::Engine(inner) => {
                    tracing::error!(error = %inner, "status page failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let message = if status.is_server_error() {
                "Something went wrong on our side. Please try again later.".to_owned()
            } else {
                err.to_string()
            };
            if json {
                (status, Json(serde_json::json!({ "error": message }))).into_response()
            } else {
                (status, Html(page_html_error(&message))).into_response()
            }
        }
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title></head><body>{body}</body></html>",
        escape(title)
    )
}

fn page_html_error(message: &str) -> String {
    page(
        "Your appeal",
        &format!(
            "<p role=\"alert\">{}</p>{}",
            escape(message),
            lookup_form_html("")
        ),
    )
}

fn lookup_form_html(reference: &str) -> String {
    format!(
        "<h1>Your appeal</h1><form method=\"post\" action=\"/status\">\
         <label>Reference <input name=\"reference\" value=\"{}\" required></label>\
         <label>Token from your acknowledgement <input name=\"token\" type=\"password\" required></label>\
         <button>Show</button></form>",
        escape(reference)
    )
}

fn view_html(view: &StatusView, token: &str) -> String {
    let mut body = format!(
        "<h1>Appeal {}</h1><p>State: <strong>{}</strong> (filed {}, last change {})</p><p>{}</p>",
        escape(&view.reference),
        view.state,
        view.filed_at.format("%Y-%m-%d %H:%M UTC"),
        view.updated_at.format("%Y-%m-%d %H:%M UTC"),
        escape(&view.expected)
    );
    if let Some(question) = &view.information_requested {
        let _ = write!(body, "<h2>Our question</h2><p>{}</p>", escape(question));
    }
    if let Some(decision) = &view.decision {
        let _ = write!(
            body,
            "<h2>Decision: {}</h2><p>{}</p>",
            decision.outcome,
            escape(&decision.reasons)
        );
        if let Some(statement) = &decision.statement {
            let _ = write!(
                body,
                "<h3>Statement of reasons</h3><p>{}</p><p>Automated detection: {}; automated decision: {}.</p><p>You can still turn to: {}.</p>",
                escape(&statement.facts),
                statement.automated_detection,
                statement.automated_decision,
                statement
                    .redress
                    .iter()
                    .map(|r| r.as_str().replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if view.accepts_information {
        let _ = write!(
            body,
            "<h2>Add information</h2><form method=\"post\" action=\"/status/{}\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <textarea name=\"information\" required></textarea><button>Send</button></form>",
            escape(&view.reference),
            escape(token)
        );
    }
    body
}
