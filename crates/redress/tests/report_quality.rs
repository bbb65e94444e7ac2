//! `redress report` with the quality figures, on SQLite and PostgreSQL: a blind second
//! review that disagrees, and a reopened decision overturned, in JSON and in CSV.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use redress::config::Config;
use redress::transparency::{report, ReportFormat};
use redress_core::{Actor, Channel, Command, Outcome, Role};
use redress_engine::quality::{SamplingKey, SecondReviewSettings};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, SystemClock};
use serde_json::{json, Value};

fn upheld(now: chrono::DateTime<Utc>) -> redress_core::StatementOfReasons {
    serde_json::from_value(json!({
        "restrictions": [{"kind": "account_suspended", "starts_at": now}],
        "territorial_scope": {"scope": "worldwide"},
        "facts": "The account posted the pin forty times.",
        "automated_detection": "fully",
        "automated_decision": "not",
        "ground": {"ground": "incompatible_with_terms", "clause": "Community guidelines 4.2", "explanation": "Spam."},
        "redress": ["out_of_court_dispute_settlement", "judicial_redress"]
    }))
    .expect("statement")
}

/// Files an appeal against a spam enforcement of `account`, triages and claims it for
/// `reviewer`.
async fn claimed(engine: &Engine, test: &TestDb, account: &str, reviewer: &Actor) -> uuid::Uuid {
    let now = Utc::now();
    let enforcement = registry::record_enforcement(
        &test.db,
        NewEnforcement {
            external_id: Some(format!("e-{account}")),
            ..redress_engine::testing::automated_deactivation(account, "rule", "spam-12", now)
        },
        now,
    )
    .await
    .expect("enforcement");
    let filing = engine
        .file(
            &Actor::appellant(format!("{account}@example.org")),
            IncomingAppeal {
                channel: Channel::Api,
                channel_message_id: Some(format!("req-{account}")),
                sender: format!("{account}@example.org"),
                contact: None,
                account_id: None,
                enforcement_id: Some(enforcement),
                identity_verified: true,
                subject: None,
                body: "please look again".into(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file");
    let id = filing.appeal_id().expect("id");
    redress_engine::testing::triage_and_claim(
        engine,
        id,
        &Actor::staff("tina", [Role::Triager]),
        reviewer,
        now + TimeDelta::minutes(10),
    )
    .await;
    id
}

fn decide(outcome: Outcome) -> Command {
    Command::Decide {
        outcome,
        reasons: "Looked at it again.".into(),
        statement: (outcome == Outcome::Uphold).then(|| upheld(Utc::now())),
        manifestly_unfounded: false,
        template: None,
    }
}

redress_engine::backend_tests! {
    async fn the_report_carries_agreement_and_overturn_rates(test) {
        let settings = EngineSettings {
            second_review: SecondReviewSettings::new(1.0, BTreeMap::new(), SamplingKey::new("k")).expect("share"),
            ..EngineSettings::default()
        };
        let engine = Engine::new(test.db.clone(), settings, Arc::new(SystemClock));
        let (alice, bob) = (Actor::staff("alice", [Role::Reviewer]), Actor::staff("bob", [Role::Reviewer]));
        let carol = Actor::staff("carol", [Role::SeniorReviewer]);
        let id = claimed(&engine, &test, "acct-1", &alice).await;
        engine.apply(id, None, &decide(Outcome::Uphold), &alice).await.expect("decide");
        let case = engine.take_second_review(&bob).await.expect("take").expect("sampled");
        engine.record_second_review(&bob, case.review_id, Outcome::Restore).await.expect("record");
        engine.apply(id, None, &Command::Reopen { reason: "the second review differs".into() }, &carol).await.expect("reopen");
        engine.apply(id, None, &Command::Claim { lease_until: Utc::now() + TimeDelta::minutes(10) }, &bob).await.expect("claim");
        engine.apply(id, None, &decide(Outcome::Restore), &bob).await.expect("decide again");

        let mut config = Config::default();
        config.database.url.clone_from(&test.url);
        config.database.schema.clone_from(&test.schema);
        let (from, to) = ((Utc::now() - TimeDelta::days(1)).to_rfc3339(), (Utc::now() + TimeDelta::days(1)).to_rfc3339());

        let mut json_out = Vec::new();
        report(&config, &from, &to, ReportFormat::Json, &mut json_out).await.expect("json report");
        let printed: Value = serde_json::from_slice(&json_out).expect("json");
        assert_eq!(printed["decisions"], 2, "the report's own figures stay at the top: {printed}");
        let quality = &printed["quality"];
        assert_eq!((quality["second_reviews"].as_u64(), quality["agreed"].as_u64()), (Some(1), Some(0)), "{quality}");
        assert_eq!(quality["agreement_rate"], 0.0);
        assert_eq!(quality["by_reviewer"], json!([{"key": "alice", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!(quality["by_policy"], json!([{"key": "spam", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!(quality["by_template"], json!([{"key": "none", "reviewed": 1, "agreed": 0, "rate": 0.0}]));
        assert_eq!((quality["reopened_and_decided_again"].as_u64(), quality["overturned"].as_u64()), (Some(1), Some(1)));
        assert_eq!(quality["overturn_rate"], 1.0);

        let mut csv_out = Vec::new();
        report(&config, &from, &to, ReportFormat::Csv, &mut csv_out).await.expect("csv report");
        let csv = String::from_utf8(csv_out).expect("utf-8");
        for row in [
            "second_reviews,,1",
            "second_reviews_agreed,,0",
            "agreement_rate,,0",
            "agreement_rate,reviewer:alice,0",
            "second_reviews,policy:spam,1",
            "agreement_rate,template:none,0",
            "reopened_and_decided_again,,1",
            "overturned,,1",
            "overturn_rate,,1",
        ] {
            assert!(csv.lines().any(|line| line == row), "no {row:?} in\n{csv}");
        }
        test.cleanup().await;
    }
}
