//! The policy catalog administered in the database, on SQLite and on PostgreSQL: seeding
//! from configuration, versions, validation naming the field, the audit log, and another
//! replica deciding with an edit.

mod common;

use common::{clock, email, enforcement, engine, spam_policy};
use redress_core::{Actor, DecisionTemplate, Outcome, PolicyText, Role, TerritorialScope};
use redress_engine::catalog::{CatalogChange, CatalogEditError};
use redress_engine::policies::PolicyCatalog;
use redress_engine::repo::audit;
use redress_engine::{EngineSettings, Filing};
use sea_orm::{ConnectionTrait, DatabaseConnection};

fn uphold(reasons: &str) -> DecisionTemplate {
    DecisionTemplate {
        id: "spam-uphold-en".into(),
        policy: "spam".into(),
        outcome: Outcome::Uphold,
        language: "en".into(),
        title: "Spam confirmed".into(),
        reasons: reasons.into(),
        statement: redress_core::StatementDraft::default(),
    }
}

fn configured(reasons: &str) -> PolicyCatalog {
    PolicyCatalog::new("en", vec![spam_policy()], vec![uphold(reasons)]).expect("catalog")
}

fn settings(catalog: PolicyCatalog) -> EngineSettings {
    EngineSettings {
        policies: catalog,
        ..EngineSettings::default()
    }
}

fn admin() -> Actor {
    Actor::staff("ada", [Role::Admin])
}

async fn audited(db: &DatabaseConnection, action: &str) -> Vec<serde_json::Value> {
    audit::entries(db, action, None)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.details)
        .collect()
}

fn reasons_in_force(engine: &redress_engine::Engine) -> String {
    engine
        .policy_catalog()
        .template("spam-uphold-en")
        .expect("template in force")
        .reasons
        .clone()
}

redress_engine::backend_tests! {
    async fn configuration_seeds_once_and_a_changed_entry_becomes_a_new_version(test) {
        let clock = clock();
        let first = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        let written = first.seed_policy_catalog(&first.settings().policies).await.expect("seed");
        assert_eq!(written, 2, "the policy and the template");
        let again = first.seed_policy_catalog(&first.settings().policies).await.expect("seed again");
        assert_eq!(again, 0, "an unchanged configuration writes nothing");
        let versions = first.decision_template_versions("spam-uphold-en").await.expect("versions");
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].change, Some(CatalogChange::Seeded));
        assert_eq!(versions[0].changed_by, "system:configuration");
        assert_eq!(audited(&test.db, "policy_seeded").await.len(), 1);

        // An administrator's edit stands across a restart with the same configuration.
        let mut edited = uphold("Appeal {reference}: upheld after a second look.");
        edited.title = "Spam confirmed (edited)".into();
        first.update_decision_template(&admin(), edited.clone()).await.expect("edit");
        let restarted = common::engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        assert_eq!(restarted.seed_policy_catalog(&restarted.settings().policies).await.expect("seed"), 0);
        assert_eq!(reasons_in_force(&restarted), edited.reasons, "the edit is in force, not the file");

        // A file that changes the entry wins, as a new version by the configuration.
        let changed = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld (v2 of the file).")));
        assert_eq!(changed.seed_policy_catalog(&changed.settings().policies).await.expect("seed"), 1);
        assert_eq!(reasons_in_force(&changed), "Appeal {reference}: upheld (v2 of the file).");
        let versions = changed.decision_template_versions("spam-uphold-en").await.expect("versions");
        let changes: Vec<_> = versions.iter().map(|v| (v.version, v.change)).collect();
        assert_eq!(
            changes,
            [(1, Some(CatalogChange::Seeded)), (2, Some(CatalogChange::Updated)), (3, Some(CatalogChange::Seeded))]
        );
        assert_eq!(versions[1].entry, edited, "an old version stays readable as it was");
        assert_eq!(versions[1].changed_by, "ada");
        test.cleanup().await;
    }

    async fn edits_are_versioned_audited_and_decided_with(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        engine.seed_policy_catalog(&engine.settings().policies).await.expect("seed");
        let mut german = uphold("Einspruch {reference}: bestätigt.");
        german.id = "spam-uphold-de".into();
        german.language = "de".into();
        german.statement.territorial_scope = Some(TerritorialScope::Countries { countries: vec!["DE".into()] });
        let created = engine.create_decision_template(&admin(), german.clone()).await.expect("create");
        assert_eq!((created.version, created.change), (1, Some(CatalogChange::Created)));
        let again = engine.create_decision_template(&admin(), german.clone()).await.expect_err("twice");
        assert!(matches!(again, CatalogEditError::Exists { .. }), "{again}");

        let mut policy = spam_policy();
        policy.texts.insert("de".into(), PolicyText {
            title: "Spam".into(),
            ground: "Community-Richtlinien 4.2".into(),
            explanation: "Massenhaftes Posten von Links ist Spam.".into(),
        });
        let updated = engine.update_policy(&admin(), policy.clone()).await.expect("update");
        assert_eq!(updated.version, 2);
        let unchanged = engine.update_policy(&admin(), policy.clone()).await.expect("same again");
        assert_eq!(unchanged.version, 2, "an update that changes nothing makes no version");

        enforcement(&test.db, "acct-1", "spam").await;
        let Filing::Created(stored) = engine
            .file(&Actor::appellant("p@example.org"), email("<c1@example.org>", Some("acct-1")))
            .await
            .expect("file")
        else {
            panic!("a new case")
        };
        let filled = engine.fill_decision_template(stored.id, "spam-uphold-de").await.expect("fill");
        assert_eq!(filled.reasons, format!("Einspruch {}: bestätigt.", stored.reference));
        assert_eq!(
            filled.statement.territorial_scope,
            TerritorialScope::Countries { countries: vec!["DE".into()] }
        );

        let in_use = engine.retire_policy(&admin(), "spam").await.expect_err("templates use it");
        assert_eq!(in_use.field().as_deref(), Some("id"));
        assert!(in_use.to_string().contains("spam-uphold-de"), "{in_use}");
        let retired = engine.retire_decision_template(&admin(), "spam-uphold-de").await.expect("retire");
        assert!(retired.retired);
        assert!(engine.policy_catalog().template("spam-uphold-de").is_none(), "no longer offered");
        assert!(engine.fill_decision_template(stored.id, "spam-uphold-de").await.is_err());
        let versions = engine.decision_template_versions("spam-uphold-de").await.expect("versions");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0].entry, german, "the first version stays readable");

        let created_audit = audited(&test.db, "decision_template_created").await;
        assert_eq!(created_audit.len(), 1);
        assert_eq!(created_audit[0]["id"], "spam-uphold-de");
        assert_eq!(created_audit[0]["version"], 1);
        assert_eq!(audited(&test.db, "policy_updated").await.len(), 1);
        assert_eq!(audited(&test.db, "decision_template_retired").await.len(), 1);
        test.cleanup().await;
    }

    async fn a_bad_edit_is_refused_naming_the_field(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        engine.seed_policy_catalog(&engine.settings().policies).await.expect("seed");
        let field = |err: CatalogEditError| err.field().unwrap_or_default();

        let typo = engine.update_decision_template(&admin(), uphold("Appeal {refrence}.")).await.expect_err("typo");
        assert_eq!(field(typo), "reasons");
        let mut facts = uphold("Appeal {reference}.");
        facts.statement.facts = Some("Seen {when}.".into());
        assert_eq!(field(engine.update_decision_template(&admin(), facts).await.expect_err("facts")), "statement.facts");
        let mut language = uphold("Appeal {reference}.");
        language.language = "German".into();
        assert_eq!(field(engine.update_decision_template(&admin(), language).await.expect_err("language")), "language");
        let mut countries = uphold("Appeal {reference}.");
        countries.statement.territorial_scope = Some(TerritorialScope::Countries { countries: vec!["de".into()] });
        assert_eq!(
            field(engine.update_decision_template(&admin(), countries).await.expect_err("countries")),
            "statement.territorial_scope.countries"
        );
        let mut orphan = uphold("Appeal {reference}.");
        orphan.id = "fraud-uphold-en".into();
        orphan.policy = "fraud".into();
        assert_eq!(field(engine.create_decision_template(&admin(), orphan).await.expect_err("policy")), "policy");
        let mut untitled = spam_policy();
        if let Some(text) = untitled.texts.get_mut("en") {
            text.title = " ".into();
        }
        assert_eq!(field(engine.update_policy(&admin(), untitled).await.expect_err("title")), "texts.en.title");

        let versions = engine.decision_template_versions("spam-uphold-en").await.expect("versions");
        assert_eq!(versions.len(), 1, "no refused edit left a version");
        assert!(audited(&test.db, "decision_template_updated").await.is_empty());
        test.cleanup().await;
    }

    async fn another_replica_decides_with_an_edit_made_elsewhere(test) {
        let clock = clock();
        let here = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        let there = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        here.seed_policy_catalog(&here.settings().policies).await.expect("seed");
        there.seed_policy_catalog(&there.settings().policies).await.expect("seed on the other replica");
        here.update_decision_template(&admin(), uphold("Appeal {reference}: upheld, edited here."))
            .await
            .expect("edit");
        assert_eq!(reasons_in_force(&here), "Appeal {reference}: upheld, edited here.");

        enforcement(&test.db, "acct-2", "spam").await;
        let Filing::Created(stored) = there
            .file(&Actor::appellant("q@example.org"), email("<c2@example.org>", Some("acct-2")))
            .await
            .expect("file")
        else {
            panic!("a new case")
        };
        let filled = there.fill_decision_template(stored.id, "spam-uphold-en").await.expect("fill");
        assert_eq!(filled.reasons, format!("Appeal {}: upheld, edited here.", stored.reference));
        assert_eq!(reasons_in_force(&there), "Appeal {reference}: upheld, edited here.");
        test.cleanup().await;
    }

    async fn an_inconsistent_stored_catalog_keeps_the_last_valid_one_in_force(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        engine.seed_policy_catalog(&engine.settings().policies).await.expect("seed");
        // By hand, as no write can: the policy retired while its template is in force.
        test.db
            .execute_unprepared(
                "INSERT INTO catalog_entry_versions \
                 (kind, id, version, retired, definition, change, changed_at, changed_by) \
                 SELECT kind, id, version + 1, TRUE, definition, change, changed_at, changed_by \
                 FROM catalog_entry_versions WHERE id = 'spam'",
            )
            .await
            .expect("hand-made version");
        test.db
            .execute_unprepared("UPDATE catalog_entries SET retired = TRUE, version = 2 WHERE id = 'spam'")
            .await
            .expect("hand-made retirement");

        engine.refresh_policy_catalog().await.expect("a bad row fails no caller");
        let catalog = engine.current_policy_catalog().await.expect("catalog");
        assert!(catalog.policy("spam").is_some(), "the last valid catalog stays in force");
        assert_eq!(reasons_in_force(&engine), "Appeal {reference}: upheld.");
        let restarted = common::engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        restarted
            .seed_policy_catalog(&restarted.settings().policies)
            .await
            .expect("the service still starts");
        assert!(restarted.current_policy_catalog().await.expect("catalog").policy("spam").is_some());
        test.cleanup().await;
    }

    async fn retiring_a_policy_while_a_template_for_it_is_created_leaves_a_valid_catalog(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        engine.seed_policy_catalog(&engine.settings().policies).await.expect("seed");
        let mut fraud = spam_policy();
        fraud.id = "fraud".into();
        engine.create_policy(&admin(), fraud).await.expect("policy");
        let mut template = uphold("Appeal {reference}: fraud.");
        template.id = "fraud-uphold-en".into();
        template.policy = "fraud".into();

        let ada = admin();
        let (retired, created) = tokio::join!(
            engine.retire_policy(&ada, "fraud"),
            engine.create_decision_template(&ada, template),
        );
        assert!(
            retired.is_ok() != created.is_ok(),
            "exactly one of the two may pass: {retired:?} / {created:?}"
        );
        let other = common::engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        let catalog = other.current_policy_catalog().await.expect("catalog");
        assert_eq!(
            catalog.policy("fraud").is_some(),
            catalog.template("fraud-uphold-en").is_some(),
            "the policy and its template stand or go together"
        );
        test.cleanup().await;
    }

    async fn text_is_stored_without_nul_and_limited_naming_the_field(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings(configured("Appeal {reference}: upheld.")));
        engine.seed_policy_catalog(&engine.settings().policies).await.expect("seed");
        let field = |err: CatalogEditError| err.field().unwrap_or_default();

        let mut nul = uphold("Appeal {reference}:\0 upheld.");
        nul.title = "Spam\0".into();
        nul.statement.facts = Some("Links\0 posted.".into());
        let updated = engine.update_decision_template(&admin(), nul).await.expect("NUL is replaced, not refused");
        assert_eq!(updated.entry.reasons, "Appeal {reference}:\u{FFFD} upheld.");
        let stored = engine.decision_template_versions("spam-uphold-en").await.expect("versions");
        assert_eq!(stored.last().map(|v| v.entry.title.as_str()), Some("Spam\u{FFFD}"));
        assert_eq!(
            stored.last().and_then(|v| v.entry.statement.facts.clone()).as_deref(),
            Some("Links\u{FFFD} posted.")
        );
        let mut policy = spam_policy();
        if let Some(text) = policy.texts.get_mut("en") {
            text.explanation = "Spam\0.".into();
        }
        let updated = engine.update_policy(&admin(), policy).await.expect("policy with NUL");
        assert_eq!(updated.entry.texts["en"].explanation, "Spam\u{FFFD}.");

        let mut long_title = uphold("Appeal {reference}.");
        long_title.title = "t".repeat(201);
        assert_eq!(field(engine.update_decision_template(&admin(), long_title).await.expect_err("title")), "title");
        let mut long_reasons = uphold(&"r".repeat(5001));
        long_reasons.title = "Spam confirmed".into();
        assert_eq!(field(engine.update_decision_template(&admin(), long_reasons).await.expect_err("reasons")), "reasons");
        let mut long_facts = uphold("Appeal {reference}.");
        long_facts.statement.facts = Some("f".repeat(5001));
        assert_eq!(
            field(engine.update_decision_template(&admin(), long_facts).await.expect_err("facts")),
            "statement.facts"
        );
        let mut at_limit = uphold(&"r".repeat(5000));
        at_limit.title = "t".repeat(200);
        engine.update_decision_template(&admin(), at_limit).await.expect("at the limits");
        let mut long_policy = spam_policy();
        if let Some(text) = long_policy.texts.get_mut("en") {
            text.title = "p".repeat(201);
        }
        assert_eq!(field(engine.update_policy(&admin(), long_policy).await.expect_err("title")), "texts.en.title");
        test.cleanup().await;
    }
}
