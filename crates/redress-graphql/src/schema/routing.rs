//! Routing rules, for administrators: the ordered rules that triage new appeals, their
//! versions, changes to them, and a dry run over recent appeals.

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::{Automation, Role};
use redress_engine::routing::{
    DryRun, RoutingError, RoutingRule, RoutingRuleVersion, MAX_DRY_RUN_DAYS,
};
use redress_engine::Engine;
use redress_routing::{Action, Conditions, ContentRelation, CountRange, Rule, RuleDefinition};
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::enums::{ChannelGql, PriorityGql};

/// Dry-run matches listed when `first` is not given.
const DEFAULT_MATCHES: usize = 50;
/// Most dry-run matches one answer lists.
const MAX_MATCHES: usize = 500;

impl From<RoutingError> for ApiError {
    fn from(err: RoutingError) -> Self {
        match err {
            RoutingError::Engine(engine) => engine.into(),
            RoutingError::NotFound(_) => ApiError::NotFound(err.to_string()),
            other => match other.field() {
                Some(field) => ApiError::invalid_field(field, other.to_string()),
                None => ApiError::bad_input(other.to_string()),
            },
        }
    }
}

/// The caller, who must be an administrator.
fn admin(ctx: &Context<'_>, what: &str) -> Result<redress_core::Actor, ApiError> {
    let actor = rbac::staff(ctx)?;
    if actor.has_any_role(&[Role::Admin]) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(format!("{what} needs one of: admin")))
    }
}

fn rule_id(id: &ID, field: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| ApiError::invalid_field(field, format!("{:?} is not a rule id", id.as_str())))
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingActionKind {
    /// Triage the appeal into a queue, at a priority, with tags.
    Triage,
    /// Leave the appeal filed for a person to triage; later rules do not decide it.
    LeaveForPerson,
}

/// A rule's conditions and action, as an admin writes them. Every condition given must
/// hold; a list holds when the fact is any of its values; an empty list is no condition.
#[derive(InputObject, Debug, Clone)]
pub struct RoutingRuleInput {
    pub name: String,
    #[graphql(default = true)]
    pub enabled: bool,
    /// Enforcement sources: `model`, `rule`, `human`, ...
    #[graphql(default)]
    pub source_kinds: Vec<String>,
    /// The model version or rule id that made the enforcement.
    #[graphql(default)]
    pub source_ids: Vec<String>,
    #[graphql(default)]
    pub batches: Vec<String>,
    #[graphql(default)]
    pub policies: Vec<String>,
    /// Enforcement kinds (`suspension`, ...).
    #[graphql(default)]
    pub kinds: Vec<String>,
    /// `fully`, `partially`, `not`.
    #[graphql(default)]
    pub automated_detection: Vec<String>,
    /// `fully`, `partially`, `not`.
    #[graphql(default)]
    pub automated_decision: Vec<String>,
    /// What the account did with the content: `created`, `saved`, `shared`.
    #[graphql(default)]
    pub content_relations: Vec<String>,
    #[graphql(default)]
    pub channels: Vec<ChannelGql>,
    pub identity_verified: Option<bool>,
    /// Language tags; `de` also holds for `de-AT`.
    #[graphql(default)]
    pub languages: Vec<String>,
    /// The account's appeals filed before this one: at least / at most.
    pub earlier_appeals_at_least: Option<i32>,
    pub earlier_appeals_at_most: Option<i32>,
    /// The account's upheld appeals: at least / at most.
    pub upheld_decisions_at_least: Option<i32>,
    pub upheld_decisions_at_most: Option<i32>,
    /// Whether an open faulty-enforcement incident names the enforcement's source.
    pub open_incident: Option<bool>,
    #[graphql(default_with = "RoutingActionKind::Triage")]
    pub action: RoutingActionKind,
    /// Required to triage.
    pub queue: Option<String>,
    #[graphql(default_with = "PriorityGql::Normal")]
    pub priority: PriorityGql,
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Ask for a second approver (on top of any the enforcement's policy asks for).
    #[graphql(default)]
    pub four_eyes: bool,
}

fn parse_all<T: std::str::FromStr>(field: &str, values: &[String]) -> Result<Vec<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    values
        .iter()
        .map(|value| {
            value
                .parse()
                .map_err(|e: T::Err| ApiError::invalid_field(field, e.to_string()))
        })
        .collect()
}

fn count(field: &str, value: Option<i32>) -> Result<Option<u32>, ApiError> {
    value
        .map(|v| {
            u32::try_from(v).map_err(|_| ApiError::invalid_field(field, "must not be negative"))
        })
        .transpose()
}

fn range(
    fields: (&str, &str),
    at_least: Option<i32>,
    at_most: Option<i32>,
) -> Result<Option<CountRange>, ApiError> {
    let (at_least, at_most) = (count(fields.0, at_least)?, count(fields.1, at_most)?);
    Ok((at_least.is_some() || at_most.is_some()).then_some(CountRange { at_least, at_most }))
}

impl TryFrom<RoutingRuleInput> for RuleDefinition {
    type Error = ApiError;

    fn try_from(input: RoutingRuleInput) -> Result<Self, ApiError> {
        let when = Conditions {
            source_kinds: input.source_kinds,
            source_ids: input.source_ids,
            batches: input.batches,
            policies: input.policies,
            kinds: input.kinds,
            automated_detection: parse_all::<Automation>(
                "automatedDetection",
                &input.automated_detection,
            )?,
            automated_decision: parse_all::<Automation>(
                "automatedDecision",
                &input.automated_decision,
            )?,
            content_relations: parse_all::<ContentRelation>(
                "contentRelations",
                &input.content_relations,
            )?,
            channels: input.channels.into_iter().map(Into::into).collect(),
            identity_verified: input.identity_verified,
            languages: input.languages,
            earlier_appeals: range(
                ("earlierAppealsAtLeast", "earlierAppealsAtMost"),
                input.earlier_appeals_at_least,
                input.earlier_appeals_at_most,
            )?,
            upheld_decisions: range(
                ("upheldDecisionsAtLeast", "upheldDecisionsAtMost"),
                input.upheld_decisions_at_least,
                input.upheld_decisions_at_most,
            )?,
            open_incident: input.open_incident,
        };
        let then = match input.action {
            RoutingActionKind::Triage => Action::Triage {
                queue: input.queue.ok_or_else(|| {
                    ApiError::invalid_field("queue", "a rule that triages needs a queue")
                })?,
                priority: input.priority.into(),
                tags: input.tags,
                four_eyes: input.four_eyes,
            },
            RoutingActionKind::LeaveForPerson => Action::LeaveForPerson,
        };
        let definition = RuleDefinition {
            name: input.name,
            enabled: input.enabled,
            when,
            then,
        };
        definition
            .validate()
            .map_err(|e| ApiError::invalid_field(e.field, e.to_string()))?;
        Ok(definition)
    }
}

/// A rule's conditions; unset ones are empty lists or null.
#[derive(SimpleObject, Debug, Clone)]
pub struct RoutingConditions {
    pub source_kinds: Vec<String>,
    pub source_ids: Vec<String>,
    pub batches: Vec<String>,
    pub policies: Vec<String>,
    pub kinds: Vec<String>,
    pub automated_detection: Vec<String>,
    pub automated_decision: Vec<String>,
    pub content_relations: Vec<String>,
    pub channels: Vec<ChannelGql>,
    pub identity_verified: Option<bool>,
    pub languages: Vec<String>,
    pub earlier_appeals_at_least: Option<u32>,
    pub earlier_appeals_at_most: Option<u32>,
    pub upheld_decisions_at_least: Option<u32>,
    pub upheld_decisions_at_most: Option<u32>,
    pub open_incident: Option<bool>,
}

impl From<&Conditions> for RoutingConditions {
    fn from(when: &Conditions) -> Self {
        let names = |values: &[Automation]| values.iter().map(|v| v.as_str().to_owned()).collect();
        Self {
            source_kinds: when.source_kinds.clone(),
            source_ids: when.source_ids.clone(),
            batches: when.batches.clone(),
            policies: when.policies.clone(),
            kinds: when.kinds.clone(),
            automated_detection: names(&when.automated_detection),
            automated_decision: names(&when.automated_decision),
            content_relations: when
                .content_relations
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            channels: when.channels.iter().copied().map(Into::into).collect(),
            identity_verified: when.identity_verified,
            languages: when.languages.clone(),
            earlier_appeals_at_least: when.earlier_appeals.and_then(|r| r.at_least),
            earlier_appeals_at_most: when.earlier_appeals.and_then(|r| r.at_most),
            upheld_decisions_at_least: when.upheld_decisions.and_then(|r| r.at_least),
            upheld_decisions_at_most: when.upheld_decisions.and_then(|r| r.at_most),
            open_incident: when.open_incident,
        }
    }
}

/// What a rule does with the appeals it decides.
#[derive(SimpleObject, Debug, Clone)]
pub struct RoutingActionNode {
    pub kind: RoutingActionKind,
    /// Null when the rule leaves the appeal for a person.
    pub queue: Option<String>,
    pub priority: Option<PriorityGql>,
    pub tags: Vec<String>,
    pub four_eyes: bool,
}

impl From<&Action> for RoutingActionNode {
    fn from(action: &Action) -> Self {
        match action {
            Action::Triage {
                queue,
                priority,
                tags,
                four_eyes,
            } => Self {
                kind: RoutingActionKind::Triage,
                queue: Some(queue.clone()),
                priority: Some((*priority).into()),
                tags: tags.clone(),
                four_eyes: *four_eyes,
            },
            Action::LeaveForPerson => Self {
                kind: RoutingActionKind::LeaveForPerson,
                queue: None,
                priority: None,
                tags: Vec::new(),
                four_eyes: false,
            },
        }
    }
}

/// A routing rule as it stands now.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "RoutingRule")]
pub struct RoutingRuleNode {
    pub id: ID,
    /// Each change makes a new version; a `triaged` event names the version that decided.
    pub version: i64,
    pub name: String,
    /// Rules are tried in ascending position; the first enabled rule that matches decides.
    pub position: i32,
    pub enabled: bool,
    pub conditions: RoutingConditions,
    pub action: RoutingActionNode,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

fn rule_parts(rule: &Rule) -> (ID, RoutingConditions, RoutingActionNode) {
    (
        ID(rule.id.to_string()),
        (&rule.definition.when).into(),
        (&rule.definition.then).into(),
    )
}

impl From<RoutingRule> for RoutingRuleNode {
    fn from(stored: RoutingRule) -> Self {
        let (id, conditions, action) = rule_parts(&stored.rule);
        Self {
            id,
            version: stored.rule.version,
            name: stored.rule.definition.name,
            position: stored.position,
            enabled: stored.rule.definition.enabled,
            conditions,
            action,
            updated_at: stored.updated_at,
            updated_by: stored.updated_by,
        }
    }
}

/// One version of a rule and the change that made it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "RoutingRuleVersion")]
pub struct RoutingRuleVersionNode {
    pub id: ID,
    pub version: i64,
    /// `created`, `seeded` (from the configuration file), `updated`, `enabled`,
    /// `disabled`, `moved`.
    pub change: String,
    pub name: String,
    pub position: i32,
    pub enabled: bool,
    pub conditions: RoutingConditions,
    pub action: RoutingActionNode,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

impl From<RoutingRuleVersion> for RoutingRuleVersionNode {
    fn from(stored: RoutingRuleVersion) -> Self {
        let (id, conditions, action) = rule_parts(&stored.rule);
        Self {
            id,
            version: stored.rule.version,
            change: stored.change.as_str().to_owned(),
            name: stored.rule.definition.name,
            position: stored.position,
            enabled: stored.rule.definition.enabled,
            conditions,
            action,
            changed_at: stored.changed_at,
            changed_by: stored.changed_by,
        }
    }
}

/// What a rule would have done with recent appeals.
#[derive(Debug)]
pub struct RoutingDryRunNode {
    run: DryRun,
    first: usize,
}

#[Object(name = "RoutingDryRun")]
impl RoutingDryRunNode {
    /// Appeals filed in the window that were looked at.
    async fn considered(&self) -> usize {
        self.run.considered
    }

    /// Whether the window held more appeals than a dry run looks at (the most recent
    /// 5,000 are).
    async fn truncated(&self) -> bool {
        self.run.truncated
    }

    /// How many of them the rule matches.
    async fn matched(&self) -> usize {
        self.run.matches.len()
    }

    /// Where the matched appeals would have gone.
    async fn action(&self) -> RoutingActionNode {
        (&self.run.action).into()
    }

    /// The matched appeals, newest first: as many as the dry run's `first` asked for, but
    /// those the caller reviews blind.
    async fn appeals(&self, ctx: &Context<'_>) -> Result<Vec<AppealNode>> {
        let withheld = Withheld::from_caller(ctx).await?;
        Ok(withheld.show_all(
            self.run
                .matches
                .iter()
                .take(self.first)
                .map(|m| m.appeal.clone()),
        ))
    }
}

#[derive(Debug, Default)]
pub struct RoutingQuery;

#[Object]
impl RoutingQuery {
    /// The routing rules, in the order they are tried. Administrators only.
    async fn routing_rules(&self, ctx: &Context<'_>) -> Result<Vec<RoutingRuleNode>> {
        admin(ctx, "routingRules").or_api()?;
        let rules = ctx.data::<Engine>()?.routing_rules().await.or_api()?;
        Ok(rules.into_iter().map(Into::into).collect())
    }

    /// Every version of a rule, oldest first. Administrators only.
    async fn routing_rule_versions(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Vec<RoutingRuleVersionNode>> {
        admin(ctx, "routingRuleVersions").or_api()?;
        let id = rule_id(&id, "id").or_api()?;
        let versions = ctx
            .data::<Engine>()?
            .routing_rule_versions(id)
            .await
            .or_api()?;
        Ok(versions.into_iter().map(Into::into).collect())
    }

    /// Which appeals of the last `days` days (1 to 90) `rule` would have matched on its
    /// own, and where it would have sent them. Nothing is saved. Administrators only.
    async fn routing_dry_run(
        &self,
        ctx: &Context<'_>,
        rule: RoutingRuleInput,
        days: i32,
        first: Option<i32>,
    ) -> Result<RoutingDryRunNode> {
        admin(ctx, "routingDryRun").or_api()?;
        let days = u32::try_from(days)
            .ok()
            .filter(|days| (1..=MAX_DRY_RUN_DAYS).contains(days))
            .ok_or_else(|| {
                ApiError::invalid_field("days", format!("must be between 1 and {MAX_DRY_RUN_DAYS}"))
            })
            .or_api()?;
        let first = match first {
            None => DEFAULT_MATCHES,
            Some(first) => usize::try_from(first)
                .ok()
                .filter(|first| (1..=MAX_MATCHES).contains(first))
                .ok_or_else(|| {
                    ApiError::invalid_field("first", format!("must be between 1 and {MAX_MATCHES}"))
                })
                .or_api()?,
        };
        let definition = RuleDefinition::try_from(rule).or_api()?;
        let run = ctx
            .data::<Engine>()?
            .routing_dry_run(&definition, days)
            .await
            .or_api()?;
        Ok(RoutingDryRunNode { run, first })
    }
}

#[derive(Debug, Default)]
pub struct RoutingMutation;

#[Object]
impl RoutingMutation {
    /// Adds a rule after the last one.
    async fn create_routing_rule(
        &self,
        ctx: &Context<'_>,
        input: RoutingRuleInput,
    ) -> Result<RoutingRuleNode> {
        let actor = rbac::authorize(ctx, "createRoutingRule").or_api()?;
        let definition = RuleDefinition::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .create_routing_rule(&actor, definition)
            .await
            .or_api()?
            .into())
    }

    /// Replaces a rule's name, conditions and action (a new version); its place stays.
    /// Appeals it triaged before keep the version that triaged them.
    async fn update_routing_rule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: RoutingRuleInput,
    ) -> Result<RoutingRuleNode> {
        let actor = rbac::authorize(ctx, "updateRoutingRule").or_api()?;
        let id = rule_id(&id, "id").or_api()?;
        let definition = RuleDefinition::try_from(input).or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .update_routing_rule(&actor, id, definition)
            .await
            .or_api()?
            .into())
    }

    /// Stops a rule from deciding anything (a new version).
    async fn disable_routing_rule(&self, ctx: &Context<'_>, id: ID) -> Result<RoutingRuleNode> {
        let actor = rbac::authorize(ctx, "disableRoutingRule").or_api()?;
        let id = rule_id(&id, "id").or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .set_routing_rule_enabled(&actor, id, false)
            .await
            .or_api()?
            .into())
    }

    /// Lets a disabled rule decide again (a new version).
    async fn enable_routing_rule(&self, ctx: &Context<'_>, id: ID) -> Result<RoutingRuleNode> {
        let actor = rbac::authorize(ctx, "enableRoutingRule").or_api()?;
        let id = rule_id(&id, "id").or_api()?;
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .set_routing_rule_enabled(&actor, id, true)
            .await
            .or_api()?
            .into())
    }

    /// Puts the rules in this order; `ids` names every rule once. Each rule that moves
    /// gets a new version.
    async fn reorder_routing_rules(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> Result<Vec<RoutingRuleNode>> {
        let actor = rbac::authorize(ctx, "reorderRoutingRules").or_api()?;
        let ids = ids
            .iter()
            .map(|id| rule_id(id, "ids"))
            .collect::<Result<Vec<_>, _>>()
            .or_api()?;
        let engine = ctx.data::<Engine>()?;
        let rules = engine.reorder_routing_rules(&actor, &ids).await.or_api()?;
        Ok(rules.into_iter().map(Into::into).collect())
    }
}

/// The rule that triaged an appeal, as the appeal records it.
#[derive(Debug, Clone)]
pub struct TriagedByRule {
    pub id: Uuid,
    pub version: i64,
}

#[Object]
impl TriagedByRule {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The version that decided; later changes to the rule do not touch the appeal.
    async fn version(&self) -> i64 {
        self.version
    }

    /// The rule's name as it is now.
    async fn name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        match ctx.data::<Engine>()?.routing_rule(self.id).await {
            Ok(rule) => Ok(Some(rule.rule.definition.name)),
            Err(RoutingError::NotFound(_)) => Ok(None),
            Err(other) => Err(other).or_api(),
        }
    }
}
