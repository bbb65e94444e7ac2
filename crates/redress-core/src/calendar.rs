//! Business hours: when SLA time counts, for queues that only work office hours. Working
//! days, daily opening hours in a time zone, and holidays. Generic over the time zone so
//! the core needs no time-zone database; callers pass `chrono_tz::Tz`, `FixedOffset` or
//! `Utc`.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Utc, Weekday,
};

/// The longest stretch searched for the next working hour; a calendar without one in this
/// span (every day a holiday) has no deadlines.
const SEARCH_DAYS: u64 = 3 * 366;

/// Office hours of one team: `opens`..`closes` local time on `working_days`, except
/// `holidays`.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours<Tz: TimeZone> {
    pub time_zone: Tz,
    pub working_days: BTreeSet<u8>,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("business hours must open before they close ({opens} is not before {closes})")]
    EmptyDay { opens: NaiveTime, closes: NaiveTime },
    #[error("business hours need at least one working day")]
    NoWorkingDay,
}

impl<Tz: TimeZone> BusinessHours<Tz> {
    /// Hours on the given weekdays (Monday to Sunday), no holidays yet.
    pub fn new(
        time_zone: Tz,
        working_days: impl IntoIterator<Item = Weekday>,
        opens: NaiveTime,
        closes: NaiveTime,
    ) -> Result<Self, CalendarError> {
        if opens >= closes {
            return Err(CalendarError::EmptyDay { opens, closes });
        }
        let working_days: BTreeSet<u8> = working_days
            .into_iter()
            .map(|d| d.num_days_from_monday() as u8)
            .collect();
        if working_days.is_empty() {
            return Err(CalendarError::NoWorkingDay);
        }
        Ok(Self {
            time_zone,
            working_days,
            opens,
            closes,
            holidays: BTreeSet::new(),
        })
    }

    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(holidays);
        self
    }

    /// The working span of a local date, in UTC, or `None` on days off.
    pub fn working_span(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let weekday = date.weekday().num_days_from_monday() as u8;
        if !self.working_days.contains(&weekday) || self.holidays.contains(&date) {
            return None;
        }
        let start = self.to_utc(date.and_time(self.opens));
        let end = self.to_utc(date.and_time(self.closes));
        (start < end).then_some((start, end))
    }

    /// Business time in `[from, to)`; zero when `to` is not after `from`.
    pub fn business_time_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TimeDelta {
        if to <= from {
            return TimeDelta::zero();
        }
        let mut total = TimeDelta::zero();
        let mut date = self.local_date(from);
        let last = self.local_date(to);
        while date <= last {
            if let Some((start, end)) = self.working_span(date) {
                let start = start.max(from);
                let end = end.min(to);
                if end > start {
                    total += end - start;
                }
            }
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            date = next;
        }
        total
    }

    /// The moment `amount` of business time after `from`; `from` itself for a zero amount.
    /// `None` if no working hour exists in the next three years.
    pub fn add_business_time(
        &self,
        from: DateTime<Utc>,
        amount: TimeDelta,
    ) -> Option<DateTime<Utc>> {
        if amount <= TimeDelta::zero() {
            return Some(from);
        }
        let mut left = amount;
        let mut date = self.local_date(from);
        for _ in 0..SEARCH_DAYS {
            if let Some((start, end)) = self.working_span(date) {
                let start = start.max(from);
                if end > start {
                    if left <= end - start {
                        return Some(start + left);
                    }
                    left -= end - start;
                }
            }
            date = date.checked_add_days(Days::new(1))?;
        }
        None
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// A local wall-clock time in UTC. In the autumn overlap the earlier instant is taken;
    /// a time skipped by the spring change moves forward by the size of the gap.
    fn to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                let mut probe = local;
                for _ in 0..4 {
                    probe += TimeDelta::minutes(30);
                    if let Some(t) = self.time_zone.from_local_datetime(&probe).earliest() {
                        return t.with_timezone(&Utc);
                    }
                }
                local.and_utc()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use proptest::prelude::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid time")
    }

    fn office(offset_hours: i32) -> BusinessHours<FixedOffset> {
        BusinessHours::new(
            FixedOffset::east_opt(offset_hours * 3600).expect("offset"),
            [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            hm(9, 0),
            hm(17, 0),
        )
        .expect("valid hours")
        .with_holidays([NaiveDate::from_ymd_opt(2026, 1, 6).expect("date")])
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid instant")
    }

    #[test]
    fn friday_afternoon_plus_four_hours_is_monday_morning() {
        let hours = office(0);
        // 2026-01-09 is a Friday.
        let due = hours.add_business_time(utc(2026, 1, 9, 15, 0), TimeDelta::hours(4));
        assert_eq!(due, Some(utc(2026, 1, 12, 11, 0)));
    }

    #[test]
    fn holidays_and_nights_do_not_count() {
        let hours = office(0);
        // Monday 16:00 to Wednesday 10:00 with Tuesday a holiday: 1h + 1h.
        let counted = hours.business_time_between(utc(2026, 1, 5, 16, 0), utc(2026, 1, 7, 10, 0));
        assert_eq!(counted, TimeDelta::hours(2));
    }

    #[test]
    fn opening_hours_are_local_to_the_time_zone() {
        let hours = office(2);
        // 09:00 at UTC+2 is 07:00 UTC.
        let due = hours.add_business_time(utc(2026, 1, 5, 6, 0), TimeDelta::minutes(30));
        assert_eq!(due, Some(utc(2026, 1, 5, 7, 30)));
    }

    #[test]
    fn a_calendar_must_have_working_time() {
        let tz = FixedOffset::east_opt(0).expect("offset");
        assert_eq!(
            BusinessHours::new(tz, [Weekday::Mon], hm(17, 0), hm(9, 0)),
            Err(CalendarError::EmptyDay {
                opens: hm(17, 0),
                closes: hm(9, 0)
            })
        );
        assert_eq!(
            BusinessHours::new(tz, [], hm(9, 0), hm(17, 0)),
            Err(CalendarError::NoWorkingDay)
        );
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (0i64..(400 * 24 * 60))
            .prop_map(|minutes| utc(2026, 1, 1, 0, 0) + TimeDelta::minutes(minutes))
    }

    proptest! {
        /// Adding business time and measuring it back gives the same amount.
        #[test]
        fn adding_then_measuring_round_trips(
            from in instant(),
            minutes in 1i64..(60 * 24 * 30),
            offset in -12i32..14,
        ) {
            let hours = office(offset);
            let amount = TimeDelta::minutes(minutes);
            let due = hours.add_business_time(from, amount).expect("working time exists");
            prop_assert!(due > from);
            prop_assert_eq!(hours.business_time_between(from, due), amount);
            // The deadline is the first such moment: a minute earlier is not enough.
            prop_assert!(hours.business_time_between(from, due - TimeDelta::minutes(1)) < amount);
        }

        /// Business time is additive over adjacent spans and never exceeds wall time.
        #[test]
        fn business_time_is_additive_and_bounded(a in instant(), b in instant(), c in instant()) {
            let mut points = [a, b, c];
            points.sort();
            let [a, b, c] = points;
            let hours = office(1);
            let whole = hours.business_time_between(a, c);
            prop_assert_eq!(whole, hours.business_time_between(a, b) + hours.business_time_between(b, c));
            prop_assert!(whole <= c - a);
        }
    }
}
