//! Notices in the appellant's language, on SQLite and PostgreSQL: a German DM is answered
//! in German, a French mail without Content-Language in French, and a message too short to
//! tell in the deployment's default language.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use redress_core::{Actor, Channel};
use redress_engine::delivery::OutboxMessage;
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::repo::outbox;
use redress_engine::{
    Engine, EngineSettings, Filing, IncomingAppeal, ManualClock, MessageIdSigner,
};
use redress_notify::case_details::NoticeSettings;
use redress_notify::dm::text::for_message;
use redress_notify::dm::DmNotices;
use redress_notify::mail::{MailDeliverer, MailSettings, MailTransport, SigningKey, Templates};
use serde_json::json;
use uuid::Uuid;

fn engine(db: &sea_orm::DatabaseConnection) -> Engine {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .expect("date"),
    );
    Engine::new(db.clone(), EngineSettings::default(), Arc::new(clock))
}

fn deliverer(engine: &Engine, default_language: &str, dir: &std::path::Path) -> MailDeliverer {
    MailDeliverer::new(
        engine.clone(),
        Templates::load(None, default_language).expect("templates"),
        MailTransport::files(dir).expect("transport"),
        SigningKey::Configured(MessageIdSigner::new("outbound test secret")),
        MailSettings {
            from: "Redress Appeals <appeals@redress.test>"
                .parse()
                .expect("from"),
            message_id_domain: "redress.test".to_owned(),
            default_language: default_language.to_owned(),
            notices: NoticeSettings::default(),
        },
    )
}

fn mail(id: &str, body: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{id}@mail.example.org>")),
        sender: format!("{id}@example.org"),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some("Compte".to_owned()),
        body: body.to_owned(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

async fn items(
    engine: &Engine,
    appeal_id: Uuid,
    topic: &str,
    notice: Option<&str>,
) -> Vec<OutboxMessage> {
    outbox::for_appeal(engine.db(), appeal_id)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|row| row.topic == topic)
        .filter(|row| notice.is_none_or(|n| row.payload["effect"]["notice"] == n))
        .map(OutboxMessage::from)
        .collect()
}

redress_engine::backend_tests! {
    async fn a_german_dm_is_detected_as_german_and_acknowledged_in_german(test) {
        let engine = engine(&test.db);
        let dm = IncomingAppeal {
            channel: Channel::X,
            channel_message_id: Some("x-event-77".into()),
            sender: "x:4711".into(),
            contact: None,
            account_id: None,
            enforcement_id: None,
            identity_verified: false,
            subject: None,
            body: "Hallo, mein Konto wurde gesperrt, obwohl ich das Bild nur gespeichert habe. \
                   Ich bitte Sie, die Entscheidung noch einmal zu prüfen.".into(),
            in_reply_to: None,
            metadata: json!({}),
        };
        let confirmation = ConfirmationSettings { url: "http://127.0.0.1/confirm".into(), valid_for: chrono::TimeDelta::hours(1) };
        let receipt = engine.receive_direct_message(dm, &confirmation).await.expect("dm");
        let Filing::Created(appeal) = receipt.filing else { panic!("a new case") };
        assert_eq!(appeal.appeal.tags, ["language:de"]);
        let notices = DmNotices {
            engine: engine.clone(),
            settings: NoticeSettings::new("https://appeals.example", vec![]),
            default_language: "en".to_owned(),
        };
        let acknowledgement = &items(&engine, appeal.id, "notify_appellant", Some("acknowledgement")).await[0];
        let sent = for_message(acknowledgement, &notices).await.expect("the acknowledgement DM");
        assert_eq!(sent.recipient, "x:4711");
        assert!(sent.text.starts_with("Wir haben Ihren Einspruch erhalten."), "{}", sent.text);
        assert!(sent.text.contains(appeal.reference.as_str()), "{}", sent.text);
        let prompt = &items(&engine, appeal.id, "identity_prompt", None).await[0];
        let asked = for_message(prompt, &notices).await.expect("the prompt DM");
        assert!(asked.text.contains("E-Mail-Adresse Ihres Kontos"), "{}", asked.text);
        test.cleanup().await;
    }

    async fn a_french_mail_without_content_language_is_acknowledged_in_french(test) {
        let engine = engine(&test.db);
        let out = tempfile::tempdir().expect("dir");
        let appeal = engine
            .file(&Actor::appellant("camille@example.org"), mail("camille", "Bonjour, mon compte a été suspendu alors que je n'ai fait qu'enregistrer cette image. Je vous demande de réexaminer cette décision."))
            .await
            .expect("file")
            .appeal_id()
            .expect("a case");
        let item = &items(&engine, appeal, "notify_appellant", Some("acknowledgement")).await[0];
        let composed = deliverer(&engine, "en", out.path()).compose(item).await.expect("compose");
        assert!(composed.subject.ends_with("Nous avons bien reçu votre recours"), "{}", composed.subject);
        assert!(composed.text.starts_with("Bonjour,"), "{}", composed.text);
        assert!(composed.text.contains("Nous n'avons pas encore pu déterminer"), "the values are French too: {}", composed.text);
        test.cleanup().await;
    }

    async fn a_message_too_short_to_tell_gets_the_default_language(test) {
        let engine = engine(&test.db);
        let out = tempfile::tempdir().expect("dir");
        for (default, expected) in [("en", "We received your appeal"), ("de", "Wir haben Ihren Einspruch erhalten")] {
            let appeal = engine
                .file(&Actor::appellant("short@example.org"), mail(&format!("short-{default}"), "ok"))
                .await
                .expect("file")
                .appeal_id()
                .expect("a case");
            let item = &items(&engine, appeal, "notify_appellant", Some("acknowledgement")).await[0];
            let composed = deliverer(&engine, default, out.path()).compose(item).await.expect("compose");
            assert!(composed.subject.ends_with(expected), "{default}: {}", composed.subject);
        }
        test.cleanup().await;
    }
}

#[test]
fn every_status_page_text_names_the_language_it_is_written_in() {
    for language in redress_core::language::SHIPPED {
        let text = redress_notify::status_page::text_for(language).expect("shipped");
        assert_eq!(text.language, *language);
    }
}
