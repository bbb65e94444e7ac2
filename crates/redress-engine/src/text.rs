//! Text from outside (mail, DMs, the API, the status page) on its way to the database.
//!
//! PostgreSQL stores no U+0000 in `text` or `jsonb`, while SQLite does: left alone, a NUL in
//! a subject or a DM would be kept on one backend and refused on the other, and a refusal
//! by the database looked like an outage, so the sender retried for ever. Every use case
//! that stores outside text therefore passes it through [`WithoutNul`] first, which
//! replaces U+0000 with U+FFFD, the character Unicode keeps for one that could not be
//! represented. Nothing else is changed: the appeal is kept, readable, on both backends.

use std::borrow::Cow;

use redress_core::{Actor, Command, DecisionTemplate, Policy};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// What U+0000 becomes.
pub const NUL_REPLACEMENT: char = '\u{FFFD}';

/// `text` with every U+0000 replaced by [`NUL_REPLACEMENT`]; borrowed when there is none.
pub fn without_nul(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// A value whose text can be stored on every backend once its NULs are replaced.
pub trait WithoutNul: Sized {
    #[must_use]
    fn without_nul(self) -> Self;
}

impl WithoutNul for String {
    fn without_nul(self) -> Self {
        match without_nul(&self) {
            Cow::Borrowed(_) => self,
            Cow::Owned(replaced) => replaced,
        }
    }
}

impl<T: WithoutNul> WithoutNul for Option<T> {
    fn without_nul(self) -> Self {
        self.map(WithoutNul::without_nul)
    }
}

impl<T: WithoutNul> WithoutNul for Vec<T> {
    fn without_nul(self) -> Self {
        self.into_iter().map(WithoutNul::without_nul).collect()
    }
}

/// Keys too: PostgreSQL refuses a `jsonb` object whose key holds `\u0000`.
impl WithoutNul for Value {
    fn without_nul(self) -> Self {
        if !has_nul(&self) {
            return self;
        }
        match self {
            Value::String(text) => Value::String(text.without_nul()),
            Value::Array(items) => Value::Array(items.without_nul()),
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, value)| (key.without_nul(), value.without_nul()))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// Through the command's JSON form, so a text field added to any command, or to a statement
/// of reasons inside one, is covered without being listed here.
impl WithoutNul for Command {
    fn without_nul(self) -> Self {
        via_json(self)
    }
}

/// Through the JSON form, as a command: every text of a policy, its texts' keys included.
impl WithoutNul for Policy {
    fn without_nul(self) -> Self {
        via_json(self)
    }
}

/// Through the JSON form, so the statement draft's texts are covered too.
impl WithoutNul for DecisionTemplate {
    fn without_nul(self) -> Self {
        via_json(self)
    }
}

impl WithoutNul for Actor {
    fn without_nul(self) -> Self {
        via_json(self)
    }
}

/// `value` with the NULs of its JSON form replaced, read back as `T`; `value` itself when
/// it has none (the usual case costs one serialisation and no copy). A value whose JSON
/// form does not read back is returned as it was, and the database's refusal of it is
/// reported as bad input (`EngineError::from`).
pub(crate) fn via_json<T: Serialize + DeserializeOwned>(value: T) -> T {
    let Ok(json) = serde_json::to_value(&value) else {
        return value;
    };
    if !has_nul(&json) {
        return value;
    }
    serde_json::from_value(json.without_nul()).unwrap_or(value)
}

/// Whether any string or key of `json` holds U+0000; reads without copying.
pub(crate) fn has_nul(json: &Value) -> bool {
    match json {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || has_nul(value)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use redress_core::{
        Automation, Ground, Outcome, RedressOption, Restriction, RestrictionKind, Role,
        StatementOfReasons, TerritorialScope,
    };
    use serde_json::json;

    use super::*;

    #[test]
    fn replaces_every_nul_and_nothing_else() {
        assert_eq!(without_nul("a\0b\0\0c"), "a\u{FFFD}b\u{FFFD}\u{FFFD}c");
        assert!(matches!(
            without_nul("plain é ✓"),
            Cow::Borrowed("plain é ✓")
        ));
        assert_eq!(String::from("\0").without_nul(), "\u{FFFD}");
        assert_eq!(
            Some(vec![String::from("x\0")]).without_nul(),
            Some(vec![String::from("x\u{FFFD}")])
        );
    }

    #[test]
    fn json_keys_and_nested_strings_lose_their_nuls() {
        let value = json!({ "a\0": [1, "b\0", { "c": "\0" }], "n": null, "t": true });
        assert_eq!(
            value.without_nul(),
            json!({ "a\u{FFFD}": [1, "b\u{FFFD}", { "c": "\u{FFFD}" }], "n": null, "t": true })
        );
    }

    fn statement(text: &str) -> StatementOfReasons {
        let at = Utc
            .with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("date");
        StatementOfReasons {
            restrictions: vec![Restriction {
                kind: RestrictionKind::AccountSuspended,
                starts_at: at,
                ends_at: None,
            }],
            territorial_scope: TerritorialScope::Countries {
                countries: vec![format!("D{text}")],
            },
            facts: format!("facts{text}"),
            automated_detection: Automation::Fully,
            automated_decision: Automation::Not,
            ground: Ground::IncompatibleWithTerms {
                clause: format!("clause{text}"),
                explanation: format!("explanation{text}"),
            },
            redress: vec![RedressOption::JudicialRedress],
        }
    }

    #[test]
    fn commands_lose_nuls_in_every_text_field_even_nested_ones() {
        let with = |text: &str| Command::Decide {
            outcome: Outcome::Uphold,
            reasons: format!("reasons{text}"),
            statement: Some(statement(text)),
            manifestly_unfounded: false,
            template: None,
        };
        assert_eq!(with("\0").without_nul(), with("\u{FFFD}"));
        let triage = |text: &str| Command::Triage {
            priority: redress_core::Priority::High,
            queue: format!("q{text}"),
            tags: vec![format!("t{text}")],
            identity_verified: true,
            four_eyes: false,
            link: None,
        };
        assert_eq!(triage("\0").without_nul(), triage("\u{FFFD}"));
        let clean = triage("");
        assert_eq!(clean.clone().without_nul(), clean);
    }

    #[test]
    fn actors_lose_nuls() {
        assert_eq!(
            Actor::staff("ana\0", [Role::Reviewer]).without_nul(),
            Actor::staff("ana\u{FFFD}", [Role::Reviewer])
        );
    }
}
