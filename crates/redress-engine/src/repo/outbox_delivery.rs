//! The dispatcher's side of the outbox: claiming due rows, renewing and recording outcomes
//! under the claim, dead letters.
//!
//! A claim is a lease, not a long transaction: the claimed rows get a lease id, their
//! `available_at` and `locked_until` move to the end of a short lease, and the claiming
//! transaction commits before anything is delivered, so no lock is held across a network
//! call. While it delivers, the dispatcher renews the lease of the rows it still holds; one
//! that dies stops renewing, and its rows become due again when the lease runs out.
//! Renewals and outcomes are written only while the row is still under the same lease id,
//! so a dispatcher whose lease was taken over cannot extend it again or overwrite the newer
//! claim's result. The lease id is written by column name: it belongs to the dispatcher's
//! bookkeeping, not to the outbox entity the rest of the engine reads.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};
use uuid::Uuid;

use crate::delivery::OutboxMessage;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::outbox::{self, Entity as Outbox};
use crate::error::EngineError;
use crate::repo::outbox::{notify_dispatchers, OutboxStatus};
use crate::transact::{self, Begin};

/// An outbox row this dispatcher holds under the lease `lease_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub message: OutboxMessage,
    pub lease_id: Uuid,
}

fn lease_id_column() -> Alias {
    Alias::new("lease_id")
}

/// Claims up to `limit` due rows, oldest first, under one new lease that ends at
/// `lease_until`. On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so
/// concurrent dispatchers take disjoint sets; SQLite serialises writers. Run it in a
/// transaction and commit before delivering.
pub async fn claim_due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Claimed>, EngineError> {
    let rows = Outbox::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
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
    let lease_id = Uuid::now_v7();
    extend_to(Outbox::update_many(), lease_until)
        .col_expr(lease_id_column(), Expr::value(lease_id))
        .filter(outbox::Column::Id.is_in(rows.iter().map(|row| row.id)))
        .exec(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Claimed {
            message: OutboxMessage::from(row),
            lease_id,
        })
        .collect())
}

fn extend_to(update: UpdateMany<Outbox>, lease_until: DateTime<Utc>) -> UpdateMany<Outbox> {
    update
        .col_expr(outbox::Column::AvailableAt, Expr::value(lease_until))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Some(lease_until)))
}

/// Moves the end of the lease `lease_id` to `lease_until` for every row still held under
/// it; returns how many that were.
pub async fn renew<C: ConnectionTrait>(
    conn: &C,
    lease_id: Uuid,
    lease_until: DateTime<Utc>,
) -> Result<u64, EngineError> {
    let renewed = extend_to(Outbox::update_many(), lease_until)
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
        .filter(Expr::col(lease_id_column()).eq(lease_id))
        .exec(conn)
        .await?;
    Ok(renewed.rows_affected)
}

/// Renews the lease of one row; false when the row is no longer held under it.
pub async fn renew_one<C: ConnectionTrait>(
    conn: &C,
    claimed: &Claimed,
    lease_until: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let renewed = extend_to(Outbox::update_many(), lease_until)
        .filter(held(claimed))
        .exec(conn)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Ends the claim in the same statement that records its outcome.
fn unleased(update: UpdateMany<Outbox>) -> UpdateMany<Outbox> {
    update
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(lease_id_column(), Expr::value(Option::<Uuid>::None))
}

/// Records a delivery. Returns false when the lease was lost (the row was reclaimed after
/// the lease ran out), in which case the newer claim records its own outcome.
pub async fn mark_delivered(
    db: &DatabaseConnection,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let update = unleased(Outbox::update_many())
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Delivered))
        .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(now)))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(held(claimed));
    settle(db, claimed, update).await
}

/// Records a failed attempt: back to pending until `retry_at`, or dead when `retry_at` is
/// `None`. Returns false when the lease was lost.
pub async fn mark_failed(
    db: &DatabaseConnection,
    claimed: &Claimed,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let (status, available_at) = match retry_at {
        Some(at) => (OutboxStatus::Pending, at),
        None => (OutboxStatus::Dead, now),
    };
    let update = unleased(Outbox::update_many())
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
        .filter(held(claimed));
    if retry_at.is_some() {
        // Still pending: the row does not settle, so nothing re-arms.
        return Ok(update.exec(db).await?.rows_affected == 1);
    }
    settle(db, claimed, update).await
}

/// Runs `update`, which takes the claimed row out of `pending`. A row of an appeal leaving
/// `pending` re-arms the appeal's purge (a trigger of the schema), and on PostgreSQL the
/// trigger takes a key-share lock on the appeal. Run alone, the update would lock the row
/// first and the appeal second, while an erasure locks the appeal first and then deletes
/// its pending rows: each would wait for the other, and PostgreSQL would cancel one. So the
/// appeal is locked first here too, in the same transaction, and a delivery recorded during
/// an erasure waits for it (then finds its row gone and reports the lease lost) instead.
/// SQLite lets one writer in at a time, so there the update runs alone.
async fn settle(
    db: &DatabaseConnection,
    claimed: &Claimed,
    update: UpdateMany<Outbox>,
) -> Result<bool, EngineError> {
    let appeal_id = claimed
        .message
        .appeal_id
        .filter(|_| db.get_database_backend() == DbBackend::Postgres);
    let Some(appeal_id) = appeal_id else {
        return Ok(update.exec(db).await?.rows_affected == 1);
    };
    transact::in_transaction(db, Begin::Deferred, async |txn| {
        Appeals::find_by_id(appeal_id)
            .select_only()
            .column(appeal::Column::Id)
            .lock(LockType::KeyShare)
            .into_tuple::<Uuid>()
            .one(txn)
            .await?;
        Ok::<_, DbErr>(update.exec(txn).await?.rows_affected == 1)
    })
    .await
    .map_err(EngineError::from)
}

/// Gives a claimed row back untouched (shutdown before it was attempted): due at once.
pub async fn release<C: ConnectionTrait>(
    conn: &C,
    claimed: &Claimed,
    now: DateTime<Utc>,
) -> Result<bool, EngineError> {
    let result = unleased(Outbox::update_many())
        .col_expr(outbox::Column::AvailableAt, Expr::value(now))
        .filter(held(claimed))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

fn held(claimed: &Claimed) -> Condition {
    Condition::all()
        .add(outbox::Column::Id.eq(claimed.message.id))
        .add(outbox::Column::Status.eq(OutboxStatus::Pending))
        .add(Expr::col(lease_id_column()).eq(claimed.lease_id))
}

/// Dead letters, newest first, after the cursor `before` (an id from a previous page).
pub async fn dead_letters<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
    before: Option<Uuid>,
) -> Result<Vec<outbox::Model>, EngineError> {
    let mut query = Outbox::find().filter(outbox::Column::Status.eq(OutboxStatus::Dead));
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
            status: Set(OutboxStatus::Pending),
            attempts: Set(0),
            available_at: Set(now),
            locked_until: Set(None),
            ..Default::default()
        })
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Dead))
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
    let by_status: Vec<(OutboxStatus, i64)> = Outbox::find()
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
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
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
        match status {
            OutboxStatus::Pending => counts.pending = n,
            OutboxStatus::Delivered => counts.delivered = n,
            OutboxStatus::Dead => counts.dead = n,
        }
    }
    Ok(counts)
}
