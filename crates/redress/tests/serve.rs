//! The service over real sockets, on SQLite and PostgreSQL.

use redress::config::Config;
use redress_engine::testing::{Backend, TestDb};
use redress_migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, Statement};

fn config_for(test: &TestDb) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.http.bind = "127.0.0.1:0".parse().expect("address");
    config.email.smtp_bind = "127.0.0.1:0".parse().expect("address");
    config.graphql.auth.hs256_secret = Some("test-secret-long-enough-for-hs256-signing".to_owned());
    config
}

redress_engine::backend_tests! {
    async fn health_and_readiness_answer_over_http(test) {
        let app = redress::app::start(config_for(&test)).await.expect("start");
        let base = format!("http://{}", app.http_addr);
        let health = reqwest::get(format!("{base}/healthz")).await.expect("healthz");
        assert_eq!(health.status(), 200);
        let ready: serde_json::Value = reqwest::get(format!("{base}/readyz")).await.expect("readyz").json().await.expect("json");
        assert_eq!(ready["status"], "ready");
        let expected = match test.backend {
            redress_engine::testing::Backend::Sqlite => "sqlite",
            redress_engine::testing::Backend::Postgres => "postgres",
        };
        assert_eq!(ready["database"], expected);
        app.stop().await.expect("stop");
        test.cleanup().await;
    }
}

#[tokio::test]
async fn readiness_fails_when_the_database_goes_away() {
    let test = TestDb::sqlite().await;
    let app = redress::app::start(config_for(&test)).await.expect("start");
    app.state
        .engine
        .db()
        .clone()
        .close()
        .await
        .expect("close pool");
    let response = reqwest::get(format!("http://{}/readyz", app.http_addr))
        .await
        .expect("readyz");
    assert_eq!(response.status(), 503);
    let health = reqwest::get(format!("http://{}/healthz", app.http_addr))
        .await
        .expect("healthz");
    assert_eq!(
        health.status(),
        200,
        "liveness does not depend on the database"
    );
    app.stop().await.expect("stop");
}

#[test]
fn the_binary_migrates_a_fresh_sqlite_file_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("fresh.sqlite");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("migrate")
        .current_dir(dir.path())
        .env(
            "REDRESS_DATABASE__URL",
            format!("sqlite://{}?mode=rwc", db_path.display()),
        )
        .output()
        .expect("run redress migrate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db_path.exists());
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["--config", "/nonexistent.toml", "migrate"])
        .output()
        .expect("run redress");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not exist"));
}

/// Replicas of the real binary started at once on a fresh database: every `redress migrate`
/// succeeds and each migration is recorded once.
async fn replicas_of_the_binary_migrate_one_fresh_database(backend: Backend) {
    const REPLICAS: usize = 4;
    let Some(test) = TestDb::unmigrated(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let replicas: Vec<std::process::Child> = (0..REPLICAS)
        .map(|_| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_redress"));
            command
                .arg("migrate")
                .current_dir(dir.path())
                .env("REDRESS_DATABASE__URL", &test.url)
                .env("REDRESS_LOG__FILTER", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            if let Some(schema) = &test.schema {
                command.env("REDRESS_DATABASE__SCHEMA", schema);
            }
            command.spawn().expect("start redress migrate")
        })
        .collect();
    for (replica, child) in replicas.into_iter().enumerate() {
        let output = child.wait_with_output().expect("wait for redress migrate");
        assert!(
            output.status.success(),
            "replica {replica}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let recorded = test
        .db
        .query_one_raw(Statement::from_string(
            test.db.get_database_backend(),
            "SELECT count(*) AS n, count(DISTINCT version) AS distinct_n FROM seaql_migrations",
        ))
        .await
        .expect("count migrations")
        .expect("one row");
    let (n, distinct) = (
        recorded.try_get::<i64>("", "n").expect("n"),
        recorded.try_get::<i64>("", "distinct_n").expect("distinct"),
    );
    let expected = redress_migrations::Migrator::migrations().len() as i64;
    assert_eq!(
        (n, distinct),
        (expected, expected),
        "each migration recorded once"
    );
    test.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_of_the_binary_migrate_one_fresh_file() {
    replicas_of_the_binary_migrate_one_fresh_database(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_of_the_binary_migrate_one_fresh_schema() {
    replicas_of_the_binary_migrate_one_fresh_database(Backend::Postgres).await;
}
