//! The policy catalog and decision templates: what each policy says, in each language, and
//! the prepared reasons a reviewer starts a decision from.
//!
//! A template's texts hold placeholders, `{name}` with a name from [`PLACEHOLDERS`]. A
//! template naming any other placeholder is refused when the catalog is built, and a
//! placeholder without a value for the appeal is refused when the template is filled, so a
//! decision never reaches the appellant with a `{reference}` in it.

use serde::{Deserialize, Serialize};

/// The statement categories of the EU Transparency Database's API v2, which a policy's
/// statements are reported under (the engine's mapping and the catalog's checks read them).
pub const STATEMENT_CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];

use crate::state::{wire_enum, Outcome};
use crate::statement::{Automation, RedressOption, RestrictionKind, TerritorialScope};

wire_enum!(
    /// Which of the two grounds of Art. 17(3)(d) and (e) a policy rests on.
    GroundKind, "ground kind" {
        IncompatibleWithTerms => "incompatible_with_terms",
        IllegalContent => "illegal_content",
    }
);

/// What a policy says in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyText {
    pub title: String,
    /// The terms clause, or the legal provision for illegal content.
    pub ground: String,
    /// What the policy means, in plain language.
    pub explanation: String,
}

/// One policy of the platform's terms or one legal ground the platform enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The name enforcements give the policy (`Enforcement.policy`).
    pub id: String,
    pub ground_kind: GroundKind,
    /// The Transparency Database category, e.g. `STATEMENT_CATEGORY_SCAMS_AND_FRAUD`.
    pub category: String,
    /// The restrictions usually imposed under it.
    #[serde(default)]
    pub restrictions: Vec<RestrictionKind>,
    /// The texts, by language code (`en`, `de`).
    pub texts: std::collections::BTreeMap<String, PolicyText>,
}

impl Policy {
    /// The text in `language`, else in `fallback`, else any.
    pub fn text(&self, language: &str, fallback: &str) -> Option<(&str, &PolicyText)> {
        self.texts
            .get_key_value(language)
            .or_else(|| self.texts.get_key_value(fallback))
            .or_else(|| self.texts.iter().next())
            .map(|(language, text)| (language.as_str(), text))
    }
}

/// The statement of reasons a template fills in; what it leaves out comes from the
/// enforcement's own statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDraft {
    #[serde(default)]
    pub restrictions: Option<Vec<RestrictionKind>>,
    #[serde(default)]
    pub territorial_scope: Option<TerritorialScope>,
    /// May hold placeholders.
    #[serde(default)]
    pub facts: Option<String>,
    /// The ground's explanation; may hold placeholders. The policy's own explanation when
    /// left out.
    #[serde(default)]
    pub explanation: Option<String>,
    #[serde(default)]
    pub automated_detection: Option<Automation>,
    #[serde(default)]
    pub automated_decision: Option<Automation>,
    #[serde(default)]
    pub redress: Option<Vec<RedressOption>>,
}

impl StatementDraft {
    /// Checks what the draft sets the way a full statement's same fields are checked, so a
    /// template cannot prefill what a decision would refuse. Names the field under
    /// `statement.`.
    pub fn check(&self) -> Result<(), DraftError> {
        let invalid = |field: &'static str, reason: &'static str| DraftError { field, reason };
        if let Some(restrictions) = &self.restrictions {
            if restrictions.is_empty() {
                return Err(invalid(
                    "statement.restrictions",
                    "must name at least one restriction, or be left out",
                ));
            }
            if has_duplicates(restrictions) {
                return Err(invalid(
                    "statement.restrictions",
                    "names a restriction twice",
                ));
            }
            let account_measures = restrictions
                .iter()
                .filter(|k| k.family() == crate::statement::RestrictionFamily::Account)
                .count();
            if account_measures > 1 {
                return Err(invalid(
                    "statement.restrictions",
                    "an account is either suspended or terminated, not both",
                ));
            }
        }
        if let Some(TerritorialScope::Countries { countries }) = &self.territorial_scope {
            let well_formed =
                |code: &String| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase());
            if countries.is_empty() {
                return Err(invalid(
                    "statement.territorial_scope.countries",
                    "must name at least one country",
                ));
            }
            if !countries.iter().all(well_formed) {
                return Err(invalid(
                    "statement.territorial_scope.countries",
                    "must be ISO 3166-1 alpha-2 codes in upper case",
                ));
            }
            if has_duplicates(countries) {
                return Err(invalid(
                    "statement.territorial_scope.countries",
                    "names a country twice",
                ));
            }
        }
        for (field, text) in [
            ("statement.facts", &self.facts),
            ("statement.explanation", &self.explanation),
        ] {
            if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
                return Err(invalid(field, "must not be empty, or be left out"));
            }
        }
        if let Some(redress) = &self.redress {
            if redress.is_empty() {
                return Err(invalid(
                    "statement.redress",
                    "must name at least one redress option, or be left out",
                ));
            }
            if has_duplicates(redress) {
                return Err(invalid("statement.redress", "names an option twice"));
            }
        }
        Ok(())
    }
}

fn has_duplicates<T: PartialEq>(values: &[T]) -> bool {
    values
        .iter()
        .enumerate()
        .any(|(i, v)| values[..i].contains(v))
}

/// Why a template's statement draft would prefill a statement the decision refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct DraftError {
    pub field: &'static str,
    pub reason: &'static str,
}

/// Whether `language` is how catalogs key a language: a primary language subtag in lower
/// case (`de`, not `de-AT` or `DE`), as the case's `language:` tag records it.
pub fn is_catalog_language(language: &str) -> bool {
    crate::language::primary_language(language).as_deref() == Some(language)
}

/// Prepared reasons for one policy, outcome and language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionTemplate {
    pub id: String,
    pub policy: String,
    pub outcome: Outcome,
    pub language: String,
    /// What a reviewer picks it by.
    pub title: String,
    /// The reasons sent to the appellant; may hold placeholders.
    pub reasons: String,
    #[serde(default)]
    pub statement: StatementDraft,
}

impl DecisionTemplate {
    /// Every text of the template that may hold placeholders, with the field it is in.
    pub fn texts(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            Some(("reasons", self.reasons.as_str())),
            self.statement
                .facts
                .as_deref()
                .map(|t| ("statement.facts", t)),
            self.statement
                .explanation
                .as_deref()
                .map(|t| ("statement.explanation", t)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "reference",
    "policy_id",
    "policy_title",
    "policy_ground",
    "enforcement_kind",
    "content_id",
    "content_relation",
    "enforced_at",
    "filed_at",
];

/// Why a template cannot be used or filled; names the placeholder and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlaceholderError {
    #[error(
        "{field}: unknown placeholder {{{name}}}; templates may use {}",
        known()
    )]
    Unknown { field: String, name: String },
    #[error("{field}: the placeholder {{{name}}} has no value for this appeal")]
    Unfilled { field: String, name: String },
}

impl PlaceholderError {
    pub fn placeholder(&self) -> &str {
        match self {
            PlaceholderError::Unknown { name, .. } | PlaceholderError::Unfilled { name, .. } => {
                name
            }
        }
    }

    pub fn field(&self) -> &str {
        match self {
            PlaceholderError::Unknown { field, .. } | PlaceholderError::Unfilled { field, .. } => {
                field
            }
        }
    }
}

fn known() -> String {
    PLACEHOLDERS
        .iter()
        .map(|name| format!("{{{name}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `{name}` where name is lower-case letters and underscores; other braces are text.
fn placeholders(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(offset) = text[from..].find('{') {
            let start = from + offset;
            let rest = &text[start + 1..];
            let name_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if name_len > 0 && rest.as_bytes().get(name_len) == Some(&b'}') {
                let end = start + name_len + 2;
                from = end;
                return Some((start, end, &rest[..name_len]));
            }
            from = start + 1;
        }
        None
    })
}

/// Refuses a text that names a placeholder not in [`PLACEHOLDERS`].
pub fn check_placeholders(field: &str, text: &str) -> Result<(), PlaceholderError> {
    match placeholders(text).find(|(_, _, name)| !PLACEHOLDERS.contains(name)) {
        Some((_, _, name)) => Err(PlaceholderError::Unknown {
            field: field.to_owned(),
            name: name.to_owned(),
        }),
        None => Ok(()),
    }
}

/// The first known placeholder left in `text`: a decision carrying one was sent unfilled.
pub fn unfilled_placeholder(text: &str) -> Option<&'static str> {
    placeholders(text).find_map(|(_, _, name)| PLACEHOLDERS.iter().copied().find(|p| *p == name))
}

/// Replaces every placeholder in `text` with its value; `value` answers `None` for a
/// placeholder that has no value for this appeal.
pub fn fill<'a>(
    field: &str,
    text: &str,
    value: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, PlaceholderError> {
    let mut out = String::with_capacity(text.len() + 32);
    let mut copied = 0;
    for (start, end, name) in placeholders(text) {
        if !PLACEHOLDERS.contains(&name) {
            return Err(PlaceholderError::Unknown {
                field: field.to_owned(),
                name: name.to_owned(),
            });
        }
        let filled = value(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| PlaceholderError::Unfilled {
                field: field.to_owned(),
                name: name.to_owned(),
            })?;
        out.push_str(&text[copied..start]);
        out.push_str(filled);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<&'static str> {
        match name {
            "reference" => Some("RDR-7K3Q-9M2X"),
            "policy_title" => Some("Spam"),
            // `content_relation` among them: the case has no value for it.
            _ => None,
        }
    }

    #[test]
    fn known_placeholders_are_filled() {
        let filled = fill("reasons", "Appeal {reference}: {policy_title}.", values);
        assert_eq!(filled.as_deref(), Ok("Appeal RDR-7K3Q-9M2X: Spam."));
    }

    #[test]
    fn braces_that_are_no_placeholder_stay_text() {
        let text = "A set {1, 2} and {Capital} and { spaced } and {unclosed";
        assert_eq!(fill("reasons", text, values).as_deref(), Ok(text));
        assert_eq!(check_placeholders("reasons", text), Ok(()));
    }

    #[test]
    fn an_unknown_placeholder_is_named() {
        let error = fill("statement.facts", "See {refrence}.", values).expect_err("typo");
        assert_eq!(error.placeholder(), "refrence");
        assert_eq!(error.field(), "statement.facts");
        assert!(error.to_string().contains("{refrence}"), "{error}");
        assert!(check_placeholders("reasons", "{refrence}").is_err());
    }

    #[test]
    fn a_placeholder_without_a_value_is_named() {
        let error = fill("reasons", "You {content_relation} it.", values).expect_err("no value");
        assert_eq!(
            error,
            PlaceholderError::Unfilled {
                field: "reasons".to_owned(),
                name: "content_relation".to_owned()
            }
        );
    }

    #[test]
    fn a_sent_text_with_a_known_placeholder_is_unfilled() {
        assert_eq!(
            unfilled_placeholder("Your appeal {reference}"),
            Some("reference")
        );
        assert_eq!(unfilled_placeholder("Your appeal {1} {Reference}"), None);
    }

    #[test]
    fn a_policy_text_falls_back_to_the_default_language() {
        let policy = Policy {
            id: "spam".into(),
            ground_kind: GroundKind::IncompatibleWithTerms,
            category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".into(),
            restrictions: vec![],
            texts: [(
                "en".to_owned(),
                PolicyText {
                    title: "Spam".into(),
                    ground: "4.2".into(),
                    explanation: "x".into(),
                },
            )]
            .into(),
        };
        assert_eq!(policy.text("de", "en").map(|(l, _)| l), Some("en"));
    }
}
