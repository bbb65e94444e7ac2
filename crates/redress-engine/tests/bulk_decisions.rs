//! Bulk decisions on SQLite and on PostgreSQL: one template applied to the appeals a queue
//! filter selects, each appeal decided with its own event and the template filled for it,
//! claims and four-eyes review respected per appeal, the skipped ones reported with why,
//! and a job that stops half-way resumed without deciding anything twice.

mod common;

use chrono::{TimeDelta, Utc};
use common::{clock, email, enforcement, enforcement_statement, engine, spam_policy};
use redress_core::{
    Actor, Appeal, AppealState, Command, ContentRelation, DecisionTemplate, EventKind, Outcome,
    Priority, Role, TransitionError,
};
use redress_engine::bulk_decisions::{
    BulkDecider, BulkDecisionError, BulkDecisionStatus, ChunkOutcome,
};
use redress_engine::policies::PolicyCatalog;
use redress_engine::query::AppealFilter;
use redress_engine::repo::outbox;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::{Engine, EngineError, EngineSettings, Filing, ManualClock};
use uuid::Uuid;

const TEMPLATE: &str = "spam-uphold-en";

fn settings() -> EngineSettings {
    let spam = spam_policy();
    let mut uphold = DecisionTemplate {
        id: TEMPLATE.into(),
        policy: "spam".into(),
        outcome: Outcome::Uphold,
        language: "en".into(),
        title: "Spam confirmed".into(),
        reasons: "Your appeal {reference}: you {content_relation} the pin {content_id}.".into(),
        statement: redress_core::StatementDraft::default(),
    };
    uphold.statement.facts = Some("Pin {content_id}, appeal filed {filed_at}.".into());
    EngineSettings {
        policies: PolicyCatalog::new("en", vec![spam], vec![uphold]).expect("catalog"),
        ..EngineSettings::default()
    }
}

fn carol() -> Actor {
    Actor::staff("carol", [Role::SeniorReviewer])
}

fn alice() -> Actor {
    Actor::staff("alice", [Role::Reviewer])
}

fn triage(four_eyes: bool) -> Command {
    Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: vec![],
        identity_verified: true,
        four_eyes,
        link: None,
    }
}

/// An appeal by `account` against its enforcement, triaged unless `triaged` is false.
async fn appeal(engine: &Engine, account: &str, triaged: bool, four_eyes: bool) -> Uuid {
    let Filing::Created(stored) = engine
        .file(
            &Actor::appellant(format!("{account}@example.org")),
            email(&format!("<{account}@example.org>"), Some(account)),
        )
        .await
        .expect("file")
    else {
        panic!("a new case")
    };
    if triaged {
        engine
            .apply(
                stored.id,
                None,
                &triage(four_eyes),
                &Actor::staff("tina", [Role::Triager]),
            )
            .await
            .expect("triage");
    }
    stored.id
}

/// A spam enforcement of `account` that names no content.
async fn enforcement_without_content(test: &redress_engine::testing::TestDb, account: &str) {
    registry::record_enforcement(
        &test.db,
        NewEnforcement {
            external_id: Some(format!("ext-{account}")),
            account_id: account.to_owned(),
            account_email: None,
            account_locale: None,
            kind: "account_deactivation".into(),
            policy: "spam".into(),
            source_kind: "model".into(),
            source_id: "nudity-v7".into(),
            batch_id: None,
            automated_detection: "fully".into(),
            automated_decision: "fully".into(),
            content_id: None,
            content_relation: None,
            facts: "Mass-posting.".into(),
            statement: serde_json::to_value(enforcement_statement(Utc::now())).expect("statement"),
            enforced_at: Utc::now(),
        },
        Utc::now(),
    )
    .await
    .expect("record enforcement");
}

fn spam_in_general() -> AppealFilter {
    AppealFilter {
        queue: Some("general".into()),
        enforcement_policy: Some("spam".into()),
        ..AppealFilter::default()
    }
}

/// `count` triaged spam appeals, `acct-{prefix}-n`.
async fn alike(
    test: &redress_engine::testing::TestDb,
    engine: &Engine,
    prefix: &str,
    count: usize,
) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for n in 0..count {
        let account = format!("acct-{prefix}-{n}");
        enforcement(&test.db, &account, "spam").await;
        ids.push(appeal(engine, &account, true, false).await);
    }
    ids
}

async fn decided_events(engine: &Engine, id: Uuid) -> usize {
    engine
        .history(id)
        .await
        .expect("history")
        .iter()
        .filter(|(_, e)| matches!(e.kind, EventKind::Decided { .. }))
        .count()
}

/// The stored row is the fold of the stored events.
async fn row_is_the_fold(engine: &Engine, id: Uuid) {
    let history = engine.history(id).await.expect("history");
    let mut events = history.into_iter().map(|(_, e)| e);
    let filed = events.next().expect("filed");
    let mut folded = Appeal::from_filed(&filed).expect("filed event");
    for event in events {
        folded.apply(&event);
    }
    assert_eq!(engine.appeal(id).await.expect("appeal").appeal, folded);
}

fn decider(engine: &Engine) -> BulkDecider {
    BulkDecider::new(engine.clone())
}

fn later(clock: &ManualClock) -> chrono::DateTime<Utc> {
    clock.now_plus(TimeDelta::minutes(15))
}

redress_engine::backend_tests! {
    async fn each_appeal_gets_its_own_decision_and_claims_four_eyes_and_gaps_are_reported(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        let mut alike = alike(&test, &engine, "a", 3).await;
        enforcement(&test.db, "acct-four-eyes", "spam").await;
        let four_eyes = appeal(&engine, "acct-four-eyes", true, true).await;
        enforcement(&test.db, "acct-claimed", "spam").await;
        let claimed = appeal(&engine, "acct-claimed", true, false).await;
        engine.apply(claimed, None, &Command::Claim { lease_until: later(&clock) }, &alice()).await.expect("claim");
        enforcement(&test.db, "acct-own-claim", "spam").await;
        let own_claim = appeal(&engine, "acct-own-claim", true, false).await;
        engine.apply(own_claim, None, &Command::Claim { lease_until: later(&clock) }, &carol()).await.expect("claim");
        enforcement(&test.db, "acct-untriaged", "spam").await;
        let untriaged = appeal(&engine, "acct-untriaged", false, false).await;
        enforcement_without_content(&test, "acct-no-content").await;
        let no_content = appeal(&engine, "acct-no-content", true, false).await;
        enforcement(&test.db, "acct-fraud", "fraud").await;
        let other_policy = appeal(&engine, "acct-fraud", true, false).await;

        let bulk = decider(&engine);
        let refused = bulk.dry_run(&alice(), &spam_in_general(), TEMPLATE).await.expect_err("a reviewer");
        assert!(matches!(refused, BulkDecisionError::NotPermitted { .. }), "{refused:?}");
        let unknown = bulk.dry_run(&carol(), &spam_in_general(), "no-such").await.expect_err("unknown");
        assert!(unknown.to_string().starts_with("template:"), "{unknown}");

        let dry = bulk.dry_run(&carol(), &spam_in_general(), TEMPLATE).await.expect("dry run");
        assert_eq!((dry.selected, dry.would_decide, dry.would_propose, dry.would_skip), (8, 4, 1, 3), "{dry:?}");
        let mut reasons = dry.skipped_by_reason.clone();
        reasons.sort();
        assert_eq!(
            reasons,
            [("claimed".to_owned(), 1), ("not_awaiting_decision".to_owned(), 1), ("template_unfillable".to_owned(), 1)]
        );

        let job = bulk.start(&carol(), spam_in_general(), TEMPLATE, 3).await.expect("start");
        assert_eq!((job.total, job.processed, job.status), (8, 0, BulkDecisionStatus::Running));
        // A reviewer claims one of the selected appeals after the start: it is theirs now.
        let claimed_late = alike.pop().expect("one more");
        engine.apply(claimed_late, None, &Command::Claim { lease_until: later(&clock) }, &alice()).await.expect("claim");

        let mut seen = Vec::new();
        let done = bulk.run(job.id, |progress| seen.push(progress.processed)).await.expect("run");
        assert_eq!(done.status, BulkDecisionStatus::Completed);
        assert_eq!((done.processed, done.decided, done.proposed, done.skipped), (8, 3, 1, 4), "{done:?}");
        assert_eq!(seen, [3, 6, 8, 8], "progress after every chunk, then the end");

        for &id in alike.iter().chain([&own_claim]) {
            let stored = engine.appeal(id).await.expect("appeal");
            assert_eq!(stored.appeal.state, AppealState::Upheld);
            assert_eq!(stored.appeal.assignee, None);
            let history = engine.history(id).await.expect("history");
            let decided = history
                .iter()
                .find_map(|(_, e)| match &e.kind {
                    EventKind::Decided { reasons, decided_by, bulk_job, statement, .. } => Some((reasons.clone(), decided_by.clone(), *bulk_job, statement.clone())),
                    _ => None,
                })
                .expect("a decided event");
            assert_eq!(
                decided.0,
                format!("Your appeal {}: you saved the pin pin-991.", stored.reference),
                "the template filled for this appeal"
            );
            assert_eq!((decided.1.as_str(), decided.2), ("carol", Some(job.id)));
            let statement = decided.3.expect("an uphold carries its statement");
            assert!(statement.facts.starts_with("Pin pin-991, appeal filed "), "{}", statement.facts);
            assert!(matches!(history.last().map(|(_, e)| &e.kind), Some(EventKind::Upheld)));
            let notices = outbox::for_appeal(&test.db, id).await.expect("outbox");
            assert_eq!(
                notices.iter().filter(|item| item.payload["effect"]["notice"] == "decision_upheld").count(),
                1,
                "one decision notice per appeal"
            );
            row_is_the_fold(&engine, id).await;
        }

        // Four-eyes: the bulk decision is the first decision; the second is another senior's.
        assert_eq!(engine.appeal(four_eyes).await.expect("appeal").appeal.state, AppealState::Reviewed);
        let same = engine.apply(four_eyes, None, &Command::Approve { note: None }, &carol()).await.expect_err("same reviewer");
        assert!(matches!(same, EngineError::Transition(TransitionError::SameReviewer { .. })), "{same:?}");
        let approved = engine
            .apply(four_eyes, None, &Command::Approve { note: None }, &Actor::staff("dave", [Role::SeniorReviewer]))
            .await
            .expect("approve");
        assert_eq!(approved.appeal.appeal.state, AppealState::Upheld);
        row_is_the_fold(&engine, four_eyes).await;

        // Skipped appeals are untouched and reported with why.
        for (id, state) in [(claimed, AppealState::Triaged), (claimed_late, AppealState::Triaged), (untriaged, AppealState::Filed), (no_content, AppealState::Triaged)] {
            let stored = engine.appeal(id).await.expect("appeal");
            assert_eq!(stored.appeal.state, state);
            assert_eq!(decided_events(&engine, id).await, 0);
        }
        assert_eq!(engine.appeal(claimed_late).await.expect("appeal").appeal.assignee.as_deref(), Some("alice"));
        let skipped = bulk.skipped(job.id, None, 100).await.expect("skipped");
        assert_eq!(skipped.len(), 4);
        let reason_of = |id: Uuid| skipped.iter().find(|s| s.appeal_id == id).map(|s| s.reason.clone()).expect("reported");
        assert!(reason_of(claimed).starts_with("claimed by alice until "), "{}", reason_of(claimed));
        assert!(reason_of(claimed_late).starts_with("claimed by alice until "));
        assert_eq!(reason_of(untriaged), "not awaiting a decision: it is filed");
        assert!(reason_of(no_content).starts_with("the template cannot be filled for it: "), "{}", reason_of(no_content));
        let reference = engine.appeal(claimed).await.expect("appeal").reference.to_string();
        assert!(skipped.iter().any(|s| s.reference == reference));

        // The other policy's appeal was never selected; running again decides nothing.
        assert_eq!(decided_events(&engine, other_policy).await, 0);
        assert_eq!(bulk.run_chunk(job.id).await.expect("again"), ChunkOutcome::Stopped);
        test.cleanup().await;
    }

    async fn a_job_stopped_half_way_resumes_and_decides_nothing_twice(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        let ids = alike(&test, &engine, "r", 7).await;
        let job = decider(&engine).start(&carol(), spam_in_general(), TEMPLATE, 2).await.expect("start");
        let ChunkOutcome::Processed(first) = decider(&engine).run_chunk(job.id).await.expect("chunk") else {
            panic!("a chunk")
        };
        assert_eq!((first.processed, first.decided), (2, 2));

        // A restart: new engines over the same database, two runners at once.
        let (one, two) = (
            decider(&common::engine(&test.db, &clock, settings())),
            decider(&common::engine(&test.db, &clock, settings())),
        );
        let (a, b) = tokio::join!(one.run(job.id, |_| {}), two.run(job.id, |_| {}));
        let (a, b) = (a.expect("runner one"), b.expect("runner two"));
        assert_eq!(a.status, BulkDecisionStatus::Completed);
        assert_eq!(b.status, BulkDecisionStatus::Completed);
        assert_eq!((b.processed, b.decided, b.skipped), (7, 7, 0), "{b:?}");
        for id in ids {
            assert_eq!(decided_events(&engine, id).await, 1, "decided exactly once");
            assert_eq!(engine.appeal(id).await.expect("appeal").appeal.state, AppealState::Upheld);
        }
        test.cleanup().await;
    }

    async fn a_cancelled_job_keeps_what_it_decided_and_stops(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        let ids = alike(&test, &engine, "c", 5).await;
        let bulk = decider(&engine);
        let job = bulk.start(&carol(), spam_in_general(), TEMPLATE, 2).await.expect("start");
        bulk.run_chunk(job.id).await.expect("chunk");
        let refused = bulk.cancel(&alice(), job.id).await.expect_err("a reviewer");
        assert!(matches!(refused, BulkDecisionError::NotPermitted { .. }));
        let cancelled = bulk.cancel(&carol(), job.id).await.expect("cancel");
        assert_eq!((cancelled.status, cancelled.decided), (BulkDecisionStatus::Cancelled, 2));
        assert_eq!(bulk.run_chunk(job.id).await.expect("after"), ChunkOutcome::Stopped);
        let again = bulk.cancel(&carol(), job.id).await.expect_err("not running");
        assert!(matches!(again, BulkDecisionError::NotRunning { .. }));
        let mut decided = 0;
        for id in ids {
            decided += decided_events(&engine, id).await;
        }
        assert_eq!(decided, 2);
        test.cleanup().await;
    }

    async fn a_job_whose_starter_lost_the_role_stops_with_the_reason(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        let ids = alike(&test, &engine, "l", 5).await;
        let bulk = decider(&engine);
        let job = bulk.start(&carol(), spam_in_general(), TEMPLATE, 2).await.expect("start");
        assert_eq!(job.started_roles, [Role::SeniorReviewer], "the starter's roles are recorded");
        bulk.run_chunk(job.id).await.expect("chunk");

        // Carol's next request carries a token without the senior reviewer role; another
        // replica's runner resumes the job.
        engine.note_staff_roles(&Actor::staff("carol", [Role::Reviewer])).await.expect("note");
        let elsewhere = decider(&common::engine(&test.db, &clock, settings()));
        assert_eq!(elsewhere.run_chunk(job.id).await.expect("resume"), ChunkOutcome::Stopped);
        let stopped = elsewhere.job(job.id).await.expect("job");
        assert_eq!((stopped.status, stopped.processed, stopped.decided), (BulkDecisionStatus::Cancelled, 2, 2));
        let reason = stopped.stop_reason.expect("a reason");
        assert!(reason.contains("carol") && reason.contains("senior_reviewer") && reason.contains("reviewer"), "{reason}");
        let mut decided = 0;
        for id in &ids {
            decided += decided_events(&engine, *id).await;
        }
        assert_eq!(decided, 2, "nothing decided after the role was lost");

        // A job of someone who keeps the role is not touched by another's roles, and one
        // whose starter gets the role back runs on.
        let second = bulk.start(&carol(), spam_in_general(), TEMPLATE, 2).await.expect("start again");
        engine.note_staff_roles(&Actor::staff("someone-else", [Role::Reviewer])).await.expect("note");
        engine.note_staff_roles(&carol()).await.expect("note");
        let ChunkOutcome::Processed(progress) = elsewhere.run_chunk(second.id).await.expect("chunk") else {
            panic!("the job runs on")
        };
        assert_eq!(progress.processed, 2);
        assert_eq!(elsewhere.job(second.id).await.expect("job").status, BulkDecisionStatus::Running);
        test.cleanup().await;
    }

    async fn a_demotion_is_seen_through_a_replica_that_noted_the_same_roles_before(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        alike(&test, &engine, "d", 4).await;
        // This replica saw carol as a reviewer before she started the job elsewhere.
        engine.note_staff_roles(&Actor::staff("carol", [Role::Reviewer])).await.expect("note");
        let elsewhere = decider(&common::engine(&test.db, &clock, settings()));
        let job = elsewhere.start(&carol(), spam_in_general(), TEMPLATE, 2).await.expect("start");
        // Within the expiry the same roles are not checked again here.
        engine.note_staff_roles(&Actor::staff("carol", [Role::Reviewer])).await.expect("note");
        let running = elsewhere.job(job.id).await.expect("job");
        assert_eq!(running.started_roles, [Role::SeniorReviewer], "not checked within the expiry");
        clock.advance(TimeDelta::seconds(31));
        engine.note_staff_roles(&Actor::staff("carol", [Role::Reviewer])).await.expect("note");
        assert_eq!(elsewhere.run_chunk(job.id).await.expect("chunk"), ChunkOutcome::Stopped);
        let stopped = elsewhere.job(job.id).await.expect("job");
        assert_eq!((stopped.status, stopped.decided), (BulkDecisionStatus::Cancelled, 0));
        test.cleanup().await;
    }

    async fn the_same_roles_in_another_order_write_nothing(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        alike(&test, &engine, "o", 2).await;
        let bulk = decider(&engine);
        let carol_both = Actor::staff("carol", [Role::SeniorReviewer, Role::Reviewer]);
        let job = bulk.start(&carol_both, spam_in_general(), TEMPLATE, 2).await.expect("start");
        let other_replica = common::engine(&test.db, &clock, settings());
        other_replica.note_staff_roles(&Actor::staff("carol", [Role::Reviewer, Role::SeniorReviewer])).await.expect("note");
        let job = bulk.job(job.id).await.expect("job");
        assert_eq!(job.started_roles, [Role::SeniorReviewer, Role::Reviewer], "the stored order is kept: nothing was written");
        assert_eq!(job.status, BulkDecisionStatus::Running);
        test.cleanup().await;
    }

    async fn the_filter_selects_by_source_policy_and_content_relation(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        alike(&test, &engine, "f", 2).await;
        enforcement_without_content(&test, "acct-plain").await;
        appeal(&engine, "acct-plain", true, false).await;
        let filter = AppealFilter {
            states: vec![AppealState::Triaged],
            enforcement_source: Some("nudity-v7".into()),
            enforcement_policy: Some("spam".into()),
            content_relation: Some(ContentRelation::Saved),
            ..AppealFilter::default()
        };
        let bulk = decider(&engine);
        let dry = bulk.dry_run(&carol(), &filter, TEMPLATE).await.expect("dry run");
        assert_eq!((dry.selected, dry.would_decide), (2, 2));
        let nothing = AppealFilter { enforcement_policy: Some("fraud".into()), ..filter };
        let refused = bulk.start(&carol(), nothing, TEMPLATE, 10).await.expect_err("nothing selected");
        assert!(refused.to_string().starts_with("filter:"), "{refused}");
        test.cleanup().await;
    }
}
