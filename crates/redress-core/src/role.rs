//! Who acts on an appeal, and which commands each role may issue.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::state::wire_enum;

wire_enum!(
    /// Staff and service roles, carried in the bearer token.
    Role, "role" {
        Triager => "triager",
        Reviewer => "reviewer",
        SeniorReviewer => "senior_reviewer",
        Support => "support",
        Admin => "admin",
        Integration => "integration",
    }
);

/// Whoever issues a command. Every event records its actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A person of the trust-and-safety team, or a platform service, authenticated by token.
    Staff { subject: String, roles: Vec<Role> },
    /// The person who appealed, speaking through a channel or the status page.
    Appellant { identity: String },
    /// Redress itself: intake, SLA worker, restoration confirmations.
    System { component: String },
}

impl Actor {
    pub fn staff(subject: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        Actor::Staff {
            subject: subject.into(),
            roles: roles.into_iter().collect(),
        }
    }

    pub fn system(component: impl Into<String>) -> Self {
        Actor::System {
            component: component.into(),
        }
    }

    pub fn appellant(identity: impl Into<String>) -> Self {
        Actor::Appellant {
            identity: identity.into(),
        }
    }

    /// The staff subject, if this is a staff member.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Actor::Staff { subject, .. } => Some(subject),
            _ => None,
        }
    }

    pub fn has_any_role(&self, wanted: &[Role]) -> bool {
        match self {
            Actor::Staff { roles, .. } => roles.iter().any(|r| wanted.contains(r)),
            _ => false,
        }
    }

    pub fn is_system(&self) -> bool {
        matches!(self, Actor::System { .. })
    }

    pub fn is_appellant(&self) -> bool {
        matches!(self, Actor::Appellant { .. })
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Staff { subject, .. } => write!(f, "staff {subject}"),
            Actor::Appellant { identity } => write!(f, "appellant {identity}"),
            Actor::System { component } => write!(f, "system ({component})"),
        }
    }
}

/// Roles that may triage (the "triager+" of the lifecycle table).
pub const TRIAGERS: &[Role] = &[
    Role::Triager,
    Role::Reviewer,
    Role::SeniorReviewer,
    Role::Admin,
];
/// Roles that may request information, claim and decide ("reviewer+").
pub const REVIEWERS: &[Role] = &[Role::Reviewer, Role::SeniorReviewer];
/// Roles that may give the second approval, reject a decision and reopen.
pub const SENIORS: &[Role] = &[Role::SeniorReviewer];
/// Roles that may escalate by hand.
pub const ESCALATORS: &[Role] = &[Role::Reviewer, Role::SeniorReviewer, Role::Admin];
/// Roles that may withdraw an appeal on the appellant's behalf.
pub const WITHDRAWERS: &[Role] = &[Role::Admin];
/// Roles that may decide many alike appeals at once with one template.
pub const BULK_DECIDERS: &[Role] = &[Role::SeniorReviewer];
/// Roles that may run a bulk restoration.
pub const BULK_RESTORERS: &[Role] = &[Role::Support, Role::Admin];
/// Roles that may file an appeal through the API for the platform.
pub const FILERS: &[Role] = &[Role::Integration, Role::Admin];
/// Roles that may add notes.
pub const NOTE_TAKERS: &[Role] = &[
    Role::Triager,
    Role::Reviewer,
    Role::SeniorReviewer,
    Role::Support,
    Role::Admin,
];
