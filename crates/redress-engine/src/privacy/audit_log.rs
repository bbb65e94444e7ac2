//! The audit log's read side: entries newest first, filtered by actor, action, subject
//! and period, a page at a time with a cursor that stays valid while entries are added.

use chrono::{DateTime, Utc};
use redress_core::Actor;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::engine::Engine;
use crate::entity::audit_entry::{self, Entity as AuditLog};
use crate::error::EngineError;

/// Which entries to read; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Who acted: a staff member's subject, a system component or an appellant's identity.
    pub actor: Option<String>,
    pub action: Option<String>,
    /// What the entry is about: an appeal's id or an account's id.
    pub subject: Option<String>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One entry as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The actor as recorded; `None` when the stored value no longer reads as one.
    pub actor: Option<Actor>,
    pub action: String,
    pub account_id: Option<String>,
    pub appeal_id: Option<Uuid>,
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// Where the entry stands in the log's order.
    pub fn cursor(&self) -> AuditCursor {
        AuditCursor {
            occurred_at: self.occurred_at,
            id: self.id,
        }
    }
}

/// A place in the log: entries after it are older.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    pub occurred_at: DateTime<Utc>,
    pub id: Uuid,
}

impl AuditCursor {
    /// `<RFC 3339 time>/<id>`.
    pub fn encode(&self) -> String {
        format!("{}/{}", self.occurred_at.to_rfc3339(), self.id)
    }

    pub fn decode(value: &str) -> Option<Self> {
        let (at, id) = value.rsplit_once('/')?;
        Some(Self {
            occurred_at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// A page of entries, and whether older ones follow.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub has_next: bool,
}

/// `value` as a LIKE pattern matching it literally somewhere.
fn containing(value: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(value.len() + 2);
    pattern.push('%');
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

impl Engine {
    /// Up to `first` entries matching `filter`, newest first, older than `after`.
    pub async fn audit_log(
        &self,
        filter: &AuditFilter,
        first: u64,
        after: Option<AuditCursor>,
    ) -> Result<AuditPage, EngineError> {
        let mut query = AuditLog::find();
        if let Some(actor) = &filter.actor {
            // The actor is stored as its JSON; match the one field that names it.
            let name = serde_json::to_string(actor)
                .map_err(|e| EngineError::InvalidInput(e.to_string()))?;
            query = query.filter(
                Condition::any()
                    .add(
                        Expr::col(audit_entry::Column::Actor)
                            .like(containing(&format!("\"subject\":{name}"))),
                    )
                    .add(
                        Expr::col(audit_entry::Column::Actor)
                            .like(containing(&format!("\"component\":{name}"))),
                    )
                    .add(
                        Expr::col(audit_entry::Column::Actor)
                            .like(containing(&format!("\"identity\":{name}"))),
                    ),
            );
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_entry::Column::Action.eq(action.as_str()));
        }
        if let Some(subject) = &filter.subject {
            let mut about =
                Condition::any().add(audit_entry::Column::AccountId.eq(subject.as_str()));
            if let Ok(appeal) = Uuid::parse_str(subject) {
                about = about.add(audit_entry::Column::AppealId.eq(appeal));
            }
            query = query.filter(about);
        }
        if let Some(from) = filter.from {
            query = query.filter(audit_entry::Column::OccurredAt.gte(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(audit_entry::Column::OccurredAt.lt(to));
        }
        if let Some(after) = after {
            query = query.filter(
                Condition::any()
                    .add(audit_entry::Column::OccurredAt.lt(after.occurred_at))
                    .add(
                        Condition::all()
                            .add(audit_entry::Column::OccurredAt.eq(after.occurred_at))
                            .add(audit_entry::Column::Id.lt(after.id)),
                    ),
            );
        }
        let rows = query
            .order_by_desc(audit_entry::Column::OccurredAt)
            .order_by_desc(audit_entry::Column::Id)
            .limit(first.saturating_add(1))
            .all(self.db())
            .await?;
        let has_next = rows.len() as u64 > first;
        let entries = rows
            .into_iter()
            .take(first as usize)
            .map(|row| AuditEntry {
                id: row.id,
                occurred_at: row.occurred_at,
                actor: serde_json::from_str(&row.actor).ok(),
                action: row.action,
                account_id: row.account_id,
                appeal_id: row.appeal_id,
                details: row.details,
            })
            .collect();
        Ok(AuditPage { entries, has_next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let cursor = AuditCursor {
            occurred_at: DateTime::parse_from_rfc3339("2026-12-01T10:00:00.123456Z")
                .expect("time")
                .with_timezone(&Utc),
            id: Uuid::now_v7(),
        };
        assert_eq!(AuditCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(AuditCursor::decode("yesterday"), None);
    }
}
