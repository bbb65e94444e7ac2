//! Bulk restoration: a job over the accounts a selector names, dry-run first, then run in
//! chunks. The job's accounts are cut into slices when it starts, and each slice is
//! restored on its own connection. Each chunk is one transaction that advances its slice's
//! checkpoint together with everything it restored and the job's figures, so a job killed
//! at any point resumes in every slice exactly where its last commit left it, and no
//! account is restored or notified twice.

mod chunk;
mod dry_run;
pub(crate) mod finalize;
mod job;
pub mod late_appeals;
mod outcomes;
mod slices;
mod targets;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::DbBackend;
use serde::Serialize;
use uuid::Uuid;

pub use chunk::ChunkOutcome;
use chunk::SliceStep;
pub(crate) use dry_run::dry_run as preview;
pub use dry_run::DryRun;
pub(crate) use job::load as job_in;
pub use job::{BulkJob, BulkReport, FailedAccount};
pub use slices::SliceLeft;

use super::error::RestorationError;
use super::selector::Selector;
use super::service::RestorationBackend;
use crate::engine::Engine;
pub use crate::entity::bulk_restore_job::BulkJobStatus;
pub use crate::entity::bulk_restore_outcome::BulkOutcome;
use crate::error::EngineError;
use crate::transact::Begin;

pub const DEFAULT_CHUNK_SIZE: u32 = 500;
/// Larger chunks gain little once each table takes one statement per chunk, and a chunk's
/// transaction holds its rows' locks until it commits.
pub const MAX_CHUNK_SIZE: u32 = 10_000;
/// Slices of a job, each restored on its own connection: PostgreSQL runs each connection's
/// statements on one core, so two slices keep both cores of a small machine busy.
pub const DEFAULT_SLICES: u32 = 2;
/// More slices than connections only adds claims.
pub const MAX_SLICES: u32 = 32;

/// A job's figures after a step, for progress bars and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub job_id: Uuid,
    pub status: BulkJobStatus,
    pub total: i64,
    pub processed: i64,
    pub restored: i64,
    pub requested: i64,
    pub already_active: i64,
    pub failed: i64,
}

/// Starts, runs, resumes and cancels bulk jobs.
#[derive(Debug, Clone)]
pub struct BulkRestorer {
    engine: Engine,
    backend: RestorationBackend,
    slices: u32,
    holder_stall: Duration,
}

/// How long a slice another runner holds may stand still before this runner takes it up
/// again: longer than a chunk usually takes, so a live runner is rarely raced for a chunk
/// (which would cost the loser only the chunk's reads; the claim keeps the work single).
pub const DEFAULT_HOLDER_STALL: Duration = Duration::from_secs(5);

impl BulkRestorer {
    /// Jobs it starts are cut into the engine's `bulk_restore_slices` (by default
    /// [`DEFAULT_SLICES`]) on PostgreSQL. On SQLite, whose one connection would only queue
    /// the slices (and the API behind them), into one.
    pub fn new(engine: Engine, backend: RestorationBackend) -> Self {
        let slices = if engine.db().get_database_backend() == DbBackend::Sqlite {
            1
        } else {
            engine
                .settings()
                .bulk_restore_slices
                .unwrap_or(DEFAULT_SLICES)
                .clamp(1, MAX_SLICES)
        };
        Self {
            engine,
            backend,
            slices,
            holder_stall: DEFAULT_HOLDER_STALL,
        }
    }

    /// How long a slice another runner advanced may stand still before this runner takes
    /// it up again.
    pub fn with_holder_stall(mut self, stall: Duration) -> Self {
        self.holder_stall = stall;
        self
    }

    /// How many slices the jobs this restorer starts are cut into (1 to `MAX_SLICES`), on
    /// either database.
    pub fn with_slices(mut self, slices: u32) -> Self {
        self.slices = slices.clamp(1, MAX_SLICES);
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn now(&self) -> DateTime<Utc> {
        self.engine.clock().now()
    }

    /// How many accounts a job would cover, how many have open appeals, and a sample.
    pub async fn dry_run(&self, selector: &Selector) -> Result<DryRun, RestorationError> {
        selector.validate()?;
        dry_run::dry_run(self.engine.db(), selector).await
    }

    /// Records the job, the accounts it covers and its slices; nothing is restored yet.
    pub async fn start(
        &self,
        actor: &Actor,
        selector: Selector,
        reason: &str,
        chunk_size: u32,
    ) -> Result<BulkJob, RestorationError> {
        job::start(
            &self.engine,
            actor,
            selector,
            reason,
            chunk_size,
            self.slices,
            self.now(),
        )
        .await
    }

    /// Processes the next chunk of a running job in one transaction, from its first slice
    /// with accounts left that no other runner holds; completes the job when no slice has
    /// any.
    pub async fn run_chunk(&self, job_id: Uuid) -> Result<ChunkOutcome, RestorationError> {
        let mut held_elsewhere = false;
        for slice in slices::of_job(self.engine.db(), job_id).await? {
            match self.run_slice_chunk(job_id, slice.index).await? {
                SliceStep::Processed(progress) => return Ok(ChunkOutcome::Processed(progress)),
                SliceStep::NotRunning => return Ok(ChunkOutcome::Stopped),
                SliceStep::HeldElsewhere => held_elsewhere = true,
                SliceStep::Exhausted => {}
            }
        }
        if held_elsewhere {
            return Ok(ChunkOutcome::Stopped);
        }
        chunk::finish(self.engine.db(), job_id, self.now()).await
    }

    async fn run_slice_chunk(
        &self,
        job_id: Uuid,
        slice: i32,
    ) -> Result<SliceStep, RestorationError> {
        // Only a processed chunk commits; any other step is rolled back, together with what
        // the chunk wrote before it found the job cancelled. On SQLite the chunk takes the
        // write lock at once, so a runner in another process (the command line beside the
        // service) waits for the chunk in flight and then reads the checkpoint it left.
        let ran = self
            .engine
            .transact_once_with(Begin::WriteLockFirst, async |txn| {
                let step = chunk::run(
                    txn,
                    self.engine.settings(),
                    &self.backend,
                    job_id,
                    slice,
                    self.now(),
                )
                .await
                .map_err(ChunkEnd::Failed)?;
                match step {
                    SliceStep::Processed(_) => Ok(step),
                    other => Err(ChunkEnd::Undone(other)),
                }
            })
            .await;
        match ran {
            Ok(step) | Err(ChunkEnd::Undone(step)) => Ok(step),
            Err(ChunkEnd::Failed(err)) => Err(err),
        }
    }

    /// Runs (or resumes) a job until it finishes or is cancelled, reporting progress after
    /// every chunk.
    pub async fn run(
        &self,
        job_id: Uuid,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<BulkJob, RestorationError> {
        self.run_until(job_id, || false, on_progress).await
    }

    /// Runs (or resumes) a job, all its slices at once, until it finishes, is cancelled, or
    /// `stop` says so between chunks. Progress is reported after every chunk, never going
    /// back when slices commit out of step.
    ///
    /// A slice is never left behind: when another runner advances it first, this one
    /// watches that runner's progress and takes the slice up again as soon as its
    /// checkpoint stands still for `holder_stall` (the other runner stopped or died). So
    /// unless it was stopped or the job was cancelled, the job has completed when this
    /// returns; [`BulkRestorer::slices_left`] says what remains otherwise.
    pub async fn run_until(
        &self,
        job_id: Uuid,
        stop: impl Fn() -> bool + Sync,
        on_progress: impl FnMut(&Progress) + Send,
    ) -> Result<BulkJob, RestorationError> {
        let reporter = Mutex::new((on_progress, -1_i64));
        let report = |progress: &Progress| {
            let mut guard = reporter.lock().unwrap_or_else(PoisonError::into_inner);
            let (on_progress, reported) = &mut *guard;
            if progress.processed > *reported || progress.status != BulkJobStatus::Running {
                *reported = progress.processed;
                on_progress(progress);
            }
        };
        let slices = slices::of_job(self.engine.db(), job_id).await?;
        let runs = slices
            .iter()
            .map(|slice| self.run_slice(job_id, slice.index, &stop, &report));
        futures_util::future::try_join_all(runs).await?;
        // Every slice ran to its end here or in a runner this one outlasted, so whichever
        // runner ends last finds every account counted in and completes the job.
        if let ChunkOutcome::Finished(progress) =
            chunk::finish(self.engine.db(), job_id, self.now()).await?
        {
            report(&progress);
        }
        self.job(job_id).await
    }

    /// Runs one slice to its end, or until the job stops running or `stop` says so.
    async fn run_slice(
        &self,
        job_id: Uuid,
        slice: i32,
        stop: &(impl Fn() -> bool + Sync),
        report: &(impl Fn(&Progress) + Sync),
    ) -> Result<(), RestorationError> {
        loop {
            if stop() {
                return Ok(());
            }
            match self.run_slice_chunk(job_id, slice).await? {
                SliceStep::Processed(progress) => report(&progress),
                SliceStep::Exhausted | SliceStep::NotRunning => return Ok(()),
                SliceStep::HeldElsewhere => self.wait_while_held(job_id, slice, stop).await?,
            }
        }
    }

    /// Another runner advanced `slice` first. Waits as long as its checkpoint keeps moving;
    /// returns once it has not moved for a whole `holder_stall` (its runner stopped, or the
    /// slice is done), so the slice is tried again.
    async fn wait_while_held(
        &self,
        job_id: Uuid,
        slice: i32,
        stop: &(impl Fn() -> bool + Sync),
    ) -> Result<(), RestorationError> {
        let checkpoint = |slice: Option<slices::Slice>| slice.and_then(|s| s.checkpoint);
        let mut seen = checkpoint(slices::load(self.engine.db(), job_id, slice).await?);
        loop {
            tokio::time::sleep(self.holder_stall).await;
            if stop() {
                return Ok(());
            }
            let now = checkpoint(slices::load(self.engine.db(), job_id, slice).await?);
            if now == seen {
                return Ok(());
            }
            tracing::debug!(job = %job_id, slice, checkpoint = ?now, "another runner is restoring this slice");
            seen = now;
        }
    }

    /// The job's slices that still have accounts to process; empty once the job is done.
    pub async fn slices_left(&self, job_id: Uuid) -> Result<Vec<SliceLeft>, RestorationError> {
        slices::left(self.engine.db(), job_id).await
    }

    /// Stops a running job at its next chunk boundary; what it restored stays restored.
    pub async fn cancel(&self, actor: &Actor, job_id: Uuid) -> Result<BulkJob, RestorationError> {
        job::cancel(self.engine.db(), actor, job_id, self.now()).await
    }

    pub async fn job(&self, job_id: Uuid) -> Result<BulkJob, RestorationError> {
        job::load(self.engine.db(), job_id).await
    }

    /// Jobs left running (by a crash or a restart), to resume.
    pub async fn unfinished(&self) -> Result<Vec<Uuid>, RestorationError> {
        job::unfinished(self.engine.db()).await
    }

    /// Counts and the accounts that failed, with reasons.
    pub async fn report(&self, job_id: Uuid) -> Result<BulkReport, RestorationError> {
        job::report(self.engine.db(), job_id).await
    }
}

/// How a chunk's transaction ends other than in a commit.
enum ChunkEnd {
    /// The step processed nothing to keep: rolled back, and reported as it is.
    Undone(SliceStep),
    Failed(RestorationError),
}

impl From<EngineError> for ChunkEnd {
    fn from(err: EngineError) -> Self {
        ChunkEnd::Failed(err.into())
    }
}

/// Shared handle type for the service wiring.
pub type SharedBulkRestorer = Arc<BulkRestorer>;
