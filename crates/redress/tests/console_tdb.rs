//! The statements the EU Transparency Database refused, on the console's transparency
//! screen in headless Chromium, on both backends: a senior reviewer sees why and may not
//! resubmit, and sees a pending statement the database answers server errors to with its
//! counts; an administrator shortens the facts and resubmits, and the next round sends it.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod tdb;
#[allow(dead_code)]
mod tdb_statements;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

mod accepting_tdb;

use accepting_tdb::Accepting;
use api::{config_for, TestApp};
use console_ui::sign_in;
use redress::transparency::tdb_client::HttpTdbApi;
use redress_core::Role;
use redress_engine::transparency::tdb_submission::{SubmitSettings, TdbState, SPLIT_AFTER};
use webdriver::Driver;

const PANEL: &str = "const panel = document.querySelector('section[aria-labelledby=tdb-title][data-available=true]'); \
    return panel && panel.querySelector('.tdb-refusal') ? panel.textContent : null";
const SERVER_FAILING: &str = "const panel = document.querySelector('section[aria-labelledby=tdb-failing-title][data-available=true]'); \
    return panel && panel.querySelector('.tdb-server-failing') ? panel.textContent : null";
const STATUS: &str = "const s = document.querySelector('.tdb-status'); return s && s.textContent ? s.textContent : null";

redress_engine::backend_tests! {
    async fn refused_statements_are_corrected_and_resubmitted_from_the_transparency_screen(db) {
        if !webdriver::available("console Transparency Database refusals") {
            db.cleanup().await;
            return;
        }
        let app = TestApp::start_with(config_for(&db)).await;
        let engine = app.app.state.engine.clone();
        let refused = tdb_statements::record_with_overlong_facts(&engine, "pin-console-1", "acct-c1").await;
        let settings = SubmitSettings::default();
        assert_eq!(engine.tdb_submit_round(&Accepting, &settings).await.expect("round").refused, 1);
        // Another statement the database has answered server errors to, once alone.
        let database = tdb::start().await;
        let flaky = tdb_statements::record(&engine, "pin-console-flaky", "acct-c2").await;
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        tdb::isolate_by_a_flaky_database(&engine, &app.clock, &database, &api, &config, flaky, 1).await;

        let driver = Driver::launch().await;
        let lena = driver.browser("lena-tdb").await;
        sign_in(&lena, &app, &app.token("lena", &[Role::SeniorReviewer])).await;
        lena.goto(&format!("http://{}/console/#/transparency", app.app.http_addr)).await;
        let shown = lena.wait_until("the refusal", PANEL).await;
        let shown = shown.as_str().expect("text");
        assert!(shown.contains("pin-console-1"), "{shown}");
        assert!(shown.contains("decision_facts"), "{shown}");
        assert!(shown.contains("redress"), "who refused it: {shown}");
        assert!(!shown.contains("pin-console-flaky"), "pending, not refused: {shown}");
        let failing = lena.wait_until("the statement drawing server errors", SERVER_FAILING).await;
        let failing = failing.as_str().expect("text");
        assert!(failing.contains("pin-console-flaky"), "{failing}");
        let counts = format!("{} server errors in a row, 1 of them sent alone", SPLIT_AFTER + 1);
        assert!(failing.contains(&counts), "{failing}");
        assert!(failing.contains("HTTP 503"), "the last error: {failing}");
        assert!(!failing.contains("pin-console-1"), "{failing}");
        lena.execute("document.querySelector('.tdb-server-failing').scrollIntoView()").await;
        lena.screenshot(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/console-screenshots/tdb-server-errors-{:?}.png", sea_orm::ConnectionTrait::get_database_backend(&db.db)).to_lowercase())).await;
        lena.click("form.tdb-resubmit button[type=submit]").await;
        let denied = lena.wait_until("the refusal of the resubmission", STATUS).await;
        assert!(denied.as_str().is_some_and(|s| s.contains("Your roles do not allow this")), "{denied}");
        lena.quit().await;

        let ada = driver.browser("ada-tdb").await;
        sign_in(&ada, &app, &app.token("ada", &[Role::Admin])).await;
        ada.goto(&format!("http://{}/console/#/transparency", app.app.http_addr)).await;
        ada.wait_until("the refusal", PANEL).await;
        ada.execute(&format!(
            "const t = document.getElementById('tdb-facts-{refused}'); t.value = 'Forty commercial pins in an hour.'; return null"
        ))
        .await;
        ada.click("form.tdb-resubmit button[type=submit]").await;
        let queued = ada.wait_until("the resubmission", STATUS).await;
        assert!(queued.as_str().is_some_and(|s| s.contains("Queued again (pending)")), "{queued}");
        ada.quit().await;

        let row = engine.tdb_submission(refused).await.expect("read").expect("row");
        assert_eq!(row.state, TdbState::Pending);
        assert!(row.corrected);
        // The flaky one is not due yet (its backoff), so the round sends the resubmitted one.
        assert_eq!(engine.tdb_submit_round(&Accepting, &settings).await.expect("round").submitted, 1);
        let row = engine.tdb_submission(refused).await.expect("read").expect("row");
        assert_eq!(row.state, TdbState::Submitted);
        assert_eq!(row.statement.map(|s| s.decision_facts).as_deref(), Some("Forty commercial pins in an hour."));
        app.stop().await;
        db.cleanup().await;
    }
}
