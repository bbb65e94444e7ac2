//! The HTTP surface: health, readiness, and whatever the other modules mount.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::AppState;

/// Routes every deployment has. Feature modules merge their own routers into this one.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(crate::social::routes(&state))
        .with_state(state.clone())
        .merge(crate::oidc::routes(&state))
        .merge(state.graphql.routes(&state.config.graphql))
        .merge(crate::metrics::routes(state.clone()))
        .merge(crate::ingest::routes(state.clone()))
        .merge(crate::transparency::routes(state))
        .merge(crate::console::routes())
}

/// Liveness: the process answers. Never touches the database, so a slow database does not
/// get healthy replicas restarted.
async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers a query.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.engine.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({
                "status": "ready",
                "database": state.engine.backend().as_str(),
            })),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
        }
    }
}
