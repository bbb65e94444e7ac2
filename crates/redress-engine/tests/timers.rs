//! SLA timers, claim-lease reaping and the awaiting-user closer, with time moved by a
//! ManualClock, on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{clock, email, engine};
use redress_core::{Actor, AppealState, Command, Deadline, Priority, Role};
use redress_engine::repo::{events, outbox};
use redress_engine::worker::{awaiting, leases, sla};
use redress_engine::{Engine, EngineSettings};
use uuid::Uuid;

fn reviewer() -> Actor {
    Actor::staff("rev-1", [Role::Reviewer])
}

async fn file(engine: &Engine, n: usize) -> Uuid {
    engine
        .file(
            &Actor::appellant("person@example.org"),
            email(&format!("<m{n}@example.org>"), None),
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("new appeal")
}

async fn triage(engine: &Engine, id: Uuid) {
    triage_as(engine, id, Priority::Normal).await;
}

async fn triage_as(engine: &Engine, id: Uuid, priority: Priority) {
    engine
        .apply(
            id,
            None,
            &Command::Triage {
                priority,
                queue: "general".into(),
                tags: vec![],
                identity_verified: true,
                four_eyes: false,
                link: None,
            },
            &Actor::staff("triager", [Role::Triager]),
        )
        .await
        .expect("triage");
}

async fn kinds(engine: &Engine, id: Uuid) -> Vec<String> {
    engine
        .history(id)
        .await
        .expect("history")
        .into_iter()
        .map(|(_, event)| event.kind.name().to_owned())
        .collect()
}

async fn count_of(engine: &Engine, id: Uuid, kind: &str) -> usize {
    kinds(engine, id)
        .await
        .iter()
        .filter(|k| *k == kind)
        .count()
}

redress_engine::backend_tests! {
    async fn a_stalled_appeal_is_warned_then_escalated_once(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = file(&engine, 1).await;

        clock.advance(TimeDelta::hours(3));
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").claimed, 0, "nothing due before 80% of 4h");

        clock.advance(TimeDelta::minutes(13));
        let report = sla::tick(&engine, 100).await.expect("tick");
        assert_eq!(report.count("sla_warn"), 1);
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").claimed, 0, "a warning fires once");

        clock.advance(TimeDelta::minutes(47));
        let report = sla::tick(&engine, 100).await.expect("tick");
        assert_eq!(report.count("escalate"), 1);
        let appeal = engine.appeal(id).await.expect("appeal");
        assert_eq!(appeal.appeal.escalation_level, 1);
        assert_eq!(appeal.appeal.queue, "senior");
        assert!(appeal.appeal.sla_marks.breached(Deadline::Triage));

        clock.advance(TimeDelta::minutes(10));
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").claimed, 0, "an escalation fires once");
        assert_eq!(count_of(&engine, id, "escalated").await, 1);
        assert_eq!(count_of(&engine, id, "sla_warned").await, 1);

        let alerts: Vec<_> = outbox::for_appeal(&test.db, id).await.expect("outbox")
            .into_iter().filter(|row| row.topic == "alert_queue").collect();
        assert_eq!(alerts.len(), 2, "the warning and the escalation are announced");
        assert_eq!(alerts[1].payload["effect"]["alert"], "escalation");
        assert_eq!(alerts[1].payload["effect"]["queue"], "senior");
        test.cleanup().await;
    }

    async fn a_case_found_late_escalates_without_a_stale_warning(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = file(&engine, 1).await;
        triage(&engine, id).await;
        clock.advance(TimeDelta::hours(60));
        let report = sla::tick(&engine, 100).await.expect("tick");
        assert_eq!((report.count("escalate"), report.count("sla_warn")), (1, 0));
        assert_eq!(kinds(&engine, id).await, vec!["filed", "triaged", "escalated"]);
        test.cleanup().await;
    }

    async fn time_awaiting_the_user_does_not_count_and_a_silent_user_is_closed(test) {
        let clock = clock();
        let settings = EngineSettings::default();
        let engine = engine(&test.db, &clock, settings);
        let id = file(&engine, 1).await;
        triage(&engine, id).await;
        clock.advance(TimeDelta::hours(10));
        engine.apply(id, None, &Command::RequestInfo { message: "Which pin?".into() }, &reviewer())
            .await.expect("request info");
        clock.advance(TimeDelta::days(13));
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").claimed, 0, "the clock is paused");
        let wait = TimeDelta::days(14);
        assert_eq!(awaiting::close_unanswered(&engine, wait, 100).await.expect("close").claimed, 0,
            "thirteen days is within the wait");

        clock.advance(TimeDelta::days(1));
        let report = awaiting::close_unanswered(&engine, wait, 100).await.expect("close");
        assert_eq!(report.count("no_reply_timeout"), 1);
        let appeal = engine.appeal(id).await.expect("appeal");
        assert_eq!(appeal.appeal.state, AppealState::Withdrawn);
        let history = engine.history(id).await.expect("history");
        let last = &history.last().expect("event").1;
        assert_eq!(serde_json::to_value(&last.kind).expect("json")["reason"], "no_response");
        let notices: Vec<_> = outbox::for_appeal(&test.db, id).await.expect("outbox")
            .into_iter().filter_map(|row| row.payload["effect"]["notice"].as_str().map(str::to_owned)).collect();
        assert_eq!(notices.last().map(String::as_str), Some("closed_no_response"));
        assert_eq!(awaiting::close_unanswered(&engine, wait, 100).await.expect("close").claimed, 0);
        test.cleanup().await;
    }

    async fn a_reply_resumes_the_clock_with_the_pause_added(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = file(&engine, 1).await;
        triage(&engine, id).await;
        engine.apply(id, None, &Command::RequestInfo { message: "Which pin?".into() }, &reviewer())
            .await.expect("request info");
        clock.advance(TimeDelta::hours(100));
        engine.apply(id, None, &Command::UserReplied, &Actor::system("intake")).await.expect("reply");
        let stored = engine.appeal(id).await.expect("appeal");
        let filed = stored.appeal.filed_at;
        let schedule = stored.appeal.sla_schedule(engine.settings().sla_policy("general", Priority::Normal));
        assert_eq!(schedule.decision_due_at, Some(filed + TimeDelta::hours(148)));
        clock.advance(TimeDelta::hours(38));
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").claimed, 0, "38h of counted time is below 80%");
        clock.advance(TimeDelta::hours(1));
        assert_eq!(sla::tick(&engine, 100).await.expect("tick").count("sla_warn"), 1);
        test.cleanup().await;
    }

    async fn an_expired_claim_returns_the_case_to_the_queue(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let id = file(&engine, 1).await;
        triage(&engine, id).await;
        engine.apply(id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(15)) }, &reviewer())
            .await.expect("claim");
        clock.advance(TimeDelta::minutes(14));
        assert_eq!(leases::reap(&engine, 100).await.expect("reap").claimed, 0, "the lease is live");
        clock.advance(TimeDelta::minutes(1));
        let report = leases::reap(&engine, 100).await.expect("reap");
        assert_eq!(report.count("expire_lease"), 1);
        let appeal = engine.appeal(id).await.expect("appeal");
        assert_eq!(appeal.appeal.assignee, None);
        assert_eq!(leases::reap(&engine, 100).await.expect("reap").claimed, 0);
        test.cleanup().await;
    }

    async fn claims_follow_the_queue_order_and_a_lapsed_lease_takes_its_place_again(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let older = file(&engine, 1).await;
        clock.advance(TimeDelta::minutes(1));
        let urgent = file(&engine, 2).await;
        clock.advance(TimeDelta::minutes(1));
        let newer = file(&engine, 3).await;
        triage_as(&engine, older, Priority::Normal).await;
        triage_as(&engine, urgent, Priority::High).await;
        triage_as(&engine, newer, Priority::Normal).await;
        let claim = |n: usize| {
            let engine = engine.clone();
            async move {
                engine
                    .claim_next("general", &Actor::staff(format!("rev-{n}"), [Role::Reviewer]))
                    .await
                    .expect("claim")
                    .map(|applied| applied.appeal.id)
            }
        };

        assert_eq!(claim(1).await, Some(urgent), "the most urgent case first");
        clock.advance(TimeDelta::minutes(14));
        assert_eq!(claim(2).await, Some(older), "then the oldest");
        clock.advance(TimeDelta::minutes(1));
        // The urgent case's lease ran out and no reaper has run: it is claimable again,
        // ahead of the unassigned case of normal priority.
        let reclaimed = engine
            .claim_next("general", &Actor::staff("rev-3", [Role::Reviewer]))
            .await
            .expect("claim")
            .expect("a case");
        assert_eq!(reclaimed.appeal.id, urgent);
        assert_eq!(reclaimed.appeal.appeal.assignee.as_deref(), Some("rev-3"));
        assert_eq!(claim(4).await, Some(newer));
        assert_eq!(claim(5).await, None, "every case is held under a live lease");
        test.cleanup().await;
    }

    async fn with_business_hours_a_weekend_does_not_count(test) {
        let clock = clock();
        // Friday 2026-06-05, 16:00 UTC: one working hour left this week.
        clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 5, 16, 0, 0).single().expect("date"));
        let hours = redress_core::BusinessHours::new(
            chrono_tz::Tz::UTC,
            [chrono::Weekday::Mon, chrono::Weekday::Tue, chrono::Weekday::Wed, chrono::Weekday::Thu, chrono::Weekday::Fri],
            chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
            chrono::NaiveTime::from_hms_opt(17, 0, 0).expect("time"),
        ).expect("hours");
        let settings = EngineSettings { business_hours: Some(hours), ..EngineSettings::default() };
        let engine = engine(&test.db, &clock, settings);
        let id = file(&engine, 1).await;
        // Monday 11:00: 1h on Friday + 2h on Monday = 3h, below the 3h12m warning.
        clock.advance(TimeDelta::hours(67));
        assert_eq!(sla::tick(&engine, 10).await.expect("tick").claimed, 0);
        clock.advance(TimeDelta::minutes(12));
        assert_eq!(sla::tick(&engine, 10).await.expect("tick").count("sla_warn"), 1);
        clock.advance(TimeDelta::minutes(47));
        assert_eq!(sla::tick(&engine, 10).await.expect("tick").claimed, 0, "Monday 11:59 is within the budget");
        clock.advance(TimeDelta::minutes(1));
        assert_eq!(sla::tick(&engine, 10).await.expect("tick").count("escalate"), 1, "Monday 12:00 breaches 4 working hours");
        assert_eq!(count_of(&engine, id, "escalated").await, 1);
        test.cleanup().await;
    }

    async fn the_tick_takes_due_appeals_in_batches(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        for n in 0..5 {
            file(&engine, n).await;
        }
        clock.advance(TimeDelta::hours(5));
        let first = sla::tick(&engine, 3).await.expect("tick");
        let second = sla::tick(&engine, 3).await.expect("tick");
        let third = sla::tick(&engine, 3).await.expect("tick");
        assert_eq!((first.claimed, second.claimed, third.claimed), (3, 2, 0));
        test.cleanup().await;
    }
}

/// Three worker instances, each with its own pool, tick the same due appeals at once:
/// every escalation happens exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_workers_on_postgres_escalate_each_appeal_exactly_once() {
    let Some(test) = redress_engine::testing::TestDb::postgres().await else {
        return;
    };
    let clock = clock();
    let seed = engine(&test.db, &clock, EngineSettings::default());
    let mut ids = Vec::new();
    for n in 0..60 {
        ids.push(file(&seed, n).await);
    }
    clock.advance(TimeDelta::hours(5));
    let barrier = Arc::new(tokio::sync::Barrier::new(3));
    let mut workers = Vec::new();
    for _ in 0..3 {
        let pool = redress_engine::db::connect(&test.url, &test.pool_settings())
            .await
            .expect("worker pool");
        let worker = engine(&pool, &clock, EngineSettings::default());
        let barrier = barrier.clone();
        workers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut escalated = 0;
            loop {
                let report = sla::tick(&worker, 7).await.expect("tick");
                assert_eq!(report.failed, 0);
                escalated += report.count("escalate");
                if report.claimed == 0 {
                    break escalated;
                }
            }
        }));
    }
    let mut per_worker = Vec::new();
    for worker in workers {
        per_worker.push(worker.await.expect("join"));
    }
    assert_eq!(per_worker.iter().sum::<usize>(), 60, "{per_worker:?}");
    for &id in &ids {
        assert_eq!(count_of(&seed, id, "escalated").await, 1, "appeal {id}");
        let alerts = outbox::for_appeal(&test.db, id)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|row| row.topic == "alert_queue")
            .count();
        assert_eq!(alerts, 1, "appeal {id} announced once");
    }
    let stored = events::history(&test.db, ids[0]).await.expect("history");
    assert_eq!(stored.len(), 2);
    test.cleanup().await;
}
