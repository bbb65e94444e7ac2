//! DM intake throughput: first messages of N unknown senders through
//! `Engine::receive_direct_message` (duplicate check, the sender's open case, linked handle,
//! then the case with an identity prompt, and on PostgreSQL a per-sender advisory lock),
//! next to the same messages through the channel-agnostic `Engine::file`, in one run; then
//! one follow-up per sender, which joins the open case.
//!
//! `cargo bench -p redress-engine --bench direct_messages -- [N]` (default N = 2000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use redress_core::{Actor, Channel};
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, Filing, IncomingAppeal, SystemClock};
use serde_json::json;
use support::{in_pairs_on_both_backends, numeric_args};

mod support;

fn dm(sender: usize, message: usize) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(format!("{sender}-{message}")),
        sender: format!("x-{sender}"),
        contact: Some(format!("x-{sender}")),
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: "My account was suspended for a pin I only saved.".into(),
        in_reply_to: None,
        metadata: json!({"platform": "x"}),
    }
}

fn engine(test: &TestDb) -> Engine {
    Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    )
}

fn confirmation() -> ConfirmationSettings {
    ConfirmationSettings {
        url: "https://appeals.example/social/confirm".into(),
        valid_for: TimeDelta::hours(24),
    }
}

async fn first_messages(engine: &Engine, n: usize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let receipt = engine
            .receive_direct_message(dm(i, 1), &confirmation())
            .await
            .expect("receive");
        assert!(matches!(receipt.filing, Filing::Created(_)));
    }
    start.elapsed()
}

async fn follow_ups(engine: &Engine, n: usize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let receipt = engine
            .receive_direct_message(dm(i, 2), &confirmation())
            .await
            .expect("receive");
        assert!(matches!(receipt.filing, Filing::Appended(_)));
    }
    start.elapsed()
}

async fn generic_filing(engine: &Engine, n: usize) -> Duration {
    let actor = Actor::system("bench");
    let start = Instant::now();
    for i in 0..n {
        engine.file(&actor, dm(i, 1)).await.expect("file");
    }
    start.elapsed()
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

async fn run(name: &str, n: usize, dm_db: TestDb, file_db: TestDb) {
    let baseline = generic_filing(&engine(&file_db), n).await;
    let dm_engine = engine(&dm_db);
    let first = first_messages(&dm_engine, n).await;
    let follow = follow_ups(&dm_engine, n).await;
    let (f, b, a) = (rate(n, first), rate(n, baseline), rate(n, follow));
    println!(
        "{name:<9} senders={n:<6} first_dm={f:>7.0}/s  follow_up={a:>7.0}/s  file={b:>7.0}/s  first_dm/file={:.2}",
        f / b
    );
    dm_db.cleanup().await;
    file_db.cleanup().await;
}

#[tokio::main]
async fn main() {
    let n = numeric_args().first().copied().unwrap_or(2000);
    in_pairs_on_both_backends(async |name, a, b| run(name, n, a, b).await).await;
}
