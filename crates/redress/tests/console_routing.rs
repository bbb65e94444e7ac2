//! The routing rules screen in headless Chromium: an admin writes a rule in the form, tries
//! it on the week's appeals (a dry run), is told which field is wrong, saves it, adds a
//! second, moves and disables rules, and follows a rule to the appeals it triaged on the
//! queue screen; a triager is not offered the screen. Both backends.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use api::{enforcement, file_appeal_about, TestApp};
use console_ui::sign_in;
use redress_core::Role;
use serde_json::{json, Value};
use webdriver::{Browser, Driver};

/// Files an appeal about an enforcement for content `relation`, which routing rules match.
async fn file(app: &TestApp, account: &str, relation: &str) -> Value {
    let mut enforcement = enforcement(account, "nudity");
    enforcement["contentRelation"] = json!(relation);
    file_appeal_about(app, enforcement).await
}

async fn rule_names(browser: &Browser) -> Value {
    browser
        .execute("return [...document.querySelectorAll('table.routing-rules tbody tr[data-rule-id] th')].map((cell) => cell.firstChild.textContent)")
        .await
}

redress_engine::backend_tests! {
    async fn an_admin_writes_tries_and_orders_routing_rules_in_the_console(db) {
        if !webdriver::available("console routing rules") {
            db.cleanup().await;
            return;
        }
        let app = TestApp::start(&db).await;
        let saved = file(&app, "acct-saved", "saved").await;
        file(&app, "acct-created", "created").await;
        let admin = app.token("ada", &[Role::Admin]);

        let driver = Driver::launch().await;
        let browser = driver.browser("ada").await;
        sign_in(&browser, &app, &admin).await;
        browser.click("#admin-menu-button").await;
        browser.click("#nav-routing a").await;
        browser.wait("table.routing-rules[data-loaded]").await;
        assert!(browser.text("table.routing-rules tbody").await.contains("No routing rules"));

        // The rule, written in the form, tried on the week's appeals before it is saved.
        browser.type_into("#rule-name", "saved, not created").await;
        browser.click("input.choice-contentRelations[value=saved]").await;
        browser.select("#rule-priority", "HIGH").await;
        browser.type_into("#rule-tags", "saved-only").await;
        browser.click("#rule-dry-run").await;
        let problem = browser.wait_until("the missing queue to be named",
            "return document.querySelector('[data-error-for=queue]').textContent || null").await;
        assert!(problem.as_str().is_some_and(|text| text.contains("queue")), "{problem}");
        assert_eq!(browser.execute("return document.getElementById('rule-queue').getAttribute('aria-invalid')").await, json!("true"));
        browser.type_into("#rule-queue", "fast-lane").await;
        browser.click("#rule-dry-run").await;
        let summary = browser.wait_until("the dry run",
            "return document.getElementById('dry-run-summary')?.textContent ?? null").await;
        assert!(summary.as_str().is_some_and(|text| text.starts_with("Would have matched 1 of the 2 appeals filed in the last 7 days")), "{summary}");
        assert!(browser.text("ul.dry-run-appeals").await.contains(saved["reference"].as_str().expect("reference")));
        assert!(app.ok(&admin, "{ routingRules { id } }", json!({})).await["routingRules"].as_array().is_some_and(Vec::is_empty),
            "a dry run saves nothing");

        browser.click("#rule-save").await;
        browser.wait("table.routing-rules tr[data-rule-id]").await;
        assert_eq!(rule_names(&browser).await, json!(["saved, not created"]));
        let rules = app.ok(&admin, "{ routingRules { id name action { queue priority tags } } }", json!({})).await;
        assert_eq!(rules["routingRules"][0]["action"], json!({"queue": "fast-lane", "priority": "HIGH", "tags": ["saved-only"]}));
        let saved_rule = rules["routingRules"][0]["id"].as_str().expect("id").to_owned();

        // A second rule that leaves created content for a person; moved up, first it decides.
        browser.type_into("#rule-name", "created: a person looks").await;
        browser.click("input.choice-contentRelations[value=created]").await;
        browser.select("#rule-action", "LEAVE_FOR_PERSON").await;
        browser.click("#rule-save").await;
        browser.wait_until("two rules", "return document.querySelectorAll('table.routing-rules tr[data-rule-id]').length === 2 || null").await;
        browser.click("table.routing-rules tr[data-rule-id]:nth-child(2) button.move-up").await;
        browser.wait_until("the move", "return document.querySelector('table.routing-rules tbody tr th')?.firstChild.textContent === 'created: a person looks' || null").await;
        assert_eq!(rule_names(&browser).await, json!(["created: a person looks", "saved, not created"]));

        // Disabled, the saved rule routes nothing; enabled again, it routes the next appeal.
        let row = format!("table.routing-rules tr[data-rule-id='{saved_rule}']");
        browser.click(&format!("{row} button.toggle")).await;
        browser.wait(&format!("{row}[data-enabled=false]")).await;
        assert_eq!(file(&app, "acct-later", "saved").await["state"], "FILED");
        browser.click(&format!("{row} button.toggle")).await;
        browser.wait(&format!("{row}[data-enabled=true]")).await;
        let routed = file(&app, "acct-routed", "saved").await;
        assert_eq!((routed["state"].as_str(), routed["queue"].as_str()), (Some("TRIAGED"), Some("fast-lane")));
        let versions = app.ok(&admin, "query($id: ID!) { routingRuleVersions(id: $id) { change } }", json!({"id": saved_rule})).await;
        assert_eq!(versions["routingRuleVersions"], json!([{"change": "created"}, {"change": "moved"}, {"change": "disabled"}, {"change": "enabled"}]));

        // The queue screen, filtered by the rule: the appeals it triaged.
        browser.click(&format!("{row} a")).await;
        browser.wait_until("the queue filtered by rule",
            &format!("return document.querySelector('input[name=rule]')?.value === '{saved_rule}' && document.querySelector('table.appeals[data-loaded]') !== null || null")).await;
        browser.wait(&format!("table.appeals tr[data-appeal-id='{}']", routed["id"].as_str().expect("id"))).await;
        assert_eq!(
            browser.execute("return [...document.querySelectorAll('table.appeals tbody tr[data-appeal-id]')].map((row) => row.dataset.appealId)").await,
            json!([routed["id"]])
        );
        browser.screenshot(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/console-screenshots/routing-queue-{}.png", app.app.state.engine.backend().as_str()))).await;

        // A triager is not offered the screen, and is told whose it is when they go there.
        browser.click("#sign-out").await;
        sign_in(&browser, &app, &app.token("tom", &[Role::Triager])).await;
        assert_eq!(browser.execute("return document.getElementById('nav-routing').hidden").await, json!(true));
        browser.goto(&format!("http://{}/console/#/routing", app.app.http_addr)).await;
        browser.wait_until("the refusal", "return document.querySelector('#screen .notice')?.textContent.includes('admins') || null").await;

        browser.quit().await;
        app.stop().await;
        db.cleanup().await;
    }
}
