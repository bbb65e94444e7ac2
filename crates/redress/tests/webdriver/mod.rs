//! A small W3C WebDriver client over HTTP, driving the system's headless Chromium through
//! `chromedriver`. Every wait polls for a condition with a deadline; nothing sleeps blindly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Whether the browser tests can run here. Without the browser they fail under `CI=true`
/// and are skipped with a notice elsewhere.
pub fn available(test: &str) -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    );
    eprintln!("skipping {test}: {CHROMEDRIVER} or {CHROMIUM} is missing");
    false
}

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    process: Child,
    base: String,
    http: reqwest::Client,
    profiles: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    pub async fn launch() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Self {
            process,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            profiles: tempfile::tempdir().expect("profile dir"),
        };
        let status = format!("{}/status", driver.base);
        let http = driver.http.clone();
        wait_for("chromedriver to be ready", || {
            let (http, status) = (http.clone(), status.clone());
            async move {
                let body: Value = http.get(&status).send().await.ok()?.json().await.ok()?;
                body["value"]["ready"].as_bool().filter(|ready| *ready)
            }
        })
        .await;
        driver
    }

    /// A new browser with its own profile: its own storage, like a second person's browser.
    pub async fn browser(&self, name: &str) -> Browser {
        let profile = self.profiles.path().join(name);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1366,768", "--no-first-run", "--no-default-browser-check",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let response: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session json");
        let id = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"));
        Browser {
            http: self.http.clone(),
            session: format!("{}/session/{id}", self.base),
        }
    }
}

/// Polls `probe` until it yields a value, panicking with `what` after the deadline.
pub async fn wait_for<T, F, Fut>(what: &str, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    match poll(probe).await {
        Some(value) => value,
        None => panic!("timed out waiting for {what}"),
    }
}

/// Polls `probe` until it yields a value; `None` after the deadline.
async fn poll<T, F, Fut>(mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One browser session.
pub struct Browser {
    http: reqwest::Client,
    session: String,
}

/// An element of the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver json");
        response["value"].clone()
    }

    async fn try_call(&self, path: &str, body: Value) -> Result<Value, Value> {
        let value = self.call(reqwest::Method::POST, path, Some(body)).await;
        if value.get("error").is_some() {
            Err(value)
        } else {
            Ok(value)
        }
    }

    pub async fn goto(&self, url: &str) {
        let value = self
            .call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
        assert!(value.get("error").is_none(), "navigate: {value}");
    }

    /// Loads the page again (a new document, unlike a change of the URL's fragment).
    pub async fn refresh(&self) {
        let value = self
            .call(reqwest::Method::POST, "/refresh", Some(json!({})))
            .await;
        assert!(value.get("error").is_none(), "refresh: {value}");
    }

    /// The first element matching `css` now, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        let value = self
            .try_call("/element", json!({"using": "css selector", "value": css}))
            .await
            .ok()?;
        value[ELEMENT].as_str().map(|id| Element(id.to_owned()))
    }

    /// Waits for an element matching `css` that is displayed.
    pub async fn wait(&self, css: &str) -> Element {
        let found = poll(|| async {
            let element = self.find(css).await?;
            self.displayed(&element).await.then_some(element)
        })
        .await;
        match found {
            Some(element) => element,
            None => self.fail(&format!("element `{css}`")).await,
        }
    }

    /// Gives up on `what`, saving a screenshot and naming what the page showed and logged.
    async fn fail(&self, what: &str) -> ! {
        let shot = std::env::temp_dir().join(format!("console-failure-{}.png", std::process::id()));
        self.screenshot(&shot).await;
        let notices = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": "return [...document.querySelectorAll('[role=alert], #live-status')].map((e) => e.textContent).join(' | ')", "args": []})),
            )
            .await;
        let log = self.log().await;
        panic!(
            "timed out waiting for {what}; page notices: {notices}; browser log: {log:?}; screenshot: {}",
            shot.display()
        );
    }

    /// Waits until `script` (a function body) returns a truthy value; returns that value.
    pub async fn wait_until(&self, what: &str, script: &str) -> Value {
        let value = poll(|| async {
            let value = self.execute(script).await;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(flag) => *flag,
                Value::String(text) => !text.is_empty(),
                _ => true,
            };
            truthy.then_some(value)
        })
        .await;
        match value {
            Some(value) => value,
            None => self.fail(what).await,
        }
    }

    async fn displayed(&self, element: &Element) -> bool {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/displayed", element.0),
            None,
        )
        .await
        .as_bool()
        .unwrap_or(false)
    }

    pub async fn click(&self, css: &str) {
        let element = self.wait(css).await;
        // A re-render between finding and clicking replaces the element: find it again.
        wait_for(&format!("a click on `{css}`"), || async {
            let target = match self.find(css).await {
                Some(found) => found,
                None => element.clone(),
            };
            self.try_call(&format!("/element/{}/click", target.0), json!({}))
                .await
                .ok()
        })
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait(css).await;
        // Controls inside a scrolling panel may need scrolling to before they take keys.
        let typed = poll(|| async {
            let element = self.find(css).await?;
            self.try_call(
                "/execute/sync",
                json!({
                    "script": "arguments[0].scrollIntoView({block: 'center'})",
                    "args": [{ELEMENT: element.0}],
                }),
            )
            .await
            .ok()?;
            self.try_call(
                &format!("/element/{}/value", element.0),
                json!({"text": text}),
            )
            .await
            .ok()
        })
        .await;
        if typed.is_none() {
            self.fail(&format!("typing into `{css}`")).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.wait(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", element.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Runs `script` (a function body, e.g. `return document.title`) in the page.
    pub async fn execute(&self, script: &str) -> Value {
        let value = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        assert!(value.get("error").is_none(), "script failed: {value}");
        value
    }

    /// Runs `script` (an async function body) in the page and returns what it resolves to.
    pub async fn execute_async(&self, script: &str) -> Value {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1]; \
             (async () => {{ {script} }})().then(done, (err) => done({{failed: String(err)}}));"
        );
        let value = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script": wrapped, "args": []})),
            )
            .await;
        assert!(value.get("error").is_none(), "script failed: {value}");
        value
    }

    /// Messages the page wrote to the console or raised (errors, CSP violations).
    pub async fn log(&self) -> Vec<String> {
        let value = self
            .call(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        value
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| format!("{} {}", entry["level"], entry["message"]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// From the next page load on, websockets never connect, as behind a proxy that drops
    /// them: the page keeps working over HTTP without live updates.
    pub async fn drop_websockets(&self) {
        let source =
            "window.WebSocket = class { static OPEN = 1; constructor() { this.readyState = 0; } \
                      addEventListener() {} send() {} close() {} };";
        let value = self
            .try_call(
                "/goog/cdp/execute",
                json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": source}}),
            )
            .await;
        assert!(value.is_ok(), "{value:?}");
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &PathBuf) {
        use base64::Engine as _;
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().expect("screenshot data"))
            .expect("screenshot base64");
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).expect("screenshot folder");
        }
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn quit(self) {
        self.call(reqwest::Method::DELETE, "", None).await;
    }
}
