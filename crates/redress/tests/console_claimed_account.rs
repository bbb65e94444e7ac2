//! A mail nobody vouched for, end to end on SQLite and PostgreSQL through the real service
//! (SMTP intake, workers, the embedded account registry) and the console in headless
//! Chromium: the case shows the account the sender claims as not verified; the triager who
//! marks the identity verified links the appeal to it, as the form says it will; the
//! reviewer restores it and the account is restored.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod console_ui;
#[allow(dead_code)]
mod smtp_client;
#[allow(dead_code)]
mod webdriver;

use api::{config_for, enforcement, TestApp, RECORD};
use console_ui::{case_summary, sign_in};
use redress_core::Role;
use serde_json::{json, Value};
use webdriver::Browser;

const ACCOUNT: &str = "acct-001928";
const SENDER: &str = "lena.fischer@example.org";
const REASONS: &str = "The account only saved the pin; the model's flag does not hold for it.";

/// One browser flow at a time: the machine is small.
static BROWSERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Mails an appeal from `SENDER` with no Authentication-Results a trusted server wrote:
/// nobody vouches for the sender. Returns the reference from the SMTP answer.
async fn unverified_mail(app: &TestApp) -> String {
    let raw = format!(
        "From: {SENDER}\r\nTo: appeals@redress.test\r\nSubject: Please restore my account\r\nMessage-ID: <claimed-1@mail.example.org>\r\nContent-Language: en\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy account {ACCOUNT} was deactivated for a pin I only saved.\r\n"
    );
    let answer = smtp_client::send(
        app.app.smtp_addr.expect("SMTP is on"),
        SENDER,
        raw.as_bytes(),
    )
    .await;
    assert!(answer.contains("accepted as appeal RDR-"), "{answer}");
    smtp_client::reference_in(&answer).to_owned()
}

async fn appeal_by_reference(app: &TestApp, token: &str, reference: &str) -> Value {
    let found = app
        .ok(
            token,
            "query($q: String!) { search(query: $q, first: 5) { hits { appeal { id state accountId identityVerified } } } }",
            json!({"q": reference}),
        )
        .await;
    let appeal = found["search"]["hits"][0]["appeal"].clone();
    assert!(appeal["id"].is_string(), "no case for {reference}: {found}");
    appeal
}

async fn open(browser: &Browser, route: &str, appeal_id: &str) {
    browser
        .execute(&format!("location.hash = '#/{route}/{appeal_id}'"))
        .await;
    browser
        .wait(&format!("#screen[data-appeal-id='{appeal_id}']"))
        .await;
}

redress_engine::backend_tests! {
    async fn a_triager_links_the_claimed_account_and_a_reviewer_restores_it(db) {
        if !webdriver::available("console claimed account") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let outgoing = tempfile::tempdir().expect("mail-out folder");
        let mut config = config_for(&db);
        // Delivery and restoration run as in production.
        config.workers.enabled = true;
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        config.email.accepted_domains = vec!["redress.test".to_owned()];
        "Redress Appeals <appeals@redress.test>".clone_into(&mut config.email.from);
        config.email.trusted_authserv_ids = vec!["mx.redress.test".to_owned()];
        let app = TestApp::start_on_browser_clock(config).await;
        let tina_token = app.token("tina", &[Role::Triager]);
        let rita_token = app.token("rita", &[Role::Reviewer]);
        let platform = app.token("platform", &[Role::Integration]);
        let mut item = enforcement(ACCOUNT, "nudity");
        item["accountEmail"] = json!(SENDER);
        app.ok(&platform, RECORD, json!({"e": [item]})).await;

        let reference = unverified_mail(&app).await;
        let filed = appeal_by_reference(&app, &tina_token, &reference).await;
        assert_eq!(
            (&filed["state"], &filed["accountId"], &filed["identityVerified"]),
            (&json!("FILED"), &Value::Null, &json!(false)),
            "{filed}"
        );
        let id = filed["id"].as_str().expect("id").to_owned();

        let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots");
        let backend = app.app.state.engine.backend().as_str();
        let driver = webdriver::Driver::launch().await;
        let browser = driver.browser("claimed-account").await;

        // The case names whom the sender claims to be, and that nobody verified it.
        sign_in(&browser, &app, &tina_token).await;
        open(&browser, "case", &id).await;
        let summary = case_summary(&browser).await;
        assert!(summary.contains(&format!("Account{ACCOUNT} (claimed, not verified)")), "{summary}");

        // The triage form says what ticking the identity does.
        open(&browser, "triage", &id).await;
        browser.wait("form.triage-form").await;
        assert_eq!(
            browser.text("label[for=triage-verified]").await,
            format!("Identity verified — links this appeal to account {ACCOUNT}")
        );
        assert_eq!(browser.execute("return document.getElementById('triage-verified').checked").await, json!(false));
        browser.click("#triage-verified").await;
        browser.screenshot(&shots.join(format!("claimed-account-triage-{backend}.png"))).await;
        browser.click("form.triage-form button[type=submit]").await;
        browser.wait("table.filed[data-loaded] td.empty").await;
        let outcome = browser.text("#triage-outcome").await;
        assert!(outcome.starts_with(&format!("{reference} triaged: ")), "{outcome}");
        assert!(outcome.ends_with(&format!(", linked to account {ACCOUNT}.")), "{outcome}");
        let triaged = appeal_by_reference(&app, &tina_token, &reference).await;
        assert_eq!(
            (&triaged["state"], &triaged["accountId"], &triaged["identityVerified"]),
            (&json!("TRIAGED"), &json!(ACCOUNT), &json!(true)),
            "{triaged}"
        );

        // The reviewer claims it, restores it, and the restoration is carried out.
        browser.click("#sign-out").await;
        sign_in(&browser, &app, &rita_token).await;
        open(&browser, "case", &id).await;
        let summary = case_summary(&browser).await;
        assert!(summary.contains(&format!("Account{ACCOUNT}Tags")), "linked, not only claimed: {summary}");
        browser.click("#claim-this").await;
        browser.wait(&format!("#screen[data-appeal-id='{id}'] form[data-action=decideAppeal]")).await;
        assert_eq!(browser.execute("return document.getElementById('restore-unlinked')").await, Value::Null);
        assert_eq!(browser.execute("return document.getElementById('outcome-restore').checked").await, json!(true));
        browser.type_into("form[data-action=decideAppeal] textarea[name=reasons]", REASONS).await;
        browser.click("form[data-action=decideAppeal] button[type=submit]").await;
        browser.wait_until(
            "the restoration to reach the open case",
            "return document.getElementById('screen').dataset.state === 'RESTORED' || null",
        ).await;
        browser.screenshot(&shots.join(format!("claimed-account-restored-{backend}.png"))).await;
        let account = app.ok(&rita_token, &format!(r#"{{ account(id: "{ACCOUNT}") {{ status }} }}"#), json!({})).await;
        assert_eq!(account["account"]["status"], json!("active"), "{account}");

        let problems: Vec<String> = browser
            .log()
            .await
            .into_iter()
            .filter(|line| line.contains("SEVERE") || line.contains("Content Security Policy"))
            .collect();
        assert!(problems.is_empty(), "the browser logged: {problems:?}");
        browser.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }

    async fn a_restore_of_an_unlinked_appeal_is_refused_with_what_to_do(db) {
        if !webdriver::available("console claimed account") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let mut config = config_for(&db);
        config.email.accepted_domains = vec!["redress.test".to_owned()];
        config.email.trusted_authserv_ids = vec!["mx.redress.test".to_owned()];
        let app = TestApp::start_on_browser_clock(config).await;
        let tina_token = app.token("tina", &[Role::Triager]);
        let rita_token = app.token("rita", &[Role::Reviewer]);
        let platform = app.token("platform", &[Role::Integration]);
        let mut item = enforcement(ACCOUNT, "nudity");
        item["accountEmail"] = json!(SENDER);
        app.ok(&platform, RECORD, json!({"e": [item]})).await;
        let reference = unverified_mail(&app).await;
        let id = appeal_by_reference(&app, &tina_token, &reference).await["id"].as_str().expect("id").to_owned();
        // Triaged without verifying the identity: the appeal stays linked to no account.
        app.ok(&tina_token, "mutation($id: ID!) { triageAppeal(id: $id, expectedVersion: 1, input: {priority: NORMAL, identityVerified: false}) { version } }", json!({"id": id})).await;

        let driver = webdriver::Driver::launch().await;
        let browser = driver.browser("unlinked-restore").await;
        sign_in(&browser, &app, &rita_token).await;
        open(&browser, "case", &id).await;
        browser.click("#claim-this").await;
        browser.wait(&format!("#screen[data-appeal-id='{id}'] form[data-action=decideAppeal]")).await;
        assert!(browser.text("#restore-unlinked").await.contains("linked to no account"));
        browser.type_into("form[data-action=decideAppeal] textarea[name=reasons]", REASONS).await;
        browser.click("form[data-action=decideAppeal] button[type=submit]").await;
        browser.wait_until(
            "the refusal on the case screen",
            "return document.getElementById('case-notice').hidden === false || null",
        ).await;
        let notice = browser.text("#case-notice").await;
        assert!(
            notice.contains("this appeal is linked to no account: verify the appellant's identity at triage to link the account they claim, or decide otherwise"),
            "{notice}"
        );
        assert_eq!(browser.execute("return document.getElementById('screen').dataset.state").await, json!("TRIAGED"));
        browser.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }
}
