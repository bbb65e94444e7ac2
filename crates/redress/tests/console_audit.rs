//! The audit log screen in headless Chromium: an admin sets and clears a legal hold over the
//! API, then finds both in the console, filters by action and pages back; a reviewer is
//! not offered the screen. Both backends.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use api::{file_appeal, TestApp};
use console_ui::sign_in;
use redress_core::Role;
use serde_json::json;
use webdriver::Driver;

const HOLD: &str =
    "mutation($id: ID!, $r: String!) { setLegalHold(appealId: $id, reason: $r) { held } }";
const RELEASE: &str =
    "mutation($id: ID!, $r: String!) { clearLegalHold(appealId: $id, reason: $r) { held } }";

redress_engine::backend_tests! {
    async fn an_admin_reads_and_filters_the_audit_log(db) {
        if !webdriver::available("console audit log") {
            db.cleanup().await;
            return;
        }
        let app = TestApp::start(&db).await;
        let admin = app.token("ada", &[Role::Admin]);
        let appeal = file_appeal(&app, "acct-audit", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        app.ok(&admin, HOLD, json!({"id": id, "r": "court order 7/2026"})).await;
        app.ok(&admin, RELEASE, json!({"id": id, "r": "order lifted"})).await;
        // Enough entries for a second page of 25.
        for n in 0..26 {
            app.ok(&admin, HOLD, json!({"id": id, "r": format!("renewal {n}")})).await;
        }

        let driver = Driver::launch().await;
        let ada = driver.browser("ada-audit").await;
        sign_in(&ada, &app, &admin).await;
        ada.click("#admin-menu-button").await;
        ada.click("#nav-audit a").await;
        ada.wait("#audit-log tr[data-action='legal_hold_set']").await;
        let first_page: i64 = ada.execute("return document.querySelectorAll('#audit-log tbody tr').length").await.as_i64().expect("rows");
        assert_eq!(first_page, 25);
        ada.click("#audit-more").await;
        ada.wait("#audit-log tr[data-action='legal_hold_cleared']").await;
        assert!(ada.text("#audit-log").await.contains("court order 7/2026"), "the oldest entries follow on the next page");

        ada.type_into("#audit-action", "legal_hold_cleared").await;
        ada.type_into("#audit-subject", &id).await;
        ada.click("#audit-filter button[type=submit]").await;
        ada.wait_until("only the release to remain",
            "const rows = document.querySelectorAll('#audit-log tbody tr'); return rows.length === 1 && rows[0].dataset.action === 'legal_hold_cleared' || null").await;
        let row = ada.text("#audit-log tbody tr").await;
        assert!(row.contains("ada (staff)") && row.contains("order lifted") && row.contains(&id), "{row}");
        assert_eq!(ada.execute("return document.getElementById('audit-more').hidden").await, json!(true));
        ada.wait_until("the status line to count one entry",
            "return document.getElementById('live-status').textContent === '1 audit entry.' || null").await;
        ada.screenshot(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../target/console-screenshots/audit-{}.png", app.app.state.engine.backend().as_str()))).await;

        let rita = driver.browser("rita-audit").await;
        sign_in(&rita, &app, &app.token("rita", &[Role::Reviewer])).await;
        assert_eq!(rita.execute("return document.getElementById('nav-audit').hidden").await, json!(true));

        for browser in [ada, rita] {
            browser.assert_no_errors_logged("the browser").await;
            browser.quit().await;
        }
        app.stop().await;
        db.cleanup().await;
    }
}
