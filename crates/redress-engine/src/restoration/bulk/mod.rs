//! Bulk restoration: a job over the accounts a selector names, dry-run first, then run in
//! chunks. Each chunk is one transaction that advances the job's checkpoint together with
//! everything it restored, so a job killed at any point resumes exactly where its last
//! commit left it, and no account is restored or notified twice.

mod chunk;
mod dry_run;
pub(crate) mod finalize;
mod job;
mod outcomes;
mod targets;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use serde::Serialize;
use uuid::Uuid;

pub use chunk::ChunkOutcome;
pub(crate) use dry_run::dry_run as preview;
pub use dry_run::DryRun;
pub(crate) use job::load as job_in;
pub use job::{BulkJob, BulkReport, FailedAccount};

use super::error::RestorationError;
use super::selector::Selector;
use super::service::RestorationBackend;
use crate::engine::Engine;

pub const RUNNING: &str = "running";
pub const COMPLETED: &str = "completed";
pub const CANCELLED: &str = "cancelled";

/// Outcome of one account in a job.
pub mod outcome {
    pub const RESTORED: &str = "restored";
    pub const REQUESTED: &str = "requested";
    pub const ALREADY_ACTIVE: &str = "already_active";
    pub const FAILED: &str = "failed";
}

pub const DEFAULT_CHUNK_SIZE: u32 = 500;
/// Larger chunks gain little once each table takes one statement per chunk, and a chunk's
/// transaction holds its rows' locks until it commits.
pub const MAX_CHUNK_SIZE: u32 = 10_000;

/// A job's figures after a step, for progress bars and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub job_id: Uuid,
    pub status: String,
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
}

impl BulkRestorer {
    pub fn new(engine: Engine, backend: RestorationBackend) -> Self {
        Self { engine, backend }
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

    /// Records the job and the accounts it covers; nothing is restored yet.
    pub async fn start(
        &self,
        actor: &Actor,
        selector: Selector,
        reason: &str,
        chunk_size: u32,
    ) -> Result<BulkJob, RestorationError> {
        job::start(
            self.engine.db(),
            actor,
            selector,
            reason,
            chunk_size,
            self.now(),
        )
        .await
    }

    /// Processes the next chunk of a running job in one transaction.
    pub async fn run_chunk(&self, job_id: Uuid) -> Result<ChunkOutcome, RestorationError> {
        let txn: DatabaseTransaction = self.engine.db().begin().await?;
        let result = chunk::run(
            &txn,
            self.engine.settings(),
            &self.backend,
            job_id,
            self.now(),
        )
        .await;
        match result {
            Ok(outcome @ (ChunkOutcome::Processed(_) | ChunkOutcome::Finished(_))) => {
                txn.commit().await?;
                Ok(outcome)
            }
            Ok(outcome) => {
                txn.rollback().await?;
                Ok(outcome)
            }
            Err(err) => {
                txn.rollback().await?;
                Err(err)
            }
        }
    }

    /// Runs (or resumes) a job until it finishes or is cancelled, reporting progress after
    /// every chunk.
    pub async fn run(
        &self,
        job_id: Uuid,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<BulkJob, RestorationError> {
        loop {
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

/// Shared handle type for the service wiring.
pub type SharedBulkRestorer = Arc<BulkRestorer>;
