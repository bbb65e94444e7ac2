//! Optimistic concurrency under real contention on PostgreSQL: many writers, one appeal.

mod common;

use std::collections::BTreeSet;

use common::{clock, email, enforcement, engine};
use redress_core::{Actor, Command, Role};
use redress_engine::repo::events;
use redress_engine::testing::TestDb;
use redress_engine::{EngineError, EngineSettings};

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
