//! Enforcement ingestion benchmark, on PostgreSQL (`REDRESS_TEST_POSTGRES_URL`, default the
//! local test server): `REDRESS_BENCH_ENFORCEMENTS` (default 1,000,000) enforcements, each
//! with its statement of reasons, spread over a tenth as many accounts,
//!
//! 1. written by plain multi-row SQL (`INSERT ... VALUES` of 1,000 rows with bind
//!    parameters, accounts then enforcements) into a fresh schema: the baseline;
//! 2. streamed as NDJSON over one HTTP/1.1 connection (chunked) to
//!    `POST /platform/enforcements` of a running Redress on another fresh schema, the
//!    lines generated while they are sent, as a platform would;
//!
//! and prints both rates, their ratio and the process's peak resident memory (`VmHWM`,
//! server and client in this one process).
//!
//! `cargo bench -p redress --bench enforcement_stream`

use std::time::Instant;

use chrono::{TimeZone, Utc};
use redress::config::Config;
use redress_core::Role;
use redress_engine::testing::TestDb;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LINES_PER_WRITE: usize = 1000;
const BASELINE_ROWS: usize = 1000;

fn enforced_at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
        .single()
        .expect("time")
}

fn account_of(n: usize, total: usize) -> String {
    format!("acct-{:07}", n % (total / 10).max(1))
}

fn line(n: usize, total: usize, statement: &serde_json::Value) -> String {
    json!({
        "external_id": format!("wave-{n:07}"),
        "account_id": account_of(n, total),
        "account_email": format!("person{}@example.test", n % (total / 10).max(1)),
        "kind": "account_deactivation",
        "policy": "spam",
        "source_kind": "model",
        "source_id": "classifier-v7",
        "batch_id": "wave-1",
        "automated_detection": "fully",
        "automated_decision": "fully",
        "content_id": format!("pin-{n}"),
        "content_relation": "saved",
        "facts": "saved a pin flagged as spam",
        "statement": statement,
        "enforced_at": "2026-11-24T10:00:00Z",
    })
    .to_string()
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Plain multi-row SQL: accounts, then enforcements, 1,000 rows a statement.
async fn baseline(total: usize, statement: &serde_json::Value) -> f64 {
    let test = TestDb::postgres_with_pool(4)
        .await
        .expect("the benchmark needs PostgreSQL");
    let db = &test.db;
    let now = Utc::now();
    let started = Instant::now();
    let accounts = (total / 10).max(1);
    for first in (0..accounts).step_by(BASELINE_ROWS) {
        let rows: Vec<usize> = (first..(first + BASELINE_ROWS).min(accounts)).collect();
        let mut values = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        for (i, n) in rows.iter().enumerate() {
            let p = i * 4;
            values.push(format!(
                "(${}, ${}, 'deactivated', ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4
            ));
            params.push(format!("acct-{n:07}").into());
            params.push(format!("person{n}@example.test").into());
            params.push(now.into());
            params.push(now.into());
        }
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO accounts (id, email, status, created_at, updated_at) VALUES {} ON CONFLICT (id) DO NOTHING",
                values.join(", ")
            ),
            params,
        ))
        .await
        .expect("accounts");
    }
    const COLUMNS: usize = 16;
    for first in (0..total).step_by(BASELINE_ROWS) {
        let mut values = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        for (i, n) in (first..(first + BASELINE_ROWS).min(total)).enumerate() {
            let p = i * COLUMNS;
            values.push(format!(
                "({})",
                (1..=COLUMNS)
                    .map(|c| format!("${}", p + c))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            params.push(uuid::Uuid::now_v7().into());
            params.push(format!("wave-{n:07}").into());
            params.push(account_of(n, total).into());
            params.push("account_deactivation".into());
            params.push("spam".into());
            params.push("model".into());
            params.push("classifier-v7".into());
            params.push("wave-1".into());
            params.push("fully".into());
            params.push("fully".into());
            params.push(format!("pin-{n}").into());
            params.push("saved".into());
            params.push("saved a pin flagged as spam".into());
            params.push(statement.clone().into());
            params.push(enforced_at().into());
            params.push(now.into());
        }
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO enforcements (id, external_id, account_id, kind, policy, source_kind, source_id, batch_id, automated_detection, automated_decision, content_id, content_relation, facts, statement, enforced_at, created_at) VALUES {}",
                values.join(", ")
            ),
            params,
        ))
        .await
        .expect("enforcements");
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    test.cleanup().await;
    rate
}

/// NDJSON through the service, one chunked request.
async fn stream(total: usize, statement: &serde_json::Value) -> (f64, String) {
    let test = TestDb::postgres_with_pool(8)
        .await
        .expect("the benchmark needs PostgreSQL");
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.database.max_connections = 8;
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_enabled = false;
    config.workers.enabled = false;
    config.graphql.auth.hs256_secret = Some("benchmark-secret-long-enough-for-hs256".to_owned());
    let app = redress::app::start(config.clone()).await.expect("start");
    let token = redress_graphql::auth::mint_dev_token(
        &config.graphql.auth,
        "platform",
        &[Role::Integration],
        Utc::now(),
        chrono::TimeDelta::hours(2),
    )
    .expect("token");
    let started = Instant::now();
    let mut socket = tokio::net::TcpStream::connect(app.http_addr)
        .await
        .expect("connect");
    socket
        .write_all(
            format!(
                "POST /platform/enforcements HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("headers");
    for first in (0..total).step_by(LINES_PER_WRITE) {
        let mut block = String::new();
        for n in first..(first + LINES_PER_WRITE).min(total) {
            block.push_str(&line(n, total, statement));
            block.push('\n');
        }
        socket
            .write_all(format!("{:x}\r\n{block}\r\n", block.len()).as_bytes())
            .await
            .expect("chunk");
    }
    socket.write_all(b"0\r\n\r\n").await.expect("end");
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.expect("answer");
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let summary = answer
        .rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned();
    app.stop().await.expect("stop");
    test.cleanup().await;
    (rate, summary)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let total: usize = std::env::var("REDRESS_BENCH_ENFORCEMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let statement = redress_engine::testing::automated_suspension_statement(enforced_at());
    let line_bytes = line(0, total, &statement).len();
    println!("{total} enforcements, {line_bytes} bytes a line");
    let plain = baseline(total, &statement).await;
    println!(
        "plain multi-row SQL: {plain:.0} enforcements/s ({:.1} s)",
        total as f64 / plain
    );
    let (streamed, summary) = stream(total, &statement).await;
    println!(
        "NDJSON stream: {streamed:.0} enforcements/s ({:.1} s), {:.0}% of plain SQL",
        total as f64 / streamed,
        100.0 * streamed / plain
    );
    println!("answer: {}", summary.chars().take(300).collect::<String>());
    println!(
        "peak resident memory of the process: {:.0} MiB",
        peak_rss_mib()
    );
}
