//! The HTTP account-service backend against a stand-in speaking the same wire format over a
//! real socket: signed requests, idempotency keys honoured, intermittent failures.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{TimeZone, Utc};
use redress_core::{Actor, AppealState, Channel, Command, Outcome, Role};
use redress_engine::delivery::{
    topics, Deliverer, DelivererRegistry, DeliveryError, OutboxMessage,
};
use redress_engine::entity::{account, outbox as outbox_entity};
use redress_engine::repo::registry::{self, NewEnforcement};
use redress_engine::restoration::{
    records, BulkRestorer, ItemKind, ItemOutcome, ItemResult, RestorationBackend,
    RestorationDeliverer, RestorationReport, RestorationRequest, RestorationStatus, Selector,
};
use redress_engine::worker::{DispatchSettings, Dispatcher};
use redress_engine::{Engine, EngineSettings, IncomingAppeal, ManualClock};
use redress_notify::account_service::HttpAccountService;
use redress_notify::signature::{verify, IDEMPOTENCY_HEADER, SIGNATURE_HEADER};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const SECRET: &[u8] = b"shared-secret";

/// The platform's account service as a test double: it restores each idempotency key once
/// and, on a fixed pattern, fails before or after doing the work.
#[derive(Debug, Default)]
struct StandIn {
    requests: AtomicUsize,
    done: Mutex<HashMap<String, RestorationReport>>,
    restorations_carried_out: AtomicUsize,
}

async fn restorations(
    State(service): State<Arc<StandIn>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = service.requests.fetch_add(1, Ordering::SeqCst);
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !verify(SECRET, &body, signature) {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let Some(key) = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return (StatusCode::BAD_REQUEST, "missing idempotency key").into_response();
    };
    let Ok(request) = serde_json::from_slice::<RestorationRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad body").into_response();
    };
    if request.restoration_id.to_string() != key {
        return (StatusCode::BAD_REQUEST, "key is not the restoration id").into_response();
    }
    match n % 6 {
        1 => return (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response(),
        3 => return (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response(),
        _ => {}
    }
    let report = {
        let mut done = service.done.lock().expect("lock");
        done.entry(key)
            .or_insert_with(|| {
                service
                    .restorations_carried_out
                    .fetch_add(1, Ordering::SeqCst);
                let mut items = vec![ItemResult {
                    kind: ItemKind::Account,
                    item_id: request.account_id.clone(),
                    enforcement_id: None,
                    outcome: ItemOutcome::Undone,
                    detail: None,
                }];
                items.extend(request.items.iter().map(|item| ItemResult {
                    kind: ItemKind::Enforcement,
                    item_id: item.enforcement_id.to_string(),
                    enforcement_id: Some(item.enforcement_id),
                    outcome: ItemOutcome::Undone,
                    detail: None,
                }));
                RestorationReport { items }
            })
            .clone()
    };
    if n % 6 == 5 {
        // The work is done but the answer is lost: the retry must not restore twice.
        return (StatusCode::BAD_GATEWAY, "lost").into_response();
    }
    Json(report).into_response()
}

async fn spawn_stand_in() -> (SocketAddr, Arc<StandIn>) {
    let service = Arc::new(StandIn::default());
    let app = Router::new()
        .route("/restorations", post(restorations))
        .with_state(service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, service)
}

fn clock() -> ManualClock {
    ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("date"),
    )
}

fn backend(addr: SocketAddr, secret: &[u8]) -> RestorationBackend {
    let client = HttpAccountService::new(&format!("http://{addr}"), secret, Duration::from_secs(5))
        .expect("client");
    RestorationBackend::AccountService(Arc::new(client))
}

fn as_message(row: &outbox_entity::Model) -> OutboxMessage {
    OutboxMessage::from(row.clone())
}

/// Delivers every restoration request, retrying temporary failures as the outbox would.
/// Returns how many attempts failed temporarily.
async fn deliver_all(db: &DatabaseConnection, deliverer: &RestorationDeliverer) -> usize {
    let rows = outbox_entity::Entity::find()
        .filter(outbox_entity::Column::Topic.eq(topics::REQUEST_RESTORATION))
        .all(db)
        .await
        .expect("outbox");
    let mut retried = 0;
    for row in rows {
        let mut message = as_message(&row);
        loop {
            match deliverer.deliver(&message).await {
                Ok(()) => break,
                Err(DeliveryError::Retryable(_)) if message.attempts < 20 => {
                    retried += 1;
                    message.attempts += 1;
                }
                Err(err) => panic!("delivery of {} failed: {err}", row.idempotency_key),
            }
        }
    }
    retried
}

async fn seed(db: &DatabaseConnection, n: usize) {
    let now = Utc::now();
    for i in 0..n {
        registry::record_enforcement(
            db,
            NewEnforcement {
                external_id: Some(format!("e-{i}")),
                account_email: Some(format!("user{i}@example.org")),
                account_locale: None,
                facts: "internal error".into(),
                ..redress_engine::testing::automated_deactivation(
                    &format!("acct-{i:04}"),
                    "rule",
                    "spam-rule-12",
                    now,
                )
            },
            now,
        )
        .await
        .expect("seed");
    }
}

async fn decided_restore(engine: &Engine, clock: &ManualClock, account: &str) -> uuid::Uuid {
    let incoming = IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{account}@example.org>")),
        sender: "person@example.org".into(),
        contact: None,
        account_id: Some(account.to_owned()),
        enforcement_id: None,
        identity_verified: true,
        subject: Some("banned".into()),
        body: "I did nothing wrong".into(),
        in_reply_to: None,
        metadata: json!({}),
    };
    let id = engine
        .file(&Actor::appellant("person@example.org"), incoming)
        .await
        .expect("file")
        .appeal_id()
        .expect("id");
    let reviewer = Actor::staff("alice", [Role::Reviewer]);
    redress_engine::testing::triage_and_claim(
        engine,
        id,
        &Actor::staff("tom", [Role::Triager]),
        &reviewer,
        clock.now_plus(chrono::TimeDelta::minutes(10)),
    )
    .await;
    engine
        .apply(
            id,
            None,
            &Command::Decide {
                outcome: Outcome::Restore,
                reasons: "wrong rule".into(),
                statement: None,
                manifestly_unfounded: false,
                template: None,
            },
            &reviewer,
        )
        .await
        .expect("decide");
    id
}

redress_engine::backend_tests! {
    async fn a_flaky_account_service_confirms_every_bulk_restoration_once_through_the_dispatcher(test) {
        let (addr, service) = spawn_stand_in().await;
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        seed(&test.db, 120).await;
        let backend = backend(addr, SECRET);
        let restorer = BulkRestorer::new(engine.clone(), backend.clone());
        let job = restorer
            .start(&Actor::staff("sam", [Role::Support]), Selector::Source { source_id: "spam-rule-12".into() }, "rule 12 misfired", 50)
            .await
            .expect("start");
        let ran = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!((ran.requested, ran.restored), (120, 0), "nothing counts as restored before the service confirms");

        let deliverer = RestorationDeliverer::new(engine.clone(), backend);
        let mut registry = DelivererRegistry::new();
        registry.register(topics::REQUEST_RESTORATION, Arc::new(deliverer.clone()));
        let dispatcher = Dispatcher::new(test.db.clone(), Arc::new(clock.clone()), Arc::new(registry), DispatchSettings::default());
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let mut retried = 0;
        for _ in 0..30 {
            let report = dispatcher.run_once(&stop).await.expect("dispatch");
            retried += report.retried;
            assert_eq!(report.dead_lettered, 0, "temporary failures are retried, not dead-lettered");
            let open = outbox_entity::Entity::find()
                .filter(outbox_entity::Column::Topic.eq(topics::REQUEST_RESTORATION))
                .filter(outbox_entity::Column::Status.ne(outbox_entity::OutboxStatus::Delivered))
                .count(&test.db)
                .await
                .expect("count");
            if open == 0 {
                break;
            }
            // Past every backoff: the retries are due at once.
            clock.advance(chrono::TimeDelta::hours(7));
        }
        assert!(retried > 0, "the stand-in failed some requests and the dispatcher retried them");
        // The outbox may deliver again after a crash: nothing changes.
        deliver_all(&test.db, &deliverer).await;

        assert_eq!(service.restorations_carried_out.load(Ordering::SeqCst), 120, "each restoration carried out once");
        let job = restorer.job(job.id).await.expect("job");
        assert_eq!((job.restored, job.requested, job.failed), (120, 0, 0));
        let inactive = account::Entity::find().filter(account::Column::Status.ne("active")).count(&test.db).await.expect("count");
        assert_eq!(inactive, 0);
        let notices = outbox_entity::Entity::find()
            .filter(outbox_entity::Column::Topic.eq(topics::NOTIFY_APPELLANT))
            .count(&test.db)
            .await
            .expect("count");
        assert_eq!(notices, 120, "one notice per person");
        test.cleanup().await;
    }

    async fn an_appeal_waits_for_the_account_service_and_a_refusal_is_final(test) {
        let (addr, service) = spawn_stand_in().await;
        let clock = clock();
        let engine = Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        seed(&test.db, 2).await;
        let confirmed = decided_restore(&engine, &clock, "acct-0000").await;
        let deliverer = RestorationDeliverer::new(engine.clone(), backend(addr, SECRET));
        deliver_all(&test.db, &deliverer).await;
        assert_eq!(engine.appeal(confirmed).await.expect("appeal").appeal.state, AppealState::Restored);
        let restoration = records::for_appeal(&test.db, confirmed).await.expect("load").expect("restoration");
        assert_eq!(restoration.status, RestorationStatus::Confirmed);
        assert_eq!(service.restorations_carried_out.load(Ordering::SeqCst), 1);

        // A misconfigured secret: the service refuses, the appeal stays where it was.
        let refused = decided_restore(&engine, &clock, "acct-0001").await;
        let row = outbox_entity::Entity::find()
            .filter(outbox_entity::Column::AppealId.eq(refused))
            .filter(outbox_entity::Column::Topic.eq(topics::REQUEST_RESTORATION))
            .one(&test.db)
            .await
            .expect("outbox")
            .expect("request");
        let wrong = RestorationDeliverer::new(engine.clone(), backend(addr, b"not-the-secret"));
        let mut message = as_message(&row);
        let outcome = loop {
            match wrong.deliver(&message).await {
                Err(DeliveryError::Retryable(_)) => message.attempts += 1,
                other => break other,
            }
        };
        assert!(matches!(outcome, Err(DeliveryError::Permanent(ref reason)) if reason.contains("401")), "{outcome:?}");
        assert_eq!(engine.appeal(refused).await.expect("appeal").appeal.state, AppealState::Reviewed);
        let failed = records::for_appeal(&test.db, refused).await.expect("load").expect("restoration");
        assert_eq!(failed.status, RestorationStatus::Failed);
        assert!(failed.last_error.unwrap_or_default().contains("401"));
        test.cleanup().await;
    }
}
