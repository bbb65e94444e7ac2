//! The queue page a reviewer opens: `Engine::appeals` with a state, a queue and a tag
//! filter, 51 rows (a page of 50 and the look-ahead), over a table of open appeals on
//! PostgreSQL, next to a bare `SELECT 1` timed in the same run.
//!
//! `cargo bench -p redress-engine --bench queue_page -- [APPEALS] [ROUNDS]` (defaults
//! 100000 and 300). PostgreSQL is taken from `REDRESS_TEST_POSTGRES_URL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{AppealReference, AppealState};
use redress_engine::query::AppealFilter;
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::ConnectionTrait;
use support::{numeric_args, p50_p99};
use uuid::Uuid;

mod support;

const PAGE: u64 = 51;

fn report(name: &str, (p50, p99): (Duration, Duration), baseline: Duration) {
    println!(
        "{name:<58} p50 {p50:>10.2?}  p99 {p99:>10.2?}  p99 / SELECT 1 p99 {:>6.1}",
        p99.as_secs_f64() / baseline.as_secs_f64()
    );
}

/// The id of the `n`th appeal: time-ordered like the engine's own ids.
fn appeal_id(n: usize) -> Uuid {
    Uuid::parse_str(&format!("00000000-0000-7000-8000-{n:012x}")).expect("a well-formed id")
}

/// Writes `appeals` open appeals in one statement: four queues (half in `general`), states
/// mostly triaged, a wave tag on 40 %, `saved-not-created` on 10 %, `vip` on 0.1 %.
async fn seed(db: &sea_orm::DatabaseConnection, appeals: usize) {
    // References carry a check character, so they are made here and joined in.
    db.execute_unprepared("CREATE TABLE bench_references (n int PRIMARY KEY, reference text)")
        .await
        .expect("references table");
    for chunk in (1..=appeals).collect::<Vec<_>>().chunks(10_000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|n| format!("({n}, '{}')", AppealReference::from_seed(*n as u64)))
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO bench_references VALUES {}",
            rows.join(", ")
        ))
        .await
        .expect("references");
    }
    db.execute_unprepared(&format!(
        "INSERT INTO appeals (id, reference, account_id, channel, contact, state, priority, \
           priority_rank, queue, tags, identity_verified, four_eyes, escalation_level, \
           sla_started_at, sla_paused_ms, sla_pauses, sla_marks, triage_due_at, \
           decision_due_at, version, filed_at, updated_at) \
         SELECT ('00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, \
           (SELECT reference FROM bench_references r WHERE r.n = s.n), NULL, 'email', 'person' || n || '@example.org', \
           CASE WHEN n % 20 < 13 THEN 'triaged' WHEN n % 20 < 18 THEN 'filed' \
                WHEN n % 20 = 18 THEN 'awaiting_user' ELSE 'reviewed' END, \
           'normal', 1, \
           CASE WHEN n % 8 < 4 THEN 'general' WHEN n % 8 < 6 THEN 'fast-lane' \
                WHEN n % 8 = 6 THEN 'de' ELSE 'fr' END, \
           (CASE WHEN n % 1000 = 7 THEN '[\"wave-2026-11\", \"vip\"]' \
                 WHEN n % 10 = 3 THEN '[\"wave-2026-11\", \"saved-not-created\"]' \
                 WHEN n % 10 < 4 THEN '[\"wave-2026-11\"]' ELSE '[]' END)::jsonb, \
           false, false, 0, now(), 0, '[]'::jsonb, 0, now() + interval '4 hours', \
           now() + interval '72 hours', 1, now() - (n || ' seconds')::interval, now() \
         FROM generate_series(1, {appeals}) AS s(n)"
    ))
    .await
    .expect("seed the appeals");
    db.execute_unprepared("DROP TABLE bench_references")
        .await
        .expect("drop the references");
    db.execute_unprepared("VACUUM ANALYZE appeals")
        .await
        .expect("vacuum");
    db.execute_unprepared("CHECKPOINT")
        .await
        .expect("checkpoint");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let numbers = numeric_args();
    let appeals = numbers.first().copied().unwrap_or(100_000).max(1000);
    let rounds = numbers.get(1).copied().unwrap_or(300).max(1);
    let test = TestDb::postgres()
        .await
        .expect("the benchmark needs PostgreSQL");
    let db = test.db.clone();
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let started = Instant::now();
    seed(&db, appeals).await;
    println!(
        "{appeals} open appeals written in {:.1?}; {rounds} rounds per query",
        started.elapsed()
    );

    let (_, baseline) = p50_p99(rounds, |_| async {
        db.execute_unprepared("SELECT 1").await.expect("select");
    })
    .await;
    println!("{:<58} p99 {baseline:>10.2?}", "SELECT 1");

    let filter = |states: &[AppealState], queue: &str, tags: &[&str]| AppealFilter {
        states: states.to_vec(),
        queue: Some(queue.to_owned()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ..AppealFilter::default()
    };
    // A cursor somewhere in the table, as when a reviewer pages on.
    let cursor = |round: usize| Some(appeal_id(1 + (round * 7919) % appeals));
    let cases: [(&str, AppealFilter, bool); 6] = [
        (
            "triaged, general, first page",
            filter(&[AppealState::Triaged], "general", &[]),
            false,
        ),
        (
            "triaged, general, wave tag, first page",
            filter(&[AppealState::Triaged], "general", &["wave-2026-11"]),
            false,
        ),
        (
            "triaged, general, wave tag, page after a cursor",
            filter(&[AppealState::Triaged], "general", &["wave-2026-11"]),
            true,
        ),
        (
            "filed, fast-lane, saved-not-created, page after a cursor",
            filter(&[AppealState::Filed], "fast-lane", &["saved-not-created"]),
            true,
        ),
        (
            "triaged, general, rare tag (vip), first page",
            filter(&[AppealState::Triaged], "general", &["vip"]),
            false,
        ),
        (
            "all open states, de, rare tag (vip), page after a cursor",
            filter(AppealState::OPEN, "de", &["vip"]),
            true,
        ),
    ];
    for (name, filter, paged) in &cases {
        let figures = p50_p99(rounds, |round| {
            let after = if *paged { cursor(round) } else { None };
            let engine = &engine;
            async move {
                engine
                    .appeals(filter, after, PAGE)
                    .await
                    .expect("a page of appeals");
            }
        })
        .await;
        report(name, figures, baseline);
    }
    test.cleanup().await;
}
