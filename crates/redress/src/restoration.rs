//! Restoration settings and wiring: which backend carries restorations out, the outbox
//! deliverer for `request_restoration`, and the runner that resumes bulk jobs.

use std::time::Duration;

use anyhow::Context;
use redress_engine::delivery::DelivererRegistry;
use redress_engine::outbox::RequestRestoration;
use redress_engine::restoration::{BulkRestorer, RestorationBackend, RestorationDeliverer};
use redress_engine::Engine;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::watch;

use crate::app::BackgroundTask;
use crate::config::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Redress keeps the account registry and restores accounts itself.
    #[default]
    Embedded,
    /// The platform's account service restores over HTTP.
    AccountService,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RestorationConfig {
    pub backend: BackendKind,
    /// Base URL of the account service; restorations are POSTed to `{url}/restorations`.
    pub account_service_url: Option<String>,
    /// Key of the HMAC-SHA256 signature of each request body.
    pub account_service_secret: Secret,
    pub account_service_timeout_seconds: u64,
    /// Accounts per bulk-restore transaction.
    pub bulk_chunk_size: u32,
    /// Slices a bulk job is cut into when it starts, each restored on its own connection.
    pub bulk_slices: u32,
    /// How often the service looks for bulk jobs to run or resume.
    pub bulk_poll_seconds: u64,
}

impl Default for RestorationConfig {
    fn default() -> Self {
        Self {
            backend: BackendKind::Embedded,
            account_service_url: None,
            account_service_secret: Secret::default(),
            account_service_timeout_seconds: 10,
            bulk_chunk_size: redress_engine::restoration::bulk::DEFAULT_CHUNK_SIZE,
            bulk_slices: redress_engine::restoration::bulk::DEFAULT_SLICES,
            bulk_poll_seconds: 5,
        }
    }
}

impl RestorationConfig {
    pub fn validate(&self) -> Result<(), String> {
        use redress_engine::restoration::bulk::{MAX_CHUNK_SIZE, MAX_SLICES};
        if !(1..=MAX_SLICES).contains(&self.bulk_slices) {
            return Err(format!(
                "restoration.bulk_slices must be between 1 and {MAX_SLICES}, got {}",
                self.bulk_slices
            ));
        }
        if !(1..=MAX_CHUNK_SIZE).contains(&self.bulk_chunk_size) {
            return Err(format!(
                "restoration.bulk_chunk_size must be between 1 and {MAX_CHUNK_SIZE}, got {}",
                self.bulk_chunk_size
            ));
        }
        Ok(())
    }

    pub fn backend(&self) -> anyhow::Result<RestorationBackend> {
        match self.backend {
            BackendKind::Embedded => Ok(RestorationBackend::Embedded),
            BackendKind::AccountService => {
                let url = self.account_service_url.as_deref().context(
                    "restoration.account_service_url is required for the account_service backend",
                )?;
                anyhow::ensure!(
                    !self.account_service_secret.is_empty(),
                    "restoration.account_service_secret is required for the account_service backend"
                );
                let client = redress_notify::account_service::HttpAccountService::new(
                    url,
                    self.account_service_secret.expose().as_bytes(),
                    Duration::from_secs(self.account_service_timeout_seconds.max(1)),
                )
                .context("building the account-service client")?;
                Ok(RestorationBackend::AccountService(Arc::new(client)))
            }
        }
    }
}

/// Registers the deliverer of restoration requests.
pub fn register(
    registry: &mut DelivererRegistry,
    engine: &Engine,
    config: &RestorationConfig,
) -> anyhow::Result<()> {
    registry.register_topic::<RequestRestoration>(Arc::new(RestorationDeliverer::new(
        engine.clone(),
        config.backend()?,
    )));
    Ok(())
}

/// Runs bulk jobs started through the API and resumes those a crash or restart left
/// running, all slices of a job at once. Several replicas may run this: each chunk is
/// claimed by a guarded update of its slice, so a chunk is processed by exactly one of them.
pub fn spawn_bulk_runner(
    engine: Engine,
    config: &RestorationConfig,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<BackgroundTask> {
    let restorer = BulkRestorer::new(engine, config.backend()?);
    let poll = Duration::from_secs(config.bulk_poll_seconds.max(1));
    Ok(tokio::spawn(async move {
        loop {
            match restorer.unfinished().await {
                Ok(jobs) => {
                    for job in jobs {
                        if *shutdown.borrow() {
                            return Ok(());
                        }
                        run_until_stopped(&restorer, job, &shutdown).await;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "cannot list bulk restore jobs"),
            }
            tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
                () = tokio::time::sleep(poll) => {}
            }
        }
    }))
}

async fn run_until_stopped(
    restorer: &BulkRestorer,
    job: uuid::Uuid,
    shutdown: &watch::Receiver<bool>,
) {
    if let Err(err) = restorer.run_until(job, || *shutdown.borrow(), |_| {}).await {
        tracing::warn!(%job, error = %err, "bulk restore chunk failed; retrying later");
    }
}
