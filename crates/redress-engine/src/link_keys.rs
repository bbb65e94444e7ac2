//! Per-case secret tokens for links sent to appellants. A token is derived from a
//! configured key and the case's id, so every notice about a case can carry the same one
//! while only its hash is stored.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The keys per-case link tokens (the status page's) are derived with: the current one,
/// and those it replaced, kept so that cases filed before a rotation still get their link
/// in later notices.
///
/// A token is `HMAC-SHA256(key, "status-token:" || appeal id)`, hex encoded. It is a pure
/// function of the key and the case, so every notice about a case carries the same token
/// without the token itself ever being stored: the database keeps only its SHA-256. The
/// key lives in configuration, not in the database, so a copy of the database alone gives
/// no token away.
#[derive(Clone)]
pub struct LinkTokenKeys {
    current: Hmac<Sha256>,
    previous: Vec<Hmac<Sha256>>,
}

impl fmt::Debug for LinkTokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinkTokenKeys(***, {} previous)", self.previous.len())
    }
}

impl Default for LinkTokenKeys {
    /// A random key of this process only: fine for tests and one-off runs, but links
    /// stop working at the next start. A deployment configures its key.
    fn default() -> Self {
        Self::new(rand::random::<[u8; 32]>(), std::iter::empty::<&[u8]>())
    }
}

impl LinkTokenKeys {
    /// Keys from the `current` secret and the `previous` ones, newest first.
    pub fn new<I, S>(current: impl AsRef<[u8]>, previous: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        Self {
            current: keyed(current.as_ref()),
            previous: previous.into_iter().map(|s| keyed(s.as_ref())).collect(),
        }
    }

    /// The token of `appeal_id` under the current key: what a new case stores the hash of.
    pub fn token(&self, appeal_id: Uuid) -> String {
        derive(&self.current, appeal_id)
    }

    /// The token of `appeal_id` under each key, current first.
    pub fn tokens(&self, appeal_id: Uuid) -> impl Iterator<Item = String> + '_ {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(move |key| derive(key, appeal_id))
    }
}

/// Keys with the SHA-256 of `secret`, as the Message-ID signer does, so a secret of any
/// length gives a full-strength key.
fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&Sha256::digest(secret));
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

fn derive(key: &Hmac<Sha256>, appeal_id: Uuid) -> String {
    let mut mac = key.clone();
    mac.update(b"status-token:");
    mac.update(appeal_id.as_bytes());
    hex(&mac.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// What is stored of a token: its SHA-256, hex encoded.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `presented` is the token whose SHA-256 is `stored_hash`. The hashes are
/// compared in constant time, and hashing first makes the compared length fixed whatever
/// was presented.
pub fn token_matches(presented: &str, stored_hash: &str) -> bool {
    let presented = token_hash(presented);
    bool::from(presented.as_bytes().ct_eq(stored_hash.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_case_always_gets_the_same_token_and_another_case_another() {
        let keys = LinkTokenKeys::new("a secret", [] as [&str; 0]);
        let token = keys.token(id(1));
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|c| c.is_ascii_hexdigit()));
        // Another notice later, from another process with the same key: the same link.
        assert_eq!(
            LinkTokenKeys::new("a secret", [] as [&str; 0]).token(id(1)),
            token
        );
        assert_ne!(keys.token(id(2)), token);
        assert_ne!(
            LinkTokenKeys::new("another secret", [] as [&str; 0]).token(id(1)),
            token
        );
    }

    #[test]
    fn tokens_are_the_published_hmac() {
        // HMAC-SHA256 under SHA-256("k") (zero-padded) of "status-token:" and the id's bytes,
        // computed independently with Python's hmac module.
        let keys = LinkTokenKeys::new("k", [] as [&str; 0]);
        assert_eq!(keys.token(id(0)), EXPECTED_FOR_NIL);
    }

    const EXPECTED_FOR_NIL: &str =
        "5d601f28447a5cbc5331605946e4afb2706a4631bbe0e9c892276a842b2df324";

    #[test]
    fn the_stored_hash_is_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_the_token_itself_matches_its_hash() {
        let keys = LinkTokenKeys::new("a secret", [] as [&str; 0]);
        let token = keys.token(id(7));
        let stored = token_hash(&token);
        assert!(token_matches(&token, &stored));
        let mut first_wrong = token.clone().into_bytes();
        first_wrong[0] = if first_wrong[0] == b'0' { b'1' } else { b'0' };
        let mut last_wrong = token.clone().into_bytes();
        last_wrong[63] = if last_wrong[63] == b'0' { b'1' } else { b'0' };
        for wrong in [
            String::from_utf8(first_wrong).expect("hex"),
            String::from_utf8(last_wrong).expect("hex"),
            token[..63].to_owned(),
            format!("{token}0"),
            token.to_ascii_uppercase(),
            String::new(),
            "x".repeat(100_000),
            stored.clone(),
        ] {
            assert!(!token_matches(&wrong, &stored), "{wrong:.80}");
        }
    }

    #[test]
    fn a_rotated_key_still_yields_the_tokens_it_issued() {
        let old = LinkTokenKeys::new("old", [] as [&str; 0]);
        let issued = old.token(id(3));
        let rotated = LinkTokenKeys::new("new", ["old"]);
        assert_ne!(
            rotated.token(id(3)),
            issued,
            "new cases get tokens of the new key"
        );
        let tokens: Vec<_> = rotated.tokens(id(3)).collect();
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[1], issued);
    }
}
