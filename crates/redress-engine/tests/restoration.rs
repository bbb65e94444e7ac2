//! Restorations after an appeal, and bulk restoration jobs, on SQLite and PostgreSQL.

mod common;

use std::sync::mpsc;

use chrono::{TimeDelta, Utc};
use common::{clock, email, enforcement, engine};
use redress_core::{Actor, AppealState, Command, Outcome, Role};
use redress_engine::delivery::{topics, Deliverer, OutboxMessage};
use redress_engine::entity::{
    account, bulk_restore_job, bulk_restore_outcome, bulk_restore_slice, outbox as outbox_entity,
    restoration,
};
use redress_engine::repo::registry::AccountStatus;
use redress_engine::repo::{events, outbox, registry};
use redress_engine::restoration::{
    records, BulkJob, BulkJobStatus, BulkOutcome, BulkRestorer, ItemKind, ItemOutcome,
    RestorationBackend, RestorationDeliverer, RestorationError, RestorationStatus, Selector,
};
use redress_engine::{Engine, EngineSettings};
use redress_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

fn reviewer() -> Actor {
    Actor::staff("alice", [Role::Reviewer])
}

fn support() -> Actor {
    Actor::staff("sam", [Role::Support])
}

/// Files, triages, claims and decides `restore` on an appeal of `account`.
async fn decided_restore(
    engine: &Engine,
    clock: &redress_engine::ManualClock,
    account: &str,
) -> uuid::Uuid {
    let filing = engine
        .file(
            &Actor::appellant("person@example.org"),
            email(&format!("<{account}@example.org>"), Some(account)),
        )
        .await
        .expect("file");
    let id = filing.appeal_id().expect("appeal id");
    redress_engine::testing::triage_and_claim(
        engine,
        id,
        &Actor::staff("tom", [Role::Triager]),
        &reviewer(),
        clock.now_plus(TimeDelta::minutes(15)),
    )
    .await;
    engine
        .apply(
            id,
            None,
            &Command::Decide {
                outcome: Outcome::Restore,
                reasons: "saved, not created".into(),
                statement: None,
                manifestly_unfounded: false,
                template: None,
            },
            &reviewer(),
        )
        .await
        .expect("decide");
    id
}

fn as_message(row: &outbox_entity::Model) -> OutboxMessage {
    OutboxMessage::from(row.clone())
}

async fn outbox_rows(db: &DatabaseConnection, topic: &str) -> Vec<outbox_entity::Model> {
    outbox_entity::Entity::find()
        .filter(outbox_entity::Column::Topic.eq(topic))
        .all(db)
        .await
        .expect("outbox")
}

async fn slices_of(db: &DatabaseConnection, job: uuid::Uuid) -> Vec<bulk_restore_slice::Model> {
    bulk_restore_slice::Entity::find()
        .filter(bulk_restore_slice::Column::JobId.eq(job))
        .order_by_asc(bulk_restore_slice::Column::Slice)
        .all(db)
        .await
        .expect("slices")
}

/// Seeds a wave of `accounts` deactivated by nudity-v7 and starts a job over it, cut into
/// `slices`, in chunks of `chunk`.
async fn started_wave_job(
    engine: &Engine,
    db: &DatabaseConnection,
    accounts: usize,
    slices: u32,
    chunk: u32,
) -> (BulkRestorer, BulkJob) {
    redress_engine::testing::seed_deactivated_wave(db, accounts, "nudity-v7").await;
    let restorer =
        BulkRestorer::new(engine.clone(), RestorationBackend::Embedded).with_slices(slices);
    let job = restorer
        .start(
            &support(),
            Selector::Source {
                source_id: "nudity-v7".into(),
            },
            "internal error",
            chunk,
        )
        .await
        .expect("start");
    (restorer, job)
}

const SLICES_MIGRATION: &str = "m20261126_001000_bulk_restore_slices";

/// How long the tests' runners let a slice another runner holds stand still before they
/// take it up again.
const HOLDER_STALL: std::time::Duration = std::time::Duration::from_millis(100);

/// Polls the job (real time, bounded) until it has processed at least `accounts`.
async fn processed_at_least(restorer: &BulkRestorer, job: uuid::Uuid, accounts: i64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let seen = restorer.job(job).await.expect("job");
        if seen.processed >= accounts {
            assert_eq!(
                seen.status,
                BulkJobStatus::Running,
                "the job must still be running: {seen:?}"
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {accounts} accounts processed",
            seen.processed
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Every account of the wave restored once, recorded once and told once.
async fn each_account_restored_once(db: &DatabaseConnection, job: uuid::Uuid, accounts: usize) {
    let restorations = restoration::Entity::find()
        .filter(restoration::Column::JobId.eq(job))
        .count(db)
        .await
        .expect("count");
    assert_eq!(restorations, accounts as u64, "one restoration per account");
    let outcomes = bulk_restore_outcome::Entity::find()
        .filter(bulk_restore_outcome::Column::JobId.eq(job))
        .count(db)
        .await
        .expect("count");
    assert_eq!(outcomes, accounts as u64, "one outcome per account");
    let notices = outbox_rows(db, topics::NOTIFY_APPELLANT).await;
    assert_eq!(notices.len(), accounts, "one notice per person");
    let still_off = account::Entity::find()
        .filter(account::Column::Status.ne("active"))
        .count(db)
        .await
        .expect("count");
    assert_eq!(still_off, 0);
}

redress_engine::backend_tests! {
    async fn an_appeal_is_restored_only_when_the_registry_confirms(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-r1", "nudity").await;
        let id = decided_restore(&engine, &clock, "acct-r1").await;
        assert_eq!(engine.appeal(id).await.expect("appeal").appeal.state, AppealState::Reviewed, "no success before confirmation");

        let requests = outbox_rows(&test.db, topics::REQUEST_RESTORATION).await;
        assert_eq!(requests.len(), 1);
        let deliverer = RestorationDeliverer::new(engine.clone(), RestorationBackend::Embedded);
        deliverer.deliver(&as_message(&requests[0])).await.expect("deliver");
        // At least once: the same item again changes nothing.
        deliverer.deliver(&as_message(&requests[0])).await.expect("deliver again");

        let stored = engine.appeal(id).await.expect("appeal");
        assert_eq!(stored.appeal.state, AppealState::Restored);
        let restoration = records::for_appeal(&test.db, id).await.expect("load").expect("restoration");
        assert_eq!(restoration.status, RestorationStatus::Confirmed);
        let items = records::items(&test.db, restoration.id).await.expect("items");
        let summary: Vec<_> = items.iter().map(|i| (i.item_kind, i.item_id.as_str(), i.outcome)).collect();
        assert_eq!(summary, [(ItemKind::Account, "acct-r1", ItemOutcome::Undone)]);
        let account = registry::find_account(&test.db, "acct-r1").await.expect("account").expect("exists");
        assert_eq!(account.status, AccountStatus::Active);
        let kinds: Vec<String> = events::history(&test.db, id).await.expect("history").into_iter().map(|(_, e)| e.kind.name().to_owned()).collect();
        assert_eq!(kinds.iter().filter(|k| *k == "restored").count(), 1);
        let notices = outbox::for_appeal(&test.db, id).await.expect("outbox");
        assert_eq!(notices.iter().filter(|n| n.payload["effect"]["notice"] == "decision_restored").count(), 1);
        test.cleanup().await;
    }

    async fn one_job_per_selector_and_cancelled_jobs_stop(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        redress_engine::testing::seed_deactivated_wave(&test.db, 30, "nudity-v7").await;
        let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded);
        let selector = Selector::Source { source_id: "nudity-v7".into() };
        let refused = restorer.start(&reviewer(), selector.clone(), "internal error", 10).await;
        assert!(matches!(refused, Err(RestorationError::NotPermitted { .. })), "{refused:?}");

        let job = restorer.start(&support(), selector.clone(), "internal error", 10).await.expect("start");
        assert_eq!(job.total, 30);
        let second = restorer.start(&support(), selector.clone(), "again", 10).await;
        assert!(matches!(second, Err(RestorationError::SelectorBusy { job: running, .. }) if running == job.id), "{second:?}");

        restorer.run_chunk(job.id).await.expect("one chunk");
        let cancelled = restorer.cancel(&support(), job.id).await.expect("cancel");
        assert_eq!((cancelled.status, cancelled.processed), (BulkJobStatus::Cancelled, 10));
        let after = restorer.run(job.id, |_| {}).await.expect("run after cancel");
        assert_eq!(after.processed, 10, "a cancelled job does no more work");

        let next = restorer.start(&support(), selector, "internal error", 10).await.expect("a new job once the first ended");
        assert_eq!(next.total, 20, "reversed enforcements are not selected again");
        let done = restorer.run(next.id, |_| {}).await.expect("run");
        assert_eq!((done.status, done.restored), (BulkJobStatus::Completed, 20));
        test.cleanup().await;
    }

    async fn a_list_job_reports_unknown_and_already_active_accounts(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        redress_engine::testing::seed_deactivated_wave(&test.db, 5, "spam-v1").await;
        registry::ensure_account(&test.db, "acct-00004", None, AccountStatus::Active, Utc::now()).await.expect("reactivate");
        let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded);
        let selector = Selector::Accounts {
            account_ids: vec!["acct-00000".into(), "acct-00001".into(), "acct-00001".into(), "ghost".into(), "acct-00004".into()],
        };
        let dry = restorer.dry_run(&selector).await.expect("dry run");
        assert_eq!((dry.accounts, dry.unknown, dry.already_active), (4, 1, 1));
        let job = restorer.start(&support(), selector, "list from the incident review", 2).await.expect("start");
        let done = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!((done.restored, done.already_active, done.failed, done.processed), (2, 1, 1, 4));
        let report = restorer.report(job.id).await.expect("report");
        assert_eq!(report.failed.len(), 1);
        assert_eq!((report.failed[0].account_id.as_str(), report.failed[0].reason.as_str()), ("ghost", "unknown account"));
        test.cleanup().await;
    }

    async fn every_selector_finds_its_wave_and_lost_content_is_reported(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        redress_engine::testing::seed_deactivated_wave(&test.db, 6, "nudity-v7").await;
        let now = Utc::now();
        registry::record_enforcement(&test.db, registry::NewEnforcement {
            external_id: Some("del-1".into()),
            account_id: "acct-00000".into(),
            account_email: None,
            account_locale: None,
            kind: "content_deletion".into(),
            policy: "nudity".into(),
            source_kind: "model".into(),
            source_id: "nudity-v7".into(),
            batch_id: Some("wave-1".into()),
            automated_detection: "fully".into(),
            automated_decision: "fully".into(),
            content_id: Some("pin-404".into()),
            content_relation: Some("saved".into()),
            facts: "internal error".into(),
            statement: redress_engine::testing::automated_suspension_statement(now),
            enforced_at: now,
        }, now).await.expect("deletion");
        // Recording a content enforcement marks the account active; the wave had deactivated it.
        registry::ensure_account(&test.db, "acct-00000", None, AccountStatus::Deactivated, now).await.expect("deactivated by the wave");
        let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded);
        let selectors = [
            Selector::Batch { batch_id: "wave-1".into() },
            Selector::Policy { policy: "nudity".into() },
            Selector::Window { from: now - TimeDelta::hours(1), to: now + TimeDelta::hours(1) },
            Selector::Source { source_id: "nudity-v7".into() },
        ];
        for selector in &selectors {
            let dry = restorer.dry_run(selector).await.expect("dry run");
            assert_eq!(dry.accounts, 6, "{selector:?}");
        }
        let outside = Selector::Window { from: now + TimeDelta::hours(1), to: now + TimeDelta::hours(2) };
        assert_eq!(restorer.dry_run(&outside).await.expect("dry run").accounts, 0);

        let job = restorer.start(&support(), selectors[0].clone(), "wave 1 was wrong", 4).await.expect("start");
        let done = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!((done.restored, done.total), (6, 6));
        let first = restoration::Entity::find()
            .filter(restoration::Column::AccountId.eq("acct-00000"))
            .one(&test.db)
            .await
            .expect("load")
            .expect("restoration");
        let items = records::items(&test.db, first.id).await.expect("items");
        let summary: Vec<_> = items.iter().map(|i| (i.item_kind, i.item_id.as_str(), i.outcome)).collect();
        assert_eq!(summary, [(ItemKind::Account, "acct-00000", ItemOutcome::Undone), (ItemKind::Content, "pin-404", ItemOutcome::CannotUndo)]);
        assert!(items[1].detail.as_deref().unwrap_or_default().contains("deleted permanently"));
        test.cleanup().await;
    }

    async fn slices_split_a_job_evenly_and_two_runners_restore_each_account_once(test) {
        const ACCOUNTS: usize = 2_000;
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let (restorer, job) = started_wave_job(&engine, &test.db, ACCOUNTS, 3, 100).await;

        let slices = slices_of(&test.db, job.id).await;
        assert_eq!(slices.len(), 3);
        assert_eq!((slices[0].after_account.as_deref(), slices[2].upto_account.as_deref()), (None, None), "the ends are open");
        for pair in slices.windows(2) {
            assert_eq!(pair[0].upto_account, pair[1].after_account, "each slice starts where the one before ends");
        }
        let in_slice = |s: &bulk_restore_slice::Model| {
            (0..ACCOUNTS)
                .map(|i| format!("acct-{i:05}"))
                .filter(|a| s.after_account.as_ref().is_none_or(|after| a > after) && s.upto_account.as_ref().is_none_or(|upto| a <= upto))
                .count()
        };
        let sizes: Vec<usize> = slices.iter().map(in_slice).collect();
        assert_eq!(sizes.iter().sum::<usize>(), ACCOUNTS, "{sizes:?}");
        assert!(sizes.iter().all(|n| (666..=667).contains(n)), "{sizes:?}");

        // Two runners of the same job at once, as two replicas would be.
        let restorer = restorer.with_holder_stall(HOLDER_STALL);
        let other = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded).with_holder_stall(HOLDER_STALL);
        let (mut seen_a, mut seen_b) = (Vec::new(), Vec::new());
        let (a, b) = tokio::join!(
            restorer.run(job.id, |p| seen_a.push(p.processed)),
            other.run(job.id, |p| seen_b.push(p.processed)),
        );
        let (a, b) = (a.expect("runner a"), b.expect("runner b"));
        // A runner that finds a slice advanced by the other waits for it rather than leaving
        // it: neither returns before the job is complete.
        assert!([&a, &b].iter().all(|j| j.status == BulkJobStatus::Completed), "{a:?} {b:?}");
        let done = restorer.job(job.id).await.expect("job");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, ACCOUNTS as i64, ACCOUNTS as i64));
        for seen in [&seen_a, &seen_b] {
            assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {seen:?}");
        }
        assert_eq!(seen_a.iter().chain(&seen_b).max(), Some(&(ACCOUNTS as i64)));
        assert!(slices_of(&test.db, job.id).await.iter().all(|s| s.checkpoint == s.upto_account.clone().or(Some(format!("acct-{:05}", ACCOUNTS - 1)))), "every slice ran to its end");

        let restorations = restoration::Entity::find().filter(restoration::Column::JobId.eq(job.id)).count(&test.db).await.expect("count");
        assert_eq!(restorations, ACCOUNTS as u64, "one restoration per account");
        let outcomes = bulk_restore_outcome::Entity::find().filter(bulk_restore_outcome::Column::JobId.eq(job.id)).count(&test.db).await.expect("count");
        assert_eq!(outcomes, ACCOUNTS as u64, "one outcome per account");
        let notices = outbox_rows(&test.db, topics::NOTIFY_APPELLANT).await;
        assert_eq!(notices.len(), ACCOUNTS, "one notice per person");
        let still_off = account::Entity::find().filter(account::Column::Status.ne("active")).count(&test.db).await.expect("count");
        assert_eq!(still_off, 0);
        test.cleanup().await;
    }

    async fn a_runner_killed_mid_slice_leaves_it_to_the_other_which_completes_the_job(test) {
        const ACCOUNTS: usize = 3_000;
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        // One slice, so the two runners contend for every chunk of it.
        let (restorer, job) = started_wave_job(&engine, &test.db, ACCOUNTS, 1, 50).await;
        let restorer = restorer.with_holder_stall(HOLDER_STALL);
        // The doomed runner has a pool of its own, as another process would, and so has the
        // test's watch on the job (SQLite's one connection per pool would otherwise queue it
        // behind the survivor's chunks).
        let own_pool = || async {
            let pool = redress_engine::db::connect(&test.url, &test.pool_settings()).await.expect("own pool");
            BulkRestorer::new(Engine::new(pool, EngineSettings::default(), std::sync::Arc::new(clock.clone())), RestorationBackend::Embedded)
                .with_holder_stall(HOLDER_STALL)
        };
        let (doomed, watch) = (own_pool().await, own_pool().await);
        let job_id = job.id;
        let doomed_run = tokio::spawn(async move { doomed.run(job_id, |_| {}).await });
        processed_at_least(&watch, job.id, 500).await;
        let survivor = restorer.clone();
        let surviving_run = tokio::spawn(async move { survivor.run(job_id, |_| {}).await });
        processed_at_least(&watch, job.id, 1_500).await;
        doomed_run.abort();
        assert!(doomed_run.await.expect_err("killed").is_cancelled());

        let done = surviving_run.await.expect("join").expect("survivor");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, ACCOUNTS as i64, ACCOUNTS as i64), "the survivor returns only with the job complete");
        assert!(restorer.slices_left(job.id).await.expect("slices left").is_empty());
        each_account_restored_once(&test.db, job.id, ACCOUNTS).await;
        test.cleanup().await;
    }

    async fn a_run_that_cannot_finish_names_the_slices_left(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let (restorer, job) = started_wave_job(&engine, &test.db, 40, 2, 10).await;
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let paused = restorer
            .run_until(job.id, || stopped.load(std::sync::atomic::Ordering::SeqCst), |_| stopped.store(true, std::sync::atomic::Ordering::SeqCst))
            .await
            .expect("run until stopped");
        assert_eq!((paused.status, paused.processed), (BulkJobStatus::Running, 20), "one chunk per slice, then stopped");
        let left = restorer.slices_left(job.id).await.expect("slices left");
        let described: Vec<String> = left.iter().map(ToString::to_string).collect();
        assert_eq!(described, ["slice 0 (10 accounts after acct-00009)", "slice 1 (10 accounts after acct-00029)"]);

        restorer.run_chunk(job.id).await.expect("one more chunk");
        restorer.cancel(&support(), job.id).await.expect("cancel");
        let cancelled = restorer.run(job.id, |_| {}).await.expect("run a cancelled job");
        assert_eq!((cancelled.status, cancelled.processed), (BulkJobStatus::Cancelled, 30));
        let left = restorer.slices_left(job.id).await.expect("slices left");
        assert_eq!(left.iter().map(|s| (s.slice, s.accounts_left)).collect::<Vec<_>>(), [(1, 10)]);
        test.cleanup().await;
    }

    async fn a_job_started_before_slices_resumes_from_its_checkpoint(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let (restorer, job) = started_wave_job(&engine, &test.db, 30, 1, 10).await;
        restorer.run_chunk(job.id).await.expect("first chunk");
        assert_eq!(slices_of(&test.db, job.id).await[0].checkpoint.as_deref(), Some("acct-00009"));

        // Back to one checkpoint per job: a single-slice job keeps its place.
        test.migrate_down_to_before(SLICES_MIGRATION).await.expect("migrate down");
        let kept = test
            .db
            .query_one_raw(sea_orm::Statement::from_string(test.db.get_database_backend(), "SELECT checkpoint FROM bulk_restore_jobs"))
            .await
            .expect("query")
            .expect("row");
        assert_eq!(kept.try_get::<Option<String>>("", "checkpoint").expect("checkpoint").as_deref(), Some("acct-00009"));

        // And up again: the job carries on from there as one slice.
        Migrator::up(&test.db, None).await.expect("migrate up");
        let slices = slices_of(&test.db, job.id).await;
        assert_eq!(slices.len(), 1);
        assert_eq!((slices[0].after_account.as_deref(), slices[0].upto_account.as_deref(), slices[0].checkpoint.as_deref()), (None, None, Some("acct-00009")));
        let done = restorer.run(job.id, |_| {}).await.expect("resume");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, 30, 30));
        let restorations = restoration::Entity::find().count(&test.db).await.expect("count");
        assert_eq!(restorations, 30, "nothing restored twice");
        test.cleanup().await;
    }

    async fn migrating_down_refuses_to_merge_the_slices_of_a_running_job(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let (restorer, job) = started_wave_job(&engine, &test.db, 30, 2, 10).await;
        let refused = test.migrate_down_to_before(SLICES_MIGRATION).await;
        assert!(refused.as_ref().is_err_and(|e| e.to_string().contains("finish or cancel it")), "{refused:?}");
        assert_eq!(slices_of(&test.db, job.id).await.len(), 2, "nothing was undone");
        restorer.cancel(&support(), job.id).await.expect("cancel");
        // The refused run had already undone the migrations after the slices' one; the
        // second run counts from what is applied now.
        test.migrate_down_to_before(SLICES_MIGRATION).await.expect("down once no job runs");
        Migrator::up(&test.db, None).await.expect("up again");
        let status = bulk_restore_job::Entity::find_by_id(job.id).one(&test.db).await.expect("load").expect("job").status;
        assert_eq!(status, BulkJobStatus::Cancelled);
        test.cleanup().await;
    }

    async fn a_killed_job_resumes_and_restores_and_notifies_each_account_once(test) {
        const ACCOUNTS: usize = 10_000;
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        redress_engine::testing::seed_deactivated_wave(&test.db, ACCOUNTS, "nudity-v7").await;
        let with_appeals: Vec<String> = (0..ACCOUNTS).step_by(500).map(|i| format!("acct-{i:05}")).collect();
        for account in &with_appeals {
            engine.file(&Actor::appellant("p@example.org"), email(&format!("<{account}@example.org>"), Some(account))).await.expect("file");
        }
        let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded);
        let selector = Selector::Source { source_id: "nudity-v7".into() };
        let dry = restorer.dry_run(&selector).await.expect("dry run");
        assert_eq!((dry.accounts, dry.with_open_appeals, dry.already_active), (ACCOUNTS as i64, with_appeals.len() as i64, 0));
        assert_eq!(dry.sample.first().map(String::as_str), Some("acct-00000"));
        let job = restorer.start(&support(), selector, "internal error in nudity-v7", 250).await.expect("start");

        // A separate runtime with its own pool plays the process that dies mid-way.
        let (url, pool) = (test.url.clone(), test.pool_settings());
        let settings = EngineSettings::default();
        let job_id = job.id;
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
            let (tx, rx) = mpsc::channel();
            runtime.spawn(async move {
                let db = redress_engine::db::connect(&url, &pool).await.expect("connect");
                let doomed = Engine::new(db, settings, std::sync::Arc::new(redress_engine::SystemClock));
                let restorer = BulkRestorer::new(doomed, RestorationBackend::Embedded);
                let _ = restorer
                    .run(job_id, |progress| {
                        if progress.processed >= 4_000 {
                            let _ = tx.send(());
                        }
                    })
                    .await;
            });
            rx.recv().expect("the job made progress");
            runtime.shutdown_background();
        })
        .join()
        .expect("runner thread");

        let interrupted = restorer.job(job.id).await.expect("job");
        assert_eq!(interrupted.status, BulkJobStatus::Running);
        assert!(interrupted.processed >= 4_000 && interrupted.processed < ACCOUNTS as i64, "killed mid-way: {}", interrupted.processed);
        assert_eq!(restorer.unfinished().await.expect("unfinished"), vec![job.id]);

        let done = restorer.run(job.id, |_| {}).await.expect("resume");
        assert_eq!((done.status, done.processed, done.restored), (BulkJobStatus::Completed, ACCOUNTS as i64, ACCOUNTS as i64));

        let restorations = restoration::Entity::find().filter(restoration::Column::JobId.eq(job.id)).count(&test.db).await.expect("count");
        assert_eq!(restorations, ACCOUNTS as u64, "one restoration per account");
        let outcomes = bulk_restore_outcome::Entity::find().filter(bulk_restore_outcome::Column::Outcome.eq(BulkOutcome::Restored)).count(&test.db).await.expect("count");
        assert_eq!(outcomes, ACCOUNTS as u64);
        let still_off = account::Entity::find().filter(account::Column::Status.ne("active")).count(&test.db).await.expect("count");
        assert_eq!(still_off, 0);

        let notices = outbox_rows(&test.db, topics::NOTIFY_APPELLANT).await;
        let bulk_notices: Vec<_> = notices.iter().filter(|n| n.idempotency_key.starts_with("bulk_restore:")).collect();
        assert_eq!(bulk_notices.len(), ACCOUNTS, "every person notified once");
        let mut people: Vec<&str> = bulk_notices.iter().filter_map(|n| n.payload["account_id"].as_str()).collect();
        people.sort_unstable();
        people.dedup();
        assert_eq!(people.len(), ACCOUNTS);
        for account in &with_appeals {
            let appeal = notices.iter().find(|n| n.payload["account_id"] == account.as_str()).expect("notice");
            assert_eq!(appeal.payload["effect"]["notice"], "decision_restored", "appellants hear about their appeal");
            let appeal_id = appeal.appeal_id.expect("appeal id");
            let stored = engine.appeal(appeal_id).await.expect("appeal");
            assert_eq!(stored.appeal.state, AppealState::Restored);
            let per_appeal = outbox::for_appeal(&test.db, appeal_id).await.expect("outbox");
            assert_eq!(per_appeal.iter().filter(|n| n.payload["effect"]["notice"] == "decision_restored").count(), 1, "no second notice for the appeal");
        }
        test.cleanup().await;
    }
}
