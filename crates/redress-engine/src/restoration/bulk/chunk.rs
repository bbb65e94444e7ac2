//! One chunk of one slice of a bulk job, in the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};
use uuid::Uuid;

use super::finalize::{
    close_appeals_and_notify, open_appeals_of, open_claims_of, with_claims, RestoredAccount,
};
use super::job::{self, BulkJob};
use super::outcomes::{self, AccountOutcome};
use super::slices;
use super::targets::{self, Target};
use super::{BulkJobStatus, BulkOutcome, Progress};
use crate::entity::account;
use crate::entity::bulk_restore_job::{self, Entity as Jobs};
use crate::outbox::{
    PlatformBulkRestore, PlatformEvent, PlatformEventKind, PlatformSubject, RequestRestoration,
};
use crate::repo::outbox::{self, OutboxItem};
use crate::restoration::account_locks::lock_accounts;
use crate::restoration::error::RestorationError;
use crate::restoration::plan::{embedded_report, PlannedItem, RestorationReport};
use crate::restoration::records::{self, NewRestoration};
use crate::restoration::registry_writes;
use crate::restoration::selector::Selector;
use crate::restoration::service::RestorationBackend;
use crate::settings::EngineSettings;

/// What one step of a job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkOutcome {
    /// A chunk was processed and committed; more may follow.
    Processed(Progress),
    /// Nothing was left: the job is complete.
    Finished(Progress),
    /// The job is not running (cancelled, finished, or advanced by another runner).
    Stopped,
}

/// What one step of a slice did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SliceStep {
    /// A chunk of the slice was processed; commit it.
    Processed(Progress),
    /// The slice has no accounts left.
    Exhausted,
    /// The job is not running (finished or cancelled, perhaps meanwhile): roll back.
    NotRunning,
    /// Another runner advanced this slice first: roll back; the slice is not done.
    HeldElsewhere,
}

#[derive(Debug, FromQueryResult)]
struct EnforcementRow {
    id: Uuid,
    account_id: String,
    kind: String,
    content_id: Option<String>,
}

/// The unreversed enforcements the selector names, per account of the chunk.
async fn enforcements_of<C: ConnectionTrait>(
    conn: &C,
    chunk: SelectStatement,
    selector: &Selector,
) -> Result<HashMap<String, Vec<PlannedItem>>, RestorationError> {
    let e = Alias::new("enforcements");
    let stmt = Query::select()
        .columns([
            (e.clone(), Alias::new("id")),
            (e.clone(), Alias::new("account_id")),
            (e.clone(), Alias::new("kind")),
            (e.clone(), Alias::new("content_id")),
        ])
        .from(e.clone())
        .and_where(Expr::col((e.clone(), Alias::new("account_id"))).in_subquery(chunk))
        .and_where(Expr::col((e.clone(), Alias::new("reversed_at"))).is_null())
        .cond_where(selector.enforcement_condition())
        .order_by((e.clone(), Alias::new("enforced_at")), Order::Asc)
        .order_by((e, Alias::new("id")), Order::Asc)
        .to_owned();
    let backend = conn.get_database_backend();
    let rows = EnforcementRow::find_by_statement(backend.build(&stmt))
        .all(conn)
        .await?;
    let mut by_account: HashMap<String, Vec<PlannedItem>> = HashMap::new();
    for row in rows {
        by_account
            .entry(row.account_id)
            .or_default()
            .push(PlannedItem {
                enforcement_id: row.id,
                kind: row.kind,
                content_id: row.content_id,
            });
    }
    Ok(by_account)
}

/// What the chunk decided for one account.
enum Decision {
    Failed(String),
    AlreadyActive,
    Restore {
        restoration: NewRestoration,
        report: RestorationReport,
    },
}

#[derive(Default)]
struct Counts {
    processed: i64,
    restored: i64,
    requested: i64,
    already_active: i64,
    failed: i64,
}

pub(crate) async fn run<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    backend: &RestorationBackend,
    job_id: Uuid,
    slice_index: i32,
    now: DateTime<Utc>,
) -> Result<SliceStep, RestorationError> {
    let job = job::load(conn, job_id).await?;
    if !job.is_running() {
        return Ok(SliceStep::NotRunning);
    }
    let slice =
        slices::load(conn, job_id, slice_index)
            .await?
            .ok_or(RestorationError::SliceNotFound {
                job: job_id,
                slice: slice_index,
            })?;
    let chunk = targets::next_chunk(
        conn,
        job_id,
        slice.resume_after(),
        slice.upto.as_deref(),
        u64::from(job.chunk_size),
    )
    .await?;
    let Some(last) = chunk.last().map(|t| t.account_id.clone()) else {
        return Ok(SliceStep::Exhausted);
    };
    let range = || targets::range(job_id, slice.resume_after(), &last);
    let accounts: Vec<&str> = chunk.iter().map(|t| t.account_id.as_str()).collect();
    lock_accounts(conn, &accounts).await?;
    let mut planned = enforcements_of(conn, range(), &job.selector).await?;
    let linked = open_appeals_of(
        conn,
        Condition::all()
            .add(Expr::col((Alias::new("appeals"), Alias::new("account_id"))).in_subquery(range())),
    )
    .await?;
    let claims = open_claims_of(
        conn,
        Condition::all().add(account::Column::Id.in_subquery(range())),
    )
    .await?;
    let mut open = with_claims(linked, claims);

    let decisions: Vec<(Target, Decision)> = chunk
        .into_iter()
        .map(|target| {
            let items = planned.remove(&target.account_id).unwrap_or_default();
            let has_open = open.contains_key(&target.account_id);
            let decision = decide(&job, backend, &target, items, has_open);
            (target, decision)
        })
        .collect();
    let mut counts = Counts {
        processed: decisions.len() as i64,
        ..Counts::default()
    };
    for (_, decision) in &decisions {
        match decision {
            Decision::Failed(_) => counts.failed += 1,
            Decision::AlreadyActive => counts.already_active += 1,
            Decision::Restore { .. } if matches!(backend, RestorationBackend::Embedded) => {
                counts.restored += 1;
            }
            Decision::Restore { .. } => counts.requested += 1,
        }
    }

    if !slices::claim(conn, &slice, &last).await? {
        return Ok(SliceStep::HeldElsewhere);
    }
    write(conn, settings, backend, &job, decisions, &mut open, now).await?;
    if !count_in(conn, job_id, &counts, now).await? {
        return Ok(SliceStep::NotRunning);
    }
    Ok(SliceStep::Processed(
        job::load(conn, job_id).await?.progress(),
    ))
}

/// Adds the chunk to the job's figures. This is the chunk's last write: the job's row lock
/// is held from here to the commit only, so slices running at once wait for each other no
/// longer than that. False when the job was cancelled meanwhile; the chunk is then
/// given up.
async fn count_in<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    counts: &Counts,
    now: DateTime<Utc>,
) -> Result<bool, RestorationError> {
    use bulk_restore_job::Column;
    let add = |column: Column, n: i64| Expr::col(column).add(n);
    let counted = Jobs::update_many()
        .col_expr(Column::Processed, add(Column::Processed, counts.processed))
        .col_expr(Column::Restored, add(Column::Restored, counts.restored))
        .col_expr(Column::Requested, add(Column::Requested, counts.requested))
        .col_expr(
            Column::AlreadyActive,
            add(Column::AlreadyActive, counts.already_active),
        )
        .col_expr(Column::Failed, add(Column::Failed, counts.failed))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkJobStatus::Running))
        .exec(conn)
        .await?;
    Ok(counted.rows_affected == 1)
}

fn decide(
    job: &BulkJob,
    backend: &RestorationBackend,
    target: &Target,
    items: Vec<PlannedItem>,
    has_open_appeal: bool,
) -> Decision {
    let Some(status) = target.status else {
        return Decision::Failed("unknown account".to_owned());
    };
    let report = embedded_report(&target.account_id, status, &items);
    if !report.undid_anything() && !has_open_appeal {
        return Decision::AlreadyActive;
    }
    Decision::Restore {
        restoration: NewRestoration {
            id: Uuid::now_v7(),
            appeal_id: None,
            job_id: Some(job.id),
            account_id: target.account_id.clone(),
            enforcement_ids: items.iter().map(|i| i.enforcement_id).collect(),
            backend: backend.name(),
            reason: job.reason.clone(),
            requested_by: job.started_by.clone(),
        },
        report,
    }
}

fn outcome_row(
    account_id: &str,
    outcome: BulkOutcome,
    detail: Option<String>,
    restoration_id: Option<Uuid>,
    appeals: Vec<Uuid>,
) -> AccountOutcome {
    AccountOutcome {
        account_id: account_id.to_owned(),
        outcome,
        detail,
        restoration_id,
        appeals,
    }
}

async fn write<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    backend: &RestorationBackend,
    job: &BulkJob,
    decisions: Vec<(Target, Decision)>,
    open: &mut HashMap<String, Vec<crate::repo::appeals::StoredAppeal>>,
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    let embedded = matches!(backend, RestorationBackend::Embedded);
    let mut outcomes = Vec::with_capacity(decisions.len());
    let mut restorations = Vec::new();
    let mut reports = Vec::new();
    let mut restored = Vec::new();
    let mut requests = Vec::new();
    for (target, decision) in decisions {
        match decision {
            Decision::Failed(reason) => outcomes.push(outcome_row(
                &target.account_id,
                BulkOutcome::Failed,
                Some(reason),
                None,
                Vec::new(),
            )),
            Decision::AlreadyActive => outcomes.push(outcome_row(
                &target.account_id,
                BulkOutcome::AlreadyActive,
                None,
                None,
                Vec::new(),
            )),
            Decision::Restore {
                restoration,
                report,
            } if embedded => {
                restored.push((
                    restoration.id,
                    RestoredAccount {
                        account_id: target.account_id.clone(),
                        email: target.email.clone(),
                        open_appeals: open.remove(&target.account_id).unwrap_or_default(),
                    },
                ));
                reports.push((restoration.id, report));
                restorations.push(restoration);
            }
            Decision::Restore { restoration, .. } => {
                requests.push(request_item(&restoration));
                outcomes.push(outcome_row(
                    &target.account_id,
                    BulkOutcome::Requested,
                    None,
                    Some(restoration.id),
                    Vec::new(),
                ));
                restorations.push(restoration);
            }
        }
    }
    records::insert_many(conn, restorations, now, embedded).await?;
    if embedded {
        let item_refs: Vec<(Uuid, &RestorationReport)> =
            reports.iter().map(|(id, report)| (*id, report)).collect();
        records::insert_items(conn, &item_refs).await?;
        let reactivated: Vec<String> = reports
            .iter()
            .flat_map(|(_, r)| r.items.iter())
            .filter(|i| {
                i.kind == crate::restoration::plan::ItemKind::Account
                    && i.outcome == crate::restoration::plan::ItemOutcome::Undone
            })
            .map(|i| i.item_id.clone())
            .collect();
        let reversed: Vec<Uuid> = reports
            .iter()
            .flat_map(|(_, r)| r.reversed_enforcements())
            .collect();
        registry_writes::apply(conn, &reactivated, &reversed, now).await?;
        let ids: HashMap<String, Uuid> = restored
            .iter()
            .map(|(id, account)| (account.account_id.clone(), *id))
            .collect();
        let closed = close_appeals_and_notify(
            conn,
            settings,
            job,
            restored.into_iter().map(|(_, account)| account).collect(),
            now,
        )
        .await?;
        for (account_id, appeals, notified) in closed {
            outcomes.push(outcome_row(
                &account_id,
                BulkOutcome::Restored,
                (!notified).then(|| "no contact known; not notified".to_owned()),
                ids.get(&account_id).copied(),
                appeals,
            ));
        }
    } else {
        outbox::enqueue(conn, requests, now).await?;
    }
    outcomes::insert(conn, job.id, &outcomes, now).await
}

/// The outbox item that asks the account service to carry out a bulk restoration.
fn request_item(restoration: &NewRestoration) -> OutboxItem {
    OutboxItem::of(
        &RequestRestoration {
            appeal_id: None,
            restoration_id: Some(restoration.id),
            job_id: restoration.job_id,
            account_id: Some(restoration.account_id.clone()),
            reference: None,
            version: None,
        },
        None,
        format!("restoration:{}", restoration.id),
    )
}

/// Completes the job once every one of its accounts is counted in; until then (another
/// runner still has a chunk in flight) or when the job is no longer running, Stopped.
pub(crate) async fn finish<C: ConnectionTrait>(
    conn: &C,
    job_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ChunkOutcome, RestorationError> {
    use bulk_restore_job::Column;
    let done = Jobs::update_many()
        .col_expr(Column::Status, Expr::value(BulkJobStatus::Completed))
        .col_expr(
            Column::ActiveSelectorKey,
            Expr::value(Option::<String>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .filter(Column::Id.eq(job_id))
        .filter(Column::Status.eq(BulkJobStatus::Running))
        .filter(Expr::col(Column::Processed).eq(Expr::col(Column::Total)))
        .exec(conn)
        .await?;
    if done.rows_affected != 1 {
        return Ok(ChunkOutcome::Stopped);
    }
    let finished = job::load(conn, job_id).await?;
    let completed = PlatformEvent {
        event_id: Uuid::now_v7(),
        kind: PlatformEventKind::BulkRestoreCompleted,
        occurred_at: now,
        subject: PlatformSubject::BulkRestore(PlatformBulkRestore {
            job_id,
            requested: finished.requested,
            restored: finished.restored,
            already_active: finished.already_active,
            failed: finished.failed,
        }),
    };
    outbox::enqueue(
        conn,
        vec![completed.into_item(&format!("bulk_restore:{job_id}"))],
        now,
    )
    .await?;
    tracing::info!(
        job = %job_id,
        restored = finished.restored,
        requested = finished.requested,
        already_active = finished.already_active,
        failed = finished.failed,
        "bulk restore completed"
    );
    Ok(ChunkOutcome::Finished(finished.progress()))
}
