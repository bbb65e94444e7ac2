//! The appellant's status page. A reference plus the secret token from the
//! acknowledgement opens it; a wrong reference and a wrong token get the same answer, and
//! every attempt on a reference counts against that reference's rate limit, so tokens
//! cannot be guessed one request at a time. A string that is no reference at all is
//! answered the same way at once: it cannot open a page, so it is not worth a limiter slot.

use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use governor::Quota;
use redress_core::AppealReference;
use redress_engine::transparency::status::MAX_INFORMATION_LEN;
use redress_engine::transparency::{EnforcementFacts, StatusError, StatusView};
use redress_engine::{Engine, EngineError};
use serde::Deserialize;

use super::attempts::ReferenceAttempts;
use super::StatusPageConfig;
use crate::app::AppState;

/// Well above any form a person sends, well below axum's default of two megabytes.
const BODY_LIMIT: usize = 256 * 1024;

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
        .route("/status/{reference}", get(open_link).post(add_information))
        // Forms carry a reference, a token and at most MAX_INFORMATION_LEN bytes of text,
        // percent-encoded (three bytes a byte at most); a larger body is refused (413)
        // before it is read, and over-long text within it gets the engine's clear error.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
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
    Html(page_html("Your appeal", &lookup_form_html("")))
}

#[derive(Debug, Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

/// The link in every notice: the reference in the path and the token in the query opens the
/// page at once; without a token the page asks for it.
async fn open_link(
    State(page): State<StatusPage>,
    Path(reference): Path<String>,
    Query(query): Query<LinkQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = query.token.filter(|t| !t.trim().is_empty()) else {
        return private(
            Html(page_html("Your appeal", &lookup_form_html(&reference))).into_response(),
        );
    };
    let reference = match counted(&page, &reference) {
        Ok(reference) => reference,
        Err(refusal) => return refusal.response(&headers, &token),
    };
    let result = page
        .engine
        .appeal_status(reference.as_str(), token.trim())
        .await;
    respond(&headers, &token, result)
}

/// The page holds the case and its token: never cached, never sent on as a referrer.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
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
    let token = form.token.trim();
    let result = page
        .engine
        .add_status_information(reference.as_str(), token, &form.information)
        .await;
    match result {
        // A refused text is answered on the case's own page, with what was typed kept,
        // so the person can shorten it and send again.
        Err(StatusError::InvalidInput(problem)) if !wants_json(&headers) => {
            match page.engine.appeal_status(reference.as_str(), token).await {
                Ok(view) => private(
                    (
                        StatusCode::BAD_REQUEST,
                        Html(page_html(
                            "Your appeal",
                            &view_html(&view, token, Some((&problem, &form.information))),
                        )),
                    )
                        .into_response(),
                ),
                Err(err) => respond(&headers, token, Err(err)),
            }
        }
        Ok(view) if !wants_json(&headers) => private(
            Html(page_html(
                "Your appeal",
                &format!(
                    "<p role=\"status\">Thank you: your information was added to the case.</p>{}",
                    view_html(&view, token, None)
                ),
            ))
            .into_response(),
        ),
        other => respond(&headers, token, other),
    }
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
        Ok(view) if json => private(Json(view).into_response()),
        Ok(view) => {
            private(Html(page_html("Your appeal", &view_html(&view, token, None))).into_response())
        }
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

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"robots\" content=\"noindex\"><title>{}</title></head><body>{body}</body></html>",
        escape(title)
    )
}

fn page_html_error(message: &str) -> String {
    page_html(
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

fn view_html(view: &StatusView, token: &str, refused: Option<(&str, &str)>) -> String {
    let mut body = format!(
        "<h1>Appeal {}</h1><p>State: <strong id=\"state\">{}</strong></p><p>{}</p>",
        escape(&view.reference),
        escape(&view.state_in_words),
        escape(&view.expected)
    );
    if let Some(due) = view.decision_due_at {
        let _ = write!(
            body,
            "<p>Expected decision by <strong id=\"decision-due\">{}</strong>.</p>",
            due.format("%Y-%m-%d %H:%M UTC")
        );
    }
    if let Some(estimate) = &view.estimate {
        let _ = write!(
            body,
            "<p id=\"decision-estimate\">At the pace of this queue's recent decisions, most \
             likely between <strong>{}</strong> and <strong>{}</strong>; {} {} ahead of yours.</p>",
            estimate.earliest.format("%Y-%m-%d %H:00 UTC"),
            estimate.latest.format("%Y-%m-%d %H:00 UTC"),
            estimate.ahead,
            if estimate.ahead == 1 {
                "case is"
            } else {
                "cases are"
            },
        );
    }
    if let Some(enforcement) = &view.enforcement {
        let _ = write!(
            body,
            "<h2>The decision you appealed</h2><dl id=\"enforcement\">\
             <dt>What was restricted</dt><dd>{}</dd><dt>When</dt><dd>{}</dd>\
             <dt>Under which policy</dt><dd>{}</dd><dt>Automated</dt><dd>detection: {}; decision: {}</dd>\
             <dt>Facts</dt><dd>{}</dd></dl>",
            escape(&restricted(enforcement)),
            enforcement.enforced_at.format("%Y-%m-%d %H:%M UTC"),
            escape(&enforcement.policy),
            enforcement.automated_detection,
            enforcement.automated_decision,
            escape(&enforcement.facts),
        );
    }
    if let Some(question) = &view.information_requested {
        let _ = write!(body, "<h2>Our question</h2><p>{}</p>", escape(question));
    }
    if let Some(decision) = &view.decision {
        let _ = write!(
            body,
            "<h2>Decision: {}</h2><p id=\"decision-reasons\">{}</p>",
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
    if !view.history.is_empty() {
        body.push_str("<h2>History</h2><ol id=\"history\">");
        for entry in &view.history {
            let _ = write!(
                body,
                "<li><time>{}</time> {}</li>",
                entry.at.format("%Y-%m-%d %H:%M UTC"),
                escape(&entry.what)
            );
        }
        body.push_str("</ol>");
    }
    if view.accepts_information {
        let (problem, typed) = refused.unwrap_or_default();
        let alert = if problem.is_empty() {
            String::new()
        } else {
            format!(
                "<p role=\"alert\" id=\"information-error\">information: {}</p>",
                escape(problem)
            )
        };
        // The token in the form binds it to this case: a page elsewhere cannot post to it
        // without knowing the token, so no separate CSRF token is needed.
        let _ = write!(
            body,
            "<h2>Add information</h2>{alert}<form method=\"post\" action=\"/status/{}\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"information\">What you want the reviewer to know</label>\
             <textarea id=\"information\" name=\"information\" maxlength=\"{MAX_INFORMATION_LEN}\" required>{}</textarea>\
             <button>Send</button></form>",
            escape(&view.reference),
            escape(token),
            escape(typed),
        );
    }
    body
}

/// What was restricted, from the statement of reasons where there is one.
fn restricted(enforcement: &EnforcementFacts) -> String {
    match &enforcement.statement {
        Some(statement) if !statement.restrictions.is_empty() => statement
            .restrictions
            .iter()
            .map(|r| r.kind.as_str().replace('_', " "))
            .collect::<Vec<_>>()
            .join(", "),
        _ => enforcement.kind.replace('_', " "),
    }
}
