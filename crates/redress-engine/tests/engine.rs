//! The engine's use cases, on SQLite and on PostgreSQL.

mod common;

use chrono::TimeDelta;
use common::{clock, email, enforcement, engine, upheld_statement};
use redress_core::{Actor, AppealState, Command, Outcome, Priority, Role, TransitionError};
use redress_engine::repo::{events, messages, outbox};
use redress_engine::{EngineError, EngineSettings, Filing};

fn reviewer(name: &str) -> Actor {
    Actor::staff(name, [Role::Reviewer])
}

fn appellant() -> Actor {
    Actor::appellant("person@example.org")
}

fn triage(four_eyes: bool) -> Command {
    Command::Triage {
        priority: Priority::High,
        queue: "general".into(),
        tags: vec![],
        identity_verified: true,
        four_eyes,
        link: None,
    }
}

redress_engine::backend_tests! {
    async fn filing_opens_a_case_and_queues_an_acknowledgement(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let enforcement_id = enforcement(&test.db, "acct-1", "spam").await;
        let filing = engine.file(&appellant(), email("<m1@example.org>", Some("acct-1"))).await.expect("file");
        let Filing::Created(stored) = filing else { panic!("expected a new case, got {filing:?}") };
        assert_eq!(stored.appeal.state, AppealState::Filed);
        assert_eq!(stored.appeal.enforcement_id, Some(enforcement_id));
        assert_eq!(stored.appeal.version, 1);
        assert!(stored.reference.as_str().starts_with("RDR-"));

        let reloaded = engine.appeal(stored.id).await.expect("reload");
        assert_eq!(reloaded, stored, "the row reads back exactly as written");
        let by_reference = engine.appeal_by_reference(&stored.reference).await.expect("by reference");
        assert_eq!(by_reference.id, stored.id);

        let queued = outbox::for_appeal(&test.db, stored.id).await.expect("outbox");
        let mut topics: Vec<&str> = queued.iter().map(|item| item.topic.as_str()).collect();
        topics.sort_unstable();
        assert_eq!(topics, ["notify_appellant", "platform_event"]);
        let acknowledgement = queued.iter().find(|item| item.topic == "notify_appellant").expect("acknowledgement");
        assert_eq!(acknowledgement.payload["effect"]["notice"], "acknowledgement");
        let platform = queued.iter().find(|item| item.topic == "platform_event").expect("platform event");
        assert_eq!(platform.payload["kind"], "appeal.filed");
        assert_eq!(platform.payload["subject"]["appeal"]["sequence"], 1);
        let mail = messages::for_appeal(&test.db, stored.id).await.expect("messages");
        assert_eq!(mail.len(), 1);
        test.cleanup().await;
    }

    async fn the_same_message_twice_files_once(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-2", "spam").await;
        let first = engine.file(&appellant(), email("<dup@example.org>", Some("acct-2"))).await.expect("file");
        let second = engine.file(&appellant(), email("<dup@example.org>", Some("acct-2"))).await.expect("file again");
        assert!(matches!(first, Filing::Created(_)));
        assert_eq!(second, Filing::Duplicate { appeal_id: first.appeal_id() });
        let id = first.appeal_id().expect("id");
        assert_eq!(events::history(&test.db, id).await.expect("history").len(), 1);
        // The acknowledgement and the platform's `appeal.filed`.
        assert_eq!(outbox::for_appeal(&test.db, id).await.expect("outbox").len(), 2);
        test.cleanup().await;
    }

    async fn concurrent_deliveries_of_one_message_file_once(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-3", "spam").await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move {
                    engine.file(&appellant(), email("<race@example.org>", Some("acct-3"))).await
                })
            })
            .collect();
        let mut created = 0;
        let mut ids = Vec::new();
        for task in tasks {
            let filing = task.await.expect("join").expect("file");
            if matches!(filing, Filing::Created(_)) {
                created += 1;
            }
            ids.push(filing.appeal_id());
        }
        assert_eq!(created, 1, "exactly one delivery opens the case");
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "every delivery points at the same case");
        test.cleanup().await;
    }

    async fn a_second_message_about_the_same_enforcement_joins_the_open_case(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-4", "spam").await;
        let first = engine.file(&appellant(), email("<a@example.org>", Some("acct-4"))).await.expect("file");
        let second = engine.file(&appellant(), email("<b@example.org>", Some("acct-4"))).await.expect("file");
        let Filing::Appended(joined) = second else { panic!("expected append, got {second:?}") };
        assert_eq!(Some(joined.id), first.appeal_id());
        assert_eq!(joined.appeal.version, 2);
        assert_eq!(messages::for_appeal(&test.db, joined.id).await.expect("messages").len(), 2);
        test.cleanup().await;
    }

    async fn a_stale_version_conflicts_and_writes_nothing(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-5", "spam").await;
        let id = engine.file(&appellant(), email("<c@example.org>", Some("acct-5"))).await.expect("file").appeal_id().expect("id");
        engine.apply(id, Some(1), &triage(false), &reviewer("alice")).await.expect("triage");
        let before = engine.appeal(id).await.expect("load");
        let error = engine
            .apply(id, Some(1), &Command::Note { text: "late".into() }, &reviewer("bob"))
            .await
            .expect_err("stale");
        assert!(matches!(error, EngineError::Conflict { expected: 1, actual: 2, .. }), "{error}");
        assert_eq!(engine.appeal(id).await.expect("load"), before);
        assert_eq!(events::history(&test.db, id).await.expect("history").len(), 2);
        test.cleanup().await;
    }

    async fn an_illegal_command_is_refused_and_writes_nothing(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-6", "spam").await;
        let id = engine.file(&appellant(), email("<d@example.org>", Some("acct-6"))).await.expect("file").appeal_id().expect("id");
        let error = engine
            .apply(id, None, &Command::Approve { note: None }, &Actor::staff("carol", [Role::SeniorReviewer]))
            .await
            .expect_err("cannot approve a filed appeal");
        assert!(matches!(
            error,
            EngineError::Transition(TransitionError::InvalidTransition { state: AppealState::Filed, command: "approve" })
        ));
        assert_eq!(events::history(&test.db, id).await.expect("history").len(), 1);
        // The acknowledgement and the platform's `appeal.filed`.
        assert_eq!(outbox::for_appeal(&test.db, id).await.expect("outbox").len(), 2);
        test.cleanup().await;
    }

    async fn a_restore_decision_waits_for_confirmation_then_notifies(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-7", "spam").await;
        let id = engine.file(&appellant(), email("<e@example.org>", Some("acct-7"))).await.expect("file").appeal_id().expect("id");
        let alice = reviewer("alice");
        engine.apply(id, None, &triage(false), &alice).await.expect("triage");
        let lease_until = clock.now_plus(TimeDelta::minutes(15));
        engine.apply(id, None, &Command::Claim { lease_until }, &alice).await.expect("claim");
        clock.advance(TimeDelta::minutes(5));
        let decided = engine
            .apply(id, Some(3), &Command::Decide { outcome: Outcome::Restore, reasons: "saved, not created".into(), statement: None, manifestly_unfounded: false, template: None }, &alice)
            .await
            .expect("decide");
        assert_eq!(decided.appeal.appeal.state, AppealState::Reviewed);
        let queued = outbox::for_appeal(&test.db, id).await.expect("outbox");
        let topics: Vec<&str> = queued.iter().map(|o| o.topic.as_str()).filter(|topic| *topic != "platform_event").collect();
        assert_eq!(topics, ["notify_appellant", "request_restoration"]);
        let platform: Vec<&serde_json::Value> = queued.iter().filter(|o| o.topic == "platform_event").map(|o| &o.payload["kind"]).collect();
        assert_eq!(platform, ["appeal.filed", "appeal.decided"]);
        engine
            .apply(id, None, &Command::RestorationConfirmed { restoration_id: uuid::Uuid::now_v7() }, &Actor::system("restorer"))
            .await
            .expect("confirm");
        let stored = engine.appeal(id).await.expect("load");
        assert_eq!(stored.appeal.state, AppealState::Restored);
        let history: Vec<_> = events::history(&test.db, id).await.expect("history").into_iter().map(|(_, e)| e).collect();
        assert_eq!(redress_core::Appeal::replay(&history).as_ref(), Some(&stored.appeal), "row = fold of events");
        test.cleanup().await;
    }

    async fn a_reply_while_awaiting_the_user_resumes_the_case(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-8", "spam").await;
        let id = engine.file(&appellant(), email("<f@example.org>", Some("acct-8"))).await.expect("file").appeal_id().expect("id");
        engine.apply(id, None, &Command::RequestInfo { message: "Which pin?".into() }, &reviewer("alice")).await.expect("ask");
        assert_eq!(engine.appeal(id).await.expect("load").appeal.state, AppealState::AwaitingUser);
        assert_eq!(engine.appeal(id).await.expect("load").appeal.sla_clock.paused_since, Some(clock.now_plus(TimeDelta::zero())));
        clock.advance(TimeDelta::hours(3));
        let reply = engine.file(&appellant(), email("<g@example.org>", Some("acct-8"))).await.expect("reply");
        let Filing::Appended(stored) = reply else { panic!("expected append, got {reply:?}") };
        assert_eq!(stored.appeal.state, AppealState::Filed);
        assert_eq!(stored.appeal.sla_clock.paused_total, TimeDelta::hours(3));
        test.cleanup().await;
    }

    async fn filing_for_an_unknown_account_is_a_clear_error(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let error = engine.file(&appellant(), email("<h@example.org>", Some("nobody"))).await.expect_err("unknown");
        assert_eq!(error.to_string(), "unknown account nobody");
        test.cleanup().await;
    }

    async fn four_eyes_policies_need_a_second_approver(test) {
        let clock = clock();
        let settings = EngineSettings { four_eyes_policies: vec!["csam".into()], ..EngineSettings::default() };
        let engine = engine(&test.db, &clock, settings);
        enforcement(&test.db, "acct-9", "csam").await;
        let id = engine.file(&appellant(), email("<i@example.org>", Some("acct-9"))).await.expect("file").appeal_id().expect("id");
        assert!(engine.appeal(id).await.expect("load").appeal.four_eyes);
        let alice = reviewer("alice");
        engine.apply(id, None, &triage(true), &alice).await.expect("triage");
        engine.apply(id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");
        engine.apply(id, None, &Command::Decide { outcome: Outcome::Uphold, reasons: "policy 3.1".into(), statement: Some(upheld_statement(clock.now_plus(TimeDelta::zero()))), manifestly_unfounded: false, template: None }, &alice).await.expect("decide");
        assert_eq!(engine.appeal(id).await.expect("load").appeal.state, AppealState::Reviewed);
        engine.apply(id, None, &Command::Approve { note: None }, &Actor::staff("carol", [Role::SeniorReviewer])).await.expect("approve");
        assert_eq!(engine.appeal(id).await.expect("load").appeal.state, AppealState::Upheld);
        test.cleanup().await;
    }

    async fn an_upheld_decision_keeps_its_statement_in_row_and_history(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-10", "spam").await;
        let id = engine.file(&appellant(), email("<j@example.org>", Some("acct-10"))).await.expect("file").appeal_id().expect("id");
        let alice = reviewer("alice");
        engine.apply(id, None, &triage(false), &alice).await.expect("triage");
        engine.apply(id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");
        let statement = upheld_statement(clock.now_plus(TimeDelta::zero()));
        let uphold = Command::Decide { outcome: Outcome::Uphold, reasons: "created, not saved".into(), statement: None, manifestly_unfounded: false, template: None };
        let error = engine.apply(id, None, &uphold, &alice).await.expect_err("no statement");
        assert_eq!(error.to_string(), "invalid statement: upholding needs a statement of reasons");
        let uphold = Command::Decide { outcome: Outcome::Uphold, reasons: "created, not saved".into(), statement: Some(statement.clone()), manifestly_unfounded: false, template: None };
        engine.apply(id, None, &uphold, &alice).await.expect("decide");
        let stored = engine.appeal(id).await.expect("load");
        assert_eq!(stored.appeal.state, AppealState::Upheld);
        assert_eq!(stored.appeal.decision.as_ref().and_then(|d| d.statement.as_ref()), Some(&statement));
        let history: Vec<_> = events::history(&test.db, id).await.expect("history").into_iter().map(|(_, e)| e).collect();
        assert_eq!(redress_core::Appeal::replay(&history).as_ref(), Some(&stored.appeal), "row = fold of events");
        test.cleanup().await;
    }

    async fn a_decision_by_a_service_identity_is_refused(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-11", "spam").await;
        let id = engine.file(&appellant(), email("<k@example.org>", Some("acct-11"))).await.expect("file").appeal_id().expect("id");
        let bot = Actor::staff("auto-reviewer", [Role::Reviewer, Role::Integration]);
        engine.apply(id, None, &triage(false), &bot).await.expect("triage");
        engine.apply(id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &bot).await.expect("claim");
        let restore = Command::Decide { outcome: Outcome::Restore, reasons: "model says fine".into(), statement: None, manifestly_unfounded: false, template: None };
        let error = engine.apply(id, None, &restore, &bot).await.expect_err("solely automated");
        assert!(matches!(error, EngineError::Transition(TransitionError::NoHumanReviewer { .. })), "{error}");
        assert_eq!(engine.appeal(id).await.expect("load").appeal.state, AppealState::Triaged);
        test.cleanup().await;
    }
}
