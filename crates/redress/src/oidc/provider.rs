//! The OpenID Connect protocol with the provider, through the `openidconnect` crate:
//! discovery, the authorization request (code flow with PKCE, state and nonce), the code
//! exchange with the ID token's checks, the userinfo request for role claims the ID token
//! leaves out, and the end-session URL of RP-initiated logout.
//!
//! Discovery (the provider's metadata and its keys, two requests) is cached for
//! [`METADATA_MAX_AGE`]: `/auth/login` is open to anyone, so each call must not cost the
//! provider requests. Redress still starts while the provider is down (nothing is fetched
//! before the first sign-in), and an ID token signed with a key the cached set lacks makes
//! one fresh discovery, at most once per [`MIN_REDISCOVERY_INTERVAL`], so a key rotation is
//! followed at the next sign-in. Every response body from the provider is read up to
//! [`MAX_RESPONSE_BYTES`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::Engine as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{http, reqwest};
use openidconnect::{
    AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IssuerUrl, LogoutProviderMetadata, LogoutRequest, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadata, RedirectUrl, Scope, SubjectIdentifier, TokenResponse as _, UserInfoClaims,
    UserInfoError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::settings::OidcConfig;

/// How long discovered metadata and keys are used before they are fetched again.
pub const METADATA_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// Least time between two discoveries caused by ID tokens signed with an unknown key.
pub const MIN_REDISCOVERY_INTERVAL: Duration = Duration::from_secs(60);
/// Largest response body read from the provider; real documents are a few kilobytes (the
/// same bound as for the API's key set).
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Why a step with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the identity provider cannot be reached or described itself wrongly: {0}")]
    Unreachable(String),
    #[error("the identity provider refused the authorization code: {0}")]
    CodeRefused(String),
    #[error("the ID token is not acceptable: {0}")]
    BadIdToken(String),
    #[error("the identity provider's userinfo answer is not acceptable: {0}")]
    BadUserInfo(String),
    #[error("the configuration of the provider is not usable: {0}")]
    Misconfigured(String),
}

/// A sign-in to start: where to send the browser, and what to keep until it returns.
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl std::fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("state", &"***")
            .field("nonce", &"***")
            .field("pkce_verifier", &"***")
            .finish_non_exhaustive()
    }
}

/// What a finished sign-in says about the person.
pub struct SignedIn {
    pub subject: String,
    /// Every claim of the verified ID token, with those it lacks from the userinfo answer,
    /// for the role mapping.
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// RFC 9207: whether the provider names itself in its authorization responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerParameter {
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

impl openidconnect::AdditionalProviderMetadata for IssuerParameter {}

type Metadata = ProviderMetadata<
    LogoutProviderMetadata<IssuerParameter>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The client `from_provider_metadata` makes: authorization endpoint known, token and
/// userinfo endpoints as the metadata says.
type ConsoleClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Discovered {
    metadata: Arc<Metadata>,
    at: Instant,
}

/// An HTTP client for `openidconnect` that reads at most [`MAX_RESPONSE_BYTES`] of a body.
#[derive(Debug, Clone)]
pub struct BoundedHttp(reqwest::Client);

/// Why a request to the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedHttpError {
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the response cannot be represented: {0}")]
    Http(#[from] http::Error),
}

impl<'c> AsyncHttpClient<'c> for BoundedHttp {
    type Error = BoundedHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut response = self.0.execute(request.try_into()?).await?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(BoundedHttpError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(builder.body(body)?)
        })
    }
}

/// One configured provider.
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    post_logout: PostLogoutRedirectUrl,
    scopes: Vec<String>,
    http: BoundedHttp,
    /// Read by every step; never held across a fetch.
    discovered: RwLock<Option<Discovered>>,
    /// Taken by the one request that discovers, so a burst of sign-ins makes one.
    discovering: Mutex<()>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.client_id.as_str())
            .finish_non_exhaustive()
    }
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
            http: BoundedHttp(http),
            discovered: RwLock::new(None),
            discovering: Mutex::new(()),
        })
    }

    /// Whether an authorization response's `iss` (RFC 9207) is acceptable: when sent, it
    /// must be this provider's issuer exactly (no normalisation, as the RFC asks); when
    /// missing, only if the provider does not say it sends one.
    pub async fn accepts_response_issuer(&self, iss: Option<&str>) -> Result<bool, ProviderError> {
        if let Some(iss) = iss {
            return Ok(iss == self.issuer.as_str());
        }
        let (metadata, _) = self.metadata().await?;
        Ok(!metadata
            .additional_metadata()
            .additional_metadata
            .authorization_response_iss_parameter_supported)
    }

    fn cached(&self) -> Option<(Arc<Metadata>, Instant)> {
        self.discovered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|found| (found.metadata.clone(), found.at))
    }

    /// The provider's metadata and keys, from the cache while it is young enough.
    async fn metadata(&self) -> Result<(Arc<Metadata>, Instant), ProviderError> {
        match self.cached() {
            Some(found) if found.1.elapsed() < METADATA_MAX_AGE => Ok(found),
            stale => self.discover(stale.map(|(_, at)| at)).await,
        }
    }

    /// Discovers again, unless another request did since `seen` (when the caller's copy
    /// was fetched): then that one is used.
    async fn discover(
        &self,
        seen: Option<Instant>,
    ) -> Result<(Arc<Metadata>, Instant), ProviderError> {
        let _discovering = self.discovering.lock().await;
        if let Some(found) = self.cached().filter(|(_, at)| Some(*at) != seen) {
            return Ok(found);
        }
        let metadata = Metadata::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| ProviderError::Unreachable(chain(&e)))?;
        let found = (Arc::new(metadata), Instant::now());
        *self
            .discovered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Discovered {
            metadata: found.0.clone(),
            at: found.1,
        });
        Ok(found)
    }

    fn client(&self, metadata: &Metadata) -> ConsoleClient {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The authorization request: code flow, S256 PKCE, a fresh state and nonce.
    pub async fn start(&self) -> Result<AuthorizationStart, ProviderError> {
        let (metadata, _) = self.metadata().await?;
        let client = self.client(&metadata);
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
    /// When the ID token lacks one of the `wanted` claims (top-level names) and the provider
    /// has a userinfo endpoint, the claims the ID token lacks are read from there.
    pub async fn finish(
        &self,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        wanted: &[&str],
    ) -> Result<SignedIn, ProviderError> {
        let (metadata, fetched_at) = self.metadata().await?;
        let client = self.client(&metadata);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| ProviderError::Misconfigured(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| ProviderError::CodeRefused(chain(&e)))?;
        // Redress signs the person in with the ID token; the access token serves at most the
        // userinfo request below and is dropped here, never stored or sent on.
        let id_token = response
            .id_token()
            .ok_or_else(|| ProviderError::BadIdToken("the provider sent no ID token".into()))?;
        let nonce = Nonce::new(nonce.to_owned());
        let subject = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.subject().as_str().to_owned(),
            // Signed with a key the cached set lacks: the provider may have rotated.
            Err(ClaimsVerificationError::SignatureVerification(_))
                if fetched_at.elapsed() >= MIN_REDISCOVERY_INTERVAL =>
            {
                let (metadata, _) = self.discover(Some(fetched_at)).await?;
                let client = self.client(&metadata);
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &nonce)
                    .map_err(|e| ProviderError::BadIdToken(chain(&e)))?;
                claims.subject().as_str().to_owned()
            }
            Err(err) => return Err(ProviderError::BadIdToken(chain(&err))),
        };
        let mut claims = payload_of(&id_token.to_string())?;
        if wanted.iter().any(|name| !claims.contains_key(*name)) {
            if let Ok(request) = client.user_info(
                response.access_token().clone(),
                Some(SubjectIdentifier::new(subject.clone())),
            ) {
                let user_info: UserInfoClaims<ProviderClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| match e {
                        UserInfoError::Request(_) => ProviderError::Unreachable(chain(&e)),
                        _ => ProviderError::BadUserInfo(chain(&e)),
                    })?;
                // The signed ID token wins where both carry a claim.
                for (name, value) in user_info.additional_claims().0.clone() {
                    claims.entry(name).or_insert(value);
                }
            }
        }
        Ok(SignedIn { subject, claims })
    }

    /// Where to send the browser to end the person's session at the provider too; `None`
    /// when the provider offers no end-session endpoint. The request names this client and
    /// where to come back, not the ID token: the URL passes through the page, and no token
    /// is to reach it.
    pub async fn end_session_url(&self) -> Result<Option<String>, ProviderError> {
        let (metadata, _) = self.metadata().await?;
        let Some(endpoint) = metadata.additional_metadata().end_session_endpoint.clone() else {
            return Ok(None);
        };
        let request = LogoutRequest::from(endpoint)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout.clone());
        Ok(Some(request.http_get_url().to_string()))
    }
}

/// The claims of a userinfo answer beyond the standard ones (roles, groups), which
/// `openidconnect` does not model.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
struct ProviderClaims(Map<String, Value>);

impl AdditionalClaims for ProviderClaims {}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_forms_show_no_secret() {
        let start = AuthorizationStart {
            url: "https://id.example/authorize".to_owned(),
            state: "the-state".to_owned(),
            nonce: "the-nonce".to_owned(),
            pkce_verifier: "the-verifier".to_owned(),
        };
        let text = format!("{start:?}");
        for secret in ["the-state", "the-nonce", "the-verifier"] {
            assert!(!text.contains(secret), "{text}");
        }
        let signed_in = SignedIn {
            subject: "rita".to_owned(),
            claims: Map::from_iter([("secret-claim".to_owned(), Value::from("value"))]),
        };
        assert!(!format!("{signed_in:?}").contains("secret-claim"));
    }
}
