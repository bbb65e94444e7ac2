//! Appellant notices by mail: into files (the default transport) and through an SMTP relay
//! on loopback, on SQLite and PostgreSQL.

mod common;

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use common::relay;
use mail_parser::{MessageParser, MimeHeaders};
use redress_core::{
    Actor, Automation, Channel, Command, Ground, Outcome, Priority, RedressOption, Restriction,
    RestrictionKind, Role, StatementOfReasons, TerritorialScope,
};
use redress_engine::delivery::{Deliverer, DeliveryError, OutboxMessage};
use redress_engine::repo::messages::Direction;
use redress_engine::repo::{messages, outbox};
use redress_engine::testing::automated_deactivation;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, ManualClock, MessageIdSigner};
use redress_notify::case_details::{case_details, CaseDetails, NoticeSettings};
use redress_notify::mail::{MailDeliverer, MailSettings, MailTransport, SigningKey, Templates};
use redress_notify::preview;
use serde_json::json;
use uuid::Uuid;

fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .expect("date"),
    )
}

fn statement(at: chrono::DateTime<Utc>) -> StatementOfReasons {
    StatementOfReasons {
        restrictions: vec![Restriction {
            kind: RestrictionKind::AccountSuspended,
            starts_at: at,
            ends_at: None,
        }],
        territorial_scope: TerritorialScope::Worldwide,
        facts: "The account created the pin and posted it forty times.".into(),
        automated_detection: Automation::Fully,
        automated_decision: Automation::Not,
        ground: Ground::IncompatibleWithTerms {
            clause: "Community guidelines 4.2".into(),
            explanation: "Repeated commercial posting is spam.".into(),
        },
        redress: vec![
            RedressOption::OutOfCourtDisputeSettlement,
            RedressOption::JudicialRedress,
        ],
    }
}

fn signer() -> MessageIdSigner {
    MessageIdSigner::new("outbound test secret")
}

fn deliverer(engine: &Engine, transport: MailTransport) -> MailDeliverer {
    deliverer_with(engine, transport, NoticeSettings::default())
}

fn deliverer_with(
    engine: &Engine,
    transport: MailTransport,
    notices: NoticeSettings,
) -> MailDeliverer {
    MailDeliverer::new(
        engine.clone(),
        Templates::load(None, "en").expect("templates"),
        transport,
        SigningKey::Configured(signer()),
        MailSettings {
            from: "Redress Appeals <appeals@redress.test>"
                .parse()
                .expect("from"),
            message_id_domain: "redress.test".to_owned(),
            default_language: "en".to_owned(),
            notices,
        },
    )
}

async fn file_by_mail(engine: &Engine) -> Uuid {
    let incoming = IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some("<first@mail.example.org>".to_owned()),
        sender: "maria.lopez@example.org".to_owned(),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some("My account".to_owned()),
        body: "I only saved a pin.".to_owned(),
        in_reply_to: None,
        metadata: json!({}),
    };
    engine
        .file(&Actor::appellant("maria.lopez@example.org"), incoming)
        .await
        .expect("file")
        .appeal_id()
        .expect("appeal")
}

/// The outbox items of an appeal with the given notice, as the dispatcher hands them over.
async fn notices_of(engine: &Engine, appeal_id: Uuid, notice: &str) -> Vec<OutboxMessage> {
    outbox::for_appeal(engine.db(), appeal_id)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|row| row.payload["effect"]["notice"] == notice)
        .map(OutboxMessage::from)
        .collect()
}

fn written_mails(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| std::fs::read(path).expect("read mail"))
        .collect()
}

redress_engine::backend_tests! {
    async fn the_acknowledgement_is_written_with_reference_signed_id_and_threading(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let appeal_id = file_by_mail(&engine).await;
        let reference = engine.appeal(appeal_id).await.expect("appeal").reference.to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = deliverer(&engine, MailTransport::files(dir.path()).expect("dir"));
        let items = notices_of(&engine, appeal_id, "acknowledgement").await;
        assert_eq!(items.len(), 1);
        mailer.deliver(&items[0]).await.expect("deliver");

        let mails = written_mails(dir.path());
        assert_eq!(mails.len(), 1);
        let mail = MessageParser::default().parse(&mails[0]).expect("parse");
        assert_eq!(mail.subject(), Some(format!("[{reference}] We received your appeal").as_str()));
        assert_eq!(mail.to().and_then(|to| to.first()).and_then(|a| a.address()), Some("maria.lopez@example.org"));
        assert_eq!(mail.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
        assert_eq!(mail.in_reply_to().as_text(), Some("first@mail.example.org"));
        let message_id = mail.message_id().expect("message id");
        assert_eq!(signer().verify(message_id), Some(appeal_id), "replies will find the case");
        assert!(mail.body_text(0).expect("text").contains(&reference));
        assert!(mail.body_html(0).expect("html").contains(&format!("<strong>{reference}</strong>")));

        let record = messages::for_appeal(&test.db, appeal_id).await.expect("messages");
        assert_eq!(record.len(), 2, "the appellant's mail and ours");
        assert_eq!(record[1].direction, Direction::Outbound);
        assert_eq!(record[1].channel_message_id.as_deref(), Some(format!("<{message_id}>").as_str()));

        mailer.deliver(&items[0]).await.expect("a repeated delivery is harmless");
        let again = MessageParser::default().parse(&written_mails(dir.path())[1]).expect("parse").message_id().map(str::to_owned);
        assert_eq!(again.as_deref(), Some(message_id), "a retry sends the same Message-ID");
        test.cleanup().await;
    }

    async fn a_decision_carries_its_reasons_and_the_redress_options(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let appeal_id = file_by_mail(&engine).await;
        let alice = Actor::staff("alice", [Role::Reviewer]);
        engine.apply(appeal_id, None, &Command::Triage { priority: Priority::Normal, queue: "general".into(), tags: vec![], identity_verified: true, four_eyes: false, link: None }, &alice).await.expect("triage");
        engine.apply(appeal_id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");
        engine.apply(appeal_id, None, &Command::Decide { outcome: Outcome::Uphold, reasons: "The pin was posted, not saved: <policy 3.1>.".into(), statement: Some(statement(clock.now_plus(TimeDelta::zero()))), manifestly_unfounded: false, template: None }, &alice).await.expect("decide");
        let items = notices_of(&engine, appeal_id, "decision_upheld").await;
        assert_eq!(items.len(), 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = deliverer(&engine, MailTransport::files(dir.path()).expect("dir"));
        mailer.deliver(&items[0]).await.expect("deliver");
        let raw = written_mails(dir.path()).remove(0);
        let mail = MessageParser::default().parse(&raw).expect("parse");
        let text = mail.body_text(0).expect("text");
        assert!(text.contains("The pin was posted, not saved: <policy 3.1>."), "{text}");
        assert!(text.contains("Restriction: account suspended, until further notice"), "{text}");
        assert!(text.contains("Facts: The account created the pin and posted it forty times."), "{text}");
        assert!(text.contains("Detected automatically: fully"), "{text}");
        assert!(text.contains("Decided automatically: no"), "{text}");
        assert!(text.contains("Ground: incompatible with our terms (Community guidelines 4.2): Repeated commercial posting is spam."), "{text}");
        assert!(text.contains("- refer the dispute to a certified out-of-court dispute settlement body"), "{text}");
        assert!(text.contains("- seek redress before a court"), "{text}");
        assert!(!text.contains("reviewed again"), "only the options the statement names: {text}");
        assert!(mail.body_html(0).expect("html").contains("&lt;policy 3.1&gt;"));
        assert_eq!(mail.header_raw("Auto-Submitted"), None, "a reviewer's decision is not automatic");
        assert!(mail.text_part(0).is_some_and(|p| p.content_type().is_some_and(|ct| ct.c_subtype.as_deref() == Some("plain"))));
        test.cleanup().await;
    }

    async fn the_preview_of_a_restore_is_the_mail_it_sends_but_for_the_token(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let enforced_at = clock.now_plus(TimeDelta::days(-2));
        let enforcement_id = engine
            .record_enforcements(vec![automated_deactivation("acct-maria", "model", "classifier-v7", enforced_at)])
            .await
            .expect("record")[0];
        let incoming = IncomingAppeal {
            channel: Channel::Email,
            channel_message_id: Some("<verified@mail.example.org>".to_owned()),
            sender: "acct-maria@example.org".to_owned(),
            contact: None,
            account_id: Some("acct-maria".to_owned()),
            enforcement_id: Some(enforcement_id),
            identity_verified: true,
            subject: Some("My account".to_owned()),
            body: "I only saved a pin.".to_owned(),
            in_reply_to: None,
            metadata: json!({}),
        };
        let filed = engine.file(&Actor::appellant("acct-maria@example.org"), incoming).await.expect("file");
        let appeal_id = filed.appeal_id().expect("appeal");
        let alice = Actor::staff("alice", [Role::Reviewer]);
        engine.apply(appeal_id, None, &Command::Triage { priority: Priority::Normal, queue: "general".into(), tags: vec![], identity_verified: true, four_eyes: false, link: None }, &alice).await.expect("triage");
        engine.apply(appeal_id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");

        // What the reviewer previews, the token of the link withheld as the console's is.
        let notices = NoticeSettings::new("https://appeals.example.org", Vec::new());
        let details = case_details(&engine, &notices, Some(appeal_id)).await.expect("details").expect("a case");
        let reference = details.case.reference.clone();
        let token = details.case.status_token.clone().expect("the case has a status token");
        let withheld = CaseDetails {
            status_link: Some(notices.status_link(&reference, "withheld")),
            ..details
        };
        let reasons = "The pin was saved, not posted.";
        let templates = Templates::load(None, "en").expect("templates");
        let preview = preview::decision_notice(&templates, "en", &reference, Outcome::Restore, reasons, None, &[], Some(&withheld)).expect("preview");
        assert!(preview.text.contains("A saved pin matched the classifier."), "the enforcement's statement: {}", preview.text);

        engine.apply(appeal_id, None, &Command::Decide { outcome: Outcome::Restore, reasons: reasons.into(), statement: None, manifestly_unfounded: false, template: None }, &alice).await.expect("decide");
        engine.apply(appeal_id, None, &Command::RestorationConfirmed { restoration_id: Uuid::now_v7() }, &Actor::system("restoration")).await.expect("restored");
        let items = notices_of(&engine, appeal_id, "decision_restored").await;
        assert_eq!(items.len(), 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = deliverer_with(&engine, MailTransport::files(dir.path()).expect("dir"), notices);
        mailer.deliver(&items[0]).await.expect("deliver");
        let raw = written_mails(dir.path()).remove(0);
        let mail = MessageParser::default().parse(&raw).expect("parse");
        assert_eq!(mail.subject(), Some(preview.subject.as_str()));
        let sent = mail.body_text(0).expect("text").replace("\r\n", "\n");
        assert_eq!(sent.trim_end(), preview.text.replace("withheld", &token).trim_end());
        // The case's record keeps the mail with the token withheld: staff read it.
        let recorded = messages::for_appeal(engine.db(), appeal_id).await.expect("messages")
            .into_iter().find(|m| m.direction == Direction::Outbound && m.classification == "decision_restored").expect("the sent mail on record");
        assert!(!recorded.body.contains(&token), "{}", recorded.body);
        assert!(recorded.body.contains(&format!("token={}", redress_notify::mail::deliverer::TOKEN_OFF_THE_RECORD)), "{}", recorded.body);
        test.cleanup().await;
    }

    async fn a_relay_receives_the_mail_and_its_refusals_are_classified(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let appeal_id = file_by_mail(&engine).await;
        let item = notices_of(&engine, appeal_id, "acknowledgement").await.remove(0);

        let (addr, received) = relay("250 2.1.5 ok\r\n").await;
        let url = format!("smtp://{addr}");
        let mailer = deliverer(&engine, MailTransport::relay(&url, None).expect("relay"));
        mailer.deliver(&item).await.expect("relayed");
        drop(mailer);
        let data = received.await.expect("relay task");
        let mail = MessageParser::default().parse(&data).expect("parse relayed mail");
        assert_eq!(signer().verify(mail.message_id().expect("id")), Some(appeal_id));

        let (addr, _task) = relay("550 5.1.1 no such user\r\n").await;
        let refused = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        assert!(matches!(refused.deliver(&item).await, Err(DeliveryError::Permanent(_))));

        let (addr, _task) = relay("451 4.3.0 try later\r\n").await;
        let deferred = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        assert!(matches!(deferred.deliver(&item).await, Err(DeliveryError::Retryable(_))));
        test.cleanup().await;
    }

    async fn a_generated_key_is_shared_through_the_database(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let appeal_id = file_by_mail(&engine).await;
        let item = notices_of(&engine, appeal_id, "acknowledgement").await.remove(0);
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = MailDeliverer::new(
            engine.clone(),
            Templates::load(None, "en").expect("templates"),
            MailTransport::files(dir.path()).expect("dir"),
            SigningKey::Stored,
            MailSettings {
                from: "appeals@redress.test".parse().expect("from"),
                message_id_domain: "redress.test".to_owned(),
                default_language: "en".to_owned(),
                notices: redress_notify::case_details::NoticeSettings::default(),
            },
        );
        mailer.deliver(&item).await.expect("deliver");
        let raw = written_mails(dir.path()).remove(0);
        let id = MessageParser::default().parse(&raw).expect("parse").message_id().expect("id").to_owned();
        let (first, second) = tokio::join!(
            redress_engine::mail_id::stored_signer(&test.db, clock.now_plus(TimeDelta::zero())),
            redress_engine::mail_id::stored_signer(&test.db, clock.now_plus(TimeDelta::zero())),
        );
        assert_eq!(first.expect("first replica").verify(&id), Some(appeal_id));
        assert_eq!(second.expect("second replica").verify(&id), Some(appeal_id));
        assert_eq!(signer().verify(&id), None, "not the configured test key");
        test.cleanup().await;
    }

    async fn a_bulk_restoration_tells_people_who_never_appealed(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let job_id = Uuid::now_v7();
        let queued = redress_engine::restoration::notice::for_account(job_id, "acct-9", "The nudity-v7 model misfired on saved pins.", None, Some("quiet@example.org"))
            .expect("a notice by mail");
        let item = OutboxMessage {
            id: Uuid::now_v7(),
            topic: queued.topic,
            appeal_id: queued.appeal_id,
            idempotency_key: queued.idempotency_key,
            payload: queued.payload,
            attempts: 0,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = deliverer(&engine, MailTransport::files(dir.path()).expect("dir"));
        mailer.deliver(&item).await.expect("deliver");
        let raw = written_mails(dir.path()).remove(0);
        let mail = MessageParser::default().parse(&raw).expect("parse");
        assert_eq!(mail.subject(), Some("Your account has been restored"));
        assert!(mail.body_text(0).expect("text").contains("The nudity-v7 model misfired on saved pins."));
        assert_eq!(mail.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
        assert_eq!(signer().verify(mail.message_id().expect("id")), Some(Uuid::nil()), "ours, but no case's");
        test.cleanup().await;
    }

    async fn an_appeal_without_a_mail_contact_is_a_permanent_failure(test) {
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let appeal_id = file_by_mail(&engine).await;
        let mut item = notices_of(&engine, appeal_id, "acknowledgement").await.remove(0);
        item.payload["contact"] = json!("@not-an-address");
        let dir = tempfile::tempdir().expect("tempdir");
        let mailer = deliverer(&engine, MailTransport::files(dir.path()).expect("dir"));
        assert!(matches!(mailer.deliver(&item).await, Err(DeliveryError::Permanent(_))));
        assert!(written_mails(dir.path()).is_empty());
        test.cleanup().await;
    }
}
