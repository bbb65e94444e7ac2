//! What the benchmarks share: the wave of enforcements they seed, the mail appeals they
//! file against it, their arguments and their percentiles. Each benchmark uses a part.
#![allow(dead_code, reason = "each benchmark binary uses only some of these")]

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use redress_core::Channel;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::{automated_deactivation, automated_suspension_statement, TestDb};
use redress_engine::IncomingAppeal;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;

/// The `i`th account of the wave, `acct-0000042`, deactivated by the `spam-v3` model.
pub fn wave_account(i: usize) -> String {
    format!("acct-{i:07}")
}

/// The fully automated spam deactivation of the `i`th account, with its own address.
pub fn wave_enforcement(i: usize) -> NewEnforcement {
    let now = Utc::now();
    NewEnforcement {
        account_email: Some(format!("user{i}@example.org")),
        statement: automated_suspension_statement(now),
        ..automated_deactivation(&wave_account(i), "model", "spam-v3", now)
    }
}

/// Records `n` enforcements, `shape` adjusting each, in one transaction: seeding, not
/// measured.
#[allow(
    clippy::disallowed_methods,
    reason = "seeding, not measured: one transaction for all the rows"
)]
pub async fn seed_wave(
    db: &DatabaseConnection,
    n: usize,
    shape: impl Fn(usize, NewEnforcement) -> NewEnforcement,
) {
    let txn = db.begin().await.expect("begin");
    for i in 0..n {
        registry::record_enforcement(&txn, shape(i, wave_enforcement(i)), Utc::now())
            .await
            .expect("seed enforcement");
    }
    txn.commit().await.expect("commit seed");
}

/// The `i`th account holder's appeal by mail, from their registered address.
pub fn mail_appeal(i: usize, body: String) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<bench-{i}@example.org>")),
        sender: format!("user{i}@example.org"),
        contact: None,
        account_id: Some(wave_account(i)),
        enforcement_id: None,
        identity_verified: true,
        subject: Some("appeal".into()),
        body,
        in_reply_to: None,
        metadata: json!({}),
    }
}

/// The numbers among the command line's arguments, in order (cargo's own flags skipped).
pub fn numeric_args() -> Vec<usize> {
    std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The `p` quantile (0..=1) of durations sorted ascending.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

/// Runs `step` `rounds` times, round number given, and returns the p50 and p99 of its times.
pub async fn p50_p99<F, Fut>(rounds: usize, mut step: F) -> (Duration, Duration)
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut times = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let started = Instant::now();
        step(round).await;
        times.push(started.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// Runs `run` with two fresh SQLite files, then with two fresh PostgreSQL schemas when the
/// server is reachable: a benchmark's two sides each get a database of their own.
pub async fn in_pairs_on_both_backends(run: impl AsyncFn(&'static str, TestDb, TestDb)) {
    run("sqlite", TestDb::sqlite().await, TestDb::sqlite().await).await;
    match (TestDb::postgres().await, TestDb::postgres().await) {
        (Some(a), Some(b)) => run("postgres", a, b).await,
        _ => println!("postgres  skipped: server unreachable"),
    }
}
