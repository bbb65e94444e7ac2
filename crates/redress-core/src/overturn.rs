//! Overturn rates of enforcement sources. A rate from a handful of appeals says little, so
//! sources are judged by the Wilson score interval: its lower bound is the overturn rate
//! the source has at least, with the chosen confidence.

use serde::{Deserialize, Serialize};

/// The normal quantile for a two-sided 95 % interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A confidence interval of a proportion, both ends in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

/// The Wilson score interval of `successes` out of `trials` for the normal quantile `z`.
/// `None` without trials, where no rate exists.
pub fn wilson_interval(successes: u64, trials: u64, z: f64) -> Option<Interval> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = successes.min(trials) as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = p + z2 / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        lower: ((centre - margin) / denominator).clamp(0.0, 1.0),
        upper: ((centre + margin) / denominator).clamp(0.0, 1.0),
    })
}

/// When a source's overturn rate is bad enough to raise an incident.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IncidentRule {
    /// The lower bound of the overturn rate that must be exceeded.
    pub threshold: f64,
    /// Decided appeals needed before a source is judged at all.
    pub min_sample: u64,
    pub z: f64,
}

impl Default for IncidentRule {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            min_sample: 30,
            z: Z_95,
        }
    }
}

impl IncidentRule {
    /// The interval that breaches the rule, if `overturned` of `decided` does.
    pub fn breach(&self, overturned: u64, decided: u64) -> Option<Interval> {
        if decided < self.min_sample {
            return None;
        }
        wilson_interval(overturned, decided, self.z).filter(|i| i.lower > self.threshold)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 5e-5,
            "{actual} is not {expected}"
        );
    }

    #[test]
    fn matches_published_values() {
        // Wilson (1927) as tabulated by Newcombe (1998), 95 %: 0/10 -> [0, 0.2775],
        // 5/10 -> [0.2366, 0.7634], 81/263 -> [0.2553, 0.3662].
        let none = wilson_interval(0, 10, Z_95).expect("interval");
        close(none.lower, 0.0);
        close(none.upper, 0.2775);
        let half = wilson_interval(5, 10, Z_95).expect("interval");
        close(half.lower, 0.2366);
        close(half.upper, 0.7634);
        let newcombe = wilson_interval(81, 263, Z_95).expect("interval");
        close(newcombe.lower, 0.2553);
        close(newcombe.upper, 0.3662);
    }

    #[test]
    fn a_wave_of_wins_has_a_high_lower_bound() {
        let wave = wilson_interval(180, 200, Z_95).expect("interval");
        close(wave.lower, 0.8506);
        close(wave.upper, 0.9343);
    }

    #[test]
    fn no_trials_no_interval() {
        assert_eq!(wilson_interval(0, 0, Z_95), None);
    }

    #[test]
    fn the_rule_needs_a_sample_and_a_bound_above_the_threshold() {
        let rule = IncidentRule::default();
        assert!(rule.breach(180, 200).is_some());
        assert!(rule.breach(10, 10).is_none(), "too few appeals to judge");
        assert!(rule.breach(40, 200).is_none(), "a normal overturn rate");
        assert!(
            rule.breach(17, 30).is_none(),
            "a majority won, but not surely"
        );
    }
}
