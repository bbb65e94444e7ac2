//! Recording a backend's confirmation: what was undone, the registry, and the appeal.

use chrono::{DateTime, Utc};
use redress_core::{Actor, Command};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::account_locks::lock_accounts;
use super::bulk::finalize::{
    close_appeals_and_notify, open_appeals_of, open_claims_of, with_claims, RestoredAccount,
};
use super::bulk::BulkOutcome;
use super::error::RestorationError;
use super::plan::{ItemKind, ItemOutcome, RestorationReport};
use super::{records, registry_writes};
use crate::commands::apply_command;
use crate::entity::account::{self, Entity as Accounts};
use crate::entity::appeal;
use crate::entity::bulk_restore_job::{self, Entity as Jobs};
use crate::entity::bulk_restore_outcome::{self, Entity as Outcomes};
use crate::entity::restoration;
use crate::hooks::InTransaction;
use crate::settings::EngineSettings;

/// The actor of confirmations: Redress itself, on the backend's word.
pub fn confirmer() -> Actor {
    Actor::system("restoration")
}

/// Applies a confirmation in the caller's transaction. Returns false when the restoration
/// was already confirmed (a repeated delivery), in which case nothing is written.
pub async fn confirm(
    cx: &InTransaction<'_>,
    restoration: &restoration::Model,
    report: &RestorationReport,
) -> Result<bool, RestorationError> {
    let (conn, settings, now) = (cx.txn, cx.settings, cx.now);
    if !records::mark_confirmed(conn, restoration.id, now).await? {
        return Ok(false);
    }
    records::insert_items(conn, &[(restoration.id, report)]).await?;
    let reactivated: Vec<String> = report
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Account && i.outcome == ItemOutcome::Undone)
        .map(|i| i.item_id.clone())
        .collect();
    let reversed: Vec<_> = report.reversed_enforcements().collect();
    registry_writes::apply(conn, &reactivated, &reversed, now).await?;

    if let Some(appeal_id) = restoration.appeal_id {
        apply_command(
            cx,
            appeal_id,
            None,
            &Command::RestorationConfirmed {
                restoration_id: restoration.id,
            },
            &confirmer(),
        )
        .await?;
    }
    if let Some(job_id) = restoration.job_id {
        finish_bulk_account(conn, settings, restoration, job_id, now).await?;
    }
    tracing::info!(restoration = %restoration.id, account = %restoration.account_id, "restoration confirmed");
    Ok(true)
}

/// A bulk account the account service confirmed: close its appeals, notify once, and move
/// its outcome from requested to restored.
async fn finish_bulk_account<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    restoration: &restoration::Model,
    job_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), RestorationError> {
    let job = super::bulk::job_in(conn, job_id).await?;
    let account_id = restoration.account_id.clone();
    let email = Accounts::find_by_id(account_id.clone())
        .one(conn)
        .await?
        .and_then(|a| a.email);
    lock_accounts(conn, &[account_id.as_str()]).await?;
    let linked = open_appeals_of(
        conn,
        Condition::all().add(appeal::Column::AccountId.eq(account_id.as_str())),
    )
    .await?;
    let claims = open_claims_of(
        conn,
        Condition::all().add(account::Column::Id.eq(account_id.as_str())),
    )
    .await?;
    let mut open = with_claims(linked, claims);
    let closed = close_appeals_and_notify(
        conn,
        settings,
        &job,
        vec![RestoredAccount {
            account_id: account_id.clone(),
            email,
            open_appeals: open.remove(&account_id).unwrap_or_default(),
        }],
        now,
    )
    .await?;
    let (appeals, notified) = closed
        .into_iter()
        .next()
        .map(|(_, appeals, notified)| (appeals, notified))
        .unwrap_or_default();
    Outcomes::update_many()
        .col_expr(
            bulk_restore_outcome::Column::Outcome,
            Expr::value(BulkOutcome::Restored),
        )
        .col_expr(
            bulk_restore_outcome::Column::Appeals,
            Expr::value(json!(appeals)),
        )
        .col_expr(
            bulk_restore_outcome::Column::Detail,
            Expr::value((!notified).then(|| "no contact known; not notified".to_owned())),
        )
        .col_expr(bulk_restore_outcome::Column::RecordedAt, Expr::value(now))
        .filter(bulk_restore_outcome::Column::JobId.eq(job_id))
        .filter(bulk_restore_outcome::Column::AccountId.eq(account_id))
        .exec(conn)
        .await?;
    Jobs::update_many()
        .col_expr(
            bulk_restore_job::Column::Restored,
            Expr::col(bulk_restore_job::Column::Restored).add(1),
        )
        .col_expr(
            bulk_restore_job::Column::Requested,
            Expr::col(bulk_restore_job::Column::Requested).sub(1),
        )
        .filter(bulk_restore_job::Column::Id.eq(job_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Records a refusal of a bulk account in the job's audit.
pub async fn record_bulk_refusal<C: ConnectionTrait>(
    conn: &C,
    restoration: &restoration::Model,
    error: &str,
) -> Result<(), RestorationError> {
    records::mark_failed(conn, restoration.id, error).await?;
    let Some(job_id) = restoration.job_id else {
        return Ok(());
    };
    let changed = Outcomes::update_many()
        .col_expr(
            bulk_restore_outcome::Column::Outcome,
            Expr::value(BulkOutcome::Failed),
        )
        .col_expr(bulk_restore_outcome::Column::Detail, Expr::value(error))
        .filter(bulk_restore_outcome::Column::JobId.eq(job_id))
        .filter(bulk_restore_outcome::Column::AccountId.eq(restoration.account_id.as_str()))
        .filter(bulk_restore_outcome::Column::Outcome.eq(BulkOutcome::Requested))
        .exec(conn)
        .await?;
    if changed.rows_affected == 1 {
        Jobs::update_many()
            .col_expr(
                bulk_restore_job::Column::Failed,
                Expr::col(bulk_restore_job::Column::Failed).add(1),
            )
            .col_expr(
                bulk_restore_job::Column::Requested,
                Expr::col(bulk_restore_job::Column::Requested).sub(1),
            )
            .filter(bulk_restore_job::Column::Id.eq(job_id))
            .exec(conn)
            .await?;
    }
    Ok(())
}
