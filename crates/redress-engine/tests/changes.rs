//! Committed appeal changes reach the live feed, from any writer; rolled-back ones never do.

mod common;

use std::time::Duration;

use common::{clock, email, enforcement, engine};
use redress_core::{Actor, Command};
use redress_engine::changes::AppealChange;
use redress_engine::commands::apply_command;
use redress_engine::EngineSettings;
use sea_orm::TransactionTrait;
use tokio::sync::{broadcast, watch};

async fn next_change(feed: &mut broadcast::Receiver<AppealChange>) -> Option<AppealChange> {
    tokio::time::timeout(Duration::from_millis(500), feed.recv())
        .await
        .ok()?
        .ok()
}

redress_engine::backend_tests! {
    async fn committed_changes_reach_the_feed_and_rolled_back_ones_do_not(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let (stop, stopped) = watch::channel(false);
        let listener = tokio::spawn({
            let engine = engine.clone();
            async move { engine.relay_changes(stopped).await }
        });
        let mut feed = engine.changes().subscribe();
        enforcement(&test.db, "acct-1", "spam").await;
        let appeal_id = engine
            .file(&Actor::appellant("person@example.org"), email("<m1@example.org>", Some("acct-1")))
            .await
            .expect("file")
            .appeal_id()
            .expect("appeal");

        // A note through the engine's own transaction, then one written by another use case
        // in a transaction it owns, then one rolled back. The PostgreSQL listener starts
        // asynchronously, so notes are added until the first change is heard.
        let note = |text: &str| Command::Note { text: text.to_owned() };
        let staff = Actor::staff("tina", [redress_core::Role::Triager]);
        let mut first = None;
        for attempt in 0..20 {
            engine.apply(appeal_id, None, &note(&format!("note {attempt}")), &staff).await.expect("note");
            if let Some(change) = next_change(&mut feed).await {
                first = Some(change);
                break;
            }
        }
        assert_eq!(first.expect("a change was heard").appeal_id, appeal_id);
        while next_change(&mut feed).await.is_some() {}

        // A write outside `Engine::transact` (which announces after its commit) notifies from
        // inside its own transaction: rolled back, it is never heard of; committed, it is.
        #[allow(clippy::disallowed_methods, reason = "the test writes outside the engine's write path on purpose")]
        let txn = test.db.begin().await.expect("begin");
        apply_command(&engine.in_transaction(&txn, clock.now_plus(chrono::TimeDelta::zero())), appeal_id, None, &note("rolled back"), &staff)
            .await
            .expect("note");
        txn.rollback().await.expect("rollback");
        let version = engine.appeal(appeal_id).await.expect("appeal").version();
        assert!(next_change(&mut feed).await.is_none(), "a rolled-back change is never announced");

        #[allow(clippy::disallowed_methods, reason = "the test writes outside the engine's write path on purpose")]
        let txn = test.db.begin().await.expect("begin");
        apply_command(&engine.in_transaction(&txn, clock.now_plus(chrono::TimeDelta::zero())), appeal_id, None, &note("by a worker"), &staff)
            .await
            .expect("note");
        txn.commit().await.expect("commit");
        if test.backend == redress_engine::testing::Backend::Postgres {
            let change = next_change(&mut feed).await.expect("a worker's commit is announced");
            assert_eq!(change.version, version + 1);
        }

        // A filing announces after its commit (on PostgreSQL from the engine's notifier),
        // and a duplicate delivery of the same message announces nothing.
        enforcement(&test.db, "acct-2", "spam").await;
        let second = engine
            .file(&Actor::appellant("other@example.org"), email("<m2@example.org>", Some("acct-2")))
            .await
            .expect("file")
            .appeal_id()
            .expect("appeal");
        let filed = next_change(&mut feed).await.expect("a filing is announced");
        assert_eq!((filed.appeal_id, filed.version), (second, 1));
        engine
            .file(&Actor::appellant("other@example.org"), email("<m2@example.org>", Some("acct-2")))
            .await
            .expect("duplicate");
        assert!(next_change(&mut feed).await.is_none(), "a duplicate changes nothing");
        stop.send_replace(true);
        listener.await.expect("listener task").expect("listener");
        test.cleanup().await;
    }
}
