//! The social webhooks' test harness: the running service with X and Meta configured,
//! deliveries signed here independently of the service, and a local server speaking the
//! X and Meta send APIs that records the replies.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use redress::app::RunningApp;
use redress::config::{Config, Secret};
use redress::social::{MetaConfig, XConfig};
use redress_engine::delivery::{DelivererRegistry, DeliveryError, OutboxMessage};
use redress_engine::entity::{message, outbox};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::TestDb;
use redress_engine::ManualClock;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

pub const X_SECRET: &str = "x-consumer-secret";
pub const META_SECRET: &str = "meta-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me";
pub const OUR_X_ID: &str = "4337869213";
pub const OUR_IG_ID: &str = "17841400000000001";

// ---------- signatures, computed here independently of the service ----------

pub fn hmac(secret: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

pub fn x_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(hmac(secret, body))
    )
}

pub fn meta_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac(secret, body)))
}

// ---------- platform-shaped payloads ----------

pub fn x_dm(event_id: &str, sender: &str, text: &str, at: DateTime<Utc>) -> Value {
    json!({
        "for_user_id": OUR_X_ID,
        "direct_message_events": [{
            "type": "message_create",
            "id": event_id,
            "created_timestamp": at.timestamp_millis().to_string(),
            "message_create": {
                "target": { "recipient_id": OUR_X_ID },
                "sender_id": sender,
                "source_app_id": "268278",
                "message_data": {
                    "text": text,
                    "entities": { "hashtags": [], "symbols": [], "user_mentions": [], "urls": [] }
                }
            }
        }],
        "users": {
            sender: { "id": sender, "name": "Ana B", "screen_name": "ana_b", "protected": false },
            OUR_X_ID: { "id": OUR_X_ID, "name": "Support", "screen_name": "support" }
        }
    })
}

pub fn meta_messaging(
    mid: &str,
    sender: &str,
    recipient: &str,
    text: &str,
    at: DateTime<Utc>,
    echo: bool,
) -> Value {
    let mut message = json!({ "mid": mid, "text": text });
    if echo {
        message["is_echo"] = json!(true);
    }
    json!({
        "sender": { "id": sender },
        "recipient": { "id": recipient },
        "timestamp": at.timestamp_millis(),
        "message": message
    })
}

pub fn meta_notification(object: &str, messaging: Vec<Value>, at: DateTime<Utc>) -> Value {
    json!({
        "object": object,
        "entry": [{ "id": OUR_IG_ID, "time": at.timestamp_millis(), "messaging": messaging }]
    })
}

// ---------- the send APIs ----------

#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

pub type Outbox = Arc<Mutex<Vec<Sent>>>;

/// Answers like X (201 with the event ids) and Meta (200 with the message id); a recipient
/// named `rate-limited` gets 429 and one named `blocked` gets 400, as the platforms do.
pub async fn send_api() -> (String, Outbox) {
    pub async fn x_send(
        State(sent): State<Outbox>,
        Path(participant): Path<String>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        record(
            &sent,
            format!("/2/dm_conversations/with/{participant}/messages"),
            &headers,
            body,
        );
        match participant.as_str() {
            "rate-limited" => (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({ "title": "Too Many Requests" })),
            ),
            "blocked" => (
                StatusCode::FORBIDDEN,
                Json(
                    json!({ "title": "Forbidden", "detail": "You cannot send messages to this user." }),
                ),
            ),
            _ => (
                StatusCode::CREATED,
                Json(
                    json!({ "data": { "dm_conversation_id": format!("{OUR_X_ID}-{participant}"), "dm_event_id": "1582838315" } }),
                ),
            ),
        }
    }
    pub async fn meta_send(
        State(sent): State<Outbox>,
        Path(version): Path<String>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        let recipient = body["recipient"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        record(&sent, format!("/{version}/me/messages"), &headers, body);
        match recipient.as_str() {
            "rate-limited" => (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({ "error": { "code": 613 } })),
            ),
            "blocked" => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": { "code": 10, "error_subcode": 2_018_278 } })),
            ),
            _ => (
                StatusCode::OK,
                Json(json!({ "recipient_id": recipient, "message_id": "m_AG5Hz2U" })),
            ),
        }
    }
    pub fn record(sent: &Outbox, path: String, headers: &HeaderMap, body: Value) {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        sent.lock().expect("lock").push(Sent {
            path,
            authorization,
            body,
        });
    }
    let sent: Outbox = Arc::default();
    let router = Router::new()
        .route(
            "/2/dm_conversations/with/{participant}/messages",
            post(x_send),
        )
        .route("/{version}/me/messages", post(meta_send))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), sent)
}

// ---------- the service ----------

pub struct Harness {
    pub app: RunningApp,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: ManualClock,
    pub config: Config,
    pub sent: Outbox,
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
        .single()
        .expect("date")
}

pub async fn start(test: &TestDb) -> Harness {
    start_with(test, |_| {}).await
}

/// [`start`], with `adjust` changing the configuration before the service starts.
pub async fn start_with(test: &TestDb, adjust: impl FnOnce(&mut Config)) -> Harness {
    let (send_base, sent) = send_api().await;
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    // The test delivers the outbox itself.
    config.workers.enabled = false;
    "https://appeals.example".clone_into(&mut config.social.public_url);
    config.social.x = Some(XConfig {
        consumer_secret: Secret::new(X_SECRET),
        bearer_token: Secret::new("x-user-token"),
        api_base_url: send_base.clone(),
    });
    config.social.meta = Some(MetaConfig {
        app_secret: Secret::new(META_SECRET),
        verify_token: Secret::new(VERIFY_TOKEN),
        messenger_access_token: Secret::new("page-token"),
        instagram_access_token: Secret::new("ig-token"),
        graph_base_url: send_base,
        api_version: "v21.0".to_owned(),
        human_agent_tag: false,
    });
    adjust(&mut config);
    let clock = ManualClock::new(start_time());
    let app = redress::app::start_with_clock(config.clone(), Arc::new(clock.clone()))
        .await
        .expect("start");
    Harness {
        base: format!("http://{}", app.http_addr),
        app,
        http: reqwest::Client::new(),
        clock,
        config,
        sent,
    }
}

impl Harness {
    pub async fn post_x(&self, payload: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(payload).expect("json");
        let signature = x_signature(X_SECRET, &body);
        self.post_raw(
            "/webhooks/x",
            body,
            Some(("x-twitter-webhooks-signature", signature)),
        )
        .await
    }

    pub async fn post_meta(&self, payload: &Value) -> reqwest::Response {
        let body = serde_json::to_vec(payload).expect("json");
        let signature = meta_signature(META_SECRET, &body);
        self.post_raw(
            "/webhooks/meta",
            body,
            Some(("x-hub-signature-256", signature)),
        )
        .await
    }

    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        header: Option<(&str, String)>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        request.send().await.expect("post")
    }

    pub async fn messages(&self) -> u64 {
        message::Entity::find()
            .count(self.app.state.engine.db())
            .await
            .expect("count")
    }

    pub async fn outbox(&self) -> Vec<outbox::Model> {
        outbox::Entity::find()
            .all(self.app.state.engine.db())
            .await
            .expect("outbox")
    }

    /// Hands every outbox item a DM sender takes to it, as the dispatcher does; returns the
    /// outcome per item.
    pub async fn deliver_dms(&self) -> Vec<(String, Result<(), DeliveryError>)> {
        let mut registry = DelivererRegistry::new();
        redress::social::register_deliverers(&mut registry, &self.app.state.engine, &self.config)
            .expect("deliverers");
        let mut outcomes = Vec::new();
        for item in self.outbox().await {
            let topic = item.topic.clone();
            let message = OutboxMessage::from(item);
            if let Some(deliverer) = registry.deliverer_for(&message) {
                outcomes.push((topic, deliverer.deliver(&message).await));
            }
        }
        outcomes
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("lock").clone()
    }

    pub async fn stop(self, test: TestDb) {
        self.app.stop().await.expect("stop");
        test.cleanup().await;
    }
}

pub async fn summary(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    response.json().await.expect("summary")
}

pub async fn enforce(harness: &Harness, account: &str) -> Uuid {
    registry::record_enforcement(
        harness.app.state.engine.db(),
        NewEnforcement {
            external_id: Some(format!("ext-{account}")),
            policy: "adult_content".into(),
            batch_id: Some("wave-2026-05".into()),
            content_id: Some("pin-991".into()),
            content_relation: Some("saved".into()),
            ..redress_engine::testing::automated_deactivation(
                account,
                "model",
                "nudity-v7",
                start_time() - TimeDelta::days(3),
            )
        },
        start_time(),
    )
    .await
    .expect("enforcement")
}
