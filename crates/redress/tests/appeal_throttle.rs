//! Throttling repeated manifestly unfounded appeals, end to end: the warning after the Nth
//! such decision, then refusals with a clear answer on the API, by mail and by DM, each
//! audited; appeals are taken again once the period ends.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod smtp_client;

use api::{TestApp, FILE, RECORD};
use chrono::TimeDelta;
use redress_core::{Channel, Role};
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::entity::outbox;
use redress_engine::repo::{audit, handles};
use redress_engine::transparency::AppealsThrottled;
use redress_engine::{Clock, EngineError, Filing, IncomingAppeal};
use sea_orm::EntityTrait;
use serde_json::{json, Value};

const ACCOUNT: &str = "acct-t";
const CLAIM: &str = r"mutation { claimNextAppeal(queue: null) { id version } }";
const DECIDE: &str = r"mutation($id: ID!, $v: Int!, $o: Outcome!, $r: String!, $s: JSON, $m: Boolean) {
    decideAppeal(id: $id, expectedVersion: $v, outcome: $o, reasons: $r, statementOfReasons: $s, manifestlyUnfounded: $m) {
    state decision { manifestlyUnfounded } } }";

fn statement(app: &TestApp) -> Value {
    redress_engine::testing::reviewed_suspension_statement(app.clock.now())
}

async fn file(app: &TestApp, request: &str) -> (u16, Value) {
    let platform = app.token("platform", &[Role::Integration]);
    app.post(
        Some(&platform),
        FILE,
        json!({"i": {
            "requestId": request,
            "accountId": ACCOUNT,
            "sender": format!("{ACCOUNT}@example.test"),
            "body": "please look again",
            "identityVerified": true,
        }}),
    )
    .await
}

/// Files, triages, claims and upholds an appeal as manifestly unfounded.
async fn unfounded_appeal(app: &TestApp, request: &str) {
    let (_, filed) = file(app, request).await;
    let appeal = filed["data"]["fileAppeal"]["appeal"].clone();
    assert!(!appeal.is_null(), "filed: {filed}");
    let triager = app.token("tina", &[Role::Triager]);
    app.ok(
        &triager,
        api::TRIAGE,
        json!({"id": appeal["id"], "v": appeal["version"], "q": null}),
    )
    .await;
    let rita = app.token("rita", &[Role::Reviewer]);
    let claimed = app.ok(&rita, CLAIM, json!({})).await["claimNextAppeal"].clone();
    assert_eq!(claimed["id"], appeal["id"]);
    let restore_too = app.error_code(&rita, DECIDE, json!({"id": claimed["id"], "v": claimed["version"], "o": "RESTORE", "r": "fine", "m": true})).await;
    assert_eq!(
        restore_too, "BAD_USER_INPUT",
        "only an upheld appeal can be manifestly unfounded"
    );
    let decided = app.ok(&rita, DECIDE, json!({"id": claimed["id"], "v": claimed["version"], "o": "UPHOLD", "r": "the same complaint again, already answered", "s": statement(app), "m": true})).await;
    assert_eq!(decided["decideAppeal"]["state"], "UPHELD");
    assert_eq!(
        decided["decideAppeal"]["decision"]["manifestlyUnfounded"],
        true
    );
}

async fn warnings(app: &TestApp) -> Vec<redress_engine::entity::outbox::Model> {
    outbox::Entity::find()
        .all(app.app.state.engine.db())
        .await
        .expect("outbox")
        .into_iter()
        .filter(|item| item.payload["effect"]["notice"] == "throttle_warning")
        .collect()
}

redress_engine::backend_tests! {
    async fn unfounded_appeals_earn_a_warning_then_refusals_on_every_channel(test) {
        let outgoing = tempfile::tempdir().expect("tempdir");
        let mut config = api::config_for(&test);
        config.transparency.appeal_throttle.unfounded_appeals = 2;
        config.transparency.appeal_throttle.window_days = 30;
        config.transparency.appeal_throttle.refuse_days = 7;
        config.email.accepted_domains = vec!["redress.test".to_owned()];
        config.email.trusted_authserv_ids = vec!["mx.redress.test".to_owned()];
        outgoing.path().clone_into(&mut config.email.outgoing_dir);
        let app = TestApp::start_with(config).await;
        let platform = app.token("platform", &[Role::Integration]);
        app.ok(&platform, RECORD, json!({"e": [api::enforcement(ACCOUNT, "spam")]})).await;

        unfounded_appeal(&app, "req-1").await;
        assert!(warnings(&app).await.is_empty(), "one unfounded appeal earns no warning");
        unfounded_appeal(&app, "req-2").await;
        let warned = warnings(&app).await;
        assert_eq!(warned.len(), 1, "the second earns the warning");
        assert_eq!(warned[0].topic, "notify_appellant");
        assert_eq!(warned[0].payload["contact"], format!("{ACCOUNT}@example.test"));
        let until = app.clock.now() + TimeDelta::days(7);
        let until_text = until.format("%Y-%m-%d %H:%M UTC").to_string();
        assert!(warned[0].payload["reason"].as_str().expect("reason").contains(&until_text), "{}", warned[0].payload);
        // The mail deliverer sends it like any notice, with the date.
        let item = redress_engine::delivery::OutboxMessage::from(warned[0].clone());
        let registry = redress::deliverers::registry(&app.app.state).expect("registry");
        registry.deliverer_for(&item).expect("mail takes API notices").deliver(&item).await.expect("deliver");
        let written: Vec<_> = std::fs::read_dir(outgoing.path()).expect("dir").map(|e| e.expect("entry").path()).collect();
        assert_eq!(written.len(), 1);
        let mail = String::from_utf8(std::fs::read(&written[0]).expect("read")).expect("utf-8");
        assert!(mail.contains("Further appeals will not be accepted for a while"), "{mail}");
        assert!(mail.replace("=\r\n", "").contains(&until_text), "{mail}");

        let db = app.app.state.engine.db().clone();
        let audited = audit::entries(&db, audit::THROTTLE_WARNING, Some(ACCOUNT)).await.expect("audit");
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].details["unfounded_appeals"], 2);

        // The API answers with the reason and the date.
        let (_, refused) = file(&app, "req-3").await;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{refused}");
        let message = refused["errors"][0]["message"].as_str().expect("message");
        assert!(message.contains("manifestly unfounded") && message.contains(&until_text), "{message}");

        // Mail from the account's verified address is refused at the SMTP dialogue, so the
        // sender's server returns the reason to them and nothing is half-accepted.
        let smtp = app.app.smtp_addr.expect("SMTP");
        let mail = format!("Authentication-Results: mx.redress.test; dkim=pass header.d=example.test\r\nFrom: {ACCOUNT}@example.test\r\nTo: appeals@redress.test\r\nSubject: banned again\r\nMessage-ID: <again@example.test>\r\nContent-Type: text/plain\r\n\r\nplease look again\r\n");
        let refusal = smtp_client::try_send(smtp, &format!("{ACCOUNT}@example.test"), mail.as_bytes()).await.expect_err("refused");
        assert!(refusal.to_string().contains("manifestly unfounded"), "{refusal}");

        // A DM from a handle linked to the account is kept, not filed, and answered by DM.
        let engine = app.app.state.engine.clone();
        handles::link(&db, Channel::X, "x-4242", ACCOUNT, engine.clock().now()).await.expect("link");
        let dm = IncomingAppeal {
            channel: Channel::X,
            channel_message_id: Some("dm-1".into()),
            sender: "x-4242".into(),
            contact: Some("x-4242".into()),
            account_id: None,
            enforcement_id: None,
            identity_verified: false,
            subject: None,
            body: "unban me".into(),
            in_reply_to: None,
            metadata: json!({}),
        };
        let confirmation = ConfirmationSettings { url: "http://localhost/confirm".into(), valid_for: TimeDelta::hours(1) };
        let receipt = engine.receive_direct_message(dm.clone(), &confirmation).await.expect("DM received");
        assert_eq!(receipt.filing, Filing::Refused { until });
        let again = engine.receive_direct_message(dm, &confirmation).await.expect("redelivered");
        assert!(matches!(again.filing, Filing::Duplicate { appeal_id: None }), "a redelivery is recognised: {again:?}");
        let answers: Vec<_> = outbox::Entity::find().all(&db).await.expect("outbox").into_iter()
            .filter(|item| item.payload["effect"]["notice"] == "appeal_refused").collect();
        assert_eq!(answers.len(), 1, "one answer per refused DM");
        assert_eq!(answers[0].payload["channel"], "x");
        assert_eq!(answers[0].payload["contact"], "x-4242");
        let kept = redress_engine::entity::message::Entity::find().all(&db).await.expect("messages").into_iter()
            .filter(|m| m.classification == "refused_throttled").count();
        assert_eq!(kept, 1, "the refused DM is on record");

        let refusals = audit::entries(&db, audit::THROTTLE_REFUSAL, Some(ACCOUNT)).await.expect("audit");
        let channels: Vec<&str> = refusals.iter().map(|r| r.details["channel"].as_str().expect("channel")).collect();
        assert_eq!(channels, ["api", "email", "x"], "every refusal is audited once");

        // The engine refuses with a typed error the intake channels act on.
        let direct = engine.file(&redress_core::Actor::system("intake"), IncomingAppeal {
            channel: Channel::Api, channel_message_id: None, sender: "s".into(), contact: None,
            account_id: Some(ACCOUNT.into()), enforcement_id: None, identity_verified: true,
            subject: None, body: "b".into(), in_reply_to: None, metadata: json!({}),
        }).await;
        let refused = match &direct {
            Err(EngineError::Refused(refusal)) => refusal.downcast_ref::<AppealsThrottled>(),
            _ => None,
        };
        assert_eq!(refused, Some(&AppealsThrottled { account: ACCOUNT.into(), until }), "{direct:?}");

        // After the period the account may appeal again.
        app.clock.advance(TimeDelta::days(7) + TimeDelta::minutes(1));
        let (_, accepted) = file(&app, "req-4").await;
        assert_eq!(accepted["data"]["fileAppeal"]["outcome"], "CREATED", "{accepted}");
        app.stop().await;
        test.cleanup().await;
    }

    async fn throttling_is_off_by_default(test) {
        let app = TestApp::start(&test).await;
        let platform = app.token("platform", &[Role::Integration]);
        app.ok(&platform, RECORD, json!({"e": [api::enforcement(ACCOUNT, "spam")]})).await;
        for request in ["req-1", "req-2", "req-3"] {
            unfounded_appeal(&app, request).await;
        }
        assert!(warnings(&app).await.is_empty());
        let (_, accepted) = file(&app, "req-4").await;
        assert_eq!(accepted["data"]["fileAppeal"]["outcome"], "CREATED", "{accepted}");
        app.stop().await;
        test.cleanup().await;
    }
}
