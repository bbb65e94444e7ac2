//! Staff sign-in with the organisation's identity provider (OpenID Connect), as a backend
//! for the console: Redress runs the authorization code flow (PKCE, state, nonce) and keeps
//! a server-side session behind an HttpOnly cookie; no token ever reaches the page.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /auth/session` | whether a provider is configured, and the caller's session with its CSRF token |
//! | `GET /auth/login?return_to=#/…` | starts a sign-in at the provider |
//! | `GET /auth/callback` | where the provider sends the browser back |
//! | `POST /auth/logout` | ends the session; answers where to end the provider's session |
//!
//! The protocol is [`provider`]'s, the role mapping [`roles`]'s, the session store the
//! engine's; this module is the HTTP edge between them.

pub mod provider;
pub mod roles;
pub mod settings;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::DefaultClock;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use redress_engine::staff_sessions::{NewStaffSession, PendingSignIn};
use redress_engine::Engine;
use redress_graphql::auth::is_usable_subject;
use redress_graphql::session::{self, hash_secret, BrowserSessions, SessionId};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::client_address::TrustedProxies;
use crate::config::Config;
use provider::{Provider, ProviderError};
use roles::RoleMapping;
pub use settings::OidcConfig;

/// The cookie binding a sign-in to the browser that started it: the provider's redirect
/// counts only in that browser (no login CSRF). Over HTTPS it is `__Host-`, so a sibling
/// subdomain cannot plant one (and must then be for the whole host, `Path=/`).
const SECURE_SIGN_IN_COOKIE: &str = "__Host-redress-sign-in";
const PLAIN_SIGN_IN_COOKIE: &str = "redress-sign-in";
const CALLBACK_PATH: &str = "/auth/callback";
/// Sign-ins started between two sweeps of the rate limiter's recovered addresses.
const SWEEP_EVERY: u32 = 1024;
/// Longest `return_to` kept; a console fragment is short.
const MAX_RETURN_TO: usize = 200;

/// Why a sign-in did not end in a session; the console explains each code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInFailure {
    ProviderUnreachable,
    StateMismatch,
    Expired,
    ProviderRefused,
    IdTokenRejected,
    Internal,
}

impl SignInFailure {
    fn code(self) -> &'static str {
        match self {
            SignInFailure::ProviderUnreachable => "provider_unreachable",
            SignInFailure::StateMismatch => "state_mismatch",
            SignInFailure::Expired => "sign_in_expired",
            SignInFailure::ProviderRefused => "provider_refused",
            SignInFailure::IdTokenRejected => "id_token_rejected",
            SignInFailure::Internal => "internal",
        }
    }
}

impl From<&ProviderError> for SignInFailure {
    fn from(err: &ProviderError) -> Self {
        match err {
            ProviderError::Unreachable(_) => SignInFailure::ProviderUnreachable,
            ProviderError::CodeRefused(_) => SignInFailure::ProviderRefused,
            ProviderError::BadIdToken(_) | ProviderError::BadUserInfo(_) => {
                SignInFailure::IdTokenRejected
            }
            ProviderError::Misconfigured(_) => SignInFailure::Internal,
        }
    }
}

/// Sign-ins started per client address: `/auth/login` needs no authentication and each
/// call stores a row, so one address cannot start them without bound.
struct SignInStarts {
    limiter: RateLimiter<IpAddr, HashMapStateStore<IpAddr>, DefaultClock>,
    since_sweep: AtomicU32,
}

impl SignInStarts {
    fn new(per_minute: NonZeroU32) -> Self {
        Self {
            limiter: RateLimiter::hashmap(Quota::per_minute(per_minute)),
            since_sweep: AtomicU32::new(0),
        }
    }

    /// Counts a start from `address`; `false` once its quota is spent.
    fn allow(&self, address: IpAddr) -> bool {
        if self.since_sweep.fetch_add(1, Ordering::Relaxed) + 1 >= SWEEP_EVERY {
            self.since_sweep.store(0, Ordering::Relaxed);
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&address).is_ok()
    }
}

/// Everything the routes need, when a provider is configured.
pub struct StaffSignIn {
    config: OidcConfig,
    provider: Provider,
    roles: RoleMapping,
    engine: Engine,
    sessions: BrowserSessions,
    starts: SignInStarts,
    trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for StaffSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffSignIn")
            .field("provider", &self.provider)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl StaffSignIn {
    /// `None` without `oidc.issuer`: the console then asks for a pasted token. The section
    /// was checked when the configuration was loaded ([`OidcConfig::validate`]).
    pub fn from_config(whole: &Config, engine: Engine) -> anyhow::Result<Option<Self>> {
        let (config, api_auth) = (&whole.oidc, &whole.graphql.auth);
        let Some(issuer) = config.issuer.as_deref() else {
            return Ok(None);
        };
        let provider = Provider::new(config, issuer)?;
        let roles = RoleMapping::new(
            config
                .roles_claim
                .clone()
                .unwrap_or_else(|| api_auth.roles_claim.clone()),
            config.groups_claim.clone(),
            config.group_roles.clone(),
        );
        let per_minute = NonZeroU32::new(config.sign_ins_per_minute)
            .ok_or_else(|| anyhow::anyhow!("oidc.sign_ins_per_minute must be positive"))?;
        Ok(Some(Self {
            config: config.clone(),
            provider,
            roles,
            engine,
            sessions: BrowserSessions::at(&config.public_url)?,
            starts: SignInStarts::new(per_minute),
            trusted_proxies: whole.http.trusted_proxies.clone(),
        }))
    }

    /// How the API reads this sign-in's sessions.
    pub fn browser_sessions(&self) -> BrowserSessions {
        self.sessions.clone()
    }

    fn sign_in_cookie_name(&self) -> &'static str {
        if self.config.secure_cookies() {
            SECURE_SIGN_IN_COOKIE
        } else {
            PLAIN_SIGN_IN_COOKIE
        }
    }

    /// The sign-in cookie, set to `value` for `max_age` seconds (0 clears it).
    fn sign_in_cookie(&self, value: &str, max_age: i64) -> HeaderValue {
        // `__Host-` requires `Path=/`; the plain cookie goes only where it is read.
        let path = if self.config.secure_cookies() {
            "/"
        } else {
            CALLBACK_PATH
        };
        self.cookie(self.sign_in_cookie_name(), value, path, max_age)
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
        let secure = if self.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        // Lax, not Strict: the session cookie is set on the provider's redirect, a
        // navigation another site started, and must be sent on the console's load after it.
        let text = format!(
            "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Sends the browser back to the console with `failure` for it to explain.
    fn failed(&self, failure: SignInFailure) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::SET_COOKIE, self.sign_in_cookie("", 0));
        (
            headers,
            Redirect::to(&format!("/console/?sign_in_error={}", failure.code())),
        )
            .into_response()
    }
}

/// Mounted whether or not a provider is configured: the console asks `/auth/session`.
pub fn routes(state: &AppState) -> Router {
    let sign_in = state.staff_sign_in.clone();
    Router::new()
        .route("/auth/session", get(session_info))
        .route("/auth/login", get(login))
        .route(CALLBACK_PATH, get(callback))
        .route("/auth/logout", post(logout))
        .with_state(sign_in)
}

type SignInState = State<Option<Arc<StaffSignIn>>>;

fn not_configured() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no identity provider is configured (oidc.issuer)"})),
    )
        .into_response()
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `{"provider": false}` without a provider; otherwise whether this browser is signed in,
/// and the CSRF token its requests must carry.
async fn session_info(State(sign_in): SignInState, headers: HeaderMap) -> Response {
    let Some(sign_in) = sign_in else {
        return no_store(Json(json!({"provider": false})).into_response());
    };
    let Some(id) = sign_in.sessions.session_of(&headers) else {
        return no_store(Json(json!({"provider": true, "signedIn": false})).into_response());
    };
    match sign_in.engine.staff_session(&id.hash()).await {
        Ok(Some(session)) => no_store(
            Json(json!({
                "provider": true,
                "signedIn": true,
                "subject": session.subject,
                "csrfToken": id.csrf_token(),
                "expiresAt": session.expires_at,
                "endsAt": session.ends_at,
            }))
            .into_response(),
        ),
        Ok(None) => no_store(Json(json!({"provider": true, "signedIn": false})).into_response()),
        Err(err) => {
            tracing::error!(error = %err, "reading a staff session failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// A console fragment (`#/case/…`) to come back to; anything else becomes the queue, so
/// the parameter cannot send anyone elsewhere.
fn console_fragment(candidate: Option<&str>) -> String {
    candidate
        .filter(|text| text.starts_with("#/") && text.len() <= MAX_RETURN_TO)
        .filter(|text| {
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"#/-_.~%".contains(&b))
        })
        .unwrap_or("#/queue")
        .to_owned()
}

/// The address the request came from: the peer's, or behind a configured reverse proxy
/// the client it names (`http.trusted_proxies`). Without the connection's address (not
/// served over a socket) every request shares one.
fn client_address(parts: &Parts, trusted_proxies: &TrustedProxies) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    trusted_proxies.client(peer, &parts.headers)
}

async fn login(
    State(sign_in): SignInState,
    Query(query): Query<LoginQuery>,
    parts: Parts,
) -> Response {
    let Some(sign_in) = sign_in else {
        return not_configured();
    };
    if !sign_in
        .starts
        .allow(client_address(&parts, &sign_in.trusted_proxies))
    {
        tracing::info!("refused a sign-in start over the address's quota");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "60")],
            Json(json!({"error": "too many sign-ins started from this address; try again in a minute"})),
        )
            .into_response();
    }
    let start = match sign_in.provider.start().await {
        Ok(start) => start,
        Err(err) => {
            tracing::warn!(error = %err, "a sign-in could not start");
            return sign_in.failed(SignInFailure::from(&err));
        }
    };
    let pending = PendingSignIn {
        pkce_verifier: start.pkce_verifier,
        nonce: start.nonce,
        return_to: console_fragment(query.return_to.as_deref()),
    };
    if let Err(err) = sign_in
        .engine
        .remember_sign_in(
            &hash_secret(&start.state),
            &pending,
            sign_in.config.sign_in_timeout(),
        )
        .await
    {
        tracing::error!(error = %err, "storing a sign-in failed");
        return sign_in.failed(SignInFailure::Internal);
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        sign_in.sign_in_cookie(&start.state, sign_in.config.sign_in_timeout().num_seconds()),
    );
    no_store((headers, Redirect::to(&start.url)).into_response())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    /// The issuer of the authorization response (RFC 9207), when the provider sends it.
    iss: Option<String>,
}

async fn callback(
    State(sign_in): SignInState,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(sign_in) = sign_in else {
        return not_configured();
    };
    let Some(state) = query.state.as_deref().filter(|state| !state.is_empty()) else {
        return sign_in.failed(SignInFailure::StateMismatch);
    };
    // The state must be the one this browser was given: a redirect another person's
    // sign-in produced, pasted or forced into this browser, is refused.
    let bound = session::cookie_value(&headers, sign_in.sign_in_cookie_name())
        .is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(state.as_bytes())));
    if !bound {
        tracing::info!("refused a sign-in redirect whose state is not this browser's");
        return sign_in.failed(SignInFailure::StateMismatch);
    }
    let pending = match sign_in.engine.take_sign_in(&hash_secret(state)).await {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            tracing::info!("refused a sign-in redirect that was used already or expired");
            return sign_in.failed(SignInFailure::Expired);
        }
        Err(err) => {
            tracing::error!(error = %err, "reading a sign-in failed");
            return sign_in.failed(SignInFailure::Internal);
        }
    };
    // Another provider's response passed off as this one's (a mix-up attack) is refused,
    // and so is one without `iss` from a provider that says it always sends it.
    match sign_in
        .provider
        .accepts_response_issuer(query.iss.as_deref())
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!("refused a sign-in redirect from another issuer, or naming none");
            return sign_in.failed(SignInFailure::ProviderRefused);
        }
        Err(err) => {
            tracing::warn!(error = %err, "a sign-in could not be checked");
            return sign_in.failed(SignInFailure::from(&err));
        }
    }
    if let Some(error) = &query.error {
        tracing::info!(%error, "the identity provider refused the sign-in");
        return sign_in.failed(SignInFailure::ProviderRefused);
    }
    let Some(code) = query.code.as_deref() else {
        return sign_in.failed(SignInFailure::ProviderRefused);
    };
    let signed_in = match sign_in
        .provider
        .finish(
            code,
            &pending.pkce_verifier,
            &pending.nonce,
            &sign_in.roles.claim_names(),
        )
        .await
    {
        Ok(signed_in) => signed_in,
        Err(err) => {
            tracing::warn!(error = %err, "a sign-in failed at the end");
            return sign_in.failed(SignInFailure::from(&err));
        }
    };
    // The subject becomes the actor id in the audit history, as a token's does.
    if !is_usable_subject(&signed_in.subject) {
        tracing::warn!("refused an ID token whose subject is empty or holds control characters");
        return sign_in.failed(SignInFailure::IdTokenRejected);
    }
    let roles = sign_in.roles.roles(&signed_in.claims);
    let id = SessionId::generate();
    let opened = sign_in
        .engine
        .open_staff_session(
            &id.hash(),
            NewStaffSession {
                subject: signed_in.subject.clone(),
                roles: roles.clone(),
                idle: sign_in.config.session_idle(),
                lifetime: sign_in.config.session_lifetime(),
            },
        )
        .await;
    if let Err(err) = opened {
        tracing::error!(error = %err, "storing a staff session failed");
        return sign_in.failed(SignInFailure::Internal);
    }
    tracing::info!(subject = %signed_in.subject, ?roles, "a staff member signed in");
    let mut headers = HeaderMap::new();
    headers.append(header::SET_COOKIE, sign_in.sign_in_cookie("", 0));
    headers.append(
        header::SET_COOKIE,
        sign_in.cookie(
            sign_in.sessions.cookie_name(),
            id.as_cookie_value(),
            "/",
            sign_in.config.session_lifetime().num_seconds(),
        ),
    );
    no_store(
        (
            headers,
            Redirect::to(&format!("/console/{}", pending.return_to)),
        )
            .into_response(),
    )
}

/// Ends the session (cookie, CSRF header, same origin, like any change) and answers where
/// the browser goes to end the provider's session too.
async fn logout(State(sign_in): SignInState, headers: HeaderMap) -> Response {
    let Some(sign_in) = sign_in else {
        return not_configured();
    };
    let Some(id) = sign_in.sessions.session_of(&headers) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "not signed in"})),
        )
            .into_response();
    };
    let csrf = headers
        .get(session::CSRF_HEADER)
        .and_then(|value| value.to_str().ok());
    if !sign_in.sessions.same_origin(&headers) || !csrf.is_some_and(|token| id.accepts_csrf(token))
    {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "the CSRF token is missing or wrong"})),
        )
            .into_response();
    }
    if let Err(err) = sign_in.engine.close_staff_session(&id.hash()).await {
        tracing::error!(error = %err, "ending a staff session failed");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let end_session = match sign_in.provider.end_session_url().await {
        Ok(url) => url,
        Err(err) => {
            tracing::warn!(error = %err, "the provider's end-session endpoint is unknown");
            None
        }
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(
        header::SET_COOKIE,
        sign_in.cookie(sign_in.sessions.cookie_name(), "", "/", 0),
    );
    let body = match end_session {
        Some(url) => json!({"signedOut": true, "redirect": url}),
        None => json!({"signedOut": true, "redirect": null, "providerSessionKept": true}),
    };
    no_store((response_headers, Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::console_fragment;

    #[test]
    fn only_console_fragments_are_returned_to() {
        assert_eq!(console_fragment(Some("#/case/0193-ab")), "#/case/0193-ab");
        assert_eq!(console_fragment(Some("https://evil.test/")), "#/queue");
        assert_eq!(console_fragment(Some("#/x\"onload")), "#/queue");
        assert_eq!(console_fragment(Some("//evil.test")), "#/queue");
        assert_eq!(console_fragment(None), "#/queue");
    }
}
