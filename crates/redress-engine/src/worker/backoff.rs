//! Retry delays: exponential, capped, with jitter so failures that happened together do not
//! retry together.

use std::time::Duration;

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first failure, before jitter.
    pub base: Duration,
    /// No delay exceeds this.
    pub max: Duration,
    /// Attempts (the first included) after which an item is dead-lettered.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(10),
            max: Duration::from_secs(6 * 3600),
            max_attempts: 10,
        }
    }
}

impl Backoff {
    /// The delay after `failures` failed attempts (1 = the first failure), before jitter:
    /// `base * 2^(failures - 1)`, capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(32);
        self.base
            .checked_mul(1u32 << exponent.min(31))
            .map_or(self.max, |d| d.min(self.max))
    }

    /// The delay with "equal jitter": half the ceiling plus `jitter` (in [0, 1)) of the other
    /// half, so it is never shorter than half the ceiling and never longer than the ceiling.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        let half = ceiling / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// Whether an item that has now failed `failures` times gets another attempt.
    pub fn retries_after(&self, failures: u32) -> bool {
        failures < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_from_the_base_until_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            max_attempts: 5,
        };
        let ceilings: Vec<u64> = (1..=5).map(|n| backoff.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, vec![10, 20, 40, 60, 60]);
        assert!(backoff.retries_after(4));
        assert!(!backoff.retries_after(5));
    }

    proptest! {
        #[test]
        fn jittered_delay_stays_between_half_and_all_of_the_ceiling(
            failures in 1u32..200,
            jitter in 0.0f64..1.0,
        ) {
            let backoff = Backoff::default();
            let delay = backoff.delay(failures, jitter);
            let ceiling = backoff.ceiling(failures);
            prop_assert!(delay >= ceiling / 2);
            prop_assert!(delay <= ceiling);
            prop_assert!(ceiling <= backoff.max);
            prop_assert!(backoff.ceiling(failures + 1) >= ceiling);
        }
    }
}
