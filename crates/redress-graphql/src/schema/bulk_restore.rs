//! Bulk restoration for support staff: dry run, start, cancel, the job, and its progress.
//!
//! The API records and cancels jobs; the service's bulk runner carries them out with the
//! configured restoration backend, so starting a job returns at once.

use std::time::Duration;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};
use redress_core::role::BULK_RESTORERS;
use redress_core::Actor;
use redress_engine::restoration::{
    BulkJob, BulkJobStatus, BulkRestorer, DryRun, RestorationBackend, RestorationError, Selector,
};
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::ids::parse_id;

/// How often a progress subscription reads the job.
const PROGRESS_POLL: Duration = Duration::from_secs(1);

impl From<RestorationError> for ApiError {
    fn from(err: RestorationError) -> Self {
        match err {
            RestorationError::JobNotFound(_) | RestorationError::RestorationNotFound(_) => {
                ApiError::NotFound(err.to_string())
            }
            RestorationError::NotPermitted { .. } => ApiError::Forbidden(err.to_string()),
            RestorationError::SelectorBusy { .. } | RestorationError::NotRunning { .. } => {
                ApiError::InvalidTransition(err.to_string())
            }
            RestorationError::InvalidSelector(message) => ApiError::BadUserInput(message),
            RestorationError::Engine(engine) => engine.into(),
            other => {
                tracing::error!(error = %other, "bulk restore request failed");
                ApiError::Internal
            }
        }
    }
}

/// Exactly one way of naming the accounts.
#[derive(InputObject, Debug)]
pub struct BulkSelectorInput {
    /// Enforcements by this rule or model.
    pub source_id: Option<String>,
    /// Enforcements of this batch.
    pub batch_id: Option<String>,
    /// Enforcements under this policy.
    pub policy: Option<String>,
    /// Enforcements from this time (with `to`).
    pub from: Option<DateTime<Utc>>,
    /// Enforcements before this time (with `from`).
    pub to: Option<DateTime<Utc>>,
    /// An uploaded list of account ids.
    pub account_ids: Option<Vec<String>>,
}

impl BulkSelectorInput {
    fn into_selector(self) -> Result<Selector, ApiError> {
        let selector =
            match self {
                Self {
                    source_id: Some(source_id),
                    batch_id: None,
                    policy: None,
                    from: None,
                    to: None,
                    account_ids: None,
                } => Selector::Source { source_id },
                Self {
                    source_id: None,
                    batch_id: Some(batch_id),
                    policy: None,
                    from: None,
                    to: None,
                    account_ids: None,
                } => Selector::Batch { batch_id },
                Self {
                    source_id: None,
                    batch_id: None,
                    policy: Some(policy),
                    from: None,
                    to: None,
                    account_ids: None,
                } => Selector::Policy { policy },
                Self {
                    source_id: None,
                    batch_id: None,
                    policy: None,
                    from: Some(from),
                    to: Some(to),
                    account_ids: None,
                } => Selector::Window { from, to },
                Self {
                    source_id: None,
                    batch_id: None,
                    policy: None,
                    from: None,
                    to: None,
                    account_ids: Some(account_ids),
                } => Selector::Accounts { account_ids },
                _ => return Err(ApiError::bad_input(
                    "name exactly one selector: sourceId, batchId, policy, from+to or accountIds",
                )),
            };
        selector.validate()?;
        Ok(selector)
    }
}

/// What a job would cover.
#[derive(SimpleObject, Debug)]
pub struct BulkRestoreDryRun {
    pub accounts: i64,
    pub with_open_appeals: i64,
    pub already_active: i64,
    pub unknown: i64,
    pub sample: Vec<String>,
}

impl From<DryRun> for BulkRestoreDryRun {
    fn from(dry: DryRun) -> Self {
        Self {
            accounts: dry.accounts,
            with_open_appeals: dry.with_open_appeals,
            already_active: dry.already_active,
            unknown: dry.unknown,
            sample: dry.sample,
        }
    }
}

/// A bulk job and its figures.
#[derive(SimpleObject, Debug)]
pub struct BulkRestoreJob {
    pub id: ID,
    /// `running`, `completed` or `cancelled`.
    pub status: String,
    pub selector_key: String,
    pub reason: String,
    pub started_by: String,
    pub total: i64,
    pub processed: i64,
    pub restored: i64,
    /// Waiting for the account service's confirmation.
    pub requested: i64,
    pub already_active: i64,
    pub failed: i64,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<BulkJob> for BulkRestoreJob {
    fn from(job: BulkJob) -> Self {
        Self {
            id: ID(job.id.to_string()),
            status: job.status.to_string(),
            selector_key: job.selector_key,
            reason: job.reason,
            started_by: job.started_by,
            total: job.total,
            processed: job.processed,
            restored: job.restored,
            requested: job.requested,
            already_active: job.already_active,
            failed: job.failed,
            created_at: job.created_at,
            finished_at: job.finished_at,
        }
    }
}

fn restorer(ctx: &Context<'_>) -> Result<BulkRestorer> {
    // Only running a job uses the backend, and the service's runner does that.
    Ok(BulkRestorer::new(
        ctx.data::<Engine>()?.clone(),
        RestorationBackend::Embedded,
    ))
}

fn support(ctx: &Context<'_>) -> Result<Actor, ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(BULK_RESTORERS) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(
            "bulk restoration needs the support or admin role".to_owned(),
        ))
    }
}

#[derive(Debug, Default)]
pub struct BulkRestoreQuery;

#[Object]
impl BulkRestoreQuery {
    /// A bulk restore job.
    async fn bulk_restore_job(&self, ctx: &Context<'_>, id: ID) -> Result<BulkRestoreJob> {
        support(ctx).or_api()?;
        let job = restorer(ctx)?.job(parse_id(&id)?).await.or_api()?;
        Ok(job.into())
    }
}

#[derive(Debug, Default)]
pub struct BulkRestoreMutation;

#[Object]
impl BulkRestoreMutation {
    /// How many accounts a job would restore, how many have open appeals, and a sample.
    async fn bulk_restore_dry_run(
        &self,
        ctx: &Context<'_>,
        selector: BulkSelectorInput,
    ) -> Result<BulkRestoreDryRun> {
        rbac::authorize(ctx, "bulkRestoreDryRun").or_api()?;
        let selector = selector.into_selector().or_api()?;
        Ok(restorer(ctx)?.dry_run(&selector).await.or_api()?.into())
    }

    /// Starts a job; the service runs it in the background. One job per selector at a time.
    async fn start_bulk_restore(
        &self,
        ctx: &Context<'_>,
        selector: BulkSelectorInput,
        reason: String,
    ) -> Result<BulkRestoreJob> {
        let actor = rbac::authorize(ctx, "startBulkRestore").or_api()?;
        let selector = selector.into_selector().or_api()?;
        let job = restorer(ctx)?
            .start(
                &actor,
                selector,
                &reason,
                redress_engine::restoration::bulk::DEFAULT_CHUNK_SIZE,
            )
            .await
            .or_api()?;
        Ok(job.into())
    }

    /// Stops a running job at its next chunk; what it restored stays restored.
    async fn cancel_bulk_restore(&self, ctx: &Context<'_>, job_id: ID) -> Result<BulkRestoreJob> {
        let actor = rbac::authorize(ctx, "cancelBulkRestore").or_api()?;
        let job = restorer(ctx)?
            .cancel(&actor, parse_id(&job_id)?)
            .await
            .or_api()?;
        Ok(job.into())
    }
}

#[derive(Debug, Default)]
pub struct BulkRestoreSubscription;

#[Subscription]
impl BulkRestoreSubscription {
    /// The job's figures whenever they change, ending with the job.
    async fn bulk_restore_progress(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
    ) -> Result<impl Stream<Item = BulkRestoreJob>> {
        support(ctx).or_api()?;
        let job_id = parse_id(&job_id)?;
        let restorer = restorer(ctx)?;
        restorer.job(job_id).await.or_api()?;
        Ok(stream::unfold(
            (restorer, None::<(BulkJobStatus, i64, i64)>, false),
            move |(restorer, last, ended)| async move {
                if ended {
                    return None;
                }
                loop {
                    let job = match restorer.job(job_id).await {
                        Ok(job) => job,
                        Err(err) => {
                            tracing::warn!(job = %job_id, error = %err, "cannot read bulk job");
                            return None;
                        }
                    };
                    let seen = Some((job.status, job.processed, job.restored));
                    if seen != last {
                        let ended = !job.is_running();
                        return Some((job.into(), (restorer, seen, ended)));
                    }
                    tokio::time::sleep(PROGRESS_POLL).await;
                }
            },
        ))
    }
}
