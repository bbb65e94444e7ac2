//! Claiming a batch of due appeals and applying system commands to each, in one
//! transaction. On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so
//! replicas running the same worker take disjoint batches and a command fires once; SQLite
//! serialises writers. Each appeal runs in a savepoint, so one unreadable case is logged
//! and skipped without undoing the rest of the batch.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use redress_core::{Actor, Command};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ColumnTrait, DatabaseTransaction, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::commands::apply_command;
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::repo::appeals::{self as appeal_repo, StoredAppeal};
use crate::transact;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoundReport {
    /// Appeals claimed.
    pub claimed: usize,
    /// Commands applied, by name.
    pub applied: BTreeMap<&'static str, usize>,
    /// Appeals skipped because a command failed (logged).
    pub failed: usize,
}

impl RoundReport {
    pub fn count(&self, command: &str) -> usize {
        self.applied.get(command).copied().unwrap_or(0)
    }
}

/// The appeals a round may take: the rows of `select`, oldest `order` first, at most
/// `limit` of them, judged at `now`.
pub(crate) struct Due {
    pub select: Select<Appeals>,
    pub order: appeal::Column,
    pub limit: u64,
    pub now: DateTime<Utc>,
}

/// Claims the `due` rows and applies the commands `plan` chooses for each. An appeal for
/// which `plan` chooses nothing has its derived columns rewritten (its next check moves to
/// where the policy now puts it). `on_failure` may adjust a row whose commands failed, so
/// it does not block later rounds.
pub(crate) async fn apply_to_due<P, F>(
    engine: &Engine,
    due: Due,
    actor: &Actor,
    mut plan: P,
    on_failure: F,
) -> Result<RoundReport, EngineError>
where
    P: FnMut(&StoredAppeal, DateTime<Utc>) -> Vec<Command>,
    F: Fn(Uuid, DateTime<Utc>) -> Option<sea_orm::UpdateMany<Appeals>>,
{
    let Due {
        select,
        order,
        limit,
        now,
    } = due;
    engine
        .transact_once(async |txn| {
            let ids: Vec<Uuid> = select
                .clone()
                .select_only()
                .column(appeal::Column::Id)
                .order_by_asc(order)
                .limit(limit)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_tuple()
                .all(txn)
                .await?;
            let mut report = RoundReport {
                claimed: ids.len(),
                ..RoundReport::default()
            };
            for id in ids {
                let applied = transact::savepoint(txn, async |savepoint| {
                    apply_planned(savepoint, engine, id, actor, &mut plan, now).await
                })
                .await?;
                match applied {
                    Ok(names) => {
                        for name in names {
                            *report.applied.entry(name).or_default() += 1;
                        }
                    }
                    Err(err) => {
                        tracing::error!(appeal = %id, error = %err, "worker could not process appeal");
                        report.failed += 1;
                        if let Some(update) = on_failure(id, now) {
                            update.filter(appeal::Column::Id.eq(id)).exec(txn).await?;
                        }
                    }
                }
            }
            Ok(report)
        })
        .await
}

async fn apply_planned<P>(
    conn: &DatabaseTransaction,
    engine: &Engine,
    id: Uuid,
    actor: &Actor,
    plan: &mut P,
    now: DateTime<Utc>,
) -> Result<Vec<&'static str>, EngineError>
where
    P: FnMut(&StoredAppeal, DateTime<Utc>) -> Vec<Command>,
{
    let stored = appeal_repo::find(conn, id).await?;
    let commands = plan(&stored, now);
    if commands.is_empty() {
        appeal_repo::update_if_version(conn, &stored, stored.version(), engine.settings()).await?;
        return Ok(Vec::new());
    }
    let mut names = Vec::with_capacity(commands.len());
    for command in &commands {
        apply_command(&engine.in_transaction(conn, now), id, None, command, actor).await?;
        names.push(command.name());
    }
    Ok(names)
}
