//! Counts read at scrape time for the service's metrics. They come from the database, not
//! from process memory, so every replica reports the same numbers.

use chrono::{DateTime, Utc};
use redress_core::AppealState;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::appeal_event::{self, Entity as AppealEvents};
use crate::entity::message::{self, Entity as Messages};
use crate::error::EngineError;
use crate::repo::messages::Direction;
use crate::repo::outbox_delivery::{self, OutboxCounts};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Appeals per (queue, state).
    pub appeals: Vec<(String, String, i64)>,
    /// Appeals per channel they came in on.
    pub appeals_by_channel: Vec<(String, i64)>,
    /// Inbound messages per channel (appeals and follow-ups).
    pub inbound_messages: Vec<(String, i64)>,
    /// SLA warnings ever fired.
    pub sla_warnings: i64,
    /// SLA breaches ever fired (escalations made by the SLA timer).
    pub sla_breaches: i64,
    /// Open appeals whose triage deadline has passed.
    pub overdue_triage: i64,
    /// Open appeals whose decision deadline has passed.
    pub overdue_decision: i64,
    pub outbox: OutboxCounts,
}

pub async fn read<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<Stats, EngineError> {
    let appeals = Appeals::find()
        .select_only()
        .column(appeal::Column::Queue)
        .column(appeal::Column::State)
        .column_as(appeal::Column::Id.count(), "n")
        .group_by(appeal::Column::Queue)
        .group_by(appeal::Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    let appeals_by_channel = Appeals::find()
        .select_only()
        .column(appeal::Column::Channel)
        .column_as(appeal::Column::Id.count(), "n")
        .group_by(appeal::Column::Channel)
        .into_tuple()
        .all(conn)
        .await?;
    let inbound_messages = Messages::find()
        .select_only()
        .column(message::Column::Channel)
        .column_as(message::Column::Id.count(), "n")
        .filter(message::Column::Direction.eq(Direction::Inbound.as_str()))
        .group_by(message::Column::Channel)
        .into_tuple()
        .all(conn)
        .await?;
    let events_of = |kind: &'static str| {
        AppealEvents::find()
            .select_only()
            .column_as(appeal_event::Column::Version.count(), "n")
            .filter(appeal_event::Column::Kind.eq(kind))
    };
    let sla_warnings = events_of("sla_warned")
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0);
    // Only the SLA timer escalates as the system; staff escalations carry a staff actor.
    let sla_breaches = events_of("escalated")
        .filter(appeal_event::Column::ActorKind.eq("system"))
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0);
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    let overdue = |column: appeal::Column| {
        Appeals::find()
            .select_only()
            .column_as(appeal::Column::Id.count(), "n")
            .filter(appeal::Column::State.is_in(open.clone()))
            .filter(column.lt(now))
    };
    let overdue_triage = overdue(appeal::Column::TriageDueAt)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0);
    let overdue_decision = overdue(appeal::Column::DecisionDueAt)
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .unwrap_or(0);
    Ok(Stats {
        appeals,
        appeals_by_channel,
        inbound_messages,
        sla_warnings,
        sla_breaches,
        overdue_triage,
        overdue_decision,
        outbox: outbox_delivery::counts(conn).await?,
    })
}

/// Whether nothing of the platform's or the appellants' has been recorded: no account, no
/// enforcement, no appeal, no message. Keys and settings Redress keeps for itself do not
/// count.
pub async fn records_nothing<C: ConnectionTrait>(conn: &C) -> Result<bool, EngineError> {
    use crate::entity::{account, enforcement};
    let accounts = account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .into_tuple::<String>()
        .one(conn)
        .await?;
    let enforcements = enforcement::Entity::find()
        .select_only()
        .column(enforcement::Column::Id)
        .into_tuple::<uuid::Uuid>()
        .one(conn)
        .await?;
    let appeals = Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .into_tuple::<uuid::Uuid>()
        .one(conn)
        .await?;
    let messages = Messages::find()
        .select_only()
        .column(message::Column::Id)
        .into_tuple::<uuid::Uuid>()
        .one(conn)
        .await?;
    Ok(accounts.is_none() && enforcements.is_none() && appeals.is_none() && messages.is_none())
}
