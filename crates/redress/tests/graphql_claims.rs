//! Concurrent reviewers over one PostgreSQL queue: every appeal is handed out exactly once.

#[allow(dead_code)]
mod api;

use std::collections::HashSet;
use std::sync::Arc;

use api::{config_for, TestApp};
use redress_core::Role;
use redress_engine::testing::TestDb;
use serde_json::json;

const APPEALS: usize = 1_000;
const REVIEWERS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_reviewers_claim_a_thousand_appeals_each_exactly_once() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    let mut config = config_for(&test);
    config.database.max_connections = 40;
    let app = TestApp::start_with(config).await;
    redress_engine::testing::seed_triaged_appeals(
        &app.app.state.engine,
        0,
        APPEALS,
        "wave",
        8,
        |_| redress_core::Priority::Normal,
    )
    .await;

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
