//! An appeal filed after a bulk job already restored the enforcement it is about has nothing
//! left for a reviewer: it is closed at once as the job's, so that no review can end in a
//! second restoration notice. The person gets the job's one notice: already sent (by mail
//! to the account's address, or on an earlier appeal) it is not sent again; never sent
//! (the job knew no way to reach them) it goes out now on this appeal's channel. A DM
//! appeal is checked again when its sender confirms the handle and the account is known.
//! A mail appeal nobody vouched for, linked to no account, is checked against the account
//! it claims (the one registered to the address it came from) and, when the job restored
//! that account's enforcement, linked to it and closed alike.

use async_trait::async_trait;
use redress_core::{transition, AccountLink, Actor, Command, Role};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::commands::record_keeping;
use crate::delivery::topics;
use crate::entity::account::Entity as Accounts;
use crate::entity::bulk_restore_job::Entity as Jobs;
use crate::entity::enforcement;
use crate::entity::restoration::{self, Entity as Restorations, RestorationStatus};
use crate::error::EngineError;
use crate::filing::enforcement_for_account;
use crate::hooks::{AfterFiling, DecisionObserver, FiledCase, InTransaction, RecordedCommand};
use crate::repo::appeals::StoredAppeal;
use crate::repo::{outbox, registry};
use crate::restoration::account_locks::lock_accounts;
use crate::restoration::notice;
use crate::triage::claimed_account_id;

/// Closes a new appeal whose enforcement a bulk job has already reversed.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloseAppealsABulkRestoreAnswered;

#[async_trait]
impl AfterFiling for CloseAppealsABulkRestoreAnswered {
    async fn after_filing(
        &self,
        cx: &InTransaction<'_>,
        case: &mut FiledCase<'_>,
    ) -> Result<(), EngineError> {
        let closed = match case.enforcement {
            Some(enforcement) => close_if_restored(cx, case.appeal(), enforcement, None).await?,
            None => close_claim_if_restored(cx, case.appeal()).await?,
        };
        if let Some(closed) = closed {
            case.replace_appeal(closed);
        }
        Ok(())
    }
}

/// A DM appeal learns its account only when the sender confirms the handle, an email
/// nobody vouched for when a triager links the account it claims: the same check then.
#[async_trait]
impl DecisionObserver for CloseAppealsABulkRestoreAnswered {
    async fn observe(
        &self,
        cx: &InTransaction<'_>,
        recorded: &RecordedCommand<'_>,
    ) -> Result<(), EngineError> {
        let (Command::LinkIdentity {
            enforcement_id: Some(enforcement_id),
            ..
        }
        | Command::Triage {
            link:
                Some(AccountLink {
                    enforcement_id: Some(enforcement_id),
                    ..
                }),
            ..
        }) = recorded.command
        else {
            return Ok(());
        };
        let Some(enforcement) = registry::find_enforcement(cx.txn, *enforcement_id).await? else {
            return Ok(());
        };
        close_if_restored(cx, recorded.appeal, &enforcement, None).await?;
        Ok(())
    }
}

/// Closes an appeal linked to no account that claims an account, as the bulk job's that
/// reversed the enforcement filing would have chosen for it, if one did: the same case
/// as an appeal filed linked to that account.
async fn close_claim_if_restored(
    cx: &InTransaction<'_>,
    appeal: &StoredAppeal,
) -> Result<Option<StoredAppeal>, EngineError> {
    let Some(account_id) = claimed_account_id(cx.txn, appeal).await? else {
        return Ok(None);
    };
    let Some(enforcement) = enforcement_for_account(cx.txn, &account_id).await? else {
        return Ok(None);
    };
    let link = AccountLink {
        account_id,
        enforcement_id: Some(enforcement.id),
    };
    close_if_restored(cx, appeal, &enforcement, Some(link)).await
}

/// Closes `appeal` as the bulk job's that reversed `enforcement`, if one did, with the
/// job's one notice, linking it as `link` says; returns the closed case.
async fn close_if_restored(
    cx: &InTransaction<'_>,
    appeal: &StoredAppeal,
    enforcement: &enforcement::Model,
    link: Option<AccountLink>,
) -> Result<Option<StoredAppeal>, EngineError> {
    if !appeal.appeal.state.is_open() {
        return Ok(None);
    }
    lock_accounts(cx.txn, &[enforcement.account_id.as_str()]).await?;
    let Some(job_id) = restoring_job(cx.txn, enforcement).await? else {
        return Ok(None);
    };
    let Some(job) = Jobs::find_by_id(job_id).one(cx.txn).await? else {
        return Ok(None);
    };
    let actor = Actor::staff(job.started_by.clone(), [Role::Support]);
    let command = Command::BulkRestore {
        job_id,
        reason: job.reason.clone(),
        link,
    };
    let mut stored = appeal.clone();
    let events = transition::decide(&stored.appeal, &command, &actor, cx.now)?;
    record_keeping(cx.txn, cx.settings, &mut stored, &events, cx.now, |item| {
        item.topic != topics::NOTIFY_APPELLANT
    })
    .await?;
    let email = Accounts::find_by_id(enforcement.account_id.clone())
        .one(cx.txn)
        .await?
        .and_then(|account| account.email);
    // The job's own idempotency key: a person it told already is not told again.
    let item = notice::for_account(
        job_id,
        &enforcement.account_id,
        &job.reason,
        Some(&stored),
        email.as_deref(),
    );
    outbox::enqueue(cx.txn, item.into_iter().collect(), cx.now).await?;
    Ok(Some(stored))
}

/// The bulk job whose confirmed restoration reversed `enforcement`, if one did.
async fn restoring_job<C: ConnectionTrait>(
    conn: &C,
    enforcement: &enforcement::Model,
) -> Result<Option<Uuid>, EngineError> {
    let restorations = Restorations::find()
        .filter(restoration::Column::AccountId.eq(enforcement.account_id.as_str()))
        .filter(restoration::Column::JobId.is_not_null())
        .filter(restoration::Column::Status.eq(RestorationStatus::Confirmed))
        .order_by_desc(restoration::Column::ConfirmedAt)
        .all(conn)
        .await?;
    Ok(restorations
        .into_iter()
        .find(|r| covers(&r.enforcement_ids, enforcement.id))
        .and_then(|r| r.job_id))
}

fn covers(enforcement_ids: &serde_json::Value, id: Uuid) -> bool {
    let id = id.to_string();
    enforcement_ids
        .as_array()
        .is_some_and(|ids| ids.iter().any(|e| e.as_str() == Some(id.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restoration_covers_the_enforcements_it_lists() {
        let id = Uuid::now_v7();
        let other = Uuid::now_v7();
        assert!(covers(&serde_json::json!([other, id]), id));
        assert!(!covers(&serde_json::json!([other]), id));
        assert!(!covers(&serde_json::json!({"ids": [id]}), id));
    }
}
