//! Which decisions go to a blind second review: a share per policy, and a draw that every
//! replica makes alike. Configuration the engine carries, like the link keys; the quality
//! unit draws with it.
//!
//! The draw is a keyed hash of the decision's event (`HMAC-SHA256(key, appeal id ||
//! version)`) read as a number in `[0, 1)`; a decision is sampled when its draw falls below
//! its policy's share. It needs no shared state and no coordination between replicas, gives
//! the same answer when a decision is looked at again, and, with a secret key, cannot be
//! foreseen by the reviewer who decides.

use std::collections::BTreeMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A share outside `[0, 1]`, named by where it was configured.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{setting} must be a share between 0 and 1, got {share}")]
pub struct ShareError {
    pub setting: String,
    pub share: f64,
}

/// The key decisions are drawn with.
#[derive(Clone)]
pub struct SamplingKey(Hmac<Sha256>);

impl SamplingKey {
    /// Keys with the SHA-256 of `secret`, so a secret of any length gives a full key.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&Sha256::digest(secret.as_ref()));
        Self(<Hmac<Sha256> as KeyInit>::new(&block.into()))
    }
}

impl Default for SamplingKey {
    /// The empty secret: draws are reproducible but anyone can compute them, so a
    /// deployment configures its own.
    fn default() -> Self {
        Self::new([])
    }
}

impl fmt::Debug for SamplingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SamplingKey(***)")
    }
}

/// What share of decisions is sampled for a blind second review, per policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecondReviewSettings {
    /// The share of decisions of a policy without a share of its own (and of appeals
    /// against no known enforcement).
    default_share: f64,
    /// Shares by policy id.
    policy_shares: BTreeMap<String, f64>,
    #[serde(skip)]
    key: SamplingKey,
}

impl SecondReviewSettings {
    /// Checked shares; `key` is the secret decisions are drawn with.
    pub fn new(
        default_share: f64,
        policy_shares: BTreeMap<String, f64>,
        key: SamplingKey,
    ) -> Result<Self, ShareError> {
        check_share("quality.second_review_share", default_share)?;
        for (policy, share) in &policy_shares {
            check_share(&format!("quality.second_review_policies.{policy}"), *share)?;
        }
        Ok(Self {
            default_share,
            policy_shares,
            key,
        })
    }

    pub fn default_share(&self) -> f64 {
        self.default_share
    }

    pub fn policy_shares(&self) -> &BTreeMap<String, f64> {
        &self.policy_shares
    }

    /// The share of decisions under `policy` that is sampled.
    pub fn share_for(&self, policy: Option<&str>) -> f64 {
        policy
            .and_then(|policy| self.policy_shares.get(policy))
            .copied()
            .unwrap_or(self.default_share)
    }

    /// The largest share of any policy: a draw at or above it is sampled under none, so the
    /// policy need not be looked up.
    pub fn largest_share(&self) -> f64 {
        self.policy_shares
            .values()
            .copied()
            .fold(self.default_share, f64::max)
    }

    /// The decision event's draw, in `[0, 1)`.
    pub fn draw(&self, appeal_id: Uuid, decision_version: i64) -> f64 {
        let mut mac = self.key.0.clone();
        mac.update(b"second-review:");
        mac.update(appeal_id.as_bytes());
        mac.update(&decision_version.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // 53 bits: exactly representable, so the draw is uniform over [0, 1).
        (u64::from_be_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether the decision recorded as event `decision_version` of `appeal_id`, under
    /// `policy`, goes to a second review.
    pub fn sampled(&self, appeal_id: Uuid, decision_version: i64, policy: Option<&str>) -> bool {
        self.draw(appeal_id, decision_version) < self.share_for(policy)
    }
}

fn check_share(setting: &str, share: f64) -> Result<(), ShareError> {
    if (0.0..=1.0).contains(&share) {
        Ok(())
    } else {
        Err(ShareError {
            setting: setting.to_owned(),
            share,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(default_share: f64, spam: f64, key: &str) -> SecondReviewSettings {
        SecondReviewSettings::new(
            default_share,
            BTreeMap::from([("spam".to_owned(), spam)]),
            SamplingKey::new(key),
        )
        .expect("valid shares")
    }

    #[test]
    fn a_share_outside_zero_to_one_is_refused_by_name() {
        let error = SecondReviewSettings::new(
            0.1,
            BTreeMap::from([("spam".to_owned(), 1.5)]),
            SamplingKey::default(),
        )
        .expect_err("out of range");
        assert_eq!(
            error.to_string(),
            "quality.second_review_policies.spam must be a share between 0 and 1, got 1.5"
        );
        assert!(SecondReviewSettings::new(-0.1, BTreeMap::new(), SamplingKey::default()).is_err());
        assert!(
            SecondReviewSettings::new(f64::NAN, BTreeMap::new(), SamplingKey::default()).is_err()
        );
    }

    #[test]
    fn the_draw_depends_on_the_key_and_the_event_only() {
        let appeal = Uuid::now_v7();
        let a = settings(0.1, 0.5, "one");
        let draw = |s: &SecondReviewSettings, version| s.draw(appeal, version).to_bits();
        assert_eq!(draw(&a, 4), draw(&settings(0.3, 0.9, "one"), 4));
        assert_ne!(draw(&a, 4), draw(&a, 5));
        assert_ne!(draw(&a, 4), draw(&settings(0.1, 0.5, "two"), 4));
    }

    #[test]
    fn no_share_samples_nothing_and_a_whole_share_everything() {
        let none = settings(0.0, 0.0, "k");
        let all = settings(1.0, 1.0, "k");
        for version in 0..1_000 {
            let appeal = Uuid::now_v7();
            assert!(!none.sampled(appeal, version, Some("spam")));
            assert!(all.sampled(appeal, version, None));
        }
    }

    #[test]
    fn a_policy_share_overrides_the_default() {
        let s = settings(0.05, 0.5, "k");
        let shares = [
            s.share_for(Some("spam")),
            s.share_for(Some("nudity")),
            s.share_for(None),
            s.largest_share(),
        ];
        assert_eq!(
            shares.map(f64::to_bits),
            [0.5, 0.05, 0.05, 0.5].map(f64::to_bits)
        );
    }
}
