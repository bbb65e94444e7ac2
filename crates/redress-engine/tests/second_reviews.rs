//! Blind second reviews on SQLite and on PostgreSQL: decisions drawn within their policy's
//! share as they are recorded (one at a time and in bulk), a second reviewer who is never
//! the first and never sees the first outcome, agreement recorded and audited, and the
//! agreement and overturn rates of a period.

mod common;

use std::collections::BTreeMap;

use chrono::TimeDelta;
use common::{clock, email, enforcement, engine, upheld_statement};
use redress_core::{
    Actor, Command, DecisionTemplate, EventKind, GroundKind, Outcome, Policy, PolicyText, Priority,
    RestrictionKind, Role,
};
use redress_engine::bulk_decisions::{BulkDecider, BulkDecisionStatus};
use redress_engine::policies::PolicyCatalog;
use redress_engine::quality::{QualityError, SamplingKey, SecondReviewSettings};
use redress_engine::query::AppealFilter;
use redress_engine::repo::audit;
use redress_engine::{Engine, EngineSettings, Filing, IncomingAppeal, ManualClock};
use uuid::Uuid;

const TEMPLATE: &str = "spam-uphold-en";
const SECRET_REASONS: &str = "The first reviewer's reasons: the pin was posted forty times.";

fn catalog() -> PolicyCatalog {
    let policy = |id: &str, title: &str| Policy {
        id: id.into(),
        ground_kind: GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".into(),
        restrictions: vec![RestrictionKind::AccountSuspended],
        texts: [(
            "en".to_owned(),
            PolicyText {
                title: title.into(),
                ground: "Community guidelines 4.2".into(),
                explanation: "Mass-posting links is spam.".into(),
            },
        )]
        .into(),
    };
    let uphold = DecisionTemplate {
        id: TEMPLATE.into(),
        policy: "spam".into(),
        outcome: Outcome::Uphold,
        language: "en".into(),
        title: "Spam confirmed".into(),
        reasons: "Your appeal {reference} was reviewed: the enforcement stands.".into(),
        statement: redress_core::StatementDraft::default(),
    };
    PolicyCatalog::new(
        "en",
        vec![policy("spam", "Spam"), policy("fraud", "Fraud")],
        vec![uphold],
    )
    .expect("catalog")
}

fn settings(default_share: f64, spam_share: f64) -> EngineSettings {
    EngineSettings {
        policies: catalog(),
        second_review: SecondReviewSettings::new(
            default_share,
            BTreeMap::from([("spam".to_owned(), spam_share)]),
            SamplingKey::new("test sampling key"),
        )
        .expect("shares"),
        ..EngineSettings::default()
    }
}

fn reviewer(name: &str) -> Actor {
    Actor::staff(name, [Role::Reviewer])
}

fn carol() -> Actor {
    Actor::staff("carol", [Role::SeniorReviewer])
}

/// An appeal by `account` against its `policy` enforcement, triaged and claimed by `by`.
async fn claimed_appeal(
    test: &redress_engine::testing::TestDb,
    engine: &Engine,
    clock: &ManualClock,
    account: &str,
    policy: &str,
    by: &Actor,
) -> Uuid {
    claimed_appeal_with(test, engine, clock, account, policy, by, false).await
}

/// As [`claimed_appeal`], triaged for a second pair of eyes when `four_eyes`.
async fn claimed_appeal_with(
    test: &redress_engine::testing::TestDb,
    engine: &Engine,
    clock: &ManualClock,
    account: &str,
    policy: &str,
    by: &Actor,
    four_eyes: bool,
) -> Uuid {
    enforcement(&test.db, account, policy).await;
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
    let triage = Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: vec![],
        identity_verified: true,
        four_eyes,
        link: None,
    };
    engine
        .apply(
            stored.id,
            None,
            &triage,
            &Actor::staff("tina", [Role::Triager]),
        )
        .await
        .expect("triage");
    claim(engine, clock, stored.id, by).await;
    stored.id
}

async fn claim(engine: &Engine, clock: &ManualClock, id: Uuid, by: &Actor) {
    let lease_until = clock.now_plus(TimeDelta::minutes(10));
    engine
        .apply(id, None, &Command::Claim { lease_until }, by)
        .await
        .expect("claim");
}

fn decide(outcome: Outcome, template: Option<&str>, clock: &ManualClock) -> Command {
    Command::Decide {
        outcome,
        reasons: SECRET_REASONS.into(),
        statement: (outcome == Outcome::Uphold)
            .then(|| upheld_statement(clock.now_plus(TimeDelta::zero()))),
        manifestly_unfounded: false,
        template: template.map(str::to_owned),
    }
}

/// The bound a binomial count stays within but for a chance of about 1 in 16,000: four
/// standard deviations around `n * share`.
fn within_four_sigma(count: usize, n: usize, share: f64) -> bool {
    let expected = n as f64 * share;
    let sigma = (n as f64 * share * (1.0 - share)).sqrt();
    (count as f64 - expected).abs() <= 4.0 * sigma
}

/// The real shape of decision ids: a v7 appeal id and the `decided` event's version.
#[test]
fn ten_thousand_decisions_are_drawn_within_each_policys_share() {
    let settings = settings(0.05, 0.3).second_review;
    let n = 10_000;
    let decisions: Vec<(Uuid, i64)> = (0..n)
        .map(|i| (Uuid::now_v7(), 4 + (i % 3) as i64))
        .collect();
    let spam = decisions
        .iter()
        .filter(|(id, v)| settings.sampled(*id, *v, Some("spam")))
        .count();
    let other = decisions
        .iter()
        .filter(|(id, v)| settings.sampled(*id, *v, Some("fraud")))
        .count();
    let unlinked = decisions
        .iter()
        .filter(|(id, v)| settings.sampled(*id, *v, None))
        .count();
    assert!(
        within_four_sigma(spam, n, 0.3),
        "spam: {spam} of {n} at 0.3"
    );
    assert!(
        within_four_sigma(other, n, 0.05),
        "fraud: {other} of {n} at the default 0.05"
    );
    assert!(
        within_four_sigma(unlinked, n, 0.05),
        "unlinked: {unlinked} of {n} at 0.05"
    );
    // The same decisions drawn again (another replica, a later look) give the same sample.
    let again = decisions
        .iter()
        .filter(|(id, v)| settings.sampled(*id, *v, Some("spam")))
        .count();
    assert_eq!(again, spam);
}

redress_engine::backend_tests! {
    async fn a_sampled_decision_is_kept_with_its_reviewer_policy_and_template(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(0.0, 1.0));
        let alice = reviewer("alice");
        let spam = claimed_appeal(&test, &engine, &clock, "acct-spam", "spam", &alice).await;
        let decided = engine.apply(spam, None, &decide(Outcome::Uphold, Some(TEMPLATE), &clock), &alice).await.expect("decide");
        let fraud = claimed_appeal(&test, &engine, &clock, "acct-fraud", "fraud", &alice).await;
        engine.apply(fraud, None, &decide(Outcome::Uphold, None, &clock), &alice).await.expect("decide");

        let history = engine.history(spam).await.expect("history");
        let (version, event) = history.iter().find(|(_, e)| matches!(e.kind, EventKind::Decided { .. })).expect("decided");
        let EventKind::Decided { template, .. } = &event.kind else { unreachable!() };
        assert_eq!(template.as_deref(), Some(TEMPLATE), "the decided event keeps its template");

        let reviews = engine.second_reviews_of(spam).await.expect("reviews");
        assert_eq!(reviews.len(), 1, "spam's share is 1");
        let review = &reviews[0];
        assert_eq!(review.decision_version, *version);
        assert_eq!(review.first_reviewer, "alice");
        assert_eq!(review.first_outcome, Outcome::Uphold);
        assert_eq!(review.policy.as_deref(), Some("spam"));
        assert_eq!(review.template.as_deref(), Some(TEMPLATE));
        assert_eq!(review.sampled_at, decided.events[0].at);
        assert_eq!((review.second_reviewer.as_deref(), review.agreed, review.reviewed_at), (None, None, None));
        assert!(engine.second_reviews_of(fraud).await.expect("reviews").is_empty(), "the default share is 0");
        assert_eq!(engine.open_second_reviews().await.expect("open"), 1);
        test.cleanup().await;
    }

    async fn the_second_reviewer_is_another_and_sees_no_first_outcome(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(1.0, 1.0));
        let (alice, bob, dave) = (reviewer("alice"), reviewer("bob"), reviewer("dave"));
        let id = claimed_appeal(&test, &engine, &clock, "acct-blind", "spam", &alice).await;
        engine.apply(id, None, &decide(Outcome::Uphold, Some(TEMPLATE), &clock), &alice).await.expect("decide");
        clock.advance(TimeDelta::minutes(1));
        let reply = IncomingAppeal { body: "Why was it upheld?".into(), ..email("<later@example.org>", Some("acct-blind")) };
        engine.append_to_appeal(id, reply).await.expect("a reply after the decision");

        assert!(engine.take_second_review(&alice).await.expect("take").is_none(), "never one's own decision");
        let triager = Actor::staff("tina", [Role::Triager]);
        assert!(matches!(engine.take_second_review(&triager).await, Err(QualityError::NotPermitted { .. })));

        let case = engine.take_second_review(&bob).await.expect("take").expect("one open");
        assert_eq!(case.appeal_id, id);
        assert_eq!(case.policy.as_deref(), Some("spam"));
        assert_eq!(case.messages.len(), 1, "the appeal as filed, nothing sent or received after the decision");
        assert_eq!(case.messages[0].body, "I only saved that pin.");
        let shown = format!("{case:?}");
        for leak in [SECRET_REASONS, "uphold", "Upheld", "alice", TEMPLATE] {
            assert!(!shown.contains(leak), "the blind case shows {leak:?}: {shown}");
        }
        assert_eq!(engine.take_second_review(&bob).await.expect("again").map(|c| c.review_id), Some(case.review_id), "the one bob holds");
        assert!(engine.take_second_review(&dave).await.expect("take").is_none(), "bob holds the only one");

        let refused = engine.record_second_review(&alice, case.review_id, Outcome::Uphold).await.expect_err("first reviewer");
        assert!(matches!(refused, QualityError::FirstReviewer { .. }), "{refused:?}");
        assert_eq!(refused.to_string(), "alice made the decision under review; a second review must be another reviewer's");
        let held = engine.record_second_review(&dave, case.review_id, Outcome::Uphold).await.expect_err("held");
        assert!(matches!(held, QualityError::HeldByOther { ref holder, .. } if holder == "bob"), "{held:?}");

        let recorded = engine.record_second_review(&bob, case.review_id, Outcome::Restore).await.expect("record");
        assert_eq!((recorded.second_outcome, recorded.agreed), (Some(Outcome::Restore), Some(false)));
        assert_eq!(recorded.second_reviewer.as_deref(), Some("bob"));
        let again = engine.record_second_review(&bob, case.review_id, Outcome::Uphold).await.expect_err("recorded");
        assert!(matches!(again, QualityError::AlreadyReviewed(_)), "{again:?}");
        let stored = engine.second_reviews_of(id).await.expect("reviews");
        assert_eq!(stored[0].agreed, Some(false));
        assert_eq!(engine.open_second_reviews().await.expect("open"), 0);

        let taken = audit::entries(&test.db, "second_review_taken", None).await.expect("audit");
        let recorded = audit::entries(&test.db, "second_review_recorded", None).await.expect("audit");
        assert_eq!((taken.len(), recorded.len()), (1, 1));
        assert_eq!(taken[0].appeal_id, Some(id));
        assert!(taken[0].actor.contains("bob") && recorded[0].actor.contains("bob"));
        assert_eq!(recorded[0].details["agreed"], serde_json::json!(false));
        test.cleanup().await;
    }

    async fn a_hold_that_ran_out_passes_to_the_next_reviewer(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(1.0, 1.0));
        let (alice, bob, dave) = (reviewer("alice"), reviewer("bob"), reviewer("dave"));
        let id = claimed_appeal(&test, &engine, &clock, "acct-lapse", "spam", &alice).await;
        engine.apply(id, None, &decide(Outcome::Restore, None, &clock), &alice).await.expect("decide");
        let held = engine.take_second_review(&bob).await.expect("take").expect("open");
        clock.advance(TimeDelta::from_std(engine.settings().claim_lease).expect("lease") + TimeDelta::seconds(1));
        let taken = engine.take_second_review(&dave).await.expect("take").expect("lapsed");
        assert_eq!(taken.review_id, held.review_id);
        let recorded = engine.record_second_review(&dave, taken.review_id, Outcome::Restore).await.expect("record");
        assert_eq!(recorded.agreed, Some(true));
        test.cleanup().await;
    }

    async fn the_senior_reviewer_who_approved_the_decision_is_not_handed_it(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(1.0, 1.0));
        let (alice, bob) = (reviewer("alice"), reviewer("bob"));
        let id = claimed_appeal_with(&test, &engine, &clock, "acct-4eyes", "spam", &alice, true).await;
        engine.apply(id, None, &decide(Outcome::Restore, None, &clock), &alice).await.expect("decide");
        engine.apply(id, None, &Command::Approve { note: None }, &carol()).await.expect("approve");
        assert!(engine.take_second_review(&carol()).await.expect("take").is_none(), "carol has seen the outcome");
        let case = engine.take_second_review(&bob).await.expect("take").expect("bob may");
        assert_eq!(case.appeal_id, id);
        test.cleanup().await;
    }

    async fn a_period_longer_than_a_year_is_refused_naming_the_arguments(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(0.0, 0.0));
        let to = clock.now_plus(TimeDelta::zero());
        let refused = engine.quality_rates(to - TimeDelta::days(367), to).await.expect_err("too long");
        let message = refused.to_string();
        assert!(message.contains("`from`") && message.contains("`to`") && message.contains("366"), "{message}");
        engine.quality_rates(to - TimeDelta::days(366), to).await.expect("a year is fine");
        test.cleanup().await;
    }

    async fn bulk_decisions_are_drawn_within_their_share(test) {
        let clock = clock();
        let share = 0.25;
        let engine = engine(&test.db, &clock, settings(0.0, share));
        let n = 1_000;
        redress_engine::testing::seed_triaged_appeals(&engine, 0, n, "general", 4, |_| Priority::Normal).await;
        let bulk = BulkDecider::new(engine.clone());
        let filter = AppealFilter { queue: Some("general".into()), ..AppealFilter::default() };
        let job = bulk.start(&carol(), filter, TEMPLATE, 500).await.expect("start");
        let done = bulk.run(job.id, |_| {}).await.expect("run");
        assert_eq!((done.status, done.decided), (BulkDecisionStatus::Completed, n as i64), "{done:?}");

        let reviews = redress_engine::entity::second_review::Entity::find()
            .all(&test.db)
            .await
            .expect("reviews");
        assert!(within_four_sigma(reviews.len(), n, share), "{} of {n} sampled at {share}", reviews.len());
        assert!(reviews.iter().all(|r| r.template.as_deref() == Some(TEMPLATE) && r.first_reviewer == "carol" && r.policy.as_deref() == Some("spam")));
        // Exactly the decisions whose draw falls under the share, whoever recorded them.
        let sampled: std::collections::HashSet<(Uuid, i64)> = reviews.iter().map(|r| (r.appeal_id, r.decision_version)).collect();
        let decided = redress_engine::entity::appeal_event::Entity::find()
            .filter(redress_engine::entity::appeal_event::Column::Kind.eq("decided"))
            .all(&test.db)
            .await
            .expect("events");
        assert_eq!(decided.len(), n);
        for event in &decided {
            let expected = engine.settings().second_review.sampled(event.appeal_id, event.version, Some("spam"));
            assert_eq!(sampled.contains(&(event.appeal_id, event.version)), expected);
        }
        test.cleanup().await;
    }

    async fn agreement_and_overturn_rates_of_a_period(test) {
        let clock = clock();
        let from = clock.now_plus(TimeDelta::zero());
        let engine = engine(&test.db, &clock, settings(1.0, 1.0));
        let (alice, bob) = (reviewer("alice"), reviewer("bob"));
        let one = claimed_appeal(&test, &engine, &clock, "acct-1", "spam", &alice).await;
        engine.apply(one, None, &decide(Outcome::Uphold, Some(TEMPLATE), &clock), &alice).await.expect("decide");
        let two = claimed_appeal(&test, &engine, &clock, "acct-2", "spam", &alice).await;
        engine.apply(two, None, &decide(Outcome::Uphold, None, &clock), &alice).await.expect("decide");
        let three = claimed_appeal(&test, &engine, &clock, "acct-3", "fraud", &bob).await;
        engine.apply(three, None, &decide(Outcome::Uphold, Some(TEMPLATE), &clock), &bob).await.expect("decide");

        // bob reviews alice's two (agrees once), alice reviews bob's one (agrees).
        for second in [(&bob, Outcome::Uphold), (&bob, Outcome::Restore), (&alice, Outcome::Uphold)] {
            let case = engine.take_second_review(second.0).await.expect("take").expect("open");
            engine.record_second_review(second.0, case.review_id, second.1).await.expect("record");
        }

        // Both of alice's decisions reopened: one decided again alike, one overturned.
        for (id, outcome) in [(one, Outcome::Uphold), (two, Outcome::Restore)] {
            engine.apply(id, None, &Command::Reopen { reason: "new evidence".into() }, &carol()).await.expect("reopen");
            claim(&engine, &clock, id, &bob).await;
            engine.apply(id, None, &decide(outcome, None, &clock), &bob).await.expect("decide again");
        }
        clock.advance(TimeDelta::minutes(1));
        let rates = engine.quality_rates(from, clock.now_plus(TimeDelta::zero())).await.expect("rates");

        assert_eq!((rates.second_reviews, rates.agreed), (3, 2));
        assert_eq!(rates.agreement_rate, Some(2.0 / 3.0));
        let table = |rows: &[redress_engine::quality::Agreement]| {
            rows.iter().map(|r| (r.key.clone(), r.reviewed, r.agreed, r.rate)).collect::<Vec<_>>()
        };
        assert_eq!(table(&rates.by_reviewer), [("alice".into(), 2, 1, 0.5), ("bob".into(), 1, 1, 1.0)]);
        assert_eq!(table(&rates.by_policy), [("fraud".into(), 1, 1, 1.0), ("spam".into(), 2, 1, 0.5)]);
        assert_eq!(table(&rates.by_template), [("none".into(), 1, 0, 0.0), (TEMPLATE.into(), 2, 2, 1.0)]);
        assert_eq!((rates.reopened_and_decided_again, rates.overturned, rates.overturn_rate), (2, 1, Some(0.5)));

        let before = engine.quality_rates(from - TimeDelta::days(2), from).await.expect("rates");
        assert_eq!((before.second_reviews, before.agreement_rate, before.overturn_rate), (0, None, None));
        test.cleanup().await;
    }
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
