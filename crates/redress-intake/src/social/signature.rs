//! Webhook signatures: HMAC-SHA256 of the raw body, compared in constant time.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> Option<HmacSha256> {
    // HMAC takes keys of any length; `None` only if that ever stopped being true.
    <HmacSha256 as KeyInit>::new_from_slice(secret).ok()
}

/// `sha256=` + base64 HMAC, the form of X's CRC response and its signature header.
pub fn x_signature(secret: &[u8], data: &[u8]) -> String {
    let digest = mac(secret)
        .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!(
        "sha256={}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `sha256=` + hex HMAC, the form of Meta's `X-Hub-Signature-256`.
pub fn meta_signature(secret: &[u8], data: &[u8]) -> String {
    let digest = mac(secret)
        .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
        .unwrap_or_default();
    format!("sha256={}", hex::encode(digest))
}

/// Whether `header` (`sha256=<base64>`) signs `body` with `secret`.
pub fn verify_x(secret: &[u8], body: &[u8], header: &str) -> bool {
    header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .is_some_and(|tag| verify(secret, body, &tag))
}

/// Whether `header` (`sha256=<hex>`) signs `body` with `secret`.
pub fn verify_meta(secret: &[u8], body: &[u8], header: &str) -> bool {
    header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_tag| hex::decode(hex_tag).ok())
        .is_some_and(|tag| verify(secret, body, &tag))
}

fn verify(secret: &[u8], body: &[u8], tag: &[u8]) -> bool {
    mac(secret).is_some_and(|m| m.chain_update(body).verify_slice(tag).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hmac_sha256_vector() {
        // RFC 4231 test case 2.
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(
            meta_signature(b"Jefe", b"what do ya want for nothing?"),
            format!("sha256={expected}")
        );
    }

    #[test]
    fn signatures_verify_only_for_the_same_secret_and_body() {
        let body = br#"{"object":"page"}"#;
        let x = x_signature(b"secret", body);
        assert!(verify_x(b"secret", body, &x));
        assert!(!verify_x(b"other", body, &x));
        assert!(!verify_x(b"secret", b"{}", &x));
        assert!(!verify_x(b"secret", body, "sha256=not base64!"));
        let meta = meta_signature(b"secret", body);
        assert!(verify_meta(b"secret", body, &meta));
        assert!(!verify_meta(
            b"secret",
            body,
            &meta.replace("sha256=", "sha1=")
        ));
        assert!(!verify_meta(b"secret", body, &x));
    }
}
