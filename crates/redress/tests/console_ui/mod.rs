//! The staff console as its browser tests reach it.

use crate::api::TestApp;
use crate::webdriver::Browser;

/// Signs in with `token` on the console's form; returns once the navigation is shown, so
/// the next step never races the sign-in.
pub async fn sign_in(browser: &Browser, app: &TestApp, token: &str) {
    browser
        .goto(&format!("http://{}/console/", app.app.http_addr))
        .await;
    browser.type_into("#token", token).await;
    browser.click("#sign-in-form button[type=submit]").await;
    browser.wait("#nav a[href='#/queue']").await;
}

/// The case screen's summary as one string: each fact's name runs into its value.
pub async fn case_summary(browser: &Browser) -> String {
    browser.wait("section[aria-labelledby=summary-title]").await;
    browser
        .execute(
            "return document.querySelector('section[aria-labelledby=summary-title]').textContent",
        )
        .await
        .as_str()
        .expect("summary text")
        .to_owned()
}
