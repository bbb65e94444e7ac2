//! The review queue: handing out the next case, and what a queue holds.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Actor, AppealState, Command};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect,
    Statement,
};

use crate::commands::{apply_to_loaded, Applied};
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::hooks::InTransaction;
use crate::repo::appeals::{self, StoredAppeal};
use crate::transact::Retry;

/// The order cases are handed out in: most escalated, most urgent, nearest decision
/// deadline, oldest. The partial indexes of the claimable queue keep the same order.
const QUEUE_ORDER: &str = "escalation_level DESC, priority_rank DESC, decision_due_at, filed_at";

/// The case a reviewer should take next in `queue`: triaged and either unassigned or held
/// under a lease that has run out, first in [`QUEUE_ORDER`]. One statement reads the best
/// of each kind, each along its own partial index (migration `claimable_queue`), whose
/// predicates it repeats literally so the planner can use them; held cases are never
/// walked past. On PostgreSQL the rows are locked with `SKIP LOCKED`, so concurrent
/// reviewers each get a different case without waiting on each other; the runner-up, if
/// any, stays locked only until the claim commits. The whole row comes back, so claiming it
/// needs no second read.
pub async fn next_claimable<C: ConnectionTrait>(
    conn: &C,
    queue: &str,
    now: DateTime<Utc>,
) -> Result<Option<StoredAppeal>, EngineError> {
    let backend = conn.get_database_backend();
    let (lock, queue_param, lapsed_queue_param, now_param) = match backend {
        DbBackend::Postgres => (" FOR UPDATE SKIP LOCKED", "$1", "$2", "$3"),
        _ => ("", "?", "?", "?"),
    };
    let sql = format!(
        "WITH unassigned AS (SELECT * FROM appeals \
           WHERE state = 'triaged' AND assignee IS NULL AND queue = {queue_param} \
           ORDER BY {QUEUE_ORDER} LIMIT 1{lock}), \
         lapsed AS (SELECT * FROM appeals \
           WHERE state = 'triaged' AND assignee IS NOT NULL AND queue = {lapsed_queue_param} \
           AND lease_until <= {now_param} \
           ORDER BY {QUEUE_ORDER} LIMIT 1{lock}) \
         SELECT * FROM unassigned UNION ALL SELECT * FROM lapsed"
    );
    let candidates = Appeals::find()
        .from_raw_sql(Statement::from_sql_and_values(
            backend,
            sql,
            [queue.into(), queue.into(), now.into()],
        ))
        .all(conn)
        .await?;
    candidates
        .into_iter()
        .min_by_key(queue_position)
        .map(appeals::from_model)
        .transpose()
}

/// A row's place in [`QUEUE_ORDER`]: escalation and priority descending, then deadline
/// (none last) and filing time ascending.
type QueuePosition = (
    Reverse<i32>,
    Reverse<i16>,
    bool,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
);

/// Where `row` stands in [`QUEUE_ORDER`], to pick between the two candidates.
fn queue_position(row: &appeal::Model) -> QueuePosition {
    (
        Reverse(row.escalation_level),
        Reverse(row.priority_rank),
        row.decision_due_at.is_none(),
        row.decision_due_at,
        row.filed_at,
    )
}

/// Claims the next case of `queue` for `actor` in `cx`'s transaction; `None` when the queue
/// has nothing to hand out. The caller commits.
pub async fn claim_next(
    cx: &InTransaction<'_>,
    queue: &str,
    actor: &Actor,
) -> Result<Option<Applied>, EngineError> {
    let Some(next) = next_claimable(cx.txn, queue, cx.now).await? else {
        return Ok(None);
    };
    let lease = TimeDelta::from_std(cx.settings.claim_lease)
        .map_err(|e| EngineError::InvalidInput(format!("claim lease: {e}")))?;
    let command = Command::Claim {
        lease_until: crate::clock::to_storage_precision(cx.now + lease),
    };
    apply_to_loaded(cx, next, None, &command, actor)
        .await
        .map(Some)
}

/// Counts of one queue's open appeals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queue: String,
    pub by_state: BTreeMap<String, i64>,
    pub by_priority: BTreeMap<String, i64>,
    pub oldest_filed_at: Option<DateTime<Utc>>,
    /// Open appeals with a deadline at or before now.
    pub sla_breached: i64,
    /// Triaged appeals nobody holds a live claim on.
    pub claimable: i64,
}

impl QueueStats {
    pub fn open(&self) -> i64 {
        self.by_state.values().sum()
    }
}

/// Queue, state, priority, count, oldest filing.
type QueueGroup = (String, String, String, i64, Option<DateTime<Utc>>);

/// Every queue with open appeals, by name.
pub async fn summary<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<Vec<QueueStats>, EngineError> {
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    let groups: Vec<QueueGroup> = Appeals::find()
        .select_only()
        .column(appeal::Column::Queue)
        .column(appeal::Column::State)
        .column(appeal::Column::Priority)
        .column_as(appeal::Column::Id.count(), "n")
        .column_as(appeal::Column::FiledAt.min(), "oldest")
        .filter(appeal::Column::State.is_in(open.clone()))
        .group_by(appeal::Column::Queue)
        .group_by(appeal::Column::State)
        .group_by(appeal::Column::Priority)
        .into_tuple()
        .all(conn)
        .await?;
    let breached: Vec<(String, i64)> = Appeals::find()
        .select_only()
        .column(appeal::Column::Queue)
        .column_as(appeal::Column::Id.count(), "n")
        .filter(appeal::Column::State.is_in(open))
        .filter(
            Condition::any()
                .add(appeal::Column::TriageDueAt.lte(now))
                .add(appeal::Column::DecisionDueAt.lte(now)),
        )
        .group_by(appeal::Column::Queue)
        .into_tuple()
        .all(conn)
        .await?;
    let claimable: Vec<(String, i64)> = Appeals::find()
        .select_only()
        .column(appeal::Column::Queue)
        .column_as(appeal::Column::Id.count(), "n")
        .filter(appeal::Column::State.eq(AppealState::Triaged.as_str()))
        .filter(
            Condition::any()
                .add(appeal::Column::Assignee.is_null())
                .add(appeal::Column::LeaseUntil.lte(now)),
        )
        .group_by(appeal::Column::Queue)
        .into_tuple()
        .all(conn)
        .await?;

    let mut queues: BTreeMap<String, QueueStats> = BTreeMap::new();
    for (queue, state, priority, count, oldest) in groups {
        let stats = queues.entry(queue.clone()).or_insert_with(|| QueueStats {
            queue,
            ..QueueStats::default()
        });
        *stats.by_state.entry(state).or_default() += count;
        *stats.by_priority.entry(priority).or_default() += count;
        stats.oldest_filed_at = match (stats.oldest_filed_at, oldest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    for (queue, count) in breached {
        if let Some(stats) = queues.get_mut(&queue) {
            stats.sla_breached = count;
        }
    }
    for (queue, count) in claimable {
        if let Some(stats) = queues.get_mut(&queue) {
            stats.claimable = count;
        }
    }
    Ok(queues.into_values().collect())
}

impl Engine {
    /// Claims the next case of `queue` with a lease; `None` when there is none.
    pub async fn claim_next(
        &self,
        queue: &str,
        actor: &Actor,
    ) -> Result<Option<Applied>, EngineError> {
        // A concurrent writer can still win the row between our read and our update on
        // SQLite's snapshot or a PostgreSQL re-check; the next attempt takes the next case.
        self.transact(Retry::LostRacesAndConflicts, async |txn| {
            claim_next(&self.in_transaction(txn, self.clock().now()), queue, actor).await
        })
        .await
    }

    pub async fn queue_summary(&self) -> Result<Vec<QueueStats>, EngineError> {
        summary(self.db(), self.clock().now()).await
    }
}
