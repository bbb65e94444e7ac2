//! The workers inside `redress serve`, alone as `redress worker`, and the dead-letter
//! commands.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use redress::config::Config;
use redress_core::{Actor, Channel};
use redress_engine::delivery::DelivererRegistry;
use redress_engine::repo::outbox::{self, OutboxItem};
use redress_engine::testing::TestDb;
use redress_engine::worker::{Backoff, DispatchSettings, Dispatcher};
use redress_engine::{IncomingAppeal, ManualClock};
use tokio::sync::watch;

fn config_for(test: &TestDb) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    config.email.outgoing_dir =
        std::env::temp_dir().join(format!("redress-test-mail-{}", uuid::Uuid::now_v7()));
    config.workers.sla_interval_seconds = 1;
    config.workers.outbox_poll_millis = 100;
    config
}

fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("valid date"),
    )
}

fn appeal_by_mail(n: usize) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<w{n}@example.org>")),
        sender: "person@example.org".into(),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some("Banned by mistake".into()),
        body: "Please look again.".into(),
        in_reply_to: None,
        metadata: serde_json::json!({}),
    }
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

redress_engine::backend_tests! {
    async fn serve_runs_the_sla_timer_in_the_background(test) {
        let clock = clock();
        let app = redress::app::start_with_clock(config_for(&test), Arc::new(clock.clone())).await.expect("start");
        let engine = app.state.engine.clone();
        let id = engine.file(&Actor::appellant("person@example.org"), appeal_by_mail(1)).await
            .expect("file").appeal_id().expect("id");
        clock.advance(TimeDelta::hours(5));
        eventually("the escalation", || {
            let engine = engine.clone();
            async move {
                engine.history(id).await.expect("history").iter().any(|(_, e)| e.kind.name() == "escalated")
            }
        }).await;
        app.stop().await.expect("stop");
        assert_eq!(engine.appeal(id).await.expect("appeal").appeal.queue, "senior");
        test.cleanup().await;
    }

    async fn metrics_are_read_from_the_database_so_replicas_agree(test) {
        let clock = clock();
        let mut config = config_for(&test);
        config.workers.enabled = false;
        let first = redress::app::start_with_clock(config.clone(), Arc::new(clock.clone())).await.expect("start");
        let second = redress::app::start_with_clock(config, Arc::new(clock.clone())).await.expect("start replica");
        let engine = first.state.engine.clone();
        for n in 0..2 {
            engine.file(&Actor::appellant("person@example.org"), appeal_by_mail(n)).await.expect("file");
        }
        clock.advance(TimeDelta::hours(5));
        let report = redress_engine::worker::sla::tick(&engine, 10).await.expect("tick");
        assert_eq!(report.count("escalate"), 2);
        let scrape = |addr: std::net::SocketAddr| async move {
            let response = reqwest::get(format!("http://{addr}/metrics")).await.expect("metrics");
            assert_eq!(response.status(), 200);
            response.text().await.expect("body")
        };
        let text = scrape(first.http_addr).await;
        for line in [
            "redress_appeals{queue=\"senior\",state=\"filed\"} 2",
            "redress_appeals_filed_total{channel=\"email\"} 2",
            "redress_messages_received_total{channel=\"email\"} 2",
            "redress_sla_breaches_total 2",
            "redress_sla_warnings_total 0",
            "redress_appeals_overdue{deadline=\"triage\"} 2",
            // Two acknowledgements, two escalation alerts, two `appeal.filed` platform events.
            "redress_outbox_items{status=\"pending\"} 6",
            "redress_outbox_items{status=\"dead\"} 0",
            "redress_outbox_failing 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        let sorted = |text: &str| {
            let mut lines: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
            lines.sort();
            lines
        };
        assert_eq!(sorted(&scrape(second.http_addr).await), sorted(&text), "a second replica reports the same");
        first.stop().await.expect("stop");
        second.stop().await.expect("stop");
        test.cleanup().await;
    }

    async fn disabled_workers_leave_time_to_the_test(test) {
        let clock = clock();
        let mut config = config_for(&test);
        config.workers.enabled = false;
        let app = redress::app::start_with_clock(config, Arc::new(clock.clone())).await.expect("start");
        let engine = app.state.engine.clone();
        let id = engine.file(&Actor::appellant("person@example.org"), appeal_by_mail(1)).await
            .expect("file").appeal_id().expect("id");
        clock.advance(TimeDelta::hours(5));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(engine.history(id).await.expect("history").len(), 1, "nothing ran by itself");
        app.stop().await.expect("stop");
        test.cleanup().await;
    }
}

#[test]
fn invalid_worker_settings_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("worker")
        .current_dir(dir.path())
        .env("REDRESS_WORKERS__MAX_ATTEMPTS", "0")
        .output()
        .expect("run redress worker");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("workers.max_attempts must be positive")
    );
}

/// `redress worker` finishes its rounds and exits 0 on SIGTERM.
#[cfg(unix)]
#[test]
fn the_worker_alone_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("worker.sqlite");
    let mut child = Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("worker")
        .current_dir(dir.path())
        .env(
            "REDRESS_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", db_path.display()),
        )
        .env("REDRESS_LOG__FORMAT", "json")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start redress worker");
    let stderr = child.stderr.take().expect("stderr");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen
        .iter()
        .any(|l: &String| l.contains("redress worker is running"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(err) => panic!("worker did not start ({err}): {seen:#?}"),
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "worker did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    seen.extend(lines_rx.try_iter());
    assert!(exit.success(), "exit {exit:?}: {seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("shutting down")),
        "{seen:#?}"
    );
}

/// A dead letter made by a real dispatcher is listed by the CLI and retried once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_retried_from_the_command_line() {
    let test = TestDb::sqlite().await;
    let clock = clock();
    outbox::enqueue(
        &test.db,
        vec![OutboxItem {
            topic: "notify_appellant".into(),
            appeal_id: None,
            idempotency_key: "cli-1".into(),
            payload: serde_json::json!({ "channel": "email" }),
        }],
        clock.now_plus(TimeDelta::zero()),
    )
    .await
    .expect("enqueue");
    let dispatcher = Dispatcher::new(
        test.db.clone(),
        Arc::new(clock.clone()),
        Arc::new(DelivererRegistry::new()),
        DispatchSettings {
            backoff: Backoff {
                max_attempts: 1,
                ..Backoff::default()
            },
            ..DispatchSettings::default()
        },
    );
    let (_stop, stop) = watch::channel(false);
    let report = dispatcher.run_once(&stop).await.expect("round");
    assert_eq!(report.dead_lettered, 1);
    test.db.clone().close().await.expect("close");

    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_redress"))
            .args(args)
            .env("REDRESS_DATABASE__URL", &test.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run redress")
    };
    let listed = cli(&["dead-letters", "list"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let stdout = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["idempotency_key"], "cli-1");
    assert_eq!(
        lines[0]["last_error"],
        "no deliverer registered for topic notify_appellant"
    );
    let id = lines[0]["id"].as_str().expect("id").to_owned();

    let retried = cli(&["dead-letters", "retry", &id]);
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let again = cli(&["dead-letters", "retry", &id]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not a dead letter"));
    let empty = cli(&["dead-letters", "list"]);
    assert!(String::from_utf8_lossy(&empty.stdout).trim().is_empty());
    test.cleanup().await;
}
