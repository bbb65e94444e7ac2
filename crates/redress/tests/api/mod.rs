//! A running service and a GraphQL client with real tokens, for API tests.

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use futures_util::StreamExt;
use redress::app::RunningApp;
use redress::config::{Config, Secret};
use redress_core::Role;
use redress_engine::testing::TestDb;
use redress_engine::ManualClock;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

pub const SECRET: &str = "api-test-secret-long-enough-for-hs256-signing";

pub struct TestApp {
    pub app: RunningApp,
    pub clock: ManualClock,
    pub config: Config,
    pub http: reqwest::Client,
}

pub fn config_for(test: &TestDb) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    // Tests drive the outbox and the timers themselves.
    config.workers.enabled = false;
    config.graphql.auth.hs256_secret = Some(SECRET.to_owned());
    config
}

/// A port free now (bound and released), for an address that must be known before start.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Serves HTTP on a port chosen now, because the status links in the notices name the
/// public URL before the service is up; returns the port.
pub fn serve_status_links(config: &mut Config) -> u16 {
    let port = free_port();
    config.http.bind = format!("127.0.0.1:{port}").parse().expect("address");
    config.transparency.status_page.public_url = format!("http://127.0.0.1:{port}");
    config.transparency.status_page.token_secret =
        Some(Secret::new("status-link-test-secret-of-32-characters"));
    port
}

impl TestApp {
    pub async fn start(test: &TestDb) -> Self {
        Self::start_with(config_for(test)).await
    }

    /// Starts with the service's clock at the real time: a browser counts SLA deadlines
    /// down on its own clock, so the two must agree.
    pub async fn start_on_browser_clock(config: Config) -> Self {
        Self::start_at(config, Utc::now()).await
    }

    pub async fn start_with(config: Config) -> Self {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
            .single()
            .expect("time");
        Self::start_at(config, at).await
    }

    /// Starts the service with its clock at `at`.
    async fn start_at(config: Config, at: chrono::DateTime<Utc>) -> Self {
        let clock = ManualClock::new(at);
        // Boxed: the service's start-up holds the whole configuration across awaits.
        let app = Box::pin(redress::app::start_with_clock(
            config.clone(),
            Arc::new(clock.clone()),
        ))
        .await
        .expect("start");
        Self {
            app,
            clock,
            config,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.app.http_addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.app.http_addr)
    }

    pub fn token(&self, subject: &str, roles: &[Role]) -> String {
        redress_graphql::auth::mint_dev_token(
            &self.config.graphql.auth,
            subject,
            roles,
            redress_engine::Clock::now(&self.clock),
            TimeDelta::hours(1),
        )
        .expect("mint token")
    }

    /// Posts a GraphQL request; returns the whole response body.
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url())
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json body"))
    }

    /// `data`, asserting there were no errors.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The code of the first error, asserting there was one.
    pub async fn error_code(&self, token: &str, query: &str, variables: Value) -> String {
        let (_, body) = self.post(Some(token), query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code: {body}"))
            .to_owned()
    }

    pub async fn stop(self) {
        self.app.stop().await.expect("stop");
    }
}

/// The next JSON message on a GraphQL websocket, past the pings and pongs between them.
pub async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await.expect("socket open").expect("message") {
            Message::Text(text) => return serde_json::from_str(&text).expect("json"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

pub const RECORD: &str =
    r"mutation($e: [EnforcementInput!]!) { recordEnforcements(enforcements: $e) { ids } }";
pub const FILE: &str = r"mutation($i: FileAppealInput!) { fileAppeal(input: $i) { outcome appeal { id reference version state queue } } }";

pub fn enforcement(account: &str, policy: &str) -> Value {
    json!({
        "externalId": format!("enf-{account}"),
        "accountId": account,
        "accountEmail": format!("{account}@example.test"),
        "kind": "account_deactivation",
        "policy": policy,
        "sourceKind": "model",
        "sourceId": "classifier-v7",
        "automatedDetection": "fully",
        "automatedDecision": "fully",
        "contentId": "pin-1",
        "contentRelation": "saved",
        "facts": "saved a pin flagged as spam",
        "statement": redress_engine::testing::automated_suspension_statement(
            Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap(),
        ),
        "enforcedAt": "2026-11-24T10:00:00Z",
    })
}

/// Records an enforcement and files an appeal about it as the platform; returns the appeal.
pub async fn file_appeal(app: &TestApp, account: &str, policy: &str) -> Value {
    file_appeal_about(app, enforcement(account, policy)).await
}

/// Records `enforcement` (an [`enforcement`], changed where a test needs) and files an
/// appeal from its account about it as the platform; returns the appeal.
pub async fn file_appeal_about(app: &TestApp, enforcement: Value) -> Value {
    let account = enforcement["accountId"]
        .as_str()
        .expect("accountId")
        .to_owned();
    let platform = app.token("platform", &[Role::Integration]);
    let ids = app.ok(&platform, RECORD, json!({"e": [enforcement]})).await;
    let enforcement_id = ids["recordEnforcements"]["ids"][0].clone();
    let filed = app
        .ok(
            &platform,
            FILE,
            json!({"i": {
                "requestId": format!("req-{account}"),
                "enforcementId": enforcement_id,
                "sender": format!("{account}@example.test"),
                "body": "I only saved that pin, please restore my account",
                "identityVerified": true,
            }}),
        )
        .await;
    filed["fileAppeal"]["appeal"].clone()
}

pub const TRIAGE: &str = r"mutation($id: ID!, $v: Int!, $q: String) { triageAppeal(id: $id, expectedVersion: $v, input: {priority: HIGH, queue: $q, identityVerified: true}) { version state queue fourEyes } }";

/// Files and triages an appeal into `queue`; returns it after triage.
pub async fn triaged_appeal(
    app: &TestApp,
    account: &str,
    policy: &str,
    queue: &str,
) -> (String, i64) {
    let appeal = file_appeal(app, account, policy).await;
    let id = appeal["id"].as_str().expect("id").to_owned();
    let version = appeal["version"].as_i64().expect("version");
    let triaged = triaged_appeal_by_id(app, &id, version, queue).await;
    (id, triaged)
}

/// Triages the filed appeal `id` at `version` into `queue`; returns its new version.
pub async fn triaged_appeal_by_id(app: &TestApp, id: &str, version: i64, queue: &str) -> i64 {
    let triager = app.token("tina", &[Role::Triager]);
    let triaged = app
        .ok(
            &triager,
            TRIAGE,
            json!({"id": id, "v": version, "q": queue}),
        )
        .await;
    triaged["triageAppeal"]["version"]
        .as_i64()
        .expect("version")
}

/// Delivers the appeal's pending outbox items of `topic` through the service's own
/// deliverers, as the dispatcher would; returns how many there were.
pub async fn deliver_pending(app: &TestApp, test: &TestDb, appeal_id: &str, topic: &str) -> usize {
    let registry = redress::deliverers::registry(&app.app.state).expect("registry");
    let rows = redress_engine::repo::outbox::for_appeal(&test.db, appeal_id.parse().expect("uuid"))
        .await
        .expect("outbox");
    let mut delivered = 0;
    for row in rows.into_iter().filter(|row| row.topic == topic) {
        let item = redress_engine::delivery::OutboxMessage::from(row);
        registry
            .deliverer_for(&item)
            .expect("a deliverer")
            .deliver(&item)
            .await
            .expect("deliver");
        delivered += 1;
    }
    delivered
}
