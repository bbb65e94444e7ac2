//! Deciding with the policy catalog over GraphQL, on SQLite and on PostgreSQL: policies and
//! templates from the example configuration, a template filled in the appellant's
//! language, placeholders the case cannot fill refused by name, the decision's checks run
//! before sending, and the notice previewed as the deliverers render it.

#[allow(dead_code)]
mod api;

use std::path::Path;

use api::{config_for, file_appeal, TestApp, TRIAGE};
use redress::config::Config;
use redress_core::Role;
use serde_json::{json, Value};

const POLICIES: &str = r#"query($id: ID!) {
  policies { id groundKind category restrictions texts { language title } }
  appeal(id: $id) { language enforcement { policy policyDetails { id text(language: "de") { language title ground explanation } } } }
}"#;

const TEMPLATES: &str = r"query($p: String, $o: Outcome, $l: String) {
  decisionTemplates(policy: $p, outcome: $o, language: $l) { id language title reasons }
}";

const RENDER: &str = r"query($id: ID!, $t: String!) {
  renderDecisionTemplate(appeal: $id, template: $t) { template language reasons statementOfReasons }
}";

const VALIDATE: &str = r"query($s: JSON, $o: Outcome!, $r: String!) {
  validateStatementOfReasons(statementOfReasons: $s, outcome: $o, reasons: $r) { valid field message }
}";

const PREVIEW: &str = r"query($id: ID!, $o: Outcome!, $r: String!, $s: JSON) {
  previewDecisionNotice(appeal: $id, outcome: $o, reasons: $r, statementOfReasons: $s) { language mailSubject mailText directMessage }
}";

const TRIAGE_WITH_TAGS: &str = r"mutation($id: ID!, $v: Int!, $tags: [String!]!) { triageAppeal(id: $id, expectedVersion: $v, input: {priority: HIGH, tags: $tags, identityVerified: true}) { version } }";

fn example_config(db: &redress_engine::testing::TestDb) -> Config {
    let example = Config::load(Some(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
    ))
    .expect("the example configuration");
    let mut config = config_for(db);
    config.policies = example.policies;
    config.decision_templates = example.decision_templates;
    config
}

async fn error(app: &TestApp, token: &str, query: &str, variables: Value) -> Value {
    let (_, body) = app.post(Some(token), query, variables).await;
    body["errors"][0].clone()
}

redress_engine::backend_tests! {
    async fn a_reviewer_fills_a_template_in_the_appellants_language_and_previews_the_notice(db) {
        let app = TestApp::start_with(example_config(&db)).await;
        let appeal = file_appeal(&app, "acct-de", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let reference = appeal["reference"].as_str().expect("reference").to_owned();
        let triager = app.token("tina", &[Role::Triager]);
        app.ok(&triager, TRIAGE_WITH_TAGS, json!({"id": id, "v": appeal["version"], "tags": ["language:de"]})).await;
        let rita = app.token("rita", &[Role::Reviewer]);

        let catalog = app.ok(&rita, POLICIES, json!({"id": id})).await;
        let ids: Vec<&str> = catalog["policies"].as_array().expect("policies").iter().map(|p| p["id"].as_str().expect("id")).collect();
        assert_eq!(ids, ["adult_content", "counterfeit_goods", "harassment", "spam"], "by id");
        assert_eq!(catalog["policies"][3]["category"], "STATEMENT_CATEGORY_SCAMS_AND_FRAUD");
        assert_eq!(catalog["appeal"]["language"], "de");
        let details = &catalog["appeal"]["enforcement"]["policyDetails"];
        assert_eq!(details["id"], "spam");
        assert_eq!(details["text"]["title"], "Spam und Plattformmanipulation");

        // The appellant's language first; a language without templates falls back.
        let offered = app.ok(&rita, TEMPLATES, json!({"p": "spam", "o": "UPHOLD", "l": "de"})).await;
        assert_eq!(offered["decisionTemplates"][0]["id"], "spam-uphold-de");
        assert_eq!(offered["decisionTemplates"].as_array().map(Vec::len), Some(1));
        let fallback = app.ok(&rita, TEMPLATES, json!({"p": "spam", "o": "UPHOLD", "l": "fi"})).await;
        assert_eq!(fallback["decisionTemplates"][0]["id"], "spam-uphold-en");

        let filled = app.ok(&rita, RENDER, json!({"id": id, "t": "spam-uphold-de"})).await;
        let filled = &filled["renderDecisionTemplate"];
        let reasons = filled["reasons"].as_str().expect("reasons").to_owned();
        assert!(reasons.starts_with(&format!("Wir haben Ihren Einspruch {reference} und den Pin pin-1, den Sie gespeichert haben")), "{reasons}");
        assert!(!reasons.contains('{'), "{reasons}");
        let statement = filled["statementOfReasons"].clone();
        assert_eq!(statement["ground"]["clause"], "Community-Richtlinien, Abschnitt 4.2 (Spam)");
        assert_eq!(statement["automated_decision"], "not");

        // The filled template passes the decision's checks; a broken one names its field.
        let check = app.ok(&rita, VALIDATE, json!({"s": statement, "o": "UPHOLD", "r": reasons})).await;
        assert_eq!(check["validateStatementOfReasons"], json!({"valid": true, "field": null, "message": null}));
        let mut broken = statement.clone();
        broken["ground"]["clause"] = json!(" ");
        let check = app.ok(&rita, VALIDATE, json!({"s": broken, "o": "UPHOLD", "r": reasons})).await;
        assert_eq!(check["validateStatementOfReasons"]["field"], "ground.clause");
        let mut missing = statement.clone();
        missing.as_object_mut().expect("object").remove("facts");
        let check = app.ok(&rita, VALIDATE, json!({"s": missing, "o": "UPHOLD", "r": reasons})).await;
        assert_eq!(check["validateStatementOfReasons"]["field"], "facts");
        let check = app.ok(&rita, VALIDATE, json!({"s": statement, "o": "UPHOLD", "r": "Zu {reference}"})).await;
        assert_eq!(check["validateStatementOfReasons"]["field"], "reasons");

        // The preview is the German decision mail and the DM.
        let preview = app.ok(&rita, PREVIEW, json!({"id": id, "o": "UPHOLD", "r": reasons, "s": statement})).await;
        let preview = &preview["previewDecisionNotice"];
        assert_eq!(preview["language"], "de");
        assert!(preview["mailSubject"].as_str().expect("subject").contains(&reference));
        let text = preview["mailText"].as_str().expect("text");
        assert!(text.contains(&reasons), "{text}");
        assert!(text.contains("Community-Richtlinien, Abschnitt 4.2 (Spam)"), "{text}");
        assert!(preview["directMessage"].as_str().expect("dm").contains(&reference));
        // What the mail adds of the case is there too, but the status page's token, which
        // would let staff act on the page as the appellant, is not.
        assert!(text.contains(&format!("/status/{reference}?token=withheld-in-this-preview")), "{text}");

        // A restore explains itself with the enforcement's own statement of reasons.
        let preview = app.ok(&rita, PREVIEW, json!({"id": id, "o": "RESTORE", "r": "Gespeichert, nicht gepostet.", "s": null})).await;
        let text = preview["previewDecisionNotice"]["mailText"].as_str().expect("text");
        assert!(text.contains("Sachverhalt: A saved pin matched the classifier."), "{text}");
        app.stop().await;
        db.cleanup().await;
    }

    async fn templates_refuse_unknown_names_and_unfilled_placeholders(db) {
        let mut config = example_config(&db);
        // A template for a case with no recorded content.
        let mut needs_content = config.decision_templates[0].clone();
        needs_content.id = "needs-content".into();
        config.decision_templates.push(needs_content);
        let app = TestApp::start_with(config).await;
        let platform = app.token("platform", &[Role::Integration]);
        let mut without_content = api::enforcement("acct-bare", "spam");
        without_content["contentId"] = Value::Null;
        let recorded = app.ok(&platform, api::RECORD, json!({"e": [without_content]})).await;
        let filed = app
            .ok(&platform, api::FILE, json!({"i": {
                "requestId": "req-bare",
                "enforcementId": recorded["recordEnforcements"]["ids"][0],
                "sender": "acct-bare@example.test",
                "body": "Please look again.",
                "identityVerified": true,
            }}))
            .await;
        let id = filed["fileAppeal"]["appeal"]["id"].as_str().expect("id").to_owned();
        let rita = app.token("rita", &[Role::Reviewer]);

        let unfilled = error(&app, &rita, RENDER, json!({"id": id, "t": "needs-content"})).await;
        assert_eq!(unfilled["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(unfilled["extensions"]["field"], "template.reasons");
        assert!(unfilled["message"].as_str().expect("message").contains("{content_id}"), "{unfilled}");

        let unknown = error(&app, &rita, RENDER, json!({"id": id, "t": "no-such-template"})).await;
        assert_eq!(unknown["extensions"]["field"], "template");

        app.ok(&app.token("tina", &[Role::Triager]), TRIAGE, json!({"id": id, "v": filed["fileAppeal"]["appeal"]["version"], "q": "general"})).await;
        let claimed = app.ok(&rita, r"mutation { claimNextAppeal { id version } }", json!({})).await;
        assert_eq!(claimed["claimNextAppeal"]["id"], id.as_str());
        let refused = error(
            &app,
            &rita,
            r"mutation($id: ID!, $v: Int!, $r: String!) { decideAppeal(id: $id, expectedVersion: $v, outcome: RESTORE, reasons: $r) { version } }",
            json!({"id": id, "v": claimed["claimNextAppeal"]["version"], "r": "We restored {reference}."}),
        )
        .await;
        assert_eq!(refused["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(refused["extensions"]["field"], "reasons");
        assert!(refused["message"].as_str().expect("message").contains("{reference}"), "{refused}");

        // A decision names only a template in force for its outcome and the enforcement's policy.
        const DECIDE_WITH: &str = r#"mutation($id: ID!, $v: Int!, $o: Outcome!, $t: String!) { decideAppeal(id: $id, expectedVersion: $v, outcome: $o, reasons: "We looked again.", template: $t) { version } }"#;
        let version = claimed["claimNextAppeal"]["version"].clone();
        for (outcome, template, names) in [
            ("RESTORE", "spam-uphold-en", "outcome"),
            ("UPHOLD", "adult-uphold-en", "adult_content"),
            ("RESTORE", "no-such-template", "no-such-template"),
        ] {
            let refused = error(&app, &rita, DECIDE_WITH, json!({"id": id, "v": version, "o": outcome, "t": template})).await;
            assert_eq!(refused["extensions"]["code"], "BAD_USER_INPUT", "{template}: {refused}");
            assert_eq!(refused["extensions"]["field"], "template", "{template}: {refused}");
            assert!(refused["message"].as_str().expect("message").contains(names), "{refused}");
        }
        let decided = app
            .ok(&rita, DECIDE_WITH, json!({"id": id, "v": version, "o": "RESTORE", "t": "spam-restore-en"}))
            .await;
        assert!(decided["decideAppeal"]["version"].as_i64() > version.as_i64(), "{decided}");
        app.stop().await;
        db.cleanup().await;
    }
}
