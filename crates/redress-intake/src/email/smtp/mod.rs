//! The SMTP listener: accepts connections, runs one session per connection, and on
//! shutdown stops accepting, tells idle clients 421 and lets in-flight messages finish.

mod reply;
mod session;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::email::pipeline::EmailIntake;
use session::{Ended, SessionContext};

pub struct SmtpServer {
    listener: TcpListener,
    intake: EmailIntake,
    hostname: Arc<str>,
    tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpServer")
            .field("listener", &self.listener)
            .field("hostname", &self.hostname)
            .field("starttls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl SmtpServer {
    /// Binds `addr` (port 0 picks a free port). `tls` enables STARTTLS.
    pub async fn bind(
        addr: SocketAddr,
        intake: EmailIntake,
        hostname: &str,
        tls: Option<TlsAcceptor>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
            intake,
            hostname: Arc::from(hostname),
            tls,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` flips to true. Dropping the future drops every session with
    /// it: a message whose commit had not finished gets no 250, so its sender retries.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> std::io::Result<()> {
        let mut sessions = JoinSet::new();
        let ctx = SessionContext {
            intake: self.intake,
            hostname: self.hostname,
            tls_available: self.tls.is_some(),
            shutdown: shutdown.clone(),
        };
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    match accepted {
                        Ok((stream, peer)) => {
                            let ctx = ctx.clone();
                            let tls = self.tls.clone();
                            sessions.spawn(async move {
                                if let Err(err) = serve(stream, ctx, tls).await {
                                    tracing::debug!(%peer, error = %err, "SMTP session ended with an error");
                                }
                            });
                        }
                        Err(err) => tracing::warn!(error = %err, "SMTP accept failed"),
                    }
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                () = session::stopped(&mut shutdown) => break,
            }
        }
        while sessions.join_next().await.is_some() {}
        Ok(())
    }
}

/// Holds one conversation on `stream` as the listener does on a connection, without
/// STARTTLS, until the client quits or hangs up or `shutdown` is set.
pub async fn converse<S>(
    stream: S,
    intake: EmailIntake,
    hostname: &str,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut ctx = SessionContext {
        intake,
        hostname: Arc::from(hostname),
        tls_available: false,
        shutdown,
    };
    session::run(stream, &mut ctx, true, false).await?;
    Ok(())
}

async fn serve(
    stream: TcpStream,
    mut ctx: SessionContext,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    match session::run(stream, &mut ctx, true, false).await? {
        Ended::Closed => Ok(()),
        Ended::StartTls(stream) => {
            let Some(acceptor) = tls else {
                return Ok(());
            };
            let secured = acceptor.accept(stream).await?;
            session::run(secured, &mut ctx, false, true).await?;
            Ok(())
        }
    }
}
