//! `search` over real HTTP with real tokens, on SQLite and PostgreSQL: each kind of query,
//! what a role without personal data finds, and hostile queries.

#[allow(dead_code)]
mod api;

use api::{file_appeal, TestApp, FILE};
use redress_core::Role;
use serde_json::{json, Value};

const SEARCH: &str = r"query($q: String!, $n: Int) { search(query: $q, first: $n) { withheld hits { matched snippet appeal { id reference state contact } } } }";

async fn search(app: &TestApp, token: &str, query: &str) -> Value {
    app.ok(token, SEARCH, json!({"q": query})).await["search"].clone()
}

fn matched(results: &Value) -> Vec<(String, String)> {
    results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| {
            (
                hit["appeal"]["id"].as_str().expect("id").to_owned(),
                hit["matched"].as_str().expect("matched").to_owned(),
            )
        })
        .collect()
}

redress_engine::backend_tests! {
    async fn staff_find_appeals_by_what_their_role_may_see(test) {
        let app = TestApp::start(&test).await;
        let filed = file_appeal(&app, "acct-s1", "spam").await;
        let id = filed["id"].as_str().expect("id").to_owned();
        let reference = filed["reference"].as_str().expect("reference").to_owned();
        let platform = app.token("platform", &[Role::Integration]);
        let other = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-other", "sender": "Someone.Else@Example.test",
            "body": "Nobody here saved a flamingo."
        }})).await["fileAppeal"]["appeal"]["id"].as_str().expect("id").to_owned();

        let triager = app.token("tina", &[Role::Triager]);
        let results = search(&app, &triager, &reference.to_lowercase()).await;
        assert_eq!(matched(&results), [(id.clone(), "REFERENCE".to_owned())]);
        assert_eq!(results["hits"][0]["appeal"]["reference"], reference.as_str());
        assert_eq!(results["hits"][0]["appeal"]["state"], "FILED");

        let results = search(&app, &triager, "acct-s1@example.test").await;
        assert_eq!(matched(&results), [(id.clone(), "CONTACT_ADDRESS".to_owned())]);
        let results = search(&app, &triager, "someone.else@example.test").await;
        assert_eq!(matched(&results), [(other.clone(), "CONTACT_ADDRESS".to_owned())]);
        let results = search(&app, &triager, "acct-s1").await;
        assert_eq!(matched(&results), [(id.clone(), "ACCOUNT_ID".to_owned())]);
        let results = search(&app, &triager, "enf-acct-s1").await;
        assert_eq!(matched(&results), [(id.clone(), "ENFORCEMENT_EXTERNAL_ID".to_owned())]);

        let results = search(&app, &triager, "saved pin").await;
        assert_eq!(matched(&results), [(id.clone(), "MESSAGE_TEXT".to_owned())]);
        assert_eq!(results["hits"][0]["snippet"], "I only saved that pin, please restore my account");
        let results = search(&app, &triager, "saved").await;
        assert_eq!(matched(&results), [(other.clone(), "MESSAGE_TEXT".to_owned()), (id.clone(), "MESSAGE_TEXT".to_owned())]);
        let first = app.ok(&triager, SEARCH, json!({"q": "saved", "n": 1})).await;
        assert_eq!(matched(&first["search"]), [(other.clone(), "MESSAGE_TEXT".to_owned())]);
        assert_eq!(results["withheld"], false);

        // An admin sees no personal data, so cannot find an appeal by it either.
        let admin = app.token("ada", &[Role::Admin]);
        for query in ["acct-s1@example.test", "saved pin", "flamingo"] {
            let results = search(&app, &admin, query).await;
            assert_eq!(results, json!({"withheld": true, "hits": []}), "{query}");
        }
        let results = search(&app, &admin, &reference).await;
        assert_eq!(matched(&results), [(id.clone(), "REFERENCE".to_owned())]);
        assert!(results["hits"][0]["appeal"]["contact"].is_null(), "{results}");
        app.ok(&triager, r"mutation($id: ID!, $v: Int!, $t: String!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }",
            json!({"id": id, "v": filed["version"], "t": "Heron photo checked."})).await;
        let results = search(&app, &admin, "heron photo").await;
        assert_eq!(matched(&results), [(id.clone(), "NOTE_TEXT".to_owned())]);
        assert_eq!(results["hits"][0]["snippet"], "Heron photo checked.");

        app.stop().await;
        test.cleanup().await;
    }

    async fn hostile_queries_get_a_clear_error_or_nothing(test) {
        let app = TestApp::start(&test).await;
        file_appeal(&app, "acct-h1", "spam").await;
        let triager = app.token("tina", &[Role::Triager]);
        let long = "x".repeat(10_000);
        for (query, first, field) in [("", None, "query"), ("  \t ", None, "query"), (long.as_str(), None, "query"), ("RDR-0000-0001", None, "query"), ("pin", Some(0), "first"), ("pin", Some(51), "first")] {
            let (_, body) = app.post(Some(&triager), SEARCH, json!({"q": query, "n": first})).await;
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            assert_eq!(error["extensions"]["field"], field, "{body}");
            assert!(body["data"].is_null(), "{body}");
        }
        for query in ["\"", "'; DROP TABLE appeals; --", "pin*", "NEAR(saved pin)", "saved OR", "a & b | !c", "(", "@", "a@b@c", "%_", "saved:pin", "💥"] {
            let (status, body) = app.post(Some(&triager), SEARCH, json!({"q": query})).await;
            assert_eq!(status, 200, "{query}: {body}");
            assert!(body["errors"].is_null(), "{query}: {body}");
            assert!(body["data"]["search"]["hits"].is_array(), "{query}: {body}");
        }
        let (_, body) = app.post(None, SEARCH, json!({"q": "pin"})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
        app.stop().await;
        test.cleanup().await;
    }
}
