//! Hostile requests for the webhooks and the status page: what the fuzz tests generate and
//! what `regressions/` keeps of the ones that once broke something.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The subscribed X account and the Instagram account the webhooks are configured for.
pub const OUR_X_ID: &str = "4337869213";
pub const OUR_IG_ID: &str = "17841400000000001";

/// Where a reference and token the test created are put into a request.
pub const REFERENCE: &str = "{reference}";
pub const TOKEN: &str = "{token}";

/// Stands for a number literal that `serde_json::Value` cannot hold (`1e400`, 30 digits):
/// generated as a string, swapped for the literal in the body's text.
const RAW_NUMBER: &str = "\u{1}raw-number\u{1}";

/// One request as it goes over the wire. Webhook requests are signed when sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostileRequest {
    pub target: Target,
    pub method: String,
    /// Path and query, percent-encoded as sent; may hold [`REFERENCE`].
    pub path: String,
    pub content_type: Option<String>,
    /// The body as text (it may hold [`REFERENCE`] and [`TOKEN`]), or as hex when it is
    /// not UTF-8.
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    X,
    Meta,
    StatusPage,
}

impl HostileRequest {
    fn webhook(target: Target, body: Vec<u8>) -> Self {
        let path = match target {
            Target::X => "/webhooks/x",
            _ => "/webhooks/meta",
        };
        let (body, body_hex) = match String::from_utf8(body) {
            Ok(text) => (text, None),
            Err(bytes) => (String::new(), Some(hex::encode(bytes.into_bytes()))),
        };
        Self {
            target,
            method: "POST".to_owned(),
            path: path.to_owned(),
            content_type: Some("application/json".to_owned()),
            body,
            body_hex,
        }
    }

    /// The body's bytes, with the placeholders filled in.
    pub fn body_bytes(&self, reference: &str, token: &str) -> Vec<u8> {
        match &self.body_hex {
            Some(hex_body) => hex::decode(hex_body).expect("hex body"),
            None => self
                .body
                .replace(REFERENCE, reference)
                .replace(TOKEN, token)
                .into_bytes(),
        }
    }
}

/// `count` values of `strategy`, the same ones on every run unless `REDRESS_FUZZ_SEED`
/// names another seed. `REDRESS_FUZZ_CASES` multiplies the count for a longer search.
pub fn cases<S: Strategy>(strategy: S, count: usize, name: &str) -> Vec<S::Value> {
    let seed = std::env::var("REDRESS_FUZZ_SEED").unwrap_or_default();
    let scale: usize = std::env::var("REDRESS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut key = [0u8; 32];
    for (i, byte) in format!("{name}:{seed}").bytes().enumerate() {
        key[i % 32] ^= byte.rotate_left((i / 32) as u32);
    }
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    (0..count * scale.max(1))
        .map(|_| strategy.new_tree(&mut runner).expect("value").current())
        .collect()
}

/// Where inputs that once broke something are kept, replayed by `replayed_regressions`.
pub fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/regressions")
}

/// Keeps `request` as a regression file and returns its path.
pub fn keep_as_regression(request: &HostileRequest, name: &str) -> PathBuf {
    let text = serde_json::to_string_pretty(request).expect("json");
    let digest = &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))[..12];
    let path = regressions_dir().join(format!("{name}-{digest}.json"));
    std::fs::write(&path, text).expect("write regression file");
    path
}

pub fn regressions() -> Vec<(PathBuf, HostileRequest)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(regressions_dir())
        .expect("regressions directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read");
            let request = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is no regression file: {e}", path.display()));
            (path, request)
        })
        .collect()
}

// ---------- text ----------

/// Strings that have hurt parsers and databases before, and arbitrary ones.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\PC{0,24}",
        3 => any::<String>(),
        2 => prop::collection::vec(prop_oneof![Just('\0'), Just('a'), Just('\u{FFFD}'), any::<char>()], 0..16)
            .prop_map(|chars| chars.into_iter().collect()),
        1 => (0usize..6000, prop_oneof![Just('x'), Just('\0'), Just('é')])
            .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect()),
        1 => prop::sample::select(vec![
            "", " ", "\0", "\0\0\0", "%00", "\\u0000", "\u{FEFF}", "\u{202E}evil", "\r\n\r\n",
            "<script>alert(1)</script>", "'; DROP TABLE appeals; --", "\u{D7FF}\u{E000}\u{10FFFF}",
            "RDR-7K3Q-9M2X", "acct-1@example.org", "😀",
        ]).prop_map(str::to_owned),
    ]
}

/// A JSON value of a type nobody expects where it appears.
pub fn odd_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::String),
    ];
    let leaf = prop_oneof![12 => leaf, 1 => Just(Value::String(RAW_NUMBER.to_owned()))];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Either a value of the expected shape or an odd one, or the field left out (`None`).
fn field(expected: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        14 => expected.prop_map(Some),
        1 => odd_value().prop_map(Some),
        1 => Just(None),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect(),
    )
}

/// Milliseconds near `now` mostly, far away or absurd sometimes.
fn millis(now: DateTime<Utc>) -> impl Strategy<Value = i64> {
    let now = now.timestamp_millis();
    prop_oneof![
        6 => (-60_000i64..60_000).prop_map(move |d| now + d),
        1 => any::<i64>(),
        1 => prop::sample::select(vec![0, -1, i64::MIN, i64::MAX, 8_640_000_000_000_000]),
    ]
}

fn id_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[0-9]{1,19}",
        3 => hostile_text(),
    ]
}

// ---------- X ----------

fn x_event(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        8 => Just(json!("message_create")),
        1 => hostile_text().prop_map(Value::from),
    ];
    let created = millis(now).prop_map(|ms| json!(ms.to_string()));
    let sender = prop_oneof![3 => id_text(), 1 => Just(OUR_X_ID.to_owned())].prop_map(Value::from);
    let message_data = (
        field(hostile_text().prop_map(Value::from)),
        field(odd_value()),
    )
        .prop_map(|(text, attachment)| object(vec![("text", text), ("attachment", attachment)]));
    let create = (
        field(sender),
        field(Just(json!({ "recipient_id": OUR_X_ID }))),
        field(message_data),
    )
        .prop_map(|(sender_id, target, message_data)| {
            object(vec![
                ("sender_id", sender_id),
                ("target", target),
                ("message_data", message_data),
            ])
        });
    (
        field(kind),
        field(id_text().prop_map(Value::from)),
        field(created),
        field(create),
    )
        .prop_map(|(kind, id, created, create)| {
            object(vec![
                ("type", kind),
                ("id", id),
                ("created_timestamp", created),
                ("message_create", create),
            ])
        })
}

pub fn x_activity(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    let users = prop::collection::btree_map(
        id_text(),
        (hostile_text(), hostile_text())
            .prop_map(|(name, screen_name)| json!({ "name": name, "screen_name": screen_name })),
        0..3,
    )
    .prop_map(|map| Value::Object(map.into_iter().collect()));
    (
        field(prop_oneof![
            Just(json!(OUR_X_ID)),
            id_text().prop_map(Value::from)
        ]),
        field(prop::collection::vec(x_event(now), 1..4).prop_map(Value::Array)),
        field(users),
    )
        .prop_map(|(for_user_id, events, users)| {
            object(vec![
                ("for_user_id", for_user_id),
                ("direct_message_events", events),
                ("users", users),
            ])
        })
}

// ---------- Meta ----------

fn meta_messaging(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    let party = || id_text().prop_map(|id| json!({ "id": id }));
    let message = (
        field(id_text().prop_map(Value::from)),
        field(hostile_text().prop_map(Value::from)),
        field(odd_value()),
        prop_oneof![4 => Just(None), 1 => any::<bool>().prop_map(|b| Some(json!(b)))],
    )
        .prop_map(|(mid, text, attachments, is_echo)| {
            object(vec![
                ("mid", mid),
                ("text", text),
                ("attachments", attachments),
                ("is_echo", is_echo),
            ])
        });
    (
        field(party()),
        field(party()),
        field(millis(now).prop_map(Value::from)),
        prop_oneof![5 => message.prop_map(Some), 1 => Just(None)],
    )
        .prop_map(|(sender, recipient, timestamp, message)| {
            object(vec![
                ("sender", sender),
                ("recipient", recipient),
                ("timestamp", timestamp),
                ("message", message),
            ])
        })
}

pub fn meta_notification(now: DateTime<Utc>) -> impl Strategy<Value = Value> {
    let object_kind = prop_oneof![
        4 => Just(json!("instagram")),
        4 => Just(json!("page")),
        1 => hostile_text().prop_map(Value::from),
    ];
    let entry = field(prop::collection::vec(meta_messaging(now), 1..4).prop_map(Value::Array))
        .prop_map(|messaging| {
            object(vec![
                ("id", Some(json!(OUR_IG_ID))),
                ("messaging", messaging),
            ])
        });
    (
        field(object_kind),
        field(prop::collection::vec(entry, 1..3).prop_map(Value::Array)),
    )
        .prop_map(|(kind, entry)| object(vec![("object", kind), ("entry", entry)]))
}

// ---------- bodies ----------

/// The text of `value`, with stand-ins swapped for number literals `Value` cannot hold.
fn with_raw_numbers(value: &Value, literal: &str) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("json");
    let stand_in = serde_json::to_string(RAW_NUMBER).expect("json");
    text.replace(&stand_in, literal).into_bytes()
}

/// How a structured payload is turned into a body: as it is, nested deep, cut short, or
/// replaced by arbitrary bytes.
fn body_of(structured: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<u8>> {
    let literal = prop::sample::select(vec![
        "1e400",
        "-1e400",
        "123456789012345678901234567890",
        "-0",
        "0.0000000000000000001e-400",
        "1E+9999",
    ]);
    prop_oneof![
        8 => (structured, literal.clone()).prop_map(|(value, literal)| with_raw_numbers(&value, literal)),
        1 => (0usize..20_000, prop_oneof![Just("["), Just("{\"a\":")]).prop_map(|(depth, open)| {
            let close = if open == "[" { "]" } else { "}" };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

pub fn x_body(now: DateTime<Utc>) -> impl Strategy<Value = Vec<u8>> {
    body_of(x_activity(now))
}

pub fn meta_body(now: DateTime<Utc>) -> impl Strategy<Value = Vec<u8>> {
    body_of(meta_notification(now))
}

pub fn webhook_request(now: DateTime<Utc>) -> impl Strategy<Value = HostileRequest> {
    prop_oneof![
        x_body(now).prop_map(|body| HostileRequest::webhook(Target::X, body)),
        meta_body(now).prop_map(|body| HostileRequest::webhook(Target::Meta, body)),
    ]
}

// ---------- the status page ----------

/// `text` percent-encoded as a form encodes it, or sent raw (with whatever `%`, `&`, `=`
/// and bytes it holds), or with broken percent escapes.
fn form_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_text().prop_map(|t| percent_encode(&t)),
        2 => hostile_text(),
        1 => prop::sample::select(vec!["%", "%G1", "%zz", "%FF%FE", "%C0%80", "%00", "%ED%A0%80", "+%2"])
            .prop_map(str::to_owned),
    ]
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn form_body(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let pair = (
        prop_oneof![4 => prop::sample::select(names).prop_map(str::to_owned), 1 => form_value()],
        form_value(),
    )
        .prop_map(|(name, value)| format!("{name}={value}"));
    prop::collection::vec(pair, 0..5).prop_map(|pairs| pairs.join("&"))
}

fn reference_text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(REFERENCE.to_owned()),
        1 => Just("RDR-0000-0000".to_owned()),
        2 => form_value(),
    ]
}

fn token_text() -> impl Strategy<Value = String> {
    prop_oneof![6 => Just(TOKEN.to_owned()), 1 => form_value()]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        12 => Just(Some("application/x-www-form-urlencoded".to_owned())),
        1 => Just(None),
        1 => Just(Some("application/json".to_owned())),
        1 => Just(Some("multipart/form-data; boundary=x".to_owned())),
    ]
}

fn status(
    method: &str,
    path: String,
    content_type: Option<String>,
    body: String,
) -> HostileRequest {
    HostileRequest {
        target: Target::StatusPage,
        method: method.to_owned(),
        path,
        content_type,
        body,
        body_hex: None,
    }
}

pub fn status_page_request() -> impl Strategy<Value = HostileRequest> {
    let lookup = (
        content_type(),
        prop_oneof![
            2 => (reference_text(), token_text())
                .prop_map(|(r, t)| format!("reference={r}&token={t}")),
            1 => form_body(&["reference", "token"]),
        ],
    )
        .prop_map(|(ct, body)| status("POST", "/status".to_owned(), ct, body));
    let add = (
        reference_text(),
        content_type(),
        prop_oneof![
            6 => (token_text(), form_value()).prop_map(|(t, info)| format!("token={t}&information={info}")),
            1 => form_body(&["token", "information"]),
        ],
    )
        .prop_map(|(reference, ct, body)| status("POST", format!("/status/{reference}"), ct, body));
    let page = (reference_text(), prop::option::of(form_value())).prop_map(|(reference, query)| {
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        status(
            "GET",
            format!("/status/{reference}{query}"),
            None,
            String::new(),
        )
    });
    let form = form_value()
        .prop_map(|query| status("GET", format!("/status?{query}"), None, String::new()));
    prop_oneof![3 => lookup, 5 => add, 1 => page, 1 => form]
}

/// What the page should have stored of a well-formed addition, if it took it: the
/// information as the form decodes it, NULs replaced and trimmed.
pub fn information_sent(request: &HostileRequest, reference: &str, token: &str) -> Option<String> {
    if request.method != "POST" || request.path != format!("/status/{REFERENCE}") {
        return None;
    }
    let body = String::from_utf8(request.body_bytes(reference, token)).ok()?;
    let (mut information, mut token_seen) = (None, false);
    for pair in body.split('&') {
        let (name, value) = pair.split_once('=')?;
        match name {
            "token" if value == token && !token_seen => token_seen = true,
            "information" if information.is_none() => information = Some(percent_decode(value)?),
            _ => return None,
        }
    }
    if !token_seen {
        return None;
    }
    let text = information?.replace('\0', "\u{FFFD}");
    Some(text.trim().to_owned())
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = value.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}
