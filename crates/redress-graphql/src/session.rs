//! Cookie sessions of the console (signed in through the identity provider).
//!
//! The cookie holds a random session id; the database holds only its SHA-256. A request
//! authenticated by the cookie must also carry the session's CSRF token in the
//! `X-Redress-CSRF` header (a websocket: `csrfToken` in `connection_init`), and a browser
//! `Origin`, when sent, must be this host. The token is derived from the session id, so it
//! needs no storage and only a page that read it from `/auth/session` (same origin) knows
//! it; a custom header also forces a CORS preflight that Redress never grants.

use axum::http::{header, HeaderMap};
use rand::RngCore;
use redress_core::Actor;
use redress_engine::staff_sessions::StaffSession;
use redress_engine::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name over HTTPS: `__Host-` makes browsers refuse it unless it is
/// Secure, for the whole host, and set by this host.
pub const SECURE_COOKIE: &str = "__Host-redress-session";
/// The session cookie's name over plain HTTP (a loopback development set-up).
pub const PLAIN_COOKIE: &str = "redress-session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-redress-csrf";

/// A session id as the browser holds it. Never logged, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionId(String);

impl std::fmt::Debug for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionId(***)")
    }
}

impl SessionId {
    /// 256 random bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex(&bytes))
    }

    /// What the cookie carries.
    pub fn as_cookie_value(&self) -> &str {
        &self.0
    }

    /// What the database stores.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }

    /// The CSRF token of this session.
    pub fn csrf_token(&self) -> String {
        hash_secret(&format!("csrf:{}", self.0))
    }

    /// Whether `presented` is this session's CSRF token (in constant time).
    pub fn accepts_csrf(&self, presented: &str) -> bool {
        bool::from(self.csrf_token().as_bytes().ct_eq(presented.as_bytes()))
    }

    /// The session id of a request's cookies, under either cookie name.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SECURE_COOKIE || *name == PLAIN_COOKIE)
            .map(|(_, value)| value.trim())
            // Only what `generate` makes: anything else is no session at all.
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|value| Self(value.to_ascii_lowercase()))
    }
}

/// SHA-256 of a secret, hex encoded.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// Whether the request's `Origin`, if any, is the host it was sent to. Browsers send
/// `Origin` on every POST and websocket handshake, so a page of another site is caught
/// here even before the CSRF token is checked.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

/// Why a cookie session was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SessionRefusal {
    #[error("the session ended or does not exist")]
    Ended,
    #[error("the CSRF token is missing or wrong")]
    Csrf,
    #[error("the request comes from another origin")]
    CrossOrigin,
    #[error("the session store failed: {0}")]
    Store(#[from] redress_engine::EngineError),
}

/// The staff member behind a cookie session, checking the CSRF token `presented`.
pub async fn actor_of_session(
    engine: &Engine,
    id: &SessionId,
    presented_csrf: Option<&str>,
) -> Result<(Actor, StaffSession), SessionRefusal> {
    if !presented_csrf.is_some_and(|token| id.accepts_csrf(token)) {
        return Err(SessionRefusal::Csrf);
    }
    let session = engine
        .staff_session(&id.hash())
        .await?
        .ok_or(SessionRefusal::Ended)?;
    Ok((
        Actor::staff(session.subject.clone(), session.roles.clone()),
        session,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_read_under_either_name_and_only_in_its_shape() {
        let id = SessionId::generate();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {PLAIN_COOKIE}={}", id.0)).expect("value"),
        );
        assert_eq!(SessionId::from_headers(&headers), Some(id.clone()));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-redress-session=not-a-session"),
        );
        assert_eq!(SessionId::from_headers(&headers), None);
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let (one, two) = (SessionId::generate(), SessionId::generate());
        assert!(one.accepts_csrf(&one.csrf_token()));
        assert!(!one.accepts_csrf(&two.csrf_token()));
        assert!(!one.accepts_csrf(""));
        assert_ne!(one.hash(), one.csrf_token());
    }

    #[test]
    fn origin_must_be_the_host() {
        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers));
        headers.insert(header::HOST, HeaderValue::from_static("redress.test:8080"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://redress.test:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.test"),
        );
        assert!(!same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers));
    }
}
