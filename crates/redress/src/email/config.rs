//! The `[email]` section: intake (SMTP listener, webhook) and outbound mail.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// Each mail as an `.eml` file in `outgoing_dir`.
    Files,
    /// An SMTP relay at `relay_url`.
    Smtp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// Run the SMTP listener inside `redress serve`.
    pub smtp_enabled: bool,
    pub smtp_bind: SocketAddr,
    /// The name in the SMTP greeting.
    pub hostname: String,
    /// Recipient domains accepted; empty accepts any.
    pub accepted_domains: Vec<String>,
    pub accepted_addresses: Vec<String>,
    pub max_message_bytes: usize,
    /// Attachments whose metadata is kept per message.
    pub max_attachments: usize,
    /// PEM certificate chain and key; both set enables STARTTLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `authserv-id`s of receiving servers whose Authentication-Results are believed.
    pub trusted_authserv_ids: Vec<String>,
    /// Signs outgoing Message-IDs; unset, a secret is generated once and kept in the
    /// database, shared by every replica.
    pub signing_secret: Option<Secret>,
    /// Bearer token of `POST /intake/email`; unset, the endpoint does not exist.
    pub webhook_secret: Option<Secret>,
    /// Sender of outgoing mail, e.g. `Appeals <appeals@example.org>`.
    pub from: String,
    /// Domain of outgoing Message-IDs; the `from` domain when unset.
    pub message_id_domain: Option<String>,
    pub default_language: String,
    /// Templates that replace or add to the built-in ones (`{language}/{notice}.tmpl`).
    pub templates_dir: Option<PathBuf>,
    pub transport: MailTransportKind,
    pub outgoing_dir: PathBuf,
    /// `smtp://host:587?tls=required` or `smtps://host:465`.
    pub relay_url: Option<String>,
    pub relay_username: Option<String>,
    pub relay_password: Option<Secret>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp_enabled: true,
            smtp_bind: SocketAddr::from(([127, 0, 0, 1], 2525)),
            hostname: "localhost".to_owned(),
            accepted_domains: Vec::new(),
            accepted_addresses: Vec::new(),
            max_message_bytes: 10 * 1024 * 1024,
            max_attachments: 20,
            tls_cert: None,
            tls_key: None,
            trusted_authserv_ids: Vec::new(),
            signing_secret: None,
            webhook_secret: None,
            from: "Redress Appeals <appeals@localhost>".to_owned(),
            message_id_domain: None,
            default_language: "en".to_owned(),
            templates_dir: None,
            transport: MailTransportKind::Files,
            outgoing_dir: PathBuf::from("mail-out"),
            relay_url: None,
            relay_username: None,
            relay_password: None,
        }
    }
}

impl EmailConfig {
    /// Problems a running service would only meet later.
    pub fn validate(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("email.tls_cert and email.tls_key go together".to_owned());
        }
        if self.transport == MailTransportKind::Smtp && self.relay_url.is_none() {
            return Err("email.transport = \"smtp\" needs email.relay_url".to_owned());
        }
        if self.max_message_bytes == 0 {
            return Err("email.max_message_bytes must be positive".to_owned());
        }
        if self.from_address().is_none() {
            return Err(format!("email.from {:?} has no address", self.from));
        }
        Ok(())
    }

    /// The bare address of `from`.
    pub fn from_address(&self) -> Option<String> {
        let from = self.from.trim();
        let address = match (from.rfind('<'), from.rfind('>')) {
            (Some(start), Some(end)) if start < end => &from[start + 1..end],
            _ => from,
        };
        address
            .contains('@')
            .then(|| address.trim().to_ascii_lowercase())
    }

    pub fn message_id_domain(&self) -> String {
        self.message_id_domain.clone().unwrap_or_else(|| {
            self.from_address()
                .and_then(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
                .unwrap_or_else(|| self.hostname.clone())
        })
    }
}
