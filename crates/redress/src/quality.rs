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
    /// The secret decisions are drawn with; the same on every replica. Without one the
    /// draw is still reproducible, but anyone can compute which decisions it picks.
    #[serde(default)]
    pub sampling_key: Secret,
}

impl QualityConfig {
    pub fn second_review(&self) -> Result<SecondReviewSettings, ShareError> {
        SecondReviewSettings::new(
            self.second_review_share,
            self.second_review_policies.clone(),
            SamplingKey::new(self.sampling_key.expose()),
        )
    }
}
