//! Service-level arithmetic: deadlines, warnings and the pause while the appellant is asked
//! for information. Pure functions of a clock, a policy and `now`.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessHours;
use crate::state::{AppealState, Deadline};

/// Time budgets for one queue and priority.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// From filing to triage.
    pub time_to_triage: TimeDelta,
    /// From filing to a reviewer's decision.
    pub time_to_decision: TimeDelta,
    /// Fraction of a budget after which the queue's leads are warned, in (0, 1].
    pub warn_fraction: f64,
}

impl SlaPolicy {
    pub fn budget(&self, deadline: Deadline) -> TimeDelta {
        match deadline {
            Deadline::Triage => self.time_to_triage,
            Deadline::Decision => self.time_to_decision,
        }
    }

    fn warn_offset(&self, deadline: Deadline) -> TimeDelta {
        let budget = self.budget(deadline);
        let fraction = self.warn_fraction.clamp(0.0, 1.0);
        let millis = (budget.num_milliseconds() as f64 * fraction).round() as i64;
        TimeDelta::milliseconds(millis)
    }
}

impl Default for SlaPolicy {
    fn default() -> Self {
        Self {
            time_to_triage: TimeDelta::hours(4),
            time_to_decision: TimeDelta::hours(48),
            warn_fraction: 0.8,
        }
    }
}

/// A finished span during which the appellant had the ball.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The SLA clock of an appeal: when it started and when it was paused. Each finished pause
/// is kept, not only their sum, so a calendar can tell how much of a pause fell in counted
/// time (a pause over a weekend costs no business hours, one over a working day does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub started_at: DateTime<Utc>,
    pub paused_since: Option<DateTime<Utc>>,
    /// Wall time of all finished pauses.
    pub paused_total: TimeDelta,
    /// The finished pauses in order. Clocks stored before pauses were kept individually
    /// have a `paused_total` that these do not add up to; see [`SlaClock::pauses_are_complete`].
    #[serde(default)]
    pub pauses: Vec<Pause>,
}

impl SlaClock {
    pub fn start(at: DateTime<Utc>) -> Self {
        Self {
            started_at: at,
            paused_since: None,
            paused_total: TimeDelta::zero(),
            pauses: Vec::new(),
        }
    }

    /// Stops the clock; pausing a paused clock keeps the first pause.
    pub fn pause(&mut self, at: DateTime<Utc>) {
        if self.paused_since.is_none() {
            self.paused_since = Some(at);
        }
    }

    /// Restarts the clock, adding the paused span (never negative) to the total.
    pub fn resume(&mut self, at: DateTime<Utc>) {
        if let Some(since) = self.paused_since.take() {
            let span = (at - since).max(TimeDelta::zero());
            self.paused_total += span;
            if span > TimeDelta::zero() {
                self.pauses.push(Pause {
                    from: since,
                    until: since + span,
                });
            }
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Whether every finished pause is known individually (false only for clocks stored
    /// before pauses were kept, which then count pauses by their wall-clock length).
    pub fn pauses_are_complete(&self) -> bool {
        let known = self
            .pauses
            .iter()
            .fold(TimeDelta::zero(), |sum, p| sum + (p.until - p.from));
        known == self.paused_total
    }

    /// Time that counts against the SLA up to `now`.
    pub fn elapsed(&self, now: DateTime<Utc>) -> TimeDelta {
        let end = self.paused_since.unwrap_or(now).min(now);
        ((end - self.started_at) - self.paused_total).max(TimeDelta::zero())
    }

    /// The wall-clock moment `offset` of counted time is used up, assuming no further pause.
    /// `None` while paused: no deadline can pass while the appellant has the ball.
    pub fn moment_after(&self, offset: TimeDelta) -> Option<DateTime<Utc>> {
        if self.is_paused() {
            return None;
        }
        Some(self.started_at + self.paused_total + offset)
    }
}

/// Which warnings and breaches have already fired since the clock started; each fires once.
/// Four independent flags, stored packed in one column.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaMarks {
    pub triage_warned: bool,
    pub triage_breached: bool,
    pub decision_warned: bool,
    pub decision_breached: bool,
}

impl SlaMarks {
    pub fn warned(&self, deadline: Deadline) -> bool {
        match deadline {
            Deadline::Triage => self.triage_warned,
            Deadline::Decision => self.decision_warned,
        }
    }

    pub fn breached(&self, deadline: Deadline) -> bool {
        match deadline {
            Deadline::Triage => self.triage_breached,
            Deadline::Decision => self.decision_breached,
        }
    }

    pub fn mark_warned(&mut self, deadline: Deadline) {
        match deadline {
            Deadline::Triage => self.triage_warned = true,
            Deadline::Decision => self.decision_warned = true,
        }
    }

    pub fn mark_breached(&mut self, deadline: Deadline) {
        self.mark_warned(deadline);
        match deadline {
            Deadline::Triage => self.triage_breached = true,
            Deadline::Decision => self.decision_breached = true,
        }
    }

    /// Packs the marks into a small integer for storage.
    pub fn to_bits(self) -> i16 {
        i16::from(self.triage_warned)
            | i16::from(self.triage_breached) << 1
            | i16::from(self.decision_warned) << 2
            | i16::from(self.decision_breached) << 3
    }

    pub fn from_bits(bits: i16) -> Self {
        Self {
            triage_warned: bits & 1 != 0,
            triage_breached: bits & 2 != 0,
            decision_warned: bits & 4 != 0,
            decision_breached: bits & 8 != 0,
        }
    }
}

/// Deadlines that run in a given state. Triage ends when the case is triaged; the decision
/// deadline ends when a reviewer decides.
pub fn running_deadlines(state: AppealState) -> &'static [Deadline] {
    match state {
        AppealState::Filed => &[Deadline::Triage, Deadline::Decision],
        AppealState::Triaged | AppealState::AwaitingUser => &[Deadline::Decision],
        _ => &[],
    }
}

/// What the SLA worker must do for an appeal now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaAction {
    Warn(Deadline),
    Breach(Deadline),
}

/// The derived SLA columns of an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlaSchedule {
    pub triage_due_at: Option<DateTime<Utc>>,
    pub decision_due_at: Option<DateTime<Utc>>,
    /// The earliest moment a warning or a breach becomes due; `None` when nothing can fire
    /// (case decided, closed, or paused).
    pub next_check_at: Option<DateTime<Utc>>,
}

/// How counted time relates to the wall clock: around the clock ([`AllHours`]) or only in
/// business hours ([`BusinessHours`]).
pub trait CountedTime {
    /// Time that counts against the SLA up to `now`.
    fn elapsed(&self, clock: &SlaClock, now: DateTime<Utc>) -> TimeDelta;
    /// The wall-clock moment `offset` of counted time is used up; `None` while paused.
    fn moment_after(&self, clock: &SlaClock, offset: TimeDelta) -> Option<DateTime<Utc>>;
}

/// Every hour counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllHours;

impl CountedTime for AllHours {
    fn elapsed(&self, clock: &SlaClock, now: DateTime<Utc>) -> TimeDelta {
        clock.elapsed(now)
    }

    fn moment_after(&self, clock: &SlaClock, offset: TimeDelta) -> Option<DateTime<Utc>> {
        clock.moment_after(offset)
    }
}

/// Only business hours count, and none of a pause's business hours.
impl<Tz: TimeZone> CountedTime for BusinessHours<Tz> {
    fn elapsed(&self, clock: &SlaClock, now: DateTime<Utc>) -> TimeDelta {
        let end = clock.paused_since.unwrap_or(now).min(now);
        if !clock.pauses_are_complete() {
            return self.business_time_between(clock.started_at + clock.paused_total, end);
        }
        let paused = clock
            .pauses
            .iter()
            .map(|p| self.business_time_between(p.from.max(clock.started_at), p.until.min(end)))
            .fold(TimeDelta::zero(), |sum, t| sum + t.max(TimeDelta::zero()));
        (self.business_time_between(clock.started_at, end) - paused).max(TimeDelta::zero())
    }

    fn moment_after(&self, clock: &SlaClock, offset: TimeDelta) -> Option<DateTime<Utc>> {
        if clock.is_paused() {
            return None;
        }
        if !clock.pauses_are_complete() {
            return self.add_business_time(clock.started_at + clock.paused_total, offset);
        }
        // Count forward from the start, stepping over each pause.
        let mut from = clock.started_at;
        let mut remaining = offset;
        for pause in &clock.pauses {
            if pause.until <= from {
                continue;
            }
            let before_pause = self.business_time_between(from, pause.from.max(from));
            if remaining <= before_pause {
                return self.add_business_time(from, remaining);
            }
            remaining -= before_pause;
            from = pause.until;
        }
        self.add_business_time(from, remaining)
    }
}

pub fn schedule(
    state: AppealState,
    clock: &SlaClock,
    marks: SlaMarks,
    policy: &SlaPolicy,
) -> SlaSchedule {
    schedule_in(&AllHours, state, clock, marks, policy)
}

/// The derived SLA columns, with time counted by `time`.
pub fn schedule_in(
    time: &impl CountedTime,
    state: AppealState,
    clock: &SlaClock,
    marks: SlaMarks,
    policy: &SlaPolicy,
) -> SlaSchedule {
    let mut out = SlaSchedule::default();
    for &deadline in running_deadlines(state) {
        let due = time.moment_after(clock, policy.budget(deadline));
        match deadline {
            Deadline::Triage => out.triage_due_at = due,
            Deadline::Decision => out.decision_due_at = due,
        }
        let next = if !marks.warned(deadline) {
            time.moment_after(clock, policy.warn_offset(deadline))
        } else if !marks.breached(deadline) {
            due
        } else {
            None
        };
        out.next_check_at = match (out.next_check_at, next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    out
}

/// The warnings and breaches that are due at `now` and have not fired yet. A breach implies
/// its warning, so a case found late gets the breach without a stale warning first.
pub fn due_actions(
    state: AppealState,
    clock: &SlaClock,
    marks: SlaMarks,
    policy: &SlaPolicy,
    now: DateTime<Utc>,
) -> Vec<SlaAction> {
    due_actions_in(&AllHours, state, clock, marks, policy, now)
}

/// [`due_actions`] with time counted by `time`.
pub fn due_actions_in(
    time: &impl CountedTime,
    state: AppealState,
    clock: &SlaClock,
    marks: SlaMarks,
    policy: &SlaPolicy,
    now: DateTime<Utc>,
) -> Vec<SlaAction> {
    if clock.is_paused() {
        return Vec::new();
    }
    let elapsed = time.elapsed(clock, now);
    let mut actions = Vec::new();
    for &deadline in running_deadlines(state) {
        if !marks.breached(deadline) && elapsed >= policy.budget(deadline) {
            actions.push(SlaAction::Breach(deadline));
        } else if !marks.warned(deadline) && elapsed >= policy.warn_offset(deadline) {
            actions.push(SlaAction::Warn(deadline));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn deadlines_move_by_the_time_spent_awaiting_the_user() {
        let policy = SlaPolicy::default();
        let mut clock = SlaClock::start(t0());
        clock.pause(t0() + TimeDelta::hours(1));
        assert_eq!(
            schedule(
                AppealState::AwaitingUser,
                &clock,
                SlaMarks::default(),
                &policy
            )
            .next_check_at,
            None
        );
        clock.resume(t0() + TimeDelta::hours(11));
        let s = schedule(AppealState::Triaged, &clock, SlaMarks::default(), &policy);
        assert_eq!(
            s.decision_due_at,
            Some(t0() + TimeDelta::hours(58)),
            "48h budget plus a 10h pause"
        );
        assert_eq!(
            s.next_check_at,
            Some(t0() + TimeDelta::hours(10) + TimeDelta::minutes(48 * 60 * 8 / 10))
        );
    }

    #[test]
    fn a_late_look_breaches_without_warning_first() {
        let policy = SlaPolicy::default();
        let clock = SlaClock::start(t0());
        let actions = due_actions(
            AppealState::Filed,
            &clock,
            SlaMarks::default(),
            &policy,
            t0() + TimeDelta::hours(5),
        );
        assert_eq!(actions, vec![SlaAction::Breach(Deadline::Triage)]);
    }

    fn office_hours() -> crate::calendar::BusinessHours<chrono::FixedOffset> {
        crate::calendar::BusinessHours::new(
            chrono::FixedOffset::east_opt(3600).expect("offset"),
            [
                chrono::Weekday::Mon,
                chrono::Weekday::Tue,
                chrono::Weekday::Wed,
                chrono::Weekday::Thu,
                chrono::Weekday::Fri,
            ],
            chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
            chrono::NaiveTime::from_hms_opt(17, 0, 0).expect("time"),
        )
        .expect("hours")
    }

    #[test]
    fn a_pause_over_the_weekend_costs_no_business_hours_and_keeps_friday() {
        // 2026-01-09 is a Friday; 08:00 UTC is 09:00 local.
        let friday_open = Utc
            .with_ymd_and_hms(2026, 1, 9, 8, 0, 0)
            .single()
            .expect("time");
        let mut clock = SlaClock::start(friday_open);
        clock.pause(friday_open + TimeDelta::hours(8));
        let monday_open = friday_open + TimeDelta::days(3);
        clock.resume(monday_open);
        let hours = office_hours();
        assert_eq!(
            hours.elapsed(&clock, monday_open + TimeDelta::hours(1)),
            TimeDelta::hours(9),
            "Friday's eight hours still count, and the weekend pause costs nothing"
        );
        assert_eq!(
            hours.moment_after(&clock, TimeDelta::hours(12)),
            Some(monday_open + TimeDelta::hours(4))
        );
    }

    #[test]
    fn a_pause_in_working_hours_is_not_counted() {
        let hours = office_hours();
        let monday_open = Utc
            .with_ymd_and_hms(2026, 1, 12, 8, 0, 0)
            .single()
            .expect("time");
        let mut clock = SlaClock::start(monday_open);
        clock.pause(monday_open + TimeDelta::hours(2));
        clock.resume(monday_open + TimeDelta::hours(5));
        assert_eq!(
            hours.elapsed(&clock, monday_open + TimeDelta::hours(8)),
            TimeDelta::hours(5)
        );
        assert_eq!(
            hours.moment_after(&clock, TimeDelta::hours(6)),
            Some(monday_open + TimeDelta::days(1) + TimeDelta::hours(1))
        );
    }

    #[test]
    fn clocks_stored_before_pauses_were_kept_count_by_wall_time() {
        let hours = office_hours();
        let monday_open = Utc
            .with_ymd_and_hms(2026, 1, 12, 8, 0, 0)
            .single()
            .expect("time");
        let legacy = SlaClock {
            started_at: monday_open,
            paused_since: None,
            paused_total: TimeDelta::hours(3),
            pauses: Vec::new(),
        };
        assert!(!legacy.pauses_are_complete());
        assert_eq!(
            hours.elapsed(&legacy, monday_open + TimeDelta::hours(8)),
            TimeDelta::hours(5)
        );
    }

    #[test]
    fn marks_round_trip_through_bits() {
        for bits in 0..16 {
            assert_eq!(SlaMarks::from_bits(bits).to_bits(), bits);
        }
    }

    proptest! {
        /// Whatever the pauses, counted time equals wall time minus paused time, and the
        /// deadline is exactly where counted time reaches the budget.
        #[test]
        fn pauses_are_subtracted_exactly(spans in proptest::collection::vec((0i64..10_000, 0i64..10_000), 0..8)) {
            let mut clock = SlaClock::start(t0());
            let mut now = t0();
            let mut running = TimeDelta::zero();
            for (work, pause) in spans {
                now += TimeDelta::seconds(work);
                running += TimeDelta::seconds(work);
                clock.pause(now);
                prop_assert_eq!(clock.elapsed(now + TimeDelta::seconds(pause)), running);
                now += TimeDelta::seconds(pause);
                clock.resume(now);
            }
            prop_assert_eq!(clock.elapsed(now), running);
            let budget = TimeDelta::hours(48);
            let due = clock.moment_after(budget).expect("running clock");
            prop_assert_eq!(clock.elapsed(due), budget);
        }

        /// With business hours, the scheduled check is exactly where due actions begin: not a
        /// minute before, and at the check itself something is due.
        #[test]
        fn business_hours_schedule_agrees_with_due_actions(
            start_minutes in 0i64..(60 * 24 * 60),
            paused in proptest::option::of((0i64..(60 * 24 * 3), 0i64..(60 * 24 * 5))),
        ) {
            let hours = crate::calendar::BusinessHours::new(
                chrono::FixedOffset::east_opt(3600).expect("offset"),
                [chrono::Weekday::Mon, chrono::Weekday::Tue, chrono::Weekday::Wed, chrono::Weekday::Thu, chrono::Weekday::Fri],
                chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
                chrono::NaiveTime::from_hms_opt(17, 0, 0).expect("time"),
            ).expect("hours");
            let policy = SlaPolicy::default();
            let start = t0() + TimeDelta::minutes(start_minutes);
            let mut clock = SlaClock::start(start);
            if let Some((after, length)) = paused {
                clock.pause(start + TimeDelta::minutes(after));
                clock.resume(start + TimeDelta::minutes(after + length));
            }
            let marks = SlaMarks::default();
            let next = schedule_in(&hours, AppealState::Filed, &clock, marks, &policy)
                .next_check_at.expect("a running clock has a next check");
            prop_assert!(!due_actions_in(&hours, AppealState::Filed, &clock, marks, &policy, next).is_empty());
            prop_assert!(due_actions_in(&hours, AppealState::Filed, &clock, marks, &policy, next - TimeDelta::minutes(1)).is_empty());
            let mut paused_clock = clock.clone();
            paused_clock.pause(next);
            prop_assert_eq!(schedule_in(&hours, AppealState::AwaitingUser, &paused_clock, marks, &policy).next_check_at, None);
        }

        /// With business hours and any pauses, counted time is exactly the business time of
        /// the running spans, and the deadline is where counted time reaches the budget.
        #[test]
        fn business_hours_count_only_the_running_spans(
            start_minutes in 0i64..(60 * 24 * 7),
            spans in proptest::collection::vec((0i64..(60 * 24 * 4), 0i64..(60 * 24 * 6)), 0..5),
            budget_hours in 1i64..60,
        ) {
            let hours = office_hours();
            let start = t0() + TimeDelta::minutes(start_minutes);
            let mut clock = SlaClock::start(start);
            let mut running_from = start;
            let mut counted = TimeDelta::zero();
            let mut now = start;
            for (work, pause) in spans {
                now += TimeDelta::minutes(work);
                counted += hours.business_time_between(running_from, now);
                clock.pause(now);
                now += TimeDelta::minutes(pause);
                clock.resume(now);
                running_from = now;
            }
            prop_assert!(clock.pauses_are_complete());
            let later = now + TimeDelta::hours(30);
            let expected = counted + hours.business_time_between(running_from, later);
            prop_assert_eq!(hours.elapsed(&clock, later), expected);
            let budget = TimeDelta::hours(budget_hours);
            let due = hours.moment_after(&clock, budget).expect("a running clock has a deadline");
            prop_assert_eq!(hours.elapsed(&clock, due), budget);
            prop_assert!(hours.elapsed(&clock, due - TimeDelta::minutes(1)) < budget);
        }

        /// Once a deadline is warned and breached, nothing more is ever due for it.
        #[test]
        fn each_deadline_fires_at_most_twice(minutes in 0i64..10_000) {
            let policy = SlaPolicy::default();
            let clock = SlaClock::start(t0());
            let mut marks = SlaMarks::default();
            let now = t0() + TimeDelta::minutes(minutes);
            let mut fired = 0;
            loop {
                let actions = due_actions(AppealState::Filed, &clock, marks, &policy, now);
                if actions.is_empty() { break; }
                for action in actions {
                    fired += 1;
                    match action {
                        SlaAction::Warn(d) => marks.mark_warned(d),
                        SlaAction::Breach(d) => marks.mark_breached(d),
                    }
                }
                prop_assert!(fired <= 4);
            }
            let next = schedule(AppealState::Filed, &clock, marks, &policy).next_check_at;
            if let Some(next) = next { prop_assert!(next > now); }
        }
    }
}
