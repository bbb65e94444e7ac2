//! `redress bulk-restore` end to end: a CSV list, a dry run, then the run; resumes that
//! finish or say what is left; two processes resuming one job, one of them killed; on
//! SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use redress::cli::{self, Cli};
use redress_core::{Actor, Role};
use redress_engine::repo::registry::{self, AccountStatus, NewEnforcement};
use redress_engine::restoration::{
    BulkJob, BulkJobStatus, BulkRestorer, RestorationBackend, Selector,
};
use redress_engine::testing::TestDb;
use redress_engine::{Engine, EngineSettings, SystemClock};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

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

/// A configuration file that points at the test's database, in `dir`.
fn config_file(test: &TestDb, dir: &std::path::Path) -> String {
    let config = dir.join("redress.toml");
    let schema = test
        .schema
        .as_ref()
        .map(|s| format!("schema = \"{s}\"\n"))
        .unwrap_or_default();
    std::fs::write(
        &config,
        format!("[database]\nurl = \"{}\"\n{schema}", test.url),
    )
    .expect("config");
    config.to_string_lossy().into_owned()
}

/// A wave of `accounts` deactivated by nudity-v7 and a job over it, cut into `slices`.
async fn wave_job(
    test: &TestDb,
    accounts: usize,
    slices: u32,
    chunk: u32,
) -> (BulkRestorer, BulkJob) {
    redress_engine::testing::seed_deactivated_wave(&test.db, accounts, "nudity-v7").await;
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(SystemClock),
    );
    let restorer = BulkRestorer::new(engine, RestorationBackend::Embedded).with_slices(slices);
    let job = start_wave_job(&restorer, chunk).await;
    (restorer, job)
}

/// A job over what is left of the nudity-v7 wave.
async fn start_wave_job(restorer: &BulkRestorer, chunk: u32) -> BulkJob {
    restorer
        .start(
            &Actor::staff("sam", [Role::Support]),
            Selector::Source {
                source_id: "nudity-v7".into(),
            },
            "internal error in nudity-v7",
            chunk,
        )
        .await
        .expect("start")
}

/// Polls the job (real time, bounded) until it has processed at least `accounts`, while it
/// is still running.
async fn processed_at_least(restorer: &BulkRestorer, job: uuid::Uuid, accounts: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let seen = restorer.job(job).await.expect("job");
        assert_eq!(
            seen.status,
            BulkJobStatus::Running,
            "the job must still be running: {seen:?}"
        );
        if seen.processed >= accounts {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {accounts} accounts processed",
            seen.processed
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run_cli(args: &[&str]) -> anyhow::Result<()> {
    Box::pin(cli::run(
        Cli::try_parse_from(args).expect("arguments parse"),
    ))
    .await
}

redress_engine::backend_tests! {
    async fn a_resume_succeeds_only_when_the_job_is_complete_and_otherwise_names_what_is_left(test) {
        let (restorer, job) = wave_job(&test, 40, 2, 10).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config_file(&test, dir.path());
        restorer.run_chunk(job.id).await.expect("one chunk");
        restorer.cancel(&Actor::staff("sam", [Role::Support]), job.id).await.expect("cancel");
        let id = job.id.to_string();
        let refused = run_cli(&["redress", "--config", &config, "bulk-restore", "--resume", &id])
            .await
            .expect_err("a cancelled job cannot be finished");
        let message = format!("{refused:#}");
        assert!(message.contains("is cancelled with 10 of 40 accounts processed"), "{message}");
        assert!(message.contains("left: slice 0 (10 accounts after acct-00009), slice 1 (20 accounts after acct-00019)"), "{message}");
        assert!(!message.contains("--resume"), "a cancelled job is not to be resumed: {message}");

        let next = start_wave_job(&restorer, 10).await;
        restorer.run_chunk(next.id).await.expect("one chunk");
        let id = next.id.to_string();
        run_cli(&["redress", "--config", &config, "bulk-restore", "--resume", &id]).await.expect("the resume completes the job");
        let done = restorer.job(next.id).await.expect("job");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, 30, 30));
        assert!(restorer.slices_left(next.id).await.expect("slices left").is_empty());
        test.cleanup().await;
    }

    async fn two_processes_resume_one_job_and_the_survivor_of_a_kill_completes_it(test) {
        const ACCOUNTS: usize = 10_000;
        let (restorer, job) = wave_job(&test, ACCOUNTS, 2, 100).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config_file(&test, dir.path());
        let id = job.id.to_string();
        let resume = || {
            std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
                .args(["--config", &config, "bulk-restore", "--resume", &id])
                .current_dir(dir.path())
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start redress bulk-restore --resume")
        };
        // The second process joins while the first is restoring, so it finds chunks
        // claimed under it; then the first is killed.
        let mut doomed = resume();
        processed_at_least(&restorer, job.id, ACCOUNTS as i64 / 10).await;
        let survivor = resume();
        processed_at_least(&restorer, job.id, ACCOUNTS as i64 / 3).await;
        doomed.kill().expect("kill one runner");
        doomed.wait().expect("reap the killed runner");

        let output = tokio::task::spawn_blocking(move || survivor.wait_with_output())
            .await
            .expect("join")
            .expect("the survivor ends");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the final report");
        assert_eq!(report["job"]["status"], "completed", "{report}");
        let done = restorer.job(job.id).await.expect("job");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, ACCOUNTS as i64, ACCOUNTS as i64));
        let active = redress_engine::entity::account::Entity::find()
            .filter(redress_engine::entity::account::Column::Status.eq("active"))
            .count(&test.db)
            .await
            .expect("count");
        assert_eq!(active, ACCOUNTS as u64, "every account restored");
        test.cleanup().await;
    }

    async fn a_csv_list_is_dry_run_then_restored(test) {
        for account in ["acct-1", "acct-2", "acct-3"] {
            deactivate(&test, account).await;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let config = config_file(&test, dir.path());
        let csv = dir.path().join("accounts.csv");
        std::fs::write(&csv, "account_id\nacct-1\nacct-2\nghost\n").expect("csv");
        let csv = csv.to_string_lossy().into_owned();

        run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--dry-run"]).await.expect("dry run");
        assert_eq!(registry::find_account(&test.db, "acct-1").await.expect("load").expect("account").status, AccountStatus::Deactivated, "a dry run changes nothing");

        let refused = run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--actor", "sam"]).await;
        assert!(refused.is_err(), "a run needs a reason");
        for size in ["0", "10001"] {
            let refused = Cli::try_parse_from(["redress", "bulk-restore", "--csv", &csv, "--chunk-size", size]).map(|_| ()).expect_err(size);
            assert!(refused.to_string().contains("--chunk-size"), "{refused}");
        }
        run_cli(&["redress", "--config", &config, "bulk-restore", "--csv", &csv, "--actor", "sam", "--reason", "spam rule 12 misfired"])
            .await
            .expect("run");
        for (account, status) in [("acct-1", AccountStatus::Active), ("acct-2", AccountStatus::Active), ("acct-3", AccountStatus::Deactivated)] {
            let stored = registry::find_account(&test.db, account).await.expect("load").expect("account");
            assert_eq!(stored.status, status, "{account}");
        }
        test.cleanup().await;
    }
}
