//! The transition function: appeal + command + actor + now -> events, or a refusal.
//!
//! This is the whole lifecycle table of the design in one place. It only reads the snapshot;
//! the caller applies the returned events with [`Appeal::apply`] and stores them together.

use chrono::{DateTime, Utc};

use crate::appeal::Appeal;
use crate::command::{Command, FileAppeal};
use crate::error::TransitionError;
use crate::event::{Event, EventKind};
use crate::policy::unfilled_placeholder;
use crate::role::{
    Actor, Role, BULK_DECIDERS, BULK_RESTORERS, ESCALATORS, FILERS, NOTE_TAKERS, REVIEWERS,
    SENIORS, TRIAGERS, WITHDRAWERS,
};
use crate::state::{AppealState, Outcome};
use crate::statement::{Automation, Ground, StatementOfReasons};

use AppealState as S;

/// Opens a case. Appellants (through a channel), Redress itself, and platform integrations
/// may file.
pub fn file(
    command: FileAppeal,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Event, TransitionError> {
    if !(actor.is_appellant() || actor.is_system() || actor.has_any_role(FILERS)) {
        return Err(not_permitted(actor, "file", FILERS));
    }
    non_empty("queue", &command.queue)?;
    Ok(Event {
        kind: EventKind::Filed(command),
        actor: actor.clone(),
        at: now,
    })
}

/// Decides what a command does to an appeal. Never changes the appeal: on success the caller
/// folds the events in; on refusal nothing happened.
pub fn decide(
    appeal: &Appeal,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, TransitionError> {
    let name = command.name();
    let state = appeal.state;
    let event = |kind: EventKind| Event {
        kind,
        actor: actor.clone(),
        at: now,
    };
    let kinds: Vec<EventKind> = match command {
        Command::Triage {
            priority,
            queue,
            tags,
            identity_verified,
            four_eyes,
            link,
        } => {
            require_state(state, name, &[S::Filed])?;
            require_role(actor, name, TRIAGERS)?;
            non_empty("queue", queue)?;
            if let Some(link) = link {
                linkable(appeal, link, *identity_verified, name)?;
            }
            vec![EventKind::Triaged {
                priority: *priority,
                queue: queue.clone(),
                // The language decided at filing stays unless the triager names another.
                tags: crate::language::keep_language(tags, &appeal.tags),
                identity_verified: *identity_verified,
                four_eyes: *four_eyes,
                rule: None,
                linked: link.clone(),
            }]
        }
        Command::Route {
            rule,
            priority,
            queue,
            tags,
            four_eyes,
        } => {
            require_state(state, name, &[S::Filed])?;
            require_system(actor, name)?;
            non_empty("queue", queue)?;
            vec![EventKind::Triaged {
                priority: *priority,
                queue: queue.clone(),
                tags: crate::language::keep_language(tags, &appeal.tags),
                identity_verified: appeal.identity_verified,
                four_eyes: appeal.four_eyes || *four_eyes,
                rule: Some(*rule),
                linked: None,
            }]
        }
        Command::RequestInfo { message } => {
            require_state(state, name, &[S::Filed, S::Triaged])?;
            require_role(actor, name, REVIEWERS)?;
            not_claimed_by_other(appeal, actor, name, now)?;
            non_empty("message", message)?;
            vec![EventKind::InfoRequested {
                message: message.clone(),
            }]
        }
        Command::UserReplied => {
            require_state(state, name, &[S::AwaitingUser])?;
            require_system(actor, name)?;
            vec![EventKind::UserReplied]
        }
        Command::NoReplyTimeout => {
            require_state(state, name, &[S::AwaitingUser])?;
            require_system(actor, name)?;
            vec![EventKind::Withdrawn {
                reason: "no_response".to_owned(),
            }]
        }
        Command::Claim { lease_until } => {
            require_state(state, name, &[S::Triaged])?;
            require_role(actor, name, REVIEWERS)?;
            not_claimed_by_other(appeal, actor, name, now)?;
            future_lease(*lease_until, now)?;
            vec![EventKind::Claimed {
                assignee: staff_subject(actor),
                lease_until: *lease_until,
            }]
        }
        Command::RenewClaim { lease_until } => {
            require_state(state, name, &[S::Triaged])?;
            require_role(actor, name, REVIEWERS)?;
            holds_live_claim(appeal, actor, name, now)?;
            future_lease(*lease_until, now)?;
            vec![EventKind::ClaimRenewed {
                lease_until: *lease_until,
            }]
        }
        Command::Release => {
            require_state(state, name, &[S::Triaged])?;
            if appeal.assignee.is_none() {
                return Err(guard(state, name, "nobody holds a claim"));
            }
            if appeal.assignee.as_deref() != actor.subject() {
                require_role(actor, name, &[Role::SeniorReviewer, Role::Admin])?;
            }
            vec![EventKind::Released]
        }
        Command::ExpireLease => {
            require_state(state, name, &[S::Triaged])?;
            require_system(actor, name)?;
            if appeal.assignee.is_none() || appeal.live_claim(now).is_some() {
                return Err(guard(state, name, "there is no expired claim"));
            }
            vec![EventKind::LeaseExpired]
        }
        Command::Decide {
            outcome,
            reasons,
            statement,
            manifestly_unfounded,
            template,
        } => {
            require_state(state, name, &[S::Triaged])?;
            if *manifestly_unfounded && *outcome != Outcome::Uphold {
                return Err(TransitionError::InvalidInput {
                    field: "manifestly_unfounded",
                    reason: "only an upheld appeal can be manifestly unfounded",
                });
            }
            require_role(actor, name, REVIEWERS)?;
            holds_live_claim(appeal, actor, name, now)?;
            restorable(appeal, *outcome)?;
            decision_statement(*outcome, reasons, statement.as_ref(), actor)?;
            decision(
                appeal,
                EventKind::Decided {
                    outcome: *outcome,
                    reasons: reasons.clone(),
                    decided_by: staff_subject(actor),
                    statement: statement.clone(),
                    manifestly_unfounded: *manifestly_unfounded,
                    bulk_job: None,
                    template: template.clone(),
                },
            )
        }
        Command::DecideInBulk {
            job_id,
            outcome,
            reasons,
            statement,
            template,
        } => {
            require_state(state, name, &[S::Triaged])?;
            require_role(actor, name, BULK_DECIDERS)?;
            not_claimed_by_other(appeal, actor, name, now)?;
            restorable(appeal, *outcome)?;
            decision_statement(*outcome, reasons, statement.as_ref(), actor)?;
            decision(
                appeal,
                EventKind::Decided {
                    outcome: *outcome,
                    reasons: reasons.clone(),
                    decided_by: staff_subject(actor),
                    statement: statement.clone(),
                    manifestly_unfounded: false,
                    bulk_job: Some(*job_id),
                    template: template.clone(),
                },
            )
        }
        Command::Approve { note } => {
            require_state(state, name, &[S::Reviewed])?;
            require_role(actor, name, SENIORS)?;
            let decision = awaiting_approval(appeal, name)?;
            if actor.subject() == Some(decision.decided_by.as_str()) {
                return Err(TransitionError::SameReviewer {
                    actor: decision.decided_by.clone(),
                });
            }
            // A restore decided before such decisions were refused still waits here.
            restorable(appeal, decision.outcome)?;
            let mut kinds = vec![EventKind::DecisionApproved {
                approved_by: staff_subject(actor),
                note: note.clone(),
            }];
            if decision.outcome == Outcome::Uphold {
                kinds.push(EventKind::Upheld);
            }
            kinds
        }
        Command::Reject { note } => {
            require_state(state, name, &[S::Reviewed])?;
            require_role(actor, name, SENIORS)?;
            let decision = awaiting_approval(appeal, name)?;
            if actor.subject() == Some(decision.decided_by.as_str()) {
                return Err(TransitionError::SameReviewer {
                    actor: decision.decided_by.clone(),
                });
            }
            non_empty("note", note)?;
            vec![EventKind::DecisionRejected {
                rejected_by: staff_subject(actor),
                note: note.clone(),
            }]
        }
        Command::RestorationConfirmed { restoration_id } => {
            require_state(state, name, &[S::Reviewed])?;
            require_system(actor, name)?;
            let ready = appeal.decision.as_ref().is_some_and(|d| {
                d.outcome == Outcome::Restore && (!appeal.four_eyes || d.approved_by.is_some())
            });
            if !ready {
                return Err(guard(state, name, "no approved restore decision"));
            }
            vec![EventKind::Restored {
                restoration_id: *restoration_id,
            }]
        }
        Command::Reopen { reason } => {
            require_state(state, name, &[S::Upheld])?;
            require_role(actor, name, SENIORS)?;
            non_empty("reason", reason)?;
            vec![EventKind::Reopened {
                reason: reason.clone(),
            }]
        }
        Command::Withdraw { reason } => {
            require_state(state, name, &[S::Filed, S::Triaged, S::AwaitingUser])?;
            if !actor.is_appellant() {
                require_role(actor, name, WITHDRAWERS)?;
            }
            vec![EventKind::Withdrawn {
                reason: reason.clone(),
            }]
        }
        Command::SlaWarn { deadline } => {
            require_state(state, name, AppealState::OPEN)?;
            require_system(actor, name)?;
            if appeal.sla_marks.warned(*deadline) {
                return Err(guard(state, name, "this deadline was already warned"));
            }
            vec![EventKind::SlaWarned {
                deadline: *deadline,
            }]
        }
        Command::Escalate {
            reason,
            to_queue,
            breached,
        } => {
            require_state(state, name, AppealState::OPEN)?;
            if !actor.is_system() {
                require_role(actor, name, ESCALATORS)?;
            }
            if let Some(deadline) = breached {
                require_system(actor, name)?;
                if appeal.sla_marks.breached(*deadline) {
                    return Err(guard(state, name, "this deadline already escalated"));
                }
            }
            non_empty("reason", reason)?;
            non_empty("queue", to_queue)?;
            vec![EventKind::Escalated {
                level: appeal.escalation_level + 1,
                queue: to_queue.clone(),
                reason: reason.clone(),
                breached: *breached,
            }]
        }
        Command::BulkRestore {
            job_id,
            reason,
            link,
        } => {
            require_state(state, name, AppealState::OPEN)?;
            require_role(actor, name, BULK_RESTORERS)?;
            non_empty("reason", reason)?;
            if let Some(link) = link {
                if appeal.account_id.is_some() {
                    return Err(guard(
                        state,
                        name,
                        "the appeal is already linked to an account",
                    ));
                }
                non_empty("account_id", &link.account_id)?;
            }
            vec![EventKind::BulkRestored {
                job_id: *job_id,
                reason: reason.clone(),
                linked: link.clone(),
            }]
        }
        Command::Note { text } => {
            if !actor.is_system() {
                require_role(actor, name, NOTE_TAKERS)?;
            }
            non_empty("text", text)?;
            vec![EventKind::NoteAdded { text: text.clone() }]
        }
        Command::MessageReceived { message_id } => {
            if !(actor.is_system() || actor.is_appellant() || actor.has_any_role(FILERS)) {
                return Err(not_permitted(actor, name, FILERS));
            }
            vec![EventKind::MessageReceived {
                message_id: *message_id,
            }]
        }
        Command::LinkIdentity {
            account_id,
            enforcement_id,
            four_eyes,
        } => {
            require_state(state, name, AppealState::OPEN)?;
            require_system(actor, name)?;
            non_empty("account_id", account_id)?;
            if appeal.identity_verified {
                return Err(guard(state, name, "the identity is already verified"));
            }
            vec![EventKind::IdentityLinked {
                account_id: account_id.clone(),
                enforcement_id: *enforcement_id,
                four_eyes: *four_eyes,
            }]
        }
    };
    Ok(kinds.into_iter().map(event).collect())
}

/// Refuses a restoration nobody could carry out: the account service restores an account,
/// so a case linked to none would be decided, promised to the appellant and never done.
/// The notice preview asks the same before it shows a restoration.
pub fn restorable(appeal: &Appeal, outcome: Outcome) -> Result<(), TransitionError> {
    if outcome == Outcome::Restore && appeal.account_id.is_none() {
        return Err(TransitionError::LinkedToNoAccount);
    }
    Ok(())
}

/// Only a case filed without an account is linked, to a named account, and only by a
/// triager who verified the appellant's identity.
fn linkable(
    appeal: &Appeal,
    link: &crate::event::AccountLink,
    identity_verified: bool,
    command: &'static str,
) -> Result<(), TransitionError> {
    if appeal.account_id.is_some() {
        return Err(guard(
            appeal.state,
            command,
            "the appeal is already linked to an account",
        ));
    }
    if !identity_verified {
        return Err(TransitionError::InvalidInput {
            field: "identity_verified",
            reason: "linking the claimed account needs the identity verified",
        });
    }
    non_empty("account_id", &link.account_id)
}

/// A decision's events: with four-eyes it waits for a second senior reviewer (a restore is
/// requested and an uphold is final only on approval); without, an uphold is final at once.
fn decision(appeal: &Appeal, decided: EventKind) -> Vec<EventKind> {
    let upheld = matches!(
        decided,
        EventKind::Decided {
            outcome: Outcome::Uphold,
            ..
        }
    );
    let mut kinds = vec![decided];
    if !appeal.four_eyes && upheld {
        kinds.push(EventKind::Upheld);
    }
    kinds
}

/// An appeal decision is a person's: never a service identity's.
fn decision_statement(
    outcome: Outcome,
    reasons: &str,
    statement: Option<&StatementOfReasons>,
    actor: &Actor,
) -> Result<(), TransitionError> {
    if actor.has_any_role(&[Role::Integration]) {
        return Err(TransitionError::NoHumanReviewer {
            reason: "a service identity may not decide",
        });
    }
    check_decision(outcome, reasons, statement)
}

/// What a decision must say, whoever decides: upholding keeps a restriction in place, so it
/// needs reasons and a complete statement; no statement says the decision was fully
/// automated; and no text still holds a template's placeholder. The console runs this
/// same check as the reviewer types.
pub fn check_decision(
    outcome: Outcome,
    reasons: &str,
    statement: Option<&StatementOfReasons>,
) -> Result<(), TransitionError> {
    if outcome == Outcome::Uphold {
        if reasons.trim().is_empty() {
            return Err(TransitionError::InvalidInput {
                field: "reasons",
                reason: "upholding needs a statement of reasons",
            });
        }
        if statement.is_none() {
            return Err(TransitionError::InvalidInput {
                field: "statement",
                reason: "upholding needs a statement of reasons",
            });
        }
    }
    if let Some(name) = unfilled_placeholder(reasons) {
        return Err(TransitionError::UnfilledPlaceholder {
            field: "reasons",
            name,
        });
    }
    if let Some(statement) = statement {
        if statement.automated_decision == Automation::Fully {
            return Err(TransitionError::NoHumanReviewer {
                reason: "the statement says the decision was fully automated",
            });
        }
        statement.validate()?;
        let explanation = match &statement.ground {
            Ground::IllegalContent { explanation, .. }
            | Ground::IncompatibleWithTerms { explanation, .. } => explanation,
        };
        for (field, text) in [
            ("statement.facts", statement.facts.as_str()),
            ("statement.ground.explanation", explanation.as_str()),
        ] {
            if let Some(name) = unfilled_placeholder(text) {
                return Err(TransitionError::UnfilledPlaceholder { field, name });
            }
        }
    }
    Ok(())
}

fn require_state(
    state: AppealState,
    command: &'static str,
    allowed: &[AppealState],
) -> Result<(), TransitionError> {
    if allowed.contains(&state) {
        Ok(())
    } else {
        Err(TransitionError::InvalidTransition { state, command })
    }
}

fn require_role(
    actor: &Actor,
    command: &'static str,
    needed: &'static [Role],
) -> Result<(), TransitionError> {
    if actor.has_any_role(needed) {
        Ok(())
    } else {
        Err(not_permitted(actor, command, needed))
    }
}

fn require_system(actor: &Actor, command: &'static str) -> Result<(), TransitionError> {
    if actor.is_system() {
        Ok(())
    } else {
        Err(not_permitted(actor, command, &[]))
    }
}

fn not_permitted(actor: &Actor, command: &'static str, needed: &'static [Role]) -> TransitionError {
    TransitionError::NotPermitted {
        actor: actor.to_string(),
        command,
        needed,
    }
}

fn guard(state: AppealState, command: &'static str, reason: &'static str) -> TransitionError {
    TransitionError::GuardFailed {
        state,
        command,
        reason,
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<(), TransitionError> {
    if value.trim().is_empty() {
        Err(TransitionError::InvalidInput {
            field,
            reason: "must not be empty",
        })
    } else {
        Ok(())
    }
}

fn future_lease(lease_until: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), TransitionError> {
    if lease_until > now {
        Ok(())
    } else {
        Err(TransitionError::InvalidInput {
            field: "lease_until",
            reason: "a lease must end in the future",
        })
    }
}

fn staff_subject(actor: &Actor) -> String {
    actor
        .subject()
        .map_or_else(|| actor.to_string(), str::to_owned)
}

fn not_claimed_by_other(
    appeal: &Appeal,
    actor: &Actor,
    command: &'static str,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    match appeal.live_claim(now) {
        Some((holder, until)) if Some(holder) != actor.subject() => {
            Err(TransitionError::ClaimedByOther {
                command,
                holder: holder.to_owned(),
                until,
            })
        }
        _ => Ok(()),
    }
}

fn holds_live_claim(
    appeal: &Appeal,
    actor: &Actor,
    command: &'static str,
    now: DateTime<Utc>,
) -> Result<(), TransitionError> {
    match appeal.live_claim(now) {
        Some((holder, _)) if Some(holder) == actor.subject() => Ok(()),
        Some((holder, until)) => Err(TransitionError::ClaimedByOther {
            command,
            holder: holder.to_owned(),
            until,
        }),
        None => Err(TransitionError::NoLiveClaim {
            command,
            actor: actor.to_string(),
        }),
    }
}

fn awaiting_approval<'a>(
    appeal: &'a Appeal,
    command: &'static str,
) -> Result<&'a crate::appeal::Decision, TransitionError> {
    if !appeal.four_eyes {
        return Err(guard(
            appeal.state,
            command,
            "this appeal needs no second approval",
        ));
    }
    match &appeal.decision {
        Some(decision) if decision.approved_by.is_none() => Ok(decision),
        Some(_) => Err(guard(
            appeal.state,
            command,
            "the decision is already approved",
        )),
        None => Err(guard(
            appeal.state,
            command,
            "there is no decision to review",
        )),
    }
}
