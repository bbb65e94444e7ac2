//! Blind second reviews over GraphQL, on SQLite and on PostgreSQL: a decision made with a
//! template keeps it, another reviewer takes the case without the first outcome (the blind
//! type has no field that leads to it), the first reviewer is refused, the agreement is
//! stored and the leads read the rates; while the second reviewer holds the case, the rest
//! of the API withholds it from them (by id, by reference, in search, in lists, in the
//! account's appeals, to mutations) until they record their outcome.

#[allow(dead_code)]
mod api;

use std::path::Path;

use api::{config_for, triaged_appeal, TestApp};
use chrono::TimeDelta;
use redress::config::Config;
use redress_core::Role;
use serde_json::{json, Value};

const REASONS: &str = "Restored: the pin was saved, never posted.";

const CLAIM: &str =
    r"mutation($id: ID!, $v: Int!) { claimAppeal(id: $id, expectedVersion: $v) { version } }";
const DECIDE: &str = r"mutation($id: ID!, $v: Int!, $r: String!, $t: String) { decideAppeal(id: $id, expectedVersion: $v, outcome: RESTORE, reasons: $r, template: $t) { version events { kind payload } } }";
const TAKE: &str = r"mutation { takeSecondReview {
  id channel filedAt language policy heldUntil
  enforcement { kind policy automatedDetection automatedDecision contentRelation facts statement enforcedAt policyDetails { id } }
  messages { channel subject body receivedAt }
} }";
const RECORD: &str = r"mutation($id: ID!, $o: Outcome!) { recordSecondReview(id: $id, outcome: $o) { id outcome agreed reviewedAt } }";
const RATES: &str = r"query($from: DateTime!, $to: DateTime!) { qualityRates(from: $from, to: $to) {
  secondReviews agreed agreementRate
  byReviewer { key reviewed agreed rate } byPolicy { key reviewed agreed rate } byTemplate { key reviewed agreed rate }
  reopenedAndDecidedAgain overturned overturnRate
} openSecondReviews }";
const FIELDS: &str = r#"{ review: __type(name: "BlindSecondReview") { fields { name } } enforcement: __type(name: "BlindEnforcement") { fields { name } } message: __type(name: "BlindMessage") { fields { name } } }"#;

fn config(db: &redress_engine::testing::TestDb) -> Config {
    let example = Config::load(Some(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../redress.example.toml"),
    ))
    .expect("the example configuration");
    let mut config = config_for(db);
    config.policies = example.policies;
    config.decision_templates = example.decision_templates;
    config.quality.second_review_share = 1.0;
    config
}

fn names(fields: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = fields["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    names.sort_unstable();
    names
}

redress_engine::backend_tests! {
    async fn a_blind_second_review_by_another_reviewer_and_its_agreement(db) {
        let app = TestApp::start_with(config(&db)).await;
        let from = app.clock.now_plus(TimeDelta::zero());
        let (id, version) = triaged_appeal(&app, "acct-second", "spam", "general").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        let sam = app.token("sam", &[Role::Reviewer]);
        let claimed = app.ok(&rita, CLAIM, json!({"id": id, "v": version})).await;
        let version = claimed["claimAppeal"]["version"].clone();

        let unknown = app.post(Some(&rita), DECIDE, json!({"id": id, "v": version, "r": REASONS, "t": "no-such"})).await.1;
        assert_eq!(unknown["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{unknown}");
        assert_eq!(unknown["errors"][0]["extensions"]["field"], "template", "{unknown}");
        let decided = app.ok(&rita, DECIDE, json!({"id": id, "v": version, "r": REASONS, "t": "spam-restore-en"})).await;
        let events = decided["decideAppeal"]["events"].as_array().expect("events");
        let payload = &events.iter().find(|e| e["kind"] == "decided").expect("decided")["payload"];
        assert_eq!(payload["template"], "spam-restore-en");

        // The blind types name nothing of the first decision or the way to it.
        let fields = app.ok(&sam, FIELDS, json!({})).await;
        assert_eq!(names(&fields["review"]), ["channel", "enforcement", "filedAt", "heldUntil", "id", "language", "messages", "policy"]);
        assert_eq!(
            names(&fields["enforcement"]),
            ["automatedDecision", "automatedDetection", "contentRelation", "enforcedAt", "facts", "kind", "policy", "policyDetails", "statement"]
        );
        assert_eq!(names(&fields["message"]), ["body", "channel", "receivedAt", "subject"]);

        let own = app.ok(&rita, TAKE, json!({})).await;
        assert_eq!(own["takeSecondReview"], Value::Null, "never one's own decision");
        let taken = app.ok(&sam, TAKE, json!({})).await;
        let case = &taken["takeSecondReview"];
        assert_eq!(case["policy"], "spam");
        assert_eq!(case["enforcement"]["policyDetails"]["id"], "spam");
        assert_eq!(case["messages"][0]["body"], "I only saved that pin, please restore my account");
        let shown = case.to_string();
        for leak in [REASONS, "rita", "spam-restore-en", "RESTORE", &id] {
            assert!(!shown.contains(leak), "the blind case shows {leak:?}: {shown}");
        }
        let review = case["id"].clone();

        let refused = app.post(Some(&rita), RECORD, json!({"id": review, "o": "RESTORE"})).await.1;
        assert_eq!(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "{refused}");
        assert_eq!(refused["errors"][0]["message"], "rita made the decision under review; a second review must be another reviewer's");
        let triager = app.token("tina", &[Role::Triager]);
        assert_eq!(app.error_code(&triager, RECORD, json!({"id": review, "o": "UPHOLD"})).await, "FORBIDDEN");

        let recorded = app.ok(&sam, RECORD, json!({"id": review, "o": "UPHOLD"})).await;
        assert_eq!(recorded["recordSecondReview"]["agreed"], false);
        assert_eq!(recorded["recordSecondReview"]["outcome"], "UPHOLD");
        assert_eq!(app.error_code(&sam, RECORD, json!({"id": review, "o": "UPHOLD"})).await, "INVALID_TRANSITION");

        let period = json!({"from": from, "to": app.clock.now_plus(TimeDelta::days(30))});
        assert_eq!(app.error_code(&sam, RATES, period.clone()).await, "FORBIDDEN");
        let lead = app.token("carol", &[Role::SeniorReviewer]);
        let too_long = json!({"from": from, "to": from + TimeDelta::days(367)});
        assert_eq!(app.error_code(&lead, RATES, too_long).await, "BAD_USER_INPUT");
        let rates = app.ok(&lead, RATES, period).await;
        let rates_of = &rates["qualityRates"];
        assert_eq!((rates_of["secondReviews"].as_u64(), rates_of["agreed"].as_u64()), (Some(1), Some(0)));
        assert_eq!(rates_of["agreementRate"], 0.0);
        assert_eq!(rates_of["byReviewer"], json!([{"key": "rita", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!(rates_of["byPolicy"], json!([{"key": "spam", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!(rates_of["byTemplate"], json!([{"key": "spam-restore-en", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!(rates_of["overturnRate"], Value::Null);
        assert_eq!(rates["openSecondReviews"], 0);
        app.stop().await;
        db.cleanup().await;
    }

    async fn the_case_under_review_is_withheld_from_its_second_reviewer_until_recorded(db) {
        let app = TestApp::start_with(config(&db)).await;
        let (id, version) = triaged_appeal(&app, "acct-withheld", "spam", "general").await;
        let rita = app.token("rita", &[Role::Reviewer]);
        let sam = app.token("sam", &[Role::Reviewer]);
        let carol = app.token("carol", &[Role::SeniorReviewer]);
        let claimed = app.ok(&rita, CLAIM, json!({"id": id, "v": version})).await;
        let decided = app.ok(&rita, DECIDE, json!({"id": id, "v": claimed["claimAppeal"]["version"], "r": REASONS, "t": "spam-restore-en"})).await;
        let version = decided["decideAppeal"]["version"].clone();
        let case = r"query($id: ID!) { appeal(id: $id) { reference state decision { reasons decidedBy } } }";
        let reference = app.ok(&rita, case, json!({"id": id})).await["appeal"]["reference"].as_str().expect("reference").to_owned();

        let review = app.ok(&sam, TAKE, json!({})).await["takeSecondReview"]["id"].clone();
        assert_ne!(review, Value::Null);

        let by_id = app.post(Some(&sam), case, json!({"id": id})).await.1;
        assert_eq!(by_id["errors"][0]["extensions"]["code"], "FORBIDDEN", "{by_id}");
        assert!(by_id["errors"][0]["message"].as_str().expect("message").contains("blind second review"), "{by_id}");
        let by_reference = app.post(Some(&sam), r"query($r: String!) { appealByReference(reference: $r) { decision { reasons } } }", json!({"r": reference})).await.1;
        assert_eq!(by_reference["errors"][0]["extensions"]["code"], "FORBIDDEN", "{by_reference}");
        let lists = app.ok(&sam, r#"query($r: String!) {
            search(query: $r) { hits { appeal { id } } }
            byAccount: search(query: "acct-withheld") { hits { appeal { id } } }
            account(id: "acct-withheld") { appeals { id } }
            appeals(filter: {accountId: "acct-withheld"}, first: 50) { edges { node { id } } }
        }"#, json!({"r": reference})).await;
        assert_eq!(lists["search"]["hits"], json!([]), "{lists}");
        assert_eq!(lists["byAccount"]["hits"], json!([]), "{lists}");
        assert_eq!(lists["account"]["appeals"], json!([]), "{lists}");
        assert_eq!(lists["appeals"]["edges"], json!([]), "{lists}");
        let note = r#"mutation($id: ID!, $v: Int!) { addNote(id: $id, expectedVersion: $v, text: "seen it") { version } }"#;
        assert_eq!(app.error_code(&sam, note, json!({"id": id, "v": version})).await, "FORBIDDEN");

        // Everyone else reads the case as before, and nothing was changed by the refusal.
        let seen = app.ok(&carol, case, json!({"id": id})).await;
        assert_eq!(seen["appeal"]["decision"]["reasons"], REASONS);
        let listed = app.ok(&carol, r#"{ account(id: "acct-withheld") { appeals { id version } } search(query: "acct-withheld") { hits { appeal { id } } } appeals(filter: {accountId: "acct-withheld"}, first: 50) { edges { node { id } } } }"#, json!({})).await;
        assert_eq!(listed["account"]["appeals"], json!([{"id": id, "version": version}]));
        assert_eq!(listed["appeals"]["edges"], json!([{"node": {"id": id}}]));
        assert_eq!(listed["search"]["hits"], json!([{"appeal": {"id": id}}]));

        app.ok(&sam, RECORD, json!({"id": review, "o": "RESTORE"})).await;
        let after = app.ok(&sam, case, json!({"id": id})).await;
        assert_eq!(after["appeal"]["state"], "REVIEWED");
        assert_eq!(after["appeal"]["decision"], json!({"reasons": REASONS, "decidedBy": "rita"}));
        let found = app.ok(&sam, r"query($r: String!) { search(query: $r) { hits { appeal { id } } } }", json!({"r": reference})).await;
        assert_eq!(found["search"]["hits"], json!([{"appeal": {"id": id}}]));
        app.stop().await;
        db.cleanup().await;
    }
}
