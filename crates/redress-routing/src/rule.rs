//! A rule: conditions over the facts, and what to do with an appeal they match.

use redress_core::{Automation, Channel, Priority, RuleRef};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::facts::{ContentRelation, Facts};

/// Longest rule name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most values one condition may list.
pub const MAX_VALUES: usize = 50;
/// Longest value in a condition, a queue or a tag, in bytes.
pub const MAX_VALUE_BYTES: usize = 200;
/// Most tags an action may add.
pub const MAX_TAGS: usize = 20;

/// A rule as stored: its definition under an id and a version. Every change to a rule
/// (its conditions, action, name, place or whether it is enabled) makes a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: Uuid,
    pub version: i64,
    #[serde(flatten)]
    pub definition: RuleDefinition,
}

impl Rule {
    pub fn reference(&self) -> RuleRef {
        RuleRef {
            id: self.id,
            version: self.version,
        }
    }

    pub fn enabled(&self) -> bool {
        self.definition.enabled
    }
}

/// What an admin writes: in the configuration file or through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDefinition {
    pub name: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// All must hold; none at all matches every appeal.
    #[serde(default)]
    pub when: Conditions,
    pub then: Action,
}

fn enabled_by_default() -> bool {
    true
}

/// Conditions of a rule. Each one that is set must hold; a list holds when the fact is
/// any of its values, an empty list is no condition.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    // The enforcement.
    pub source_kinds: Vec<String>,
    pub source_ids: Vec<String>,
    pub batches: Vec<String>,
    pub policies: Vec<String>,
    pub kinds: Vec<String>,
    pub automated_detection: Vec<Automation>,
    pub automated_decision: Vec<Automation>,
    pub content_relations: Vec<ContentRelation>,
    // The appeal.
    pub channels: Vec<Channel>,
    pub identity_verified: Option<bool>,
    /// Language tags; `de` also holds for `de-AT`. Compared without regard to case.
    pub languages: Vec<String>,
    // The account's context.
    pub earlier_appeals: Option<CountRange>,
    pub upheld_decisions: Option<CountRange>,
    pub open_incident: Option<bool>,
}

/// A count between two bounds, both inclusive, either open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountRange {
    pub at_least: Option<u32>,
    pub at_most: Option<u32>,
}

impl CountRange {
    pub fn holds(self, count: u32) -> bool {
        self.at_least.is_none_or(|least| count >= least)
            && self.at_most.is_none_or(|most| count <= most)
    }
}

/// What the deciding rule does with the appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Triage it now: into `queue` at `priority`, with `tags`. `four_eyes` asks for a
    /// second approver on top of whatever the enforcement's policy asks; a rule never
    /// removes one.
    Triage {
        queue: String,
        #[serde(default = "normal_priority")]
        priority: Priority,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        four_eyes: bool,
    },
    /// Leave it filed for a person to triage, and let no later rule decide it.
    LeaveForPerson,
}

fn normal_priority() -> Priority {
    Priority::Normal
}

impl Conditions {
    /// Whether a condition asks about the account's context, which costs queries.
    pub fn needs_context(&self) -> bool {
        self.earlier_appeals.is_some()
            || self.upheld_decisions.is_some()
            || self.open_incident.is_some()
    }

    fn needs_enforcement(&self) -> bool {
        !(self.source_kinds.is_empty()
            && self.source_ids.is_empty()
            && self.batches.is_empty()
            && self.policies.is_empty()
            && self.kinds.is_empty()
            && self.automated_detection.is_empty()
            && self.automated_decision.is_empty()
            && self.content_relations.is_empty())
    }

    /// Whether every condition holds for `facts`.
    pub fn matches(&self, facts: &Facts) -> bool {
        self.enforcement_matches(facts) && self.appeal_matches(facts) && self.context_matches(facts)
    }

    fn enforcement_matches(&self, facts: &Facts) -> bool {
        let Some(enforcement) = &facts.enforcement else {
            return !self.needs_enforcement();
        };
        any_of(&self.source_kinds, &enforcement.source_kind)
            && any_of(&self.source_ids, &enforcement.source_id)
            && (self.batches.is_empty()
                || enforcement
                    .batch
                    .as_ref()
                    .is_some_and(|batch| self.batches.contains(batch)))
            && any_of(&self.policies, &enforcement.policy)
            && any_of(&self.kinds, &enforcement.kind)
            && any_of_known(&self.automated_detection, enforcement.automated_detection)
            && any_of_known(&self.automated_decision, enforcement.automated_decision)
            && any_of_known(&self.content_relations, enforcement.content_relation)
    }

    fn appeal_matches(&self, facts: &Facts) -> bool {
        let appeal = &facts.appeal;
        (self.channels.is_empty() || self.channels.contains(&appeal.channel))
            && self
                .identity_verified
                .is_none_or(|wanted| wanted == appeal.identity_verified)
            && (self.languages.is_empty()
                || appeal.language.as_deref().is_some_and(|language| {
                    self.languages
                        .iter()
                        .any(|wanted| language_matches(wanted, language))
                }))
    }

    fn context_matches(&self, facts: &Facts) -> bool {
        if !self.needs_context() {
            return true;
        }
        let Some(context) = &facts.context else {
            return false;
        };
        self.earlier_appeals
            .is_none_or(|range| range.holds(context.earlier_appeals))
            && self
                .upheld_decisions
                .is_none_or(|range| range.holds(context.upheld_decisions))
            && self
                .open_incident
                .is_none_or(|wanted| wanted == context.open_incident)
    }
}

fn any_of(wanted: &[String], value: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| w == value)
}

fn any_of_known<T: PartialEq>(wanted: &[T], value: Option<T>) -> bool {
    wanted.is_empty() || value.is_some_and(|v| wanted.contains(&v))
}

/// `de` holds for `de` and `de-AT`, not for `den`.
fn language_matches(wanted: &str, language: &str) -> bool {
    let (wanted, language) = (wanted.to_ascii_lowercase(), language.to_ascii_lowercase());
    language == wanted
        || language
            .strip_prefix(&wanted)
            .is_some_and(|rest| rest.starts_with('-'))
}

/// Why a rule definition is refused; `field` names it as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct RuleError {
    pub field: &'static str,
    pub reason: String,
}

impl RuleError {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

impl RuleDefinition {
    /// Checks what the types cannot: names, lengths, ranges.
    pub fn validate(&self) -> Result<(), RuleError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(RuleError::new("name", "must not be empty"));
        }
        if self.name.chars().count() > MAX_NAME_CHARS {
            return Err(RuleError::new(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters"),
            ));
        }
        no_nul("name", &self.name)?;
        let when = &self.when;
        for (field, values) in [
            ("sourceKinds", &when.source_kinds),
            ("sourceIds", &when.source_ids),
            ("batches", &when.batches),
            ("policies", &when.policies),
            ("kinds", &when.kinds),
            ("languages", &when.languages),
        ] {
            values_within_limits(field, values)?;
        }
        for (field, count) in [
            ("automatedDetection", when.automated_detection.len()),
            ("automatedDecision", when.automated_decision.len()),
            ("contentRelations", when.content_relations.len()),
            ("channels", when.channels.len()),
        ] {
            if count > MAX_VALUES {
                return Err(RuleError::new(
                    field,
                    format!("must list at most {MAX_VALUES} values"),
                ));
            }
        }
        for (field, range) in [
            ("earlierAppeals", when.earlier_appeals),
            ("upheldDecisions", when.upheld_decisions),
        ] {
            if let Some(CountRange {
                at_least: Some(least),
                at_most: Some(most),
            }) = range
            {
                if least > most {
                    return Err(RuleError::new(field, "atLeast must not exceed atMost"));
                }
            }
        }
        if let Action::Triage { queue, tags, .. } = &self.then {
            if queue.trim().is_empty() {
                return Err(RuleError::new("queue", "must not be empty"));
            }
            bounded("queue", queue)?;
            if tags.len() > MAX_TAGS {
                return Err(RuleError::new(
                    "tags",
                    format!("must list at most {MAX_TAGS} tags"),
                ));
            }
            for tag in tags {
                if tag.trim().is_empty() {
                    return Err(RuleError::new("tags", "a tag must not be empty"));
                }
                bounded("tags", tag)?;
            }
        }
        Ok(())
    }
}

fn values_within_limits(field: &'static str, values: &[String]) -> Result<(), RuleError> {
    if values.len() > MAX_VALUES {
        return Err(RuleError::new(
            field,
            format!("must list at most {MAX_VALUES} values"),
        ));
    }
    for value in values {
        if value.is_empty() {
            return Err(RuleError::new(field, "a value must not be empty"));
        }
        bounded(field, value)?;
    }
    Ok(())
}

fn bounded(field: &'static str, value: &str) -> Result<(), RuleError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(RuleError::new(
            field,
            format!("a value must be at most {MAX_VALUE_BYTES} bytes"),
        ));
    }
    no_nul(field, value)
}

fn no_nul(field: &'static str, value: &str) -> Result<(), RuleError> {
    if value.contains('\0') {
        return Err(RuleError::new(field, "must not contain NUL"));
    }
    Ok(())
}
