//! The rules this replica routes by, kept in memory, and the hook that routes with them.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use redress_core::Command;
use redress_routing::{Action, Facts, RuleSet};

use super::facts;
use crate::error::EngineError;
use crate::hooks::{CaseRouter, InTransaction, ProposedCase};

/// The rules as last loaded. Filing reads them without touching the database; a change
/// made on this replica reloads them at once, and a refresh picks up other replicas'
/// changes (`routing.refresh_seconds`).
#[derive(Debug, Default)]
pub struct RuleBook {
    current: RwLock<Loaded>,
}

#[derive(Debug, Default, Clone)]
struct Loaded {
    rules: Arc<RuleSet>,
    /// The sum of the rules' versions. Rules are never deleted and every change adds a
    /// version, so a later state of the table has a larger stamp: a slow load that read
    /// an older state never replaces a newer one.
    stamp: i64,
}

impl RuleBook {
    /// The rules in force on this replica.
    pub fn current(&self) -> Arc<RuleSet> {
        match self.current.read() {
            Ok(loaded) => loaded.rules.clone(),
            Err(poisoned) => poisoned.into_inner().rules.clone(),
        }
    }

    /// Puts `rules` in force unless what is in force was read later.
    pub(crate) fn offer(&self, rules: RuleSet) {
        let stamp = rules.rules().iter().map(|rule| rule.version).sum();
        let mut loaded = match self.current.write() {
            Ok(loaded) => loaded,
            Err(poisoned) => poisoned.into_inner(),
        };
        if stamp >= loaded.stamp {
            *loaded = Loaded {
                rules: Arc::new(rules),
                stamp,
            };
        }
    }
}

/// Routes a new case by the first enabled rule that matches it.
#[derive(Debug)]
pub struct RouteByRules {
    book: Arc<RuleBook>,
}

impl RouteByRules {
    pub fn new(book: Arc<RuleBook>) -> Self {
        Self { book }
    }
}

#[async_trait]
impl CaseRouter for RouteByRules {
    async fn route(
        &self,
        cx: &InTransaction<'_>,
        case: &ProposedCase<'_>,
    ) -> Result<Option<Command>, EngineError> {
        let rules = self.book.current();
        if rules.is_idle() {
            return Ok(None);
        }
        let context = if rules.needs_context() {
            Some(
                facts::context(
                    cx.txn,
                    uuid::Uuid::nil(),
                    cx.now,
                    case.account_id,
                    case.enforcement,
                )
                .await?,
            )
        } else {
            None
        };
        let facts = Facts {
            enforcement: case.enforcement.map(facts::enforcement_facts),
            appeal: facts::appeal_facts(
                case.incoming.channel,
                case.incoming.identity_verified,
                &case.incoming.metadata,
            ),
            context,
        };
        let Some(rule) = rules.first_match(&facts) else {
            return Ok(None);
        };
        Ok(match &rule.definition.then {
            Action::Triage {
                queue,
                priority,
                tags,
                four_eyes,
            } => Some(Command::Route {
                rule: rule.reference(),
                priority: *priority,
                queue: queue.clone(),
                tags: tags.clone(),
                four_eyes: *four_eyes,
            }),
            Action::LeaveForPerson => None,
        })
    }
}
