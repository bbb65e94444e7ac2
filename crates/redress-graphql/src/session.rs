//! Cookie sessions of the console (signed in through the identity provider).
//!
//! The cookie holds a random session id; the database holds only its SHA-256. A request
//! authenticated by the cookie must also carry the session's CSRF token in the
//! `X-Redress-CSRF` header (a websocket: `csrfToken` in `connection_init`), and a browser
//! `Origin`, when sent, must be Redress's public origin (see [`BrowserSessions`]). The token is derived from the session id, so it
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
        Self(hex::encode(bytes))
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

    /// The session id of a request's cookie named `cookie_name`. Only the configured name
    /// counts: over HTTPS a plain `redress-session` cookie may have been planted by a
    /// sibling subdomain (cookie tossing), which a `__Host-` cookie cannot be.
    pub fn from_headers(headers: &HeaderMap, cookie_name: &str) -> Option<Self> {
        cookie_value(headers, cookie_name)
            // Only what `generate` makes: anything else is no session at all.
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|value| Self(value.to_ascii_lowercase()))
    }
}

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// SHA-256 of a secret, hex encoded.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// How browsers hold sessions: the cookie's name, and the origin their pages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSessions {
    cookie_name: &'static str,
    /// `scheme://host[:port]` of Redress's public address; `None` when no identity provider
    /// is configured, and then an `Origin` is compared with the `Host` header instead.
    origin: Option<String>,
}

impl Default for BrowserSessions {
    fn default() -> Self {
        Self {
            cookie_name: PLAIN_COOKIE,
            origin: None,
        }
    }
}

/// Why a public URL gives no origin.
#[derive(Debug, thiserror::Error)]
#[error("not an http(s) URL with a host: {0}")]
pub struct BadPublicUrl(String);

impl BrowserSessions {
    /// Sessions of a console served at `public_url`: over `https` the cookie is
    /// [`SECURE_COOKIE`], and only pages of exactly this origin (scheme, host and port)
    /// may use it.
    pub fn at(public_url: &str) -> Result<Self, BadPublicUrl> {
        let url = reqwest::Url::parse(public_url).map_err(|e| BadPublicUrl(e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(BadPublicUrl(public_url.to_owned()));
        }
        Ok(Self {
            cookie_name: if url.scheme() == "https" {
                SECURE_COOKIE
            } else {
                PLAIN_COOKIE
            },
            origin: Some(url.origin().ascii_serialization()),
        })
    }

    pub fn cookie_name(&self) -> &'static str {
        self.cookie_name
    }

    /// The session id of a request, under the configured cookie name only.
    pub fn session_of(&self, headers: &HeaderMap) -> Option<SessionId> {
        SessionId::from_headers(headers, self.cookie_name)
    }

    /// Whether the request's `Origin`, if any, is Redress's own. Browsers send `Origin` on
    /// every POST and websocket handshake, so a page of another site is caught here even
    /// before the CSRF token is checked. The public origin is compared, not the `Host`
    /// header: behind a proxy, or over HTTP/2 (`:authority`), `Host` need not be what the
    /// browser saw, and it says nothing of the scheme.
    pub fn same_origin(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match &self.origin {
            Some(expected) => origin.eq_ignore_ascii_case(expected),
            None => origin_is_host(origin, headers),
        }
    }
}

/// Without a configured public address (no identity provider, so no session can exist
/// anyway): the `Origin` must name the `Host` the request was sent to.
fn origin_is_host(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
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
    fn the_cookie_is_read_only_under_the_configured_name_and_in_its_shape() {
        let id = SessionId::generate();
        let plain = BrowserSessions::at("http://127.0.0.1:8080").expect("plain");
        let secure = BrowserSessions::at("https://redress.example").expect("secure");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {PLAIN_COOKIE}={}", id.0)).expect("value"),
        );
        assert_eq!(plain.session_of(&headers), Some(id.clone()));
        // Over HTTPS a cookie without the `__Host-` prefix may have been tossed in by a
        // sibling subdomain: it is no session.
        assert_eq!(secure.session_of(&headers), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{SECURE_COOKIE}={}", id.0)).expect("value"),
        );
        assert_eq!(secure.session_of(&headers), Some(id.clone()));
        assert_eq!(plain.session_of(&headers), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-redress-session=not-a-session"),
        );
        assert_eq!(secure.session_of(&headers), None);
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
    fn origin_must_be_the_public_origin_with_its_scheme_and_port() {
        let sessions = BrowserSessions::at("https://redress.example/").expect("sessions");
        let mut headers = HeaderMap::new();
        assert!(sessions.same_origin(&headers));
        // A proxy's Host says nothing: the public origin decides.
        headers.insert(header::HOST, HeaderValue::from_static("10.0.0.7:8080"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://redress.example"),
        );
        assert!(sessions.same_origin(&headers));
        for foreign in [
            "http://redress.example",
            "https://redress.example:8443",
            "https://evil.test",
            "null",
        ] {
            headers.insert(header::ORIGIN, HeaderValue::from_static(foreign));
            assert!(!sessions.same_origin(&headers), "{foreign}");
        }
    }

    #[test]
    fn without_a_public_url_origin_must_be_the_host() {
        let sessions = BrowserSessions::default();
        let mut headers = HeaderMap::new();
        assert!(sessions.same_origin(&headers));
        headers.insert(header::HOST, HeaderValue::from_static("redress.test:8080"));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://redress.test:8080"),
        );
        assert!(sessions.same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.test"),
        );
        assert!(!sessions.same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!sessions.same_origin(&headers));
    }
}
