//! The policy catalog the demo's enforcements are written under: the example
//! configuration's policies and decision templates, so that cases name their policy by its
//! title and the decision composer offers templates on the first run, without a
//! configuration file.

use anyhow::Context;
use figment::providers::{Format, Toml};
use figment::Figment;
use redress_core::{DecisionTemplate, Policy};
use redress_engine::policies::PolicyCatalog;
use redress_engine::Engine;
use serde::Deserialize;

const EXAMPLE_CONFIGURATION: &str = include_str!("../../../../redress.example.toml");

#[derive(Debug, Deserialize)]
struct ExampleCatalog {
    policies: Vec<Policy>,
    decision_templates: Vec<DecisionTemplate>,
}

/// The example configuration's catalog, templates falling back to `default_language`.
pub fn example_catalog(default_language: &str) -> anyhow::Result<PolicyCatalog> {
    let example: ExampleCatalog = Figment::from(Toml::string(EXAMPLE_CONFIGURATION))
        .extract()
        .context("reading the catalog of redress.example.toml")?;
    PolicyCatalog::new(
        default_language,
        example.policies,
        example.decision_templates,
    )
    .context("checking the catalog of redress.example.toml")
}

/// Imports the example's catalog into a database whose catalog is empty, as the
/// configuration's import at start would; a catalog someone already wrote is left as it
/// is. Returns the versions written.
pub async fn seed_if_empty(engine: &Engine, default_language: &str) -> anyhow::Result<usize> {
    if !engine.stored_policies().await?.is_empty()
        || !engine.stored_decision_templates().await?.is_empty()
    {
        return Ok(0);
    }
    let catalog = example_catalog(default_language)?;
    engine
        .seed_policy_catalog(&catalog)
        .await
        .context("importing the example's policy catalog")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_catalog_covers_every_policy_the_demo_enforces() {
        let catalog = example_catalog("en").expect("the example's catalog");
        for policy in crate::demo::plan::Source::ALL.map(crate::demo::plan::Source::policy) {
            assert!(
                catalog.policies().iter().any(|p| p.id == policy),
                "{policy} is not in the example's catalog"
            );
            for outcome in [
                redress_core::Outcome::Uphold,
                redress_core::Outcome::Restore,
            ] {
                assert!(
                    catalog
                        .templates()
                        .iter()
                        .any(|t| t.policy == policy && t.outcome == outcome && t.language == "en"),
                    "{policy} has no English {outcome:?} template"
                );
            }
        }
    }
}
