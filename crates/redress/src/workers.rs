//! The background workers of the service: SLA timer, claim-lease reaper, awaiting-user
//! closer and outbox dispatcher. They run inside `redress serve` and alone as
//! `redress worker`; any number of replicas may run them against one PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::TimeDelta;
use redress_engine::worker::{
    awaiting, leases, runner, sla, Backoff, DispatchSettings, Dispatcher,
};
use redress_engine::SystemClock;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::app::{AppState, BackgroundTask};
use crate::config::{Config, ConfigError};

/// `[workers]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkersConfig {
    /// Run the workers in this process. Tests that move time by hand turn this off and
    /// drive the rounds themselves.
    pub enabled: bool,
    /// Seconds between SLA rounds.
    pub sla_interval_seconds: u64,
    /// Seconds between rounds of the lease reaper.
    pub lease_interval_seconds: u64,
    /// Seconds between rounds of the awaiting-user closer.
    pub awaiting_user_interval_seconds: u64,
    /// Days an appeal waits for the appellant's answer before it is closed.
    pub awaiting_user_timeout_days: u32,
    /// Appeals claimed per round by the SLA timer, the reaper and the closer.
    pub batch_size: u64,
    /// Outbox items claimed per round.
    pub outbox_batch_size: u64,
    /// Milliseconds between outbox polls when no notification arrives (the only wake-up
    /// on SQLite; a fallback on PostgreSQL).
    pub outbox_poll_millis: u64,
    /// Seconds an outbox claim lasts before another dispatcher may take the item.
    pub outbox_lease_seconds: u64,
    /// Seconds one delivery may take before it counts as a temporary failure.
    pub delivery_timeout_seconds: u64,
    /// Attempts before an item is dead-lettered.
    pub max_attempts: u32,
    /// Delay after the first failure; doubles with each failure, with jitter.
    pub backoff_base_seconds: u64,
    /// Longest delay between attempts.
    pub backoff_max_seconds: u64,
}

impl Default for WorkersConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            sla_interval_seconds: 30,
            lease_interval_seconds: 30,
            awaiting_user_interval_seconds: 300,
            awaiting_user_timeout_days: 14,
            batch_size: 100,
            outbox_batch_size: 50,
            outbox_poll_millis: 1000,
            outbox_lease_seconds: 300,
            delivery_timeout_seconds: 60,
            max_attempts: 10,
            backoff_base_seconds: 10,
            backoff_max_seconds: 6 * 3600,
        }
    }
}

impl WorkersConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("sla_interval_seconds", self.sla_interval_seconds),
            ("lease_interval_seconds", self.lease_interval_seconds),
            (
                "awaiting_user_interval_seconds",
                self.awaiting_user_interval_seconds,
            ),
            (
                "awaiting_user_timeout_days",
                u64::from(self.awaiting_user_timeout_days),
            ),
            ("batch_size", self.batch_size),
            ("outbox_batch_size", self.outbox_batch_size),
            ("outbox_poll_millis", self.outbox_poll_millis),
            ("outbox_lease_seconds", self.outbox_lease_seconds),
            ("delivery_timeout_seconds", self.delivery_timeout_seconds),
            ("max_attempts", u64::from(self.max_attempts)),
            ("backoff_base_seconds", self.backoff_base_seconds),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError::Inconsistent(format!(
                "workers.{name} must be positive"
            )));
        }
        if self.backoff_max_seconds < self.backoff_base_seconds {
            return Err(ConfigError::Inconsistent(
                "workers.backoff_max_seconds must not be below workers.backoff_base_seconds"
                    .to_owned(),
            ));
        }
        if self.delivery_timeout_seconds >= self.outbox_lease_seconds {
            return Err(ConfigError::Inconsistent(
                "workers.delivery_timeout_seconds must be shorter than workers.outbox_lease_seconds, \
                 or a slow delivery could be claimed twice"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    pub fn dispatch_settings(&self) -> DispatchSettings {
        DispatchSettings {
            batch_size: self.outbox_batch_size,
            lease: Duration::from_secs(self.outbox_lease_seconds),
            delivery_timeout: Duration::from_secs(self.delivery_timeout_seconds),
            backoff: Backoff {
                base: Duration::from_secs(self.backoff_base_seconds),
                max: Duration::from_secs(self.backoff_max_seconds),
                max_attempts: self.max_attempts,
            },
        }
    }

    pub fn awaiting_user_timeout(&self) -> TimeDelta {
        TimeDelta::days(i64::from(self.awaiting_user_timeout_days))
    }
}

/// Starts every worker unless `workers.enabled` is off. Each task ends after the round it
/// is in when `stop` turns true.
pub fn spawn(
    state: &AppState,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<BackgroundTask>> {
    let config = &state.config.workers;
    if !config.enabled {
        tracing::info!("background workers are disabled");
        return Ok(Vec::new());
    }
    let registry = crate::deliverers::registry(state).context("building the deliverers")?;
    let mut topics: Vec<&str> = registry.topics().collect();
    topics.sort_unstable();
    topics.dedup();
    tracing::info!(?topics, "outbox deliverers registered");
    let dispatcher = Dispatcher::new(
        state.engine.db().clone(),
        state.engine.clock().clone(),
        Arc::new(registry),
        config.dispatch_settings(),
    );

    let batch = config.batch_size;
    let wait = config.awaiting_user_timeout();
    let mut tasks = Vec::new();
    let engine = state.engine.clone();
    tasks.push(periodic(
        "sla",
        config.sla_interval_seconds,
        stop,
        move || {
            let engine = engine.clone();
            async move { sla::tick(&engine, batch).await }
        },
    ));
    let engine = state.engine.clone();
    tasks.push(periodic(
        "leases",
        config.lease_interval_seconds,
        stop,
        move || {
            let engine = engine.clone();
            async move { leases::reap(&engine, batch).await }
        },
    ));
    let engine = state.engine.clone();
    tasks.push(periodic(
        "awaiting_user",
        config.awaiting_user_interval_seconds,
        stop,
        move || {
            let engine = engine.clone();
            async move { awaiting::close_unanswered(&engine, wait, batch).await }
        },
    ));
    let poll = Duration::from_millis(config.outbox_poll_millis);
    let stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        runner::dispatch(dispatcher, poll, stop).await;
        Ok(())
    }));
    Ok(tasks)
}

fn periodic<F, Fut>(
    name: &'static str,
    interval_seconds: u64,
    stop: &watch::Receiver<bool>,
    mut round: F,
) -> BackgroundTask
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<
            Output = Result<redress_engine::worker::RoundReport, redress_engine::EngineError>,
        > + Send,
{
    let stop = stop.clone();
    tokio::spawn(async move {
        runner::every(name, Duration::from_secs(interval_seconds), stop, || {
            let round = round();
            async move {
                let report = round.await?;
                if report.claimed > 0 {
                    tracing::info!(worker = name, claimed = report.claimed, applied = ?report.applied, failed = report.failed, "worker round");
                }
                Ok(report.claimed > 0 && report.failed < report.claimed)
            }
        })
        .await;
        Ok(())
    })
}

/// `redress worker`: the workers without the HTTP server, until SIGTERM or Ctrl-C.
pub async fn run_alone(config: Config) -> anyhow::Result<()> {
    let state = crate::app::connect_state(config, Arc::new(SystemClock)).await?;
    let (shutdown, stop) = watch::channel(false);
    let tasks = spawn(&state, &stop)?;
    tracing::info!(tasks = tasks.len(), "redress worker is running");
    crate::app::shutdown_signal().await;
    tracing::info!("shutting down: finishing the rounds in flight");
    shutdown.send_replace(true);
    for task in tasks {
        task.await.context("worker task")??;
    }
    Ok(())
}
