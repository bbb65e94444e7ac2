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
use redress_engine::transparency::{StatusError, StatusView};
use redress_engine::{Engine, EngineError};
use redress_notify::mail::statement::{
    automation, enforcement_labels, redress_option, what_was_restricted,
};
use redress_notify::status_page::{
    self as status_text, accepted_language, text_for, StatusPageText,
};
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
    /// The page's language when neither the case nor the browser names a shipped one.
    default_language: String,
}

impl StatusPage {
    /// The words of a page about no case yet: the browser's language, else the default.
    fn text(&self, headers: &HeaderMap) -> &'static StatusPageText {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accepted_language)
            .and_then(text_for)
            .unwrap_or_else(|| text_for(&self.default_language).unwrap_or(&status_text::EN))
    }

    /// The words of a case's page: the appellant's language, else as for no case.
    fn text_of(&self, view: &StatusView, headers: &HeaderMap) -> &'static StatusPageText {
        view.language
            .as_deref()
            .and_then(text_for)
            .unwrap_or_else(|| self.text(headers))
    }

    /// The title the policy catalog gives the appealed enforcement's policy in `language`
    /// (else its default language, else any); `None` when the catalog does not know the
    /// policy, and the page names it by its id. A catalog that cannot be checked against
    /// the database now is read as this replica last loaded it, rather than failing a page
    /// that does not depend on it.
    async fn policy_title(&self, view: &StatusView, language: &str) -> Option<String> {
        let enforcement = view.enforcement.as_ref()?;
        let catalog = match self.engine.current_policy_catalog().await {
            Ok(catalog) => catalog,
            Err(err) => {
                tracing::warn!(error = %err, "the status page reads the policy catalog last loaded");
                self.engine.policy_catalog()
            }
        };
        let policy = catalog.policy(&enforcement.policy)?;
        let (_, text) = policy.text(language, catalog.default_language())?;
        Some(text.title.clone()).filter(|title| !title.trim().is_empty())
    }

    /// A case's page: `notice` (HTML) above the case, and the form with a refused text.
    async fn case_html(
        &self,
        headers: &HeaderMap,
        view: &StatusView,
        token: &str,
        notice: &str,
        refused: Option<(&str, &str)>,
    ) -> String {
        let text = self.text_of(view, headers);
        let policy_title = self.policy_title(view, text.language).await;
        page_html(
            text,
            text.title,
            &format!(
                "{notice}{}",
                view_html(text, view, policy_title.as_deref(), token, refused)
            ),
        )
    }
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
        default_language: state.config.email.default_language.clone(),
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

async fn lookup_form(State(page): State<StatusPage>, headers: HeaderMap) -> Html<String> {
    let text = page.text(&headers);
    Html(page_html(text, text.title, &lookup_form_html(text, "")))
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
        let text = page.text(&headers);
        return private(
            Html(page_html(
                text,
                text.title,
                &lookup_form_html(text, &reference),
            ))
            .into_response(),
        );
    };
    let reference = match counted(&page, &reference) {
        Ok(reference) => reference,
        Err(refusal) => return refusal.response(&page, &headers, &token).await,
    };
    let result = page
        .engine
        .appeal_status(reference.as_str(), token.trim())
        .await;
    respond(&page, &headers, &token, result).await
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
        Err(refusal) => return refusal.response(&page, &headers, &form.token).await,
    };
    let result = page
        .engine
        .appeal_status(reference.as_str(), form.token.trim())
        .await;
    respond(&page, &headers, &form.token, result).await
}

async fn add_information(
    State(page): State<StatusPage>,
    Path(reference): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AddInformation>,
) -> Response {
    let reference = match counted(&page, &reference) {
        Ok(reference) => reference,
        Err(refusal) => return refusal.response(&page, &headers, &form.token).await,
    };
    let token = form.token.trim();
    let result = page
        .engine
        .add_status_information(reference.as_str(), token, &form.information)
        .await;
    match result {
        // A refused text is answered on the case's own page, with what was typed kept,
        // so the person can shorten it and send again.
        Err(StatusError::Refused(refusal)) if !wants_json(&headers) => {
            match page.engine.appeal_status(reference.as_str(), token).await {
                Ok(view) => {
                    let problem = page.text_of(&view, &headers).refusal(refusal);
                    let refused = Some((problem.as_str(), form.information.as_str()));
                    let html = page.case_html(&headers, &view, token, "", refused).await;
                    private((StatusCode::BAD_REQUEST, Html(html)).into_response())
                }
                Err(err) => respond(&page, &headers, token, Err(err)).await,
            }
        }
        Ok(view) if !wants_json(&headers) => {
            let thanks = format!(
                "<p role=\"status\">{}</p>",
                escape(page.text_of(&view, &headers).thanks)
            );
            let html = page.case_html(&headers, &view, token, &thanks, None).await;
            private(Html(html).into_response())
        }
        other => respond(&page, &headers, token, other).await,
    }
}

/// Why an attempt never reached the engine.
enum Refusal {
    NotAReference,
    TooManyAttempts,
}

impl Refusal {
    async fn response(self, page: &StatusPage, headers: &HeaderMap, token: &str) -> Response {
        match self {
            Refusal::NotAReference => {
                respond(page, headers, token, Err(StatusError::NotFound)).await
            }
            Refusal::TooManyAttempts => {
                let text = page.text(headers);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "60")],
                    Html(page_html_error(text, text.too_many)),
                )
                    .into_response()
            }
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

async fn respond(
    page: &StatusPage,
    headers: &HeaderMap,
    token: &str,
    result: Result<StatusView, StatusError>,
) -> Response {
    let json = wants_json(headers);
    match result {
        Ok(view) if json => private(Json(view).into_response()),
        Ok(view) => {
            let html = page.case_html(headers, &view, token, "", None).await;
            private(Html(html).into_response())
        }
        Err(err) => {
            let status = match &err {
                StatusError::NotFound => StatusCode::NOT_FOUND,
                StatusError::Refused(_) | StatusError::Engine(EngineError::InvalidInput(_)) => {
                    StatusCode::BAD_REQUEST
                }
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
                // The page speaks the browser's language; an engine refusal of a field
                // that is wrong stays in its own words, which name the field.
                let text = page.text(headers);
                let shown = match &err {
                    _ if status.is_server_error() => text.server_error.to_owned(),
                    StatusError::NotFound => text.not_found.to_owned(),
                    StatusError::Refused(refusal) => text.refusal(*refusal),
                    _ => message,
                };
                (status, Html(page_html_error(text, &shown))).into_response()
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

fn page_html(text: &StatusPageText, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"robots\" content=\"noindex\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title></head><body>{body}</body></html>",
        text.language,
        escape(title)
    )
}

fn page_html_error(text: &StatusPageText, message: &str) -> String {
    page_html(
        text,
        text.title,
        &format!(
            "<p role=\"alert\">{}</p>{}",
            escape(message),
            lookup_form_html(text, "")
        ),
    )
}

fn lookup_form_html(text: &StatusPageText, reference: &str) -> String {
    format!(
        "<h1>{}</h1><form method=\"post\" action=\"/status\">\
         <label>{} <input name=\"reference\" value=\"{}\" required></label>\
         <label>{} <input name=\"token\" type=\"password\" required></label>\
         <button>{}</button></form>",
        escape(text.title),
        escape(text.reference),
        escape(reference),
        escape(text.token),
        escape(text.show),
    )
}

/// `template` escaped, with each `{name}` replaced by its already escaped HTML.
fn filled(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = escape(template);
    for (name, html) in values {
        out = out.replace(&format!("{{{name}}}"), html);
    }
    out
}

/// The case of `view`; `policy_title` names the appealed enforcement's policy, else its id.
fn view_html(
    text: &StatusPageText,
    view: &StatusView,
    policy_title: Option<&str>,
    token: &str,
    refused: Option<(&str, &str)>,
) -> String {
    let language = text.language;
    let labels = enforcement_labels(language);
    let mut body = format!(
        "<h1>{}</h1><p>{}: <strong id=\"state\">{}</strong></p><p>{}</p>",
        filled(text.appeal, &[("reference", &escape(&view.reference))]),
        escape(text.state),
        escape((text.states)(view.state)),
        escape((text.expected)(view.state))
    );
    if let Some(wave) = view.wave {
        let _ = write!(
            body,
            "<p id=\"wave\"><strong>{}</strong></p>",
            escape(redress_notify::wave::wave_text(wave, language))
        );
    }
    if let Some(due) = view.decision_due_at {
        let date = format!(
            "<strong id=\"decision-due\">{}</strong>",
            due.format("%Y-%m-%d %H:%M UTC")
        );
        let _ = write!(
            body,
            "<p>{}</p>",
            filled(text.decision_due, &[("date", &date)])
        );
    }
    if let Some(estimate) = &view.estimate {
        let at = |time: chrono::DateTime<chrono::Utc>| {
            format!("<strong>{}</strong>", time.format("%Y-%m-%d %H:00 UTC"))
        };
        let _ = write!(
            body,
            "<p id=\"decision-estimate\">{}</p>",
            filled(
                text.forecast,
                &[
                    ("earliest", &at(estimate.earliest)),
                    ("latest", &at(estimate.latest)),
                    ("ahead", &estimate.ahead.to_string()),
                ]
            )
        );
    }
    if let Some(enforcement) = &view.enforcement {
        let _ = write!(
            body,
            "<h2>{}</h2><dl id=\"enforcement\">\
             <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd>\
             <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}: {}; {}: {}</dd>\
             <dt>{}</dt><dd>{}</dd></dl>",
            escape(text.appealed),
            escape(labels.what),
            escape(&what_was_restricted(enforcement, language)),
            escape(labels.when),
            enforcement.enforced_at.format("%Y-%m-%d %H:%M UTC"),
            escape(labels.policy),
            escape(policy_title.unwrap_or(&enforcement.policy)),
            escape(text.automated),
            escape(labels.detection),
            escape(automation(enforcement.automated_detection, language)),
            escape(labels.decision),
            escape(automation(enforcement.automated_decision, language)),
            escape(labels.facts),
            escape(&enforcement.facts),
        );
    }
    if let Some(question) = &view.information_requested {
        let _ = write!(
            body,
            "<h2>{}</h2><p>{}</p>",
            escape(text.question),
            escape(question)
        );
    }
    if let Some(decision) = &view.decision {
        let _ = write!(
            body,
            "<h2>{}</h2><p id=\"decision-reasons\">{}</p>",
            filled(
                text.decision,
                &[("outcome", &escape((text.outcome)(decision.outcome)))]
            ),
            escape(&decision.reasons)
        );
        if let Some(statement) = &decision.statement {
            let mut options = String::new();
            for option in &statement.redress {
                let _ = write!(
                    options,
                    "<li>{}</li>",
                    escape(redress_option(*option, language))
                );
            }
            let _ = write!(
                body,
                "<h3>{}</h3><p>{}</p><p>{}: {}; {}: {}.</p><p>{}</p><ul>{options}</ul>",
                escape(text.statement),
                escape(&statement.facts),
                escape(labels.detection),
                escape(automation(statement.automated_detection, language)),
                escape(labels.decision),
                escape(automation(statement.automated_decision, language)),
                escape(text.still_open),
            );
        }
    }
    if !view.history.is_empty() {
        let _ = write!(body, "<h2>{}</h2><ol id=\"history\">", escape(text.history));
        for entry in &view.history {
            let _ = write!(
                body,
                "<li><time>{}</time> {}</li>",
                entry.at.format("%Y-%m-%d %H:%M UTC"),
                escape((text.steps)(entry.step))
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
                "<p role=\"alert\" id=\"information-error\">{}</p>",
                escape(problem)
            )
        };
        // The token in the form binds it to this case: a page elsewhere cannot post to it
        // without knowing the token, so no separate CSRF token is needed.
        let _ = write!(
            body,
            "<h2>{}</h2>{alert}<form method=\"post\" action=\"/status/{}\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"information\">{}</label>\
             <textarea id=\"information\" name=\"information\" maxlength=\"{MAX_INFORMATION_LEN}\" required>{}</textarea>\
             <button>{}</button></form>",
            escape(text.add),
            escape(&view.reference),
            escape(token),
            escape(text.add_label),
            escape(typed),
            escape(text.send),
        );
    }
    body
}
