//! What follows a confirmed restoration in a bulk job: the account's open appeals move to
//! `restored` with the job's reason, and the person gets exactly one notice. An open mail
//! appeal linked to no account that claims the account (it came from the address
//! registered to it) is closed with them, linked to the account as it closes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redress_core::{transition, AccountLink, Actor, AppealState, Channel, Command, Role};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::job::BulkJob;
use crate::commands::record_keeping;
use crate::delivery::topics;
use crate::entity::account::{self, Entity as Accounts};
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::filing::enforcement_for_account;
use crate::repo::appeals::{from_model, StoredAppeal};
use crate::repo::outbox;
use crate::restoration::error::RestorationError;
use crate::restoration::notice;
use crate::settings::EngineSettings;
use crate::triage::{claimed_address, CLAIMING_CHANNELS};

/// One restored account of a job.
#[derive(Debug, Clone)]
pub(crate) struct RestoredAccount {
    pub account_id: String,
    pub email: Option<String>,
    /// The open appeals linked to the account and those claiming it, oldest first.
    pub open_appeals: Vec<StoredAppeal>,
}

/// Adds the appeals claiming each account to the appeals linked to it, oldest first, so
/// the job's one notice goes on the channel of the person's first appeal whichever it is.
pub(crate) fn with_claims(
    mut linked: HashMap<String, Vec<StoredAppeal>>,
    claims: HashMap<String, Vec<StoredAppeal>>,
) -> HashMap<String, Vec<StoredAppeal>> {
    for (account_id, claiming) in claims {
        let appeals = linked.entry(account_id).or_default();
        appeals.extend(claiming);
        appeals.sort_by_key(|stored| (stored.appeal.filed_at, stored.id));
    }
    linked
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

/// An appeal's contact folded as the registry stores addresses. `COLLATE "C"` makes
/// PostgreSQL's `lower` fold ASCII only, as SQLite's does, so both backends find the same
/// appeals.
pub(crate) fn folded_contact(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => r#"lower("appeals"."contact" COLLATE "C")"#,
        _ => r#"lower("appeals"."contact")"#,
    }
}

/// Open appeals that claim one of the accounts `accounts` selects (a condition on the
/// accounts table), by account: mail linked to no account, sent from the address registered
/// to the account, compared without regard to ASCII case as the registry compares
/// addresses (index `appeals_contact_folded`).
pub(crate) async fn open_claims_of<C: ConnectionTrait>(
    conn: &C,
    accounts: Condition,
) -> Result<HashMap<String, Vec<StoredAppeal>>, RestorationError> {
    let registered: HashMap<String, String> = Accounts::find()
        .filter(accounts.clone())
        .filter(account::Column::Email.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|row| row.email.map(|email| (email, row.id)))
        .collect();
    if registered.is_empty() {
        return Ok(HashMap::new());
    }
    let folded_contact = folded_contact(conn.get_database_backend());
    let addresses = Query::select()
        .column(account::Column::Email)
        .from(Accounts)
        .cond_where(accounts)
        .and_where(Expr::col(account::Column::Email).is_not_null())
        .to_owned();
    let open: Vec<&str> = AppealState::OPEN.iter().map(|s| s.as_str()).collect();
    let rows = Appeals::find()
        .filter(appeal::Column::AccountId.is_null())
        .filter(appeal::Column::Channel.is_in(CLAIMING_CHANNELS.map(Channel::as_str)))
        .filter(appeal::Column::State.is_in(open))
        .filter(Expr::cust(folded_contact).in_subquery(addresses))
        .order_by_asc(appeal::Column::FiledAt)
        .all(conn)
        .await?;
    let mut by_account: HashMap<String, Vec<StoredAppeal>> = HashMap::new();
    for row in rows {
        let stored = from_model(row)?;
        let claimed = claimed_address(&stored).and_then(|address| registered.get(&address));
        if let Some(account_id) = claimed {
            by_account
                .entry(account_id.clone())
                .or_default()
                .push(stored);
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
    let mut notices = Vec::with_capacity(accounts.len());
    let mut closed = Vec::with_capacity(accounts.len());
    for account in accounts {
        let mut appeal_ids = Vec::with_capacity(account.open_appeals.len());
        let claims = account
            .open_appeals
            .iter()
            .any(|stored| stored.appeal.account_id.is_none());
        let claim_link = if claims {
            Some(link_to(conn, &account.account_id).await?)
        } else {
            None
        };
        for mut stored in account.open_appeals.clone() {
            // Only an appeal claiming the account is linked to no account here.
            let link = claim_link
                .clone()
                .filter(|_| stored.appeal.account_id.is_none());
            let command = Command::BulkRestore {
                job_id: job.id,
                reason: job.reason.clone(),
                link,
            };
            let events = transition::decide(&stored.appeal, &command, &actor, now)
                .map_err(EngineError::from)?;
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

/// The link of an appeal claiming `account_id`: the account, with the enforcement filing
/// would have chosen for it.
pub(crate) async fn link_to<C: ConnectionTrait>(
    conn: &C,
    account_id: &str,
) -> Result<AccountLink, EngineError> {
    let enforcement = enforcement_for_account(conn, account_id).await?;
    Ok(AccountLink {
        account_id: account_id.to_owned(),
        enforcement_id: enforcement.map(|e| e.id),
    })
}
