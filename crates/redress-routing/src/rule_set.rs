//! The rules in their order, and which one decides an appeal.

use crate::facts::Facts;
use crate::rule::Rule;

/// Rules in the order they are tried. The order is the admins' (`position`); the set
/// keeps it as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSet {
    rules: Vec<Rule>,
    needs_context: bool,
}

impl RuleSet {
    /// The rules, in the order they are tried.
    pub fn new(rules: Vec<Rule>) -> Self {
        let needs_context = rules
            .iter()
            .any(|rule| rule.enabled() && rule.definition.when.needs_context());
        Self {
            rules,
            needs_context,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether no enabled rule could decide anything: filing then skips routing entirely.
    pub fn is_idle(&self) -> bool {
        !self.rules.iter().any(Rule::enabled)
    }

    /// Whether some enabled rule asks about the account's context; only then is it worth
    /// gathering ([`crate::ContextFacts`]).
    pub fn needs_context(&self) -> bool {
        self.needs_context
    }

    /// The rule that decides an appeal: the first enabled rule, in order, whose every
    /// condition holds. Disabled rules are skipped as if absent. `None` leaves the appeal
    /// for a person.
    pub fn first_match(&self, facts: &Facts) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|rule| rule.enabled())
            .find(|rule| rule.definition.when.matches(facts))
    }
}
