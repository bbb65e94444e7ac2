//! The console's header in headless Chromium with every screen a person can be offered (an
//! administrator who also triages and reviews, with a long name), on both backends: at 1366
//! and at 1024 pixels wide nothing scrolls sideways and Sign out is whole, on screen and
//! the element a click there reaches; at 1366 it stays on the header's one line. The
//! administrators' screens sit in a menu opened by a real button that says whether it is
//! open, and Escape closes it with the focus back on the button.
//!
//! The picture of the header goes to `target/console-screenshots/header-<backend>.png`.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod webdriver;

use api::TestApp;
use redress_core::Role;
use serde_json::{json, Value};
use thirtyfour::Key;
use webdriver::{Browser, Driver};

/// Where the header's parts are, in CSS pixels of the viewport.
const LAYOUT: &str = r"
const root = document.documentElement;
const out = document.getElementById('sign-out').getBoundingClientRect();
const nav = document.getElementById('nav').getBoundingClientRect();
const hit = document.elementFromPoint(out.left + out.width / 2, out.top + out.height / 2);
return {
  width: window.innerWidth, height: window.innerHeight,
  scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
  signOut: { left: out.left, right: out.right, top: out.top, bottom: out.bottom, middle: (out.top + out.bottom) / 2 },
  nav: { top: nav.top, bottom: nav.bottom },
  hit: hit ? hit.id : null,
  widths: Object.fromEntries(['.brand', '#nav', '#search', '#identity'].map((css) => [css, document.querySelector(css).getBoundingClientRect().width])),
};";

fn number(layout: &Value, path: &[&str]) -> f64 {
    let mut value = layout;
    for key in path {
        value = &value[*key];
    }
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{path:?} in {layout}"))
}

/// The header at `width` pixels: no sideways scrolling, Sign out whole, visible and on top.
async fn header_fits(browser: &Browser, width: u32) -> Value {
    browser.resize(width, 768).await;
    browser
        .wait_until(
            &format!("a viewport {width} pixels wide"),
            &format!("return window.innerWidth === {width} || null"),
        )
        .await;
    let layout = browser.execute(LAYOUT).await;
    assert!(
        number(&layout, &["scrollWidth"]) <= number(&layout, &["clientWidth"]),
        "the page scrolls sideways at {width}: {layout}"
    );
    assert!(number(&layout, &["signOut", "left"]) >= 0.0, "{layout}");
    assert!(
        number(&layout, &["signOut", "right"]) <= number(&layout, &["clientWidth"]),
        "Sign out is cut off at {width}: {layout}"
    );
    assert!(number(&layout, &["signOut", "top"]) >= 0.0, "{layout}");
    assert!(
        number(&layout, &["signOut", "bottom"]) <= number(&layout, &["height"]),
        "{layout}"
    );
    assert_eq!(
        layout["hit"],
        json!("sign-out"),
        "a click on Sign out reaches it at {width}: {layout}"
    );
    layout
}

redress_engine::backend_tests! {
    async fn the_header_fits_1366_and_1024_pixels_and_its_admin_menu_works_by_keyboard(db) {
        if !webdriver::available("console header") {
            db.cleanup().await;
            return;
        }
        let app = TestApp::start(&db).await;
        let everything = app.token(
            "margaret.hamilton-okonkwo",
            &[Role::Triager, Role::Reviewer, Role::SeniorReviewer, Role::Support, Role::Admin],
        );
        let driver = Driver::launch().await;
        let browser = driver.browser("header").await;
        browser.goto(&format!("http://{}/console/", app.app.http_addr)).await;
        browser.type_into("#token", &everything).await;
        browser.click("#sign-in-form button[type=submit]").await;
        browser.wait("#nav a[href='#/queue']").await;
        for offered in ["#nav-triage a", "#nav-review a", "#admin-menu-button"] {
            browser.wait(offered).await;
        }

        let wide = header_fits(&browser, 1366).await;
        let middle = number(&wide, &["signOut", "middle"]);
        assert!(
            number(&wide, &["nav", "top"]) <= middle && middle <= number(&wide, &["nav", "bottom"]),
            "at 1366 the header is one line: {wide}"
        );
        let backend = app.app.state.engine.backend().as_str();
        browser
            .screenshot(
                &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("../../target/console-screenshots/header-{backend}.png")),
            )
            .await;

        // The administrators' menu, by keyboard: Enter opens it, Tab reaches its first
        // screen, Escape closes it and gives the focus back to its button.
        assert_eq!(browser.execute("return document.getElementById('admin-menu').hidden").await, json!(true));
        browser.execute("document.getElementById('admin-menu-button').focus(); return null").await;
        browser.press(Key::Enter).await;
        browser.wait("#nav-routing a").await;
        assert_eq!(
            browser.execute("return document.getElementById('admin-menu-button').getAttribute('aria-expanded')").await,
            json!("true")
        );
        browser.press(Key::Tab).await;
        assert_eq!(browser.execute("return document.activeElement.getAttribute('href')").await, json!("#/routing"));
        browser.press(Key::Escape).await;
        browser
            .wait_until("the menu to close", "return document.getElementById('admin-menu').hidden || null")
            .await;
        assert_eq!(
            browser.execute("return [document.activeElement.id, document.getElementById('admin-menu-button').getAttribute('aria-expanded')]").await,
            json!(["admin-menu-button", "false"])
        );

        // A screen from the menu: the menu closes and its button shows where one is.
        browser.click("#admin-menu-button").await;
        browser.click("#nav-policies a").await;
        browser.wait_until("the policies screen", "return window.location.hash === '#/policies' || null").await;
        assert_eq!(
            browser.execute("return [document.getElementById('admin-menu').hidden, document.getElementById('admin-menu-button').classList.contains('current')]").await,
            json!([true, true])
        );
        // A click elsewhere closes an open menu.
        browser.click("#admin-menu-button").await;
        browser.wait("#nav-audit a").await;
        browser.click(".brand").await;
        browser
            .wait_until("the menu to close on a click elsewhere", "return document.getElementById('admin-menu').hidden || null")
            .await;

        header_fits(&browser, 1024).await;
        browser.click("#sign-out").await;
        browser.wait("#token").await;
        browser.quit().await;
        app.stop().await;
        db.cleanup().await;
    }
}
