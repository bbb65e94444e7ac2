//! Where mail goes: files in a folder (the default, for a first run and for tests) or an
//! SMTP relay with TLS and authentication.

use std::path::{Path, PathBuf};

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use redress_engine::delivery::DeliveryError;

#[derive(Debug, Clone)]
pub enum MailTransport {
    Files {
        dir: PathBuf,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
    Relay(AsyncSmtpTransport<Tokio1Executor>),
}

impl MailTransport {
    /// Writes each mail as `<uuid>.eml` into `dir`, created if missing.
    pub fn files(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self::Files {
            dir: dir.to_owned(),
            transport: AsyncFileTransport::new(dir),
        })
    }

    /// A relay from a URL such as `smtp://relay.example.org:587?tls=required` or
    /// `smtps://relay.example.org`, with optional credentials.
    pub fn relay(
        url: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, lettre::transport::smtp::Error> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?;
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self::Relay(builder.build()))
    }

    pub async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        match self {
            Self::Files { transport, dir } => {
                transport.send(message).await.map_err(|err| {
                    DeliveryError::Retryable(format!("writing mail into {}: {err}", dir.display()))
                })?;
            }
            Self::Relay(transport) => {
                transport.send(message).await.map_err(|err| {
                    if err.is_permanent() {
                        DeliveryError::Permanent(format!("relay refused the mail: {err}"))
                    } else {
                        DeliveryError::Retryable(format!("relay: {err}"))
                    }
                })?;
            }
        }
        Ok(())
    }
}
