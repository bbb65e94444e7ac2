//! `redress disputes record` end to end, on SQLite and PostgreSQL.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use clap::Parser;
use redress::cli::{self, Cli};
use redress_core::{Actor, Channel};
use redress_engine::repo::audit;
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, IncomingAppeal, SystemClock};
use serde_json::json;

async fn filed_appeal(test: &TestDb) -> (Engine, redress_engine::StoredAppeal) {
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    );
    let now = Utc::now();
    registry::record_enforcement(
        &test.db,
        NewEnforcement {
            external_id: Some("e-acct-1".into()),
            facts: "internal error".into(),
            ..redress_engine::testing::automated_deactivation("acct-1", "rule", "spam-12", now)
        },
        now,
    )
    .await
    .expect("enforcement");
    let filing = engine
        .file(
            &Actor::appellant("acct-1@example.org"),
            IncomingAppeal {
                channel: Channel::Email,
                channel_message_id: Some("<first@example.org>".into()),
                sender: "acct-1@example.org".into(),
                contact: None,
                account_id: Some("acct-1".into()),
                enforcement_id: None,
                identity_verified: true,
                subject: Some("banned".into()),
                body: "please look again".into(),
                in_reply_to: None,
                metadata: json!({}),
            },
        )
        .await
        .expect("file");
    let appeal = engine
        .appeal(filing.appeal_id().expect("id"))
        .await
        .expect("appeal");
    (engine, appeal)
}

async fn run_cli(args: &[&str]) -> anyhow::Result<()> {
    Box::pin(cli::run(Cli::try_parse_from(args)?)).await
}

redress_engine::backend_tests! {
    async fn a_dispute_is_recorded_audited_and_reported(test) {
        let (engine, appeal) = filed_appeal(&test).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("redress.toml");
        let schema = test.schema.as_ref().map(|s| format!("schema = \"{s}\"\n")).unwrap_or_default();
        std::fs::write(&config, format!("[database]\nurl = \"{}\"\n{schema}", test.url)).expect("config");
        let config = config.to_string_lossy().into_owned();
        let reference = appeal.reference.to_string();
        let submitted = (Utc::now() - TimeDelta::hours(1)).to_rfc3339();

        let without_actor = Cli::try_parse_from(["redress", "--config", &config, "disputes", "record", "--appeal", &reference, "--body", "ADR", "--submitted", &submitted]);
        assert!(without_actor.is_err() || std::env::var("REDRESS_ACTOR").is_ok(), "the recorder must be named");
        let unknown = run_cli(&["redress", "--config", &config, "disputes", "record", "--appeal", "RDR-2222-3333", "--body", "ADR", "--submitted", &submitted, "--actor", "sam"]).await;
        assert!(unknown.is_err(), "an unknown reference is refused");
        let blank = run_cli(&["redress", "--config", &config, "disputes", "record", "--appeal", &reference, "--body", " ", "--submitted", &submitted, "--actor", "sam"]).await;
        assert_eq!(blank.expect_err("blank body").to_string(), "a dispute needs the name of its settlement body");

        run_cli(&["redress", "--config", &config, "disputes", "record", "--appeal", &reference, "--body", "ADR Body Dublin", "--submitted", &submitted, "--actor", "sam"])
            .await
            .expect("by reference");
        run_cli(&["redress", "--config", &config, "disputes", "record", "--appeal", &appeal.id.to_string(), "--body", "User Rights ODS", "--submitted", &submitted, "--outcome", "decision confirmed", "--actor", "olga"])
            .await
            .expect("by id, settled");

        let audited = audit::entries(&test.db, audit::DISPUTE_RECORDED, Some("acct-1")).await.expect("audit");
        assert_eq!(audited.len(), 2);
        let actor: Actor = serde_json::from_str(&audited[0].actor).expect("actor");
        assert_eq!(actor.subject(), Some("sam"));
        assert_eq!(audited[0].details["settlement_body"], "ADR Body Dublin");
        assert_eq!(audited[1].details["outcome"], "decision confirmed");
        assert!(audited[1].details["resolved_at"].is_string(), "an outcome without a date is settled when recorded");

        let report = engine.transparency_report(Utc::now() - TimeDelta::days(1), Utc::now() + TimeDelta::days(1)).await.expect("report");
        assert_eq!(report.out_of_court_disputes, 2);
        test.cleanup().await;
    }
}
