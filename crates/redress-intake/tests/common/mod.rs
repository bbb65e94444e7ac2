//! Shared fixtures of the intake tests: the corpus, a running SMTP server on loopback and
//! a raw-socket SMTP client.
#![allow(dead_code)]

pub mod hostile;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::{Engine, EngineSettings, ManualClock, MessageIdSigner};
use redress_intake::email::smtp::SmtpServer;
use redress_intake::email::{EmailIntake, EmailIntakeSettings};
use sea_orm::DatabaseConnection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::watch;
use uuid::Uuid;

pub const TRUSTED_MX: &str = "mx.redress.test";

pub fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

pub fn signer() -> MessageIdSigner {
    MessageIdSigner::new("test signing secret")
}

pub fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .expect("valid date"),
    )
}

pub fn settings() -> EmailIntakeSettings {
    let mut settings = EmailIntakeSettings::new(signer());
    settings.accepted_domains = vec!["redress.test".to_owned()];
    settings.trusted_authserv_ids = vec![TRUSTED_MX.to_owned()];
    settings.own_addresses = vec!["appeals@redress.test".to_owned()];
    settings.max_message_bytes = 256 * 1024;
    settings
}

pub fn intake(db: &DatabaseConnection, clock: &ManualClock) -> EmailIntake {
    intake_with(db, clock, settings())
}

pub fn intake_with(
    db: &DatabaseConnection,
    clock: &ManualClock,
    settings: EmailIntakeSettings,
) -> EmailIntake {
    let engine = Engine::new(
        db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    );
    EmailIntake::new(engine, settings)
}

/// A deactivation of `account` whose registered email is `email`.
pub async fn enforcement(db: &DatabaseConnection, account: &str, email: &str) -> Uuid {
    registry::record_enforcement(
        db,
        NewEnforcement {
            external_id: Some(format!("ext-{account}")),
            account_email: Some(email.to_owned()),
            account_locale: None,
            policy: "adult_content".into(),
            content_id: Some("pin-991".into()),
            content_relation: Some("saved".into()),
            ..redress_engine::testing::automated_deactivation(
                account,
                "model",
                "nudity-v7",
                Utc::now(),
            )
        },
        Utc::now(),
    )
    .await
    .expect("record enforcement")
}

pub async fn appeal_count(db: &DatabaseConnection) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    redress_engine::entity::appeal::Entity::find()
        .count(db)
        .await
        .expect("count appeals")
}

pub async fn appeal_id_by_reference(db: &DatabaseConnection, reference: &str) -> Uuid {
    let reference = reference.parse().expect("a reference");
    redress_engine::repo::appeals::find_by_reference(db, &reference)
        .await
        .expect("appeal by reference")
        .id
}

pub async fn message_by_id(
    db: &DatabaseConnection,
    message_id: &str,
) -> redress_engine::entity::message::Model {
    redress_engine::repo::messages::find_by_channel_id(db, redress_core::Channel::Email, message_id)
        .await
        .expect("query")
        .expect("message stored")
}

/// An SMTP server on a free loopback port, stopped by `stop` or by aborting `task`.
pub struct RunningSmtp {
    pub addr: SocketAddr,
    pub stop: watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn start_smtp(intake: EmailIntake) -> RunningSmtp {
    let server = SmtpServer::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        intake,
        "mx.redress.test",
        None,
    )
    .await
    .expect("bind SMTP");
    let addr = server.local_addr().expect("address");
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(server.run(stopped));
    RunningSmtp { addr, stop, task }
}

impl RunningSmtp {
    pub async fn shutdown(self) {
        self.stop.send_replace(true);
        self.task.await.expect("join").expect("serve");
    }
}

/// A minimal SMTP client over a raw socket, for what a library client would not send.
pub struct RawClient {
    reader: BufReader<TcpStream>,
}

/// One reply: its code and the text of its last line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The text without enhanced status codes.
    pub fn text(&self) -> String {
        self.lines
            .iter()
            .map(|line| strip_status(line))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut client = Self {
            reader: BufReader::new(stream),
        };
        let greeting = client.reply().await.expect("greeting");
        assert_eq!(greeting.code, 220, "{greeting:?}");
        client
    }

    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.reader
            .get_mut()
            .write_all(bytes.as_ref())
            .await
            .expect("write");
    }

    /// Sends one command line and reads its reply.
    pub async fn command(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n")).await;
        self.reply().await.expect("reply")
    }

    /// Reads one (possibly multi-line) reply; `None` when the server closed the connection.
    pub async fn reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read =
                tokio::time::timeout(Duration::from_secs(30), self.reader.read_line(&mut line))
                    .await
                    .expect("reply within 30 s")
                    .ok()?;
            if read == 0 {
                return None;
            }
            let code = line.get(..3)?.parse().ok()?;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line.get(4..).unwrap_or_default().trim_end().to_owned());
            if last {
                return Some(Reply { code, lines });
            }
        }
    }

    /// A whole transaction; returns the reply to the end of DATA.
    pub async fn send_mail(&mut self, from: &str, to: &str, raw: &[u8]) -> Reply {
        assert_eq!(self.command(&format!("MAIL FROM:<{from}>")).await.code, 250);
        assert_eq!(self.command(&format!("RCPT TO:<{to}>")).await.code, 250);
        assert_eq!(self.command("DATA").await.code, 354);
        self.send(dot_stuffed(raw)).await;
        self.reply().await.expect("reply to DATA")
    }
}

/// `line` without a leading enhanced status code such as `2.0.0 `.
pub fn strip_status(line: &str) -> &str {
    match line.split_once(' ') {
        Some((code, rest))
            if code.split('.').count() == 3 && code.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => line,
    }
}

/// The DATA encoding of `raw`: CRLF line ends, leading dots doubled, the final dot line.
pub fn dot_stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 8);
    let text = raw;
    let mut at_line_start = true;
    for (i, &byte) in text.iter().enumerate() {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        if byte == b'\n' && (i == 0 || text[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A plain message from `from` with the given extra header lines.
pub fn message(
    from: &str,
    message_id: &str,
    subject: &str,
    extra_headers: &str,
    body: &str,
) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: appeals@redress.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n{extra_headers}\r\n{body}\r\n"
    )
    .into_bytes()
}
