//! U+0000 in any input is refused with `BAD_USER_INPUT` naming where it is, the same on
//! SQLite (which would store it) and PostgreSQL (which cannot), before any resolver runs.

use redress_core::Role;
use serde_json::{json, Value};

use crate::api::{self, file_appeal, TestApp, FILE, RECORD};
use crate::websocket::{acknowledged, next_json, send};

const NOTE: &str = r"mutation($id: ID!, $v: Int!, $t: String!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }";
const TRIAGE_WITH_TAGS: &str = r"mutation($id: ID!, $tags: [String!]!) { triageAppeal(id: $id, expectedVersion: 1, input: {priority: HIGH, tags: $tags, identityVerified: true}) { version } }";

/// Posts and returns `extensions.argument` of the refusal, checking its code and that
/// nothing ran.
async fn refused_at(app: &TestApp, token: &str, query: &str, variables: Value) -> String {
    let (status, body) = app.post(Some(token), query, variables).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"].is_null(), "no resolver ran: {body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let place = error["extensions"]["argument"]
        .as_str()
        .unwrap_or_else(|| panic!("the refusal names the argument: {body}"))
        .to_owned();
    let message = error["message"].as_str().expect("message");
    assert!(
        message.contains(&place) && message.contains("U+0000"),
        "{message}"
    );
    place
}

redress_engine::backend_tests! {
    async fn nul_characters_are_refused_wherever_they_are(test) {
        let app = TestApp::start(&test).await;
        let appeal = file_appeal(&app, "acct-nul", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let triager = app.token("tina", &[Role::Triager]);
        let platform = app.token("platform", &[Role::Integration]);

        // An inline literal, and the same text through a variable.
        let inline = format!(r#"mutation {{ addNote(id: "{id}", expectedVersion: 1, text: "before\u0000after") {{ version }} }}"#);
        assert_eq!(refused_at(&app, &triager, &inline, json!({})).await, "argument addNote(text)");
        assert_eq!(refused_at(&app, &triager, NOTE, json!({"id": id, "v": 1, "t": "before\u{0}after"})).await, "variable $t");

        // A field of an input object, inline and through a variable, and a key holding one.
        let filing = json!({"requestId": "req-nul", "accountId": "acct-nul", "sender": "acct-nul@example.test", "body": "please\u{0}"});
        assert_eq!(refused_at(&app, &platform, FILE, json!({"i": filing})).await, "variable $i.body");
        let inline = r#"mutation { fileAppeal(input: {requestId: "req-nul", accountId: "acct-nul", sender: "acct-nul@example.test", body: "please\u0000"}) { outcome } }"#;
        assert_eq!(refused_at(&app, &platform, inline, json!({})).await, "argument fileAppeal(input.body)");
        let odd_key = json!({"i": {"requestId": "req-nul", "sender": "s@example.test", "body": "b", "no\u{0}te": "x"}});
        assert_eq!(refused_at(&app, &platform, FILE, odd_key).await, "variable $i.no\\u{0000}te");

        // An element of a list, of strings and of input objects.
        let inline = format!(r#"mutation {{ triageAppeal(id: "{id}", expectedVersion: 1, input: {{priority: HIGH, tags: ["fine", "b\u0000d"], identityVerified: true}}) {{ version }} }}"#);
        assert_eq!(refused_at(&app, &triager, &inline, json!({})).await, "argument triageAppeal(input.tags[1])");
        assert_eq!(refused_at(&app, &triager, TRIAGE_WITH_TAGS, json!({"id": id, "tags": ["fine", "b\u{0}d"]})).await, "variable $tags[1]");
        let mut second = api::enforcement("acct-nul-2", "spam");
        second["facts"] = json!("saved\u{0}a pin");
        let enforcements = json!({"e": [api::enforcement("acct-nul-3", "spam"), second]});
        assert_eq!(refused_at(&app, &platform, RECORD, enforcements).await, "variable $e[1].facts");

        // A variable the document never uses is refused as well.
        assert_eq!(
            refused_at(&app, &triager, "{ me { subject } }", json!({"unused": ["\u{0}"]})).await,
            "variable $unused[0]"
        );

        // Nothing ran: no note, no triage, no new appeal, no new enforcement.
        let admin = app.token("ada", &[Role::Admin]);
        let read = app.ok(&triager, "query($id: ID!) { appeal(id: $id) { version state } }", json!({"id": id})).await;
        assert_eq!(read["appeal"], json!({"version": 1, "state": "FILED"}));
        let appeals = app.ok(&admin, "{ appeals(first: 10) { edges { node { id } } } }", json!({})).await;
        assert_eq!(appeals["appeals"]["edges"].as_array().map(Vec::len), Some(1));
        let account = app.ok(&admin, r#"{ account(id: "acct-nul-3") { id } }"#, json!({})).await;
        assert!(account["account"].is_null(), "{account}");

        // The same text without the NUL goes through.
        let noted = app.ok(&triager, NOTE, json!({"id": id, "v": 1, "t": "before after"})).await;
        assert_eq!(noted["addNote"]["version"], 2);
        app.stop().await;
        test.cleanup().await;
    }

    async fn nul_characters_are_refused_in_subscriptions(test) {
        let app = TestApp::start(&test).await;
        let triager = app.token("tina", &[Role::Triager]);
        let mut socket = acknowledged(&app, &triager).await;
        let subscriptions = [
            ("literal", json!({"query": "subscription { queueChanged(queue: \"gen\\u0000eral\") { id } }"}), "argument queueChanged(queue)"),
            ("variable", json!({"query": "subscription($q: String!) { queueChanged(queue: $q) { id } }", "variables": {"q": "gen\u{0}eral"}}), "variable $q"),
        ];
        for (id, payload, place) in subscriptions {
            send(&mut socket, &json!({"id": id, "type": "subscribe", "payload": payload})).await;
            let answer = next_json(&mut socket).await;
            assert_eq!(answer["id"], id, "{answer}");
            let error = &answer["payload"]["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{answer}");
            assert_eq!(error["extensions"]["argument"], place, "{answer}");
            assert_eq!(next_json(&mut socket).await, json!({"id": id, "type": "complete"}));
        }
        socket.close(None).await.ok();
        app.stop().await;
        test.cleanup().await;
    }
}
