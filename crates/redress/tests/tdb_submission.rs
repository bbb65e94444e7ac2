//! Submission to the EU Transparency Database against a stand-in of its API on a real
//! socket (`tdb/mod.rs`): 1,000 statements in batches of 100 through a 429, a 503, a
//! statement the database refuses, one Redress refuses itself, and a crash with a batch's
//! answer in flight; then an operator's correction and resubmission through `redress tdb`.
//! A statement the database fails on every time is refused, and only it; one a flaky
//! database isolated is not refused for an outage that follows, nor for a server error
//! answered after its insert. Every statement must be stored exactly once. On SQLite and
//! PostgreSQL.

#[allow(dead_code)]
mod api;
mod tdb;
#[allow(dead_code)]
mod tdb_statements;

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use redress::config::{Config, Secret};
use redress::transparency::tdb_cli::{self, StateArg, TdbCommand};
use redress::transparency::tdb_client::{HttpTdbApi, TdbSubmissionConfig};
use redress_engine::registry::NewEnforcement;
use redress_engine::testing::{automated_deactivation, automated_suspension_statement, TestDb};
use redress_engine::transparency::tdb::{self as mapping, TdbSettings};
use redress_engine::transparency::tdb_submission::{
    RefusedBy, SubmitReport, TdbState, LONE_FAILURES, OUTAGE_PROBES, SPLIT_AFTER,
};
use redress_engine::{Engine, EngineSettings, ManualClock};
use tdb::Script;

const GOOD: usize = 1000;
/// The statements a flaky database takes while it isolates another (one a round).
const PASSERS: usize = LONE_FAILURES as usize - 1;

fn config_for(test: &TestDb, database: &tdb::Database) -> Config {
    let mut config = Config::default();
    config.database.url.clone_from(&test.url);
    config.database.schema.clone_from(&test.schema);
    config.transparency.tdb_submission = tdb::submission_config(database);
    config
}

/// The platform's id of enforcement `n`: mostly ids that fit the PUID pattern, and some
/// that do not (a colon and slash, a space, a non-ASCII letter).
fn platform_id(n: usize) -> String {
    match n % 250 {
        7 => format!("pin:{n}/abc"),
        8 => format!("pin {n}"),
        9 => format!("pïn-{n}"),
        _ => format!("pin-{n}"),
    }
}

/// Records `count` enforcements with platform ids `{prefix}-{n}`.
async fn record_plain(
    engine: &Engine,
    prefix: &str,
    count: usize,
    at: chrono::DateTime<Utc>,
) -> Vec<uuid::Uuid> {
    let batch = (0..count)
        .map(|n| NewEnforcement {
            external_id: Some(format!("{prefix}-{n}")),
            ..automated_deactivation(&format!("acct-{prefix}-{n}"), "model", "spam-v3", at)
        })
        .collect();
    engine.record_enforcements(batch).await.expect("recorded")
}

fn fresh_engine(test: &TestDb) -> (Engine, ManualClock) {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
            .single()
            .expect("date"),
    );
    let engine = Engine::new(
        test.db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    );
    (engine, clock)
}

/// Every PUID the database stored, stored once, and each submitted row carrying the uuid
/// the database gave it.
async fn assert_stored_once(engine: &Engine, database: &tdb::Database, expected: usize) {
    let submitted = engine
        .tdb_submissions(Some(TdbState::Submitted), 5000)
        .await
        .expect("list");
    assert_eq!(submitted.len(), expected);
    let ledger = database.ledger();
    assert_eq!(ledger.inserts.len(), expected, "stored once each");
    let unique: std::collections::HashSet<&String> = ledger.inserts.iter().collect();
    assert_eq!(unique.len(), expected, "no PUID stored twice");
    for submission in &submitted {
        assert_eq!(
            submission.tdb_uuid.as_ref(),
            ledger.stored.get(&submission.puid),
            "{}",
            submission.puid
        );
    }
}

async fn record(engine: &Engine, at: chrono::DateTime<Utc>) -> (Vec<uuid::Uuid>, uuid::Uuid) {
    let mut batch: Vec<NewEnforcement> = (0..GOOD)
        .map(|n| NewEnforcement {
            external_id: Some(platform_id(n)),
            ..automated_deactivation(&format!("acct-{n}"), "model", "spam-v3", at)
        })
        .collect();
    let mut too_long = automated_suspension_statement(at);
    too_long["facts"] = serde_json::json!("f".repeat(5001));
    batch.push(NewEnforcement {
        external_id: Some("pin-too-long".into()),
        statement: too_long,
        ..automated_deactivation("acct-long", "model", "spam-v3", at)
    });
    let mut ids = engine.record_enforcements(batch).await.expect("recorded");
    let too_long_id = ids.pop().expect("the long one");
    (ids, too_long_id)
}

/// Runs rounds until nothing is pending, moving the clock past leases and backoffs when a
/// round finds nothing due. A round whose call the database holds (`StoreThenHang`) is
/// aborted once the statements are stored: the process died with the answer in flight.
async fn drain(
    engine: &Engine,
    clock: &ManualClock,
    database: &tdb::Database,
    api: &HttpTdbApi,
    config: &TdbSubmissionConfig,
) -> (Vec<SubmitReport>, usize) {
    let settings = config.submit_settings(&TdbSettings::default());
    let mut reports = Vec::new();
    let mut crashes = 0;
    for _ in 0..200 {
        let mut round = tokio::spawn({
            let (engine, api, settings) = (engine.clone(), api.clone(), settings.clone());
            async move { engine.tdb_submit_round(&api, &settings).await }
        });
        tokio::select! {
            joined = &mut round => {
                let report = joined.expect("round task").expect("round");
                let idle = report.claimed == 0;
                reports.push(report);
                if idle {
                    let counts = engine.tdb_submission_counts().await.expect("counts");
                    if counts.get("pending").copied().unwrap_or(0) == 0 {
                        return (reports, crashes);
                    }
                    clock.advance(TimeDelta::minutes(6));
                }
            }
            () = database.hung.notified() => {
                round.abort();
                assert!(round.await.expect_err("aborted").is_cancelled());
                crashes += 1;
            }
        }
    }
    panic!("submission did not settle: {reports:?}");
}

redress_engine::backend_tests! {
    async fn a_thousand_statements_are_stored_exactly_once_through_throttling_refusals_and_a_crash(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        let (ids, too_long_id) = record(&engine, clock.now_plus(TimeDelta::zero())).await;
        let refused_by_database = "pin-990";
        database.ledger().refuse_category_of.insert(refused_by_database.to_owned());
        tdb::script(&database, [
            (1, Script::TooManyRequests),
            (4, Script::StoreThenHang),
            (7, Script::ServiceUnavailable),
        ]);
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");

        let (reports, crashes) = drain(&engine, &clock, &database, &api, &config).await;

        assert_eq!(crashes, 1);
        assert!(reports.iter().all(|r| r.claimed <= 100), "at most 100 a round");
        let counts = engine.tdb_submission_counts().await.expect("counts");
        assert_eq!(counts.get("submitted"), Some(&((GOOD - 1) as u64)), "{counts:?}");
        assert_eq!(counts.get("refused"), Some(&2), "{counts:?}");
        assert_eq!(reports.iter().map(|r| r.already_there).sum::<usize>(), 100, "the crashed batch, found already there");
        {
            let ledger = database.ledger();
            assert_eq!(ledger.inserts.len(), GOOD - 1, "stored once each");
            let unique: std::collections::HashSet<&String> = ledger.inserts.iter().collect();
            assert_eq!(unique.len(), ledger.inserts.len(), "no PUID stored twice");
            assert!(!ledger.received.contains_key("pin-too-long"), "refused before sending");
            assert!(ledger.script.is_empty(), "every scripted call happened");
        }
        let submitted = engine.tdb_submissions(Some(TdbState::Submitted), 5000).await.expect("list");
        assert_eq!(submitted.len(), GOOD - 1);
        {
            let ledger = database.ledger();
            for submission in &submitted {
                assert_eq!(submission.tdb_uuid.as_ref(), ledger.stored.get(&submission.puid), "{}", submission.puid);
            }
        }
        // Platform ids that do not fit the pattern went under their derived PUIDs.
        for n in [7, 8, 9] {
            let submission = engine.tdb_submission(ids[n]).await.expect("read").expect("row");
            assert_eq!(submission.puid, mapping::puid_for(Some(&platform_id(n)), ids[n]));
            assert!(submission.puid.starts_with("rdx-"));
            assert_eq!(submission.state, TdbState::Submitted);
            assert!(submission.notes.iter().any(|n| n.contains("PUID")), "{:?}", submission.notes);
        }
        let own = engine.tdb_submission(too_long_id).await.expect("read").expect("row");
        assert_eq!((own.state, own.refused_by), (TdbState::Refused, Some(RefusedBy::Redress)));
        assert!(own.errors.as_ref().is_some_and(|e| e.has("decision_facts")), "{:?}", own.errors);
        let theirs = engine.tdb_submission(ids[990]).await.expect("read").expect("row");
        assert_eq!((theirs.state, theirs.refused_by), (TdbState::Refused, Some(RefusedBy::Database)));
        assert!(theirs.errors.as_ref().is_some_and(|e| e.has("category")), "{:?}", theirs.errors);

        // The operator lists the refusals, corrects one, resubmits both, and submits.
        let config = config_for(&test, &database);
        let mut out = Vec::new();
        tdb_cli::run(&config, TdbCommand::List { state: Some(StateArg::Refused), limit: 10 }, &mut out).await.expect("list");
        let listed: Vec<serde_json::Value> = String::from_utf8(out).expect("utf-8").lines()
            .map(|line| serde_json::from_str(line).expect("json line")).collect();
        assert_eq!(listed.len(), 2);
        let mut corrected = own.statement.clone().expect("the draft is kept for correction");
        corrected.decision_facts = "Forty commercial pins in an hour.".into();
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), serde_json::to_vec(&corrected).expect("json")).expect("write");
        let mut misspelt = serde_json::to_value(&corrected).expect("json");
        misspelt["decison_facts"] = serde_json::json!("typo");
        let typo = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(typo.path(), serde_json::to_vec(&misspelt).expect("json")).expect("write");
        let refused = tdb_cli::run(&config, TdbCommand::Resubmit { enforcement_id: too_long_id, statement: Some(typo.path().to_owned()), actor: "oscar".into() }, &mut Vec::new()).await;
        let refused = format!("{:#}", refused.expect_err("an unknown field is refused"));
        assert!(refused.contains("decison_facts"), "{refused}");
        tdb_cli::run(&config, TdbCommand::Resubmit { enforcement_id: too_long_id, statement: Some(file.path().to_owned()), actor: "oscar".into() }, &mut Vec::new())
            .await
            .expect("resubmit the corrected one");
        database.ledger().refuse_category_of.clear();
        tdb_cli::run(&config, TdbCommand::Resubmit { enforcement_id: ids[990], statement: None, actor: "oscar".into() }, &mut Vec::new())
            .await
            .expect("resubmit as mapped");
        let again = tdb_cli::run(&config, TdbCommand::Resubmit { enforcement_id: ids[0], statement: None, actor: "oscar".into() }, &mut Vec::new()).await;
        assert!(again.expect_err("submitted stays submitted").to_string().contains("not refused"));
        let mut out = Vec::new();
        tdb_cli::run(&config, TdbCommand::Submit { max_rounds: 5 }, &mut out).await.expect("submit");
        let counts = engine.tdb_submission_counts().await.expect("counts");
        assert_eq!(counts.get("submitted"), Some(&((GOOD + 1) as u64)), "{counts:?}");
        assert_eq!(counts.get("refused"), None);
        let (inserts, sent_corrected) = {
            let ledger = database.ledger();
            (ledger.inserts.len(), ledger.received.get("pin-too-long").copied())
        };
        assert_eq!(inserts, GOOD + 1);
        assert_eq!(sent_corrected, Some(1), "sent once, as corrected");
        let fixed = engine.tdb_submission(too_long_id).await.expect("read").expect("row");
        assert!(fixed.corrected);
        assert_eq!(fixed.statement.map(|s| s.decision_facts).as_deref(), Some("Forty commercial pins in an hour."));
        test.cleanup().await;
    }

    async fn replicas_running_rounds_together_send_each_statement_once(test) {
        let database = tdb::start().await;
        let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).single().expect("date"));
        let replica = || Engine::new(test.db.clone(), EngineSettings::default(), Arc::new(clock.clone()));
        let at = clock.now_plus(TimeDelta::zero());
        let batch = (0..400)
            .map(|n| NewEnforcement {
                external_id: Some(format!("replica-{n}")),
                ..automated_deactivation(&format!("acct-replica-{n}"), "model", "spam-v3", at)
            })
            .collect();
        replica().record_enforcements(batch).await.expect("recorded");
        let config = TdbSubmissionConfig { batch_size: 25, ..tdb::submission_config(&database) };
        let settings = config.submit_settings(&TdbSettings::default());
        // One round makes every row first, so the replicas race for the claims only.
        let first = replica()
            .tdb_submit_round(&HttpTdbApi::new(&config).expect("client"), &settings)
            .await
            .expect("round");
        assert_eq!((first.enqueued, first.submitted), (400, 25));
        let rounds = (0..4).map(|_| {
            let (engine, api, settings) = (replica(), HttpTdbApi::new(&config).expect("client"), settings.clone());
            tokio::spawn(async move {
                let mut submitted = 0;
                loop {
                    let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
                    submitted += report.submitted;
                    if report.claimed == 0 {
                        return submitted;
                    }
                }
            })
        });
        let mut total = first.submitted;
        for round in rounds.collect::<Vec<_>>() {
            total += round.await.expect("replica");
        }
        assert_eq!(total, 400);
        {
            let ledger = database.ledger();
            assert_eq!(ledger.inserts.len(), 400);
            assert!(ledger.received.values().all(|n| *n == 1), "a statement was sent twice");
        }
        test.cleanup().await;
    }

    async fn the_worker_in_serve_submits_what_is_recorded(test) {
        let database = tdb::start().await;
        let mut config = api::config_for(&test);
        config.workers.enabled = true;
        config.transparency.tdb_submission = TdbSubmissionConfig { interval_seconds: 1, ..tdb::submission_config(&database) };
        let app = api::TestApp::start_with(config).await;
        let engine = app.app.state.engine.clone();
        let at = app.clock.now_plus(TimeDelta::zero());
        let batch = (0..150)
            .map(|n| NewEnforcement {
                external_id: Some(format!("serve-{n}")),
                ..automated_deactivation(&format!("acct-serve-{n}"), "model", "spam-v3", at)
            })
            .collect();
        engine.record_enforcements(batch).await.expect("recorded");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let counts = engine.tdb_submission_counts().await.expect("counts");
            if counts.get("submitted") == Some(&150) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the worker has not submitted all: {counts:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(database.ledger().inserts.len(), 150);
        assert!(database.ledger().calls >= 2, "batches of at most 100");
        app.stop().await;
        test.cleanup().await;
    }

    async fn a_token_the_database_does_not_take_defers_without_refusing(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        tdb_statements::record(&engine, "pin-1", "acct-1").await;
        let config = TdbSubmissionConfig { token: Secret::new("X|revoked"), ..tdb::submission_config(&database) };
        let api = HttpTdbApi::new(&config).expect("client");
        let report = engine
            .tdb_submit_round(&api, &config.submit_settings(&TdbSettings::default()))
            .await
            .expect("round");
        assert_eq!((report.claimed, report.deferred, report.refused), (1, 1, 0));
        let row = &engine.tdb_submissions(None, 10).await.expect("list")[0];
        assert_eq!(row.state, TdbState::Pending);
        assert!(row.last_error.as_deref().is_some_and(|e| e.contains("401")), "{:?}", row.last_error);
        assert!(row.next_attempt_at > clock.now_plus(TimeDelta::seconds(14)), "backed off");
        assert!(database.ledger().inserts.is_empty());
        test.cleanup().await;
    }

    async fn answers_not_from_the_database_defer_without_refusing(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        let at = clock.now_plus(TimeDelta::zero());
        let batch = (0..3)
            .map(|n| NewEnforcement {
                external_id: Some(format!("proxy-{n}")),
                ..automated_deactivation(&format!("acct-proxy-{n}"), "model", "spam-v3", at)
            })
            .collect();
        engine.record_enforcements(batch).await.expect("recorded");
        tdb::script(&database, [(1, Script::NotFound), (2, Script::PayloadTooLarge), (3, Script::OkHtml)]);
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        let settings = config.submit_settings(&TdbSettings::default());
        for status in ["404", "413", "200"] {
            let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
            assert_eq!((report.claimed, report.deferred, report.refused, report.submitted), (3, 3, 0, 0), "{status}");
            for row in engine.tdb_submissions(None, 10).await.expect("list") {
                assert_eq!(row.state, TdbState::Pending, "{status}");
                assert!(row.last_error.as_deref().is_some_and(|e| e.contains(status) && e.contains("base_url")), "{:?}", row.last_error);
            }
            clock.advance(TimeDelta::hours(2));
        }
        let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
        assert_eq!((report.submitted, report.refused), (3, 0));
        assert_eq!(database.ledger().inserts.len(), 3);
        test.cleanup().await;
    }

    async fn an_existing_puid_the_look_up_does_not_find_is_deferred_not_submitted(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        tdb_statements::record(&engine, "pin-hidden", "acct-hidden").await;
        {
            let mut ledger = database.ledger();
            ledger.stored.insert("pin-hidden".into(), "u-hidden".into());
            ledger.hidden_from_lookup.insert("pin-hidden".into());
        }
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        let settings = config.submit_settings(&TdbSettings::default());
        let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
        assert_eq!((report.deferred, report.submitted, report.already_there), (1, 0, 0));
        let row = &engine.tdb_submissions(None, 10).await.expect("list")[0];
        assert_eq!(row.state, TdbState::Pending);
        assert!(row.last_error.as_deref().is_some_and(|e| e.contains("look-up does not find")), "{:?}", row.last_error);
        database.ledger().hidden_from_lookup.clear();
        clock.advance(TimeDelta::hours(2));
        let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
        assert_eq!((report.submitted, report.already_there), (1, 1));
        let row = &engine.tdb_submissions(None, 10).await.expect("list")[0];
        assert_eq!(row.tdb_uuid.as_deref(), Some("u-hidden"));
        test.cleanup().await;
    }

    async fn a_statement_the_database_fails_on_every_time_is_refused_and_the_others_go_once(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        let ids = record_plain(&engine, "mate", 250, clock.now_plus(TimeDelta::zero())).await;
        database.ledger().poisoned.insert("mate-123".to_owned());
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");

        let (reports, crashes) = drain(&engine, &clock, &database, &api, &config).await;

        assert_eq!(crashes, 0);
        let counts = engine.tdb_submission_counts().await.expect("counts");
        assert_eq!(counts.get("submitted"), Some(&249), "{counts:?}");
        assert_eq!(counts.get("refused"), Some(&1), "{counts:?}");
        assert_stored_once(&engine, &database, 249).await;
        let poisoned = engine.tdb_submission(ids[123]).await.expect("read").expect("row");
        assert_eq!((poisoned.state, poisoned.refused_by), (TdbState::Refused, Some(RefusedBy::Database)));
        assert_eq!(poisoned.lone_server_failures, LONE_FAILURES);
        let reason = poisoned.errors.as_ref().map(ToString::to_string).unwrap_or_default();
        assert!(reason.contains("server error") && reason.contains("alone") && reason.contains("HTTP 500"), "{reason}");
        assert!(reason.contains("Statement Creation Query Exception"), "the database's own words are kept: {reason}");
        let (sent_poisoned, stored_poisoned, looked_up) = {
            let ledger = database.ledger();
            (ledger.received.get("mate-123").copied().unwrap_or(0), ledger.stored.contains_key("mate-123"), ledger.lookups.clone())
        };
        assert!(!stored_poisoned);
        // Only the isolated statement is asked about, and only when nothing else was sent.
        assert!(looked_up.iter().all(|puid| puid == "mate-123"), "{looked_up:?}");
        // Three whole batches, the halvings from 50 down to one, then alone: bounded.
        assert!(sent_poisoned <= 14, "sent {sent_poisoned} times");
        assert!(reports.iter().all(|r| r.refused <= 1));
        // An operator puts it back once the database takes it, and it goes.
        database.ledger().poisoned.clear();
        let config = config_for(&test, &database);
        tdb_cli::run(&config, TdbCommand::Resubmit { enforcement_id: ids[123], statement: None, actor: "oscar".into() }, &mut Vec::new())
            .await
            .expect("resubmit");
        tdb_cli::run(&config, TdbCommand::Submit { max_rounds: 5 }, &mut Vec::new()).await.expect("submit");
        let fixed = engine.tdb_submission(ids[123]).await.expect("read").expect("row");
        assert_eq!((fixed.state, fixed.server_failures, fixed.lone_server_failures), (TdbState::Submitted, 0, 0));
        assert_stored_once(&engine, &database, 250).await;
        test.cleanup().await;
    }

    async fn an_outage_of_the_whole_database_refuses_nothing_and_everything_goes_once_after(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        record_plain(&engine, "calm", 250, clock.now_plus(TimeDelta::zero())).await;
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        let settings = config.submit_settings(&TdbSettings::default());
        // The database took the first batch, then goes down for hours.
        let first = engine.tdb_submit_round(&api, &settings).await.expect("round");
        assert_eq!(first.submitted, 100);
        database.ledger().outage = true;
        for _ in 0..60 {
            let report = engine.tdb_submit_round(&api, &settings).await.expect("round");
            assert_eq!(report.refused, 0, "{report:?}");
            assert!(report.requests <= OUTAGE_PROBES, "an outage costs few calls a round: {report:?}");
            if report.claimed == 0 {
                clock.advance(TimeDelta::minutes(6));
            }
        }
        assert!(database.ledger().calls > 10, "it kept trying: {}", database.ledger().calls);
        for row in engine.tdb_submissions(Some(TdbState::Pending), 500).await.expect("list") {
            assert!(row.server_failures <= SPLIT_AFTER, "{row:?}");
            assert_eq!(row.lone_server_failures, 0, "{row:?}");
        }
        database.ledger().outage = false;
        let (_, crashes) = drain(&engine, &clock, &database, &api, &config).await;
        assert_eq!(crashes, 0);
        let counts = engine.tdb_submission_counts().await.expect("counts");
        assert_eq!(counts.get("submitted"), Some(&250), "{counts:?}");
        assert_eq!(counts.get("refused"), None, "{counts:?}");
        assert_stored_once(&engine, &database, 250).await;
        test.cleanup().await;
    }

    async fn puids_stored_long_ago_and_lately_are_all_found_over_successive_answers(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        record_plain(&engine, "again", 10, clock.now_plus(TimeDelta::zero())).await;
        // An earlier call stored four of them and its answer was lost: two lately (still in
        // the database's PUID cache), two long ago (only in its PUID table).
        for (n, expired) in [(1, false), (4, true), (6, false), (8, true)] {
            tdb::store_earlier(&database, &format!("again-{n}"), expired);
        }
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        let report = engine
            .tdb_submit_round(&api, &config.submit_settings(&TdbSettings::default()))
            .await
            .expect("round");
        assert_eq!((report.submitted, report.already_there, report.refused), (10, 4, 0), "{report:?}");
        // The cached ones are named first, the others at the next call, then the rest is stored.
        assert_eq!(report.requests, 3, "{report:?}");
        assert_stored_once(&engine, &database, 10).await;
        test.cleanup().await;
    }

    async fn a_statement_isolated_by_a_flaky_database_is_not_refused_for_an_outage_and_goes_once(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        let ids = record_plain(&engine, "sound", 1, clock.now_plus(TimeDelta::zero())).await;
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        tdb::isolate_by_a_flaky_database(&engine, &clock, &database, &api, &config, ids[0], LONE_FAILURES - 1).await;

        // The database goes down for several rounds: each lone 5xx is followed by one
        // look-up, which fails too, so none of them counts and nothing more is sent.
        database.ledger().outage = true;
        let outage_rounds = 5;
        for round in 1..=outage_rounds {
            let report = tdb::round_later(&engine, &clock, &api, &config).await;
            assert_eq!((report.requests, report.deferred, report.refused), (1, 1, 0), "{report:?}");
            let row = engine.tdb_submission(ids[0]).await.expect("read").expect("row");
            assert_eq!((row.state, row.server_failures, row.lone_server_failures), (TdbState::Pending, SPLIT_AFTER + LONE_FAILURES - 1, LONE_FAILURES - 1));
            assert!(row.last_error.as_deref().is_some_and(|e| e.contains("look-up failed too") && e.contains("not counted")), "{:?}", row.last_error);
            assert_eq!(database.ledger().lookups, vec!["sound-0".to_owned(); round]);
        }

        database.ledger().outage = false;
        let report = tdb::round_later(&engine, &clock, &api, &config).await;
        assert_eq!((report.requests, report.submitted, report.already_there, report.refused), (1, 1, 0, 0), "{report:?}");
        let row = engine.tdb_submission(ids[0]).await.expect("read").expect("row");
        assert_eq!((row.state, row.server_failures, row.lone_server_failures), (TdbState::Submitted, 0, 0));
        assert_stored_once(&engine, &database, 1 + PASSERS).await;
        assert_eq!(database.ledger().received.get("sound-0"), Some(&(SPLIT_AFTER as u32 + LONE_FAILURES as u32 - 1 + outage_rounds as u32 + 1)));
        test.cleanup().await;
    }

    async fn a_statement_the_database_stores_and_answers_500_to_is_found_and_submitted_once(test) {
        let database = tdb::start().await;
        let (engine, clock) = fresh_engine(&test);
        let ids = record_plain(&engine, "kept", 1, clock.now_plus(TimeDelta::zero())).await;
        let config = tdb::submission_config(&database);
        let api = HttpTdbApi::new(&config).expect("client");
        tdb::isolate_by_a_flaky_database(&engine, &clock, &database, &api, &config, ids[0], LONE_FAILURES - 1).await;

        // Its next call, alone, is stored and then answered 500: the look-up finds it.
        let next_call = database.ledger().calls + 1;
        tdb::script(&database, [(next_call, Script::StoreThenServerError)]);
        let report = tdb::round_later(&engine, &clock, &api, &config).await;
        assert_eq!((report.requests, report.submitted, report.already_there, report.refused, report.deferred), (1, 1, 1, 0, 0), "{report:?}");
        assert_eq!(database.ledger().lookups, vec!["kept-0".to_owned()]);
        let row = engine.tdb_submission(ids[0]).await.expect("read").expect("row");
        assert_eq!((row.state, row.refused_by, row.server_failures, row.lone_server_failures), (TdbState::Submitted, None, 0, 0));
        assert_stored_once(&engine, &database, 1 + PASSERS).await;

        // Nothing is left to send, and it is never sent again.
        let report = tdb::round_later(&engine, &clock, &api, &config).await;
        assert_eq!((report.claimed, report.requests), (0, 0), "{report:?}");
        assert_eq!(database.ledger().received.get("kept-0"), Some(&(SPLIT_AFTER as u32 + LONE_FAILURES as u32)));
        test.cleanup().await;
    }
}
