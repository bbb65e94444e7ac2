//! Social DMs through the engine: unknown senders, email confirmation, linked handles.

mod common;

use chrono::TimeDelta;
use redress_core::Channel;
use redress_engine::direct_messages::{topics, ConfirmationSettings};
use redress_engine::repo::{handles, outbox};
use redress_engine::{EngineSettings, Filing, IncomingAppeal};
use serde_json::json;

fn dm(id: &str, sender: &str, text: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(id.to_owned()),
        sender: sender.to_owned(),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: text.to_owned(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

fn confirmation() -> ConfirmationSettings {
    ConfirmationSettings {
        url: "https://redress.example/social/confirm".to_owned(),
        valid_for: TimeDelta::hours(24),
    }
}

fn token_of(payload: &serde_json::Value) -> String {
    let link = payload["link"].as_str().expect("link");
    link.split("token=").nth(1).expect("token").to_owned()
}

redress_engine::backend_tests! {
    async fn an_unknown_sender_is_asked_to_confirm_by_email_and_then_linked(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let enforcement = common::enforcement(&test.db, "acct-9", "nudity").await;

        let first = engine
            .receive_direct_message(dm("dm-1", "x-42", "Why was I banned?"), &confirmation())
            .await
            .expect("file");
        assert!(!first.identity_verified);
        let Filing::Created(appeal) = first.filing else { panic!("expected a new case") };
        assert!(!appeal.appeal.identity_verified);
        assert_eq!(appeal.contact.as_deref(), Some("x-42"));

        let second = engine
            .receive_direct_message(dm("dm-2", "x-42", "It is acct-9@example.org"), &confirmation())
            .await
            .expect("append");
        assert!(matches!(second.filing, Filing::Appended(ref a) if a.id == appeal.id));

        let items = outbox::for_appeal(&test.db, appeal.id).await.expect("outbox");
        let prompts: Vec<&str> = items
            .iter()
            .filter(|i| i.topic == topics::IDENTITY_PROMPT)
            .filter_map(|i| i.payload["prompt"].as_str())
            .collect();
        assert_eq!(prompts, ["ask_for_email", "confirmation_sent"]);
        let mail = items
            .iter()
            .find(|i| i.topic == topics::HANDLE_CONFIRMATION)
            .expect("confirmation mail queued");
        assert_eq!(mail.payload["contact"], "acct-9@example.org");
        let token = token_of(&mail.payload);

        let linked = engine.confirm_handle(&token).await.expect("confirm");
        assert_eq!(linked.account_id, "acct-9");
        assert!(engine.confirm_handle(&token).await.is_err(), "a link works once");
        let after = engine.appeal(appeal.id).await.expect("appeal");
        assert!(after.appeal.identity_verified);
        assert_eq!(after.appeal.account_id.as_deref(), Some("acct-9"));
        assert_eq!(after.appeal.enforcement_id, Some(enforcement));
        assert_eq!(
            handles::linked_account(&test.db, Channel::X, "x-42").await.expect("link").as_deref(),
            Some("acct-9")
        );

        let third = engine
            .receive_direct_message(dm("dm-3", "x-42", "any news?"), &confirmation())
            .await
            .expect("append");
        assert!(third.identity_verified);
        assert!(matches!(third.filing, Filing::Appended(ref a) if a.id == appeal.id));
        test.cleanup().await;
    }

    async fn an_unknown_address_gets_the_same_answer_and_no_mail(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let receipt = engine
            .receive_direct_message(dm("dm-1", "x-7", "I am nobody@example.org"), &confirmation())
            .await
            .expect("file");
        let id = receipt.filing.appeal_id().expect("appeal");
        let items = outbox::for_appeal(&test.db, id).await.expect("outbox");
        assert!(items.iter().any(|i| i.payload["prompt"] == "confirmation_sent"));
        assert!(!items.iter().any(|i| i.topic == topics::HANDLE_CONFIRMATION));
        test.cleanup().await;
    }

    async fn an_expired_link_links_nothing(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        common::enforcement(&test.db, "acct-3", "spam").await;
        let receipt = engine
            .receive_direct_message(dm("dm-1", "x-3", "acct-3@example.org"), &confirmation())
            .await
            .expect("file");
        let id = receipt.filing.appeal_id().expect("appeal");
        let items = outbox::for_appeal(&test.db, id).await.expect("outbox");
        let mail = items.iter().find(|i| i.topic == topics::HANDLE_CONFIRMATION).expect("mail");
        clock.advance(TimeDelta::hours(25));
        let error = engine.confirm_handle(&token_of(&mail.payload)).await.expect_err("expired");
        assert!(error.to_string().contains("expired"));
        assert!(!engine.appeal(id).await.expect("appeal").appeal.identity_verified);
        assert!(handles::linked_account(&test.db, Channel::X, "x-3").await.expect("q").is_none());
        test.cleanup().await;
    }

    async fn concurrent_deliveries_of_one_dm_file_once(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    engine
                        .receive_direct_message(dm("dm-same", "x-5", "help"), &confirmation())
                        .await
                })
            })
            .collect();
        let mut created = 0;
        let mut ids = std::collections::BTreeSet::new();
        for task in tasks {
            let receipt = task.await.expect("join").expect("file");
            if matches!(receipt.filing, Filing::Created(_)) {
                created += 1;
            }
            ids.insert(receipt.filing.appeal_id());
        }
        assert_eq!(created, 1);
        assert_eq!(ids.len(), 1);
        test.cleanup().await;
    }
}
