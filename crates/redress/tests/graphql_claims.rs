//! Concurrent reviewers over one PostgreSQL queue: every appeal is handed out exactly once.

#[allow(dead_code)]
mod api;

use std::collections::HashSet;
use std::sync::Arc;

use api::{config_for, TestApp};
use redress_core::{Actor, Channel, Command, Priority, Role};
use redress_engine::repo::registry::NewEnforcement;
use redress_engine::testing::TestDb;
use redress_engine::{Engine, IncomingAppeal};
use serde_json::json;

const APPEALS: usize = 1_000;
const REVIEWERS: usize = 32;

/// Files and triages `count` appeals into `queue` directly through the engine.
async fn seed(engine: &Engine, count: usize, queue: &str) {
    let enforcements: Vec<NewEnforcement> = (0..count)
        .map(|n| NewEnforcement {
            external_id: Some(format!("wave-{n}")),
            account_id: format!("acct-{n}"),
            account_email: None,
            kind: "account_deactivation".to_owned(),
            policy: "spam".to_owned(),
            source_kind: "model".to_owned(),
            source_id: "classifier-v7".to_owned(),
            batch_id: None,
            automated_detection: "fully".to_owned(),
            automated_decision: "fully".to_owned(),
            content_id: None,
            content_relation: None,
            facts: "flagged".to_owned(),
            statement: redress_engine::testing::automated_suspension_statement(
                redress_engine::Clock::now(engine.clock().as_ref()),
            ),
            enforced_at: redress_engine::Clock::now(engine.clock().as_ref()),
        })
        .collect();
    let ids = engine
        .record_enforcements(enforcements)
        .await
        .expect("record");
    let ids = Arc::new(ids);
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (engine, ids, queue) = (engine.clone(), ids.clone(), queue.to_owned());
            tokio::spawn(async move {
                let system = Actor::system("test");
                let triager = Actor::staff("tina", [Role::Triager]);
                for n in (worker..ids.len()).step_by(8) {
                    let filing = engine
                        .file(
                            &system,
                            IncomingAppeal {
                                channel: Channel::Api,
                                channel_message_id: Some(format!("seed-{n}")),
                                sender: format!("user{n}@example.test"),
                                contact: None,
                                account_id: None,
                                enforcement_id: Some(ids[n]),
                                identity_verified: true,
                                subject: None,
                                body: "please".to_owned(),
                                in_reply_to: None,
                                metadata: json!({}),
                            },
                        )
                        .await
                        .expect("file");
                    let id = filing.appeal_id().expect("appeal");
                    let triage = Command::Triage {
                        priority: Priority::Normal,
                        queue: queue.clone(),
                        tags: Vec::new(),
                        identity_verified: true,
                        four_eyes: false,
                    };
                    engine
                        .apply(id, Some(1), &triage, &triager)
                        .await
                        .expect("triage");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("seeding task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_reviewers_claim_a_thousand_appeals_each_exactly_once() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    let mut config = config_for(&test);
    config.database.max_connections = 40;
    let app = TestApp::start_with(config).await;
    seed(&app.app.state.engine, APPEALS, "wave").await;

    let app = Arc::new(app);
    let claimers: Vec<_> = (0..REVIEWERS)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let token = app.token(&format!("reviewer-{n}"), &[Role::Reviewer]);
                let mut claimed = Vec::new();
                loop {
                    let data = app
                        .ok(
                            &token,
                            r#"mutation { claimNextAppeal(queue: "wave") { id assignee } }"#,
                            json!({}),
                        )
                        .await;
                    let appeal = &data["claimNextAppeal"];
                    if appeal.is_null() {
                        return claimed;
                    }
                    assert_eq!(appeal["assignee"], format!("reviewer-{n}"));
                    claimed.push(appeal["id"].as_str().expect("id").to_owned());
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("claimer"));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), APPEALS, "every appeal is claimed");
    assert_eq!(distinct.len(), APPEALS, "no appeal is claimed twice");

    let admin = app.token("ada", &[Role::Admin]);
    let summary = app
        .ok(
            &admin,
            "{ queueSummary { queue open claimable } }",
            json!({}),
        )
        .await;
    assert_eq!(
        summary["queueSummary"],
        json!([{"queue": "wave", "open": APPEALS, "claimable": 0}])
    );
    let app = Arc::into_inner(app).expect("sole owner");
    app.stop().await;
    test.cleanup().await;
}
