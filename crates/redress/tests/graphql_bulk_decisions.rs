//! Bulk decisions through GraphQL over real HTTP and a real websocket: the dry run's counts,
//! the job the service's runner carries out with live progress, each appeal's own decision,
//! a claimed appeal skipped and reported, and the senior reviewer role, on SQLite and
//! PostgreSQL.

#[allow(dead_code)]
mod api;

use std::path::Path;
use std::time::Duration;

use api::{config_for, next_json, triaged_appeal, TestApp};
use futures_util::SinkExt;
use redress::config::Config;
use redress_core::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const TEMPLATE: &str = "spam-uphold-en";
const DRY_RUN: &str = r"mutation($f: AppealFilterInput!, $t: String!) { bulkDecisionDryRun(filter: $f, templateId: $t) {
    selected wouldDecide wouldPropose wouldSkip skippedByReason { key count } sampleSkipped { appealId reference reason } } }";
const START: &str = r"mutation($f: AppealFilterInput!, $t: String!) { startBulkDecision(filter: $f, templateId: $t) {
    id status templateId outcome startedBy total processed } }";
const CANCEL: &str = r"mutation($id: ID!) { cancelBulkDecision(jobId: $id) { id status } }";
const JOB: &str = r"query($id: ID!) { bulkDecisionJob(id: $id) { status total processed decided proposed skipped
    finishedAt skippedAppeals { appealId reference reason } } }";
const APPEAL: &str =
    r"query($id: ID!) { appeal(id: $id) { state reference decision { reasons decidedBy } } }";
const CLAIM: &str = r#"mutation { claimNextAppeal(queue: "bulk") { id } }"#;

fn example_config(test: &redress_engine::testing::TestDb) -> Config {
    let example = Config::load(Some(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
    ))
    .expect("the example configuration");
    let mut config = config_for(test);
    config.policies = example.policies;
    config.decision_templates = example.decision_templates;
    config
}

fn spam_in_bulk_queue() -> Value {
    json!({"states": ["TRIAGED"], "queue": "bulk", "enforcementSource": "classifier-v7",
        "enforcementPolicy": "spam", "contentRelation": "saved"})
}

redress_engine::backend_tests! {
    async fn a_senior_reviewer_decides_alike_appeals_with_one_template_and_watches_progress(test) {
        let app = TestApp::start_with(example_config(&test)).await;
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(triaged_appeal(&app, &format!("acct-bulk-{n}"), "spam", "bulk").await.0);
        }
        let other = triaged_appeal(&app, "acct-other", "fraud", "bulk").await.0;
        // A reviewer holds the first appeal the queue hands out.
        let rita = app.token("rita", &[Role::Reviewer]);
        let claimed = app.ok(&rita, CLAIM, json!({})).await["claimNextAppeal"]["id"].as_str().expect("claimed").to_owned();

        let senior = app.token("carol", &[Role::SeniorReviewer]);
        let dry = app.ok(&senior, DRY_RUN, json!({"f": spam_in_bulk_queue(), "t": TEMPLATE})).await;
        let dry = &dry["bulkDecisionDryRun"];
        assert_eq!((dry["selected"].as_i64(), dry["wouldDecide"].as_i64(), dry["wouldPropose"].as_i64(), dry["wouldSkip"].as_i64()),
            (Some(5), Some(4), Some(0), Some(1)), "{dry}");
        assert_eq!(dry["skippedByReason"], json!([{"key": "claimed", "count": 1}]));
        assert_eq!(dry["sampleSkipped"][0]["appealId"], claimed.as_str());
        assert!(dry["sampleSkipped"][0]["reason"].as_str().expect("reason").starts_with("claimed by rita until "), "{dry}");

        let bad = app.post(Some(&senior), DRY_RUN, json!({"f": {"contentRelation": "stolen"}, "t": TEMPLATE})).await.1;
        assert_eq!(bad["errors"][0]["extensions"]["field"], "contentRelation", "{bad}");
        let unknown = app.post(Some(&senior), START, json!({"f": spam_in_bulk_queue(), "t": "no-such"})).await.1;
        assert_eq!(unknown["errors"][0]["extensions"]["field"], "templateId", "{unknown}");
        let none = app.post(Some(&senior), START, json!({"f": {"queue": "nothing-here"}, "t": TEMPLATE})).await.1;
        assert_eq!(none["errors"][0]["extensions"]["field"], "filter", "{none}");

        let started = app.ok(&senior, START, json!({"f": spam_in_bulk_queue(), "t": TEMPLATE})).await;
        let started = &started["startBulkDecision"];
        assert_eq!((started["status"].as_str(), started["total"].as_i64(), started["startedBy"].as_str(), started["outcome"].as_str()),
            (Some("running"), Some(5), Some("carol"), Some("UPHOLD")), "{started}");
        let job_id = started["id"].as_str().expect("job id").to_owned();

        let mut request = app.ws_url().into_client_request().expect("request");
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {senior}")}});
        socket.send(Message::text(init.to_string())).await.expect("init");
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { bulkDecisionProgress(jobId: $id) { id status total processed decided skipped } }",
            "variables": {"id": job_id}}});
        socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");
        let mut updates = Vec::new();
        let last = loop {
            let message = tokio::time::timeout(Duration::from_secs(20), next_json(&mut socket)).await
                .expect("progress within 20 seconds");
            if message["type"] == "complete" {
                break updates.pop().expect("at least one update before the end");
            }
            assert_eq!(message["type"], "next", "{message}");
            updates.push(message["payload"]["data"]["bulkDecisionProgress"].clone());
        };
        assert_eq!((last["status"].as_str(), last["processed"].as_i64(), last["decided"].as_i64(), last["skipped"].as_i64()),
            (Some("completed"), Some(5), Some(4), Some(1)), "{last}");
        SinkExt::close(&mut socket).await.ok();

        let job = app.ok(&senior, JOB, json!({"id": job_id})).await;
        let job = &job["bulkDecisionJob"];
        assert_eq!(job["skippedAppeals"].as_array().map(Vec::len), Some(1));
        assert_eq!(job["skippedAppeals"][0]["appealId"], claimed.as_str());
        assert!(job["finishedAt"].is_string());
        for id in ids.iter().filter(|id| **id != claimed) {
            let appeal = app.ok(&rita, APPEAL, json!({"id": id})).await;
            let appeal = &appeal["appeal"];
            assert_eq!(appeal["state"], "UPHELD");
            assert_eq!(appeal["decision"]["decidedBy"], "carol");
            let reasons = appeal["decision"]["reasons"].as_str().expect("reasons");
            let reference = appeal["reference"].as_str().expect("reference");
            assert!(reasons.starts_with(&format!("We reviewed your appeal {reference} and the pin pin-1 that you saved.")), "{reasons}");
        }
        for id in [&claimed, &other] {
            assert_eq!(app.ok(&rita, APPEAL, json!({"id": id})).await["appeal"]["state"], "TRIAGED");
        }
        assert_eq!(app.error_code(&senior, CANCEL, json!({"id": job_id})).await, "INVALID_TRANSITION");
        app.stop().await;
        test.cleanup().await;
    }

    async fn only_senior_reviewers_decide_in_bulk(test) {
        let app = TestApp::start_with(example_config(&test)).await;
        triaged_appeal(&app, "acct-bulk-0", "spam", "bulk").await;
        for role in [Role::Triager, Role::Reviewer, Role::Support, Role::Admin, Role::Integration] {
            let token = app.token("someone", &[role]);
            assert_eq!(app.error_code(&token, DRY_RUN, json!({"f": spam_in_bulk_queue(), "t": TEMPLATE})).await, "FORBIDDEN", "{role:?} dry run");
            assert_eq!(app.error_code(&token, START, json!({"f": spam_in_bulk_queue(), "t": TEMPLATE})).await, "FORBIDDEN", "{role:?} start");
            assert_eq!(app.error_code(&token, JOB, json!({"id": uuid::Uuid::nil()})).await, "FORBIDDEN", "{role:?} job");
        }
        let reviewer = app.token("rita", &[Role::Reviewer]);
        let appeal = app.ok(&reviewer, r#"query { appeals(filter: {queue: "bulk"}) { nodes { state } } }"#, json!({})).await;
        assert_eq!(appeal["appeals"]["nodes"][0]["state"], "TRIAGED", "refused calls changed nothing");
        app.stop().await;
        test.cleanup().await;
    }
}
