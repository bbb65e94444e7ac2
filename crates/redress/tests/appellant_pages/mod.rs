//! The appellant's status page as the notices link to it and a browser shows it.

use crate::webdriver::Browser;

/// The status link in a notice's text; every notice about a case carries the same one.
pub fn status_link(notice: &str) -> String {
    let start = notice
        .find("http://")
        .unwrap_or_else(|| panic!("no link in {notice}"));
    notice[start..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_owned()
}

/// Opens `link` and checks the page of an appeal waiting for a reviewer: the state, the
/// decision date `due` and the account suspension under `policy` it is about.
pub async fn assert_waiting(person: &Browser, link: &str, due: &str, policy: &str) {
    person.goto(link).await;
    person.wait("#state").await;
    assert_eq!(
        person.text("#state").await,
        "Received, waiting for a reviewer"
    );
    assert_eq!(person.text("#decision-due").await, due);
    let enforcement = person.text("#enforcement").await;
    assert!(
        enforcement.contains("account suspended") && enforcement.contains(policy),
        "{enforcement}"
    );
}

/// Opens `link` and checks the page of an upheld appeal: the state and the `reasons`.
pub async fn assert_upheld(person: &Browser, link: &str, reasons: &str) {
    person.goto(link).await;
    person.wait("#decision-reasons").await;
    assert_eq!(person.text("#decision-reasons").await, reasons);
    assert_eq!(
        person.text("#state").await,
        "Decided: the original decision stands"
    );
}
