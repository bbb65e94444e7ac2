//! Subscriptions over websockets: graphql-transport-ws, and the older graphql-ws.
//!
//! async-graphql runs the operations, but its connection phase departs from the
//! graphql-transport-ws protocol: a refused `connection_init` closes with 1002 instead of
//! 4403, a `subscribe` before the acknowledgement with 1011 instead of 4401, a message it
//! cannot read with 1002 instead of 4400, a second `subscribe` with an id in use silently
//! replaces the first instead of closing with 4409, and a socket that never sends
//! `connection_init` stays open for ever. So every frame passes a [`Gate`] first, which
//! applies the protocol's rules, decides who the caller is, and closes the socket with the
//! protocol's code; only what it admits reaches async-graphql.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_graphql::http::{ClientMessage, WebSocketProtocols, WsMessage, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{Data, Error};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::http::Api;
use crate::rbac::Caller;
use crate::session::SessionId;

/// Limits of a subscription socket, from the `[graphql]` settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketLimits {
    /// How long a socket may stay open without a `connection_init`.
    pub init_timeout: Duration,
    /// Largest message accepted, as for a request body.
    pub max_message_bytes: usize,
    /// How often a socket of a console session checks that the session is alive.
    pub session_check: Duration,
}

/// `GET /graphql/ws`.
pub(crate) async fn upgrade(
    State(api): State<Api>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = requested_protocol(&headers) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    // Browsers send cookies with a handshake any page may start (cross-site websocket
    // hijacking): a session cookie counts only from this origin, and only with the
    // session's CSRF token in `connection_init`.
    let session = api.sessions().session_of(&headers);
    if session.is_some() && !api.sessions().same_origin(&headers) {
        tracing::info!("refused a websocket handshake with a session cookie from another origin");
        return StatusCode::FORBIDDEN.into_response();
    }
    let limits = api.socket_limits();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| serve(api, socket, protocol, limits, session))
}

fn requested_protocol(headers: &HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|name| WebSocketProtocols::from_str(name.trim()).ok())
}

/// Why the server closes a socket, with the graphql-transport-ws close codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    BadRequest,
    Unauthorized,
    Forbidden,
    InitTimeout,
    SubscriberExists,
    TooManyInits,
}

impl Refusal {
    fn frame(self) -> CloseFrame {
        let (code, reason) = match self {
            Refusal::BadRequest => (4400, "Invalid message received"),
            Refusal::Unauthorized => (4401, "Unauthorized"),
            Refusal::Forbidden => (4403, "Forbidden"),
            Refusal::InitTimeout => (4408, "Connection initialisation timeout"),
            Refusal::SubscriberExists => (4409, "Subscriber for this id already exists"),
            Refusal::TooManyInits => (4429, "Too many initialisation requests"),
        };
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

/// What to do with one frame from the client.
enum Admission {
    Forward(Box<serde_json::Result<ClientMessage>>),
    Ignore,
    Refuse(Refusal),
    Closed,
}

/// The connection phase of one socket.
struct Gate {
    protocol: WebSocketProtocols,
    /// Taken by the first `connection_init`; hands its caller to the executor.
    caller: Option<oneshot::Sender<Caller>>,
    /// Ids of the operations running, from `subscribe` until either side completes them.
    running: HashSet<String>,
    /// The session cookie of the handshake, if any.
    session: Option<SessionId>,
    /// Whether the caller is that session's: then the socket lives only as long as it.
    session_bound: bool,
}

impl Gate {
    fn awaiting_init(&self) -> bool {
        self.caller.is_some()
    }

    /// The session the caller signed in with, if the caller is a session's.
    fn bound_session(&self) -> Option<&SessionId> {
        self.session.as_ref().filter(|_| self.session_bound)
    }

    /// Whether the caller may go on: always for a token's caller (checked once, like an
    /// HTTP request), while the session lives for a session's. `renew` counts the check as
    /// the person's activity (a new subscription), which a timer's check is not.
    async fn session_alive(&self, api: &Api, renew: bool) -> bool {
        let Some(session) = self.bound_session() else {
            return true;
        };
        let alive = if renew {
            api.engine()
                .staff_session(&session.hash())
                .await
                .map(|found| found.is_some())
        } else {
            api.engine().staff_session_alive(&session.hash()).await
        };
        alive.unwrap_or_else(|err| {
            // Unconfirmed is not alive: the socket closes, and the console reconnects.
            tracing::error!(error = %err, "reading a staff session failed");
            false
        })
    }

    async fn admit(&mut self, api: &Api, frame: Message) -> Admission {
        let bytes = match frame {
            Message::Text(text) => text.as_bytes().to_vec(),
            Message::Binary(bytes) => bytes.to_vec(),
            Message::Ping(_) | Message::Pong(_) => return Admission::Ignore,
            Message::Close(_) => return Admission::Closed,
        };
        let strict = self.protocol == WebSocketProtocols::GraphQLWS;
        let message = match ClientMessage::from_bytes(&bytes) {
            Ok(message) => message,
            Err(_) if strict => return Admission::Refuse(Refusal::BadRequest),
            // The older protocol keeps async-graphql's own answer.
            Err(err) => return Admission::Forward(Box::new(Err(err))),
        };
        match &message {
            ClientMessage::ConnectionInit { payload } => {
                let Some(handover) = self.caller.take() else {
                    return Admission::Refuse(Refusal::TooManyInits);
                };
                match api
                    .caller_from_init(payload.as_ref(), self.session.as_ref())
                    .await
                {
                    Ok((caller, by_session)) => {
                        self.session_bound = by_session;
                        let _ = handover.send(caller);
                    }
                    Err(_) if strict => return Admission::Refuse(Refusal::Forbidden),
                    // Dropping the handover makes async-graphql answer `connection_error`,
                    // which is how the older protocol refuses.
                    Err(_) => {}
                }
            }
            ClientMessage::Start { .. } if strict && self.awaiting_init() => {
                return Admission::Refuse(Refusal::Unauthorized);
            }
            ClientMessage::Start { id, .. } if strict && !self.running.insert(id.clone()) => {
                return Admission::Refuse(Refusal::SubscriberExists);
            }
            ClientMessage::Start { .. } if !self.session_alive(api, true).await => {
                return Admission::Refuse(Refusal::Forbidden);
            }
            ClientMessage::Stop { id } => {
                self.running.remove(id);
            }
            _ => {}
        }
        Admission::Forward(Box::new(Ok(message)))
    }

    /// Notes an operation the server completed, so its id may be used again.
    fn sent(&mut self, message: &WsMessage) {
        #[derive(serde::Deserialize)]
        struct Completion {
            id: String,
        }
        // The type is serialised first; only completions are worth parsing.
        if let WsMessage::Text(text) = message {
            if text.starts_with(r#"{"type":"complete""#) {
                if let Ok(completion) = serde_json::from_str::<Completion>(text) {
                    self.running.remove(&completion.id);
                }
            }
        }
    }
}

async fn serve(
    api: Api,
    mut socket: WebSocket,
    protocol: WebSocketProtocols,
    limits: SocketLimits,
    session: Option<SessionId>,
) {
    let (to_executor, admitted) = mpsc::unbounded_channel();
    let (handover, caller) = oneshot::channel::<Caller>();
    let admitted = futures_util::stream::unfold(admitted, |mut admitted| async move {
        admitted.recv().await.map(|message| (message, admitted))
    });
    let mut outgoing = Box::pin(
        async_graphql::http::WebSocket::from_message_stream(
            api.schema().clone(),
            admitted,
            protocol,
        )
        .on_connection_init(move |_payload| async move {
            let caller = caller
                .await
                .map_err(|_| Error::new("invalid credentials"))?;
            let mut data = Data::default();
            data.insert(caller);
            Ok(data)
        }),
    );
    let mut gate = Gate {
        protocol,
        caller: Some(handover),
        running: HashSet::new(),
        session,
        session_bound: false,
    };
    let init_deadline = Instant::now() + limits.init_timeout;
    let mut session_checks = tokio::time::interval(limits.session_check);
    session_checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let refusal = loop {
        tokio::select! {
            () = tokio::time::sleep_until(init_deadline), if gate.awaiting_init() => {
                break Some(Refusal::InitTimeout);
            }
            // Signing out or the session's expiry ends its live subscriptions too.
            _ = session_checks.tick(), if gate.bound_session().is_some() => {
                if !gate.session_alive(&api, false).await {
                    break Some(Refusal::Forbidden);
                }
            }
            frame = socket.recv() => {
                let Some(Ok(frame)) = frame else { break None };
                match gate.admit(&api, frame).await {
                    Admission::Forward(message) => {
                        if to_executor.send(*message).is_err() {
                            break None;
                        }
                    }
                    Admission::Ignore => {}
                    Admission::Refuse(refusal) => break Some(refusal),
                    Admission::Closed => break None,
                }
            }
            message = outgoing.next() => {
                let Some(message) = message else { break None };
                gate.sent(&message);
                if socket.send(frame_of(message)).await.is_err() {
                    break None;
                }
            }
        }
    };
    if let Some(refusal) = refusal {
        tracing::info!(?refusal, "closed a subscription socket");
        let _ = socket.send(Message::Close(Some(refusal.frame()))).await;
    }
}

fn frame_of(message: WsMessage) -> Message {
    match message {
        WsMessage::Text(text) => Message::Text(text.into()),
        WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}
