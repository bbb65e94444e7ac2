//! The retention purge's edits of JSON, made by the database, on SQLite and on PostgreSQL:
//! exactly the personal keys and strings go, every other value stays as it was. A notice
//! that settles while a purge of its appeal is in flight re-arms contacts after that
//! purge's commit, not before it; a delivery recorded while an erasure holds the appeal
//! waits for the erasure instead of deadlocking with it (PostgreSQL).

mod common;

use chrono::TimeDelta;
use common::{clock, email, engine};
use redress_core::{Actor, Command, Role};
use redress_engine::entity::{appeal, appeal_event, message, outbox};
use redress_engine::privacy::{DataKind, RetentionSettings, MARKER};
use redress_engine::repo::outbox::{enqueue, OutboxItem};
use redress_engine::testing::{outbox_statuses, Backend};
use redress_engine::{Engine, EngineSettings};
use sea_orm::sea_query::{Expr, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use serde_json::{json, Value};
use uuid::Uuid;

fn metadata() -> Value {
    json!({
        "classification": "appeal",
        "language": "de",
        "has_message_id": true,
        "from_name": "Jö Exämple",
        "envelope_from": "jo@example.org",
        "recipients": ["appeals@redress.test"],
        "identity": {"kind": "x", "handle": "@jo", "verified": false},
        "thread": null,
        "score": 0.5,
        "attachments": [{"filename": "bild ä.png", "size": 2048, "inline": false}],
        "attachments_omitted": 0,
    })
}

fn without(value: &Value, keys: &[&str]) -> Value {
    let mut value = value.clone();
    if let Value::Object(fields) = &mut value {
        fields.retain(|key, _| !keys.contains(&key.as_str()));
    }
    value
}

/// Files an appeal with [`metadata`], withdraws it with a reason and approves nothing
/// with no note (a null staff text).
async fn closed_appeal(engine: &Engine, db: &sea_orm::DatabaseConnection) -> Uuid {
    let mut incoming = email(&format!("<{}@example.org>", Uuid::now_v7()), None);
    incoming.metadata = metadata();
    let id = engine
        .file(&Actor::appellant("person@example.org"), incoming)
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    engine
        .apply(
            id,
            None,
            &Command::Withdraw {
                reason: "Jo rang from 0207 946 0000".into(),
            },
            &Actor::staff("ada", [Role::Admin]),
        )
        .await
        .expect("withdraw");
    appeal_event::ActiveModel {
        appeal_id: Set(id),
        // Well after the history's own versions.
        version: Set(1000),
        kind: Set("decision_approved".into()),
        actor_kind: Set("staff".into()),
        actor_id: Set("ada".into()),
        payload: Set(json!({"kind": {"type": "decision_approved", "note": null}, "actor": {"kind": "staff", "subject": "ada"}})),
        occurred_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .expect("event");
    id
}

async fn inbound_metadata(db: &sea_orm::DatabaseConnection, appeal: Uuid) -> Value {
    message::Entity::find()
        .filter(message::Column::AppealId.eq(appeal))
        .filter(message::Column::Direction.eq(message::Direction::Inbound))
        .one(db)
        .await
        .expect("message")
        .expect("inbound")
        .metadata
}

async fn events(db: &sea_orm::DatabaseConnection, appeal: Uuid) -> Vec<appeal_event::Model> {
    appeal_event::Entity::find()
        .filter(appeal_event::Column::AppealId.eq(appeal))
        .all(db)
        .await
        .expect("events")
}

async fn purge(engine: &Engine, settings: &RetentionSettings) {
    while engine.purge_due(settings).await.expect("purge").claimed() > 0 {}
}

async fn purged_kinds(db: &sea_orm::DatabaseConnection, appeal: Uuid) -> i16 {
    appeal::Entity::find_by_id(appeal)
        .one(db)
        .await
        .expect("appeal")
        .expect("exists")
        .purged_kinds
}

fn only(kind_days: &[(DataKind, u32)]) -> RetentionSettings {
    let mut settings = RetentionSettings {
        message_text_days: 1000,
        contacts_days: 1000,
        attachments_days: 1000,
        status_tokens_days: 1000,
        notes_days: 1000,
        audit_details_days: 1000,
        ..RetentionSettings::default()
    };
    for (kind, days) in kind_days {
        match kind {
            DataKind::MessageText => settings.message_text_days = *days,
            DataKind::Contacts => settings.contacts_days = *days,
            DataKind::Attachments => settings.attachments_days = *days,
            DataKind::StatusTokens => settings.status_tokens_days = *days,
            DataKind::Notes => settings.notes_days = *days,
            DataKind::AuditDetails => settings.audit_details_days = *days,
        }
    }
    settings
}

redress_engine::backend_tests! {
    async fn attachments_go_alone_and_every_other_value_stays_as_it_was(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = closed_appeal(&engine, &test.db).await;
        let before = events(&test.db, id).await;
        let stored = inbound_metadata(&test.db, id).await;
        clock.advance(TimeDelta::days(100));
        purge(&engine, &only(&[(DataKind::Attachments, 10)])).await;
        assert_eq!(
            inbound_metadata(&test.db, id).await,
            without(&stored, &["attachments", "attachments_omitted"])
        );
        assert_eq!(events(&test.db, id).await, before, "the history is not due yet");
    }

    async fn contacts_keep_only_what_is_not_personal_and_staff_text_goes(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = closed_appeal(&engine, &test.db).await;
        let stored = inbound_metadata(&test.db, id).await;
        clock.advance(TimeDelta::days(100));
        purge(&engine, &only(&[(DataKind::Contacts, 10), (DataKind::Notes, 10)])).await;
        assert_eq!(
            inbound_metadata(&test.db, id).await,
            without(&stored, &["from_name", "envelope_from", "recipients", "identity", "thread", "score"]),
            "only classification, language and attachments stay"
        );
        let history = events(&test.db, id).await;
        let withdrawn = history.iter().find(|e| e.kind == "withdrawn").expect("withdrawn");
        assert_eq!(withdrawn.payload["kind"]["reason"], MARKER);
        let approved = history.iter().find(|e| e.kind == "decision_approved").expect("approved");
        assert!(approved.payload["kind"]["note"].is_null(), "a null note stays null");
        for event in history.iter().filter(|e| e.actor_kind == "appellant") {
            assert_eq!(event.actor_id, MARKER);
            assert!(!event.payload.to_string().contains("person@example.org"), "{}", event.payload);
        }
        assert!(history.iter().any(|e| e.actor_kind == "appellant"), "the filing is the appellant's");
    }

    async fn a_notice_settling_during_a_purge_rearms_contacts_after_its_commit(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = closed_appeal(&engine, &test.db).await;
        // One notice of the appeal, the one this test settles.
        outbox::Entity::delete_many().filter(outbox::Column::AppealId.eq(id)).exec(&test.db).await.expect("the filing's notices");
        enqueue(&test.db, vec![OutboxItem {
            topic: "notify_appellant".into(),
            appeal_id: Some(id),
            idempotency_key: format!("notice-{id}"),
            payload: json!({"channel": "email", "contact": "person@example.org"}),
        }], clock.now_plus(TimeDelta::zero())).await.expect("enqueue");
        clock.advance(TimeDelta::days(100));
        let contacts = only(&[(DataKind::Contacts, 10)]);
        let contacts_bit = DataKind::bits(&[DataKind::Contacts]);

        let deliver = {
            let db = test.db.clone();
            async move {
                outbox::Entity::update_many()
                    .col_expr(outbox::Column::Status, Expr::value("delivered"))
                    .filter(outbox::Column::AppealId.eq(id))
                    .exec(&db)
                    .await
                    .expect("delivered")
            }
        };
        if test.backend == Backend::Postgres {
            // A purge has claimed the appeal and marked it purged of contacts, not yet
            // committed, when the dispatcher records the delivery: the trigger waits for
            // the purge, and clears the bit its commit set.
            #[allow(clippy::disallowed_methods, reason = "the test holds a purge's transaction open between its claim and its commit")]
            let in_flight = test.db.begin().await.expect("begin");
            appeal::Entity::find_by_id(id).lock(LockType::Update).one(&in_flight).await.expect("claim").expect("appeal");
            appeal::Entity::update_many()
                .col_expr(appeal::Column::PurgedKinds, Expr::cust(format!("purged_kinds | {contacts_bit}")))
                .filter(appeal::Column::Id.eq(id))
                .exec(&in_flight).await.expect("mark");
            let delivery = tokio::spawn(deliver);
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            assert!(!delivery.is_finished(), "the delivery's record waits for the purge holding the appeal");
            in_flight.commit().await.expect("commit");
            assert_eq!(delivery.await.expect("delivery").rows_affected, 1);
        } else {
            // SQLite runs one writer at a time: the purge, then the delivery.
            purge(&engine, &contacts).await;
            assert_eq!(outbox_statuses(&test.db, id).await, vec!["pending"], "on its way, it stays");
            assert_ne!(purged_kinds(&test.db, id).await & contacts_bit, 0);
            assert_eq!(engine.purge_due(&contacts).await.expect("purge").rows, 0, "nothing to take yet");
            assert_eq!(deliver.await.rows_affected, 1);
        }
        assert_eq!(purged_kinds(&test.db, id).await & contacts_bit, 0, "the settled notice re-arms contacts");

        let round = engine.purge_due(&contacts).await.expect("purge");
        assert_eq!(round.purged.get(&DataKind::Contacts), Some(&vec![id]), "{round:?}");
        assert!(outbox_statuses(&test.db, id).await.is_empty(), "the delivered notice went");
        assert_ne!(purged_kinds(&test.db, id).await & contacts_bit, 0);
        let idle = engine.purge_due(&contacts).await.expect("purge");
        assert_eq!((idle.claimed(), idle.rows), (0, 0), "{idle:?}");
    }

    async fn a_kind_whose_period_changed_is_purged_after_its_set(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = closed_appeal(&engine, &test.db).await;
        let stored = inbound_metadata(&test.db, id).await;
        clock.advance(TimeDelta::days(100));
        purge(&engine, &only(&[(DataKind::MessageText, 10)])).await;
        assert_eq!(inbound_metadata(&test.db, id).await, stored, "contacts are not due yet");
        // Contacts now share the message text's period: the set's lead is done, so only
        // the straggler's own claim finds the appeal.
        purge(&engine, &only(&[(DataKind::MessageText, 10), (DataKind::Contacts, 10)])).await;
        let metadata = inbound_metadata(&test.db, id).await;
        assert!(metadata.get("envelope_from").is_none(), "{metadata}");
        assert_eq!(metadata["has_message_id"], true);
    }
}

mod erasure_beside_the_dispatcher {
    use std::sync::Arc;
    use std::time::Duration;

    use redress_engine::delivery::{
        topics, Deliverer, DelivererRegistry, DeliveryError, OutboxMessage,
    };
    use redress_engine::testing::TestDb;
    use redress_engine::worker::{DispatchSettings, Dispatcher};
    use sea_orm::ConnectionTrait;
    use tokio::sync::{watch, Semaphore};

    use super::*;

    /// Counts itself on `started`, then waits for a permit of `gate` before it succeeds.
    #[derive(Debug)]
    struct Gated {
        started: Arc<Semaphore>,
        gate: Arc<Semaphore>,
    }

    #[async_trait::async_trait]
    impl Deliverer for Gated {
        async fn deliver(&self, _message: &OutboxMessage) -> Result<(), DeliveryError> {
            self.started.add_permits(1);
            self.gate.acquire().await.expect("gate open").forget();
            Ok(())
        }
    }

    /// An erasure locks the appeal, then deletes its pending notices; a delivery recorded
    /// meanwhile settles its row, which re-arms the appeal's purge under a lock on the
    /// appeal. Were the row locked before the appeal, each would wait for the other and
    /// PostgreSQL would cancel one of them after its deadlock timeout.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_delivery_recorded_while_an_erasure_holds_the_appeal_waits_for_it_without_deadlock() {
        let Some(test) = TestDb::postgres().await else {
            return;
        };
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = closed_appeal(&engine, &test.db).await;
        outbox::Entity::delete_many()
            .filter(outbox::Column::AppealId.eq(id))
            .exec(&test.db)
            .await
            .expect("the filing's notices");
        enqueue(
            &test.db,
            vec![OutboxItem {
                topic: topics::NOTIFY_APPELLANT.into(),
                appeal_id: Some(id),
                idempotency_key: format!("notice-{id}"),
                payload: json!({"channel": "email", "contact": "person@example.org"}),
            }],
            clock.now_plus(TimeDelta::zero()),
        )
        .await
        .expect("enqueue");
        let (started, gate) = (Arc::new(Semaphore::new(0)), Arc::new(Semaphore::new(0)));
        let mut registry = DelivererRegistry::new();
        registry.register(
            topics::NOTIFY_APPELLANT,
            Arc::new(Gated {
                started: started.clone(),
                gate: gate.clone(),
            }),
        );
        let dispatcher = Dispatcher::new(
            test.db.clone(),
            Arc::new(clock.clone()),
            Arc::new(registry),
            DispatchSettings::default(),
        );
        let (_running, stop) = watch::channel(false);
        let round = tokio::spawn(async move { dispatcher.run_once(&stop).await });
        started.acquire().await.expect("delivering").forget();

        #[allow(
            clippy::disallowed_methods,
            reason = "the test holds an erasure's transaction open between its lock on the appeal and its commit"
        )]
        let erasure = test.db.begin().await.expect("begin");
        appeal::Entity::find_by_id(id)
            .lock(LockType::Update)
            .one(&erasure)
            .await
            .expect("lock")
            .expect("appeal");
        gate.add_permits(1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !round.is_finished(),
            "the delivery's record waits for the erasure holding the appeal"
        );
        // Longer than PostgreSQL's deadlock timeout (1 s by default), so a deadlock would be
        // reported before this gives up.
        erasure
            .execute_unprepared("SET LOCAL lock_timeout = '10s'")
            .await
            .expect("lock timeout");
        let deleted = outbox::Entity::delete_many()
            .filter(outbox::Column::AppealId.eq(id))
            .exec(&erasure)
            .await
            .expect("the erasure deletes the pending notice, nothing holds it");
        assert_eq!(deleted.rows_affected, 1);
        erasure.commit().await.expect("commit");

        let report = round
            .await
            .expect("join")
            .expect("the dispatcher's round ends without an error");
        assert_eq!(
            (report.claimed, report.delivered, report.lost),
            (1, 0, 1),
            "{report:?}"
        );
        assert!(
            outbox_statuses(&test.db, id).await.is_empty(),
            "the erased notice is not written back"
        );
        test.cleanup().await;
    }
}
