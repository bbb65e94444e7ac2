//! A rule tried against the appeals of the last days, without saving anything.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use redress_routing::{Action, Facts, RuleDefinition};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{facts, RoutingError};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::entity::message::{self, Direction, Entity as Messages};
use crate::error::EngineError;
use crate::repo::appeals::{from_model, StoredAppeal};
use redress_routing::RuleError;

/// The longest look back a dry run takes.
pub const MAX_DRY_RUN_DAYS: u32 = 90;
/// The most recent appeals a dry run considers; older ones in the window are left out
/// (and the answer says so), so a dry run stays an admin's quick question.
pub const MAX_DRY_RUN_APPEALS: u64 = 5_000;
/// Ids per `IN (...)` list, well inside SQLite's bound on parameters.
const CHUNK: usize = 500;

/// What a rule would have done.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    /// Appeals filed in the window that were considered.
    pub considered: usize,
    /// Whether the window held more appeals than a dry run considers.
    pub truncated: bool,
    /// The appeals the rule matches, newest first, and what it would do with each.
    pub matches: Vec<DryRunMatch>,
    /// The action every match would get.
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DryRunMatch {
    /// The appeal as it stands now (its queue is where it went, if anywhere).
    pub appeal: StoredAppeal,
}

/// The rule alone, as if it were the only one: the order of the rules in force does not
/// enter. Facts are those of each appeal as it stands now: the enforcement, the channel,
/// the language of its opening message and, when the rule asks, the account's context
/// (appeals filed before this one, upheld appeals and open incidents as they are now).
pub async fn run<C: ConnectionTrait>(
    conn: &C,
    definition: &RuleDefinition,
    days: u32,
    now: DateTime<Utc>,
) -> Result<DryRun, RoutingError> {
    if days == 0 || days > MAX_DRY_RUN_DAYS {
        return Err(RoutingError::Invalid(RuleError {
            field: "days",
            reason: format!("must be between 1 and {MAX_DRY_RUN_DAYS}"),
        }));
    }
    let since = now - TimeDelta::days(i64::from(days));
    let models = Appeals::find()
        .filter(appeal::Column::FiledAt.gte(since))
        .order_by_desc(appeal::Column::FiledAt)
        .order_by_desc(appeal::Column::Id)
        .limit(MAX_DRY_RUN_APPEALS + 1)
        .all(conn)
        .await
        .map_err(EngineError::from)?;
    let truncated = models.len() as u64 > MAX_DRY_RUN_APPEALS;
    let appeals: Vec<StoredAppeal> = models
        .into_iter()
        .take(MAX_DRY_RUN_APPEALS as usize)
        .map(from_model)
        .collect::<Result<_, _>>()?;
    let enforcements = enforcements_of(conn, &appeals).await?;
    let languages = opening_metadata(conn, &appeals).await?;
    let needs_context = definition.when.needs_context();
    let mut matches = Vec::new();
    for stored in &appeals {
        let enforcement = stored
            .appeal
            .enforcement_id
            .and_then(|id| enforcements.get(&id));
        let context = if needs_context {
            Some(
                facts::context(
                    conn,
                    stored.id,
                    stored.appeal.filed_at,
                    stored.appeal.account_id.as_deref(),
                    enforcement,
                )
                .await?,
            )
        } else {
            None
        };
        let metadata = languages
            .get(&stored.id)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        let facts = Facts {
            enforcement: enforcement.map(facts::enforcement_facts),
            appeal: facts::appeal_facts(
                stored.appeal.channel,
                stored.appeal.identity_verified,
                &metadata,
            ),
            context,
        };
        if definition.when.matches(&facts) {
            matches.push(DryRunMatch {
                appeal: stored.clone(),
            });
        }
    }
    Ok(DryRun {
        considered: appeals.len(),
        truncated,
        matches,
        action: definition.then.clone(),
    })
}

async fn enforcements_of<C: ConnectionTrait>(
    conn: &C,
    appeals: &[StoredAppeal],
) -> Result<HashMap<Uuid, enforcement::Model>, EngineError> {
    let mut ids: Vec<Uuid> = appeals
        .iter()
        .filter_map(|a| a.appeal.enforcement_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        for model in Enforcements::find()
            .filter(enforcement::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            found.insert(model.id, model);
        }
    }
    Ok(found)
}

/// The metadata of each appeal's first inbound message, where the channel reported the
/// language.
async fn opening_metadata<C: ConnectionTrait>(
    conn: &C,
    appeals: &[StoredAppeal],
) -> Result<HashMap<Uuid, serde_json::Value>, EngineError> {
    let ids: Vec<Uuid> = appeals.iter().map(|a| a.id).collect();
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(Option<Uuid>, serde_json::Value)> = Messages::find()
            .select_only()
            .column(message::Column::AppealId)
            .column(message::Column::Metadata)
            .filter(message::Column::AppealId.is_in(chunk.iter().copied()))
            .filter(message::Column::Direction.eq(Direction::Inbound))
            .order_by_asc(message::Column::ReceivedAt)
            .into_tuple()
            .all(conn)
            .await?;
        for (appeal_id, metadata) in rows {
            if let Some(appeal_id) = appeal_id {
                found.entry(appeal_id).or_insert(metadata);
            }
        }
    }
    Ok(found)
}
