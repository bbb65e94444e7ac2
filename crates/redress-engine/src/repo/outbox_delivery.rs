//! The dispatcher's side of the outbox: claiming due rows, recording outcomes, dead letters.
//!
//! A claim is a lease, not a long transaction: the row's `available_at` and `locked_until`
//! move to the end of the lease and the claiming transaction commits before anything is
//! delivered, so no lock is held across a network call. A dispatcher that dies mid-delivery
//! leaves rows that become due again when the lease runs out. Outcomes are written only
//! while the lease is still the one taken (`locked_until` matches), so a slow dispatcher
//! whose lease was taken over cannot overwrite the newer claim's result.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::delivery::OutboxMessage;
use crate::entity::outbox::{self, Entity as Outbox};
use crate::error::EngineError;
use crate::repo::outbox::{notify_dispatchers, DEAD, DELIVERED, PENDING};

/// An outbox row this dispatcher holds until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub message: OutboxMessage,
    pub lease_until: DateTime<Utc>,
}

/// Claims up to `limit` due rows, oldest first. On PostgreSQL the rows are locked with
/// `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint sets; SQLite serialises
/// writers. Run it in a transaction and commit before delivering.
pub async fn claim_due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>, EngineError> {
    let rows = Outbox::find()
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::AvailableAt.lte(now))
        .order_by_asc(outbox::Column::AvailableAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(conn)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    Outbox::update_many()
        .col_expr(outbox::Column::AvailableAt, Expr::value(lease_until))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Some(lease_until)))
        .filter(outbox::Column::Id.is_in(rows.iter().map(|row| row.id)))
        .exec(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Claimed {
            message: OutboxMessage {
                id: row.id,
                topic: row.topic,
                appeal_id: row.appeal_id,
                idempotency_key: row.idempotency_key,
                payload: row.payload,
                attempts: row.attempts,
            },
            lease_until,
        })
        .collect())
}

/// Records a delivery. Returns false when the lease was lost (the row was reclaimed after
/// the lease ran out), in which case the newer claim records its own outcome.
pub async fn mark_delivered<C: ConnectionTrait>(
    conn: &C,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let result = Outbox::update_many()
        .col_expr(outbox::Column::Status, Expr::value(DELIVERED))
        .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(now)))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(held(claimed))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a failed attempt: back to pending until `retry_at`, or dead when `retry_at` is
/// `None`. Returns false when the lease was lost.
pub async fn mark_failed<C: ConnectionTrait>(
    conn: &C,
    claimed: &Claimed,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let (status, available_at) = match retry_at {
        Some(at) => (PENDING, at),
        None => (DEAD, now),
    };
    let result = Outbox::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status))
        .col_expr(outbox::Column::AvailableAt, Expr::value(available_at))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Some(error.to_owned())),
        )
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(held(claimed))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives a claimed row back untouched (shutdown before it was attempted): due at once.
pub async fn release<C: ConnectionTrait>(
    conn: &C,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let result = Outbox::update_many()
        .col_expr(outbox::Column::AvailableAt, Expr::value(now))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(held(claimed))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

fn held(claimed: &Claimed) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(outbox::Column::Id.eq(claimed.message.id))
        .add(outbox::Column::Status.eq(PENDING))
        .add(outbox::Column::LockedUntil.eq(claimed.lease_until))
}

/// Dead letters, newest first, after the cursor `before` (an id from a previous page).
pub async fn dead_letters<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
    before: Option<Uuid>,
) -> Result<Vec<outbox::Model>, EngineError> {
    let mut query = Outbox::find().filter(outbox::Column::Status.eq(DEAD));
    if let Some(before) = before {
        query = query.filter(outbox::Column::Id.lt(before));
    }
    Ok(query
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Puts a dead letter back in the queue with a fresh attempt budget. Returns false when
/// `id` is not a dead letter (unknown, pending or delivered), so retrying twice is harmless.
pub async fn retry_dead<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let result = Outbox::update_many()
        .set(outbox::ActiveModel {
            status: Set(PENDING.to_owned()),
            attempts: Set(0),
            available_at: Set(now),
            locked_until: Set(None),
            ..Default::default()
        })
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(DEAD))
        .exec(conn)
        .await?;
    if result.rows_affected == 1 {
        notify_dispatchers(conn).await?;
    }
    Ok(result.rows_affected == 1)
}

/// Row counts per status, and how many pending rows have failed at least once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub failing: i64,
    pub delivered: i64,
    pub dead: i64,
}

pub async fn counts<C: ConnectionTrait>(conn: &C) -> Result<OutboxCounts, EngineError> {
    let by_status: Vec<(String, i64)> = Outbox::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    let failing: i64 = Outbox::find()
        .select_only()
        .column_as(outbox::Column::Id.count(), "n")
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::Attempts.gt(0))
        .into_tuple()
        .one(conn)
        .await?
        .unwrap_or(0);
    let mut counts = OutboxCounts {
        failing,
        ..OutboxCounts::default()
    };
    for (status, n) in by_status {
        match status.as_str() {
            PENDING => counts.pending = n,
            DELIVERED => counts.delivered = n,
            DEAD => counts.dead = n,
            _ => {}
        }
    }
    Ok(counts)
}
