//! Routing rules over GraphQL: admins create, change, reorder, disable and dry-run rules;
//! a rule triages a new appeal and the appeal names it; other roles are refused; input
//! errors name their field. Both backends.

#[allow(dead_code)]
mod api;

use api::{config_for, enforcement, file_appeal_about, TestApp};
use redress_core::Role;
use serde_json::{json, Value};

const RULE_FIELDS: &str = "id version name position enabled
    conditions { contentRelations channels earlierAppealsAtLeast openIncident }
    action { kind queue priority tags fourEyes } updatedBy";

fn create() -> String {
    format!(
        "mutation($i: RoutingRuleInput!) {{ createRoutingRule(input: $i) {{ {RULE_FIELDS} }} }}"
    )
}

fn saved_rule() -> Value {
    json!({"name": "saved, not created", "contentRelations": ["saved"],
           "queue": "fast-lane", "priority": "HIGH", "tags": ["saved-only"]})
}

/// Files an appeal about an enforcement for content `relation`, which routing rules match.
async fn file(app: &TestApp, account: &str, relation: &str) -> Value {
    let mut enforcement = enforcement(account, "nudity");
    enforcement["contentRelation"] = json!(relation);
    file_appeal_about(app, enforcement).await
}

/// The error's code and `extensions.field`.
async fn refused(app: &TestApp, token: &str, query: &str, variables: Value) -> (String, Value) {
    let (_, body) = app.post(Some(token), query, variables).await;
    let error = &body["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("an error: {body}"))
            .to_owned(),
        error["extensions"]["field"].clone(),
    )
}

redress_engine::backend_tests! {
    async fn admins_manage_rules_and_a_rule_triages_a_new_appeal(test) {
        let app = TestApp::start(&test).await;
        let admin = app.token("ada", &[Role::Admin]);
        let triager = app.token("tom", &[Role::Triager]);

        let created = app.ok(&admin, &create(), json!({"i": saved_rule()})).await["createRoutingRule"].clone();
        assert_eq!(created["version"], 1);
        assert_eq!(created["position"], 0);
        assert_eq!(created["action"], json!({"kind": "TRIAGE", "queue": "fast-lane", "priority": "HIGH", "tags": ["saved-only"], "fourEyes": false}));
        assert_eq!(created["conditions"]["contentRelations"], json!(["saved"]));
        assert_eq!(created["updatedBy"], "ada");
        let rule_id = created["id"].clone();

        let routed = file(&app, "acct-saved", "saved").await;
        assert_eq!(routed["state"], "TRIAGED");
        assert_eq!(routed["queue"], "fast-lane");
        let left = file(&app, "acct-created", "created").await;
        assert_eq!(left["state"], "FILED", "no rule matches: it waits for a person");

        let read = app.ok(&triager, "query($id: ID!) { appeal(id: $id) { priority tags triagedByRule { id version name } } }",
            json!({"id": routed["id"]})).await;
        assert_eq!(read["appeal"]["triagedByRule"], json!({"id": rule_id, "version": 1, "name": "saved, not created"}));
        assert_eq!(read["appeal"]["priority"], "HIGH");
        let by_rule = app.ok(&triager, "query($r: ID!) { appeals(filter: {rule: $r}) { edges { node { id } } } }",
            json!({"r": rule_id})).await;
        assert_eq!(by_rule["appeals"]["edges"], json!([{"node": {"id": routed["id"]}}]));

        let mut changed = saved_rule();
        changed["queue"] = json!("express");
        let updated = app.ok(&admin, &format!("mutation($id: ID!, $i: RoutingRuleInput!) {{ updateRoutingRule(id: $id, input: $i) {{ {RULE_FIELDS} }} }}"),
            json!({"id": rule_id, "i": changed})).await;
        assert_eq!(updated["updateRoutingRule"]["version"], 2);
        let again = app.ok(&triager, "query($id: ID!) { appeal(id: $id) { queue triagedByRule { version } } }", json!({"id": routed["id"]})).await;
        assert_eq!(again["appeal"], json!({"queue": "fast-lane", "triagedByRule": {"version": 1}}), "a rule change leaves triaged appeals alone");

        let second = app.ok(&admin, &create(), json!({"i": {"name": "a person looks", "action": "LEAVE_FOR_PERSON"}})).await;
        let second_id = second["createRoutingRule"]["id"].clone();
        assert_eq!(second["createRoutingRule"]["action"]["queue"], Value::Null);
        let disabled = app.ok(&admin, "mutation($id: ID!) { disableRoutingRule(id: $id) { enabled version } }", json!({"id": rule_id})).await;
        assert_eq!(disabled["disableRoutingRule"], json!({"enabled": false, "version": 3}));
        let enabled = app.ok(&admin, "mutation($id: ID!) { enableRoutingRule(id: $id) { enabled version } }", json!({"id": rule_id})).await;
        assert_eq!(enabled["enableRoutingRule"], json!({"enabled": true, "version": 4}));
        let reordered = app.ok(&admin, "mutation($ids: [ID!]!) { reorderRoutingRules(ids: $ids) { id position } }",
            json!({"ids": [second_id, rule_id]})).await;
        assert_eq!(reordered["reorderRoutingRules"], json!([{"id": second_id, "position": 0}, {"id": rule_id, "position": 1}]));
        let listed = app.ok(&admin, "{ routingRules { name position } }", json!({})).await;
        assert_eq!(listed["routingRules"], json!([{"name": "a person looks", "position": 0}, {"name": "saved, not created", "position": 1}]));
        let versions = app.ok(&admin, "query($id: ID!) { routingRuleVersions(id: $id) { version change changedBy action { queue } } }",
            json!({"id": rule_id})).await;
        let changes: Vec<&str> = versions["routingRuleVersions"].as_array().expect("versions").iter()
            .map(|v| v["change"].as_str().expect("change")).collect();
        assert_eq!(changes, ["created", "updated", "disabled", "enabled", "moved"]);
        assert_eq!(versions["routingRuleVersions"][0]["action"]["queue"], "fast-lane");

        let routed_now = file(&app, "acct-later", "saved").await;
        assert_eq!(routed_now["state"], "FILED", "the leave-for-a-person rule now comes first");

        let dry = app.ok(&admin, "query($r: RoutingRuleInput!) { routingDryRun(rule: $r, days: 7) {
                considered matched truncated action { queue } appeals { id } } }",
            json!({"r": {"name": "try", "contentRelations": ["created"], "queue": "slow-lane"}})).await;
        assert_eq!(dry["routingDryRun"]["considered"], 3);
        assert_eq!(dry["routingDryRun"]["matched"], 1);
        assert_eq!(dry["routingDryRun"]["appeals"], json!([{"id": left["id"]}]));
        assert_eq!(dry["routingDryRun"]["action"]["queue"], "slow-lane");
        let after = app.ok(&admin, "{ routingRules { name } }", json!({})).await;
        assert_eq!(after["routingRules"].as_array().map(Vec::len), Some(2), "a dry run saves nothing");

        app.stop().await;
        test.cleanup().await;
    }

    async fn only_admins_see_or_change_rules_and_bad_input_names_its_field(test) {
        let app = TestApp::start(&test).await;
        let admin = app.token("ada", &[Role::Admin]);
        for role in [Role::Triager, Role::Reviewer, Role::SeniorReviewer, Role::Support, Role::Integration] {
            let token = app.token("someone", &[role]);
            for query in [
                "{ routingRules { id } }",
                r#"{ routingRuleVersions(id: "00000000-0000-0000-0000-000000000000") { version } }"#,
                r#"{ routingDryRun(rule: {name: "x", queue: "q"}, days: 7) { matched } }"#,
            ] {
                assert_eq!(app.error_code(&token, query, json!({})).await, "FORBIDDEN", "{query} as {role}");
            }
            let (code, _) = refused(&app, &token, &create(), json!({"i": saved_rule()})).await;
            assert_eq!(code, "FORBIDDEN", "createRoutingRule as {role}");
        }
        assert!(app.ok(&admin, "{ routingRules { id } }", json!({})).await["routingRules"].as_array().is_some_and(Vec::is_empty));

        let cases = [
            (json!({"name": "x", "contentRelations": ["bogus"], "queue": "q"}), "contentRelations"),
            (json!({"name": "x", "automatedDecision": ["sometimes"], "queue": "q"}), "automatedDecision"),
            (json!({"name": "x"}), "queue"),
            (json!({"name": "  ", "queue": "q"}), "name"),
            (json!({"name": "x", "queue": "q", "earlierAppealsAtLeast": -1}), "earlierAppealsAtLeast"),
            (json!({"name": "x", "queue": "q", "upheldDecisionsAtLeast": 3, "upheldDecisionsAtMost": 1}), "upheldDecisions"),
            (json!({"name": "x", "queue": "q", "tags": ["x".repeat(300)]}), "tags"),
        ];
        for (input, field) in cases {
            let (code, named) = refused(&app, &admin, &create(), json!({"i": input})).await;
            assert_eq!(code, "BAD_USER_INPUT", "{input}");
            assert_eq!(named, json!(field), "{input}");
        }
        // NUL is refused before any resolver runs, for every argument alike.
        let (code, _) = refused(&app, &admin, &create(), json!({"i": {"name": "x\u{0}", "queue": "q"}})).await;
        assert_eq!(code, "BAD_USER_INPUT");
        for (days, field) in [(0, "days"), (91, "days"), (-5, "days")] {
            let (code, named) = refused(&app, &admin, "query($d: Int!) { routingDryRun(rule: {name: \"x\", queue: \"q\"}, days: $d) { matched } }", json!({"d": days})).await;
            assert_eq!((code.as_str(), named), ("BAD_USER_INPUT", json!(field)));
        }
        let (code, named) = refused(&app, &admin, "{ appeals(filter: {rule: \"not-an-id\"}) { edges { node { id } } } }", json!({})).await;
        assert_eq!((code.as_str(), named), ("BAD_USER_INPUT", json!("rule")));
        app.ok(&admin, &create(), json!({"i": saved_rule()})).await;
        let (code, named) = refused(&app, &admin, "mutation { reorderRoutingRules(ids: []) { id } }", json!({})).await;
        assert_eq!((code.as_str(), named), ("BAD_USER_INPUT", json!("ids")), "an order must name every rule");
        let (code, named) = refused(&app, &admin, &create(), json!({"i": saved_rule()})).await;
        assert_eq!((code.as_str(), named), ("BAD_USER_INPUT", json!("name")), "names are unique");
        app.stop().await;
        test.cleanup().await;
    }

    async fn the_configuration_seeds_rules_at_start(test) {
        let mut config = config_for(&test);
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml");
        config.routing = redress::config::Config::load(Some(&example)).expect("example").routing;
        let app = TestApp::start_with(config).await;
        let admin = app.token("ada", &[Role::Admin]);
        let listed = app.ok(&admin, "{ routingRules { name version } }", json!({})).await;
        let names: Vec<&str> = listed["routingRules"].as_array().expect("rules").iter()
            .map(|r| r["name"].as_str().expect("name")).collect();
        assert_eq!(names, ["child safety: a person triages", "saved, not created", "open incident"]);
        let routed = file(&app, "acct-seeded", "saved").await;
        assert_eq!(routed["queue"], "fast-lane");
        app.stop().await;
        test.cleanup().await;
    }
}
