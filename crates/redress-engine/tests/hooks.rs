//! Rules plugged into the write path through hooks, on engines built with only the hooks
//! under test, on SQLite and PostgreSQL.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::TimeDelta;
use common::{clock, email, enforcement, enforcement_statement};
use redress_core::{Actor, AppealState, Command, Priority, Role};
use redress_engine::entity::{appeal, appeal_status_token};
use redress_engine::filing::IncomingAppeal;
use redress_engine::hooks::{
    AfterFiling, DecisionObserver, FiledCase, FilingGate, FilingRefusal, Hooks, InTransaction,
    ProposedCase, RecordedCommand, Refusal,
};
use redress_engine::repo::audit::{self, NewAuditEntry};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::repo::{events, outbox};
use redress_engine::{Engine, EngineError, EngineSettings, Filing, ManualClock};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;

fn engine_with(db: &DatabaseConnection, clock: &ManualClock, hooks: Hooks) -> Engine {
    Engine::with_hooks(
        db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
        hooks,
    )
}

fn appellant() -> Actor {
    Actor::appellant("person@example.org")
}

async fn appeals(db: &DatabaseConnection) -> u64 {
    appeal::Entity::find().count(db).await.expect("count")
}

/// A routing rule's shape: appeals against spam enforcements go to the senior queue,
/// triaged at filing.
#[derive(Debug)]
struct RouteSpamToSenior;

#[async_trait]
impl AfterFiling for RouteSpamToSenior {
    async fn after_filing(
        &self,
        cx: &InTransaction<'_>,
        case: &mut FiledCase<'_>,
    ) -> Result<(), EngineError> {
        if case.enforcement.is_none_or(|e| e.policy != "spam") {
            return Ok(());
        }
        let triage = Command::Triage {
            priority: Priority::High,
            queue: cx.settings.senior_queue.clone(),
            tags: vec!["routed".into()],
            identity_verified: case.appeal().appeal.identity_verified,
            four_eyes: true,
            link: None,
        };
        // Triage is a triager's command in the core; the rule acts as a service identity
        // with that role.
        let router = Actor::staff("routing-rules", [Role::Triager]);
        case.apply(cx, &triage, &router).await?;
        Ok(())
    }
}

/// Triages like a routing rule, then fails.
#[derive(Debug)]
struct TriageThenFail;

#[async_trait]
impl AfterFiling for TriageThenFail {
    async fn after_filing(
        &self,
        cx: &InTransaction<'_>,
        case: &mut FiledCase<'_>,
    ) -> Result<(), EngineError> {
        RouteSpamToSenior.after_filing(cx, case).await?;
        Err(EngineError::InvalidInput("the rule set is broken".into()))
    }
}

/// Refuses every account but one, and audits the refusal once the filing rolled back.
#[derive(Debug)]
struct OnlyAccount(&'static str);

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("appeals of {account} are not taken here")]
struct NotTakenHere {
    account: String,
}

#[async_trait]
impl FilingRefusal for NotTakenHere {
    async fn record(
        &self,
        cx: &InTransaction<'_>,
        incoming: &IncomingAppeal,
    ) -> Result<(), EngineError> {
        let entry = NewAuditEntry {
            actor: Actor::system("test-gate"),
            action: "test_refusal",
            account_id: Some(self.account.clone()),
            appeal_id: None,
            details: json!({ "sender": incoming.sender }),
        };
        audit::record(cx.txn, entry, cx.now).await.map(|_| ())
    }
}

#[async_trait]
impl FilingGate for OnlyAccount {
    async fn check(
        &self,
        _cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Refusal>, EngineError> {
        Ok(case
            .account_id
            .filter(|account| *account != self.0)
            .map(|account| {
                Refusal::new(NotTakenHere {
                    account: account.to_owned(),
                })
            }))
    }
}

/// Audits every command it sees, in the command's transaction, and fails on claims.
#[derive(Debug)]
struct AuditCommandsRefuseClaims;

#[async_trait]
impl DecisionObserver for AuditCommandsRefuseClaims {
    async fn observe(
        &self,
        cx: &InTransaction<'_>,
        recorded: &RecordedCommand<'_>,
    ) -> Result<(), EngineError> {
        let kinds: Vec<&str> = recorded.events.iter().map(|e| e.kind.name()).collect();
        let entry = NewAuditEntry {
            actor: recorded.actor.clone(),
            action: "test_command_seen",
            account_id: None,
            appeal_id: Some(recorded.appeal.id),
            details: json!({
                "command": recorded.command.name(),
                "events": kinds,
                "version": recorded.appeal.version(),
            }),
        };
        audit::record(cx.txn, entry, cx.now).await?;
        if matches!(recorded.command, Command::Claim { .. }) {
            return Err(EngineError::InvalidInput("claims are closed".into()));
        }
        Ok(())
    }
}

redress_engine::backend_tests! {
    async fn an_after_filing_hook_triages_the_new_case_in_the_filing_transaction(test) {
        let clock = clock();
        let mut hooks = Hooks::new();
        hooks.register_after_filing(RouteSpamToSenior);
        let engine = engine_with(&test.db, &clock, hooks);
        enforcement(&test.db, "acct-spam", "spam").await;
        enforcement(&test.db, "acct-other", "nudity").await;

        let filing = engine.file(&appellant(), email("<routed@example.org>", Some("acct-spam"))).await.expect("file");
        let Filing::Created(routed) = filing else { panic!("expected a new case, got {filing:?}") };
        assert_eq!(routed.appeal.state, AppealState::Triaged);
        assert_eq!(routed.appeal.queue, "senior");
        assert_eq!(routed.appeal.priority, Priority::High);
        assert_eq!(routed.appeal.tags, ["routed"]);
        assert!(routed.appeal.four_eyes);
        assert_eq!(engine.appeal(routed.id).await.expect("reload"), routed, "the channel sees the case as stored");
        let kinds: Vec<&str> = events::history(&test.db, routed.id).await.expect("history")
            .iter().map(|(_, e)| e.kind.name()).collect();
        assert_eq!(kinds, ["filed", "triaged"]);

        let filing = engine.file(&appellant(), email("<left@example.org>", Some("acct-other"))).await.expect("file");
        let Filing::Created(left) = filing else { panic!("expected a new case, got {filing:?}") };
        assert_eq!(left.appeal.state, AppealState::Filed, "the rule did not match");
        test.cleanup().await;
    }

    async fn a_failing_after_filing_hook_rolls_the_filing_back(test) {
        let clock = clock();
        let mut hooks = Hooks::new();
        hooks.register_after_filing(TriageThenFail);
        let engine = engine_with(&test.db, &clock, hooks);
        enforcement(&test.db, "acct-spam", "spam").await;
        let error = engine.file(&appellant(), email("<broken@example.org>", Some("acct-spam"))).await.expect_err("the hook fails");
        assert!(matches!(&error, EngineError::InvalidInput(m) if m == "the rule set is broken"), "{error:?}");
        assert_eq!(appeals(&test.db).await, 0, "neither the case nor its triage is kept");
        let message = redress_engine::repo::messages::find_by_channel_id(&test.db, redress_core::Channel::Email, "<broken@example.org>").await.expect("lookup");
        assert!(message.is_none(), "the message went with the case");
        test.cleanup().await;
    }

    async fn a_gate_refuses_with_its_own_type_and_its_record_outlives_the_rollback(test) {
        let clock = clock();
        let mut hooks = Hooks::new();
        hooks.register_filing_gate(OnlyAccount("acct-in"));
        let engine = engine_with(&test.db, &clock, hooks);
        enforcement(&test.db, "acct-in", "spam").await;
        enforcement(&test.db, "acct-out", "spam").await;

        let error = engine.file(&appellant(), email("<out@example.org>", Some("acct-out"))).await.expect_err("refused");
        let EngineError::Refused(refusal) = &error else { panic!("expected a refusal, got {error:?}") };
        assert_eq!(refusal.downcast_ref::<NotTakenHere>(), Some(&NotTakenHere { account: "acct-out".into() }));
        assert_eq!(error.to_string(), "appeals of acct-out are not taken here");
        assert!(!error.is_temporary(), "a refusal is for good");
        assert_eq!(appeals(&test.db).await, 0);
        let audited = audit::entries(&test.db, "test_refusal", Some("acct-out")).await.expect("audit");
        assert_eq!(audited.len(), 1, "the refusal's record is written after the rollback");
        assert_eq!(audited[0].details["sender"], "person@example.org");

        let filing = engine.file(&appellant(), email("<in@example.org>", Some("acct-in"))).await.expect("taken");
        assert!(matches!(filing, Filing::Created(_)), "{filing:?}");
        test.cleanup().await;
    }

    async fn decision_observers_run_in_the_command_transaction(test) {
        let clock = clock();
        let mut hooks = Hooks::new();
        hooks.register_decision_observer(AuditCommandsRefuseClaims);
        let engine = engine_with(&test.db, &clock, hooks);
        enforcement(&test.db, "acct-obs", "spam").await;
        let Filing::Created(filed) = engine.file(&appellant(), email("<obs@example.org>", Some("acct-obs"))).await.expect("file") else {
            panic!("expected a new case")
        };
        let triager = Actor::staff("tina", [Role::Triager]);
        let triage = Command::Triage { priority: Priority::Normal, queue: "general".into(), tags: vec![], identity_verified: true, four_eyes: false, link: None };
        engine.apply(filed.id, Some(1), &triage, &triager).await.expect("triage");
        let seen = audit::entries(&test.db, "test_command_seen", None).await.expect("audit");
        assert_eq!(seen.len(), 1, "filing is no command");
        assert_eq!(seen[0].details, json!({"command": "triage", "events": ["triaged"], "version": 2}));

        let reviewer = Actor::staff("rita", [Role::Reviewer]);
        let claim = Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(15)) };
        let error = engine.apply(filed.id, Some(2), &claim, &reviewer).await.expect_err("the observer refuses");
        assert!(matches!(&error, EngineError::InvalidInput(m) if m == "claims are closed"), "{error:?}");
        let after = engine.appeal(filed.id).await.expect("reload");
        assert_eq!((after.version(), after.appeal.assignee.clone()), (2, None), "the claim rolled back");
        assert_eq!(audit::entries(&test.db, "test_command_seen", None).await.expect("audit").len(), 1, "and the observer's row with it");
        test.cleanup().await;
    }

    async fn without_hooks_the_core_files_by_its_own_rules_only(test) {
        let clock = clock();
        let now = clock.now_plus(TimeDelta::zero());
        let bare = engine_with(&test.db, &clock, Hooks::new());
        let standard = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        for account in ["acct-old", "acct-old-2"] {
            registry::record_enforcement(&test.db, NewEnforcement {
                external_id: None,
                account_id: account.into(),
                account_email: None,
                account_locale: None,
                kind: "account_deactivation".into(),
                policy: "spam".into(),
                source_kind: "model".into(),
                source_id: "spam-v3".into(),
                batch_id: None,
                automated_detection: "fully".into(),
                automated_decision: "fully".into(),
                content_id: None,
                content_relation: None,
                facts: "An old enforcement.".into(),
                statement: serde_json::to_value(enforcement_statement(now)).expect("statement"),
                enforced_at: now - TimeDelta::days(400),
            }, now).await.expect("enforcement");
        }

        let refused = standard.file(&appellant(), email("<late@example.org>", Some("acct-old"))).await.expect_err("the window closed");
        assert!(refused.to_string().starts_with("the time to appeal enforcement"), "{refused}");
        let Filing::Created(filed) = bare.file(&appellant(), email("<late-2@example.org>", Some("acct-old-2"))).await.expect("no window without its gate") else {
            panic!("expected a new case")
        };
        let acknowledgement: Vec<_> = outbox::for_appeal(&test.db, filed.id).await.expect("outbox")
            .into_iter().filter(|item| item.topic == "notify_appellant").collect();
        assert_eq!(acknowledgement.len(), 1);
        assert!(acknowledgement[0].payload.get("status_token").is_none(), "{}", acknowledgement[0].payload);
        assert_eq!(appeal_status_token::Entity::find().count(&test.db).await.expect("count"), 0);

        enforcement(&test.db, "acct-new", "spam").await;
        let Filing::Created(with_token) = standard.file(&appellant(), email("<new@example.org>", Some("acct-new"))).await.expect("file") else {
            panic!("expected a new case")
        };
        let acknowledgement = outbox::for_appeal(&test.db, with_token.id).await.expect("outbox");
        assert!(acknowledgement[0].payload.get("status_token").is_none(), "no token is written in clear: {}", acknowledgement[0].payload);
        let token = standard.appellant_case(with_token.id).await.expect("case").status_token.expect("the standard rules issue a token");
        assert_eq!(token.len(), 64);
        assert_eq!(token, standard.settings().status_tokens.token(with_token.id));
        let stored = appeal_status_token::Entity::find_by_id(with_token.id).one(&test.db).await.expect("read").expect("its hash is stored");
        assert_ne!(stored.token_hash, token, "only the hash is stored");
        assert_eq!(bare.appellant_case(filed.id).await.expect("case").status_token, None, "a case without a stored hash gets no link");
        test.cleanup().await;
    }
}
