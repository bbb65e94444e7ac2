//! Property tests over random command sequences: whatever anyone tries, in any order,
//! the lifecycle's invariants hold.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use redress_core::transition::{decide, file};
use redress_core::{
    AccountLink, Actor, Appeal, AppealState, Automation, Channel, Command, Deadline, Event,
    EventKind, FileAppeal, Ground, Outcome, Priority, RedressOption, Restriction, RestrictionKind,
    Role, RuleRef, StatementOfReasons, TerritorialScope, TransitionError,
};
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
        .single()
        .expect("valid date")
}

fn cast() -> Vec<Actor> {
    vec![
        Actor::staff("alice", [Role::Reviewer]),
        Actor::staff("bob", [Role::Reviewer]),
        Actor::staff("carol", [Role::SeniorReviewer]),
        Actor::staff("dave", [Role::SeniorReviewer, Role::Reviewer]),
        Actor::staff("tom", [Role::Triager]),
        Actor::staff("sam", [Role::Support]),
        Actor::staff("ada", [Role::Admin]),
        Actor::staff("platform", [Role::Integration]),
        Actor::system("worker"),
        Actor::appellant("user@example.org"),
        Actor::staff("triage-bot", [Role::Reviewer, Role::Integration]),
    ]
}

/// The statement a reviewer gives when upholding a suspension.
fn upheld_statement(decision: Automation) -> StatementOfReasons {
    StatementOfReasons {
        restrictions: vec![Restriction {
            kind: RestrictionKind::AccountSuspended,
            starts_at: t0(),
            ends_at: None,
        }],
        territorial_scope: TerritorialScope::Worldwide,
        facts: "The account created the pin; it was not only saved.".into(),
        automated_detection: Automation::Fully,
        automated_decision: decision,
        ground: Ground::IncompatibleWithTerms {
            clause: "Community guidelines 4.2".into(),
            explanation: "Commercial spam.".into(),
        },
        redress: vec![
            RedressOption::OutOfCourtDisputeSettlement,
            RedressOption::JudicialRedress,
        ],
    }
}

/// No statement, a good one, a fully automated one, or an incomplete one.
fn statement_variant(minutes: i64) -> Option<StatementOfReasons> {
    match minutes.rem_euclid(4) {
        0 => None,
        1 => Some(upheld_statement(Automation::Not)),
        2 => Some(upheld_statement(Automation::Fully)),
        _ => Some(StatementOfReasons {
            facts: String::new(),
            ..upheld_statement(Automation::Partially)
        }),
    }
}

fn command_strategy() -> impl Strategy<Value = (u8, bool, i64)> {
    (0u8..21, any::<bool>(), -30i64..240)
}

fn build_command(choice: u8, flag: bool, minutes: i64, now: DateTime<Utc>) -> Command {
    let lease_until = now + TimeDelta::minutes(minutes);
    match choice {
        0 => Command::Triage {
            priority: if flag {
                Priority::High
            } else {
                Priority::Normal
            },
            queue: "general".into(),
            tags: vec!["saved-content".into()],
            identity_verified: flag,
            four_eyes: flag,
            link: None,
        },
        1 => Command::RequestInfo {
            message: if flag {
                "Which pin?".into()
            } else {
                " ".into()
            },
        },
        2 => Command::UserReplied,
        3 => Command::NoReplyTimeout,
        4 => Command::Claim { lease_until },
        5 => Command::RenewClaim { lease_until },
        6 => Command::Release,
        7 => Command::ExpireLease,
        8 => Command::Decide {
            outcome: if flag {
                Outcome::Restore
            } else {
                Outcome::Uphold
            },
            reasons: if minutes % 3 == 0 {
                String::new()
            } else {
                "policy 4.2 misapplied".into()
            },
            statement: statement_variant(minutes / 3),
            manifestly_unfounded: false,
            template: None,
        },
        9 => Command::Approve { note: None },
        10 => Command::Reject {
            note: "look again".into(),
        },
        11 => Command::RestorationConfirmed {
            restoration_id: Uuid::nil(),
        },
        12 => Command::Reopen {
            reason: "external ruling".into(),
        },
        13 => Command::Withdraw {
            reason: "resolved".into(),
        },
        14 => Command::SlaWarn {
            deadline: if flag {
                Deadline::Triage
            } else {
                Deadline::Decision
            },
        },
        15 => Command::Escalate {
            reason: "stalled".into(),
            to_queue: "senior".into(),
            breached: flag.then_some(Deadline::Decision),
        },
        16 => Command::BulkRestore {
            job_id: Uuid::nil(),
            reason: "faulty model v7".into(),
            link: None,
        },
        17 => Command::Note {
            text: "checked the saved pin".into(),
        },
        18 => Command::Route {
            rule: RuleRef {
                id: Uuid::nil(),
                version: minutes,
            },
            priority: Priority::High,
            queue: "fast-lane".into(),
            tags: vec!["saved-only".into()],
            four_eyes: flag,
        },
        19 => Command::DecideInBulk {
            job_id: Uuid::nil(),
            outcome: if flag {
                Outcome::Restore
            } else {
                Outcome::Uphold
            },
            reasons: if minutes % 3 == 0 {
                String::new()
            } else {
                "the model misfired on saved pins".into()
            },
            statement: statement_variant(minutes / 3),
            template: None,
        },
        _ => Command::MessageReceived {
            message_id: Uuid::nil(),
        },
    }
}

fn has_role(actor: &Actor, wanted: &[Role]) -> bool {
    actor.has_any_role(wanted)
}

/// Checks every history-wide invariant of one appeal.
fn check_history(history: &[Event], appeal: &Appeal) -> Result<(), TestCaseError> {
    prop_assert_eq!(appeal.version, history.len() as u64);
    let replayed = Appeal::replay(history);
    prop_assert_eq!(
        replayed.as_ref(),
        Some(appeal),
        "the snapshot is the fold of its events"
    );
    let mut decider: Option<String> = None;
    let mut restore_decided = false;
    let mut bulk_restored = false;
    let mut folded: Option<Appeal> = None;
    for event in history {
        let before = folded.clone();
        match &mut folded {
            Some(appeal) => appeal.apply(event),
            None => folded = Appeal::from_filed(event),
        }
        match &event.kind {
            EventKind::Triaged {
                rule: Some(_),
                four_eyes,
                ..
            } => {
                let before = before.as_ref().expect("a filed event comes first");
                prop_assert!(event.actor.is_system(), "routed by {}", event.actor);
                prop_assert_eq!(
                    before.state,
                    AppealState::Filed,
                    "a rule triages only a filed case"
                );
                prop_assert!(
                    *four_eyes || !before.four_eyes,
                    "a rule never drops four-eyes review"
                );
                prop_assert_eq!(
                    before.identity_verified,
                    folded.as_ref().is_some_and(|a| a.identity_verified),
                    "a rule never verifies an identity"
                );
            }
            EventKind::Decided {
                outcome,
                decided_by,
                reasons,
                statement,
                bulk_job,
                ..
            } => {
                if bulk_job.is_some() {
                    prop_assert!(
                        has_role(&event.actor, &[Role::SeniorReviewer]),
                        "decided in bulk by {}",
                        event.actor
                    );
                }
                prop_assert!(
                    has_role(&event.actor, &[Role::Reviewer, Role::SeniorReviewer]),
                    "decided by {}",
                    event.actor
                );
                prop_assert!(
                    !has_role(&event.actor, &[Role::Integration]),
                    "decided by a service identity"
                );
                if let Some(statement) = statement {
                    prop_assert_eq!(statement.validate(), Ok(()));
                    prop_assert_ne!(statement.automated_decision, Automation::Fully);
                }
                if *outcome == Outcome::Uphold {
                    prop_assert!(statement.is_some(), "upheld without a statement");
                    prop_assert!(!reasons.trim().is_empty(), "upheld without reasons");
                }
                prop_assert_eq!(Some(decided_by.as_str()), event.actor.subject());
                decider = Some(decided_by.clone());
                restore_decided = *outcome == Outcome::Restore;
            }
            EventKind::DecisionApproved { approved_by, .. } => {
                prop_assert!(has_role(&event.actor, &[Role::SeniorReviewer]));
                prop_assert_ne!(Some(approved_by), decider.as_ref(), "four eyes");
            }
            EventKind::DecisionRejected { .. } | EventKind::Reopened { .. } => {
                restore_decided = false;
            }
            EventKind::BulkRestored { .. } => bulk_restored = true,
            EventKind::Restored { .. } => {
                prop_assert!(restore_decided, "restored without a restore decision");
            }
            _ => {}
        }
    }
    if appeal.state == AppealState::Restored {
        prop_assert!(restore_decided || bulk_restored);
    }
    Ok(())
}

type Step = ((u8, bool, i64), usize, i64);

fn steps_strategy() -> impl Strategy<Value = (bool, Vec<Step>)> {
    (
        any::<bool>(),
        proptest::collection::vec((command_strategy(), 0usize..11, 0i64..45), 1..80),
    )
}

/// Runs one random sequence, checking every invariant after every command. Returns the
/// states the appeal went through.
fn run_sequence(four_eyes: bool, steps: Vec<Step>) -> Result<Vec<AppealState>, TestCaseError> {
    let actors = cast();
    let mut now = t0();
    let filed = file(
        FileAppeal {
            channel: Channel::Email,
            account_id: Some("acct-1".into()),
            enforcement_id: None,
            identity_verified: true,
            four_eyes,
            priority: Priority::Normal,
            queue: "general".into(),
            language: None,
        },
        &actors[9],
        now,
    )
    .expect("an appellant may file");
    let mut appeal = Appeal::from_filed(&filed).expect("filed event");
    let mut history = vec![filed];
    let mut visited = vec![appeal.state];

    for ((choice, flag, minutes), who, advance) in steps {
        now += TimeDelta::minutes(advance);
        let command = build_command(choice, flag, minutes, now);
        let actor = &actors[who];
        let before = appeal.clone();
        match decide(&appeal, &command, actor, now) {
            Err(error) => {
                prop_assert_eq!(&appeal, &before, "a refused command changes nothing");
                prop_assert!(!error.to_string().is_empty());
                if let TransitionError::InvalidTransition {
                    state,
                    command: name,
                } = error
                {
                    prop_assert_eq!(state, before.state);
                    prop_assert_eq!(name, command.name());
                }
            }
            Ok(events) => {
                prop_assert!(!events.is_empty());
                for event in &events {
                    let version = appeal.version;
                    appeal.apply(event);
                    prop_assert_eq!(appeal.version, version + 1, "one version per event");
                    history.push(event.clone());
                    visited.push(appeal.state);
                }
                match before.state {
                    AppealState::Restored | AppealState::Withdrawn => {
                        prop_assert_eq!(appeal.state, before.state, "terminal stays terminal");
                    }
                    AppealState::Upheld if !matches!(command, Command::Reopen { .. }) => {
                        prop_assert_eq!(appeal.state, AppealState::Upheld);
                    }
                    AppealState::Upheld => prop_assert_eq!(appeal.state, AppealState::Triaged),
                    _ => {}
                }
            }
        }
        check_history(&history, &appeal)?;
    }
    Ok(visited)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_command_sequences_keep_the_invariants((four_eyes, steps) in steps_strategy()) {
        run_sequence(four_eyes, steps)?;
    }
}

/// The property above only means something if random sequences reach every state; this
/// checks they do, with a fixed seed so it is repeatable.
#[test]
fn random_sequences_reach_every_state() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = steps_strategy();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..2048 {
        let (four_eyes, steps) = strategy.new_tree(&mut runner).expect("value").current();
        seen.extend(run_sequence(four_eyes, steps).expect("invariants hold"));
    }
    let all: std::collections::BTreeSet<_> = AppealState::ALL.iter().copied().collect();
    assert_eq!(
        seen,
        all,
        "states never reached: {:?}",
        all.difference(&seen).collect::<Vec<_>>()
    );
}

fn filed_appeal(four_eyes: bool) -> (Appeal, Vec<Event>) {
    let filed = file(
        FileAppeal {
            channel: Channel::X,
            account_id: Some("acct-1".into()),
            enforcement_id: None,
            identity_verified: false,
            four_eyes,
            priority: Priority::Normal,
            queue: "general".into(),
            language: None,
        },
        &Actor::system("intake"),
        t0(),
    )
    .expect("system may file");
    (
        Appeal::from_filed(&filed).expect("filed event"),
        vec![filed],
    )
}

fn run(appeal: &mut Appeal, command: Command, actor: &Actor, now: DateTime<Utc>) -> Vec<Event> {
    let events = decide(appeal, &command, actor, now).expect("command accepted");
    for event in &events {
        appeal.apply(event);
    }
    events
}

#[test]
fn four_eyes_restore_needs_a_second_senior_then_confirmation() {
    let (mut appeal, _) = filed_appeal(true);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let dave = Actor::staff("dave", [Role::SeniorReviewer, Role::Reviewer]);
    let worker = Actor::system("restorer");
    let now = t0();
    run(
        &mut appeal,
        Command::Triage {
            priority: Priority::High,
            queue: "general".into(),
            tags: vec![],
            identity_verified: true,
            four_eyes: true,
            link: None,
        },
        &alice,
        now,
    );
    run(
        &mut appeal,
        Command::Claim {
            lease_until: now + TimeDelta::minutes(15),
        },
        &dave,
        now,
    );
    run(
        &mut appeal,
        Command::Decide {
            outcome: Outcome::Restore,
            reasons: String::new(),
            statement: None,
            manifestly_unfounded: false,
            template: None,
        },
        &dave,
        now,
    );
    assert_eq!(appeal.state, AppealState::Reviewed);
    let confirm = Command::RestorationConfirmed {
        restoration_id: Uuid::nil(),
    };
    assert!(
        decide(&appeal, &confirm, &worker, now).is_err(),
        "not approved yet"
    );
    assert_eq!(
        decide(&appeal, &Command::Approve { note: None }, &dave, now),
        Err(TransitionError::SameReviewer {
            actor: "dave".into()
        })
    );
    run(&mut appeal, Command::Approve { note: None }, &carol, now);
    assert_eq!(
        appeal.state,
        AppealState::Reviewed,
        "restoration not confirmed yet"
    );
    run(&mut appeal, confirm, &worker, now);
    assert_eq!(appeal.state, AppealState::Restored);
}

#[test]
fn an_illegal_command_names_the_state_and_the_command() {
    let (appeal, _) = filed_appeal(false);
    let error = decide(
        &appeal,
        &Command::Reopen { reason: "x".into() },
        &Actor::staff("carol", [Role::SeniorReviewer]),
        t0(),
    )
    .expect_err("filed appeals cannot be reopened");
    assert_eq!(error.to_string(), "cannot reopen an appeal that is filed");
}

#[test]
fn awaiting_the_user_pauses_the_sla_and_returns_to_the_previous_state() {
    let (mut appeal, _) = filed_appeal(false);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let policy = redress_core::SlaPolicy::default();
    let due_before = appeal
        .sla_schedule(&policy)
        .decision_due_at
        .expect("running");
    run(
        &mut appeal,
        Command::RequestInfo {
            message: "Send the pin link".into(),
        },
        &alice,
        t0() + TimeDelta::hours(1),
    );
    assert_eq!(appeal.sla_schedule(&policy).next_check_at, None);
    run(
        &mut appeal,
        Command::UserReplied,
        &Actor::system("intake"),
        t0() + TimeDelta::hours(7),
    );
    assert_eq!(appeal.state, AppealState::Filed);
    assert_eq!(
        appeal.sla_schedule(&policy).decision_due_at,
        Some(due_before + TimeDelta::hours(6))
    );
}

#[test]
fn a_claim_is_exclusive_until_it_expires() {
    let (mut appeal, _) = filed_appeal(false);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let bob = Actor::staff("bob", [Role::Reviewer]);
    let now = t0();
    run(
        &mut appeal,
        Command::Triage {
            priority: Priority::Normal,
            queue: "general".into(),
            tags: vec![],
            identity_verified: true,
            four_eyes: false,
            link: None,
        },
        &alice,
        now,
    );
    run(
        &mut appeal,
        Command::Claim {
            lease_until: now + TimeDelta::minutes(10),
        },
        &alice,
        now,
    );
    let claim = Command::Claim {
        lease_until: now + TimeDelta::minutes(30),
    };
    assert!(matches!(
        decide(&appeal, &claim, &bob, now + TimeDelta::minutes(5)),
        Err(TransitionError::ClaimedByOther { .. })
    ));
    let later = now + TimeDelta::minutes(11);
    run(
        &mut appeal,
        Command::ExpireLease,
        &Actor::system("sla"),
        later,
    );
    run(&mut appeal, claim, &bob, later);
    assert_eq!(appeal.assignee.as_deref(), Some("bob"));
}

/// A triaged appeal claimed by alice, ready for her decision.
fn claimed_by_alice() -> (Appeal, Actor) {
    let (mut appeal, _) = filed_appeal(false);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    run(
        &mut appeal,
        Command::Triage {
            priority: Priority::Normal,
            queue: "general".into(),
            tags: vec![],
            identity_verified: true,
            four_eyes: false,
            link: None,
        },
        &alice,
        t0(),
    );
    run(
        &mut appeal,
        Command::Claim {
            lease_until: t0() + TimeDelta::minutes(15),
        },
        &alice,
        t0(),
    );
    (appeal, alice)
}

fn uphold(statement: Option<StatementOfReasons>) -> Command {
    Command::Decide {
        outcome: Outcome::Uphold,
        reasons: "The account created the pin.".into(),
        statement,
        manifestly_unfounded: false,
        template: None,
    }
}

#[test]
fn upholding_records_the_statement_of_reasons() {
    let (mut appeal, alice) = claimed_by_alice();
    let statement = upheld_statement(Automation::Not);
    run(&mut appeal, uphold(Some(statement.clone())), &alice, t0());
    assert_eq!(appeal.state, AppealState::Upheld);
    let decision = appeal.decision.expect("decision");
    assert_eq!(decision.statement, Some(statement));
    assert_eq!(decision.decided_by, "alice");
}

#[test]
fn upholding_without_a_statement_is_refused() {
    let (appeal, alice) = claimed_by_alice();
    assert_eq!(
        decide(&appeal, &uphold(None), &alice, t0()),
        Err(TransitionError::InvalidInput {
            field: "statement",
            reason: "upholding needs a statement of reasons",
        })
    );
}

#[test]
fn an_incomplete_statement_is_refused_naming_the_field() {
    let (appeal, alice) = claimed_by_alice();
    let mut statement = upheld_statement(Automation::Partially);
    statement.redress.clear();
    let error =
        decide(&appeal, &uphold(Some(statement)), &alice, t0()).expect_err("incomplete statement");
    assert!(
        matches!(&error, TransitionError::InvalidStatement(e) if e.field == "redress"),
        "{error}"
    );
}

#[test]
fn a_fully_automated_decision_is_refused() {
    let (appeal, alice) = claimed_by_alice();
    let error = decide(
        &appeal,
        &uphold(Some(upheld_statement(Automation::Fully))),
        &alice,
        t0(),
    )
    .expect_err("solely automated");
    assert!(
        matches!(error, TransitionError::NoHumanReviewer { .. }),
        "{error}"
    );
}

#[test]
fn a_service_identity_cannot_decide_even_with_a_reviewer_role() {
    let (mut appeal, _) = claimed_by_alice();
    let bot = Actor::staff("triage-bot", [Role::Reviewer, Role::Integration]);
    run(
        &mut appeal,
        Command::Release,
        &Actor::staff("ada", [Role::Admin]),
        t0(),
    );
    run(
        &mut appeal,
        Command::Claim {
            lease_until: t0() + TimeDelta::minutes(15),
        },
        &bot,
        t0(),
    );
    let restore = Command::Decide {
        outcome: Outcome::Restore,
        reasons: "looks fine".into(),
        statement: None,
        manifestly_unfounded: false,
        template: None,
    };
    assert!(matches!(
        decide(&appeal, &restore, &bot, t0()),
        Err(TransitionError::NoHumanReviewer { .. })
    ));
}

#[test]
fn a_decision_stored_before_statements_existed_still_reads() {
    let stored = serde_json::json!({
        "kind": {
            "type": "decided",
            "outcome": "uphold",
            "reasons": "policy 3.1",
            "decided_by": "alice"
        },
        "actor": {"kind": "staff", "subject": "alice", "roles": ["reviewer"]},
        "at": "2026-03-02T08:00:00Z"
    });
    let event: Event = serde_json::from_value(stored).expect("old event reads");
    assert!(matches!(
        event.kind,
        EventKind::Decided {
            statement: None,
            ..
        }
    ));
}

#[test]
fn linking_an_identity_verifies_it_once_and_only_by_the_system() {
    let (mut appeal, _) = filed_appeal(false);
    appeal.identity_verified = false;
    appeal.account_id = None;
    let link = Command::LinkIdentity {
        account_id: "acct-7".into(),
        enforcement_id: Some(Uuid::nil()),
        four_eyes: true,
    };
    let reviewer = Actor::staff("alice", [Role::Reviewer]);
    assert!(decide(&appeal, &link, &reviewer, t0()).is_err());
    run(&mut appeal, link.clone(), &Actor::system("social"), t0());
    assert!(appeal.identity_verified);
    assert_eq!(appeal.account_id.as_deref(), Some("acct-7"));
    assert_eq!(appeal.enforcement_id, Some(Uuid::nil()));
    assert!(appeal.four_eyes);
    let again = decide(&appeal, &link, &Actor::system("social"), t0());
    assert!(matches!(again, Err(TransitionError::GuardFailed { .. })));
}

/// An email nobody vouched for: filed without an account, the one it claims known aside.
fn filed_unlinked() -> Appeal {
    let (mut appeal, _) = filed_appeal(false);
    appeal.channel = Channel::Email;
    appeal.account_id = None;
    appeal.identity_verified = false;
    appeal
}

fn triage_linking(identity_verified: bool) -> Command {
    Command::Triage {
        priority: Priority::Normal,
        queue: "general".into(),
        tags: vec![],
        identity_verified,
        four_eyes: true,
        link: Some(AccountLink {
            account_id: "acct-claimed".into(),
            enforcement_id: Some(Uuid::nil()),
        }),
    }
}

#[test]
fn triage_links_the_claimed_account_only_with_the_identity_verified() {
    let tom = Actor::staff("tom", [Role::Triager]);
    let appeal = filed_unlinked();
    assert!(matches!(
        decide(&appeal, &triage_linking(false), &tom, t0()),
        Err(TransitionError::InvalidInput {
            field: "identity_verified",
            ..
        })
    ));
    let mut linked = appeal.clone();
    let events = run(&mut linked, triage_linking(true), &tom, t0());
    assert!(matches!(
        &events[0].kind,
        EventKind::Triaged { linked: Some(link), .. } if link.account_id == "acct-claimed"
    ));
    assert_eq!(linked.account_id.as_deref(), Some("acct-claimed"));
    assert_eq!(linked.enforcement_id, Some(Uuid::nil()));
    assert!(linked.identity_verified && linked.four_eyes);
    assert_eq!(
        Appeal::replay(&[filed_event(&appeal), events[0].clone()]),
        Some(linked)
    );

    let (already_linked, _) = filed_appeal(false);
    assert!(matches!(
        decide(&already_linked, &triage_linking(true), &tom, t0()),
        Err(TransitionError::GuardFailed { .. })
    ));
}

fn filed_event(appeal: &Appeal) -> Event {
    file(
        FileAppeal {
            channel: appeal.channel,
            account_id: appeal.account_id.clone(),
            enforcement_id: appeal.enforcement_id,
            identity_verified: appeal.identity_verified,
            four_eyes: appeal.four_eyes,
            priority: appeal.priority,
            queue: appeal.queue.clone(),
            language: None,
        },
        &Actor::system("intake"),
        t0(),
    )
    .expect("system may file")
}

#[test]
fn a_restore_of_an_appeal_linked_to_no_account_is_refused_before_it_is_decided() {
    let mut appeal = filed_unlinked();
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let mut triage = triage_linking(true);
    if let Command::Triage {
        link, four_eyes, ..
    } = &mut triage
    {
        *link = None;
        *four_eyes = false;
    }
    run(&mut appeal, triage, &alice, t0());
    let lease_until = t0() + TimeDelta::minutes(15);
    run(&mut appeal, Command::Claim { lease_until }, &alice, t0());
    let restore = Command::Decide {
        outcome: Outcome::Restore,
        reasons: "Saved, not created.".into(),
        statement: None,
        manifestly_unfounded: false,
        template: None,
    };
    let refused = decide(&appeal, &restore, &alice, t0());
    assert_eq!(refused, Err(TransitionError::LinkedToNoAccount));
    assert!(refused
        .expect_err("refused")
        .to_string()
        .contains("verify the appellant's identity at triage"));
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let in_bulk = Command::DecideInBulk {
        job_id: Uuid::nil(),
        outcome: Outcome::Restore,
        reasons: "Saved, not created.".into(),
        statement: None,
        template: None,
    };
    let after_the_claim = lease_until + TimeDelta::minutes(1);
    assert_eq!(
        decide(&appeal, &in_bulk, &carol, after_the_claim),
        Err(TransitionError::LinkedToNoAccount)
    );
    run(
        &mut appeal,
        uphold(Some(upheld_statement(Automation::Not))),
        &alice,
        t0(),
    );
    assert_eq!(
        appeal.state,
        AppealState::Upheld,
        "deciding otherwise stays open"
    );
}

#[test]
fn an_unlinked_restore_awaiting_approval_is_not_approved() {
    let mut appeal = filed_unlinked();
    appeal.state = AppealState::Reviewed;
    appeal.four_eyes = true;
    appeal.decision = Some(redress_core::Decision {
        outcome: Outcome::Restore,
        reasons: "Saved, not created.".into(),
        decided_by: "alice".into(),
        approved_by: None,
        statement: None,
        manifestly_unfounded: false,
    });
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let approve = Command::Approve { note: None };
    assert_eq!(
        decide(&appeal, &approve, &carol, t0()),
        Err(TransitionError::LinkedToNoAccount)
    );
}

/// Histories stored before triage could link the claimed account have `triaged` events
/// without `linked`; they still read, as linking nothing.
#[test]
fn a_triaged_event_without_a_link_reads_as_linking_nothing() {
    let stored = serde_json::json!({
        "kind": {"type": "triaged", "priority": "normal", "queue": "general", "tags": ["mail"],
                 "identity_verified": true, "four_eyes": false,
                 "rule": {"id": "00000000-0000-0000-0000-000000000000", "version": 2}},
        "actor": {"kind": "system", "component": "routing"},
        "at": "2026-03-02T08:00:00Z"
    });
    let event: Event = serde_json::from_value(stored.clone()).expect("an old triaged event reads");
    assert!(matches!(
        event.kind,
        EventKind::Triaged { linked: None, .. }
    ));
    let mut appeal = filed_unlinked();
    appeal.apply(&event);
    assert_eq!(appeal.account_id, None);
    assert_eq!(serde_json::to_value(&event).expect("serialises"), stored);
}

/// Histories stored before routing rules existed have `triaged` events without a rule;
/// they still read, as triaged by a person.
#[test]
fn a_triaged_event_without_a_rule_reads_as_triaged_by_a_person() {
    let stored = serde_json::json!({
        "kind": {"type": "triaged", "priority": "high", "queue": "general", "tags": [],
                 "identity_verified": true, "four_eyes": false},
        "actor": {"kind": "staff", "subject": "tom", "roles": ["triager"]},
        "at": "2026-03-02T08:00:00Z"
    });
    let event: Event = serde_json::from_value(stored.clone()).expect("an old triaged event reads");
    assert!(matches!(event.kind, EventKind::Triaged { rule: None, .. }));
    assert_eq!(
        serde_json::to_value(&event).expect("serialises"),
        stored,
        "and writes back the same"
    );
}

#[test]
fn a_rule_routes_only_a_filed_case_and_only_as_the_system() {
    let (appeal, _) = filed_appeal(true);
    let route = Command::Route {
        rule: RuleRef {
            id: Uuid::nil(),
            version: 3,
        },
        priority: Priority::High,
        queue: "fast-lane".into(),
        tags: vec!["saved-only".into()],
        four_eyes: false,
    };
    let staff = Actor::staff("tom", [Role::Triager, Role::Admin]);
    assert!(matches!(
        decide(&appeal, &route, &staff, t0()),
        Err(TransitionError::NotPermitted { .. })
    ));
    let events = decide(&appeal, &route, &Actor::system("routing"), t0()).expect("routes");
    let mut routed = appeal.clone();
    routed.apply(&events[0]);
    assert_eq!(routed.state, AppealState::Triaged);
    assert_eq!(routed.queue, "fast-lane");
    assert!(routed.four_eyes, "the filed four-eyes review stays");
    assert_eq!(
        routed.triaged_by,
        Some(RuleRef {
            id: Uuid::nil(),
            version: 3
        })
    );
    assert!(matches!(
        decide(&routed, &route, &Actor::system("routing"), t0()),
        Err(TransitionError::InvalidTransition {
            state: AppealState::Triaged,
            ..
        })
    ));
}

fn triaged(four_eyes: bool) -> Appeal {
    let (mut appeal, _) = filed_appeal(four_eyes);
    run(
        &mut appeal,
        Command::Triage {
            priority: Priority::Normal,
            queue: "general".into(),
            tags: vec![],
            identity_verified: true,
            four_eyes,
            link: None,
        },
        &Actor::staff("tom", [Role::Triager]),
        t0(),
    );
    appeal
}

fn uphold_in_bulk() -> Command {
    Command::DecideInBulk {
        job_id: Uuid::nil(),
        outcome: Outcome::Uphold,
        reasons: "The account created the pin.".into(),
        statement: Some(upheld_statement(Automation::Not)),
        template: None,
    }
}

#[test]
fn a_bulk_decision_needs_a_senior_reviewer_but_no_claim_of_their_own() {
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let mut appeal = triaged(false);
    assert!(matches!(
        decide(&appeal, &uphold_in_bulk(), &alice, t0()),
        Err(TransitionError::NotPermitted { .. })
    ));
    let events = run(&mut appeal, uphold_in_bulk(), &carol, t0());
    assert!(matches!(
        &events[0].kind,
        EventKind::Decided { decided_by, bulk_job: Some(job), .. } if decided_by == "carol" && job.is_nil()
    ));
    assert_eq!(appeal.state, AppealState::Upheld);
    assert_eq!(
        decide(&appeal, &uphold_in_bulk(), &carol, t0()),
        Err(TransitionError::InvalidTransition {
            state: AppealState::Upheld,
            command: "decide_in_bulk"
        }),
        "an appeal is decided once"
    );
}

#[test]
fn a_bulk_decision_skips_an_appeal_someone_else_holds_until_the_claim_lapses() {
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let alice = Actor::staff("alice", [Role::Reviewer]);
    let mut appeal = triaged(false);
    let lease_until = t0() + TimeDelta::minutes(15);
    run(&mut appeal, Command::Claim { lease_until }, &alice, t0());
    assert_eq!(
        decide(&appeal, &uphold_in_bulk(), &carol, t0()),
        Err(TransitionError::ClaimedByOther {
            command: "decide_in_bulk",
            holder: "alice".into(),
            until: lease_until,
        })
    );
    let later = lease_until + TimeDelta::seconds(1);
    run(&mut appeal, uphold_in_bulk(), &carol, later);
    assert_eq!(appeal.assignee, None);
    assert_eq!(appeal.state, AppealState::Upheld);
}

#[test]
fn a_bulk_decision_under_four_eyes_is_a_proposal_another_senior_approves() {
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let dave = Actor::staff("dave", [Role::SeniorReviewer]);
    let mut appeal = triaged(true);
    run(&mut appeal, uphold_in_bulk(), &carol, t0());
    assert_eq!(appeal.state, AppealState::Reviewed, "waits for approval");
    assert_eq!(
        decide(&appeal, &Command::Approve { note: None }, &carol, t0()),
        Err(TransitionError::SameReviewer {
            actor: "carol".into()
        })
    );
    run(&mut appeal, Command::Approve { note: None }, &dave, t0());
    assert_eq!(appeal.state, AppealState::Upheld);
}

#[test]
fn a_bulk_decision_passes_the_same_checks_as_any_decision() {
    let carol = Actor::staff("carol", [Role::SeniorReviewer]);
    let appeal = triaged(false);
    let unfilled = Command::DecideInBulk {
        job_id: Uuid::nil(),
        outcome: Outcome::Uphold,
        reasons: "About {reference}".into(),
        statement: Some(upheld_statement(Automation::Not)),
        template: None,
    };
    assert!(matches!(
        decide(&appeal, &unfilled, &carol, t0()),
        Err(TransitionError::UnfilledPlaceholder {
            field: "reasons",
            ..
        })
    ));
    let automated = Command::DecideInBulk {
        job_id: Uuid::nil(),
        outcome: Outcome::Uphold,
        reasons: "Checked.".into(),
        statement: Some(upheld_statement(Automation::Fully)),
        template: None,
    };
    assert!(matches!(
        decide(&appeal, &automated, &carol, t0()),
        Err(TransitionError::NoHumanReviewer { .. })
    ));
}
