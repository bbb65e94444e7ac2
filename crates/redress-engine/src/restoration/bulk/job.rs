//! Starting, cancelling and reading bulk jobs.

use chrono::{DateTime, Utc};
use redress_core::role::BULK_RESTORERS;
use redress_core::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use super::{slices, targets, BulkJobStatus, BulkOutcome, Progress};
use crate::engine::Engine;
use crate::entity::bulk_restore_job::{self, Entity as Jobs};
use crate::entity::bulk_restore_outcome::{self, Entity as Outcomes};
use crate::error::is_unique_violation;
use crate::restoration::error::RestorationError;
use crate::restoration::selector::Selector;
use crate::text::WithoutNul;

/// A bulk job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkJob {
    pub id: Uuid,
    /// As started; an account list is kept in the job's targets, not repeated here.
    pub selector: Selector,
    pub selector_key: String,
    pub reason: String,
    pub started_by: String,
    pub status: BulkJobStatus,
    pub total: i64,
    pub processed: i64,
    pub restored: i64,
    pub requested: i64,
    pub already_active: i64,
    pub failed: i64,
    pub chunk_size: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl BulkJob {
    pub fn progress(&self) -> Progress {
        Progress {
            job_id: self.id,
            status: self.status,
            total: self.total,
            processed: self.processed,
            restored: self.restored,
            requested: self.requested,
            already_active: self.already_active,
            failed: self.failed,
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == BulkJobStatus::Running
    }
}

pub(crate) fn from_model(model: bulk_restore_job::Model) -> Result<BulkJob, RestorationError> {
    let selector: Selector = serde_json::from_value(model.selector)
        .map_err(|e| crate::error::EngineError::corrupt("bulk_restore_job", model.id, e))?;
    Ok(BulkJob {
        id: model.id,
        selector,
        selector_key: model.selector_key,
        reason: model.reason,
        started_by: model.started_by,
        status: model.status,
        total: model.total,
        processed: model.processed,
        restored: model.restored,
        requested: model.requested,
        already_active: model.already_active,
        failed: model.failed,
        chunk_size: u32::try_from(model.chunk_size).unwrap_or(super::DEFAULT_CHUNK_SIZE),
        created_at: model.created_at,
        updated_at: model.updated_at,
        finished_at: model.finished_at,
    })
}

/// What is stored of a selector: a list is summarised (its accounts are the targets).
fn stored_selector(selector: &Selector) -> Selector {
    match selector {
        Selector::Accounts { .. } => Selector::Accounts {
            account_ids: Vec::new(),
        },
        other => other.clone(),
    }
}

fn require_bulk_role(actor: &Actor, action: &'static str) -> Result<(), RestorationError> {
    if actor.has_any_role(BULK_RESTORERS) {
        Ok(())
    } else {
        Err(RestorationError::NotPermitted {
            actor: actor.to_string(),
            action,
        })
    }
}

async fn active_for_key(
    db: &DatabaseConnection,
    key: &str,
) -> Result<Option<bulk_restore_job::Model>, RestorationError> {
    Ok(Jobs::find()
        .filter(bulk_restore_job::Column::ActiveSelectorKey.eq(key))
        .one(db)
        .await?)
}

pub async fn start(
    engine: &Engine,
    actor: &Actor,
    selector: Selector,
    reason: &str,
    chunk_size: u32,
    slice_count: u32,
    now: DateTime<Utc>,
) -> Result<BulkJob, RestorationError> {
    require_bulk_role(actor, "start a bulk restore")?;
    let actor = &actor.clone().without_nul();
    let selector = crate::text::via_json(selector);
    let reason = crate::text::without_nul(reason);
    selector.validate()?;
    if reason.trim().is_empty() {
        return Err(RestorationError::InvalidSelector(
            "a bulk restore needs a reason".to_owned(),
        ));
    }
    let db = engine.db();
    let key = selector.key();
    if let Some(running) = active_for_key(db, &key).await? {
        return Err(RestorationError::SelectorBusy {
            selector: key,
            job: running.id,
        });
    }
    let id = Uuid::now_v7();
    let row = bulk_restore_job::ActiveModel {
        id: Set(id),
        selector: Set(serde_json::to_value(stored_selector(&selector))
            .map_err(|e| RestorationError::InvalidSelector(e.to_string()))?),
        selector_key: Set(key.clone()),
        active_selector_key: Set(Some(key.clone())),
        reason: Set(reason.trim().to_owned()),
        started_by: Set(actor.subject().unwrap_or_default().to_owned()),
        status: Set(BulkJobStatus::Running),
        total: Set(0),
        processed: Set(0),
        restored: Set(0),
        requested: Set(0),
        already_active: Set(0),
        failed: Set(0),
        chunk_size: Set(chunk_size.clamp(1, super::MAX_CHUNK_SIZE) as i32),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    };
    let started = engine
        .transact_once(async |txn| {
            Jobs::insert(row)
                .exec_without_returning(txn)
                .await
                .map_err(|err| busy_or(err, &key))?;
            let total = targets::materialize(txn, id, &selector).await?;
            slices::plan(txn, id, slice_count).await?;
            Jobs::update_many()
                .col_expr(bulk_restore_job::Column::Total, Expr::value(total))
                .filter(bulk_restore_job::Column::Id.eq(id))
                .exec(txn)
                .await?;
            Ok(total)
        })
        .await;
    let total = match started {
        Ok(total) => total,
        Err(RestorationError::SelectorBusy { selector, .. }) => {
            let job = active_for_key(db, &selector)
                .await?
                .map_or(Uuid::nil(), |j| j.id);
            return Err(RestorationError::SelectorBusy { selector, job });
        }
        Err(err) => return Err(err),
    };
    tracing::info!(job = %id, selector = %key, total, actor = %actor, "bulk restore started");
    load(db, id).await
}

/// The job's row is unique per selector among unfinished jobs, so a concurrent start of the
/// same selector fails its insert with a unique violation: the selector is busy. Which job
/// holds it is looked up once this transaction has rolled back.
fn busy_or(err: sea_orm::DbErr, key: &str) -> RestorationError {
    if is_unique_violation(&err) {
        RestorationError::SelectorBusy {
            selector: key.to_owned(),
            job: Uuid::nil(),
        }
    } else {
        err.into()
    }
}

pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    job_id: Uuid,
    now: DateTime<Utc>,
) -> Result<BulkJob, RestorationError> {
    require_bulk_role(actor, "cancel a bulk restore")?;
    let result = Jobs::update_many()
        .col_expr(
            bulk_restore_job::Column::Status,
            Expr::value(BulkJobStatus::Cancelled),
        )
        .col_expr(
            bulk_restore_job::Column::ActiveSelectorKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(bulk_restore_job::Column::UpdatedAt, Expr::value(now))
        .col_expr(bulk_restore_job::Column::FinishedAt, Expr::value(now))
        .filter(bulk_restore_job::Column::Id.eq(job_id))
        .filter(bulk_restore_job::Column::Status.eq(BulkJobStatus::Running))
        .exec(db)
        .await?;
    let job = load(db, job_id).await?;
    if result.rows_affected == 0 {
        return Err(RestorationError::NotRunning {
            job: job_id,
            status: job.status,
        });
    }
    tracing::info!(job = %job_id, actor = %actor, processed = job.processed, "bulk restore cancelled");
    Ok(job)
}

pub async fn load<C: ConnectionTrait>(conn: &C, job_id: Uuid) -> Result<BulkJob, RestorationError> {
    let model = Jobs::find_by_id(job_id)
        .one(conn)
        .await?
        .ok_or(RestorationError::JobNotFound(job_id))?;
    from_model(model)
}

pub async fn unfinished(db: &DatabaseConnection) -> Result<Vec<Uuid>, RestorationError> {
    Ok(Jobs::find()
        .filter(bulk_restore_job::Column::Status.eq(BulkJobStatus::Running))
        .order_by_asc(bulk_restore_job::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|j| j.id)
        .collect())
}

/// An account the job could not restore, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedAccount {
    pub account_id: String,
    pub reason: String,
}

/// The final report of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkReport {
    pub job: BulkJob,
    pub failed: Vec<FailedAccount>,
}

pub async fn report(db: &DatabaseConnection, job_id: Uuid) -> Result<BulkReport, RestorationError> {
    let job = load(db, job_id).await?;
    let failed = Outcomes::find()
        .filter(bulk_restore_outcome::Column::JobId.eq(job_id))
        .filter(bulk_restore_outcome::Column::Outcome.eq(BulkOutcome::Failed))
        .order_by_asc(bulk_restore_outcome::Column::AccountId)
        .all(db)
        .await?
        .into_iter()
        .map(|o| FailedAccount {
            account_id: o.account_id,
            reason: o.detail.unwrap_or_default(),
        })
        .collect();
    Ok(BulkReport { job, failed })
}
