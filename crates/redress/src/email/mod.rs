//! Email in the service: the SMTP listener, the raw-MIME webhook and the mail deliverer,
//! built from the `[email]` configuration.

pub mod config;
mod webhook;

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use redress_engine::delivery::Deliverer;
use redress_engine::MessageIdSigner;
use redress_intake::email::smtp::{tls, SmtpServer};
use redress_intake::email::{EmailIntake, EmailIntakeSettings};
use redress_notify::mail::{
    ConfirmationMailDeliverer, MailDeliverer, MailSettings, MailTransport, SigningKey, Templates,
};
use tokio::sync::watch;

use crate::app::{AppState, BackgroundTask};
pub use config::{EmailConfig, MailTransportKind};

/// What `redress serve` runs for email.
#[derive(Debug)]
pub struct EmailService {
    pub smtp_addr: Option<std::net::SocketAddr>,
    pub listener: Option<BackgroundTask>,
    pub routes: Router,
}

/// Builds the intake pipeline, binds the SMTP listener (when enabled) and the webhook
/// route (when a secret is set).
pub async fn start(
    state: &AppState,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<EmailService> {
    let config = &state.config.email;
    let signer = signer(state).await?;
    let intake = EmailIntake::new(state.engine.clone(), intake_settings(config, signer));
    let (smtp_addr, listener) = if config.smtp_enabled {
        let acceptor = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key).context("email TLS")?),
            _ => None,
        };
        let server = SmtpServer::bind(config.smtp_bind, intake.clone(), &config.hostname, acceptor)
            .await
            .with_context(|| format!("binding SMTP on {}", config.smtp_bind))?;
        let addr = server.local_addr()?;
        tracing::info!(smtp_addr = %addr, starttls = config.tls_cert.is_some(), "SMTP intake is listening");
        let task: BackgroundTask =
            tokio::spawn(async move { server.run(shutdown).await.context("SMTP listener") });
        (Some(addr), Some(task))
    } else {
        (None, None)
    };
    let routes = match &config.webhook_secret {
        Some(secret) if !secret.is_empty() => {
            webhook::routes(intake, secret.clone(), config.max_message_bytes)
        }
        _ => Router::new(),
    };
    Ok(EmailService {
        smtp_addr,
        listener,
        routes,
    })
}

/// The deliverer of appellant notices by mail.
pub fn mail_deliverer(state: &AppState) -> anyhow::Result<Arc<dyn Deliverer>> {
    let config = &state.config.email;
    let templates = Templates::load(config.templates_dir.as_deref(), &config.default_language)
        .context("loading mail templates")?;
    let transport = mail_transport(config)?;
    let key = signing_key(config);
    let settings = MailSettings {
        from: config
            .from
            .parse()
            .with_context(|| format!("email.from {:?}", config.from))?,
        message_id_domain: config.message_id_domain(),
        default_language: config.default_language.clone(),
        notices: state.config.transparency.notice_settings(),
    };
    Ok(Arc::new(MailDeliverer::new(
        state.engine.clone(),
        templates,
        transport,
        key,
        settings,
    )))
}

/// The deliverer of the one-time links that connect a social handle to an account.
pub fn confirmation_deliverer(state: &AppState) -> anyhow::Result<Arc<dyn Deliverer>> {
    let config = &state.config.email;
    let from = config
        .from
        .parse()
        .with_context(|| format!("email.from {:?}", config.from))?;
    Ok(Arc::new(ConfirmationMailDeliverer::new(
        mail_transport(config)?,
        from,
    )))
}

/// The key that signs outgoing Message-IDs: the configured secret, else the stored one.
pub(crate) fn signing_key(config: &EmailConfig) -> SigningKey {
    match &config.signing_secret {
        Some(secret) if !secret.is_empty() => {
            SigningKey::Configured(MessageIdSigner::new(secret.expose()))
        }
        _ => SigningKey::Stored,
    }
}

pub(crate) fn mail_transport(config: &EmailConfig) -> anyhow::Result<MailTransport> {
    Ok(match config.transport {
        MailTransportKind::Files => MailTransport::files(&config.outgoing_dir)
            .with_context(|| format!("creating {}", config.outgoing_dir.display()))?,
        MailTransportKind::Smtp => {
            let url = config
                .relay_url
                .as_deref()
                .context("email.transport = \"smtp\" needs email.relay_url")?;
            let credentials = config.relay_username.clone().map(|user| {
                let password = config
                    .relay_password
                    .as_ref()
                    .map(|p| p.expose().to_owned())
                    .unwrap_or_default();
                (user, password)
            });
            MailTransport::relay(url, credentials).context("email.relay_url")?
        }
    })
}

async fn signer(state: &AppState) -> anyhow::Result<MessageIdSigner> {
    message_id_signer(&state.config.email, &state.engine).await
}

/// The signer of outgoing Message-IDs: the configured secret, else the stored one.
pub(crate) async fn message_id_signer(
    config: &EmailConfig,
    engine: &redress_engine::Engine,
) -> anyhow::Result<MessageIdSigner> {
    match &config.signing_secret {
        Some(secret) if !secret.is_empty() => Ok(MessageIdSigner::new(secret.expose())),
        _ => engine
            .stored_message_signer()
            .await
            .context("reading the Message-ID signing key"),
    }
}

pub(crate) fn intake_settings(
    config: &EmailConfig,
    signer: MessageIdSigner,
) -> EmailIntakeSettings {
    let mut settings = EmailIntakeSettings::new(signer);
    settings
        .accepted_domains
        .clone_from(&config.accepted_domains);
    settings
        .accepted_addresses
        .clone_from(&config.accepted_addresses);
    settings.max_message_bytes = config.max_message_bytes;
    settings.max_attachments = config.max_attachments;
    settings
        .trusted_authserv_ids
        .clone_from(&config.trusted_authserv_ids);
    settings.own_addresses = config.from_address().into_iter().collect();
    settings
}
