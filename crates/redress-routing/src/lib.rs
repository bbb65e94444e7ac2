//! Routing rules: automatic triage of new appeals by ordered rules, first match wins.
//!
//! A [`Rule`] is a [`RuleDefinition`] (conditions, an action, whether it is enabled) under
//! an id and a version. A [`RuleSet`] holds the rules in their order and answers which
//! rule decides an appeal described by its [`Facts`]: the first enabled rule whose every
//! condition holds. Disabled rules are skipped as if absent. The deciding rule either
//! triages the appeal (queue, priority, tags, four-eyes) or leaves it for a person; when
//! no rule matches, the appeal waits for a person too.
//!
//! This crate is the model alone: no database, no clock. The engine stores the rules,
//! gathers the facts and records the decision.

mod facts;
mod rule;
mod rule_set;

pub use facts::{AppealFacts, ContentRelation, ContextFacts, EnforcementFacts, Facts};
pub use rule::{
    Action, Conditions, CountRange, Rule, RuleDefinition, RuleError, MAX_NAME_CHARS, MAX_TAGS,
    MAX_VALUES, MAX_VALUE_BYTES,
};
pub use rule_set::RuleSet;

pub use redress_core::RuleRef;
