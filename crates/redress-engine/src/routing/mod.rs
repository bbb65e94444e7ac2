//! Routing rules: ordered rules that triage new appeals at filing, first match wins (the
//! model and matcher are `redress_routing`'s). Rules live in the database, each change a
//! new version, audited; each replica keeps them in memory ([`RuleBook`]) and routes
//! through the filing's [`crate::hooks::CaseRouter`] hook, so a routed appeal is written
//! already triaged in the filing's one batch of writes.

mod book;
mod dry_run;
pub mod facts;
mod store;

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use redress_core::Actor;
use redress_routing::{Rule, RuleDefinition, RuleError, RuleSet};
use uuid::Uuid;

pub use book::{RouteByRules, RuleBook};
pub use dry_run::{DryRun, DryRunMatch, MAX_DRY_RUN_APPEALS, MAX_DRY_RUN_DAYS};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::hooks::Hooks;
use crate::transact::{Retry, TransactionError};

/// Registers routing in the write path: a router over the rules in force, and the book of
/// those rules, which the use cases below reload after a change.
pub fn register(hooks: &mut Hooks) {
    let book = Arc::new(RuleBook::default());
    hooks
        .register_case_router(RouteByRules::new(book.clone()))
        .share(book);
}

/// A rule as it stands now.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRule {
    pub rule: Rule,
    /// Rules are tried in ascending position.
    pub position: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// One version of a rule, and the change that made it.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingRuleVersion {
    pub rule: Rule,
    pub position: i32,
    pub change: RuleChange,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

/// What made a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleChange {
    /// Created through the API or the console.
    Created,
    /// Imported from the configuration file at start.
    Seeded,
    Updated,
    Enabled,
    Disabled,
    /// Its place in the order changed.
    Moved,
}

impl RuleChange {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleChange::Created => "created",
            RuleChange::Seeded => "seeded",
            RuleChange::Updated => "updated",
            RuleChange::Enabled => "enabled",
            RuleChange::Disabled => "disabled",
            RuleChange::Moved => "moved",
        }
    }

    /// The audit log's action for the change.
    pub fn audit_action(self) -> &'static str {
        match self {
            RuleChange::Created => "routing_rule_created",
            RuleChange::Seeded => "routing_rule_seeded",
            RuleChange::Updated => "routing_rule_updated",
            RuleChange::Enabled => "routing_rule_enabled",
            RuleChange::Disabled => "routing_rule_disabled",
            RuleChange::Moved => "routing_rule_moved",
        }
    }

    fn creates(self) -> bool {
        matches!(self, RuleChange::Created | RuleChange::Seeded)
    }
}

impl FromStr for RuleChange {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        [
            RuleChange::Created,
            RuleChange::Seeded,
            RuleChange::Updated,
            RuleChange::Enabled,
            RuleChange::Disabled,
            RuleChange::Moved,
        ]
        .into_iter()
        .find(|change| change.as_str() == value)
        .ok_or_else(|| format!("unknown routing rule change {value:?}"))
    }
}

/// Why a change to the rules was refused.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    /// The definition is not valid; the error names the field.
    #[error(transparent)]
    Invalid(#[from] RuleError),
    #[error("routing rule {0} not found")]
    NotFound(Uuid),
    #[error("a routing rule named {0:?} exists already")]
    NameTaken(String),
    /// A new order must name every rule exactly once.
    #[error("{0}")]
    Order(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl RoutingError {
    /// The input field the error is about, as the API names it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RoutingError::Invalid(error) => Some(error.field),
            RoutingError::NameTaken(_) => Some("name"),
            RoutingError::Order(_) => Some("ids"),
            RoutingError::NotFound(_) => Some("id"),
            RoutingError::Engine(_) => None,
        }
    }
}

impl TransactionError for RoutingError {
    fn engine_error(&self) -> Option<&EngineError> {
        match self {
            RoutingError::Engine(error) => Some(error),
            _ => None,
        }
    }
}

impl Engine {
    /// Every rule as it stands in the database, in the order they are tried.
    pub async fn routing_rules(&self) -> Result<Vec<RoutingRule>, EngineError> {
        store::all(self.db()).await
    }

    pub async fn routing_rule(&self, id: Uuid) -> Result<RoutingRule, RoutingError> {
        store::find(self.db(), id).await
    }

    /// Every version of a rule, oldest first.
    pub async fn routing_rule_versions(
        &self,
        id: Uuid,
    ) -> Result<Vec<RoutingRuleVersion>, RoutingError> {
        let versions = store::versions(self.db(), id).await?;
        if versions.is_empty() {
            return Err(RoutingError::NotFound(id));
        }
        Ok(versions)
    }

    /// The rules this replica routes by now; none when routing is not registered.
    pub fn routing_rules_in_force(&self) -> Arc<RuleSet> {
        self.hooks()
            .shared::<RuleBook>()
            .map(|book| book.current())
            .unwrap_or_default()
    }

    /// Reads the rules afresh and puts them in force on this replica (when routing is
    /// registered; otherwise nothing routes and there is nothing to refresh).
    pub async fn refresh_routing_rules(&self) -> Result<(), EngineError> {
        let Some(book) = self.hooks().shared::<RuleBook>() else {
            return Ok(());
        };
        let rules = store::all(self.db()).await?;
        book.offer(RuleSet::new(rules.into_iter().map(|r| r.rule).collect()));
        Ok(())
    }

    /// Adds a rule after the last one.
    pub async fn create_routing_rule(
        &self,
        actor: &Actor,
        definition: RuleDefinition,
    ) -> Result<RoutingRule, RoutingError> {
        definition.validate()?;
        let created = self
            .transact(Retry::LostRaces, async |txn| {
                create(
                    txn,
                    &definition,
                    RuleChange::Created,
                    actor,
                    self.clock().now(),
                )
                .await
            })
            .await?;
        self.refresh_routing_rules().await?;
        Ok(created)
    }

    /// Replaces a rule's name, conditions, action and whether it is enabled; its place stays.
    pub async fn update_routing_rule(
        &self,
        actor: &Actor,
        id: Uuid,
        definition: RuleDefinition,
    ) -> Result<RoutingRule, RoutingError> {
        definition.validate()?;
        let updated = self
            .transact(Retry::LostRaces, async |txn| {
                let current = store::find(txn, id).await?;
                if current.rule.definition.name != definition.name {
                    if let Some(other) = store::find_by_name(txn, &definition.name).await? {
                        if other.rule.id != id {
                            return Err(RoutingError::NameTaken(definition.name.clone()));
                        }
                    }
                }
                let change = match (current.rule.enabled(), definition.enabled) {
                    (true, false) if same_but_enabled(&current.rule.definition, &definition) => {
                        RuleChange::Disabled
                    }
                    (false, true) if same_but_enabled(&current.rule.definition, &definition) => {
                        RuleChange::Enabled
                    }
                    _ => RuleChange::Updated,
                };
                let next = Rule {
                    id,
                    version: current.rule.version + 1,
                    definition: definition.clone(),
                };
                Ok(store::write(
                    txn,
                    &next,
                    current.position,
                    change,
                    actor,
                    self.clock().now(),
                )
                .await?)
            })
            .await?;
        self.refresh_routing_rules().await?;
        Ok(updated)
    }

    /// Turns a rule on or off; a rule already so is left as it is (no new version).
    pub async fn set_routing_rule_enabled(
        &self,
        actor: &Actor,
        id: Uuid,
        enabled: bool,
    ) -> Result<RoutingRule, RoutingError> {
        let current = store::find(self.db(), id).await?;
        if current.rule.enabled() == enabled {
            return Ok(current);
        }
        let mut definition = current.rule.definition;
        definition.enabled = enabled;
        self.update_routing_rule(actor, id, definition).await
    }

    /// Puts the rules in the order of `ids`, which must name every rule once. Each rule
    /// whose place changes gets a new version.
    pub async fn reorder_routing_rules(
        &self,
        actor: &Actor,
        ids: &[Uuid],
    ) -> Result<Vec<RoutingRule>, RoutingError> {
        let reordered = self
            .transact(Retry::LostRaces, async |txn| {
                let rules = store::all(txn).await?;
                let mut wanted = ids.to_vec();
                wanted.sort_unstable();
                let before = wanted.len();
                wanted.dedup();
                if wanted.len() != before {
                    return Err(RoutingError::Order("ids: a rule is named twice".into()));
                }
                let mut known: Vec<Uuid> = rules.iter().map(|r| r.rule.id).collect();
                known.sort_unstable();
                if wanted != known {
                    return Err(RoutingError::Order(format!(
                        "ids: the new order must name each of the {} rules exactly once",
                        known.len()
                    )));
                }
                let now = self.clock().now();
                let mut out = Vec::with_capacity(rules.len());
                for (position, id) in ids.iter().enumerate() {
                    let position = i32::try_from(position)
                        .map_err(|_| RoutingError::Order("ids: too many rules".into()))?;
                    let Some(current) = rules.iter().find(|r| r.rule.id == *id) else {
                        continue;
                    };
                    if current.position == position {
                        out.push(current.clone());
                        continue;
                    }
                    let next = Rule {
                        version: current.rule.version + 1,
                        ..current.rule.clone()
                    };
                    out.push(
                        store::write(txn, &next, position, RuleChange::Moved, actor, now).await?,
                    );
                }
                Ok(out)
            })
            .await?;
        self.refresh_routing_rules().await?;
        Ok(reordered)
    }

    /// Imports the configuration's rules: each whose name no rule has yet is added after
    /// the last, in the order given; a rule already there (seeded before, or created
    /// through the API) is left as it is, since changes after the seed are versioned in
    /// the database. Returns how many were added.
    pub async fn seed_routing_rules(
        &self,
        definitions: &[RuleDefinition],
    ) -> Result<usize, RoutingError> {
        for definition in definitions {
            definition.validate()?;
        }
        let actor = Actor::system("config");
        let added = self
            .transact(Retry::LostRaces, async |txn| {
                let mut added = 0;
                for definition in definitions {
                    if store::find_by_name(txn, &definition.name).await?.is_some() {
                        continue;
                    }
                    create(
                        txn,
                        definition,
                        RuleChange::Seeded,
                        &actor,
                        self.clock().now(),
                    )
                    .await?;
                    added += 1;
                }
                Ok::<_, RoutingError>(added)
            })
            .await?;
        self.refresh_routing_rules().await?;
        Ok(added)
    }

    /// Which appeals filed in the last `days` days `definition` would have matched, on its
    /// own, and where it would have sent them; nothing is saved.
    pub async fn routing_dry_run(
        &self,
        definition: &RuleDefinition,
        days: u32,
    ) -> Result<DryRun, RoutingError> {
        definition.validate()?;
        dry_run::run(self.db(), definition, days, self.clock().now()).await
    }
}

fn same_but_enabled(a: &RuleDefinition, b: &RuleDefinition) -> bool {
    a.name == b.name && a.when == b.when && a.then == b.then
}

async fn create(
    txn: &sea_orm::DatabaseTransaction,
    definition: &RuleDefinition,
    change: RuleChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RoutingRule, RoutingError> {
    if store::find_by_name(txn, &definition.name).await?.is_some() {
        return Err(RoutingError::NameTaken(definition.name.clone()));
    }
    let position = store::next_position(txn).await?;
    let rule = Rule {
        id: Uuid::now_v7(),
        version: 1,
        definition: definition.clone(),
    };
    Ok(store::write(txn, &rule, position, change, actor, now).await?)
}
