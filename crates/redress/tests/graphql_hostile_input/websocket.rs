//! graphql-transport-ws connection rules with a real websocket client: every refusal closes
//! the socket with the code the protocol gives it.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use redress_core::Role;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::api::{self, TestApp};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

pub async fn connect(app: &TestApp, protocol: &str) -> Socket {
    let mut request = app.ws_url().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    socket
}

pub async fn send(socket: &mut Socket, message: &Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send");
}

pub fn init(token: &str) -> Value {
    json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}})
}

/// A socket past `connection_ack`.
pub async fn acknowledged(app: &TestApp, token: &str) -> Socket {
    let mut socket = connect(app, TRANSPORT_WS).await;
    send(&mut socket, &init(token)).await;
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    socket
}

/// The next text message as JSON, within ten seconds.
pub async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within ten seconds")
            .expect("socket open")
            .expect("message");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).expect("json"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// The code of the close frame the server sends next, within `wait`.
async fn close_code_within(socket: &mut Socket, wait: Duration) -> u16 {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .expect("the server closes in time")
            .expect("a close frame before the end")
            .expect("message");
        match message {
            Message::Close(Some(frame)) => return u16::from(frame.code),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

async fn close_code(socket: &mut Socket) -> u16 {
    close_code_within(socket, Duration::from_secs(10)).await
}

redress_engine::backend_tests! {
    async fn refused_connections_close_with_the_protocol_codes(test) {
        let mut config = api::config_for(&test);
        config.graphql.websocket_init_timeout_seconds = 1;
        let app = TestApp::start_with(config).await;
        let triager = app.token("tina", &[Role::Triager]);

        // A token that does not verify, or none at all: 4403 Forbidden.
        for payload in [json!({"Authorization": "Bearer not-a-token"}), json!({}), Value::Null] {
            let mut socket = connect(&app, TRANSPORT_WS).await;
            send(&mut socket, &json!({"type": "connection_init", "payload": payload})).await;
            assert_eq!(close_code(&mut socket).await, 4403, "payload {payload}");
        }
        let expired = {
            let clock = redress_engine::Clock::now(&app.clock);
            redress_graphql::auth::mint_dev_token(&app.config.graphql.auth, "tina", &[Role::Triager],
                clock - chrono::TimeDelta::hours(2), chrono::TimeDelta::hours(1)).expect("token")
        };
        let mut socket = connect(&app, TRANSPORT_WS).await;
        send(&mut socket, &init(&expired)).await;
        assert_eq!(close_code(&mut socket).await, 4403, "an expired token");

        // Subscribing before the acknowledgement: 4401 Unauthorized.
        let mut socket = connect(&app, TRANSPORT_WS).await;
        send(&mut socket, &json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { queueChanged(queue: \"general\") { id } }"}})).await;
        assert_eq!(close_code(&mut socket).await, 4401);

        // A second connection_init: 4429 Too many initialisation requests.
        let mut socket = acknowledged(&app, &triager).await;
        send(&mut socket, &init(&triager)).await;
        assert_eq!(close_code(&mut socket).await, 4429);

        // An id in use by a running subscription: 4409; an id whose operation completed
        // may be used again.
        let mut socket = acknowledged(&app, &triager).await;
        let me = json!({"query": "{ me { subject } }"});
        for _ in 0..2 {
            send(&mut socket, &json!({"id": "q", "type": "subscribe", "payload": me})).await;
            assert_eq!(next_json(&mut socket).await["payload"]["data"]["me"]["subject"], "tina");
            assert_eq!(next_json(&mut socket).await, json!({"id": "q", "type": "complete"}));
        }
        let queue = json!({"query": "subscription { queueChanged(queue: \"general\") { id } }"});
        send(&mut socket, &json!({"id": "q", "type": "subscribe", "payload": queue})).await;
        send(&mut socket, &json!({"id": "q", "type": "subscribe", "payload": queue})).await;
        assert_eq!(close_code(&mut socket).await, 4409);

        // What is not a protocol message: 4400, before and after the acknowledgement.
        for text in ["hello", r#"{"type": "bogus"}"#, r#"{"type": "subscribe", "id": "1"}"#] {
            let mut socket = connect(&app, TRANSPORT_WS).await;
            socket.send(Message::text(text)).await.expect("send");
            assert_eq!(close_code(&mut socket).await, 4400, "{text}");
            let mut socket = acknowledged(&app, &triager).await;
            socket.send(Message::text(text)).await.expect("send");
            assert_eq!(close_code(&mut socket).await, 4400, "{text} after the ack");
        }

        // Silence after the handshake: 4408 once websocket_init_timeout_seconds has passed.
        let mut socket = connect(&app, TRANSPORT_WS).await;
        let started = std::time::Instant::now();
        assert_eq!(close_code_within(&mut socket, Duration::from_secs(5)).await, 4408);
        assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
        // A ping is not an initialisation.
        let mut socket = connect(&app, TRANSPORT_WS).await;
        send(&mut socket, &json!({"type": "ping"})).await;
        assert_eq!(next_json(&mut socket).await["type"], "pong");
        assert_eq!(close_code_within(&mut socket, Duration::from_secs(5)).await, 4408);

        // A message larger than graphql.max_body_bytes ends the socket.
        let mut socket = acknowledged(&app, &triager).await;
        let huge = "x".repeat(app.config.graphql.max_body_bytes + 1);
        socket.send(Message::text(json!({"id": "1", "type": "subscribe", "payload": {"query": huge}}).to_string())).await.ok();
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match socket.next().await {
                    None | Some(Err(_) | Ok(Message::Close(_))) => break,
                    Some(Ok(other)) => assert!(!matches!(other, Message::Text(_)), "answered {other:?}"),
                }
            }
        }).await;
        assert!(ended.is_ok(), "the oversized message closed the socket");

        // The older graphql-ws protocol refuses with its own connection_error.
        let mut socket = connect(&app, LEGACY_WS).await;
        send(&mut socket, &json!({"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}})).await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_error");

        // And a valid connection still subscribes and hears about changes.
        let appeal = api::file_appeal(&app, "acct-ws", "spam").await;
        let mut socket = acknowledged(&app, &triager).await;
        send(&mut socket, &json!({"id": "live", "type": "subscribe", "payload": {
            "query": "subscription($id: ID!) { appealUpdated(id: $id) { id version } }",
            "variables": {"id": appeal["id"]}}})).await;
        let mut version = 1;
        let update = loop {
            let noted = app.ok(&triager, r#"mutation($id: ID!, $v: Int!) { addNote(id: $id, expectedVersion: $v, text: "live") { version } }"#,
                json!({"id": appeal["id"], "v": version})).await;
            version = noted["addNote"]["version"].as_i64().expect("version");
            if let Ok(message) = tokio::time::timeout(Duration::from_millis(500), next_json(&mut socket)).await {
                break message;
            }
            assert!(version < 20, "no update arrived over the websocket");
        };
        assert_eq!(update["type"], "next", "{update}");
        assert_eq!(update["payload"]["data"]["appealUpdated"]["id"], appeal["id"]);
        socket.close(None).await.ok();
        app.stop().await;
        test.cleanup().await;
    }
}
