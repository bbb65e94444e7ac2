//! The `Appeal` object: the stored snapshot, its deadlines, and its timeline on demand; and
//! [`Withheld`], the only way to make one, which keeps from a reviewer the appeals whose
//! decision they are reviewing blind.

use std::collections::HashSet;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::role::REVIEWERS;
use redress_core::{Actor, Deadline};
use redress_engine::{Engine, StoredAppeal};
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::enums::{AppealStateGql, ChannelGql, OutcomeGql, PriorityGql};
use crate::schema::registry::{AccountNode, EnforcementNode};
use crate::schema::routing::TriagedByRule;
use crate::schema::timeline::{EventNode, MessageNode};

/// An appeal as the API shows it. Only [`Withheld`] makes one, so every way to an appeal
/// asks first whether the caller may see it.
#[derive(Debug, Clone)]
pub struct AppealNode(StoredAppeal);

impl AppealNode {
    pub fn appeal_id(&self) -> Uuid {
        self.0.id
    }
}

/// The appeals a caller may not see now: those whose decision is under a blind second
/// review the caller took and has not recorded. The whole appeal is withheld, not its
/// decision alone: its state, events, messages, assignee and account say the outcome as
/// well, and so would any field added later. Lists leave such appeals out; asking for one
/// by id or reference is `FORBIDDEN`, saying why.
#[derive(Debug, Default)]
pub struct Withheld(HashSet<Uuid>);

impl Withheld {
    /// What is withheld from the caller of `ctx`.
    pub async fn from_caller(ctx: &Context<'_>) -> Result<Self> {
        let engine = ctx.data::<Engine>()?;
        Self::from_actor(engine, rbac::staff(ctx).ok().as_ref()).await
    }

    /// What is withheld from `actor` now. Only reviewers take second reviews, so nothing is
    /// withheld from other callers, and they cost no read.
    pub async fn from_actor(engine: &Engine, actor: Option<&Actor>) -> Result<Self> {
        match actor
            .filter(|actor| actor.has_any_role(REVIEWERS))
            .and_then(Actor::subject)
        {
            Some(subject) => Ok(Self(
                engine.appeals_in_blind_review_by(subject).await.or_api()?,
            )),
            None => Ok(Self::default()),
        }
    }

    pub fn contains(&self, id: Uuid) -> bool {
        self.0.contains(&id)
    }

    /// Refuses a caller from whom appeal `id` is withheld.
    pub fn check(&self, id: Uuid) -> Result<()> {
        if self.contains(id) {
            return Err(ApiError::Forbidden(
                "this case is withheld from you while you hold its blind second review: \
                 record your outcome on the Second review screen first"
                    .to_owned(),
            ))
            .or_api();
        }
        Ok(())
    }

    /// The appeal for the caller, or `FORBIDDEN` when it is withheld from them.
    pub fn require(&self, stored: StoredAppeal) -> Result<AppealNode> {
        self.check(stored.id)?;
        Ok(AppealNode(stored))
    }

    /// The appeal for the caller, or `None` when it is withheld from them.
    pub fn show(&self, stored: StoredAppeal) -> Option<AppealNode> {
        (!self.contains(stored.id)).then_some(AppealNode(stored))
    }

    /// The appeals the caller may see, in their order.
    pub fn show_all(&self, appeals: impl IntoIterator<Item = StoredAppeal>) -> Vec<AppealNode> {
        appeals
            .into_iter()
            .filter_map(|stored| self.show(stored))
            .collect()
    }
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Decision")]
pub struct DecisionNode {
    pub outcome: OutcomeGql,
    pub reasons: String,
    pub decided_by: String,
    pub approved_by: Option<String>,
    /// The statement of reasons given with the decision (DSA Art. 17).
    pub statement_of_reasons: Option<serde_json::Value>,
    /// Upheld as manifestly unfounded (counts towards throttling the account's appeals).
    pub manifestly_unfounded: bool,
}

#[Object(name = "Appeal")]
impl AppealNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The human-friendly reference appellants quote, e.g. `RDR-7K3Q-9M2X`.
    async fn reference(&self) -> String {
        self.0.reference.to_string()
    }

    async fn state(&self) -> AppealStateGql {
        self.0.appeal.state.into()
    }

    /// The optimistic-concurrency token: pass it as `expectedVersion` to change the appeal.
    async fn version(&self) -> i64 {
        self.0.version()
    }

    async fn channel(&self) -> ChannelGql {
        self.0.appeal.channel.into()
    }

    async fn priority(&self) -> PriorityGql {
        self.0.appeal.priority.into()
    }

    async fn queue(&self) -> &str {
        &self.0.appeal.queue
    }

    async fn tags(&self) -> &[String] {
        &self.0.appeal.tags
    }

    /// The routing rule (and its version) that triaged the appeal; null when a person did.
    async fn triaged_by_rule(&self) -> Option<TriagedByRule> {
        self.0.appeal.triaged_by.map(|rule| TriagedByRule {
            id: rule.id,
            version: rule.version,
        })
    }

    /// The language the appellant's notices are written in: the `language:xx` tag, else
    /// the default language.
    async fn language(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(ctx.data::<Engine>()?.appeal_language(&self.0))
    }

    async fn identity_verified(&self) -> bool {
        self.0.appeal.identity_verified
    }

    /// Whether the decision needs a second approver.
    async fn four_eyes(&self) -> bool {
        self.0.appeal.four_eyes
    }

    async fn assignee(&self) -> Option<&str> {
        self.0.appeal.assignee.as_deref()
    }

    async fn lease_until(&self) -> Option<DateTime<Utc>> {
        self.0.appeal.lease_until
    }

    async fn escalation_level(&self) -> u32 {
        self.0.appeal.escalation_level
    }

    async fn decision(&self) -> Option<DecisionNode> {
        self.0.appeal.decision.as_ref().map(|d| DecisionNode {
            outcome: d.outcome.into(),
            reasons: d.reasons.clone(),
            decided_by: d.decided_by.clone(),
            approved_by: d.approved_by.clone(),
            statement_of_reasons: d
                .statement
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok()),
            manifestly_unfounded: d.manifestly_unfounded,
        })
    }

    async fn filed_at(&self) -> DateTime<Utc> {
        self.0.appeal.filed_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.appeal.updated_at
    }

    async fn triage_due_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(schedule(ctx, &self.0)?.triage_due_at)
    }

    async fn decision_due_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        Ok(schedule(ctx, &self.0)?.decision_due_at)
    }

    /// Whether a deadline of this appeal has passed.
    async fn sla_breached(&self, ctx: &Context<'_>) -> Result<bool> {
        let engine = ctx.data::<Engine>()?;
        let now = engine.clock().now();
        let due = schedule(ctx, &self.0)?;
        let marks = self.0.appeal.sla_marks;
        Ok(marks.breached(Deadline::Triage)
            || marks.breached(Deadline::Decision)
            || [due.triage_due_at, due.decision_due_at]
                .into_iter()
                .flatten()
                .any(|at| at <= now))
    }

    /// Where answers go (address or handle). Personal data: null for roles without access.
    async fn contact(&self, ctx: &Context<'_>) -> Option<&str> {
        rbac::sees_pii(ctx)
            .then_some(self.0.contact.as_deref())
            .flatten()
    }

    async fn account_id(&self) -> Option<&str> {
        self.0.appeal.account_id.as_deref()
    }

    async fn account(&self, ctx: &Context<'_>) -> Result<Option<AccountNode>> {
        let Some(account_id) = &self.0.appeal.account_id else {
            return Ok(None);
        };
        let engine = ctx.data::<Engine>()?;
        Ok(engine.account(account_id).await.or_api()?.map(AccountNode))
    }

    /// The account registered to the contact address of an appeal linked to no account,
    /// as evidence for triage: an email appeal is linked to it (`account`) at filing only
    /// when a trusted server vouched for the sender, so an unverified sender's appeal shows
    /// here whom they claim to be; a triager who verifies their identity links it
    /// (`triageAppeal`, `linkClaimedAccount`). Null once linked. Personal data: null for
    /// roles without access.
    async fn claimed_account(&self, ctx: &Context<'_>) -> Result<Option<AccountNode>> {
        if !rbac::sees_pii(ctx) {
            return Ok(None);
        }
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .claimed_account(&self.0)
            .await
            .or_api()?
            .map(AccountNode))
    }

    /// The enforcement appealed against, with its statement of reasons.
    async fn enforcement(&self, ctx: &Context<'_>) -> Result<Option<EnforcementNode>> {
        let Some(id) = self.0.appeal.enforcement_id else {
            return Ok(None);
        };
        let engine = ctx.data::<Engine>()?;
        Ok(engine.enforcement(id).await.or_api()?.map(EnforcementNode))
    }

    /// The full history, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<EventNode>> {
        let engine = ctx.data::<Engine>()?;
        let history = engine.history(self.0.id).await.or_api()?;
        Ok(history
            .into_iter()
            .map(|(version, event)| EventNode { version, event })
            .collect())
    }

    /// Correspondence in and out, oldest first.
    async fn messages(&self, ctx: &Context<'_>) -> Result<Vec<MessageNode>> {
        let engine = ctx.data::<Engine>()?;
        Ok(engine
            .messages(self.0.id)
            .await
            .or_api()?
            .into_iter()
            .map(MessageNode)
            .collect())
    }
}

fn schedule(ctx: &Context<'_>, stored: &StoredAppeal) -> Result<redress_core::SlaSchedule> {
    let engine = ctx.data::<Engine>()?;
    let appeal = &stored.appeal;
    Ok(appeal.sla_schedule(engine.settings().sla_policy(&appeal.queue, appeal.priority)))
}
