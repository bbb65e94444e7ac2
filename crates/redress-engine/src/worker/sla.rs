//! The SLA timer: appeals whose `next_sla_check_at` has passed get their warnings and
//! escalations, and the next check moves on, in the same transaction.

use chrono::{DateTime, TimeDelta, Utc};
use redress_core::sla::{due_actions, SlaAction};
use redress_core::{Actor, Command};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::worker::batch::{apply_to_due, Due, RoundReport};

pub const ACTOR: &str = "sla-timer";

/// How long an appeal whose SLA commands failed waits before it is tried again, so it does
/// not stall the appeals behind it.
const RETRY_FAILED_AFTER: TimeDelta = TimeDelta::hours(1);

/// One round over at most `limit` due appeals. A breached deadline escalates: level + 1,
/// the configured senior queue, an alert through the outbox.
#[tracing::instrument(skip(engine))]
pub async fn tick(engine: &Engine, limit: u64) -> Result<RoundReport, EngineError> {
    let now = engine.clock().now();
    let settings = engine.settings();
    let due = Appeals::find().filter(appeal::Column::NextSlaCheckAt.lte(now));
    apply_to_due(
        engine,
        Due {
            select: due,
            order: appeal::Column::NextSlaCheckAt,
            limit,
            now,
        },
        &Actor::system(ACTOR),
        |stored, now| {
            let a = &stored.appeal;
            let policy = settings.sla_policy(&a.queue, a.priority);
            due_actions(a.state, &a.sla_clock, a.sla_marks, policy, now)
                .into_iter()
                .map(|action| command_for(action, &settings.senior_queue))
                .collect()
        },
        |_, now: DateTime<Utc>| {
            Some(Appeals::update_many().col_expr(
                appeal::Column::NextSlaCheckAt,
                Expr::value(Some(now + RETRY_FAILED_AFTER)),
            ))
        },
    )
    .await
}

fn command_for(action: SlaAction, senior_queue: &str) -> Command {
    match action {
        SlaAction::Warn(deadline) => Command::SlaWarn { deadline },
        SlaAction::Breach(deadline) => Command::Escalate {
            reason: format!("the {} deadline passed", deadline.as_str()),
            to_queue: senior_queue.to_owned(),
            breached: Some(deadline),
        },
    }
}
