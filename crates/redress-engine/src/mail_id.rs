//! Message-IDs that Redress recognises as its own.
//!
//! Every outgoing mail carries `<rdr.{appeal}.{nonce}.{tag}@{domain}>`, where `tag` is an
//! HMAC-SHA256 of appeal and nonce under a secret key, truncated to 128 bits. A reply's
//! In-Reply-To or References then names its case without a lookup, and nobody without the
//! key can make up an id that files into a case of their choosing.

use std::fmt;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::repo::mail_signing_keys;

/// The name of the Message-ID key in `mail_signing_keys`.
pub const STORED_KEY_NAME: &str = "message_id";

/// The signer keyed by the secret stored in the database, generated on first use. Every
/// replica reads the same secret, so any of them verifies what another one sent.
pub async fn stored_signer<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<MessageIdSigner, EngineError> {
    let candidate = encode_hex(&rand::random::<[u8; 32]>());
    let secret = mail_signing_keys::get_or_create(conn, STORED_KEY_NAME, &candidate, now).await?;
    Ok(MessageIdSigner::new(secret))
}

impl Engine {
    /// The signer keyed by the stored secret; see [`stored_signer`].
    pub async fn stored_message_signer(&self) -> Result<MessageIdSigner, EngineError> {
        stored_signer(self.db(), self.clock().now()).await
    }
}

const PREFIX: &str = "rdr";
const TAG_BYTES: usize = 16;

/// Signs and verifies Redress Message-IDs.
#[derive(Clone)]
pub struct MessageIdSigner {
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for MessageIdSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MessageIdSigner(***)")
    }
}

impl MessageIdSigner {
    /// Keys the signer with the SHA-256 of `secret`, so a secret of any length gives a
    /// full-strength key.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&Sha256::digest(secret.as_ref()));
        Self {
            keyed: <Hmac<Sha256> as KeyInit>::new(&block.into()),
        }
    }

    /// A Message-ID (with angle brackets) for a mail about `appeal_id`. `discriminator`
    /// tells mails about the same appeal apart; the same inputs give the same id, so a
    /// retried delivery is recognised as the same mail by its receiver.
    pub fn sign(&self, appeal_id: Uuid, discriminator: &str, domain: &str) -> String {
        let nonce = short_hash(discriminator);
        let appeal = appeal_id.simple();
        let tag = self.tag(&format!("{appeal}.{nonce}"));
        format!("<{PREFIX}.{appeal}.{nonce}.{tag}@{domain}>")
    }

    /// The appeal a Message-ID we signed belongs to; `None` for anyone else's id or a
    /// forgery. Accepts the id with or without angle brackets.
    pub fn verify(&self, message_id: &str) -> Option<Uuid> {
        let id = message_id
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        let (local, _domain) = id.rsplit_once('@')?;
        let mut parts = local.split('.');
        let (prefix, appeal, nonce, tag) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if prefix != PREFIX || parts.next().is_some() {
            return None;
        }
        let claimed = decode_hex(tag)?;
        if claimed.len() != TAG_BYTES {
            return None;
        }
        let mut mac = self.keyed.clone();
        mac.update(format!("{appeal}.{nonce}").as_bytes());
        mac.verify_truncated_left(&claimed).ok()?;
        Uuid::parse_str(appeal).ok()
    }

    fn tag(&self, data: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(data.as_bytes());
        encode_hex(&mac.finalize().into_bytes()[..TAG_BYTES])
    }
}

fn short_hash(text: &str) -> String {
    encode_hex(&Sha256::digest(text.as_bytes())[..8])
}

fn encode_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_id_names_its_appeal() {
        let signer = MessageIdSigner::new(b"secret");
        let appeal = Uuid::now_v7();
        let id = signer.sign(appeal, "outbox-key-1", "appeals.example.org");
        assert!(id.starts_with("<rdr.") && id.ends_with("@appeals.example.org>"));
        assert_eq!(signer.verify(&id), Some(appeal));
        assert_eq!(signer.verify(id.trim_matches(['<', '>'])), Some(appeal));
        assert_eq!(
            id,
            signer.sign(appeal, "outbox-key-1", "appeals.example.org")
        );
        assert_ne!(
            id,
            signer.sign(appeal, "outbox-key-2", "appeals.example.org")
        );
    }

    #[test]
    fn forged_or_foreign_ids_are_refused() {
        let signer = MessageIdSigner::new(b"secret");
        let appeal = Uuid::now_v7();
        let id = signer.sign(appeal, "k", "example.org");
        let other_key = MessageIdSigner::new(b"other");
        assert_eq!(other_key.verify(&id), None);
        let swapped = id.replace(
            &appeal.simple().to_string(),
            &Uuid::now_v7().simple().to_string(),
        );
        assert_eq!(signer.verify(&swapped), None);
        let truncated = format!("{}@example.org>", &id[..id.len() - 20]);
        assert_eq!(signer.verify(&truncated), None);
        assert_eq!(signer.verify("<CAF=abc@mail.gmail.com>"), None);
        assert_eq!(signer.verify("<rdr.x.y.zz@example.org>"), None);
    }
}
