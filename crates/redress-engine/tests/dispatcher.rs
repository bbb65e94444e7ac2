//! The outbox dispatcher: delivery, retries with backoff, dead letters, wake-up and
//! shutdown, on SQLite and on PostgreSQL.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use common::clock;
use redress_engine::delivery::{
    topics, Deliverer, DelivererRegistry, DeliveryError, OutboxMessage,
};
use redress_engine::repo::outbox::{self, OutboxItem, OutboxStatus};
use redress_engine::repo::outbox_delivery;
use redress_engine::worker::{runner, Backoff, DispatchSettings, Dispatcher};
use redress_engine::ManualClock;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::{watch, Semaphore};

/// Records every attempt; fails while `failing` is set; optionally waits for a permit
/// before each delivery so a test can hold one in flight.
#[derive(Debug, Default)]
struct Recorder {
    failing: AtomicBool,
    permanent: AtomicBool,
    attempts: Mutex<Vec<String>>,
    gate: Option<Arc<Semaphore>>,
    started: Option<Arc<Semaphore>>,
}

impl Recorder {
    fn keys(&self) -> Vec<String> {
        self.attempts.lock().expect("lock").clone()
    }
}

#[async_trait::async_trait]
impl Deliverer for Recorder {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), DeliveryError> {
        self.attempts
            .lock()
            .expect("lock")
            .push(message.idempotency_key.clone());
        if let Some(started) = &self.started {
            started.add_permits(1);
        }
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate open").forget();
        }
        if self.permanent.load(Ordering::SeqCst) {
            return Err(DeliveryError::Permanent("mailbox does not exist".into()));
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(DeliveryError::Retryable("relay unavailable".into()));
        }
        Ok(())
    }
}

fn registry(recorder: &Arc<Recorder>) -> Arc<DelivererRegistry> {
    let mut registry = DelivererRegistry::new();
    registry.register(topics::NOTIFY_APPELLANT, recorder.clone());
    Arc::new(registry)
}

fn settings() -> DispatchSettings {
    DispatchSettings {
        batch_size: 10,
        delivery_timeout: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            max_attempts: 3,
        },
        // The shipped lease (30 s, renewed every 10 s), which the lease tests count on.
        ..DispatchSettings::default()
    }
}

fn dispatcher(
    db: &DatabaseConnection,
    clock: &ManualClock,
    recorder: &Arc<Recorder>,
) -> Dispatcher {
    dispatcher_with(db, clock, recorder, settings())
}

fn dispatcher_with(
    db: &DatabaseConnection,
    clock: &ManualClock,
    recorder: &Arc<Recorder>,
    settings: DispatchSettings,
) -> Dispatcher {
    Dispatcher::new(
        db.clone(),
        Arc::new(clock.clone()),
        registry(recorder),
        settings,
    )
}

/// A recorder whose deliveries wait for a permit of `gate` (`open` of them at first) and
/// count themselves on `started`.
fn gated(open: usize) -> (Arc<Recorder>, Arc<Semaphore>, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(open));
    let started = Arc::new(Semaphore::new(0));
    let recorder = Arc::new(Recorder {
        gate: Some(gate.clone()),
        started: Some(started.clone()),
        ..Recorder::default()
    });
    (recorder, gate, started)
}

/// Waits (real time, bounded) until the lease of `key` ends at `until`: a renewal ran.
async fn renewed_until(db: &DatabaseConnection, key: &str, until: chrono::DateTime<chrono::Utc>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let row = rows(db).await.remove(key).expect("row");
        if row.locked_until == Some(until) {
            assert_eq!(
                row.available_at, until,
                "a renewed item is not due before its lease ends"
            );
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lease of {key} was not renewed to {until}: {:?}",
            row.locked_until
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn enqueue(db: &DatabaseConnection, clock: &ManualClock, keys: &[&str]) {
    let items = keys
        .iter()
        .map(|key| OutboxItem {
            topic: topics::NOTIFY_APPELLANT.to_owned(),
            appeal_id: None,
            idempotency_key: (*key).to_owned(),
            payload: serde_json::json!({ "channel": "email", "contact": "p@example.org" }),
        })
        .collect();
    outbox::enqueue(db, items, clock.now_plus(TimeDelta::zero()))
        .await
        .expect("enqueue");
}

async fn rows(db: &DatabaseConnection) -> HashMap<String, redress_engine::entity::outbox::Model> {
    redress_engine::entity::outbox::Entity::find()
        .all(db)
        .await
        .expect("outbox rows")
        .into_iter()
        .map(|row| (row.idempotency_key.clone(), row))
        .collect()
}

fn running() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// Polls (real time, bounded) until `done` holds; for results that arrive over a socket.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

redress_engine::backend_tests! {
    async fn a_due_item_is_delivered_once_and_marked(test) {
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let dispatcher = dispatcher(&test.db, &clock, &recorder);
        enqueue(&test.db, &clock, &["k1", "k2"]).await;
        let (_stop, stop) = running();
        let report = dispatcher.run_once(&stop).await.expect("round");
        assert_eq!((report.claimed, report.delivered), (2, 2));
        let again = dispatcher.run_once(&stop).await.expect("second round");
        assert_eq!(again.claimed, 0, "delivered items are not claimed again");
        let rows = rows(&test.db).await;
        assert_eq!(rows["k1"].status, OutboxStatus::Delivered);
        assert_eq!(rows["k1"].attempts, 1);
        assert_eq!(rows["k1"].delivered_at, Some(clock.now_plus(TimeDelta::zero())));
        assert_eq!(recorder.keys(), vec!["k1".to_owned(), "k2".to_owned()]);
        test.cleanup().await;
    }

    async fn failures_back_off_exponentially_then_dead_letter_and_an_admin_retry_delivers(test) {
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        recorder.failing.store(true, Ordering::SeqCst);
        let dispatcher = dispatcher(&test.db, &clock, &recorder);
        enqueue(&test.db, &clock, &["k1"]).await;
        let (_stop, stop) = running();

        let mut waits = Vec::new();
        for (failures, ceiling) in [(1, 10), (2, 20)] {
            let now = clock.now_plus(TimeDelta::zero());
            let report = dispatcher.run_once(&stop).await.expect("round");
            assert_eq!(report.retried, 1, "failure {failures} is retried");
            let row = rows(&test.db).await.remove("k1").expect("row");
            assert_eq!(row.attempts, failures);
            assert_eq!(row.status, OutboxStatus::Pending);
            assert_eq!(row.last_error.as_deref(), Some("temporary delivery failure: relay unavailable"));
            let wait = row.available_at - now;
            assert!(wait >= TimeDelta::seconds(ceiling / 2) && wait <= TimeDelta::seconds(ceiling),
                "after {failures} failures the wait {wait} lies in [{}s, {ceiling}s]", ceiling / 2);
            assert_eq!(dispatcher.run_once(&stop).await.expect("early round").claimed, 0,
                "nothing is tried before its backoff ends");
            clock.advance(wait);
            waits.push(wait);
        }
        let report = dispatcher.run_once(&stop).await.expect("last round");
        assert_eq!(report.dead_lettered, 1, "the third failure reaches the limit");
        let dead = outbox_delivery::dead_letters(&test.db, 10, None).await.expect("dead letters");
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].attempts, 3);
        clock.advance(TimeDelta::days(1));
        assert_eq!(dispatcher.run_once(&stop).await.expect("round").claimed, 0, "dead letters stay put");

        recorder.failing.store(false, Ordering::SeqCst);
        let now = clock.now_plus(TimeDelta::zero());
        assert!(outbox_delivery::retry_dead(&test.db, dead[0].id, now).await.expect("retry"));
        assert!(!outbox_delivery::retry_dead(&test.db, dead[0].id, now).await.expect("retry twice"),
            "a retried item is no longer a dead letter");
        let report = dispatcher.run_once(&stop).await.expect("round after retry");
        assert_eq!(report.delivered, 1);
        assert_eq!(recorder.keys().len(), 4, "three failures and one success");
        assert!(outbox_delivery::dead_letters(&test.db, 10, None).await.expect("dead").is_empty());
        test.cleanup().await;
    }

    async fn a_permanent_failure_dead_letters_at_once(test) {
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        recorder.permanent.store(true, Ordering::SeqCst);
        let dispatcher = dispatcher(&test.db, &clock, &recorder);
        enqueue(&test.db, &clock, &["k1"]).await;
        let (_stop, stop) = running();
        let report = dispatcher.run_once(&stop).await.expect("round");
        assert_eq!(report.dead_lettered, 1);
        let row = rows(&test.db).await.remove("k1").expect("row");
        assert_eq!(row.status, OutboxStatus::Dead);
        assert_eq!(row.last_error.as_deref(), Some("mailbox does not exist"));
        let counts = outbox_delivery::counts(&test.db).await.expect("counts");
        assert_eq!((counts.pending, counts.dead), (0, 1));
        test.cleanup().await;
    }

    async fn a_topic_without_deliverer_is_retried_then_dead_lettered(test) {
        let clock = clock();
        let dispatcher = Dispatcher::new(test.db.clone(), Arc::new(clock.clone()), Arc::new(DelivererRegistry::new()), settings());
        enqueue(&test.db, &clock, &["k1"]).await;
        let (_stop, stop) = running();
        for _ in 0..3 {
            dispatcher.run_once(&stop).await.expect("round");
            clock.advance(TimeDelta::minutes(5));
        }
        let row = rows(&test.db).await.remove("k1").expect("row");
        assert_eq!(row.status, OutboxStatus::Dead);
        assert_eq!(row.last_error.as_deref(), Some("no deliverer registered for topic notify_appellant"));
        test.cleanup().await;
    }

    async fn shutdown_finishes_the_delivery_in_flight_and_releases_the_rest(test) {
        let clock = clock();
        let gate = Arc::new(Semaphore::new(0));
        let started = Arc::new(Semaphore::new(0));
        let recorder = Arc::new(Recorder { gate: Some(gate.clone()), started: Some(started.clone()), ..Recorder::default() });
        let dispatcher = dispatcher(&test.db, &clock, &recorder);
        enqueue(&test.db, &clock, &["k1", "k2", "k3"]).await;
        let (stop_tx, stop) = running();
        let round = tokio::spawn({
            let dispatcher = dispatcher.clone();
            async move { dispatcher.run_once(&stop).await }
        });
        started.acquire().await.expect("first delivery started").forget();
        stop_tx.send_replace(true);
        gate.add_permits(1);
        let report = round.await.expect("join").expect("round");
        assert_eq!((report.claimed, report.delivered, report.released), (3, 1, 2));
        let rows = rows(&test.db).await;
        assert_eq!(rows["k1"].status, OutboxStatus::Delivered);
        for key in ["k2", "k3"] {
            assert_eq!(rows[key].status, OutboxStatus::Pending);
            assert_eq!(rows[key].attempts, 0, "a released item was never attempted");
            assert_eq!(rows[key].locked_until, None);
        }
        gate.add_permits(10);
        let (_stop, stop) = running();
        let next = dispatcher.run_once(&stop).await.expect("next round");
        assert_eq!(next.delivered, 2, "released items are due at once for any dispatcher");
        test.cleanup().await;
    }

    async fn a_dispatcher_that_died_mid_round_loses_its_claim_when_the_lease_ends(test) {
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let dispatcher = dispatcher(&test.db, &clock, &recorder);
        enqueue(&test.db, &clock, &["k1"]).await;
        let now = clock.now_plus(TimeDelta::zero());
        let lease_until = now + TimeDelta::minutes(5);
        // Claimed and committed, then never delivered nor renewed.
        let abandoned = outbox_delivery::claim_due(&test.db, now, lease_until, 10).await.expect("claim");
        assert_eq!(abandoned.len(), 1);
        let (_stop, stop) = running();
        assert_eq!(dispatcher.run_once(&stop).await.expect("round").claimed, 0, "claimed rows are not due");
        clock.advance(TimeDelta::minutes(5));
        assert_eq!(dispatcher.run_once(&stop).await.expect("round").delivered, 1);
        let late = outbox_delivery::mark_delivered(&test.db, &abandoned[0], clock.now_plus(TimeDelta::zero())).await.expect("late outcome");
        assert!(!late, "an expired claim cannot record over the newer one");
        test.cleanup().await;
    }

    async fn a_dispatcher_killed_mid_delivery_hands_its_items_over_when_its_short_lease_ends(test) {
        let clock = clock();
        let (doomed_recorder, _gate, started) = gated(1);
        let doomed = dispatcher(&test.db, &clock, &doomed_recorder);
        enqueue(&test.db, &clock, &["k1", "k2", "k3"]).await;
        let (_stop, stop) = running();
        let round = tokio::spawn({
            let stop = stop.clone();
            async move { doomed.run_once(&stop).await }
        });
        // k1 is delivered and recorded; k2 hangs in flight when the process dies.
        started.acquire_many(2).await.expect("two deliveries started").forget();
        round.abort();
        assert!(round.await.expect_err("aborted").is_cancelled());

        let survivor_recorder = Arc::new(Recorder::default());
        let survivor = dispatcher(&test.db, &clock, &survivor_recorder);
        clock.advance(TimeDelta::seconds(29));
        assert_eq!(survivor.run_once(&stop).await.expect("round").claimed, 0, "the dead dispatcher's lease still holds");
        clock.advance(TimeDelta::seconds(1));
        let report = survivor.run_once(&stop).await.expect("round after the lease");
        assert_eq!((report.claimed, report.delivered), (2, 2), "{report:?}");
        assert_eq!(survivor_recorder.keys(), ["k2", "k3"], "what was confirmed is not sent again");
        assert_eq!(doomed_recorder.keys(), ["k1", "k2"]);
        let rows = rows(&test.db).await;
        for key in ["k1", "k2", "k3"] {
            assert_eq!((rows[key].status, rows[key].attempts), (OutboxStatus::Delivered, 1), "{key}");
        }
        test.cleanup().await;
    }

    async fn a_slow_delivery_keeps_its_item_past_the_lease_by_renewing_it(test) {
        let clock = clock();
        let (slow_recorder, gate, started) = gated(0);
        let renewing = DispatchSettings { lease_renewal: Duration::from_millis(20), ..settings() };
        let slow = dispatcher_with(&test.db, &clock, &slow_recorder, renewing);
        enqueue(&test.db, &clock, &["k1"]).await;
        let (_stop, stop) = running();
        let round = tokio::spawn({
            let stop = stop.clone();
            async move { slow.run_once(&stop).await }
        });
        started.acquire().await.expect("delivery started").forget();

        let other_recorder = Arc::new(Recorder::default());
        let other = dispatcher(&test.db, &clock, &other_recorder);
        // Twice the lease passes in steps shorter than it, each followed by a renewal.
        for _ in 0..4 {
            clock.advance(TimeDelta::seconds(15));
            renewed_until(&test.db, "k1", clock.now_plus(TimeDelta::seconds(30))).await;
            assert_eq!(other.run_once(&stop).await.expect("round").claimed, 0, "an item in flight is not taken");
        }
        gate.add_permits(1);
        let report = round.await.expect("join").expect("round");
        assert_eq!((report.delivered, report.lost), (1, 0), "{report:?}");
        assert!(other_recorder.keys().is_empty());
        let row = rows(&test.db).await.remove("k1").expect("row");
        assert_eq!((row.status, row.attempts, row.locked_until), (OutboxStatus::Delivered, 1, None));
        test.cleanup().await;
    }

    async fn a_dispatcher_whose_lease_lapsed_does_not_send_what_another_took_over(test) {
        let clock = clock();
        let (stalled_recorder, gate, started) = gated(0);
        let never_renewing = DispatchSettings { lease_renewal: Duration::from_secs(3600), ..settings() };
        let stalled = dispatcher_with(&test.db, &clock, &stalled_recorder, never_renewing);
        enqueue(&test.db, &clock, &["k1", "k2"]).await;
        let (_stop, stop) = running();
        let round = tokio::spawn({
            let stop = stop.clone();
            async move { stalled.run_once(&stop).await }
        });
        started.acquire().await.expect("k1 in flight").forget();

        // Its renewals stall past the lease; another dispatcher takes both items over.
        clock.advance(TimeDelta::seconds(31));
        let other_recorder = Arc::new(Recorder::default());
        let other = dispatcher(&test.db, &clock, &other_recorder);
        assert_eq!(other.run_once(&stop).await.expect("takeover").delivered, 2);

        gate.add_permits(1);
        let report = round.await.expect("join").expect("round");
        assert_eq!((report.delivered, report.lost), (0, 2), "{report:?}");
        assert_eq!(stalled_recorder.keys(), ["k1"], "k2, confirmed by the other dispatcher, is not sent again");
        let rows = rows(&test.db).await;
        for key in ["k1", "k2"] {
            assert_eq!((rows[key].status, rows[key].attempts), (OutboxStatus::Delivered, 1), "{key}");
        }
        test.cleanup().await;
    }
}

mod wakeup {
    use super::*;
    use redress_engine::testing::TestDb;

    /// With polling set to an hour, only the notification sent by the enqueue can wake
    /// the dispatcher in time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_notification_wakes_the_dispatcher() {
        let Some(test) = TestDb::postgres().await else {
            return;
        };
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let (stop_tx, stop) = running();
        let task = tokio::spawn(runner::dispatch(
            dispatcher(&test.db, &clock, &recorder),
            Duration::from_secs(3600),
            stop,
        ));
        enqueue(&test.db, &clock, &["first"]).await;
        eventually("the first item", || recorder.keys().len() == 1).await;
        enqueue(&test.db, &clock, &["second"]).await;
        eventually("the second item", || recorder.keys().len() == 2).await;
        stop_tx.send_replace(true);
        task.await.expect("dispatcher stops");
        assert_eq!(
            recorder.keys(),
            vec!["first".to_owned(), "second".to_owned()]
        );
        test.cleanup().await;
    }

    /// A filing sends its wake-up after its commit rather than inside it; the dispatcher
    /// still hears it at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_filing_wakes_the_dispatcher_after_its_commit() {
        let Some(test) = TestDb::postgres().await else {
            return;
        };
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let (stop_tx, stop) = running();
        let task = tokio::spawn(runner::dispatch(
            dispatcher(&test.db, &clock, &recorder),
            Duration::from_secs(3600),
            stop,
        ));
        let engine = common::engine(&test.db, &clock, redress_engine::EngineSettings::default());
        common::enforcement(&test.db, "acct-wake", "spam").await;
        // The dispatcher's LISTEN starts asynchronously: file until one acknowledgement is out.
        let mut filed = 0;
        while recorder.keys().is_empty() {
            assert!(filed < 20, "no filing woke the dispatcher");
            engine
                .file(
                    &redress_core::Actor::appellant("p@example.org"),
                    common::email(&format!("<wake-{filed}@example.org>"), None),
                )
                .await
                .expect("file");
            filed += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        eventually("every acknowledgement", || recorder.keys().len() == filed).await;
        // Listening for sure now: one more filing must wake it without a poll.
        engine
            .file(
                &redress_core::Actor::appellant("p@example.org"),
                common::email("<wake-last@example.org>", None),
            )
            .await
            .expect("file");
        eventually("the last acknowledgement", || {
            recorder.keys().len() == filed + 1
        })
        .await;
        stop_tx.send_replace(true);
        task.await.expect("dispatcher stops");
        test.cleanup().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_dispatcher_polls() {
        let test = TestDb::sqlite().await;
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let (stop_tx, stop) = running();
        let task = tokio::spawn(runner::dispatch(
            dispatcher(&test.db, &clock, &recorder),
            Duration::from_millis(50),
            stop,
        ));
        enqueue(&test.db, &clock, &["only"]).await;
        eventually("the item", || recorder.keys().len() == 1).await;
        stop_tx.send_replace(true);
        task.await.expect("dispatcher stops");
        test.cleanup().await;
    }

    /// Three dispatchers on three pools over the same rows: every item goes out once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_dispatchers_on_postgres_take_disjoint_items() {
        let Some(test) = TestDb::postgres().await else {
            return;
        };
        let clock = clock();
        let recorder = Arc::new(Recorder::default());
        let keys: Vec<String> = (0..60).map(|i| format!("k{i:02}")).collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        enqueue(&test.db, &clock, &key_refs).await;
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let pool = redress_engine::db::connect(&test.url, &test.pool_settings())
                .await
                .expect("second pool");
            let dispatcher = Dispatcher::new(
                pool,
                Arc::new(clock.clone()),
                registry(&recorder),
                DispatchSettings {
                    batch_size: 7,
                    ..settings()
                },
            );
            tasks.push(tokio::spawn(async move {
                let (_stop, stop) = running();
                loop {
                    let report = dispatcher.run_once(&stop).await.expect("round");
                    if report.claimed == 0 {
                        break;
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("join");
        }
        let mut delivered = recorder.keys();
        delivered.sort();
        assert_eq!(delivered, keys, "each item exactly once");
        test.cleanup().await;
    }
}
