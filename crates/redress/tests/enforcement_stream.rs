//! The platform's enforcement stream (`POST /platform/enforcements`, NDJSON) over a real
//! socket: a malformed line is refused by index and field while the rest are stored, and a
//! stream sent again after a lost answer writes nothing twice; a stream of bad lines gets
//! a bounded answer.

#[allow(dead_code)]
mod api;

use api::TestApp;
use chrono::{TimeZone, Utc};
use redress_core::Role;
use redress_engine::entity::{account, enforcement};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};

fn line(n: usize) -> Value {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
        .single()
        .expect("time");
    json!({
        "external_id": format!("wave-{n}"),
        "account_id": format!("acct-{}", n % 400),
        "account_email": format!("person{n}@example.test"),
        "kind": "account_deactivation",
        "policy": "spam",
        "source_kind": "model",
        "source_id": "classifier-v7",
        "batch_id": "wave-1",
        "automated_detection": "fully",
        "automated_decision": "fully",
        "content_id": format!("pin-{n}"),
        "content_relation": "saved",
        "facts": "saved a pin flagged as spam",
        "statement": redress_engine::testing::automated_suspension_statement(at),
        "enforced_at": "2026-11-24T10:00:00Z",
    })
}

fn ndjson(lines: &[Value]) -> String {
    lines.iter().fold(String::new(), |mut body, line| {
        body.push_str(&line.to_string());
        body.push('\n');
        body
    })
}

async fn post(app: &TestApp, token: Option<&str>, body: String) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!(
            "http://{}/platform/enforcements",
            app.app.http_addr
        ))
        .header("content-type", "application/x-ndjson")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

redress_engine::backend_tests! {
    async fn one_malformed_line_among_a_thousand_is_refused_by_index_and_field_and_a_retry_writes_nothing_twice(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        let mut lines: Vec<Value> = (0..1000).map(line).collect();
        lines[617]["statement"] = json!("not a statement");
        let body = ndjson(&lines);

        let (status, first) = post(&app, Some(&platform), body.clone()).await;
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["lines"], 1000);
        assert_eq!(first["stored"], 999);
        assert_eq!(first["already_recorded"], 0);
        assert_eq!(first["refused"], 1);
        assert_eq!(first["errors"], json!([{"index": 617, "field": "statement", "message": "must be an object"}]));
        assert_eq!(enforcement::Entity::find().count(&test.db).await.expect("count"), 999);
        assert_eq!(account::Entity::find().count(&test.db).await.expect("count"), 400);
        let stored = enforcement::Entity::find().all(&test.db).await.expect("rows");
        assert!(stored.iter().all(|row| row.external_id.as_deref() != Some("wave-617")));

        // The answer was lost; the platform sends the same stream again.
        let (status, again) = post(&app, Some(&platform), body).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["stored"], 0);
        assert_eq!(again["already_recorded"], 999);
        assert_eq!(again["refused"], 1);
        assert_eq!(enforcement::Entity::find().count(&test.db).await.expect("count"), 999);

        // Another refusal names its field; a line without the platform's id is refused.
        let mut odd = vec![line(2000), line(2001), line(2002)];
        odd[1].as_object_mut().expect("object").remove("external_id");
        odd[2]["account_locale"] = json!("not a locale!");
        let (_, mixed) = post(&app, Some(&platform), format!("{}\nnot json\n", ndjson(&odd).trim_end())).await;
        assert_eq!(mixed["stored"], 1);
        let fields: Vec<(u64, &str)> = mixed["errors"].as_array().expect("errors").iter()
            .map(|e| (e["index"].as_u64().expect("index"), e["field"].as_str().expect("field"))).collect();
        assert_eq!(fields, [(1, "external_id"), (2, "account_locale"), (3, "line")]);

        let (status, _) = post(&app, None, ndjson(&[line(3000)])).await;
        assert_eq!(status, 401);
        let (status, _) = post(&app, Some(&app.token("rita", &[Role::Reviewer])), ndjson(&[line(3000)])).await;
        assert_eq!(status, 403);
        assert_eq!(enforcement::Entity::find().count(&test.db).await.expect("count"), 1000);
        app.stop().await;
        test.cleanup().await;
    }

    async fn each_stored_enforcement_says_what_its_line_said_absent_fields_included(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        let full = line(1);
        let mut bare = line(2);
        for field in ["batch_id", "content_id", "content_relation"] {
            bare.as_object_mut().expect("object").remove(field);
        }
        let mut empty_batch = line(3);
        empty_batch["batch_id"] = json!("");
        empty_batch["facts"] = json!("a text with \"quotes\", a backslash \\ and {braces}");
        let (status, answer) = post(&app, Some(&platform), ndjson(&[full.clone(), bare.clone(), empty_batch.clone()])).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["stored"], 3, "{answer}");
        let mut stored = enforcement::Entity::find().all(&test.db).await.expect("rows");
        stored.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        let sent = [&full, &bare, &empty_batch];
        for (row, line) in stored.iter().zip(sent) {
            let text = |field: &str| line.get(field).and_then(Value::as_str).map(str::to_owned);
            assert_eq!(row.external_id, text("external_id"));
            assert_eq!(Some(row.account_id.clone()), text("account_id"));
            assert_eq!(Some(row.kind.clone()), text("kind"));
            assert_eq!(Some(row.policy.clone()), text("policy"));
            assert_eq!(Some(row.source_kind.clone()), text("source_kind"));
            assert_eq!(Some(row.source_id.clone()), text("source_id"));
            assert_eq!(row.batch_id, text("batch_id"));
            assert_eq!(row.content_id, text("content_id"));
            assert_eq!(row.content_relation, text("content_relation"));
            assert_eq!(Some(row.facts.clone()), text("facts"));
            assert_eq!(row.statement, line["statement"]);
            assert_eq!(row.enforced_at, Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).single().expect("time"));
        }
        assert_eq!(stored[1].batch_id, None);
        assert_eq!(stored[2].batch_id.as_deref(), Some(""));
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_stream_of_bad_lines_is_answered_with_a_bounded_list_and_a_count(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        // A statement the parser quotes in its message, 4 KiB of it a line.
        let bad = (0..1500).map(|n| {
            let mut line = line(n);
            line["statement"] = json!({"restrictions": "A".repeat(4096)});
            line
        });
        let mut lines: Vec<Value> = bad.collect();
        lines.push(line(5000));
        let (status, answer) = post(&app, Some(&platform), ndjson(&lines)).await;
        assert_eq!(status, 200);
        assert_eq!(answer["lines"], 1501);
        assert_eq!(answer["refused"], 1500);
        assert_eq!(answer["stored"], 1);
        let errors = answer["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), redress::ingest::MAX_LISTED_ERRORS);
        assert_eq!(errors[999]["index"], 999);
        for error in errors {
            assert_eq!(error["field"], "statement");
            let message = error["message"].as_str().expect("message");
            assert!(message.chars().count() <= redress::ingest::MAX_MESSAGE_CHARS + 1, "{message}");
        }
        assert!(errors[0]["message"].as_str().expect("message").ends_with('…'), "{}", errors[0]);
        assert!(answer.to_string().len() < 400 * 1024);
        assert_eq!(enforcement::Entity::find().count(&test.db).await.expect("count"), 1);
        app.stop().await;
        test.cleanup().await;
    }
}
