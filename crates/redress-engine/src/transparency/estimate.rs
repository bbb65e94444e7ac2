//! When an open appeal is likely to be decided: its place in its queue and how many
//! decisions the queue has made a day lately, given as a range. The SLA's decision date is
//! a promise; this is a forecast, and says so by being a range that widens as the queue's
//! pace varies and the wait grows.
//!
//! The forecast treats the cases ahead as served at the queue's mean daily rate over the
//! last [`THROUGHPUT_WINDOW_DAYS`] days. Its spread combines two uncertainties: how the daily
//! rate varies (averaged over the days the wait spans) and the count's own Poisson noise;
//! the range is the 80 % band of both. `tests/decision_estimate.rs` keeps it honest by
//! comparing forecasts with when a simulated queue actually decided each case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::AppealState;
use sea_orm::{ConnectionTrait, Statement, Value};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::repo::appeals::StoredAppeal;
use crate::repo::numbered;

/// Days of decisions the pace is measured over: a week, so that a quiet weekend counts as
/// it will again.
pub const THROUGHPUT_WINDOW_DAYS: usize = 7;

/// Fewer decisions than this in the window say too little about a queue's pace to
/// forecast from.
pub const MIN_DECISIONS_TO_FORECAST: u64 = 10;

/// How long a queue's measured pace is reused before it is counted again: the count reads
/// a week of decisions, and the status page is read far more often than the pace changes.
const PACE_KEPT_FOR: TimeDelta = TimeDelta::minutes(5);

/// Stands for "no decision deadline" when cases are ordered by it: the last instant of
/// year 9999, which both backends store and compare like any other date.
fn no_deadline() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The standard normal quantile of a two-sided 80 % band.
const Z_80: f64 = 1.2816;

/// The band's half-width, relative to the expected wait, stays within these bounds: never
/// a single instant, never down to "any moment now".
const MIN_RELATIVE_SPREAD: f64 = 0.1;
const MAX_RELATIVE_SPREAD: f64 = 0.8;

/// A forecast of an open appeal's decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecisionEstimate {
    /// Cases ahead of this one in its queue, including those a reviewer holds.
    pub ahead: u64,
    /// The queue's mean decisions a day over the measured window.
    pub decisions_per_day: f64,
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
}

/// Decisions a day in one queue over the window, oldest day first.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePace {
    daily: Vec<u64>,
}

impl QueuePace {
    /// The days before the first with a decision are left out: a queue opened (or a
    /// service started) within the window would otherwise be taken for a slow one. A queue
    /// idle at the start of the window is then taken for faster than it was over the whole
    /// week, which its fewer days of history widen the band for.
    pub fn from_daily(daily: Vec<u64>) -> Self {
        let first = daily
            .iter()
            .position(|&count| count > 0)
            .unwrap_or(daily.len());
        Self {
            daily: daily[first..].to_vec(),
        }
    }

    /// Decisions in the whole window.
    pub fn decisions(&self) -> u64 {
        self.daily.iter().sum()
    }

    /// The forecast for a case with `ahead` cases before it, from `now`; none when the
    /// window holds too few decisions to say.
    pub fn forecast(&self, ahead: u64, now: DateTime<Utc>) -> Option<DecisionEstimate> {
        let total = self.decisions();
        if total < MIN_DECISIONS_TO_FORECAST || self.daily.len() < 2 {
            return None;
        }
        let days = self.daily.len() as f64;
        let per_day = total as f64 / days;
        let variance = self
            .daily
            .iter()
            .map(|&count| (count as f64 - per_day).powi(2))
            .sum::<f64>()
            / (days - 1.0);
        let daily_variation = variance.sqrt() / per_day;
        let cases = ahead as f64 + 1.0;
        let wait_days = cases / per_day;
        let spread = (Z_80 * (daily_variation.powi(2) / wait_days.max(1.0) + 1.0 / cases).sqrt())
            .clamp(MIN_RELATIVE_SPREAD, MAX_RELATIVE_SPREAD);
        // A wait beyond what a date can hold is no forecast (`as` saturates the seconds).
        let after = |days: f64| {
            TimeDelta::try_seconds((days * 86_400.0).round() as i64)
                .and_then(|wait| now.checked_add_signed(wait))
        };
        Some(DecisionEstimate {
            ahead,
            decisions_per_day: per_day,
            earliest: after(wait_days * (1.0 - spread))?,
            latest: after(wait_days * (1.0 + spread))?,
        })
    }
}

/// Each queue's pace as last counted, shared by the engine's clones.
#[derive(Debug, Default)]
pub struct PaceCache(Mutex<HashMap<String, (DateTime<Utc>, QueuePace)>>);

impl PaceCache {
    fn fresh(&self, queue: &str, now: DateTime<Utc>) -> Option<QueuePace> {
        let kept = self.0.lock().ok()?;
        kept.get(queue)
            .filter(|(counted_at, _)| now - *counted_at < PACE_KEPT_FOR && *counted_at <= now)
            .map(|(_, pace)| pace.clone())
    }

    fn keep(&self, queue: &str, now: DateTime<Utc>, pace: &QueuePace) {
        if let Ok(mut kept) = self.0.lock() {
            kept.insert(queue.to_owned(), (now, pace.clone()));
        }
    }
}

impl Engine {
    /// The forecast for an appeal a reviewer still has to decide (filed or triaged); none
    /// for one waiting for the appellant, decided or closed, or in a queue that decided too
    /// little lately to say.
    pub async fn decision_estimate(
        &self,
        stored: &StoredAppeal,
    ) -> Result<Option<DecisionEstimate>, EngineError> {
        let appeal = &stored.appeal;
        if !matches!(appeal.state, AppealState::Filed | AppealState::Triaged) {
            return Ok(None);
        }
        let now = self.clock().now();
        let pace = self.queue_pace(&appeal.queue, now).await?;
        let due = self.settings().sla_schedule(appeal).decision_due_at;
        let ahead = cases_ahead(self.db(), stored, due).await?;
        Ok(pace.forecast(ahead, now))
    }

    async fn queue_pace(&self, queue: &str, now: DateTime<Utc>) -> Result<QueuePace, EngineError> {
        let cache = self.hooks().shared::<PaceCache>();
        if let Some(pace) = cache.as_ref().and_then(|cache| cache.fresh(queue, now)) {
            return Ok(pace);
        }
        let pace = count_pace(self.db(), queue, now).await?;
        // A queue that decided too little to forecast from is cheap to count again, and
        // its first decisions should show at once.
        if let Some(cache) = cache.filter(|_| pace.decisions() >= MIN_DECISIONS_TO_FORECAST) {
            cache.keep(queue, now, &pace);
        }
        Ok(pace)
    }
}

/// Registers the cache of queue paces the estimate reads.
pub(crate) fn share_cache(hooks: &mut crate::hooks::Hooks) {
    hooks.share(Arc::new(PaceCache::default()));
}

/// Decisions recorded in `queue` on each of the window's days, ending at `now`, in one
/// statement; the partial index `appeal_events_decided` keeps each count to that day's
/// decisions.
async fn count_pace<C: ConnectionTrait>(
    conn: &C,
    queue: &str,
    now: DateTime<Utc>,
) -> Result<QueuePace, EngineError> {
    let backend = conn.get_database_backend();
    let one_day = "(SELECT COUNT(*) FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id \
         WHERE e.kind = 'decided' AND e.occurred_at >= ? AND e.occurred_at < ? AND a.queue = ?)";
    let sql = format!("SELECT {}", [one_day; THROUGHPUT_WINDOW_DAYS].join(", "));
    let mut values: Vec<Value> = Vec::with_capacity(THROUGHPUT_WINDOW_DAYS * 3);
    for days_back in (1..=THROUGHPUT_WINDOW_DAYS).rev() {
        let end = now - TimeDelta::days(days_back as i64 - 1);
        values.push((end - TimeDelta::days(1)).into());
        values.push(end.into());
        values.push(queue.into());
    }
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            numbered(backend, &sql),
            values,
        ))
        .await?
        .ok_or_else(|| EngineError::corrupt("queue pace", queue, "no row"))?;
    let daily = (0..THROUGHPUT_WINDOW_DAYS)
        .map(|day| {
            let count: i64 = row.try_get_by_index(day)?;
            Ok(u64::try_from(count).unwrap_or(0))
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    Ok(QueuePace::from_daily(daily))
}

/// Cases a reviewer will take before this one. For a triaged case: those held by a
/// reviewer and those before it in the claim order (`queue::QUEUE_ORDER`); none when it is
/// held itself. For a filed case, not yet in the claim order: every triaged case of its
/// queue and the filed ones that came before it.
async fn cases_ahead<C: ConnectionTrait>(
    conn: &C,
    stored: &StoredAppeal,
    due: Option<DateTime<Utc>>,
) -> Result<u64, EngineError> {
    let appeal = &stored.appeal;
    let backend = conn.get_database_backend();
    let (sql, values): (&str, Vec<Value>) = match appeal.state {
        AppealState::Triaged if appeal.assignee.is_some() => return Ok(0),
        AppealState::Triaged => (
            // A case without a decision deadline sorts after those with one on PostgreSQL
            // and before them on SQLite; `COALESCE` to a far date makes both put it last,
            // as the claim order on PostgreSQL does.
            "SELECT COUNT(*) FROM appeals WHERE state = 'triaged' AND queue = ? AND id <> ? \
               AND (assignee IS NOT NULL OR escalation_level > ? \
                 OR (escalation_level = ? AND (priority_rank > ? \
                   OR (priority_rank = ? AND (COALESCE(decision_due_at, ?) < ? \
                     OR (COALESCE(decision_due_at, ?) = ? AND filed_at < ?))))))",
            {
                let level = i32::try_from(appeal.escalation_level).unwrap_or(i32::MAX);
                let rank = appeal.priority.rank();
                vec![
                    appeal.queue.clone().into(),
                    stored.id.into(),
                    level.into(),
                    level.into(),
                    rank.into(),
                    rank.into(),
                    no_deadline().into(),
                    due.unwrap_or_else(no_deadline).into(),
                    no_deadline().into(),
                    due.unwrap_or_else(no_deadline).into(),
                    appeal.filed_at.into(),
                ]
            },
        ),
        _ => (
            "SELECT (SELECT COUNT(*) FROM appeals WHERE state = 'triaged' AND queue = ?) \
                  + (SELECT COUNT(*) FROM appeals WHERE state = 'filed' AND queue = ? \
                       AND filed_at < ?)",
            vec![
                appeal.queue.clone().into(),
                appeal.queue.clone().into(),
                appeal.filed_at.into(),
            ],
        ),
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            numbered(backend, sql),
            values,
        ))
        .await?
        .ok_or_else(|| EngineError::corrupt("cases ahead", stored.id, "no row"))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn too_few_decisions_give_no_forecast() {
        let pace = QueuePace::from_daily(vec![1, 0, 2, 0, 1, 3, 2]);
        assert_eq!(pace.forecast(5, now()), None);
    }

    #[test]
    fn a_queue_new_this_week_is_paced_from_its_first_day_with_decisions() {
        let new = QueuePace::from_daily(vec![0, 0, 0, 0, 0, 50, 50]);
        let estimate = new.forecast(99, now()).expect("a forecast");
        assert!((estimate.decisions_per_day - 50.0).abs() < f64::EPSILON);
        // Idle days after the first decision still count.
        let paused = QueuePace::from_daily(vec![0, 0, 0, 50, 0, 0, 50]);
        let estimate = paused.forecast(99, now()).expect("a forecast");
        assert!((estimate.decisions_per_day - 25.0).abs() < f64::EPSILON);
        // One day of decisions says nothing of how the pace varies.
        assert_eq!(
            QueuePace::from_daily(vec![0, 0, 0, 0, 0, 0, 60]).forecast(9, now()),
            None
        );
    }

    #[test]
    fn a_steady_queue_forecasts_its_backlog_at_its_pace() {
        let pace = QueuePace::from_daily(vec![100; 7]);
        let estimate = pace.forecast(299, now()).expect("a forecast");
        let expected = now() + TimeDelta::days(3);
        assert!(estimate.earliest < expected && expected < estimate.latest);
        // No daily variation: only the count's own noise, 1.28/sqrt(300) = 7 %, held to 10 %.
        assert_eq!(estimate.latest - expected, expected - estimate.earliest);
        assert_eq!(estimate.latest - expected, TimeDelta::seconds(25_920));
    }

    #[test]
    fn an_uneven_pace_widens_the_range_and_a_longer_wait_narrows_it_again() {
        let steady = QueuePace::from_daily(vec![50; 7]);
        let uneven = QueuePace::from_daily(vec![10, 90, 20, 80, 50, 60, 40]);
        let width = |pace: &QueuePace, ahead| {
            let estimate = pace.forecast(ahead, now()).expect("a forecast");
            (estimate.latest - estimate.earliest).num_seconds() as f64
        };
        assert!(width(&uneven, 49) > 2.0 * width(&steady, 49));
        // Relative to the wait, a month of cases averages the daily swings out.
        let relative = |ahead: u64| width(&uneven, ahead) / (ahead as f64 + 1.0);
        assert!(relative(1_499) < relative(49) / 2.0);
    }
}
