//! The transparency report against a hand-computed fixture, the appellant status page, and
//! the Transparency Database export, on SQLite and PostgreSQL.

mod common;

use chrono::TimeDelta;
use common::{clock, email, enforcement, engine, upheld_statement};
use redress_core::{Actor, AppealState, Channel, Command, Outcome, Priority, Role};
use redress_engine::link_keys::LinkTokenKeys;
use redress_engine::transparency::disputes::{self, NewDispute};
use redress_engine::transparency::tdb::{self, TdbSettings};
use redress_engine::transparency::StatusError;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, ManualClock};
use uuid::Uuid;

fn alice() -> Actor {
    Actor::staff("alice", [Role::Reviewer])
}

fn appellant() -> Actor {
    Actor::appellant("person@example.org")
}

fn triage() -> Command {
    Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: vec![],
        identity_verified: true,
        four_eyes: false,
        link: None,
    }
}

async fn claim_and_decide(engine: &Engine, clock: &ManualClock, id: Uuid, outcome: Outcome) {
    let lease_until = clock.now_plus(TimeDelta::minutes(10));
    engine
        .apply(id, None, &Command::Claim { lease_until }, &alice())
        .await
        .expect("claim");
    let statement =
        (outcome == Outcome::Uphold).then(|| upheld_statement(clock.now_plus(TimeDelta::zero())));
    let decide = Command::Decide {
        outcome,
        reasons: "reviewed".into(),
        statement,
        manifestly_unfounded: false,
        template: None,
    };
    engine
        .apply(id, None, &decide, &alice())
        .await
        .expect("decide");
}

async fn file(engine: &Engine, incoming: IncomingAppeal) -> Uuid {
    engine
        .file(&appellant(), incoming)
        .await
        .expect("file")
        .appeal_id()
        .expect("id")
}

/// The status token every notice of the case carries, derived again from the key.
async fn status_token(engine: &Engine, id: Uuid) -> String {
    engine
        .appellant_case(id)
        .await
        .expect("case")
        .status_token
        .expect("every new case has a status token")
}

redress_engine::backend_tests! {
    async fn the_report_matches_a_hand_computed_fixture(test) {
        let clock = clock();
        let t0 = clock.now_plus(TimeDelta::zero());
        let engine = engine(&test.db, &clock, EngineSettings::default());
        for account in ["acct-a", "acct-b", "acct-c"] {
            enforcement(&test.db, account, "spam").await;
        }
        let a = file(&engine, email("<a@example.org>", Some("acct-a"))).await;
        let b = file(&engine, IncomingAppeal { channel: Channel::X, ..email("dm-b", Some("acct-b")) }).await;
        let c = file(&engine, email("<c@example.org>", Some("acct-c"))).await;
        let d = file(&engine, IncomingAppeal { channel: Channel::Api, ..email("api-d", None) }).await;
        engine.apply(a, None, &triage(), &alice()).await.expect("triage a");
        engine.apply(c, None, &triage(), &alice()).await.expect("triage c");

        clock.set(t0 + TimeDelta::hours(1));
        engine.apply(b, None, &Command::RequestInfo { message: "Which pin?".into() }, &alice()).await.expect("ask b");
        clock.set(t0 + TimeDelta::hours(10));
        claim_and_decide(&engine, &clock, a, Outcome::Restore).await;
        engine.apply(a, None, &Command::RestorationConfirmed { restoration_id: Uuid::now_v7() }, &Actor::system("restorer")).await.expect("confirm a");
        clock.set(t0 + TimeDelta::hours(20));
        let escalate = Command::Escalate { reason: "complex".into(), to_queue: "senior".into(), breached: None };
        engine.apply(c, None, &escalate, &alice()).await.expect("escalate c");
        clock.set(t0 + TimeDelta::hours(31));
        file(&engine, email("<b-reply@example.org>", Some("acct-b"))).await;
        engine.apply(b, None, &triage(), &alice()).await.expect("triage b");
        clock.set(t0 + TimeDelta::hours(50));
        claim_and_decide(&engine, &clock, c, Outcome::Uphold).await;
        clock.set(t0 + TimeDelta::hours(60));
        claim_and_decide(&engine, &clock, b, Outcome::Uphold).await;
        clock.set(t0 + TimeDelta::hours(61));
        let bulk = Command::BulkRestore { job_id: Uuid::now_v7(), reason: "faulty model".into(), link: None };
        engine.apply(d, None, &bulk, &Actor::staff("sam", [Role::Support])).await.expect("bulk d");
        disputes::record(&test.db, NewDispute { appeal_id: c, settlement_body: "ADR Body Dublin".into(), submitted_at: t0 + TimeDelta::hours(62), outcome: None, resolved_at: None }, &alice(), t0 + TimeDelta::hours(62)).await.expect("dispute");

        let report = engine.transparency_report(t0 - TimeDelta::hours(1), t0 + TimeDelta::hours(100)).await.expect("report");
        assert_eq!(report.appeals_received, 4);
        let pairs = |m: &std::collections::BTreeMap<String, u64>| m.iter().map(|(k, v)| (k.clone(), *v)).collect::<Vec<_>>();
        assert_eq!(pairs(&report.received_by_channel), [("api".into(), 1), ("email".into(), 2), ("x".into(), 1)]);
        assert_eq!(pairs(&report.received_by_basis), [("incompatible_with_terms".into(), 3), ("unlinked".into(), 1)]);
        assert_eq!(report.decisions, 3);
        assert_eq!(pairs(&report.decisions_by_outcome), [("restore".into(), 1), ("uphold".into(), 2)]);
        // Hours to decision: a 10, c 50, b 60 (wall clock, including b's 30 hours awaiting).
        assert_eq!(report.median_hours_to_decision, Some(50.0));
        assert_eq!(report.p90_hours_to_decision, Some(60.0));
        assert_eq!(report.reversed, 2, "a restored, d restored in bulk");
        // The SLA budget is 48 hours without the time awaiting the appellant: a (10) and
        // b (60 - 30) are within it, c (50) is not.
        assert_eq!(report.decisions_within_sla, 2);
        assert_eq!(report.sla_compliance, Some(2.0 / 3.0));
        assert_eq!(report.escalations, 1);
        assert_eq!(report.bulk_restorations, 1);
        assert_eq!(report.out_of_court_disputes, 1);

        let later = engine.transparency_report(t0 + TimeDelta::hours(55), t0 + TimeDelta::hours(100)).await.expect("later report");
        assert_eq!((later.appeals_received, later.decisions, later.reversed), (0, 1, 1));
        let error = engine.transparency_report(t0, t0).await.expect_err("empty period");
        assert!(error.to_string().starts_with("the report period must end after it starts"), "{error}");
        test.cleanup().await;
    }

    async fn the_status_page_opens_only_with_the_right_reference_and_token(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-s", "spam").await;
        enforcement(&test.db, "acct-t", "spam").await;
        let id = file(&engine, email("<s@example.org>", Some("acct-s"))).await;
        let other = file(&engine, email("<t@example.org>", Some("acct-t"))).await;
        let token = status_token(&engine, id).await;
        let other_token = status_token(&engine, other).await;
        let reference = engine.appeal(id).await.expect("load").reference.to_string();
        let other_reference = engine.appeal(other).await.expect("load").reference.to_string();

        let view = engine.appeal_status(&reference, &token).await.expect("right token");
        assert_eq!(view.state, AppealState::Filed);
        assert!(view.accepts_information);
        for (reference, token) in [
            (reference.as_str(), "0".repeat(64)),
            (reference.as_str(), other_token.clone()),
            (other_reference.as_str(), token.clone()),
            ("RDR-0000-0000", token.clone()),
            ("not a reference", token.clone()),
        ] {
            let error = engine.appeal_status(reference, &token).await.expect_err("refused");
            assert!(matches!(error, StatusError::NotFound), "{error}");
        }

        engine.apply(id, None, &Command::RequestInfo { message: "Which pin was it?".into() }, &alice()).await.expect("ask");
        let view = engine.appeal_status(&reference, &token).await.expect("view");
        assert_eq!(view.state, AppealState::AwaitingUser);
        assert_eq!(view.information_requested.as_deref(), Some("Which pin was it?"));
        let error = engine.add_status_information(&reference, &token, "  ").await.expect_err("empty");
        assert_eq!(error.to_string(), "the information must not be empty");
        let view = engine.add_status_information(&reference, &token, "It was pin 991, which I only saved.").await.expect("add");
        assert_eq!(view.state, AppealState::Filed, "answering resumes the case");
        let error = engine.add_status_information(&reference, "wrong", "more").await.expect_err("wrong token");
        assert!(matches!(error, StatusError::NotFound));
        let messages = redress_engine::repo::messages::for_appeal(&test.db, id).await.expect("messages");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].body, "It was pin 991, which I only saved.");

        engine.apply(id, None, &triage(), &alice()).await.expect("triage");
        claim_and_decide(&engine, &clock, id, Outcome::Uphold).await;
        let view = engine.appeal_status(&reference, &token).await.expect("decided");
        assert_eq!(view.state, AppealState::Upheld);
        let decision = view.decision.expect("the decision is shown");
        assert!(decision.statement.is_some(), "with its statement of reasons");
        assert!(!view.accepts_information);
        let error = engine.add_status_information(&reference, &token, "more").await.expect_err("closed");
        assert_eq!(error.to_string(), "this appeal is upheld and takes no more information");
        test.cleanup().await;
    }

    async fn every_notice_gets_the_same_link_and_a_key_rotation_keeps_it(test) {
        let clock = clock();
        let keys = |current: &str, previous: &[&str]| LinkTokenKeys::new(current, previous.iter().copied());
        let settings = EngineSettings { status_tokens: keys("first secret", &[]), ..EngineSettings::default() };
        let engine = engine(&test.db, &clock, settings);
        enforcement(&test.db, "acct-link", "nudity").await;
        let id = file(&engine, email("<link@example.org>", Some("acct-link"))).await;
        let reference = engine.appeal(id).await.expect("load").reference.to_string();
        let acknowledged = engine.appellant_case(id).await.expect("case");
        let token = acknowledged.status_token.clone().expect("a link");
        let concerned = acknowledged.enforcement.expect("the enforcement the appeal concerns");
        assert_eq!((concerned.kind.as_str(), concerned.policy.as_str()), ("account_deactivation", "nudity"));
        assert!(concerned.statement.is_some(), "with its statement of reasons");
        let due = acknowledged.decision_due_at.expect("a decision date");
        assert_eq!(due, clock.now_plus(TimeDelta::hours(48)), "the default policy, around the clock");

        // Every later notice derives the same token: none invalidates the first link.
        engine.apply(id, None, &Command::RequestInfo { message: "Which pin?".into() }, &alice()).await.expect("ask");
        assert_eq!(engine.appellant_case(id).await.expect("case").status_token.as_deref(), Some(token.as_str()));
        engine.add_status_information(&reference, &token, "Pin 991.").await.expect("the first link still opens the page");
        engine.apply(id, None, &triage(), &alice()).await.expect("triage");
        claim_and_decide(&engine, &clock, id, Outcome::Uphold).await;
        let decided = engine.appellant_case(id).await.expect("case");
        assert_eq!(decided.status_token.as_deref(), Some(token.as_str()));
        assert_eq!(decided.decision_due_at, None, "nothing is due once decided");
        let view = engine.appeal_status(&reference, &token).await.expect("view");
        let history: Vec<_> = view.history.iter().map(|h| h.what.as_str()).collect();
        assert_eq!(history, [
            "We received your appeal.",
            "The reviewer asked you for more information.",
            "You sent us information.",
            "Your answer arrived and the review continued.",
            "Your appeal was placed in a review queue.",
            "A reviewer decided on your appeal.",
            "The original decision was confirmed.",
        ]);
        assert_eq!(view.state_in_words, "Decided: the original decision stands");

        // After a rotation the old key, kept as previous, still yields the case's link;
        // a new case gets a token of the new key. Without the old key there is no link,
        // never a wrong one.
        let rotated = Engine::new(test.db.clone(), EngineSettings { status_tokens: keys("second secret", &["first secret"]), ..EngineSettings::default() }, std::sync::Arc::new(clock.clone()));
        assert_eq!(rotated.appellant_case(id).await.expect("case").status_token.as_deref(), Some(token.as_str()));
        enforcement(&test.db, "acct-link-2", "nudity").await;
        let newer = file(&rotated, email("<link-2@example.org>", Some("acct-link-2"))).await;
        assert_eq!(rotated.appellant_case(newer).await.expect("case").status_token, Some(keys("second secret", &[]).token(newer)));
        let forgotten = Engine::new(test.db.clone(), EngineSettings { status_tokens: keys("second secret", &[]), ..EngineSettings::default() }, std::sync::Arc::new(clock.clone()));
        assert_eq!(forgotten.appellant_case(id).await.expect("case").status_token, None);
        assert!(forgotten.appeal_status(&reference, &token).await.is_ok(), "the page checks the stored hash, not the key");
        test.cleanup().await;
    }

    async fn enforcement_statements_export_in_the_transparency_database_schema(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-e", "spam").await;
        let now = chrono::Utc::now();
        let export = engine
            .export_statements(&TdbSettings::default(), now - TimeDelta::days(1), now + TimeDelta::days(1))
            .await
            .expect("export");
        assert!(export.rejected.is_empty(), "{:?}", export.rejected);
        assert_eq!(export.statements.len(), 1);
        let json = serde_json::to_value(&export.statements[0]).expect("json");
        for field in [
            "decision_account", "decision_ground", "incompatible_content_ground",
            "incompatible_content_explanation", "category", "content_type", "territorial_scope",
            "content_date", "application_date", "decision_facts", "source_type",
            "automated_detection", "automated_decision", "puid",
        ] {
            assert!(json.get(field).is_some_and(|v| !v.is_null()), "{field} missing in {json}");
        }
        assert_eq!(json["decision_account"], "DECISION_ACCOUNT_SUSPENDED");
        assert_eq!(json["decision_ground"], "DECISION_GROUND_INCOMPATIBLE_CONTENT");
        assert_eq!(json["category"], "STATEMENT_CATEGORY_OTHER_VIOLATION_TC");
        assert_eq!(json["automated_detection"], "Yes");
        assert_eq!(json["automated_decision"], "AUTOMATED_DECISION_FULLY");
        assert_eq!(json["source_type"], "SOURCE_VOLUNTARY");
        assert_eq!(json["content_type"], serde_json::json!(["CONTENT_TYPE_IMAGE"]));
        assert_eq!(json["puid"], "ext-acct-e-spam");
        assert_eq!(json["territorial_scope"].as_array().map(Vec::len), Some(30));
        assert!(json.get("decision_visibility").is_none(), "absent fields are left out");
        assert!(json.get("illegal_content_legal_ground").is_none());
        test.cleanup().await;
    }
}

fn exported() -> tdb::TdbStatement {
    tdb::TdbStatement {
        decision_visibility: Some(vec!["DECISION_VISIBILITY_CONTENT_REMOVED".into()]),
        end_date_visibility_restriction: None,
        decision_monetary: None,
        end_date_monetary_restriction: None,
        decision_provision: None,
        end_date_service_restriction: None,
        decision_account: None,
        end_date_account_restriction: None,
        decision_ground: "DECISION_GROUND_ILLEGAL_CONTENT".into(),
        illegal_content_legal_ground: Some("Trade Marks Act s.10".into()),
        illegal_content_explanation: Some("Counterfeit goods.".into()),
        incompatible_content_ground: None,
        incompatible_content_explanation: None,
        category: "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS".into(),
        content_type: vec!["CONTENT_TYPE_IMAGE".into()],
        content_type_other: None,
        territorial_scope: vec!["DE".into(), "FR".into()],
        content_date: "2026-05-01".into(),
        application_date: "2026-05-02".into(),
        decision_facts: "Listed counterfeit bags.".into(),
        source_type: "SOURCE_ARTICLE_16".into(),
        automated_detection: "No".into(),
        automated_decision: "AUTOMATED_DECISION_NOT_AUTOMATED".into(),
        puid: "pin-991".into(),
    }
}

#[test]
fn the_export_refuses_what_the_transparency_database_would() {
    assert_eq!(tdb::validate(&exported()), Ok(()));
    let field = |change: fn(&mut tdb::TdbStatement)| {
        let mut statement = exported();
        change(&mut statement);
        tdb::validate(&statement).expect_err("refused")
    };
    assert!(field(|s| s.decision_visibility = None).has("decision_visibility"));
    assert!(field(|s| s.illegal_content_legal_ground = None).has("illegal_content_legal_ground"));
    assert!(field(|s| s.illegal_content_explanation = Some(" ".into()))
        .has("illegal_content_explanation"));
    assert!(
        field(|s| s.decision_ground = "DECISION_GROUND_INCOMPATIBLE_CONTENT".into())
            .has("incompatible_content_ground")
    );
    assert!(field(|s| s.decision_ground = String::new()).has("decision_ground"));
    assert!(field(|s| s.category = "STATEMENT_CATEGORY_SPAM".into()).has("category"));
    assert!(field(|s| s.content_type.clear()).has("content_type"));
    assert!(
        field(|s| s.content_type = vec!["CONTENT_TYPE_OTHER".into()]).has("content_type_other")
    );
    assert!(field(|s| s.territorial_scope = vec!["US".into()]).has("territorial_scope"));
    assert!(field(|s| s.application_date = "02/05/2026".into()).has("application_date"));
    assert!(field(|s| s.decision_facts = "x".repeat(5001)).has("decision_facts"));
    assert!(field(|s| s.source_type = String::new()).has("source_type"));
    assert!(field(|s| s.automated_detection = "yes".into()).has("automated_detection"));
    assert!(
        field(|s| s.automated_decision = "AUTOMATED_DECISION_SOMEWHAT".into())
            .has("automated_decision")
    );
    assert!(field(|s| s.puid = String::new()).has("puid"));
}
