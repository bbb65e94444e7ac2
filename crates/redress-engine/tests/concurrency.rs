//! Concurrency under real contention: many writers on one appeal (PostgreSQL), and replicas
//! migrating one fresh database at once (both backends).

mod common;

use std::collections::BTreeSet;

use common::{clock, email, enforcement, engine};
use redress_core::{Actor, Command, Role};
use redress_engine::repo::events;
use redress_engine::testing::{Backend, TestDb};
use redress_engine::{db, EngineError, EngineSettings};
use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};

const WRITERS: usize = 16;

fn note(i: usize) -> Command {
    Command::Note {
        text: format!("note {i}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_at_one_version_one_wins_the_rest_conflict() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    let clock = clock();
    let engine = engine(&test.db, &clock, EngineSettings::default());
    enforcement(&test.db, "acct-c1", "spam").await;
    let id = engine
        .file(
            &Actor::appellant("p"),
            email("<c1@example.org>", Some("acct-c1")),
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let engine = engine.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                engine
                    .apply(
                        id,
                        Some(1),
                        &note(i),
                        &Actor::staff(format!("s{i}"), [Role::Reviewer]),
                    )
                    .await
            })
        })
        .collect();
    let mut won = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(_) => won += 1,
            Err(EngineError::Conflict { expected: 1, .. }) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, WRITERS - 1));
    let versions: Vec<i64> = events::history(&test.db, id)
        .await
        .expect("history")
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert_eq!(versions, vec![1, 2]);
    test.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_retrying_on_conflict_leave_a_gapless_log() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    let clock = clock();
    let engine = engine(&test.db, &clock, EngineSettings::default());
    enforcement(&test.db, "acct-c2", "spam").await;
    let id = engine
        .file(
            &Actor::appellant("p"),
            email("<c2@example.org>", Some("acct-c2")),
        )
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let actor = Actor::staff(format!("s{i}"), [Role::Reviewer]);
                let mut conflicts = 0;
                loop {
                    let version = engine.appeal(id).await.expect("load").version();
                    match engine.apply(id, Some(version), &note(i), &actor).await {
                        Ok(applied) => return (applied.appeal.version(), conflicts),
                        Err(EngineError::Conflict { .. }) => conflicts += 1,
                        Err(other) => panic!("unexpected error: {other}"),
                    }
                }
            })
        })
        .collect();
    let mut written = BTreeSet::new();
    for task in tasks {
        let (version, _) = task.await.expect("join");
        assert!(written.insert(version), "two writers got version {version}");
    }
    let history = events::history(&test.db, id).await.expect("history");
    let versions: Vec<i64> = history.iter().map(|(v, _)| *v).collect();
    let expected: Vec<i64> = (1..=(WRITERS as i64 + 1)).collect();
    assert_eq!(versions, expected, "no gaps, no duplicates");
    assert_eq!(
        engine.appeal(id).await.expect("load").version(),
        WRITERS as i64 + 1
    );
    test.cleanup().await;
}

const REPLICAS: usize = 4;

/// Replicas starting together on a fresh database, each migrating from its own pool: every
/// one succeeds and each migration is recorded once.
async fn replicas_migrate_one_fresh_database_together(backend: Backend) {
    let Some(test) = TestDb::unmigrated(backend).await else {
        return;
    };
    let settings = test.pool_settings();
    let pools =
        futures::future::try_join_all((0..REPLICAS).map(|_| db::connect(&test.url, &settings)))
            .await
            .expect("one pool per replica");
    let migrated = futures::future::join_all(pools.iter().map(|pool| async move {
        tokio::task::yield_now().await;
        db::migrate(pool).await
    }))
    .await;
    for (replica, result) in migrated.into_iter().enumerate() {
        result.unwrap_or_else(|err| panic!("replica {replica} failed to migrate: {err}"));
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
    let expected = Migrator::migrations().len() as i64;
    assert_eq!(
        (
            recorded.try_get::<i64>("", "n").expect("n"),
            recorded.try_get::<i64>("", "distinct_n").expect("distinct")
        ),
        (expected, expected)
    );
    for pool in pools {
        pool.close().await.ok();
    }
    test.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_replicas_migrate_one_fresh_file_together() {
    replicas_migrate_one_fresh_database_together(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_migrate_one_fresh_schema_together() {
    replicas_migrate_one_fresh_database_together(Backend::Postgres).await;
}
