//! The review queue: listing appeals, queue counts, and claiming the next case.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use redress_core::ContentRelation;
use redress_engine::query::AppealFilter;
use redress_engine::queue::QueueStats;
use redress_engine::Engine;
use uuid::Uuid;

use crate::error::{ApiError, OrApiError};
use crate::rbac;
use crate::schema::appeal::{AppealNode, Withheld};
use crate::schema::enums::{AppealStateGql, ChannelGql};
use crate::settings::GraphqlSettings;

/// Page size when `first` is not given.
const DEFAULT_PAGE_SIZE: usize = 20;

#[derive(InputObject, Debug, Default)]
pub struct AppealFilterInput {
    /// Any of these states.
    #[graphql(default)]
    pub states: Vec<AppealStateGql>,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    /// At least this escalation level.
    pub min_escalation_level: Option<u32>,
    pub channel: Option<ChannelGql>,
    pub account_id: Option<String>,
    /// The rule, model or batch id that made the enforcement.
    pub enforcement_source: Option<String>,
    /// The policy of the enforcement appealed against (e.g. `spam`).
    pub enforcement_policy: Option<String>,
    /// What the account did with the enforcement's content: `created`, `saved` or `shared`.
    pub content_relation: Option<String>,
    pub filed_from: Option<DateTime<Utc>>,
    pub filed_before: Option<DateTime<Utc>>,
    pub sla_breached: Option<bool>,
    /// Appeals carrying every one of these tags.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Appeals a routing rule triaged (any version of the rule).
    pub rule: Option<ID>,
}

impl TryFrom<AppealFilterInput> for AppealFilter {
    type Error = ApiError;

    fn try_from(input: AppealFilterInput) -> Result<Self, ApiError> {
        let rule = input
            .rule
            .map(|rule| {
                Uuid::parse_str(rule.as_str()).map_err(|_| {
                    ApiError::invalid_field("rule", format!("{:?} is not a rule id", rule.as_str()))
                })
            })
            .transpose()?;
        let content_relation = input
            .content_relation
            .map(|relation| {
                relation
                    .trim()
                    .parse::<ContentRelation>()
                    .map_err(|e| ApiError::invalid_field("contentRelation", e.to_string()))
            })
            .transpose()?;
        Ok(AppealFilter {
            states: input.states.into_iter().map(Into::into).collect(),
            queue: input.queue,
            assignee: input.assignee,
            min_escalation_level: input.min_escalation_level,
            channel: input.channel.map(Into::into),
            account_id: input.account_id,
            enforcement_source: input.enforcement_source,
            enforcement_policy: input.enforcement_policy,
            content_relation,
            filed_from: input.filed_from,
            filed_before: input.filed_before,
            sla_breached: input.sla_breached,
            tags: input.tags,
            rule,
        })
    }
}

#[derive(SimpleObject, Debug)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

#[derive(SimpleObject, Debug)]
pub struct QueueSummaryEntry {
    pub queue: String,
    /// Open appeals in the queue.
    pub open: i64,
    /// Open appeals by state (wire names, e.g. `triaged`).
    pub by_state: Vec<Count>,
    /// Open appeals by priority (wire names, e.g. `high`).
    pub by_priority: Vec<Count>,
    pub oldest_filed_at: Option<DateTime<Utc>>,
    /// Age of the oldest open appeal, in seconds.
    pub oldest_age_seconds: Option<i64>,
    /// Open appeals past a deadline.
    pub sla_breached: i64,
    /// Triaged appeals nobody holds a live claim on.
    pub claimable: i64,
}

fn entry(stats: QueueStats, now: DateTime<Utc>) -> QueueSummaryEntry {
    let counts = |map: std::collections::BTreeMap<String, i64>| {
        map.into_iter()
            .map(|(key, count)| Count { key, count })
            .collect()
    };
    QueueSummaryEntry {
        open: stats.open(),
        oldest_age_seconds: stats.oldest_filed_at.map(|at| (now - at).num_seconds()),
        oldest_filed_at: stats.oldest_filed_at,
        sla_breached: stats.sla_breached,
        claimable: stats.claimable,
        by_state: counts(stats.by_state),
        by_priority: counts(stats.by_priority),
        queue: stats.queue,
    }
}

#[derive(Debug, Default)]
pub struct QueueQuery;

#[Object]
impl QueueQuery {
    /// Appeals matching `filter`, in filing order, as a Relay connection.
    #[graphql(complexity = "first.unwrap_or(DEFAULT_PAGE_SIZE) * child_complexity")]
    async fn appeals(
        &self,
        ctx: &Context<'_>,
        filter: Option<AppealFilterInput>,
        first: Option<usize>,
        after: Option<String>,
    ) -> Result<Connection<String, AppealNode, EmptyFields, EmptyFields>> {
        rbac::staff(ctx).or_api()?;
        let max = ctx.data::<GraphqlSettings>()?.max_page_size;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if first == 0 || first > max {
            return Err(ApiError::bad_input(format!(
                "first must be between 1 and {max}"
            )))
            .or_api();
        }
        let after = after
            .map(|cursor| {
                Uuid::parse_str(&cursor)
                    .map_err(|_| ApiError::bad_input(format!("{cursor:?} is not a cursor")))
            })
            .transpose()
            .or_api()?;
        let filter = AppealFilter::try_from(filter.unwrap_or_default()).or_api()?;
        let mut page = ctx
            .data::<Engine>()?
            .appeals(&filter, after, first as u64 + 1)
            .await
            .or_api()?;
        let has_next = page.len() > first;
        page.truncate(first);
        let withheld = Withheld::from_caller(ctx).await?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            withheld
                .show_all(page)
                .into_iter()
                .map(|node| Edge::new(node.appeal_id().to_string(), node)),
        );
        Ok(connection)
    }

    /// Open appeals per queue: counts by state and priority, oldest age, SLA breaches.
    async fn queue_summary(&self, ctx: &Context<'_>) -> Result<Vec<QueueSummaryEntry>> {
        rbac::staff(ctx).or_api()?;
        let engine = ctx.data::<Engine>()?;
        let now = engine.clock().now();
        Ok(engine
            .queue_summary()
            .await
            .or_api()?
            .into_iter()
            .map(|stats| entry(stats, now))
            .collect())
    }
}

#[derive(Debug, Default)]
pub struct QueueMutation;

#[Object]
impl QueueMutation {
    /// Takes the next case of `queue` (the default queue when omitted) with a lease:
    /// most escalated, most urgent, nearest deadline, oldest first. Null when the queue
    /// has nothing to hand out.
    async fn claim_next_appeal(
        &self,
        ctx: &Context<'_>,
        queue: Option<String>,
    ) -> Result<Option<AppealNode>> {
        let actor = rbac::authorize(ctx, "claimNextAppeal").or_api()?;
        let engine = ctx.data::<Engine>()?;
        let queue = queue.unwrap_or_else(|| engine.settings().default_queue.clone());
        let Some(applied) = engine.claim_next(&queue, &actor).await.or_api()? else {
            return Ok(None);
        };
        let withheld = Withheld::from_actor(engine, Some(&actor)).await?;
        withheld.require(applied.appeal).map(Some)
    }
}
