//! `redress demo` on SQLite and PostgreSQL: a small wave has every kind of case the console
//! shows, the same seed makes the same wave, a database with data in it is refused, and so
//! is a configuration that would reach real people or the platform.

use std::collections::{BTreeMap, BTreeSet};

use clap::Parser;
use redress::cli::{self, Cli};
use redress::config::{Config, Secret};
use redress::demo::{self, DemoArgs, DemoRefused};
use redress_engine::entity::{
    account, appeal, appeal_event, enforcement, linked_handle, restoration,
};
use redress_engine::restoration::{BulkJobStatus, BulkRestorer, RestorationBackend, Selector};
use redress_engine::testing::TestDb;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn config_for(test: &TestDb) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config
}

fn small_wave(seed: u64) -> DemoArgs {
    DemoArgs {
        accounts: 200,
        seed,
    }
}

/// What each account's appeal became, in a form two runs can be compared by.
async fn outcome_by_account(
    test: &TestDb,
) -> BTreeMap<String, (String, String, String, String, String)> {
    appeal::Entity::find()
        .all(&test.db)
        .await
        .expect("appeals")
        .into_iter()
        .map(|a| {
            let key = a
                .account_id
                .clone()
                .or(a.contact.clone())
                .unwrap_or_default();
            (
                key,
                (a.channel, a.state, a.priority, a.queue, a.tags.to_string()),
            )
        })
        .collect()
}

async fn count_in_state(test: &TestDb, state: &str) -> u64 {
    appeal::Entity::find()
        .filter(appeal::Column::State.eq(state))
        .count(&test.db)
        .await
        .expect("count")
}

redress_engine::backend_tests! {
    async fn a_small_wave_has_every_kind_of_case_the_console_shows(test) {
        let config = config_for(&test);
        let report = demo::run(&config, &small_wave(7)).await.expect("demo");

        let appeals = appeal::Entity::find().all(&test.db).await.expect("appeals");
        assert_eq!(appeals.len(), report.appeals.values().sum::<usize>());
        let channels: BTreeSet<&str> = appeals.iter().map(|a| a.channel.as_str()).collect();
        assert!(channels.contains("email"), "{channels:?}");
        assert!(channels.contains("x") || channels.contains("instagram"), "appeals by DM: {channels:?}");
        assert!(linked_handle::Entity::find().count(&test.db).await.expect("handles") > 0, "a DM sender linked their handle");

        let tags: BTreeSet<String> = appeals
            .iter()
            .filter_map(|a| a.tags.as_array().cloned())
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        for language in ["en", "de", "fr", "es", "pt"] {
            assert!(tags.contains(&format!("lang:{language}")), "no triaged appeal in {language}: {tags:?}");
            assert!(report.languages.contains_key(language), "{:?}", report.languages);
        }
        assert!(tags.contains("saved-not-created"), "{tags:?}");
        let saved = enforcement::Entity::find()
            .filter(enforcement::Column::SourceId.eq(demo::plan::FAULTY_MODEL))
            .filter(enforcement::Column::ContentRelation.eq("saved"))
            .count(&test.db)
            .await
            .expect("saved");
        assert!(saved > 0);
        assert_eq!(saved as usize, report.saved_not_created);

        // The demo's routing rules triaged appeals as they were filed; each triaged event
        // names the rule and its version, and a person triaged the rest.
        let engine = redress_engine::Engine::new(test.db.clone(), config.engine_settings(), std::sync::Arc::new(redress_engine::SystemClock));
        let rules: BTreeMap<uuid::Uuid, String> = engine.routing_rules().await.expect("rules")
            .into_iter()
            .map(|r| (r.rule.id, r.rule.definition.name))
            .collect();
        assert_eq!(rules.values().cloned().collect::<BTreeSet<_>>(), BTreeSet::from([demo::plan::routing::SAVED_RULE.to_owned(), demo::plan::routing::GERMAN_RULE.to_owned()]));
        let triaged_events: BTreeMap<uuid::Uuid, appeal_event::Model> = appeal_event::Entity::find()
            .filter(appeal_event::Column::Kind.eq("triaged"))
            .all(&test.db)
            .await
            .expect("triaged events")
            .into_iter()
            .map(|e| (e.appeal_id, e))
            .collect();
        let mut routed_by_name: BTreeMap<String, usize> = BTreeMap::new();
        for a in &appeals {
            let Some(event) = triaged_events.get(&a.id) else {
                assert_eq!(a.state, "filed", "{} was triaged without a triaged event", a.reference);
                continue;
            };
            if let Some(rule) = a.triaged_by_rule {
                assert_eq!((event.actor_kind.as_str(), event.actor_id.as_str()), ("system", "routing"), "{event:?}");
                assert_eq!(event.payload["kind"]["rule"], serde_json::json!({"id": rule, "version": a.triaged_by_rule_version.expect("version")}), "{event:?}");
                assert_eq!(event.occurred_at, a.filed_at, "routed as it was filed: {event:?}");
                let name = rules.get(&rule).expect("a demo rule").clone();
                if name == demo::plan::routing::SAVED_RULE {
                    assert_eq!((a.queue.as_str(), a.priority.as_str()), (demo::plan::routing::FAST_QUEUE, "high"), "{}", a.reference);
                } else {
                    assert_eq!(a.queue, demo::plan::routing::GERMAN_QUEUE, "{}", a.reference);
                }
                *routed_by_name.entry(name).or_default() += 1;
            } else {
                assert_eq!(event.actor_kind, "staff", "{event:?}");
                assert!(event.payload["kind"].get("rule").is_none(), "{event:?}");
            }
        }
        assert_eq!(routed_by_name, report.routed);
        assert_eq!(routed_by_name.len(), 2, "both rules routed appeals: {routed_by_name:?}");
        assert!(report.triaged > 0, "a person triaged the appeals the rules left");
        let saved_routed = appeals.iter().filter(|a| a.queue == demo::plan::routing::FAST_QUEUE).count();
        assert_eq!(saved_routed, report.routed[demo::plan::routing::SAVED_RULE]);

        for state in ["filed", "triaged", "awaiting_user", "restored", "upheld"] {
            assert!(count_in_state(&test, state).await > 0, "no appeal is {state}");
        }
        assert!(appeals.iter().any(|a| a.state == "triaged" && a.assignee.is_some()), "a case is in a reviewer's hands");
        assert!(appeals.iter().any(|a| a.state == "triaged" && a.assignee.is_none()), "a case waits to be claimed");
        // Content removals leave their accounts active; every restore decision reactivated
        // its account through the registry.
        assert_eq!(
            account::Entity::find()
                .filter(account::Column::Status.eq(account::AccountStatus::Active))
                .count(&test.db)
                .await
                .expect("active accounts") as usize,
            report.enforcements[demo::plan::MODERATORS] + report.restored_by_reviewers,
        );

        // Every enforcement is under a policy of the catalog the demo imported, which offers
        // the reviewer a template for each decision.
        let catalog = engine.current_policy_catalog().await.expect("catalog");
        let policies: BTreeSet<String> = enforcement::Entity::find().all(&test.db).await.expect("enforcements")
            .into_iter().map(|e| e.policy).collect();
        assert_eq!(policies, BTreeSet::from(["adult_content", "harassment", "spam"].map(str::to_owned)));
        for policy in &policies {
            assert!(catalog.policy(policy).is_some(), "{policy} is not in the catalog");
            for outcome in [redress_core::Outcome::Uphold, redress_core::Outcome::Restore] {
                assert!(!catalog.templates_for(Some(policy), Some(outcome), Some("en")).is_empty(), "{policy}: no {outcome:?} template");
            }
        }

        let incidents = engine.incidents(false).await.expect("incidents");
        assert_eq!(incidents.len(), 1, "{incidents:?}");
        assert_eq!(incidents[0].source.id, demo::plan::FAULTY_MODEL);
        assert!(incidents[0].dry_run_accounts > 100, "{:?}", incidents[0]);

        // Support restores the faulty model's wave: no appeal claiming an account it
        // restored (mail from the account's address nobody vouched for) is left open.
        let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded);
        let support = redress_core::Actor::staff("sam", [redress_core::Role::Support]);
        let selector = Selector::Source { source_id: demo::plan::FAULTY_MODEL.into() };
        let job = restorer.start(&support, selector, "The model misread saved pictures.", 500).await.expect("start");
        let done = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!(done.status, BulkJobStatus::Completed);
        let restored: BTreeMap<String, String> = account::Entity::find().all(&test.db).await.expect("accounts")
            .into_iter().filter_map(|a| a.email.map(|email| (email, a.id))).collect();
        let restored_ids: BTreeSet<String> = restoration::Entity::find().filter(restoration::Column::JobId.eq(job.id)).all(&test.db).await.expect("restorations")
            .into_iter().map(|r| r.account_id).collect();
        let open_claims: Vec<String> = appeal::Entity::find().filter(appeal::Column::AccountId.is_null()).filter(appeal::Column::Channel.eq("email")).all(&test.db).await.expect("appeals")
            .into_iter()
            .filter(|a| redress_core::AppealState::OPEN.iter().any(|s| s.as_str() == a.state))
            .filter(|a| a.contact.as_deref().and_then(|c| restored.get(&c.to_ascii_lowercase())).is_some_and(|id| restored_ids.contains(id)))
            .map(|a| a.reference)
            .collect();
        assert!(open_claims.is_empty(), "open appeals claim restored accounts: {open_claims:?}");
        test.cleanup().await;
    }

    async fn the_same_seed_makes_the_same_wave(test) {
        let other = TestDb::new(test.backend).await.expect("a second database");
        let first = demo::run(&config_for(&test), &small_wave(42)).await.expect("first");
        let second = demo::run(&config_for(&other), &small_wave(42)).await.expect("second");
        assert_eq!(first, second);
        assert_eq!(outcome_by_account(&test).await, outcome_by_account(&other).await);
        other.cleanup().await;

        let third = TestDb::new(test.backend).await.expect("a third database");
        let different = demo::run(&config_for(&third), &small_wave(43)).await.expect("another seed");
        assert_ne!(first, different);
        third.cleanup().await;
        test.cleanup().await;
    }

    async fn a_database_with_data_in_it_is_refused(test) {
        let config = config_for(&test);
        demo::run(&config, &small_wave(1)).await.expect("first run");
        let before = appeal::Entity::find().count(&test.db).await.expect("count");

        let error = demo::run(&config, &small_wave(2)).await.expect_err("second run");
        assert!(matches!(error.downcast_ref::<DemoRefused>(), Some(DemoRefused::NotEmpty { .. })), "{error:#}");
        assert_eq!(appeal::Entity::find().count(&test.db).await.expect("count"), before, "nothing added");

        // From the command line, with the message a person reads.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("redress.toml");
        let schema = test.schema.as_ref().map(|s| format!("schema = \"{s}\"\n")).unwrap_or_default();
        std::fs::write(
            &file,
            format!("[database]\nurl = \"{}\"\n{schema}[graphql.auth]\nhs256_secret = \"{}\"\n", test.url, "s".repeat(40)),
        )
        .expect("config");
        let cli = Cli::try_parse_from(["redress", "--config", &file.to_string_lossy(), "demo", "--accounts", "10"]).expect("arguments");
        let error = Box::pin(cli::run(cli)).await.expect_err("refused");
        assert!(error.to_string().contains("already holds accounts, enforcements or appeals"), "{error:#}");
        test.cleanup().await;
    }

    async fn a_database_with_routing_rules_is_refused(test) {
        let config = config_for(&test);
        let engine = redress::app::open_engine(&config, std::sync::Arc::new(redress_engine::SystemClock))
            .await
            .expect("engine");
        let rules: Vec<redress_routing::RuleDefinition> = serde_json::from_value(serde_json::json!([
            {"name": "saved, not created", "when": {"content_relations": ["saved"]}, "then": {"kind": "triage", "queue": "fast-lane"}}
        ]))
        .expect("a rule");
        engine.seed_routing_rules(&rules).await.expect("seeded");
        let error = demo::run(&config, &small_wave(1)).await.expect_err("refused");
        assert!(matches!(error.downcast_ref::<DemoRefused>(), Some(DemoRefused::RoutingRules { names, .. }) if names == &["saved, not created"]), "{error:#}");
        assert!(error.to_string().contains("already has routing rules"), "{error}");
        assert_eq!(account::Entity::find().count(&test.db).await.expect("count"), 0, "nothing written");
        test.cleanup().await;
    }

    async fn a_configuration_that_reaches_real_people_or_the_platform_is_refused(test) {
        let mut config = config_for(&test);
        config.email.transport = redress::email::MailTransportKind::Smtp;
        config.email.relay_url = Some("smtp://relay.example.org:587".into());
        config.restoration.backend = redress::restoration::BackendKind::AccountService;
        config.social.x = Some(redress::social::XConfig {
            consumer_secret: Secret::new("consumer"),
            bearer_token: Secret::new("send-token"),
            api_base_url: "https://api.x.com".into(),
        });
        let error = demo::run(&config, &small_wave(1)).await.expect_err("refused");
        let Some(DemoRefused::RealOutbound { settings }) = error.downcast_ref::<DemoRefused>() else {
            panic!("{error:#}");
        };
        assert_eq!(settings.len(), 3, "{settings:?}");
        for named in ["email.transport", "social.x.bearer_token", "restoration.backend"] {
            assert!(error.to_string().contains(named), "{error}");
        }
        assert_eq!(account::Entity::find().count(&test.db).await.expect("count"), 0, "nothing written");

        // Receiving DMs is not sending them: a webhook secret alone is fine.
        let mut config = config_for(&test);
        config.social.x = Some(redress::social::XConfig {
            consumer_secret: Secret::new("consumer"),
            bearer_token: Secret::default(),
            api_base_url: "https://api.x.com".into(),
        });
        assert!(demo::real_outbound(&config).is_empty());
        test.cleanup().await;
    }
}
