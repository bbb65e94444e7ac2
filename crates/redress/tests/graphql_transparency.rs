//! Transparency over GraphQL: incidents raised by a wave of won appeals, the ranking of
//! sources, the report, out-of-court disputes, and who may see and do what.

#[allow(dead_code)]
mod api;

use api::TestApp;
use chrono::{DateTime, TimeDelta, Utc};
use redress_core::{Actor, Channel, Role, StatementOfReasons};
use redress_engine::repo::audit;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::transparency::DetectorSettings;
use redress_engine::{Clock, Engine, IncomingAppeal};
use serde_json::{json, Value};
use uuid::Uuid;

const INCIDENTS: &str = r"query($all: Boolean) { incidents(includeResolved: $all) {
    id status decided overturned overturnRate lowerBound upperBound threshold raisedAt resolvedAt
    source { kind id batchId } selector { sourceId batchId } dryRunAccounts
    dryRun { accounts alreadyActive } } }";
const RANKED: &str = r"query($from: DateTime!, $to: DateTime!, $first: Int) {
    rankedSources(from: $from, to: $to, first: $first) {
    source { id batchId } decided overturned overturnRate lowerBound upperBound } }";
const REPORT: &str = r"query($from: DateTime!, $to: DateTime!) { transparencyReport(from: $from, to: $to) {
    from to appealsReceived receivedByBasis { key count } receivedByChannel { key count }
    decisions decisionsByOutcome { key count } medianHoursToDecision p90HoursToDecision
    reversed decisionsWithinSla slaCompliance escalations bulkRestorations outOfCourtDisputes } }";
const RESOLVE: &str = r"mutation($id: ID!) { resolveIncident(id: $id) { id status resolvedAt } }";
const DISPUTE: &str = r"mutation($i: OutOfCourtDisputeInput!) { recordOutOfCourtDispute(input: $i) {
    id appealId reference settlementBody submittedAt outcome } }";

fn engine(app: &TestApp) -> Engine {
    app.app.state.engine.clone()
}

fn upheld_statement(at: DateTime<Utc>) -> StatementOfReasons {
    serde_json::from_value(redress_engine::testing::reviewed_suspension_statement(at))
        .expect("statement")
}

/// Files an appeal against a new enforcement of `source` (in batch `<source>-run-1`) and has
/// a reviewer restore or uphold it.
async fn decided_appeal(engine: &Engine, account: &str, source: &str, restore: bool) -> Uuid {
    let now = engine.clock().now();
    registry::record_enforcement(
        engine.db(),
        NewEnforcement {
            policy: "nudity".into(),
            batch_id: Some(format!("{source}-run-1")),
            content_id: Some("pin-1".into()),
            content_relation: Some("saved".into()),
            ..redress_engine::testing::automated_deactivation(account, "model", source, now)
        },
        now,
    )
    .await
    .expect("enforcement");
    let id = engine
        .file(
            &Actor::appellant(format!("{account}@example.org")),
            IncomingAppeal {
                channel: Channel::Email,
                channel_message_id: Some(format!("<{account}@example.org>")),
                sender: format!("{account}@example.org"),
                contact: None,
                account_id: Some(account.to_owned()),
                enforcement_id: None,
                identity_verified: true,
                subject: Some("My account was banned".into()),
                body: "I only saved that pin.".into(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    redress_engine::testing::triage_claim_and_decide(
        engine,
        id,
        &Actor::staff("rita", [Role::Reviewer]),
        now + TimeDelta::minutes(10),
        restore,
        upheld_statement(now),
    )
    .await;
    id
}

async fn wave(engine: &Engine, source: &str, total: usize, restored: usize) {
    for i in 0..total {
        decided_appeal(engine, &format!("{source}-{i:03}"), source, i < restored).await;
    }
}

fn window(app: &TestApp) -> Value {
    let now = app.clock.now();
    json!({"from": now - TimeDelta::days(1), "to": now + TimeDelta::days(1)})
}

redress_engine::backend_tests! {
    async fn a_wave_raises_an_incident_that_admins_see_and_resolve(test) {
        let app = TestApp::start(&test).await;
        let engine = engine(&app);
        wave(&engine, "nudity-v7", 40, 36).await;
        wave(&engine, "spam-v3", 20, 5).await;
        let admin = app.token("ada", &[Role::Admin]);
        assert_eq!(app.ok(&admin, INCIDENTS, json!({})).await["incidents"], json!([]), "nothing raised before the detector runs");

        app.clock.advance(TimeDelta::hours(1));
        let raised = engine.detect_faulty_sources(&DetectorSettings::default()).await.expect("scan");
        assert_eq!(raised.len(), 1, "only the wave raises an incident: {raised:?}");

        let lead = app.token("lena", &[Role::SeniorReviewer]);
        let incidents = app.ok(&lead, INCIDENTS, json!({})).await["incidents"].clone();
        let list = incidents.as_array().expect("list");
        assert_eq!(list.len(), 1, "{incidents}");
        let incident = &list[0];
        assert_eq!(incident["id"], json!(raised[0].id.to_string()));
        assert_eq!(incident["status"], "open");
        assert_eq!(incident["source"], json!({"kind": "model", "id": "nudity-v7", "batchId": "nudity-v7-run-1"}));
        assert_eq!((incident["decided"].as_u64(), incident["overturned"].as_u64()), (Some(40), Some(36)));
        assert!((incident["overturnRate"].as_f64().expect("rate") - 0.9).abs() < 1e-9);
        assert!((incident["lowerBound"].as_f64().expect("lower") - raised[0].lower_bound).abs() < 1e-12);
        assert!(incident["lowerBound"].as_f64().expect("lower") > 0.5);
        assert_eq!(incident["threshold"], json!(0.5));
        let raised_at: DateTime<Utc> = serde_json::from_value(incident["raisedAt"].clone()).expect("raisedAt");
        assert_eq!(raised_at, raised[0].raised_at);
        assert_eq!(incident["selector"], json!({"sourceId": null, "batchId": "nudity-v7-run-1"}));
        assert_eq!(incident["dryRunAccounts"], 40);
        assert_eq!(incident["dryRun"]["accounts"], 40);

        // The selector goes into the bulk-restore dry run as it is.
        let support = app.token("sam", &[Role::Support]);
        let dry = app.ok(&support, r"mutation($s: BulkSelectorInput!) { bulkRestoreDryRun(selector: $s) { accounts } }", json!({"s": incident["selector"]})).await;
        assert_eq!(dry["bulkRestoreDryRun"]["accounts"], 40);

        assert_eq!(app.error_code(&support, RESOLVE, json!({"id": incident["id"]})).await, "FORBIDDEN");
        let resolved = app.ok(&admin, RESOLVE, json!({"id": incident["id"]})).await;
        assert_eq!(resolved["resolveIncident"]["status"], "resolved");
        assert!(resolved["resolveIncident"]["resolvedAt"].is_string());
        assert_eq!(app.error_code(&admin, RESOLVE, json!({"id": incident["id"]})).await, "BAD_USER_INPUT", "resolving twice");
        assert_eq!(app.ok(&admin, INCIDENTS, json!({})).await["incidents"], json!([]));
        let all = app.ok(&admin, INCIDENTS, json!({"all": true})).await;
        assert_eq!(all["incidents"][0]["status"], "resolved");
        app.stop().await;
        test.cleanup().await;
    }

    async fn sources_are_ranked_by_overturn_rate_and_volume(test) {
        let app = TestApp::start(&test).await;
        let engine = engine(&app);
        wave(&engine, "big-wave", 30, 27).await;
        wave(&engine, "small-sure", 5, 5).await;
        wave(&engine, "mostly-right", 12, 2).await;
        let support = app.token("sam", &[Role::Support]);
        let ranked = app.ok(&support, RANKED, window(&app)).await["rankedSources"].clone();
        let order: Vec<(&str, u64, u64)> = ranked.as_array().expect("list").iter()
            .map(|s| (s["source"]["id"].as_str().expect("id"), s["decided"].as_u64().expect("n"), s["overturned"].as_u64().expect("k")))
            .collect();
        // 27 of 30 has a higher Wilson lower bound than 5 of 5: volume counts.
        assert_eq!(order, [("big-wave", 30, 27), ("small-sure", 5, 5), ("mostly-right", 12, 2)]);
        let from_engine = engine.ranked_sources(app.clock.now() - TimeDelta::days(1), app.clock.now() + TimeDelta::days(1)).await.expect("rank");
        for (node, outcomes) in ranked.as_array().expect("list").iter().zip(&from_engine) {
            assert!((node["lowerBound"].as_f64().expect("lower") - outcomes.interval.lower).abs() < 1e-12);
            assert!((node["upperBound"].as_f64().expect("upper") - outcomes.interval.upper).abs() < 1e-12);
        }
        let mut first = window(&app);
        first["first"] = json!(1);
        let top = app.ok(&support, RANKED, first.clone()).await;
        assert_eq!(top["rankedSources"].as_array().expect("list").len(), 1);
        first["first"] = json!(0);
        assert_eq!(app.error_code(&support, RANKED, first).await, "BAD_USER_INPUT");
        let past = json!({"from": app.clock.now() - TimeDelta::days(30), "to": app.clock.now() - TimeDelta::days(2)});
        assert_eq!(app.ok(&support, RANKED, past).await["rankedSources"], json!([]), "appeals outside the window are not counted");
        app.stop().await;
        test.cleanup().await;
    }

    async fn the_report_and_disputes_match_the_engine(test) {
        let app = TestApp::start(&test).await;
        let engine = engine(&app);
        let restored = decided_appeal(&engine, "acct-r", "rule-1", true).await;
        decided_appeal(&engine, "acct-u", "rule-1", false).await;
        let appeal = engine.appeal(restored).await.expect("appeal");

        let support = app.token("sam", &[Role::Support]);
        let submitted = app.clock.now();
        let by_reference = app.ok(&support, DISPUTE, json!({"i": {
            "reference": appeal.reference.to_string(),
            "settlementBody": "  ADR Body Dublin ",
            "submittedAt": submitted,
        }})).await["recordOutOfCourtDispute"].clone();
        assert_eq!(by_reference["appealId"], json!(restored.to_string()));
        assert_eq!(by_reference["settlementBody"], "ADR Body Dublin");
        assert_eq!(by_reference["outcome"], Value::Null);
        let admin = app.token("ada", &[Role::Admin]);
        app.ok(&admin, DISPUTE, json!({"i": {
            "appealId": restored.to_string(),
            "settlementBody": "User Rights ODS",
            "submittedAt": submitted,
            "outcome": "platform decision confirmed",
        }})).await;
        for bad in [
            json!({"settlementBody": "ADR", "submittedAt": submitted}),
            json!({"appealId": restored.to_string(), "reference": appeal.reference.to_string(), "settlementBody": "ADR", "submittedAt": submitted}),
            json!({"appealId": restored.to_string(), "settlementBody": " ", "submittedAt": submitted}),
            json!({"appealId": restored.to_string(), "settlementBody": "ADR", "submittedAt": submitted + TimeDelta::days(2)}),
        ] {
            assert_eq!(app.error_code(&support, DISPUTE, json!({"i": bad})).await, "BAD_USER_INPUT", "{bad}");
        }
        let unknown = json!({"i": {"appealId": Uuid::now_v7().to_string(), "settlementBody": "ADR", "submittedAt": submitted}});
        assert_eq!(app.error_code(&support, DISPUTE, unknown).await, "NOT_FOUND");

        let audited = audit::entries(engine.db(), audit::DISPUTE_RECORDED, None).await.expect("audit");
        assert_eq!(audited.len(), 2, "each recorded dispute is audited once, the refused ones never");
        assert!(audited[0].actor.contains("\"sam\""), "{}", audited[0].actor);
        assert!(audited[1].actor.contains("\"ada\""), "{}", audited[1].actor);
        assert_eq!(audited[0].appeal_id, Some(restored));
        assert_eq!(audited[0].account_id.as_deref(), Some("acct-r"));
        assert_eq!(audited[0].details["dispute_id"], by_reference["id"]);

        let lead = app.token("lena", &[Role::SeniorReviewer]);
        let from = app.clock.now() - TimeDelta::days(1);
        let to = app.clock.now() + TimeDelta::days(1);
        let report = app.ok(&lead, REPORT, json!({"from": from, "to": to})).await["transparencyReport"].clone();
        let expected = engine.transparency_report(from, to).await.expect("report");
        assert_eq!(expected.out_of_court_disputes, 2);
        assert_eq!(expected.appeals_received, 2);
        assert_eq!(report["appealsReceived"].as_u64(), Some(expected.appeals_received));
        assert_eq!(report["decisions"].as_u64(), Some(expected.decisions));
        assert_eq!(report["reversed"].as_u64(), Some(expected.reversed));
        assert_eq!(report["decisionsWithinSla"].as_u64(), Some(expected.decisions_within_sla));
        assert_eq!(report["slaCompliance"].as_f64(), expected.sla_compliance);
        assert_eq!(report["medianHoursToDecision"].as_f64(), expected.median_hours_to_decision);
        assert_eq!(report["p90HoursToDecision"].as_f64(), expected.p90_hours_to_decision);
        assert_eq!(report["escalations"].as_u64(), Some(expected.escalations));
        assert_eq!(report["bulkRestorations"].as_u64(), Some(expected.bulk_restorations));
        assert_eq!(report["outOfCourtDisputes"].as_u64(), Some(2));
        let pairs = |v: &Value| -> Vec<(String, u64)> {
            v.as_array().expect("list").iter().map(|e| (e["key"].as_str().expect("key").to_owned(), e["count"].as_u64().expect("count"))).collect()
        };
        let map = |m: &std::collections::BTreeMap<String, u64>| -> Vec<(String, u64)> { m.iter().map(|(k, v)| (k.clone(), *v)).collect() };
        assert_eq!(pairs(&report["receivedByChannel"]), map(&expected.received_by_channel));
        assert_eq!(pairs(&report["receivedByBasis"]), map(&expected.received_by_basis));
        assert_eq!(pairs(&report["decisionsByOutcome"]), vec![("restore".to_owned(), 1), ("uphold".to_owned(), 1)]);
        assert_eq!(app.error_code(&lead, REPORT, json!({"from": to, "to": from})).await, "BAD_USER_INPUT");
        app.stop().await;
        test.cleanup().await;
    }

    async fn roles_outside_transparency_are_forbidden(test) {
        let app = TestApp::start(&test).await;
        let vars = window(&app);
        for role in [Role::Triager, Role::Reviewer, Role::Integration] {
            let token = app.token("outsider", &[role]);
            assert_eq!(app.error_code(&token, INCIDENTS, json!({})).await, "FORBIDDEN", "incidents as {role}");
            assert_eq!(app.error_code(&token, RANKED, vars.clone()).await, "FORBIDDEN", "rankedSources as {role}");
            assert_eq!(app.error_code(&token, REPORT, vars.clone()).await, "FORBIDDEN", "transparencyReport as {role}");
        }
        for role in [Role::SeniorReviewer, Role::Support, Role::Admin] {
            let token = app.token("insider", &[role]);
            app.ok(&token, INCIDENTS, json!({})).await;
            app.ok(&token, RANKED, vars.clone()).await;
            app.ok(&token, REPORT, vars.clone()).await;
        }
        let (_, body) = app.post(None, INCIDENTS, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
        app.stop().await;
        test.cleanup().await;
    }
}
