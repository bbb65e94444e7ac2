//! Events: the append-only history of an appeal. The appeal row is their fold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::command::FileAppeal;
use crate::role::Actor;
use crate::state::{Deadline, Outcome, Priority};
use crate::statement::StatementOfReasons;

/// A routing rule as it stood when it decided something: its id and the version of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: Uuid,
    pub version: i64,
}

/// The account (and the enforcement against it) a person linked an unlinked appeal to at
/// triage: the one the appellant claims, once the triager verified their identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountLink {
    pub account_id: String,
    /// The enforcement filing would have chosen for the account; none when the account has
    /// none, or another open appeal is already about it.
    pub enforcement_id: Option<Uuid>,
}

/// One thing that happened to an appeal, who did it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Filed(FileAppeal),
    Triaged {
        priority: Priority,
        queue: String,
        tags: Vec<String>,
        identity_verified: bool,
        four_eyes: bool,
        /// The routing rule that triaged the case; absent when a person did (and in
        /// histories written before routing rules existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<RuleRef>,
        /// The claimed account the triager linked the case to; absent when the case was
        /// linked already, nobody linked it (and in histories written before triage could).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        linked: Option<AccountLink>,
    },
    InfoRequested {
        message: String,
    },
    UserReplied,
    Claimed {
        assignee: String,
        lease_until: DateTime<Utc>,
    },
    ClaimRenewed {
        lease_until: DateTime<Utc>,
    },
    Released,
    LeaseExpired,
    Decided {
        outcome: Outcome,
        reasons: String,
        decided_by: String,
        /// Absent in histories written before statements of reasons were recorded.
        #[serde(default)]
        statement: Option<StatementOfReasons>,
        /// Absent (false) in histories written before the flag existed.
        #[serde(default)]
        manifestly_unfounded: bool,
        /// The bulk decision job that decided this appeal among others; absent when a
        /// reviewer decided it alone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bulk_job: Option<Uuid>,
        /// The decision template the reasons were written from; absent when none was used
        /// (and in histories written before templates were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
    DecisionApproved {
        approved_by: String,
        note: Option<String>,
    },
    DecisionRejected {
        rejected_by: String,
        note: String,
    },
    Upheld,
    Restored {
        restoration_id: Uuid,
    },
    BulkRestored {
        job_id: Uuid,
        reason: String,
        /// The claimed account the job linked the case to as it closed it; absent when the
        /// case was linked already (and in histories written before jobs could link).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        linked: Option<AccountLink>,
    },
    Reopened {
        reason: String,
    },
    Withdrawn {
        reason: String,
    },
    SlaWarned {
        deadline: Deadline,
    },
    Escalated {
        level: u32,
        queue: String,
        reason: String,
        breached: Option<Deadline>,
    },
    NoteAdded {
        text: String,
    },
    MessageReceived {
        message_id: Uuid,
    },
    IdentityLinked {
        account_id: String,
        enforcement_id: Option<Uuid>,
        four_eyes: bool,
    },
}

impl EventKind {
    /// Stable name stored in the `kind` column of `appeal_events`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Filed(_) => "filed",
            EventKind::Triaged { .. } => "triaged",
            EventKind::InfoRequested { .. } => "info_requested",
            EventKind::UserReplied => "user_replied",
            EventKind::Claimed { .. } => "claimed",
            EventKind::ClaimRenewed { .. } => "claim_renewed",
            EventKind::Released => "released",
            EventKind::LeaseExpired => "lease_expired",
            EventKind::Decided { .. } => "decided",
            EventKind::DecisionApproved { .. } => "decision_approved",
            EventKind::DecisionRejected { .. } => "decision_rejected",
            EventKind::Upheld => "upheld",
            EventKind::Restored { .. } => "restored",
            EventKind::BulkRestored { .. } => "bulk_restored",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Withdrawn { .. } => "withdrawn",
            EventKind::SlaWarned { .. } => "sla_warned",
            EventKind::Escalated { .. } => "escalated",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::MessageReceived { .. } => "message_received",
            EventKind::IdentityLinked { .. } => "identity_linked",
        }
    }
}
