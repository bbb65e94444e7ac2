//! Bulk decision throughput on PostgreSQL: a job upholding N triaged appeals with one
//! template through the engine, next to the same rows written with plain SQL, in one run.
//!
//! `cargo bench -p redress-engine --bench bulk_decision -- [N] [CHUNK] [engine-first]`
//! (defaults 10000, the engine's default chunk, plain SQL first). Both sides work in one
//! schema seeded (through the engine) with 2N triaged appeals, N in each of two queues:
//! plain SQL decides one queue, the engine the other. PostgreSQL is taken from
//! `REDRESS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`); the
//! benchmark needs it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_core::{
    Actor, DecisionTemplate, GroundKind, Outcome, Policy, PolicyText, Priority, RestrictionKind,
    Role,
};
use redress_engine::bulk_decisions::{BulkDecider, DEFAULT_CHUNK_SIZE};
use redress_engine::policies::PolicyCatalog;
use redress_engine::query::AppealFilter;
use redress_engine::testing::{seed_triaged_appeals, TestDb};
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

const TEMPLATE: &str = "spam-uphold";
const REASONS: &str = "Your appeal {reference}: the account posted the spam links itself.";

fn settings() -> EngineSettings {
    let spam = Policy {
        id: "spam".into(),
        ground_kind: GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".into(),
        restrictions: vec![RestrictionKind::AccountSuspended],
        texts: [(
            "en".to_owned(),
            PolicyText {
                title: "Spam".into(),
                ground: "Community guidelines 4.2".into(),
                explanation: "Mass-posting links is spam.".into(),
            },
        )]
        .into(),
    };
    let template = DecisionTemplate {
        id: TEMPLATE.into(),
        policy: "spam".into(),
        outcome: Outcome::Uphold,
        language: "en".into(),
        title: "Spam confirmed".into(),
        reasons: REASONS.into(),
        statement: redress_core::StatementDraft::default(),
    };
    EngineSettings {
        policies: PolicyCatalog::new("en", vec![spam], vec![template]).expect("catalog"),
        ..EngineSettings::default()
    }
}

fn engine(db: &DatabaseConnection) -> Engine {
    Engine::new(db.clone(), settings(), Arc::new(SystemClock))
}

fn queue(queue: &str) -> AppealFilter {
    AppealFilter {
        queue: Some(queue.into()),
        enforcement_policy: Some("spam".into()),
        ..AppealFilter::default()
    }
}

async fn through_engine(db: &DatabaseConnection, chunk: u32) -> (Duration, i64) {
    let decider = BulkDecider::new(engine(db));
    let senior = Actor::staff("bench", [Role::SeniorReviewer]);
    let start = Instant::now();
    let job = decider
        .start(&senior, queue("engine"), TEMPLATE, chunk)
        .await
        .expect("start");
    let done = decider.run(job.id, |_| {}).await.expect("run");
    (start.elapsed(), done.decided)
}

/// The statement of reasons the engine sends with each decision, as JSON, from the
/// template filled for one of the engine's appeals (the same for every appeal here).
async fn statement_json(db: &DatabaseConnection) -> serde_json::Value {
    let engine = engine(db);
    let first = engine
        .appeals(&queue("plain"), None, 1)
        .await
        .expect("an appeal")
        .into_iter()
        .next()
        .expect("seeded");
    let filled = engine
        .fill_decision_template(first.id, TEMPLATE)
        .await
        .expect("fill");
    serde_json::to_value(filled.statement).expect("statement")
}

/// The same rows with hand-written SQL: the job and its targets, then per chunk of the same
/// size, in one transaction each: the appeal rows (state, decision with the template's
/// reasons filled by `replace`, version), the `decided` and `upheld` events, one decision
/// notice per appeal in the outbox, each target's outcome, and the job's checkpoint and
/// counters, all set-based.
#[allow(
    clippy::disallowed_methods,
    reason = "the plain-SQL baseline writes without the engine"
)]
async fn plain_sql(db: &DatabaseConnection, chunk: u32) -> (Duration, i64) {
    let backend = DbBackend::Postgres;
    let statement = statement_json(db).await;
    let job = Uuid::now_v7();
    let start = Instant::now();
    let txn = db.begin().await.expect("begin");
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO bulk_decision_jobs (id, filter, template, template_id, outcome, started_by, status, \
         total, processed, decided, proposed, skipped, chunk_size, created_at, updated_at) \
         VALUES ($1, '{}'::jsonb, '{}'::jsonb, $2, 'uphold', 'bench', 'running', 0, 0, 0, 0, 0, $3, now(), now())",
        [job.into(), TEMPLATE.into(), (chunk as i32).into()],
    ))
    .await
    .expect("job");
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO bulk_decision_targets (job_id, appeal_id) \
         SELECT $1, id FROM appeals WHERE queue = 'plain' AND enforcement_id IN \
         (SELECT id FROM enforcements WHERE policy = 'spam')",
        [job.into()],
    ))
    .await
    .expect("targets");
    txn.commit().await.expect("commit");

    let chunk_of = "SELECT appeal_id FROM bulk_decision_targets WHERE job_id = $1 AND appeal_id > $2 AND appeal_id <= $3";
    let statements = [
        format!(
            "UPDATE appeals a SET state = 'upheld', assignee = NULL, lease_until = NULL, \
             decision = jsonb_build_object('outcome', 'uphold', 'reasons', replace($4, '{{reference}}', a.reference), \
             'decided_by', 'bench', 'approved_by', NULL, 'statement', $5::jsonb, 'manifestly_unfounded', false), \
             triage_due_at = NULL, decision_due_at = NULL, next_sla_check_at = NULL, \
             version = a.version + 2, updated_at = now() \
             WHERE a.id IN ({chunk_of}) AND a.state = 'triaged'"
        ),
        format!(
            "INSERT INTO appeal_events (appeal_id, version, kind, actor_kind, actor_id, payload, occurred_at) \
             SELECT a.id, a.version - 1, 'decided', 'staff', 'bench', jsonb_build_object( \
               'kind', jsonb_build_object('type', 'decided', 'outcome', 'uphold', 'reasons', a.decision->>'reasons', \
                 'decided_by', 'bench', 'statement', $4::jsonb, 'manifestly_unfounded', false, 'bulk_job', $1::text), \
               'actor', jsonb_build_object('kind', 'staff', 'subject', 'bench', 'roles', jsonb_build_array('senior_reviewer')), \
               'at', now()), now() \
             FROM appeals a WHERE a.id IN ({chunk_of}) \
             UNION ALL \
             SELECT a.id, a.version, 'upheld', 'staff', 'bench', jsonb_build_object( \
               'kind', jsonb_build_object('type', 'upheld'), \
               'actor', jsonb_build_object('kind', 'staff', 'subject', 'bench', 'roles', jsonb_build_array('senior_reviewer')), \
               'at', now()), now() \
             FROM appeals a WHERE a.id IN ({chunk_of})"
        ),
        format!(
            "INSERT INTO outbox (id, topic, appeal_id, idempotency_key, payload, status, attempts, available_at, created_at) \
             SELECT gen_random_uuid(), 'notify_appellant', a.id, a.id::text || ':' || a.version || ':notify_appellant', \
             jsonb_build_object('appeal_id', a.id, 'reference', a.reference, 'version', a.version, 'channel', a.channel, \
               'contact', a.contact, 'event', 'upheld', \
               'effect', jsonb_build_object('effect', 'notify_appellant', 'notice', 'decision_upheld'), \
               'reason', NULL, 'language', NULL), \
             'pending', 0, now(), now() \
             FROM appeals a WHERE a.id IN ({chunk_of}) ON CONFLICT (idempotency_key) DO NOTHING"
        ),
        "UPDATE bulk_decision_targets SET outcome = 'decided' \
         WHERE job_id = $1 AND appeal_id > $2 AND appeal_id <= $3"
            .to_owned(),
    ];
    let mut checkpoint = Uuid::nil();
    let mut decided = 0i64;
    loop {
        let txn = db.begin().await.expect("begin");
        let bounds = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                "SELECT max(appeal_id::text)::uuid AS last, count(*) AS n FROM (SELECT appeal_id FROM bulk_decision_targets \
                 WHERE job_id = $1 AND appeal_id > $2 ORDER BY appeal_id LIMIT $3) AS chunk",
                [job.into(), checkpoint.into(), i64::from(chunk).into()],
            ))
            .await
            .expect("chunk")
            .expect("row");
        let Some(last) = bounds.try_get::<Option<Uuid>>("", "last").expect("last") else {
            txn.commit().await.expect("commit");
            break;
        };
        let n: i64 = bounds.try_get("", "n").expect("n");
        for sql in &statements {
            let mut values: Vec<sea_orm::Value> = vec![job.into(), checkpoint.into(), last.into()];
            if sql.contains("$5") {
                values.push(REASONS.into());
                values.push(statement.clone().into());
            } else if sql.contains("$4") {
                values.push(statement.clone().into());
            }
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                sql.as_str(),
                values,
            ))
            .await
            .expect("chunk statement");
        }
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE bulk_decision_jobs SET checkpoint = $2, processed = processed + $3, decided = decided + $3, \
             updated_at = now() WHERE id = $1",
            [job.into(), last.into(), n.into()],
        ))
        .await
        .expect("job counters");
        txn.commit().await.expect("commit");
        decided += n;
        checkpoint = last;
    }
    (start.elapsed(), decided)
}

fn report(side: &str, n: usize, (took, rows): (Duration, i64)) -> Duration {
    assert_eq!(rows, n as i64, "{side} decided every appeal");
    println!(
        "{side:<12} {:>7.2}s ({:>6.0} decisions/s)",
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
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let chunk: u32 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(DEFAULT_CHUNK_SIZE);
    println!("postgres, {n} appeals per side, chunks of {chunk}");
    let Some(test) = TestDb::postgres().await else {
        panic!("PostgreSQL is unreachable; the bulk-decision benchmark needs it");
    };
    let seeding = Instant::now();
    let seeder = engine(&test.db);
    seed_triaged_appeals(&seeder, 0, n, "plain", 4, |_| Priority::Normal).await;
    seed_triaged_appeals(&seeder, n, n, "engine", 4, |_| Priority::Normal).await;
    test.db
        .execute_unprepared("ANALYZE")
        .await
        .expect("analyze");
    test.db
        .execute_unprepared("CHECKPOINT")
        .await
        .expect("checkpoint");
    println!(
        "seeded {} triaged appeals in {:.1}s",
        2 * n,
        seeding.elapsed().as_secs_f64()
    );

    // The side that runs second would otherwise also pay for writing out the first
    // side's pages; `engine-first` swaps the order.
    let settle = || async {
        test.db
            .execute_unprepared("CHECKPOINT")
            .await
            .expect("checkpoint");
    };
    let (plain, engine) = if args.get(2).is_some_and(|a| a == "engine-first") {
        let engine = report("engine", n, through_engine(&test.db, chunk).await);
        settle().await;
        (
            report("plain SQL", n, plain_sql(&test.db, chunk).await),
            engine,
        )
    } else {
        let plain = report("plain SQL", n, plain_sql(&test.db, chunk).await);
        settle().await;
        (
            plain,
            report("engine", n, through_engine(&test.db, chunk).await),
        )
    };
    println!(
        "engine / plain SQL {:.2}",
        engine.as_secs_f64() / plain.as_secs_f64()
    );
    test.cleanup().await;
}
