//! A stand-in for the EU DSA Transparency Database's API on a real socket, written from the
//! database's own source (`StatementMultipleAPIController`, `GroupedSubmissionsService`,
//! `PuidNotUniqueMultipleException`), not from Redress's code: the batch endpoint with its
//! 1..100 bound, its per-field 422 bodies keyed `statement_N`, `existing_puids`, the PUID
//! look-up, and scripted 429s, 5xx, a call that stores its statements and then never
//! answers (the client's process dies with the answer in flight) and one that stores them
//! and then answers 500; statements whose insert fails every time (a 500), a flaky
//! database (503 to every second call of the batch endpoint), and an outage (503 to every
//! call, the look-up's too).
//!
//! `existing_puids` follows `app/Http/Controllers/Api/v1/StatementMultipleAPIController.php`
//! of digital-services-act/transparency-database (read at commits
//! 024010d9980c8aeb005fc17c91c9ada9e4cbf41e and e2f77d41f244e60fd8e14d150cca9ceedb023724),
//! with `app/Services/PlatformUniqueIdService.php` (0df06ff845eb70d6a425922161d4dee49165041f)
//! and `app/Exceptions/PuidNotUniqueMultipleException.php`: the statements are validated
//! first (a 422 keyed `statement_N` wins over any PUID check), then, in this order and
//! stopping at the first that finds any, PUIDs repeated within the call (each repeated PUID
//! listed once, in order of first appearance, and nothing else), PUIDs in the PUID cache
//! (kept two days; listed in the call's order), and PUIDs in the platform's PUID table
//! (listed in the order stored; the cache gets them again). Every one answers 422 with
//! `{"message": M, "errors": {"puid": [M], "existing_puids": [...]}}`, M being "The platform
//! identifier(s) are not all unique within this call.", and stores nothing. So a call with
//! PUIDs of which some were stored long ago and some lately names the recent ones first
//! and the older ones at the next call.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::TimeDelta;
use redress::config::Secret;
use redress::transparency::tdb_client::{HttpTdbApi, TdbSubmissionConfig};
use redress_engine::registry::NewEnforcement;
use redress_engine::testing::automated_deactivation;
use redress_engine::transparency::tdb::TdbSettings;
use redress_engine::transparency::tdb_submission::{SubmitReport, TdbState, SPLIT_AFTER};
use redress_engine::{Engine, ManualClock};
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

pub const TOKEN: &str = "X|test-platform-token";

/// What the next call to the batch endpoint does before (or instead of) its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    TooManyRequests,
    ServiceUnavailable,
    /// Stores the statements, then keeps the answer forever.
    StoreThenHang,
    /// Stores the statements, then answers 500 as the database's exception handler does
    /// when something fails after the insert.
    StoreThenServerError,
    /// What a wrong path answers, or a proxy in front: not the database's answer.
    NotFound,
    PayloadTooLarge,
    /// A 200 with a web page, as a login page or a proxy's error page would be.
    OkHtml,
}

#[derive(Debug, Default)]
pub struct Ledger {
    /// PUID → uuid of every statement stored.
    pub stored: HashMap<String, String>,
    /// Every PUID stored, in order: a PUID stored twice would show twice.
    pub inserts: Vec<String>,
    /// How often each PUID arrived in a call, whatever the answer.
    pub received: HashMap<String, u32>,
    pub calls: u32,
    /// Scripted behaviour of the coming calls, by call number (1-based).
    pub script: BTreeMap<u32, Script>,
    /// PUIDs this database refuses with a category error, as if its category list had
    /// changed since Redress was configured.
    pub refuse_category_of: HashSet<String>,
    /// PUIDs the look-up does not find although they are stored.
    pub hidden_from_lookup: HashSet<String>,
    /// Stored PUIDs whose entry in the database's PUID cache has expired: only its PUID
    /// table still knows them.
    pub expired_from_cache: HashSet<String>,
    /// PUIDs whose insert fails every time: a call carrying one answers 500 as the
    /// database's `handleQueryException` does, and stores nothing.
    pub poisoned: HashSet<String>,
    /// Every call answers 503, as in maintenance.
    pub outage: bool,
    /// Every second call of the batch endpoint answers 503, the first one taken.
    pub flaky: bool,
    /// Calls of the batch endpoint made while `flaky`.
    pub flaky_calls: u32,
    /// The PUIDs asked about with the look-up, in order, whatever the answer.
    pub lookups: Vec<String>,
}

#[derive(Clone)]
pub struct Database {
    pub ledger: Arc<Mutex<Ledger>>,
    /// Told when a `StoreThenHang` call has stored its statements.
    pub hung: Arc<Notify>,
    pub url: String,
}

impl Database {
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub async fn start() -> Database {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let hung = Arc::new(Notify::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("address");
    let state = (ledger.clone(), hung.clone());
    let app = Router::new()
        .route("/api/v1/statements", post(store))
        .route("/api/v1/statement/existing-puid/{puid}", get(existing))
        .with_state(state);
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    Database {
        ledger,
        hung,
        url: format!("http://{addr}"),
    }
}

type Shared = (Arc<Mutex<Ledger>>, Arc<Notify>);

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"))
}

fn unprocessable(body: Value) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

async fn store(State((ledger, hung)): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Unauthenticated."})),
        )
            .into_response();
    }
    let payload: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let statements = match payload.get("statements").and_then(Value::as_array) {
        Some(list) if (1..=100).contains(&list.len()) => list.clone(),
        _ => {
            let message = "The statements field must have between 1 and 100 items.";
            return unprocessable(json!({"message": message, "errors": {"statements": [message]}}));
        }
    };
    let (script, unavailable) = {
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.calls += 1;
        for statement in &statements {
            if let Some(puid) = statement.get("puid").and_then(Value::as_str) {
                *ledger.received.entry(puid.to_owned()).or_default() += 1;
            }
        }
        let call = ledger.calls;
        let flaky_miss = ledger.flaky && {
            ledger.flaky_calls += 1;
            ledger.flaky_calls % 2 == 0
        };
        (ledger.script.remove(&call), ledger.outage || flaky_miss)
    };
    if unavailable {
        return service_unavailable();
    }
    match script {
        Some(Script::TooManyRequests) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "30")],
                "Too Many Attempts.",
            )
                .into_response()
        }
        Some(Script::ServiceUnavailable) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response()
        }
        Some(Script::NotFound) => return (StatusCode::NOT_FOUND, "Not Found").into_response(),
        Some(Script::PayloadTooLarge) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "<html>413 Request Entity Too Large</html>",
            )
                .into_response()
        }
        Some(Script::OkHtml) => {
            return (StatusCode::OK, "<html><body>Sign in</body></html>").into_response()
        }
        _ => {}
    }
    // The fields first, every statement; nothing is stored when one fails.
    let mut errors = Map::new();
    {
        let ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        for (index, statement) in statements.iter().enumerate() {
            let mut fields = check(statement);
            let puid = statement
                .get("puid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if ledger.refuse_category_of.contains(puid) {
                fields
                    .entry("category".to_owned())
                    .or_default()
                    .push("The selected category is invalid.".to_owned());
            }
            if !fields.is_empty() {
                errors.insert(format!("statement_{index}"), json!(fields));
            }
        }
    }
    if !errors.is_empty() {
        return unprocessable(json!({"errors": errors}));
    }
    let puids: Vec<String> = statements
        .iter()
        .filter_map(|s| s.get("puid").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let created = {
        let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(duplicates) = not_unique(&mut ledger, &puids) {
            let message = "The platform identifier(s) are not all unique within this call.";
            return unprocessable(json!({
                "message": message,
                "errors": {"puid": [message], "existing_puids": duplicates},
            }));
        }
        if puids.iter().any(|p| ledger.poisoned.contains(p)) {
            return query_exception();
        }
        let mut created = Vec::new();
        for (statement, puid) in statements.iter().zip(&puids) {
            let uuid = uuid::Uuid::new_v4().to_string();
            ledger.stored.insert(puid.clone(), uuid.clone());
            ledger.inserts.push(puid.clone());
            let mut out = statement.clone();
            out["uuid"] = json!(uuid);
            out["platform_name"] = json!("Test platform");
            out["created_at"] = json!("2026-06-01 09:00:00");
            created.push(out);
        }
        created
    };
    if script == Some(Script::StoreThenHang) {
        hung.notify_one();
        std::future::pending::<()>().await;
    }
    if script == Some(Script::StoreThenServerError) {
        return query_exception();
    }
    (StatusCode::CREATED, Json(json!({"statements": created}))).into_response()
}

/// What the database answers in maintenance.
fn service_unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"message": "Service Unavailable"})),
    )
        .into_response()
}

/// What the database's `handleQueryException` answers.
fn query_exception() -> Response {
    let message = "Statement Creation Query Exception Occurred, information has been passed \
                   on to the development team.";
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"message": message, "errors": {"uncaught_exception": [message]}})),
    )
        .into_response()
}

/// The PUIDs the database answers `existing_puids` with, if any: the first of its three
/// checks that finds one decides (see the module's comment).
fn not_unique(ledger: &mut Ledger, puids: &[String]) -> Option<Vec<String>> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for puid in puids {
        match counts.iter_mut().find(|(p, _)| *p == puid) {
            Some((_, n)) => *n += 1,
            None => counts.push((puid, 1)),
        }
    }
    let repeated: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(p, _)| p.clone())
        .collect();
    if !repeated.is_empty() {
        return Some(repeated);
    }
    let cached: Vec<String> = puids
        .iter()
        .filter(|p| ledger.stored.contains_key(*p) && !ledger.expired_from_cache.contains(*p))
        .cloned()
        .collect();
    if !cached.is_empty() {
        return Some(cached);
    }
    let wanted: HashSet<&String> = puids.iter().collect();
    let in_table: Vec<String> = ledger
        .inserts
        .iter()
        .filter(|p| wanted.contains(p))
        .cloned()
        .collect();
    if in_table.is_empty() {
        return None;
    }
    for puid in &in_table {
        ledger.expired_from_cache.remove(puid);
    }
    Some(in_table)
}

async fn existing(
    State((ledger, _)): State<Shared>,
    headers: HeaderMap,
    Path(puid): Path<String>,
) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut ledger = ledger.lock().unwrap_or_else(PoisonError::into_inner);
    ledger.lookups.push(puid.clone());
    if ledger.outage {
        return service_unavailable();
    }
    match ledger
        .stored
        .get(&puid)
        .filter(|_| !ledger.hidden_from_lookup.contains(&puid))
    {
        Some(uuid) => {
            (StatusCode::FOUND, Json(json!({"uuid": uuid, "puid": puid}))).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "statement of reason not found"})),
        )
            .into_response(),
    }
}

const VISIBILITIES: &[&str] = &[
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
];
const MONETARIES: &[&str] = &[
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
];
const PROVISIONS: &[&str] = &[
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
];
const ACCOUNTS: &[&str] = &["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"];
const GROUNDS: &[&str] = &[
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
];
const CONTENT_TYPES: &[&str] = &[
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];
const SOURCE_TYPES: &[&str] = &[
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];
const AUTOMATED_DECISIONS: &[&str] = &[
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];
const COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A string as Laravel's middleware leaves it: trimmed, and null when empty.
fn string(statement: &Value, field: &str) -> Option<String> {
    statement
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The database's `multi_rules`, the categories aside (any `STATEMENT_CATEGORY_` passes).
fn check(s: &Value) -> BTreeMap<String, Vec<String>> {
    let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut fail =
        |field: &str, message: String| errors.entry(field.to_owned()).or_default().push(message);
    let present = |field: &str| s.get(field).is_some_and(|v| !v.is_null());
    let human = |field: &str| field.replace('_', " ");
    if ![
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    ]
    .iter()
    .any(|f| present(f))
    {
        fail("decision_visibility", "The decision visibility field is required when none of decision monetary / decision provision / decision account are present.".into());
    }
    if let Some(visibility) = s.get("decision_visibility").filter(|v| !v.is_null()) {
        match visibility.as_array() {
            Some(list)
                if list
                    .iter()
                    .all(|v| v.as_str().is_some_and(|v| VISIBILITIES.contains(&v))) =>
            {
                if list.iter().any(|v| v == "DECISION_VISIBILITY_OTHER")
                    && string(s, "decision_visibility_other").is_none()
                {
                    fail(
                        "decision_visibility_other",
                        "The decision visibility other field is required.".into(),
                    );
                }
            }
            _ => fail(
                "decision_visibility",
                "The selected decision visibility is invalid.".into(),
            ),
        }
    }
    for (field, allowed) in [
        ("decision_monetary", MONETARIES),
        ("decision_provision", PROVISIONS),
        ("decision_account", ACCOUNTS),
    ] {
        if present(field) && !s[field].as_str().is_some_and(|v| allowed.contains(&v)) {
            fail(field, format!("The selected {} is invalid.", human(field)));
        }
    }
    match string(s, "decision_ground") {
        None => fail(
            "decision_ground",
            "The decision ground field is required.".into(),
        ),
        Some(ground) if !GROUNDS.contains(&ground.as_str()) => fail(
            "decision_ground",
            "The selected decision ground is invalid.".into(),
        ),
        Some(ground) => {
            let (text, explanation) = if ground == "DECISION_GROUND_ILLEGAL_CONTENT" {
                (
                    "illegal_content_legal_ground",
                    "illegal_content_explanation",
                )
            } else {
                (
                    "incompatible_content_ground",
                    "incompatible_content_explanation",
                )
            };
            for (field, max) in [(text, 500), (explanation, 2000)] {
                match string(s, field) {
                    None => fail(field, format!("The {} field is required.", human(field))),
                    Some(v) if v.chars().count() > max => fail(
                        field,
                        format!(
                            "The {} field must not be greater than {max} characters.",
                            human(field)
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    match s.get("content_type") {
        None | Some(Value::Null) => {
            fail("content_type", "The content type field is required.".into());
        }
        Some(Value::Array(list)) if list.is_empty() => {
            fail("content_type", "The content type field is required.".into());
        }
        Some(Value::Array(list)) => {
            if !list
                .iter()
                .all(|v| v.as_str().is_some_and(|v| CONTENT_TYPES.contains(&v)))
            {
                fail(
                    "content_type",
                    "The selected content type is invalid.".into(),
                );
            }
            if list.iter().any(|v| v == "CONTENT_TYPE_OTHER")
                && string(s, "content_type_other").is_none()
            {
                fail(
                    "content_type_other",
                    "The content type other field is required.".into(),
                );
            }
        }
        Some(_) => fail(
            "content_type",
            "The content type field must be an array.".into(),
        ),
    }
    if !string(s, "category").is_some_and(|c| c.starts_with("STATEMENT_CATEGORY_")) {
        fail("category", "The selected category is invalid.".into());
    }
    if let Some(scope) = s.get("territorial_scope").filter(|v| !v.is_null()) {
        if !scope.as_array().is_some_and(|list| {
            list.iter()
                .all(|c| c.as_str().is_some_and(|c| COUNTRIES.contains(&c)))
        }) {
            fail(
                "territorial_scope",
                "The selected territorial scope is invalid.".into(),
            );
        }
    }
    for (field, required, earliest) in [
        ("content_date", true, Some("2000-01-01")),
        ("application_date", true, Some("2020-01-01")),
        ("end_date_account_restriction", false, None),
        ("end_date_monetary_restriction", false, None),
        ("end_date_service_restriction", false, None),
        ("end_date_visibility_restriction", false, None),
    ] {
        match string(s, field) {
            None if required => fail(field, format!("The {} field is required.", human(field))),
            None => {}
            Some(date) => {
                let well_formed = date.len() == 10
                    && date.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    })
                    && chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_ok();
                if !well_formed {
                    fail(
                        field,
                        format!("The {} does not match the format YYYY-MM-DD.", human(field)),
                    );
                } else if earliest.is_some_and(|e| date.as_str() < e) {
                    fail(
                        field,
                        format!(
                            "The {} field must be a date after or equal to {}.",
                            human(field),
                            earliest.unwrap_or_default()
                        ),
                    );
                } else if date.as_str() > "2038-01-01" {
                    fail(
                        field,
                        format!(
                            "The {} field must be a date before or equal to 2038-01-01.",
                            human(field)
                        ),
                    );
                }
            }
        }
    }
    match string(s, "decision_facts") {
        None => fail(
            "decision_facts",
            "The decision facts field is required.".into(),
        ),
        Some(v) if v.chars().count() > 5000 => fail(
            "decision_facts",
            "The decision facts field must not be greater than 5000 characters.".into(),
        ),
        Some(_) => {}
    }
    for (field, allowed) in [
        ("source_type", SOURCE_TYPES),
        ("automated_detection", &["Yes", "No"][..]),
        ("automated_decision", AUTOMATED_DECISIONS),
    ] {
        match string(s, field) {
            None => fail(field, format!("The {} field is required.", human(field))),
            Some(v) if !allowed.contains(&v.as_str()) => {
                fail(field, format!("The selected {} is invalid.", human(field)));
            }
            Some(_) => {}
        }
    }
    // `regex:/^[a-zA-Z0-9-_]+$/D`, at most 500 characters.
    match s.get("puid").and_then(Value::as_str) {
        None | Some("") => fail("puid", "The puid field is required.".into()),
        Some(p) if p.chars().count() > 500 => fail(
            "puid",
            "The puid field must not be greater than 500 characters.".into(),
        ),
        Some(p)
            if !p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            fail("puid", "The puid format is invalid.".into());
        }
        Some(_) => {}
    }
    errors
}

/// The scripted calls, in order of call number.
pub fn script(database: &Database, calls: impl IntoIterator<Item = (u32, Script)>) {
    database.ledger().script.extend(calls);
}

/// A statement an earlier call stored, whose answer never reached Redress; `expired` when
/// its entry in the database's PUID cache has expired since.
pub fn store_earlier(database: &Database, puid: &str, expired: bool) {
    let mut ledger = database.ledger();
    ledger
        .stored
        .insert(puid.to_owned(), uuid::Uuid::new_v4().to_string());
    ledger.inserts.push(puid.to_owned());
    if expired {
        ledger.expired_from_cache.insert(puid.to_owned());
    }
}

/// Submission against this database, with short timeouts and backoffs.
pub fn submission_config(database: &Database) -> TdbSubmissionConfig {
    TdbSubmissionConfig {
        enabled: true,
        base_url: database.url.clone(),
        token: Secret::new(TOKEN),
        request_timeout_seconds: 20,
        lease_seconds: 300,
        backoff_base_seconds: 30,
        backoff_max_seconds: 600,
        ..TdbSubmissionConfig::default()
    }
}

/// Runs one round once everything taken before is due again (past leases and backoffs).
pub async fn round_later(
    engine: &Engine,
    clock: &ManualClock,
    api: &HttpTdbApi,
    config: &TdbSubmissionConfig,
) -> SubmitReport {
    clock.advance(TimeDelta::hours(2));
    engine
        .tdb_submit_round(api, &config.submit_settings(&TdbSettings::default()))
        .await
        .expect("round")
}

/// Brings the one pending statement of enforcement `id`, sound as it is, towards refusal
/// through no fault of its own: an outage gives it [`SPLIT_AFTER`] server errors in a row,
/// then the database turns flaky, failing every second call, and in each of `lone` rounds
/// takes a newly recorded statement (`passer{n}-0`) and fails the call that carries this
/// one alone. The database is sound again after.
pub async fn isolate_by_a_flaky_database(
    engine: &Engine,
    clock: &ManualClock,
    database: &Database,
    api: &HttpTdbApi,
    config: &TdbSubmissionConfig,
    id: uuid::Uuid,
    lone: i32,
) {
    database.ledger().outage = true;
    for _ in 0..SPLIT_AFTER {
        let report = round_later(engine, clock, api, config).await;
        assert_eq!((report.requests, report.deferred), (1, 1), "{report:?}");
    }
    {
        let mut ledger = database.ledger();
        ledger.outage = false;
        ledger.flaky = true;
    }
    for passer in 1..=lone {
        let at = clock.now_plus(TimeDelta::zero());
        let account = format!("acct-passer{passer}");
        engine
            .record_enforcements(vec![NewEnforcement {
                external_id: Some(format!("passer{passer}-0")),
                ..automated_deactivation(&account, "model", "spam-v3", at)
            }])
            .await
            .expect("recorded");
        let report = round_later(engine, clock, api, config).await;
        assert_eq!(
            (
                report.claimed,
                report.requests,
                report.submitted,
                report.deferred,
                report.refused
            ),
            (2, 2, 1, 1, 0),
            "{report:?}"
        );
        let row = engine.tdb_submission(id).await.expect("read").expect("row");
        assert_eq!(
            (row.state, row.server_failures, row.lone_server_failures),
            (TdbState::Pending, SPLIT_AFTER + passer, passer)
        );
    }
    let mut ledger = database.ledger();
    ledger.flaky = false;
    assert!(
        ledger.lookups.is_empty(),
        "the database was answering others: {:?}",
        ledger.lookups
    );
}
