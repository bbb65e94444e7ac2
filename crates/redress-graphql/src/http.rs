//! The HTTP surface: GraphiQL and queries at `/graphql`, subscriptions over
//! graphql-transport-ws at `/graphql/ws` (see [`crate::websocket`]).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::{BatchRequest, BatchResponse, ErrorExtensionValues, ErrorExtensions, Pos};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use redress_engine::{Clock, Engine};

use crate::auth::AuthError;
use crate::auth::{AuthSetupError, Verifier};
use crate::error::{codes, ApiError};
use crate::rbac::Caller;
use crate::schema::decisions::{NoticePreviewer, Previewer};
use crate::schema::{self, ApiSchema};
use crate::session::{self, BrowserSessions, SessionId, SessionRefusal};
use crate::settings::GraphqlSettings;
use crate::websocket::{self, SocketLimits};

pub const ENDPOINT: &str = "/graphql";
pub const WS_ENDPOINT: &str = "/graphql/ws";

/// The API, ready to mount: the schema and the token verifier.
#[derive(Clone)]
pub struct Api {
    schema: ApiSchema,
    /// Records each staff caller's roles on the bulk decisions they run.
    engine: Engine,
    verifier: Arc<Verifier>,
    clock: Arc<dyn Clock>,
    socket_limits: SocketLimits,
    sessions: BrowserSessions,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl Api {
    pub fn new(engine: Engine, settings: &GraphqlSettings) -> Result<Self, AuthSetupError> {
        Self::with_previewer(engine, settings, None)
    }

    /// [`Api::new`] with the renderer of decision notices `previewDecisionNotice` uses.
    pub fn with_previewer(
        engine: Engine,
        settings: &GraphqlSettings,
        previewer: Option<Arc<dyn NoticePreviewer>>,
    ) -> Result<Self, AuthSetupError> {
        let verifier = Arc::new(Verifier::from_settings(&settings.auth)?);
        let clock = engine.clock().clone();
        Ok(Self {
            schema: schema::build(engine.clone(), settings, previewer.map(Previewer)),
            engine,
            verifier,
            clock,
            socket_limits: SocketLimits {
                init_timeout: Duration::from_secs(settings.websocket_init_timeout_seconds),
                max_message_bytes: settings.max_body_bytes,
                session_check: Duration::from_secs(settings.websocket_session_check_seconds.max(1)),
            },
            sessions: BrowserSessions::default(),
        })
    }

    /// Console sessions as the identity provider's sign-in sets them up: the cookie's name
    /// and the public origin their requests must come from.
    #[must_use]
    pub fn with_browser_sessions(mut self, sessions: BrowserSessions) -> Self {
        self.sessions = sessions;
        self
    }

    pub(crate) fn sessions(&self) -> &BrowserSessions {
        &self.sessions
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn schema(&self) -> &ApiSchema {
        &self.schema
    }

    pub(crate) fn socket_limits(&self) -> SocketLimits {
        self.socket_limits
    }

    /// The token verifier, for other routes that authenticate staff.
    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier.clone()
    }

    /// The caller of a request: by its `Authorization` header, else by its session cookie
    /// (with the CSRF header and a same-origin `Origin`); `None` with neither.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| ApiError::Unauthenticated)?;
            return self.caller_from_authorization(value).await;
        }
        let Some(session) = self.sessions.session_of(headers) else {
            return Ok(Caller(None));
        };
        if !self.sessions.same_origin(headers) {
            tracing::info!("refused a session cookie sent from another origin");
            return Err(ApiError::Unauthenticated);
        }
        let csrf = headers
            .get(session::CSRF_HEADER)
            .and_then(|value| value.to_str().ok());
        self.caller_from_session(&session, csrf).await
    }

    pub(crate) async fn caller_from_session(
        &self,
        session: &SessionId,
        csrf: Option<&str>,
    ) -> Result<Caller, ApiError> {
        match session::actor_of_session(&self.engine, session, csrf).await {
            Ok((actor, _)) => Ok(Caller(Some(actor))),
            Err(SessionRefusal::Store(err)) => {
                tracing::error!(error = %err, "reading a staff session failed");
                Err(ApiError::Internal)
            }
            Err(err) => {
                tracing::info!(reason = %err, "refused a session cookie");
                Err(ApiError::Unauthenticated)
            }
        }
    }

    async fn caller_from_authorization(&self, value: &str) -> Result<Caller, ApiError> {
        match self
            .verifier
            .authenticate_header(value, self.clock.now())
            .await
        {
            Ok(actor) => Ok(Caller(Some(actor))),
            // Not the token's fault: a retry once the provider answers may succeed.
            Err(AuthError::KeysUnavailable(reason)) => {
                tracing::warn!(%reason, "a bearer token could not be checked");
                Err(ApiError::AuthenticationUnavailable)
            }
            Err(err) => {
                tracing::info!(reason = %err, "refused a bearer token");
                Err(ApiError::Unauthenticated)
            }
        }
    }

    pub fn routes(&self, settings: &GraphqlSettings) -> Router {
        Router::new()
            .route(ENDPOINT, get(graphiql).post(execute))
            .route(WS_ENDPOINT, get(websocket::upgrade))
            .layer(DefaultBodyLimit::max(settings.max_body_bytes))
            .with_state(self.clone())
    }
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint(ENDPOINT)
            .subscription_endpoint(WS_ENDPOINT)
            .finish(),
    )
}

fn unauthenticated() -> Response {
    let error = ApiError::Unauthenticated.extend();
    let body = async_graphql::Response::from_errors(vec![error.into_server_error(Pos::default())]);
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

async fn execute(State(api): State<Api>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match api.caller(&headers).await {
        Ok(caller) => caller,
        Err(ApiError::Unauthenticated) => return unauthenticated(),
        Err(err) => {
            let status = match err {
                ApiError::AuthenticationUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let body = async_graphql::Response::from_errors(vec![err
                .extend()
                .into_server_error(Pos::default())]);
            return (status, Json(body)).into_response();
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(err) => {
            let error = ApiError::bad_input(format!("the body is not a GraphQL request: {err}"));
            let body = async_graphql::Response::from_errors(vec![error
                .extend()
                .into_server_error(Pos::default())]);
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    if let Some(actor) = &caller.0 {
        if let Err(err) = api.engine.note_staff_roles(actor).await {
            tracing::warn!(error = %err, "recording a staff member's roles on their bulk decisions failed");
        }
    }
    let mut response = api.schema.execute_batch(batch.data(caller)).await;
    coded(&mut response);
    Json(response).into_response()
}

/// Errors raised before any resolver (syntax, validation, limits, input coercion) carry no
/// code of ours; they are all about the request, so they are `BAD_USER_INPUT`.
fn coded(response: &mut BatchResponse) {
    let responses: Vec<&mut async_graphql::Response> = match response {
        BatchResponse::Single(single) => vec![single],
        BatchResponse::Batch(many) => many.iter_mut().collect(),
    };
    for single in responses {
        for error in &mut single.errors {
            let extensions = error
                .extensions
                .get_or_insert_with(ErrorExtensionValues::default);
            if extensions.get("code").is_none() {
                extensions.set("code", codes::BAD_USER_INPUT);
            }
        }
    }
}

impl Api {
    /// graphql-transport-ws sends credentials in `connection_init`:
    /// `{"Authorization": "Bearer <token>"}` (any letter case), or, from the console signed
    /// in with a session cookie, `{"csrfToken": "<token>"}`. Subscriptions are for staff
    /// only, so unlike an HTTP request a socket without credentials is refused too. The
    /// flag says whether the caller is the session's, which the socket then keeps checking.
    pub(crate) async fn caller_from_init(
        &self,
        payload: Option<&serde_json::Value>,
        session: Option<&SessionId>,
    ) -> Result<(Caller, bool), ApiError> {
        let fields = payload.and_then(serde_json::Value::as_object);
        let field = |name: &str| {
            fields.and_then(|fields| {
                fields
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .and_then(|(_, value)| value.as_str())
            })
        };
        if let Some(authorization) = field("authorization") {
            let caller = self.caller_from_authorization(authorization).await?;
            return Ok((caller, false));
        }
        match (session, field("csrfToken")) {
            (Some(session), Some(csrf)) => {
                let caller = self.caller_from_session(session, Some(csrf)).await?;
                Ok((caller, true))
            }
            _ => Err(ApiError::Unauthenticated),
        }
    }
}
