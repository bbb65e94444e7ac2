//! What one claim costs with nobody else claiming, on PostgreSQL, next to the round trips
//! it is made of, in one run: a bare `SELECT 1`, an empty transaction, and the claim's
//! locking read in a transaction that rolls back. The API benchmark measures claims under
//! load; this one says how much of a claim is the database conversation itself.
//!
//! `cargo bench -p redress-engine --bench claim_cost -- [APPEALS] [ROUNDS]` (defaults 3000
//! and 300). PostgreSQL is taken from `REDRESS_TEST_POSTGRES_URL`.

use std::sync::Arc;
use std::time::Duration;

use redress_core::{Actor, Priority, Role};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use support::{numeric_args, p50_p99};

mod support;

fn report(name: &str, (p50, p99): (Duration, Duration)) {
    println!("{name:<44} p50 {p50:>10.2?}  p99 {p99:>10.2?}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let numbers = numeric_args();
    let appeals = numbers.first().copied().unwrap_or(3000);
    let rounds = numbers.get(1).copied().unwrap_or(300).clamp(1, appeals);
    let test = TestDb::postgres()
        .await
        .expect("the benchmark needs PostgreSQL");
    let db = test.db.clone();
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    redress_engine::testing::seed_triaged_appeals(&engine, 0, appeals, "general", 8, |_| {
        Priority::Normal
    })
    .await;
    db.execute_unprepared("VACUUM ANALYZE appeals")
        .await
        .expect("vacuum");

    report(
        "SELECT 1",
        p50_p99(rounds, |_| async {
            db.execute_unprepared("SELECT 1").await.expect("select");
        })
        .await,
    );
    report(
        "BEGIN, SELECT 1, COMMIT",
        p50_p99(rounds, |_| async {
            #[allow(
                clippy::disallowed_methods,
                reason = "the bare transaction is what is measured"
            )]
            let txn = db.begin().await.expect("begin");
            txn.execute_raw(Statement::from_string(DbBackend::Postgres, "SELECT 1"))
                .await
                .expect("select");
            txn.commit().await.expect("commit");
        })
        .await,
    );
    report(
        "BEGIN, the claim's locking read, ROLLBACK",
        p50_p99(rounds, |_| async {
            #[allow(
                clippy::disallowed_methods,
                reason = "the bare transaction is what is measured"
            )]
            let txn = db.begin().await.expect("begin");
            redress_engine::queue::next_claimable(&txn, "general", chrono::Utc::now())
                .await
                .expect("read");
            txn.rollback().await.expect("rollback");
        })
        .await,
    );
    let reviewer = Actor::staff("reviewer", [Role::Reviewer]);
    report(
        "claim (Engine::claim_next), one reviewer",
        p50_p99(rounds, |_| async {
            let claimed = engine
                .claim_next("general", &reviewer)
                .await
                .expect("claim");
            assert!(claimed.is_some(), "the queue ran dry");
        })
        .await,
    );
    test.cleanup().await;
}
