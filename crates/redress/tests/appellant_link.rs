//! The appellant's side end to end, on SQLite and PostgreSQL: an appeal by mail over SMTP,
//! the acknowledgement read from the mail-out folder, its status link opened in headless
//! Chromium, information added there reaching the reviewer's open console live, and the
//! decision notice arriving with the same link.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod smtp_client;
#[allow(dead_code)]
mod webdriver;

mod appellant_pages;
#[allow(dead_code)]
mod console_ui;

use std::path::Path;

use api::{config_for, enforcement, serve_status_links, TestApp, RECORD};
use appellant_pages::{assert_upheld, assert_waiting, status_link};
use chrono::TimeDelta;
use console_ui::sign_in;
use mail_parser::MessageParser;
use redress_core::{Actor, Command, Outcome, Role};
use redress_engine::delivery::OutboxMessage;
use redress_engine::repo::outbox;
use redress_engine::testing::{reviewed_suspension_statement, triage_and_claim};
use serde_json::json;
use uuid::Uuid;

const SENDER: &str = "maria.lopez@example.org";
const ADDED: &str = "The pin was a photo of my own garden; here is the original link.";

async fn mail_appeal(app: &TestApp) -> String {
    let raw = format!(
        "From: Maria Lopez <{SENDER}>\r\nTo: appeals@redress.test\r\nSubject: Please restore my account\r\nMessage-ID: <status-link@mail.example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI only saved that pin.\r\n"
    );
    let answer = smtp_client::send(
        app.app.smtp_addr.expect("SMTP is on"),
        SENDER,
        raw.as_bytes(),
    )
    .await;
    smtp_client::reference_in(&answer).to_owned()
}

/// Delivers the case's outbox items not yet delivered by this test, through the service's
/// own registry, and returns the text part of each mail written.
async fn deliver_new(
    app: &TestApp,
    appeal_id: Uuid,
    delivered: &mut usize,
    outgoing: &Path,
) -> Vec<String> {
    let registry = redress::deliverers::registry(&app.app.state).expect("registry");
    let rows = outbox::for_appeal(app.app.state.engine.db(), appeal_id)
        .await
        .expect("outbox");
    let before: std::collections::HashSet<_> = mail_files(outgoing).into_iter().collect();
    for row in rows.into_iter().skip(*delivered) {
        *delivered += 1;
        let item = OutboxMessage::from(row);
        registry
            .deliverer_for(&item)
            .expect("a deliverer")
            .deliver(&item)
            .await
            .expect("deliver");
    }
    let mut texts = Vec::new();
    for path in mail_files(outgoing)
        .into_iter()
        .filter(|p| !before.contains(p))
    {
        let raw = std::fs::read(&path).expect("read");
        let mail = MessageParser::default().parse(&raw).expect("parse");
        texts.push(mail.body_text(0).expect("text part").into_owned());
    }
    texts
}

fn mail_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect()
}

redress_engine::backend_tests! {
    async fn an_email_appellant_follows_the_link_adds_information_and_gets_the_decision_with_the_same_link(db) {
        if !webdriver::available("appellant status link") {
            db.cleanup().await;
            return;
        }
        let outgoing = tempfile::tempdir().expect("tempdir");
        let mut config = config_for(&db);
        let port = serve_status_links(&mut config);
        config.email.accepted_domains = vec!["redress.test".to_owned()];
        "Redress Appeals <appeals@redress.test>".clone_into(&mut config.email.from);
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();

        let platform = app.token("platform", &[Role::Integration]);
        let mut maria = enforcement("acct-maria", "spam");
        maria["accountEmail"] = json!(SENDER);
        app.ok(&platform, RECORD, json!({"e": [maria]})).await;
        let reference = mail_appeal(&app).await;
        let appeal = engine.appeal_by_reference(&reference.parse().expect("reference")).await.expect("appeal");
        let mut delivered = 0;

        // The acknowledgement: the enforcement, the decision date, how to add information,
        // and the link.
        let mails = deliver_new(&app, appeal.id, &mut delivered, outgoing.path()).await;
        assert_eq!(mails.len(), 1);
        let ack = &mails[0];
        let link = status_link(ack);
        assert!(link.starts_with(&format!("http://127.0.0.1:{port}/status/{reference}?token=")), "{link}");
        let due = app.clock.now_plus(TimeDelta::hours(48)).format("%Y-%m-%d %H:%M UTC").to_string();
        for expected in ["What was restricted: account suspended", "Under which policy: spam", "Detected automatically: fully", &format!("expect a decision by {due}"), "reply to this message or use the form on your status page"] {
            assert!(ack.contains(expected), "{expected:?} missing from:\n{ack}");
        }

        let driver = webdriver::Driver::launch().await;
        let person = driver.browser("appellant").await;
        assert_waiting(&person, &link, &due, "spam").await;

        // The reviewer has the case open; what the person adds appears there live.
        let reviewer = driver.browser("rita").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        sign_in(&reviewer, &app, &rita).await;
        reviewer.goto(&format!("http://127.0.0.1:{port}/console/#/case/{}", appeal.id)).await;
        reviewer.wait(&format!("#screen[data-appeal-id='{}'] pre.message-body", appeal.id)).await;

        // Too long first: a clear error by the form, the text kept.
        let too_long = "x".repeat(10_001);
        person.execute(&format!("document.getElementById('information').removeAttribute('maxlength'); document.getElementById('information').value = '{too_long}';")).await;
        person.click("form button").await;
        person.wait("#information-error").await;
        assert!(person.text("#information-error").await.contains("longer than 10000 bytes"));
        person.execute("document.getElementById('information').value = '';").await;
        person.type_into("#information", ADDED).await;
        person.click("form button").await;
        person.wait("[role=status]").await;
        reviewer
            .wait_until("the added information in the console", &format!("return [...document.querySelectorAll('pre.message-body')].some((m) => m.textContent === {ADDED:?}) || null"))
            .await;
        let history = person.text("#history").await;
        assert!(history.contains("You sent us information."), "{history}");

        // The decision notice carries the same link.
        let staff = Actor::staff("rita", [Role::Reviewer]);
        triage_and_claim(&engine, appeal.id, &staff, &staff, app.clock.now_plus(TimeDelta::minutes(10))).await;
        engine.apply(appeal.id, None, &Command::Decide { outcome: Outcome::Uphold, reasons: "The pin breaks the spam policy.".into(), statement: Some(serde_json::from_value(reviewed_suspension_statement(app.clock.now_plus(TimeDelta::zero()))).expect("statement")), manifestly_unfounded: false, template: None }, &staff).await.expect("decide");
        let mails = deliver_new(&app, appeal.id, &mut delivered, outgoing.path()).await;
        let decision = mails.iter().find(|m| m.contains("the original decision\nstands") || m.contains("original decision stands")).unwrap_or_else(|| panic!("no decision mail in {mails:?}"));
        assert_eq!(status_link(decision), link, "the same link as in the acknowledgement");
        for expected in ["The pin breaks the spam policy.", "Restriction: account suspended", "out-of-court dispute settlement body", "court"] {
            assert!(decision.contains(expected), "{expected:?} missing from:\n{decision}");
        }
        assert_upheld(&person, &link, "The pin breaks the spam policy.").await;

        person.quit().await;
        reviewer.quit().await;
        app.app.stop().await.expect("stop");
        db.cleanup().await;
    }
}
