//! Staff alerts through the real dispatcher: SLA warnings and escalations mail the queue's
//! leads, a faulty-enforcement incident mails the admins, and none of it is dead-lettered.

#[allow(dead_code)]
mod api;

use std::path::Path;
use std::sync::Arc;

use api::TestApp;
use chrono::TimeDelta;
use mail_parser::MessageParser;
use redress_core::{Actor, Channel, Command, IncidentRule, Outcome, Priority, Role};
use redress_engine::delivery::OutboxMessage;
use redress_engine::entity::outbox;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::transparency::DetectorSettings;
use redress_engine::worker::{DispatchReport, DispatchSettings, Dispatcher};
use redress_engine::{Engine, IncomingAppeal};
use sea_orm::EntityTrait;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

/// A mail as staff receive it.
#[derive(Debug)]
struct Mail {
    to: Vec<String>,
    subject: String,
    message_id: String,
    body: String,
}

async fn start(test: &redress_engine::testing::TestDb) -> (TestApp, tempfile::TempDir) {
    let outgoing = tempfile::tempdir().expect("tempdir");
    let mut config = api::config_for(test);
    config.email.outgoing_dir = outgoing.path().to_owned();
    config
        .alerts
        .queues
        .insert("general".into(), vec!["general-leads@example.org".into()]);
    config.alerts.queues.insert(
        "senior".into(),
        vec!["senior-leads@example.org".into(), "duty@example.org".into()],
    );
    config.alerts.admin_recipients = vec!["admins@example.org".into()];
    config.alerts.console_url = "https://appeals.example.org/console".into();
    (Box::pin(TestApp::start_with(config)).await, outgoing)
}

async fn dispatch(app: &TestApp) -> DispatchReport {
    let state = &app.app.state;
    let registry = redress::deliverers::registry(state).expect("registry");
    let dispatcher = Dispatcher::new(
        state.engine.db().clone(),
        Arc::new(app.clock.clone()),
        Arc::new(registry),
        DispatchSettings::default(),
    );
    let (_stop, stop) = watch::channel(false);
    dispatcher.run_once(&stop).await.expect("dispatch")
}

fn mails_to(dir: &Path, recipient: &str) -> Vec<Mail> {
    std::fs::read_dir(dir)
        .expect("outgoing folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .map(|path| {
            let raw = std::fs::read(&path).expect("mail");
            let parsed = MessageParser::default().parse(&raw).expect("parse");
            Mail {
                to: parsed
                    .to()
                    .map(|to| {
                        to.iter()
                            .filter_map(|a| a.address())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                subject: parsed.subject().unwrap_or_default().to_owned(),
                message_id: parsed.message_id().unwrap_or_default().to_owned(),
                body: parsed.body_text(0).unwrap_or_default().into_owned(),
            }
        })
        .filter(|mail| mail.to.iter().any(|to| to == recipient))
        .collect()
}

async fn outbox_rows(engine: &Engine, topic: &str) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .all(engine.db())
        .await
        .expect("outbox")
        .into_iter()
        .filter(|row| row.topic == topic)
        .collect()
}

fn appeal_by_mail(sender: &str, account: Option<&str>) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{}@example.org>", Uuid::now_v7())),
        sender: sender.to_owned(),
        contact: None,
        account_id: account.map(str::to_owned),
        enforcement_id: None,
        identity_verified: account.is_some(),
        subject: Some("My account was banned".into()),
        body: "Please look again.".into(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

/// An enforcement by model `source` in its first batch.
async fn enforcement(engine: &Engine, account: &str, source: &str) {
    let now = engine.clock().now();
    registry::record_enforcement(
        engine.db(),
        NewEnforcement {
            policy: "nudity".into(),
            batch_id: Some(format!("{source}-run-1")),
            ..redress_engine::testing::automated_deactivation(account, "model", source, now)
        },
        now,
    )
    .await
    .expect("enforcement");
}

/// An appeal against an enforcement by model `source` that a reviewer decides to restore.
async fn overturned_appeal(engine: &Engine, account: &str, source: &str) {
    let now = engine.clock().now();
    enforcement(engine, account, source).await;
    let sender = format!("{account}@example.org");
    let id = engine
        .file(
            &Actor::appellant(sender.clone()),
            appeal_by_mail(&sender, Some(account)),
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    let reviewer = Actor::staff("rita", [Role::Reviewer]);
    for command in [
        Command::Triage {
            priority: Priority::Normal,
            queue: "general".into(),
            tags: vec![],
            identity_verified: true,
            four_eyes: false,
            link: None,
        },
        Command::Claim {
            lease_until: now + TimeDelta::minutes(10),
        },
        Command::Decide {
            outcome: Outcome::Restore,
            reasons: "The pin was only saved.".into(),
            statement: None,
            manifestly_unfounded: false,
            template: None,
        },
    ] {
        engine
            .apply(id, None, &command, &reviewer)
            .await
            .expect("command");
    }
}

redress_engine::backend_tests! {
    async fn sla_warnings_and_escalations_mail_the_queue_leads(test) {
        let (app, outgoing) = start(&test).await;
        let engine = app.app.state.engine.clone();
        let filed = engine
            .file(&Actor::appellant("maria@example.org"), appeal_by_mail("maria@example.org", None))
            .await
            .expect("file");
        let id = filed.appeal_id().expect("id");
        let reference = engine.appeal(id).await.expect("appeal").reference.to_string();

        // Triage is due after 4 hours; the leads are warned at 80% of that.
        app.clock.advance(TimeDelta::minutes(3 * 60 + 30));
        redress_engine::worker::sla::tick(&engine, 10).await.expect("tick");
        let report = dispatch(&app).await;
        assert_eq!(report.dead_lettered, 0, "{report:?}");
        let warnings = mails_to(outgoing.path(), "general-leads@example.org");
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        let warning = &warnings[0];
        assert_eq!(
            warning.subject,
            format!("[{reference}] SLA warning: triage due 2026-11-25 13:00 UTC (queue general)")
        );
        assert!(warning.body.contains(&format!("https://appeals.example.org/console/#/case/{id}")), "{}", warning.body);
        assert!(!warning.body.contains("maria"), "no appellant details beyond the reference: {}", warning.body);

        app.clock.advance(TimeDelta::hours(1));
        redress_engine::worker::sla::tick(&engine, 10).await.expect("tick");
        let report = dispatch(&app).await;
        assert_eq!((report.delivered, report.dead_lettered), (1, 0), "{report:?}");
        let escalations = mails_to(outgoing.path(), "senior-leads@example.org");
        assert_eq!(escalations.len(), 1, "{escalations:#?}");
        let escalation = &escalations[0];
        assert!(escalation.to.contains(&"duty@example.org".to_owned()), "{:?}", escalation.to);
        assert_eq!(escalation.subject, format!("[{reference}] Escalated to level 1 (queue senior)"));
        assert!(escalation.body.contains("after missing its triage deadline"), "{}", escalation.body);
        assert_eq!(mails_to(outgoing.path(), "general-leads@example.org").len(), 1, "the escalation goes to the new queue only");

        let alerts = outbox_rows(&engine, "alert_queue").await;
        assert_eq!(alerts.len(), 2);
        assert!(alerts.iter().all(|row| row.status == outbox::OutboxStatus::Delivered), "{alerts:#?}");
        assert!(warning.message_id != escalation.message_id);

        // A retry of a delivered item (the dispatcher delivers at least once) sends a mail
        // with the same Message-ID, so the duplicate is recognisable.
        let row = alerts.iter().find(|row| row.payload["event"] == "sla_warned").expect("warning row");
        let retry = OutboxMessage { attempts: 1, ..OutboxMessage::from(row.clone()) };
        let registry = redress::deliverers::registry(&app.app.state).expect("registry");
        registry.deliverer_for(&retry).expect("a deliverer for alerts").deliver(&retry).await.expect("redelivered");
        let warnings = mails_to(outgoing.path(), "general-leads@example.org");
        assert_eq!(warnings.len(), 2);
        assert!(warnings.iter().all(|mail| mail.message_id == warning.message_id), "{warnings:#?}");
        app.stop().await;
        test.cleanup().await;
    }

    async fn an_incident_mails_the_admins_how_to_undo_it(test) {
        let (app, outgoing) = start(&test).await;
        let engine = app.app.state.engine.clone();
        for i in 0..6 {
            overturned_appeal(&engine, &format!("acct-{i}"), "classifier-v7").await;
        }
        for i in 0..4 {
            enforcement(&engine, &format!("silent-{i}"), "classifier-v7").await;
        }
        // The restorations requested by the decisions are carried out first: a won appeal
        // counts as overturned once the account is back.
        let report = dispatch(&app).await;
        assert_eq!(report.dead_lettered, 0, "{report:?}");
        app.clock.advance(TimeDelta::hours(1));
        let settings = DetectorSettings {
            rule: IncidentRule { min_sample: 5, ..IncidentRule::default() },
            ..DetectorSettings::default()
        };
        let raised = engine.detect_faulty_sources(&settings).await.expect("scan");
        assert_eq!(raised.len(), 1, "{raised:?}");

        let report = dispatch(&app).await;
        assert_eq!(report.dead_lettered, 0, "{report:?}");
        let mails = mails_to(outgoing.path(), "admins@example.org");
        assert_eq!(mails.len(), 1, "{mails:#?}");
        let mail = &mails[0];
        assert_eq!(
            mail.subject,
            format!(
                "Incident: model classifier-v7 overturn rate 100% (lower bound {:.0}%)",
                raised[0].lower_bound * 100.0
            )
        );
        for part in [
            "won 6 times out of 6 decided",
            "reactivate 4 accounts (dry run)",
            "https://appeals.example.org/console/#/transparency",
            "redress bulk-restore --batch classifier-v7-run-1 --dry-run",
        ] {
            assert!(mail.body.contains(part), "{part} missing from\n{}", mail.body);
        }
        let rows = outbox_rows(&engine, "enforcement_incident").await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, outbox::OutboxStatus::Delivered);
        app.stop().await;
        test.cleanup().await;
    }
}
