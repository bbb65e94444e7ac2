//! What the rules look at: the enforcement, the appeal, and the account's context.

use redress_core::{Automation, Channel};

pub use redress_core::ContentRelation;

/// The enforcement an appeal is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementFacts {
    pub source_kind: String,
    pub source_id: String,
    pub batch: Option<String>,
    pub policy: String,
    pub kind: String,
    /// `None` when the stored value is not one Redress knows; a condition on it then fails.
    pub automated_detection: Option<Automation>,
    pub automated_decision: Option<Automation>,
    pub content_relation: Option<ContentRelation>,
}

/// The appeal as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealFacts {
    pub channel: Channel,
    pub identity_verified: bool,
    /// The language the appellant wrote in, as the channel reported it (a BCP 47 tag).
    pub language: Option<String>,
}

/// What the account did before: facts that cost queries, gathered only when an enabled
/// rule asks about them ([`crate::RuleSet::needs_context`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContextFacts {
    /// The account's appeals filed before this one.
    pub earlier_appeals: u32,
    /// The account's appeals whose decision was upheld.
    pub upheld_decisions: u32,
    /// Whether an open faulty-enforcement incident names the enforcement's source.
    pub open_incident: bool,
}

/// Everything a rule may look at about one appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `None` when the appeal names no enforcement; a rule with an enforcement condition
    /// then does not match.
    pub enforcement: Option<EnforcementFacts>,
    pub appeal: AppealFacts,
    /// `None` when not gathered; a rule with a context condition then does not match.
    pub context: Option<ContextFacts>,
}
