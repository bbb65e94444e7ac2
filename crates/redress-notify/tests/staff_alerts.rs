//! Staff alerts through an SMTP relay on loopback: the admins receive an incident notice,
//! and refusals, deferrals and an unreachable relay map to the dispatcher's outcomes.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use common::relay;
use mail_parser::MessageParser;
use redress_engine::delivery::{topics, Deliverer, DeliveryError, OutboxMessage};
use redress_engine::{Engine, EngineSettings, ManualClock, MessageIdSigner};
use redress_notify::mail::{
    AlertRecipients, AlertSettings, MailTransport, SigningKey, StaffAlertDeliverer,
};
use serde_json::json;
use uuid::Uuid;

fn signer() -> MessageIdSigner {
    MessageIdSigner::new("staff-alert-test-signing-secret")
}

fn deliverer(engine: &Engine, transport: MailTransport) -> StaffAlertDeliverer {
    let mailbox = |address: &str| address.parse().expect("address");
    StaffAlertDeliverer::new(
        engine.clone(),
        transport,
        SigningKey::Configured(signer()),
        AlertSettings {
            from: mailbox("Redress <appeals@redress.test>"),
            message_id_domain: "redress.test".into(),
            console_url: "https://appeals.example.org/console/".into(),
            recipients: AlertRecipients {
                queues: HashMap::new(),
                default: vec![mailbox("leads@example.org")],
                admins: vec![mailbox("admins@example.org"), mailbox("duty@example.org")],
            },
        },
    )
}

fn incident() -> OutboxMessage {
    OutboxMessage {
        id: Uuid::now_v7(),
        topic: redress_engine::transparency::incidents::TOPIC.to_owned(),
        appeal_id: None,
        idempotency_key: "incident:0193".into(),
        payload: json!({
            "incident_id": Uuid::nil(),
            "source": { "kind": "model", "id": "classifier-v7", "batch_id": null },
            "decided": 40, "overturned": 36, "lower_bound": 0.77, "threshold": 0.5,
            "bulk_restore": { "selector": { "by": "source", "source_id": "classifier-v7" }, "dry_run_accounts": 12 },
        }),
        attempts: 0,
    }
}

redress_engine::backend_tests! {
    async fn an_incident_reaches_the_admins_through_the_relay(test) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).single().expect("date"));
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock));
        let item = incident();

        let (addr, received) = relay("250 2.1.5 ok\r\n").await;
        let alerts = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        alerts.deliver(&item).await.expect("relayed");
        drop(alerts);
        let data = received.await.expect("relay task");
        let mail = MessageParser::default().parse(&data).expect("parse relayed mail");
        assert_eq!(mail.subject(), Some("Incident: model classifier-v7 overturn rate 90% (lower bound 77%)"));
        let to: Vec<_> = mail.to().expect("to").iter().filter_map(|a| a.address()).collect();
        assert_eq!(to, ["admins@example.org", "duty@example.org"]);
        assert_eq!(mail.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
        let body = mail.body_text(0).expect("text");
        assert!(body.contains("reactivate 12 accounts"), "{body}");
        assert!(body.contains("redress bulk-restore --source classifier-v7 --dry-run"), "{body}");
        let expected_id = signer().sign(Uuid::nil(), &item.idempotency_key, "redress.test");
        assert_eq!(mail.message_id().map(|id| format!("<{id}>")), Some(expected_id), "a retry is recognisable");

        let (addr, _task) = relay("550 5.1.1 no such user\r\n").await;
        let refused = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        assert!(matches!(refused.deliver(&item).await, Err(DeliveryError::Permanent(_))));

        let (addr, _task) = relay("451 4.3.0 try later\r\n").await;
        let deferred = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        assert!(matches!(deferred.deliver(&item).await, Err(DeliveryError::Retryable(_))));

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let down = deliverer(&engine, MailTransport::relay(&format!("smtp://{addr}"), None).expect("relay"));
        assert!(matches!(down.deliver(&item).await, Err(DeliveryError::Retryable(_))), "a relay that is down is tried again");
        test.cleanup().await;
    }

    async fn an_alert_about_a_case_that_does_not_exist_is_a_permanent_failure(test) {
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).single().expect("date"));
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock));
        let dir = tempfile::tempdir().expect("tempdir");
        let alerts = deliverer(&engine, MailTransport::files(dir.path()).expect("folder"));
        let appeal_id = Uuid::now_v7();
        let item = OutboxMessage {
            id: Uuid::now_v7(),
            topic: topics::ALERT_QUEUE.to_owned(),
            appeal_id: Some(appeal_id),
            idempotency_key: format!("{appeal_id}:3:alert_queue"),
            payload: json!({
                "appeal_id": appeal_id, "reference": "RDR-7K3Q-9M2X", "version": 3,
                "event": "sla_warned",
                "effect": { "effect": "alert_queue", "alert": "sla_warning", "queue": "general" },
            }),
            attempts: 0,
        };
        let outcome = alerts.deliver(&item).await;
        assert!(matches!(outcome, Err(DeliveryError::Permanent(_))), "{outcome:?}");
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        test.cleanup().await;
    }
}
