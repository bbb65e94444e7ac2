//! The reviewer console: its HTTP serving and security headers, and end-to-end flows in
//! headless Chromium driven over WebDriver: sign in, claim, read a case whose message is
//! hostile HTML, decide, watch a second reviewer's queue update live, run a bulk restore to
//! 100 %, decide 200 alike appeals in one bulk decision followed to its final report, and
//! open the transparency screen; and triage by hand an appeal that came in over
//! SMTP, then claim it and the next case from the keyboard. Screenshots land in
//! `target/console-screenshots/`.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod smtp_client;
#[allow(dead_code)]
mod webdriver;

#[allow(dead_code)]
mod console_ui;

use std::path::PathBuf;

use api::{config_for, enforcement, TestApp, FILE, RECORD, TRIAGE};
use console_ui::sign_in;
use futures_util::StreamExt;
use redress_core::Role;
use serde_json::{json, Value};
use thirtyfour::Key;
use webdriver::{Browser, Driver};

/// Text an appellant might send to get script into a reviewer's browser.
const HOSTILE_BODY: &str = "<script>window.__pwned = 'script'</script><img src=x onerror=\"window.__pwned = 'img'\"> I only saved that pin, please restore my account";
const HOSTILE_SUBJECT: &str = "<b onmouseover=\"window.__pwned = 'subject'\">Appeal</b>";
const MISFIRED_RULE: &str = "rule-misfire-42";
const WAVE: usize = 5;

/// An appeal by mail from an address an account is registered to, with no
/// Authentication-Results a trusted server wrote: filed unverified, the account only claimed.
const MAIL_SENDER: &str = "maria.lopez@example.org";
const MAIL_BODY: &str = "My account was deactivated, but I only saved that pin.";
/// The queue the triager routes mail to; an SLA rule makes it a configured queue.
const MAIL_QUEUE: &str = "mail-appeals";

/// The alike appeals a senior reviewer decides in one job, and their queue.
const BULK_WAVE: usize = 200;
const BULK_QUEUE: &str = "spam-wave";

/// One browser flow at a time: two Chromium profiles are plenty for a small machine.
static BROWSERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/console-screenshots")
}

async fn file_hostile_appeal(app: &TestApp) -> (String, String, i64) {
    let platform = app.token("platform", &[Role::Integration]);
    let recorded = app
        .ok(
            &platform,
            RECORD,
            json!({"e": [enforcement("acct-hostile", "spam")]}),
        )
        .await;
    let filed = app
        .ok(
            &platform,
            FILE,
            json!({"i": {
                "requestId": "req-hostile",
                "enforcementId": recorded["recordEnforcements"]["ids"][0],
                "sender": "acct-hostile@example.test",
                "subject": HOSTILE_SUBJECT,
                "body": HOSTILE_BODY,
                "identityVerified": true,
            }}),
        )
        .await;
    let appeal = &filed["fileAppeal"]["appeal"];
    let id = appeal["id"].as_str().expect("id").to_owned();
    let triager = app.token("tina", &[Role::Triager]);
    let triaged = app
        .ok(
            &triager,
            TRIAGE,
            json!({"id": id, "v": appeal["version"], "q": "general"}),
        )
        .await;
    (
        id,
        appeal["reference"].as_str().expect("reference").to_owned(),
        triaged["triageAppeal"]["version"]
            .as_i64()
            .expect("version"),
    )
}

/// Enforcements of one misfiring rule against `WAVE` accounts, for the bulk restore.
async fn record_wave(app: &TestApp) {
    let platform = app.token("platform", &[Role::Integration]);
    let wave: Vec<Value> = (1..=WAVE)
        .map(|n| {
            let mut item = enforcement(&format!("wave-{n}"), "spam");
            item["sourceKind"] = json!("rule");
            item["sourceId"] = json!(MISFIRED_RULE);
            item
        })
        .collect();
    app.ok(&platform, RECORD, json!({"e": wave})).await;
}

/// Sends `MAIL_BODY` from `MAIL_SENDER` through the service's SMTP listener; returns the
/// appeal's id and reference from the `250 ... RDR-...` answer.
async fn mail_appeal(app: &TestApp) -> (String, String) {
    let raw = format!(
        "From: Maria Lopez <{MAIL_SENDER}>\r\nTo: appeals@redress.test\r\nSubject: Please restore my account\r\nMessage-ID: <triage-1@mail.example.org>\r\nContent-Language: en\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{MAIL_BODY}\r\n"
    );
    let answer = smtp_client::send(
        app.app.smtp_addr.expect("SMTP is on"),
        MAIL_SENDER,
        raw.as_bytes(),
    )
    .await;
    let reference = smtp_client::reference_in(&answer).to_owned();
    let stored = app
        .app
        .state
        .engine
        .appeal_by_reference(
            &reference
                .parse()
                .unwrap_or_else(|_| panic!("no reference in {answer:?}")),
        )
        .await
        .expect("the mailed appeal");
    (stored.id.to_string(), reference)
}

/// Claims with the screen's claim button until `appeal_id` opens. On PostgreSQL a claim
/// skips a row another transaction holds locked (`SKIP LOCKED`), so a claim right after a
/// change can find nothing; the reviewer would see "Nothing to claim" and try again.
async fn claim_until_open<F, Fut>(browser: &Browser, appeal_id: &str, claim: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let opened = format!("#screen[data-appeal-id='{appeal_id}'] pre.message-body");
    claim().await;
    for _ in 0..5 {
        let outcome = browser
            .wait_until(
                "the claim to open a case or find nothing",
                &format!(
                    "if (document.querySelector(\"{opened}\")) return 'opened'; \
                     const notices = [...document.querySelectorAll('[role=alert], .notice')].map((n) => n.textContent).join(' '); \
                     return /Nothing (left )?to claim/.test(notices) ? 'nothing' : null;"
                ),
            )
            .await;
        if outcome == json!("opened") {
            return;
        }
        browser.execute("document.querySelectorAll('.notice').forEach((n) => { n.textContent = ''; n.hidden = true; })").await;
        claim().await;
    }
    browser.wait(&opened).await;
}

/// The `appeal`'s fields as the API returns them to `token`.
async fn read_appeal(app: &TestApp, token: &str, id: &str, fields: &str) -> Value {
    let data = app
        .ok(
            token,
            &format!("query($id: ID!) {{ appeal(id: $id) {{ {fields} }} }}"),
            json!({"id": id}),
        )
        .await;
    data["appeal"].clone()
}

/// Every form control on screen has a label, and the page keeps its landmarks.
async fn assert_accessible(browser: &Browser, screen: &str) {
    let unlabelled = browser
        .execute(
            "return [...document.querySelectorAll('#screen input, #screen select, #screen textarea')] \
             .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label')) \
             .map((control) => control.name || control.id)",
        )
        .await;
    assert_eq!(
        unlabelled,
        json!([]),
        "unlabelled controls on the {screen} screen"
    );
    let landmarks = browser
        .execute("return ['header', 'nav', 'main', '[aria-live]'].every((selector) => document.querySelector(selector) !== null) && document.querySelectorAll('#screen h1').length === 1")
        .await;
    assert_eq!(
        landmarks,
        json!(true),
        "landmarks or heading missing on the {screen} screen"
    );
}

async fn account_status(app: &TestApp, token: &str, account: &str) -> String {
    let data = app
        .ok(
            token,
            "query($id: String!) { account(id: $id) { status } }",
            json!({"id": account}),
        )
        .await;
    data["account"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

redress_engine::backend_tests! {
    async fn the_console_is_served_with_a_strict_policy(db) {
        let app = TestApp::start(&db).await;
        let base = format!("http://{}", app.app.http_addr);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");

        let redirect = client.get(format!("{base}/console")).send().await.expect("get");
        assert_eq!(redirect.status(), 308);
        assert_eq!(redirect.headers()["location"], "/console/");

        for asset in redress::console::ASSETS {
            let path = if asset.name == "index.html" { String::new() } else { asset.name.to_owned() };
            let response = client.get(format!("{base}/console/{path}")).send().await.expect("get");
            assert_eq!(response.status(), 200, "{}", asset.name);
            let headers = response.headers().clone();
            assert_eq!(headers["content-type"], asset.content_type, "{}", asset.name);
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["cache-control"], "no-cache");
            let policy = headers["content-security-policy"].to_str().expect("policy");
            assert!(policy.starts_with("default-src 'self'; script-src 'self';"), "{policy}");
            assert!(policy.contains(&format!("connect-src 'self' ws://{} wss://{};", app.app.http_addr, app.app.http_addr)), "{policy}");
            assert!(!policy.contains("unsafe"), "{policy}");

            let etag = headers["etag"].clone();
            let again = client.get(format!("{base}/console/{path}"))
                .header("if-none-match", etag)
                .send().await.expect("get");
            assert_eq!(again.status(), 304, "{}", asset.name);
            assert_eq!(response.bytes().await.expect("body").as_ref(), asset.body);
        }

        let missing = client.get(format!("{base}/console/secrets.toml")).send().await.expect("get");
        assert_eq!(missing.status(), 404);
        let escape = client.get(format!("{base}/console/..%2FCargo.toml")).send().await.expect("get");
        assert_eq!(escape.status(), 404);
        app.stop().await;
        db.cleanup().await;
    }

    async fn a_reviewer_and_support_work_through_the_console_in_a_browser(db) {
        if !webdriver::available("console browser flow") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let outgoing = tempfile::tempdir().expect("outgoing mail dir");
        let mut config = config_for(&db);
        config.workers.enabled = true;
        config.email.outgoing_dir = outgoing.path().to_owned();
        config.restoration.bulk_chunk_size = 2;
        config.restoration.bulk_poll_seconds = 1;
        config.appeals.four_eyes_policies = vec!["terrorism".to_owned()];
        let app = TestApp::start_on_browser_clock(config).await;
        let (appeal_id, reference, _) = file_hostile_appeal(&app).await;
        record_wave(&app).await;
        // Another appeal, filed and not yet triaged, keeps the queue's summary non-empty.
        api::file_appeal(&app, "acct-waiting", "spam").await;
        let shots = screenshots();
        let backend = app.app.state.engine.backend().as_str();

        let driver = Driver::launch().await;
        let rita = driver.browser("rita").await;
        let sam = driver.browser("sam").await;
        let row = format!("tr[data-appeal-id='{appeal_id}']");

        // A senior reviewer watches the queue in a second browser.
        sign_in(&sam, &app, &app.token("sam", &[Role::SeniorReviewer])).await;
        sam.wait(&row).await;
        assert_eq!(sam.text(&format!("{row} td.assignee")).await, "unclaimed");

        // The reviewer claims the next case and reads it.
        sign_in(&rita, &app, &app.token("rita", &[Role::Reviewer])).await;
        rita.wait(&row).await;
        rita.click("#claim-next").await;
        rita.wait("pre.message-body").await;
        assert_eq!(rita.text("#screen h1").await, format!("Case {reference}"));
        let body = rita.text("li.message.inbound pre.message-body").await;
        assert!(body.contains("<script>window.__pwned = 'script'</script>"), "{body}");
        assert!(body.contains("<img src=x onerror="), "{body}");
        let subject = rita.text("li.message.inbound dd:nth-of-type(3)").await;
        assert_eq!(subject, HOSTILE_SUBJECT);
        let injected = rita
            .execute("return [typeof window.__pwned, document.querySelectorAll('#screen script, #screen img, #screen b').length]")
            .await;
        assert_eq!(injected, json!(["undefined", 0]), "hostile markup was interpreted");
        assert!(rita.text("section.enforcement").await.contains("saved (the account kept"));
        rita.execute("document.querySelector('li.message.inbound').scrollIntoView({block: 'center'})").await;
        assert_accessible(&rita, "case").await;
        rita.screenshot(&shots.join(format!("case-{backend}.png"))).await;

        // The queue in the other browser shows the claim without a reload.
        sam.wait_until(
            "the claim to reach the second browser",
            &format!("return document.querySelector(\"{row} td.assignee\")?.textContent === 'rita'"),
        ).await;
        assert_accessible(&sam, "queue").await;
        sam.screenshot(&shots.join(format!("queue-{backend}.png"))).await;

        // Someone else writes a note: the open case updates live with the new version.
        let before = rita.execute("return document.getElementById('screen').dataset.version").await;
        let sam_token = app.token("sam", &[Role::SeniorReviewer]);
        let version: i64 = before.as_str().expect("version").parse().expect("number");
        app.ok(
            &sam_token,
            r"mutation($id: ID!, $v: Int!, $t: String!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }",
            json!({"id": appeal_id, "v": version, "t": "checked the pin history"}),
        ).await;
        rita.wait_until(
            "the note to reach the open case",
            &format!("return document.getElementById('screen').dataset.version === '{}'", version + 1),
        ).await;
        assert!(rita.text("#case-notice").await.contains("just changed"));

        // The decision uses the fresh version and goes through.
        rita.type_into("form[data-action=decideAppeal] textarea[name=reasons]", "The account saved the pin; it did not create it.").await;
        rita.click("form[data-action=decideAppeal] button[type=submit]").await;
        // A restore stays `reviewed` until the restoration is confirmed.
        rita.wait_until(
            "the decision to show",
            "const state = document.getElementById('screen').dataset.state; return (state === 'REVIEWED' || state === 'RESTORED') && document.querySelector('.decision') !== null",
        ).await;
        assert!(rita.text(".decision").await.contains("The account saved the pin; it did not create it."));

        // The other screen's queue shows the decision, live.
        sam.wait_until(
            "the decision to reach the second browser's queue",
            &format!("const row = document.querySelector(\"{row}\"); return document.querySelector('table.appeals tbody tr') !== null && (row === null || row.dataset.state !== 'TRIAGED')"),
        ).await;

        // A stale action: the second browser reopens the case without a live connection,
        // someone else changes the case, and the note sent with the old version is
        // refused with a notice and the fresh state, keeping the typed text.
        let rita_token = app.token("rita", &[Role::Reviewer]);
        webdriver::wait_for("the restoration to be confirmed", || async {
            let data = app
                .ok(&rita_token, "query($id: ID!) { appeal(id: $id) { state } }", json!({"id": appeal_id}))
                .await;
            (data["appeal"]["state"] == "RESTORED").then_some(())
        })
        .await;
        sam.drop_websockets().await;
        sam.goto(&format!("http://{}/console/#/case/{appeal_id}", app.app.http_addr)).await;
        sam.refresh().await;
        sam.wait("form[data-action=addNote] textarea[name=text]").await;
        let seen: i64 = sam
            .execute("return document.getElementById('screen').dataset.version")
            .await
            .as_str()
            .expect("version")
            .parse()
            .expect("number");
        app.ok(
            &rita_token,
            r"mutation($id: ID!, $v: Int!, $t: String!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }",
            json!({"id": appeal_id, "v": seen, "t": "a note the other screen has not seen"}),
        ).await;
        sam.type_into("form[data-action=addNote] textarea[name=text]", "second opinion: agree").await;
        sam.click("form[data-action=addNote] button[type=submit]").await;
        sam.wait("#case-notice.conflict").await;
        assert!(sam.text("#case-notice").await.contains("Someone else changed this case first"));
        sam.wait_until(
            "the fresh state after the conflict",
            &format!("return document.getElementById('screen').dataset.version === '{}'", seen + 1),
        ).await;
        // Event details are folded away; their text is there.
        assert_eq!(
            sam.execute("return document.querySelector('ol.timeline').textContent.includes('a note the other screen has not seen')").await,
            json!(true)
        );
        assert_eq!(
            sam.execute("return document.querySelector('form[data-action=addNote] textarea[name=text]').value").await,
            json!("second opinion: agree")
        );
        sam.click("form[data-action=addNote] button[type=submit]").await;
        sam.wait_until(
            "the resent note to be saved",
            &format!("return document.getElementById('screen').dataset.version === '{}'", seen + 2),
        ).await;
        assert_eq!(
            sam.execute("return document.querySelector('form[data-action=addNote] textarea[name=text]').value").await,
            json!(""),
            "a saved note stays in its box"
        );

        // Four-eyes: the reviewer's restore waits for a senior reviewer's approval.
        let (four_eyes_id, _) = api::triaged_appeal(&app, "acct-four-eyes", "terrorism", "general").await;
        rita.click("#nav a[href='#/queue']").await;
        rita.wait(&format!("tr[data-appeal-id='{four_eyes_id}']")).await;
        rita.click("#claim-next").await;
        rita.wait(&format!("#screen[data-appeal-id='{four_eyes_id}'] form[data-action=decideAppeal]")).await;
        rita.type_into("form[data-action=decideAppeal] textarea[name=reasons]", "Reported by mistake.").await;
        rita.click("form[data-action=decideAppeal] button[type=submit]").await;
        rita.wait("#screen[data-state='REVIEWED'] .decision").await;
        assert!(rita.text("section[aria-labelledby=summary-title]").await.contains("reviewed, awaiting a second approval"));
        sam.goto(&format!("http://{}/console/#/case/{four_eyes_id}", app.app.http_addr)).await;
        sam.refresh().await;
        sam.click("form[data-action=approveDecision] button[type=submit]").await;
        sam.wait_until(
            "the approval to show",
            "const decision = document.querySelector('.decision'); return decision !== null && decision.textContent.includes('Approved bysam')",
        ).await;

        // Support restores the misfired rule's wave in bulk.
        let sue = app.token("sue", &[Role::Support]);
        for n in 1..=WAVE {
            assert_eq!(account_status(&app, &sue, &format!("wave-{n}")).await, "deactivated");
        }
        rita.click("#sign-out").await;
        rita.wait("#sign-in-form").await;
        assert_eq!(rita.execute("return sessionStorage.length").await, json!(0));
        sign_in(&rita, &app, &sue).await;
        rita.click("#nav a[href='#/bulk']").await;
        rita.type_into("form.selector input[name=value]", MISFIRED_RULE).await;
        rita.click("form.selector button[type=submit]").await;
        rita.wait("section.preview[data-accounts]").await;
        assert_eq!(
            rita.execute("return document.querySelector('section.preview').dataset.accounts").await,
            json!(WAVE.to_string())
        );
        assert!(rita.text("section.preview ul.sample").await.contains("wave-1"));
        rita.type_into("form.selector input[name=reason]", "rule-misfire-42 matched every saved pin").await;
        rita.click("#start-bulk").await;
        rita.wait("section.progress[data-status]").await;
        rita.wait_until(
            "the bulk restore to reach 100 %",
            "const p = document.querySelector('section.progress'); return p && p.dataset.percent === '100' && p.dataset.status === 'completed' && document.getElementById('progress-title').textContent === 'Final report'",
        ).await;
        assert!(rita.text("#progress-text").await.starts_with(&format!("{WAVE} of {WAVE} accounts processed (100.0 %)")));
        assert_accessible(&rita, "bulk restore").await;
        rita.screenshot(&shots.join(format!("bulk-restore-{backend}.png"))).await;
        for n in 1..=WAVE {
            assert_ne!(account_status(&app, &sue, &format!("wave-{n}")).await, "deactivated");
        }

        // Incidents, sources, the report, quality, the Transparency Database's refusals and
        // the statements it answers server errors to: every panel settles, available or not.
        let admin = app.token("ada", &[Role::Admin]);
        rita.click("#sign-out").await;
        sign_in(&rita, &app, &admin).await;
        rita.click("#nav a[href='#/transparency']").await;
        rita.wait_until(
            "the transparency panels to settle",
            "return document.querySelectorAll('#screen section.panel[data-available]').length === 6",
        ).await;
        assert_accessible(&rita, "transparency").await;
        rita.screenshot(&shots.join(format!("transparency-{backend}.png"))).await;

        // The transparency screen builds its selections from the schema: against a query
        // this server has, it reads every scalar field, nested objects included.
        let summary = rita
            .execute_async("const screen = await import('./transparency.js'); return [await screen.run('queueSummary', {}), await screen.run('noSuchQuery', {})];")
            .await;
        let expected = app.ok(&admin, "{ queueSummary { queue open claimable slaBreached byState { key count } } }", json!({})).await;
        let entries = summary[0]["value"].as_array().unwrap_or_else(|| panic!("{summary}"));
        assert!(!entries.is_empty(), "{summary}");
        assert_eq!(entries.len(), expected["queueSummary"].as_array().expect("entries").len(), "{summary}");
        for (got, want) in entries.iter().zip(expected["queueSummary"].as_array().expect("entries")) {
            for field in ["queue", "open", "claimable", "slaBreached", "byState"] {
                assert_eq!(got[field], want[field], "{field} in {summary}");
            }
        }
        assert_eq!(summary[1], Value::Null, "{summary}");

        // Its charts are SVG built from DOM calls: a hostile source id stays a label.
        let chart = rita
            .execute_async(
                "const charts = await import('./charts.js'); \
                 const chart = charts.barChart({title: 'Overturn rate by source', max: 1, format: (v) => `${v * 100} %`, \
                   items: [{label: '<img src=x onerror=__pwned=1>', value: 0.5}, {label: 'rule-7', value: 0.25}]}); \
                 document.getElementById('screen').append(chart); \
                 return {bars: [...chart.querySelectorAll('rect')].map((bar) => Number(bar.getAttribute('width'))), \
                         labels: [...chart.querySelectorAll('text.chart-label')].map((label) => label.textContent), \
                         images: chart.querySelectorAll('img').length, pwned: typeof window.__pwned, \
                         name: chart.getAttribute('aria-label')};",
            )
            .await;
        let bars = chart["bars"].as_array().unwrap_or_else(|| panic!("{chart}"));
        assert_eq!(bars.len(), 2, "{chart}");
        let (first, second) = (bars[0].as_f64().expect("width"), bars[1].as_f64().expect("width"));
        assert!((first - 2.0 * second).abs() < 0.2, "bars not to scale: {chart}");
        assert_eq!(chart["labels"], json!(["<img src=x onerror=__pwned=1>", "rule-7"]));
        assert_eq!(chart["images"], json!(0));
        assert_eq!(chart["pwned"], json!("undefined"));
        assert_eq!(chart["name"], json!("Overturn rate by source. <img src=x onerror=__pwned=1>: 50 %; rule-7: 25 %"));

        // No script error and no policy violation in either browser.
        for (name, browser) in [("rita", &rita), ("sam", &sam)] {
            browser.assert_no_errors_logged(&format!("{name}'s browser")).await;
        }
        rita.quit().await;
        sam.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }
    async fn a_mailed_appeal_is_triaged_by_hand_then_claimed_from_the_keyboard(db) {
        if !webdriver::available("console triage flow") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let mut config = config_for(&db);
        config.appeals.sla_rules = vec![redress_engine::settings::SlaRule {
            queue: MAIL_QUEUE.to_owned(),
            priority: None,
            policy: redress_core::SlaPolicy {
                time_to_triage: chrono::TimeDelta::hours(2),
                time_to_decision: chrono::TimeDelta::hours(24),
                warn_fraction: 0.8,
            },
        }];
        let app = TestApp::start_on_browser_clock(config).await;
        let platform = app.token("platform", &[Role::Integration]);
        let mut maria = enforcement("acct-maria", "spam");
        maria["accountEmail"] = json!(MAIL_SENDER);
        app.ok(&platform, RECORD, json!({"e": [maria]})).await;
        let (mailed_id, mailed_reference) = mail_appeal(&app).await;
        // Filed later through the API, for an account the platform vouches for.
        let second = api::file_appeal(&app, "acct-second", "spam").await;
        let second_id = second["id"].as_str().expect("id").to_owned();
        let shots = screenshots();
        let backend = app.app.state.engine.backend().as_str();

        let driver = Driver::launch().await;
        let browser = driver.browser("tina").await;
        // Without live updates a change by someone else stays unseen until the triage is sent.
        browser.drop_websockets().await;
        let tina = app.token("tina", &[Role::Triager]);
        sign_in(&browser, &app, &tina).await;

        // `?` lists the shortcuts; Escape closes the list.
        browser.wait("#screen h1").await;
        browser.press("?").await;
        browser.wait("dialog#shortcuts[open]").await;
        let listed = browser.text("#shortcuts-list").await;
        for shortcut in ["Go to triage", "Search cases", "Show these shortcuts"] {
            assert!(listed.contains(shortcut), "{listed}");
        }
        browser.press(Key::Escape).await;
        browser.wait_until("the help to close", "return !document.getElementById('shortcuts').open").await;

        // `t` opens triage: the filed appeals, oldest first, with the claimed account.
        browser.press("t").await;
        browser.wait("table.filed[data-loaded]").await;
        let mailed_row = format!("table.filed tr[data-appeal-id='{mailed_id}']");
        browser.wait(&mailed_row).await;
        assert_eq!(
            browser.execute("return [...document.querySelectorAll('table.filed tbody tr')].map((row) => row.dataset.appealId)").await,
            json!([mailed_id, second_id]),
            "oldest first"
        );
        assert_eq!(browser.text(&format!("{mailed_row} td.account")).await, "acct-maria (claimed, not linked)");
        let concerns = browser.text(&format!("{mailed_row} td.enforcement")).await;
        assert!(concerns.contains("account deactivation · spam"), "{concerns}");
        assert!(concerns.contains("model classifier-v7"), "{concerns}");
        assert!(concerns.contains("automated detection fully, decision fully"), "{concerns}");

        // A key typed into a field is text: `n` in the search box does not open a case.
        browser.click("#search-query").await;
        browser.press("n").await;
        assert_eq!(browser.execute("return [window.location.hash, document.getElementById('search-query').value]").await, json!(["#/triage", "n"]));
        browser.execute("const box = document.getElementById('search-query'); box.value = ''; box.blur();").await;

        // Triage next opens the oldest: the evidence, then the form.
        browser.click("#triage-next").await;
        browser.wait(&format!("#screen[data-appeal-id='{mailed_id}'] form.triage-form")).await;
        assert_eq!(browser.text("#screen h1").await, format!("Triage {mailed_reference}"));
        let identity = browser.text("section.identity-evidence").await;
        assert!(identity.contains("no: nobody has vouched for the sender yet"), "{identity}");
        assert!(identity.contains(MAIL_SENDER), "{identity}");
        assert!(identity.contains("acct-maria (deactivated), not linked"), "{identity}");
        assert!(browser.text("section.enforcement").await.contains("Against the account the sender claims (acct-maria)"));
        assert_eq!(browser.text("pre.message-body").await, MAIL_BODY);
        assert_eq!(
            browser.execute("return [...document.querySelectorAll('#triage-queue option')].map((option) => option.value)").await,
            json!(["general", "senior", MAIL_QUEUE]),
            "the configured queues are offered"
        );
        browser.select("#triage-priority", "HIGH").await;
        browser.select("#triage-queue", MAIL_QUEUE).await;
        let deadlines = browser.text("#triage-deadlines").await;
        assert_eq!(deadlines, format!("In {MAIL_QUEUE} at high priority: decision due 24 h after filing (triage within 2 h)."));
        // The field starts with the case's tags: the language decided at filing.
        assert_eq!(browser.execute("return document.getElementById('triage-tags').value").await, json!("language:en"));
        browser.execute("document.getElementById('triage-tags').value = ''").await;
        browser.type_into("#triage-tags", "mail, unverified-sender, mail").await;
        assert_eq!(browser.text("label[for=triage-verified]").await, "Identity verified — links this appeal to account acct-maria");
        browser.click("#triage-verified").await;
        assert_accessible(&browser, "triage").await;
        browser.execute("window.scrollTo(0, 0)").await;
        browser.screenshot(&shots.join(format!("triage-{backend}.png"))).await;

        // Someone else changes the case first: the triage is refused in words, the choices stay.
        let seen: i64 = browser.execute("return document.getElementById('screen').dataset.version").await
            .as_str().expect("version").parse().expect("number");
        app.ok(
            &tina,
            r"mutation($id: ID!, $v: Int!, $t: String!) { addNote(id: $id, expectedVersion: $v, text: $t) { version } }",
            json!({"id": mailed_id, "v": seen, "t": "asked the platform about the pin"}),
        ).await;
        browser.click("form.triage-form button[type=submit]").await;
        browser.wait("#triage-notice.conflict").await;
        assert!(browser.text("#triage-notice").await.contains("Someone else changed this case first"));
        browser.wait_until(
            "the fresh version after the conflict",
            &format!("return document.getElementById('screen').dataset.version === '{}'", seen + 1),
        ).await;
        assert_eq!(
            browser.execute("return ['#triage-priority', '#triage-queue', '#triage-tags'].map((s) => document.querySelector(s).value).concat(document.querySelector('#triage-verified').checked)").await,
            json!(["HIGH", MAIL_QUEUE, "mail, unverified-sender, mail", true])
        );

        // Sent again it goes through, and the next filed appeal opens by itself.
        browser.click("form.triage-form button[type=submit]").await;
        browser.wait(&format!("#screen[data-appeal-id='{second_id}'] form.triage-form")).await;
        let outcome = browser.text("#triage-outcome").await;
        // Verifying the identity linked the account the address belongs to.
        assert_eq!(outcome, format!("{mailed_reference} triaged: high priority in {MAIL_QUEUE}, tagged mail, unverified-sender, language:en, linked to account acct-maria."));
        let triaged = read_appeal(&app, &tina, &mailed_id, "state priority queue tags identityVerified accountId").await;
        assert_eq!(triaged, json!({"state": "TRIAGED", "priority": "HIGH", "queue": MAIL_QUEUE, "tags": ["mail", "unverified-sender", "language:en"], "identityVerified": true, "accountId": "acct-maria"}));

        // The second one: `t` moves to the form.
        browser.select("#triage-queue", MAIL_QUEUE).await;
        browser.execute("document.getElementById('triage-tags').value = ''").await;
        browser.type_into("#triage-tags", "platform").await;
        browser.execute("document.activeElement.blur()").await;
        browser.press("t").await;
        assert_eq!(browser.execute("return document.activeElement.id").await, json!("triage-priority"));
        browser.click("form.triage-form button[type=submit]").await;
        browser.wait("table.filed[data-loaded] td.empty").await;
        assert!(browser.text("#triage-outcome").await.starts_with("RDR-"));
        assert_eq!(browser.text("table.filed td.empty").await, "Nothing is waiting for triage.");

        // A reviewer finds the mail by its tag in the queue and claims it with Claim next.
        browser.click("#sign-out").await;
        sign_in(&browser, &app, &app.token("rita", &[Role::Reviewer])).await;
        browser.wait("table.appeals[data-loaded]").await;
        browser.execute("document.querySelector('form.filters input[name=queue]').value = ''").await;
        browser.type_into("form.filters input[name=queue]", MAIL_QUEUE).await;
        browser.type_into("form.filters input[name=tag]", "unverified-sender").await;
        browser.click("form.filters button[type=submit]").await;
        browser.wait_until(
            "the tag filter to leave only the mailed appeal",
            &format!("return [...document.querySelectorAll('table.appeals tbody tr')].map((row) => row.dataset.appealId).join() === '{mailed_id}'"),
        ).await;
        assert_eq!(
            browser.execute(&format!("return [...document.querySelectorAll(\"tr[data-appeal-id='{mailed_id}'] td.tags .tag\")].map((tag) => tag.textContent)")).await,
            json!(["mail", "unverified-sender", "language:en"])
        );
        claim_until_open(&browser, &mailed_id, || browser.click("#claim-next")).await;
        assert_eq!(browser.text("#screen h1").await, format!("Case {mailed_reference}"));
        assert_eq!(
            browser.execute("return document.querySelector('section[aria-labelledby=summary-title]').textContent.includes('Assigneerita')").await,
            json!(true)
        );
        assert_eq!(browser.text("li.message.inbound pre.message-body").await, MAIL_BODY);

        // Deciding offers the next case; `n` claims it.
        browser.type_into("form[data-action=decideAppeal] textarea[name=reasons]", "The account saved the pin; it did not create it.").await;
        browser.click("form[data-action=decideAppeal] button[type=submit]").await;
        browser.wait("#claim-next-after").await;
        assert_eq!(browser.execute("return document.activeElement.id").await, json!("claim-next-after"));
        claim_until_open(&browser, &second_id, || browser.press("n")).await;
        assert_eq!(read_appeal(&app, &tina, &second_id, "assignee").await, json!({"assignee": "rita"}));

        browser.assert_no_errors_logged("the browser").await;
        browser.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }
    async fn a_mailed_appeal_is_found_from_the_header_search(db) {
        if !webdriver::available("console search") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let app = TestApp::start(&db).await;
        let platform = app.token("platform", &[Role::Integration]);
        let mut maria = enforcement("acct-maria", "spam");
        maria["accountEmail"] = json!(MAIL_SENDER);
        app.ok(&platform, RECORD, json!({"e": [maria]})).await;
        let (mailed_id, mailed_reference) = mail_appeal(&app).await;
        // Another case whose text shares words with the mail, but not the one searched for.
        api::file_appeal(&app, "acct-other", "spam").await;
        let shots = screenshots();
        let backend = app.app.state.engine.backend().as_str();

        let driver = Driver::launch().await;
        let browser = driver.browser("tina").await;
        sign_in(&browser, &app, &app.token("tina", &[Role::Triager])).await;
        browser.wait("#screen h1").await;
        let hits = "return [...document.querySelectorAll('#search-results:not([hidden]) li.search-hit')].map((li) => li.dataset.appealId)";
        let hit = format!("#search-results li.search-hit[data-appeal-id='{mailed_id}']");

        // `/` puts the cursor in the search box; the sender's address finds the mail.
        browser.press("/").await;
        assert_eq!(browser.execute("return document.activeElement.id").await, json!("search-query"));
        browser.press(MAIL_SENDER.to_uppercase()).await;
        browser.press(Key::Enter).await;
        browser.wait(&hit).await;
        assert_eq!(browser.execute(hits).await, json!([mailed_id]));
        let found = browser.text(&hit).await;
        assert!(found.contains(&mailed_reference) && found.contains("matched sender address"), "{found}");

        // So does a word of its text, with the words around it.
        browser.execute("document.getElementById('search-query').value = ''").await;
        browser.type_into("#search-query", "DEACTIVATED").await;
        browser.press(Key::Enter).await;
        browser.wait_until("the text search's results", &format!("return document.querySelector(\"{hit} .matched\")?.textContent === 'matched message text'")).await;
        assert_eq!(browser.execute(hits).await, json!([mailed_id]));
        assert_eq!(browser.text(&format!("{hit} .snippet")).await, format!("Please restore my account {MAIL_BODY}"));
        browser.screenshot(&shots.join(format!("search-{backend}.png"))).await;

        // The hit links to the case.
        browser.click(&format!("{hit} a")).await;
        browser.wait(&format!("#screen[data-appeal-id='{mailed_id}']")).await;
        assert_eq!(browser.text("#screen h1").await, format!("Case {mailed_reference}"));
        assert_eq!(browser.execute("return document.getElementById('search-results').hidden").await, json!(true));

        // An admin sees no personal data: the address finds nothing, and the console says why.
        browser.click("#sign-out").await;
        sign_in(&browser, &app, &app.token("ada", &[Role::Admin])).await;
        browser.type_into("#search-query", MAIL_SENDER).await;
        browser.press(Key::Enter).await;
        browser.wait("#search-results:not([hidden]) .withheld").await;
        assert_eq!(browser.execute(hits).await, json!([]));
        assert!(browser.text("#search-results .search-summary").await.starts_with("Nothing found"));

        browser.assert_no_errors_logged("the browser").await;
        browser.quit().await;
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }

    async fn a_reviewer_upholds_with_a_template_without_typing_json(db) {
        if !webdriver::available("console decision composer") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let example = redress::config::Config::load(Some(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
        ))
        .expect("the example configuration");
        let mut config = config_for(&db);
        config.policies = example.policies;
        config.decision_templates = example.decision_templates;
        let app = TestApp::start_with(config).await;
        let appeal = api::file_appeal(&app, "acct-composer", "spam").await;
        let id = appeal["id"].as_str().expect("id").to_owned();
        let reference = appeal["reference"].as_str().expect("reference").to_owned();
        let triager = app.token("tina", &[Role::Triager]);
        app.ok(
            &triager,
            r"mutation($id: ID!, $v: Int!, $tags: [String!]!) { triageAppeal(id: $id, expectedVersion: $v, input: {priority: HIGH, tags: $tags, identityVerified: true}) { version } }",
            json!({"id": id, "v": appeal["version"], "tags": ["language:de"]}),
        )
        .await;
        let rita_token = app.token("rita", &[Role::Reviewer]);
        app.ok(&rita_token, r"mutation { claimNextAppeal { id } }", json!({})).await;
        let shots = screenshots();
        let backend = app.app.state.engine.backend().as_str();

        let driver = Driver::launch().await;
        let rita = driver.browser("rita-composer").await;
        sign_in(&rita, &app, &rita_token).await;
        rita.goto(&format!("http://{}/console/#/case/{id}", app.app.http_addr)).await;
        rita.wait(&format!("#screen[data-appeal-id='{id}'] form[data-action=decideAppeal]")).await;
        // The policy's text stands beside the enforcement.
        let policy = rita.text("section.enforcement .policy").await;
        assert!(policy.contains("Spam and platform manipulation") && policy.contains("section 4.2"), "{policy}");

        // Uphold (not the default) and start typing: the draft keeps both.
        rita.click("#outcome-uphold").await;
        rita.wait("select[name=template] option[value='spam-uphold-de']").await;
        rita.type_into("form[data-action=decideAppeal] textarea[name=reasons]", "Entwurf").await;
        rita.wait_until(
            "the draft to be saved",
            &format!("const draft = JSON.parse(sessionStorage.getItem('redress.console.draft.{id}') ?? '{{}}'); return draft.outcome === 'UPHOLD' && draft.reasons === 'Entwurf'"),
        )
        .await;
        // Leave the case and come back: the restored outcome drives the templates offered
        // and the editor, not the default one the form is built with.
        rita.click("#nav a[href='#/queue']").await;
        rita.wait_until("the case to be left", "return document.querySelector('form[data-action=decideAppeal]') === null").await;
        rita.goto(&format!("http://{}/console/#/case/{id}", app.app.http_addr)).await;
        rita.wait(&format!("#screen[data-appeal-id='{id}'] form[data-action=decideAppeal]")).await;
        assert_eq!(
            rita.execute("return [document.querySelector('#outcome-uphold').checked, document.querySelector('textarea[name=reasons]').value, document.querySelector('.statement-editor').hidden, document.querySelector('#restriction-stays').closest('.choice').hidden]").await,
            json!([true, "Entwurf", false, true]),
            "the draft's outcome and reasons, with the uphold layout: the statement editor, no restore checkbox"
        );
        let offered = rita
            .wait_until(
                "the templates to load",
                "const ids = [...document.querySelectorAll('select[name=template] option')].map((o) => o.value).filter(Boolean); return ids.length > 0 ? ids : null",
            )
            .await;
        assert_eq!(offered, json!(["spam-uphold-de"]), "only the restored outcome's templates");

        // Pick the German template (the appellant's language), and the form fills.
        rita.select("select[name=template]", "spam-uphold-de").await;
        rita.wait_until(
            "the template to fill the reasons",
            "return document.querySelector('textarea[name=reasons]').value.startsWith('Wir haben Ihren Einspruch')",
        )
        .await;
        let reasons = rita
            .execute("return document.querySelector('textarea[name=reasons]').value")
            .await
            .as_str()
            .expect("reasons")
            .to_owned();
        assert!(reasons.contains(&reference) && reasons.contains("gespeichert"), "{reasons}");
        assert_eq!(
            rita.execute("return [document.querySelector('input[name=clause]').value, document.querySelector('#r-account_suspended').checked, document.querySelector('textarea[name=statement]').hidden]").await,
            json!(["Community-Richtlinien, Abschnitt 4.2 (Spam)", true, true]),
            "the statement is in form fields and the JSON stays hidden"
        );

        // The server's checks run as the reviewer types and name the field.
        rita.execute("const clause = document.querySelector('input[name=clause]'); clause.value = ''; clause.dispatchEvent(new Event('input', {bubbles: true}));").await;
        rita.wait_until(
            "the check to name the empty clause",
            "return document.getElementById('statement-error').dataset.field === 'ground.clause'",
        )
        .await;
        assert!(rita.text("#statement-error").await.contains("ground.clause"));
        rita.type_into("input[name=clause]", "Community-Richtlinien, Abschnitt 4.2 (Spam)").await;
        rita.wait_until(
            "the check to pass",
            "return document.getElementById('statement-error').textContent === ''",
        )
        .await;

        // The preview is the German mail and the DM, as they will be sent.
        rita.click("#preview-notice").await;
        rita.wait("pre.preview-mail").await;
        let mail = rita.text("pre.preview-mail").await;
        assert!(mail.contains(&reasons) && mail.contains("Community-Richtlinien, Abschnitt 4.2 (Spam)"), "{mail}");
        assert!(rita.text("strong.preview-subject").await.contains(&reference));
        assert!(rita.text("pre.preview-dm").await.contains(&reference));
        // An uphold notice, as the restored outcome says, not the restore one.
        assert!(mail.contains("Die ursprüngliche Entscheidung bleibt"), "{mail}");
        assert!(!rita.text("strong.preview-subject").await.contains("wiederhergestellt"));
        assert_accessible(&rita, "case with the decision composer").await;
        rita.execute("document.querySelector('.notice-preview').scrollIntoView({block: 'center'})").await;
        rita.screenshot(&shots.join(format!("composer-{backend}.png"))).await;

        rita.click("form[data-action=decideAppeal] button[type=submit]").await;
        rita.wait_until(
            "the decision to show",
            "return document.getElementById('screen').dataset.state === 'UPHELD' && document.querySelector('.decision') !== null",
        )
        .await;

        // The decided event carries the template's reasons and a statement the checks pass.
        let stored = read_appeal(&app, &rita_token, &id, "decision { reasons statementOfReasons } events { kind payload }").await;
        assert_eq!(stored["decision"]["reasons"], json!(reasons));
        let decided = stored["events"]
            .as_array()
            .expect("events")
            .iter()
            .find(|event| event["kind"] == "decided")
            .expect("a decided event")
            .clone();
        assert_eq!(decided["payload"]["reasons"], json!(reasons));
        let statement = stored["decision"]["statementOfReasons"].clone();
        assert_eq!(statement["ground"]["clause"], "Community-Richtlinien, Abschnitt 4.2 (Spam)");
        let check = app
            .ok(
                &rita_token,
                r"query($s: JSON, $r: String!) { validateStatementOfReasons(statementOfReasons: $s, outcome: UPHOLD, reasons: $r) { valid } }",
                json!({"s": statement, "r": reasons}),
            )
            .await;
        assert_eq!(check["validateStatementOfReasons"]["valid"], true);
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }

    async fn a_senior_reviewer_decides_two_hundred_alike_appeals_and_follows_the_job(db) {
        if !webdriver::available("console bulk decision") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let example = redress::config::Config::load(Some(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
        ))
        .expect("the example configuration");
        let mut config = config_for(&db);
        config.policies = example.policies;
        config.decision_templates = example.decision_templates;
        let app = TestApp::start_with(config).await;
        // Two hundred spam deactivations by one model for a pin the accounts saved, each
        // appealed and triaged into one queue through the API.
        futures_util::stream::iter(0..BULK_WAVE)
            .map(|n| {
                let app = &app;
                async move { api::triaged_appeal(app, &format!("acct-wave-{n:03}"), "spam", BULK_QUEUE).await }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await;
        // A reviewer holds one of them: the job must skip it and say why.
        let rita = app.token("rita", &[Role::Reviewer]);
        let held = app
            .ok(&rita, &format!(r#"mutation {{ claimNextAppeal(queue: "{BULK_QUEUE}") {{ id reference }} }}"#), json!({}))
            .await["claimNextAppeal"]
            .clone();
        let held_reference = held["reference"].as_str().expect("reference").to_owned();
        let carol_token = app.token("carol", &[Role::SeniorReviewer]);
        let shots = screenshots();
        let backend = app.app.state.engine.backend().as_str();

        let driver = Driver::launch().await;
        let carol = driver.browser("carol-bulk").await;
        sign_in(&carol, &app, &carol_token).await;
        carol.goto(&format!("http://{}/console/#/queue", app.app.http_addr)).await;
        carol.wait("form.filters").await;
        carol.execute("document.querySelector('form.filters input[name=queue]').value = ''").await;
        carol.type_into("form.filters input[name=queue]", BULK_QUEUE).await;
        carol.type_into("form.filters input[name=policy]", "spam").await;
        carol.click("form.filters button[type=submit]").await;
        carol.wait(&format!("tr[data-appeal-id='{}']", held["id"].as_str().expect("id"))).await;
        carol.click("#decide-in-bulk").await;

        // The selection is the queue's filter; the dry run counts it before anything is written.
        carol.wait("#bulk-template option[value='spam-uphold-en']").await;
        carol.select("#bulk-template", "spam-uphold-en").await;
        carol.click("#bulk-dry-run").await;
        carol.wait("#bulk-decision-preview[data-selected]").await;
        assert_eq!(
            carol.execute("const p = document.getElementById('bulk-decision-preview'); return [p.dataset.selected, p.dataset.wouldSkip]").await,
            json!([BULK_WAVE.to_string(), "1"])
        );
        assert!(carol.text("#skipped-appeals").await.contains(&held_reference));
        assert_eq!(carol.text("#start-bulk-decision").await, format!("Decide {} appeals", BULK_WAVE - 1));
        assert_accessible(&carol, "bulk decision").await;

        // Started, the job is followed live to its final report.
        carol.click("#start-bulk-decision").await;
        carol.wait("#bulk-decision-progress[data-status]").await;
        assert!(
            carol.execute("return location.hash").await.as_str().is_some_and(|hash| hash.starts_with("#/decide/")),
            "the job's own address, to come back to"
        );
        carol.wait_until(
            "the job to complete",
            &format!("const p = document.getElementById('bulk-decision-progress'); return p.dataset.status === 'completed' && p.dataset.processed === '{BULK_WAVE}' && document.querySelector('#skipped-appeals li') !== null"),
        )
        .await;
        let report = carol.text("#bulk-decision-progress").await;
        assert!(report.contains(&format!("{BULK_WAVE} of {BULK_WAVE} appeals processed")), "{report}");
        assert_eq!(
            carol.execute("return document.getElementById('bulk-decision-bar').value").await,
            json!(BULK_WAVE)
        );
        let skipped = carol.text("#skipped-appeals").await;
        assert!(skipped.contains(&held_reference) && skipped.contains("claimed by rita"), "{skipped}");
        carol.screenshot(&shots.join(format!("bulk-decision-{backend}.png"))).await;

        // Each appeal got its own decision with the template filled for it; the held one none.
        let upheld = app
            .app
            .state
            .engine
            .appeals(
                &redress_engine::query::AppealFilter {
                    states: vec![redress_core::AppealState::Upheld],
                    queue: Some(BULK_QUEUE.to_owned()),
                    ..Default::default()
                },
                None,
                1_000,
            )
            .await
            .expect("the upheld appeals");
        assert_eq!(upheld.len(), BULK_WAVE - 1);
        for stored in &upheld {
            let decision = stored.appeal.decision.as_ref().expect("a decision");
            assert!(decision.reasons.contains(&stored.reference.to_string()), "{decision:?}");
            assert_eq!(decision.decided_by, "carol");
        }
        assert!(upheld.iter().all(|stored| stored.reference.to_string() != held_reference));
        drop(driver);
        app.stop().await;
        db.cleanup().await;
    }
}
