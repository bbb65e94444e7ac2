//! The reviewer console: static ES modules, HTML and CSS compiled into the binary and served
//! at `/console/`. The console talks only to the public GraphQL API, so this module serves
//! files and security headers and nothing else.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

/// Where the console is mounted. The trailing slash matters: the modules import each other
/// by relative paths.
pub const MOUNT: &str = "/console/";

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../console/", $name)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the console. A file missing here is a 404, so nothing else in the folder
/// can be served by accident.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("console.css", CSS),
    asset!("app.js", JS),
    asset!("dom.js", JS),
    asset!("format.js", JS),
    asset!("graphql.js", JS),
    asset!("live.js", JS),
    asset!("session.js", JS),
    asset!("drafts.js", JS),
    asset!("keys.js", JS),
    asset!("menu.js", JS),
    asset!("claim.js", JS),
    asset!("queue.js", JS),
    asset!("triage.js", JS),
    asset!("case.js", JS),
    asset!("composer.js", JS),
    asset!("bulk.js", JS),
    asset!("decide.js", JS),
    asset!("job_follow.js", JS),
    asset!("transparency.js", JS),
    asset!("routing.js", JS),
    asset!("review.js", JS),
    asset!("policies.js", JS),
    asset!("audit.js", JS),
    asset!("charts.js", JS),
    asset!("search.js", JS),
];

pub fn routes() -> Router {
    Router::new()
        .route("/console", get(|| async { Redirect::permanent(MOUNT) }))
        .route(MOUNT, get(index))
        .route("/console/{file}", get(file))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve(&name, &headers)
}

fn serve(name: &str, request: &HeaderMap) -> Response {
    let Some((asset, etag)) = ASSETS
        .iter()
        .zip(etags())
        .find(|(asset, _)| asset.name == name)
    else {
        return (
            StatusCode::NOT_FOUND,
            security_headers(request),
            "not found",
        )
            .into_response();
    };
    let mut headers = security_headers(request);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    let revalidated = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if revalidated {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (StatusCode::OK, headers, asset.body).into_response()
}

/// Content hashes of the assets, in `ASSETS` order: browsers revalidate every load
/// (`no-cache`) and get a 304 until the binary ships a changed file.
fn etags() -> &'static [String] {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.body);
                let hex = digest[..16]
                    .iter()
                    .fold(String::with_capacity(32), |mut hex, byte| {
                        let _ = write!(hex, "{byte:02x}");
                        hex
                    });
                format!("\"{hex}\"")
            })
            .collect()
    })
}

/// The console runs only its own files: no inline script or style, no framing, no other
/// origins. Untrusted text is rendered as text by the code; this policy is the second line.
fn security_headers(request: &HeaderMap) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(request)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
}

/// `connect-src` names the websocket origin of the host the page was loaded from, because
/// not every browser counts `ws:`/`wss:` of the same host as `'self'`.
pub fn content_security_policy(request: &HeaderMap) -> String {
    let host = request
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| is_plain_host(host));
    let sockets = host.map_or_else(String::new, |host| format!(" ws://{host} wss://{host}"));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{sockets}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// A host header that cannot smuggle another directive or source into the policy.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(asset: &Asset) -> &'static str {
        std::str::from_utf8(asset.body).expect("assets are UTF-8")
    }

    /// The policy forbids inline script and style; the code must not parse strings as
    /// markup or code either, or one appellant's message could become script.
    #[test]
    fn no_asset_parses_strings_as_markup_or_code() {
        for asset in ASSETS {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
                "createContextualFragment",
                "DOMParser",
                "style=",
            ] {
                assert!(!text(asset).contains(sink), "{} uses `{sink}`", asset.name);
            }
        }
        let index = ASSETS
            .iter()
            .find(|asset| asset.name == "index.html")
            .expect("index");
        assert!(
            !text(index).contains("<style"),
            "inline style in index.html"
        );
        for script in text(index).split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("type=\"module\" src="),
                "inline script in index.html"
            );
        }
    }

    #[test]
    fn every_module_imported_is_served() {
        for asset in ASSETS {
            for line in text(asset)
                .lines()
                .filter(|line| line.starts_with("import "))
            {
                let target = line
                    .split("'./")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .unwrap_or_else(|| panic!("{}: relative import expected: {line}", asset.name));
                assert!(
                    ASSETS.iter().any(|served| served.name == target),
                    "{} imports {target}, which is not served",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn a_host_with_policy_syntax_is_left_out_of_the_policy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("evil.test; script-src *"),
        );
        let policy = content_security_policy(&headers);
        assert!(!policy.contains("evil"), "{policy}");
        assert!(policy.contains("connect-src 'self';"), "{policy}");
    }

    #[test]
    fn the_policy_allows_websockets_to_the_page_host_only() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let policy = content_security_policy(&headers);
        assert!(
            policy.contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;"),
            "{policy}"
        );
        assert!(policy.contains("script-src 'self';"), "{policy}");
    }
}
