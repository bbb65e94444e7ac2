//! The policy catalog over GraphQL: admins list, create, edit and retire policies and
//! templates and read their versions; reviewers fill the edited template at once; other
//! roles are refused; a bad edit names its field. Both backends.

#[allow(dead_code)]
mod api;

use std::path::Path;

use api::{config_for, file_appeal, TestApp};
use redress::config::Config;
use redress_core::Role;
use serde_json::{json, Value};

const STORED: &str = "query { catalogDecisionTemplates { version retired changedBy template { id reasons } } catalogPolicies { version changedBy policy { id } } }";
const UPDATE_TEMPLATE: &str = "mutation($i: DecisionTemplateInput!) { updateDecisionTemplate(input: $i) { version change changedBy template { id reasons statement { territorialScope countries facts } } } }";
const CREATE_TEMPLATE: &str = "mutation($i: DecisionTemplateInput!) { createDecisionTemplate(input: $i) { version template { id } } }";
const UPDATE_POLICY: &str =
    "mutation($i: PolicyInput!) { updatePolicy(input: $i) { version policy { id } } }";
const RETIRE_TEMPLATE: &str =
    "mutation($id: String!) { retireDecisionTemplate(id: $id) { version retired } }";
const VERSIONS: &str = "query($id: String!) { decisionTemplateVersions(id: $id) { version change changedBy template { reasons } } }";
const RENDER: &str = "query($a: ID!, $t: String!) { renderDecisionTemplate(appeal: $a, template: $t) { reasons statementOfReasons } }";
const OFFERED: &str =
    "query { decisionTemplates(policy: \"spam\", outcome: UPHOLD, language: \"en\") { id } }";

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

fn spam_uphold(reasons: &str) -> Value {
    json!({
        "id": "spam-uphold-en", "policy": "spam", "outcome": "UPHOLD", "language": "en",
        "title": "Spam confirmed after review", "reasons": reasons,
        "statement": {"facts": "Checked pin {content_id} after the appeal of {filed_at}.",
                      "territorialScope": "COUNTRIES", "countries": ["DE", "AT"]},
    })
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
    async fn an_admin_edits_a_template_and_the_reviewer_fills_the_new_text(test) {
        let app = TestApp::start_with(example_config(&test)).await;
        let admin = app.token("ada", &[Role::Admin]);
        let reviewer = app.token("rita", &[Role::Reviewer]);

        let stored = app.ok(&admin, STORED, json!({})).await;
        let seeded = stored["catalogDecisionTemplates"].as_array().expect("templates")
            .iter().find(|t| t["template"]["id"] == "spam-uphold-en").expect("seeded from the configuration").clone();
        assert_eq!(seeded["version"], 1);
        assert_eq!(seeded["changedBy"], "system:configuration");

        let edited = app.ok(&admin, UPDATE_TEMPLATE, json!({"i": spam_uphold("Appeal {reference} reviewed again: upheld.")})).await["updateDecisionTemplate"].clone();
        assert_eq!(edited["version"], 2);
        assert_eq!(edited["change"], "updated");
        assert_eq!(edited["changedBy"], "ada");
        assert_eq!(edited["template"]["statement"], json!({"territorialScope": "countries", "countries": ["DE", "AT"], "facts": "Checked pin {content_id} after the appeal of {filed_at}."}));

        let appeal = file_appeal(&app, "acct-edit", "spam").await;
        let rendered = app.ok(&reviewer, RENDER, json!({"a": appeal["id"], "t": "spam-uphold-en"})).await;
        assert_eq!(
            rendered["renderDecisionTemplate"]["reasons"],
            format!("Appeal {} reviewed again: upheld.", appeal["reference"].as_str().expect("reference"))
        );
        assert_eq!(rendered["renderDecisionTemplate"]["statementOfReasons"]["territorial_scope"], json!({"scope": "countries", "countries": ["DE", "AT"]}));

        let versions = app.ok(&admin, VERSIONS, json!({"id": "spam-uphold-en"})).await["decisionTemplateVersions"].clone();
        assert_eq!(versions.as_array().map(Vec::len), Some(2));
        assert_eq!(versions[0]["change"], "seeded");
        assert_ne!(versions[0]["template"]["reasons"], versions[1]["template"]["reasons"], "the first version reads as it was");

        let retired = app.ok(&admin, RETIRE_TEMPLATE, json!({"id": "spam-uphold-en"})).await;
        assert_eq!(retired["retireDecisionTemplate"], json!({"version": 3, "retired": true}));
        let offered = app.ok(&reviewer, OFFERED, json!({})).await;
        assert!(
            offered["decisionTemplates"].as_array().expect("list").iter().all(|t| t["id"] != "spam-uphold-en"),
            "a retired template is not offered: {offered}"
        );
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_bad_edit_names_its_field_and_only_admins_edit(test) {
        let app = TestApp::start_with(example_config(&test)).await;
        let admin = app.token("ada", &[Role::Admin]);
        let cases = [
            (UPDATE_TEMPLATE, json!({"i": spam_uphold("Appeal {refrence}.")}), "reasons"),
            (UPDATE_TEMPLATE, json!({"i": {"id": "spam-uphold-en", "policy": "spam", "outcome": "UPHOLD", "language": "English", "title": "t", "reasons": "r"}}), "language"),
            (UPDATE_TEMPLATE, json!({"i": {"id": "spam-uphold-en", "policy": "spam", "outcome": "UPHOLD", "language": "en", "title": "t", "reasons": "r",
                                          "statement": {"territorialScope": "COUNTRIES", "countries": ["germany"]}}}), "statement.countries"),
            (UPDATE_TEMPLATE, json!({"i": {"id": "spam-uphold-en", "policy": "spam", "outcome": "UPHOLD", "language": "en", "title": "t", "reasons": "r",
                                          "statement": {"facts": "{when}"}}}), "statement.facts"),
            (CREATE_TEMPLATE, json!({"i": {"id": "nothing-uphold-en", "policy": "nothing", "outcome": "UPHOLD", "language": "en", "title": "t", "reasons": "r"}}), "policy"),
            (UPDATE_POLICY, json!({"i": {"id": "spam", "groundKind": "incompatible_with_terms", "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                                        "texts": [{"language": "de", "title": "", "ground": "4.2", "explanation": "x"}]}}), "texts.de.title"),
            (UPDATE_POLICY, json!({"i": {"id": "spam", "groundKind": "rude", "category": "C", "texts": []}}), "groundKind"),
            // A category of the database's first schema, which it no longer takes.
            (UPDATE_POLICY, json!({"i": {"id": "spam", "groundKind": "incompatible_with_terms", "category": "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT",
                                        "texts": [{"language": "en", "title": "Spam", "ground": "4.2", "explanation": "x"}]}}), "category"),
        ];
        for (query, variables, field) in cases {
            let (code, named) = refused(&app, &admin, query, variables.clone()).await;
            assert_eq!((code.as_str(), named), ("BAD_USER_INPUT", json!(field)), "{variables}");
        }
        let versions = app.ok(&admin, VERSIONS, json!({"id": "spam-uphold-en"})).await;
        assert_eq!(versions["decisionTemplateVersions"].as_array().map(Vec::len), Some(1), "nothing refused was saved");

        for role in [Role::Triager, Role::Reviewer, Role::SeniorReviewer, Role::Support, Role::Integration] {
            let token = app.token(&format!("{}-catalog", role.as_str()), &[role]);
            let (code, _) = refused(&app, &token, UPDATE_TEMPLATE, json!({"i": spam_uphold("Appeal {reference}.")})).await;
            assert_eq!(code, "FORBIDDEN", "{role:?} edits");
            let (code, _) = refused(&app, &token, STORED, json!({})).await;
            assert_eq!(code, "FORBIDDEN", "{role:?} lists the stored catalog");
        }
        app.stop().await;
        test.cleanup().await;
    }
}
