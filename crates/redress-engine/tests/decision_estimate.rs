//! The decision forecast against a simulated queue, on SQLite and PostgreSQL: reviewers
//! decide at a pace that swings from day to day, appeals keep arriving, and each appeal's
//! forecast, taken when it was triaged, is compared with when it was actually decided.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use common::{clock, email, engine, upheld_statement};
use redress_core::{Actor, AppealState, Command, Outcome, Priority, Role};
use redress_engine::transparency::DecisionEstimate;
use redress_engine::{Engine, EngineSettings, ManualClock};
use uuid::Uuid;

const QUEUE: &str = "general";
/// Decisions the reviewers manage on each simulated day; mean 30, swinging by half.
const DAILY_CAPACITY: [u32; 7] = [18, 42, 30, 24, 39, 21, 36];
/// Appeals arriving a day, a little under the mean pace, so the queue neither empties nor
/// runs away.
const DAILY_ARRIVALS: u32 = 27;
const BACKLOG: u32 = 60;
/// Days of decisions before the first forecast, so the pace has a full window behind it.
const WARM_UP_DAYS: u32 = 7;
/// Days on which each arriving appeal's forecast is taken and later checked.
const FORECAST_DAYS: u32 = 4;

fn reviewer() -> Actor {
    Actor::staff("rosa", [Role::Reviewer])
}

/// Files an appeal from its own sender and triages it into the queue.
async fn arrive(engine: &Engine, number: u32) -> Uuid {
    let mut incoming = email(&format!("<sim-{number}@example.org>"), None);
    incoming.sender = format!("person-{number}@example.org");
    let id = engine
        .file(&Actor::appellant(&incoming.sender), incoming)
        .await
        .expect("file")
        .appeal_id()
        .expect("a new case");
    let triage = Command::Triage {
        priority: Priority::Normal,
        queue: QUEUE.into(),
        tags: vec![],
        identity_verified: true,
        four_eyes: false,
        link: None,
    };
    engine
        .apply(id, None, &triage, &Actor::staff("tom", [Role::Triager]))
        .await
        .expect("triage");
    id
}

/// The reviewers take the next case in claim order and decide it; `None` when the queue is
/// empty.
async fn decide_next(engine: &Engine) -> Option<Uuid> {
    let claimed = engine
        .claim_next(QUEUE, &reviewer())
        .await
        .expect("claim")?;
    let id = claimed.appeal.id;
    // Upheld: these senders name no account, and a restore needs one.
    let decide = Command::Decide {
        outcome: Outcome::Uphold,
        reasons: "The account created the pin.".into(),
        statement: Some(upheld_statement(Utc::now())),
        manifestly_unfounded: false,
        template: None,
    };
    engine
        .apply(id, None, &decide, &reviewer())
        .await
        .expect("decide");
    Some(id)
}

/// Forecasts taken as appeals arrive: the forecast, and when it was taken.
type Forecasts = HashMap<Uuid, (DecisionEstimate, DateTime<Utc>)>;

/// One simulated day: arrivals and decisions spread evenly over its 24 hours, in the order
/// their times fall. Arrivals stop once `arrive_until` days have passed.
async fn run_day(
    engine: &Engine,
    clock: &ManualClock,
    day: u32,
    arrivals: &mut u32,
    forecasts: &mut Forecasts,
    decided: &mut HashMap<Uuid, DateTime<Utc>>,
) {
    let start = clock.now_plus(TimeDelta::zero());
    let capacity = DAILY_CAPACITY[day as usize % DAILY_CAPACITY.len()];
    let arriving = if day < WARM_UP_DAYS + FORECAST_DAYS {
        DAILY_ARRIVALS
    } else {
        0
    };
    let mut moments: Vec<(i64, bool)> = (0..capacity)
        .map(|n| (86_400 * i64::from(n) / i64::from(capacity), true))
        .chain((0..arriving).map(|n| {
            // Offset so an arrival never lands on a decision's second.
            (
                86_400 * i64::from(n) / i64::from(DAILY_ARRIVALS) + 1_307,
                false,
            )
        }))
        .collect();
    moments.sort_unstable();
    for (second, is_decision) in moments {
        clock.set(start + TimeDelta::seconds(second));
        let now = clock.now_plus(TimeDelta::zero());
        if is_decision {
            if let Some(id) = decide_next(engine).await {
                decided.insert(id, now);
            }
        } else {
            *arrivals += 1;
            let id = arrive(engine, *arrivals).await;
            if day >= WARM_UP_DAYS {
                let stored = engine.appeal(id).await.expect("appeal");
                let estimate = engine.decision_estimate(&stored).await.expect("estimate");
                forecasts.insert(
                    id,
                    (estimate.expect("a forecast once the pace is known"), now),
                );
            }
        }
    }
    clock.set(start + TimeDelta::days(1));
}

redress_engine::backend_tests! {
    async fn forecasts_hold_the_actual_decision_times_of_a_simulated_queue(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let mut arrivals = 0;
        let mut last = None;
        for _ in 0..BACKLOG {
            arrivals += 1;
            last = Some(arrive(&engine, arrivals).await);
        }
        let last = engine.appeal(last.expect("a backlog")).await.expect("appeal");
        // Before any decision there is no pace to forecast from.
        assert_eq!(engine.decision_estimate(&last).await.expect("estimate"), None);

        let mut forecasts = Forecasts::new();
        let mut decided = HashMap::new();
        let mut day = 0;
        while day < WARM_UP_DAYS + FORECAST_DAYS
            || forecasts.keys().any(|id| !decided.contains_key(id))
        {
            run_day(&engine, &clock, day, &mut arrivals, &mut forecasts, &mut decided).await;
            day += 1;
            assert!(day < WARM_UP_DAYS + FORECAST_DAYS + 30, "the simulated queue never drained");
        }

        let expected = FORECAST_DAYS * DAILY_ARRIVALS;
        assert_eq!(forecasts.len() as u32, expected);
        let mut inside = 0;
        let mut relative_errors = Vec::new();
        let mut relative_widths = Vec::new();
        for (id, (estimate, taken_at)) in &forecasts {
            assert!(estimate.earliest < estimate.latest, "{estimate:?}");
            assert!(estimate.ahead > 0, "{estimate:?}");
            let actual = decided[id];
            if estimate.earliest <= actual && actual <= estimate.latest {
                inside += 1;
            }
            let middle = estimate.earliest + (estimate.latest - estimate.earliest) / 2;
            let forecast_wait = (middle - *taken_at).num_seconds() as f64;
            let actual_wait = (actual - *taken_at).num_seconds() as f64;
            relative_errors.push((forecast_wait - actual_wait).abs() / actual_wait);
            let width = (estimate.latest - estimate.earliest).num_seconds() as f64;
            relative_widths.push(width / (2.0 * forecast_wait));
        }
        // The band is an 80 % one; the simulated pace swings more within a day than the
        // forecast's daily counts show, so a little under that is still honest.
        assert!(
            inside * 10 >= forecasts.len() * 7,
            "{inside} of {} decisions fell inside their forecast range",
            forecasts.len()
        );
        relative_errors.sort_by(f64::total_cmp);
        let median = relative_errors[relative_errors.len() / 2];
        assert!(median < 0.25, "the forecast's middle was off by {median:.2} of the wait");
        // And the range is narrow enough to plan by, not right by being vague.
        relative_widths.sort_by(f64::total_cmp);
        let width = relative_widths[relative_widths.len() / 2];
        assert!(width < 0.4, "the range spans {width:.2} of the wait either side");
        test.cleanup().await;
    }

    async fn a_held_case_is_next_and_one_waiting_for_the_appellant_gets_no_forecast(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        for number in 0..15 {
            arrive(&engine, number).await;
        }
        // Over two days: one day of decisions says nothing of how the pace varies.
        for _ in 0..12 {
            clock.advance(TimeDelta::hours(4));
            decide_next(&engine).await.expect("a case to decide");
        }
        let asked = arrive(&engine, 15).await;
        let queued = engine.appeal(asked).await.expect("appeal");
        let estimate = engine.decision_estimate(&queued).await.expect("estimate");
        assert_eq!(estimate.map(|e| e.ahead), Some(3), "three older cases come first");

        let lease_until = clock.now_plus(TimeDelta::minutes(10));
        engine
            .apply(asked, None, &Command::Claim { lease_until }, &reviewer())
            .await
            .expect("claim");
        let held = engine.appeal(asked).await.expect("appeal");
        let estimate = engine.decision_estimate(&held).await.expect("estimate");
        assert_eq!(estimate.map(|e| e.ahead), Some(0), "a held case is next");

        engine
            .apply(asked, None, &Command::RequestInfo { message: "Which pin?".into() }, &reviewer())
            .await
            .expect("ask");
        let waiting = engine.appeal(asked).await.expect("appeal");
        assert_eq!(waiting.appeal.state, AppealState::AwaitingUser);
        assert_eq!(engine.decision_estimate(&waiting).await.expect("estimate"), None);
        test.cleanup().await;
    }
}
