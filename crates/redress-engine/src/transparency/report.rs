//! The transparency report of a period: what came in, what was decided and how fast, what
//! was reversed, and how the service levels held.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use redress_core::{Appeal, Event, EventKind};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::{appeal, enforcement, out_of_court_dispute};
use crate::error::EngineError;
use crate::repo::events;
use crate::settings::EngineSettings;

/// Rows fetched per `IN (...)` list, well under PostgreSQL's bind-parameter limit.
const CHUNK: usize = 1_000;

/// Basis of an appeal whose enforcement is unknown (the appellant named none we know).
pub const UNLINKED: &str = "unlinked";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransparencyReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub appeals_received: u64,
    /// By the ground of the enforcement appealed: `illegal_content`,
    /// `incompatible_with_terms`, or `unlinked`.
    pub received_by_basis: BTreeMap<String, u64>,
    pub received_by_channel: BTreeMap<String, u64>,
    pub decisions: u64,
    pub decisions_by_outcome: BTreeMap<String, u64>,
    /// Hours from filing to decision, nearest-rank percentiles.
    pub median_hours_to_decision: Option<f64>,
    pub p90_hours_to_decision: Option<f64>,
    /// Enforcements undone: restorations confirmed, one by one or in bulk.
    pub reversed: u64,
    /// Decisions taken within their queue's time-to-decision budget (time awaiting the
    /// appellant not counted).
    pub decisions_within_sla: u64,
    pub sla_compliance: Option<f64>,
    pub escalations: u64,
    pub bulk_restorations: u64,
    pub out_of_court_disputes: u64,
}

/// Builds the report of `[from, to)`.
#[tracing::instrument(skip(conn, settings))]
pub async fn build<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TransparencyReport, EngineError> {
    if to <= from {
        return Err(EngineError::InvalidInput(format!(
            "the report period must end after it starts ({from} .. {to})"
        )));
    }
    let received = appeal::Entity::find()
        .filter(appeal::Column::FiledAt.gte(from))
        .filter(appeal::Column::FiledAt.lt(to))
        .all(conn)
        .await?;
    let bases = bases(conn, received.iter().filter_map(|a| a.enforcement_id)).await?;
    let mut received_by_basis = BTreeMap::new();
    let mut received_by_channel = BTreeMap::new();
    for row in &received {
        let basis = row
            .enforcement_id
            .and_then(|id| bases.get(&id).cloned())
            .unwrap_or_else(|| UNLINKED.to_owned());
        *received_by_basis.entry(basis).or_insert(0) += 1;
        *received_by_channel.entry(row.channel.clone()).or_insert(0) += 1;
    }

    let in_period = AppealEvents::find()
        .filter(appeal_event::Column::OccurredAt.gte(from))
        .filter(appeal_event::Column::OccurredAt.lt(to))
        .filter(appeal_event::Column::Kind.is_in([
            "decided",
            "restored",
            "bulk_restored",
            "escalated",
        ]))
        .all(conn)
        .await?;
    let count = |kind: &str| in_period.iter().filter(|e| e.kind == kind).count() as u64;
    let decided: Vec<&appeal_event::Model> =
        in_period.iter().filter(|e| e.kind == "decided").collect();

    let histories = events::histories_of(conn, decided.iter().map(|e| e.appeal_id)).await?;
    let mut decisions_by_outcome = BTreeMap::new();
    let mut hours = Vec::with_capacity(decided.len());
    let mut within_sla = 0;
    for row in &decided {
        let history = histories.get(&row.appeal_id).map_or(&[][..], Vec::as_slice);
        let before: Vec<&Event> = history
            .iter()
            .filter(|(version, _)| *version < row.version)
            .map(|(_, event)| event)
            .collect();
        let (Some(appeal), Some((_, event))) = (
            Appeal::replay(before),
            history.iter().find(|(version, _)| *version == row.version),
        ) else {
            return Err(EngineError::corrupt(
                "appeal history",
                row.appeal_id,
                "a decision without its filing",
            ));
        };
        let EventKind::Decided { outcome, .. } = &event.kind else {
            continue;
        };
        *decisions_by_outcome
            .entry(outcome.as_str().to_owned())
            .or_insert(0) += 1;
        hours.push((event.at - appeal.filed_at).num_milliseconds() as f64 / 3_600_000.0);
        let budget = settings
            .sla_policy(&appeal.queue, appeal.priority)
            .time_to_decision;
        if appeal.sla_clock.elapsed(event.at) <= budget {
            within_sla += 1;
        }
    }
    hours.sort_by(f64::total_cmp);
    let decisions = decided.len() as u64;

    let out_of_court_disputes = out_of_court_dispute::Entity::find()
        .filter(out_of_court_dispute::Column::SubmittedAt.gte(from))
        .filter(out_of_court_dispute::Column::SubmittedAt.lt(to))
        .count(conn)
        .await?;

    Ok(TransparencyReport {
        from,
        to,
        appeals_received: received.len() as u64,
        received_by_basis,
        received_by_channel,
        decisions,
        decisions_by_outcome,
        median_hours_to_decision: nearest_rank(&hours, 0.5),
        p90_hours_to_decision: nearest_rank(&hours, 0.9),
        reversed: count("restored") + count("bulk_restored"),
        decisions_within_sla: within_sla,
        sla_compliance: (decisions > 0).then(|| within_sla as f64 / decisions as f64),
        escalations: count("escalated"),
        bulk_restorations: count("bulk_restored"),
        out_of_court_disputes,
    })
}

/// The nearest-rank percentile of sorted values: the smallest value with at least
/// `fraction` of the values at or below it.
pub fn nearest_rank(sorted: &[f64], fraction: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// The ground of each enforcement's statement of reasons.
async fn bases<C: ConnectionTrait>(
    conn: &C,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, EngineError> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut bases = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        for row in enforcement::Entity::find()
            .filter(enforcement::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            let ground = row.statement["ground"]["ground"]
                .as_str()
                .unwrap_or(UNLINKED)
                .to_owned();
            bases.insert(row.id, ground);
        }
    }
    Ok(bases)
}

#[cfg(test)]
mod tests {
    use super::nearest_rank;

    #[test]
    fn nearest_rank_percentiles() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(nearest_rank(&values, 0.5), Some(5.0));
        assert_eq!(nearest_rank(&values, 0.9), Some(9.0));
        assert_eq!(nearest_rank(&[4.0], 0.9), Some(4.0));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }
}
