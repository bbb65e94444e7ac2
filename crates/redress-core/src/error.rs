//! Errors of the domain. Every rejected command names the state and the command, so a
//! reviewer (or a log line) can tell exactly why nothing happened.

use crate::role::Role;
use crate::state::AppealState;
use crate::statement::StatementError;

/// A string that is not one of the known wire names of a domain enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind}: {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// Why a command was refused. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    #[error("cannot {command} an appeal that is {state}")]
    InvalidTransition {
        state: AppealState,
        command: &'static str,
    },
    #[error("{actor} may not {command} (needs one of: {})", needed.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
    NotPermitted {
        actor: String,
        command: &'static str,
        needed: &'static [Role],
    },
    #[error("cannot {command}: the appeal is claimed by {holder} until {until}")]
    ClaimedByOther {
        command: &'static str,
        holder: String,
        until: chrono::DateTime<chrono::Utc>,
    },
    #[error("cannot {command}: {actor} does not hold a live claim on this appeal")]
    NoLiveClaim {
        command: &'static str,
        actor: String,
    },
    #[error(
        "cannot approve: {actor} made the decision and four-eyes review needs a second person"
    )]
    SameReviewer { actor: String },
    #[error("cannot {command} in state {state}: {reason}")]
    GuardFailed {
        state: AppealState,
        command: &'static str,
        reason: &'static str,
    },
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        field: &'static str,
        reason: &'static str,
    },
    #[error("cannot decide: {0}")]
    InvalidStatement(#[from] StatementError),
    /// A decision's text still holds a template's placeholder.
    #[error("cannot decide: {field} still holds the placeholder {{{name}}}; fill it in")]
    UnfilledPlaceholder {
        field: &'static str,
        name: &'static str,
    },
    #[error("cannot decide: appeal decisions are never solely automated ({reason})")]
    NoHumanReviewer { reason: &'static str },
    /// A restoration names the account it restores: a case filed without one (an email
    /// nobody vouched for) cannot be restored until triage links the account it claims.
    #[error("this appeal is linked to no account: verify the appellant's identity at triage to link the account they claim, or decide otherwise")]
    LinkedToNoAccount,
}
