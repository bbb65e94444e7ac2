//! Hostile input over real HTTP, on SQLite and PostgreSQL: signed webhook deliveries of every
//! odd shape, and status-page forms of every odd encoding. Whatever arrives is stored or
//! refused for good: never a 5xx, never a dropped connection, never a message counted as
//! stored that is not there, nor one stored by a refusal. A fixed number of generated
//! cases keeps this fast (`REDRESS_FUZZ_CASES=20` searches twenty times as long,
//! `REDRESS_FUZZ_SEED` searches elsewhere); a case that fails is kept in
//! `hostile/regressions/`, which `replayed_regressions` sends on every run.

mod hostile;
mod webhooks;

use std::collections::BTreeSet;

use hostile::{HostileRequest, Target, REFERENCE};
use proptest::prelude::*;
use redress_core::{Actor, Channel};
use redress_engine::entity::message;
use redress_engine::testing::TestDb;
use redress_engine::IncomingAppeal;
use redress_intake::social::{meta, signature, x};
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use uuid::Uuid;
use webhooks::{
    meta_signature, start_time, start_with, x_signature, Harness, META_SECRET, X_SECRET,
};

const WEBHOOK_CASES: usize = 48;
const STATUS_PAGE_CASES: usize = 64;

/// The service, and one appeal whose reference and token requests may name.
struct Site {
    harness: Harness,
    appeal: Uuid,
    reference: String,
    token: String,
}

async fn open(test: &TestDb) -> Site {
    let harness = Box::pin(start_with(test, |config| {
        // Every case may name the one reference; the limit itself is tested elsewhere.
        config.transparency.status_page.burst = 1_000_000;
        config.transparency.status_page.attempts_per_minute = 1_000_000;
    }))
    .await;
    let engine = &harness.app.state.engine;
    let appeal = engine
        .file(
            &Actor::system("api"),
            IncomingAppeal {
                channel: Channel::Api,
                channel_message_id: Some("site".to_owned()),
                sender: "ana@example.org".to_owned(),
                contact: None,
                account_id: None,
                enforcement_id: None,
                identity_verified: false,
                subject: None,
                body: "Please look again.".to_owned(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("case");
    let token = engine
        .appellant_case(appeal)
        .await
        .expect("case")
        .status_token
        .expect("token");
    let reference = engine
        .appeal(appeal)
        .await
        .expect("appeal")
        .reference
        .to_string();
    Site {
        harness,
        appeal,
        reference,
        token,
    }
}

impl Site {
    async fn message_ids(&self) -> BTreeSet<Uuid> {
        message::Entity::find()
            .all(self.harness.app.state.engine.db())
            .await
            .expect("messages")
            .into_iter()
            .map(|m| m.id)
            .collect()
    }

    /// Sends `request` and checks what became of it: the answer's status and how many
    /// messages it stored, or what went wrong.
    async fn check(&self, request: &HostileRequest) -> Result<(u16, usize), String> {
        let h = &self.harness;
        let body = request.body_bytes(&self.reference, &self.token);
        let url = format!(
            "{}{}",
            h.base,
            request.path.replace(REFERENCE, &self.reference)
        );
        if reqwest::Url::parse(&url).is_err() {
            return Ok((0, 0)); // no HTTP client could send it
        }
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = h.http.request(method, url).body(body.clone());
        if let Some(content_type) = &request.content_type {
            builder = builder.header("content-type", content_type);
        }
        builder = match request.target {
            Target::X => {
                builder.header("x-twitter-webhooks-signature", x_signature(X_SECRET, &body))
            }
            Target::Meta => {
                builder.header("x-hub-signature-256", meta_signature(META_SECRET, &body))
            }
            Target::StatusPage => builder,
        };
        let before = self.message_ids().await;
        let response = builder
            .send()
            .await
            .map_err(|e| format!("no answer: {e}"))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| format!("no body: {e}"))?;
        if status.is_server_error() {
            return Err(format!("answered {status}: {text}"));
        }
        let added: Vec<Uuid> = self
            .message_ids()
            .await
            .difference(&before)
            .copied()
            .collect();
        let expected_new = if status == 200 {
            self.stored_by(request, &text)?
        } else {
            0
        };
        if added.len() != expected_new {
            return Err(format!(
                "answered {status} ({text}) and stored {} messages, not {expected_new}",
                added.len()
            ));
        }
        if status == 200 {
            if let Some(expected) = hostile::information_sent(request, &self.reference, &self.token)
            {
                let messages = h
                    .app
                    .state
                    .engine
                    .messages(self.appeal)
                    .await
                    .map_err(|e| e.to_string())?;
                let stored = messages
                    .iter()
                    .find(|m| added.contains(&m.id))
                    .ok_or("the addition is not on the case")?;
                if stored.body != expected {
                    return Err(format!("stored {:?}, sent {expected:?}", stored.body));
                }
            }
        }
        Ok((status.as_u16(), added.len()))
    }

    /// How many messages a 200 answer says were stored.
    fn stored_by(&self, request: &HostileRequest, answer: &str) -> Result<usize, String> {
        if request.target == Target::StatusPage {
            let added = hostile::information_sent(request, &self.reference, &self.token).is_some()
                || (request.method == "POST" && request.path != "/status");
            return Ok(usize::from(added));
        }
        let summary: Value =
            serde_json::from_str(answer).map_err(|e| format!("summary {answer}: {e}"))?;
        let count = |name: &str| summary[name].as_u64().unwrap_or(0);
        Ok((count("filed") + count("appended") + count("refused")) as usize)
    }

    /// Checks every request; the generated cases must also reach both sides, some stored
    /// and some refused, or they test less than they claim.
    async fn run(&self, requests: &[HostileRequest], name: &str) {
        let (mut stored, mut refused) = (0, 0);
        for request in requests {
            match self.check(request).await {
                Ok((_, added)) if added > 0 => stored += 1,
                Ok((status, _)) if status >= 400 => refused += 1,
                Ok(_) => {}
                Err(failure) => {
                    let kept = hostile::keep_as_regression(request, name);
                    panic!("{failure}\nthe request is kept in {}", kept.display());
                }
            }
        }
        eprintln!(
            "{name}: {} requests, {stored} stored something, {refused} refused",
            requests.len()
        );
        assert!(
            stored >= requests.len() / 8,
            "only {stored} of {} requests stored anything",
            requests.len()
        );
        assert!(
            refused >= requests.len() / 8,
            "only {refused} of {} requests were refused",
            requests.len()
        );
        let health = self
            .harness
            .http
            .get(format!("{}/healthz", self.harness.base))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200, "the service still answers");
    }

    async fn stop(self, test: TestDb) {
        self.harness.stop(test).await;
    }
}

redress_engine::backend_tests! {
    async fn replayed_regressions(test) {
        let site = open(&test).await;
        for (path, request) in hostile::regressions() {
            if let Err(failure) = site.check(&request).await {
                panic!("{}: {failure}", path.display());
            }
        }
        site.stop(test).await;
    }

    async fn signed_webhook_deliveries_of_any_shape_are_stored_or_refused_for_good(test) {
        let site = open(&test).await;
        let requests = hostile::cases(hostile::webhook_request(start_time()), WEBHOOK_CASES, "webhooks");
        site.run(&requests, "webhook").await;
        site.stop(test).await;
    }

    async fn status_page_forms_of_any_encoding_are_answered_or_refused_for_good(test) {
        let site = open(&test).await;
        let requests = hostile::cases(hostile::status_page_request(), STATUS_PAGE_CASES, "status-page");
        site.run(&requests, "status").await;
        site.stop(test).await;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The parsers alone, many more cases than over HTTP: no panic, no stack overflow
    /// however deep the nesting, one classification per event, nothing bigger than what
    /// came in, and only the right signature verifies.
    #[test]
    fn webhook_parsers_take_any_body(
        body in prop_oneof![hostile::x_body(start_time()), hostile::meta_body(start_time())],
        header in hostile::hostile_text(),
    ) {
        let x_header = signature::x_signature(X_SECRET.as_bytes(), &body);
        prop_assert!(signature::verify_x(X_SECRET.as_bytes(), &body, &x_header));
        prop_assert_eq!(signature::verify_x(X_SECRET.as_bytes(), &body, &header), header.trim() == x_header);
        let meta_header = signature::meta_signature(META_SECRET.as_bytes(), &body);
        prop_assert!(signature::verify_meta(META_SECRET.as_bytes(), &body, &meta_header));
        prop_assert_eq!(signature::verify_meta(META_SECRET.as_bytes(), &body, &header), header.trim() == meta_header);

        if let Ok(activity) = serde_json::from_slice::<x::Activity>(&body) {
            let events = activity.direct_message_events.len();
            let inbound = activity.into_inbound();
            prop_assert_eq!(inbound.len(), events);
            prop_assert!(texts_within(&inbound, body.len()));
        }
        if let Ok(notification) = serde_json::from_slice::<meta::Notification>(&body) {
            let items: usize = notification.entry.iter().map(|e| e.messaging.len()).sum();
            if let Some(channel) = notification.channel() {
                let inbound = notification.into_inbound(channel);
                prop_assert_eq!(inbound.len(), items);
                prop_assert!(texts_within(&inbound, body.len()));
            }
        }
    }
}

fn texts_within(inbound: &[redress_intake::social::inbound::Inbound], limit: usize) -> bool {
    inbound.iter().all(|entry| match entry {
        redress_intake::social::inbound::Inbound::Message(dm) => {
            dm.text.len() <= limit && dm.event_id.len() <= limit && dm.sender_id.len() <= limit
        }
        _ => true,
    })
}
