//! Bulk restoration through GraphQL over real HTTP and a real websocket: the dry run, the
//! job the service's runner carries out, its progress subscription, cancelling, one job per
//! selector, and the support role, on SQLite and PostgreSQL.

#[allow(dead_code)]
mod api;

use std::time::Duration;

use api::{config_for, enforcement, file_appeal, next_json, TestApp, RECORD};
use futures_util::SinkExt;
use redress_core::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// The source `api::enforcement` names.
const SOURCE: &str = "classifier-v7";
const DRY_RUN: &str = r"mutation($s: BulkSelectorInput!) { bulkRestoreDryRun(selector: $s) {
    accounts withOpenAppeals alreadyActive unknown sample } }";
const START: &str = r"mutation($s: BulkSelectorInput!, $r: String!) { startBulkRestore(selector: $s, reason: $r) {
    id status selectorKey reason startedBy total processed restored } }";
const CANCEL: &str =
    r"mutation($id: ID!) { cancelBulkRestore(jobId: $id) { id status processed finishedAt } }";
const JOB: &str = r"query($id: ID!) { bulkRestoreJob(id: $id) { status total processed restored
    alreadyActive failed finishedAt } }";
const APPEAL_STATE: &str = r"query($id: ID!) { appeal(id: $id) { state } }";

/// `n` deactivated accounts of the faulty source, the first of them with an open appeal.
async fn wave(app: &TestApp, n: usize) -> (Vec<String>, String) {
    let accounts: Vec<String> = (0..n).map(|i| format!("acct-bulk-{i:02}")).collect();
    let appeal = file_appeal(app, &accounts[0], "spam").await;
    let platform = app.token("platform", &[Role::Integration]);
    let rest: Vec<Value> = accounts[1..]
        .iter()
        .map(|account| enforcement(account, "spam"))
        .collect();
    app.ok(&platform, RECORD, json!({ "e": rest })).await;
    let appeal_id = appeal["id"].as_str().expect("appeal id").to_owned();
    (accounts, appeal_id)
}

fn by_source() -> Value {
    json!({ "sourceId": SOURCE })
}

async fn subscribe(app: &TestApp, token: &str, job_id: &str) -> impl SocketStream {
    let mut request = app.ws_url().into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    socket
        .send(Message::text(init.to_string()))
        .await
        .expect("init");
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($id: ID!) { bulkRestoreProgress(jobId: $id) { id status total processed restored alreadyActive failed } }",
        "variables": {"id": job_id}}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .expect("subscribe");
    socket
}

trait SocketStream:
    futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
    + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
    + Unpin
{
}

impl<S> SocketStream for S where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
        + futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error>
        + Unpin
{
}

redress_engine::backend_tests! {
    async fn a_job_started_over_graphql_runs_to_completion_with_live_progress(test) {
        let mut config = config_for(&test);
        // The service's runner picks up the job within a second of its start.
        config.restoration.bulk_poll_seconds = 1;
        let app = TestApp::start_with(config).await;
        let (accounts, appeal_id) = wave(&app, 6).await;
        let support = app.token("sam", &[Role::Support]);

        let dry = app.ok(&support, DRY_RUN, json!({"s": by_source()})).await;
        let dry = &dry["bulkRestoreDryRun"];
        assert_eq!((dry["accounts"].as_i64(), dry["withOpenAppeals"].as_i64(), dry["alreadyActive"].as_i64(), dry["unknown"].as_i64()),
            (Some(6), Some(1), Some(0), Some(0)), "{dry}");
        let sample: Vec<&str> = dry["sample"].as_array().expect("sample").iter().filter_map(Value::as_str).collect();
        assert_eq!(sample, accounts.iter().map(String::as_str).collect::<Vec<_>>());
        let again = app.ok(&support, DRY_RUN, json!({"s": by_source()})).await;
        assert_eq!(again["bulkRestoreDryRun"]["accounts"], 6, "a dry run changes nothing");

        let started = app.ok(&support, START, json!({"s": by_source(), "r": "internal error in classifier-v7"})).await;
        let started = &started["startBulkRestore"];
        assert_eq!((started["status"].as_str(), started["total"].as_i64(), started["startedBy"].as_str()),
            (Some("running"), Some(6), Some("sam")), "{started}");
        assert_eq!(started["reason"], "internal error in classifier-v7");
        let job_id = started["id"].as_str().expect("job id").to_owned();

        let mut socket = subscribe(&app, &support, &job_id).await;
        let mut updates = Vec::new();
        let last = loop {
            let message = tokio::time::timeout(Duration::from_secs(20), next_json(&mut socket)).await
                .expect("progress within 20 seconds");
            if message["type"] == "complete" {
                break updates.pop().expect("at least one update before the end");
            }
            assert_eq!(message["type"], "next", "{message}");
            let progress = message["payload"]["data"]["bulkRestoreProgress"].clone();
            assert_eq!(progress["id"], job_id.as_str());
            updates.push(progress);
        };
        assert_eq!((last["status"].as_str(), last["total"].as_i64(), last["processed"].as_i64(), last["restored"].as_i64(),
            last["alreadyActive"].as_i64(), last["failed"].as_i64()),
            (Some("completed"), Some(6), Some(6), Some(6), Some(0), Some(0)), "{last}");
        let processed: Vec<i64> = updates.iter().filter_map(|u| u["processed"].as_i64()).collect();
        assert!(processed.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {processed:?}");
        socket.close().await.ok();

        let stored = app.ok(&support, JOB, json!({"id": job_id})).await;
        assert_eq!(stored["bulkRestoreJob"]["status"], "completed");
        assert!(stored["bulkRestoreJob"]["finishedAt"].is_string());
        let reviewer = app.token("rita", &[Role::Reviewer]);
        let appeal = app.ok(&reviewer, APPEAL_STATE, json!({"id": appeal_id})).await;
        assert_eq!(appeal["appeal"]["state"], "RESTORED", "the open appeal moved to restored");
        assert_eq!(app.error_code(&support, CANCEL, json!({"id": job_id})).await, "INVALID_TRANSITION",
            "a finished job cannot be cancelled");
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_second_job_for_a_busy_selector_is_refused_and_a_cancelled_job_frees_it(test) {
        let mut config = config_for(&test);
        // The runner looks once, at start-up, before any job exists: jobs stay running
        // until cancelled, so the test decides when they end.
        config.restoration.bulk_poll_seconds = 3600;
        let app = TestApp::start_with(config).await;
        wave(&app, 3).await;
        let support = app.token("sam", &[Role::Support]);
        let admin = app.token("ada", &[Role::Admin]);

        let first = app.ok(&support, START, json!({"s": by_source(), "r": "faulty model"})).await;
        let first_id = first["startBulkRestore"]["id"].as_str().expect("id").to_owned();
        assert_eq!(app.error_code(&admin, START, json!({"s": by_source(), "r": "again"})).await, "INVALID_TRANSITION",
            "one job per selector at a time");
        let other = app.ok(&support, START, json!({"s": {"policy": "spam"}, "r": "same accounts, other selector"})).await;
        assert_eq!(other["startBulkRestore"]["status"], "running");

        let cancelled = app.ok(&support, CANCEL, json!({"id": first_id})).await;
        let cancelled = &cancelled["cancelBulkRestore"];
        assert_eq!((cancelled["id"].as_str(), cancelled["status"].as_str(), cancelled["processed"].as_i64()),
            (Some(first_id.as_str()), Some("cancelled"), Some(0)), "{cancelled}");
        assert!(cancelled["finishedAt"].is_string());
        assert_eq!(app.error_code(&support, CANCEL, json!({"id": first_id})).await, "INVALID_TRANSITION");
        let job = app.ok(&support, JOB, json!({"id": first_id})).await;
        assert_eq!(job["bulkRestoreJob"]["status"], "cancelled");

        let again = app.ok(&support, START, json!({"s": by_source(), "r": "restart after cancel"})).await;
        assert_eq!(again["startBulkRestore"]["total"], 3, "the selector is free again");
        assert_ne!(again["startBulkRestore"]["id"].as_str(), Some(first_id.as_str()));
        app.stop().await;
        test.cleanup().await;
    }

    async fn only_support_and_admins_touch_bulk_restores(test) {
        let mut config = config_for(&test);
        config.restoration.bulk_poll_seconds = 3600;
        let app = TestApp::start_with(config).await;
        wave(&app, 2).await;
        let support = app.token("sam", &[Role::Support]);
        let started = app.ok(&support, START, json!({"s": by_source(), "r": "faulty model"})).await;
        let job_id = started["startBulkRestore"]["id"].as_str().expect("id").to_owned();

        for role in [Role::Triager, Role::Reviewer, Role::SeniorReviewer, Role::Integration] {
            let token = app.token("someone", &[role]);
            assert_eq!(app.error_code(&token, DRY_RUN, json!({"s": by_source()})).await, "FORBIDDEN", "{role:?} dry run");
            assert_eq!(app.error_code(&token, START, json!({"s": {"policy": "spam"}, "r": "no"})).await, "FORBIDDEN", "{role:?} start");
            assert_eq!(app.error_code(&token, CANCEL, json!({"id": job_id})).await, "FORBIDDEN", "{role:?} cancel");
            assert_eq!(app.error_code(&token, JOB, json!({"id": job_id})).await, "FORBIDDEN", "{role:?} job");

            let mut socket = subscribe(&app, &token, &job_id).await;
            let refused = tokio::time::timeout(Duration::from_secs(10), next_json(&mut socket)).await.expect("an answer");
            assert_eq!(refused["type"], "next", "{refused}");
            assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
            socket.close().await.ok();
        }
        let job = app.ok(&support, JOB, json!({"id": job_id})).await;
        assert_eq!((job["bulkRestoreJob"]["status"].as_str(), job["bulkRestoreJob"]["processed"].as_i64()), (Some("running"), Some(0)),
            "refused calls changed nothing");
        app.stop().await;
        test.cleanup().await;
    }
}
