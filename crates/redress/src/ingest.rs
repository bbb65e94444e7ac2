//! `POST /platform/enforcements`: the platform streams its enforcements as NDJSON, one
//! enforcement a line, as fast as its enforcement system makes them. Each line is parsed
//! once, straight into its fields, checked, and written in chunks of [`CHUNK`], each chunk
//! in a few statements. One chunk is written while the next is read and checked; the next
//! is handed over only once that write is done, so a sender faster than the database is
//! slowed by TCP itself and memory stays bounded by two chunks and one line. A line that
//! is refused is named in the answer with its field; every valid line is stored.
//! Recording is idempotent on the platform's enforcement id (`external_id`), so a stream
//! sent again after a lost answer writes nothing twice.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt;
use redress_core::Role;
use redress_engine::registry::{check_enforcement, BatchOutcome, FieldRefusal, NewEnforcement};
use redress_engine::{Engine, EngineError};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use tokio::task::JoinHandle;

use crate::app::AppState;

/// Enforcements written per statement batch.
pub const CHUNK: usize = 1000;
/// The longest line read; a longer one is refused without being held in memory.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Refused lines listed in the answer; the rest are counted only.
pub const MAX_LISTED_ERRORS: usize = 1000;
/// The longest message of a listed refusal, in characters.
pub const MAX_MESSAGE_CHARS: usize = 300;

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
    /// Counts a refused line; the first [`MAX_LISTED_ERRORS`] are listed, each message cut
    /// to [`MAX_MESSAGE_CHARS`] (a parser's message may quote the line), so the answer to a
    /// stream of any length, every line bad, stays a few hundred KiB.
    fn refuse(&mut self, index: u64, field: &str, message: impl Into<String>) {
        self.refused += 1;
        if self.errors.len() < MAX_LISTED_ERRORS {
            self.errors.push(LineError {
                index,
                field: field.to_owned(),
                message: cut(message.into()),
            });
        }
    }
}

/// `message`, cut to [`MAX_MESSAGE_CHARS`] characters and marked so when it was longer.
fn cut(mut message: String) -> String {
    if let Some((end, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(end);
        message.push('…');
    }
    message
}

/// A text field of a line as it came. Every JSON value reads as one of these, so the
/// line is parsed once, straight into its fields, and a field of the wrong type is named
/// afterwards rather than failing the parse.
#[derive(Debug, Default)]
enum Text {
    /// Absent or `null`.
    #[default]
    Missing,
    Given(String),
    /// A number, a boolean, an array or an object.
    Other,
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
        Ok(Text::Given(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Text, E> {
        Ok(Text::Given(text))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text::Missing)
    }

    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text::Missing)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        Text::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text, E> {
        Ok(Text::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text, E> {
        Ok(Text::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text, E> {
        Ok(Text::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text, E> {
        Ok(Text::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Text, A::Error> {
        while items.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Text, A::Error> {
        while entries.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text::Other)
    }
}

/// One line with every field as it came; fields it does not know are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Line {
    external_id: Text,
    account_id: Text,
    kind: Text,
    policy: Text,
    source_kind: Text,
    source_id: Text,
    automated_detection: Text,
    automated_decision: Text,
    facts: Text,
    account_email: Text,
    account_locale: Text,
    batch_id: Text,
    content_id: Text,
    content_relation: Text,
    statement: Option<Value>,
    enforced_at: Text,
}

fn refusal(field: &'static str, message: &str) -> FieldRefusal {
    FieldRefusal {
        field,
        message: message.to_owned(),
    }
}

fn required(field: &'static str, text: Text) -> Result<String, FieldRefusal> {
    match text {
        Text::Given(text) => Ok(text),
        Text::Missing => Err(refusal(field, "is required")),
        Text::Other => Err(refusal(field, "must be a string")),
    }
}

fn optional(field: &'static str, text: Text) -> Result<Option<String>, FieldRefusal> {
    match text {
        Text::Given(text) => Ok(Some(text)),
        Text::Missing => Ok(None),
        Text::Other => Err(refusal(field, "must be a string or null")),
    }
}

impl Line {
    /// The enforcement, or its first field that is wrong: the required texts in the order
    /// of the wire format, then `facts`, the optional texts, `statement` and `enforced_at`.
    fn into_enforcement(self) -> Result<NewEnforcement, FieldRefusal> {
        let external_id = required("external_id", self.external_id)?;
        let account_id = required("account_id", self.account_id)?;
        let kind = required("kind", self.kind)?;
        let policy = required("policy", self.policy)?;
        let source_kind = required("source_kind", self.source_kind)?;
        let source_id = required("source_id", self.source_id)?;
        let automated_detection = required("automated_detection", self.automated_detection)?;
        let automated_decision = required("automated_decision", self.automated_decision)?;
        let facts = optional("facts", self.facts)
            .map_err(|_| refusal("facts", "must be a string"))?
            .unwrap_or_default();
        let account_email = optional("account_email", self.account_email)?;
        let account_locale = optional("account_locale", self.account_locale)?;
        let batch_id = optional("batch_id", self.batch_id)?;
        let content_id = optional("content_id", self.content_id)?;
        let content_relation = optional("content_relation", self.content_relation)?;
        let Some(statement @ Value::Object(_)) = self.statement else {
            return Err(refusal("statement", "must be an object"));
        };
        let enforced_at = match self.enforced_at {
            Text::Given(at) => chrono::DateTime::parse_from_rfc3339(&at).ok(),
            Text::Missing | Text::Other => None,
        }
        .ok_or_else(|| refusal("enforced_at", "must be an RFC 3339 timestamp"))?
        .with_timezone(&chrono::Utc);
        Ok(NewEnforcement {
            external_id: Some(external_id),
            account_id,
            account_email,
            account_locale,
            kind,
            policy,
            source_kind,
            source_id,
            batch_id,
            automated_detection,
            automated_decision,
            content_id,
            content_relation,
            facts,
            statement,
            enforced_at,
        })
    }
}

/// One line as an enforcement, or the field that is wrong with it. The line is parsed
/// once, straight into its fields.
pub fn parse_line(line: &[u8]) -> Result<NewEnforcement, FieldRefusal> {
    if line.trim_ascii_start().first() != Some(&b'{') {
        return Err(refusal("line", "not a JSON object"));
    }
    let line: Line = serde_json::from_slice(line).map_err(|err| FieldRefusal {
        field: "line",
        message: if err.is_data() {
            // A key given twice: which of the two was meant is not for Redress to guess.
            err.to_string()
        } else {
            format!("not JSON: {err}")
        },
    })?;
    let new = line.into_enforcement()?;
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

/// Lines checked and waiting to be written, each with its index in the body.
#[derive(Default)]
struct Chunk {
    indices: Vec<u64>,
    items: Vec<NewEnforcement>,
}

impl Chunk {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            indices: Vec::with_capacity(capacity),
            items: Vec::with_capacity(capacity),
        }
    }
}

/// What writing one chunk came to.
#[derive(Default)]
struct Written {
    stored: u64,
    already_recorded: u64,
    /// Lines the database refused, by index.
    refused: Vec<(u64, String)>,
}

impl Written {
    fn count(&mut self, outcome: BatchOutcome) {
        self.stored += outcome.stored;
        self.already_recorded += outcome.already_recorded;
    }
}

/// Writes `chunk` in one transaction. A value the database refuses fails the chunk as a
/// whole; its items are then written one by one, so the culprit is named and the rest
/// stored.
async fn write_chunk(engine: Engine, chunk: Chunk) -> Result<Written, EngineError> {
    let mut written = Written::default();
    match engine.ingest_enforcements(&chunk.items).await {
        Ok(outcome) => written.count(outcome),
        Err(err) if !err.is_temporary() => {
            for (index, new) in chunk.indices.iter().zip(&chunk.items) {
                match engine.ingest_enforcements(std::slice::from_ref(new)).await {
                    Ok(outcome) => written.count(outcome),
                    Err(err) if !err.is_temporary() => {
                        written.refused.push((*index, err.to_string()));
                    }
                    Err(err) => return Err(err),
                }
            }
        }
        Err(err) => return Err(err),
    }
    Ok(written)
}

/// Why a stream stopped before its end: the status of the answer and what it says.
type Stop = (StatusCode, String);

/// Reads NDJSON from `body` and records it chunk by chunk. One chunk is written while the
/// next is read and checked; the next is handed over only once that write is done, so at
/// most two chunks are held and the body is read no faster than the database writes.
struct Ingestion {
    engine: Engine,
    summary: IngestSummary,
    chunk: Chunk,
    next_index: u64,
    in_flight: Option<JoinHandle<Result<Written, EngineError>>>,
}

impl Ingestion {
    fn line(&mut self, line: &[u8]) {
        let index = self.next_index;
        self.next_index += 1;
        self.summary.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match parse_line(line) {
            Ok(new) => {
                self.chunk.indices.push(index);
                self.chunk.items.push(new);
            }
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

    fn is_full(&self) -> bool {
        self.chunk.items.len() >= CHUNK
    }

    /// Waits for the chunk being written, if any, and counts what it wrote.
    async fn settle(&mut self) -> Result<(), Stop> {
        let Some(write) = self.in_flight.take() else {
            return Ok(());
        };
        let written = write
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "writing an enforcement chunk failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "writing failed; send the stream again".to_owned(),
                )
            })?
            .map_err(unavailable)?;
        self.summary.stored += written.stored;
        self.summary.already_recorded += written.already_recorded;
        for (index, message) in written.refused {
            self.summary.refuse(index, "line", message);
        }
        Ok(())
    }

    /// Hands the chunk over to be written once the one before it is written.
    async fn send(&mut self) -> Result<(), Stop> {
        self.settle().await?;
        if self.chunk.items.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Chunk::with_capacity(CHUNK));
        self.in_flight = Some(tokio::spawn(write_chunk(self.engine.clone(), chunk)));
        // The new task waits in this worker's slot for the next task to run, where no other
        // worker may take it, and parsing the next chunk does not give way until it is
        // full: without this the write would start only then, after the parse instead of
        // beside it.
        tokio::task::yield_now().await;
        Ok(())
    }

    /// Reads the body to its end, writing as the chunks fill.
    async fn read(&mut self, body: Body) -> Result<(), Stop> {
        let mut pending: Vec<u8> = Vec::new();
        // Set while the rest of an over-long line is skipped.
        let mut skipping = false;
        let mut stream = body.into_data_stream();
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
                    self.line(head);
                } else {
                    pending.extend_from_slice(head);
                    let line = std::mem::take(&mut pending);
                    if line.len() > MAX_LINE_BYTES {
                        self.too_long();
                    } else {
                        self.line(&line);
                    }
                }
                if self.is_full() {
                    self.send().await?;
                }
            }
            if !skipping {
                pending.extend_from_slice(rest);
                if pending.len() > MAX_LINE_BYTES {
                    pending = Vec::new();
                    skipping = true;
                    self.too_long();
                }
            }
        }
        if !skipping && !pending.is_empty() {
            let line = std::mem::take(&mut pending);
            self.line(&line);
        }
        self.send().await?;
        self.settle().await
    }
}

async fn ingest(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if let Err(refused) = authorized(&state, &headers) {
        return *refused;
    }
    let mut ingestion = Ingestion {
        engine: state.engine.clone(),
        summary: IngestSummary::default(),
        chunk: Chunk::with_capacity(CHUNK),
        next_index: 0,
        in_flight: None,
    };
    let outcome = ingestion.read(body).await;
    let outcome = match outcome {
        // The body broke off: what was handed over is still written and counted.
        Err(stop) => ingestion.settle().await.and(Err(stop)),
        Ok(()) => Ok(()),
    };
    let mut summary = ingestion.summary;
    match outcome {
        Ok(()) => (StatusCode::OK, Json(summary)).into_response(),
        Err((status, why)) => {
            summary.stopped = Some(why);
            (status, Json(summary)).into_response()
        }
    }
}

fn unavailable(err: EngineError) -> Stop {
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
    use serde_json::json;

    fn valid() -> Value {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .expect("time")
            .with_timezone(&chrono::Utc);
        json!({
            "external_id": "wave-1",
            "account_id": "acct-1",
            "account_email": "Person@Example.test",
            "account_locale": "de-AT",
            "kind": "account_deactivation",
            "policy": "spam",
            "source_kind": "model",
            "source_id": "classifier-v7",
            "batch_id": "wave",
            "automated_detection": "fully",
            "automated_decision": "fully",
            "content_id": "pin-1",
            "content_relation": "saved",
            "facts": "saved a pin flagged as spam",
            "statement": redress_engine::testing::automated_suspension_statement(at),
            "enforced_at": "2026-11-24T11:00:00+01:00",
            "unknown_to_redress": [1, {"x": null}],
        })
    }

    fn field_of(line: &Value) -> &'static str {
        parse_line(line.to_string().as_bytes())
            .expect_err("refused")
            .field
    }

    #[test]
    fn a_line_is_refused_naming_its_field() {
        let field = |line: &str| parse_line(line.as_bytes()).expect_err("refused").field;
        assert_eq!(field("{"), "line");
        assert_eq!(field("[1]"), "line");
        assert_eq!(field("not json"), "line");
        assert_eq!(field(r#"{"external_id": 7}"#), "external_id");
        assert_eq!(field(r#"{"external_id": "e", "account_id": "a"}"#), "kind");
    }

    #[test]
    fn a_valid_line_becomes_the_enforcement_it_describes() {
        let new = parse_line(valid().to_string().as_bytes()).expect("valid");
        assert_eq!(new.external_id.as_deref(), Some("wave-1"));
        assert_eq!(new.account_email.as_deref(), Some("Person@Example.test"));
        assert_eq!(new.account_locale.as_deref(), Some("de-AT"));
        assert_eq!(new.content_relation.as_deref(), Some("saved"));
        assert_eq!(new.statement, valid()["statement"]);
        assert_eq!(new.enforced_at.to_rfc3339(), "2026-11-24T10:00:00+00:00");

        let mut without_facts = valid();
        without_facts["facts"] = Value::Null;
        without_facts["batch_id"] = Value::Null;
        let new = parse_line(without_facts.to_string().as_bytes()).expect("valid");
        assert_eq!(new.facts, "");
        assert_eq!(new.batch_id, None);
    }

    #[test]
    fn each_wrong_field_is_named_with_what_is_wrong() {
        let message = |line: &Value| {
            parse_line(line.to_string().as_bytes())
                .expect_err("refused")
                .message
        };
        for field in [
            "external_id",
            "account_id",
            "kind",
            "policy",
            "source_kind",
            "source_id",
            "automated_detection",
            "automated_decision",
        ] {
            let mut line = valid();
            line[field] = json!(1);
            assert_eq!(
                (field_of(&line), message(&line).as_str()),
                (field, "must be a string")
            );
            line[field] = Value::Null;
            assert_eq!(
                (field_of(&line), message(&line).as_str()),
                (field, "is required")
            );
        }
        for field in [
            "account_email",
            "account_locale",
            "batch_id",
            "content_id",
            "content_relation",
        ] {
            let mut line = valid();
            line[field] = json!(["a"]);
            assert_eq!(
                (field_of(&line), message(&line).as_str()),
                (field, "must be a string or null")
            );
        }
        let mut line = valid();
        line["facts"] = json!({"a": 1});
        assert_eq!(
            (field_of(&line), message(&line).as_str()),
            ("facts", "must be a string")
        );
        for statement in [json!("text"), Value::Null, json!([])] {
            let mut line = valid();
            line["statement"] = statement;
            assert_eq!(
                (field_of(&line), message(&line).as_str()),
                ("statement", "must be an object")
            );
        }
        let mut line = valid();
        line["statement"] = json!({});
        assert_eq!(field_of(&line), "statement");
        for at in [json!("yesterday"), json!(12), Value::Null] {
            let mut line = valid();
            line["enforced_at"] = at;
            assert_eq!(
                (field_of(&line), message(&line).as_str()),
                ("enforced_at", "must be an RFC 3339 timestamp")
            );
        }
        let mut line = valid();
        line["external_id"] = json!("  ");
        assert_eq!(field_of(&line), "external_id");
        let mut line = valid();
        line["account_locale"] = json!("not a locale!");
        assert_eq!(field_of(&line), "account_locale");
        let mut line = valid();
        line["automated_decision"] = json!("not");
        assert_eq!(field_of(&line), "statement");
    }

    #[test]
    fn a_key_given_twice_refuses_the_line() {
        let line = valid().to_string();
        let twice = line.replacen('{', r#"{"kind": "content_removal", "#, 1);
        let refusal = parse_line(twice.as_bytes()).expect_err("refused");
        assert_eq!(refusal.field, "line");
        assert!(
            refusal.message.contains("duplicate field `kind`"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn the_summary_lists_a_bounded_number_of_short_refusals_and_counts_the_rest() {
        let mut summary = IngestSummary::default();
        let long = "é".repeat(10 * MAX_MESSAGE_CHARS);
        for index in 0..(3 * MAX_LISTED_ERRORS as u64) {
            summary.refuse(index, "statement", long.clone());
        }
        assert_eq!(summary.refused, 3 * MAX_LISTED_ERRORS as u64);
        assert_eq!(summary.errors.len(), MAX_LISTED_ERRORS);
        assert_eq!(summary.errors.last().map(|e| e.index), Some(999));
        for error in &summary.errors {
            assert_eq!(error.message.chars().count(), MAX_MESSAGE_CHARS + 1);
            assert!(error.message.ends_with('…'));
        }
        assert_eq!(cut("short".to_owned()), "short");
    }
}
