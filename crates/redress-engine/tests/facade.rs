//! What the other crates see of storage: opening the database, readiness, and the registry
//! and correspondence as plain types converted from their rows.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{clock, email, enforcement, engine};
use redress_core::{Actor, Automation, Channel};
use redress_engine::correspondence::{Direction, SentMessage};
use redress_engine::registry::{AccountStatus, ContentRelation};
use redress_engine::storage::{self, OpenError, PoolSettings};
use redress_engine::{Clock as _, Engine, EngineError, EngineSettings};
use sea_orm::ConnectionTrait;
use serde_json::json;

redress_engine::backend_tests! {
    async fn an_opened_engine_is_migrated_and_answers(test) {
        storage::migrate(&test.url, &test.pool_settings()).await.expect("migrating again changes nothing");
        let clock = clock();
        let opened = Engine::open(&test.url, &test.pool_settings(), EngineSettings::default(), Arc::new(clock.clone()))
            .await
            .expect("open");
        opened.ping().await.expect("ping");
        assert_eq!(opened.backend(), test.backend);
        assert_eq!(opened.backend().as_str(), opened.backend().to_string());

        // The data is the test's own: what one engine records, the other reads.
        let first = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        let filed = first
            .file(&Actor::appellant("person@example.org"), email("<m1@example.org>", Some("acct-1")))
            .await
            .expect("file")
            .appeal_id()
            .expect("case");
        assert_eq!(opened.appeal(filed).await.expect("read through the opened engine").id, filed);
        test.cleanup().await;
    }

    async fn a_database_is_empty_until_something_of_the_platform_or_an_appellant_is_recorded(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        assert!(engine.is_empty().await.expect("fresh"), "a migrated database records nothing");
        engine.stored_message_signer().await.expect("a key of Redress's own");
        assert!(engine.is_empty().await.expect("own keys"), "Redress's own keys do not count");
        enforcement(&test.db, "acct-1", "spam").await;
        assert!(!engine.is_empty().await.expect("an enforcement"), "an account and an enforcement count");
        test.cleanup().await;
    }

    async fn accounts_and_enforcements_come_back_typed(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = enforcement(&test.db, "acct-1", "spam").await;

        let account = engine.account("acct-1").await.expect("account").expect("registered");
        assert_eq!(account.status, AccountStatus::Deactivated);
        assert_eq!(account.email.as_deref(), Some("acct-1@example.org"));
        let by_email = engine.account_by_email("ACCT-1@Example.org").await.expect("by email");
        assert_eq!(by_email, Some(account));
        assert_eq!(engine.account_by_email("nobody@example.org").await.expect("by email"), None);

        let stored = engine.enforcement(id).await.expect("enforcement").expect("recorded");
        assert_eq!(stored.account_id, "acct-1");
        assert_eq!(stored.automated_detection, Automation::Fully);
        assert_eq!(stored.automated_decision, Automation::Fully);
        assert_eq!(stored.content_relation, Some(ContentRelation::Saved));
        assert_eq!(engine.enforcements_of("acct-1").await.expect("of account"), vec![stored]);

        test.db
            .execute_unprepared("UPDATE accounts SET status = 'suspended' WHERE id = 'acct-1'")
            .await
            .expect("corrupt the row");
        let unreadable = engine.account("acct-1").await.expect_err("an unknown status");
        assert!(matches!(unreadable, EngineError::Corrupt { entity: "account", .. }), "{unreadable:?}");
        test.cleanup().await;
    }

    async fn a_sent_message_joins_the_case_record_after_what_was_received(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-1", "spam").await;
        let appeal_id = engine
            .file(&Actor::appellant("person@example.org"), email("<m1@example.org>", Some("acct-1")))
            .await
            .expect("file")
            .appeal_id()
            .expect("case");
        clock.advance(chrono::TimeDelta::minutes(5));
        let sent_id = engine
            .record_sent(SentMessage {
                appeal_id,
                channel: Channel::Email,
                channel_message_id: Some("<rdr.sent@example.org>".into()),
                in_reply_to: Some("<m1@example.org>".into()),
                sender: "appeals@example.org".into(),
                recipient: "person@example.org".into(),
                subject: Some("We received your appeal".into()),
                body: "Thank you.".into(),
                classification: "acknowledgement".into(),
                metadata: json!({ "outbox_item": "o-1" }),
            })
            .await
            .expect("record");

        let messages = engine.messages(appeal_id).await.expect("messages");
        assert_eq!(messages.len(), 2, "{messages:?}");
        let (received, sent) = (&messages[0], &messages[1]);
        assert_eq!((received.direction, received.channel), (Direction::Inbound, Channel::Email));
        assert_eq!(received.channel_message_id.as_deref(), Some("<m1@example.org>"));
        assert_eq!(sent.id, sent_id);
        assert_eq!((sent.direction, sent.channel), (Direction::Outbound, Channel::Email));
        assert_eq!(sent.appeal_id, Some(appeal_id));
        assert_eq!(sent.recipient.as_deref(), Some("person@example.org"));
        assert_eq!(sent.in_reply_to.as_deref(), Some("<m1@example.org>"));
        assert_eq!(sent.classification, "acknowledgement");
        assert_eq!(sent.received_at, clock.now());

        let stats = engine.stats().await.expect("stats");
        assert_eq!(stats.appeals_by_channel, vec![("email".to_owned(), 1)]);
        assert_eq!(stats.inbound_messages, vec![("email".to_owned(), 1)], "what was sent is not counted as received");
        test.cleanup().await;
    }

    async fn every_replica_signs_with_the_one_stored_key(test) {
        let clock = clock();
        let one = engine(&test.db, &clock, EngineSettings::default());
        let other = engine(&test.db, &clock, EngineSettings::default());
        let appeal = uuid::Uuid::now_v7();
        let id = one.stored_message_signer().await.expect("signer").sign(appeal, "k", "example.org");
        assert_eq!(other.stored_message_signer().await.expect("signer").verify(&id), Some(appeal));
        test.cleanup().await;
    }
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_not_opened() {
    let missing = std::env::temp_dir().join(format!("redress-missing-{}", uuid::Uuid::now_v7()));
    let url = format!("sqlite://{}/redress.sqlite?mode=rwc", missing.display());
    let pool = PoolSettings {
        acquire_timeout: Duration::from_secs(1),
        ..PoolSettings::default()
    };
    let opened = Engine::open(&url, &pool, EngineSettings::default(), Arc::new(clock())).await;
    assert!(matches!(opened, Err(OpenError::Connect(_))), "{opened:?}");
    assert!(matches!(
        storage::migrate(&url, &pool).await,
        Err(OpenError::Connect(_))
    ));
}
