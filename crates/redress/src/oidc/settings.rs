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
    /// must be registered at the provider. Over `https` the cookies are `Secure` and
    /// `__Host-`; plain `http` is accepted only on loopback (127.0.0.1, ::1, localhost).
    /// Its origin is the only one whose pages may use a session.
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
    /// Sign-ins one client address may start a minute (`/auth/login`); more get HTTP 429.
    pub sign_ins_per_minute: u32,
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
            sign_ins_per_minute: 20,
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

    /// Checks the section against itself and against the API's token audience
    /// (`graphql.auth.audience`).
    pub fn validate(&self, api_audience: Option<&str>) -> Result<(), String> {
        if self.issuer.is_none() {
            return Ok(());
        }
        check_public_url(&self.public_url)?;
        if self.client_id.trim().is_empty() {
            return Err("oidc.client_id must not be empty".to_owned());
        }
        // The provider's ID tokens for the console carry the client id as their audience;
        // were it the API's audience, a sign-in's ID token would be an API bearer token.
        if api_audience == Some(self.client_id.as_str()) {
            return Err(format!(
                "oidc.client_id ({}) must differ from graphql.auth.audience: the console's ID \
                 tokens would otherwise be accepted as API tokens",
                self.client_id
            ));
        }
        if self.sign_ins_per_minute == 0 {
            return Err("oidc.sign_ins_per_minute must be positive".to_owned());
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

/// `https`, or plain `http` on a loopback address only: anywhere else the session cookie
/// would cross the network in the clear.
fn check_public_url(public_url: &str) -> Result<(), String> {
    let url = openidconnect::url::Url::parse(public_url)
        .map_err(|e| format!("oidc.public_url is not a URL ({public_url}): {e}"))?;
    use openidconnect::url::Host;
    let loopback = |host: &Host<&str>| match host {
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    };
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if loopback(&host) => Ok(()),
        ("http", Some(_)) => Err(format!(
            "oidc.public_url ({public_url}) must be https: plain http is accepted only on \
             127.0.0.1, ::1 or localhost"
        )),
        _ => Err(format!(
            "oidc.public_url ({public_url}) must be an https URL with a host"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_public_url(public_url: &str) -> OidcConfig {
        OidcConfig {
            issuer: Some("https://id.example".to_owned()),
            public_url: public_url.to_owned(),
            ..OidcConfig::default()
        }
    }

    #[test]
    fn plain_http_is_accepted_on_loopback_only() {
        for fine in [
            "https://redress.example",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "http://localhost:8080/",
        ] {
            assert_eq!(with_public_url(fine).validate(None), Ok(()), "{fine}");
        }
        for refused in [
            "http://redress.example",
            "http://10.0.0.7:8080",
            "http://127.0.0.1.nip.io",
            "ftp://redress.example",
            "redress.example",
        ] {
            let err = with_public_url(refused).validate(None).expect_err(refused);
            assert!(err.contains("oidc.public_url"), "{err}");
        }
    }

    #[test]
    fn the_api_audience_must_not_be_the_console_client() {
        let config = with_public_url("https://redress.example");
        assert!(config.validate(Some("redress-api")).is_ok());
        let err = config
            .validate(Some(config.client_id.as_str()))
            .expect_err("same audience");
        assert!(err.contains("graphql.auth.audience"), "{err}");
    }
}
