//! An appeal's history and correspondence.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use redress_core::{Actor, Event};
use redress_engine::correspondence::Message;

use crate::rbac;
use crate::schema::enums::RoleGql;

#[derive(Debug, Clone)]
pub struct EventNode {
    pub version: i64,
    pub event: Event,
}

#[Object(name = "AppealEvent")]
impl EventNode {
    /// The appeal's version after this event.
    async fn version(&self) -> i64 {
        self.version
    }

    /// e.g. `filed`, `triaged`, `decided`.
    async fn kind(&self) -> &str {
        self.event.kind.name()
    }

    /// `staff`, `appellant` or `system`.
    async fn actor_kind(&self) -> &str {
        match &self.event.actor {
            Actor::Staff { .. } => "staff",
            Actor::Appellant { .. } => "appellant",
            Actor::System { .. } => "system",
        }
    }

    /// Staff subject or system component; an appellant's identity is personal data.
    async fn actor_id(&self, ctx: &Context<'_>) -> Option<&str> {
        match &self.event.actor {
            Actor::Staff { subject, .. } => Some(subject),
            Actor::System { component } => Some(component),
            Actor::Appellant { identity } => rbac::sees_pii(ctx).then_some(identity.as_str()),
        }
    }

    async fn actor_roles(&self) -> Vec<RoleGql> {
        match &self.event.actor {
            Actor::Staff { roles, .. } => roles.iter().map(|r| (*r).into()).collect(),
            _ => Vec::new(),
        }
    }

    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }

    /// The event's data as stored.
    async fn payload(&self) -> serde_json::Value {
        serde_json::to_value(&self.event.kind).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Debug, Clone)]
pub struct MessageNode(pub Message);

#[Object(name = "Message")]
impl MessageNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// `inbound` or `outbound`.
    async fn direction(&self) -> &str {
        self.0.direction.as_str()
    }

    async fn channel(&self) -> &str {
        self.0.channel.as_str()
    }

    /// Personal data from here to `body`: null for roles without access.
    async fn sender(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx).then_some(self.0.sender.as_str())
    }

    async fn recipient(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx)
            .then_some(self.0.recipient.as_deref())
            .flatten()
    }

    async fn subject(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx)
            .then_some(self.0.subject.as_deref())
            .flatten()
    }

    async fn body(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx).then_some(self.0.body.as_str())
    }

    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
}
