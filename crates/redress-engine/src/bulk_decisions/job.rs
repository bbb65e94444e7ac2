//! The job's row and its targets: starting, reading, counting in, cancelling.

use chrono::{DateTime, Utc};
use redress_core::{DecisionTemplate, Outcome, Role};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;
use uuid::Uuid;

use super::error::BulkDecisionError;
use super::verdict::SkipReason;
use crate::entity::appeal::{self, Entity as Appeals};
pub use crate::entity::bulk_decision_job::BulkDecisionStatus;
use crate::entity::bulk_decision_job::{self, Entity as Jobs};
pub use crate::entity::bulk_decision_target::BulkDecisionOutcome;
use crate::entity::bulk_decision_target::{self, Entity as Targets};
use crate::query::AppealFilter;

/// A bulk decision job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkDecisionJob {
    pub id: Uuid,
    pub filter: AppealFilter,
    /// The template as it stood when the job started; the job decides with this one even
    /// if the configuration changes before it ends.
    pub template: DecisionTemplate,
    pub started_by: String,
    /// The roles the starter held when they started the job, or as of their latest request
    /// since; each chunk decides as the starter with these roles, and a job whose starter
    /// no longer holds a bulk decider's role stops.
    pub started_roles: Vec<Role>,
    /// Why the job stopped, when no person cancelled it.
    pub stop_reason: Option<String>,
    pub status: BulkDecisionStatus,
    pub total: i64,
    pub processed: i64,
    /// Decided for good.
    pub decided: i64,
    /// Decided under four-eyes review: waiting for a second senior reviewer.
    pub proposed: i64,
    pub skipped: i64,
    pub checkpoint: Option<Uuid>,
    pub chunk_size: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job's figures after a step, for progress bars and subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub job_id: Uuid,
    pub status: BulkDecisionStatus,
    pub total: i64,
    pub processed: i64,
    pub decided: i64,
    pub proposed: i64,
    pub skipped: i64,
}

impl BulkDecisionJob {
    pub fn progress(&self) -> Progress {
        Progress {
            job_id: self.id,
            status: self.status,
            total: self.total,
            processed: self.processed,
            decided: self.decided,
            proposed: self.proposed,
            skipped: self.skipped,
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == BulkDecisionStatus::Running
    }

    pub fn outcome(&self) -> Outcome {
        self.template.outcome
    }
}

fn from_model(model: bulk_decision_job::Model) -> Result<BulkDecisionJob, BulkDecisionError> {
    let corrupt =
        |e: serde_json::Error| crate::error::EngineError::corrupt("bulk_decision_job", model.id, e);
    Ok(BulkDecisionJob {
        id: model.id,
        filter: serde_json::from_value(model.filter.clone()).map_err(corrupt)?,
        template: serde_json::from_value(model.template.clone()).map_err(corrupt)?,
        started_by: model.started_by,
        // Jobs started before roles were recorded were started by a senior reviewer, the
        // one role that could start them.
        started_roles: match model.started_roles.clone() {
            Some(roles) => serde_json::from_value(roles).map_err(corrupt)?,
            None => vec![Role::SeniorReviewer],
        },
        stop_reason: model.stop_reason,
        status: model.status,
        total: model.total,
        processed: model.processed,
        decided: model.decided,
        proposed: model.proposed,
        skipped: model.skipped,
        checkpoint: model.checkpoint,
        chunk_size: u32::try_from(model.chunk_size).unwrap_or(super::DEFAULT_CHUNK_SIZE),
        created_at: model.created_at,
        updated_at: model.updated_at,
        finished_at: model.finished_at,
    })
}

pub(crate) async fn load<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
) -> Result<BulkDecisionJob, BulkDecisionError> {
    let model = Jobs::find_by_id(job_id)
        .one(conn)
        .await?
        .ok_or(BulkDecisionError::JobNotFound(job_id))?;
    from_model(model)
}

/// How many appeals `filter` selects now.
pub(crate) async fn count_selected<C: ConnectionTrait>(
    conn: &C,
    filter: &AppealFilter,
    now: DateTime<Utc>,
) -> Result<u64, BulkDecisionError> {
    Ok(filter
        .apply(Appeals::find(), conn.get_database_backend(), now)
        .count(conn)
        .await?)
}

/// Writes the job's row and its appeals, the ones `filter` selects now (one set-based
/// statement). Returns how many appeals the job covers.
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    job: &BulkDecisionJob,
    now: DateTime<Utc>,
) -> Result<i64, BulkDecisionError> {
    let json = |value: Result<serde_json::Value, serde_json::Error>| {
        value.map_err(|e| BulkDecisionError::InvalidInput(e.to_string()))
    };
    Jobs::insert(bulk_decision_job::ActiveModel {
        id: Set(job.id),
        filter: Set(json(serde_json::to_value(&job.filter))?),
        template: Set(json(serde_json::to_value(&job.template))?),
        template_id: Set(job.template.id.clone()),
        outcome: Set(job.template.outcome.as_str().to_owned()),
        started_by: Set(job.started_by.clone()),
        status: Set(BulkDecisionStatus::Running),
        total: Set(0),
        processed: Set(0),
        decided: Set(0),
        proposed: Set(0),
        skipped: Set(0),
        checkpoint: Set(None),
        chunk_size: Set(i32::try_from(job.chunk_size).unwrap_or(i32::MAX)),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        started_roles: Set(Some(json(serde_json::to_value(&job.started_roles))?)),
        stop_reason: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    let selected = job
        .filter
        .apply(
            Appeals::find()
                .select_only()
                .column_as(Expr::val(job.id), "job_id")
                .column(appeal::Column::Id),
            conn.get_database_backend(),
            now,
        )
        .into_query();
    let insert = Query::insert()
        .into_table(Alias::new("bulk_decision_targets"))
        .columns([Alias::new("job_id"), Alias::new("appeal_id")])
        .select_from(selected)
        .map_err(|e| BulkDecisionError::InvalidInput(e.to_string()))?
        .to_owned();
    let total = conn.execute(&insert).await?.rows_affected() as i64;
    Jobs::update_many()
        .col_expr(bulk_decision_job::Column::Total, Expr::value(total))
        .filter(bulk_decision_job::Column::Id.eq(job.id))
        .exec(conn)
        .await?;
    Ok(total)
}

/// The next `limit` appeals of the job after `after`, in id order.
pub(crate) async fn next_targets<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Uuid>, BulkDecisionError> {
    let mut select = Targets::find()
        .select_only()
        .column(bulk_decision_target::Column::AppealId)
        .filter(bulk_decision_target::Column::JobId.eq(job_id));
    if let Some(after) = after {
        select = select.filter(bulk_decision_target::Column::AppealId.gt(after));
    }
    Ok(select
        .order_by_asc(bulk_decision_target::Column::AppealId)
        .limit(u64::from(limit))
        .into_tuple::<Uuid>()
        .all(conn)
        .await?)
}

/// Moves the job's checkpoint from `from` to `to`, only if no other runner moved it first
/// and the job still runs: the chunk's claim. False when the chunk is not this runner's.
pub(crate) async fn claim_chunk<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    from: Option<Uuid>,
    to: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, BulkDecisionError> {
    use bulk_decision_job::Column;
    let mut update = Jobs::update_many()
        .col_expr(Column::Checkpoint, Expr::value(Some(to)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkDecisionStatus::Running));
    update = match from {
        Some(from) => update.filter(Column::Checkpoint.eq(from)),
        None => update.filter(Column::Checkpoint.is_null()),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// What the chunk did, counted into the job's figures.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub processed: i64,
    pub decided: i64,
    pub proposed: i64,
    pub skipped: i64,
}

pub(crate) async fn count_in<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    counts: Counts,
    now: DateTime<Utc>,
) -> Result<(), BulkDecisionError> {
    use bulk_decision_job::Column;
    let add = |column: Column, n: i64| Expr::col(column).add(n);
    Jobs::update_many()
        .col_expr(Column::Processed, add(Column::Processed, counts.processed))
        .col_expr(Column::Decided, add(Column::Decided, counts.decided))
        .col_expr(Column::Proposed, add(Column::Proposed, counts.proposed))
        .col_expr(Column::Skipped, add(Column::Skipped, counts.skipped))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(job_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// One target's outcome, for [`record_outcomes`].
#[derive(Debug, Clone)]
pub(crate) struct TargetOutcome {
    pub appeal_id: Uuid,
    pub outcome: BulkDecisionOutcome,
    pub detail: Option<String>,
}

/// Writes what the chunk did to each of its appeals: one statement on PostgreSQL, one
/// round trip of updates on SQLite.
pub(crate) async fn record_outcomes<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    outcomes: &[TargetOutcome],
) -> Result<(), BulkDecisionError> {
    if outcomes.is_empty() {
        return Ok(());
    }
    if crate::repo::json_rows::applies(conn) {
        let documents: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| {
                serde_json::json!({
                    "appeal_id": o.appeal_id,
                    "outcome": o.outcome.as_str(),
                    "detail": o.detail,
                })
            })
            .collect();
        let sql = format!(
            "UPDATE bulk_decision_targets AS t SET outcome = r.outcome, detail = r.detail \
             FROM {} WHERE t.job_id = $2 AND t.appeal_id = r.appeal_id",
            crate::repo::json_rows::recordset(
                1,
                &[
                    ("appeal_id", "uuid"),
                    ("outcome", "text"),
                    ("detail", "text")
                ],
            )
        );
        crate::repo::json_rows::execute(conn, &sql, &documents, [job_id.into()]).await?;
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let mut batch = crate::repo::write_batch::WriteBatch::default();
    for outcome in outcomes {
        let update = Targets::update_many()
            .col_expr(
                bulk_decision_target::Column::Outcome,
                Expr::value(Some(outcome.outcome)),
            )
            .col_expr(
                bulk_decision_target::Column::Detail,
                Expr::value(outcome.detail.clone()),
            )
            .filter(bulk_decision_target::Column::JobId.eq(job_id))
            .filter(bulk_decision_target::Column::AppealId.eq(outcome.appeal_id))
            .build(backend);
        batch.push(update);
    }
    batch.execute(conn).await?;
    Ok(())
}

/// Completes the job once every one of its appeals is counted in.
pub(crate) async fn finish<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, BulkDecisionError> {
    use bulk_decision_job::Column;
    let done = Jobs::update_many()
        .col_expr(Column::Status, Expr::value(BulkDecisionStatus::Completed))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkDecisionStatus::Running))
        .filter(Expr::col(Column::Processed).eq(Expr::col(Column::Total)))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

pub(crate) async fn cancel<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, BulkDecisionError> {
    use bulk_decision_job::Column;
    let cancelled = Jobs::update_many()
        .col_expr(Column::Status, Expr::value(BulkDecisionStatus::Cancelled))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkDecisionStatus::Running))
        .exec(conn)
        .await?;
    Ok(cancelled.rows_affected == 1)
}

/// Stops a running job for `reason`, keeping what it decided; `false` when it was not
/// running.
pub(crate) async fn stop<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, BulkDecisionError> {
    use bulk_decision_job::Column;
    let stopped = Jobs::update_many()
        .col_expr(Column::Status, Expr::value(BulkDecisionStatus::Cancelled))
        .col_expr(Column::StopReason, Expr::value(Some(reason.to_owned())))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(Some(now)))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkDecisionStatus::Running))
        .exec(conn)
        .await?;
    Ok(stopped.rows_affected == 1)
}

/// Records `roles` as the roles of `subject` on the running jobs they started.
/// Records `roles` on `subject`'s running jobs whose stored roles are a different set; jobs
/// that already hold the same roles, in whatever order, are not written. Returns how many
/// jobs were written.
pub(crate) async fn record_starter_roles<C: ConnectionTrait>(
    conn: &C,
    subject: &str,
    roles: &[Role],
) -> Result<u64, BulkDecisionError> {
    use bulk_decision_job::Column;
    let wanted = role_set(roles);
    let running = Jobs::find()
        .filter(Column::StartedBy.eq(subject))
        .filter(Column::Status.eq(BulkDecisionStatus::Running))
        .all(conn)
        .await?;
    let mut differing = Vec::new();
    for model in running {
        let job = from_model(model)?;
        if role_set(&job.started_roles) != wanted {
            differing.push(job.id);
        }
    }
    if differing.is_empty() {
        return Ok(0);
    }
    let mut sorted = roles.to_vec();
    sorted.sort_by_key(|role| role.as_str());
    sorted.dedup();
    let stored =
        serde_json::to_value(sorted).map_err(|e| BulkDecisionError::InvalidInput(e.to_string()))?;
    Ok(Jobs::update_many()
        .col_expr(Column::StartedRoles, Expr::value(Some(stored)))
        .filter(Column::Id.is_in(differing))
        .filter(Column::Status.eq(BulkDecisionStatus::Running))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Roles as a set: a token's order of roles means nothing.
pub(crate) fn role_set(roles: &[Role]) -> std::collections::BTreeSet<&str> {
    roles.iter().map(|role| role.as_str()).collect()
}

pub(crate) async fn unfinished<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<Uuid>, BulkDecisionError> {
    Ok(Jobs::find()
        .select_only()
        .column(bulk_decision_job::Column::Id)
        .filter(bulk_decision_job::Column::Status.eq(BulkDecisionStatus::Running))
        .order_by_asc(bulk_decision_job::Column::CreatedAt)
        .into_tuple::<Uuid>()
        .all(conn)
        .await?)
}

/// An appeal the job left as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedAppeal {
    pub appeal_id: Uuid,
    pub reference: String,
    pub reason: String,
}

/// The appeals the job skipped, in id order, after `after`, at most `limit`.
pub(crate) async fn skipped<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<SkippedAppeal>, BulkDecisionError> {
    let mut select = Targets::find()
        .filter(bulk_decision_target::Column::JobId.eq(job_id))
        .filter(bulk_decision_target::Column::Outcome.eq(BulkDecisionOutcome::Skipped));
    if let Some(after) = after {
        select = select.filter(bulk_decision_target::Column::AppealId.gt(after));
    }
    let targets = select
        .order_by_asc(bulk_decision_target::Column::AppealId)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = targets.iter().map(|t| t.appeal_id).collect();
    let references: std::collections::HashMap<Uuid, String> = Appeals::find()
        .select_only()
        .column(appeal::Column::Id)
        .column(appeal::Column::Reference)
        .filter(appeal::Column::Id.is_in(ids))
        .into_tuple::<(Uuid, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(targets
        .into_iter()
        .map(|t| SkippedAppeal {
            reference: references.get(&t.appeal_id).cloned().unwrap_or_default(),
            appeal_id: t.appeal_id,
            reason: t.detail.unwrap_or_default(),
        })
        .collect())
}

/// The skip reason as it is stored with the target.
pub(crate) fn detail_of(reason: &SkipReason) -> String {
    reason.to_string()
}
