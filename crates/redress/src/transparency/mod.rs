//! Transparency in the service: its settings, the faulty-enforcement detector running in
//! the background, the appellant status page and the report and export commands.

mod attempts;
mod commands;
pub mod disputes_cli;
mod status_page;

use std::time::Duration;

use redress_core::IncidentRule;
use redress_engine::transparency::tdb::TdbSettings;
use redress_engine::transparency::DetectorSettings;
use redress_engine::Engine;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use commands::{export_statements, report, ReportFormat};
pub use status_page::routes;

use crate::app::BackgroundTask;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct TransparencyConfig {
    /// Months after an enforcement's notice in which it can be appealed; 0 for no limit.
    pub appeal_window_months: u32,
    pub detector: DetectorConfig,
    pub appeal_throttle: AppealThrottleConfig,
    pub status_page: StatusPageConfig,
    /// How enforcements map onto the EU Transparency Database's categories and types.
    pub transparency_database: TdbSettings,
}

impl Default for TransparencyConfig {
    fn default() -> Self {
        Self {
            appeal_window_months: 6,
            detector: DetectorConfig::default(),
            appeal_throttle: AppealThrottleConfig::default(),
            status_page: StatusPageConfig::default(),
            transparency_database: TdbSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DetectorConfig {
    pub enabled: bool,
    pub interval_seconds: u64,
    /// An incident is raised when the Wilson lower bound of a source's overturn rate
    /// exceeds this...
    pub threshold: f64,
    /// ...over at least this many decided appeals...
    pub min_sample: u64,
    /// ...filed within this many days.
    pub window_days: i64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        let rule = IncidentRule::default();
        Self {
            enabled: true,
            interval_seconds: 300,
            threshold: rule.threshold,
            min_sample: rule.min_sample,
            window_days: 30,
        }
    }
}

impl DetectorConfig {
    pub fn settings(&self) -> DetectorSettings {
        DetectorSettings {
            rule: IncidentRule {
                threshold: self.threshold,
                min_sample: self.min_sample,
                ..IncidentRule::default()
            },
            window: chrono::TimeDelta::days(self.window_days),
        }
    }
}

/// Throttling of repeated manifestly unfounded appeals; off unless `unfounded_appeals` is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AppealThrottleConfig {
    /// Appeals upheld as manifestly unfounded, within `window_days`, that earn the account
    /// a warning; 0 turns throttling off.
    pub unfounded_appeals: u32,
    pub window_days: i64,
    /// Days after the warning in which new appeals of the account are refused.
    pub refuse_days: i64,
}

impl Default for AppealThrottleConfig {
    fn default() -> Self {
        Self {
            unfounded_appeals: 0,
            window_days: 180,
            refuse_days: 30,
        }
    }
}

impl AppealThrottleConfig {
    pub fn rule(&self) -> redress_core::ThrottleRule {
        redress_core::ThrottleRule {
            unfounded_appeals: self.unfounded_appeals,
            window: chrono::TimeDelta::days(self.window_days),
            period: chrono::TimeDelta::days(self.refuse_days),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusPageConfig {
    /// Attempts allowed on one reference per minute, after the burst.
    pub attempts_per_minute: u32,
    pub burst: u32,
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        Self {
            attempts_per_minute: 6,
            burst: 5,
        }
    }
}

/// Runs the detector every `interval_seconds` until shutdown. A failed scan is logged and
/// retried at the next tick; incidents are only ever written in whole transactions.
pub fn spawn_detector(
    engine: Engine,
    config: &DetectorConfig,
    mut shutdown: watch::Receiver<bool>,
) -> BackgroundTask {
    let settings = config.settings();
    let enabled = config.enabled;
    let period = Duration::from_secs(config.interval_seconds.max(1));
    tokio::spawn(async move {
        if !enabled {
            return Ok(());
        }
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
            }
            if let Err(err) = engine.detect_faulty_sources(&settings).await {
                tracing::warn!(error = %err, "faulty-enforcement scan failed");
            }
        }
    })
}
