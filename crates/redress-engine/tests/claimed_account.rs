//! An email nobody vouched for is filed without an account; the triager who verifies the
//! appellant's identity links the account the appellant claims, so a restore can be
//! carried out. A restore of an appeal still linked to no account is refused before it is
//! decided, alone or in bulk. On SQLite and PostgreSQL.

mod common;

use chrono::TimeDelta;
use common::{clock, email, enforcement, engine};
use redress_core::{
    Actor, Appeal, AppealState, Channel, Command, DecisionTemplate, EventKind, GroundKind, Outcome,
    Policy, PolicyText, Priority, RestrictionKind, Role, TransitionError,
};
use redress_engine::bulk_decisions::{BulkDecider, BulkDecisionStatus};
use redress_engine::delivery::{topics, Deliverer, OutboxMessage};
use redress_engine::entity::outbox as outbox_entity;
use redress_engine::policies::PolicyCatalog;
use redress_engine::query::AppealFilter;
use redress_engine::repo::outbox;
use redress_engine::repo::registry::{self, AccountStatus};
use redress_engine::restoration::{RestorationBackend, RestorationDeliverer};
use redress_engine::triage::{ClaimedAccountLinkError, LinkClaimedAccount, Triage};
use redress_engine::{Engine, EngineError, EngineSettings, Filing, IncomingAppeal, ManualClock};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

const RESTORE_TEMPLATE: &str = "nudity-restore-en";

fn tom() -> Actor {
    Actor::staff("tom", [Role::Triager])
}

fn alice() -> Actor {
    Actor::staff("alice", [Role::Reviewer])
}

/// A mail appeal from the address registered to `account`, which no trusted server vouched
/// for: filed without the account, the match kept as a hint.
fn unverified_mail(account: &str) -> IncomingAppeal {
    IncomingAppeal {
        sender: format!("{account}@example.org"),
        identity_verified: false,
        metadata: json!({"claimed_account": account}),
        ..email(&format!("<unverified-{account}@example.org>"), None)
    }
}

async fn file_unverified(engine: &Engine, account: &str) -> Uuid {
    let filing = engine
        .file(
            &Actor::appellant(format!("{account}@example.org")),
            unverified_mail(account),
        )
        .await
        .expect("file");
    let Filing::Created(stored) = filing else {
        panic!("a new case: {filing:?}")
    };
    assert_eq!(
        stored.appeal.account_id, None,
        "nobody vouched for the sender"
    );
    stored.id
}

fn triage(identity_verified: bool, link: LinkClaimedAccount) -> Triage {
    Triage {
        priority: Priority::Normal,
        queue: Some("mail-appeals".into()),
        tags: vec!["mail".into()],
        identity_verified,
        link,
    }
}

fn restore() -> Command {
    Command::Decide {
        outcome: Outcome::Restore,
        reasons: "You only saved the pin.".into(),
        statement: None,
        manifestly_unfounded: false,
        template: None,
    }
}

async fn claim(engine: &Engine, clock: &ManualClock, id: Uuid) {
    let lease_until = clock.now_plus(TimeDelta::minutes(15));
    engine
        .apply(id, None, &Command::Claim { lease_until }, &alice())
        .await
        .expect("claim");
}

async fn outbox_rows(
    db: &DatabaseConnection,
    topic: &str,
    appeal: Uuid,
) -> Vec<outbox_entity::Model> {
    outbox_entity::Entity::find()
        .filter(outbox_entity::Column::Topic.eq(topic))
        .filter(outbox_entity::Column::AppealId.eq(appeal))
        .all(db)
        .await
        .expect("outbox")
}

/// The stored row is the fold of the stored events.
async fn row_is_the_fold(engine: &Engine, id: Uuid) {
    let history = engine.history(id).await.expect("history");
    let folded = Appeal::replay(history.iter().map(|(_, e)| e)).expect("a filed history");
    assert_eq!(engine.appeal(id).await.expect("appeal").appeal, folded);
}

fn settings_with_restore_template() -> EngineSettings {
    let nudity = Policy {
        id: "nudity".into(),
        ground_kind: GroundKind::IncompatibleWithTerms,
        category: "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT".into(),
        restrictions: vec![RestrictionKind::AccountSuspended],
        texts: [(
            "en".to_owned(),
            PolicyText {
                title: "Nudity".into(),
                ground: "Community guidelines 3.1".into(),
                explanation: "Nudity is not allowed.".into(),
            },
        )]
        .into(),
    };
    let restore = DecisionTemplate {
        id: RESTORE_TEMPLATE.into(),
        policy: "nudity".into(),
        outcome: Outcome::Restore,
        language: "en".into(),
        title: "Restored".into(),
        reasons: "Your appeal {reference}: we restore your account.".into(),
        statement: redress_core::StatementDraft::default(),
    };
    EngineSettings {
        policies: PolicyCatalog::new("en", vec![nudity], vec![restore]).expect("catalog"),
        ..EngineSettings::default()
    }
}

redress_engine::backend_tests! {
    async fn a_verified_triage_links_the_claimed_account_and_the_restore_is_carried_out(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        let enforcement_id = enforcement(&test.db, "acct-claim-1", "nudity").await;
        let id = file_unverified(&engine, "acct-claim-1").await;
        let claimed = engine.claimed_account(&engine.appeal(id).await.expect("appeal")).await.expect("claimed");
        assert_eq!(claimed.map(|account| account.id).as_deref(), Some("acct-claim-1"));

        let triaged = engine.triage(id, Some(1), triage(true, LinkClaimedAccount::WhenVerified), &tom()).await.expect("triage");
        assert_eq!(triaged.appeal.appeal.state, AppealState::Triaged);
        assert_eq!(triaged.appeal.appeal.account_id.as_deref(), Some("acct-claim-1"));
        assert_eq!(triaged.appeal.appeal.enforcement_id, Some(enforcement_id), "the enforcement filing would have chosen");
        assert!(triaged.appeal.appeal.identity_verified);
        assert!(matches!(
            &triaged.events[..],
            [event] if matches!(&event.kind, EventKind::Triaged { linked: Some(link), .. }
                if link.account_id == "acct-claim-1" && link.enforcement_id == Some(enforcement_id))
        ), "{:?}", triaged.events);
        assert_eq!(triaged.events[0].actor, tom());
        row_is_the_fold(&engine, id).await;
        let stored = engine.appeal(id).await.expect("appeal");
        assert_eq!(engine.claimed_account(&stored).await.expect("claimed"), None, "claimed no more: linked");

        claim(&engine, &clock, id).await;
        engine.apply(id, None, &restore(), &alice()).await.expect("a linked appeal can be restored");
        let requests = outbox_rows(&test.db, topics::REQUEST_RESTORATION, id).await;
        assert_eq!(requests.len(), 1);
        let deliverer = RestorationDeliverer::new(engine.clone(), RestorationBackend::Embedded);
        deliverer.deliver(&OutboxMessage::from(requests[0].clone())).await.expect("the restoration is carried out");

        assert_eq!(engine.appeal(id).await.expect("appeal").appeal.state, AppealState::Restored);
        let account = registry::find_account(&test.db, "acct-claim-1").await.expect("account").expect("exists");
        assert_eq!(account.status, AccountStatus::Active);
        let notices = outbox::for_appeal(&test.db, id).await.expect("outbox");
        assert_eq!(notices.iter().filter(|n| n.payload["effect"]["notice"] == "decision_restored").count(), 1, "the decision notice is queued");
        row_is_the_fold(&engine, id).await;
        test.cleanup().await;
    }

    async fn four_eyes_follows_the_policy_of_the_linked_enforcement(test) {
        let clock = clock();
        let settings = EngineSettings { four_eyes_policies: vec!["nudity".into()], ..EngineSettings::default() };
        let engine = engine(&test.db, &clock, settings);
        enforcement(&test.db, "acct-claim-4", "nudity").await;
        let id = file_unverified(&engine, "acct-claim-4").await;
        assert!(!engine.appeal(id).await.expect("appeal").appeal.four_eyes, "no enforcement known at filing");
        let triaged = engine.triage(id, None, triage(true, LinkClaimedAccount::Required), &tom()).await.expect("triage");
        assert!(triaged.appeal.appeal.four_eyes, "nudity needs four eyes");
        row_is_the_fold(&engine, id).await;
        test.cleanup().await;
    }

    async fn the_link_is_refused_while_the_account_has_an_open_appeal_about_the_enforcement(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-claim-2", "nudity").await;
        let verified = engine
            .file(&Actor::appellant("acct-claim-2@example.org"), email("<verified@example.org>", Some("acct-claim-2")))
            .await
            .expect("file");
        let Filing::Created(open) = verified else { panic!("a new case") };
        let id = file_unverified(&engine, "acct-claim-2").await;

        for link in [LinkClaimedAccount::WhenVerified, LinkClaimedAccount::Required] {
            let refused = engine.triage(id, Some(1), triage(true, link), &tom()).await.expect_err("two open cases");
            match &refused {
                EngineError::ClaimedAccountLink(ClaimedAccountLinkError::OpenAppealAboutTheEnforcement { reference, .. }) => {
                    assert_eq!(reference, &open.reference.to_string());
                }
                other => panic!("{other:?}"),
            }
            assert!(refused.to_string().contains(&open.reference.to_string()), "{refused}");
        }
        let unchanged = engine.appeal(id).await.expect("appeal");
        assert_eq!((unchanged.appeal.state, unchanged.version()), (AppealState::Filed, 1), "nothing changed");

        let unlinked = engine.triage(id, Some(1), triage(true, LinkClaimedAccount::Never), &tom()).await.expect("triage without the link");
        assert_eq!(unlinked.appeal.appeal.account_id, None);
        test.cleanup().await;
    }

    async fn only_a_claimed_account_is_linked_and_only_with_the_identity_verified(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-claim-3", "nudity").await;
        let id = file_unverified(&engine, "acct-claim-3").await;
        let unverified = engine.triage(id, Some(1), triage(false, LinkClaimedAccount::Required), &tom()).await.expect_err("unverified");
        assert!(matches!(unverified, EngineError::Transition(TransitionError::InvalidInput { field: "identity_verified", .. })), "{unverified:?}");
        let not_verified = engine.triage(id, Some(1), triage(false, LinkClaimedAccount::WhenVerified), &tom()).await.expect("triage");
        assert_eq!(not_verified.appeal.appeal.account_id, None, "nothing links an unverified identity");

        let stranger = IncomingAppeal { sender: "nobody@example.org".into(), channel_message_id: Some("<stranger@example.org>".into()), ..unverified_mail("acct-claim-3") };
        let Filing::Created(stranger) = engine.file(&Actor::appellant("nobody@example.org"), stranger).await.expect("file") else { panic!("a new case") };
        let nothing = engine.triage(stranger.id, Some(1), triage(true, LinkClaimedAccount::Required), &tom()).await.expect_err("nothing claimed");
        assert!(matches!(nothing, EngineError::ClaimedAccountLink(ClaimedAccountLinkError::NothingClaimed)), "{nothing:?}");
        let verified = engine.triage(stranger.id, Some(1), triage(true, LinkClaimedAccount::WhenVerified), &tom()).await.expect("triage");
        assert_eq!(verified.appeal.appeal.account_id, None, "an address no account has links nothing");

        let dm = IncomingAppeal { channel: Channel::X, sender: "x:1234".into(), channel_message_id: Some("dm-1234".into()), ..unverified_mail("acct-claim-3") };
        let Filing::Created(dm) = engine.file(&Actor::appellant("x:1234"), dm).await.expect("file") else { panic!("a new case") };
        let refused = engine.triage(dm.id, Some(1), triage(true, LinkClaimedAccount::Required), &tom()).await.expect_err("a handle claims no account");
        assert!(matches!(refused, EngineError::ClaimedAccountLink(ClaimedAccountLinkError::NothingClaimed)), "{refused:?}");
        test.cleanup().await;
    }

    async fn a_restore_of_an_appeal_linked_to_no_account_is_refused_up_front(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, EngineSettings::default());
        enforcement(&test.db, "acct-claim-5", "nudity").await;
        let id = file_unverified(&engine, "acct-claim-5").await;
        engine.triage(id, Some(1), triage(true, LinkClaimedAccount::Never), &tom()).await.expect("triage");
        claim(&engine, &clock, id).await;
        let refused = engine.apply(id, None, &restore(), &alice()).await.expect_err("nobody could restore it");
        assert!(matches!(refused, EngineError::Transition(TransitionError::LinkedToNoAccount)), "{refused:?}");
        assert_eq!(
            refused.to_string(),
            "this appeal is linked to no account: verify the appellant's identity at triage to link the account they claim, or decide otherwise"
        );
        let stored = engine.appeal(id).await.expect("appeal");
        assert_eq!(stored.appeal.state, AppealState::Triaged, "still awaiting a decision");
        assert!(outbox_rows(&test.db, topics::REQUEST_RESTORATION, id).await.is_empty());
        test.cleanup().await;
    }

    async fn a_bulk_restore_decision_skips_an_appeal_linked_to_no_account(test) {
        let clock = clock();
        let engine = engine(&test.db, &clock, settings_with_restore_template());
        enforcement(&test.db, "acct-claim-6", "nudity").await;
        let unlinked = file_unverified(&engine, "acct-claim-6").await;
        engine.triage(unlinked, Some(1), triage(true, LinkClaimedAccount::Never), &tom()).await.expect("triage");
        enforcement(&test.db, "acct-claim-7", "nudity").await;
        let linked = file_unverified(&engine, "acct-claim-7").await;
        engine.triage(linked, Some(1), triage(true, LinkClaimedAccount::Required), &tom()).await.expect("triage");

        let carol = Actor::staff("carol", [Role::SeniorReviewer]);
        let filter = AppealFilter { queue: Some("mail-appeals".into()), ..AppealFilter::default() };
        let bulk = BulkDecider::new(engine.clone());
        let dry = bulk.dry_run(&carol, &filter, RESTORE_TEMPLATE).await.expect("dry run");
        assert_eq!((dry.selected, dry.would_decide, dry.would_skip), (2, 1, 1), "{dry:?}");
        assert_eq!(dry.skipped_by_reason, [("linked_to_no_account".to_owned(), 1)]);

        let job = bulk.start(&carol, filter, RESTORE_TEMPLATE, 10).await.expect("start");
        let done = bulk.run(job.id, |_| {}).await.expect("run");
        assert_eq!((done.status, done.decided, done.skipped), (BulkDecisionStatus::Completed, 1, 1), "{done:?}");
        let skipped = bulk.skipped(job.id, None, 10).await.expect("skipped");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].appeal_id, unlinked);
        assert!(skipped[0].reason.starts_with("this appeal is linked to no account"), "{}", skipped[0].reason);
        assert_eq!(engine.appeal(unlinked).await.expect("appeal").appeal.state, AppealState::Triaged);
        assert_eq!(engine.appeal(linked).await.expect("appeal").appeal.state, AppealState::Reviewed, "restoration requested");
        test.cleanup().await;
    }
}
