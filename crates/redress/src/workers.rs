//! The background workers of the service: SLA timer, claim-lease reaper, awaiting-user
//! closer, retention purge, outbox dispatcher and, when configured, the Transparency Database
//! submission. They run inside `redress serve` and alone as
//! `redress worker`; any number of replicas may run them against one PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::TimeDelta;
use redress_core::BusinessHours;
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
    /// Seconds an outbox claim lasts unless renewed: how long the items of a dispatcher
    /// that died wait before another one takes them.
    pub outbox_lease_seconds: u64,
    /// Seconds between renewals of the claims a dispatcher still holds while it delivers
    /// (at most half the lease).
    pub outbox_lease_renewal_seconds: u64,
    /// Seconds one delivery may take before it counts as a temporary failure.
    pub delivery_timeout_seconds: u64,
    /// Attempts before an item is dead-lettered.
    pub max_attempts: u32,
    /// Delay after the first failure; doubles with each failure, with jitter.
    pub backoff_base_seconds: u64,
    /// Longest delay between attempts.
    pub backoff_max_seconds: u64,
    /// When set, SLA time counts only in these hours (`[workers.business_hours]`).
    pub business_hours: Option<BusinessHoursConfig>,
}

/// Office hours for the SLA clock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BusinessHoursConfig {
    /// IANA name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Lower-case English weekday names or their first three letters.
    pub working_days: Vec<String>,
    /// Local opening time, `HH:MM`.
    pub opens: String,
    /// Local closing time, `HH:MM`.
    pub closes: String,
    /// Local dates (`YYYY-MM-DD`) on which nothing counts.
    #[serde(default)]
    pub holidays: Vec<chrono::NaiveDate>,
}

impl BusinessHoursConfig {
    pub fn calendar(&self) -> Result<BusinessHours<chrono_tz::Tz>, ConfigError> {
        let invalid =
            |what: String| ConfigError::Inconsistent(format!("workers.business_hours: {what}"));
        let time_zone: chrono_tz::Tz = self
            .time_zone
            .parse()
            .map_err(|_| invalid(format!("unknown time zone {:?}", self.time_zone)))?;
        let days = self
            .working_days
            .iter()
            .map(|day| {
                day.parse::<chrono::Weekday>()
                    .map_err(|_| invalid(format!("unknown weekday {day:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let time = |value: &str| {
            chrono::NaiveTime::parse_from_str(value, "%H:%M")
                .map_err(|_| invalid(format!("{value:?} is not a time of day (HH:MM)")))
        };
        BusinessHours::new(time_zone, days, time(&self.opens)?, time(&self.closes)?)
            .map(|hours| hours.with_holidays(self.holidays.iter().copied()))
            .map_err(|err| invalid(err.to_string()))
    }
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
            outbox_lease_seconds: 30,
            outbox_lease_renewal_seconds: 10,
            delivery_timeout_seconds: 60,
            max_attempts: 10,
            backoff_base_seconds: 10,
            backoff_max_seconds: 6 * 3600,
            business_hours: None,
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
            (
                "outbox_lease_renewal_seconds",
                self.outbox_lease_renewal_seconds,
            ),
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
        if let Some(hours) = &self.business_hours {
            hours.calendar()?;
        }
        // A delivery may take longer than the lease: the lease is renewed while it runs. A
        // renewal must come well before the lease ends, or one late round loses the items.
        if self.outbox_lease_renewal_seconds.saturating_mul(2) > self.outbox_lease_seconds {
            return Err(ConfigError::Inconsistent(
                "workers.outbox_lease_renewal_seconds must be at most half of \
                 workers.outbox_lease_seconds, or a slow renewal could let another dispatcher \
                 take an item in flight"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    pub fn dispatch_settings(&self) -> DispatchSettings {
        DispatchSettings {
            batch_size: self.outbox_batch_size,
            lease: Duration::from_secs(self.outbox_lease_seconds),
            lease_renewal: Duration::from_secs(self.outbox_lease_renewal_seconds),
            delivery_timeout: Duration::from_secs(self.delivery_timeout_seconds),
            backoff: Backoff {
                base: Duration::from_secs(self.backoff_base_seconds),
                max: Duration::from_secs(self.backoff_max_seconds),
                max_attempts: self.max_attempts,
            },
        }
    }

    /// The SLA calendar, if configured and valid (`validate` reports why not).
    pub fn business_hours(&self) -> Option<BusinessHours<chrono_tz::Tz>> {
        self.business_hours.as_ref().and_then(|h| h.calendar().ok())
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
    let dispatcher = Dispatcher::for_engine(
        &state.engine,
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
        batch,
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
        batch,
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
        batch,
        stop,
        move || {
            let engine = engine.clone();
            async move { awaiting::close_unanswered(&engine, wait, batch).await }
        },
    ));
    if let Some(task) = tdb_submission(state, stop)? {
        tasks.push(task);
    }
    if state.config.retention.enabled {
        let engine = state.engine.clone();
        let retention = state.config.retention.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let interval = Duration::from_secs(retention.interval_seconds);
            runner::every("retention", interval, stop, || {
                let engine = engine.clone();
                let retention = retention.clone();
                async move {
                    let round = engine.purge_due(&retention).await?;
                    if round.claimed() > 0 {
                        let kinds: Vec<String> = round
                            .purged
                            .iter()
                            .map(|(kind, ids)| format!("{kind}={}", ids.len()))
                            .collect();
                        tracing::info!(worker = "retention", purged = ?kinds, rows = round.rows, "retention purge round");
                    }
                    if round.outside.removed > 0 {
                        tracing::info!(worker = "retention", appeals = round.outside.appeals, mail_files = round.outside.removed, "mail copies of purged appeals removed");
                    }
                    // A full batch of some kind, or of mail copies, means more may be due now.
                    Ok(round
                        .purged
                        .values()
                        .map(Vec::len)
                        .chain([round.outside.appeals])
                        .any(|appeals| appeals as u64 >= retention.batch_size))
                }
            })
            .await;
            Ok(())
        }));
    }
    let poll = Duration::from_millis(config.outbox_poll_millis);
    let stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        runner::dispatch(dispatcher, poll, stop).await;
        Ok(())
    }));
    Ok(tasks)
}

/// The submission of statements to the EU Transparency Database, when configured: rounds
/// of at most one batch, at once again while a round found a full batch and the database
/// took it, else every `interval_seconds`.
fn tdb_submission(
    state: &AppState,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Option<BackgroundTask>> {
    let transparency = &state.config.transparency;
    let config = &transparency.tdb_submission;
    if !config.enabled {
        return Ok(None);
    }
    let api = crate::transparency::tdb_client::HttpTdbApi::new(config)
        .context("building the Transparency Database client")?;
    let settings = config.submit_settings(&transparency.transparency_database);
    let engine = state.engine.clone();
    let interval = Duration::from_secs(config.interval_seconds);
    // The first round looks through every enforcement (one recorded while no worker ran,
    // or by a replica whose clock was behind), and so does one every FULL_SCAN_EVERY; the
    // others from where the last one stopped. A full scan counts only once it succeeded.
    let last_full_scan = Arc::new(std::sync::Mutex::new(None::<std::time::Instant>));
    let stop = stop.clone();
    tracing::info!(base_url = %config.base_url, "Transparency Database submission is on");
    Ok(Some(tokio::spawn(async move {
        runner::every("tdb_submission", interval, stop, || {
            let (engine, api, mut settings) = (engine.clone(), api.clone(), settings.clone());
            let last_full_scan = last_full_scan.clone();
            settings.full_scan = last_full_scan
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_none_or(|at| at.elapsed() >= FULL_SCAN_EVERY);
            async move {
                let started = std::time::Instant::now();
                let report = engine.tdb_submit_round(&api, &settings).await?;
                if settings.full_scan {
                    *last_full_scan
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(started);
                }
                if report.claimed > 0 {
                    tracing::info!(?report, "Transparency Database round");
                }
                Ok(report.claimed >= settings.batch_size && report.deferred == 0)
            }
        })
        .await;
        Ok(())
    })))
}

/// How often the Transparency Database worker looks through every enforcement for one
/// without a submission record.
const FULL_SCAN_EVERY: Duration = Duration::from_secs(3600);

fn periodic<F, Fut>(
    name: &'static str,
    interval_seconds: u64,
    batch: u64,
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
                // A full batch means more may be due now; a batch that only failed waits.
                Ok(report.claimed as u64 >= batch && report.failed < report.claimed)
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
    // Listen before announcing readiness, so a SIGTERM right after start is not lost.
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tracing::info!(tasks = tasks.len(), "redress worker is running");
    #[cfg(unix)]
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    #[cfg(not(unix))]
    crate::app::shutdown_signal().await;
    tracing::info!("shutting down: finishing the rounds in flight");
    shutdown.send_replace(true);
    for task in tasks {
        task.await.context("worker task")??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(time_zone: &str, days: &[&str]) -> BusinessHoursConfig {
        BusinessHoursConfig {
            time_zone: time_zone.to_owned(),
            working_days: days.iter().map(|d| (*d).to_owned()).collect(),
            opens: "09:00".to_owned(),
            closes: "17:30".to_owned(),
            holidays: vec![chrono::NaiveDate::from_ymd_opt(2026, 12, 25).expect("date")],
        }
    }

    #[test]
    fn business_hours_build_a_calendar_in_a_named_time_zone() {
        let calendar = hours("Europe/Berlin", &["mon", "tuesday", "Wed"])
            .calendar()
            .expect("valid");
        assert_eq!(calendar.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(calendar.working_days.len(), 3);
        assert_eq!(calendar.holidays.len(), 1);
    }

    #[test]
    fn unknown_zones_days_and_times_are_named_in_the_error() {
        let zone = hours("Mars/Olympus", &["mon"])
            .calendar()
            .expect_err("zone");
        assert!(zone.to_string().contains("Mars/Olympus"));
        let day = hours("UTC", &["caturday"]).calendar().expect_err("day");
        assert!(day.to_string().contains("caturday"));
        let mut late = hours("UTC", &["mon"]);
        late.opens = "18:00".to_owned();
        assert!(late.calendar().is_err());
        let config = WorkersConfig {
            business_hours: Some(hours("UTC", &[])),
            ..WorkersConfig::default()
        };
        assert!(config.validate().is_err(), "no working day");
        WorkersConfig::default()
            .validate()
            .expect("defaults are valid");
    }

    #[test]
    fn outbox_leases_are_short_renewed_often_and_may_be_outlived_by_a_delivery() {
        let defaults = WorkersConfig::default();
        let settings = defaults.dispatch_settings();
        assert_eq!(
            (settings.lease, settings.lease_renewal),
            (Duration::from_secs(30), Duration::from_secs(10))
        );
        assert!(
            settings.delivery_timeout > settings.lease,
            "a delivery in flight keeps its item by renewing"
        );
        let rare = WorkersConfig {
            outbox_lease_seconds: 30,
            outbox_lease_renewal_seconds: 16,
            ..WorkersConfig::default()
        };
        let refused = rare.validate().expect_err("renewal too rare");
        assert!(
            refused
                .to_string()
                .contains("workers.outbox_lease_renewal_seconds"),
            "{refused}"
        );
        WorkersConfig {
            outbox_lease_renewal_seconds: 15,
            ..rare
        }
        .validate()
        .expect("half the lease is enough");
    }
}
