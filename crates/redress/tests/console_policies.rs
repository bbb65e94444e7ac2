//! The policy catalog screen in headless Chromium: an admin edits a German decision
//! template, is shown a misspelt placeholder and an incomplete new language next to their
//! fields, saves, and reads the versions; the reviewer's composer then offers the new text.
//! Both backends.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use std::path::Path;

use api::{config_for, file_appeal, TestApp};
use console_ui::sign_in;
use redress::config::Config;
use redress_core::Role;
use serde_json::json;
use webdriver::{Browser, Driver};

const NEW_REASONS: &str =
    "Einspruch {reference}: erneut geprüft, die Maßnahme wegen {policy_title} bleibt.";

/// Replaces a control's text, as selecting it all and typing would.
async fn replace(browser: &Browser, id: &str, text: &str) {
    browser
        .execute(&format!(
            "const c = document.getElementById('{id}'); c.value = {}; c.dispatchEvent(new Event('input', {{bubbles: true}}));",
            json!(text)
        ))
        .await;
}

redress_engine::backend_tests! {
    async fn an_admin_edits_a_template_and_the_reviewers_composer_offers_it(db) {
        if !webdriver::available("console policy catalog") {
            db.cleanup().await;
            return;
        }
        let example = Config::load(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml")))
            .expect("the example configuration");
        let mut config = config_for(&db);
        config.policies = example.policies;
        config.decision_templates = example.decision_templates;
        let app = TestApp::start_with(config).await;
        let appeal = file_appeal(&app, "acct-catalog", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let reference = appeal["reference"].as_str().expect("reference").to_owned();
        app.ok(
            &app.token("tina", &[Role::Triager]),
            r"mutation($id: ID!, $v: Int!, $tags: [String!]!) { triageAppeal(id: $id, expectedVersion: $v, input: {priority: HIGH, tags: $tags, identityVerified: true}) { version } }",
            json!({"id": id, "v": appeal["version"], "tags": ["language:de"]}),
        )
        .await;
        let rita_token = app.token("rita", &[Role::Reviewer]);
        app.ok(&rita_token, r"mutation { claimNextAppeal { id } }", json!({})).await;
        let admin = app.token("ada", &[Role::Admin]);

        let driver = Driver::launch().await;
        let ada = driver.browser("ada-catalog").await;
        sign_in(&ada, &app, &admin).await;
        ada.click("#admin-menu-button").await;
        ada.click("#nav-policies a").await;
        let row = "#catalog-templates tr[data-template-id='spam-uphold-de']";
        ada.wait(row).await;
        assert!(ada.text(row).await.contains("system:configuration"), "seeded from the file");

        // A policy with a new language left empty is refused at that language's title.
        ada.click("#catalog-policies tr[data-policy-id='spam'] button.edit").await;
        ada.wait_until("the policy form to fill", "return document.getElementById('policy-texts-de-title')?.value === 'Spam und Plattformmanipulation' || null").await;
        ada.type_into("#policy-new-language", "fr").await;
        ada.click("#policy-add-language").await;
        ada.click("#policy-save").await;
        let refused = ada.wait_until("the empty title to be named",
            "return document.querySelector('[data-error-for=\"texts.fr.title\"]').textContent || null").await;
        assert!(refused.as_str().is_some_and(|text| text.contains("texts.fr.title")), "{refused}");
        ada.click("#policy-new").await;

        // A misspelt placeholder is named at the reasons; fixed, the edit is saved.
        ada.click(&format!("{row} button.edit")).await;
        ada.wait_until("the template form to fill", "return document.getElementById('template-reasons').value.startsWith('Wir haben') || null").await;
        replace(&ada, "template-reasons", "Einspruch {refrence}: bleibt.").await;
        ada.click("#template-save").await;
        let refused = ada.wait_until("the misspelt placeholder to be named",
            "return document.querySelector('[data-error-for=reasons]').textContent || null").await;
        assert!(refused.as_str().is_some_and(|text| text.contains("{refrence}")), "{refused}");
        assert_eq!(ada.execute("return document.getElementById('template-reasons').getAttribute('aria-invalid')").await, json!("true"));
        replace(&ada, "template-reasons", NEW_REASONS).await;
        ada.click("#template-save").await;
        ada.wait_until("the saved version", &format!("return document.querySelector(\"{row}\")?.textContent.includes('ada') || null")).await;
        ada.click(&format!("{row} button.history")).await;
        ada.wait("#catalog-versions li[data-version='2']").await;
        let versions = ada.text("#catalog-versions").await;
        assert!(versions.contains("seeded") && versions.contains("updated") && versions.contains("erneut geprüft"), "{versions}");
        let stored = app.ok(&admin, "{ decisionTemplateVersions(id: \"spam-uphold-de\") { version changedBy template { reasons } } }", json!({})).await;
        assert_eq!(stored["decisionTemplateVersions"][1], json!({"version": 2, "changedBy": "ada", "template": {"reasons": NEW_REASONS}}));
        ada.screenshot(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/console-screenshots/policies-{}.png", app.app.state.engine.backend().as_str()))).await;

        // The reviewer's composer fills the new text.
        let rita = driver.browser("rita-catalog").await;
        sign_in(&rita, &app, &rita_token).await;
        assert_eq!(rita.execute("return document.getElementById('nav-policies').hidden").await, json!(true));
        rita.goto(&format!("http://{}/console/#/case/{id}", app.app.http_addr)).await;
        rita.wait(&format!("#screen[data-appeal-id='{id}'] form[data-action=decideAppeal]")).await;
        rita.click("#outcome-uphold").await;
        rita.wait("select[name=template] option[value='spam-uphold-de']").await;
        rita.select("select[name=template]", "spam-uphold-de").await;
        let filled = rita.wait_until("the edited template to fill the reasons",
            "const r = document.querySelector('textarea[name=reasons]').value; return r.startsWith('Einspruch') ? r : null").await;
        assert_eq!(filled, json!(format!("Einspruch {reference}: erneut geprüft, die Maßnahme wegen Spam und Plattformmanipulation bleibt.")));

        for browser in [ada, rita] {
            browser.assert_no_errors_logged("the browser").await;
            browser.quit().await;
        }
        app.stop().await;
        db.cleanup().await;
    }
}
