//! Staff sign-in through a real OpenID provider (npm's `oidc-provider`, see
//! `tests/oidc_provider`): the authorization code flow with PKCE over HTTP and in Chromium,
//! roles mapped from the provider's groups, the CSRF and origin checks of the session
//! cookie, sign-out at the provider, session expiry with the reviewer's draft kept, the
//! refusals (wrong state, a replayed redirect, a wrong nonce, a missing or inexact `iss`, a
//! token for another audience, a sign-out from another origin), live sockets closed when
//! their session ends, a failed sign-out kept signed in, a provider that is down when
//! Redress starts (provider tokens answered 503, sign-in starts rate-limited), and API
//! callers' keys followed across a key rotation without a restart.

#[allow(dead_code)]
mod api;
mod oidc_provider;
#[allow(dead_code)]
mod webdriver;

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{config_for, free_port, TestApp, TRIAGE};
use chrono::{TimeDelta, Utc};
use futures_util::{SinkExt, StreamExt};
use oidc_provider::{HttpBrowser, TestProvider, API_AUDIENCE, OTHER_AUDIENCE};
use redress::config::{Config, Secret};
use redress_core::Role;
use redress_engine::testing::TestDb;
use redress_engine::ManualClock;
use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use webdriver::Driver;

const ME: &str = "query { me { subject roles } }";

/// One browser flow at a time on a small machine.
static BROWSERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Redress configured for the provider on `provider_port`, to be served on `redress_port`.
fn config_with_provider(db: &TestDb, provider_port: u16, redress_port: u16) -> Config {
    let mut config = config_for(db);
    let issuer = oidc_provider::issuer(provider_port);
    config.http.bind = format!("127.0.0.1:{redress_port}").parse().expect("bind");
    config.oidc.issuer = Some(issuer.clone());
    oidc_provider::CONSOLE_CLIENT.clone_into(&mut config.oidc.client_id);
    config.oidc.client_secret = Some(Secret::new(oidc_provider::CONSOLE_SECRET));
    config.oidc.public_url = format!("http://127.0.0.1:{redress_port}");
    config.oidc.scopes = vec!["profile".to_owned(), "groups".to_owned()];
    config.oidc.group_roles = BTreeMap::from([
        ("appeals-reviewers".to_owned(), vec![Role::Reviewer]),
        (
            "appeals-leads".to_owned(),
            vec![Role::SeniorReviewer, Role::Reviewer],
        ),
    ]);
    config.oidc.session_idle_minutes = 60;
    // API callers: the provider's keys by its jwks_uri, its issuer, this API's audience.
    // Development tokens (HS256, `config_for`'s secret) keep working beside them.
    config.graphql.auth.jwks_uri = Some(format!("{issuer}/jwks"));
    config.graphql.auth.issuer = Some(issuer);
    config.graphql.auth.audience = Some(API_AUDIENCE.to_owned());
    config.graphql.auth.jwks_refetch_interval_seconds = 5;
    // Subscription sockets of a session check it every second, so its end is seen soon.
    config.graphql.websocket_session_check_seconds = 1;
    config
}

/// Starts Redress on the service clock set to now (the provider's tokens carry real times).
async fn start(config: Config) -> TestApp {
    let clock = ManualClock::new(Utc::now());
    let app = Box::pin(redress::app::start_with_clock(
        config.clone(),
        Arc::new(clock.clone()),
    ))
    .await
    .expect("start");
    TestApp {
        app,
        clock,
        config,
        http: reqwest::Client::new(),
    }
}

fn base(app: &TestApp) -> String {
    format!("http://{}", app.app.http_addr)
}

/// The value of cookie `name` set by `response`, if any.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Posts `query` as the console does: the session cookie (from the jar) and `csrf`.
async fn post_with_session(
    browser: &HttpBrowser,
    app: &TestApp,
    csrf: Option<&str>,
    origin: Option<&str>,
) -> (u16, Value) {
    let mut request = browser.client.post(app.url()).json(&json!({"query": ME}));
    if let Some(csrf) = csrf {
        request = request.header("x-redress-csrf", csrf);
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.expect("POST /graphql");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn session_info(browser: &HttpBrowser, app: &TestApp) -> Value {
    browser
        .get(&format!("{}/auth/session", base(app)))
        .await
        .json()
        .await
        .expect("session json")
}

/// Opens a subscription socket with `cookie` (and `origin`, if given) on the handshake and
/// `payload` in `connection_init`; the server's first answer: a message type, a close code
/// (`close 4403`), or the refused handshake's HTTP status (`http 403`).
async fn socket_answer(
    app: &TestApp,
    cookie: &str,
    origin: Option<&str>,
    payload: Value,
) -> String {
    let mut request = app.ws_url().into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    headers.insert("cookie", cookie.parse().expect("cookie header"));
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().expect("origin header"));
    }
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return format!("http {}", response.status().as_u16());
        }
        Err(err) => panic!("websocket handshake: {err}"),
    };
    let init = json!({"type": "connection_init", "payload": payload});
    socket
        .send(Message::text(init.to_string()))
        .await
        .expect("init");
    let answer = match socket.next().await {
        Some(Ok(Message::Text(text))) => {
            let message: Value = serde_json::from_str(&text).expect("json message");
            message["type"].as_str().unwrap_or_default().to_owned()
        }
        Some(Ok(Message::Close(Some(frame)))) => format!("close {}", u16::from(frame.code)),
        other => panic!("unexpected websocket answer: {other:?}"),
    };
    socket.close(None).await.ok();
    answer
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A subscription socket of the session in `cookie`, acknowledged.
async fn session_socket(app: &TestApp, cookie: &str, origin: &str, csrf: &str) -> Socket {
    let mut request = app.ws_url().into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    headers.insert("cookie", cookie.parse().expect("cookie header"));
    headers.insert("origin", origin.parse().expect("origin header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket handshake");
    let init = json!({"type": "connection_init", "payload": {"csrfToken": csrf}});
    socket
        .send(Message::text(init.to_string()))
        .await
        .expect("init");
    match socket.next().await {
        Some(Ok(Message::Text(text))) => assert!(text.contains("connection_ack"), "{text}"),
        other => panic!("unexpected websocket answer: {other:?}"),
    }
    socket
}

/// The close code the server ends `socket` with, skipping other messages; a safeguard
/// against a socket that is never closed, not a timed expectation.
async fn close_code(socket: &mut Socket) -> u16 {
    let wait = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => {}
                other => panic!("the socket ended without a close frame: {other:?}"),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), wait)
        .await
        .expect("the server closes the socket")
}

/// A well-formed RS256 token for the API from the provider on `provider_port`, signed by a
/// key the provider does not hold.
fn signed_api_token(provider_port: u16) -> String {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../redress-graphql/tests/fixtures/rsa_private.pem"
    ))
    .expect("RSA key fixture");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("RSA key");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rsa-1".to_owned());
    let claims = json!({
        "sub": "platform-service",
        "iss": oidc_provider::issuer(provider_port),
        "aud": API_AUDIENCE,
        "exp": (Utc::now() + TimeDelta::minutes(10)).timestamp(),
        "roles": ["integration"],
    });
    jsonwebtoken::encode(&header, &claims, &key).expect("sign")
}

/// The `sign_in_error` a redirect to the console carries.
/// The status of a sign-in start over a fresh connection from 127.0.0.1, as a proxy there
/// forwards it with `forwarded_for` as its `X-Forwarded-For`.
async fn login_from(app: &TestApp, forwarded_for: Option<&str>) -> u16 {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut request = client.get(format!("{}/auth/login", base(app)));
    if let Some(hops) = forwarded_for {
        request = request.header("x-forwarded-for", hops);
    }
    request
        .send()
        .await
        .expect("sign-in start")
        .status()
        .as_u16()
}

fn sign_in_error(response: &reqwest::Response) -> Option<String> {
    let target = response.headers().get("location")?.to_str().ok()?;
    target
        .split_once("sign_in_error=")
        .map(|(_, code)| code.to_owned())
}

redress_engine::backend_tests! {
    async fn staff_sign_in_through_the_provider_and_its_refusals(db) {
        if !oidc_provider::available("OpenID sign-in") {
            db.cleanup().await;
            return;
        }
        let (provider_port, redress_port) = (free_port(), free_port());
        let redress_url = format!("http://127.0.0.1:{redress_port}");
        let provider = TestProvider::start(provider_port, "key-one", &redress_url);
        let app = start(config_with_provider(&db, provider_port, redress_port)).await;

        // Signed in as rita, whose group `appeals-reviewers` maps to the reviewer role.
        let rita = HttpBrowser::new();
        let callback = rita.sign_in_at_provider(&redress_url, "rita").await;
        let landed = rita.get(&callback).await;
        assert_eq!(landed.status(), 303);
        assert_eq!(landed.headers()["location"], "/console/#/queue");
        let cookie = landed.headers().get_all("set-cookie").iter()
            .filter_map(|v| v.to_str().ok()).find(|v| v.starts_with("redress-session="))
            .expect("a session cookie").to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let session = session_info(&rita, &app).await;
        assert_eq!(session["signedIn"], true, "{session}");
        let csrf = session["csrfToken"].as_str().expect("csrf token").to_owned();
        let (status, body) = post_with_session(&rita, &app, Some(&csrf), Some(&redress_url)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"], json!({"subject": "rita", "roles": ["REVIEWER"]}));

        // The cookie alone is not enough: the CSRF token must come with it, from this origin.
        let (status, body) = post_with_session(&rita, &app, None, Some(&redress_url)).await;
        assert_eq!(status, 401, "{body}");
        let (status, _) = post_with_session(&rita, &app, Some("0".repeat(64).as_str()), None).await;
        assert_eq!(status, 401);
        let (status, _) = post_with_session(&rita, &app, Some(&csrf), Some("http://evil.test")).await;
        assert_eq!(status, 401);

        // Subscriptions: the cookie with the session's CSRF token in connection_init; not
        // without the token, and not from a page of another origin.
        let cookie_header = rita.cookies_for(&redress_url);
        assert_eq!(socket_answer(&app, &cookie_header, Some(&redress_url), json!({"csrfToken": csrf})).await, "connection_ack");
        assert_eq!(socket_answer(&app, &cookie_header, None, json!({})).await, "close 4403");
        assert_eq!(socket_answer(&app, &cookie_header, None, json!({"csrfToken": "0".repeat(64)})).await, "close 4403");
        assert_eq!(socket_answer(&app, &cookie_header, Some("http://evil.test"), json!({"csrfToken": csrf})).await, "http 403");
        // Same host, other scheme: another origin.
        assert_eq!(socket_answer(&app, &cookie_header, Some(&format!("https://127.0.0.1:{redress_port}")), json!({"csrfToken": csrf})).await, "http 403");
        // A socket opened now must not outlive the session: signed out below.
        let mut rita_live = session_socket(&app, &cookie_header, &redress_url, &csrf).await;

        // The provider's redirect works once: replayed with the same code and state (and the
        // sign-in cookie the first use cleared put back), it is refused.
        let state = reqwest::Url::parse(&callback).expect("callback URL").query_pairs()
            .find(|(key, _)| key == "state").map(|(_, value)| value.into_owned()).expect("state");
        let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let replayed = replay.get(&callback)
            .header("cookie", format!("redress-sign-in={state}"))
            .send().await.expect("replay");
        assert_eq!(sign_in_error(&replayed).as_deref(), Some("sign_in_expired"));
        assert_eq!(set_cookie(&replayed, "redress-session"), None);

        // A state that is not the one this browser was given.
        let sam = HttpBrowser::new();
        let callback = sam.sign_in_at_provider(&redress_url, "sam").await;
        let forged = callback.replace("state=", "state=forged");
        let refused = sam.get(&forged).await;
        assert_eq!(sign_in_error(&refused).as_deref(), Some("state_mismatch"));
        assert_eq!(set_cookie(&refused, "redress-session"), None);

        // A response naming no issuer, from a provider that says it always names itself.
        let unnamed = HttpBrowser::new();
        let callback = unnamed.sign_in_at_provider(&redress_url, "sam").await;
        let mut without_iss = reqwest::Url::parse(&callback).expect("callback URL");
        let kept: Vec<(String, String)> = without_iss.query_pairs()
            .filter(|(key, _)| key != "iss").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        without_iss.query_pairs_mut().clear().extend_pairs(kept);
        let refused = unnamed.get(without_iss.as_str()).await;
        assert_eq!(sign_in_error(&refused).as_deref(), Some("provider_refused"));
        assert_eq!(set_cookie(&refused, "redress-session"), None);
        // The issuer with a trailing slash is not the issuer (compared exactly).
        let slashed = HttpBrowser::new();
        let callback = slashed.sign_in_at_provider(&redress_url, "sam").await;
        let issuer_param = format!("iss={}", urlencode(&provider.issuer()));
        assert!(callback.contains(&issuer_param), "{callback}");
        let refused = slashed.get(&callback.replace(&issuer_param, &format!("{issuer_param}%2F"))).await;
        assert_eq!(sign_in_error(&refused).as_deref(), Some("provider_refused"));

        // A response naming another issuer (RFC 9207's mix-up defence).
        let mixed = HttpBrowser::new();
        let callback = mixed.sign_in_at_provider(&redress_url, "sam").await;
        assert!(callback.contains("iss="), "the provider names itself: {callback}");
        let refused = mixed.get(&callback.replace("iss=", "iss=http%3A%2F%2Fevil.test&was=")).await;
        assert_eq!(sign_in_error(&refused).as_deref(), Some("provider_refused"));
        assert_eq!(set_cookie(&refused, "redress-session"), None);

        // A nonce that is not the one of the ID token.
        let other = HttpBrowser::new();
        let callback = other.sign_in_at_provider(&redress_url, "sam").await;
        redress_engine::entity::staff_sign_in::Entity::update_many()
            .col_expr(redress_engine::entity::staff_sign_in::Column::Nonce, Expr::value("not-the-nonce"))
            .exec(app.app.state.engine.db())
            .await
            .expect("change the nonce");
        let refused = other.get(&callback).await;
        assert_eq!(sign_in_error(&refused).as_deref(), Some("id_token_rejected"));
        assert_eq!(set_cookie(&refused, "redress-session"), None);

        // sam, of `appeals-leads`, signs in properly and is a senior reviewer.
        let sam = HttpBrowser::new();
        let callback = sam.sign_in_at_provider(&redress_url, "sam").await;
        assert_eq!(sam.get(&callback).await.status(), 303);
        let sam_csrf = session_info(&sam, &app).await["csrfToken"].as_str().expect("csrf").to_owned();
        let (_, body) = post_with_session(&sam, &app, Some(&sam_csrf), None).await;
        assert_eq!(body["data"]["me"]["roles"], json!(["REVIEWER", "SENIOR_REVIEWER"]), "{body}");
        let mut sam_live = session_socket(&app, &sam.cookies_for(&redress_url), &redress_url, &sam_csrf).await;

        // API callers: the provider's JWT access token for this API is accepted (its keys
        // fetched from the jwks_uri); one for another audience is refused.
        let token = provider.service_token(API_AUDIENCE).await;
        let me = app.ok(&token, ME, json!({})).await;
        assert_eq!(me["me"], json!({"subject": "platform-service", "roles": ["INTEGRATION"]}));
        let elsewhere = provider.service_token(OTHER_AUDIENCE).await;
        let (status, _) = app.post(Some(&elsewhere), ME, json!({})).await;
        assert_eq!(status, 401);
        // The development token path stays.
        let dev = app.token("dev", &[Role::Admin]);
        assert_eq!(app.ok(&dev, ME, json!({})).await["me"]["subject"], "dev");

        // Signing out needs the CSRF token, from this origin; it ends the session here and
        // names the provider's end-session endpoint with this client, never the ID token,
        // since the answer reaches the page.
        let refused = rita.client.post(format!("{redress_url}/auth/logout")).send().await.expect("logout");
        assert_eq!(refused.status(), 403);
        let foreign = rita.client.post(format!("{redress_url}/auth/logout"))
            .header("x-redress-csrf", &csrf).header("origin", "http://evil.test")
            .send().await.expect("logout");
        assert_eq!(foreign.status(), 403);
        assert_eq!(session_info(&rita, &app).await["signedIn"], true);
        let signed_out = rita.client.post(format!("{redress_url}/auth/logout"))
            .header("x-redress-csrf", &csrf).header("origin", &redress_url)
            .send().await.expect("logout");
        assert_eq!(signed_out.status(), 200);
        let body: Value = signed_out.json().await.expect("json");
        let end = body["redirect"].as_str().expect("end-session URL");
        assert!(end.starts_with(&format!("{}/session/end?", provider.issuer())), "{end}");
        assert!(end.contains("client_id=") && end.contains("post_logout_redirect_uri="), "{end}");
        assert!(!end.contains("id_token_hint="), "{end}");
        assert_eq!(session_info(&rita, &app).await["signedIn"], false);
        // Her live socket ends with her session: at the next subscribe, or the next check.
        let subscribe = json!({"id": "1", "type": "subscribe",
            "payload": {"query": "subscription { queueChanged(queue: \"general\") { id } }"}});
        rita_live.send(Message::text(subscribe.to_string())).await.ok();
        assert_eq!(close_code(&mut rita_live).await, 4403);
        // The browser dropped the cookie; one kept by someone else is worth nothing now.
        let stale = reqwest::Client::new()
            .post(app.url())
            .header("cookie", cookie.split(';').next().expect("cookie pair"))
            .header("x-redress-csrf", &csrf)
            .json(&json!({"query": ME}))
            .send()
            .await
            .expect("POST /graphql");
        assert_eq!(stale.status(), 401);

        // A session ends after its idle time; sam's did, unused for longer.
        app.clock.advance(TimeDelta::minutes(61));
        // His socket, silent meanwhile, is closed by its periodic check of the session.
        assert_eq!(close_code(&mut sam_live).await, 4403);
        let (status, _) = post_with_session(&sam, &app, Some(&sam_csrf), None).await;
        assert_eq!(status, 401);
        assert_eq!(session_info(&sam, &app).await["signedIn"], false);

        app.stop().await;
        provider.stop();
        db.cleanup().await;
    }

    async fn roles_a_provider_gives_in_its_userinfo_answer_only_are_read_from_there(db) {
        if !oidc_provider::available("OpenID sign-in, claims in userinfo") {
            db.cleanup().await;
            return;
        }
        let (provider_port, redress_port) = (free_port(), free_port());
        let redress_url = format!("http://127.0.0.1:{redress_port}");
        let _provider = TestProvider::start_with_claims_in_userinfo_only(provider_port, "key-one", &redress_url);
        let app = start(config_with_provider(&db, provider_port, redress_port)).await;
        for (login, roles) in [("rita", json!(["REVIEWER"])), ("sam", json!(["REVIEWER", "SENIOR_REVIEWER"]))] {
            let browser = HttpBrowser::new();
            let callback = browser.sign_in_at_provider(&redress_url, login).await;
            let landed = browser.get(&callback).await;
            assert_eq!(landed.status(), 303);
            assert_eq!(landed.headers()["location"], "/console/#/queue", "{login}");
            let session = session_info(&browser, &app).await;
            let csrf = session["csrfToken"].as_str().expect("csrf token").to_owned();
            let (status, body) = post_with_session(&browser, &app, Some(&csrf), Some(&redress_url)).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["data"]["me"], json!({"subject": login, "roles": roles}));
        }
        app.stop().await;
        db.cleanup().await;
    }

    async fn redress_starts_while_the_provider_is_down(db) {
        // Nothing listens on the provider's port: no node needed.
        let (provider_port, redress_port) = (free_port(), free_port());
        let mut config = config_with_provider(&db, provider_port, redress_port);
        config.oidc.sign_ins_per_minute = 3;
        let app = start(config).await;
        let browser = HttpBrowser::new();
        let session = session_info(&browser, &app).await;
        assert_eq!(session, json!({"provider": true, "signedIn": false}));
        let login = browser.get(&format!("{}/auth/login?return_to=%23%2Fqueue", base(&app))).await;
        assert_eq!(login.status(), 303);
        assert_eq!(sign_in_error(&login).as_deref(), Some("provider_unreachable"));
        // API callers with development tokens are unaffected; provider tokens cannot be
        // checked, so they are refused, not let through.
        let dev = app.token("dev", &[Role::Admin]);
        assert_eq!(app.ok(&dev, ME, json!({})).await["me"]["subject"], "dev");
        // A well-formed, signed token cannot be checked either: refused as a failure of
        // Redress (503, worth a retry), not of the token; what is no token stays a 401.
        let (status, body) = app.post(Some(&signed_api_token(provider_port)), ME, json!({})).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "AUTHENTICATION_UNAVAILABLE", "{body}");
        let (status, _) = app.post(Some("not-a-token"), ME, json!({})).await;
        assert_eq!(status, 401);
        // Starting sign-ins is limited per address: the quota is 3 a minute, one is spent.
        for _ in 0..2 {
            let login = browser.get(&format!("{}/auth/login", base(&app))).await;
            assert_eq!(login.status(), 303);
        }
        let login = browser.get(&format!("{}/auth/login", base(&app))).await;
        assert_eq!(login.status(), 429);
        // No proxy is trusted: a client naming another address is still itself.
        assert_eq!(login_from(&app, Some("198.51.100.1")).await, 429);
        app.stop().await;
        db.cleanup().await;
    }

    async fn behind_a_trusted_proxy_each_client_it_names_has_its_own_quota(db) {
        let (provider_port, redress_port) = (free_port(), free_port());
        let mut config = config_with_provider(&db, provider_port, redress_port);
        config.oidc.sign_ins_per_minute = 2;
        config.http.trusted_proxies = serde_json::from_value(json!(["127.0.0.0/8"])).expect("proxies");
        let app = start(config).await;
        for _ in 0..2 {
            assert_eq!(login_from(&app, Some("198.51.100.1")).await, 303);
        }
        assert_eq!(login_from(&app, Some("198.51.100.1")).await, 429);
        // Another client behind the same proxy.
        assert_eq!(login_from(&app, Some("198.51.100.2")).await, 303);
        // A client that writes a fresh address into the header itself: the proxy appends
        // the real one, which is the one counted.
        assert_eq!(login_from(&app, Some("203.0.113.50, 198.51.100.1")).await, 429);
        // A hop that is no address counts against the proxy, as does no header at all.
        assert_eq!(login_from(&app, Some("proxy.internal")).await, 303);
        assert_eq!(login_from(&app, None).await, 303);
        assert_eq!(login_from(&app, None).await, 429);
        app.stop().await;
        db.cleanup().await;
    }

    async fn a_reviewer_signs_in_through_the_provider_in_a_browser(db) {
        if !oidc_provider::available("OpenID sign-in in a browser") || !webdriver::available("OpenID sign-in in a browser") {
            db.cleanup().await;
            return;
        }
        let _one_at_a_time = BROWSERS.lock().await;
        let (provider_port, redress_port) = (free_port(), free_port());
        let redress_url = format!("http://127.0.0.1:{redress_port}");
        let provider = TestProvider::start(provider_port, "key-one", &redress_url);
        let app = start(config_with_provider(&db, provider_port, redress_port)).await;
        let filed = api::file_appeal(&app, "acct-oidc", "spam").await;
        let appeal_id = filed["id"].as_str().expect("id").to_owned();
        let triager = app.token("tina", &[Role::Triager]);
        app.ok(&triager, TRIAGE, json!({"id": appeal_id, "v": filed["version"], "q": "general"})).await;

        let driver = Driver::launch().await;
        let browser = driver.browser("rita").await;
        // A provider that could not be reached is explained, not a blank page.
        browser.goto(&format!("{redress_url}/console/?sign_in_error=provider_unreachable")).await;
        let notice = browser.text("#sign-in-error").await;
        assert!(notice.contains("cannot be reached"), "{notice}");

        // Sign in through the provider's login and consent pages.
        browser.goto(&format!("{redress_url}/console/")).await;
        browser.click("#provider-sign-in-link").await;
        browser.type_into("input[name=login]", "rita").await;
        browser.type_into("input[name=password]", "any password").await;
        browser.click("button[type=submit]").await;
        browser.click("button[type=submit]").await; // consent: Continue
        browser.wait("#nav a[href='#/queue']").await;
        let who = browser.text("#who").await;
        assert_eq!(who, "rita (reviewer)");
        let cookies_seen_by_script = browser.execute("return document.cookie").await;
        assert!(!cookies_seen_by_script.as_str().unwrap_or_default().contains("redress-session"),
            "the session cookie must be HttpOnly: {cookies_seen_by_script}");

        // A note typed into a case, then a long pause: the session ends, and sending the note
        // asks for sign-in again.
        browser.goto(&format!("{redress_url}/console/#/case/{appeal_id}")).await;
        let draft = "Checked the pin: it is a recipe, not spam.";
        browser.type_into("textarea[name=text]", draft).await;
        app.clock.advance(TimeDelta::minutes(90));
        browser.execute("document.querySelector('textarea[name=text]').closest('form').querySelector('button[type=submit]').click(); return true").await;
        browser.wait_until("the console to ask for sign-in again",
            "return !document.getElementById('provider-sign-in').hidden && document.getElementById('sign-in-error').textContent").await;

        // Signing in again goes through the provider without a form (its session is alive)
        // and lands on the case with the note as it was typed.
        browser.click("#provider-sign-in-link").await;
        browser.wait("textarea[name=text]").await;
        let kept = browser.execute("return document.querySelector('textarea[name=text]').value").await;
        assert_eq!(kept, json!(draft));
        let hash = browser.execute("return window.location.hash").await;
        assert_eq!(hash, json!(format!("#/case/{appeal_id}")));

        // A sign-out that fails (here the server answers 503) says so and keeps her signed
        // in, with the page as it was.
        browser.execute("window.realFetch = window.fetch; \
            window.fetch = (url, options) => url === '/auth/logout' \
                ? Promise.resolve(new Response('', { status: 503 })) : window.realFetch(url, options); \
            return true").await;
        browser.click("#sign-out").await;
        browser.wait_until("the failed sign-out to be told",
            "return document.getElementById('live-status').textContent.includes('still signed in')").await;
        assert_eq!(browser.text("#who").await, "rita (reviewer)");
        let still = browser.execute_async(
            "const response = await window.realFetch('/auth/session'); return (await response.json()).signedIn;").await;
        assert_eq!(still, json!(true));
        browser.execute("window.fetch = window.realFetch; return true").await;

        // Signing out ends the session at the provider too, and forgets the drafts.
        browser.click("#sign-out").await;
        browser.click("button[name=logout]").await; // the provider asks to confirm
        browser.wait("#provider-sign-in-link").await;
        let state = browser.execute_async(
            "const response = await fetch('/auth/session'); const session = await response.json(); \
             return { signedIn: session.signedIn, drafts: Object.keys(sessionStorage).filter((k) => k.startsWith('redress.console.draft.')).length };").await;
        assert_eq!(state, json!({"signedIn": false, "drafts": 0}));
        // The provider's session is over: signing in shows its login page again.
        browser.click("#provider-sign-in-link").await;
        browser.wait("input[name=login]").await;

        browser.quit().await;
        app.stop().await;
        provider.stop();
        db.cleanup().await;
    }
}

/// Keys of API callers follow the provider's rotation without a restart: a token with the
/// new key's `kid` makes Redress fetch the keys again, after which a token of the removed
/// key is refused. With a refetch interval, an unknown `kid` within it does not make
/// Redress ask the provider again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_follow_a_provider_key_rotation() {
    if !oidc_provider::available("JWKS key rotation") {
        return;
    }
    let port = free_port();
    let provider = TestProvider::start(port, "key-one", "http://127.0.0.1:9");
    let mut settings = redress_graphql::AuthSettings {
        jwks_uri: Some(format!("{}/jwks", provider.issuer())),
        issuer: Some(provider.issuer()),
        audience: Some(API_AUDIENCE.to_owned()),
        jwks_refetch_interval_seconds: 5,
        ..redress_graphql::AuthSettings::default()
    };
    let following = redress_graphql::Verifier::from_settings(&settings).expect("verifier");
    settings.jwks_refetch_interval_seconds = 3600;
    let patient = redress_graphql::Verifier::from_settings(&settings).expect("verifier");

    let old = provider.service_token(API_AUDIENCE).await;
    let now = Utc::now();
    for verifier in [&following, &patient] {
        let actor = verifier
            .authenticate(&old, now)
            .await
            .expect("key one accepted");
        assert_eq!(actor.subject(), Some("platform-service"));
    }

    // The provider rotates: restarted on the same port with only a new key.
    provider.stop();
    let provider = TestProvider::start(port, "key-two", "http://127.0.0.1:9");
    let new = provider.service_token(API_AUDIENCE).await;
    // The shortest refetch interval accepted has passed since the first fetch.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let actor = following
        .authenticate(&new, now)
        .await
        .expect("key two accepted");
    assert_eq!(actor.subject(), Some("platform-service"));
    assert_eq!(
        following.authenticate(&old, now).await,
        Err(redress_graphql::auth::AuthError::UnknownKey),
        "a token of the removed key must be refused"
    );
    // Within its refetch interval the other verifier does not ask again: the new key is
    // unknown to it until the interval has passed.
    assert_eq!(
        patient.authenticate(&new, now).await,
        Err(redress_graphql::auth::AuthError::UnknownKey)
    );
    provider.stop();
}

/// `text` as a query parameter value.
fn urlencode(text: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", [("v", text)])
        .expect("url")
        .query()
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_owned()
}
