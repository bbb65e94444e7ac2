//! Bulk restoration throughput on PostgreSQL: a job over N deactivated accounts through the
//! engine, next to the same updates and inserts written with plain SQL, in one run.
//!
//! `cargo bench -p redress-engine --bench bulk_restore -- [N] [CHUNK] [SLICES]` (defaults
//! 1000000, 1000 and the engine's default slices). The plain SQL runs once on one
//! connection and once with the accounts split over SLICES connections, as the engine's
//! slices are. PostgreSQL is taken from `REDRESS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); the benchmark needs it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{Actor, Role};
use redress_engine::restoration::{BulkRestorer, RestorationBackend, Selector};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

const SOURCE: &str = "nudity-v7";

/// N deactivated accounts, each with one deactivation by the faulty source.
async fn seed(db: &DatabaseConnection, n: usize) {
    let last = n as i64 - 1;
    db.execute_unprepared(&format!(
        "INSERT INTO accounts (id, email, status, created_at, updated_at) \
         SELECT 'acct-' || lpad(i::text, 7, '0'), 'user' || i || '@example.org', 'deactivated', now(), now() \
         FROM generate_series(0, {last}) AS i"
    ))
    .await
    .expect("seed accounts");
    db.execute_unprepared(&format!(
        "INSERT INTO enforcements (id, external_id, account_id, kind, policy, source_kind, source_id, \
         batch_id, automated_detection, automated_decision, facts, statement, enforced_at, created_at) \
         SELECT gen_random_uuid(), 'e-' || i, 'acct-' || lpad(i::text, 7, '0'), 'account_deactivation', \
         'nudity', 'model', '{SOURCE}', 'wave-1', 'fully', 'fully', 'internal error', '{{}}'::jsonb, now(), now() \
         FROM generate_series(0, {last}) AS i"
    ))
    .await
    .expect("seed enforcements");
    db.execute_unprepared("ANALYZE").await.expect("analyze");
}

async fn through_engine(db: &DatabaseConnection, chunk: u32, slices: u32) -> (Duration, i64) {
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let restorer = BulkRestorer::new(engine, RestorationBackend::Embedded).with_slices(slices);
    let support = Actor::staff("bench", [Role::Support]);
    let start = Instant::now();
    let job = restorer
        .start(
            &support,
            Selector::Source {
                source_id: SOURCE.into(),
            },
            "bench",
            chunk,
        )
        .await
        .expect("start");
    let done = restorer.run(job.id, |_| {}).await.expect("run");
    (start.elapsed(), done.restored)
}

/// The same rows with hand-written SQL: the job and its targets, then per chunk of the same
/// size, in one transaction each, the account and enforcement updates and the restoration,
/// item, outcome and notice inserts, set-based, and the job's counters. With `connections`
/// above one, the accounts are split into that many runs written at once, as the engine's
/// slices are.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql(db: &DatabaseConnection, chunk: u32, connections: usize) -> (Duration, i64) {
    let backend = DbBackend::Postgres;
    let job = Uuid::now_v7();
    let start = Instant::now();
    let txn = db.begin().await.expect("begin");
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO bulk_restore_jobs (id, selector, selector_key, active_selector_key, reason, started_by, \
         status, total, processed, restored, requested, already_active, failed, chunk_size, created_at, updated_at) \
         VALUES ($1, '{}'::jsonb, 'plain', 'plain', 'bench', 'bench', 'running', 0, 0, 0, 0, 0, 0, $2, now(), now())",
        [job.into(), (chunk as i32).into()],
    ))
    .await
    .expect("job");
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO bulk_restore_targets (job_id, account_id) \
         SELECT DISTINCT $1::uuid, account_id FROM enforcements WHERE source_id = $2 AND reversed_at IS NULL",
        [job.into(), SOURCE.into()],
    ))
    .await
    .expect("targets");
    let bounds = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            "SELECT max(account_id) AS upto FROM (SELECT account_id, ntile($2::int) OVER (ORDER BY account_id) AS run \
             FROM bulk_restore_targets WHERE job_id = $1) AS ranked GROUP BY run ORDER BY 1",
            [job.into(), (connections as i32).into()],
        ))
        .await
        .expect("runs")
        .into_iter()
        .map(|row| row.try_get::<String>("", "upto").expect("upto"))
        .collect::<Vec<_>>();
    txn.commit().await.expect("commit");

    let mut after = String::new();
    let mut runs = Vec::new();
    for upto in bounds {
        runs.push(plain_sql_run(db, job, chunk, after.clone(), upto.clone()));
        after = upto;
    }
    let restored = futures::future::join_all(runs).await.into_iter().sum();
    (start.elapsed(), restored)
}

/// One run of accounts, after `after` up to `upto`, chunk by chunk.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql_run(
    db: &DatabaseConnection,
    job: Uuid,
    chunk: u32,
    after: String,
    upto: String,
) -> i64 {
    let backend = DbBackend::Postgres;
    let statements = [
        "UPDATE accounts SET status = 'active', updated_at = now() WHERE id IN \
         (SELECT account_id FROM bulk_restore_targets WHERE job_id = $1 AND account_id > $2 AND account_id <= $3) \
         AND status = 'deactivated'",
        "UPDATE enforcements SET reversed_at = now() WHERE source_id = $4 AND account_id > $2 AND account_id <= $3 \
         AND reversed_at IS NULL",
        "INSERT INTO restorations (id, job_id, account_id, enforcement_ids, backend, status, reason, requested_by, \
         created_at, confirmed_at) \
         SELECT gen_random_uuid(), $1, account_id, jsonb_build_array(id), 'embedded', 'confirmed', 'bench', 'bench', now(), now() \
         FROM enforcements WHERE source_id = $4 AND account_id > $2 AND account_id <= $3",
        "INSERT INTO restoration_items (restoration_id, position, item_kind, item_id, enforcement_id, outcome) \
         SELECT id, 0, 'account', account_id, (enforcement_ids->>0)::uuid, 'undone' FROM restorations \
         WHERE job_id = $1 AND account_id > $2 AND account_id <= $3",
        "INSERT INTO outbox (id, topic, idempotency_key, payload, status, attempts, available_at, created_at) \
         SELECT gen_random_uuid(), 'notify_appellant', 'bulk_restore:' || $1::text || ':' || r.account_id, \
         jsonb_build_object('appeal_id', NULL, 'account_id', r.account_id, 'job_id', $1::uuid, 'reference', NULL, \
         'channel', 'email', 'contact', a.email, 'reason', r.reason, 'event', 'bulk_restored', \
         'effect', jsonb_build_object('effect', 'notify_appellant', 'notice', 'account_restored')), \
         'pending', 0, now(), now() \
         FROM restorations r JOIN accounts a ON a.id = r.account_id \
         WHERE r.job_id = $1 AND r.account_id > $2 AND r.account_id <= $3 \
         ON CONFLICT (idempotency_key) DO NOTHING",
        "INSERT INTO bulk_restore_outcomes (job_id, account_id, outcome, restoration_id, appeals, recorded_at) \
         SELECT $1, account_id, 'restored', id, '[]'::jsonb, now() FROM restorations \
         WHERE job_id = $1 AND account_id > $2 AND account_id <= $3",
    ];
    let mut checkpoint = after;
    let mut restored = 0i64;
    loop {
        let txn = db.begin().await.expect("begin");
        let bounds = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT max(account_id) AS last, count(*) AS n FROM (SELECT account_id FROM bulk_restore_targets \
                 WHERE job_id = $1 AND account_id > $2 AND account_id <= $3 ORDER BY account_id LIMIT $4) AS chunk",
                [job.into(), checkpoint.clone().into(), upto.clone().into(), i64::from(chunk).into()],
            ))
            .await
            .expect("chunk")
            .expect("row");
        let Some(last) = bounds.try_get::<Option<String>>("", "last").expect("last") else {
            txn.commit().await.expect("commit");
            break;
        };
        let n: i64 = bounds.try_get("", "n").expect("n");
        for sql in statements {
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    job.into(),
                    checkpoint.clone().into(),
                    last.clone().into(),
                    SOURCE.into(),
                ]
                .into_iter()
                .take(if sql.contains("$4") { 4 } else { 3 }),
            ))
            .await
            .expect("chunk statement");
        }
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE bulk_restore_jobs SET processed = processed + $2, restored = restored + $2, \
             updated_at = now() WHERE id = $1",
            [job.into(), n.into()],
        ))
        .await
        .expect("job counters");
        txn.commit().await.expect("commit");
        restored += n;
        checkpoint = last;
    }
    restored
}

/// A fresh schema seeded with `n` accounts, its pages written out, so each side starts
/// from the same state.
async fn seeded(n: usize) -> TestDb {
    let Some(test) = TestDb::postgres().await else {
        panic!("PostgreSQL is unreachable; the bulk-restore benchmark needs it");
    };
    let seeding = Instant::now();
    seed(&test.db, n).await;
    test.db
        .execute_unprepared("CHECKPOINT")
        .await
        .expect("checkpoint");
    println!(
        "seeded {n} accounts in {:.1}s",
        seeding.elapsed().as_secs_f64()
    );
    test
}

fn report(side: &str, n: usize, (took, rows): (Duration, i64)) -> Duration {
    assert_eq!(rows, n as i64, "{side} restored every account");
    println!(
        "{side:<28} {:>7.1}s ({:>6.0} accounts/s)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let chunk: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let slices: u32 = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(redress_engine::restoration::bulk::DEFAULT_SLICES);
    println!("postgres, {n} accounts, chunks of {chunk}, engine slices {slices}");

    let test = seeded(n).await;
    let plain = report(
        "plain SQL, 1 connection",
        n,
        plain_sql(&test.db, chunk, 1).await,
    );
    test.cleanup().await;

    let test = seeded(n).await;
    let plain_parallel = report(
        &format!("plain SQL, {slices} connections"),
        n,
        plain_sql(&test.db, chunk, slices as usize).await,
    );
    test.cleanup().await;

    let test = seeded(n).await;
    let engine = report(
        &format!("engine, {slices} slices"),
        n,
        through_engine(&test.db, chunk, slices).await,
    );
    test.cleanup().await;

    println!(
        "engine / plain SQL on 1 connection {:.2}, on {slices} connections {:.2}",
        engine.as_secs_f64() / plain.as_secs_f64(),
        engine.as_secs_f64() / plain_parallel.as_secs_f64()
    );
}
