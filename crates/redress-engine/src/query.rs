//! Read-side use cases for the API: listing appeals, by filter or by account.

use chrono::{DateTime, Utc};
use redress_core::{AppealState, Channel, ContentRelation};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::entity::enforcement::{self, Entity as Enforcements};
use crate::error::EngineError;
use crate::repo::appeals::{from_model, StoredAppeal};

/// Which appeals a listing returns; every set field must match. A bulk decision keeps the
/// filter it was started with, so it is stored as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppealFilter {
    /// Any of these states (all states when empty).
    pub states: Vec<AppealState>,
    pub queue: Option<String>,
    pub assignee: Option<String>,
    /// At least this escalation level.
    pub min_escalation_level: Option<u32>,
    pub channel: Option<Channel>,
    pub account_id: Option<String>,
    /// The `source_id` of the enforcement appealed against (a rule, model or batch).
    pub enforcement_source: Option<String>,
    /// The policy of the enforcement appealed against.
    pub enforcement_policy: Option<String>,
    /// What the account did with the content of the enforcement appealed against.
    pub content_relation: Option<ContentRelation>,
    pub filed_from: Option<DateTime<Utc>>,
    pub filed_before: Option<DateTime<Utc>>,
    /// Open appeals past (or, when false, within) a deadline at `now`.
    pub sla_breached: Option<bool>,
    /// Appeals carrying every one of these tags (any tags when empty).
    pub tags: Vec<String>,
    /// Appeals triaged by this routing rule (any version of it).
    pub rule: Option<Uuid>,
}

impl AppealFilter {
    /// What the filter asks of the enforcement appealed against, if anything.
    fn enforcement_condition(&self) -> Option<Condition> {
        use enforcement::Column as E;
        let mut condition = Condition::all();
        let mut any = false;
        if let Some(source) = &self.enforcement_source {
            condition = condition.add(E::SourceId.eq(source.as_str()));
            any = true;
        }
        if let Some(policy) = &self.enforcement_policy {
            condition = condition.add(E::Policy.eq(policy.as_str()));
            any = true;
        }
        if let Some(relation) = self.content_relation {
            condition = condition.add(E::ContentRelation.eq(relation.as_str()));
            any = true;
        }
        any.then_some(condition)
    }

    pub(crate) fn apply(
        &self,
        mut select: Select<Appeals>,
        backend: DbBackend,
        now: DateTime<Utc>,
    ) -> Select<Appeals> {
        use appeal::Column as C;
        if !self.states.is_empty() {
            select = select.filter(C::State.is_in(self.states.iter().map(|s| s.as_str())));
        }
        if let Some(queue) = &self.queue {
            select = select.filter(C::Queue.eq(queue.as_str()));
        }
        if let Some(assignee) = &self.assignee {
            select = select.filter(C::Assignee.eq(assignee.as_str()));
        }
        if let Some(level) = self.min_escalation_level {
            select = select.filter(C::EscalationLevel.gte(level as i32));
        }
        if let Some(channel) = self.channel {
            select = select.filter(C::Channel.eq(channel.as_str()));
        }
        if let Some(account) = &self.account_id {
            select = select.filter(C::AccountId.eq(account.as_str()));
        }
        if let Some(enforcements) = self.enforcement_condition() {
            select = select.filter(
                C::EnforcementId.in_subquery(
                    Query::select()
                        .column(enforcement::Column::Id)
                        .from(Enforcements)
                        .cond_where(enforcements)
                        .to_owned(),
                ),
            );
        }
        if let Some(from) = self.filed_from {
            select = select.filter(C::FiledAt.gte(from));
        }
        if let Some(before) = self.filed_before {
            select = select.filter(C::FiledAt.lt(before));
        }
        if let Some(breached) = self.sla_breached {
            let open = AppealState::OPEN.iter().map(|s| s.as_str());
            let past_due = Condition::all().add(C::State.is_in(open)).add(
                Condition::any()
                    .add(C::TriageDueAt.lte(now))
                    .add(C::DecisionDueAt.lte(now)),
            );
            select = select.filter(if breached { past_due } else { past_due.not() });
        }
        for tag in &self.tags {
            select = select.filter(carries_tag(backend, tag));
        }
        if let Some(rule) = self.rule {
            select = select.filter(C::TriagedByRule.eq(rule));
        }
        select
    }
}

/// The appeal's `tags` array holds `tag`. PostgreSQL answers containment from the
/// `appeals_tags` GIN index; SQLite has no index over array elements and reads the (short)
/// array of each row the other conditions left.
fn carries_tag(backend: DbBackend, tag: &str) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_values(r#""appeals"."tags" @> $1"#, [serde_json::json!([tag])])
        }
        _ => Expr::cust_with_values(
            r#"EXISTS (SELECT 1 FROM json_each("appeals"."tags") WHERE json_each.value = ?)"#,
            [tag],
        ),
    }
}

/// One page of appeals matching `filter`, in filing order (ids are time-ordered), after
/// the appeal `after`.
pub async fn list_appeals<C: ConnectionTrait>(
    conn: &C,
    filter: &AppealFilter,
    after: Option<Uuid>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Vec<StoredAppeal>, EngineError> {
    let mut select = filter.apply(Appeals::find(), conn.get_database_backend(), now);
    if let Some(after) = after {
        select = select.filter(appeal::Column::Id.gt(after));
    }
    select
        .order_by_asc(appeal::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

pub async fn appeals_of<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<Vec<StoredAppeal>, EngineError> {
    Appeals::find()
        .filter(appeal::Column::AccountId.eq(account_id))
        .order_by_desc(appeal::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(from_model)
        .collect()
}

impl Engine {
    /// An account's appeals, newest first.
    pub async fn appeals_of(&self, account_id: &str) -> Result<Vec<StoredAppeal>, EngineError> {
        appeals_of(self.db(), account_id).await
    }

    /// A page of appeals; see [`list_appeals`].
    ///
    /// On PostgreSQL the page is planned for its own values every time. The listing is one
    /// prepared statement whatever the filter, and after five executions PostgreSQL may
    /// switch it to a generic plan, made without the values: it cannot know how rare a tag,
    /// how small a queue or how far along a cursor is, and guesses a share of the table for
    /// each. With a tag in 0.1 % of the appeals that guess chose to walk the primary key
    /// from the cursor, reading every appeal after it to fill a page that stayed empty
    /// (docs/performance.md, "The queue page"). Planned with the values, the same page
    /// starts from the tag's index. Planning costs a fraction of a millisecond, which a
    /// page a person opens can spend.
    pub async fn appeals(
        &self,
        filter: &AppealFilter,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<StoredAppeal>, EngineError> {
        let now = self.clock().now();
        if self.db().get_database_backend() != DbBackend::Postgres {
            return list_appeals(self.db(), filter, after, limit, now).await;
        }
        self.transact_once(async |txn| {
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
            list_appeals(txn, filter, after, limit, now).await
        })
        .await
    }
}
