//! The whole life of an appeal through the API, the queue, and live updates over a real
//! websocket, on SQLite and PostgreSQL.

#[allow(dead_code)]
mod api;

use std::time::Duration;

use api::{config_for, file_appeal, next_json, TestApp, FILE, TRIAGE};
use chrono::TimeDelta;
use futures_util::SinkExt;
use redress_core::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const CLAIM: &str =
    r"mutation($q: String) { claimNextAppeal(queue: $q) { id version assignee leaseUntil } }";
const STATE: &str = r"query($id: ID!) { appeal(id: $id) { state version queue escalationLevel assignee
    decision { outcome reasons decidedBy approvedBy statementOfReasons } events { kind } } }";

fn statement() -> Value {
    json!({
        "restrictions": [{"kind": "account_suspended", "starts_at": "2026-11-24T10:00:00Z"}],
        "territorial_scope": {"scope": "worldwide"},
        "facts": "the account created, not only saved, the spam pins",
        "automated_detection": "fully",
        "automated_decision": "not",
        "ground": {"ground": "incompatible_with_terms", "clause": "spam 2.1", "explanation": "bulk spam pins"},
        "redress": ["out_of_court_dispute_settlement", "judicial_redress"],
    })
}

async fn version(app: &TestApp, token: &str, id: &str) -> i64 {
    let read = app
        .ok(
            token,
            "query($id: ID!) { appeal(id: $id) { version } }",
            json!({"id": id}),
        )
        .await;
    read["appeal"]["version"].as_i64().expect("version")
}

async fn four_eyes_app(test: &redress_engine::testing::TestDb) -> TestApp {
    let mut config = config_for(test);
    config.appeals.four_eyes_policies = vec!["spam".to_owned()];
    TestApp::start_with(config).await
}

redress_engine::backend_tests! {
    async fn an_appeal_lives_its_whole_life_through_the_api(test) {
        let app = Box::pin(four_eyes_app(&test)).await;
        let appeal = file_appeal(&app, "acct-life", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let triager = app.token("tina", &[Role::Triager]);
        let rita = app.token("rita", &[Role::Reviewer]);
        let ray = app.token("ray", &[Role::Reviewer]);
        let sid = app.token("sid", &[Role::SeniorReviewer]);
        let admin = app.token("ada", &[Role::Admin]);
        let platform = app.token("platform", &[Role::Integration]);

        let triaged = app.ok(&triager, TRIAGE, json!({"id": id, "v": 1, "q": "spam-appeals"})).await;
        assert_eq!(triaged["triageAppeal"]["fourEyes"], true, "the spam policy needs four eyes");

        // Claim, keep the claim alive, ask the appellant, who answers through the platform.
        let claimed = app.ok(&rita, CLAIM, json!({"q": "spam-appeals"})).await;
        assert_eq!(claimed["claimNextAppeal"]["id"], id.as_str());
        assert_eq!(claimed["claimNextAppeal"]["assignee"], "rita");
        let first_lease = claimed["claimNextAppeal"]["leaseUntil"].clone();
        app.clock.advance(TimeDelta::minutes(5));
        let beat = app.ok(&rita, "mutation($id: ID!, $v: Int!) { heartbeatClaim(id: $id, expectedVersion: $v) { version leaseUntil } }",
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"]})).await;
        assert_ne!(beat["heartbeatClaim"]["leaseUntil"], first_lease);
        let nothing = app.ok(&ray, CLAIM, json!({"q": "spam-appeals"})).await;
        assert!(nothing["claimNextAppeal"].is_null(), "a claimed appeal is not handed out twice");
        let asked = app.ok(&rita, r#"mutation($id: ID!, $v: Int!) { requestInfo(id: $id, expectedVersion: $v, message: "Did you create the pin?") { state } }"#,
            json!({"id": id, "v": beat["heartbeatClaim"]["version"]})).await;
        assert_eq!(asked["requestInfo"]["state"], "AWAITING_USER");
        let reply = app.ok(&platform, FILE, json!({"i": {
            "requestId": "reply-1", "accountId": "acct-life", "sender": "acct-life@example.test", "body": "No, I only saved it",
        }})).await;
        assert_eq!(reply["fileAppeal"]["outcome"], "APPENDED");
        assert_eq!(reply["fileAppeal"]["appeal"]["state"], "TRIAGED");

        // Uphold with a statement of reasons; a second person approves.
        let claimed = app.ok(&rita, CLAIM, json!({"q": "spam-appeals"})).await;
        let code = app.error_code(&rita, r#"mutation($id: ID!, $v: Int!) { decideAppeal(id: $id, expectedVersion: $v, outcome: UPHOLD, reasons: "spam") { state } }"#,
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"]})).await;
        assert_eq!(code, "BAD_USER_INPUT", "upholding needs a statement of reasons");
        let decided = app.ok(&rita, r#"mutation($id: ID!, $v: Int!, $s: JSON) { decideAppeal(id: $id, expectedVersion: $v, outcome: UPHOLD, reasons: "created spam pins", statementOfReasons: $s) { state version } }"#,
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"], "s": statement()})).await;
        assert_eq!(decided["decideAppeal"]["state"], "REVIEWED");
        let v = decided["decideAppeal"]["version"].clone();
        let code = app.error_code(&rita, "mutation($id: ID!, $v: Int!) { approveDecision(id: $id, expectedVersion: $v) { state } }", json!({"id": id, "v": v})).await;
        assert_eq!(code, "FORBIDDEN");
        let approved = app.ok(&sid, "mutation($id: ID!, $v: Int!) { approveDecision(id: $id, expectedVersion: $v) { state decision { approvedBy } } }", json!({"id": id, "v": v})).await;
        assert_eq!(approved["approveDecision"]["state"], "UPHELD");
        assert_eq!(approved["approveDecision"]["decision"]["approvedBy"], "sid");

        // Reopened on new information, decided again, sent back, escalated, withdrawn.
        let v = version(&app, &sid, &id).await;
        let reopened = app.ok(&sid, r#"mutation($id: ID!, $v: Int!) { reopenAppeal(id: $id, expectedVersion: $v, reason: "external ruling") { state } }"#, json!({"id": id, "v": v})).await;
        assert_eq!(reopened["reopenAppeal"]["state"], "TRIAGED");
        let claimed = app.ok(&ray, CLAIM, json!({"q": "spam-appeals"})).await;
        assert_eq!(claimed["claimNextAppeal"]["assignee"], "ray");
        let decided = app.ok(&ray, r#"mutation($id: ID!, $v: Int!) { decideAppeal(id: $id, expectedVersion: $v, outcome: RESTORE, reasons: "saved, not created") { version } }"#,
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"]})).await;
        let rejected = app.ok(&sid, r#"mutation($id: ID!, $v: Int!) { rejectDecision(id: $id, expectedVersion: $v, note: "check the pin history") { state } }"#,
            json!({"id": id, "v": decided["decideAppeal"]["version"]})).await;
        assert_eq!(rejected["rejectDecision"]["state"], "TRIAGED");
        let v = version(&app, &ray, &id).await;
        let escalated = app.ok(&ray, r#"mutation($id: ID!, $v: Int!) { escalateAppeal(id: $id, expectedVersion: $v, reason: "contested") { escalationLevel queue } }"#, json!({"id": id, "v": v})).await;
        assert_eq!(escalated["escalateAppeal"], json!({"escalationLevel": 1, "queue": "senior"}));

        let summary = app.ok(&admin, "{ queueSummary { queue open claimable byState { key count } } }", json!({})).await;
        assert_eq!(summary["queueSummary"], json!([{"queue": "senior", "open": 1, "claimable": 1, "byState": [{"key": "triaged", "count": 1}]}]));
        let listed = app.ok(&admin, r#"{ appeals(filter: {queue: "senior", minEscalationLevel: 1, enforcementSource: "classifier-v7"}) { edges { node { id } } pageInfo { hasNextPage } } }"#, json!({})).await;
        assert_eq!(listed["appeals"]["edges"][0]["node"]["id"], id.as_str());

        let v = version(&app, &admin, &id).await;
        let withdrawn = app.ok(&admin, r#"mutation($id: ID!, $v: Int!) { withdrawAppeal(id: $id, expectedVersion: $v, reason: "appellant asked") { state } }"#, json!({"id": id, "v": v})).await;
        assert_eq!(withdrawn["withdrawAppeal"]["state"], "WITHDRAWN");
        let history = app.ok(&admin, STATE, json!({"id": id})).await;
        let kinds: Vec<&str> = history["appeal"]["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
        assert_eq!(kinds, [
            "filed", "triaged", "claimed", "claim_renewed", "info_requested", "message_received", "user_replied",
            "claimed", "decided", "decision_approved", "upheld", "reopened", "claimed", "decided",
            "decision_rejected", "escalated", "withdrawn",
        ]);
        app.stop().await;
        test.cleanup().await;
    }

    async fn an_expired_lease_returns_the_appeal_to_the_queue(test) {
        let app = TestApp::start(&test).await;
        let (id, _) = api::triaged_appeal(&app, "acct-lease", "spam", "general").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        let ray = app.token("ray", &[Role::Reviewer]);
        app.ok(&rita, CLAIM, json!({})).await;
        assert!(app.ok(&ray, CLAIM, json!({})).await["claimNextAppeal"].is_null());
        app.clock.advance(TimeDelta::minutes(16));
        let taken = app.ok(&ray, CLAIM, json!({})).await;
        assert_eq!(taken["claimNextAppeal"]["id"], id.as_str());
        assert_eq!(taken["claimNextAppeal"]["assignee"], "ray");
        app.stop().await;
        test.cleanup().await;
    }

    async fn appeals_page_through_a_connection_within_limits(test) {
        let app = TestApp::start(&test).await;
        for n in 0..5 {
            file_appeal(&app, &format!("acct-page-{n}"), "spam").await;
        }
        let admin = app.token("ada", &[Role::Admin]);
        let page = r"query($after: String) { appeals(first: 2, after: $after, filter: {states: [FILED]}) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app.ok(&admin, page, json!({"after": after})).await;
            let connection = &data["appeals"];
            seen.extend(connection["edges"].as_array().expect("edges").iter().map(|e| e["node"]["id"].clone()));
            if connection["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen.len(), 5);
        let code = app.error_code(&admin, "{ appeals(first: 1000) { edges { cursor } } }", json!({})).await;
        assert_eq!(code, "BAD_USER_INPUT");
        let deep = "{ appeals { edges { node { account { appeals { account { appeals { account { appeals { account { appeals { account { appeals { id } } } } } } } } } } } } } }";
        assert_eq!(app.error_code(&admin, deep, json!({})).await, "BAD_USER_INPUT");
        let huge = "x".repeat(300 * 1024);
        let response = app.http.post(app.url()).bearer_auth(&admin)
            .json(&json!({"query": "{ me { subject } }", "variables": {"pad": huge}})).send().await.expect("send");
        assert_eq!(response.status(), 413);
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_subscriber_receives_updates_over_a_websocket(test) {
        let app = TestApp::start(&test).await;
        let appeal = file_appeal(&app, "acct-live", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let triager = app.token("tina", &[Role::Triager]);

        let mut request = app.ws_url().into_client_request().expect("request");
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {triager}")}});
        socket.send(Message::text(init.to_string())).await.expect("init");
        let ack = next_json(&mut socket).await;
        assert_eq!(ack["type"], "connection_ack");
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { appealUpdated(id: $id) { id version state } }", "variables": {"id": id}}});
        socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");

        // The subscription starts asynchronously: note until one change is seen, within a limit.
        // The filing's own change goes out after its commit and may reach the subscription
        // too; the test waits for a note's.
        let mut version = 1;
        let update = 'noting: loop {
            let noted = app.ok(&triager, r#"mutation($id: ID!, $v: Int!) { addNote(id: $id, expectedVersion: $v, text: "live") { version } }"#,
                json!({"id": id, "v": version})).await;
            version = noted["addNote"]["version"].as_i64().expect("version");
            while let Ok(message) = tokio::time::timeout(Duration::from_millis(500), next_json(&mut socket)).await {
                assert_eq!(message["type"], "next", "{message}");
                if message["payload"]["data"]["appealUpdated"]["version"].as_i64() >= Some(2) {
                    break 'noting message;
                }
            }
            assert!(version < 20, "no update arrived over the websocket");
        };
        assert_eq!(update["payload"]["data"]["appealUpdated"]["id"], id.as_str());
        assert!(update["payload"]["data"]["appealUpdated"]["version"].as_i64().expect("version") >= 2);
        socket.close(None).await.ok();
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_queue_subscriber_sees_only_changes_that_touch_its_queue(test) {
        let app = TestApp::start(&test).await;
        let triager = app.token("tina", &[Role::Triager]);
        let mut request = app.ws_url().into_client_request().expect("request");
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
        let init = json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {triager}")}});
        socket.send(Message::text(init.to_string())).await.expect("init");
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        for (id, queue) in [("fraud", "fraud"), ("billing", "billing")] {
            let subscribe = json!({"id": id, "type": "subscribe", "payload": {
                "query": "subscription($q: String!) { queueChanged(queue: $q) { id queue state } }", "variables": {"q": queue}}});
            socket.send(Message::text(subscribe.to_string())).await.expect("subscribe");
        }

        // Subscriptions start asynchronously: move appeals into `fraud` until one is seen.
        let mut moved_to_fraud = Vec::new();
        let first = loop {
            let (id, _) = api::triaged_appeal(&app, &format!("acct-fraud-{}", moved_to_fraud.len()), "spam", "fraud").await;
            moved_to_fraud.push(id);
            if let Ok(message) = tokio::time::timeout(Duration::from_millis(500), next_json(&mut socket)).await {
                break message;
            }
            assert!(moved_to_fraud.len() < 20, "no queue update arrived over the websocket");
        };
        assert_eq!(first["type"], "next", "{first}");
        assert_eq!(first["id"], "fraud", "nothing touched billing yet: {first}");
        assert_eq!(first["payload"]["data"]["queueChanged"]["queue"], "fraud");
        let seen = first["payload"]["data"]["queueChanged"]["id"].as_str().expect("id");
        assert!(moved_to_fraud.iter().any(|id| id == seen), "{first}");

        let (billing_appeal, _) = api::triaged_appeal(&app, "acct-billing", "spam", "billing").await;
        let billing = loop {
            let message = tokio::time::timeout(Duration::from_secs(10), next_json(&mut socket)).await.expect("billing update");
            if message["id"] == "billing" {
                break message;
            }
            assert_eq!(message["id"], "fraud", "{message}");
            assert_eq!(message["payload"]["data"]["queueChanged"]["queue"], "fraud", "{message}");
        };
        assert_eq!(billing["payload"]["data"]["queueChanged"]["id"], billing_appeal.as_str());
        assert_eq!(billing["payload"]["data"]["queueChanged"]["queue"], "billing");
        socket.close(None).await.ok();
        app.stop().await;
        test.cleanup().await;
    }
}
