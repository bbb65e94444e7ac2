//! Blind second reviews and the quality figures: a reviewer takes the next open second
//! review (never of their own decision) and records their outcome; the leads read the
//! agreement and overturn rates of a period.
//!
//! The blind view is its own set of types built from the engine's `BlindCase`, which holds
//! no first outcome, reasons, state or events: no field here leads to the appeal, its
//! account or its history, so a query through it cannot reach the first decision.

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_engine::quality::{
    Agreement, BlindCase, BlindMessage, QualityError, QualityRates, SecondReview,
};
use redress_engine::registry::Enforcement;
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::decisions::PolicyNode;
use crate::schema::enums::{ChannelGql, OutcomeGql};
use crate::schema::ids::parse_id;
use crate::schema::transparency::reader;

impl From<QualityError> for ApiError {
    fn from(err: QualityError) -> Self {
        match err {
            QualityError::NotFound(_) => ApiError::NotFound(err.to_string()),
            QualityError::NotPermitted { .. } | QualityError::FirstReviewer { .. } => {
                ApiError::Forbidden(err.to_string())
            }
            QualityError::AlreadyReviewed(_)
            | QualityError::HeldByOther { .. }
            | QualityError::LostRace => ApiError::InvalidTransition(err.to_string()),
            QualityError::Engine(engine) => engine.into(),
            other => {
                tracing::error!(error = %other, "second review request failed");
                ApiError::Internal
            }
        }
    }
}

/// The enforcement as the platform recorded it, without ids that lead to the account or
/// its appeals.
#[derive(SimpleObject, Debug)]
#[graphql(name = "BlindEnforcement", complex)]
pub struct BlindEnforcementNode {
    pub kind: String,
    pub policy: String,
    pub automated_detection: String,
    pub automated_decision: String,
    /// `created`, `saved`, `shared` or `none`.
    pub content_relation: Option<String>,
    pub facts: String,
    /// The statement of reasons the platform sent with the enforcement.
    pub statement: serde_json::Value,
    pub enforced_at: DateTime<Utc>,
}

#[async_graphql::ComplexObject]
impl BlindEnforcementNode {
    /// The policy's texts from the catalog, when it is configured.
    async fn policy_details(&self, ctx: &Context<'_>) -> Result<Option<PolicyNode>> {
        Ok(ctx
            .data::<Engine>()?
            .policy_catalog()
            .policy(&self.policy)
            .cloned()
            .map(PolicyNode))
    }
}

impl From<Enforcement> for BlindEnforcementNode {
    fn from(enforcement: Enforcement) -> Self {
        Self {
            kind: enforcement.kind,
            policy: enforcement.policy,
            automated_detection: enforcement.automated_detection.as_str().to_owned(),
            automated_decision: enforcement.automated_decision.as_str().to_owned(),
            content_relation: enforcement
                .content_relation
                .map(|relation| relation.as_str().to_owned()),
            facts: enforcement.facts,
            statement: enforcement.statement,
            enforced_at: enforcement.enforced_at,
        }
    }
}

/// One of the appellant's messages from before the first decision.
#[derive(SimpleObject, Debug)]
#[graphql(name = "BlindMessage")]
pub struct BlindMessageNode {
    pub channel: String,
    pub subject: Option<String>,
    pub body: String,
    pub received_at: DateTime<Utc>,
}

impl From<BlindMessage> for BlindMessageNode {
    fn from(message: BlindMessage) -> Self {
        Self {
            channel: message.channel,
            subject: message.subject,
            body: message.body,
            received_at: message.received_at,
        }
    }
}

/// A case as a second reviewer sees it: what the appellant and the platform said, and
/// nothing of the first decision.
#[derive(SimpleObject, Debug)]
#[graphql(name = "BlindSecondReview")]
pub struct BlindSecondReviewNode {
    /// The second review's id, for `recordSecondReview`.
    pub id: ID,
    pub channel: ChannelGql,
    pub filed_at: DateTime<Utc>,
    /// The appellant's language.
    pub language: Option<String>,
    /// The enforcement's policy; none when the appeal names no known enforcement.
    pub policy: Option<String>,
    pub enforcement: Option<BlindEnforcementNode>,
    pub messages: Vec<BlindMessageNode>,
    /// Until when the caller holds it; another reviewer may take it after.
    pub held_until: DateTime<Utc>,
}

impl From<BlindCase> for BlindSecondReviewNode {
    fn from(case: BlindCase) -> Self {
        Self {
            id: ID(case.review_id.to_string()),
            channel: case.channel.into(),
            filed_at: case.filed_at,
            language: case.language,
            policy: case.policy,
            enforcement: case.enforcement.map(Into::into),
            messages: case.messages.into_iter().map(Into::into).collect(),
            held_until: case.held_until,
        }
    }
}

/// A recorded second review: the caller's outcome and whether it agrees with the first.
#[derive(SimpleObject, Debug)]
#[graphql(name = "SecondReviewResult")]
pub struct SecondReviewResultNode {
    pub id: ID,
    pub outcome: OutcomeGql,
    pub agreed: bool,
    pub reviewed_at: DateTime<Utc>,
}

impl SecondReviewResultNode {
    fn of(review: SecondReview) -> Result<Self, ApiError> {
        match (review.second_outcome, review.agreed, review.reviewed_at) {
            (Some(outcome), Some(agreed), Some(reviewed_at)) => Ok(Self {
                id: ID(review.id.to_string()),
                outcome: outcome.into(),
                agreed,
                reviewed_at,
            }),
            _ => Err(ApiError::Internal),
        }
    }
}

/// Second reviews of one reviewer, policy or template, and how many agreed.
#[derive(SimpleObject, Debug)]
#[graphql(name = "AgreementRate")]
pub struct AgreementNode {
    pub key: String,
    pub reviewed: u64,
    pub agreed: u64,
    pub rate: f64,
}

impl From<Agreement> for AgreementNode {
    fn from(row: Agreement) -> Self {
        Self {
            key: row.key,
            reviewed: row.reviewed,
            agreed: row.agreed,
            rate: row.rate,
        }
    }
}

/// The quality figures of `[from, to)`, the same as `redress report`'s `quality`.
#[derive(SimpleObject, Debug)]
#[graphql(name = "QualityRates")]
pub struct QualityRatesNode {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Second reviews recorded in the period.
    pub second_reviews: u64,
    pub agreed: u64,
    pub agreement_rate: Option<f64>,
    /// By the reviewer whose decision was reviewed again.
    pub by_reviewer: Vec<AgreementNode>,
    /// By the enforcement's policy (`unlinked` without a known enforcement).
    pub by_policy: Vec<AgreementNode>,
    /// By decision template (`none` without one).
    pub by_template: Vec<AgreementNode>,
    /// Decisions of the period later reopened and decided again.
    pub reopened_and_decided_again: u64,
    /// Of those, decided differently the second time.
    pub overturned: u64,
    pub overturn_rate: Option<f64>,
}

impl From<QualityRates> for QualityRatesNode {
    fn from(rates: QualityRates) -> Self {
        let rows = |rows: Vec<Agreement>| rows.into_iter().map(Into::into).collect();
        Self {
            from: rates.from,
            to: rates.to,
            second_reviews: rates.second_reviews,
            agreed: rates.agreed,
            agreement_rate: rates.agreement_rate,
            by_reviewer: rows(rates.by_reviewer),
            by_policy: rows(rates.by_policy),
            by_template: rows(rates.by_template),
            reopened_and_decided_again: rates.reopened_and_decided_again,
            overturned: rates.overturned,
            overturn_rate: rates.overturn_rate,
        }
    }
}

#[derive(Debug, Default)]
pub struct SecondReviewQuery;

#[Object]
impl SecondReviewQuery {
    /// Second reviews waiting for a reviewer.
    async fn open_second_reviews(&self, ctx: &Context<'_>) -> Result<u64> {
        rbac::staff(ctx).or_api()?;
        ctx.data::<Engine>()?.open_second_reviews().await.or_api()
    }

    /// Agreement of second reviews recorded in `[from, to)`, per reviewer, policy and
    /// template, and the overturn rate of the period's decisions later reopened.
    async fn quality_rates(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<QualityRatesNode> {
        reader(ctx, "qualityRates").or_api()?;
        let rates = ctx
            .data::<Engine>()?
            .quality_rates(from, to)
            .await
            .or_api()?;
        Ok(rates.into())
    }
}

#[derive(Debug, Default)]
pub struct SecondReviewMutation;

#[Object]
impl SecondReviewMutation {
    /// The second review the caller holds, else the oldest open one of someone else's
    /// decision, held for the caller for the claim lease; null when none is open. The case
    /// comes without the first outcome, its reasons or the case's history.
    async fn take_second_review(&self, ctx: &Context<'_>) -> Result<Option<BlindSecondReviewNode>> {
        let actor = rbac::authorize(ctx, "takeSecondReview").or_api()?;
        let case = ctx
            .data::<Engine>()?
            .take_second_review(&actor)
            .await
            .or_api()?;
        Ok(case.map(Into::into))
    }

    /// Records the caller's outcome of a second review and whether it agrees with the
    /// first; refused to the reviewer who made the first decision.
    async fn record_second_review(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: OutcomeGql,
    ) -> Result<SecondReviewResultNode> {
        let actor = rbac::authorize(ctx, "recordSecondReview").or_api()?;
        let review = ctx
            .data::<Engine>()?
            .record_second_review(&actor, parse_id(&id)?, outcome.into())
            .await
            .or_api()?;
        SecondReviewResultNode::of(review).or_api()
    }
}
