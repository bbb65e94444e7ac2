//! Statements on enforcements and faulty-enforcement detection, on SQLite and PostgreSQL.

mod common;

use chrono::{TimeDelta, Utc};
use common::{clock, email, enforcement_statement, engine, upheld_statement};
use redress_core::{Actor, Role};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::restoration::Selector;
use redress_engine::transparency::{
    incidents, DetectorSettings, EnforcementSource, IncidentStatus,
};
use redress_engine::{Engine, EngineSettings, ManualClock};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

fn new_enforcement(account: &str, source_id: &str, batch: Option<&str>) -> NewEnforcement {
    NewEnforcement {
        external_id: None,
        account_id: account.to_owned(),
        account_email: Some(format!("{account}@example.org")),
        account_locale: None,
        kind: "account_deactivation".into(),
        policy: "nudity".into(),
        source_kind: "model".into(),
        source_id: source_id.to_owned(),
        batch_id: batch.map(str::to_owned),
        automated_detection: "fully".into(),
        automated_decision: "fully".into(),
        content_id: Some("pin-1".into()),
        content_relation: Some("saved".into()),
        facts: "A saved pin matched the classifier.".into(),
        statement: serde_json::to_value(enforcement_statement(Utc::now())).expect("statement"),
        enforced_at: Utc::now(),
    }
}

async fn enforcements(db: &DatabaseConnection) -> u64 {
    redress_engine::entity::enforcement::Entity::find()
        .count(db)
        .await
        .expect("count")
}

/// Files an appeal against a new enforcement of `source_id` and has a reviewer decide it.
async fn decided_appeal(
    engine: &Engine,
    clock: &ManualClock,
    account: &str,
    source_id: &str,
    restore: bool,
) {
    registry::record_enforcement(
        engine.db(),
        new_enforcement(account, source_id, Some(&format!("{source_id}-run-1"))),
        Utc::now(),
    )
    .await
    .expect("enforcement");
    let id = engine
        .file(
            &Actor::appellant("person@example.org"),
            email(&format!("<{account}@example.org>"), Some(account)),
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    redress_engine::testing::triage_claim_and_decide(
        engine,
        id,
        &Actor::staff("alice", [Role::Reviewer]),
        clock.now_plus(TimeDelta::minutes(10)),
        restore,
        upheld_statement(clock.now_plus(TimeDelta::zero())),
    )
    .await;
}

async fn decide_many(
    engine: &Engine,
    clock: &ManualClock,
    source: &str,
    total: usize,
    restored: usize,
) {
    for i in 0..total {
        decided_appeal(
            engine,
            clock,
            &format!("{source}-{i:03}"),
            source,
            i < restored,
        )
        .await;
    }
}

redress_engine::backend_tests! {
    async fn an_enforcement_without_a_complete_statement_is_refused(test) {
        let mut incomplete = new_enforcement("acct-x", "rule-9", None);
        incomplete.statement["ground"]["clause"] = serde_json::json!("");
        let error = registry::record_enforcement(&test.db, incomplete, Utc::now()).await.expect_err("incomplete");
        assert_eq!(error.to_string(), "enforcement statement: statement of reasons: ground.clause must not be empty");

        let mut not_a_statement = new_enforcement("acct-x", "rule-9", None);
        not_a_statement.statement = serde_json::json!({"restriction": "account_suspension"});
        let error = registry::record_enforcement(&test.db, not_a_statement, Utc::now()).await.expect_err("malformed");
        assert!(error.to_string().starts_with("enforcement statement: missing field"), "{error}");

        let mut inconsistent = new_enforcement("acct-x", "rule-9", None);
        inconsistent.automated_decision = "not".into();
        let error = registry::record_enforcement(&test.db, inconsistent, Utc::now()).await.expect_err("inconsistent");
        assert_eq!(error.to_string(), "enforcement statement: automated_decision is \"not\" but the statement says fully");

        assert_eq!(enforcements(&test.db).await, 0, "nothing refused was written");
        registry::record_enforcement(&test.db, new_enforcement("acct-x", "rule-9", None), Utc::now()).await.expect("complete");
        assert_eq!(enforcements(&test.db).await, 1);
        test.cleanup().await;
    }

    async fn a_wave_of_won_appeals_raises_one_incident_and_noise_does_not(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        decide_many(&engine, &clock, "nudity-v7", 200, 180).await;
        decide_many(&engine, &clock, "spam-v3", 100, 30).await;
        decide_many(&engine, &clock, "rule-12", 10, 10).await;

        let ranked = engine.ranked_sources(clock.now_plus(TimeDelta::days(-1)), clock.now_plus(TimeDelta::days(1))).await.expect("rank");
        let order: Vec<(&str, u64, u64)> = ranked.iter().map(|s| (s.source.id.as_str(), s.decided, s.overturned)).collect();
        assert_eq!(order, [("nudity-v7", 200, 180), ("rule-12", 10, 10), ("spam-v3", 100, 30)]);

        clock.advance(TimeDelta::hours(1));
        let settings = DetectorSettings::default();
        let raised = engine.detect_faulty_sources(&settings).await.expect("scan");
        assert_eq!(raised.len(), 1, "{raised:?}");
        let incident = &raised[0];
        assert_eq!(incident.source, EnforcementSource { kind: "model".into(), id: "nudity-v7".into(), batch_id: Some("nudity-v7-run-1".into()) });
        assert_eq!((incident.decided, incident.overturned), (200, 180));
        assert!((incident.lower_bound - 0.8506).abs() < 1e-4, "{}", incident.lower_bound);
        assert_eq!(incident.selector, Selector::Batch { batch_id: "nudity-v7-run-1".into() });
        // Every account of the wave is still marked deactivated in the registry: the test confirms
        // restorations without an account service updating it.
        assert_eq!(incident.dry_run_accounts, 200);

        let notices = redress_engine::entity::outbox::Entity::find().all(&test.db).await.expect("outbox");
        let alerts: Vec<_> = notices.iter().filter(|n| n.topic == incidents::TOPIC).collect();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].payload["bulk_restore"]["selector"], serde_json::json!({"by": "batch", "batch_id": "nudity-v7-run-1"}));
        assert_eq!(alerts[0].payload["bulk_restore"]["dry_run_accounts"], 200);

        assert!(engine.detect_faulty_sources(&settings).await.expect("rescan").is_empty(), "one open incident per source");
        assert_eq!(engine.incidents(false).await.expect("open").len(), 1);
        let resolved = engine.resolve_incident(incident.id).await.expect("resolve");
        assert_eq!(resolved.status, IncidentStatus::Resolved);
        assert!(engine.incidents(false).await.expect("open").is_empty());
        assert_eq!(engine.incidents(true).await.expect("all").len(), 1);
        let again = engine.resolve_incident(incident.id).await.expect_err("already resolved");
        assert_eq!(again.to_string(), format!("incident {} is already resolved", incident.id));
        test.cleanup().await;
    }

    async fn appeals_outside_the_window_are_not_counted(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        decide_many(&engine, &clock, "nudity-v7", 40, 40).await;
        clock.advance(TimeDelta::days(31));
        let raised = engine.detect_faulty_sources(&DetectorSettings::default()).await.expect("scan");
        assert!(raised.is_empty(), "{raised:?}");
        let state = engine.incidents(true).await.expect("list");
        assert!(state.is_empty());
        test.cleanup().await;
    }

    async fn an_appeal_after_the_window_is_refused_with_a_clear_error(test) {
        let clock = clock();
        let now = clock.now_plus(TimeDelta::zero());
        let mut old = new_enforcement("acct-old", "rule-1", None);
        old.enforced_at = now - TimeDelta::days(200);
        let old_id = registry::record_enforcement(&test.db, old, now).await.expect("old enforcement");
        let mut recent = new_enforcement("acct-recent", "rule-1", None);
        recent.enforced_at = now - TimeDelta::days(150);
        registry::record_enforcement(&test.db, recent, now).await.expect("recent enforcement");

        let engine = engine(&test.db, &clock, EngineSettings::default());
        let error = engine
            .file(&Actor::appellant("old@example.org"), email("<old@example.org>", Some("acct-old")))
            .await
            .expect_err("too late");
        let closed_at = (now - TimeDelta::days(200)).checked_add_months(chrono::Months::new(6)).expect("date");
        assert_eq!(
            error.to_string(),
            format!("the time to appeal enforcement {old_id} ended on {closed_at}: appeals are accepted for 6 months after the notice")
        );
        engine
            .file(&Actor::appellant("recent@example.org"), email("<recent@example.org>", Some("acct-recent")))
            .await
            .expect("within six months");

        let unlimited = common::engine(&test.db, &clock, EngineSettings { appeal_window_months: 0, ..EngineSettings::default() });
        unlimited
            .file(&Actor::appellant("old@example.org"), email("<old-2@example.org>", Some("acct-old")))
            .await
            .expect("no window configured");
        test.cleanup().await;
    }
}
