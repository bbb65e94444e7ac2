//! What the API reads from configuration (the `[graphql]` section).

use serde::{Deserialize, Serialize};

use crate::auth::AuthSettings;

/// Limits and switches of the API. Defaults suit the embedded default and a reviewer
/// console; every limit refuses a request before any resolver runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct GraphqlSettings {
    /// Whether `__schema` / `__type` queries are answered (GraphiQL needs them).
    pub introspection: bool,
    /// Deepest selection nesting accepted.
    pub max_depth: usize,
    /// Deepest nesting accepted in a document that selects only `__schema`, `__type` and
    /// `__typename`: the standard introspection query needs 15.
    pub max_introspection_depth: usize,
    /// Highest complexity (roughly, fields resolved) accepted per operation.
    pub max_complexity: usize,
    /// Largest `first` of a connection.
    pub max_page_size: usize,
    /// Largest request body, in bytes; larger requests get HTTP 413.
    pub max_body_bytes: usize,
    /// Largest batch of `recordEnforcements`.
    pub max_enforcement_batch: usize,
    /// How long a subscription socket may stay open without a `connection_init`.
    pub websocket_init_timeout_seconds: u64,
    /// How often a subscription socket of a console session checks that the session is
    /// still alive; one whose session ended (signed out, expired) is closed with 4403.
    pub websocket_session_check_seconds: u64,
    pub auth: AuthSettings,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        Self {
            introspection: true,
            max_depth: 12,
            max_introspection_depth: 20,
            max_complexity: 1_000,
            max_page_size: 100,
            max_body_bytes: 256 * 1024,
            max_enforcement_batch: 1_000,
            websocket_init_timeout_seconds: 10,
            websocket_session_check_seconds: 60,
            auth: AuthSettings::default(),
        }
    }
}
