//! Closes appeals whose appellant did not answer an information request in time:
//! withdrawn with reason `no_response`, and the appellant is told (outbox).

use chrono::TimeDelta;
use redress_core::{Actor, AppealState, Command};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::worker::batch::{apply_to_due, Due, RoundReport};

pub const ACTOR: &str = "awaiting-user-closer";

/// Closes appeals that have waited for the appellant longer than `wait`. The wait starts
/// when the information was requested (the SLA pause began).
#[tracing::instrument(skip(engine))]
pub async fn close_unanswered(
    engine: &Engine,
    wait: TimeDelta,
    limit: u64,
) -> Result<RoundReport, EngineError> {
    let now = engine.clock().now();
    let cutoff = now - wait;
    let due = Appeals::find()
        .filter(appeal::Column::State.eq(AppealState::AwaitingUser.as_str()))
        .filter(appeal::Column::SlaPausedSince.lte(cutoff));
    apply_to_due(
        engine,
        Due {
            select: due,
            order: appeal::Column::SlaPausedSince,
            limit,
            now,
        },
        &Actor::system(ACTOR),
        |stored, _| {
            let waited_since = stored.appeal.sla_clock.paused_since;
            if stored.appeal.state == AppealState::AwaitingUser
                && waited_since.is_some_and(|since| since <= cutoff)
            {
                vec![Command::NoReplyTimeout]
            } else {
                Vec::new()
            }
        },
        |_, _| None,
    )
    .await
}
