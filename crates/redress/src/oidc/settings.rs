//! The `[oidc]` section: which identity provider staff sign in with, and how its claims
//! become Redress roles.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use redress_core::Role;
use serde::{Deserialize, Serialize};

use crate::config::Secret;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct OidcConfig {
    /// The provider's issuer URL; its `/.well-known/openid-configuration` is read. Unset,
    /// the console asks for a pasted token, as without a provider.
    pub issuer: Option<String>,
    /// Redress's client at the provider.
    pub client_id: String,
    /// The client's secret (`client_secret_basic`); unset for a public client.
    pub client_secret: Option<Secret>,
    /// The address browsers reach Redress at. The provider redirects back to
    /// `{public_url}/auth/callback` and, after signing out, to `{public_url}/console/`; both
    /// must be registered at the provider. Over `https` the session cookie is `Secure`.
    pub public_url: String,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// ID token claim holding Redress role names (dots descend into objects). Unset: the
    /// same as `graphql.auth.roles_claim`.
    pub roles_claim: Option<String>,
    /// ID token claim holding the person's groups at the provider.
    pub groups_claim: String,
    /// Roles each group of the provider grants, e.g. `"appeals-leads" = ["senior_reviewer"]`.
    pub group_roles: BTreeMap<String, Vec<Role>>,
    /// A session ends after this many minutes without a request (each request renews it).
    pub session_idle_minutes: u32,
    /// ...and after this many hours in any case; the person then signs in again.
    pub session_max_hours: u32,
    /// How long the provider may take to send the person back after sign-in started.
    pub sign_in_timeout_minutes: u32,
    /// How long one request to the provider may take.
    pub provider_timeout_seconds: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            issuer: None,
            client_id: "redress".to_owned(),
            client_secret: None,
            public_url: "http://127.0.0.1:8080".to_owned(),
            scopes: vec!["profile".to_owned()],
            roles_claim: None,
            groups_claim: "groups".to_owned(),
            group_roles: BTreeMap::new(),
            session_idle_minutes: 60,
            session_max_hours: 12,
            sign_in_timeout_minutes: 10,
            provider_timeout_seconds: 10,
        }
    }
}

impl OidcConfig {
    pub fn session_idle(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.session_idle_minutes))
    }

    pub fn session_lifetime(&self) -> TimeDelta {
        TimeDelta::hours(i64::from(self.session_max_hours))
    }

    pub fn sign_in_timeout(&self) -> TimeDelta {
        TimeDelta::minutes(i64::from(self.sign_in_timeout_minutes))
    }

    /// Over HTTPS the cookies are `Secure` (and the session's is `__Host-`).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    pub fn redirect_url(&self) -> String {
        format!("{}/auth/callback", self.base())
    }

    pub fn post_logout_url(&self) -> String {
        format!("{}/console/", self.base())
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.issuer.is_none() {
            return Ok(());
        }
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err("oidc.public_url must be an http(s) URL".to_owned());
        }
        if self.client_id.trim().is_empty() {
            return Err("oidc.client_id must not be empty".to_owned());
        }
        if self.session_idle_minutes == 0 || self.session_max_hours == 0 {
            return Err("oidc session durations must be positive".to_owned());
        }
        if self.sign_in_timeout_minutes == 0 {
            return Err("oidc.sign_in_timeout_minutes must be positive".to_owned());
        }
        Ok(())
    }
}
