//! The appellant's side end to end by direct message, on SQLite and PostgreSQL: an appeal
//! sent to the X webhook, the acknowledgement DM read from a local server speaking X's send
//! API, its status link opened in headless Chromium, information added there reaching the
//! reviewer's open console live, and the decision arriving by DM with the same link.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

mod appellant_pages;
#[allow(dead_code)]
mod console_ui;
mod webhooks;

use std::collections::HashSet;

use api::{config_for, serve_status_links, TestApp};
use appellant_pages::{assert_upheld, assert_waiting, status_link};
use chrono::TimeDelta;
use console_ui::sign_in;
use redress::config::Secret;
use redress::social::XConfig;
use redress_core::{Actor, Channel, Command, Outcome, Role};
use redress_engine::delivery::OutboxMessage;
use redress_engine::repo::{handles, outbox, registry};
use redress_engine::testing::{reviewed_suspension_statement, triage_and_claim};
use uuid::Uuid;
use webhooks::{send_api, x_dm, x_signature, Outbox, X_SECRET};

const SENDER: &str = "3001969357";
const ADDED: &str = "The picture was a photo of my own garden; I only saved it.";

/// Delivers the case's outbox items not delivered yet through the service's own registry,
/// and returns the texts the X server received meanwhile.
async fn deliver_new(
    app: &TestApp,
    appeal_id: Uuid,
    delivered: &mut HashSet<Uuid>,
    sent: &Outbox,
) -> Vec<String> {
    let registry = redress::deliverers::registry(&app.app.state).expect("registry");
    let before = sent.lock().expect("lock").len();
    for row in outbox::for_appeal(app.app.state.engine.db(), appeal_id)
        .await
        .expect("outbox")
    {
        if !delivered.insert(row.id) {
            continue;
        }
        let item = OutboxMessage::from(row);
        registry
            .deliverer_for(&item)
            .expect("a deliverer")
            .deliver(&item)
            .await
            .expect("deliver");
    }
    let sent = sent.lock().expect("lock");
    sent[before..]
        .iter()
        .inspect(|dm| {
            assert_eq!(
                dm.path,
                format!("/2/dm_conversations/with/{SENDER}/messages")
            );
        })
        .map(|dm| dm.body["text"].as_str().expect("text").to_owned())
        .collect()
}

redress_engine::backend_tests! {
    async fn a_dm_appellant_follows_the_link_adds_information_and_gets_the_decision_by_dm_with_the_same_link(db) {
        if !webdriver::available("appellant status link by DM") {
            db.cleanup().await;
            return;
        }
        let (send_base, sent) = send_api().await;
        let mut config = config_for(&db);
        let port = serve_status_links(&mut config);
        config.social.x = Some(XConfig {
            consumer_secret: Secret::new(X_SECRET),
            bearer_token: Secret::new("x-user-token"),
            api_base_url: send_base,
        });
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();

        // The platform recorded the deactivation; the sender's handle is linked to the account.
        let enforced_at = app.clock.now_plus(TimeDelta::days(-2));
        registry::record_enforcement(
            engine.db(),
            registry::NewEnforcement {
                policy: "adult_content".into(),
                ..redress_engine::testing::automated_deactivation("acct-ana", "model", "nudity-v7", enforced_at)
            },
            enforced_at,
        )
        .await
        .expect("enforcement");
        handles::link(engine.db(), Channel::X, SENDER, "acct-ana", enforced_at).await.expect("link");

        // The appeal, as X delivers it to the webhook.
        let payload = serde_json::to_vec(&x_dm("ev-1", SENDER, "My account was switched off for a picture I only saved. Please look again.", app.clock.now_plus(TimeDelta::zero()))).expect("json");
        let answer = app.http.post(format!("http://127.0.0.1:{port}/webhooks/x"))
            .header("content-type", "application/json")
            .header("x-twitter-webhooks-signature", x_signature(X_SECRET, &payload))
            .body(payload)
            .send().await.expect("webhook");
        assert_eq!(answer.status(), 200);
        let summary: serde_json::Value = answer.json().await.expect("summary");
        assert_eq!(summary["filed"], 1, "{summary}");
        let message = redress_engine::repo::messages::find_by_channel_id(engine.db(), Channel::X, "ev-1").await.expect("query").expect("stored");
        let appeal = engine.appeal(message.appeal_id.expect("a case")).await.expect("appeal");
        let reference = appeal.reference.to_string();
        let mut delivered = HashSet::new();

        // The acknowledgement DM: the reference, the enforcement, the decision date, the link.
        let dms = deliver_new(&app, appeal.id, &mut delivered, &sent).await;
        assert_eq!(dms.len(), 1, "{dms:?}");
        let ack = &dms[0];
        let due = app.clock.now_plus(TimeDelta::hours(48)).format("%Y-%m-%d %H:%M UTC").to_string();
        for expected in [reference.as_str(), "under the policy \"adult_content\"", &format!("Expect a decision by {due}.")] {
            assert!(ack.contains(expected), "{expected:?} missing from:\n{ack}");
        }
        let link = status_link(ack);
        assert!(link.starts_with(&format!("http://127.0.0.1:{port}/status/{reference}?token=")), "{link}");

        // The link opened in the browser: the state, the expected date and the enforcement.
        let driver = webdriver::Driver::launch().await;
        let person = driver.browser("ana").await;
        assert_waiting(&person, &link, &due, "adult_content").await;

        // The reviewer has the case open; what the person adds appears there live.
        let reviewer = driver.browser("rita").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        sign_in(&reviewer, &app, &rita).await;
        reviewer.goto(&format!("http://127.0.0.1:{port}/console/#/case/{}", appeal.id)).await;
        reviewer.wait(&format!("#screen[data-appeal-id='{}'] pre.message-body", appeal.id)).await;
        person.type_into("#information", ADDED).await;
        person.click("form button").await;
        person.wait("[role=status]").await;
        reviewer
            .wait_until("the added information in the console", &format!("return [...document.querySelectorAll('pre.message-body')].some((m) => m.textContent === {ADDED:?}) || null"))
            .await;
        assert!(person.text("#history").await.contains("You sent us information."));

        // The decision arrives by DM with the same link, and the page shows it.
        let staff = Actor::staff("rita", [Role::Reviewer]);
        triage_and_claim(&engine, appeal.id, &staff, &staff, app.clock.now_plus(TimeDelta::minutes(10))).await;
        let statement = reviewed_suspension_statement(app.clock.now_plus(TimeDelta::zero()));
        engine.apply(appeal.id, None, &Command::Decide { outcome: Outcome::Uphold, reasons: "The picture breaks the adult content policy.".into(), statement: Some(serde_json::from_value(statement).expect("statement")), template: None, manifestly_unfounded: false }, &staff).await.expect("decide");
        let dms = deliver_new(&app, appeal.id, &mut delivered, &sent).await;
        let decision = dms.iter().find(|text| text.contains("the decision stands")).unwrap_or_else(|| panic!("no decision DM in {dms:?}"));
        assert_eq!(status_link(decision), link, "the same link as in the acknowledgement");
        assert!(decision.contains("Reasons: The picture breaks the adult content policy."), "{decision}");
        assert!(decision.contains("out-of-court dispute settlement body"), "{decision}");
        assert_upheld(&person, &link, "The picture breaks the adult content policy.").await;

        person.quit().await;
        reviewer.quit().await;
        app.app.stop().await.expect("stop");
        db.cleanup().await;
    }
}
