//! The appellant status page over real sockets, on SQLite and PostgreSQL: only the right
//! reference with the right token opens it, and guessing is rate limited per reference.

use chrono::Utc;
use redress::config::Config;
use redress_core::{Actor, Channel};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::TestDb;
use redress_engine::IncomingAppeal;
use serde_json::{json, Value};

fn config_for(test: &TestDb) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    config.email.outgoing_dir =
        std::env::temp_dir().join(format!("redress-test-mail-{}", uuid::Uuid::now_v7()));
    config.transparency.status_page.burst = 5;
    config.transparency.status_page.attempts_per_minute = 1;
    config
}

fn enforcement(account: &str, policy: &str) -> NewEnforcement {
    NewEnforcement {
        external_id: None,
        account_id: account.to_owned(),
        account_email: Some(format!("{account}@example.org")),
        account_locale: None,
        kind: "account_deactivation".into(),
        policy: policy.into(),
        source_kind: "rule".into(),
        source_id: "spam-12".into(),
        batch_id: None,
        automated_detection: "fully".into(),
        automated_decision: "partially".into(),
        content_id: None,
        content_relation: None,
        facts: "Forty identical links posted in an hour.".into(),
        statement: json!({
            "restrictions": [{"kind": "account_suspended", "starts_at": Utc::now()}],
            "territorial_scope": {"scope": "worldwide"},
            "facts": "Forty identical links posted in an hour.",
            "automated_detection": "fully",
            "automated_decision": "partially",
            "ground": {"ground": "incompatible_with_terms", "clause": "4.2", "explanation": "spam"},
            "redress": ["internal_complaint", "out_of_court_dispute_settlement", "judicial_redress"]
        }),
        enforced_at: Utc::now(),
    }
}

/// Files an appeal and returns its reference and the token its acknowledgement carries.
async fn filed(app: &redress::app::RunningApp, account: &str) -> (String, String) {
    filed_with(app, account, "I did nothing wrong.").await
}

async fn filed_with(app: &redress::app::RunningApp, account: &str, body: &str) -> (String, String) {
    filed_under(app, account, body, "spam").await
}

async fn filed_under(
    app: &redress::app::RunningApp,
    account: &str,
    body: &str,
    policy: &str,
) -> (String, String) {
    let engine = &app.state.engine;
    registry::record_enforcement(engine.db(), enforcement(account, policy), Utc::now())
        .await
        .expect("enforcement");
    let filing = engine
        .file(
            &Actor::appellant("person@example.org"),
            IncomingAppeal {
                channel: Channel::Email,
                channel_message_id: Some(format!("<{account}@example.org>")),
                sender: "person@example.org".into(),
                contact: None,
                account_id: Some(account.to_owned()),
                enforcement_id: None,
                identity_verified: true,
                subject: Some("Banned".into()),
                body: body.into(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file");
    let id = filing.appeal_id().expect("id");
    let reference = engine.appeal(id).await.expect("load").reference.to_string();
    let token = engine
        .appellant_case(id)
        .await
        .expect("case")
        .status_token
        .expect("token");
    (reference, token)
}

/// The `spam` policy with titles that need escaping, in English and German.
fn titled_spam_policy() -> redress_core::Policy {
    let text = |title: &str| redress_core::PolicyText {
        title: title.to_owned(),
        ground: "Community guidelines, section 4.2".to_owned(),
        explanation: "Posting the same commercial links many times is spam.".to_owned(),
    };
    redress_core::Policy {
        id: "spam".to_owned(),
        ground_kind: redress_core::GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".to_owned(),
        restrictions: Vec::new(),
        texts: [
            ("en".to_owned(), text("Spam & <b>scam</b> links")),
            ("de".to_owned(), text("Spam & \"Betrug\"")),
        ]
        .into_iter()
        .collect(),
    }
}

/// The status page of `reference` as HTML.
async fn page_of(base: &str, reference: &str, token: &str) -> String {
    reqwest::get(format!("{base}/status/{reference}?token={token}"))
        .await
        .expect("page")
        .text()
        .await
        .expect("html")
}

async fn lookup(base: &str, reference: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/status"))
        .header("accept", "application/json")
        .form(&[("reference", reference), ("token", token)])
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let body = if status == 429 {
        Value::Null
    } else {
        response.json().await.expect("json")
    };
    (status, body)
}

redress_engine::backend_tests! {
    async fn the_page_forecasts_the_decision_from_the_queue_s_recent_pace(test) {
        // The queue decides over two days: one day says nothing of how its pace varies.
        let clock = redress_engine::ManualClock::new(Utc::now() - chrono::TimeDelta::days(1));
        let app = redress::app::start_with_clock(config_for(&test), std::sync::Arc::new(clock.clone())).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let engine = &app.state.engine;
        let (first, first_token) = filed(&app, "acct-early").await;
        let (_, view) = lookup(&base, &first, &first_token).await;
        assert_eq!(view["estimate"], Value::Null, "no decisions yet, no pace to go by: {view}");

        let reviewer = Actor::staff("rosa", [redress_core::Role::Reviewer]);
        let decisions = redress_engine::transparency::estimate::MIN_DECISIONS_TO_FORECAST;
        for number in 0..decisions {
            if number == decisions / 2 {
                clock.advance(chrono::TimeDelta::days(1));
            }
            let (reference, _) = filed(&app, &format!("acct-decided-{number}")).await;
            let id = engine.appeal_by_reference(&reference.parse().expect("reference")).await.expect("appeal").id;
            let lease_until = clock.now_plus(chrono::TimeDelta::minutes(10));
            redress_engine::testing::triage_claim_and_decide(engine, id, &reviewer, lease_until, true, serde_json::from_value(redress_engine::testing::automated_suspension_statement(clock.now_plus(chrono::TimeDelta::zero()))).expect("statement")).await;
        }
        clock.advance(chrono::TimeDelta::hours(1));
        let (reference, token) = filed(&app, "acct-waiting").await;
        let (status, view) = lookup(&base, &reference, &token).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["estimate"]["ahead"], 1, "the earlier filed case comes first: {view}");
        assert!(view["estimate"]["earliest"].as_str() < view["estimate"]["latest"].as_str(), "{view}");

        let page = reqwest::Client::new()
            .post(format!("{base}/status"))
            .form(&[("reference", reference.as_str()), ("token", token.as_str())])
            .send()
            .await
            .expect("post")
            .text()
            .await
            .expect("html");
        assert!(page.contains("id=\"decision-estimate\""), "{page}");
        assert!(page.contains("Cases ahead of yours: 1."), "{page}");

        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn the_page_names_the_policy_by_its_catalog_title_escaped_else_by_its_id(test) {
        let mut config = config_for(&test);
        config.policies = vec![titled_spam_policy()];
        let app = redress::app::start(config).await.expect("start");
        let base = format!("http://{}", app.http_addr);

        let (reference, token) = filed(&app, "acct-titled").await;
        let page = page_of(&base, &reference, &token).await;
        assert!(page.contains("<dd>Spam &amp; &lt;b&gt;scam&lt;/b&gt; links</dd>"), "{page}");
        assert!(!page.contains("<dd>spam</dd>") && !page.contains("<b>scam</b>"), "{page}");

        let german = "Guten Tag, mein Konto wurde gesperrt, obwohl ich nichts falsch gemacht habe. \
                      Bitte prüfen Sie die Entscheidung noch einmal.";
        let (reference, token) = filed_with(&app, "acct-titled-de", german).await;
        let page = page_of(&base, &reference, &token).await;
        assert!(page.contains("<dd>Spam &amp; &quot;Betrug&quot;</dd>"), "the German title: {page}");

        let (reference, token) = filed_under(&app, "acct-unlisted", "I did nothing wrong.", "not-<in>-catalog").await;
        let page = page_of(&base, &reference, &token).await;
        assert!(page.contains("<dd>not-&lt;in&gt;-catalog</dd>"), "no title, the id: {page}");

        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn the_status_page_speaks_the_appellants_language(test) {
        let app = redress::app::start(config_for(&test)).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let german = "Guten Tag, mein Konto wurde gesperrt, obwohl ich nichts falsch gemacht habe. \
                      Bitte prüfen Sie die Entscheidung noch einmal.";
        let (reference, token) = filed_with(&app, "acct-de", german).await;
        let page = reqwest::get(format!("{base}/status/{reference}?token={token}"))
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        for expected in ["<html lang=\"de\">", "Eingegangen, wartet auf Prüfung", "Informationen ergänzen", "Wir haben Ihren Einspruch erhalten."] {
            assert!(page.contains(expected), "{expected:?} missing from {page}");
        }
        let form = reqwest::Client::new()
            .get(format!("{base}/status"))
            .header("accept-language", "fr-CH, fr;q=0.9, en;q=0.8")
            .send()
            .await
            .expect("form")
            .text()
            .await
            .expect("html");
        assert!(form.contains("<h1>Votre recours</h1>"), "{form}");
        let hostile = reqwest::Client::new()
            .get(format!("{base}/status"))
            .header("accept-language", "x".repeat(8000))
            .send()
            .await
            .expect("form");
        assert_eq!(hostile.status(), 200);
        assert!(hostile.text().await.expect("html").contains("<h1>Your appeal</h1>"));
        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn the_page_says_when_a_bulk_restore_covers_the_account_in_the_appellants_language(test) {
        let app = redress::app::start(config_for(&test)).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let engine = &app.state.engine;
        redress_engine::testing::seed_deactivated_wave(engine.db(), 2, "nudity-v7").await;
        redress_engine::restoration::BulkRestorer::new(engine.clone(), redress_engine::restoration::RestorationBackend::Embedded)
            .start(
                &Actor::staff("sam", [redress_core::Role::Support]),
                redress_engine::restoration::Selector::Source { source_id: "nudity-v7".into() },
                "The image model misread saved pictures.",
                10,
            )
            .await
            .expect("start the job");
        let id = engine
            .file(
                &Actor::appellant("user0@example.org"),
                IncomingAppeal {
                    channel: Channel::Email,
                    channel_message_id: Some("<wave@example.org>".into()),
                    sender: "user0@example.org".into(),
                    contact: None,
                    account_id: Some("acct-00000".into()),
                    enforcement_id: None,
                    identity_verified: true,
                    subject: Some("Konto".into()),
                    body: "Guten Tag, mein Konto wurde gesperrt, obwohl ich das Bild nur gespeichert habe. \
                           Bitte prüfen Sie die Entscheidung noch einmal.".into(),
                    in_reply_to: None,
                    metadata: json!({}),
                },
            )
            .await
            .expect("file")
            .appeal_id()
            .expect("a case");
        let case = engine.appellant_case(id).await.expect("case");
        let page = reqwest::get(format!("{base}/status/{}?token={}", case.reference, case.status_token.expect("token")))
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let said = redress_notify::wave::wave_text(redress_engine::transparency::Wave::RestoreRunning, "de");
        assert!(page.contains(&format!("<p id=\"wave\"><strong>{said}</strong></p>")), "{page}");
        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn the_status_page_needs_the_right_reference_and_token_and_limits_guessing(test) {
        let app = redress::app::start(config_for(&test)).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let (reference, token) = filed(&app, "acct-1").await;
        let (other_reference, other_token) = filed(&app, "acct-2").await;

        let form = reqwest::get(format!("{base}/status")).await.expect("form");
        assert_eq!(form.status(), 200);
        assert!(form.text().await.expect("html").contains("<form method=\"post\" action=\"/status\">"));

        let (status, view) = lookup(&base, &reference, &token).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["state"], "filed");
        assert_eq!(view["reference"], reference.as_str());
        assert!(view.get("status_token").is_none());

        let (status, wrong_token) = lookup(&base, &reference, &other_token).await;
        assert_eq!(status, 404);
        let (status, wrong_reference) = lookup(&base, "RDR-0000-0000", &token).await;
        assert_eq!(status, 404);
        assert_eq!(wrong_token, wrong_reference, "a wrong token and a wrong reference look the same");
        let (status, _) = lookup(&base, &other_reference, &token).await;
        assert_eq!(status, 404);

        let added = reqwest::Client::new()
            .post(format!("{base}/status/{reference}"))
            .header("accept", "application/json")
            .form(&[("token", token.as_str()), ("information", "The links were my own shop's.")])
            .send()
            .await
            .expect("add");
        assert_eq!(added.status(), 200);
        let messages = redress_engine::repo::messages::for_appeal(app.state.engine.db(), redress_engine::repo::appeals::find_by_reference(app.state.engine.db(), &reference.parse().expect("reference")).await.expect("appeal").id).await.expect("messages");
        assert_eq!(messages.last().map(|m| m.body.as_str()), Some("The links were my own shop's."));

        // Two lookups and one addition used three of the reference's five attempts; a
        // guess and one more lookup use the rest, then even the right token is refused.
        let (status, _) = lookup(&base, &reference, "guess").await;
        assert_eq!(status, 404);
        let (status, _) = lookup(&base, &reference, &token).await;
        assert_eq!(status, 200);
        let (status, _) = lookup(&base, &reference, &token).await;
        assert_eq!(status, 429);
        let (status, _) = lookup(&base, &other_reference, &other_token).await;
        assert_eq!(status, 200, "other references keep their own allowance");

        app.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn text_that_is_no_reference_is_answered_at_once_and_spends_no_allowance(test) {
        let app = redress::app::start(config_for(&test)).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let (reference, token) = filed(&app, "acct-garbage").await;

        // The limiter is keyed by references; text that cannot be one never gets a key,
        // however often or however long it is sent.
        for garbage in ["not a reference", "RDR-7K3Q-9M2Y", &"A".repeat(100_000), "RDR\0"] {
            for _ in 0..8 {
                let (status, body) = lookup(&base, garbage, &token).await;
                assert_eq!(status, 404, "{body}");
                assert_eq!(body["error"], "no appeal matches this reference and token");
            }
        }
        // Spelled in lower case the reference is the same key as in capitals.
        let (status, _) = lookup(&base, &reference.to_ascii_lowercase(), &token).await;
        assert_eq!(status, 200);
        for _ in 0..4 {
            lookup(&base, &reference, "guess").await;
        }
        let (status, _) = lookup(&base, &reference.to_ascii_lowercase(), &token).await;
        assert_eq!(status, 429, "five attempts on one reference, whatever its spelling");

        app.stop().await.expect("stop");
        test.cleanup().await;
    }
}
