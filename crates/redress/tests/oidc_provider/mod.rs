//! A real OpenID provider for the sign-in tests: npm's `oidc-provider` (see
//! `tests/oidc/provider.mjs`), installed by `npm ci` in `tests/oidc` (`.ci/run` does it) and
//! run with Node on a loopback port. Without it the tests fail in CI and are skipped with a
//! notice elsewhere.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const CONSOLE_CLIENT: &str = "redress-console";
pub const CONSOLE_SECRET: &str = "redress-console-secret-for-tests-only";
pub const SERVICE_CLIENT: &str = "platform-service";
pub const SERVICE_SECRET: &str = "platform-service-secret-for-tests-only";
/// The resource (audience) of API callers' access tokens.
pub const API_AUDIENCE: &str = "urn:redress:api";
pub const OTHER_AUDIENCE: &str = "urn:other:api";

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether the provider can run here: Node, and `node_modules` installed by `npm ci`.
pub fn available(test: &str) -> bool {
    let installed = folder()
        .join("node_modules/oidc-provider/package.json")
        .exists();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed && node {
        return true;
    }
    let missing = if node {
        "crates/redress/tests/oidc/node_modules is missing: run `npm ci --prefix crates/redress/tests/oidc` (.ci/run does)"
    } else {
        "`node` (Node.js 20 or later) is not on the PATH"
    };
    assert!(
        !redress_engine::testing::in_ci(),
        "{test}: the OpenID provider cannot run: {missing}"
    );
    eprintln!("skipping {test}: {missing}");
    false
}

/// A running provider, stopped when dropped.
pub struct TestProvider {
    process: Child,
    pub port: u16,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl TestProvider {
    /// Starts the provider on `port`, signing with a fresh key named `key_id`; `redress`
    /// is Redress's public URL (for the redirect URIs).
    pub fn start(port: u16, key_id: &str, redress: &str) -> Self {
        Self::spawn(port, key_id, redress, false)
    }

    /// As [`TestProvider::start`], but with the provider's default of OpenID Connect Core
    /// 5.4: the claims of the scopes asked for (the groups) are in its userinfo answer only,
    /// not in the ID token.
    pub fn start_with_claims_in_userinfo_only(port: u16, key_id: &str, redress: &str) -> Self {
        Self::spawn(port, key_id, redress, true)
    }

    fn spawn(port: u16, key_id: &str, redress: &str, claims_in_userinfo_only: bool) -> Self {
        let mut process = Command::new("node")
            .arg(folder().join("provider.mjs"))
            .current_dir(folder())
            .env("PORT", port.to_string())
            .env("KEY_ID", key_id)
            .env("REDIRECT_URI", format!("{redress}/auth/callback"))
            .env("POST_LOGOUT_URI", format!("{redress}/console/"))
            .env(
                "CLAIMS_IN_USERINFO_ONLY",
                claims_in_userinfo_only.to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the OpenID provider (node)");
        let stdout = process.stdout.take().expect("provider stdout");
        let (ready, waiting) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim() == "listening" {
                    let _ = ready.send(());
                }
            }
        });
        if waiting.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = process.kill();
            panic!("the OpenID provider did not start on port {port}");
        }
        Self { process, port }
    }

    pub fn issuer(&self) -> String {
        issuer(self.port)
    }

    /// Stops the provider (a restart on the same port follows, or a test of it being down).
    pub fn stop(mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// An access token (a JWT) of the platform's service, for `audience`.
    pub async fn service_token(&self, audience: &str) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.issuer()))
            .basic_auth(SERVICE_CLIENT, Some(SERVICE_SECRET))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "api"),
                ("resource", audience),
            ])
            .send()
            .await
            .expect("token request");
        let status = response.status();
        let body: Value = response.json().await.expect("token response");
        assert!(status.is_success(), "token request refused: {body}");
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {body}"))
            .to_owned()
    }
}

pub fn issuer(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// A browser without a browser: a cookie jar that follows the provider's redirects and
/// fills its built-in login and consent forms, stopping where the provider sends the
/// browser back to Redress.
pub struct HttpBrowser {
    pub client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl HttpBrowser {
    pub fn new() -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar,
        }
    }

    /// The `Cookie` header this browser sends to `url`.
    pub fn cookies_for(&self, url: &str) -> String {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(url).expect("URL");
        self.jar
            .cookies(&url)
            .and_then(|value| value.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    }

    /// GET `url`; the response, with redirects not followed.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.expect("GET")
    }

    /// Starts a sign-in at `redress` and signs in at the provider as `login`; returns the
    /// URL the provider sends the browser back to (Redress's callback with code and state).
    pub async fn sign_in_at_provider(&self, redress: &str, login: &str) -> String {
        let started = self
            .get(&format!("{redress}/auth/login?return_to=%23%2Fqueue"))
            .await;
        assert_eq!(started.status(), 303, "sign-in start: {started:?}");
        let mut next = location(&started, redress);
        for _ in 0..20 {
            if next.starts_with(&format!("{redress}/")) {
                return next;
            }
            let response = self.get(&next).await;
            if response.status().is_redirection() {
                next = location(&response, &next);
                continue;
            }
            let page = response.text().await.expect("page");
            let form = if page.contains("value=\"login\"") {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if page.contains("value=\"consent\"") {
                vec![("prompt", "consent")]
            } else {
                panic!("an unexpected page at {next}: {page}");
            };
            let submitted = self
                .client
                .post(&next)
                .form(&form)
                .send()
                .await
                .expect("POST the form");
            assert!(
                submitted.status().is_redirection(),
                "the provider's form answered {}",
                submitted.status()
            );
            next = location(&submitted, &next);
        }
        panic!("the provider never sent the browser back to Redress");
    }
}

/// The absolute `Location` of a redirect, resolved against `base`.
pub fn location(response: &reqwest::Response, base: &str) -> String {
    let target = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("a redirect without Location: {response:?}"));
    reqwest::Url::parse(base)
        .and_then(|base| base.join(target))
        .expect("Location URL")
        .to_string()
}
