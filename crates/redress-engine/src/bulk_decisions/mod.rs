//! Bulk decisions: a senior reviewer decides the appeals a queue filter selects with one
//! decision template. The appeals are fixed when the job starts; then the job runs in
//! chunks, each one transaction that moves the job's checkpoint (guarded, so a chunk is
//! one runner's) together with every decision it records and the job's figures. A job
//! stopped at any point resumes after its last commit, and no appeal is decided twice.
//!
//! Each appeal gets its own `decided` event through the core's `decide_in_bulk` command,
//! with the template filled for that appeal: four-eyes review holds per appeal (the bulk
//! decision is the first decision, a second senior reviewer approves it), and an appeal
//! someone else holds a live claim on is skipped and reported with why.

mod error;
mod job;
mod verdict;

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use redress_core::role::BULK_DECIDERS;
use redress_core::{Actor, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

pub use error::BulkDecisionError;
pub use job::{BulkDecisionJob, BulkDecisionOutcome, BulkDecisionStatus, Progress, SkippedAppeal};
use job::{Counts, TargetOutcome};
pub use verdict::SkipReason;
use verdict::{Decider, Verdict};

use crate::commands::{self, Decided};
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::error::EngineError;
use crate::policies::PolicyCatalog;
use crate::query::AppealFilter;
use crate::registry::Enforcement;
use crate::repo::appeals::{from_model, StoredAppeal};
use crate::transact::{Retry, TransactionError};

/// Appeals per chunk: each chunk is one transaction holding its appeals' rows until it
/// commits, so a reviewer who claims one of them waits at most that long.
pub const DEFAULT_CHUNK_SIZE: u32 = 500;
pub const MAX_CHUNK_SIZE: u32 = 5_000;
/// The most appeals one job decides; a larger selection is narrowed first.
pub const MAX_APPEALS: u64 = 50_000;
/// Skipped appeals a dry run lists by name.
const DRY_RUN_SAMPLE: usize = 20;
/// Appeals a dry run reads at a time.
const DRY_RUN_PAGE: u64 = 1_000;

/// What a job would do, before anyone confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRun {
    pub selected: i64,
    /// Would be decided for good.
    pub would_decide: i64,
    /// Would be decided under four-eyes review, waiting for a second senior reviewer.
    pub would_propose: i64,
    pub would_skip: i64,
    /// Skips by reason (`SkipReason::kind`), most frequent first.
    pub skipped_by_reason: Vec<(String, i64)>,
    /// The first skipped appeals, with why.
    pub sample_skipped: Vec<SkippedAppeal>,
}

/// What one step of a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// A chunk was processed and committed; more may follow.
    Processed(Progress),
    /// Nothing was left: the job is complete.
    Finished(Progress),
    /// The job is not running (cancelled or finished, perhaps by another runner).
    Stopped,
}

/// Starts, dry-runs, runs, resumes and cancels bulk decision jobs.
#[derive(Debug, Clone)]
pub struct BulkDecider {
    engine: Engine,
}

impl BulkDecider {
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.clock().now()
    }

    /// How many appeals a job with this filter and template would decide, how many would
    /// wait for four-eyes approval, and how many it would skip and why. Nothing is written.
    pub async fn dry_run(
        &self,
        actor: &Actor,
        filter: &AppealFilter,
        template_id: &str,
    ) -> Result<DryRun, BulkDecisionError> {
        require_role(actor, "dry-run a bulk decision")?;
        let catalog = self.engine.current_policy_catalog().await?;
        let template = template_of(&catalog, template_id)?;
        let now = self.now();
        let selected = job::count_selected(self.engine.db(), filter, now).await?;
        within_limits(selected)?;
        let decider = Decider {
            job_id: Uuid::nil(),
            catalog: &catalog,
            template: &template,
            actor,
            now,
        };
        let mut dry = DryRun {
            selected: 0,
            would_decide: 0,
            would_propose: 0,
            would_skip: 0,
            skipped_by_reason: Vec::new(),
            sample_skipped: Vec::new(),
        };
        let mut reasons: HashMap<&'static str, i64> = HashMap::new();
        let mut after = None;
        loop {
            // Through the queue page's own path, planned for its values on PostgreSQL.
            let page = self.engine.appeals(filter, after, DRY_RUN_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let enforcements = enforcements_of(self.engine.db(), &page).await?;
            for stored in &page {
                dry.selected += 1;
                let enforcement = stored
                    .appeal
                    .enforcement_id
                    .and_then(|id| enforcements.get(&id));
                match decider.verdict(stored, enforcement) {
                    Verdict::Decide { .. } if stored.appeal.four_eyes => dry.would_propose += 1,
                    Verdict::Decide { .. } => dry.would_decide += 1,
                    Verdict::Skip(reason) => {
                        dry.would_skip += 1;
                        *reasons.entry(reason.kind()).or_default() += 1;
                        if dry.sample_skipped.len() < DRY_RUN_SAMPLE {
                            dry.sample_skipped.push(SkippedAppeal {
                                appeal_id: stored.id,
                                reference: stored.reference.to_string(),
                                reason: reason.to_string(),
                            });
                        }
                    }
                }
            }
            if dry.selected as u64 >= MAX_APPEALS {
                break;
            }
        }
        let mut by_reason: Vec<(String, i64)> = reasons
            .into_iter()
            .map(|(kind, n)| (kind.to_owned(), n))
            .collect();
        by_reason.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        dry.skipped_by_reason = by_reason;
        Ok(dry)
    }

    /// Records the job and the appeals the filter selects now; nothing is decided yet.
    pub async fn start(
        &self,
        actor: &Actor,
        filter: AppealFilter,
        template_id: &str,
        chunk_size: u32,
    ) -> Result<BulkDecisionJob, BulkDecisionError> {
        require_role(actor, "start a bulk decision")?;
        let catalog = self.engine.current_policy_catalog().await?;
        let template = template_of(&catalog, template_id)?;
        let filter = crate::text::via_json(filter);
        let now = self.now();
        let db = self.engine.db();
        within_limits(job::count_selected(db, &filter, now).await?)?;
        let started = BulkDecisionJob {
            id: Uuid::now_v7(),
            filter,
            template,
            started_by: actor.subject().unwrap_or_default().to_owned(),
            started_roles: match actor {
                Actor::Staff { roles, .. } => roles.clone(),
                _ => Vec::new(),
            },
            stop_reason: None,
            status: BulkDecisionStatus::Running,
            total: 0,
            processed: 0,
            decided: 0,
            proposed: 0,
            skipped: 0,
            checkpoint: None,
            chunk_size: chunk_size.clamp(1, MAX_CHUNK_SIZE),
            created_at: now,
            updated_at: now,
            finished_at: None,
        };
        let total = self
            .engine
            .transact_once(async |txn| job::insert(txn, &started, now).await)
            .await?;
        // This replica's note may predate the job; the starter's next request checks it.
        self.engine.noted_roles().forget(&started.started_by);
        tracing::info!(
            job = %started.id,
            template = %started.template.id,
            total,
            actor = %actor,
            "bulk decision started"
        );
        self.job(started.id).await
    }

    /// Decides the next chunk of a running job in one transaction; completes the job when
    /// no appeal is left. A chunk that loses a race with a reviewer (an appeal claimed or
    /// decided meanwhile) is run again from the start and then skips that appeal.
    pub async fn run_chunk(&self, job_id: Uuid) -> Result<ChunkOutcome, BulkDecisionError> {
        // The policies' texts a chunk fills in are the catalog's current ones; read before
        // the chunk's transaction, which holds SQLite's one connection.
        self.engine.refresh_policy_catalog().await?;
        loop {
            let ran = self
                .engine
                .transact(Retry::LostRacesAndConflicts, async |txn| {
                    match self.chunk(txn, job_id).await? {
                        Step::Processed(progress) => Ok(progress),
                        other => Err(ChunkEnd::Undone(other)),
                    }
                })
                .await;
            return match ran {
                Ok(progress) => Ok(ChunkOutcome::Processed(progress)),
                Err(ChunkEnd::Undone(Step::HeldElsewhere)) => continue,
                Err(ChunkEnd::Undone(Step::Exhausted)) => self.finish(job_id).await,
                Err(ChunkEnd::Undone(Step::StarterLacksRole(reason))) => {
                    if job::stop(self.engine.db(), job_id, &reason, self.now()).await? {
                        tracing::warn!(job = %job_id, %reason, "bulk decision stopped");
                    }
                    Ok(ChunkOutcome::Stopped)
                }
                Err(ChunkEnd::Undone(_)) => Ok(ChunkOutcome::Stopped),
                Err(ChunkEnd::Failed(err)) => Err(err),
            };
        }
    }

    async fn finish(&self, job_id: Uuid) -> Result<ChunkOutcome, BulkDecisionError> {
        if !job::finish(self.engine.db(), job_id, self.now()).await? {
            return Ok(ChunkOutcome::Stopped);
        }
        let finished = self.job(job_id).await?;
        tracing::info!(
            job = %job_id,
            decided = finished.decided,
            proposed = finished.proposed,
            skipped = finished.skipped,
            "bulk decision completed"
        );
        Ok(ChunkOutcome::Finished(finished.progress()))
    }

    async fn chunk(&self, txn: &DatabaseTransaction, job_id: Uuid) -> Result<Step, ChunkEnd> {
        let now = self.now();
        let job = job::load(txn, job_id).await?;
        if !job.is_running() {
            return Ok(Step::NotRunning);
        }
        let actor = Actor::staff(job.started_by.clone(), job.started_roles.clone());
        if !actor.has_any_role(BULK_DECIDERS) {
            return Ok(Step::StarterLacksRole(lost_role_reason(&job)));
        }
        let targets = job::next_targets(txn, job_id, job.checkpoint, job.chunk_size).await?;
        let Some(&last) = targets.last() else {
            return Ok(Step::Exhausted);
        };
        if !job::claim_chunk(txn, job_id, job.checkpoint, last, now).await? {
            return Ok(Step::HeldElsewhere);
        }
        let mut appeals: HashMap<Uuid, StoredAppeal> = Appeals::find()
            .filter(appeal::Column::Id.is_in(targets.clone()))
            .all(txn)
            .await
            .map_err(EngineError::from)?
            .into_iter()
            .map(|row| from_model(row).map(|stored| (stored.id, stored)))
            .collect::<Result<_, EngineError>>()?;
        let loaded: Vec<StoredAppeal> = appeals.values().cloned().collect();
        let enforcements = enforcements_of(txn, &loaded).await?;
        let catalog = self.engine.policy_catalog();
        let decider = Decider {
            job_id,
            catalog: &catalog,
            template: &job.template,
            actor: &actor,
            now,
        };
        let mut counts = Counts {
            processed: targets.len() as i64,
            ..Counts::default()
        };
        let mut outcomes = Vec::with_capacity(targets.len());
        let mut decided = Vec::new();
        for appeal_id in targets {
            let Some(stored) = appeals.remove(&appeal_id) else {
                counts.skipped += 1;
                outcomes.push(TargetOutcome {
                    appeal_id,
                    outcome: BulkDecisionOutcome::Skipped,
                    detail: Some("the appeal no longer exists".to_owned()),
                });
                continue;
            };
            let enforcement = stored
                .appeal
                .enforcement_id
                .and_then(|id| enforcements.get(&id));
            match decider.verdict(&stored, enforcement) {
                Verdict::Decide { command, events } => {
                    let outcome = if stored.appeal.four_eyes {
                        counts.proposed += 1;
                        BulkDecisionOutcome::Proposed
                    } else {
                        counts.decided += 1;
                        BulkDecisionOutcome::Decided
                    };
                    outcomes.push(TargetOutcome {
                        appeal_id,
                        outcome,
                        detail: None,
                    });
                    decided.push(Decided {
                        stored,
                        command: *command,
                        events,
                    });
                }
                Verdict::Skip(reason) => {
                    counts.skipped += 1;
                    outcomes.push(TargetOutcome {
                        appeal_id,
                        outcome: BulkDecisionOutcome::Skipped,
                        detail: Some(job::detail_of(&reason)),
                    });
                }
            }
        }
        let cx = self.engine.in_transaction(txn, now);
        commands::record_decisions(&cx, &actor, decided).await?;
        job::record_outcomes(txn, job_id, &outcomes).await?;
        job::count_in(txn, job_id, counts, now).await?;
        let mut progress = job.progress();
        progress.processed += counts.processed;
        progress.decided += counts.decided;
        progress.proposed += counts.proposed;
        progress.skipped += counts.skipped;
        Ok(Step::Processed(progress))
    }

    /// Runs (or resumes) a job until it finishes or is cancelled, reporting progress after
    /// every chunk.
    pub async fn run(
        &self,
        job_id: Uuid,
        on_progress: impl FnMut(&Progress),
    ) -> Result<BulkDecisionJob, BulkDecisionError> {
        self.run_until(job_id, || false, on_progress).await
    }

    /// [`BulkDecider::run`], stopping between chunks when `stop` says so; the job then
    /// resumes where it stopped.
    pub async fn run_until(
        &self,
        job_id: Uuid,
        stop: impl Fn() -> bool,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<BulkDecisionJob, BulkDecisionError> {
        while !stop() {
            match self.run_chunk(job_id).await? {
                ChunkOutcome::Processed(progress) => on_progress(&progress),
                ChunkOutcome::Finished(progress) => {
                    on_progress(&progress);
                    break;
                }
                ChunkOutcome::Stopped => break,
            }
        }
        self.job(job_id).await
    }

    /// Stops a running job at its next chunk; what it decided stays decided.
    pub async fn cancel(
        &self,
        actor: &Actor,
        job_id: Uuid,
    ) -> Result<BulkDecisionJob, BulkDecisionError> {
        require_role(actor, "cancel a bulk decision")?;
        let cancelled = job::cancel(self.engine.db(), job_id, self.now()).await?;
        let job = self.job(job_id).await?;
        if !cancelled {
            return Err(BulkDecisionError::NotRunning {
                job: job_id,
                status: job.status,
            });
        }
        tracing::info!(job = %job_id, actor = %actor, processed = job.processed, "bulk decision cancelled");
        Ok(job)
    }

    pub async fn job(&self, job_id: Uuid) -> Result<BulkDecisionJob, BulkDecisionError> {
        job::load(self.engine.db(), job_id).await
    }

    /// Jobs left running (started through the API, or stopped by a restart), to run.
    pub async fn unfinished(&self) -> Result<Vec<Uuid>, BulkDecisionError> {
        job::unfinished(self.engine.db()).await
    }

    /// The appeals a job skipped, with why, in appeal id order after `after`.
    pub async fn skipped(
        &self,
        job_id: Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<SkippedAppeal>, BulkDecisionError> {
        job::skipped(self.engine.db(), job_id, after, limit).await
    }
}

fn template_of(
    catalog: &PolicyCatalog,
    id: &str,
) -> Result<redress_core::DecisionTemplate, BulkDecisionError> {
    catalog
        .template(id)
        .cloned()
        .ok_or_else(|| BulkDecisionError::UnknownTemplate(id.to_owned()))
}

fn require_role(actor: &Actor, action: &'static str) -> Result<(), BulkDecisionError> {
    if actor.has_any_role(BULK_DECIDERS) {
        Ok(())
    } else {
        Err(BulkDecisionError::NotPermitted {
            actor: actor.to_string(),
            action,
        })
    }
}

fn within_limits(selected: u64) -> Result<(), BulkDecisionError> {
    match selected {
        0 => Err(BulkDecisionError::NothingSelected),
        n if n > MAX_APPEALS => Err(BulkDecisionError::TooMany {
            selected: n,
            max: MAX_APPEALS,
        }),
        _ => Ok(()),
    }
}

/// The enforcements the appeals are about, by id.
async fn enforcements_of<C: ConnectionTrait>(
    conn: &C,
    appeals: &[StoredAppeal],
) -> Result<HashMap<Uuid, Enforcement>, EngineError> {
    let mut ids: Vec<Uuid> = appeals
        .iter()
        .filter_map(|stored| stored.appeal.enforcement_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        for row in Enforcements::find()
            .filter(enforcement::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            let enforcement = Enforcement::try_from(row)?;
            found.insert(enforcement.id, enforcement);
        }
    }
    Ok(found)
}

fn lost_role_reason(job: &BulkDecisionJob) -> String {
    let names = |roles: &[Role]| {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{} no longer holds a role that decides in bulk ({}); their latest roles: {}",
        job.started_by,
        names(BULK_DECIDERS),
        if job.started_roles.is_empty() {
            "none".to_owned()
        } else {
            names(&job.started_roles)
        }
    )
}

/// How long a replica trusts its note of a subject's roles before it checks the stored
/// jobs again; bounds how long another replica's or a new job's different roles go unseen.
const NOTED_ROLES_EXPIRY: chrono::TimeDelta = chrono::TimeDelta::seconds(30);

/// The staff roles each subject's requests carried last on this replica, and when they were
/// checked against the subject's running bulk decisions; a request with the same set of
/// roles within [`NOTED_ROLES_EXPIRY`] checks nothing.
#[derive(Debug, Default)]
pub(crate) struct NotedRoles(std::sync::Mutex<HashMap<String, NotedEntry>>);

/// A subject's set of roles and when it was checked against the stored jobs.
type NotedEntry = (BTreeSet<&'static str>, DateTime<Utc>);

impl NotedRoles {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, NotedEntry>> {
        match self.0.lock() {
            Ok(noted) => noted,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether `roles` must be checked against the stored jobs: they differ, as a set, from
    /// what was noted for `subject`, or the note expired. Notes them.
    fn needs_check(&self, subject: &str, roles: &[Role], now: DateTime<Utc>) -> bool {
        let wanted: BTreeSet<&'static str> = roles.iter().map(|role| role.as_str()).collect();
        let mut noted = self.entries();
        if noted
            .get(subject)
            .is_some_and(|(known, checked)| *known == wanted && now - *checked < NOTED_ROLES_EXPIRY)
        {
            return false;
        }
        noted.insert(subject.to_owned(), (wanted, now));
        true
    }

    /// Drops `subject`'s note, so their next request checks the stored jobs.
    pub(crate) fn forget(&self, subject: &str) {
        self.entries().remove(subject);
    }
}

impl Engine {
    /// Roles live in staff tokens, not in the database: what a staff member may do is what
    /// their latest token says. This records the roles of `actor`'s request on the bulk
    /// decisions they started that still run, so a job whose starter has lost the role
    /// stops at its next chunk, on whichever replica runs it. Only jobs whose stored roles
    /// are a different set are written. A replica skips the check for a request carrying
    /// the same set of roles it checked for that subject less than 30 seconds earlier, and
    /// checks again on the subject's first request after starting a job.
    pub async fn note_staff_roles(&self, actor: &Actor) -> Result<(), EngineError> {
        let Actor::Staff { subject, roles } = actor else {
            return Ok(());
        };
        let noted = self.noted_roles();
        if !noted.needs_check(subject, roles, self.clock().now()) {
            return Ok(());
        }
        if let Err(err) = job::record_starter_roles(self.db(), subject, roles).await {
            // Try again on the next request rather than trusting a write that failed.
            noted.forget(subject);
            return Err(match err {
                BulkDecisionError::Engine(engine) => engine,
                other => EngineError::InvalidInput(other.to_string()),
            });
        }
        Ok(())
    }
}

/// What one chunk's transaction found.
#[derive(Debug)]
enum Step {
    Processed(Progress),
    /// No appeal is left after the checkpoint.
    Exhausted,
    /// The job was cancelled or completed.
    NotRunning,
    /// Another runner committed a chunk first; try the next one.
    HeldElsewhere,
    /// The starter no longer holds a bulk decider's role; the job stops, for this reason.
    StarterLacksRole(String),
}

/// How a chunk's transaction ends other than in a commit.
#[derive(Debug)]
enum ChunkEnd {
    /// Nothing to keep: rolled back, and reported as it is.
    Undone(Step),
    Failed(BulkDecisionError),
}

impl From<EngineError> for ChunkEnd {
    fn from(err: EngineError) -> Self {
        ChunkEnd::Failed(err.into())
    }
}

impl From<BulkDecisionError> for ChunkEnd {
    fn from(err: BulkDecisionError) -> Self {
        ChunkEnd::Failed(err)
    }
}

impl TransactionError for ChunkEnd {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            ChunkEnd::Failed(err) => err.engine_error(),
            ChunkEnd::Undone(_) => None,
        }
    }
}
