//! API benchmark, on PostgreSQL (`REDRESS_TEST_POSTGRES_URL`, default the local test server):
//!
//! 1. claim-next latency: 32 concurrent reviewers claiming from a queue of 100,000 triaged
//!    appeals (p50/p99 per claim, through the engine and the database), each claiming at a
//!    set pace (one claim a second, then faster), then back to back to find capacity;
//! 2. throughput of a trivial authenticated query (`{ __typename }`) through the whole
//!    Redress router, next to an async-graphql hello-world router, in the same run.
//!
//! `cargo bench -p redress --bench graphql_api` (`REDRESS_BENCH_APPEALS` to change 100,000).

use std::time::{Duration, Instant};

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use redress::config::Config;
use redress_core::{Actor, Priority, Role};
use redress_engine::testing::TestDb;
use redress_engine::Engine;
use serde_json::json;

const REVIEWERS: usize = 32;
/// How often each reviewer claims, slowest first. A person takes minutes over a case; one
/// claim a second each is already far beyond a real team, and the faster paces find where
/// the two cores saturate.
const PACED_INTERVALS_MS: [u64; 4] = [1000, 250, 100, 50];
const PACED_RUN: Duration = Duration::from_secs(15);
const CLOSED_LOOP_RUN: Duration = Duration::from_secs(5);
const QUERY_CLIENTS: usize = 16;
const QUERIES: usize = 20_000;
const SEED_CHUNK: usize = 5_000;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let appeals: usize = std::env::var("REDRESS_BENCH_APPEALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let test = TestDb::postgres_with_pool(48)
        .await
        .expect("the benchmark needs PostgreSQL");
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.database.max_connections = 48;
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("benchmark-secret-long-enough-for-hs256".to_owned());
    let app = redress::app::start(config.clone()).await.expect("start");
    let engine = app.state.engine.clone();

    let seeded = Instant::now();
    seed(&engine, appeals).await;
    println!(
        "seeded {appeals} triaged appeals in {:.1?}",
        seeded.elapsed()
    );
    // A queue in service has been vacuumed and analysed by autovacuum; a freshly seeded one
    // carries the dead versions of 200,000 updates, and a claim run during autovacuum's
    // catch-up measures that instead.
    sea_orm::ConnectionTrait::execute_unprepared(engine.db(), "VACUUM ANALYZE appeals")
        .await
        .expect("vacuum");
    settle(&engine).await;

    for interval_ms in PACED_INTERVALS_MS {
        let pace = Pace(Some(Duration::from_millis(interval_ms)));
        claim_latency(&engine, pace, PACED_RUN).await;
    }
    claim_latency(&engine, Pace(None), CLOSED_LOOP_RUN).await;
    query_throughput(&app, &config).await;

    app.stop().await.expect("stop");
    test.cleanup().await;
}

/// Lets the service come to rest after the seeding burst, as a queue built up over days
/// would be: the app's dispatcher delivers the seed's acknowledgements, and the database
/// writes the seed's pages out, before claims are timed.
async fn settle(engine: &Engine) {
    use sea_orm::ConnectionTrait;
    let settling = Instant::now();
    loop {
        let pending = engine
            .db()
            .query_one_raw(sea_orm::Statement::from_string(
                engine.db().get_database_backend(),
                "SELECT count(*) AS n FROM outbox WHERE status = 'pending'",
            ))
            .await
            .expect("outbox backlog")
            .expect("a count")
            .try_get::<i64>("", "n")
            .expect("the count");
        if pending == 0 {
            break;
        }
        assert!(
            settling.elapsed() < Duration::from_secs(1800),
            "the outbox did not drain: {pending} items pending"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let drained = settling.elapsed();
    engine
        .db()
        .execute_unprepared("CHECKPOINT")
        .await
        .expect("checkpoint");
    println!(
        "outbox drained {:.1?} after seeding; pages written out after {:.1?}",
        drained,
        settling.elapsed()
    );
}

async fn seed(engine: &Engine, appeals: usize) {
    for start in (0..appeals).step_by(SEED_CHUNK) {
        let count = SEED_CHUNK.min(appeals - start);
        redress_engine::testing::seed_triaged_appeals(engine, start, count, "general", 16, |n| {
            if n % 10 == 0 {
                Priority::High
            } else {
                Priority::Normal
            }
        })
        .await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// How often each reviewer asks for a case: every `Some(interval)`, or at once again when
/// the last claim returned (`None`, the closed loop that measures capacity).
#[derive(Clone, Copy)]
struct Pace(Option<Duration>);

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(interval) => write!(
                f,
                "every {:>4} ms ({:>4.0} claims/s offered)",
                interval.as_millis(),
                REVIEWERS as f64 / interval.as_secs_f64()
            ),
            None => write!(f, "back to back (closed loop)          "),
        }
    }
}

/// Claims for `duration` at `pace` and prints the latency distribution. A paced claim's
/// latency runs from when it was due, not from when it was sent, so a claim held up by a
/// slow one before it counts its wait (no coordinated omission); that figure also counts
/// the timer waking the reviewer up to a millisecond late, so the time from sending is
/// printed beside it.
async fn claim_latency(engine: &Engine, pace: Pace, duration: Duration) {
    let started = tokio::time::Instant::now();
    let reviewers: Vec<_> = (0..REVIEWERS)
        .map(|n| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let actor = Actor::staff(format!("reviewer-{n}"), [Role::Reviewer]);
                let mut latencies = Vec::new();
                // Reviewers start spread over one interval, as people do.
                let mut due = started
                    + pace
                        .0
                        .map_or(Duration::ZERO, |i| i.mul_f64(n as f64 / REVIEWERS as f64));
                while due.duration_since(started) < duration {
                    tokio::time::sleep_until(due).await;
                    let sent = tokio::time::Instant::now();
                    let from = if pace.0.is_some() { due } else { sent };
                    let claimed = engine.claim_next("general", &actor).await.expect("claim");
                    latencies.push((from.elapsed(), sent.elapsed()));
                    assert!(claimed.is_some(), "the queue ran dry");
                    due = match pace.0 {
                        Some(interval) => due + interval,
                        None => tokio::time::Instant::now(),
                    };
                }
                latencies
            })
        })
        .collect();
    let (mut all, mut service): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for reviewer in reviewers {
        for (from_due, from_sent) in reviewer.await.expect("reviewer") {
            all.push(from_due);
            service.push(from_sent);
        }
    }
    let elapsed = started.elapsed();
    all.sort();
    service.sort();
    println!(
        "claim-next, {REVIEWERS} reviewers, {pace}: {:>5} claims, p50 {:>9.2?}, p99 {:>9.2?}, max {:>9.2?}, {:>4.0} claims/s (from sending: p50 {:.2?}, p99 {:.2?})",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all[all.len() - 1],
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&service, 0.50),
        percentile(&service, 0.99),
    );
}

struct Hello;

#[Object]
impl Hello {
    async fn hello(&self) -> &str {
        "world"
    }
}

async fn hello_world_router() -> std::net::SocketAddr {
    let schema = Schema::new(Hello, EmptyMutation, EmptySubscription);
    let router = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

async fn throughput(url: String, token: Option<String>, query: &'static str) -> f64 {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let clients: Vec<_> = (0..QUERY_CLIENTS)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                for _ in 0..QUERIES / QUERY_CLIENTS {
                    let mut request = client.post(&url).json(&json!({ "query": query }));
                    if let Some(token) = &token {
                        request = request.bearer_auth(token);
                    }
                    let response = request.send().await.expect("send");
                    assert!(response.status().is_success());
                    let _ = response.bytes().await.expect("body");
                }
            })
        })
        .collect();
    for client in clients {
        client.await.expect("client");
    }
    QUERIES as f64 / started.elapsed().as_secs_f64()
}

async fn query_throughput(app: &redress::app::RunningApp, config: &Config) {
    let token = redress_graphql::auth::mint_dev_token(
        &config.graphql.auth,
        "bench",
        &[Role::Reviewer],
        chrono::Utc::now(),
        chrono::TimeDelta::hours(1),
    )
    .expect("token");
    let hello = hello_world_router().await;
    // Warm both up so connection set-up is not measured.
    throughput(format!("http://{hello}/graphql"), None, "{ hello }").await;
    let baseline = throughput(format!("http://{hello}/graphql"), None, "{ hello }").await;
    let redress = throughput(
        format!("http://{}/graphql", app.http_addr),
        Some(token),
        "{ __typename }",
    )
    .await;
    println!(
        "trivial query, {QUERY_CLIENTS} clients, {QUERIES} requests: redress {redress:.0} req/s (bearer JWT verified), async-graphql hello world {baseline:.0} req/s ({:.0}%)",
        100.0 * redress / baseline
    );
}
