//! What follows a confirmed restoration in a bulk job: the account's open appeals move to
//! `restored` with the job's reason, and the person gets exactly one notice.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redress_core::{transition, Actor, AppealState, Command, Role};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::job::BulkJob;
use crate::commands::record_keeping;
use crate::delivery::topics;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::repo::appeals::{from_model, StoredAppeal};
use crate::repo::outbox;
use crate::restoration::error::RestorationError;
use crate::restoration::notice;
use crate::settings::EngineSettings;

/// One restored account of a job.
#[derive(Debug, Clone)]
pub(crate) struct RestoredAccount {
    pub account_id: String,
    pub email: Option<String>,
    pub open_appeals: Vec<StoredAppeal>,
}

/// Open appeals of the accounts `accounts` selects (a condition on the appeal's account, so
/// a chunk can name its accounts by a subquery), by account.
pub(crate) async fn open_appeals_of<C: ConnectionTrait>(
    conn: &C,
    accounts: Condition,
) -> Result<HashMap<String, Vec<StoredAppeal>>, RestorationError> {
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    let mut by_account: HashMap<String, Vec<StoredAppeal>> = HashMap::new();
    let rows = Appeals::find()
        .filter(accounts)
        .filter(appeal::Column::State.is_in(open))
        .order_by_asc(appeal::Column::FiledAt)
        .all(conn)
        .await?;
    for row in rows {
        let stored = from_model(row)?;
        if let Some(account) = stored.appeal.account_id.clone() {
            by_account.entry(account).or_default().push(stored);
        }
    }
    Ok(by_account)
}

/// Moves each account's open appeals to `restored` (their own per-appeal notices are not
/// written) and queues one notice per account. Returns the appeals closed per account and
/// whether the person could be notified.
pub(crate) async fn close_appeals_and_notify<C: ConnectionTrait>(
    conn: &C,
    settings: &EngineSettings,
    job: &BulkJob,
    accounts: Vec<RestoredAccount>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Vec<Uuid>, bool)>, RestorationError> {
    let actor = Actor::staff(job.started_by.clone(), [Role::Support]);
    let command = Command::BulkRestore {
        job_id: job.id,
        reason: job.reason.clone(),
    };
    let mut notices = Vec::with_capacity(accounts.len());
    let mut closed = Vec::with_capacity(accounts.len());
    for account in accounts {
        let mut appeal_ids = Vec::with_capacity(account.open_appeals.len());
        for mut stored in account.open_appeals.clone() {
            let events = transition::decide(&stored.appeal, &command, &actor, now)
                .map_err(crate::error::EngineError::from)?;
            record_keeping(conn, settings, &mut stored, &events, now, |item| {
                item.topic != topics::NOTIFY_APPELLANT
            })
            .await?;
            appeal_ids.push(stored.id);
        }
        let item = notice::for_account(
            job.id,
            &account.account_id,
            &job.reason,
            account.open_appeals.first(),
            account.email.as_deref(),
        );
        let notified = item.is_some();
        notices.extend(item);
        closed.push((account.account_id, appeal_ids, notified));
    }
    outbox::enqueue(conn, notices, now).await?;
    Ok(closed)
}
