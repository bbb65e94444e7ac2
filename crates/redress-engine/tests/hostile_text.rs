//! Text with U+0000 in every field the engine stores, from every way in: kept with U+FFFD in
//! its place and read back the same on SQLite and PostgreSQL (where a NUL used to fail the
//! transaction as if the database were down, so senders retried for ever). What the
//! database still refuses is bad input, never a temporary failure.

mod common;

use chrono::TimeDelta;
use redress_core::{Actor, AppealState, Channel, Command, Event, Outcome, Priority, Role};
use redress_engine::direct_messages::{self, ConfirmationSettings};
use redress_engine::entity::out_of_court_dispute;
use redress_engine::repo::messages::{self, Direction, Message};
use redress_engine::repo::{events, outbox, registry};
use redress_engine::testing::Backend;
use redress_engine::transparency::disputes::NewDispute;
use redress_engine::{Clock, EngineError, EngineSettings, Filing, IncomingAppeal, Recorded};
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

const NUL: &str = "\0";
const REPLACED: &str = "\u{FFFD}";

/// A mail with `mark` in every text field, the keys of its metadata included.
fn mail(id: &str, mark: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::Email,
        channel_message_id: Some(format!("<{id}{mark}@mail.example>")),
        sender: format!("ana{mark}@example.org"),
        contact: Some(format!("ana{mark}@example.org")),
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: Some(format!("My account{mark} was banned")),
        body: format!("Please{mark} look again"),
        in_reply_to: Some(format!("<earlier{mark}@mail.example>")),
        metadata: json!({
            "display_name": format!("Ana{mark} B"),
            format!("header{mark}"): [format!("value{mark}"), 1, null],
        }),
    }
}

fn dm(id: &str, sender: &str, text: &str) -> IncomingAppeal {
    IncomingAppeal {
        channel: Channel::X,
        channel_message_id: Some(id.to_owned()),
        sender: sender.to_owned(),
        contact: Some(sender.to_owned()),
        account_id: None,
        enforcement_id: None,
        identity_verified: false,
        subject: None,
        body: text.to_owned(),
        in_reply_to: None,
        metadata: json!({ "platform": "x", "sender": { "name": format!("Ana{NUL}"), "screen_name": "ana_b" } }),
    }
}

fn confirmation() -> ConfirmationSettings {
    ConfirmationSettings {
        url: "https://redress.example/social/confirm".to_owned(),
        valid_for: TimeDelta::hours(24),
    }
}

/// The stored message of `channel_id`, as every field of `expected` says it should be.
async fn assert_stored_as(db: &sea_orm::DatabaseConnection, expected: &IncomingAppeal) {
    let channel_id = expected.channel_message_id.as_deref().expect("channel id");
    let stored = messages::find_by_channel_id(db, expected.channel, channel_id)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("no message {channel_id:?}"));
    assert_eq!(stored.sender, expected.sender);
    assert_eq!(stored.subject, expected.subject);
    assert_eq!(stored.body, expected.body);
    assert_eq!(stored.in_reply_to, expected.in_reply_to);
    assert_eq!(stored.metadata, expected.metadata);
}

fn is_permanent_bad_input(err: &EngineError) -> bool {
    matches!(err, EngineError::InvalidInput(_)) && !err.is_temporary() && !err.is_retryable()
}

/// A value PostgreSQL cannot index (over its 2704-byte limit for one btree row) and cannot
/// compress below it either.
fn incompressible(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    while text.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push(char::from(
            b"0123456789abcdefghijklmnopqrstuv"[(state % 32) as usize],
        ));
    }
    text
}

redress_engine::backend_tests! {
    async fn a_mail_with_nul_in_every_field_is_filed_with_it_replaced(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());

        let filing = engine
            .file(&Actor::appellant(format!("ana{NUL}")), mail("m1", NUL))
            .await
            .expect("a NUL is no reason to refuse a mail");
        let Filing::Created(appeal) = filing else { panic!("expected a new case, got {filing:?}") };
        assert_stored_as(&test.db, &mail("m1", REPLACED)).await;
        assert_eq!(appeal.contact.as_deref(), Some(format!("ana{REPLACED}@example.org").as_str()));
        let stored = engine.appeal(appeal.id).await.expect("appeal");
        assert_eq!(stored, appeal, "the row reads back as written");
        let history = engine.history(appeal.id).await.expect("history");
        assert_eq!(history[0].1.actor, Actor::appellant(format!("ana{REPLACED}")));

        let again = engine
            .file(&Actor::appellant("ana"), mail("m1", NUL))
            .await
            .expect("second delivery");
        assert_eq!(again, Filing::Duplicate { appeal_id: Some(appeal.id) });
        test.cleanup().await;
    }

    async fn replies_and_unfiled_mail_keep_their_text_with_nul_replaced(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let opened = engine
            .file(&Actor::appellant("ana"), mail("open", ""))
            .await
            .expect("file")
            .appeal_id()
            .expect("case");

        let reply = engine.append_to_appeal(opened, mail("reply", NUL)).await.expect("reply");
        assert!(matches!(reply, Filing::Appended(ref a) if a.id == opened), "{reply:?}");
        assert_stored_as(&test.db, &mail("reply", REPLACED)).await;

        let recorded = engine
            .record_unfiled(mail("bounce", NUL), &format!("bounce{NUL}"))
            .await
            .expect("record");
        assert!(matches!(recorded, Recorded::New(_)), "{recorded:?}");
        assert_stored_as(&test.db, &mail("bounce", REPLACED)).await;
        let bounce = messages::find_by_channel_id(&test.db, Channel::Email, &format!("<bounce{REPLACED}@mail.example>"))
            .await
            .expect("query")
            .expect("bounce");
        assert_eq!(bounce.classification, format!("bounce{REPLACED}"));
        assert_eq!(
            engine.record_unfiled(mail("bounce", NUL), "bounce").await.expect("again"),
            Recorded::Duplicate
        );
        test.cleanup().await;
    }

    async fn dms_with_nul_in_sender_id_and_text_open_one_case_per_sender(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let sender = format!("x{NUL}42");

        let first = engine
            .receive_direct_message(dm(&format!("ev{NUL}1"), &sender, &format!("Why{NUL}?")), &confirmation())
            .await
            .expect("first DM");
        let Filing::Created(appeal) = first.filing else { panic!("expected a new case") };
        let second = engine
            .receive_direct_message(dm("ev-2", &sender, "me again"), &confirmation())
            .await
            .expect("second DM");
        assert!(matches!(second.filing, Filing::Appended(ref a) if a.id == appeal.id), "{second:?}");
        let repeated = engine
            .receive_direct_message(dm(&format!("ev{NUL}1"), &sender, "Why?"), &confirmation())
            .await
            .expect("repeated DM");
        assert_eq!(repeated.filing, Filing::Duplicate { appeal_id: Some(appeal.id) });

        let replaced_sender = format!("x{REPLACED}42");
        let open = direct_messages::find_open_by_contact(&test.db, Channel::X, &replaced_sender)
            .await
            .expect("query")
            .expect("the sender's case");
        assert_eq!(open.id, appeal.id);
        let mut expected = dm(&format!("ev{REPLACED}1"), &replaced_sender, &format!("Why{REPLACED}?"));
        expected.metadata["sender"]["name"] = json!(format!("Ana{REPLACED}"));
        assert_stored_as(&test.db, &expected).await;
        test.cleanup().await;
    }

    async fn commands_with_nul_store_what_the_same_commands_with_u_fffd_store(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let mut histories = Vec::new();
        for (account, mark) in [("acct-nul", NUL), ("acct-fffd", REPLACED)] {
            let enforcement = common::enforcement(&test.db, account, "spam").await;
            let id = engine
                .file(&Actor::system("api"), IncomingAppeal { channel: Channel::Api, enforcement_id: Some(enforcement), ..mail(account, "") })
                .await
                .expect("file")
                .appeal_id()
                .expect("case");
            run_every_text_command(&engine, id, mark).await;
            let stored = engine.appeal(id).await.expect("appeal");
            assert_eq!(stored.appeal.state, AppealState::Withdrawn);
            let history: Vec<Event> = engine.history(id).await.expect("history").into_iter().map(|(_, e)| e).collect();
            histories.push((stored, history));
        }
        let (with_nul, with_replacement) = (&histories[0], &histories[1]);
        assert_eq!(with_nul.1[1..], with_replacement.1[1..], "every event after filing");
        assert_eq!(with_nul.0.appeal.tags, with_replacement.0.appeal.tags);
        assert_eq!(with_nul.0.appeal.decision, with_replacement.0.appeal.decision);
        assert!(with_nul.0.appeal.tags.iter().all(|t| t.contains(REPLACED)));

        let replayed = events::history(&test.db, with_nul.0.id).await.expect("replay");
        assert_eq!(replayed.len(), with_nul.1.len());
        for item in outbox::for_appeal(&test.db, with_nul.0.id).await.expect("outbox") {
            assert!(!item.payload.to_string().contains("\\u0000"), "{}", item.payload);
        }
        test.cleanup().await;
    }

    async fn enforcements_disputes_and_status_page_text_keep_nul_replaced(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let now = clock.now();
        let mut statement = redress_engine::testing::automated_suspension_statement(now);
        statement["facts"] = json!(format!("A pin{NUL} matched."));
        let enforcement = registry::NewEnforcement {
            external_id: Some(format!("ext{NUL}1")),
            facts: format!("A pin{NUL} matched."),
            content_id: Some(format!("pin{NUL}991")),
            statement,
            ..redress_engine::testing::automated_deactivation(&format!("acct{NUL}7"), "model", &format!("nudity{NUL}v7"), now)
        };
        let ids = engine.record_enforcements(vec![enforcement.clone()]).await.expect("record");
        let stored = engine.enforcement(ids[0]).await.expect("query").expect("enforcement");
        assert_eq!(stored.account_id, format!("acct{REPLACED}7"));
        assert_eq!(stored.source_id, format!("nudity{REPLACED}v7"));
        assert_eq!(stored.facts, format!("A pin{REPLACED} matched."));
        assert_eq!(stored.statement["facts"], json!(format!("A pin{REPLACED} matched.")));
        assert_eq!(engine.record_enforcements(vec![enforcement]).await.expect("again"), ids, "the same external id");

        let appeal = engine
            .file(&Actor::system("api"), IncomingAppeal { channel: Channel::Api, enforcement_id: Some(ids[0]), ..mail("api-1", "") })
            .await
            .expect("file")
            .appeal_id()
            .expect("case");
        let token = engine.appellant_case(appeal).await.expect("case").status_token.expect("token");
        let reference = engine.appeal(appeal).await.expect("appeal").reference.to_string();
        engine
            .add_status_information(&reference, &token, &format!("More{NUL} facts"))
            .await
            .expect("added");
        let bodies: Vec<String> = engine.messages(appeal).await.expect("messages").into_iter().map(|m| m.body).collect();
        assert!(bodies.contains(&format!("More{REPLACED} facts")), "{bodies:?}");

        let dispute = engine
            .record_dispute(
                &Actor::staff(format!("sam{NUL}"), [Role::Admin]),
                NewDispute {
                    appeal_id: appeal,
                    settlement_body: format!("ADR{NUL} Body"),
                    submitted_at: now,
                    outcome: Some(format!("upheld{NUL}")),
                    resolved_at: Some(now),
                },
            )
            .await
            .expect("dispute");
        let stored = out_of_court_dispute::Entity::find_by_id(dispute).one(&test.db).await.expect("query").expect("dispute");
        assert_eq!(stored.settlement_body, format!("ADR{REPLACED} Body"));
        assert_eq!(stored.outcome, Some(format!("upheld{REPLACED}")));
        test.cleanup().await;
    }

    async fn over_long_ids_are_digested_and_over_long_senders_refused_on_both_backends(test) {
        let clock = common::clock();
        let engine = common::engine(&test.db, &clock, EngineSettings::default());
        let long_id = incompressible(4000);
        let incoming = IncomingAppeal { channel_message_id: Some(long_id.clone()), ..mail("unused", "") };
        let filed = engine.file(&Actor::appellant("ana"), incoming.clone()).await.expect("a long id keeps its mail");
        let appeal = filed.appeal_id().expect("case");
        let stored = engine.messages(appeal).await.expect("messages");
        let key = stored[0].channel_message_id.clone().expect("key");
        assert!(key.starts_with("sha256:") && key.len() == 71, "{key}");
        assert_eq!(
            engine.file(&Actor::appellant("ana"), incoming).await.expect("again"),
            Filing::Duplicate { appeal_id: Some(appeal) }
        );

        let long_sender = format!("{}@example.org", "a".repeat(600));
        let refused = engine
            .file(&Actor::appellant("ana"), IncomingAppeal { sender: long_sender.clone(), contact: None, ..mail("long-sender", "") })
            .await
            .expect_err("nobody can be answered at that address");
        assert!(is_permanent_bad_input(&refused), "{refused:?}");
        let refused = engine
            .receive_direct_message(dm("ev-long", &long_sender, "hi"), &confirmation())
            .await
            .expect_err("nor at that handle");
        assert!(is_permanent_bad_input(&refused), "{refused:?}");
        test.cleanup().await;
    }

    async fn a_value_the_database_refuses_is_bad_input_not_an_outage(test) {
        let now = common::clock().now();
        let raw = |id: &str, body: &str, metadata: serde_json::Value| Message {
            id: Uuid::now_v7(),
            appeal_id: None,
            direction: Direction::Inbound,
            channel: Channel::Email,
            channel_message_id: Some(id.to_owned()),
            in_reply_to: None,
            sender: "ana@example.org".to_owned(),
            recipient: None,
            subject: None,
            body: body.to_owned(),
            classification: "appeal".to_owned(),
            metadata,
            received_at: now,
        };
        // Past the engine's entry points, straight to the repository.
        let outcomes = [
            messages::insert(&test.db, raw("nul-text", "a\0b", json!({}))).await,
            messages::insert(&test.db, raw("nul-json", "ab", json!({ "k": "a\0b" }))).await,
            messages::insert(&test.db, raw(&incompressible(4000), "ab", json!({}))).await,
        ];
        for outcome in outcomes {
            match test.backend {
                Backend::Sqlite => outcome.expect("SQLite stores these as they are"),
                Backend::Postgres => {
                    let err = outcome.expect_err("PostgreSQL refuses these");
                    assert!(is_permanent_bad_input(&err), "{err:?}");
                }
            }
        }
        test.cleanup().await;
    }
}

/// Every command that carries text, each text with `mark`, from filing to withdrawal.
async fn run_every_text_command(engine: &redress_engine::Engine, id: Uuid, mark: &str) {
    let triager = Actor::staff(format!("tina{mark}"), [Role::Triager]);
    let reviewer = Actor::staff(format!("rita{mark}"), [Role::Reviewer]);
    let senior = Actor::staff(format!("sam{mark}"), [Role::SeniorReviewer]);
    let intake = Actor::system("intake");
    let appellant = Actor::appellant(format!("ana{mark}"));
    let lease_until = engine.clock().now() + TimeDelta::minutes(30);
    let decide = Command::Decide {
        outcome: Outcome::Uphold,
        reasons: format!("reasons{mark}"),
        statement: Some(redress_core::StatementOfReasons {
            facts: format!("facts{mark}"),
            ..common::upheld_statement(engine.clock().now())
        }),
        manifestly_unfounded: false,
        template: None,
    };
    let steps: Vec<(Command, &Actor)> = vec![
        (
            Command::Triage {
                priority: Priority::High,
                queue: "general".into(),
                tags: vec![format!("tag{mark}")],
                identity_verified: true,
                four_eyes: true,
                link: None,
            },
            &triager,
        ),
        (
            Command::RequestInfo {
                message: format!("Which pin{mark}?"),
            },
            &reviewer,
        ),
        (Command::UserReplied, &intake),
        (
            Command::Note {
                text: format!("note{mark}"),
            },
            &reviewer,
        ),
        (
            Command::Escalate {
                reason: format!("escalated{mark}"),
                to_queue: "senior".into(),
                breached: None,
            },
            &reviewer,
        ),
        (Command::Claim { lease_until }, &reviewer),
        (decide.clone(), &reviewer),
        (
            Command::Reject {
                note: format!("rejected{mark}"),
            },
            &senior,
        ),
        (Command::Claim { lease_until }, &reviewer),
        (decide, &reviewer),
        (
            Command::Approve {
                note: Some(format!("approved{mark}")),
            },
            &senior,
        ),
        (
            Command::Reopen {
                reason: format!("reopened{mark}"),
            },
            &senior,
        ),
        (
            Command::Withdraw {
                reason: format!("withdrawn{mark}"),
            },
            &appellant,
        ),
    ];
    for (command, actor) in steps {
        engine
            .apply(id, None, &command, actor)
            .await
            .unwrap_or_else(|e| panic!("{} by {actor}: {e}", command.name()));
    }
}
