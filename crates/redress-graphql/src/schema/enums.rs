//! The core's vocabulary as GraphQL enums; each converts to and from its core type.

use async_graphql::Enum;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "AppealState", remote = "redress_core::AppealState")]
pub enum AppealStateGql {
    Filed,
    Triaged,
    AwaitingUser,
    Reviewed,
    Restored,
    Upheld,
    Withdrawn,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Outcome", remote = "redress_core::Outcome")]
pub enum OutcomeGql {
    Restore,
    Uphold,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Channel", remote = "redress_core::Channel")]
pub enum ChannelGql {
    Email,
    X,
    Instagram,
    Messenger,
    Api,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Priority", remote = "redress_core::Priority")]
pub enum PriorityGql {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role", remote = "redress_core::Role")]
pub enum RoleGql {
    Triager,
    Reviewer,
    SeniorReviewer,
    Support,
    Admin,
    Integration,
}
