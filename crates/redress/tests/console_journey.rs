//! The journey every appeal takes, end to end on SQLite and PostgreSQL, through the real
//! service (SMTP intake, routing rules, workers, the embedded account registry, mail out
//! into a folder) and the console in headless Chromium. A mail a routing rule matches is
//! triaged at filing; a reviewer finds it from the header search, claims it on its case
//! screen, restores it in the decision composer, and the restoration notice lands in the
//! mail-out folder. A mail no rule matches waits in `filed` until a triager, who finds it
//! the same way, triages it by hand; then it can be claimed.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod smtp_client;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use std::path::Path;

use api::{config_for, enforcement, TestApp, RECORD};
use console_ui::{case_summary, sign_in};
use mail_parser::MessageParser;
use redress_core::{ContentRelation, Priority, Role};
use redress_routing::{Action, Conditions, RuleDefinition};
use serde_json::{json, Value};
use thirtyfour::Key;
use webdriver::{Browser, Driver};

/// The receiving server whose Authentication-Results the service believes.
const TRUSTED_MX: &str = "mx.redress.test";
/// Saved a pin the model flagged: the rule's case.
const SAVED_SENDER: &str = "maria.lopez@example.org";
/// Created the pin: no rule matches, a person triages.
const CREATED_SENDER: &str = "jonas.berg@example.net";
const RULE: &str = "saved, not created";
const FAST_QUEUE: &str = "fast-lane";
const REASONS: &str = "The account only saved the pin; the model's flag does not hold for it.";

/// One browser flow at a time: the machine is small.
static BROWSERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn routing_rule() -> RuleDefinition {
    RuleDefinition {
        name: RULE.to_owned(),
        enabled: true,
        when: Conditions {
            source_ids: vec!["classifier-v7".to_owned()],
            content_relations: vec![ContentRelation::Saved],
            ..Conditions::default()
        },
        then: Action::Triage {
            queue: FAST_QUEUE.to_owned(),
            priority: Priority::High,
            tags: vec!["saved-not-created".to_owned()],
            four_eyes: false,
        },
    }
}

/// Records the enforcement against `account` (registered to `address`) for content it
/// `relation`.
async fn record(app: &TestApp, account: &str, address: &str, relation: &str) {
    let platform = app.token("platform", &[Role::Integration]);
    let mut item = enforcement(account, "nudity");
    item["accountEmail"] = json!(address);
    item["contentRelation"] = json!(relation);
    app.ok(&platform, RECORD, json!({"e": [item]})).await;
}

/// Mails an appeal from `sender` over SMTP, stamped by the trusted receiving server as
/// passing DMARC; returns the reference from the `250 accepted as appeal RDR-...` answer.
async fn mail_appeal(app: &TestApp, sender: &str, message_id: &str) -> String {
    let domain = sender.rsplit_once('@').map_or("", |(_, d)| d);
    let raw = format!(
        "Authentication-Results: {TRUSTED_MX}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}\r\nFrom: {sender}\r\nTo: appeals@redress.test\r\nSubject: Please restore my account\r\nMessage-ID: <{message_id}@mail.{domain}>\r\nContent-Language: en\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy account was deactivated for a pin. Please look again.\r\n"
    );
    let answer = smtp_client::send(
        app.app.smtp_addr.expect("SMTP is on"),
        sender,
        raw.as_bytes(),
    )
    .await;
    assert!(answer.contains("accepted as appeal RDR-"), "{answer}");
    smtp_client::reference_in(&answer).to_owned()
}

async fn appeal_by_reference(app: &TestApp, token: &str, reference: &str, fields: &str) -> Value {
    let found = app
        .ok(
            token,
            "query($q: String!) { search(query: $q, first: 5) { hits { appeal { id } } } }",
            json!({"q": reference}),
        )
        .await;
    let id = found["search"]["hits"][0]["appeal"]["id"].clone();
    assert!(id.is_string(), "no case for {reference}: {found}");
    let data = app
        .ok(
            token,
            &format!("query($id: ID!) {{ appeal(id: $id) {{ id {fields} }} }}"),
            json!({"id": id}),
        )
        .await;
    data["appeal"].clone()
}

/// Searches from the header and opens the one hit, as someone who knows only the address.
async fn find_by_address(browser: &Browser, address: &str, appeal_id: &str) -> String {
    browser
        .execute("document.getElementById('search-query').value = ''")
        .await;
    browser.type_into("#search-query", address).await;
    browser.press(Key::Enter).await;
    let hit = format!("#search-results li.search-hit[data-appeal-id='{appeal_id}']");
    let found = browser.text(&hit).await;
    browser.click(&format!("{hit} a")).await;
    browser
        .wait(&format!("#screen[data-appeal-id='{appeal_id}']"))
        .await;
    found
}

/// The mails in the mail-out folder whose subject names `reference` and says `about`.
fn mails_about(folder: &Path, reference: &str, about: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).expect("mail-out folder") {
        let raw = std::fs::read(entry.expect("entry").path()).expect("read mail");
        let Some(mail) = MessageParser::default().parse(&raw) else {
            continue;
        };
        let subject = mail.subject().unwrap_or_default();
        if subject.contains(reference) && subject.contains(about) {
            found.push(mail.body_text(0).unwrap_or_default().into_owned());
        }
    }
    found
}

redress_engine::backend_tests! {
    async fn a_mailed_appeal_is_routed_found_claimed_restored_and_another_is_triaged_by_hand(db) {
        if !webdriver::available("console journey") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let outgoing = tempfile::tempdir().expect("mail-out folder");
        let mut config = config_for(&db);
        // Delivery, restoration and notices run as in production.
        config.workers.enabled = true;
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        config.email.accepted_domains = vec!["redress.test".to_owned()];
        "Redress Appeals <appeals@redress.test>".clone_into(&mut config.email.from);
        config.email.trusted_authserv_ids = vec![TRUSTED_MX.to_owned()];
        config.routing.rules = vec![routing_rule()];
        let app = TestApp::start_on_browser_clock(config).await;
        let rita_token = app.token("rita", &[Role::Reviewer]);
        let tina_token = app.token("tina", &[Role::Triager]);
        let admin = app.token("ada", &[Role::Admin]);
        let rule_id = app.ok(&admin, "{ routingRules { id name } }", json!({})).await["routingRules"][0]["id"]
            .as_str()
            .expect("the configured rule was seeded")
            .to_owned();

        // Two mails over SMTP: the rule triages the first as it is filed; the second waits.
        record(&app, "acct-maria", SAVED_SENDER, "saved").await;
        record(&app, "acct-jonas", CREATED_SENDER, "created").await;
        let routed_reference = mail_appeal(&app, SAVED_SENDER, "saved-1").await;
        let waiting_reference = mail_appeal(&app, CREATED_SENDER, "created-1").await;
        let fields = "state queue priority tags assignee identityVerified triagedByRule { id version name } events { kind actorId payload }";
        let routed = appeal_by_reference(&app, &rita_token, &routed_reference, fields).await;
        assert_eq!(
            (&routed["state"], &routed["queue"], &routed["priority"], &routed["tags"], &routed["identityVerified"]),
            (&json!("TRIAGED"), &json!(FAST_QUEUE), &json!("HIGH"), &json!(["saved-not-created", "language:en"]), &json!(true)),
            "{routed}"
        );
        assert_eq!(routed["triagedByRule"], json!({"id": rule_id, "version": 1, "name": RULE}));
        let triaged_event = routed["events"].as_array().expect("events").iter()
            .find(|event| event["kind"] == "triaged").cloned().expect("a triaged event");
        assert_eq!(triaged_event["actorId"], json!("routing"), "{triaged_event}");
        assert_eq!(triaged_event["payload"]["rule"], json!({"id": rule_id, "version": 1}), "{triaged_event}");
        let waiting = appeal_by_reference(&app, &tina_token, &waiting_reference, fields).await;
        assert_eq!((&waiting["state"], &waiting["triagedByRule"]), (&json!("FILED"), &Value::Null), "{waiting}");
        let routed_id = routed["id"].as_str().expect("id").to_owned();
        let waiting_id = waiting["id"].as_str().expect("id").to_owned();

        let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
        let backend = app.app.state.engine.backend().as_str();
        let driver = Driver::launch().await;
        let browser = driver.browser("journey").await;

        // The reviewer knows the appellant's address; the search finds the routed case.
        sign_in(&browser, &app, &rita_token).await;
        browser.wait("#screen h1").await;
        let found = find_by_address(&browser, SAVED_SENDER, &routed_id).await;
        assert!(found.contains(&routed_reference) && found.contains("triaged"), "{found}");
        assert_eq!(browser.text("#screen h1").await, format!("Case {routed_reference}"));
        let summary = case_summary(&browser).await;
        assert!(summary.contains(&format!("Triaged by{RULE} (routing rule, version 1)")), "{summary}");
        assert!(summary.contains(&format!("Queue{FAST_QUEUE}")) && summary.contains("Assigneeunclaimed"), "{summary}");
        assert_eq!(
            browser.execute("return document.querySelector('.triaged-by-rule a').getAttribute('href')").await,
            json!(format!("#/queue/rule={rule_id}"))
        );

        // Claimed on its own screen: nobody handed it out, the reviewer took it.
        assert_eq!(browser.execute("return document.querySelector('form[data-action=decideAppeal]') === null").await, json!(true));
        browser.click("#claim-this").await;
        browser.wait(&format!("#screen[data-appeal-id='{routed_id}'] form[data-action=decideAppeal]")).await;
        let summary = case_summary(&browser).await;
        assert!(summary.contains("Assigneerita"), "{summary}");
        assert_eq!(browser.execute("return document.getElementById('claim-this')").await, Value::Null);

        // Restored in the composer: the outcome is a choice, the reasons are text, no JSON.
        assert_eq!(browser.execute("return document.getElementById('outcome-restore').checked").await, json!(true));
        assert_eq!(browser.execute("return document.querySelector('textarea[name=statement]').hidden").await, json!(true));
        browser.type_into("form[data-action=decideAppeal] textarea[name=reasons]", REASONS).await;
        browser.click("form[data-action=decideAppeal] button[type=submit]").await;
        // The registry confirms the restoration through the outbox; the screen follows live.
        browser.wait_until(
            "the restoration to reach the open case",
            "return document.getElementById('screen').dataset.state === 'RESTORED' || null",
        ).await;
        assert!(browser.text(".decision").await.contains(REASONS));
        browser.screenshot(&shots.join(format!("journey-restored-{backend}.png"))).await;
        let account = app.ok(&rita_token, r#"{ account(id: "acct-maria") { status } }"#, json!({})).await;
        assert_eq!(account["account"]["status"], json!("active"), "{account}");

        // The restoration notice is in the mail-out folder, naming the case.
        let notice = webdriver::wait_for("the restoration notice in the mail-out folder", || async {
            mails_about(outgoing.path(), &routed_reference, "restored").pop()
        })
        .await;
        assert!(notice.contains(&format!("your appeal {routed_reference} was successful")), "{notice}");
        assert!(notice.contains(REASONS), "{notice}");

        // The second mail: a triager finds it, follows the case to the triage screen and
        // triages it by hand.
        browser.click("#sign-out").await;
        sign_in(&browser, &app, &tina_token).await;
        browser.wait("#screen h1").await;
        let found = find_by_address(&browser, CREATED_SENDER, &waiting_id).await;
        assert!(found.contains(&waiting_reference) && found.contains("filed"), "{found}");
        let summary = case_summary(&browser).await;
        assert!(summary.contains("Triaged bywaiting for triage"), "{summary}");
        browser.execute("document.getElementById('triage-this').scrollIntoView({block: 'center'})").await;
        browser.screenshot(&shots.join(format!("journey-filed-{backend}.png"))).await;
        browser.click("#triage-this").await;
        browser.wait(&format!("#screen[data-appeal-id='{waiting_id}'] form.triage-form")).await;
        assert!(browser.text("section.enforcement").await.contains("created"));
        browser.select("#triage-priority", "HIGH").await;
        assert_eq!(browser.execute("return document.getElementById('triage-tags').value").await, json!("language:en"));
        browser.type_into("#triage-tags", ", created-content").await;
        browser.click("form.triage-form button[type=submit]").await;
        browser.wait("table.filed[data-loaded] td.empty").await;
        assert_eq!(
            browser.text("#triage-outcome").await,
            format!("{waiting_reference} triaged: high priority in general, tagged language:en, created-content.")
        );

        // Triaged by a person, in no one's hands: the next reviewer to claim gets it.
        let triaged = appeal_by_reference(&app, &tina_token, &waiting_reference, fields).await;
        assert_eq!(
            (&triaged["state"], &triaged["queue"], &triaged["priority"], &triaged["tags"], &triaged["assignee"], &triaged["triagedByRule"]),
            (&json!("TRIAGED"), &json!("general"), &json!("HIGH"), &json!(["language:en", "created-content"]), &Value::Null, &Value::Null),
            "{triaged}"
        );
        let summary = app.ok(&rita_token, "{ queueSummary { queue claimable } }", json!({})).await;
        assert!(summary["queueSummary"].as_array().expect("queues").contains(&json!({"queue": "general", "claimable": 1})), "{summary}");
        let claimed = webdriver::wait_for("a claim to hand out the hand-triaged case", || async {
            let data = app.ok(&rita_token, r#"mutation { claimNextAppeal(queue: "general") { id } }"#, json!({})).await;
            data["claimNextAppeal"]["id"].as_str().map(str::to_owned)
        })
        .await;
        assert_eq!(claimed, waiting_id);

        browser.assert_no_errors_logged("the browser").await;
        browser.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }
}
