//! The legal hold: an administrator keeps an appeal's data as it is (a court asked for it,
//! a dispute is pending) until they clear it. Neither the retention purge nor an erasure
//! touches an appeal under hold. Setting and clearing are audited; the appeal's history
//! and its closure time stay as they were.

use redress_core::Actor;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use super::{actions, PrivacyError};
use crate::engine::Engine;
use crate::entity::appeal::{self, Entity as Appeals};
use crate::error::EngineError;
use crate::repo::audit::{self, NewAuditEntry};
use crate::transact::{Begin, Retry};

/// Longest reason kept with a hold.
const MAX_REASON: usize = 2_000;

impl Engine {
    /// Puts the appeal under legal hold (`hold`) or releases it, with the reason in the
    /// audit log. Returns whether it was under hold before; a repeat changes nothing but is
    /// audited too, as the request it is.
    pub async fn set_legal_hold(
        &self,
        actor: &Actor,
        appeal_id: Uuid,
        hold: bool,
        reason: &str,
    ) -> Result<bool, PrivacyError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(PrivacyError::invalid("reason", "must say why"));
        }
        if reason.len() > MAX_REASON || reason.contains('\0') {
            return Err(PrivacyError::invalid(
                "reason",
                format!("must be at most {MAX_REASON} bytes of text"),
            ));
        }
        let now = self.clock().now();
        self.transact_with(Retry::LostRaces, Begin::WriteLockFirst, async |txn| {
            let row: Option<(bool, Option<String>)> = Appeals::find_by_id(appeal_id)
                .select_only()
                .column(appeal::Column::LegalHold)
                .column(appeal::Column::AccountId)
                .into_tuple()
                .one(txn)
                .await?;
            let Some((was_held, account_id)) = row else {
                return Err(PrivacyError::Engine(EngineError::AppealNotFound(appeal_id)));
            };
            Appeals::update_many()
                .col_expr(appeal::Column::LegalHold, Expr::value(hold))
                .filter(appeal::Column::Id.eq(appeal_id))
                .exec(txn)
                .await?;
            audit::record(
                txn,
                NewAuditEntry {
                    actor: actor.clone(),
                    action: if hold {
                        actions::LEGAL_HOLD_SET
                    } else {
                        actions::LEGAL_HOLD_CLEARED
                    },
                    account_id,
                    appeal_id: Some(appeal_id),
                    details: json!({ "reason": reason, "was_held": was_held }),
                },
                now,
            )
            .await?;
            Ok(was_held)
        })
        .await
    }

    /// Whether the appeal is under legal hold.
    pub async fn legal_hold(&self, appeal_id: Uuid) -> Result<bool, EngineError> {
        Appeals::find_by_id(appeal_id)
            .select_only()
            .column(appeal::Column::LegalHold)
            .into_tuple::<bool>()
            .one(self.db())
            .await?
            .ok_or(EngineError::AppealNotFound(appeal_id))
    }
}
