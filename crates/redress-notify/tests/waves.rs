//! Waves of faulty enforcements, on SQLite and PostgreSQL: the acknowledgement says that
//! the error is known (an open incident) or that the account is being restored (a running
//! bulk restore), by mail and by DM, and every person a bulk restore covers is told of the
//! restoration exactly once, whenever they appealed and whatever became of the appeal.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use redress_core::{Actor, Channel, Command, IncidentRule, Outcome, Role};
use redress_engine::delivery::{Deliverer, OutboxMessage};
use redress_engine::direct_messages::ConfirmationSettings;
use redress_engine::entity::{account, outbox as outbox_entity};
use redress_engine::repo::{handles, outbox, registry};
use redress_engine::restoration::{
    BulkJob, BulkRestorer, RestorationBackend, RestorationDeliverer, Selector,
};
use redress_engine::transparency::{DetectorSettings, Wave};
use redress_engine::{
    Clock, Engine, EngineSettings, Filing, IncomingAppeal, ManualClock, MessageIdSigner,
};
use redress_notify::case_details::NoticeSettings;
use redress_notify::dm::text::for_message;
use redress_notify::dm::DmNotices;
use redress_notify::mail::{MailDeliverer, MailSettings, MailTransport, SigningKey, Templates};
use redress_notify::wave::wave_text;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;
use uuid::Uuid;

fn engine(db: &sea_orm::DatabaseConnection) -> (Engine, ManualClock) {
    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .expect("date"),
    );
    let engine = Engine::new(
        db.clone(),
        EngineSettings::default(),
        Arc::new(clock.clone()),
    );
    (engine, clock)
}

fn mailer(engine: &Engine, dir: &std::path::Path) -> MailDeliverer {
    MailDeliverer::new(
        engine.clone(),
        Templates::load(None, "en").expect("templates"),
        MailTransport::files(dir).expect("transport"),
        SigningKey::Configured(MessageIdSigner::new("outbound test secret")),
        MailSettings {
            from: "Redress Appeals <appeals@redress.test>"
                .parse()
                .expect("from"),
            message_id_domain: "redress.test".to_owned(),
            default_language: "en".to_owned(),
            notices: NoticeSettings::new("https://appeals.example", vec![]),
        },
    )
}

fn dm_notices(engine: &Engine) -> DmNotices {
    DmNotices {
        engine: engine.clone(),
        settings: NoticeSettings::new("https://appeals.example", vec![]),
        default_language: "en".to_owned(),
    }
}

fn support() -> Actor {
    Actor::staff("sam", [Role::Support])
}

/// A mail appeal from the account's registered address, naming the account.
fn mail_from(account: &str, address: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{account}-{}@mail.example.org>", Uuid::now_v7())),
        sender: address.to_owned(),
        contact: None,
        account_id: Some(account.to_owned()),
        enforcement_id: None,
        identity_verified: true,
        subject: Some("My account".to_owned()),
        body: "I only saved the picture, please restore my account.".to_owned(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

/// A DM on X from `sender`, whose handle is linked to its account beforehand.
fn x_dm(sender: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(format!("x-{sender}-{}", Uuid::now_v7())),
        sender: sender.to_owned(),
        contact: None,
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: "My account was switched off for a picture I only saved. Please look again."
            .to_owned(),
        in_reply_to: None,
        metadata: json!({}),
    }
}

async fn file_dm(engine: &Engine, clock: &ManualClock, sender: &str, account: &str) -> Uuid {
    if handles::linked_account(engine.db(), Channel::X, sender)
        .await
        .expect("handle")
        .is_none()
    {
        handles::link(engine.db(), Channel::X, sender, account, clock.now())
            .await
            .expect("link");
    }
    let confirmation = ConfirmationSettings {
        url: "https://appeals.example/social/confirm".into(),
        valid_for: TimeDelta::hours(1),
    };
    let receipt = engine
        .receive_direct_message(x_dm(sender), &confirmation)
        .await
        .expect("dm");
    let Filing::Created(appeal) = receipt.filing else {
        panic!("a new case, not {:?}", receipt.filing)
    };
    appeal.id
}

async fn file_mail(engine: &Engine, account: &str, address: &str) -> Uuid {
    engine
        .file(&Actor::appellant(address), mail_from(account, address))
        .await
        .expect("file")
        .appeal_id()
        .expect("a case")
}

/// A mail appeal from `address` that no trusted server vouched for: filed without an
/// account, claiming the one registered to the address, if any (unless an after-filing
/// hook links it as it closes it).
async fn file_unverified_mail(engine: &Engine, address: &str) -> Uuid {
    let incoming = IncomingAppeal {
        account_id: None,
        identity_verified: false,
        ..mail_from("unused", address)
    };
    let filing = engine
        .file(&Actor::appellant(address), incoming)
        .await
        .expect("file");
    let Filing::Created(appeal) = filing else {
        panic!("a new case, not {filing:?}")
    };
    appeal.id
}

async fn notices_of(engine: &Engine, appeal_id: Uuid, notice: &str) -> Vec<OutboxMessage> {
    outbox::for_appeal(engine.db(), appeal_id)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|row| row.topic == "notify_appellant" && row.payload["effect"]["notice"] == notice)
        .map(OutboxMessage::from)
        .collect()
}

/// The acknowledgement of `appeal_id` as the person reads it: the mail's text or the DM.
async fn acknowledgement(engine: &Engine, appeal_id: Uuid, dir: &std::path::Path) -> String {
    let items = notices_of(engine, appeal_id, "acknowledgement").await;
    assert_eq!(items.len(), 1, "one acknowledgement");
    let item = &items[0];
    if item.payload["channel"] == "email" {
        mailer(engine, dir)
            .compose(item)
            .await
            .expect("compose")
            .text
    } else {
        for_message(item, &dm_notices(engine))
            .await
            .expect("dm")
            .text
    }
}

/// Records the deactivation of `account` by `model` in `batch`, with a mail address.
async fn deactivate(engine: &Engine, clock: &ManualClock, account: &str, model: &str) {
    registry::record_enforcement(
        engine.db(),
        registry::NewEnforcement {
            batch_id: Some(format!("{model}-run-1")),
            ..redress_engine::testing::automated_deactivation(
                account,
                "model",
                model,
                clock.now() - TimeDelta::days(1),
            )
        },
        clock.now(),
    )
    .await
    .expect("enforcement");
}

/// Appeals of three accounts against `model`, each won: enough for a detector that needs
/// three decided appeals to raise an incident against it.
async fn raise_incident(engine: &Engine, clock: &ManualClock, model: &str) {
    let reviewer = Actor::staff("rita", [Role::Reviewer]);
    for i in 0..3 {
        let account = format!("{model}-won-{i}");
        deactivate(engine, clock, &account, model).await;
        let id = file_mail(engine, &account, &format!("{account}@example.org")).await;
        redress_engine::testing::triage_claim_and_decide(
            engine,
            id,
            &reviewer,
            clock.now() + TimeDelta::minutes(10),
            true,
            serde_json::from_value(redress_engine::testing::automated_suspension_statement(
                clock.now(),
            ))
            .expect("statement"),
        )
        .await;
    }
    clock.advance(TimeDelta::minutes(30));
    let settings = DetectorSettings {
        rule: IncidentRule {
            threshold: 0.2,
            min_sample: 3,
            z: redress_core::overturn::Z_95,
        },
        window: TimeDelta::days(30),
    };
    let raised = engine
        .detect_faulty_sources(&settings)
        .await
        .expect("detect");
    assert_eq!(raised.len(), 1, "{raised:?}");
}

async fn start_job(engine: &Engine, source: &str, chunk: u32) -> (BulkRestorer, BulkJob) {
    let restorer = BulkRestorer::new(engine.clone(), RestorationBackend::Embedded).with_slices(1);
    let job = restorer
        .start(
            &support(),
            Selector::Source {
                source_id: source.into(),
            },
            "The image model misread saved pictures.",
            chunk,
        )
        .await
        .expect("start");
    (restorer, job)
}

/// Every restoration notice in the outbox (by a bulk job or by an appeal's own
/// restoration), by the account it tells about.
async fn restoration_notices(engine: &Engine) -> BTreeMap<String, Vec<OutboxMessage>> {
    let rows = outbox_entity::Entity::find()
        .all(engine.db())
        .await
        .expect("outbox");
    let mut by_account: BTreeMap<String, Vec<OutboxMessage>> = BTreeMap::new();
    for row in rows {
        let notice = row.payload["effect"]["notice"].as_str().unwrap_or_default();
        if row.topic != "notify_appellant"
            || !["decision_restored", "account_restored"].contains(&notice)
        {
            continue;
        }
        let account = if let Some(account) = row.payload["account_id"].as_str() {
            account.to_owned()
        } else {
            let appeal = engine
                .appeal(row.appeal_id.expect("an appeal's notice"))
                .await
                .expect("appeal");
            appeal.appeal.account_id.expect("an account")
        };
        by_account
            .entry(account)
            .or_default()
            .push(OutboxMessage::from(row));
    }
    by_account
}

redress_engine::backend_tests! {
    async fn the_acknowledgement_says_an_incident_is_open_by_mail_and_by_dm(test) {
        let (engine, clock) = engine(&test.db);
        let dir = tempfile::tempdir().expect("dir");
        raise_incident(&engine, &clock, "nudity-v9").await;
        deactivate(&engine, &clock, "acct-late", "nudity-v9").await;
        deactivate(&engine, &clock, "acct-dm", "nudity-v9").await;
        deactivate(&engine, &clock, "acct-other", "spam-rule-4").await;

        let by_mail = file_mail(&engine, "acct-late", "acct-late@example.org").await;
        let text = acknowledgement(&engine, by_mail, dir.path()).await;
        assert!(text.contains(wave_text(Wave::IncidentOpen, "en")), "{text}");
        let case = engine.appellant_case(by_mail).await.expect("case");
        let token = case.status_token.clone().expect("token");
        let view = engine.appeal_status(&case.reference, &token).await.expect("page");
        assert_eq!(view.wave, Some(Wave::IncidentOpen));
        assert!(!text.contains(wave_text(Wave::RestoreRunning, "en")), "{text}");
        assert_eq!(view.estimate, None, "the bulk job puts it right, not its turn in the queue");

        // Once a reviewer upheld it, the page says the decision stands, not that the
        // account is being put right, though the incident is still open.
        let reviewer = Actor::staff("rosa", [Role::Reviewer]);
        let mut upheld: redress_core::StatementOfReasons = serde_json::from_value(
            redress_engine::testing::automated_suspension_statement(clock.now_plus(TimeDelta::zero())),
        )
        .expect("statement");
        upheld.automated_decision = redress_core::Automation::Not;
        redress_engine::testing::triage_claim_and_decide(&engine, by_mail, &reviewer, clock.now_plus(TimeDelta::minutes(10)), false, upheld).await;
        let view = engine.appeal_status(&case.reference, &token).await.expect("page");
        assert_eq!(view.wave, None, "{:?}", view.state);
        assert_eq!(engine.appellant_case(by_mail).await.expect("case").wave, None);

        let by_dm = file_dm(&engine, &clock, "4711", "acct-dm").await;
        let text = acknowledgement(&engine, by_dm, dir.path()).await;
        assert!(text.contains(wave_text(Wave::IncidentOpen, "en")), "{text}");

        // Another source has no incident: the acknowledgement says nothing of a wave.
        let unrelated = file_mail(&engine, "acct-other", "acct-other@example.org").await;
        let text = acknowledgement(&engine, unrelated, dir.path()).await;
        for wave in [Wave::IncidentOpen, Wave::RestoreRunning] {
            assert!(!text.contains(wave_text(wave, "en")), "{text}");
        }
        assert!(!text.contains("error affecting accounts like yours"), "{text}");
        let case = engine.appellant_case(unrelated).await.expect("case");
        let view = engine.appeal_status(&case.reference, &case.status_token.expect("token")).await.expect("page");
        assert_eq!(view.wave, None);
        test.cleanup().await;
    }

    async fn the_acknowledgement_says_the_account_is_being_restored_in_the_appellants_language(test) {
        let (engine, clock) = engine(&test.db);
        let dir = tempfile::tempdir().expect("dir");
        redress_engine::testing::seed_deactivated_wave(&test.db, 3, "nudity-v7").await;
        let (_, _job) = start_job(&engine, "nudity-v7", 10).await;

        let by_mail = file_mail(&engine, "acct-00000", "user0@example.org").await;
        let text = acknowledgement(&engine, by_mail, dir.path()).await;
        assert!(text.contains(wave_text(Wave::RestoreRunning, "en")), "{text}");
        assert!(!text.contains(wave_text(Wave::IncidentOpen, "en")), "{text}");
        // The status page says it too.
        let case = engine.appellant_case(by_mail).await.expect("case");
        let view = engine.appeal_status(&case.reference, &case.status_token.expect("token")).await.expect("page");
        assert_eq!(view.wave, Some(Wave::RestoreRunning));

        // A German account is told in German, by DM as by mail.
        let mut german: account::ActiveModel = account::Entity::find_by_id("acct-00001".to_owned())
            .one(&test.db).await.expect("account").expect("seeded").into();
        german.locale = Set(Some("de".to_owned()));
        german.update(&test.db).await.expect("locale");
        let by_dm = file_dm(&engine, &clock, "4712", "acct-00001").await;
        let text = acknowledgement(&engine, by_dm, dir.path()).await;
        assert!(text.starts_with("Wir haben Ihren Einspruch erhalten."), "{text}");
        assert!(text.contains(wave_text(Wave::RestoreRunning, "de")), "{text}");
        let by_mail = file_mail(&engine, "acct-00001", "user1@example.org").await;
        let text = acknowledgement(&engine, by_mail, dir.path()).await;
        assert!(text.contains(wave_text(Wave::RestoreRunning, "de")), "{text}");
        test.cleanup().await;
    }

    async fn everyone_a_bulk_restore_covers_gets_exactly_one_restoration_notice(test) {
        let (engine, clock) = engine(&test.db);
        let out = tempfile::tempdir().expect("dir");
        redress_engine::testing::seed_deactivated_wave(&test.db, 6, "nudity-v7").await;
        let mut unreachable: account::ActiveModel = account::Entity::find_by_id("acct-00003".to_owned())
            .one(&test.db).await.expect("account").expect("seeded").into();
        unreachable.email = Set(None);
        unreachable.update(&test.db).await.expect("no address");
        let (restorer, job) = start_job(&engine, "nudity-v7", 2).await;

        // Before the job reaches them: one appeal by mail, one by DM, one decided already
        // (its own restoration still waiting in the outbox).
        let mailed = file_mail(&engine, "acct-00000", "user0@example.org").await;
        let dmed = file_dm(&engine, &clock, "5001", "acct-00001").await;
        let decided = file_mail(&engine, "acct-00004", "user4@example.org").await;
        let reviewer = Actor::staff("rita", [Role::Reviewer]);
        redress_engine::testing::triage_and_claim(&engine, decided, &reviewer, &reviewer, clock.now() + TimeDelta::minutes(10)).await;
        engine.apply(decided, None, &Command::Decide { outcome: Outcome::Restore, reasons: "Only saved.".into(), statement: None, template: None, manifestly_unfounded: false }, &reviewer).await.expect("decide");

        let finished = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!(finished.restored, 6, "{finished:?}");

        // The decided appeal's own restoration arrives after the job closed it: nothing
        // more to do, and no second notice.
        let request = outbox::for_appeal(engine.db(), decided).await.expect("outbox")
            .into_iter().find(|row| row.topic == "request_restoration").expect("the appeal's restoration");
        RestorationDeliverer::new(engine.clone(), RestorationBackend::Embedded)
            .deliver(&OutboxMessage::from(request)).await.expect("a restoration the job did already is done");

        // After the job: the person it told by mail writes by DM; the person it could not
        // reach appeals by DM (twice).
        let told_by_mail = file_dm(&engine, &clock, "5002", "acct-00002").await;
        let unreached = file_dm(&engine, &clock, "5003", "acct-00003").await;
        let unreached_again = file_dm(&engine, &clock, "5003", "acct-00003").await;
        for late in [told_by_mail, unreached, unreached_again] {
            let appeal = engine.appeal(late).await.expect("appeal");
            assert_eq!(appeal.appeal.state, redress_core::AppealState::Restored, "nothing left to review");
            let text = acknowledgement(&engine, late, out.path()).await;
            assert!(text.contains(wave_text(Wave::RestoreRunning, "en")), "{text}");
            // The page says the case is restored, and nothing of a restoration under way.
            let case = engine.appellant_case(late).await.expect("case");
            let view = engine.appeal_status(&case.reference, &case.status_token.expect("token")).await.expect("page");
            assert_eq!(view.wave, None);
        }

        // A DM sender nobody knows yet names the address the job already wrote to; the
        // appeal closes when the handle is confirmed, and nobody is told twice.
        let stranger = IncomingAppeal {
            body: "My account was switched off by mistake. Its address is user5@example.org.".to_owned(),
            ..x_dm("5005")
        };
        let confirmation = ConfirmationSettings { url: "https://appeals.example/social/confirm".into(), valid_for: TimeDelta::hours(1) };
        let linked_later = engine.receive_direct_message(stranger, &confirmation).await.expect("dm").filing.appeal_id().expect("a case");
        let mail = outbox::for_appeal(engine.db(), linked_later).await.expect("outbox")
            .into_iter().find(|row| row.topic == "handle_confirmation").expect("a confirmation link");
        let token = mail.payload["link"].as_str().expect("link").rsplit("token=").next().expect("token").to_owned();
        assert!(engine.appeal(linked_later).await.expect("appeal").appeal.state.is_open(), "unknown until confirmed");
        engine.confirm_handle(&token).await.expect("linked");
        assert_eq!(engine.appeal(linked_later).await.expect("appeal").appeal.state, redress_core::AppealState::Restored);

        let notices = restoration_notices(&engine).await;
        let accounts: Vec<&str> = notices.keys().map(String::as_str).collect();
        assert_eq!(accounts, ["acct-00000", "acct-00001", "acct-00002", "acct-00003", "acct-00004", "acct-00005"]);
        for (account, items) in &notices {
            assert_eq!(items.len(), 1, "{account}: {items:?}");
        }
        let channel = |account: &str| notices[account][0].payload["channel"].as_str().expect("channel").to_owned();
        assert_eq!(channel("acct-00000"), "email");
        assert_eq!(channel("acct-00001"), "x");
        assert_eq!(channel("acct-00002"), "email", "told by mail before the DM came");
        assert_eq!(channel("acct-00003"), "x", "told on the first channel that reached them");
        assert_eq!(channel("acct-00005"), "email", "told by mail before the handle was linked");
        assert_eq!(notices["acct-00000"][0].appeal_id, Some(mailed));
        assert_eq!(notices["acct-00001"][0].appeal_id, Some(dmed));
        assert_eq!(notices["acct-00003"][0].appeal_id, Some(unreached));

        // Each is delivered: the mails to the mail-out folder, the DMs as their texts.
        let mailer = mailer(&engine, out.path());
        let before = std::fs::read_dir(out.path()).expect("dir").count();
        let mut dms = Vec::new();
        for item in notices.values().flatten() {
            if item.payload["channel"] == "email" {
                mailer.deliver(item).await.expect("mail");
            } else {
                dms.push(for_message(item, &dm_notices(&engine)).await.expect("dm").text);
            }
        }
        assert_eq!(std::fs::read_dir(out.path()).expect("dir").count() - before, 4);
        assert_eq!(dms.len(), 2);
        assert!(dms.iter().all(|text| text.contains("your account has been restored")), "{dms:?}");
        test.cleanup().await;
    }

    async fn appeals_claiming_a_restored_account_close_with_the_job_and_get_its_one_notice(test) {
        let (engine, _) = engine(&test.db);
        redress_engine::testing::seed_deactivated_wave(&test.db, 5, "nudity-v7").await;
        let linked = file_mail(&engine, "acct-00000", "user0@example.org").await;
        let claiming = file_unverified_mail(&engine, "user1@example.org").await;
        let claiming_in_capitals = file_unverified_mail(&engine, "User2@Example.ORG").await;
        let unclaimed_dm = engine
            .receive_direct_message(x_dm("5010"), &ConfirmationSettings { url: "https://appeals.example/social/confirm".into(), valid_for: TimeDelta::hours(1) })
            .await.expect("dm").filing.appeal_id().expect("a case");
        let stranger = file_unverified_mail(&engine, "nobody@example.org").await;
        for unlinked in [claiming, claiming_in_capitals, unclaimed_dm, stranger] {
            assert_eq!(engine.appeal(unlinked).await.expect("appeal").appeal.account_id, None, "nobody vouched for the sender");
        }

        let (restorer, job) = start_job(&engine, "nudity-v7", 2).await;
        let dry = restorer.dry_run(&Selector::Source { source_id: "nudity-v7".into() }).await.expect("dry run");
        assert_eq!(dry.with_open_appeals, 3, "a claimed account's appeal is an open appeal of it");
        let finished = restorer.run(job.id, |_| {}).await.expect("run");
        assert_eq!((finished.restored, finished.already_active), (5, 0), "{finished:?}");

        for (appeal_id, account) in [(linked, "acct-00000"), (claiming, "acct-00001"), (claiming_in_capitals, "acct-00002")] {
            let stored = engine.appeal(appeal_id).await.expect("appeal");
            assert_eq!(stored.appeal.state, redress_core::AppealState::Restored, "{account}");
            assert_eq!(stored.appeal.account_id.as_deref(), Some(account));
            let enforcement = registry::latest_enforcement(engine.db(), account).await.expect("enforcement").expect("one");
            assert_eq!(stored.appeal.enforcement_id, Some(enforcement.id), "the enforcement filing would have chosen");
            let history = redress_engine::repo::events::history(engine.db(), appeal_id).await.expect("history");
            let closings: Vec<_> = history.iter().filter_map(|(_, event)| match &event.kind {
                redress_core::EventKind::BulkRestored { job_id, linked, .. } => Some((*job_id, linked.clone())),
                _ => None,
            }).collect();
            let expected_link = (appeal_id != linked).then(|| redress_core::AccountLink { account_id: account.to_owned(), enforcement_id: Some(enforcement.id) });
            assert_eq!(closings, [(job.id, expected_link)], "{account}");
        }
        let outcomes = redress_engine::entity::bulk_restore_outcome::Entity::find().all(engine.db()).await.expect("outcomes");
        let closed_of = |account: &str| outcomes.iter().find(|o| o.account_id == account).expect("outcome").appeals.clone();
        assert_eq!(closed_of("acct-00001"), json!([claiming]), "the job's figures count the appeal");
        assert_eq!(closed_of("acct-00002"), json!([claiming_in_capitals]));
        for unrelated in [unclaimed_dm, stranger] {
            let stored = engine.appeal(unrelated).await.expect("appeal");
            assert!(stored.appeal.state.is_open(), "{:?}", stored.appeal.state);
            assert_eq!(stored.appeal.account_id, None);
            assert!(notices_of(&engine, unrelated, "decision_restored").await.is_empty());
        }

        // After the job: a mail nobody vouched for from the address of an account it
        // restored is the job's, as a linked one is; the person was told by mail already.
        let late = file_unverified_mail(&engine, "user3@example.org").await;
        let stored = engine.appeal(late).await.expect("appeal");
        assert_eq!(stored.appeal.state, redress_core::AppealState::Restored, "nothing left to review");
        assert_eq!(stored.appeal.account_id.as_deref(), Some("acct-00003"));
        let late_history = redress_engine::repo::events::history(engine.db(), late).await.expect("history");
        assert!(late_history.iter().any(|(_, event)| matches!(&event.kind, redress_core::EventKind::BulkRestored { job_id, linked: Some(link), .. } if *job_id == job.id && link.account_id == "acct-00003")));
        let late_stranger = file_unverified_mail(&engine, "nobody-else@example.org").await;
        assert!(engine.appeal(late_stranger).await.expect("appeal").appeal.state.is_open());

        let notices = restoration_notices(&engine).await;
        let accounts: Vec<&str> = notices.keys().map(String::as_str).collect();
        assert_eq!(accounts, ["acct-00000", "acct-00001", "acct-00002", "acct-00003", "acct-00004"]);
        for (account, items) in &notices {
            assert_eq!(items.len(), 1, "{account}: {items:?}");
        }
        for (account, appeal_id, address) in [("acct-00001", claiming, "user1@example.org"), ("acct-00002", claiming_in_capitals, "User2@Example.ORG")] {
            let notice = &notices[account][0];
            assert_eq!(notice.appeal_id, Some(appeal_id), "{account}: told with the case's reference");
            assert_eq!(notice.payload["effect"]["notice"], "decision_restored");
            assert_eq!(notice.payload["contact"], address, "the address the appeal came from");
        }
        assert_eq!(notices["acct-00003"][0].payload["effect"]["notice"], "account_restored", "told by mail before the appeal came");
        test.cleanup().await;
    }
}
