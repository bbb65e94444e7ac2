//! The OpenID Connect protocol with the provider, through the `openidconnect` crate:
//! discovery, the authorization request (code flow with PKCE, state and nonce), the code
//! exchange with the ID token's checks, and the end-session URL of RP-initiated logout.
//!
//! The provider is discovered again at each step rather than once at start-up: Redress
//! starts while the provider is down, and a provider that rotated its keys is followed at
//! the next sign-in. Steps are rare (a person signs in a few times a day), so the extra
//! requests cost nothing worth caching for.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken};
use openidconnect::reqwest;
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, LogoutRequest, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse as _,
};
use serde_json::{Map, Value};

use super::settings::OidcConfig;

/// Why a step with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the identity provider cannot be reached or described itself wrongly: {0}")]
    Unreachable(String),
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRefused(String),
    #[error("the ID token is not acceptable: {0}")]
    BadIdToken(String),
    #[error("the configuration of the provider is not usable: {0}")]
    Misconfigured(String),
}

/// A sign-in to start: where to send the browser, and what to keep until it returns.
#[derive(Debug)]
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What a finished sign-in says about the person.
#[derive(Debug)]
pub struct SignedIn {
    pub subject: String,
    /// Every claim of the verified ID token, for the role mapping.
    pub claims: Map<String, Value>,
    pub id_token: String,
}

/// One configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    scopes: Vec<String>,
    http: reqwest::Client,
}

impl Provider {
    pub fn new(config: &OidcConfig, issuer: &str) -> Result<Self, ProviderError> {
        let bad = |what: &str, err: &dyn std::fmt::Display| {
            ProviderError::Misconfigured(format!("{what}: {err}"))
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.provider_timeout_seconds.max(1)))
            // Following redirects from the provider's endpoints would let them point
            // Redress at any address (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| bad("HTTP client", &e))?;
        Ok(Self {
            issuer: IssuerUrl::new(issuer.to_owned()).map_err(|e| bad("oidc.issuer", &e))?,
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: config
                .client_secret
                .as_ref()
                .filter(|secret| !secret.is_empty())
                .map(|secret| ClientSecret::new(secret.expose().to_owned())),
            redirect: RedirectUrl::new(config.redirect_url())
                .map_err(|e| bad("oidc.public_url", &e))?,
            post_logout: PostLogoutRedirectUrl::new(config.post_logout_url())
                .map_err(|e| bad("oidc.public_url", &e))?,
            scopes: config.scopes.clone(),
            http,
        })
    }

    /// Whether `issuer` names this provider (an authorization response's `iss`).
    pub fn is_issuer(&self, issuer: &str) -> bool {
        issuer.trim_end_matches('/') == self.issuer.as_str().trim_end_matches('/')
    }

    async fn discover(&self) -> Result<ProviderMetadataWithLogout, ProviderError> {
        ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| ProviderError::Unreachable(chain(&e)))
    }

    /// The authorization request: code flow, S256 PKCE, a fresh state and nonce.
    pub async fn start(&self) -> Result<AuthorizationStart, ProviderError> {
        let metadata = self.discover().await?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier) and checks the ID token: signature by
    /// the provider's current keys, issuer, audience, expiry and the nonce of this sign-in.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<SignedIn, ProviderError> {
        let metadata = self.discover().await?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProviderError::Misconfigured(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::CodeRefused(chain(&e)))?;
        // Redress signs the person in with the ID token alone; the access token is for the
        // provider's resource servers and is dropped here, never stored or sent on.
        let id_token = response
            .id_token()
            .ok_or_else(|| ProviderError::BadIdToken("the provider sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(|e| ProviderError::BadIdToken(chain(&e)))?;
        let subject = claims.subject().as_str().to_owned();
        let raw = id_token.to_string();
        Ok(SignedIn {
            subject,
            claims: payload_of(&raw)?,
            id_token: raw,
        })
    }

    /// Where to send the browser to end the person's session at the provider too; `None`
    /// when the provider offers no end-session endpoint.
    pub async fn end_session_url(
        &self,
        id_token: Option<&str>,
    ) -> Result<Option<String>, ProviderError> {
        let metadata = self.discover().await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout.clone());
        if let Some(token) = id_token.and_then(|raw| CoreIdToken::from_str(raw).ok()) {
            request = request.set_id_token_hint(&token);
        }
        Ok(Some(request.http_get_url().to_string()))
    }
}

/// The claims of an ID token `openidconnect` has verified, as JSON, for the claims it does
/// not model (roles, groups).
fn payload_of(id_token: &str) -> Result<Map<String, Value>, ProviderError> {
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or_else(|| ProviderError::BadIdToken("not a compact JWS".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| ProviderError::BadIdToken(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| ProviderError::BadIdToken(e.to_string()))
}

/// An error with its causes, which carry what actually went wrong (a refused connection).
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
