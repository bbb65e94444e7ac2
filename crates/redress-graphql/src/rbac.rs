//! Who may call what. The mutation table here is the one `docs/api.md` documents; a test
//! checks every mutation against every role over HTTP.

use async_graphql::Context;
use redress_core::role::{
    BULK_DECIDERS, BULK_RESTORERS, ESCALATORS, FILERS, NOTE_TAKERS, REVIEWERS, SENIORS, TRIAGERS,
    WITHDRAWERS,
};
use redress_core::{Actor, Role};

use crate::error::ApiError;

/// The authenticated caller of a request; `None` for a request without a token.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Actor>);

/// Roles that may release someone else's claim (reviewers release their own).
const RELEASERS: &[Role] = &[Role::Reviewer, Role::SeniorReviewer, Role::Admin];
/// Roles that push enforcements in: the platform, and administrators for imports.
const ENFORCEMENT_RECORDERS: &[Role] = &[Role::Integration, Role::Admin];

/// Roles that record out-of-court disputes: support, who hear from the settlement bodies,
/// and administrators.
const DISPUTE_RECORDERS: &[Role] = &[Role::Support, Role::Admin];

/// Every mutation and the roles allowed to call it. The core checks the same rules again
/// against the appeal's state (a claim, four-eyes), so this table is the outer gate.
pub const MUTATION_ROLES: &[(&str, &[Role])] = &[
    ("recordEnforcements", ENFORCEMENT_RECORDERS),
    ("fileAppeal", FILERS),
    ("triageAppeal", TRIAGERS),
    ("claimNextAppeal", REVIEWERS),
    ("claimAppeal", REVIEWERS),
    ("heartbeatClaim", REVIEWERS),
    ("releaseAppeal", RELEASERS),
    ("requestInfo", REVIEWERS),
    ("addNote", NOTE_TAKERS),
    ("decideAppeal", REVIEWERS),
    ("takeSecondReview", REVIEWERS),
    ("recordSecondReview", REVIEWERS),
    ("approveDecision", SENIORS),
    ("rejectDecision", SENIORS),
    ("reopenAppeal", SENIORS),
    ("withdrawAppeal", WITHDRAWERS),
    ("escalateAppeal", ESCALATORS),
    ("retryDeadLetter", &[Role::Admin]),
    ("bulkDecisionDryRun", BULK_DECIDERS),
    ("startBulkDecision", BULK_DECIDERS),
    ("cancelBulkDecision", BULK_DECIDERS),
    ("bulkRestoreDryRun", BULK_RESTORERS),
    ("startBulkRestore", BULK_RESTORERS),
    ("cancelBulkRestore", BULK_RESTORERS),
    ("resolveIncident", &[Role::Admin]),
    ("recordOutOfCourtDispute", DISPUTE_RECORDERS),
    ("resubmitTdbStatement", &[Role::Admin]),
    ("createRoutingRule", &[Role::Admin]),
    ("updateRoutingRule", &[Role::Admin]),
    ("disableRoutingRule", &[Role::Admin]),
    ("enableRoutingRule", &[Role::Admin]),
    ("reorderRoutingRules", &[Role::Admin]),
    ("createPolicy", &[Role::Admin]),
    ("updatePolicy", &[Role::Admin]),
    ("retirePolicy", &[Role::Admin]),
    ("createDecisionTemplate", &[Role::Admin]),
    ("updateDecisionTemplate", &[Role::Admin]),
    ("retireDecisionTemplate", &[Role::Admin]),
    ("setLegalHold", &[Role::Admin]),
    ("clearLegalHold", &[Role::Admin]),
    ("exportPersonalData", &[Role::Admin]),
    ("erasePersonalData", &[Role::Admin]),
    ("createWebhookEndpoint", &[Role::Admin]),
    ("updateWebhookEndpoint", &[Role::Admin]),
    ("rotateWebhookSecret", &[Role::Admin]),
    ("deleteWebhookEndpoint", &[Role::Admin]),
];

/// Roles that see the appellant's personal data (contact, email, social ids, messages):
/// the people who verify identity, read correspondence or restore accounts.
pub const PII_READERS: &[Role] = &[
    Role::Triager,
    Role::Reviewer,
    Role::SeniorReviewer,
    Role::Support,
];

pub fn roles_for(mutation: &str) -> &'static [Role] {
    MUTATION_ROLES
        .iter()
        .find(|(name, _)| *name == mutation)
        .map_or(&[], |(_, roles)| roles)
}

/// The caller, who must hold a role (any role reads).
pub fn staff(ctx: &Context<'_>) -> Result<Actor, ApiError> {
    match ctx.data_opt::<Caller>().and_then(|c| c.0.clone()) {
        Some(actor @ Actor::Staff { .. }) => Ok(actor),
        _ => Err(ApiError::Unauthenticated),
    }
}

/// The caller, who must hold one of the roles of `mutation`.
pub fn authorize(ctx: &Context<'_>, mutation: &str) -> Result<Actor, ApiError> {
    let actor = staff(ctx)?;
    let allowed = roles_for(mutation);
    if actor.has_any_role(allowed) {
        Ok(actor)
    } else {
        Err(ApiError::Forbidden(format!(
            "{mutation} needs one of: {}",
            allowed
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

pub fn sees_pii(ctx: &Context<'_>) -> bool {
    staff(ctx).is_ok_and(|actor| actor.has_any_role(PII_READERS))
}
