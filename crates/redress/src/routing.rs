//! Routing rules in the configuration file, and the refresh that keeps each replica's
//! rules in force in step with the database.
//!
//! `[[routing.rules]]` seeds rules: at start each rule whose name the database does not
//! know yet is added after the existing ones, in file order; a rule already there (from an
//! earlier start or made in the console or API) is left as it is, since every later change
//! is a version in the database. Editing a seeded rule in the file therefore changes
//! nothing; change it in the console, or give it a new name.

use std::time::Duration;

use anyhow::Context;
use redress_engine::Engine;
use redress_routing::RuleDefinition;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::app::BackgroundTask;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// How often each replica re-reads the rules, to pick up changes made on another
    /// replica. A change made on this replica is in force here at once.
    pub refresh_seconds: u64,
    /// Rules imported at start, in order (see the module's documentation).
    pub rules: Vec<RuleDefinition>,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            refresh_seconds: 30,
            rules: Vec::new(),
        }
    }
}

impl RoutingConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.refresh_seconds == 0 {
            return Err("routing.refresh_seconds must be positive".to_owned());
        }
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate()
                .map_err(|e| format!("routing.rules[{index}] ({:?}): {e}", rule.name))?;
        }
        let mut names: Vec<&str> = self.rules.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        if let Some([name, _]) = names.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(format!("routing.rules: two rules are named {name:?}"));
        }
        Ok(())
    }
}

/// Imports the configured rules and puts the database's rules in force on this replica.
pub async fn load(engine: &Engine, config: &RoutingConfig) -> anyhow::Result<()> {
    let added = engine
        .seed_routing_rules(&config.rules)
        .await
        .context("importing routing.rules")?;
    if added > 0 {
        tracing::info!(added, "routing rules imported from the configuration");
    }
    engine
        .refresh_routing_rules()
        .await
        .context("loading the routing rules")?;
    Ok(())
}

/// Re-reads the rules every `refresh_seconds` until shutdown.
pub fn spawn_refresher(
    engine: Engine,
    config: &RoutingConfig,
    mut shutdown: watch::Receiver<bool>,
) -> BackgroundTask {
    let period = Duration::from_secs(config.refresh_seconds.max(1));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.wait_for(|stop| *stop) => return Ok(()),
            }
            if let Err(err) = engine.refresh_routing_rules().await {
                tracing::warn!(error = %err, "refreshing the routing rules failed");
            }
        }
    })
}
