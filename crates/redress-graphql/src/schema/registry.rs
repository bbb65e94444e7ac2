//! Accounts and the enforcements the platform recorded against them.

use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};
use redress_engine::registry::{Account, ContentRelation, Enforcement};
use redress_engine::Engine;

use crate::error::OrApiError;
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};

#[derive(Debug, Clone)]
pub struct AccountNode(pub Account);

#[Object(name = "Account")]
impl AccountNode {
    /// The platform's account id.
    async fn id(&self) -> &str {
        &self.0.id
    }

    /// Personal data: null for roles without access.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx)
            .then_some(self.0.email.as_deref())
            .flatten()
    }

    /// `active` or `deactivated`.
    async fn status(&self) -> &str {
        self.0.status.as_str()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn enforcements(&self, ctx: &Context<'_>) -> Result<Vec<EnforcementNode>> {
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .enforcements_of(&self.0.id)
            .await
            .or_api()?
            .into_iter()
            .map(EnforcementNode)
            .collect())
    }

    /// Every appeal of the account, newest first, but those the caller reviews blind.
    async fn appeals(&self, ctx: &Context<'_>) -> Result<Vec<AppealNode>> {
        let engine = ctx.data::<Engine>()?;
        let appeals = engine.appeals_of(&self.0.id).await.or_api()?;
        Ok(Withheld::from_caller(ctx).await?.show_all(appeals))
    }
}

#[derive(Debug, Clone)]
pub struct EnforcementNode(pub Enforcement);

#[Object(name = "Enforcement")]
impl EnforcementNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The platform's own id of the action.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    async fn account_id(&self) -> &str {
        &self.0.account_id
    }

    /// e.g. `account_deactivation`, `content_removal`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    async fn policy(&self) -> &str {
        &self.0.policy
    }

    /// The policy as the catalog describes it; null when the catalog does not know it.
    async fn policy_details(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::schema::decisions::PolicyNode>> {
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .current_policy_catalog()
            .await
            .or_api()?
            .policy(&self.0.policy)
            .cloned()
            .map(crate::schema::decisions::PolicyNode))
    }

    /// `rule`, `model` or `batch`.
    async fn source_kind(&self) -> &str {
        &self.0.source_kind
    }

    async fn source_id(&self) -> &str {
        &self.0.source_id
    }

    async fn batch_id(&self) -> Option<&str> {
        self.0.batch_id.as_deref()
    }

    async fn automated_detection(&self) -> &str {
        self.0.automated_detection.as_str()
    }

    async fn automated_decision(&self) -> &str {
        self.0.automated_decision.as_str()
    }

    async fn content_id(&self) -> Option<&str> {
        self.0.content_id.as_deref()
    }

    /// What the account did with the content: `created`, `saved` or `shared`.
    async fn content_relation(&self) -> Option<&str> {
        self.0.content_relation.map(ContentRelation::as_str)
    }

    async fn facts(&self) -> &str {
        &self.0.facts
    }

    /// The statement of reasons given to the account holder.
    async fn statement(&self) -> &serde_json::Value {
        &self.0.statement
    }

    async fn enforced_at(&self) -> DateTime<Utc> {
        self.0.enforced_at
    }
}
