//! Every committed change reaches live views, whichever path wrote it: the API, an SMTP
//! filing, a threaded reply, the raw-MIME webhook, a DM, a worker's escalation, a bulk
//! restore and a restoration's confirmation; each heard by a real `queueChanged`
//! subscription over a websocket, on SQLite and PostgreSQL.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod smtp_client;
mod webhooks;

use std::time::Duration;

use api::{config_for, file_appeal, TestApp, RECORD};
use chrono::TimeDelta;
use futures_util::{SinkExt, StreamExt};
use redress::config::{Config, Secret};
use redress::social::XConfig;
use redress_core::Role;
use redress_engine::delivery::topics;
use redress_engine::testing::TestDb;
use redress_engine::Clock;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const QUEUE: &str = "general";
const WEBHOOK_TOKEN: &str = "webhook-token";
const SENDER: &str = "maria.lopez@example.org";

fn config(test: &TestDb) -> Config {
    let mut config = config_for(test);
    config.email.accepted_domains = vec!["redress.test".to_owned()];
    "Redress Appeals <appeals@redress.test>".clone_into(&mut config.email.from);
    config.email.webhook_secret = Some(Secret::new(WEBHOOK_TOKEN));
    config.social.x = Some(XConfig {
        consumer_secret: Secret::new(webhooks::X_SECRET),
        bearer_token: Secret::new("x-user-token"),
        // Nothing is sent by DM here: the test reads changes, not deliveries.
        api_base_url: "http://127.0.0.1:9".to_owned(),
    });
    config
}

/// A `queueChanged` subscription over graphql-transport-ws, known to be live.
struct Live {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Live {
    /// Subscribes to the default queue and waits until the subscription hears a change of
    /// its own making (it starts asynchronously), then forgets what it heard so far.
    async fn subscribe(app: &TestApp) -> Self {
        let token = app.token("tina", &[Role::Triager]);
        let mut request = app.ws_url().into_client_request().expect("request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
        socket
            .send(Message::text(init.to_string()))
            .await
            .expect("init");
        let mut live = Self { socket };
        assert_eq!(live.next().await["type"], "connection_ack");
        let subscribe = json!({"id": "queue", "type": "subscribe", "payload": {
            "query": "subscription($q: String!) { queueChanged(queue: $q) { id version state queue } }",
            "variables": {"q": QUEUE}}});
        live.socket
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("subscribe");

        let probe = file_appeal(app, "acct-probe", "spam").await;
        let probe_id = probe["id"].as_str().expect("id").to_owned();
        let mut version = probe["version"].as_i64().expect("version");
        for _ in 0..40 {
            let noted = app
                .ok(
                    &token,
                    r#"mutation($id: ID!, $v: Int!) { addNote(id: $id, expectedVersion: $v, text: "probe") { version } }"#,
                    json!({"id": probe_id, "v": version}),
                )
                .await;
            version = noted["addNote"]["version"].as_i64().expect("version");
            if let Ok(heard) = tokio::time::timeout(Duration::from_millis(250), live.next()).await {
                assert_eq!(heard["type"], "next", "{heard}");
                while tokio::time::timeout(Duration::from_millis(250), live.next())
                    .await
                    .is_ok()
                {}
                return live;
            }
        }
        panic!("the subscription never heard the probe's notes");
    }

    async fn next(&mut self) -> Value {
        loop {
            match self
                .socket
                .next()
                .await
                .expect("socket open")
                .expect("message")
            {
                Message::Text(text) => return serde_json::from_str(&text).expect("json"),
                Message::Ping(_) | Message::Pong(_) => {}
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    /// The first change of `appeal_id` that `wanted` accepts, heard within ten seconds.
    async fn change_of(&mut self, appeal_id: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let mut heard = Vec::new();
        let found = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let message = self.next().await;
                assert_eq!(message["type"], "next", "{message}");
                let change = message["payload"]["data"]["queueChanged"].clone();
                if change["id"] == appeal_id && wanted(&change) {
                    return change;
                }
                heard.push(change);
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!("no live change of {appeal_id} arrived; heard only {heard:?}")
        })
    }
}

async fn smtp_send(app: &TestApp, raw: &str) -> String {
    smtp_client::send(
        app.app.smtp_addr.expect("SMTP is on"),
        SENDER,
        raw.as_bytes(),
    )
    .await
}

fn mail(message_id: &str, subject: &str) -> String {
    format!(
        "From: Maria Lopez <{SENDER}>\r\nTo: appeals@redress.test\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI only saved a pin.\r\n"
    )
}

/// The id of the appeal a `250 accepted as appeal RDR-...` answer names.
async fn appeal_of_answer(app: &TestApp, answer: &str) -> (String, String) {
    let reference = smtp_client::reference_in(answer).to_owned();
    let stored = app
        .app
        .state
        .engine
        .appeal_by_reference(&reference.parse().expect("reference"))
        .await
        .expect("appeal");
    (stored.id.to_string(), reference)
}

async fn post_x_dm(app: &TestApp, event_id: &str, sender: &str, text: &str) {
    let payload = webhooks::x_dm(event_id, sender, text, app.clock.now());
    let body = serde_json::to_vec(&payload).expect("json");
    let response = app
        .http
        .post(format!("http://{}/webhooks/x", app.app.http_addr))
        .header("content-type", "application/json")
        .header(
            "x-twitter-webhooks-signature",
            webhooks::x_signature(webhooks::X_SECRET, &body),
        )
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200, "the DM was taken");
}

fn version(change: &Value) -> i64 {
    change["version"].as_i64().expect("version")
}

redress_engine::backend_tests! {
    async fn an_api_filing_and_a_staff_action_are_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let appeal = file_appeal(&app, "acct-api", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let filed = live.change_of(&id, |_| true).await;
        assert_eq!((version(&filed), filed["state"].as_str()), (1, Some("FILED")));
        api::triaged_appeal_by_id(&app, &id, 1, QUEUE).await;
        assert_eq!(live.change_of(&id, |c| version(c) == 2).await["state"], "TRIAGED");
        app.stop().await;
        test.cleanup().await;
    }

    async fn an_smtp_filing_and_its_threaded_reply_are_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let answer = smtp_send(&app, &mail("first@mail.example.org", "My account was deactivated")).await;
        assert!(answer.contains("accepted as appeal RDR-"), "{answer}");
        let (id, reference) = appeal_of_answer(&app, &answer).await;
        assert_eq!(version(&live.change_of(&id, |_| true).await), 1);

        let reply = smtp_send(&app, &mail("second@mail.example.org", &format!("Re: {reference}"))).await;
        assert!(reply.ends_with(&format!("added to appeal {reference}")), "{reply}");
        live.change_of(&id, |c| version(c) == 2).await;
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_webhook_filing_is_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let filed: Value = app
            .http
            .post(format!("http://{}/intake/email?mail_from={SENDER}", app.app.http_addr))
            .bearer_auth(WEBHOOK_TOKEN)
            .body(mail("hooked@mail.example.org", "Please restore my account"))
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        assert_eq!(filed["outcome"], "filed", "{filed}");
        let id = filed["appeal_id"].as_str().expect("appeal id");
        assert_eq!(version(&live.change_of(id, |_| true).await), 1);
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_dm_filing_and_its_follow_up_are_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        post_x_dm(&app, "dm-1", "99001", "my account was banned by mistake").await;
        let first = live.change_of_any().await;
        let id = first["id"].as_str().expect("id").to_owned();
        post_x_dm(&app, "dm-2", "99001", "it is ana_b, I never posted spam").await;
        let appended = live.change_of(&id, |c| version(c) > version(&first)).await;
        assert_eq!(appended["queue"], QUEUE);
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_workers_escalation_is_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let appeal = file_appeal(&app, "acct-stalled", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        live.change_of(&id, |_| true).await;
        // Past the four hours to triage: the SLA timer warns and escalates.
        app.clock.advance(TimeDelta::hours(5));
        let report = redress_engine::worker::sla::tick(&app.app.state.engine, 100).await.expect("tick");
        assert!(report.claimed >= 1, "{report:?}");
        let escalated = live.change_of(&id, |c| c["queue"] != QUEUE).await;
        assert!(version(&escalated) > 1);
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_bulk_restore_is_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let appeal = file_appeal(&app, "acct-wave-0", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let platform = app.token("platform", &[Role::Integration]);
        app.ok(&platform, RECORD, json!({"e": [api::enforcement("acct-wave-1", "spam")]})).await;
        let support = app.token("sam", &[Role::Support]);
        app.ok(&support,
            r"mutation($s: BulkSelectorInput!, $r: String!) { startBulkRestore(selector: $s, reason: $r) { id } }",
            json!({"s": {"sourceId": "classifier-v7"}, "r": "faulty model"})).await;
        let restored = live.change_of(&id, |c| c["state"] == "RESTORED").await;
        assert!(version(&restored) > 1);
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_restorations_confirmation_is_heard(test) {
        let app = TestApp::start_with(config(&test)).await;
        let mut live = Live::subscribe(&app).await;
        let appeal = file_appeal(&app, "acct-wrong", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        api::triaged_appeal_by_id(&app, &id, 1, QUEUE).await;
        let reviewer = app.token("rita", &[Role::Reviewer]);
        let claimed = app.ok(&reviewer, r"mutation($q: String) { claimNextAppeal(queue: $q) { id version } }", json!({"q": QUEUE})).await;
        assert_eq!(claimed["claimNextAppeal"]["id"], id.as_str());
        app.ok(&reviewer,
            r#"mutation($id: ID!, $v: Int!) { decideAppeal(id: $id, expectedVersion: $v, outcome: RESTORE, reasons: "saved, never shared") { state } }"#,
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"]})).await;
        live.change_of(&id, |c| c["state"] == "REVIEWED").await;

        assert!(api::deliver_pending(&app, &test, &id, topics::REQUEST_RESTORATION).await > 0);
        live.change_of(&id, |c| c["state"] == "RESTORED").await;
        app.stop().await;
        test.cleanup().await;
    }
}

impl Live {
    /// The next change, of whichever appeal.
    async fn change_of_any(&mut self) -> Value {
        let message = tokio::time::timeout(Duration::from_secs(10), self.next())
            .await
            .expect("a live change");
        assert_eq!(message["type"], "next", "{message}");
        message["payload"]["data"]["queueChanged"].clone()
    }
}
