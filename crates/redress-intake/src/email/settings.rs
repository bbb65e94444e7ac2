//! What the email pipeline is told by configuration.

use redress_engine::MessageIdSigner;

#[derive(Debug, Clone)]
pub struct EmailIntakeSettings {
    /// Recipient domains accepted; empty accepts every domain.
    pub accepted_domains: Vec<String>,
    /// Recipient addresses accepted in addition to whole domains.
    pub accepted_addresses: Vec<String>,
    pub max_message_bytes: usize,
    /// Attachments recorded per message (name, type, size); the rest are counted only.
    pub max_attachments: usize,
    /// `authserv-id`s whose Authentication-Results are believed.
    pub trusted_authserv_ids: Vec<String>,
    /// Addresses Redress sends from: mail from them is a loop.
    pub own_addresses: Vec<String>,
    pub signer: MessageIdSigner,
}

impl EmailIntakeSettings {
    /// Defaults for a signer; every recipient accepted, 10 MiB, 20 attachments.
    pub fn new(signer: MessageIdSigner) -> Self {
        Self {
            accepted_domains: Vec::new(),
            accepted_addresses: Vec::new(),
            max_message_bytes: 10 * 1024 * 1024,
            max_attachments: 20,
            trusted_authserv_ids: Vec::new(),
            own_addresses: Vec::new(),
            signer,
        }
    }

    /// Whether mail for `recipient` is ours to take.
    pub fn accepts_recipient(&self, recipient: &str) -> bool {
        let recipient = recipient.trim().trim_matches(['<', '>']);
        if self.accepted_domains.is_empty() && self.accepted_addresses.is_empty() {
            return recipient.contains('@');
        }
        let domain = recipient.rsplit_once('@').map(|(_, d)| d);
        self.accepted_addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(recipient))
            || domain.is_some_and(|d| {
                self.accepted_domains
                    .iter()
                    .any(|accepted| accepted.eq_ignore_ascii_case(d))
            })
    }
}
