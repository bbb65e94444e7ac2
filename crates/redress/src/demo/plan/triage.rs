//! Triage by hand, of the appeals the routing rules leave to a person (direct messages,
//! mail nobody vouched for, everything but the model's saved content and German mail): a
//! triager reads the case and sets its queue, priority and tags. [`triage_by_hand`] is
//! the one place that decides.

use redress_core::{Channel, Priority};
use redress_engine::registry::ContentRelation;

use super::Language;

/// What a triager sees of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealFacts {
    pub channel: Channel,
    pub language: Language,
    /// The enforcement's source id (`image-safety-v7.3`, `spam-links-r12`, ...).
    pub source_id: String,
    pub relation: Option<ContentRelation>,
    /// Whether the channel (or a confirmed handle) proved the sender holds the account.
    pub identity_verified: bool,
}

/// Where a case goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub queue: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub identity_verified: bool,
}

/// The triage decision a person makes for a case with these facts.
pub fn triage_by_hand(facts: &AppealFacts, default_queue: &str) -> Triage {
    let mut tags = vec![format!("lang:{}", facts.language.code())];
    if facts.channel != Channel::Email {
        tags.push("dm".to_owned());
    }
    tags.push(format!("source:{}", facts.source_id));
    // The wave's own case: punished for what someone else made. Those go first.
    let priority = match facts.relation {
        Some(ContentRelation::Saved) => {
            tags.push("saved-not-created".to_owned());
            Priority::High
        }
        Some(ContentRelation::Shared) => {
            tags.push("shared-not-created".to_owned());
            Priority::Normal
        }
        Some(ContentRelation::Created) | None => Priority::Normal,
    };
    if !facts.identity_verified {
        tags.push("identity-unverified".to_owned());
    }
    Triage {
        queue: default_queue.to_owned(),
        priority,
        tags,
        identity_verified: facts.identity_verified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(relation: ContentRelation, verified: bool) -> AppealFacts {
        AppealFacts {
            channel: Channel::Instagram,
            language: Language::Pt,
            source_id: "image-safety-v7.3".to_owned(),
            relation: Some(relation),
            identity_verified: verified,
        }
    }

    #[test]
    fn saved_content_goes_first_and_is_tagged() {
        let triage = triage_by_hand(&facts(ContentRelation::Saved, true), "general");
        assert_eq!(triage.priority, Priority::High);
        assert_eq!(
            triage.tags,
            [
                "lang:pt",
                "dm",
                "source:image-safety-v7.3",
                "saved-not-created"
            ]
        );
        assert_eq!(triage.queue, "general");
    }

    #[test]
    fn an_unverified_sender_stays_unverified_and_says_so() {
        let triage = triage_by_hand(&facts(ContentRelation::Created, false), "general");
        assert_eq!(triage.priority, Priority::Normal);
        assert!(!triage.identity_verified);
        assert!(triage.tags.contains(&"identity-unverified".to_owned()));
    }
}
