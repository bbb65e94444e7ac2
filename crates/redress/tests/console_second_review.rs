//! A blind second review in headless Chromium, on both backends: a reviewer's decision is
//! drawn for a second review; another reviewer takes it on the Second review screen, reads
//! the case without the first outcome or its reasons, records an outcome, is told it
//! differs; a senior reviewer sees the agreement on the transparency screen. Until the
//! outcome is recorded the rest of the console withholds the case from that reviewer: the
//! case screen says why and shows nothing of it, and search finds nothing.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use std::path::Path;

use api::{config_for, triaged_appeal, TestApp};
use console_ui::sign_in;
use redress::config::Config;
use redress_core::Role;
use serde_json::json;
use thirtyfour::Key;
use webdriver::Driver;

const REASONS: &str = "Restored: the pin was saved, never posted.";

fn config(db: &redress_engine::testing::TestDb) -> Config {
    let example = Config::load(Some(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
    ))
    .expect("the example configuration");
    let mut config = config_for(db);
    config.policies = example.policies;
    config.decision_templates = example.decision_templates;
    config.quality.second_review_share = 1.0;
    config
}

redress_engine::backend_tests! {
    async fn a_blind_second_review_in_the_console_and_its_agreement_on_the_transparency_screen(db) {
        if !webdriver::available("console second review") {
            db.cleanup().await;
            return;
        }
        let app = TestApp::start_with(config(&db)).await;
        let (id, version) = triaged_appeal(&app, "acct-blind", "spam", "general").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        let claimed = app.ok(&rita, r"mutation($id: ID!, $v: Int!) { claimAppeal(id: $id, expectedVersion: $v) { version } }", json!({"id": id, "v": version})).await;
        app.ok(
            &rita,
            r"mutation($id: ID!, $v: Int!, $r: String!) { decideAppeal(id: $id, expectedVersion: $v, outcome: RESTORE, reasons: $r, template: ${TEMPLATE}) { version } }"
                .replace("${TEMPLATE}", "\"spam-restore-en\"")
                .as_str(),
            json!({"id": id, "v": claimed["claimAppeal"]["version"], "r": REASONS}),
        )
        .await;

        let driver = Driver::launch().await;
        let sam = driver.browser("sam-second-review").await;
        sign_in(&sam, &app, &app.token("sam", &[Role::Reviewer])).await;
        sam.click("#nav-review a").await;
        sam.wait_until("the open count", "return /^1 open second review\\./.test(document.getElementById('second-reviews-open')?.textContent ?? '') || null").await;
        sam.press("n").await;
        sam.wait("#blind-case-title").await;
        let case = sam.text("#second-review").await;
        assert!(case.contains("I only saved that pin, please restore my account"), "{case}");
        assert!(case.contains("Spam"), "the policy's text: {case}");
        for leak in [REASONS, "rita", "spam-restore-en", "Restored"] {
            assert!(!case.contains(leak), "the blind case shows {leak:?}: {case}");
        }

        // The case screen and search withhold the case from sam while sam reviews it.
        let reference = app.ok(&rita, "query($id: ID!) { appeal(id: $id) { reference } }", json!({"id": id})).await["appeal"]["reference"].as_str().expect("reference").to_owned();
        sam.goto(&format!("http://{}/console/#/case/{id}", app.app.http_addr)).await;
        let withheld = sam.wait_until("the case to be withheld",
            "const notice = document.getElementById('case-notice'); return notice && !notice.hidden && notice.textContent.includes('blind second review') ? document.getElementById('screen').textContent : null").await;
        let withheld = withheld.as_str().expect("text");
        for leak in [REASONS, "rita", "spam-restore-en", "Restored", "restored", "RESTORED", reference.as_str()] {
            assert!(!withheld.contains(leak), "the case screen shows {leak:?}: {withheld}");
        }
        sam.type_into("#search-query", &reference).await;
        sam.press(Key::Enter).await;
        let searched = sam.wait_until("the search to answer", "const r = document.getElementById('search-results'); return r && !r.hidden ? r.textContent : null").await;
        assert!(searched.as_str().expect("text").starts_with("Nothing found"), "{searched}");
        sam.execute("document.getElementById('search-query').value = ''; document.getElementById('search-query').blur(); return null").await;

        // Back on the Second review screen, n hands back the case sam holds.
        sam.click("#nav-review a").await;
        sam.wait("#take-second-review").await;
        sam.press("n").await;
        sam.wait("#blind-case-title").await;
        sam.click("#second-outcome-uphold").await;
        sam.click("form[data-action=recordSecondReview] button[type=submit]").await;
        let verdict = sam.wait_until("the verdict", "return document.querySelector('.second-review-verdict')?.textContent ?? null").await;
        assert_eq!(verdict, json!("Your outcome, uphold, differs from the first decision."));
        assert_eq!(sam.execute("return document.querySelector('[data-agreed]').dataset.agreed").await, json!("false"));

        // Recorded, the case is sam's to read like any other.
        sam.goto(&format!("http://{}/console/#/case/{id}", app.app.http_addr)).await;
        let opened = sam.wait_until("the case with its decision",
            &format!("const screen = document.getElementById('screen'); return screen.textContent.includes({REASONS:?}) ? screen.textContent : null")).await;
        assert!(opened.as_str().expect("text").contains(&reference), "{opened}");
        sam.quit().await;

        let carol = driver.browser("carol-quality").await;
        sign_in(&carol, &app, &app.token("carol", &[Role::SeniorReviewer])).await;
        carol.goto(&format!("http://{}/console/#/transparency", app.app.http_addr)).await;
        carol.execute("document.querySelector('input[name=from]').value = '2026-11-01'; document.querySelector('input[name=to]').value = '2026-12-31'; document.querySelector('form.filters button[type=submit]').click(); return null").await;
        let quality = carol.wait_until("the agreement table",
            "const panel = document.querySelector('section[aria-labelledby=quality-title][data-available=true]'); return panel && panel.textContent.includes('rita') ? panel.textContent : null").await;
        let quality = quality.as_str().expect("text");
        assert!(quality.contains("Agreement by reviewer"), "{quality}");
        assert!(quality.contains("spam-restore-en"), "{quality}");
        assert!(quality.contains("0.0 %"), "rita's one reviewed decision was not agreed with: {quality}");
        carol.quit().await;
        app.stop().await;
        db.cleanup().await;
    }
}
