//! Property tests of the matcher: first match wins, disabled rules never match, and the
//! order decides between rules that both match.

use proptest::prelude::*;
use redress_core::{Automation, Channel, Priority};
use redress_routing::{
    Action, AppealFacts, Conditions, ContentRelation, ContextFacts, CountRange, EnforcementFacts,
    Facts, Rule, RuleDefinition, RuleSet,
};
use uuid::Uuid;

const SOURCES: &[&str] = &["model", "rule", "human"];
const POLICIES: &[&str] = &["spam", "csam", "impersonation"];

fn automation() -> impl Strategy<Value = Automation> {
    prop::sample::select(Automation::ALL.to_vec())
}

fn relation() -> impl Strategy<Value = ContentRelation> {
    prop::sample::select(ContentRelation::ALL.to_vec())
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(Channel::ALL.to_vec())
}

fn name_of(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(list).prop_map(str::to_owned)
}

fn count_range() -> impl Strategy<Value = Option<CountRange>> {
    prop::option::of(
        (prop::option::of(0u32..4), prop::option::of(0u32..4))
            .prop_map(|(at_least, at_most)| CountRange { at_least, at_most }),
    )
}

/// Conditions drawn from small vocabularies, so that random rules often match.
fn conditions() -> impl Strategy<Value = Conditions> {
    (
        prop::collection::vec(name_of(SOURCES), 0..2),
        prop::collection::vec(name_of(POLICIES), 0..2),
        prop::collection::vec(automation(), 0..2),
        prop::collection::vec(relation(), 0..2),
        prop::collection::vec(channel(), 0..2),
        prop::option::of(any::<bool>()),
        prop::collection::vec(prop::sample::select(vec!["de", "en", "fr-CA"]), 0..2),
        count_range(),
        count_range(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(
                source_kinds,
                policies,
                automated_decision,
                content_relations,
                channels,
                identity_verified,
                languages,
                earlier_appeals,
                upheld_decisions,
                open_incident,
            )| Conditions {
                source_kinds,
                policies,
                automated_decision,
                content_relations,
                channels,
                identity_verified,
                languages: languages.into_iter().map(str::to_owned).collect(),
                earlier_appeals,
                upheld_decisions,
                open_incident,
                ..Conditions::default()
            },
        )
}

fn rule() -> impl Strategy<Value = Rule> {
    (conditions(), any::<bool>(), 1i64..5, any::<bool>()).prop_map(
        |(when, enabled, version, leave)| Rule {
            id: Uuid::now_v7(),
            version,
            definition: RuleDefinition {
                name: "rule".into(),
                enabled,
                when,
                then: if leave {
                    Action::LeaveForPerson
                } else {
                    Action::Triage {
                        queue: "fast-lane".into(),
                        priority: Priority::High,
                        tags: vec![],
                        four_eyes: false,
                    }
                },
            },
        },
    )
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::option::of((
            name_of(SOURCES),
            name_of(POLICIES),
            automation(),
            prop::option::of(relation()),
        )),
        channel(),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["de", "de-AT", "en", "fr"])),
        prop::option::of((0u32..4, 0u32..4, any::<bool>())),
    )
        .prop_map(
            |(enforcement, channel, identity_verified, language, context)| Facts {
                enforcement: enforcement.map(
                    |(source_kind, policy, decision, content_relation)| EnforcementFacts {
                        source_kind,
                        source_id: "v7".into(),
                        batch: None,
                        policy,
                        kind: "suspension".into(),
                        automated_detection: Some(Automation::Fully),
                        automated_decision: Some(decision),
                        content_relation,
                    },
                ),
                appeal: AppealFacts {
                    channel,
                    identity_verified,
                    language: language.map(str::to_owned),
                },
                context: context.map(|(earlier_appeals, upheld_decisions, open_incident)| {
                    ContextFacts {
                        earlier_appeals,
                        upheld_decisions,
                        open_incident,
                    }
                }),
            },
        )
}

fn rules() -> impl Strategy<Value = Vec<Rule>> {
    prop::collection::vec(rule(), 0..12)
}

fn position(rules: &[Rule], found: Option<&Rule>) -> Option<usize> {
    found.and_then(|found| rules.iter().position(|rule| rule.id == found.id))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// The deciding rule matches, is enabled, and no enabled rule before it matches; when
    /// none decides, no enabled rule matches at all.
    #[test]
    fn the_first_enabled_matching_rule_wins(rules in rules(), facts in facts()) {
        let set = RuleSet::new(rules.clone());
        let found = set.first_match(&facts);
        let cut = position(&rules, found).unwrap_or(rules.len());
        if let Some(found) = found {
            prop_assert!(found.enabled());
            prop_assert!(found.definition.when.matches(&facts));
        }
        for earlier in &rules[..cut] {
            prop_assert!(!(earlier.enabled() && earlier.definition.when.matches(&facts)));
        }
    }

    /// A disabled rule never decides, even one that matches everything; and disabling a
    /// rule that did not decide changes nothing.
    #[test]
    fn disabled_rules_never_match(mut rules in rules(), facts in facts(), at in 0usize..13) {
        let mut catch_all = rules.first().cloned().unwrap_or_else(|| Rule {
            id: Uuid::now_v7(),
            version: 1,
            definition: RuleDefinition {
                name: "everything".into(),
                enabled: false,
                when: Conditions::default(),
                then: Action::LeaveForPerson,
            },
        });
        catch_all.id = Uuid::now_v7();
        catch_all.definition.when = Conditions::default();
        catch_all.definition.enabled = false;
        let at = at.min(rules.len());
        rules.insert(at, catch_all.clone());
        let set = RuleSet::new(rules.clone());
        let found = set.first_match(&facts).cloned();
        prop_assert_ne!(found.as_ref().map(|rule| rule.id), Some(catch_all.id));
        for (index, rule) in rules.iter().enumerate() {
            if Some(rule.id) == found.as_ref().map(|found| found.id) || !rule.enabled() {
                continue;
            }
            let mut disabled = rules.clone();
            disabled[index].definition.enabled = false;
            let set = RuleSet::new(disabled);
            prop_assert_eq!(set.first_match(&facts), found.as_ref());
        }
        let mut all_disabled = rules;
        for rule in &mut all_disabled {
            rule.definition.enabled = false;
        }
        prop_assert!(RuleSet::new(all_disabled).first_match(&facts).is_none());
    }

    /// Of two enabled rules that both match, the one placed first decides: moving the
    /// other before it hands it the decision.
    #[test]
    fn order_decides_between_matching_rules(rules in rules(), facts in facts()) {
        let matching: Vec<usize> = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.enabled() && rule.definition.when.matches(&facts))
            .map(|(index, _)| index)
            .collect();
        let set = RuleSet::new(rules.clone());
        prop_assert_eq!(position(&rules, set.first_match(&facts)), matching.first().copied());
        if let [first, .., last] = matching[..] {
            let mut reordered = rules.clone();
            let moved = reordered.remove(last);
            reordered.insert(first, moved);
            let winner = RuleSet::new(reordered).first_match(&facts).map(|rule| rule.id);
            prop_assert_eq!(winner, Some(rules[last].id));
        }
    }

    /// Context facts are gathered only when an enabled rule asks about them, and a rule
    /// that asks never matches without them.
    #[test]
    fn context_is_needed_only_by_enabled_rules_that_ask(rules in rules(), facts in facts()) {
        let set = RuleSet::new(rules.clone());
        let asks = rules.iter().any(|rule| rule.enabled() && rule.definition.when.needs_context());
        prop_assert_eq!(set.needs_context(), asks);
        let without = Facts { context: None, ..facts };
        if let Some(found) = set.first_match(&without) {
            prop_assert!(!found.definition.when.needs_context());
        }
    }
}

#[test]
fn a_language_condition_holds_for_its_regional_variants_only() {
    let when = Conditions {
        languages: vec!["de".into()],
        ..Conditions::default()
    };
    let facts = |language: Option<&str>| Facts {
        enforcement: None,
        appeal: AppealFacts {
            channel: Channel::Email,
            identity_verified: false,
            language: language.map(str::to_owned),
        },
        context: None,
    };
    assert!(when.matches(&facts(Some("de"))));
    assert!(when.matches(&facts(Some("DE-at"))));
    assert!(!when.matches(&facts(Some("den"))));
    assert!(!when.matches(&facts(None)));
}

#[test]
fn an_enforcement_condition_never_holds_for_an_appeal_without_one() {
    let when = Conditions {
        content_relations: vec![ContentRelation::Saved],
        ..Conditions::default()
    };
    let facts = Facts {
        enforcement: None,
        appeal: AppealFacts {
            channel: Channel::Email,
            identity_verified: true,
            language: None,
        },
        context: None,
    };
    assert!(!when.matches(&facts));
    assert!(
        Conditions::default().matches(&facts),
        "no condition matches everything"
    );
}

#[test]
fn definitions_read_from_json_and_refuse_unknown_fields() {
    let definition: RuleDefinition = serde_json::from_value(serde_json::json!({
        "name": "saved, not created",
        "when": {"content_relations": ["saved"]},
        "then": {"kind": "triage", "queue": "fast-lane", "priority": "high"}
    }))
    .expect("reads");
    assert!(definition.enabled);
    assert_eq!(definition.validate(), Ok(()));
    assert!(serde_json::from_value::<RuleDefinition>(serde_json::json!({
        "name": "typo", "when": {"content_relation": ["saved"]}, "then": {"kind": "leave_for_person"}
    }))
    .is_err());
}

#[test]
fn validation_names_the_field() {
    let mut definition = RuleDefinition {
        name: " ".into(),
        enabled: true,
        when: Conditions::default(),
        then: Action::Triage {
            queue: "q".into(),
            priority: Priority::Normal,
            tags: vec![],
            four_eyes: false,
        },
    };
    assert_eq!(definition.validate().map_err(|e| e.field), Err("name"));
    definition.name = "ok".into();
    definition.when.earlier_appeals = Some(CountRange {
        at_least: Some(3),
        at_most: Some(1),
    });
    assert_eq!(
        definition.validate().map_err(|e| e.field),
        Err("earlierAppeals")
    );
    definition.when.earlier_appeals = None;
    definition.then = Action::Triage {
        queue: String::new(),
        priority: Priority::Normal,
        tags: vec![],
        four_eyes: false,
    };
    assert_eq!(definition.validate().map_err(|e| e.field), Err("queue"));
    definition.then = Action::Triage {
        queue: "q".into(),
        priority: Priority::Normal,
        tags: vec!["x".repeat(201)],
        four_eyes: false,
    };
    assert_eq!(definition.validate().map_err(|e| e.field), Err("tags"));
}
