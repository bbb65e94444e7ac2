//! The appellant's language, decided at filing on SQLite and PostgreSQL: the account's
//! locale beats the channel's declaration, which beats detection from the text, which beats
//! the default; hostile values are ignored or refused by name, never stored as a language.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::{clock, enforcement_statement};
use redress_core::{Actor, AppealState, Channel, Priority, Role};
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::repo::messages;
use redress_engine::repo::outbox;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::{
    Engine, EngineError, EngineSettings, Filing, IncomingAppeal, ManualClock, StoredAppeal,
};
use redress_routing::{Action, Conditions, RuleDefinition};
use sea_orm::DatabaseConnection;
use serde_json::json;

const GERMAN: &str = "Guten Tag, mein Konto wurde gesperrt, obwohl ich das Bild nur \
                      gespeichert und nie selbst veröffentlicht habe. Bitte prüfen Sie die \
                      Entscheidung noch einmal, ich verstehe nicht, was ich falsch gemacht habe.";
const FRENCH: &str = "Bonjour, mon compte a été suspendu alors que je n'ai fait \
                      qu'enregistrer cette image sans jamais la publier. Je vous demande de \
                      bien vouloir réexaminer cette décision, je ne comprends pas ce qui m'est \
                      reproché.";

fn engine(db: &DatabaseConnection, clock: &ManualClock) -> Engine {
    Engine::new(
        db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    )
}

async fn account_with_locale(db: &DatabaseConnection, account: &str, locale: Option<&str>) {
    registry::record_enforcement(db, new_enforcement(account, locale), Utc::now())
        .await
        .expect("record enforcement");
}

fn new_enforcement(account: &str, locale: Option<&str>) -> NewEnforcement {
    NewEnforcement {
        external_id: Some(format!("ext-{account}")),
        account_id: account.to_owned(),
        account_email: Some(format!("{account}@example.org")),
        account_locale: locale.map(str::to_owned),
        kind: "account_deactivation".into(),
        policy: "nudity".into(),
        source_kind: "model".into(),
        source_id: "nudity-v7".into(),
        batch_id: None,
        automated_detection: "fully".into(),
        automated_decision: "fully".into(),
        content_id: None,
        content_relation: Some("saved".into()),
        facts: "A saved image matched the classifier.".into(),
        statement: serde_json::to_value(enforcement_statement(Utc::now())).expect("statement"),
        enforced_at: Utc::now(),
    }
}

fn mail(
    id: &str,
    account: Option<&str>,
    declared: serde_json::Value,
    body: &str,
) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(id.to_owned()),
        sender: format!("{id}@example.org"),
        contact: None,
        account_id: account.map(str::to_owned),
        enforcement_id: None,
        identity_verified: account.is_some(),
        subject: None,
        body: body.to_owned(),
        in_reply_to: None,
        metadata: declared,
    }
}

async fn file(engine: &Engine, incoming: IncomingAppeal) -> StoredAppeal {
    match engine
        .file(&Actor::appellant("person@example.org"), incoming)
        .await
        .expect("file")
    {
        Filing::Created(appeal) => appeal,
        other => panic!("expected a new case, got {other:?}"),
    }
}

/// The case's language tag and its opening message's language facts.
async fn language(
    db: &DatabaseConnection,
    appeal: &StoredAppeal,
) -> (Option<String>, serde_json::Value) {
    let tag = redress_engine::policies::appellant_language(&appeal.appeal.tags);
    let stored = messages::for_appeal(db, appeal.id).await.expect("messages");
    let metadata = &stored[0].metadata;
    (
        tag,
        json!([metadata["language"], metadata["language_source"]]),
    )
}

redress_engine::backend_tests! {
    async fn the_locale_beats_the_declaration_which_beats_detection_which_beats_the_default(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        account_with_locale(&test.db, "acct-it", Some("it-IT")).await;
        account_with_locale(&test.db, "acct-none", None).await;

        let by_locale = file(&engine, mail("locale", Some("acct-it"), json!({"language": "fr"}), GERMAN)).await;
        assert_eq!(language(&test.db, &by_locale).await, (Some("it".into()), json!(["it", "account_locale"])));

        let declared = file(&engine, mail("declared", Some("acct-none"), json!({"language": "fr-CA"}), GERMAN)).await;
        assert_eq!(language(&test.db, &declared).await, (Some("fr".into()), json!(["fr", "declared"])));

        let detected = file(&engine, mail("detected", None, json!({}), GERMAN)).await;
        assert_eq!(language(&test.db, &detected).await, (Some("de".into()), json!(["de", "detected"])));
        assert_eq!(detected.appeal.tags, ["language:de"]);

        let french = file(&engine, mail("french", None, json!({}), FRENCH)).await;
        assert_eq!(language(&test.db, &french).await, (Some("fr".into()), json!(["fr", "detected"])));

        for (id, body) in [("short", "ok"), ("reference", "RDR-7K3Q-9M2X"), ("hello", "Hallo"), ("link", "https://example.org/p/991")] {
            let unknown = file(&engine, mail(id, None, json!({}), body)).await;
            assert_eq!(language(&test.db, &unknown).await, (None, json!([null, null])), "{body:?} is not guessed");
            assert!(unknown.appeal.tags.is_empty());
            let policy_language = engine.appeal_language(&unknown);
            assert_eq!(policy_language, "en", "the default applies");
        }

        // The filed language is part of the `filed` event: the row is its fold.
        let reloaded = engine.appeal(detected.id).await.expect("reload");
        assert_eq!(reloaded.appeal.tags, ["language:de"]);
        let items = outbox::for_appeal(&test.db, detected.id).await.expect("outbox");
        let acknowledgement = items.iter().find(|i| i.payload["effect"]["notice"] == "acknowledgement").expect("acknowledgement");
        assert_eq!(acknowledgement.payload["language"], "de", "the acknowledgement is written in German");
        test.cleanup().await;
    }

    async fn a_routing_rule_on_language_matches_a_german_dm_and_keeps_its_language(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        let admin = Actor::staff("ada", [Role::Admin]);
        engine.create_routing_rule(&admin, RuleDefinition {
            name: "german speakers".into(),
            enabled: true,
            when: Conditions { languages: vec!["de".into()], channels: vec![Channel::X], ..Conditions::default() },
            then: Action::Triage { queue: "dach".into(), priority: Priority::Normal, tags: vec!["dm".into()], four_eyes: false },
        }).await.expect("rule");
        let dm = IncomingAppeal {
            channel: Channel::X,
            channel_message_id: Some("x-event-1".into()),
            sender: "x:4711".into(),
            contact: None,
            account_id: None,
            enforcement_id: None,
            identity_verified: false,
            subject: None,
            body: GERMAN.into(),
            in_reply_to: None,
            metadata: json!({}),
        };
        let confirmation = ConfirmationSettings { url: "http://127.0.0.1/confirm".into(), valid_for: chrono::TimeDelta::hours(1) };
        let receipt = engine.receive_direct_message(dm, &confirmation).await.expect("dm");
        let Filing::Created(appeal) = receipt.filing else { panic!("a new case: {:?}", receipt.filing) };
        assert_eq!(appeal.appeal.state, AppealState::Triaged, "the rule on German matched the DM");
        assert_eq!(appeal.appeal.queue, "dach");
        assert_eq!(appeal.appeal.tags, ["dm", "language:de"], "routing keeps the filed language");
        let items = outbox::for_appeal(&test.db, appeal.id).await.expect("outbox");
        let prompt = items.iter().find(|i| i.topic == "identity_prompt").expect("identity prompt");
        assert_eq!(prompt.payload["language"], "de", "the prompt asks in German too");
        test.cleanup().await;
    }

    async fn the_latest_locale_sent_for_an_account_wins_even_with_an_enforcement_sent_again(test) {
        account_with_locale(&test.db, "acct-moved", Some("de-DE")).await;
        account_with_locale(&test.db, "acct-moved", Some("pl-PL")).await;
        let account = registry::find_account(&test.db, "acct-moved").await.expect("read").expect("account");
        assert_eq!(account.locale.as_deref(), Some("pl-PL"));
        // Sent again without a locale, the one on record stays.
        account_with_locale(&test.db, "acct-moved", None).await;
        let account = registry::find_account(&test.db, "acct-moved").await.expect("read").expect("account");
        assert_eq!(account.locale.as_deref(), Some("pl-PL"));
        test.cleanup().await;
    }

    async fn hostile_locales_and_declarations_are_refused_or_ignored(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        for locale in ["", "english", "x-klingon", "de_DE.UTF-8", "' OR 1=1 --", "\u{0}de", &"a".repeat(10_000)] {
            let refused = registry::record_enforcement(&test.db, new_enforcement("acct-bad", Some(locale)), Utc::now()).await;
            match refused {
                Err(EngineError::InvalidInput(message)) => assert!(message.contains("account_locale"), "{message}"),
                other => panic!("{locale:?} was accepted: {other:?}"),
            }
        }
        assert!(registry::find_account(&test.db, "acct-bad").await.expect("read").is_none(), "nothing was written");

        let absurd = [
            json!({"language": "a".repeat(100_000)}),
            json!({"language": "*"}),
            json!({"language": "<script>de</script>"}),
            json!({"language": 42}),
            json!({"language": ["de"]}),
            json!({"language": "de\u{0}"}),
            json!("not an object"),
            serde_json::Value::Null,
        ];
        for (n, metadata) in absurd.into_iter().enumerate() {
            let appeal = file(&engine, mail(&format!("absurd-{n}"), None, metadata, FRENCH)).await;
            assert_eq!(
                redress_engine::policies::appellant_language(&appeal.appeal.tags).as_deref(),
                Some("fr"),
                "case {n}: an absurd declaration is ignored and the text decides"
            );
        }
        let huge = format!("{GERMAN} {}", "Bitte prüfen. ".repeat(20_000));
        let appeal = file(&engine, mail("huge", None, json!({}), &huge)).await;
        assert_eq!(appeal.appeal.tags, ["language:de"], "a huge message is sampled, not refused");
        test.cleanup().await;
    }
}
