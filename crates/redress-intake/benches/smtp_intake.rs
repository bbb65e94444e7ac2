//! Committed messages per second through the SMTP listener on loopback, next to the same
//! messages handed straight to the intake pipeline (no SMTP) in a second database of the
//! same backend, on SQLite and PostgreSQL, in one run.
//!
//! `cargo bench -p redress-intake --bench smtp_intake -- [N] [CONNECTIONS]` (defaults 2000
//! and 8). A message counts only once its 250 arrived, which is after its commit.
//! PostgreSQL is taken from `REDRESS_TEST_POSTGRES_URL` and skipped when unreachable.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, MessageIdSigner, SystemClock};
use redress_intake::email::smtp::SmtpServer;
use redress_intake::email::{Delivered, EmailIntake, EmailIntakeSettings, Envelope};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;

fn message(i: usize) -> Vec<u8> {
    format!(
        "From: Person {i} <user{i}@example.org>\r\nTo: appeals@redress.test\r\nSubject: My account was deactivated\r\nMessage-ID: <bench-{i}@mail.example.org>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        "I only saved a pin of a painting; please restore my account. ".repeat(16)
    )
    .into_bytes()
}

fn intake(db: &DatabaseConnection) -> EmailIntake {
    let engine = Engine::new(db.clone(), EngineSettings::default(), Arc::new(SystemClock));
    let mut settings = EmailIntakeSettings::new(MessageIdSigner::new("bench"));
    settings.accepted_domains = vec!["redress.test".to_owned()];
    EmailIntake::new(engine, settings)
}

async fn appeals(db: &DatabaseConnection) -> u64 {
    redress_engine::entity::appeal::Entity::find()
        .count(db)
        .await
        .expect("count")
}

async fn expect_code(reader: &mut BufReader<TcpStream>, code: &str) {
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("read reply");
        assert!(line.starts_with(code), "expected {code}, got {line:?}");
        if line.as_bytes().get(3) != Some(&b'-') {
            return;
        }
    }
}

/// One SMTP connection sending messages `ids`, each waiting for its 250.
async fn client(addr: SocketAddr, ids: Vec<usize>) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream);
    expect_code(&mut reader, "220").await;
    reader
        .get_mut()
        .write_all(b"EHLO bench\r\n")
        .await
        .expect("write");
    expect_code(&mut reader, "250").await;
    for i in ids {
        let mut data = format!("MAIL FROM:<user{i}@example.org>\r\n").into_bytes();
        reader.get_mut().write_all(&data).await.expect("write");
        expect_code(&mut reader, "250").await;
        reader
            .get_mut()
            .write_all(b"RCPT TO:<appeals@redress.test>\r\n")
            .await
            .expect("write");
        expect_code(&mut reader, "250").await;
        reader
            .get_mut()
            .write_all(b"DATA\r\n")
            .await
            .expect("write");
        expect_code(&mut reader, "354").await;
        data = message(i);
        data.extend_from_slice(b".\r\n");
        reader.get_mut().write_all(&data).await.expect("write");
        expect_code(&mut reader, "250").await;
    }
    reader
        .get_mut()
        .write_all(b"QUIT\r\n")
        .await
        .expect("write");
}

fn split(n: usize, connections: usize) -> Vec<Vec<usize>> {
    (0..connections)
        .map(|c| (0..n).filter(|i| i % connections == c).collect())
        .collect()
}

async fn through_smtp(db: &DatabaseConnection, n: usize, connections: usize) -> Duration {
    let server = SmtpServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        intake(db),
        "bench",
        None,
    )
    .await
    .expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = watch::channel(false);
    let serving = tokio::spawn(server.run(stopped));
    let start = Instant::now();
    let clients: Vec<_> = split(n, connections)
        .into_iter()
        .map(|ids| tokio::spawn(client(addr, ids)))
        .collect();
    for c in clients {
        c.await.expect("client");
    }
    let took = start.elapsed();
    stop.send_replace(true);
    serving.await.expect("join").expect("serve");
    took
}

async fn direct(db: &DatabaseConnection, n: usize, connections: usize) -> Duration {
    let intake = intake(db);
    let start = Instant::now();
    let workers: Vec<_> = split(n, connections)
        .into_iter()
        .map(|ids| {
            let intake = intake.clone();
            tokio::spawn(async move {
                for i in ids {
                    let envelope = Envelope {
                        mail_from: Some(format!("user{i}@example.org")),
                        rcpt_to: vec!["appeals@redress.test".to_owned()],
                    };
                    let delivered = intake
                        .receive(&message(i), &envelope)
                        .await
                        .expect("receive");
                    assert!(matches!(delivered, Delivered::Filed { .. }));
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    start.elapsed()
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

async fn run(name: &str, n: usize, connections: usize, smtp_db: TestDb, direct_db: TestDb) {
    let smtp = through_smtp(&smtp_db.db, n, connections).await;
    let plain = direct(&direct_db.db, n, connections).await;
    assert_eq!(
        appeals(&smtp_db.db).await,
        n as u64,
        "every 250 is a committed appeal"
    );
    assert_eq!(appeals(&direct_db.db).await, n as u64);
    let (s, d) = (rate(n, smtp), rate(n, plain));
    println!(
        "{name:<9} messages={n:<6} connections={connections:<3} smtp={s:>7.0}/s  direct={d:>7.0}/s  smtp/direct={:.2}",
        s / d
    );
    smtp_db.cleanup().await;
    direct_db.cleanup().await;
}

#[tokio::main]
async fn main() {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = numbers.first().copied().unwrap_or(2000);
    let connections = numbers.get(1).copied().unwrap_or(8).max(1);
    run(
        "sqlite",
        n,
        connections,
        TestDb::sqlite().await,
        TestDb::sqlite().await,
    )
    .await;
    match (TestDb::postgres().await, TestDb::postgres().await) {
        (Some(a), Some(b)) => run("postgres", n, connections, a, b).await,
        _ => println!("postgres  skipped: server unreachable"),
    }
}
