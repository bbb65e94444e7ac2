//! Bearer-token authentication: a JWT in, an [`Actor`] out.
//!
//! HS256 with a shared secret is the embedded default; RS256 and ES256 with public keys
//! (the provider's `jwks_uri`, cached by [`crate::jwks`]; or PEM files or a JWKS file for
//! installations that cannot reach it) serve a real identity provider. Only the algorithms for which
//! a key is configured are accepted, so `alg: none` and algorithm-confusion tokens are
//! refused. Expiry and not-before are checked against the injected clock. A configured
//! issuer or audience is required, not merely checked when present (RFC 8725 §3.9, §3.10):
//! a token without `aud` could have been minted for any other service that trusts the same
//! identity provider. Keys named inside a token (`jwk`, `jku`, `x5u`, `x5c`) are never
//! used, and a token with `crit` is refused because Redress understands no extension.
//! [`Verifier::actor_from_header`] is usable by any HTTP route.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use redress_core::{Actor, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jwks::{RemoteKeySet, RemoteKeySettings};

/// The `[graphql.auth]` section.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// HS256 secret. When unset and no public key is configured, a random secret is read
    /// from (or written on first use to) `hs256_secret_file`.
    pub hs256_secret: Option<String>,
    pub hs256_secret_file: PathBuf,
    /// PEM files of RSA public keys (RS256).
    pub rsa_public_keys: Vec<PathBuf>,
    /// PEM files of P-256 public keys (ES256).
    pub ec_public_keys: Vec<PathBuf>,
    /// A JWKS document (the identity provider's `jwks_uri` content) saved to a file: for
    /// installations that cannot reach the provider.
    pub jwks_file: Option<PathBuf>,
    /// The identity provider's `jwks_uri`: keys fetched over HTTP, cached as its cache
    /// headers say, and fetched again when a token names a key not seen yet.
    pub jwks_uri: Option<String>,
    /// Least time between two fetches caused by tokens with an unknown `kid`, so a flood of
    /// forged tokens cannot make Redress hammer the provider.
    pub jwks_refetch_interval_seconds: u64,
    /// How long fetched keys are kept when the response has no `Cache-Control: max-age`.
    pub jwks_default_max_age_seconds: u64,
    /// How long one fetch of the keys may take.
    pub jwks_timeout_seconds: u64,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud` (one of), when set.
    pub audience: Option<String>,
    /// Claim holding the role names; dots descend into objects (`realm_access.roles`).
    pub roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            hs256_secret_file: PathBuf::from("redress-jwt.secret"),
            rsa_public_keys: Vec::new(),
            ec_public_keys: Vec::new(),
            jwks_file: None,
            jwks_uri: None,
            jwks_refetch_interval_seconds: 60,
            jwks_default_max_age_seconds: 300,
            jwks_timeout_seconds: 5,
            issuer: Some("redress".to_owned()),
            audience: Some("redress-api".to_owned()),
            roles_claim: "roles".to_owned(),
            leeway_seconds: 30,
        }
    }
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("hs256_secret", &self.hs256_secret.as_ref().map(|_| "***"))
            .field("hs256_secret_file", &self.hs256_secret_file)
            .field("rsa_public_keys", &self.rsa_public_keys)
            .field("ec_public_keys", &self.ec_public_keys)
            .field("jwks_file", &self.jwks_file)
            .field("jwks_uri", &self.jwks_uri)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("roles_claim", &self.roles_claim)
            .finish()
    }
}

impl AuthSettings {
    fn uses_public_keys(&self) -> bool {
        !self.rsa_public_keys.is_empty()
            || !self.ec_public_keys.is_empty()
            || self.jwks_file.is_some()
            || self.jwks_uri.is_some()
    }

    /// The HS256 secret, if HS256 is enabled: the configured one, or the generated one of
    /// the embedded default (created on first use).
    pub fn hs256_secret(&self) -> Result<Option<String>, AuthSetupError> {
        if let Some(secret) = &self.hs256_secret {
            if secret.len() < 32 {
                return Err(AuthSetupError::WeakSecret);
            }
            return Ok(Some(secret.clone()));
        }
        if self.uses_public_keys() {
            return Ok(None);
        }
        read_or_create_secret(&self.hs256_secret_file).map(Some)
    }
}

pub fn read_or_create_secret(path: &Path) -> Result<String, AuthSetupError> {
    let io = |source| AuthSetupError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(secret) => Ok(secret.trim().to_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let bytes: [u8; 32] = rand::random();
            let secret = bytes.iter().fold(String::new(), |mut hex, b| {
                use std::fmt::Write;
                let _ = write!(hex, "{b:02x}");
                hex
            });
            if publish_private(path, &secret).map_err(io)? {
                tracing::info!(path = %path.display(), "generated a development secret");
                Ok(secret)
            } else {
                // Another process started at the same moment and published its secret
                // first; every process must sign with that one.
                std::fs::read_to_string(path)
                    .map(|secret| secret.trim().to_owned())
                    .map_err(io)
            }
        }
        Err(err) => Err(io(err)),
    }
}

/// Writes `contents` to a private file beside `path` and links it into place, so a reader
/// never sees a half-written secret. Returns false when `path` already existed.
fn publish_private(path: &Path, contents: &str) -> std::io::Result<bool> {
    use std::io::Write;
    let staging = path.with_extension(format!("{}.tmp", rand::random::<u64>()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&staging).and_then(|mut file| {
        file.write_all(contents.as_bytes())
            .and_then(|()| file.sync_all())
    });
    let linked = written.and_then(|()| std::fs::hard_link(&staging, path));
    let _ = std::fs::remove_file(&staging);
    match linked {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Configuration that cannot produce a verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthSetupError {
    #[error("graphql.auth.hs256_secret must be at least 32 characters")]
    WeakSecret,
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key {path}: {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("no key is configured for tokens")]
    NoKeys,
    #[error("cannot sign: {0}")]
    Signing(String),
    #[error("graphql.auth.leeway_seconds must not be negative")]
    NegativeLeeway,
    #[error("graphql.auth.jwks_uri: {0}")]
    BadJwksUri(String),
    #[error("graphql.auth.jwks_refetch_interval_seconds must be at least {0}")]
    RefetchIntervalTooShort(u64),
}

/// Why a presented token was refused. Callers see only "invalid token"; the reason is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("the Authorization header is not `Bearer <token>`")]
    Malformed,
    #[error("token algorithm {0} is not accepted")]
    AlgorithmNotAccepted(String),
    #[error("no configured key matches the token")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("token expired")]
    Expired,
    #[error("token not valid yet")]
    NotYetValid,
    #[error("the identity provider's keys cannot be fetched: {0}")]
    KeysUnavailable(String),
    #[error(
        "the provider's keys (jwks_uri) are configured: tokens must be checked with `authenticate`"
    )]
    NeedsProviderKeys,
}

/// One key a token may be signed with.
pub(crate) struct VerifyingKey {
    algorithm: Algorithm,
    key_id: Option<String>,
    key: DecodingKey,
}

/// Checks bearer tokens against the configured keys.
pub struct Verifier {
    keys: Vec<VerifyingKey>,
    /// The provider's `jwks_uri`, when configured.
    remote: Option<RemoteKeySet>,
    issuer: Option<String>,
    audience: Option<String>,
    roles_claim: String,
    leeway: i64,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "algorithms",
                &self.keys.iter().map(|k| k.algorithm).collect::<Vec<_>>(),
            )
            .field("remote", &self.remote)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// The registered claims Redress reads; the roles claim is found by path in the rest.
#[derive(Debug, Deserialize)]
struct RegisteredClaims {
    sub: String,
    exp: i64,
    nbf: Option<i64>,
}

impl Verifier {
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, AuthSetupError> {
        let mut keys = Vec::new();
        if let Some(secret) = settings.hs256_secret()? {
            keys.push(VerifyingKey {
                algorithm: Algorithm::HS256,
                key_id: None,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        for path in &settings.rsa_public_keys {
            let pem = read_key(path)?;
            let key = DecodingKey::from_rsa_pem(&pem).map_err(|e| bad_key(path, e))?;
            keys.push(VerifyingKey {
                algorithm: Algorithm::RS256,
                key_id: None,
                key,
            });
        }
        for path in &settings.ec_public_keys {
            let pem = read_key(path)?;
            let key = DecodingKey::from_ec_pem(&pem).map_err(|e| bad_key(path, e))?;
            keys.push(VerifyingKey {
                algorithm: Algorithm::ES256,
                key_id: None,
                key,
            });
        }
        if let Some(path) = &settings.jwks_file {
            let text = read_key(path)?;
            let set: JwkSet = serde_json::from_slice(&text).map_err(|e| bad_key(path, e))?;
            keys.extend(keys_of_set(&set).map_err(|e| bad_key(path, e))?);
        }
        let remote = settings
            .jwks_uri
            .as_deref()
            .map(|uri| RemoteKeySet::new(uri, &RemoteKeySettings::from(settings)))
            .transpose()?;
        if keys.is_empty() && remote.is_none() {
            return Err(AuthSetupError::NoKeys);
        }
        if settings.leeway_seconds < 0 {
            return Err(AuthSetupError::NegativeLeeway);
        }
        Ok(Self {
            keys,
            remote,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            roles_claim: settings.roles_claim.clone(),
            leeway: settings.leeway_seconds,
        })
    }

    /// `Authorization` header value to actor. `None` header is the caller's business
    /// (anonymous); a present but bad header is an error.
    pub fn actor_from_header(&self, header: &str, now: DateTime<Utc>) -> Result<Actor, AuthError> {
        self.actor_from_token(bearer_token(header)?, now)
    }

    /// Checks `token` against the configured keys (PEM files, a JWKS file, HS256). With a
    /// `jwks_uri` configured this refuses every token, since it cannot consult the
    /// provider's keys: [`Verifier::authenticate`] must be used instead.
    pub fn actor_from_token(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, AuthError> {
        if self.remote.is_some() {
            return Err(AuthError::NeedsProviderKeys);
        }
        let header = Self::header_of(token)?;
        self.verify_with(&self.keys, &header, token, now)
    }

    /// [`Verifier::actor_from_header`] that also consults the provider's `jwks_uri`.
    pub async fn authenticate_header(
        &self,
        header: &str,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthError> {
        let token = bearer_token(header)?;
        self.authenticate(token, now).await
    }

    /// [`Verifier::actor_from_token`] that also consults the provider's `jwks_uri`: keys
    /// from the cache, fetched again (at most once per interval) when the token names a key
    /// the cache does not hold, so a key the provider added is accepted without a restart
    /// and one it removed is refused once the keys are fetched again.
    pub async fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<Actor, AuthError> {
        let header = Self::header_of(token)?;
        let Some(remote) = &self.remote else {
            return self.verify_with(&self.keys, &header, token, now);
        };
        match self.verify_with(&self.keys, &header, token, now) {
            Err(AuthError::UnknownKey | AuthError::AlgorithmNotAccepted(_)) => {}
            decided => return decided,
        }
        let keys = remote.keys().await?;
        match self.verify_with(&keys, &header, token, now) {
            Err(AuthError::UnknownKey | AuthError::AlgorithmNotAccepted(_)) => {
                match remote.refetch_for_unknown_key(&keys).await? {
                    Some(fresh) => self.verify_with(&fresh, &header, token, now),
                    None => Err(AuthError::UnknownKey),
                }
            }
            decided => decided,
        }
    }

    fn header_of(token: &str) -> Result<Header, AuthError> {
        // An unknown `alg` (including "none") fails to parse here.
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if header.crit.is_some() {
            return Err(AuthError::Invalid(
                "the token names critical extensions (`crit`)".into(),
            ));
        }
        Ok(header)
    }

    fn verify_with(
        &self,
        keys: &[VerifyingKey],
        header: &Header,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthError> {
        let candidates: Vec<&VerifyingKey> =
            keys.iter().filter(|k| k.algorithm == header.alg).collect();
        if candidates.is_empty() {
            return Err(AuthError::AlgorithmNotAccepted(format!("{:?}", header.alg)));
        }
        let by_kid: Vec<&VerifyingKey> = match &header.kid {
            Some(kid) if candidates.iter().any(|k| k.key_id.is_some()) => candidates
                .iter()
                .copied()
                .filter(|k| k.key_id.as_deref() == Some(kid.as_str()))
                .collect(),
            _ => candidates,
        };
        if by_kid.is_empty() {
            return Err(AuthError::UnknownKey);
        }
        let validation = self.validation(header.alg);
        let mut last_error = AuthError::UnknownKey;
        for key in by_kid {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
                Ok(data) => return self.actor_from_claims(data.claims, now),
                Err(err) => last_error = AuthError::Invalid(err.to_string()),
            }
        }
        Err(last_error)
    }

    /// jsonwebtoken checks `iss` and `aud` only when the token carries them; listing them in
    /// `required_spec_claims` is what makes a configured one mandatory.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        // Expiry is checked against the service's clock below, not the system time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_aud = self.audience.is_some();
        if let Some(audience) = &self.audience {
            validation.set_audience(&[audience]);
            validation.required_spec_claims.insert("aud".to_owned());
        }
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        validation
    }

    fn actor_from_claims(
        &self,
        claims: Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<Actor, AuthError> {
        let registered: RegisteredClaims = serde_json::from_value(Value::Object(claims.clone()))
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        // jsonwebtoken accepts an array of issuers when one matches; RFC 7519 allows one.
        if self.issuer.is_some() && !claims.get("iss").is_some_and(Value::is_string) {
            return Err(AuthError::Invalid("`iss` is not a single string".into()));
        }
        if !is_usable_subject(&registered.sub) {
            return Err(AuthError::Invalid(
                "`sub` is empty or holds control characters".into(),
            ));
        }
        let now = now.timestamp();
        // Saturating: `exp` and `nbf` near the ends of i64 must not overflow.
        if registered.exp.saturating_add(self.leeway) <= now {
            return Err(AuthError::Expired);
        }
        if registered
            .nbf
            .is_some_and(|nbf| nbf.saturating_sub(self.leeway) > now)
        {
            return Err(AuthError::NotYetValid);
        }
        Ok(Actor::staff(registered.sub, self.roles(&claims)))
    }

    /// Roles named in the roles claim; names Redress does not know are ignored, since
    /// identity providers carry roles of other applications too.
    fn roles(&self, claims: &Map<String, Value>) -> Vec<Role> {
        let mut roles: Vec<Role> = names_at_path(claims, &self.roles_claim)
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// The token of an `Authorization: Bearer <token>` header value.
fn bearer_token(header: &str) -> Result<&str, AuthError> {
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::Malformed)
}

/// The strings of the claim at `path` (dots descend into objects): an array of strings or
/// one space-separated string; nothing when the claim is absent or of another shape.
pub fn names_at_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Vec<&'a str> {
    let mut parts = path.split('.');
    let mut value = parts.next().and_then(|first| claims.get(first));
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(spaced)) => spaced.split_whitespace().collect(),
        _ => Vec::new(),
    }
}

/// The subject becomes the actor id in the audit history: it must name someone, and a
/// control character (NUL above all, which PostgreSQL cannot store) has no place in it.
pub fn is_usable_subject(subject: &str) -> bool {
    !subject.trim().is_empty() && !subject.chars().any(char::is_control)
}

fn read_key(path: &Path) -> Result<Vec<u8>, AuthSetupError> {
    std::fs::read(path).map_err(|source| AuthSetupError::Io {
        path: path.to_owned(),
        source,
    })
}

fn bad_key(path: &Path, reason: impl ToString) -> AuthSetupError {
    AuthSetupError::BadKey {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// RSA keys verify RS256 and P-256 keys ES256; other keys in the set are skipped, and so
/// are keys published for encryption only (`use: enc`).
pub(crate) fn keys_of_set(set: &JwkSet) -> Result<Vec<VerifyingKey>, String> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|usage| *usage != PublicKeyUse::Signature)
        {
            continue;
        }
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        keys.push(VerifyingKey {
            algorithm,
            key_id: jwk.common.key_id.clone(),
            key,
        });
    }
    Ok(keys)
}

/// Mints an HS256 development token (`redress token`): the configured issuer and audience,
/// `roles` under the configured claim.
pub fn mint_dev_token(
    settings: &AuthSettings,
    subject: &str,
    roles: &[Role],
    now: DateTime<Utc>,
    lifetime: chrono::TimeDelta,
) -> Result<String, AuthSetupError> {
    let secret = settings.hs256_secret()?.ok_or_else(|| {
        AuthSetupError::Signing("HS256 is not enabled (public keys are configured)".into())
    })?;
    let mut claims = Map::new();
    claims.insert("sub".into(), subject.into());
    claims.insert("iat".into(), now.timestamp().into());
    claims.insert("exp".into(), (now + lifetime).timestamp().into());
    if let Some(issuer) = &settings.issuer {
        claims.insert("iss".into(), issuer.as_str().into());
    }
    if let Some(audience) = &settings.audience {
        claims.insert("aud".into(), audience.as_str().into());
    }
    let role_names: Vec<Value> = roles.iter().map(|r| Value::from(r.as_str())).collect();
    insert_at_path(&mut claims, &settings.roles_claim, Value::Array(role_names));
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| AuthSetupError::Signing(e.to_string()))
}

fn insert_at_path(claims: &mut Map<String, Value>, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut target = claims;
    for part in parts {
        let entry = target
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else { return };
        target = next;
    }
    target.insert(last.to_owned(), value);
}
