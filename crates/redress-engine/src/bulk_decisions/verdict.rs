//! What a bulk decision does to one appeal: decide it with the template filled for it, or
//! skip it and say why. The dry run and the job's chunks ask the same question.

use std::fmt;

use chrono::{DateTime, Utc};
use redress_core::{
    transition, Actor, AppealState, Command, DecisionTemplate, Event, Outcome, TransitionError,
};
use serde::Serialize;
use uuid::Uuid;

use crate::policies::{fill_template, PolicyCatalog};
use crate::registry::Enforcement;
use crate::repo::appeals::StoredAppeal;

/// Why a bulk decision left an appeal as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// Someone else holds a live claim: their work is not taken from them.
    Claimed {
        holder: String,
        until: DateTime<Utc>,
    },
    /// Not triaged any more (decided, waiting for the appellant, withdrawn...).
    NotAwaitingDecision { state: AppealState },
    /// The template needs something this case does not have (a content id, say).
    TemplateUnfillable { message: String },
    /// A restore of an appeal linked to no account: nothing could carry it out until a
    /// triager links the account its appellant claims.
    LinkedToNoAccount,
    /// Any other refusal of the core's checks.
    Refused { message: String },
}

impl SkipReason {
    /// A stable name of the reason, for counts.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::Claimed { .. } => "claimed",
            SkipReason::NotAwaitingDecision { .. } => "not_awaiting_decision",
            SkipReason::TemplateUnfillable { .. } => "template_unfillable",
            SkipReason::LinkedToNoAccount => "linked_to_no_account",
            SkipReason::Refused { .. } => "refused",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Claimed { holder, until } => write!(
                f,
                "claimed by {holder} until {}",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
            SkipReason::NotAwaitingDecision { state } => {
                write!(f, "not awaiting a decision: it is {state}")
            }
            SkipReason::TemplateUnfillable { message } => {
                write!(f, "the template cannot be filled for it: {message}")
            }
            SkipReason::LinkedToNoAccount => {
                write!(f, "{}", TransitionError::LinkedToNoAccount)
            }
            SkipReason::Refused { message } => f.write_str(message),
        }
    }
}

/// What the job does to one appeal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// The command (boxed: a statement of reasons is large beside a skip) and the events
    /// the core decided for it.
    Decide {
        command: Box<Command>,
        events: Vec<Event>,
    },
    Skip(SkipReason),
}

/// The job's template, who decides, and when.
pub(crate) struct Decider<'a> {
    pub job_id: Uuid,
    pub catalog: &'a PolicyCatalog,
    pub template: &'a DecisionTemplate,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
}

impl Decider<'_> {
    pub(crate) fn verdict(
        &self,
        stored: &StoredAppeal,
        enforcement: Option<&Enforcement>,
    ) -> Verdict {
        let appeal = &stored.appeal;
        if appeal.state != AppealState::Triaged {
            return Verdict::Skip(SkipReason::NotAwaitingDecision {
                state: appeal.state,
            });
        }
        if let Some((holder, until)) = appeal.live_claim(self.now) {
            if Some(holder) != self.actor.subject() {
                return Verdict::Skip(SkipReason::Claimed {
                    holder: holder.to_owned(),
                    until,
                });
            }
        }
        let filled = match fill_template(self.catalog, self.template, stored, enforcement, self.now)
        {
            Ok(filled) => filled,
            Err(err) => {
                return Verdict::Skip(SkipReason::TemplateUnfillable {
                    message: err.to_string(),
                })
            }
        };
        // A restore lifts the restrictions: its statement is sent only where the template
        // names restrictions that stay in place.
        let keeps_restrictions = self
            .template
            .statement
            .restrictions
            .as_ref()
            .is_some_and(|kinds| !kinds.is_empty());
        let statement = (self.template.outcome == Outcome::Uphold || keeps_restrictions)
            .then_some(filled.statement);
        let command = Command::DecideInBulk {
            job_id: self.job_id,
            outcome: self.template.outcome,
            reasons: filled.reasons,
            statement,
            template: Some(self.template.id.clone()),
        };
        match transition::decide(appeal, &command, self.actor, self.now) {
            Ok(events) => Verdict::Decide {
                command: Box::new(command),
                events,
            },
            Err(TransitionError::ClaimedByOther { holder, until, .. }) => {
                Verdict::Skip(SkipReason::Claimed { holder, until })
            }
            Err(TransitionError::InvalidTransition { state, .. }) => {
                Verdict::Skip(SkipReason::NotAwaitingDecision { state })
            }
            Err(TransitionError::LinkedToNoAccount) => Verdict::Skip(SkipReason::LinkedToNoAccount),
            Err(err) => Verdict::Skip(SkipReason::Refused {
                message: err.to_string(),
            }),
        }
    }
}
