//! The identity provider's signing keys, fetched from its `jwks_uri` and cached.
//!
//! Keys are kept for as long as the response's `Cache-Control: max-age` says (or a
//! configured default when it says nothing; `no-store` and `no-cache` mean "ask again next
//! time"). A token naming a key the cache does not hold makes one fetch at most per
//! refetch interval: a provider that rotated its key is followed at the first token signed
//! with the new one, and a stream of tokens with invented key ids costs the provider one
//! request per interval. When a fetch fails, the keys already held stay in use.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use reqwest::header::{HeaderMap, CACHE_CONTROL};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::auth::{keys_of_set, AuthError, AuthSettings, AuthSetupError, VerifyingKey};

/// Largest key set document accepted; a real one is a few kilobytes.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Longest a `max-age` is honoured, so a misconfigured provider cannot pin a key for days.
const MAX_CACHE_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The timings of a [`RemoteKeySet`], from `[graphql.auth]`.
#[derive(Debug, Clone, Copy)]
pub struct RemoteKeySettings {
    pub refetch_interval: Duration,
    pub default_max_age: Duration,
    pub timeout: Duration,
}

impl From<&AuthSettings> for RemoteKeySettings {
    fn from(settings: &AuthSettings) -> Self {
        Self {
            refetch_interval: Duration::from_secs(settings.jwks_refetch_interval_seconds),
            default_max_age: Duration::from_secs(settings.jwks_default_max_age_seconds),
            timeout: Duration::from_secs(settings.jwks_timeout_seconds.max(1)),
        }
    }
}

/// Keys are shared with verifications in flight while a fetch replaces them.
pub(crate) type KeyList = Arc<Vec<VerifyingKey>>;

/// Least refetch interval accepted: below it, invented key ids could make Redress ask the
/// provider for its keys at the rate tokens arrive.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Cached {
    keys: KeyList,
    /// Until when `keys` may be used without asking the provider again.
    fresh_until: Option<Instant>,
    /// When the provider was last asked, successfully or not.
    last_fetch: Option<Instant>,
}

impl Cached {
    fn fresh(&self) -> bool {
        self.fresh_until.is_some_and(|until| Instant::now() < until)
    }

    /// The provider is not asked again before the refetch interval, even when the last
    /// fetch failed: the keys held (if any) serve meanwhile.
    fn may_fetch(&self, interval: Duration) -> bool {
        self.last_fetch.is_none_or(|at| at.elapsed() >= interval)
    }

    fn held(&self) -> Result<KeyList, AuthError> {
        if self.keys.is_empty() {
            Err(AuthError::KeysUnavailable(
                "no keys could be fetched yet; retrying after the refetch interval".into(),
            ))
        } else {
            Ok(self.keys.clone())
        }
    }
}

/// The keys behind one `jwks_uri`.
pub struct RemoteKeySet {
    uri: reqwest::Url,
    http: reqwest::Client,
    settings: RemoteKeySettings,
    /// Read by every verification and written after a fetch; never held across one, so a
    /// slow provider does not hold up tokens its cached keys can check.
    cached: RwLock<Cached>,
    /// Taken by the one request that fetches; others use the keys held meanwhile, or, when
    /// none are held yet, wait for that fetch instead of making their own.
    fetching: Mutex<()>,
}

impl fmt::Debug for RemoteKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeySet")
            .field("uri", &self.uri.as_str())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Why the keys could not be fetched.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("the key set is larger than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("not a JWKS document: {0}")]
    Document(String),
}

impl RemoteKeySet {
    pub fn new(uri: &str, settings: &RemoteKeySettings) -> Result<Self, AuthSetupError> {
        let uri =
            reqwest::Url::parse(uri).map_err(|e| AuthSetupError::BadJwksUri(e.to_string()))?;
        if !matches!(uri.scheme(), "https" | "http") {
            return Err(AuthSetupError::BadJwksUri(
                "the scheme must be https (or http on a private network)".into(),
            ));
        }
        if settings.refetch_interval < MIN_REFETCH_INTERVAL {
            return Err(AuthSetupError::RefetchIntervalTooShort(
                MIN_REFETCH_INTERVAL.as_secs(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A key set is never behind a redirect worth following blindly.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthSetupError::BadJwksUri(e.to_string()))?;
        Ok(Self {
            uri,
            http,
            settings: *settings,
            cached: RwLock::new(Cached {
                keys: Arc::new(Vec::new()),
                fresh_until: None,
                last_fetch: None,
            }),
            fetching: Mutex::new(()),
        })
    }

    fn snapshot(&self) -> Cached {
        self.cached
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The keys to verify with: the cached ones while fresh, otherwise fetched again.
    pub(crate) async fn keys(&self) -> Result<KeyList, AuthError> {
        let cached = self.snapshot();
        if cached.fresh() {
            return Ok(cached.keys);
        }
        if !cached.may_fetch(self.settings.refetch_interval) {
            return cached.held();
        }
        self.fetch_once(&cached.keys).await
    }

    /// Called when a token names a key that `seen` (the keys it was checked against) does
    /// not hold: fetches again unless the keys changed meanwhile or the last fetch was less
    /// than the refetch interval ago. `None` when no fetch was allowed.
    pub(crate) async fn refetch_for_unknown_key(
        &self,
        seen: &KeyList,
    ) -> Result<Option<KeyList>, AuthError> {
        let cached = self.snapshot();
        if !Arc::ptr_eq(&cached.keys, seen) {
            // Another request fetched meanwhile.
            return Ok(Some(cached.keys));
        }
        if !cached.may_fetch(self.settings.refetch_interval) {
            return Ok(None);
        }
        self.fetch_once(seen).await.map(Some)
    }

    /// One fetch at a time; `seen` are the keys the caller found stale or lacking.
    async fn fetch_once(&self, seen: &KeyList) -> Result<KeyList, AuthError> {
        let _fetching = match self.fetching.try_lock() {
            Ok(guard) => guard,
            Err(_) if !seen.is_empty() => return Ok(seen.clone()),
            Err(_) => {
                // Nothing to serve with: wait for the fetch in flight and use its outcome.
                let _waited = self.fetching.lock().await;
                return self.snapshot().held();
            }
        };
        // A fetch may have finished between the caller's look and taking the lock.
        let cached = self.snapshot();
        if !Arc::ptr_eq(&cached.keys, seen) || !cached.may_fetch(self.settings.refetch_interval) {
            return cached.held();
        }
        let started = Instant::now();
        let fetched = self.fetch().await;
        let mut cached = self
            .cached
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.last_fetch = Some(started);
        match fetched {
            Ok((keys, max_age)) => {
                tracing::info!(uri = %self.uri, keys = keys.len(), "fetched the identity provider's keys");
                cached.keys = Arc::new(keys);
                cached.fresh_until = Some(started + max_age);
                Ok(cached.keys.clone())
            }
            Err(err) => {
                tracing::warn!(uri = %self.uri, error = %err, "fetching the identity provider's keys failed");
                if cached.keys.is_empty() {
                    Err(AuthError::KeysUnavailable(err.to_string()))
                } else {
                    Ok(cached.keys.clone())
                }
            }
        }
    }

    async fn fetch(&self) -> Result<(Vec<VerifyingKey>, Duration), FetchError> {
        let mut response = self
            .http
            .get(self.uri.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        let max_age = cache_lifetime(response.headers()).unwrap_or(self.settings.default_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        let set: JwkSet =
            serde_json::from_slice(&body).map_err(|e| FetchError::Document(e.to_string()))?;
        let keys = keys_of_set(&set).map_err(FetchError::Document)?;
        Ok((keys, max_age.min(MAX_CACHE_AGE)))
    }
}

/// How long a response may be reused, from `Cache-Control`: `max-age` (or `s-maxage`,
/// since Redress is a shared cache for its replicas' requests), zero for `no-store` or
/// `no-cache`; `None` when the header says nothing about it.
pub fn cache_lifetime(headers: &HeaderMap) -> Option<Duration> {
    let mut lifetime = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',').map(str::trim) {
            let (name, argument) = directive
                .split_once('=')
                .map_or((directive, None), |(name, argument)| {
                    (name.trim(), Some(argument.trim().trim_matches('"')))
                });
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age") || name.eq_ignore_ascii_case("s-maxage") {
                if let Some(seconds) = argument.and_then(|a| a.parse::<u64>().ok()) {
                    lifetime = Some(Duration::from_secs(seconds));
                }
            }
        }
    }
    lifetime
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn max_age_is_read_and_no_store_wins() {
        assert_eq!(
            cache_lifetime(&headers("public, max-age=600")),
            Some(Duration::from_secs(600))
        );
        assert_eq!(
            cache_lifetime(&headers("max-age=600, no-store")),
            Some(Duration::ZERO)
        );
        assert_eq!(cache_lifetime(&headers("no-cache")), Some(Duration::ZERO));
        assert_eq!(cache_lifetime(&headers("public")), None);
        assert_eq!(cache_lifetime(&headers("max-age=soon")), None);
        assert_eq!(cache_lifetime(&HeaderMap::new()), None);
    }
}
