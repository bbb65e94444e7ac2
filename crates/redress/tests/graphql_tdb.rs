//! Transparency Database submissions over GraphQL: the leads, support and administrators
//! list the refused statements with the database's (or Redress's) per-field errors, an
//! administrator corrects the facts and resubmits, and the next round submits it; and they
//! list the pending statements the database answers server errors to, with their counts.

#[allow(dead_code)]
mod api;
#[allow(dead_code)]
mod tdb;
#[allow(dead_code)]
mod tdb_statements;

mod accepting_tdb;

use accepting_tdb::Accepting;
use api::TestApp;
use redress::transparency::tdb_client::HttpTdbApi;
use redress_core::Role;
use redress_engine::transparency::tdb::{TdbSettings, TdbStatement};
use redress_engine::transparency::tdb_submission::{SubmitSettings, TdbState, SPLIT_AFTER};
use serde_json::json;

const SUBMISSIONS: &str = r"query($state: TdbSubmissionState) { tdbSubmissions(state: $state) {
    enforcementId puid state attempts refusedBy errors { field messages } notes tdbUuid
    corrected decisionFacts statementJson } }";
const SERVER_FAILING: &str = r"query($state: TdbSubmissionState, $failing: Boolean) {
    tdbSubmissions(state: $state, withServerFailures: $failing) { puid state serverFailures loneServerFailures } }";
const RESUBMIT: &str = r"mutation($id: ID!, $facts: String) {
    resubmitTdbStatement(enforcementId: $id, decisionFacts: $facts) { state corrected decisionFacts errors { field } } }";

redress_engine::backend_tests! {
    async fn refusals_are_listed_corrected_and_resubmitted(test) {
        let app = TestApp::start(&test).await;
        let engine = app.app.state.engine.clone();
        let id = tdb_statements::record_with_overlong_facts(&engine, "pin:77/long", "acct-77").await;
        let settings = SubmitSettings { tdb: TdbSettings::default(), ..SubmitSettings::default() };
        let report = engine.tdb_submit_round(&Accepting, &settings).await.expect("round");
        assert_eq!((report.claimed, report.refused, report.requests), (1, 1, 0));

        let metrics = reqwest::get(format!("http://{}/metrics", app.app.http_addr))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("body");
        assert!(metrics.contains("redress_tdb_statements{state=\"refused\"} 1"), "{metrics}");
        assert!(metrics.contains("redress_tdb_statements{state=\"pending\"} 0"), "{metrics}");

        let reviewer = app.token("rita", &[Role::Reviewer]);
        assert_eq!(app.error_code(&reviewer, SUBMISSIONS, json!({})).await, "FORBIDDEN");
        let lead = app.token("lena", &[Role::SeniorReviewer]);
        let refused = app.ok(&lead, SUBMISSIONS, json!({"state": "REFUSED"})).await["tdbSubmissions"].clone();
        let row = &refused[0];
        assert_eq!(row["enforcementId"], json!(id.to_string()));
        assert_eq!(row["refusedBy"], "redress");
        assert_eq!(row["errors"][0]["field"], "decision_facts", "{row}");
        assert!(row["puid"].as_str().is_some_and(|p| p.starts_with("rdx-")), "{row}");
        assert_eq!(row["decisionFacts"].as_str().map(str::len), Some(5001));
        let sent: TdbStatement = serde_json::from_str(row["statementJson"].as_str().expect("json")).expect("statement");
        assert_eq!(sent.puid, row["puid"].as_str().expect("puid"));
        assert!(app.ok(&lead, SUBMISSIONS, json!({"state": "SUBMITTED"})).await["tdbSubmissions"].as_array().is_some_and(Vec::is_empty));

        assert_eq!(app.error_code(&lead, RESUBMIT, json!({"id": id})).await, "FORBIDDEN");
        let admin = app.token("ada", &[Role::Admin]);
        let still_long = json!({"id": id, "facts": "g".repeat(5001)});
        assert_eq!(app.error_code(&admin, RESUBMIT, still_long).await, "BAD_USER_INPUT");
        let fixed = app.ok(&admin, RESUBMIT, json!({"id": id, "facts": "Forty commercial pins in an hour."})).await;
        assert_eq!(fixed["resubmitTdbStatement"], json!({
            "state": "PENDING", "corrected": true,
            "decisionFacts": "Forty commercial pins in an hour.", "errors": [],
        }));
        let audited = redress_engine::repo::audit::entries(engine.db(), redress_engine::repo::audit::TDB_RESUBMITTED, None)
            .await
            .expect("audit");
        assert_eq!(audited.len(), 1);
        assert!(audited[0].actor.contains("ada"), "{}", audited[0].actor);
        let report = engine.tdb_submit_round(&Accepting, &settings).await.expect("round");
        assert_eq!((report.submitted, report.requests), (1, 1));
        let submitted = app.ok(&lead, SUBMISSIONS, json!({"state": "SUBMITTED"})).await["tdbSubmissions"].clone();
        let puid = submitted[0]["puid"].as_str().expect("puid").to_owned();
        assert_eq!(submitted[0]["tdbUuid"], json!(format!("uuid-of-{puid}")));
        assert_eq!(app.error_code(&admin, RESUBMIT, json!({"id": id})).await, "BAD_USER_INPUT", "submitted stays submitted");
        app.stop().await;
        test.cleanup().await;
    }

    async fn statements_drawing_server_errors_are_listed_with_their_counts(test) {
        let app = TestApp::start(&test).await;
        let engine = app.app.state.engine.clone();
        let database = tdb::start().await;
        let id = tdb_statements::record(&engine, "pin-flaky", "acct-flaky").await;
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        tdb::isolate_by_a_flaky_database(&engine, &app.clock, &database, &api, &config, id, 1).await;
        // Another statement waits after a 429, which counts as no server error; the flaky
        // one is not due yet, so the round takes only this one.
        tdb_statements::record(&engine, "pin-calm", "acct-calm").await;
        let next_call = database.ledger().calls + 1;
        tdb::script(&database, [(next_call, tdb::Script::TooManyRequests)]);
        let report = engine
            .tdb_submit_round(&api, &config.submit_settings(&TdbSettings::default()))
            .await
            .expect("round");
        assert_eq!((report.claimed, report.deferred), (1, 1), "{report:?}");

        let lead = app.token("lena", &[Role::SeniorReviewer]);
        let pending = app.ok(&lead, SERVER_FAILING, json!({"state": "PENDING"})).await["tdbSubmissions"].clone();
        let mut listed: Vec<(String, i64, i64)> = pending
            .as_array()
            .expect("list")
            .iter()
            .map(|row| (row["puid"].as_str().expect("puid").to_owned(), row["serverFailures"].as_i64().expect("count"), row["loneServerFailures"].as_i64().expect("count")))
            .collect();
        listed.sort();
        let flaky = ("pin-flaky".to_owned(), i64::from(SPLIT_AFTER + 1), 1);
        assert_eq!(listed, vec![("pin-calm".to_owned(), 0, 0), flaky.clone()]);
        let failing = app.ok(&lead, SERVER_FAILING, json!({"state": "PENDING", "failing": true})).await["tdbSubmissions"].clone();
        assert_eq!(failing, json!([{"puid": "pin-flaky", "state": "PENDING", "serverFailures": flaky.1, "loneServerFailures": 1}]));
        let row = engine.tdb_submission(id).await.expect("read").expect("row");
        assert_eq!((row.state, row.server_failures, row.lone_server_failures), (TdbState::Pending, SPLIT_AFTER + 1, 1));
        let support = app.token("sam", &[Role::Support]);
        assert_eq!(app.ok(&support, SERVER_FAILING, json!({"failing": true})).await["tdbSubmissions"], failing);
        let reviewer = app.token("rita", &[Role::Reviewer]);
        assert_eq!(app.error_code(&reviewer, SERVER_FAILING, json!({"failing": true})).await, "FORBIDDEN");
        app.stop().await;
        test.cleanup().await;
    }
}
