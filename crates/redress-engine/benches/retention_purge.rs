//! The retention purge on PostgreSQL: the engine's purge of N closed appeals next to the
//! same updates written as plain SQL, and filing through the engine while the purge runs
//! next to filing alone.
//!
//! `cargo bench -p redress-engine --bench retention_purge -- [N] [BATCH]` (defaults 5000
//! appeals a side, batches of 500). One fresh schema is seeded through the engine with 2N
//! appeals (one message, a status token, a note each), closed 800 days ago: N in queue
//! `plain`, purged by plain SQL, N in queue `engine`, purged by `Engine::purge_due`.
//! PostgreSQL is taken from `REDRESS_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); the benchmark needs it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{Actor, Channel, Priority};
use redress_engine::privacy::RetentionSettings;
use redress_engine::testing::{seed_triaged_appeals, TestDb};
use redress_engine::{Engine, EngineSettings, IncomingAppeal, SystemClock};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

#[allow(
    clippy::disallowed_methods,
    reason = "the benchmark arranges rows without the engine"
)]
async fn close_and_annotate(db: &DatabaseConnection) {
    for sql in [
        "UPDATE appeals SET state = 'withdrawn', updated_at = now() - interval '800 days', \
         triage_due_at = NULL, decision_due_at = NULL, next_sla_check_at = NULL, contact = 'someone@example.test'",
        "UPDATE messages SET subject = 'Please look again', metadata = jsonb_build_object( \
         'classification', 'appeal', 'from_name', 'Some Person', 'envelope_from', sender, \
         'attachments', jsonb_build_array(jsonb_build_object('filename', 'a.png', 'size', 100)))",
        "INSERT INTO appeal_events (appeal_id, version, kind, actor_kind, actor_id, payload, occurred_at) \
         SELECT id, version + 1, 'note_added', 'staff', 'tina', jsonb_build_object( \
           'kind', jsonb_build_object('type', 'note_added', 'text', 'called the appellant'), \
           'actor', jsonb_build_object('kind', 'staff', 'subject', 'tina', 'roles', jsonb_build_array('triager')), \
           'at', now()), now() FROM appeals",
        "UPDATE appeals SET version = version + 1",
        "ANALYZE",
        "CHECKPOINT",
    ] {
        db.execute_unprepared(sql).await.expect(sql);
    }
}

/// The purge's updates, set-based, per batch of the same size in one transaction each.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql(db: &DatabaseConnection, batch: u64) -> (Duration, usize) {
    let backend = DbBackend::Postgres;
    let statements = [
        "UPDATE messages SET body = '[removed]', subject = CASE WHEN subject IS NULL THEN NULL ELSE '[removed]' END, \
         sender = '[removed]', recipient = CASE WHEN recipient IS NULL THEN NULL ELSE '[removed]' END, in_reply_to = NULL, \
         metadata = metadata - 'from_name' - 'envelope_from' - 'recipients' - 'references' - 'identity' \
           - 'claimed_account' - 'thread' - 'from_source' - 'attachments' - 'attachments_omitted' \
         WHERE appeal_id = ANY($1)",
        "UPDATE appeals SET contact = NULL, purged_kinds = 63 WHERE id = ANY($1)",
        "DELETE FROM handle_confirmations WHERE appeal_id = ANY($1)",
        "DELETE FROM outbox WHERE appeal_id = ANY($1) AND status <> 'pending'",
        "DELETE FROM appeal_status_tokens WHERE appeal_id = ANY($1)",
        "UPDATE appeal_events SET payload = jsonb_set(payload, '{kind,text}', '\"[removed]\"') \
         WHERE appeal_id = ANY($1) AND kind = 'note_added'",
        "UPDATE appeal_events SET actor_id = '[removed]', payload = jsonb_set(payload, '{actor,identity}', '\"[removed]\"') \
         WHERE appeal_id = ANY($1) AND actor_kind = 'appellant'",
        "UPDATE audit_log SET details = '{\"removed\": \"[removed]\"}' WHERE appeal_id = ANY($1)",
    ];
    let start = Instant::now();
    let mut done = 0;
    let mut after = Uuid::nil();
    loop {
        let txn = db.begin().await.expect("begin");
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT id FROM appeals WHERE queue = 'plain' AND id > $1 ORDER BY id LIMIT $2 FOR UPDATE",
                [after.into(), (batch as i64).into()],
            ))
            .await
            .expect("batch");
        let ids: Vec<Uuid> = rows
            .iter()
            .map(|r| r.try_get_by_index(0).expect("id"))
            .collect();
        let Some(last) = ids.last().copied() else {
            txn.commit().await.expect("commit");
            break;
        };
        for sql in statements {
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [ids.clone().into()],
            ))
            .await
            .expect(sql);
        }
        txn.commit().await.expect("commit");
        done += ids.len();
        after = last;
    }
    (start.elapsed(), done)
}

fn appeal(n: usize) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<intake-{n}-{}@mx.test>", Uuid::now_v7())),
        sender: format!("intake{n}@example.test"),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some("Banned by mistake".into()),
        body: "Please look at my account again.".into(),
        in_reply_to: None,
        metadata: serde_json::json!({"classification": "appeal"}),
    }
}

/// Files appeals on two tasks until `stop` is set; returns how many.
async fn intake(engine: &Engine, stop: Arc<AtomicBool>, limit: usize) -> usize {
    let filed = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (engine, stop, filed) = (engine.clone(), stop.clone(), filed.clone());
            tokio::spawn(async move {
                let system = Actor::system("bench-intake");
                while !stop.load(Ordering::Relaxed) {
                    let n = filed.fetch_add(1, Ordering::Relaxed);
                    if n >= limit {
                        break;
                    }
                    engine.file(&system, appeal(n)).await.expect("file");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("intake task");
    }
    filed.load(Ordering::Relaxed).min(limit)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5_000);
    let batch: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let test = TestDb::postgres_with_pool(16)
        .await
        .expect("PostgreSQL is needed for this benchmark");
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    );
    let seeding = Instant::now();
    seed_triaged_appeals(&engine, 0, n, "plain", 4, |_| Priority::Normal).await;
    seed_triaged_appeals(&engine, n, n, "engine", 4, |_| Priority::Normal).await;
    close_and_annotate(&test.db).await;
    println!(
        "seeded {} closed appeals in {:.1?}",
        2 * n,
        seeding.elapsed()
    );

    let (plain, purged) = plain_sql(&test.db, batch).await;
    println!(
        "plain SQL: {purged} appeals in {plain:.2?} ({:.0}/s)",
        purged as f64 / plain.as_secs_f64()
    );
    test.db
        .execute_unprepared("CHECKPOINT")
        .await
        .expect("checkpoint");

    let alone = Instant::now();
    let filed_alone = intake(&engine, Arc::new(AtomicBool::new(false)), 1_000).await;
    let alone = alone.elapsed();
    let rate_alone = filed_alone as f64 / alone.as_secs_f64();
    println!("filing alone: {filed_alone} in {alone:.2?} ({rate_alone:.0}/s)");

    let settings = RetentionSettings {
        batch_size: batch,
        ..RetentionSettings::default()
    };
    let stop = Arc::new(AtomicBool::new(false));
    let filer = {
        let (engine, stop) = (engine.clone(), stop.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let filed = intake(&engine, stop, usize::MAX).await;
            (filed, start.elapsed())
        })
    };
    let start = Instant::now();
    while engine.purge_due(&settings).await.expect("purge").claimed() > 0 {}
    let through_engine = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (filed_during, during) = filer.await.expect("filer");
    let rate_during = filed_during as f64 / during.as_secs_f64();
    let remaining: i64 = test
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM appeals WHERE queue = 'engine' AND purged_kinds <> 63",
        ))
        .await
        .expect("count")
        .expect("row")
        .try_get_by_index(0)
        .expect("n");
    assert_eq!(
        remaining, 0,
        "every appeal of the engine's side is purged of every kind"
    );
    println!(
        "engine: {n} appeals in {through_engine:.2?} ({:.0}/s), {:.2}x plain SQL",
        n as f64 / through_engine.as_secs_f64(),
        through_engine.as_secs_f64() / plain.as_secs_f64()
    );
    println!(
        "filing during the purge: {filed_during} in {during:.2?} ({rate_during:.0}/s), {:.0}% of alone",
        100.0 * rate_during / rate_alone
    );
    test.cleanup().await;
}
