//! The demo's routing rules, and which appeals they triage as they are filed. The plan
//! asks the rules' own matcher (`redress_routing`) with the facts filing will have, so the
//! schedule knows which appeals a person still triages; the run checks that the engine
//! routed each appeal as planned.

use redress_core::{Channel, Priority};
use redress_engine::registry::{ContentRelation, NewEnforcement};
use redress_routing::{Action, AppealFacts, Conditions, EnforcementFacts, Facts, RuleDefinition};

use super::enforcements::{PlannedEnforcement, FAULTY_MODEL};
use super::PlannedAppeal;

/// The rule for the wave's own case, and where it sends it.
pub const SAVED_RULE: &str = "image-safety-v7.3: saved, not created";
pub const FAST_QUEUE: &str = "fast-lane";
/// The rule for mail in German from a sender a trusted server vouched for.
pub const GERMAN_RULE: &str = "German mail: German-speaking reviewers";
pub const GERMAN_QUEUE: &str = "general-de";

/// The rules in the order they are tried. Neither asks about the account's context, so
/// the plan knows every fact they look at.
pub fn rules() -> Vec<RuleDefinition> {
    vec![
        // Punished for what someone else made: those go first, and fast.
        RuleDefinition {
            name: SAVED_RULE.to_owned(),
            enabled: true,
            when: Conditions {
                source_ids: vec![FAULTY_MODEL.to_owned()],
                content_relations: vec![ContentRelation::Saved],
                ..Conditions::default()
            },
            then: Action::Triage {
                queue: FAST_QUEUE.to_owned(),
                priority: Priority::High,
                tags: vec![
                    format!("source:{FAULTY_MODEL}"),
                    "saved-not-created".to_owned(),
                ],
                four_eyes: false,
            },
        },
        // An unverified sender is left for a person, who judges whom they claim to be.
        RuleDefinition {
            name: GERMAN_RULE.to_owned(),
            enabled: true,
            when: Conditions {
                channels: vec![Channel::Email],
                languages: vec!["de".to_owned()],
                identity_verified: Some(true),
                ..Conditions::default()
            },
            then: Action::Triage {
                queue: GERMAN_QUEUE.to_owned(),
                priority: Priority::Normal,
                tags: vec!["lang:de".to_owned()],
                four_eyes: false,
            },
        },
    ]
}

/// What the rules will see of `appeal` when it is filed. Mail a trusted server vouched for
/// is linked to its account and so to the enforcement, and carries its Content-Language;
/// a direct message comes from a handle nobody has linked yet.
pub fn facts_at_filing(appeal: &PlannedAppeal, enforcement: &PlannedEnforcement) -> Facts {
    let email = appeal.channel == Channel::Email;
    let verified = email && appeal.sender_verified;
    Facts {
        enforcement: verified.then(|| enforcement_facts(&enforcement.record)),
        appeal: AppealFacts {
            channel: appeal.channel,
            identity_verified: verified,
            language: email.then(|| appeal.language.code().to_owned()),
        },
        context: None,
    }
}

/// The rule (its place in `rules`) that triages an appeal with `facts` as it is filed;
/// `None` when it waits for a person, because no rule matches or the deciding rule leaves
/// it to one.
pub fn deciding_rule(rules: &[RuleDefinition], facts: &Facts) -> Option<usize> {
    let (index, rule) = rules
        .iter()
        .enumerate()
        .find(|(_, rule)| rule.enabled && rule.when.matches(facts))?;
    matches!(rule.then, Action::Triage { .. }).then_some(index)
}

/// The enforcement as the engine's routing reads it from the stored row.
fn enforcement_facts(record: &NewEnforcement) -> EnforcementFacts {
    EnforcementFacts {
        source_kind: record.source_kind.clone(),
        source_id: record.source_id.clone(),
        batch: record.batch_id.clone(),
        policy: record.policy.clone(),
        kind: record.kind.clone(),
        automated_detection: record.automated_detection.parse().ok(),
        automated_decision: record.automated_decision.parse().ok(),
        content_relation: record
            .content_relation
            .as_deref()
            .and_then(|relation| relation.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::enforcements::Source;
    use super::*;

    fn facts(source_id: &str, relation: ContentRelation, language: &str) -> Facts {
        Facts {
            enforcement: Some(EnforcementFacts {
                source_kind: "model".to_owned(),
                source_id: source_id.to_owned(),
                batch: None,
                policy: Source::FaultyModel.policy().to_owned(),
                kind: "account_deactivation".to_owned(),
                automated_detection: None,
                automated_decision: None,
                content_relation: Some(relation),
            }),
            appeal: AppealFacts {
                channel: Channel::Email,
                identity_verified: true,
                language: Some(language.to_owned()),
            },
            context: None,
        }
    }

    #[test]
    fn the_rules_are_valid() {
        for rule in rules() {
            assert_eq!(rule.validate(), Ok(()), "{}", rule.name);
        }
    }

    #[test]
    fn saved_content_of_the_model_goes_fast_even_in_german() {
        let rules = rules();
        let saved = facts(FAULTY_MODEL, ContentRelation::Saved, "de");
        assert_eq!(deciding_rule(&rules, &saved), Some(0));
        let created = facts(FAULTY_MODEL, ContentRelation::Created, "de");
        assert_eq!(deciding_rule(&rules, &created), Some(1));
        let elsewhere = facts("spam-links-r12", ContentRelation::Saved, "fr");
        assert_eq!(deciding_rule(&rules, &elsewhere), None);
    }

    #[test]
    fn an_unlinked_sender_waits_for_a_person() {
        let rules = rules();
        let mut unverified = facts(FAULTY_MODEL, ContentRelation::Saved, "de");
        unverified.enforcement = None;
        unverified.appeal.identity_verified = false;
        assert_eq!(deciding_rule(&rules, &unverified), None);
        let mut disabled = rules.clone();
        disabled[0].enabled = false;
        let saved = facts(FAULTY_MODEL, ContentRelation::Saved, "en");
        assert_eq!(deciding_rule(&disabled, &saved), None);
    }
}
