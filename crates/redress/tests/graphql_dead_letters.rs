//! Dead letters through GraphQL: visible to administrators, retryable by them only.

#[allow(dead_code)]
mod api;

use std::sync::Arc;

use api::TestApp;
use chrono::{TimeDelta, Utc};
use redress_core::Role;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::repo::outbox::{self, OutboxItem};
use redress_engine::worker::{Backoff, DispatchSettings, Dispatcher};
use redress_engine::ManualClock;
use serde_json::json;
use tokio::sync::watch;

const LIST: &str = "query { deadLetters(first: 10) { edges { node { id topic attempts lastError idempotencyKey } } } }";
const RETRY: &str = "mutation($id: ID!) { retryDeadLetter(id: $id) { id } }";

redress_engine::backend_tests! {
    async fn an_admin_sees_a_dead_letter_and_retries_it(test) {
        let app = TestApp::start(&test).await;
        let clock = ManualClock::new(Utc::now());
        outbox::enqueue(&test.db, vec![OutboxItem {
            topic: "notify_appellant".into(),
            appeal_id: None,
            idempotency_key: "gql-1".into(),
            payload: json!({ "channel": "email" }),
        }], clock.now_plus(TimeDelta::zero())).await.expect("enqueue");
        let dispatcher = Dispatcher::new(test.db.clone(), Arc::new(clock.clone()), Arc::new(DelivererRegistry::new()),
            DispatchSettings { backoff: Backoff { max_attempts: 1, ..Backoff::default() }, ..DispatchSettings::default() });
        let (_stop, stop) = watch::channel(false);
        assert_eq!(dispatcher.run_once(&stop).await.expect("round").dead_lettered, 1);

        let admin = app.token("admin-1", &[Role::Admin]);
        let reviewer = app.token("rev-1", &[Role::Reviewer]);
        let listed = app.ok(&admin, LIST, json!({})).await;
        let node = &listed["deadLetters"]["edges"][0]["node"];
        assert_eq!(node["idempotencyKey"], "gql-1");
        assert_eq!(node["attempts"], 1);
        assert_eq!(node["lastError"], "no deliverer registered for topic notify_appellant");
        let id = node["id"].clone();

        assert_eq!(app.error_code(&reviewer, LIST, json!({})).await, "FORBIDDEN");
        assert_eq!(app.error_code(&reviewer, RETRY, json!({"id": id})).await, "FORBIDDEN");
        let retried = app.ok(&admin, RETRY, json!({"id": id})).await;
        assert_eq!(retried["retryDeadLetter"]["id"], id);
        assert_eq!(app.error_code(&admin, RETRY, json!({"id": id})).await, "BAD_USER_INPUT");
        let after = app.ok(&admin, LIST, json!({})).await;
        assert_eq!(after["deadLetters"]["edges"].as_array().map(Vec::len), Some(0));
        app.stop().await;
        test.cleanup().await;
    }
}
