//! The status page in headless Chromium, on SQLite and PostgreSQL: a case waiting in a queue
//! that decides at a steady pace shows its state, the SLA's date, the forecast range and the
//! enforcement by its policy's title from the catalog.
//! With `REDRESS_SCREENSHOT_DIR` set, the page is also saved there as `status-page.png`
//! (the picture in docs/images comes from this test).

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

use std::path::PathBuf;

use api::{config_for, serve_status_links, TestApp};
use chrono::TimeDelta;
use redress_core::{Actor, Channel, Role};
use redress_engine::repo::registry;
use redress_engine::IncomingAppeal;
use serde_json::json;
use uuid::Uuid;

/// Records a deactivation of `account` and files its appeal by mail; returns the case.
async fn filed(app: &TestApp, account: &str) -> Uuid {
    let engine = &app.app.state.engine;
    let enforced_at = app.clock.now_plus(TimeDelta::days(-1));
    registry::record_enforcement(
        engine.db(),
        registry::NewEnforcement {
            policy: "adult_content".into(),
            ..redress_engine::testing::automated_deactivation(
                account,
                "model",
                "nudity-v7",
                enforced_at,
            )
        },
        enforced_at,
    )
    .await
    .expect("enforcement");
    engine
        .file(
            &Actor::appellant(format!("{account}@example.org")),
            IncomingAppeal {
                channel: Channel::Email,
                channel_message_id: Some(format!("<{account}@mail.example.org>")),
                sender: format!("{account}@example.org"),
                contact: None,
                account_id: Some(account.to_owned()),
                enforcement_id: None,
                identity_verified: true,
                subject: Some("My account".into()),
                body: "I only saved that picture; please restore my account.".into(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("a case")
}

redress_engine::backend_tests! {
    async fn the_page_shows_the_state_the_promised_date_and_the_forecast_range(db) {
        if !webdriver::available("status page forecast") {
            db.cleanup().await;
            return;
        }
        let mut config = config_for(&db);
        config.policies = redress::config::Config::load(Some(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
        ))
        .expect("the example configuration")
        .policies;
        let port = serve_status_links(&mut config);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();

        // A week of decisions in the queue, two a day, then the case that waits.
        let reviewer = Actor::staff("rosa", [Role::Reviewer]);
        let upheld = redress_engine::testing::reviewed_suspension_statement(app.clock.now_plus(TimeDelta::zero()));
        for number in 0..14 {
            let id = filed(&app, &format!("acct-decided-{number:02}")).await;
            redress_engine::testing::triage_claim_and_decide(
                &engine,
                id,
                &reviewer,
                app.clock.now_plus(TimeDelta::minutes(10)),
                number % 3 != 0,
                serde_json::from_value(upheld.clone()).expect("statement"),
            )
            .await;
            app.clock.advance(TimeDelta::hours(12));
        }
        let waiting = filed(&app, "acct-waiting").await;
        let case = engine.appellant_case(waiting).await.expect("case");
        let link = format!(
            "http://127.0.0.1:{port}/status/{}?token={}",
            case.reference,
            case.status_token.expect("a token")
        );

        let driver = webdriver::Driver::launch().await;
        let person = driver.browser("appellant").await;
        person.goto(&link).await;
        person.wait("#decision-estimate").await;
        assert_eq!(person.text("#state").await, "Received, waiting for a reviewer");
        let due = case.decision_due_at.expect("a due date").format("%Y-%m-%d %H:%M UTC").to_string();
        assert_eq!(person.text("#decision-due").await, due);
        let forecast = person.text("#decision-estimate").await;
        assert!(forecast.starts_with("At the pace of recent decisions, a decision is most likely between "), "{forecast}");
        assert!(forecast.ends_with("Cases ahead of yours: 0."), "{forecast}");
        let enforcement = person.text("#enforcement").await;
        assert!(enforcement.contains("Adult content"), "the policy's title from the catalog: {enforcement}");
        if let Some(dir) = std::env::var_os("REDRESS_SCREENSHOT_DIR") {
            person.screenshot(&PathBuf::from(dir).join("status-page.png")).await;
        }

        person.quit().await;
        app.app.stop().await.expect("stop");
        db.cleanup().await;
    }
}
