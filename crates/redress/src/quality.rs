//! `[quality]`: the share of decisions drawn for a blind second review, per policy, and the
//! secret they are drawn with.

use std::collections::BTreeMap;

use redress_engine::quality::{SamplingKey, SecondReviewSettings, ShareError};
use serde::{Deserialize, Serialize};

use crate::config::Secret;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QualityConfig {
    /// The share of decisions (0 to 1) drawn for a blind second review where the policy
    /// has no share of its own; 0, the default, draws none.
    #[serde(default)]
    pub second_review_share: f64,
    /// Shares by policy id, e.g. `spam = 0.2`.
    #[serde(default)]
    pub second_review_policies: BTreeMap<String, f64>,
    /// The secret decisions are drawn with; the same on every replica. Required when any
    /// share is above 0: without it anyone could compute which decisions the draw picks.
    #[serde(default)]
    pub sampling_key: Secret,
}

impl QualityConfig {
    /// The shares and the key, checked: a share above 0 needs a sampling key.
    pub fn validate(&self) -> Result<SecondReviewSettings, String> {
        let settings = self.second_review().map_err(|err| err.to_string())?;
        if settings.largest_share() > 0.0 && self.sampling_key.is_empty() {
            return Err(
                "quality.sampling_key must be set when a second review share is above 0: \
                 without it anyone can compute which decisions are drawn"
                    .to_owned(),
            );
        }
        Ok(settings)
    }

    pub fn second_review(&self) -> Result<SecondReviewSettings, ShareError> {
        SecondReviewSettings::new(
            self.second_review_share,
            self.second_review_policies.clone(),
            SamplingKey::new(self.sampling_key.expose()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_share(share: f64, key: &str) -> QualityConfig {
        QualityConfig {
            second_review_share: share,
            sampling_key: Secret::new(key),
            ..QualityConfig::default()
        }
    }

    #[test]
    fn a_share_without_a_key_is_refused_naming_the_field() {
        let err = with_share(0.1, "").validate().expect_err("no key");
        assert!(err.contains("quality.sampling_key"), "{err}");
    }

    #[test]
    fn a_policy_share_without_a_key_is_refused() {
        let config = QualityConfig {
            second_review_policies: BTreeMap::from([("spam".to_owned(), 0.2)]),
            ..QualityConfig::default()
        };
        assert!(config.validate().is_err());
    }

    #[test]
    fn no_share_needs_no_key_and_a_share_with_a_key_is_accepted() {
        assert!(with_share(0.0, "").validate().is_ok());
        assert!(with_share(0.1, "a long random secret").validate().is_ok());
    }
}
