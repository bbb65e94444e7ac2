//! Copies outside the database (the mail files of the file transport) of the appeals the
//! retention purge took the message text or contacts of. The purge queues those appeals in
//! its own transaction (`outside_copy_removals`) and removes their copies after its commit,
//! through the engine's [`OutsideCopies`](super::OutsideCopies), as an erasure does. A
//! removal that fails stays queued with its error and is tried again after a growing wait,
//! so a crash or a full disk between the commit and the files loses nothing; every outcome
//! is audited.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::Actor;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::retention::ACTOR;
use super::scrub::CHUNK;
use super::{actions, remove_outside, AppealCopies};
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::outside_copy_removal::{self, Entity as Removals};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::{Begin, Retry};

/// How long a claimed removal is left to the replica that claimed it before another may
/// try: a replica that stopped half-way delays it by this much.
const CLAIM: TimeDelta = TimeDelta::minutes(10);
/// The wait after a first failure; it doubles with each failure up to [`LONGEST_WAIT`].
const FIRST_WAIT: TimeDelta = TimeDelta::minutes(1);
const LONGEST_WAIT: TimeDelta = TimeDelta::days(1);

/// What one pass over the queued removals did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutsideRemoval {
    /// Appeals whose copies were looked for.
    pub appeals: usize,
    /// Copies removed.
    pub removed: u64,
    /// Why they could not all be removed; the appeals stay queued and are tried again.
    pub failed: Option<String>,
}

/// Queues `appeals` for the removal of their outside copies, in the purge's transaction.
/// An appeal still queued from an earlier failure is due again now.
pub(crate) async fn queue<C: ConnectionTrait>(
    conn: &C,
    appeals: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), EngineError> {
    for chunk in appeals.chunks(CHUNK) {
        Removals::insert_many(chunk.iter().map(|id| outside_copy_removal::ActiveModel {
            appeal_id: Set(*id),
            queued_at: Set(now),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
        }))
        .on_conflict(
            OnConflict::column(outside_copy_removal::Column::AppealId)
                .update_column(outside_copy_removal::Column::NextAttemptAt)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// The wait after the `failures`th failure in a row.
fn wait_after(failures: i32) -> TimeDelta {
    let doublings = failures.clamp(1, 20) - 1;
    FIRST_WAIT
        .checked_mul(1 << doublings)
        .map_or(LONGEST_WAIT, |wait| wait.min(LONGEST_WAIT))
}

impl Engine {
    /// Whether purges queue outside copies for removal: only when there are any to reach.
    pub(crate) fn removes_outside_copies(&self) -> bool {
        self.outside_copies().get().is_some()
    }

    /// Removes the outside copies of up to `limit` queued appeals that are due, claimed so
    /// that replicas take different ones. A failure is recorded on the rows, logged and
    /// audited, not returned: the purge it follows is committed.
    pub async fn remove_queued_outside_copies(
        &self,
        limit: u64,
    ) -> Result<OutsideRemoval, EngineError> {
        let Some(copies) = self.outside_copies().get() else {
            return Ok(OutsideRemoval::default());
        };
        let now = self.clock().now();
        let claimed: Vec<(Uuid, String, i32)> = self
            .transact_once_with(Begin::WriteLockFirst, async |txn| {
                let due: Vec<(Uuid, i32)> = Removals::find()
                    .select_only()
                    .column(outside_copy_removal::Column::AppealId)
                    .column(outside_copy_removal::Column::Attempts)
                    .filter(outside_copy_removal::Column::NextAttemptAt.lte(now))
                    .order_by_asc(outside_copy_removal::Column::NextAttemptAt)
                    .limit(limit)
                    .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                    .into_tuple()
                    .all(txn)
                    .await?;
                if due.is_empty() {
                    return Ok::<_, EngineError>(Vec::new());
                }
                let ids = || due.iter().map(|(id, _)| *id);
                Removals::update_many()
                    .col_expr(
                        outside_copy_removal::Column::NextAttemptAt,
                        Expr::value(now + CLAIM),
                    )
                    .filter(outside_copy_removal::Column::AppealId.is_in(ids()))
                    .exec(txn)
                    .await?;
                let references: Vec<(Uuid, String)> = Appeals::find()
                    .select_only()
                    .column(appeal::Column::Id)
                    .column(appeal::Column::Reference)
                    .filter(appeal::Column::Id.is_in(ids()))
                    .into_tuple()
                    .all(txn)
                    .await?;
                Ok(due
                    .iter()
                    .filter_map(|(id, attempts)| {
                        let (_, reference) = references.iter().find(|(of, _)| of == id)?;
                        Some((*id, reference.clone(), *attempts))
                    })
                    .collect())
            })
            .await?;
        if claimed.is_empty() {
            return Ok(OutsideRemoval::default());
        }
        let ids: Vec<Uuid> = claimed.iter().map(|(id, _, _)| *id).collect();
        let appeals: Vec<AppealCopies> = claimed
            .iter()
            .map(|(appeal_id, reference, _)| AppealCopies {
                appeal_id: *appeal_id,
                reference: reference.clone(),
            })
            .collect();
        let outcome = remove_outside(copies, move |copies| copies.remove_about(&appeals)).await;
        let failures = claimed
            .iter()
            .map(|(_, _, attempts)| attempts.saturating_add(1))
            .max()
            .unwrap_or(1);
        if let Err(error) = &outcome {
            tracing::warn!(
                appeals = ids.len(),
                attempt = failures,
                error = %error,
                "the mail copies of purged appeals could not all be removed; they are tried again"
            );
        }
        let details = match &outcome {
            Ok(removed) => json!({ "appeals": ids, "removed": removed }),
            Err(error) => json!({ "appeals": ids, "failed": error, "attempt": failures }),
        };
        let done_at = self.clock().now();
        self.transact(Retry::LostRaces, async |txn| {
            let rows = outside_copy_removal::Column::AppealId.is_in(ids.iter().copied());
            match &outcome {
                Ok(_) => {
                    Removals::delete_many().filter(rows).exec(txn).await?;
                }
                Err(error) => {
                    Removals::update_many()
                        .col_expr(
                            outside_copy_removal::Column::Attempts,
                            Expr::col(outside_copy_removal::Column::Attempts).add(1),
                        )
                        .col_expr(
                            outside_copy_removal::Column::LastError,
                            Expr::value(error.clone()),
                        )
                        .col_expr(
                            outside_copy_removal::Column::NextAttemptAt,
                            Expr::value(done_at + wait_after(failures)),
                        )
                        .filter(rows)
                        .exec(txn)
                        .await?;
                }
            }
            audit::record(
                txn,
                NewAuditEntry {
                    actor: Actor::system(ACTOR),
                    action: actions::RETENTION_OUTSIDE_COPIES,
                    account_id: None,
                    appeal_id: None,
                    details: details.clone(),
                },
                done_at,
            )
            .await
        })
        .await?;
        Ok(OutsideRemoval {
            appeals: ids.len(),
            removed: *outcome.as_ref().unwrap_or(&0),
            failed: outcome.err(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_a_minute_up_to_a_day() {
        assert_eq!(wait_after(1), TimeDelta::minutes(1));
        assert_eq!(wait_after(2), TimeDelta::minutes(2));
        assert_eq!(wait_after(5), TimeDelta::minutes(16));
        assert_eq!(wait_after(12), TimeDelta::days(1));
        assert_eq!(wait_after(i32::MAX), TimeDelta::days(1));
        assert_eq!(wait_after(0), TimeDelta::minutes(1));
    }
}
