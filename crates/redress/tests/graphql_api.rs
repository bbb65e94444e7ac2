//! The GraphQL API over real HTTP with real tokens, on SQLite and PostgreSQL.

#[allow(dead_code)]
mod api;

use api::{file_appeal, TestApp, FILE, RECORD, TRIAGE};
use redress_core::Role;
use serde_json::{json, Value};

const APPEAL: &str = r"query($id: ID!) { appeal(id: $id) { id reference state version queue priority contact
    account { id email status enforcements { policy contentRelation } }
    enforcement { policy sourceId automatedDecision statement }
    events { version kind actorKind actorId } messages { direction sender body } } }";

const TRIAGE_TAGGED: &str = r"mutation($id: ID!, $v: Int!, $q: String, $tags: [String!]!) { triageAppeal(id: $id, expectedVersion: $v, input: {priority: NORMAL, queue: $q, tags: $tags, identityVerified: true}) { version tags } }";

/// A tag that is no word: quotes, a wildcard of `LIKE`, JSON syntax and non-ASCII letters.
const ODD_TAG: &str = r#"o'brien "ünï" %_ ["x"]"#;

/// Files an appeal for `account` and triages it into `general` with `tags`; returns its id.
async fn tagged_appeal(app: &TestApp, account: &str, tags: &[&str]) -> String {
    let appeal = file_appeal(app, account, "spam").await;
    let triager = app.token("tina", &[Role::Triager]);
    let triaged = app
        .ok(
            &triager,
            TRIAGE_TAGGED,
            json!({"id": appeal["id"], "v": appeal["version"], "q": "general", "tags": tags}),
        )
        .await;
    // The language decided at filing stays beside the triager's tags.
    let kept: Vec<&str> = triaged["triageAppeal"]["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .filter(|tag| !tag.starts_with("language:"))
        .collect();
    assert_eq!(kept, tags);
    appeal["id"].as_str().expect("id").to_owned()
}

/// The ids `appeals(filter)` lists, page by page of `page`.
async fn listed(app: &TestApp, filter: Value, page: usize) -> Vec<String> {
    let reader = app.token("rita", &[Role::Reviewer]);
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                &reader,
                r"query($f: AppealFilterInput, $n: Int, $after: String) { appeals(filter: $f, first: $n, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }",
                json!({"f": filter, "n": page, "after": after}),
            )
            .await;
        let connection = &data["appeals"];
        ids.extend(
            connection["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|node| node["id"].as_str().expect("id").to_owned()),
        );
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            return ids;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
}

redress_engine::backend_tests! {
    async fn the_queue_filters_by_every_tag_asked_for(test) {
        let app = TestApp::start(&test).await;
        let spam_minor = tagged_appeal(&app, "acct-t1", &["spam", "minor"]).await;
        let spam = tagged_appeal(&app, "acct-t2", &["spam"]).await;
        let untagged = tagged_appeal(&app, "acct-t3", &[]).await;
        let odd = tagged_appeal(&app, "acct-t4", &[ODD_TAG, "spam"]).await;
        let filed = file_appeal(&app, "acct-t5", "spam").await["id"].as_str().expect("id").to_owned();

        assert_eq!(listed(&app, json!({"tags": ["spam"]}), 20).await, [spam_minor.as_str(), spam.as_str(), odd.as_str()]);
        assert_eq!(listed(&app, json!({"tags": ["spam"]}), 1).await, [spam_minor.as_str(), spam.as_str(), odd.as_str()], "paged");
        assert_eq!(listed(&app, json!({"tags": ["spam", "minor"]}), 20).await, [spam_minor.as_str()]);
        assert_eq!(listed(&app, json!({"tags": ["minor"], "queue": "general", "states": ["TRIAGED"]}), 20).await, [spam_minor.as_str()]);
        assert_eq!(listed(&app, json!({"tags": [ODD_TAG]}), 20).await, [odd.as_str()]);
        assert_eq!(listed(&app, json!({"tags": []}), 20).await, [spam_minor.as_str(), spam.as_str(), untagged.as_str(), odd.as_str(), filed.as_str()]);
        // Whole tags only: no prefixes, no patterns, no JSON.
        for near_miss in ["spa", "Spam", "%", "_", "[\"spam\"]", "o'brien"] {
            assert_eq!(listed(&app, json!({"tags": [near_miss]}), 20).await, [] as [&str; 0], "{near_miss}");
        }
        assert_eq!(listed(&app, json!({"tags": ["spam"], "queue": "senior"}), 20).await, [] as [&str; 0]);
        app.stop().await;
        test.cleanup().await;
    }

    async fn triage_names_the_field_it_refuses_and_offers_the_configured_queues(test) {
        let mut config = api::config_for(&test);
        config.appeals.sla_rules = vec![redress_engine::settings::SlaRule {
            queue: "csam".to_owned(),
            priority: Some(redress_core::Priority::Urgent),
            policy: redress_core::SlaPolicy {
                time_to_triage: chrono::TimeDelta::minutes(30),
                time_to_decision: chrono::TimeDelta::hours(4),
                warn_fraction: 0.5,
            },
        }];
        let app = TestApp::start_with(config).await;
        let triager = app.token("tina", &[Role::Triager]);
        let queues = app.ok(&triager, "{ configuredQueues { name isDefault isSenior sla { priority timeToTriageSeconds timeToDecisionSeconds } } }", json!({})).await;
        let queues = queues["configuredQueues"].as_array().expect("queues");
        let names: Vec<&str> = queues.iter().map(|queue| queue["name"].as_str().expect("name")).collect();
        assert_eq!(names, ["general", "senior", "csam"]);
        assert_eq!((queues[0]["isDefault"].clone(), queues[1]["isSenior"].clone()), (json!(true), json!(true)));
        assert_eq!(queues[2]["sla"][3], json!({"priority": "URGENT", "timeToTriageSeconds": 1800, "timeToDecisionSeconds": 14400}));
        assert_eq!(queues[2]["sla"][0]["timeToDecisionSeconds"], 48 * 3600, "other priorities keep the default");

        let appeal = file_appeal(&app, "acct-f", "spam").await;
        for (queue, tags, field) in [("   ", json!(["spam"]), "queue"), ("general", json!(["spam", " "]), "tags")] {
            let (_, body) = app.post(Some(&triager), TRIAGE_TAGGED, json!({"id": appeal["id"], "v": 1, "q": queue, "tags": tags})).await;
            let error = &body["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
            assert_eq!(error["extensions"]["field"], field, "{body}");
            assert!(error["message"].as_str().expect("message").starts_with(&format!("invalid {field}: ")), "{body}");
        }
        let read = app.ok(&triager, "query($id: ID!) { appeal(id: $id) { state version } }", json!({"id": appeal["id"]})).await;
        assert_eq!(read["appeal"], json!({"state": "FILED", "version": 1}), "nothing changed");
        app.stop().await;
        test.cleanup().await;
    }

    async fn an_unlinked_sender_shows_the_account_their_address_belongs_to(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        app.ok(&platform, RECORD, json!({"e": [api::enforcement("acct-claimed", "spam")]})).await;
        let filed = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-unlinked", "sender": "ACCT-claimed@example.test", "body": "it was me"
        }})).await;
        let id = filed["fileAppeal"]["appeal"]["id"].clone();
        let query = "query($id: ID!) { appeal(id: $id) { identityVerified account { id } claimedAccount { id status enforcements { policy } } } }";

        let triager = app.token("tina", &[Role::Triager]);
        let read = app.ok(&triager, query, json!({"id": id})).await;
        assert_eq!(read["appeal"], json!({
            "identityVerified": false,
            "account": null,
            "claimedAccount": {"id": "acct-claimed", "status": "deactivated", "enforcements": [{"policy": "spam"}]},
        }));
        let admin = app.token("ada", &[Role::Admin]);
        let read = app.ok(&admin, query, json!({"id": id})).await;
        assert!(read["appeal"]["claimedAccount"].is_null(), "personal data: {read}");

        let stranger = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-stranger", "sender": "nobody@example.test", "body": "hello"
        }})).await;
        let read = app.ok(&triager, query, json!({"id": stranger["fileAppeal"]["appeal"]["id"]})).await;
        assert!(read["appeal"]["claimedAccount"].is_null(), "{read}");
        app.stop().await;
        test.cleanup().await;
    }

    async fn the_platform_files_and_a_triager_triages_over_http(test) {
        let app = TestApp::start(&test).await;
        let appeal = file_appeal(&app, "acct-1", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        assert_eq!(appeal["state"], "FILED");
        assert_eq!(appeal["version"], 1);

        let triager = app.token("tina", &[Role::Triager]);
        let triaged = app.ok(&triager, TRIAGE, json!({"id": id, "v": 1, "q": "spam-appeals"})).await;
        assert_eq!(triaged["triageAppeal"]["state"], "TRIAGED");
        assert_eq!(triaged["triageAppeal"]["queue"], "spam-appeals");

        let note = r"mutation($id: ID!, $v: Int!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }"
            .replace("$t", "\"checked the pin history\"");
        let noted = app.ok(&triager, &note, json!({"id": id, "v": 2})).await;
        assert_eq!(noted["addNote"]["version"], 3);

        let read = app.ok(&triager, APPEAL, json!({"id": id})).await;
        let read = &read["appeal"];
        assert_eq!(read["contact"], "acct-1@example.test");
        assert_eq!(read["account"]["email"], "acct-1@example.test");
        assert_eq!(read["account"]["enforcements"][0]["contentRelation"], "saved");
        assert_eq!(read["enforcement"]["sourceId"], "classifier-v7");
        let kinds: Vec<&str> = read["events"].as_array().expect("events").iter().filter_map(|e| e["kind"].as_str()).collect();
        assert_eq!(kinds, ["filed", "triaged", "note_added"]);
        assert_eq!(read["messages"][0]["body"], "I only saved that pin, please restore my account");

        let by_reference = app.ok(&triager, r"query($r: String!) { appealByReference(reference: $r) { id } }",
            json!({"r": appeal["reference"]})).await;
        assert_eq!(by_reference["appealByReference"]["id"], id.as_str());

        // Filing the same request again changes nothing.
        let platform = app.token("platform", &[Role::Integration]);
        let again = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-acct-1", "accountId": "acct-1", "sender": "acct-1@example.test", "body": "again"
        }})).await;
        assert_eq!(again["fileAppeal"]["outcome"], "DUPLICATE");
        assert_eq!(again["fileAppeal"]["appeal"]["version"], 3);
        app.stop().await;
        test.cleanup().await;
    }

    async fn the_account_locale_and_the_declared_language_decide_the_appeals_language(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        for bad in ["english", "*", "x-klingon", "de_DE.UTF-8 ; drop"] {
            let mut input = api::enforcement("acct-bad", "spam");
            input["accountLocale"] = json!(bad);
            let (status, body) = app.post(Some(&platform), RECORD, json!({"e": [input]})).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{bad}: {body}");
            assert!(body["errors"][0]["message"].as_str().expect("message").contains("accountLocale"), "{body}");
        }
        let mut input = api::enforcement("acct-pl", "spam");
        input["accountLocale"] = json!("pl-PL");
        let ids = app.ok(&platform, RECORD, json!({"e": [input]})).await;
        let filed = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-pl", "enforcementId": ids["recordEnforcements"]["ids"][0],
            "sender": "acct-pl@example.test", "body": "I only saved that pin, please restore my account",
            "language": "fr",
        }})).await;
        let triager = app.token("tina", &[Role::Triager]);
        let language = r"query($id: ID!) { appeal(id: $id) { language tags } }";
        let read = app.ok(&triager, language, json!({"id": filed["fileAppeal"]["appeal"]["id"]})).await;
        assert_eq!(read["appeal"]["language"], "pl", "the account's locale beats the declared language");

        app.ok(&platform, RECORD, json!({"e": [api::enforcement("acct-nl", "spam")]})).await;
        let declared = app.ok(&platform, FILE, json!({"i": {
            "requestId": "req-nl", "accountId": "acct-nl", "sender": "acct-nl@example.test",
            "body": "I only saved that pin, please restore my account", "language": "nl-BE",
        }})).await;
        let read = app.ok(&triager, language, json!({"id": declared["fileAppeal"]["appeal"]["id"]})).await;
        assert_eq!(read["appeal"]["language"], "nl");
        let refused = app.error_code(&platform, FILE, json!({"i": {
            "accountId": "acct-nl", "sender": "acct-nl@example.test", "body": "x", "language": "<script>",
        }})).await;
        assert_eq!(refused, "BAD_USER_INPUT");
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_stale_version_is_a_conflict_and_changes_nothing(test) {
        let app = TestApp::start(&test).await;
        let appeal = file_appeal(&app, "acct-2", "spam").await;
        let triager = app.token("tina", &[Role::Triager]);
        let (_, body) = app.post(Some(&triager), TRIAGE, json!({"id": appeal["id"], "v": 7, "q": "general"})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["actualVersion"], 1);
        let read = app.ok(&triager, "query($id: ID!) { appeal(id: $id) { state version } }", json!({"id": appeal["id"]})).await;
        assert_eq!(read["appeal"], json!({"state": "FILED", "version": 1}));
        app.stop().await;
        test.cleanup().await;
    }

    async fn callers_without_a_valid_token_or_role_are_refused(test) {
        let app = TestApp::start(&test).await;
        let appeal = file_appeal(&app, "acct-3", "spam").await;
        let (status, body) = app.post(None, "{ me { subject } }", json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        let (status, body) = app.post(Some("not-a-token"), "{ me { subject } }", json!({})).await;
        assert_eq!(status, 401);
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

        let support = app.token("sam", &[Role::Support]);
        let code = app.error_code(&support, TRIAGE, json!({"id": appeal["id"], "v": 1, "q": "general"})).await;
        assert_eq!(code, "FORBIDDEN");
        let me = app.ok(&support, "{ me { subject roles seesPersonalData } }", json!({})).await;
        assert_eq!(me["me"], json!({"subject": "sam", "roles": ["SUPPORT"], "seesPersonalData": true}));

        // Integrations and administrators see no personal data.
        let admin = app.token("ada", &[Role::Admin]);
        let read = app.ok(&admin, APPEAL, json!({"id": appeal["id"]})).await;
        assert!(read["appeal"]["contact"].is_null());
        assert!(read["appeal"]["account"]["email"].is_null());
        assert!(read["appeal"]["messages"][0]["body"].is_null());

        let missing = app.ok(&admin, "query($id: ID!) { appeal(id: $id) { id } }", json!({"id": uuid::Uuid::now_v7()})).await;
        assert!(missing["appeal"].is_null());
        let code = app.error_code(&admin, "query { appeal(id: \"nope\") { id } }", json!({})).await;
        assert_eq!(code, "BAD_USER_INPUT");
        app.stop().await;
        test.cleanup().await;
    }
}

#[tokio::test]
async fn graphiql_is_served_and_introspection_can_be_switched_off() {
    let test = redress_engine::testing::TestDb::sqlite().await;
    let app = TestApp::start(&test).await;
    let page = reqwest::get(app.url()).await.expect("get");
    assert_eq!(page.status(), 200);
    assert!(page
        .text()
        .await
        .expect("html")
        .to_lowercase()
        .contains("graphiql"));
    let admin = app.token("ada", &[Role::Admin]);
    let schema_query = "{ __schema { queryType { name } } }";
    let open = app.ok(&admin, schema_query, json!({})).await;
    assert_eq!(open["__schema"]["queryType"]["name"], "QueryRoot");
    app.stop().await;

    let mut config = api::config_for(&test);
    config.graphql.introspection = false;
    let app = TestApp::start_with(config).await;
    let (_, body) = app.post(Some(&admin), schema_query, json!({})).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection is off: {body}"
    );
    app.stop().await;
    test.cleanup().await;
}
