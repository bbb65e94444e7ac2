//! The policy catalog and decision templates of a deployment, and filling a template for
//! one appeal: its reasons and a statement of reasons that starts from the enforcement's.
//!
//! The catalog comes from configuration and is checked once, when it is built: a template
//! naming an unknown policy or placeholder stops the start instead of a reviewer's work.
//! The appellant's language is the case's `language:xx` tag (decided at filing, see
//! `crate::language`, and changed at triage or by a routing rule); their notices are
//! written in it, and its templates are offered first.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use redress_core::policy::{self, PlaceholderError};
use redress_core::statement::{Ground, Restriction, RestrictionKind};
use redress_core::{
    Automation, DecisionTemplate, GroundKind, Outcome, Policy, RedressOption, StatementOfReasons,
    TerritorialScope,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::registry::{ContentRelation, Enforcement};
use crate::repo::appeals::StoredAppeal;

pub use redress_core::language::LANGUAGE_TAG;

/// The appellant's language, from the case's `language:xx` tag.
pub fn appellant_language(tags: &[String]) -> Option<String> {
    redress_core::language::from_tags(tags)
}

/// The policies and templates of a deployment, checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyCatalog {
    /// Templates in this language are offered when none is in the appellant's.
    default_language: String,
    policies: Vec<Policy>,
    templates: Vec<DecisionTemplate>,
}

impl Default for PolicyCatalog {
    fn default() -> Self {
        Self {
            default_language: "en".to_owned(),
            policies: Vec::new(),
            templates: Vec::new(),
        }
    }
}

/// Why a catalog cannot be used; names the policy or template and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    #[error("policies: {0:?} is configured twice")]
    DuplicatePolicy(String),
    #[error("decision_templates: {0:?} is configured twice")]
    DuplicateTemplate(String),
    #[error("decision_templates.{template}: policy {policy:?} is not configured")]
    UnknownPolicy { template: String, policy: String },
    #[error("decision_templates.{template}.{source}")]
    Placeholder {
        template: String,
        source: PlaceholderError,
    },
    /// Any other field of a policy or template: empty, or not of its form.
    #[error("{entry}.{field}: {reason}")]
    Invalid {
        /// `policies.<id>` or `decision_templates.<id>`.
        entry: String,
        field: String,
        reason: String,
    },
}

impl CatalogError {
    /// The field at fault, as the policy's or template's own field names it
    /// (`texts.de.title`, `reasons`, `statement.facts`, `policy`).
    pub fn field(&self) -> String {
        match self {
            CatalogError::DuplicatePolicy(_) | CatalogError::DuplicateTemplate(_) => {
                "id".to_owned()
            }
            CatalogError::UnknownPolicy { .. } => "policy".to_owned(),
            CatalogError::Placeholder { source, .. } => source.field().to_owned(),
            CatalogError::Invalid { field, .. } => field.clone(),
        }
    }
}

fn invalid(entry: String, field: impl Into<String>, reason: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        entry,
        field: field.into(),
        reason: reason.into(),
    }
}

/// An id that names a policy or template: letters, digits, `-`, `_` and `.`, as
/// enforcements and configuration write them.
fn well_formed_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The most characters of a title, a policy's or a template's.
pub const TITLE_LIMIT: usize = 200;
/// The most characters of a policy's ground (a reference into the terms).
pub const GROUND_LIMIT: usize = 500;
/// The most characters of an explanation, the reasons and the facts: what the
/// Transparency Database takes for a statement's facts, so a filled template fits there.
pub const TEXT_LIMIT: usize = redress_core::statement::FACTS_LIMIT;

/// Refuses `value` when it holds more than `limit` characters.
fn within(
    entry: impl FnOnce() -> String,
    field: impl FnOnce() -> String,
    value: &str,
    limit: usize,
) -> Result<(), CatalogError> {
    if value.chars().count() > limit {
        return Err(invalid(
            entry(),
            field(),
            format!("is limited to {limit} characters"),
        ));
    }
    Ok(())
}

const LANGUAGE_FORM: &str = "must be a primary language subtag in lower case, such as `en` or `de`";

/// Checks that a policy's category is one the Transparency Database takes (the categories
/// of its API v2): a policy's statements are reported under it. It is checked where an
/// entry is written (the configuration, an edit), not where stored entries are read, so
/// an entry written before the check stays in force until someone edits it.
pub fn check_category(policy: &Policy) -> Result<(), CatalogError> {
    if policy::STATEMENT_CATEGORIES.contains(&policy.category.as_str()) {
        return Ok(());
    }
    Err(invalid(
        format!("policies.{}", policy.id),
        "category",
        format!(
            "{:?} is not a Transparency Database category; one of {}",
            policy.category,
            policy::STATEMENT_CATEGORIES.join(", ")
        ),
    ))
}

/// Checks one policy on its own.
pub fn check_policy(policy: &Policy) -> Result<(), CatalogError> {
    let entry = || format!("policies.{}", policy.id);
    if !well_formed_id(&policy.id) {
        return Err(invalid(
            entry(),
            "id",
            "must be letters, digits, `-`, `_` or `.`",
        ));
    }
    if policy.category.trim().is_empty() {
        return Err(invalid(entry(), "category", "must not be empty"));
    }
    within(
        entry,
        || "category".to_owned(),
        &policy.category,
        TITLE_LIMIT,
    )?;
    if policy.texts.is_empty() {
        return Err(invalid(
            entry(),
            "texts",
            "a policy needs a text (title, ground, explanation) in at least one language",
        ));
    }
    for (language, text) in &policy.texts {
        if !policy::is_catalog_language(language) {
            return Err(invalid(entry(), format!("texts.{language}"), LANGUAGE_FORM));
        }
        for (name, value) in [
            ("title", &text.title),
            ("ground", &text.ground),
            ("explanation", &text.explanation),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(
                    entry(),
                    format!("texts.{language}.{name}"),
                    "must not be empty",
                ));
            }
        }
        for (name, value, limit) in [
            ("title", &text.title, TITLE_LIMIT),
            ("ground", &text.ground, GROUND_LIMIT),
            ("explanation", &text.explanation, TEXT_LIMIT),
        ] {
            within(entry, || format!("texts.{language}.{name}"), value, limit)?;
        }
    }
    Ok(())
}

/// Checks one template on its own, all but whether its policy exists.
pub fn check_template(template: &DecisionTemplate) -> Result<(), CatalogError> {
    let entry = || format!("decision_templates.{}", template.id);
    if !well_formed_id(&template.id) {
        return Err(invalid(
            entry(),
            "id",
            "must be letters, digits, `-`, `_` or `.`",
        ));
    }
    if !policy::is_catalog_language(&template.language) {
        return Err(invalid(entry(), "language", LANGUAGE_FORM));
    }
    if template.title.trim().is_empty() {
        return Err(invalid(entry(), "title", "must not be empty"));
    }
    if template.reasons.trim().is_empty() {
        return Err(invalid(entry(), "reasons", "must not be empty"));
    }
    within(entry, || "title".to_owned(), &template.title, TITLE_LIMIT)?;
    within(
        entry,
        || "reasons".to_owned(),
        &template.reasons,
        TEXT_LIMIT,
    )?;
    for (field, text) in [
        ("statement.facts", &template.statement.facts),
        ("statement.explanation", &template.statement.explanation),
    ] {
        if let Some(text) = text {
            within(entry, || field.to_owned(), text, TEXT_LIMIT)?;
        }
    }
    for (field, text) in template.texts() {
        policy::check_placeholders(field, text).map_err(|source| CatalogError::Placeholder {
            template: template.id.clone(),
            source,
        })?;
    }
    template
        .statement
        .check()
        .map_err(|err| invalid(entry(), err.field, err.reason))
}

impl PolicyCatalog {
    pub fn new(
        default_language: &str,
        policies: Vec<Policy>,
        templates: Vec<DecisionTemplate>,
    ) -> Result<Self, CatalogError> {
        let mut ids = HashSet::new();
        for policy in &policies {
            if !ids.insert(policy.id.as_str()) {
                return Err(CatalogError::DuplicatePolicy(policy.id.clone()));
            }
            check_policy(policy)?;
        }
        let mut template_ids = HashSet::new();
        for template in &templates {
            if !template_ids.insert(template.id.as_str()) {
                return Err(CatalogError::DuplicateTemplate(template.id.clone()));
            }
            check_template(template)?;
            if !ids.contains(template.policy.as_str()) {
                return Err(CatalogError::UnknownPolicy {
                    template: template.id.clone(),
                    policy: template.policy.clone(),
                });
            }
        }
        Ok(Self {
            default_language: default_language.to_owned(),
            policies,
            templates,
        })
    }

    /// Every template, in every language.
    pub fn templates(&self) -> &[DecisionTemplate] {
        &self.templates
    }

    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id)
    }

    pub fn template(&self, id: &str) -> Option<&DecisionTemplate> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// The templates for `policy` and `outcome` (any when `None`) in `language`; where
    /// there is none in that language, those in the default language.
    pub fn templates_for(
        &self,
        policy: Option<&str>,
        outcome: Option<Outcome>,
        language: Option<&str>,
    ) -> Vec<&DecisionTemplate> {
        let matching = |language: &str| -> Vec<&DecisionTemplate> {
            self.templates
                .iter()
                .filter(|t| policy.is_none_or(|p| t.policy == p))
                .filter(|t| outcome.is_none_or(|o| t.outcome == o))
                .filter(|t| t.language == language)
                .collect()
        };
        let Some(language) = language else {
            return self
                .templates
                .iter()
                .filter(|t| policy.is_none_or(|p| t.policy == p))
                .filter(|t| outcome.is_none_or(|o| t.outcome == o))
                .collect();
        };
        let chosen = matching(language);
        if chosen.is_empty() {
            matching(&self.default_language)
        } else {
            chosen
        }
    }
}

/// A template filled for one appeal.
#[derive(Debug, Clone, PartialEq)]
pub struct FilledTemplate {
    pub template_id: String,
    pub language: String,
    pub reasons: String,
    pub statement: StatementOfReasons,
}

/// Why a template could not be filled for an appeal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FillError {
    #[error("no decision template {0:?} is configured")]
    UnknownTemplate(String),
    #[error("template {template}: {source}")]
    Placeholder {
        template: String,
        source: PlaceholderError,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Why a decision cannot name the template it says its reasons were written from.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateChoiceError {
    #[error("no decision template {0:?} is in force")]
    Unknown(String),
    #[error("decision template {template:?} is for the outcome {template_outcome}, not {decided}")]
    Outcome {
        template: String,
        template_outcome: &'static str,
        decided: &'static str,
    },
    #[error(
        "decision template {template:?} is for the policy {template_policy:?}, the appeal's enforcement for {enforcement_policy:?}"
    )]
    Policy {
        template: String,
        template_policy: String,
        enforcement_policy: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl Engine {
    /// Checks that a decision of `outcome` on the appeal may name `template_id`: the
    /// template is in force in the catalog as the database holds it now, is for that
    /// outcome, and, when the appeal's enforcement names a policy, is for that policy. The
    /// quality figures count decisions by template, so a wrong one would skew them.
    pub async fn check_decision_template(
        &self,
        appeal_id: Uuid,
        template_id: &str,
        outcome: Outcome,
    ) -> Result<(), TemplateChoiceError> {
        let catalog = self.current_policy_catalog().await?;
        let template = catalog
            .template(template_id)
            .ok_or_else(|| TemplateChoiceError::Unknown(template_id.to_owned()))?;
        if template.outcome != outcome {
            return Err(TemplateChoiceError::Outcome {
                template: template.id.clone(),
                template_outcome: template.outcome.as_str(),
                decided: outcome.as_str(),
            });
        }
        let stored = self.appeal(appeal_id).await?;
        let enforcement = match stored.appeal.enforcement_id {
            Some(id) => self.enforcement(id).await?,
            None => None,
        };
        if let Some(enforcement) = enforcement {
            if !enforcement.policy.is_empty() && enforcement.policy != template.policy {
                return Err(TemplateChoiceError::Policy {
                    template: template.id.clone(),
                    template_policy: template.policy.clone(),
                    enforcement_policy: enforcement.policy,
                });
            }
        }
        Ok(())
    }

    /// The language the appellant's notices are written in.
    pub fn appeal_language(&self, stored: &StoredAppeal) -> String {
        appellant_language(&stored.appeal.tags)
            .unwrap_or_else(|| self.policy_catalog().default_language.clone())
    }

    /// Fills `template_id` for the appeal: the placeholders from the case and its
    /// enforcement, the statement from the enforcement's own with the template's and the
    /// policy's parts laid over it. Nothing is written.
    pub async fn fill_decision_template(
        &self,
        appeal_id: Uuid,
        template_id: &str,
    ) -> Result<FilledTemplate, FillError> {
        let catalog = self.current_policy_catalog().await?;
        let template = catalog
            .template(template_id)
            .ok_or_else(|| FillError::UnknownTemplate(template_id.to_owned()))?;
        let stored = self.appeal(appeal_id).await?;
        let enforcement = match stored.appeal.enforcement_id {
            Some(id) => self.enforcement(id).await?,
            None => None,
        };
        fill_template(
            &catalog,
            template,
            &stored,
            enforcement.as_ref(),
            self.clock().now(),
        )
    }
}

/// [`Engine::fill_decision_template`] for an appeal and its enforcement already read: what a
/// bulk decision does for each appeal of a chunk.
pub fn fill_template(
    catalog: &PolicyCatalog,
    template: &DecisionTemplate,
    stored: &StoredAppeal,
    enforcement: Option<&Enforcement>,
    now: DateTime<Utc>,
) -> Result<FilledTemplate, FillError> {
    let policy = catalog.policy(&template.policy);
    let values = Values::of(stored, enforcement, policy, template, catalog);
    let placeholder = |source| FillError::Placeholder {
        template: template.id.clone(),
        source,
    };
    let fill = |field: &str, text: &str| policy::fill(field, text, |name| values.get(name));
    let reasons = fill("reasons", &template.reasons).map_err(placeholder)?;
    let facts = template
        .statement
        .facts
        .as_deref()
        .map(|text| fill("statement.facts", text))
        .transpose()
        .map_err(placeholder)?;
    let explanation = template
        .statement
        .explanation
        .as_deref()
        .map(|text| fill("statement.explanation", text))
        .transpose()
        .map_err(placeholder)?;
    let statement = draft_statement(
        enforcement,
        policy,
        template,
        &catalog.default_language,
        facts,
        explanation,
        now,
    );
    Ok(FilledTemplate {
        template_id: template.id.clone(),
        language: template.language.clone(),
        reasons,
        statement,
    })
}

/// The values of the placeholders for one appeal; a value the case does not have is
/// absent, so a template that needs it is refused with its name.
struct Values(BTreeMap<&'static str, String>);

impl Values {
    fn of(
        stored: &StoredAppeal,
        enforcement: Option<&Enforcement>,
        policy: Option<&Policy>,
        template: &DecisionTemplate,
        catalog: &PolicyCatalog,
    ) -> Self {
        let date = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
        let mut values = BTreeMap::from([
            ("reference", stored.reference.to_string()),
            ("policy_id", template.policy.clone()),
            ("filed_at", date(stored.appeal.filed_at)),
        ]);
        if let Some((_, text)) =
            policy.and_then(|p| p.text(&template.language, &catalog.default_language))
        {
            values.insert("policy_title", text.title.clone());
            values.insert("policy_ground", text.ground.clone());
        }
        if let Some(enforcement) = enforcement {
            values.insert("enforcement_kind", enforcement.kind.clone());
            values.insert("enforced_at", date(enforcement.enforced_at));
            if let Some(content) = &enforcement.content_id {
                values.insert("content_id", content.clone());
            }
            if let Some(relation) = enforcement.content_relation {
                values.insert(
                    "content_relation",
                    relation_in(relation, &template.language).to_owned(),
                );
            }
        }
        Self(values)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// What the account did with the content, as a past participle in the template's language.
fn relation_in(relation: ContentRelation, language: &str) -> &'static str {
    match (language, relation) {
        ("de", ContentRelation::Created) => "erstellt",
        ("de", ContentRelation::Saved) => "gespeichert",
        ("de", ContentRelation::Shared) => "geteilt",
        (_, ContentRelation::Created) => "created",
        (_, ContentRelation::Saved) => "saved",
        (_, ContentRelation::Shared) => "shared",
    }
}

/// The enforcement's statement (or one built from its fields), with the template's parts
/// and the policy's ground laid over it. An appeal's decision is a person's, so it is not
/// automated unless the template says how far it was.
fn draft_statement(
    enforcement: Option<&Enforcement>,
    policy: Option<&Policy>,
    template: &DecisionTemplate,
    default_language: &str,
    facts: Option<String>,
    explanation: Option<String>,
    now: DateTime<Utc>,
) -> StatementOfReasons {
    let enforced_at = enforcement.map_or(now, |e| e.enforced_at);
    let own: Option<StatementOfReasons> =
        enforcement.and_then(|e| serde_json::from_value(e.statement.clone()).ok());
    let draft = &template.statement;
    let restrictions = match (&draft.restrictions, &own) {
        (Some(kinds), own) => restrictions_of(kinds, own.as_ref(), enforced_at),
        (None, Some(own)) => own.restrictions.clone(),
        (None, None) => restrictions_of(
            policy.map_or(&[][..], |p| &p.restrictions),
            None,
            enforced_at,
        ),
    };
    let policy_text = policy.and_then(|p| p.text(&template.language, default_language));
    let explanation = explanation
        .or_else(|| policy_text.map(|(_, t)| t.explanation.clone()))
        .unwrap_or_default();
    let ground = match (policy, policy_text) {
        (Some(policy), Some((_, text))) => match policy.ground_kind {
            GroundKind::IncompatibleWithTerms => Ground::IncompatibleWithTerms {
                clause: text.ground.clone(),
                explanation,
            },
            GroundKind::IllegalContent => Ground::IllegalContent {
                legal_ground: text.ground.clone(),
                explanation,
            },
        },
        _ => own.as_ref().map_or_else(
            || Ground::IncompatibleWithTerms {
                clause: String::new(),
                explanation: explanation.clone(),
            },
            |s| s.ground.clone(),
        ),
    };
    StatementOfReasons {
        restrictions,
        territorial_scope: draft
            .territorial_scope
            .clone()
            .or_else(|| own.as_ref().map(|s| s.territorial_scope.clone()))
            .unwrap_or(TerritorialScope::Worldwide),
        facts: facts
            .or_else(|| own.as_ref().map(|s| s.facts.clone()))
            .or_else(|| enforcement.map(|e| e.facts.clone()))
            .unwrap_or_default(),
        automated_detection: draft
            .automated_detection
            .or_else(|| own.as_ref().map(|s| s.automated_detection))
            .or_else(|| enforcement.map(|e| e.automated_detection))
            .unwrap_or(Automation::Not),
        automated_decision: draft.automated_decision.unwrap_or(Automation::Not),
        ground,
        redress: draft
            .redress
            .clone()
            .or_else(|| own.as_ref().map(|s| s.redress.clone()))
            .filter(|options| !options.is_empty())
            .unwrap_or_else(|| {
                vec![
                    RedressOption::InternalComplaint,
                    RedressOption::OutOfCourtDisputeSettlement,
                    RedressOption::JudicialRedress,
                ]
            }),
    }
}

/// Restrictions of `kinds`, keeping the dates the enforcement's statement gave the same
/// kind, else starting when the enforcement did, until further notice.
fn restrictions_of(
    kinds: &[RestrictionKind],
    own: Option<&StatementOfReasons>,
    enforced_at: DateTime<Utc>,
) -> Vec<Restriction> {
    kinds
        .iter()
        .map(|&kind| {
            own.and_then(|s| s.restrictions.iter().find(|r| r.kind == kind))
                .cloned()
                .unwrap_or(Restriction {
                    kind,
                    starts_at: enforced_at,
                    ends_at: None,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use redress_core::PolicyText;

    use super::*;

    fn policy(id: &str) -> Policy {
        Policy {
            id: id.to_owned(),
            ground_kind: GroundKind::IncompatibleWithTerms,
            category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".to_owned(),
            restrictions: vec![RestrictionKind::AccountSuspended],
            texts: [(
                "en".to_owned(),
                PolicyText {
                    title: "Spam".to_owned(),
                    ground: "Community guidelines 4.2".to_owned(),
                    explanation: "No mass-posting.".to_owned(),
                },
            )]
            .into(),
        }
    }

    fn template(id: &str, language: &str, reasons: &str) -> DecisionTemplate {
        DecisionTemplate {
            id: id.to_owned(),
            policy: "spam".to_owned(),
            outcome: Outcome::Uphold,
            language: language.to_owned(),
            title: "Spam confirmed".to_owned(),
            reasons: reasons.to_owned(),
            statement: redress_core::StatementDraft::default(),
        }
    }

    #[test]
    fn the_language_tag_names_the_appellants_language() {
        let tags = vec!["vip".to_owned(), "language:de".to_owned()];
        assert_eq!(appellant_language(&tags).as_deref(), Some("de"));
        assert_eq!(appellant_language(&["language:".to_owned()]), None);
    }

    #[test]
    fn a_template_with_an_unknown_placeholder_or_policy_is_refused() {
        let error = PolicyCatalog::new(
            "en",
            vec![policy("spam")],
            vec![template("t", "en", "About {refrence}")],
        )
        .expect_err("typo");
        assert!(error.to_string().contains("{refrence}"), "{error}");
        assert!(
            error.to_string().starts_with("decision_templates.t."),
            "{error}"
        );
        let mut other = template("t", "en", "About {reference}");
        other.policy = "fraud".to_owned();
        let error =
            PolicyCatalog::new("en", vec![policy("spam")], vec![other]).expect_err("policy");
        assert!(matches!(error, CatalogError::UnknownPolicy { .. }));
    }

    #[test]
    fn templates_in_the_appellants_language_come_first_else_the_default() {
        let catalog = PolicyCatalog::new(
            "en",
            vec![policy("spam")],
            vec![
                template("en", "en", "About {reference}"),
                template("de", "de", "Zu {reference}"),
            ],
        )
        .expect("valid");
        let ids = |language| {
            catalog
                .templates_for(Some("spam"), Some(Outcome::Uphold), Some(language))
                .iter()
                .map(|t| t.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("de"), ["de"]);
        assert_eq!(ids("fr"), ["en"]);
        assert!(catalog
            .templates_for(Some("spam"), Some(Outcome::Restore), Some("de"))
            .is_empty());
    }
}
