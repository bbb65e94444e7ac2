//! `redress bulk-restore` end to end: a CSV list, a dry run, then the run, on SQLite and
//! PostgreSQL.

use chrono::Utc;
use clap::Parser;
use redress::cli::{self, Cli};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::testing::TestDb;

async fn deactivate(test: &TestDb, account: &str) {
    let now = Utc::now();
    registry::record_enforcement(
        &test.db,
        NewEnforcement {
            external_id: Some(format!("e-{account}")),
            facts: "internal error".into(),
            ..redress_engine::testing::automated_deactivation(account, "rule", "spam-12", now)
        },
        now,
    )
    .await
    .expect("enforcement");
}

async fn run_cli(args: &[&str]) -> anyhow::Result<()> {
    Box::pin(cli::run(
        Cli::try_parse_from(args).expect("arguments parse"),
    ))
    .await
}

redress_engine::backend_tests! {
    async fn a_csv_list_is_dry_run_then_restored(test) {
        for account in ["acct-1", "acct-2", "acct-3"] {
            deactivate(&test, account).await;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("redress.toml");
        let schema = test.schema.as_ref().map(|s| format!("schema = \"{s}\"\n")).unwrap_or_default();
        std::fs::write(&config, format!("[database]\nurl = \"{}\"\n{schema}", test.url)).expect("config");
        let csv = dir.path().join("accounts.csv");
        std::fs::write(&csv, "account_id\nacct-1\nacct-2\nghost\n").expect("csv");
        let (config, csv) = (config.to_string_lossy().into_owned(), csv.to_string_lossy().into_owned());

        run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--dry-run"]).await.expect("dry run");
        assert_eq!(registry::find_account(&test.db, "acct-1").await.expect("load").expect("account").status, "deactivated", "a dry run changes nothing");

        let refused = run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--actor", "sam"]).await;
        assert!(refused.is_err(), "a run needs a reason");
        for size in ["0", "10001"] {
            let refused = Cli::try_parse_from(["redress", "bulk-restore", "--csv", &csv, "--chunk-size", size]).map(|_| ()).expect_err(size);
            assert!(refused.to_string().contains("--chunk-size"), "{refused}");
        }
        run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--actor", "sam", "--reason", "spam rule 12 misfired"])
            .await
            .expect("run");
        for (account, status) in [("acct-1", "active"), ("acct-2", "active"), ("acct-3", "deactivated")] {
            let stored = registry::find_account(&test.db, account).await.expect("load").expect("account");
            assert_eq!(stored.status, status, "{account}");
        }
        test.cleanup().await;
    }
}
