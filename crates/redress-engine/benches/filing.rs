//! Filing throughput: N appeals through the engine next to the same rows written with plain
//! SQL, on SQLite and PostgreSQL, in one run.
//!
//! `cargo bench -p redress-engine --bench filing -- [N]` (default N = 2000). PostgreSQL is
//! taken from `REDRESS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and skipped with a message when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use redress_core::{Actor, AppealReference};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde_json::json;
use support::{in_pairs_on_both_backends, mail_appeal, numeric_args, seed_wave};
use uuid::Uuid;

mod support;

async fn through_engine(db: &DatabaseConnection, n: usize) -> Duration {
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let actor = Actor::system("bench");
    let start = Instant::now();
    for i in 0..n {
        engine
            .file(&actor, mail_appeal(i, "Please restore my account.".into()))
            .await
            .expect("file");
    }
    start.elapsed()
}

/// The same four rows per appeal (appeal, event, outbox item, message), one transaction
/// each, written with hand-written SQL and no reads.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql(db: &DatabaseConnection, n: usize) -> Duration {
    let backend = db.get_database_backend();
    let p = |i: usize| match backend {
        DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    let appeal_sql = format!(
        "INSERT INTO appeals (id, reference, account_id, enforcement_id, channel, contact, state, priority, priority_rank, queue, tags, identity_verified, four_eyes, escalation_level, sla_started_at, sla_paused_ms, sla_marks, triage_due_at, decision_due_at, next_sla_check_at, version, filed_at, updated_at) VALUES ({}, {}, {}, {}, 'email', {}, 'filed', 'normal', 1, 'general', {}, TRUE, FALSE, 0, {}, 0, 0, {}, {}, {}, 1, {}, {})",
        p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), p(10), p(11), p(12)
    );
    let event_sql = format!(
        "INSERT INTO appeal_events (appeal_id, version, kind, actor_kind, actor_id, payload, occurred_at) VALUES ({}, 1, 'filed', 'system', 'bench', {}, {})",
        p(1), p(2), p(3)
    );
    let outbox_sql = format!(
        "INSERT INTO outbox (id, topic, appeal_id, idempotency_key, payload, status, attempts, available_at, created_at) VALUES ({}, 'notify_appellant', {}, {}, {}, 'pending', 0, {}, {})",
        p(1), p(2), p(3), p(4), p(5), p(6)
    );
    let message_sql = format!(
        "INSERT INTO messages (id, appeal_id, direction, channel, channel_message_id, sender, subject, body, classification, metadata, received_at) VALUES ({}, {}, 'inbound', 'email', {}, {}, 'appeal', 'Please restore my account.', 'appeal', {}, {})",
        p(1), p(2), p(3), p(4), p(5), p(6)
    );
    let enforcements: Vec<(String, Uuid)> = {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT account_id, id FROM enforcements ORDER BY account_id",
            ))
            .await
            .expect("enforcements");
        rows.iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "account_id").expect("account"),
                    r.try_get::<Uuid>("", "id").expect("id"),
                )
            })
            .collect()
    };
    let start = Instant::now();
    for (i, (account, enforcement)) in enforcements.iter().enumerate().take(n) {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let payload = json!({"type": "filed"});
        let txn = db.begin().await.expect("begin");
        let exec =
            |sql: &str, values: Vec<Value>| Statement::from_sql_and_values(backend, sql, values);
        txn.execute_raw(exec(
            &appeal_sql,
            vec![
                id.into(),
                AppealReference::from_seed(rand::random())
                    .to_string()
                    .into(),
                account.clone().into(),
                (*enforcement).into(),
                format!("user{i}@example.org").into(),
                json!([]).into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("appeal");
        txn.execute_raw(exec(
            &event_sql,
            vec![id.into(), payload.clone().into(), now.into()],
        ))
        .await
        .expect("event");
        txn.execute_raw(exec(
            &outbox_sql,
            vec![
                Uuid::now_v7().into(),
                id.into(),
                format!("{id}:1:notify_appellant").into(),
                payload.clone().into(),
                now.into(),
                now.into(),
            ],
        ))
        .await
        .expect("outbox");
        txn.execute_raw(exec(
            &message_sql,
            vec![
                Uuid::now_v7().into(),
                id.into(),
                format!("<plain-{i}@example.org>").into(),
                format!("user{i}@example.org").into(),
                json!({}).into(),
                now.into(),
            ],
        ))
        .await
        .expect("message");
        txn.commit().await.expect("commit");
    }
    start.elapsed()
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

async fn run(name: &str, n: usize, engine_db: TestDb, plain_db: TestDb) {
    seed_wave(&engine_db.db, n, |_, e| e).await;
    seed_wave(&plain_db.db, n, |_, e| e).await;
    let plain = plain_sql(&plain_db.db, n).await;
    let engine = through_engine(&engine_db.db, n).await;
    let (e, p) = (rate(n, engine), rate(n, plain));
    println!(
        "{name:<9} appeals={n:<7} engine={e:>8.0}/s  plain_sql={p:>8.0}/s  engine/plain={:.2}",
        e / p
    );
    engine_db.cleanup().await;
    plain_db.cleanup().await;
}

#[tokio::main]
async fn main() {
    let n = numeric_args().first().copied().unwrap_or(2000);
    in_pairs_on_both_backends(async |name, a, b| run(name, n, a, b).await).await;
}
