//! The platform's webhook endpoints, for administrators: where events are posted, which
//! events each receives, whether payloads may carry the account id, and secret rotation.
//! A secret is returned once, by the mutation that makes it.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Role;
use redress_engine::outbox::PlatformEventKind;
use redress_engine::webhooks::{
    NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointChange, WebhookError, WithSecret,
};
use redress_engine::Engine;
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::Engine(engine) => engine.into(),
            WebhookError::NotFound(_) => ApiError::NotFound(err.to_string()),
            WebhookError::Invalid(_) => ApiError::bad_input(err.to_string()),
        }
    }
}

/// An event the platform can subscribe to; the `type` of the message is the dotted name
/// (`APPEAL_DECIDED` is `appeal.decided`).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "WebhookEventType")]
pub enum WebhookEventTypeGql {
    AppealFiled,
    AppealDecided,
    AppealRestored,
    AppealClosed,
    IncidentRaised,
    BulkRestoreCompleted,
}

impl From<WebhookEventTypeGql> for PlatformEventKind {
    fn from(kind: WebhookEventTypeGql) -> Self {
        match kind {
            WebhookEventTypeGql::AppealFiled => PlatformEventKind::AppealFiled,
            WebhookEventTypeGql::AppealDecided => PlatformEventKind::AppealDecided,
            WebhookEventTypeGql::AppealRestored => PlatformEventKind::AppealRestored,
            WebhookEventTypeGql::AppealClosed => PlatformEventKind::AppealClosed,
            WebhookEventTypeGql::IncidentRaised => PlatformEventKind::IncidentRaised,
            WebhookEventTypeGql::BulkRestoreCompleted => PlatformEventKind::BulkRestoreCompleted,
        }
    }
}

impl From<PlatformEventKind> for WebhookEventTypeGql {
    fn from(kind: PlatformEventKind) -> Self {
        match kind {
            PlatformEventKind::AppealFiled => WebhookEventTypeGql::AppealFiled,
            PlatformEventKind::AppealDecided => WebhookEventTypeGql::AppealDecided,
            PlatformEventKind::AppealRestored => WebhookEventTypeGql::AppealRestored,
            PlatformEventKind::AppealClosed => WebhookEventTypeGql::AppealClosed,
            PlatformEventKind::IncidentRaised => WebhookEventTypeGql::IncidentRaised,
            PlatformEventKind::BulkRestoreCompleted => WebhookEventTypeGql::BulkRestoreCompleted,
        }
    }
}

/// A webhook endpoint; its secrets are never shown.
#[derive(SimpleObject, Debug)]
#[graphql(name = "WebhookEndpoint")]
pub struct WebhookEndpointNode {
    pub id: ID,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEventTypeGql>,
    /// Whether payloads carry the account id; otherwise only Redress's ids and states.
    pub include_account: bool,
    pub enabled: bool,
    /// Secrets that sign deliveries now: more than one while a rotation overlaps.
    pub active_secrets: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl From<WebhookEndpoint> for WebhookEndpointNode {
    fn from(endpoint: WebhookEndpoint) -> Self {
        Self {
            id: ID(endpoint.id.to_string()),
            url: endpoint.url,
            description: endpoint.description,
            events: endpoint.events.into_iter().map(Into::into).collect(),
            include_account: endpoint.include_account,
            enabled: endpoint.enabled,
            active_secrets: i32::try_from(endpoint.active_secrets).unwrap_or(i32::MAX),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
            updated_by: endpoint.updated_by,
        }
    }
}

/// An endpoint and the secret just made for it: shown this once, keep it.
#[derive(SimpleObject, Debug)]
pub struct WebhookEndpointSecret {
    pub endpoint: WebhookEndpointNode,
    /// `whsec_` and the key, base64, as the Standard Webhooks libraries take it.
    pub secret: String,
}

impl From<WithSecret> for WebhookEndpointSecret {
    fn from(made: WithSecret) -> Self {
        Self {
            endpoint: made.endpoint.into(),
            secret: made.secret,
        }
    }
}

#[derive(InputObject, Debug)]
pub struct CreateWebhookEndpointInput {
    /// https (http only where `webhooks.require_https` is off), with a host, without
    /// credentials.
    pub url: String,
    #[graphql(default)]
    pub description: String,
    pub events: Vec<WebhookEventTypeGql>,
    /// Whether payloads may carry the account id.
    #[graphql(default)]
    pub include_account: bool,
}

/// What is left out stays as it is.
#[derive(InputObject, Debug)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<WebhookEventTypeGql>>,
    pub include_account: Option<bool>,
    pub enabled: Option<bool>,
}

fn parse_id(id: &ID) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::bad_input(format!("{:?} is not a webhook endpoint id", id.as_str())))
}

fn kinds(events: Vec<WebhookEventTypeGql>) -> Vec<PlatformEventKind> {
    let mut kinds: Vec<PlatformEventKind> = Vec::with_capacity(events.len());
    for kind in events.into_iter().map(PlatformEventKind::from) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[derive(Debug, Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook endpoint, oldest first. Administrators only.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpointNode>> {
        let actor = rbac::staff(ctx).or_api()?;
        if !actor.has_any_role(&[Role::Admin]) {
            return Err(ApiError::Forbidden(
                "webhookEndpoints needs one of: admin".to_owned(),
            ))
            .or_api();
        }
        let endpoints = ctx.data::<Engine>()?.webhook_endpoints().await.or_api()?;
        Ok(endpoints.into_iter().map(Into::into).collect())
    }
}

#[derive(Debug, Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Adds an endpoint, enabled, with a fresh secret returned this once.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> Result<WebhookEndpointSecret> {
        let actor = rbac::authorize(ctx, "createWebhookEndpoint").or_api()?;
        let made = ctx
            .data::<Engine>()?
            .create_webhook_endpoint(
                &actor,
                NewWebhookEndpoint {
                    url: input.url,
                    description: input.description,
                    events: kinds(input.events),
                    include_account: input.include_account,
                },
            )
            .await
            .map_err(ApiError::from)
            .or_api()?;
        Ok(made.into())
    }

    /// Changes an endpoint's url, description, events, account id or whether it is enabled.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpointNode> {
        let actor = rbac::authorize(ctx, "updateWebhookEndpoint").or_api()?;
        let id = parse_id(&id).or_api()?;
        let updated = ctx
            .data::<Engine>()?
            .update_webhook_endpoint(
                &actor,
                id,
                WebhookEndpointChange {
                    url: input.url,
                    description: input.description,
                    events: input.events.map(kinds),
                    include_account: input.include_account,
                    enabled: input.enabled,
                },
            )
            .await
            .map_err(ApiError::from)
            .or_api()?;
        Ok(updated.into())
    }

    /// Adds a new secret, returned this once; the others keep signing for `overlapHours`
    /// (default 24, at most 720), each delivery carrying one signature per secret.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 24)] overlap_hours: i32,
    ) -> Result<WebhookEndpointSecret> {
        let actor = rbac::authorize(ctx, "rotateWebhookSecret").or_api()?;
        let id = parse_id(&id).or_api()?;
        let rotated = ctx
            .data::<Engine>()?
            .rotate_webhook_secret(&actor, id, TimeDelta::hours(i64::from(overlap_hours)))
            .await
            .map_err(ApiError::from)
            .or_api()?;
        Ok(rotated.into())
    }

    /// Removes an endpoint; deliveries still queued for it end in the dead letters.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let actor = rbac::authorize(ctx, "deleteWebhookEndpoint").or_api()?;
        let uuid = parse_id(&id).or_api()?;
        ctx.data::<Engine>()?
            .delete_webhook_endpoint(&actor, uuid)
            .await
            .map_err(ApiError::from)
            .or_api()?;
        Ok(id)
    }
}
