//! The provider's keys from its `jwks_uri`, over a real socket: kept as long as
//! `Cache-Control` says, fetched again for an unknown `kid` at most once per interval, and
//! never trusted when they cannot be fetched; a slow fetch holds up no token the cached
//! keys can check; an interval below the least one is refused. The server counts the
//! fetches. The refetch interval is the least accepted, [`MIN_REFETCH_INTERVAL`], and the
//! tests wait it out where a second fetch is expected.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use redress_graphql::auth::{AuthError, AuthSettings, AuthSetupError, Verifier};
use redress_graphql::jwks::MIN_REFETCH_INTERVAL;
use serde_json::json;
use tokio::sync::Notify;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn token(kid: &str) -> String {
    let key = EncodingKey::from_rsa_pem(&std::fs::read(fixture("rsa_private.pem")).expect("read"))
        .expect("rsa key");
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let claims = json!({
        "sub": "platform", "iss": "redress", "aud": "redress-api",
        "exp": (now() + TimeDelta::minutes(10)).timestamp(), "roles": ["integration"],
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

#[derive(Clone)]
struct KeyServer {
    fetches: Arc<AtomicUsize>,
    cache_control: &'static str,
    status: StatusCode,
    /// When set, every fetch after the first waits for it to be notified.
    hold: Option<Arc<Notify>>,
}

async fn jwks(State(server): State<KeyServer>) -> impl IntoResponse {
    let fetch = server.fetches.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(hold) = server.hold.as_ref().filter(|_| fetch > 1) {
        hold.notified().await;
    }
    let body = std::fs::read_to_string(fixture("jwks.json")).expect("jwks fixture");
    (
        server.status,
        [
            (header::CACHE_CONTROL, server.cache_control),
            (header::CONTENT_TYPE, "application/json"),
        ],
        body,
    )
}

/// Serves the fixture key set; returns its URL and the fetch counter.
async fn serve(cache_control: &'static str, status: StatusCode) -> (String, Arc<AtomicUsize>) {
    serve_holding(cache_control, status, None).await
}

async fn serve_holding(
    cache_control: &'static str,
    status: StatusCode,
    hold: Option<Arc<Notify>>,
) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let server = KeyServer {
        fetches: fetches.clone(),
        cache_control,
        status,
        hold,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = Router::new().route("/jwks", get(jwks)).with_state(server);
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{address}/jwks"), fetches)
}

fn verifier(uri: String, refetch_interval_seconds: u64) -> Verifier {
    Verifier::from_settings(&AuthSettings {
        jwks_uri: Some(uri),
        jwks_refetch_interval_seconds: refetch_interval_seconds,
        ..AuthSettings::default()
    })
    .expect("verifier")
}

/// Lets the least refetch interval pass.
async fn wait_out_the_interval() {
    tokio::time::sleep(MIN_REFETCH_INTERVAL).await;
}

#[tokio::test]
async fn keys_are_kept_as_long_as_max_age_says_and_an_unknown_kid_fetches_again() {
    let (uri, fetches) = serve("public, max-age=3600", StatusCode::OK).await;
    let verifier = verifier(uri, MIN_REFETCH_INTERVAL.as_secs());
    for _ in 0..3 {
        let actor = verifier
            .authenticate(&token("rsa-1"), now())
            .await
            .expect("accepted");
        assert_eq!(actor.subject(), Some("platform"));
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "fresh keys are not fetched again"
    );
    wait_out_the_interval().await;
    assert_eq!(
        verifier.authenticate(&token("rotated-in"), now()).await,
        Err(AuthError::UnknownKey)
    );
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "an unknown kid fetches the keys again"
    );
}

#[tokio::test]
async fn unknown_kids_fetch_at_most_once_per_interval() {
    let (uri, fetches) = serve("no-store", StatusCode::OK).await;
    let verifier = verifier(uri, 3600);
    verifier
        .authenticate(&token("rsa-1"), now())
        .await
        .expect("accepted");
    for kid in ["forged-1", "forged-2", "forged-3"] {
        assert_eq!(
            verifier.authenticate(&token(kid), now()).await,
            Err(AuthError::UnknownKey)
        );
    }
    // `no-store` asks for a fetch at every use, but not before the interval: the keys held
    // serve meanwhile.
    verifier
        .authenticate(&token("rsa-1"), now())
        .await
        .expect("accepted with the keys held");
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn no_store_keys_are_fetched_again_once_the_interval_allows() {
    let (uri, fetches) = serve("no-store", StatusCode::OK).await;
    let verifier = verifier(uri, MIN_REFETCH_INTERVAL.as_secs());
    for _ in 0..2 {
        verifier
            .authenticate(&token("rsa-1"), now())
            .await
            .expect("accepted");
        wait_out_the_interval().await;
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn keys_that_cannot_be_fetched_let_nothing_through() {
    let (uri, fetches) = serve("no-store", StatusCode::INTERNAL_SERVER_ERROR).await;
    let verifier = verifier(uri, MIN_REFETCH_INTERVAL.as_secs());
    assert!(matches!(
        verifier.authenticate(&token("rsa-1"), now()).await,
        Err(AuthError::KeysUnavailable(_))
    ));
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // Nor are they when nobody answers at all.
    let closed = verifier_for_closed_port().await;
    assert!(matches!(
        closed.authenticate(&token("rsa-1"), now()).await,
        Err(AuthError::KeysUnavailable(_))
    ));
}

async fn verifier_for_closed_port() -> Verifier {
    let port = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    verifier(
        format!("http://127.0.0.1:{port}/jwks"),
        MIN_REFETCH_INTERVAL.as_secs(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_fetch_holds_up_no_token_the_cached_keys_can_check() {
    let hold = Arc::new(Notify::new());
    let (uri, fetches) = serve_holding("no-store", StatusCode::OK, Some(hold.clone())).await;
    let verifier = Arc::new(verifier(uri, MIN_REFETCH_INTERVAL.as_secs()));
    verifier
        .authenticate(&token("rsa-1"), now())
        .await
        .expect("accepted");
    wait_out_the_interval().await;
    // This one fetches again, and the server holds its answer.
    let fetching = tokio::spawn({
        let verifier = verifier.clone();
        async move { verifier.authenticate(&token("rsa-1"), now()).await }
    });
    while fetches.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // Meanwhile another token is checked with the keys held, without waiting for it.
    let actor = verifier
        .authenticate(&token("rsa-1"), now())
        .await
        .expect("accepted with the keys held");
    assert_eq!(actor.subject(), Some("platform"));
    assert!(
        !fetching.is_finished(),
        "the fetch is still held by the server"
    );
    hold.notify_one();
    fetching.await.expect("task").expect("accepted");
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[test]
fn a_refetch_interval_below_the_least_is_refused() {
    let refused = Verifier::from_settings(&AuthSettings {
        jwks_uri: Some("https://id.example/jwks".to_owned()),
        jwks_refetch_interval_seconds: 0,
        ..AuthSettings::default()
    });
    assert!(matches!(
        refused,
        Err(AuthSetupError::RefetchIntervalTooShort(_))
    ));
}
