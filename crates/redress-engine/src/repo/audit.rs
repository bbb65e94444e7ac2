//! The audit log, written in the caller's transaction together with what it records.

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::entity::audit_entry::{self, Entity as AuditLog};
use crate::error::EngineError;

/// An out-of-court dispute was recorded against an appeal.
pub const DISPUTE_RECORDED: &str = "out_of_court_dispute_recorded";
/// A refused Transparency Database statement was put back in line, perhaps corrected.
pub const TDB_RESUBMITTED: &str = "tdb_statement_resubmitted";
/// An account was warned that further manifestly unfounded appeals will be refused.
pub const THROTTLE_WARNING: &str = "appeals_throttle_warning";
/// A new appeal of a throttled account was refused at filing.
pub const THROTTLE_REFUSAL: &str = "appeals_throttle_refusal";

#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub actor: Actor,
    pub action: &'static str,
    pub account_id: Option<String>,
    pub appeal_id: Option<Uuid>,
    pub details: serde_json::Value,
}

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    entry: NewAuditEntry,
    now: DateTime<Utc>,
) -> Result<Uuid, EngineError> {
    let id = Uuid::now_v7();
    let actor = serde_json::to_string(&entry.actor)
        .map_err(|e| EngineError::InvalidInput(e.to_string()))?;
    AuditLog::insert(audit_entry::ActiveModel {
        id: Set(id),
        occurred_at: Set(now),
        actor: Set(actor),
        action: Set(entry.action.to_owned()),
        account_id: Set(entry.account_id),
        appeal_id: Set(entry.appeal_id),
        details: Set(entry.details),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

/// Entries of one action, oldest first; only the account's when `account_id` is given.
pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    action: &str,
    account_id: Option<&str>,
) -> Result<Vec<audit_entry::Model>, EngineError> {
    let mut query = AuditLog::find()
        .filter(audit_entry::Column::Action.eq(action))
        .order_by_asc(audit_entry::Column::OccurredAt)
        .order_by_asc(audit_entry::Column::Id);
    if let Some(account_id) = account_id {
        query = query.filter(audit_entry::Column::AccountId.eq(account_id));
    }
    Ok(query.all(conn).await?)
}
