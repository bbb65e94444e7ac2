//! Cost of one SLA round with 100 due appeals among many open ones, on PostgreSQL.
//!
//! `cargo bench -p redress-engine --bench sla_tick -- [SIZES...]` (default 10000 100000
//! 1000000). For each size a fresh schema gets that many open appeals whose next check is
//! a month away (seeded with one `INSERT ... SELECT generate_series`), plus 100 x ROUNDS
//! appeals filed through the engine whose triage deadline has passed. Each round claims
//! the 100 oldest due appeals and escalates them; the median round is reported next to
//! the smallest size's, the baseline of the same run. Target: the largest within 2x of
//! the smallest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use redress_core::{Actor, Channel};
use redress_engine::testing::TestDb;
use redress_engine::worker::sla;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, ManualClock};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

const DUE_PER_ROUND: u64 = 100;
const ROUNDS: usize = 5;

fn incoming(i: usize) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<due-{i}@example.org>")),
        sender: format!("due{i}@example.org"),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some("appeal".into()),
        body: "Please look again.".into(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

async fn seed_open(test: &TestDb, n: u64, now: chrono::DateTime<Utc>) -> Duration {
    let later = now + TimeDelta::days(30);
    let start = Instant::now();
    test.db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO appeals (id, reference, channel, contact, state, priority, priority_rank, \
             queue, tags, identity_verified, four_eyes, escalation_level, sla_started_at, \
             sla_paused_ms, sla_marks, decision_due_at, next_sla_check_at, version, filed_at, \
             updated_at) \
             SELECT gen_random_uuid(), 'SEED-' || g, 'email', 'seed' || g || '@example.org', \
             CASE WHEN g % 2 = 0 THEN 'filed' ELSE 'triaged' END, 'normal', 1, 'general', \
             '[]'::jsonb, TRUE, FALSE, 0, $1, 0, 0, $2, $2, 1, $1, $1 \
             FROM generate_series(1, $3::bigint) AS g",
            vec![now.into(), later.into(), (n as i64).into()],
        ))
        .await
        .expect("seed open appeals");
    test.db
        .execute_unprepared("ANALYZE appeals")
        .await
        .expect("analyze");
    start.elapsed()
}

async fn measure(open: u64) -> Option<(Duration, Duration)> {
    let test = TestDb::postgres_with_pool(4).await?;
    let filed_at = Utc
        .with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
        .single()
        .expect("valid date");
    let clock = ManualClock::new(filed_at);
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    );
    let seeding = seed_open(&test, open, filed_at).await;
    let actor = Actor::system("bench");
    for i in 0..(DUE_PER_ROUND as usize * ROUNDS) {
        engine.file(&actor, incoming(i)).await.expect("file");
    }
    clock.advance(TimeDelta::hours(5));
    let mut rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let report = sla::tick(&engine, DUE_PER_ROUND).await.expect("tick");
        rounds.push(start.elapsed());
        assert_eq!(report.count("escalate"), DUE_PER_ROUND as usize);
    }
    rounds.sort();
    test.cleanup().await;
    Some((rounds[ROUNDS / 2], seeding))
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        sizes
    };
    let mut baseline = None;
    for open in sizes {
        let Some((round, seeding)) = measure(open).await else {
            eprintln!("PostgreSQL unreachable; nothing measured");
            return;
        };
        let base = *baseline.get_or_insert(round);
        println!(
            "open={open:<8} due/round={DUE_PER_ROUND} median_round={:>7.1}ms  vs_smallest={:.2}x  (seeded in {:.1}s)",
            round.as_secs_f64() * 1000.0,
            round.as_secs_f64() / base.as_secs_f64(),
            seeding.as_secs_f64(),
        );
    }
}
