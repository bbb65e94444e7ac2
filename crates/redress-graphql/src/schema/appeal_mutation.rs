//! Changing appeals. Every mutation takes the version the caller last saw; a stale one is
//! `CONFLICT` and nothing changes.

use async_graphql::{Context, InputObject, Object, Result, ID};
use chrono::TimeDelta;
use redress_core::{Command, StatementOfReasons};
use redress_engine::policies::TemplateChoiceError;
use redress_engine::triage::{LinkClaimedAccount, Triage};
use redress_engine::Engine;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::enums::{OutcomeGql, PriorityGql};
use crate::schema::ids::parse_id;

#[derive(Debug, Default)]
pub struct AppealMutation;

#[derive(InputObject, Debug)]
pub struct TriageInput {
    pub priority: PriorityGql,
    /// Queue to route the appeal to; the current one when omitted.
    pub queue: Option<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
    pub identity_verified: bool,
    /// Links an appeal filed without an account to the account it claims
    /// (`Appeal.claimedAccount`, the one registered to the sender's address), and to the
    /// enforcement filing would have chosen for it: only that account, and only with
    /// `identityVerified`. Omitted, the link is made whenever the identity is verified and
    /// the appeal claims an account; `false` never links; `true` links or refuses the
    /// triage (`BAD_USER_INPUT` on `linkClaimedAccount`), e.g. when the account already
    /// has an open appeal about the same enforcement, named by its reference.
    pub link_claimed_account: Option<bool>,
}

/// Runs `command` for `mutation` as the caller, guarded by the role table and the version.
async fn run(
    ctx: &Context<'_>,
    mutation: &str,
    id: &ID,
    expected_version: i64,
    command: Command,
) -> Result<AppealNode> {
    let actor = rbac::authorize(ctx, mutation).or_api()?;
    let id = parse_id(id)?;
    let engine = ctx.data::<Engine>()?;
    // A reviewer who holds the case's blind second review acts on it only after recording.
    let withheld = Withheld::from_actor(engine, Some(&actor)).await?;
    withheld.check(id)?;
    let applied = engine
        .apply(id, Some(expected_version), &command, &actor)
        .await
        .or_api()?;
    withheld.require(applied.appeal)
}

fn lease(engine: &Engine) -> Result<chrono::DateTime<chrono::Utc>> {
    let lease = TimeDelta::from_std(engine.settings().claim_lease)
        .map_err(|_| ApiError::Internal)
        .or_api()?;
    Ok(engine.clock().now() + lease)
}

#[Object]
impl AppealMutation {
    /// Sorts a filed appeal into a queue with a priority. Four-eyes review follows the
    /// configured policies and kinds of the enforcement (the linked one, when triage links
    /// the claimed account).
    async fn triage_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        input: TriageInput,
    ) -> Result<AppealNode> {
        let actor = rbac::authorize(ctx, "triageAppeal").or_api()?;
        if input.tags.iter().any(|tag| tag.trim().is_empty()) {
            return Err(ApiError::invalid_field(
                "tags",
                "invalid tags: a tag must not be blank",
            ))
            .or_api();
        }
        let id = parse_id(&id)?;
        let engine = ctx.data::<Engine>()?;
        let withheld = Withheld::from_actor(engine, Some(&actor)).await?;
        withheld.check(id)?;
        let triage = Triage {
            priority: input.priority.into(),
            queue: input.queue,
            tags: input.tags,
            identity_verified: input.identity_verified,
            link: match input.link_claimed_account {
                None => LinkClaimedAccount::WhenVerified,
                Some(true) => LinkClaimedAccount::Required,
                Some(false) => LinkClaimedAccount::Never,
            },
        };
        let applied = engine
            .triage(id, Some(expected_version), triage, &actor)
            .await
            .or_api()?;
        withheld.require(applied.appeal)
    }

    /// Claims this appeal for the caller with the configured lease: for a reviewer who
    /// found the case (by search, a link, a colleague) rather than taking the queue's next.
    /// A live claim of someone else's is refused; the caller's own is renewed.
    async fn claim_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
    ) -> Result<AppealNode> {
        let lease_until = lease(ctx.data::<Engine>()?)?;
        let command = Command::Claim { lease_until };
        run(ctx, "claimAppeal", &id, expected_version, command).await
    }

    /// Extends the caller's claim by the configured lease.
    async fn heartbeat_claim(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
    ) -> Result<AppealNode> {
        let lease_until = lease(ctx.data::<Engine>()?)?;
        let command = Command::RenewClaim { lease_until };
        run(ctx, "heartbeatClaim", &id, expected_version, command).await
    }

    /// Gives a claimed appeal back to the queue.
    async fn release_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
    ) -> Result<AppealNode> {
        run(
            ctx,
            "releaseAppeal",
            &id,
            expected_version,
            Command::Release,
        )
        .await
    }

    /// Asks the appellant for information; the SLA clock pauses until they answer.
    async fn request_info(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        message: String,
    ) -> Result<AppealNode> {
        let command = Command::RequestInfo { message };
        run(ctx, "requestInfo", &id, expected_version, command).await
    }

    async fn add_note(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        text: String,
    ) -> Result<AppealNode> {
        if text.trim().is_empty() {
            return Err(ApiError::bad_input("a note needs text")).or_api();
        }
        run(
            ctx,
            "addNote",
            &id,
            expected_version,
            Command::Note { text },
        )
        .await
    }

    /// Decides a claimed appeal. Upholding needs reasons and a complete statement of
    /// reasons (DSA Art. 17), in the shape of `Enforcement.statement`; a restore needs one
    /// only where some restriction stays in place.
    // Each parameter is one argument of the GraphQL field.
    #[allow(clippy::too_many_arguments)]
    async fn decide_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        outcome: OutcomeGql,
        reasons: String,
        statement_of_reasons: Option<serde_json::Value>,
        #[graphql(
            default = false,
            desc = "Upholding an appeal that is manifestly unfounded; counts towards throttling the account's further appeals."
        )]
        manifestly_unfounded: bool,
        #[graphql(
            desc = "The decision template (`DecisionTemplate.id`) the reasons were written from, when one was used; kept with the decision for the quality figures."
        )]
        template: Option<String>,
    ) -> Result<AppealNode> {
        rbac::authorize(ctx, "decideAppeal").or_api()?;
        if let Some(template) = &template {
            let appeal_id = parse_id(&id)?;
            match ctx
                .data::<Engine>()?
                .check_decision_template(appeal_id, template, outcome.into())
                .await
            {
                Ok(()) => {}
                Err(TemplateChoiceError::Engine(err)) => return Err(ApiError::from(err)).or_api(),
                Err(err) => {
                    return Err(ApiError::invalid_field("template", err.to_string())).or_api()
                }
            }
        }
        let statement = statement_of_reasons
            .map(serde_json::from_value::<StatementOfReasons>)
            .transpose()
            .map_err(|e| ApiError::bad_input(format!("statementOfReasons: {e}")))
            .or_api()?;
        let command = Command::Decide {
            outcome: outcome.into(),
            reasons,
            statement,
            manifestly_unfounded,
            template,
        };
        run(ctx, "decideAppeal", &id, expected_version, command).await
    }

    /// The second approval of a four-eyes decision, by a senior reviewer who did not decide.
    async fn approve_decision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        note: Option<String>,
    ) -> Result<AppealNode> {
        let command = Command::Approve { note };
        run(ctx, "approveDecision", &id, expected_version, command).await
    }

    /// Sends a decision back to the queue with the second reviewer's note.
    async fn reject_decision(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        note: String,
    ) -> Result<AppealNode> {
        let command = Command::Reject { note };
        run(ctx, "rejectDecision", &id, expected_version, command).await
    }

    /// Reopens an upheld appeal on new information or an external ruling.
    async fn reopen_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        reason: String,
    ) -> Result<AppealNode> {
        let command = Command::Reopen { reason };
        run(ctx, "reopenAppeal", &id, expected_version, command).await
    }

    /// Withdraws an open appeal on the appellant's behalf.
    async fn withdraw_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        reason: String,
    ) -> Result<AppealNode> {
        let command = Command::Withdraw { reason };
        run(ctx, "withdrawAppeal", &id, expected_version, command).await
    }

    /// Raises the escalation level and moves the appeal to the senior queue.
    async fn escalate_appeal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        reason: String,
    ) -> Result<AppealNode> {
        let to_queue = ctx.data::<Engine>()?.settings().senior_queue.clone();
        let command = Command::Escalate {
            reason,
            to_queue,
            breached: None,
        };
        run(ctx, "escalateAppeal", &id, expected_version, command).await
    }
}
