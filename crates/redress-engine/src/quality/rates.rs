//! How often second reviewers agree with the first, per reviewer, policy and template, and
//! how often a decision reopened later was decided differently.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Event, EventKind, Outcome};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;

use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::second_review::{self, Entity as SecondReviews};
use crate::error::EngineError;
use crate::repo::events::histories_of;

/// What a decision made without a template is grouped under.
pub const NO_TEMPLATE: &str = "none";
/// What a decision on an appeal against no known enforcement is grouped under, as the
/// transparency report calls such appeals.
pub const UNLINKED: &str = "unlinked";

/// Second reviews of one reviewer, policy or template, and how many agreed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub key: String,
    pub reviewed: u64,
    pub agreed: u64,
    /// `agreed / reviewed`.
    pub rate: f64,
}

/// The quality figures of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityRates {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Second reviews recorded in the period.
    pub second_reviews: u64,
    pub agreed: u64,
    pub agreement_rate: Option<f64>,
    /// By the reviewer whose decision was reviewed again.
    pub by_reviewer: Vec<Agreement>,
    /// By the enforcement's policy (`unlinked` without a known enforcement).
    pub by_policy: Vec<Agreement>,
    /// By the decision template (`none` without one).
    pub by_template: Vec<Agreement>,
    /// Decisions of the period that were later reopened and decided again.
    pub reopened_and_decided_again: u64,
    /// Of those, the ones decided differently the second time.
    pub overturned: u64,
    pub overturn_rate: Option<f64>,
}

/// The longest period the figures are built for in one go.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// The figures of `[from, to)`: second reviews recorded in it, and decisions taken in it.
pub async fn build<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<QualityRates, EngineError> {
    if to <= from {
        return Err(EngineError::InvalidInput(format!(
            "the period must end after it starts ({from} .. {to})"
        )));
    }
    // Every decision of the period and its appeal's history are read at once.
    if to - from > TimeDelta::days(MAX_PERIOD_DAYS) {
        return Err(EngineError::InvalidInput(format!(
            "the period from `from` ({from}) to `to` ({to}) spans more than {MAX_PERIOD_DAYS} days; \
             ask for shorter periods"
        )));
    }
    let reviews = SecondReviews::find()
        .filter(second_review::Column::ReviewedAt.gte(from))
        .filter(second_review::Column::ReviewedAt.lt(to))
        .all(conn)
        .await?;
    let mut by_reviewer = Tally::default();
    let mut by_policy = Tally::default();
    let mut by_template = Tally::default();
    let mut agreed = 0;
    for review in &reviews {
        let agrees = review.agreed == Some(true);
        agreed += u64::from(agrees);
        by_reviewer.count(&review.first_reviewer, agrees);
        by_policy.count(review.policy.as_deref().unwrap_or(UNLINKED), agrees);
        by_template.count(review.template.as_deref().unwrap_or(NO_TEMPLATE), agrees);
    }
    let second_reviews = reviews.len() as u64;

    let decided = AppealEvents::find()
        .filter(appeal_event::Column::Kind.eq("decided"))
        .filter(appeal_event::Column::OccurredAt.gte(from))
        .filter(appeal_event::Column::OccurredAt.lt(to))
        .all(conn)
        .await?;
    let histories = histories_of(conn, decided.iter().map(|e| e.appeal_id)).await?;
    let (mut redecided, mut overturned) = (0, 0);
    for row in &decided {
        let history = histories.get(&row.appeal_id).map_or(&[][..], Vec::as_slice);
        if let Some(changed) = decided_again_after_reopening(history, row.version) {
            redecided += 1;
            overturned += u64::from(changed);
        }
    }

    Ok(QualityRates {
        from,
        to,
        second_reviews,
        agreed,
        agreement_rate: ratio(agreed, second_reviews),
        by_reviewer: by_reviewer.rows(),
        by_policy: by_policy.rows(),
        by_template: by_template.rows(),
        reopened_and_decided_again: redecided,
        overturned,
        overturn_rate: ratio(overturned, redecided),
    })
}

/// For the decision at `version`: `None` unless the case was reopened after it (with no
/// other decision between) and decided again; then whether the next decision's outcome
/// differs.
pub fn decided_again_after_reopening(history: &[(i64, Event)], version: i64) -> Option<bool> {
    let first = outcome_at(history, version)?;
    let mut later = history.iter().filter(|(v, _)| *v > version);
    let reopened_first = later.find_map(|(_, event)| match &event.kind {
        EventKind::Reopened { .. } => Some(true),
        EventKind::Decided { .. } => Some(false),
        _ => None,
    })?;
    if !reopened_first {
        return None;
    }
    later.find_map(|(_, event)| match &event.kind {
        EventKind::Decided { outcome, .. } => Some(*outcome != first),
        _ => None,
    })
}

fn outcome_at(history: &[(i64, Event)], version: i64) -> Option<Outcome> {
    history
        .iter()
        .find(|(v, _)| *v == version)
        .and_then(|(_, event)| match &event.kind {
            EventKind::Decided { outcome, .. } => Some(*outcome),
            _ => None,
        })
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[derive(Default)]
struct Tally(BTreeMap<String, (u64, u64)>);

impl Tally {
    fn count(&mut self, key: &str, agreed: bool) {
        let (reviewed, agreeing) = self.0.entry(key.to_owned()).or_default();
        *reviewed += 1;
        *agreeing += u64::from(agreed);
    }

    fn rows(self) -> Vec<Agreement> {
        self.0
            .into_iter()
            .map(|(key, (reviewed, agreed))| Agreement {
                key,
                reviewed,
                agreed,
                rate: agreed as f64 / reviewed as f64,
            })
            .collect()
    }
}
