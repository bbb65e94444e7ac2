//! Claims over the API: concurrent reviewers over one PostgreSQL queue, every appeal handed
//! out exactly once; and `claimAppeal` on a case a reviewer found, on both backends.

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

const CLAIM_THIS: &str = r"mutation($id: ID!, $v: Int!) { claimAppeal(id: $id, expectedVersion: $v) { version state assignee leaseUntil } }";

redress_engine::backend_tests! {
    async fn a_reviewer_claims_the_case_they_found_and_nobody_else_takes_it_while_the_claim_lives(db) {
        let app = TestApp::start(&db).await;
        let (id, version) = api::triaged_appeal(&app, "acct-found", "spam", "general").await;
        let filed = api::file_appeal(&app, "acct-untriaged", "spam").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        let omar = app.token("omar", &[Role::Reviewer]);

        let claimed = app.ok(&rita, CLAIM_THIS, json!({"id": id, "v": version})).await["claimAppeal"].clone();
        assert_eq!((&claimed["state"], &claimed["assignee"]), (&json!("TRIAGED"), &json!("rita")), "{claimed}");
        let held = claimed["version"].as_i64().expect("version");

        // Someone else: refused while the claim lives, and the case stays rita's.
        assert_eq!(app.error_code(&omar, CLAIM_THIS, json!({"id": id, "v": held})).await, "INVALID_TRANSITION");
        // A version already passed: CONFLICT, nothing changes.
        assert_eq!(app.error_code(&omar, CLAIM_THIS, json!({"id": id, "v": version})).await, "CONFLICT");
        // A filed case is not claimable until someone triages it.
        assert_eq!(app.error_code(&rita, CLAIM_THIS, json!({"id": filed["id"], "v": filed["version"]})).await, "INVALID_TRANSITION");
        // Claim next skips the held case.
        let next = app.ok(&omar, r#"mutation { claimNextAppeal(queue: "general") { id } }"#, json!({})).await;
        assert_eq!(next["claimNextAppeal"], serde_json::Value::Null);

        // Once the lease lapses the case is anyone's again.
        app.clock.advance(chrono::TimeDelta::seconds(i64::try_from(app.config.appeals.claim_lease_seconds).expect("lease") + 1));
        let omar = app.token("omar", &[Role::Reviewer]);
        let taken = app.ok(&omar, CLAIM_THIS, json!({"id": id, "v": held})).await["claimAppeal"].clone();
        assert_eq!(taken["assignee"], json!("omar"), "{taken}");
        app.stop().await;
        db.cleanup().await;
    }
}
