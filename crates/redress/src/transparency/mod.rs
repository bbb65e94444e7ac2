//! Transparency in the service: its settings, the faulty-enforcement detector running in
//! the background, the appellant status page and the report and export commands.

mod attempts;
mod commands;
pub mod disputes_cli;
mod status_page;
pub mod tdb_cli;
pub mod tdb_client;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use redress_engine::link_keys::LinkTokenKeys;
use redress_graphql::auth::read_or_create_secret;
use redress_notify::case_details::{DisputeSettlementBody, NoticeSettings};

use redress_core::IncidentRule;
use redress_engine::transparency::tdb::TdbSettings;
use redress_engine::transparency::DetectorSettings;
use redress_engine::Engine;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use commands::{export_statements, report, ReportFormat};
pub use status_page::routes;

use crate::app::BackgroundTask;
use crate::config::Secret;

impl TransparencyConfig {
    /// What every notice says beyond its own text: the status link's base and the bodies.
    pub fn notice_settings(&self) -> NoticeSettings {
        NoticeSettings::new(
            &self.status_page.public_url,
            self.dispute_settlement_bodies.clone(),
        )
    }
}

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
    /// Submission of the statements to the Transparency Database's API by Redress itself.
    pub tdb_submission: tdb_client::TdbSubmissionConfig,
    /// Certified out-of-court dispute settlement bodies (DSA Art. 21) that decision
    /// notices name.
    pub dispute_settlement_bodies: Vec<DisputeSettlementBody>,
}

impl Default for TransparencyConfig {
    fn default() -> Self {
        Self {
            appeal_window_months: 6,
            detector: DetectorConfig::default(),
            appeal_throttle: AppealThrottleConfig::default(),
            status_page: StatusPageConfig::default(),
            transparency_database: TdbSettings::default(),
            tdb_submission: tdb_client::TdbSubmissionConfig::default(),
            dispute_settlement_bodies: Vec::new(),
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
    /// Where appellants reach this service; every notice links to
    /// `{public_url}/status/{reference}?token=...`.
    pub public_url: String,
    /// The key status tokens are derived with (at least 32 characters). When unset, a
    /// random key is read from (or written on first use to) `token_secret_file`.
    pub token_secret: Option<Secret>,
    pub token_secret_file: PathBuf,
    /// Keys used before the current one, newest first: cases filed under them keep their
    /// links. Drop one once no open case needs it.
    pub previous_token_secrets: Vec<Secret>,
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        Self {
            attempts_per_minute: 6,
            burst: 5,
            public_url: "http://127.0.0.1:8080".to_owned(),
            token_secret: None,
            token_secret_file: PathBuf::from("redress-status.secret"),
            previous_token_secrets: Vec::new(),
        }
    }
}

impl StatusPageConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://")) {
            return Err(format!(
                "transparency.status_page.public_url must be an http(s) URL, got {:?}",
                self.public_url
            ));
        }
        let short = |secret: &Secret| secret.expose().len() < 32;
        if self.token_secret.as_ref().is_some_and(short)
            || self.previous_token_secrets.iter().any(short)
        {
            return Err(
                "transparency.status_page token secrets must be at least 32 characters".to_owned(),
            );
        }
        Ok(())
    }

    /// The keys of status tokens: the configured secret, or the generated one of a
    /// development install, then the previous ones.
    pub fn token_keys(&self) -> anyhow::Result<LinkTokenKeys> {
        let current = match &self.token_secret {
            Some(secret) => secret.expose().to_owned(),
            None => read_or_create_secret(&self.token_secret_file).with_context(|| {
                format!(
                    "reading the status token key {}",
                    self.token_secret_file.display()
                )
            })?,
        };
        Ok(LinkTokenKeys::new(
            current,
            self.previous_token_secrets.iter().map(Secret::expose),
        ))
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
