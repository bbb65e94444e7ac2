//! `POST /platform/enforcements`: the platform streams its enforcements as NDJSON, one
//! enforcement a line, as fast as its enforcement system makes them. Lines are checked one
//! by one and written in chunks of [`CHUNK`] as they fill, each chunk in a few statements;
//! the next bytes of the body are read only once a chunk is written, so a sender faster
//! than the database is slowed by TCP itself and memory stays bounded by one chunk and one
//! line. A line that is refused is named in the answer with its field; every valid line is
//! stored. Recording is idempotent on the platform's enforcement id (`external_id`), so a
//! stream sent again after a lost answer writes nothing twice.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt;
use redress_core::Role;
use redress_engine::registry::{check_enforcement, FieldRefusal, NewEnforcement};
use redress_engine::{Engine, EngineError};
use serde::Serialize;
use serde_json::Value;

use crate::app::AppState;

/// Enforcements written per statement batch.
pub const CHUNK: usize = 1000;
/// The longest line read; a longer one is refused without being held in memory.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Refused lines listed in the answer; the rest are counted only.
pub const MAX_LISTED_ERRORS: usize = 1000;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/platform/enforcements", post(ingest))
        // The body is streamed and bounded per line and per chunk, not as a whole.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// One refused line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 0-based, counting every line of the body (empty ones too).
    pub index: u64,
    /// The field of the enforcement (`statement`, `external_id`, ...), or `line` when the
    /// line itself is not an enforcement.
    pub field: String,
    pub message: String,
}

/// The answer: what was read, stored, already there and refused.
#[derive(Debug, Default, Serialize)]
pub struct IngestSummary {
    pub lines: u64,
    pub stored: u64,
    pub already_recorded: u64,
    pub refused: u64,
    pub errors: Vec<LineError>,
    /// Set when the stream stopped early (the database failed, the body broke off):
    /// what is counted above was stored; send the stream again, nothing is written twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

impl IngestSummary {
    fn refuse(&mut self, index: u64, field: &str, message: impl Into<String>) {
        self.refused += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(LineError {
                index,
                field: field.to_owned(),
                message: message.into(),
            });
        }
    }
}

const REQUIRED_TEXT: [&str; 8] = [
    "external_id",
    "account_id",
    "kind",
    "policy",
    "source_kind",
    "source_id",
    "automated_detection",
    "automated_decision",
];
const OPTIONAL_TEXT: [&str; 5] = [
    "account_email",
    "account_locale",
    "batch_id",
    "content_id",
    "content_relation",
];

/// One line as an enforcement, or the field that is wrong with it.
pub fn parse_line(line: &[u8]) -> Result<NewEnforcement, FieldRefusal> {
    let refuse = |field: &'static str, message: String| FieldRefusal { field, message };
    let value: Value =
        serde_json::from_slice(line).map_err(|err| refuse("line", format!("not JSON: {err}")))?;
    let Value::Object(object) = &value else {
        return Err(refuse("line", "not a JSON object".to_owned()));
    };
    for field in REQUIRED_TEXT.into_iter().chain(["facts"]) {
        match object.get(field) {
            Some(Value::String(_)) => {}
            None | Some(Value::Null) if field == "facts" => {}
            None | Some(Value::Null) => return Err(refuse(field, "is required".to_owned())),
            Some(_) => return Err(refuse(field, "must be a string".to_owned())),
        }
    }
    for field in OPTIONAL_TEXT {
        if !matches!(
            object.get(field),
            None | Some(Value::Null | Value::String(_))
        ) {
            return Err(refuse(field, "must be a string or null".to_owned()));
        }
    }
    if !matches!(object.get("statement"), Some(Value::Object(_))) {
        return Err(refuse("statement", "must be an object".to_owned()));
    }
    match object.get("enforced_at") {
        Some(Value::String(at)) if chrono::DateTime::parse_from_rfc3339(at).is_ok() => {}
        _ => {
            return Err(refuse(
                "enforced_at",
                "must be an RFC 3339 timestamp".to_owned(),
            ))
        }
    }
    let mut value = value;
    if let Value::Object(object) = &mut value {
        object
            .entry("facts")
            .or_insert_with(|| Value::String(String::new()));
        if object.get("facts").is_some_and(Value::is_null) {
            object.insert("facts".to_owned(), Value::String(String::new()));
        }
    }
    let new: NewEnforcement =
        serde_json::from_value(value).map_err(|err| refuse("line", err.to_string()))?;
    check_enforcement(&new)?;
    Ok(new)
}

/// The caller, who must be the platform (or an administrator importing).
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(header) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(Box::new(
            (StatusCode::UNAUTHORIZED, "a bearer token is required").into_response(),
        ));
    };
    let actor = state
        .graphql
        .verifier()
        .actor_from_header(header, state.engine.clock().now())
        .map_err(|err| Box::new((StatusCode::UNAUTHORIZED, err.to_string()).into_response()))?;
    if actor.has_any_role(&[Role::Integration, Role::Admin]) {
        Ok(())
    } else {
        Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                "recording enforcements needs one of: integration, admin",
            )
                .into_response(),
        ))
    }
}

/// Reads NDJSON from `body` and records it chunk by chunk.
struct Ingestion<'a> {
    engine: &'a Engine,
    summary: IngestSummary,
    chunk: Vec<(u64, NewEnforcement)>,
    next_index: u64,
}

impl Ingestion<'_> {
    fn line(&mut self, line: &[u8]) {
        let index = self.next_index;
        self.next_index += 1;
        self.summary.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match parse_line(line) {
            Ok(new) => self.chunk.push((index, new)),
            Err(refusal) => self.summary.refuse(index, refusal.field, refusal.message),
        }
    }

    fn too_long(&mut self) {
        let index = self.next_index;
        self.next_index += 1;
        self.summary.lines += 1;
        self.summary
            .refuse(index, "line", format!("longer than {MAX_LINE_BYTES} bytes"));
    }

    /// Writes the chunk. A value the database refuses fails the chunk as a whole; its
    /// items are then written one by one, so the culprit is named and the rest stored.
    async fn flush(&mut self) -> Result<(), EngineError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.chunk);
        let items: Vec<NewEnforcement> = chunk.iter().map(|(_, new)| new.clone()).collect();
        match self.engine.ingest_enforcements(items).await {
            Ok(outcome) => {
                self.summary.stored += outcome.stored;
                self.summary.already_recorded += outcome.already_recorded;
                Ok(())
            }
            Err(err) if !err.is_temporary() => {
                for (index, new) in chunk {
                    match self.engine.ingest_enforcements(vec![new]).await {
                        Ok(outcome) => {
                            self.summary.stored += outcome.stored;
                            self.summary.already_recorded += outcome.already_recorded;
                        }
                        Err(err) if !err.is_temporary() => {
                            self.summary.refuse(index, "line", err.to_string());
                        }
                        Err(err) => return Err(err),
                    }
                }
                Ok(())
            }
            Err(err) => Err(err),
        }
    }
}

async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return *refused;
    }
    let mut ingestion = Ingestion {
        engine: &state.engine,
        summary: IngestSummary::default(),
        chunk: Vec::with_capacity(CHUNK),
        next_index: 0,
    };
    let mut pending: Vec<u8> = Vec::new();
    // Set while the rest of an over-long line is skipped.
    let mut skipping = false;
    let mut stream = body.into_data_stream();
    let outcome: Result<(), (StatusCode, String)> = async {
        while let Some(bytes) = stream.next().await {
            let bytes = bytes.map_err(|err| {
                (
                    StatusCode::BAD_REQUEST,
                    format!("the body broke off: {err}"),
                )
            })?;
            let mut rest: &[u8] = &bytes;
            while let Some(end) = rest.iter().position(|b| *b == b'\n') {
                let (head, tail) = rest.split_at(end);
                rest = &tail[1..];
                if skipping {
                    skipping = false;
                } else if pending.is_empty() {
                    ingestion.line(head);
                } else {
                    pending.extend_from_slice(head);
                    let line = std::mem::take(&mut pending);
                    if line.len() > MAX_LINE_BYTES {
                        ingestion.too_long();
                    } else {
                        ingestion.line(&line);
                    }
                }
                if ingestion.chunk.len() >= CHUNK {
                    ingestion.flush().await.map_err(unavailable)?;
                }
            }
            if !skipping {
                pending.extend_from_slice(rest);
                if pending.len() > MAX_LINE_BYTES {
                    pending = Vec::new();
                    skipping = true;
                    ingestion.too_long();
                }
            }
        }
        if !skipping && !pending.is_empty() {
            let line = std::mem::take(&mut pending);
            ingestion.line(&line);
        }
        ingestion.flush().await.map_err(unavailable)
    }
    .await;
    let mut summary = ingestion.summary;
    match outcome {
        Ok(()) => (StatusCode::OK, Json(summary)).into_response(),
        Err((status, why)) => {
            summary.stopped = Some(why);
            (status, Json(summary)).into_response()
        }
    }
}

fn unavailable(err: EngineError) -> (StatusCode, String) {
    tracing::warn!(error = %err, "enforcement stream stopped");
    let status = if err.is_temporary() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    (
        status,
        "the database failed; send the stream again".to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_refused_naming_its_field() {
        let field = |line: &str| parse_line(line.as_bytes()).expect_err("refused").field;
        assert_eq!(field("{"), "line");
        assert_eq!(field("[1]"), "line");
        assert_eq!(field(r#"{"external_id": 7}"#), "external_id");
        assert_eq!(field(r#"{"external_id": "e", "account_id": "a"}"#), "kind");
    }
}
