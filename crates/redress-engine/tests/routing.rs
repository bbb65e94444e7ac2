//! Routing rules in the engine, on SQLite and PostgreSQL: managed in versions and audited,
//! routing a new appeal before its first write, never touching appeals already triaged,
//! and tried on recent appeals without saving.

mod common;

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use common::{clock, email};
use redress_core::{Actor, AppealState, EventKind, Priority, Role, RuleRef};
use redress_engine::entity::outbox;
use redress_engine::query::AppealFilter;
use redress_engine::repo::audit;
use redress_engine::repo::events;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::routing::{RoutingError, RuleChange};
use redress_engine::{Clock, Engine, EngineSettings, Filing, ManualClock, StoredAppeal};
use redress_routing::{Action, Conditions, ContentRelation, CountRange, RuleDefinition};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

fn engine(db: &DatabaseConnection, clock: &ManualClock) -> Engine {
    Engine::new(
        db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    )
}

fn admin() -> Actor {
    Actor::staff("ada", [Role::Admin])
}

fn appellant() -> Actor {
    Actor::appellant("person@example.org")
}

fn saved_to_fast_lane() -> RuleDefinition {
    RuleDefinition {
        name: "saved, not created".into(),
        enabled: true,
        when: Conditions {
            content_relations: vec![ContentRelation::Saved],
            ..Conditions::default()
        },
        then: Action::Triage {
            queue: "fast-lane".into(),
            priority: Priority::High,
            tags: vec!["saved-only".into()],
            four_eyes: false,
        },
    }
}

fn named(name: &str, when: Conditions, then: Action) -> RuleDefinition {
    RuleDefinition {
        name: name.into(),
        enabled: true,
        when,
        then,
    }
}

fn triage_to(queue: &str) -> Action {
    Action::Triage {
        queue: queue.into(),
        priority: Priority::Normal,
        tags: vec![],
        four_eyes: false,
    }
}

/// An enforcement against `account` for content it `relation` (created, saved, shared).
async fn enforcement(db: &DatabaseConnection, account: &str, relation: &str) -> Uuid {
    registry::record_enforcement(
        db,
        NewEnforcement {
            external_id: Some(format!("ext-{account}-{relation}")),
            account_id: account.to_owned(),
            account_email: Some(format!("{account}@example.org")),
            account_locale: None,
            kind: "account_deactivation".into(),
            policy: "nudity".into(),
            source_kind: "model".into(),
            source_id: "nudity-v7".into(),
            batch_id: Some("wave-2026-05".into()),
            automated_detection: "fully".into(),
            automated_decision: "fully".into(),
            content_id: Some("pin-991".into()),
            content_relation: Some(relation.into()),
            facts: "A pin matched the classifier.".into(),
            statement: serde_json::to_value(common::enforcement_statement(Utc::now()))
                .expect("statement"),
            enforced_at: Utc::now(),
        },
        Utc::now(),
    )
    .await
    .expect("record enforcement")
}

async fn file(engine: &Engine, message_id: &str, account: &str) -> StoredAppeal {
    match engine
        .file(&appellant(), email(message_id, Some(account)))
        .await
        .expect("file")
    {
        Filing::Created(appeal) => appeal,
        other => panic!("expected a new case, got {other:?}"),
    }
}

async fn triaged_rule(db: &DatabaseConnection, appeal: Uuid) -> Option<(RuleRef, Actor)> {
    events::history(db, appeal)
        .await
        .expect("history")
        .into_iter()
        .find_map(|(_, event)| match event.kind {
            EventKind::Triaged { rule, .. } => rule.map(|rule| (rule, event.actor)),
            _ => None,
        })
}

async fn audited(db: &DatabaseConnection, change: RuleChange) -> usize {
    audit::entries(db, change.audit_action(), None)
        .await
        .expect("audit")
        .len()
}

redress_engine::backend_tests! {
    async fn every_change_to_a_rule_is_a_new_version_and_audited(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        let first = engine.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect("create");
        assert_eq!((first.rule.version, first.position), (1, 0));
        let second = engine
            .create_routing_rule(&admin(), named("shared", Conditions {
                content_relations: vec![ContentRelation::Shared],
                ..Conditions::default()
            }, triage_to("shared")))
            .await
            .expect("create a second");
        assert_eq!(second.position, 1, "a new rule goes after the last");

        let mut changed = saved_to_fast_lane();
        changed.then = triage_to("express");
        let updated = engine.update_routing_rule(&admin(), first.rule.id, changed).await.expect("update");
        assert_eq!(updated.rule.version, 2);
        let disabled = engine.set_routing_rule_enabled(&admin(), first.rule.id, false).await.expect("disable");
        assert_eq!((disabled.rule.version, disabled.rule.enabled()), (3, false));
        let again = engine.set_routing_rule_enabled(&admin(), first.rule.id, false).await.expect("disable again");
        assert_eq!(again.rule.version, 3, "disabling a disabled rule changes nothing");
        engine.set_routing_rule_enabled(&admin(), first.rule.id, true).await.expect("enable");

        let reordered = engine
            .reorder_routing_rules(&admin(), &[second.rule.id, first.rule.id])
            .await
            .expect("reorder");
        let order: Vec<(Uuid, i32, i64)> = reordered.iter().map(|r| (r.rule.id, r.position, r.rule.version)).collect();
        assert_eq!(order, [(second.rule.id, 0, 2), (first.rule.id, 1, 5)]);
        let listed: Vec<Uuid> = engine.routing_rules().await.expect("list").iter().map(|r| r.rule.id).collect();
        assert_eq!(listed, [second.rule.id, first.rule.id]);

        let versions = engine.routing_rule_versions(first.rule.id).await.expect("versions");
        let changes: Vec<(i64, RuleChange)> = versions.iter().map(|v| (v.rule.version, v.change)).collect();
        assert_eq!(changes, [
            (1, RuleChange::Created),
            (2, RuleChange::Updated),
            (3, RuleChange::Disabled),
            (4, RuleChange::Enabled),
            (5, RuleChange::Moved),
        ]);
        assert_eq!(versions[0].rule.definition.then, saved_to_fast_lane().then, "version 1 is kept as it was");
        assert_eq!(versions[4].changed_by, "ada");

        assert_eq!(audited(&test.db, RuleChange::Created).await, 2);
        assert_eq!(audited(&test.db, RuleChange::Updated).await, 1);
        assert_eq!(audited(&test.db, RuleChange::Disabled).await, 1);
        assert_eq!(audited(&test.db, RuleChange::Enabled).await, 1);
        assert_eq!(audited(&test.db, RuleChange::Moved).await, 2);

        let taken = engine.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect_err("same name");
        assert_eq!(taken.field(), Some("name"));
        let partial = engine.reorder_routing_rules(&admin(), &[first.rule.id]).await.expect_err("one rule missing");
        assert_eq!(partial.field(), Some("ids"));
        let twice = engine
            .reorder_routing_rules(&admin(), &[first.rule.id, first.rule.id])
            .await
            .expect_err("a rule twice");
        assert_eq!(twice.field(), Some("ids"));
        let mut invalid = saved_to_fast_lane();
        invalid.name = "other".into();
        invalid.then = triage_to(" ");
        let refused = engine.create_routing_rule(&admin(), invalid).await.expect_err("empty queue");
        assert_eq!(refused.field(), Some("queue"));
        assert!(matches!(
            engine.set_routing_rule_enabled(&admin(), Uuid::now_v7(), true).await,
            Err(RoutingError::NotFound(_))
        ));
        test.cleanup().await;
    }

    async fn a_rule_routes_a_new_appeal_in_the_filing_batch(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        let rule = engine.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect("create");
        enforcement(&test.db, "acct-saved", "saved").await;
        enforcement(&test.db, "acct-created", "created").await;

        let routed = file(&engine, "<saved@example.org>", "acct-saved").await;
        assert_eq!(routed.appeal.state, AppealState::Triaged);
        assert_eq!(routed.appeal.queue, "fast-lane");
        assert_eq!(routed.appeal.priority, Priority::High);
        assert_eq!(routed.appeal.tags, ["saved-only"]);
        assert_eq!(routed.appeal.triaged_by, Some(rule.rule.reference()));
        assert_eq!(engine.appeal(routed.id).await.expect("reload"), routed, "stored as the channel saw it");
        let kinds: Vec<&str> = events::history(&test.db, routed.id).await.expect("history")
            .iter().map(|(_, e)| e.kind.name()).collect();
        assert_eq!(kinds, ["filed", "triaged"]);
        let (by, actor) = triaged_rule(&test.db, routed.id).await.expect("the triaged event names the rule");
        assert_eq!(by, RuleRef { id: rule.rule.id, version: 1 });
        assert_eq!(actor, Actor::system("routing"));
        let items = outbox::Entity::find()
            .filter(outbox::Column::AppealId.eq(routed.id))
            .all(&test.db)
            .await
            .expect("outbox");
        let mut keys: Vec<&str> = items.iter().map(|i| i.idempotency_key.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [format!("{}:1:notify_appellant", routed.id), format!("{}:1:platform_event", routed.id)],
            "one acknowledgement and one appeal.filed, of the filing"
        );

        let left = file(&engine, "<created@example.org>", "acct-created").await;
        assert_eq!(left.appeal.state, AppealState::Filed, "no rule matches: a person triages it");
        assert_eq!(left.appeal.triaged_by, None);

        let by_rule = engine
            .appeals(&AppealFilter { rule: Some(rule.rule.id), ..AppealFilter::default() }, None, 10)
            .await
            .expect("filter by rule");
        let ids: Vec<Uuid> = by_rule.iter().map(|a| a.id).collect();
        assert_eq!(ids, [routed.id]);
        test.cleanup().await;
    }

    async fn a_rule_change_never_touches_appeals_already_triaged(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        let rule = engine.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect("create");
        for account in ["acct-1", "acct-2", "acct-3"] {
            enforcement(&test.db, account, "saved").await;
        }
        let before = file(&engine, "<one@example.org>", "acct-1").await;

        let mut changed = saved_to_fast_lane();
        changed.then = triage_to("express");
        engine.update_routing_rule(&admin(), rule.rule.id, changed).await.expect("update");
        let untouched = engine.appeal(before.id).await.expect("reload");
        assert_eq!(untouched, before, "the appeal the old version triaged stays as it was");
        assert_eq!(untouched.appeal.triaged_by, Some(RuleRef { id: rule.rule.id, version: 1 }));

        let after = file(&engine, "<two@example.org>", "acct-2").await;
        assert_eq!(after.appeal.queue, "express");
        assert_eq!(after.appeal.triaged_by, Some(RuleRef { id: rule.rule.id, version: 2 }));

        engine.set_routing_rule_enabled(&admin(), rule.rule.id, false).await.expect("disable");
        let unrouted = file(&engine, "<three@example.org>", "acct-3").await;
        assert_eq!(unrouted.appeal.state, AppealState::Filed, "a disabled rule never matches");
        assert_eq!(engine.appeal(before.id).await.expect("reload"), before);
        assert_eq!(engine.appeal(after.id).await.expect("reload"), after);
        test.cleanup().await;
    }

    async fn leave_for_a_person_stops_later_rules_and_context_is_read_when_asked(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        engine
            .create_routing_rule(&admin(), named("repeat appellants: a person", Conditions {
                earlier_appeals: Some(CountRange { at_least: Some(1), at_most: None }),
                ..Conditions::default()
            }, Action::LeaveForPerson))
            .await
            .expect("create");
        engine.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect("create");
        let first_enforcement = enforcement(&test.db, "acct-1", "saved").await;
        let first = file(&engine, "<first@example.org>", "acct-1").await;
        assert_eq!(first.appeal.queue, "fast-lane", "no earlier appeal: the second rule decides");
        assert_eq!(first.appeal.enforcement_id, Some(first_enforcement));

        clock.advance(TimeDelta::minutes(5));
        let second_enforcement = registry::record_enforcement(&test.db, NewEnforcement {
            external_id: Some("ext-acct-1-second".into()),
            ..new_saved("acct-1")
        }, clock.now()).await.expect("second enforcement");
        let mut incoming = email("<second@example.org>", Some("acct-1"));
        incoming.enforcement_id = Some(second_enforcement);
        let Filing::Created(second) = engine.file(&appellant(), incoming).await.expect("file") else {
            panic!("expected a new case");
        };
        assert_eq!(second.appeal.state, AppealState::Filed, "an earlier appeal: left for a person");
        test.cleanup().await;
    }

    async fn a_dry_run_answers_which_recent_appeals_a_rule_matches_and_saves_nothing(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        enforcement(&test.db, "acct-saved", "saved").await;
        enforcement(&test.db, "acct-created", "created").await;
        let saved = file(&engine, "<saved@example.org>", "acct-saved").await;
        file(&engine, "<created@example.org>", "acct-created").await;

        clock.advance(TimeDelta::days(2));
        let run = engine.routing_dry_run(&saved_to_fast_lane(), 7).await.expect("dry run");
        assert_eq!(run.considered, 2);
        assert!(!run.truncated);
        let matched: Vec<Uuid> = run.matches.iter().map(|m| m.appeal.id).collect();
        assert_eq!(matched, [saved.id]);
        assert_eq!(run.action, saved_to_fast_lane().then);
        let narrow = engine.routing_dry_run(&saved_to_fast_lane(), 1).await.expect("dry run");
        assert_eq!(narrow.considered, 0, "filed before the window");
        assert!(engine.routing_rules().await.expect("list").is_empty(), "nothing saved");
        assert_eq!(engine.appeal(saved.id).await.expect("reload"), saved, "nothing routed");
        let refused = engine.routing_dry_run(&saved_to_fast_lane(), 0).await.expect_err("no days");
        assert_eq!(refused.field(), Some("days"));
        let refused = engine.routing_dry_run(&saved_to_fast_lane(), 91).await.expect_err("too many days");
        assert_eq!(refused.field(), Some("days"));
        test.cleanup().await;
    }

    async fn configuration_seeds_a_rule_once_by_name(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock);
        let seeds = [saved_to_fast_lane(), named("shared", Conditions::default(), triage_to("shared"))];
        assert_eq!(engine.seed_routing_rules(&seeds).await.expect("seed"), 2);
        let mut edited = seeds.clone();
        edited[0].then = triage_to("elsewhere");
        assert_eq!(engine.seed_routing_rules(&edited).await.expect("seed again"), 0);
        let rules = engine.routing_rules().await.expect("list");
        assert_eq!(rules[0].rule.definition.then, saved_to_fast_lane().then, "the database's version stands");
        assert_eq!(rules[0].rule.version, 1);
        assert_eq!(audited(&test.db, RuleChange::Seeded).await, 2);
        let versions = engine.routing_rule_versions(rules[0].rule.id).await.expect("versions");
        assert_eq!(versions[0].change, RuleChange::Seeded);
        assert_eq!(versions[0].changed_by, "system:config");
        test.cleanup().await;
    }

    async fn another_replica_routes_by_a_change_once_it_refreshes(test) {
        let clock = clock();
        let here = engine(&test.db, &clock);
        let there = engine(&test.db, &clock);
        here.create_routing_rule(&admin(), saved_to_fast_lane()).await.expect("create");
        assert_eq!(here.routing_rules_in_force().rules().len(), 1, "in force at once where it was made");
        assert!(there.routing_rules_in_force().rules().is_empty());
        enforcement(&test.db, "acct-1", "saved").await;
        enforcement(&test.db, "acct-2", "saved").await;
        let before = file(&there, "<one@example.org>", "acct-1").await;
        assert_eq!(before.appeal.state, AppealState::Filed, "not yet refreshed");
        there.refresh_routing_rules().await.expect("refresh");
        let after = file(&there, "<two@example.org>", "acct-2").await;
        assert_eq!(after.appeal.queue, "fast-lane");
        test.cleanup().await;
    }
}

fn new_saved(account: &str) -> NewEnforcement {
    NewEnforcement {
        external_id: None,
        account_id: account.to_owned(),
        account_email: Some(format!("{account}@example.org")),
        account_locale: None,
        kind: "account_deactivation".into(),
        policy: "nudity".into(),
        source_kind: "model".into(),
        source_id: "nudity-v7".into(),
        batch_id: None,
        automated_detection: "fully".into(),
        automated_decision: "fully".into(),
        content_id: Some("pin-992".into()),
        content_relation: Some("saved".into()),
        facts: "Another pin matched the classifier.".into(),
        statement: serde_json::to_value(common::enforcement_statement(Utc::now()))
            .expect("statement"),
        enforced_at: Utc::now(),
    }
}
