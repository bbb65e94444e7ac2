//! The system's headless Chromium, driven through `chromedriver` with the `thirtyfour`
//! WebDriver client. What stays here is this project's setup (the browser's flags, one
//! profile per person, the deadlines) and how a test gives up: with a screenshot and what
//! the page showed. Every wait polls for a condition with a deadline; nothing sleeps blindly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;
use thirtyfour::LoggingPrefsLogLevel;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Headless and sandbox-free for containers; a fixed window so screenshots compare.
const CHROMIUM_ARGS: [&str; 7] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
    "--no-first-run",
    "--no-default-browser-check",
];
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// Whether the browser tests can run here. Without the browser they fail in CI (`CI=true`
/// or `CI=1`) and are skipped with a notice elsewhere.
pub fn available(test: &str) -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        !redress_engine::testing::in_ci(),
        "{test}: {CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    );
    eprintln!("skipping {test}: {CHROMEDRIVER} or {CHROMIUM} is missing");
    false
}

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    process: Child,
    address: String,
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
            address: format!("127.0.0.1:{port}"),
            profiles: tempfile::tempdir().expect("profile dir"),
        };
        wait_for("chromedriver to listen", || async {
            tokio::net::TcpStream::connect(&driver.address)
                .await
                .ok()
                .map(drop)
        })
        .await;
        driver
    }

    /// A new browser with its own profile: its own storage, like a second person's browser.
    pub async fn browser(&self, name: &str) -> Browser {
        let profile = self.profiles.path().join(name);
        let mut capabilities = DesiredCapabilities::chrome();
        capabilities.set_binary(CHROMIUM).expect("chromium binary");
        for arg in CHROMIUM_ARGS {
            capabilities.add_arg(arg).expect("chromium flag");
        }
        capabilities
            .add_arg(&format!("--user-data-dir={}", profile.display()))
            .expect("chromium profile");
        capabilities
            .set_browser_log_level(LoggingPrefsLogLevel::All)
            .expect("browser log level");
        let session = WebDriver::new(format!("http://{}", self.address), capabilities)
            .await
            .expect("new session");
        Browser { session }
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
    session: WebDriver,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        if let Err(error) = self.session.goto(url).await {
            panic!("navigate to {url}: {error}");
        }
    }

    /// Loads the page again (a new document, unlike a change of the URL's fragment).
    pub async fn refresh(&self) {
        if let Err(error) = self.session.refresh().await {
            panic!("refresh: {error}");
        }
    }

    /// The first element matching `css` now, if any.
    async fn find(&self, css: &str) -> Option<WebElement> {
        self.session.find(By::Css(css)).await.ok()
    }

    /// Waits for an element matching `css` that is displayed.
    pub async fn wait(&self, css: &str) -> WebElement {
        // A re-render may replace the element while it is being looked at: a stale element
        // is one not found yet, not a failure.
        let found = poll(|| async {
            let element = self.find(css).await?;
            element.is_displayed().await.ok()?.then_some(element)
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
            .session
            .execute(
                "return [...document.querySelectorAll('[role=alert], #live-status')].map((e) => e.textContent).join(' | ')",
                Vec::new(),
            )
            .await
            .map_or_else(|error| error.to_string(), |notices| notices.json().to_string());
        let log = self
            .read_log()
            .await
            .unwrap_or_else(|error| vec![error.to_string()]);
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

    pub async fn click(&self, css: &str) {
        let element = self.wait(css).await;
        // A re-render between finding and clicking replaces the element: find it again.
        wait_for(&format!("a click on `{css}`"), || async {
            let target = self.find(css).await.unwrap_or_else(|| element.clone());
            target.click().await.ok()
        })
        .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait(css).await;
        // Controls inside a scrolling panel may need scrolling to before they take keys.
        let typed = poll(|| async {
            let element = self.find(css).await?;
            element.scroll_into_view().await.ok()?;
            element.send_keys(text).await.ok()
        })
        .await;
        if typed.is_none() {
            self.fail(&format!("typing into `{css}`")).await;
        }
    }

    /// Presses `keys` on whatever has the focus, as someone at the keyboard would.
    pub async fn press(&self, keys: impl Into<TypingData>) {
        let pressed = self.session.action_chain().send_keys(keys).perform().await;
        if let Err(error) = pressed {
            panic!("pressing keys: {error}");
        }
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let chosen = poll(|| async {
            let element = self.find(css).await?;
            let select = SelectElement::new(&element).await.ok()?;
            select.select_by_value(value).await.ok()
        })
        .await;
        if chosen.is_none() {
            self.fail(&format!("choosing {value:?} in `{css}`")).await;
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await;
        // A re-render between finding and reading replaces the element: find it again.
        let text = poll(|| async { self.find(css).await?.text().await.ok() }).await;
        match text {
            Some(text) => text,
            None => self.fail(&format!("the text of `{css}`")).await,
        }
    }

    /// Runs `script` (a function body, e.g. `return document.title`) in the page.
    pub async fn execute(&self, script: &str) -> Value {
        match self.session.execute(script, Vec::new()).await {
            Ok(value) => value.json().clone(),
            Err(error) => panic!("script failed: {error}"),
        }
    }

    /// Runs `script` (an async function body) in the page and returns what it resolves to.
    pub async fn execute_async(&self, script: &str) -> Value {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1]; \
             (async () => {{ {script} }})().then(done, (err) => done({{failed: String(err)}}));"
        );
        match self.session.execute_async(wrapped, Vec::new()).await {
            Ok(value) => value.json().clone(),
            Err(error) => panic!("script failed: {error}"),
        }
    }

    /// Messages the page wrote to the console or raised (errors, CSP violations).
    pub async fn log(&self) -> Vec<String> {
        self.read_log().await.expect("browser log")
    }

    /// Fails the test when the page logged a script error or a Content Security Policy
    /// violation, which a page can do while still showing what the test looks for;
    /// `whose` names the browser in the message.
    pub async fn assert_no_errors_logged(&self, whose: &str) {
        let problems: Vec<String> = self
            .log()
            .await
            .into_iter()
            .filter(|line| line.contains("SEVERE") || line.contains("Content Security Policy"))
            .collect();
        assert!(problems.is_empty(), "{whose} logged: {problems:?}");
    }

    async fn read_log(&self) -> WebDriverResult<Vec<String>> {
        let entries = self.session.browser_log().await?;
        Ok(entries
            .into_iter()
            .map(|entry| format!("{} {}", entry.level, entry.message))
            .collect())
    }

    /// From the next page load on, websockets never connect, as behind a proxy that drops
    /// them: the page keeps working over HTTP without live updates.
    pub async fn drop_websockets(&self) {
        let source =
            "window.WebSocket = class { static OPEN = 1; constructor() { this.readyState = 0; } \
                      addEventListener() {} send() {} close() {} };";
        let added = self
            .session
            .cdp()
            .page()
            .add_script_to_evaluate_on_new_document(source)
            .await;
        assert!(added.is_ok(), "{added:?}");
    }

    /// Resizes the window; headless, the page gets all of it.
    pub async fn resize(&self, width: u32, height: u32) {
        if let Err(error) = self.session.set_window_rect(0, 0, width, height).await {
            panic!("resize to {width}x{height}: {error}");
        }
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &PathBuf) {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).expect("screenshot folder");
        }
        let png = self.session.screenshot_as_png().await.expect("screenshot");
        std::fs::write(path, png).expect("write screenshot");
    }

    pub async fn quit(self) {
        self.session.quit().await.expect("end the browser session");
    }
}
