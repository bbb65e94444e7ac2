//! The rules' rows: each rule as it stands, and every version it had.

use chrono::{DateTime, Utc};
use redress_core::Actor;
use redress_routing::{Rule, RuleDefinition};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::{RoutingError, RoutingRule, RoutingRuleVersion, RuleChange};
use crate::entity::routing_rule::{self, Entity as RoutingRules};
use crate::entity::routing_rule_version::{self, Entity as RoutingRuleVersions};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};

/// Who a change is recorded as: the staff subject, or the system component.
fn actor_name(actor: &Actor) -> String {
    match actor {
        Actor::Staff { subject, .. } => subject.clone(),
        Actor::System { component } => format!("system:{component}"),
        Actor::Appellant { identity } => format!("appellant:{identity}"),
    }
}

fn definition_of(id: Uuid, definition: serde_json::Value) -> Result<RuleDefinition, EngineError> {
    serde_json::from_value(definition).map_err(|e| EngineError::corrupt("routing rule", id, e))
}

fn to_rule(model: routing_rule::Model) -> Result<RoutingRule, EngineError> {
    let mut definition = definition_of(model.id, model.definition)?;
    definition.name = model.name;
    definition.enabled = model.enabled;
    Ok(RoutingRule {
        rule: Rule {
            id: model.id,
            version: model.version,
            definition,
        },
        position: model.position,
        updated_at: model.updated_at,
        updated_by: model.updated_by,
    })
}

fn to_version(model: routing_rule_version::Model) -> Result<RoutingRuleVersion, EngineError> {
    let mut definition = definition_of(model.rule_id, model.definition)?;
    definition.name = model.name;
    definition.enabled = model.enabled;
    Ok(RoutingRuleVersion {
        rule: Rule {
            id: model.rule_id,
            version: model.version,
            definition,
        },
        position: model.position,
        change: model
            .change
            .parse()
            .map_err(|e: String| EngineError::corrupt("routing rule", model.rule_id, e))?,
        changed_at: model.changed_at,
        changed_by: model.changed_by,
    })
}

/// Every rule, in the order they are tried.
pub async fn all<C: ConnectionTrait>(conn: &C) -> Result<Vec<RoutingRule>, EngineError> {
    RoutingRules::find()
        .order_by_asc(routing_rule::Column::Position)
        .order_by_asc(routing_rule::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_rule)
        .collect()
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<RoutingRule, RoutingError> {
    let model = RoutingRules::find_by_id(id)
        .one(conn)
        .await
        .map_err(EngineError::from)?
        .ok_or(RoutingError::NotFound(id))?;
    Ok(to_rule(model)?)
}

pub async fn find_by_name<C: ConnectionTrait>(
    conn: &C,
    name: &str,
) -> Result<Option<RoutingRule>, EngineError> {
    RoutingRules::find()
        .filter(routing_rule::Column::Name.eq(name))
        .one(conn)
        .await?
        .map(to_rule)
        .transpose()
}

pub async fn versions<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Vec<RoutingRuleVersion>, EngineError> {
    RoutingRuleVersions::find()
        .filter(routing_rule_version::Column::RuleId.eq(id))
        .order_by_asc(routing_rule_version::Column::Version)
        .all(conn)
        .await?
        .into_iter()
        .map(to_version)
        .collect()
}

/// The position after the last rule.
pub async fn next_position<C: ConnectionTrait>(conn: &C) -> Result<i32, EngineError> {
    let last: Option<Option<i32>> = RoutingRules::find()
        .select_only()
        .column_as(routing_rule::Column::Position.max(), "last")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(last.flatten().map_or(0, |last| last + 1))
}

/// Writes `rule` at `position` as its new version (the first when `is_new`), the version's
/// row, and the audit entry, in the caller's transaction. The version's primary key makes
/// a concurrent writer of the same version fail (and retry from a fresh read) instead of
/// forking the history.
pub async fn write<C: ConnectionTrait>(
    conn: &C,
    rule: &Rule,
    position: i32,
    change: RuleChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RoutingRule, EngineError> {
    let by = actor_name(actor);
    let mut stored_definition = rule.definition.clone();
    // Name and enabled have columns of their own; the JSON keeps the conditions and action.
    stored_definition.name = String::new();
    stored_definition.enabled = true;
    let definition = serde_json::to_value(&stored_definition)
        .map_err(|e| EngineError::corrupt("routing rule", rule.id, e))?;
    let row = routing_rule::ActiveModel {
        id: Set(rule.id),
        name: Set(rule.definition.name.clone()),
        position: Set(position),
        enabled: Set(rule.definition.enabled),
        version: Set(rule.version),
        definition: Set(definition.clone()),
        updated_at: Set(now),
        updated_by: Set(by.clone()),
    };
    if change.creates() {
        RoutingRules::insert(row)
            .exec_without_returning(conn)
            .await?;
    } else {
        RoutingRules::update_many()
            .set(row)
            .filter(routing_rule::Column::Id.eq(rule.id))
            .exec(conn)
            .await?;
    }
    RoutingRuleVersions::insert(routing_rule_version::ActiveModel {
        rule_id: Set(rule.id),
        version: Set(rule.version),
        name: Set(rule.definition.name.clone()),
        position: Set(position),
        enabled: Set(rule.definition.enabled),
        definition: Set(definition),
        change: Set(change.as_str().to_owned()),
        changed_at: Set(now),
        changed_by: Set(by.clone()),
    })
    .exec_without_returning(conn)
    .await?;
    audit::record(
        conn,
        NewAuditEntry {
            actor: actor.clone(),
            action: change.audit_action(),
            account_id: None,
            appeal_id: None,
            details: json!({
                "rule_id": rule.id,
                "version": rule.version,
                "name": rule.definition.name,
                "position": position,
                "enabled": rule.definition.enabled,
            }),
        },
        now,
    )
    .await?;
    Ok(RoutingRule {
        rule: rule.clone(),
        position,
        updated_at: now,
        updated_by: by,
    })
}
