//! Bulk decisions for senior reviewers: a dry run, start, cancel, the job with the appeals
//! it skipped and why, and its progress.
//!
//! The API records and cancels jobs; the service's bulk decision runner carries them out,
//! so starting a job returns at once.

use std::time::Duration;

use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};
use redress_core::role::BULK_DECIDERS;
use redress_core::Actor;
use redress_engine::bulk_decisions::{
    BulkDecider, BulkDecisionError, BulkDecisionJob, BulkDecisionStatus, DryRun, SkippedAppeal,
    DEFAULT_CHUNK_SIZE,
};
use redress_engine::query::AppealFilter;
use redress_engine::Engine;
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::enums::OutcomeGql;
use crate::schema::ids::parse_id;
use crate::schema::queue::{AppealFilterInput, Count};

/// How often a progress subscription reads the job.
const PROGRESS_POLL: Duration = Duration::from_millis(500);
/// Most skipped appeals one request lists.
const MAX_SKIPPED_PAGE: i32 = 500;

impl From<BulkDecisionError> for ApiError {
    fn from(err: BulkDecisionError) -> Self {
        match err {
            BulkDecisionError::JobNotFound(_) => ApiError::NotFound(err.to_string()),
            BulkDecisionError::NotPermitted { .. } => ApiError::Forbidden(err.to_string()),
            BulkDecisionError::NotRunning { .. } => ApiError::InvalidTransition(err.to_string()),
            BulkDecisionError::UnknownTemplate(_) => {
                ApiError::invalid_field("templateId", err.to_string())
            }
            BulkDecisionError::NothingSelected | BulkDecisionError::TooMany { .. } => {
                ApiError::invalid_field("filter", err.to_string())
            }
            BulkDecisionError::InvalidInput(message) => ApiError::BadUserInput(message),
            BulkDecisionError::Engine(engine) => engine.into(),
            other => {
                tracing::error!(error = %other, "bulk decision request failed");
                ApiError::Internal
            }
        }
    }
}

/// An appeal a bulk decision left as it was, and why.
#[derive(SimpleObject, Debug)]
pub struct BulkSkippedAppeal {
    pub appeal_id: ID,
    pub reference: String,
    pub reason: String,
}

impl From<SkippedAppeal> for BulkSkippedAppeal {
    fn from(skipped: SkippedAppeal) -> Self {
        Self {
            appeal_id: ID(skipped.appeal_id.to_string()),
            reference: skipped.reference,
            reason: skipped.reason,
        }
    }
}

/// What a bulk decision would do, before it is confirmed.
#[derive(SimpleObject, Debug)]
pub struct BulkDecisionDryRun {
    /// Appeals the filter selects now.
    pub selected: i64,
    /// Would be decided for good.
    pub would_decide: i64,
    /// Would be decided under four-eyes review, then wait for another senior reviewer.
    pub would_propose: i64,
    pub would_skip: i64,
    /// Skips by reason: `claimed`, `not_awaiting_decision`, `template_unfillable`,
    /// `linked_to_no_account`, `refused`.
    pub skipped_by_reason: Vec<Count>,
    /// The first appeals that would be skipped, with why.
    pub sample_skipped: Vec<BulkSkippedAppeal>,
}

impl From<DryRun> for BulkDecisionDryRun {
    fn from(dry: DryRun) -> Self {
        Self {
            selected: dry.selected,
            would_decide: dry.would_decide,
            would_propose: dry.would_propose,
            would_skip: dry.would_skip,
            skipped_by_reason: dry
                .skipped_by_reason
                .into_iter()
                .map(|(key, count)| Count { key, count })
                .collect(),
            sample_skipped: dry.sample_skipped.into_iter().map(Into::into).collect(),
        }
    }
}

/// A bulk decision job and its figures.
#[derive(SimpleObject, Debug)]
#[graphql(complex)]
pub struct BulkDecisionJobNode {
    pub id: ID,
    /// `running`, `completed` or `cancelled`.
    pub status: String,
    pub template_id: String,
    pub template_title: String,
    pub outcome: OutcomeGql,
    pub started_by: String,
    /// Why the job stopped when no person cancelled it: its starter no longer holds the
    /// senior reviewer role (as their latest request showed).
    pub stop_reason: Option<String>,
    pub total: i64,
    pub processed: i64,
    /// Decided for good.
    pub decided: i64,
    /// Decided under four-eyes review, waiting for another senior reviewer's approval.
    pub proposed: i64,
    pub skipped: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    job_id: Uuid,
}

impl From<BulkDecisionJob> for BulkDecisionJobNode {
    fn from(job: BulkDecisionJob) -> Self {
        Self {
            id: ID(job.id.to_string()),
            status: job.status.to_string(),
            template_id: job.template.id.clone(),
            template_title: job.template.title.clone(),
            outcome: job.template.outcome.into(),
            started_by: job.started_by,
            stop_reason: job.stop_reason,
            total: job.total,
            processed: job.processed,
            decided: job.decided,
            proposed: job.proposed,
            skipped: job.skipped,
            created_at: job.created_at,
            finished_at: job.finished_at,
            job_id: job.id,
        }
    }
}

#[ComplexObject]
impl BulkDecisionJobNode {
    /// The appeals the job skipped so far, with why, in appeal id order after `after`.
    async fn skipped_appeals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<ID>,
    ) -> Result<Vec<BulkSkippedAppeal>> {
        if !(1..=MAX_SKIPPED_PAGE).contains(&first) {
            return Err(ApiError::invalid_field(
                "first",
                format!("must be between 1 and {MAX_SKIPPED_PAGE}"),
            )
            .into());
        }
        let after = after.map(|id| parse_id(&id)).transpose()?;
        let skipped = decider(ctx)?
            .skipped(self.job_id, after, first as u64)
            .await
            .or_api()?;
        Ok(skipped.into_iter().map(Into::into).collect())
    }
}

fn decider(ctx: &Context<'_>) -> Result<BulkDecider> {
    Ok(BulkDecider::new(ctx.data::<Engine>()?.clone()))
}

fn senior(ctx: &Context<'_>) -> Result<Actor, ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(BULK_DECIDERS) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(
            "bulk decisions need the senior reviewer role".to_owned(),
        ))
    }
}

fn filter(input: AppealFilterInput) -> Result<AppealFilter, ApiError> {
    AppealFilter::try_from(input)
}

#[derive(Debug, Default)]
pub struct BulkDecisionQuery;

#[Object]
impl BulkDecisionQuery {
    /// A bulk decision job.
    async fn bulk_decision_job(&self, ctx: &Context<'_>, id: ID) -> Result<BulkDecisionJobNode> {
        senior(ctx).or_api()?;
        let job = decider(ctx)?.job(parse_id(&id)?).await.or_api()?;
        Ok(job.into())
    }
}

#[derive(Debug, Default)]
pub struct BulkDecisionMutation;

#[Object]
impl BulkDecisionMutation {
    /// How many of the appeals the queue filter selects would be decided with the
    /// template, how many would wait for four-eyes approval, and how many would be skipped
    /// and why. Nothing is written.
    async fn bulk_decision_dry_run(
        &self,
        ctx: &Context<'_>,
        filter: AppealFilterInput,
        template_id: String,
    ) -> Result<BulkDecisionDryRun> {
        let actor = rbac::authorize(ctx, "bulkDecisionDryRun").or_api()?;
        let filter = self::filter(filter).or_api()?;
        Ok(decider(ctx)?
            .dry_run(&actor, &filter, &template_id)
            .await
            .or_api()?
            .into())
    }

    /// Starts a bulk decision over the appeals the filter selects now; the service decides
    /// them in the background, each with the template filled for it.
    async fn start_bulk_decision(
        &self,
        ctx: &Context<'_>,
        filter: AppealFilterInput,
        template_id: String,
    ) -> Result<BulkDecisionJobNode> {
        let actor = rbac::authorize(ctx, "startBulkDecision").or_api()?;
        let filter = self::filter(filter).or_api()?;
        let job = decider(ctx)?
            .start(&actor, filter, &template_id, DEFAULT_CHUNK_SIZE)
            .await
            .or_api()?;
        Ok(job.into())
    }

    /// Stops a running bulk decision at its next chunk; what it decided stays decided.
    async fn cancel_bulk_decision(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> Result<BulkDecisionJobNode> {
        let actor = rbac::authorize(ctx, "cancelBulkDecision").or_api()?;
        let job = decider(ctx)?
            .cancel(&actor, parse_id(&job_id)?)
            .await
            .or_api()?;
        Ok(job.into())
    }
}

#[derive(Debug, Default)]
pub struct BulkDecisionSubscription;

#[Subscription]
impl BulkDecisionSubscription {
    /// The job's figures whenever they change, ending with the job.
    async fn bulk_decision_progress(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> Result<impl Stream<Item = BulkDecisionJobNode>> {
        senior(ctx).or_api()?;
        let job_id = parse_id(&job_id)?;
        let decider = decider(ctx)?;
        decider.job(job_id).await.or_api()?;
        Ok(stream::unfold(
            (decider, None::<(BulkDecisionStatus, i64)>, false),
            move |(decider, last, ended)| async move {
                if ended {
                    return None;
                }
                loop {
                    let job = match decider.job(job_id).await {
                        Ok(job) => job,
                        Err(err) => {
                            tracing::warn!(job = %job_id, error = %err, "cannot read bulk decision");
                            return None;
                        }
                    };
                    let seen = Some((job.status, job.processed));
                    if seen != last {
                        let ended = !job.is_running();
                        return Some((job.into(), (decider, seen, ended)));
                    }
                    tokio::time::sleep(PROGRESS_POLL).await;
                }
            },
        ))
    }
}
