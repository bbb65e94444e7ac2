//! Returns cases whose reviewer's claim expired without a renewal to the queue.

use redress_core::{Actor, AppealState, Command};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::worker::batch::{apply_to_due, Due, RoundReport};

pub const ACTOR: &str = "lease-reaper";

#[tracing::instrument(skip(engine))]
pub async fn reap(engine: &Engine, limit: u64) -> Result<RoundReport, EngineError> {
    let now = engine.clock().now();
    let due = Appeals::find()
        .filter(appeal::Column::State.eq(AppealState::Triaged.as_str()))
        .filter(appeal::Column::Assignee.is_not_null())
        .filter(appeal::Column::LeaseUntil.lte(now));
    apply_to_due(
        engine,
        Due {
            select: due,
            order: appeal::Column::LeaseUntil,
            limit,
            now,
        },
        &Actor::system(ACTOR),
        |stored, now| {
            if stored.appeal.live_claim(now).is_none() && stored.appeal.assignee.is_some() {
                vec![Command::ExpireLease]
            } else {
                Vec::new()
            }
        },
        |_, _| None,
    )
    .await
}
