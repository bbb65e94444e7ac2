//! Attempts on status-page references, limited per reference in bounded memory.
//!
//! The limiter keeps a state per key it has seen. Keyed by whatever a form sent, every
//! distinct string (up to the body limit, two megabytes) stayed in memory for good; now only
//! a well-formed reference is a key, so each costs a few dozen bytes, and keys whose limit
//! has fully recovered are dropped every [`SWEEP_EVERY`] attempts. What stays is at most the
//! references tried within one recovery period plus one sweep interval.

use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use redress_core::AppealReference;

/// Attempts between two sweeps of recovered references.
pub const SWEEP_EVERY: u32 = 1024;

#[derive(Debug)]
pub struct ReferenceAttempts<C: Clock = DefaultClock> {
    limiter: RateLimiter<
        AppealReference,
        HashMapStateStore<AppealReference>,
        C,
        NoOpMiddleware<C::Instant>,
    >,
    since_sweep: AtomicU32,
}

impl ReferenceAttempts {
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, DefaultClock::default())
    }
}

impl<C: Clock> ReferenceAttempts<C> {
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        Self {
            limiter: RateLimiter::hashmap_with_clock(quota, clock),
            since_sweep: AtomicU32::new(0),
        }
    }

    /// Counts an attempt on `reference`; `false` once its quota is spent.
    pub fn allow(&self, reference: &AppealReference) -> bool {
        if self.since_sweep.fetch_add(1, Ordering::Relaxed) + 1 >= SWEEP_EVERY {
            self.since_sweep.store(0, Ordering::Relaxed);
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(reference).is_ok()
    }

    /// References whose state is kept.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn quota() -> Quota {
        Quota::per_minute(NonZeroU32::new(10).expect("non-zero"))
            .allow_burst(NonZeroU32::new(3).expect("non-zero"))
    }

    #[test]
    fn a_reference_is_refused_once_its_burst_is_spent() {
        let attempts = ReferenceAttempts::with_clock(quota(), FakeRelativeClock::default());
        let reference = AppealReference::from_seed(7);
        assert!((0..3).all(|_| attempts.allow(&reference)));
        assert!(!attempts.allow(&reference));
        assert!(attempts.allow(&AppealReference::from_seed(8)));
    }

    #[test]
    fn references_tried_long_ago_are_forgotten() {
        let clock = FakeRelativeClock::default();
        let attempts = ReferenceAttempts::with_clock(quota(), clock.clone());
        for seed in 0..20_000 {
            attempts.allow(&AppealReference::from_seed(seed));
        }
        assert!(attempts.tracked() > 10_000, "kept while they still count");
        clock.advance(Duration::from_secs(120));
        for seed in 0..u64::from(SWEEP_EVERY) {
            attempts.allow(&AppealReference::from_seed(1_000_000 + seed));
        }
        assert!(
            attempts.tracked() <= SWEEP_EVERY as usize,
            "{} references still kept",
            attempts.tracked()
        );
    }
}
