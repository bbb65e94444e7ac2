//! Filing with routing rules configured, against filing without any, in one run, on SQLite
//! and PostgreSQL.
//!
//! `cargo bench -p redress-engine --bench routing -- [N] [ROUNDS]` (defaults 1000 and 3).
//! Each round files N appeals one by one through `Engine::file` into a fresh database per
//! scenario, the scenarios taking turns to go first so that drift on a shared machine falls
//! on each alike:
//!
//! - `none`: no rules (the baseline);
//! - `50-miss`: 50 enabled rules, none matching (each names a policy no enforcement has);
//! - `route-all`: one rule that matches every appeal and triages it;
//! - `50-context`: the 50 rules plus one asking for the account's context (earlier appeals),
//!   which costs one query per filing; informative, no target.
//!
//! Targets: `50-miss` and `route-all` at least 90% of `none`. PostgreSQL is taken from
//! `REDRESS_TEST_POSTGRES_URL` and skipped with a message when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{Actor, Priority, Role};
use redress_engine::repo::registry::NewEnforcement;
use redress_engine::testing::{Backend, TestDb};
use redress_engine::{Engine, EngineSettings, Filing, IncomingAppeal, SystemClock};
use redress_routing::{Action, Conditions, CountRange, RuleDefinition};
use serde_json::json;
use support::{mail_appeal, numeric_args, seed_wave};

mod support;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    NoRules,
    FiftyMisses,
    RouteAll,
    FiftyAndContext,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario::NoRules,
    Scenario::FiftyMisses,
    Scenario::RouteAll,
    Scenario::FiftyAndContext,
];

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::NoRules => "none",
            Scenario::FiftyMisses => "50-miss",
            Scenario::RouteAll => "route-all",
            Scenario::FiftyAndContext => "50-context",
        }
    }

    fn rules(self) -> Vec<RuleDefinition> {
        let miss = |k: usize| RuleDefinition {
            name: format!("miss {k}"),
            enabled: true,
            when: Conditions {
                policies: vec![format!("policy-{k}")],
                content_relations: vec![redress_routing::ContentRelation::Saved],
                ..Conditions::default()
            },
            then: Action::Triage {
                queue: format!("queue-{k}"),
                priority: Priority::High,
                tags: vec![],
                four_eyes: false,
            },
        };
        match self {
            Scenario::NoRules => Vec::new(),
            Scenario::FiftyMisses => (0..50).map(miss).collect(),
            Scenario::RouteAll => vec![RuleDefinition {
                name: "everything".into(),
                enabled: true,
                when: Conditions::default(),
                then: Action::Triage {
                    queue: "fast-lane".into(),
                    priority: Priority::High,
                    tags: vec!["routed".into()],
                    four_eyes: false,
                },
            }],
            Scenario::FiftyAndContext => {
                let mut rules: Vec<RuleDefinition> = (0..50).map(miss).collect();
                rules.push(RuleDefinition {
                    name: "repeat appellants".into(),
                    enabled: true,
                    when: Conditions {
                        earlier_appeals: Some(CountRange {
                            at_least: Some(3),
                            at_most: None,
                        }),
                        ..Conditions::default()
                    },
                    then: Action::LeaveForPerson,
                });
                rules
            }
        }
    }
}

fn incoming(i: usize) -> IncomingAppeal {
    IncomingAppeal {
        metadata: json!({"language": "en"}),
        ..mail_appeal(i, "Please restore my account.".into())
    }
}

/// Files `n` appeals with `scenario`'s rules in force; the time of the filings alone.
async fn measure(backend: Backend, scenario: Scenario, n: usize) -> Option<Duration> {
    let test = TestDb::new(backend).await?;
    seed_wave(&test.db, n, |i, wave| NewEnforcement {
        batch_id: Some("wave-1".into()),
        content_id: Some(format!("pin-{i}")),
        content_relation: Some("saved".into()),
        ..wave
    })
    .await;
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    );
    let admin = Actor::staff("bench", [Role::Admin]);
    for rule in scenario.rules() {
        engine
            .create_routing_rule(&admin, rule)
            .await
            .expect("create rule");
    }
    let actor = Actor::system("bench");
    let start = Instant::now();
    let mut routed = 0;
    for i in 0..n {
        if let Filing::Created(appeal) = engine.file(&actor, incoming(i)).await.expect("file") {
            routed += usize::from(appeal.appeal.triaged_by.is_some());
        }
    }
    let took = start.elapsed();
    let expected = if scenario == Scenario::RouteAll { n } else { 0 };
    assert_eq!(
        routed,
        expected,
        "{} routed {routed} of {n}",
        scenario.name()
    );
    test.cleanup().await;
    Some(took)
}

async fn run(backend: Backend, label: &str, n: usize, rounds: usize) {
    let mut totals = [Duration::ZERO; SCENARIOS.len()];
    for round in 0..rounds {
        for offset in 0..SCENARIOS.len() {
            let index = (round + offset) % SCENARIOS.len();
            let Some(took) = measure(backend, SCENARIOS[index], n).await else {
                println!("{label:<9} skipped: server unreachable");
                return;
            };
            totals[index] += took;
        }
    }
    let rate = |took: Duration| (n * rounds) as f64 / took.as_secs_f64();
    let baseline = rate(totals[0]);
    for (scenario, took) in SCENARIOS.iter().zip(totals) {
        println!(
            "{label:<9} {:<11} appeals={:<6} {:>7.0}/s  vs none={:.2}",
            scenario.name(),
            n * rounds,
            rate(took),
            rate(took) / baseline
        );
    }
}

#[tokio::main]
async fn main() {
    let numbers = numeric_args();
    let n = numbers.first().copied().unwrap_or(1000);
    let rounds = numbers.get(1).copied().unwrap_or(3);
    run(Backend::Sqlite, "sqlite", n, rounds).await;
    run(Backend::Postgres, "postgres", n, rounds).await;
}
