//! Decision templates filled for real appeals, on SQLite and on PostgreSQL: placeholders
//! from the case and its enforcement, the appellant's language, and a decision sent with
//! the filled template passing the same checks as any other.

mod common;

use chrono::TimeDelta;
use common::{clock, email, enforcement, engine, upheld_statement};
use redress_core::statement::Ground;
use redress_core::{
    Actor, Command, DecisionTemplate, GroundKind, Outcome, Policy, PolicyText, Priority,
    RestrictionKind, Role, TransitionError,
};
use redress_engine::policies::{FillError, PolicyCatalog};
use redress_engine::repo::outbox;
use redress_engine::{EngineError, EngineSettings, Filing};

fn text(title: &str, ground: &str, explanation: &str) -> PolicyText {
    PolicyText {
        title: title.into(),
        ground: ground.into(),
        explanation: explanation.into(),
    }
}

fn template(id: &str, language: &str, reasons: &str) -> DecisionTemplate {
    DecisionTemplate {
        id: id.into(),
        policy: "spam".into(),
        outcome: Outcome::Uphold,
        language: language.into(),
        title: id.into(),
        reasons: reasons.into(),
        statement: redress_core::StatementDraft::default(),
    }
}

fn settings() -> EngineSettings {
    let spam = Policy {
        id: "spam".into(),
        ground_kind: GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_SCAMS_AND_FRAUD".into(),
        restrictions: vec![RestrictionKind::AccountSuspended],
        texts: [
            (
                "en".to_owned(),
                text(
                    "Spam",
                    "Community guidelines 4.2",
                    "Mass-posting links is spam.",
                ),
            ),
            (
                "de".to_owned(),
                text(
                    "Spam",
                    "Community-Richtlinien 4.2",
                    "Massenhaftes Posten von Links ist Spam.",
                ),
            ),
        ]
        .into(),
    };
    let mut english = template("spam-uphold-en", "en", "Your appeal {reference} about {policy_title}: you {content_relation} the pin {content_id} on {enforced_at}.");
    english.statement.facts =
        Some("Pin {content_id}, enforcement of {enforced_at}, appeal filed {filed_at}.".into());
    let german = template(
        "spam-uphold-de",
        "de",
        "Ihr Einspruch {reference} ({policy_title}): Sie haben den Pin {content_relation}.",
    );
    // A template for a case without content: its appeal has no `{content_id}` to fill.
    let needs_content = template("spam-needs-content", "fr", "Le contenu {content_id}.");
    let catalog = PolicyCatalog::new("en", vec![spam], vec![english, german, needs_content])
        .expect("catalog");
    EngineSettings {
        policies: catalog,
        ..EngineSettings::default()
    }
}

fn triage(tags: &[&str]) -> Command {
    Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        identity_verified: true,
        four_eyes: false,
        link: None,
    }
}

redress_engine::backend_tests! {
    async fn a_template_is_filled_from_the_case_in_the_appellants_language(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        enforcement(&test.db, "acct-de", "spam").await;
        let Filing::Created(stored) = engine
            .file(&Actor::appellant("person@example.org"), email("<t1@example.org>", Some("acct-de")))
            .await
            .expect("file")
        else {
            panic!("a new case")
        };
        let triager = Actor::staff("tina", [Role::Triager]);
        let triaged = engine.apply(stored.id, None, &triage(&["language:de"]), &triager).await.expect("triage");
        assert_eq!(engine.appeal_language(&triaged.appeal), "de");

        let catalog = engine.policy_catalog();
        let offered: Vec<&str> = catalog
            .templates_for(Some("spam"), Some(Outcome::Uphold), Some("de"))
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(offered, ["spam-uphold-de"]);

        let german = engine.fill_decision_template(stored.id, "spam-uphold-de").await.expect("fill");
        assert_eq!(german.language, "de");
        assert_eq!(
            german.reasons,
            format!("Ihr Einspruch {} (Spam): Sie haben den Pin gespeichert.", stored.reference)
        );
        assert_eq!(
            german.statement.ground,
            Ground::IncompatibleWithTerms {
                clause: "Community-Richtlinien 4.2".into(),
                explanation: "Massenhaftes Posten von Links ist Spam.".into(),
            }
        );

        let english = engine.fill_decision_template(stored.id, "spam-uphold-en").await.expect("fill");
        assert!(english.reasons.contains("you saved the pin pin-991 on "), "{}", english.reasons);
        assert!(english.statement.facts.starts_with("Pin pin-991, enforcement of "), "{}", english.statement.facts);
        assert!(!english.reasons.contains('{') && !english.statement.facts.contains('{'));
        // The appeal's decision is a person's, and the statement is complete.
        redress_core::transition::check_decision(Outcome::Uphold, &english.reasons, Some(&english.statement))
            .expect("a filled template passes the decision's checks");

        // The filled template decides the appeal; the event carries its reasons, and the
        // decision notice is written in the appellant's language.
        let alice = Actor::staff("alice", [Role::Reviewer]);
        engine.apply(stored.id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");
        let decided = engine
            .apply(stored.id, None, &Command::Decide {
                outcome: Outcome::Uphold,
                reasons: german.reasons.clone(),
                statement: Some(german.statement.clone()),
                manifestly_unfounded: false,
                template: None,
            }, &alice)
            .await
            .expect("decide with the filled template");
        let decision = decided.appeal.appeal.decision.expect("decision");
        assert_eq!(decision.reasons, german.reasons);
        let notices = outbox::for_appeal(&test.db, stored.id).await.expect("outbox");
        let notice = notices
            .iter()
            .find(|item| item.payload["effect"]["notice"] == "decision_upheld")
            .expect("a decision notice");
        assert_eq!(notice.payload["language"], "de");
        test.cleanup().await;
    }

    async fn unfilled_and_unknown_placeholders_are_refused_by_name(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings());
        // An appeal that names no enforcement has no content to name.
        let Filing::Created(stored) = engine
            .file(&Actor::appellant("person@example.org"), email("<t2@example.org>", None))
            .await
            .expect("file")
        else {
            panic!("a new case")
        };
        let error = engine.fill_decision_template(stored.id, "spam-needs-content").await.expect_err("no content");
        let FillError::Placeholder { source, .. } = &error else { panic!("{error:?}") };
        assert_eq!(source.placeholder(), "content_id");
        assert_eq!(source.field(), "reasons");
        assert!(error.to_string().contains("{content_id}"), "{error}");

        let error = engine.fill_decision_template(stored.id, "no-such-template").await.expect_err("unknown");
        assert!(matches!(error, FillError::UnknownTemplate(_)), "{error:?}");

        // A reviewer who sends a template's text unfilled is refused, naming the placeholder.
        engine.apply(stored.id, None, &triage(&[]), &Actor::staff("tina", [Role::Triager])).await.expect("triage");
        let alice = Actor::staff("alice", [Role::Reviewer]);
        engine.apply(stored.id, None, &Command::Claim { lease_until: clock.now_plus(TimeDelta::minutes(10)) }, &alice).await.expect("claim");
        let refused = engine
            .apply(stored.id, None, &Command::Decide {
                // Upheld: the appeal names no account, and a restore needs one.
                outcome: Outcome::Uphold,
                reasons: "We upheld {reference}.".into(),
                statement: Some(upheld_statement(clock.now_plus(TimeDelta::zero()))),
                manifestly_unfounded: false,
                template: None,
            }, &alice)
            .await
            .expect_err("unfilled");
        assert!(
            matches!(refused, EngineError::Transition(TransitionError::UnfilledPlaceholder { field: "reasons", name: "reference" })),
            "{refused:?}"
        );
        test.cleanup().await;
    }
}
