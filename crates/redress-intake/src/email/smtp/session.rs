//! One SMTP conversation, generic over its stream so that it runs the same on plain TCP,
//! after STARTTLS, and in tests. Commands are parsed by smtp-proto; replies are batched
//! per read, which makes pipelining work, and flushed before a message is stored.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use smtp_proto::request::receiver::{DataReceiver, DummyDataReceiver, RequestReceiver};
use smtp_proto::{
    EhloResponse, Error as ProtoError, Request, EXT_8BIT_MIME, EXT_ENHANCED_STATUS_CODES,
    EXT_PIPELINING, EXT_SIZE, EXT_SMTP_UTF8, EXT_START_TLS,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::reply::{self, write};
use crate::email::pipeline::{EmailIntake, Envelope};

const MAX_RECIPIENTS: usize = 100;
const MAX_ERRORS: usize = 10;
/// RFC 5321 section 4.5.3.2: a server should wait at least five minutes for a command.
const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What the session needs from its server.
#[derive(Clone)]
pub struct SessionContext {
    pub intake: EmailIntake,
    pub hostname: Arc<str>,
    pub tls_available: bool,
    pub shutdown: watch::Receiver<bool>,
}

impl fmt::Debug for SessionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionContext")
            .field("hostname", &self.hostname)
            .field("tls_available", &self.tls_available)
            .finish_non_exhaustive()
    }
}

/// How a session ended.
#[derive(Debug)]
pub enum Ended<S> {
    Closed,
    /// The client asked for STARTTLS and was told to go ahead: the caller wraps the stream
    /// and runs a new session on it.
    StartTls(S),
}

enum Phase {
    Command(RequestReceiver),
    Data(DataReceiver),
    /// The message grew past the limit: the rest is read and dropped, then refused.
    Discard(DummyDataReceiver),
}

#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    data: Vec<u8>,
}

/// Runs one conversation. `greet` is false after STARTTLS (the greeting was sent already).
pub async fn run<S>(
    mut stream: S,
    ctx: &mut SessionContext,
    greet: bool,
    tls_active: bool,
) -> std::io::Result<Ended<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let intake = ctx.intake.clone();
    let limit = intake.settings().max_message_bytes;
    let mut out = Vec::with_capacity(512);
    if greet {
        write(
            &mut out,
            220,
            [2, 0, 0],
            format_args!("{} Redress appeals ESMTP", ctx.hostname),
        );
        stream.write_all(&out).await?;
        out.clear();
    }
    let mut phase = Phase::Command(RequestReceiver::default());
    let mut helo: Option<String> = None;
    let mut tx = Transaction::default();
    let mut errors = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut buf)) => {
                let Ok(read) = read else {
                    write(&mut out, 421, [4, 4, 2], "idle for too long, closing");
                    stream.write_all(&out).await?;
                    return Ok(Ended::Closed);
                };
                read?
            }
            () = stopped(&mut ctx.shutdown) => {
                write(&mut out, 421, [4, 3, 2], "service shutting down, try again later");
                stream.write_all(&out).await?;
                return Ok(Ended::Closed);
            }
        };
        if read == 0 {
            return Ok(Ended::Closed);
        }
        let mut bytes = buf[..read].iter();
        loop {
            match &mut phase {
                Phase::Data(receiver) => {
                    if receiver.ingest(&mut bytes, &mut tx.data) {
                        stream.write_all(&out).await?;
                        out.clear();
                        let envelope = Envelope {
                            mail_from: tx.mail_from.take(),
                            rcpt_to: std::mem::take(&mut tx.rcpt_to),
                        };
                        let result = intake.receive(&tx.data, &envelope).await;
                        if let Err(err) = &result {
                            tracing::warn!(error = %err, "message not accepted");
                        }
                        reply::for_delivery(&mut out, &result);
                        tx = Transaction::default();
                        phase = Phase::Command(RequestReceiver::default());
                    } else if tx.data.len() > limit {
                        let receiver = DummyDataReceiver::new_data(receiver);
                        tx = Transaction::default();
                        phase = Phase::Discard(receiver);
                    } else {
                        break;
                    }
                }
                Phase::Discard(receiver) => {
                    if receiver.ingest(&mut bytes) {
                        write(
                            &mut out,
                            552,
                            [5, 3, 4],
                            format_args!("message exceeds the limit of {limit} bytes"),
                        );
                        phase = Phase::Command(RequestReceiver::default());
                    } else {
                        break;
                    }
                }
                Phase::Command(receiver) => {
                    let request = match receiver.ingest(&mut bytes) {
                        Ok(request) => request.into_owned(),
                        Err(ProtoError::NeedsMoreData { .. }) => break,
                        Err(err) => {
                            errors += 1;
                            syntax_error(&mut out, &err);
                            if errors >= MAX_ERRORS {
                                write(&mut out, 421, [4, 7, 0], "too many errors, closing");
                                stream.write_all(&out).await?;
                                return Ok(Ended::Closed);
                            }
                            continue;
                        }
                    };
                    match request {
                        Request::Ehlo { host } => {
                            tx = Transaction::default();
                            helo = Some(host);
                            let mut ehlo = EhloResponse::new(ctx.hostname.as_ref());
                            ehlo.capabilities = EXT_PIPELINING
                                | EXT_8BIT_MIME
                                | EXT_ENHANCED_STATUS_CODES
                                | EXT_SMTP_UTF8
                                | EXT_SIZE;
                            if ctx.tls_available && !tls_active {
                                ehlo.capabilities |= EXT_START_TLS;
                            }
                            ehlo.size = limit;
                            let _ = ehlo.write(&mut out);
                        }
                        Request::Helo { host } | Request::Lhlo { host } => {
                            tx = Transaction::default();
                            helo = Some(host);
                            write(&mut out, 250, [2, 0, 0], ctx.hostname.as_ref());
                        }
                        Request::StartTls => {
                            if ctx.tls_available && !tls_active {
                                write(&mut out, 220, [2, 0, 0], "ready to start TLS");
                                stream.write_all(&out).await?;
                                return Ok(Ended::StartTls(stream));
                            }
                            write(&mut out, 502, [5, 5, 1], "TLS is not available");
                        }
                        Request::Mail { from } => {
                            if helo.is_none() {
                                write(&mut out, 503, [5, 5, 1], "say EHLO first");
                            } else if tx.mail_from.is_some() {
                                write(&mut out, 503, [5, 5, 1], "sender already given");
                            } else if !is_envelope_address(&from.address) {
                                write(&mut out, 501, [5, 1, 7], "invalid sender address");
                            } else if from.size > limit {
                                write(
                                    &mut out,
                                    552,
                                    [5, 3, 4],
                                    format_args!("message exceeds the limit of {limit} bytes"),
                                );
                            } else {
                                tx.mail_from = Some(from.address.to_ascii_lowercase());
                                write(&mut out, 250, [2, 1, 0], "sender ok");
                            }
                        }
                        Request::Rcpt { to } => {
                            if tx.mail_from.is_none() {
                                write(&mut out, 503, [5, 5, 1], "MAIL FROM first");
                            } else if !is_envelope_address(&to.address) {
                                write(&mut out, 501, [5, 1, 3], "invalid recipient address");
                            } else if tx.rcpt_to.len() >= MAX_RECIPIENTS {
                                write(&mut out, 452, [4, 5, 3], "too many recipients");
                            } else if intake.settings().accepts_recipient(&to.address) {
                                tx.rcpt_to.push(to.address.to_ascii_lowercase());
                                write(&mut out, 250, [2, 1, 5], "recipient ok");
                            } else {
                                write(
                                    &mut out,
                                    550,
                                    [5, 1, 1],
                                    format_args!("no mailbox {} here", to.address),
                                );
                            }
                        }
                        Request::Data => {
                            if tx.mail_from.is_none() {
                                write(&mut out, 503, [5, 5, 1], "MAIL FROM first");
                            } else if tx.rcpt_to.is_empty() {
                                write(&mut out, 554, [5, 5, 1], "no valid recipients");
                            } else {
                                write(
                                    &mut out,
                                    354,
                                    [2, 0, 0],
                                    "send the message, end with <CRLF>.<CRLF>",
                                );
                                phase = Phase::Data(DataReceiver::new());
                            }
                        }
                        Request::Rset => {
                            tx = Transaction::default();
                            write(&mut out, 250, [2, 0, 0], "reset");
                        }
                        Request::Noop { .. } => write(&mut out, 250, [2, 0, 0], "ok"),
                        Request::Vrfy { .. } => {
                            write(&mut out, 252, [2, 5, 0], "cannot verify, send and see");
                        }
                        Request::Quit => {
                            write(&mut out, 221, [2, 0, 0], "bye");
                            stream.write_all(&out).await?;
                            return Ok(Ended::Closed);
                        }
                        other => {
                            write(
                                &mut out,
                                502,
                                [5, 5, 1],
                                format_args!("{} is not implemented", other.name()),
                            );
                        }
                    }
                }
            }
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
    }
}

/// Whether an envelope address can be kept: a path of at most 256 octets (RFC 5321 section
/// 4.5.3.1.3) without control characters. A NUL could not be stored on PostgreSQL, and
/// refusing it here gives the sender a permanent answer instead of a retry that fails again.
fn is_envelope_address(address: &str) -> bool {
    address.len() <= 254 && !address.contains(char::is_control)
}

/// Resolves once the shutdown signal is set (or its sender is gone).
pub(super) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn syntax_error(out: &mut Vec<u8>, err: &ProtoError) {
    match err {
        ProtoError::UnknownCommand => write(out, 500, [5, 5, 1], "unknown command"),
        ProtoError::InvalidSenderAddress => write(out, 501, [5, 1, 7], "invalid sender address"),
        ProtoError::InvalidRecipientAddress => {
            write(out, 501, [5, 1, 3], "invalid recipient address");
        }
        ProtoError::SyntaxError { syntax } => {
            write(out, 501, [5, 5, 2], format_args!("syntax: {syntax}"));
        }
        ProtoError::InvalidParameter { param } => {
            write(
                out,
                501,
                [5, 5, 4],
                format_args!("invalid parameter {param}"),
            );
        }
        ProtoError::UnsupportedParameter { param } => {
            write(
                out,
                504,
                [5, 5, 4],
                format_args!("unsupported parameter {param}"),
            );
        }
        ProtoError::ResponseTooLong => write(out, 500, [5, 5, 6], "line too long"),
        ProtoError::NeedsMoreData { .. } | ProtoError::InvalidResponse { .. } => {
            write(out, 500, [5, 5, 2], "syntax error");
        }
    }
}
