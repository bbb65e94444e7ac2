//! Throttling the appeals of an account whose earlier appeals were manifestly unfounded
//! (the spirit of DSA Art. 23): once enough of them were upheld as such within a window,
//! the account is warned, and its new appeals are refused until the throttle period after
//! the warning ends. Pure arithmetic; the engine supplies the times.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// When to warn and how long to refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleRule {
    /// Manifestly unfounded appeals, decided within `window`, that earn the warning; 0
    /// turns throttling off.
    pub unfounded_appeals: u32,
    pub window: TimeDelta,
    /// How long after the warning new appeals are refused.
    pub period: TimeDelta,
}

impl ThrottleRule {
    /// Throttling off: nobody is ever warned or refused.
    pub const OFF: ThrottleRule = ThrottleRule {
        unfounded_appeals: 0,
        window: TimeDelta::zero(),
        period: TimeDelta::zero(),
    };

    pub fn is_on(&self) -> bool {
        self.unfounded_appeals > 0 && self.period > TimeDelta::zero()
    }

    /// Whether the account earns a warning at `now`. `unfounded` holds when each of its
    /// manifestly unfounded appeals was decided; `last_warning` when it was last warned.
    /// Only decisions after the last warning count, so a new warning needs a new run of
    /// unfounded appeals, and none is given while a throttle period is running.
    pub fn warning_due(
        &self,
        unfounded: &[DateTime<Utc>],
        last_warning: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.is_on() || self.refuses_until(last_warning, now).is_some() {
            return false;
        }
        let since = now - self.window;
        let counted = unfounded
            .iter()
            .filter(|at| **at > since && **at <= now)
            .filter(|at| last_warning.is_none_or(|warned| **at > warned))
            .count();
        counted >= self.unfounded_appeals as usize
    }

    /// Until when a new appeal of an account last warned at `last_warning` is refused, if
    /// it is refused at `now`.
    pub fn refuses_until(
        &self,
        last_warning: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let until = last_warning? + self.period;
        (self.is_on() && now < until).then_some(until)
    }
}

impl Default for ThrottleRule {
    fn default() -> Self {
        Self::OFF
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn rule() -> ThrottleRule {
        ThrottleRule {
            unfounded_appeals: 3,
            window: TimeDelta::days(10),
            period: TimeDelta::days(7),
        }
    }

    #[test]
    fn the_nth_unfounded_appeal_within_the_window_earns_the_warning() {
        let rule = rule();
        assert!(!rule.warning_due(&[at(1), at(2)], None, at(2)));
        assert!(rule.warning_due(&[at(1), at(2), at(3)], None, at(3)));
        // The first fell out of the window.
        assert!(!rule.warning_due(&[at(1), at(9), at(12)], None, at(12)));
        assert!(rule.warning_due(&[at(1), at(5), at(9), at(12)], None, at(12)));
    }

    #[test]
    fn a_warned_account_is_refused_for_the_period_then_needs_a_new_run() {
        let rule = rule();
        let warned = at(3);
        assert_eq!(rule.refuses_until(Some(warned), at(4)), Some(at(10)));
        assert_eq!(
            rule.refuses_until(Some(warned), at(10)),
            None,
            "the period has ended"
        );
        assert_eq!(rule.refuses_until(None, at(4)), None, "never warned");
        let history = [at(1), at(2), at(3)];
        assert!(
            !rule.warning_due(&history, Some(warned), at(5)),
            "no second warning while refusing"
        );
        assert!(
            !rule.warning_due(&history, Some(warned), at(11)),
            "the old run was warned about"
        );
        let again = [at(1), at(2), at(3), at(11), at(12), at(13)];
        assert!(rule.warning_due(&again, Some(warned), at(13)));
    }

    #[test]
    fn off_by_default() {
        let off = ThrottleRule::default();
        assert!(!off.is_on());
        assert!(!off.warning_due(&[at(1), at(2), at(3), at(4)], None, at(4)));
        assert_eq!(off.refuses_until(Some(at(3)), at(4)), None);
    }
}
