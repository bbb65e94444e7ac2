//! Commands: what someone asks to happen to an appeal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{AccountLink, RuleRef};
use crate::state::{Channel, Deadline, Outcome, Priority};
use crate::statement::StatementOfReasons;

/// Everything needed to open a case. The engine resolves the account, the enforcement and
/// whether four-eyes review applies before it builds this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAppeal {
    pub channel: Channel,
    pub account_id: Option<String>,
    pub enforcement_id: Option<Uuid>,
    pub identity_verified: bool,
    pub four_eyes: bool,
    pub priority: Priority,
    pub queue: String,
    /// The appellant's language as filing decided it (`crate::language`); the case starts
    /// with its `language:xx` tag. Events filed before it was recorded have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// A command on an existing appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Triage {
        priority: Priority,
        queue: String,
        tags: Vec<String>,
        identity_verified: bool,
        four_eyes: bool,
        /// Links a case filed without an account to the account its appellant claims; only
        /// with the identity verified. The engine resolves it, never the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<AccountLink>,
    },
    /// Triage by a routing rule at filing: the queue, priority and tags the rule names.
    /// The rule's four-eyes only adds review; the appellant's verification stays as filed.
    Route {
        rule: RuleRef,
        priority: Priority,
        queue: String,
        tags: Vec<String>,
        four_eyes: bool,
    },
    RequestInfo {
        message: String,
    },
    UserReplied,
    NoReplyTimeout,
    Claim {
        lease_until: DateTime<Utc>,
    },
    RenewClaim {
        lease_until: DateTime<Utc>,
    },
    Release,
    ExpireLease,
    Decide {
        outcome: Outcome,
        reasons: String,
        /// Required to uphold; on a restore, only where some restriction stays in place.
        #[serde(default)]
        statement: Option<StatementOfReasons>,
        /// The appeal was upheld as manifestly unfounded (DSA Art. 23): it counts towards
        /// throttling the account's further appeals. Only with `Uphold`.
        #[serde(default)]
        manifestly_unfounded: bool,
        /// The decision template the reasons were written from, when one was used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
    Approve {
        note: Option<String>,
    },
    Reject {
        note: String,
    },
    RestorationConfirmed {
        restoration_id: Uuid,
    },
    Reopen {
        reason: String,
    },
    Withdraw {
        reason: String,
    },
    SlaWarn {
        deadline: Deadline,
    },
    Escalate {
        reason: String,
        to_queue: String,
        breached: Option<Deadline>,
    },
    BulkRestore {
        job_id: Uuid,
        reason: String,
        /// Links a case filed without an account to the account the job restored, the one
        /// registered to the address it came from. The engine resolves it, never the caller.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        link: Option<AccountLink>,
    },
    /// A senior reviewer's decision of one appeal among many alike, through a bulk decision
    /// job: the same checks as `Decide` but for the claim, which the decider need not hold;
    /// a live claim of someone else still refuses it.
    DecideInBulk {
        job_id: Uuid,
        outcome: Outcome,
        reasons: String,
        #[serde(default)]
        statement: Option<StatementOfReasons>,
        /// The job's decision template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<String>,
    },
    Note {
        text: String,
    },
    MessageReceived {
        message_id: Uuid,
    },
    /// The appellant proved who they are after filing (a social handle confirmed through
    /// the account's email): the case gets its account and, where known, its enforcement.
    LinkIdentity {
        account_id: String,
        enforcement_id: Option<Uuid>,
        four_eyes: bool,
    },
}

impl Command {
    /// The command's name as the lifecycle table spells it; used in errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Triage { .. } => "triage",
            Command::Route { .. } => "route",
            Command::RequestInfo { .. } => "request_info",
            Command::UserReplied => "user_replied",
            Command::NoReplyTimeout => "no_reply_timeout",
            Command::Claim { .. } => "claim",
            Command::RenewClaim { .. } => "renew_claim",
            Command::Release => "release",
            Command::ExpireLease => "expire_lease",
            Command::Decide { .. } => "decide",
            Command::Approve { .. } => "approve",
            Command::Reject { .. } => "reject",
            Command::RestorationConfirmed { .. } => "restoration_confirmed",
            Command::Reopen { .. } => "reopen",
            Command::Withdraw { .. } => "withdraw",
            Command::SlaWarn { .. } => "sla_warn",
            Command::Escalate { .. } => "escalate",
            Command::BulkRestore { .. } => "bulk_restore",
            Command::DecideInBulk { .. } => "decide_in_bulk",
            Command::Note { .. } => "note",
            Command::MessageReceived { .. } => "message_received",
            Command::LinkIdentity { .. } => "link_identity",
        }
    }
}
